//! Player identity: the key a player's stats are stored under.

use crate::round_file::name::decode_name;

/// Prefix of the key of a player who has no usable GUID: such players are keyed by name.
pub const NO_GUID_PREFIX: &str = "NOGUID:";

/// The stable key of a player: the GUID, or `NOGUID:<name>` when the file has no usable GUID
/// (empty, `UNKNOWN`, `NO_GUID`), so several GUID-less players stay apart instead of merging.
pub fn player_key(guid: &[u8], raw_name: &[u8]) -> String {
    let guid = guid.trim_ascii();
    if guid.is_empty()
        || guid.eq_ignore_ascii_case(b"UNKNOWN")
        || guid.eq_ignore_ascii_case(b"NO_GUID")
    {
        format!("{NO_GUID_PREFIX}{}", decode_name(raw_name))
    } else {
        crate::round_file::field::text(guid)
    }
}

/// Omni-bot GUIDs are `OMNIBOT` + slot + zeros.
pub fn is_bot_guid(guid: &[u8]) -> bool {
    guid.starts_with(b"OMNIBOT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guidless_players_are_keyed_by_name() {
        assert_eq!(player_key(b"UNKNOWN", b"alice"), "NOGUID:alice");
        assert_eq!(player_key(b"", b"bob"), "NOGUID:bob");
        assert_ne!(player_key(b"", b"alice"), player_key(b"", b"bob"));
        assert_eq!(player_key(b"ABC123", b"x"), "ABC123");
    }

    #[test]
    fn omnibots_are_bots() {
        assert!(is_bot_guid(b"OMNIBOT0500000000000000000000000"));
        assert!(!is_bot_guid(b"CBEBAC4DFEF0CB260DE9B180FEF56097"));
    }
}
