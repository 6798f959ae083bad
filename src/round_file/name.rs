//! Player names: raw bytes as the engine stores them, decoded for people to read.
//!
//! ET names are at most 35 bytes of anything but `\`, `"` and `;`, often Latin-1, sometimes UTF-8,
//! sometimes UTF-8 cut in half by the 35-byte limit. We keep the bytes and derive text from them.

use std::borrow::Cow;

/// Longest name the engine keeps (`MAX_NETNAME` - 1); longer ones are cut to this many bytes.
pub const MAX_NAME_BYTES: usize = 35;

/// Decodes name bytes: UTF-8 where the bytes are valid UTF-8, otherwise Windows-1252.
///
/// A name of the engine's full 35 bytes whose only flaw is an incomplete UTF-8 character at the end
/// was cut by the engine: it is decoded as UTF-8 with U+FFFD for the cut character, so `Jörg…`
/// still reads well. Windows-1252 maps every byte to a distinct character, so different Latin-1
/// names never collapse into one.
pub fn decode_name(raw: &[u8]) -> Cow<'_, str> {
    decode_name_cut(raw, raw.len() >= MAX_NAME_BYTES)
}

/// [`decode_name`] for bytes taken from a name of `was_full_length` (e.g. after colour codes
/// were removed from a 35-byte name, whose cut tail is still a cut).
fn decode_name_cut(raw: &[u8], was_full_length: bool) -> Cow<'_, str> {
    let text = decode_bytes(raw, was_full_length);
    // PostgreSQL text cannot hold NUL; the raw bytes keep it where it matters.
    if text.contains('\0') {
        return Cow::Owned(text.replace('\0', "\u{FFFD}"));
    }
    text
}

fn decode_bytes(raw: &[u8], was_full_length: bool) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(text) => Cow::Borrowed(text),
        Err(err) if err.error_len().is_none() && was_full_length => {
            let valid = std::str::from_utf8(&raw[..err.valid_up_to()]).unwrap_or_default();
            let mut text = String::with_capacity(valid.len() + 3);
            text.push_str(valid);
            text.push('\u{FFFD}');
            Cow::Owned(text)
        }
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(raw);
            Cow::Owned(text.into_owned())
        }
    }
}

/// Removes ET colour codes by the engine's rule (`Q_IsColorString`): `^` followed by a byte that is
/// not NUL and not `^`, and is printable non-space ASCII or any byte >= 0x80, is a colour code.
/// `^^7` therefore leaves a literal `^`; `^ ` and a trailing `^` are literal.
pub fn strip_colors(raw: &[u8]) -> Cow<'_, [u8]> {
    if !raw.contains(&b'^') {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let byte = raw[i];
        if byte == b'^' {
            if let Some(&next) = raw.get(i + 1) {
                if is_color_code_char(next) {
                    i += 2;
                    continue;
                }
            }
        }
        out.push(byte);
        i += 1;
    }
    Cow::Owned(out)
}

fn is_color_code_char(byte: u8) -> bool {
    byte != b'^' && ((0x21..=0x7E).contains(&byte) || byte >= 0x80)
}

/// The name as players read it: colour codes removed, then decoded.
pub fn display_name(raw: &[u8]) -> String {
    decode_name_cut(&strip_colors(raw), raw.len() >= MAX_NAME_BYTES).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colour_codes_by_engine_rule() {
        assert_eq!(display_name(b"^1k^7ir^1a"), "kira");
        assert_eq!(display_name(b"a^^7b"), "a^b");
        assert_eq!(display_name(b"a^ b"), "a^ b");
        assert_eq!(display_name(b"trail^"), "trail^");
        assert_eq!(display_name(b"^4vid^7ar"), "vidar");
    }

    #[test]
    fn latin1_names_stay_distinct() {
        let a = display_name(b"J\xf6rg");
        let b = display_name(b"J\xfcrg");
        assert_eq!(a, "Jörg");
        assert_eq!(b, "Jürg");
        assert_ne!(a, b);
    }

    #[test]
    fn utf8_names_decode_as_utf8() {
        assert_eq!(display_name("Jörg".as_bytes()), "Jörg");
    }

    #[test]
    fn utf8_cut_by_the_engine_keeps_the_valid_part() {
        let full = format!("{}€", "x".repeat(33)); // 33 + 3 bytes, cut to 35
        let cut = &full.as_bytes()[..MAX_NAME_BYTES];
        assert_eq!(decode_name(cut), format!("{}\u{FFFD}", "x".repeat(33)));
    }

    #[test]
    fn a_cut_coloured_name_still_reads_as_utf8() {
        let mut raw = b"^1".to_vec();
        raw.extend("é".repeat(16).as_bytes());
        raw.push(0xC3); // 2 + 32 + 1 = 35 bytes, cut in the middle of the last é
        assert_eq!(display_name(&raw), format!("{}\u{FFFD}", "é".repeat(16)));
    }

    #[test]
    fn nul_bytes_never_reach_text() {
        assert_eq!(decode_name(b"a\0b"), "a\u{FFFD}b");
    }

    #[test]
    fn short_name_ending_in_latin1_is_latin1() {
        // 0xE9 alone at the end of a short name is Latin-1 é, not a cut UTF-8 character.
        assert_eq!(decode_name(b"caf\xe9"), "café");
    }
}
