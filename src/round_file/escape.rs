//! v3 escaping: `%XX` for `%`, `|`, `,`, control bytes and bytes >= 0x80 (see docs/round-file-format.md).

use std::borrow::Cow;

fn needs_escape(byte: u8) -> bool {
    matches!(byte, b'%' | b'|' | b',') || !(0x20..0x7F).contains(&byte)
}

/// Escapes raw bytes for a v3 field.
pub fn escape(raw: &[u8]) -> Cow<'_, str> {
    escape_with(raw, needs_escape)
}

/// Escapes a GUID: like a name, and `:` too (it separates GUID and name in an ally entry).
pub fn escape_guid(raw: &[u8]) -> Cow<'_, str> {
    escape_with(raw, |b| b == b':' || needs_escape(b))
}

fn escape_with(raw: &[u8], needs_escape: impl Fn(u8) -> bool) -> Cow<'_, str> {
    if !raw.iter().copied().any(&needs_escape) {
        // Every byte is printable ASCII, so this cannot fail.
        if let Ok(text) = std::str::from_utf8(raw) {
            return Cow::Borrowed(text);
        }
    }
    let mut out = String::with_capacity(raw.len() + 8);
    for &byte in raw {
        if needs_escape(byte) {
            out.push('%');
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0xF));
        } else {
            out.push(byte as char);
        }
    }
    Cow::Owned(out)
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16)
        .unwrap_or('0')
        .to_ascii_uppercase()
}

/// Reverses [`escape`]. Borrows when there is nothing to decode. A `%` not followed by two hex
/// digits is an error: the writer never produces one.
pub fn unescape(field: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    if !field.contains(&b'%') {
        return Ok(Cow::Borrowed(field));
    }
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'%' {
            let pair = field.get(i + 1..i + 3).ok_or("'%' at the end of a field")?;
            let hex =
                std::str::from_utf8(pair).map_err(|_| "'%' not followed by two hex digits")?;
            // {:?}: the two bytes may be anything, NUL included, and end up in the import log.
            let byte = u8::from_str_radix(hex, 16)
                .map_err(|_| format!("{:?} is not a valid escape", format!("%{hex}")))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(field[i]);
            i += 1;
        }
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_separators_and_high_bytes() {
        assert_eq!(escape(b"a|b,c%d"), "a%7Cb%2Cc%25d");
        assert_eq!(escape(b"NONE"), "NONE");
        assert_eq!(escape(b"J\xf6rg"), "J%F6rg");
        assert_eq!(escape(b"^1plain"), "^1plain");
    }

    #[test]
    fn rejects_broken_escapes() {
        assert!(unescape(b"abc%").is_err());
        assert!(unescape(b"abc%4").is_err());
        assert!(unescape(b"abc%zz").is_err());
    }

    proptest! {
        #[test]
        fn escape_round_trips(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
            let escaped = escape(&raw);
            prop_assert!(!escaped.contains('|') && !escaped.contains(','));
            prop_assert!(escaped.bytes().all(|b| (0x20..0x7F).contains(&b)));
            let back = unescape(escaped.as_bytes()).unwrap();
            prop_assert_eq!(back.as_ref(), raw.as_slice());
        }
    }
}
