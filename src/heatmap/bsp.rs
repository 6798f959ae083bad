//! Quake 3 BSP entity lumps, as `maps import` reads them: the header and lump 0 of a BSP
//! (read without buffering the rest), the `{ "key" "value" }` entity text, and the
//! worldspawn's `mapcoordsmins` / `mapcoordsmaxs`. Input is untrusted: lengths are checked.

use std::io::Read;

use super::calibration::WorldBox;

/// BSP header: "IBSP", version 47, 17 lumps of {offset, length}.
pub const BSP_HEADER_LEN: usize = 8 + 17 * 8;
pub const BSP_VERSION: i32 = 47;
/// The engine's MAX_MAP_ENTSTRING is 0x40000; allow some slack for odd compilers.
pub const MAX_ENTITY_BYTES: u64 = 4 * 0x40000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BspError {
    #[error("file is shorter than the 144-byte BSP header")]
    TooShort,
    #[error("not a Quake 3 BSP (ident {0:?}, expected \"IBSP\")")]
    BadIdent([u8; 4]),
    #[error("BSP version {0}, expected 47")]
    BadVersion(i32),
    #[error("entity lump at offset {offset}, length {length} is outside the file or too large")]
    BadLump { offset: i64, length: u64 },
    #[error("read error: {0}")]
    Io(String),
}

/// Reads the entity text (lump 0) from a BSP stream, reading only the header and the lump.
pub fn read_bsp_entities<R: Read>(
    mut reader: R,
    file_len: Option<u64>,
) -> Result<String, BspError> {
    let mut header = [0u8; BSP_HEADER_LEN];
    reader.read_exact(&mut header).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => BspError::TooShort,
        _ => BspError::Io(e.to_string()),
    })?;
    let ident = [header[0], header[1], header[2], header[3]];
    if &ident != b"IBSP" {
        return Err(BspError::BadIdent(ident));
    }
    let word = |at: usize| [header[at], header[at + 1], header[at + 2], header[at + 3]];
    let version = i32::from_le_bytes(word(4));
    if version != BSP_VERSION {
        return Err(BspError::BadVersion(version));
    }
    let offset = i64::from(i32::from_le_bytes(word(8)));
    let length = u64::from(u32::from_le_bytes(word(12)));
    let bad = BspError::BadLump { offset, length };
    if offset < BSP_HEADER_LEN as i64 || length > MAX_ENTITY_BYTES {
        return Err(bad);
    }
    let offset = offset as u64;
    if file_len.is_some_and(|len| offset + length > len) {
        return Err(bad);
    }
    // Skip to the lump without buffering what lies between.
    let skip = offset - BSP_HEADER_LEN as u64;
    let skipped = std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink())
        .map_err(|e| BspError::Io(e.to_string()))?;
    if skipped != skip {
        return Err(bad);
    }
    let mut text = Vec::with_capacity(length as usize);
    (&mut reader)
        .take(length)
        .read_to_end(&mut text)
        .map_err(|e| BspError::Io(e.to_string()))?;
    if text.len() as u64 != length {
        return Err(bad);
    }
    if let Some(nul) = text.iter().position(|&b| b == 0) {
        text.truncate(nul);
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Entity blocks `{ "key" "value" ... }` as key/value lists, in file order. Tolerant:
/// an unterminated block or string ends the parse with what was read.
pub fn parse_entities(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<(String, String)>> = None;
    let mut pending_key: Option<String> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => {
                current = Some(Vec::new());
                pending_key = None;
            }
            '}' => {
                if let Some(block) = current.take() {
                    blocks.push(block);
                }
                pending_key = None;
            }
            '/' if text[i..].starts_with("//") => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                let start = i + 1;
                let mut end = None;
                for (j, c) in chars.by_ref() {
                    if c == '"' {
                        end = Some(j);
                        break;
                    }
                }
                let Some(end) = end else { break };
                let token = text[start..end].to_string();
                if let Some(block) = current.as_mut() {
                    match pending_key.take() {
                        None => pending_key = Some(token),
                        Some(key) => block.push((key, token)),
                    }
                }
            }
            _ => {}
        }
    }
    blocks
}

