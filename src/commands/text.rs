//! Text for Discord: player names made safe, numbers, small text charts.

pub use crate::players::strip_colour_codes as strip_colours;

/// A player name as shown on Discord: colour codes removed, control characters replaced,
/// markdown escaped and mentions broken (a zero-width space after `@`), so `@everyone`,
/// `<@123>`, `**x**` or a backtick cannot do anything. Empty names become `(no name)`.
pub fn name(raw: &str) -> String {
    let plain = strip_colours(raw);
    let mut out = String::with_capacity(plain.len() + 8);
    for c in plain.trim().chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '-' | '[' | ']' | '(' | ')' | '<'
            | ':' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200B}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    if out.trim().is_empty() {
        "(no name)".into()
    } else {
        out
    }
}

/// A name inside a code block: only the fence could break out, so backticks are replaced;
/// `@` gets a zero-width space after it anyway, so a copied name cannot ping either.
pub fn name_in_code(raw: &str) -> String {
    let mut plain = String::with_capacity(raw.len());
    for c in strip_colours(raw).trim().chars() {
        match c {
            '`' => plain.push('\''),
            '@' => plain.push_str("@\u{200B}"),
            c if c.is_control() => plain.push(' '),
            c => plain.push(c),
        }
    }
    if plain.is_empty() {
        "(no name)".into()
    } else {
        plain
    }
}

/// Cuts to `max` characters with `…`, for table columns and choice names.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// `part / whole` as a percentage with one decimal, or `-` without a sample.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

pub fn ratio(a: i64, b: i64) -> String {
    if b <= 0 {
        format!("{a}.00")
    } else {
        format!("{:.2}", a as f64 / b as f64)
    }
}

/// A horizontal bar of `width` cells for `value / max`.
pub fn bar(value: i64, max: i64, width: usize) -> String {
    if max <= 0 || value <= 0 {
        return String::new();
    }
    let eighths = ((value as f64 / max as f64) * (width * 8) as f64).round() as usize;
    let eighths = eighths.clamp(1, width * 8);
    const PARTS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push(PARTS[eighths % 8 - 1]);
    }
    s
}

/// Characters a monospace table shows (zero-width spaces take no column).
fn width(text: &str) -> usize {
    text.chars().filter(|c| *c != '\u{200B}').count()
}

/// A fixed-width table in a code block: each row's cells padded to the column width; the
/// first column left-aligned, the others right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(width(cell));
            if i > 0 {
                out.push(' ');
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = String::from("```\n");
    out.push_str(&line(header.to_vec()));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out.push_str("```");
    out
}

/// How Discord shows a timestamp: each reader sees it in their own zone and language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    /// "20 November 2025 21:40" (`f`).
    Full,
    /// "20 November 2025" (`D`).
    Date,
    /// "2 hours ago" (`R`).
    Relative,
}

/// A Discord timestamp (`<t:UNIX:f>`); the console renders it in UTC
/// ([`crate::console::render`]).
pub fn timestamp(at: chrono::DateTime<chrono::Utc>, style: TimeStyle) -> String {
    let code = match style {
        TimeStyle::Full => 'f',
        TimeStyle::Date => 'D',
        TimeStyle::Relative => 'R',
    };
    format!("<t:{}:{code}>", at.timestamp())
}

/// Seconds as `12m 05s`.
pub fn duration(seconds: i64) -> String {
    if seconds < 0 {
        return "-".into();
    }
    format!("{}m {:02}s", seconds / 60, seconds % 60)
}

/// ET weapon numbers (ET:Legacy `weapon_t`) to names.
pub fn weapon(id: i16) -> String {
    const NAMES: [&str; 54] = [
        "none",
        "knife",
        "Luger",
        "MP40",
        "rifle grenade",
        "Panzerfaust",
        "flamethrower",
        "Colt",
        "Thompson",
        "grenade",
        "Sten",
        "syringe",
        "ammo pack",
        "artillery",
        "silenced Luger",
        "dynamite",
        "smoke trail",
        "map mortar",
        "explosion",
        "medkit",
        "binoculars",
        "pliers",
        "smoke marker",
        "Kar98",
        "M1 carbine",
        "Garand",
        "landmine",
        "satchel",
        "satchel detonator",
        "smoke bomb",
        "mobile MG42",
        "K43",
        "FG42",
        "MG42",
        "mortar",
        "akimbo Colts",
        "akimbo Lugers",
        "GPG40",
        "M7",
        "silenced Colt",
        "scoped Garand",
        "scoped K43",
        "scoped FG42",
        "mortar (set)",
        "adrenaline",
        "akimbo silenced Colts",
        "akimbo silenced Lugers",
        "mobile MG42 (set)",
        "knife (Kabar)",
        "mobile Browning",
        "mobile Browning (set)",
        "mortar",
        "mortar (set)",
        "bazooka",
    ];
    usize::try_from(id)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map(|s| (*s).to_owned())
        .unwrap_or_else(|| format!("weapon {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stripped_by_the_engine_rule() {
        assert_eq!(strip_colours("^1Slo^7mix"), "Slomix");
        assert_eq!(strip_colours("a^^7b"), "a^b");
        assert_eq!(strip_colours("end^"), "end^");
        assert_eq!(strip_colours("^ space"), "^ space");
        assert_eq!(strip_colours("^äJörg"), "Jörg");
    }

    #[test]
    fn names_cannot_ping_or_format() {
        let n = name("^1@everyone");
        assert!(!n.contains("@everyone"), "{n}");
        assert!(n.starts_with('@'));
        assert_eq!(name("**bold**"), "\\*\\*bold\\*\\*");
        assert_eq!(name("<@123>"), "\\<@\u{200B}123\\>");
        assert_eq!(name("`x`"), "\\`x\\`");
        assert_eq!(name("a\nb"), "a b");
        assert_eq!(name("^1^2"), "(no name)");
        assert_eq!(name_in_code("a```b"), "a'''b");
        assert_eq!(name_in_code("@here"), "@\u{200B}here");
    }

    #[test]
    fn numbers_and_bars() {
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 0), "-");
        assert_eq!(ratio(3, 2), "1.50");
        assert_eq!(ratio(3, 0), "3.00");
        assert_eq!(bar(10, 10, 4), "████");
        assert_eq!(bar(0, 10, 4), "");
        assert_eq!(bar(1, 1000, 4).chars().count(), 1);
        assert_eq!(duration(725), "12m 05s");
        assert_eq!(weapon(8), "Thompson");
        assert_eq!(weapon(-1), "weapon -1");
        assert_eq!(weapon(999), "weapon 999");
    }

    #[test]
    fn table_aligns_columns() {
        let t = table(
            &["player", "kills"],
            &[
                vec!["a".into(), "5".into()],
                vec!["bbbb".into(), "12".into()],
            ],
        );
        assert_eq!(t, "```\nplayer kills\na          5\nbbbb      12\n```");
    }

    #[test]
    fn clip_marks_cuts() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
