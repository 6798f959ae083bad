//! The console front end (`etprox ask`): a [`Reply`] as terminal text, attachments as files.
//! Discord timestamps (`<t:UNIX:f>`), which Discord shows in each reader's zone, are written
//! out in UTC here, relative ones too, so the same reply always reads the same.

use std::path::{Path, PathBuf};

use crate::commands::Reply;

/// The reply as plain text: content, then each embed (title, description, fields, footer),
/// then the buttons with the ids `etprox ask --press` takes.
pub fn render(reply: &Reply) -> String {
    discord_times(&render_parts(reply))
}

fn render_parts(reply: &Reply) -> String {
    let mut out = String::new();
    if let Some(c) = &reply.content {
        out.push_str(c);
        out.push('\n');
    }
    for e in &reply.embeds {
        out.push_str(&format!("== {} ==\n", e.title));
        if let Some(d) = &e.description {
            out.push_str(d);
            out.push('\n');
        }
        for f in &e.fields {
            if f.value.contains('\n') {
                out.push_str(&format!("{}:\n{}\n", f.name, f.value));
            } else {
                out.push_str(&format!("{}: {}\n", f.name, f.value));
            }
        }
        if let Some(footer) = &e.footer {
            out.push_str(&format!("-- {footer}\n"));
        }
    }
    for a in &reply.attachments {
        out.push_str(&format!(
            "[attachment {} ({} bytes)]\n",
            a.name,
            a.bytes.len()
        ));
    }
    for b in &reply.buttons {
        let state = if b.disabled { " (disabled)" } else { "" };
        out.push_str(&format!(
            "[{}]{state}  etprox ask --press '{}'\n",
            b.label, b.id
        ));
    }
    out
}

/// `<t:UNIX>` and `<t:UNIX:STYLE>` as UTC dates (`D`, `d`) or date and time (the others);
/// anything else that starts with `<t:` stays as it is.
pub fn discord_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("<t:") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match tail
            .find('>')
            .and_then(|end| Some((end, readable(&tail[3..end])?)))
        {
            Some((end, written)) => {
                out.push_str(&written);
                rest = &tail[end + 1..];
            }
            None => {
                out.push_str("<t:");
                rest = &tail[3..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `1763502000:f` as `2025-11-18 21:40 UTC`.
fn readable(inner: &str) -> Option<String> {
    let (secs, style) = inner.split_once(':').unwrap_or((inner, "f"));
    let at = chrono::DateTime::from_timestamp(secs.parse().ok()?, 0)?;
    Some(match style {
        "D" | "d" => at.format("%Y-%m-%d").to_string(),
        "t" | "T" => at.format("%H:%M UTC").to_string(),
        "f" | "F" | "R" => at.format("%Y-%m-%d %H:%M UTC").to_string(),
        _ => return None,
    })
}

/// Writes the attachments into `dir` (created if needed); returns the paths. Names are
/// reduced to their last path component, so a reply cannot write outside `dir`.
pub fn write_attachments(reply: &Reply, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if reply.attachments.is_empty() {
        return Ok(written);
    }
    std::fs::create_dir_all(dir)?;
    for a in &reply.attachments {
        let name = Path::new(&a.name)
            .file_name()
            .map(|n| n.to_owned())
            .unwrap_or_else(|| "attachment.bin".into());
        let path = dir.join(name);
        std::fs::write(&path, &a.bytes)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{Attachment, Button, ButtonStyle, Embed};

    #[test]
    fn renders_every_part() {
        let reply = Reply {
            content: Some("hello".into()),
            embeds: vec![Embed::new("Title", 0)
                .description("desc")
                .field("a", "1", true)
                .field("b", "x\ny", false)
                .footer("foot")],
            attachments: vec![Attachment {
                name: "../../evil.png".into(),
                bytes: vec![1, 2, 3],
            }],
            buttons: vec![Button {
                id: "pg:/solo page:1".into(),
                label: "Next".into(),
                style: ButtonStyle::Secondary,
                disabled: false,
            }],
            ephemeral: false,
        };
        let text = render(&reply);
        assert_eq!(
            text,
            "hello\n== Title ==\ndesc\na: 1\nb:\nx\ny\n-- foot\n[attachment ../../evil.png (3 bytes)]\n[Next]  etprox ask --press 'pg:/solo page:1'\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let paths = write_attachments(&reply, dir.path()).unwrap();
        assert_eq!(paths, vec![dir.path().join("evil.png")]);
        assert_eq!(std::fs::read(&paths[0]).unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn discord_timestamps_read_as_utc() {
        assert_eq!(
            discord_times("ended <t:1763502000:f>, <t:1763502000:R>; on <t:1763502000:D>"),
            "ended 2025-11-18 21:40 UTC, 2025-11-18 21:40 UTC; on 2025-11-18"
        );
        assert_eq!(discord_times("<t:1763502000>"), "2025-11-18 21:40 UTC");
        assert_eq!(discord_times("<t:x:f> <t:1:Q> <t:"), "<t:x:f> <t:1:Q> <t:");
    }
}
