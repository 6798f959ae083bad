//! The console front end (`etprox ask`): a [`Reply`] as terminal text, attachments as files.

use std::path::{Path, PathBuf};

use crate::commands::Reply;

/// The reply as plain text: content, then each embed (title, description, fields, footer),
/// then the buttons with the ids `etprox ask --press` takes.
pub fn render(reply: &Reply) -> String {
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
}