/// `mapcoordsmins` / `mapcoordsmaxs` of the worldspawn (or first) entity.
pub fn worldspawn_box(entities: &str) -> Result<WorldBox, String> {
    let blocks = parse_entities(entities);
    let world = blocks
        .iter()
        .find(|b| {
            b.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("classname") && v.eq_ignore_ascii_case("worldspawn")
            })
        })
        .or_else(|| blocks.first())
        .ok_or("no entities")?;
    let pair = |key: &str| -> Result<[f64; 2], String> {
        let value = world
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("worldspawn has no {key}"))?;
        let nums: Vec<f64> = value
            .split_whitespace()
            .map(str::parse::<f64>)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("{key} \"{value}\" is not two numbers"))?;
        match nums.as_slice() {
            [x, y, ..] => Ok([*x, *y]),
            _ => Err(format!("{key} \"{value}\" is not two numbers")),
        }
    };
    WorldBox::new(pair("mapcoordsmins")?, pair("mapcoordsmaxs")?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    /// A minimal BSP: header with lump 0 = entity text right after it, other lumps empty.
    pub(crate) fn synthetic_bsp(entities: &str) -> Vec<u8> {
        let mut text = entities.as_bytes().to_vec();
        text.push(0);
        let mut out = Vec::new();
        out.extend_from_slice(b"IBSP");
        out.extend_from_slice(&BSP_VERSION.to_le_bytes());
        out.extend_from_slice(&(BSP_HEADER_LEN as i32).to_le_bytes());
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        for _ in 1..17 {
            out.extend_from_slice(&[0u8; 8]);
        }
        out.extend_from_slice(&text);
        out
    }

    /// A worldspawn with the given corners, and one more entity.
    pub(crate) fn worldspawn(mins: &str, maxs: &str) -> String {
        format!(
            "{{\n\"classname\" \"worldspawn\"\n\"message\" \"Test\"\n\"mapcoordsmins\" \"{mins}\"\n\"mapcoordsmaxs\" \"{maxs}\"\n}}\n\
             {{\n\"classname\" \"info_player_deathmatch\"\n\"origin\" \"0 0 0\"\n}}\n"
        )
    }

    #[test]
    fn bsp_entities_are_read_from_lump_zero() {
        let bsp = synthetic_bsp(&worldspawn("-4224 4352", "3712 -3584"));
        let text = read_bsp_entities(Cursor::new(&bsp), Some(bsp.len() as u64)).expect("read");
        let world = worldspawn_box(&text).expect("box");
        assert_eq!(world.mins, [-4224.0, 4352.0]);
        assert_eq!(world.maxs, [3712.0, -3584.0]);
    }

    #[test]
    fn malformed_bsps_are_refused() {
        let good = synthetic_bsp(&worldspawn("0 10", "10 0"));
        assert_eq!(
            read_bsp_entities(Cursor::new(&good[..100]), None),
            Err(BspError::TooShort)
        );
        let mut bad = good.clone();
        bad[0..4].copy_from_slice(b"VBSP");
        assert!(matches!(
            read_bsp_entities(Cursor::new(&bad), None),
            Err(BspError::BadIdent(_))
        ));
        let mut v46 = good.clone();
        v46[4..8].copy_from_slice(&46i32.to_le_bytes());
        assert_eq!(
            read_bsp_entities(Cursor::new(&v46), None),
            Err(BspError::BadVersion(46))
        );
        let mut long = good.clone();
        long[12..16].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert!(matches!(
            read_bsp_entities(Cursor::new(&long), Some(good.len() as u64)),
            Err(BspError::BadLump { .. })
        ));
        let mut neg = good;
        neg[8..12].copy_from_slice(&(-5i32).to_le_bytes());
        assert!(matches!(
            read_bsp_entities(Cursor::new(&neg), None),
            Err(BspError::BadLump { .. })
        ));
    }

    #[test]
    fn worldspawn_without_coords_says_which_key() {
        let err = worldspawn_box("{ \"classname\" \"worldspawn\" \"mapcoordsmins\" \"0 0\" }")
            .expect_err("no maxs");
        assert!(err.contains("mapcoordsmaxs"), "{err}");
        let err = worldspawn_box(
            "{ \"classname\" \"worldspawn\" \"mapcoordsmins\" \"a b\" \"mapcoordsmaxs\" \"1 1\" }",
        )
        .expect_err("not numbers");
        assert!(err.contains("not two numbers"), "{err}");
    }

    #[test]
    fn entity_parser_handles_comments_and_braces_in_strings() {
        let blocks = parse_entities(
            "// comment { \"x\" \"y\" }\n{ \"classname\" \"worldspawn\" \"message\" \"a { b }\" }",
        );
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0][1], ("message".to_string(), "a { b }".to_string()));
    }

    proptest! {
        #[test]
        fn bsp_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = read_bsp_entities(Cursor::new(&bytes), Some(bytes.len() as u64));
        }

        #[test]
        fn bsp_reader_never_panics_on_valid_header(ofs in any::<i32>(), len in any::<u32>(), tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut bytes = synthetic_bsp("");
            bytes[8..12].copy_from_slice(&ofs.to_le_bytes());
            bytes[12..16].copy_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&tail);
            let _ = read_bsp_entities(Cursor::new(&bytes), Some(bytes.len() as u64));
        }

        #[test]
        fn entity_parser_never_panics(text in "\\PC{0,300}") {
            let _ = parse_entities(&text);
            let _ = worldspawn_box(&text);
        }

        #[test]
        fn worldspawn_round_trips(a in -30000i32..30000, b in -30000i32..30000, w in 1i32..20000, h in 1i32..20000) {
            let text = worldspawn(&format!("{a} {b}"), &format!("{} {}", a + w, b - h));
            let bsp = synthetic_bsp(&text);
            let read = read_bsp_entities(Cursor::new(&bsp), Some(bsp.len() as u64)).expect("read");
            let world = worldspawn_box(&read).expect("box");
            prop_assert_eq!(world.mins, [f64::from(a), f64::from(b)]);
            prop_assert_eq!(world.maxs, [f64::from(a + w), f64::from(b - h)]);
        }
    }
}
