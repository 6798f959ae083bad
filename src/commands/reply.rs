//! The transport-free answer of a command, and Discord's size limits applied to it.

/// Discord limits (see docs/reference/discord-test-facts.md).
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    pub const EMBEDS: usize = 10;
    pub const EMBEDS_TOTAL: usize = 6000;
    pub const BUTTONS: usize = 5;
    pub const BUTTON_LABEL: usize = 80;
    pub const CUSTOM_ID: usize = 100;
    pub const CHOICES: usize = 25;
    pub const CHOICE: usize = 100;
    /// Default upload limit when the interaction does not say (10 MiB).
    pub const UPLOAD: usize = 10 * 1024 * 1024;
}

/// Embed colours.
pub mod colour {
    pub const INFO: u32 = 0x3B82F6;
    pub const GOOD: u32 = 0x22C55E;
    pub const WARN: u32 = 0xF59E0B;
    pub const ERROR: u32 = 0xEF4444;
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub content: Option<String>,
    pub embeds: Vec<Embed>,
    pub attachments: Vec<Attachment>,
    pub buttons: Vec<Button>,
    /// Only the caller sees it (errors, refusals, admin answers).
    pub ephemeral: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embed {
    pub title: String,
    pub description: Option<String>,
    pub fields: Vec<Field>,
    pub colour: u32,
    pub footer: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonStyle {
    Primary,
    Secondary,
    Danger,
}

/// A button; `id` is what the front end hands back to [`super::press`] when it is clicked.
#[derive(Debug, Clone, PartialEq)]
pub struct Button {
    pub id: String,
    pub label: String,
    pub style: ButtonStyle,
    pub disabled: bool,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Reply {
        Reply {
            content: Some(text.into()),
            ..Reply::default()
        }
    }

    pub fn embed(embed: Embed) -> Reply {
        Reply {
            embeds: vec![embed],
            ..Reply::default()
        }
    }

    /// An error or refusal the caller alone sees.
    pub fn error(text: impl Into<String>) -> Reply {
        Reply {
            content: Some(text.into()),
            ephemeral: true,
            ..Reply::default()
        }
    }

    pub fn ephemeral(mut self) -> Reply {
        self.ephemeral = true;
        self
    }

    pub fn with_buttons(mut self, buttons: Vec<Button>) -> Reply {
        self.buttons = buttons;
        self
    }

    /// Cuts everything to Discord's limits: lengths, counts, the 6,000-character total of all
    /// embeds, and attachments over `upload_limit` (replaced by a note).
    pub fn fit(mut self, upload_limit: usize) -> Reply {
        if let Some(content) = &mut self.content {
            *content = truncate(content, limits::CONTENT);
        }
        self.embeds.truncate(limits::EMBEDS);
        let mut budget = limits::EMBEDS_TOTAL;
        let mut kept = 0;
        for embed in &mut self.embeds {
            // An embed that would get no characters at all is dropped, not sent empty.
            if budget == 0 {
                break;
            }
            embed.fit(&mut budget);
            kept += 1;
        }
        self.embeds.truncate(kept);
        let mut dropped = Vec::new();
        self.attachments.retain(|a| {
            let keep = a.bytes.len() <= upload_limit;
            if !keep {
                dropped.push(a.name.clone());
            }
            keep
        });
        if !dropped.is_empty() {
            let note = format!(
                "(not attached, over the upload limit: {})",
                dropped.join(", ")
            );
            // The note goes first so cutting long content cannot remove it.
            let content = match self.content.take() {
                Some(c) => format!("{note}\n{c}"),
                None => note,
            };
            self.content = Some(truncate(&content, limits::CONTENT));
        }
        self.buttons.truncate(limits::BUTTONS);
        self.buttons
            .retain(|b| b.id.chars().count() <= limits::CUSTOM_ID);
        for button in &mut self.buttons {
            button.label = truncate(&button.label, limits::BUTTON_LABEL);
        }
        self
    }

    /// Characters of all embeds, counted as Discord does (title, description, fields, footer).
    pub fn embed_chars(&self) -> usize {
        self.embeds.iter().map(Embed::chars).sum()
    }
}

impl Embed {
    pub fn new(title: impl Into<String>, colour: u32) -> Embed {
        Embed {
            title: title.into(),
            colour,
            ..Embed::default()
        }
    }

    pub fn description(mut self, text: impl Into<String>) -> Embed {
        self.description = Some(text.into());
        self
    }

    pub fn field(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        inline: bool,
    ) -> Embed {
        let value = value.into();
        self.fields.push(Field {
            name: name.into(),
            value: if value.trim().is_empty() {
                "-".into()
            } else {
                value
            },
            inline,
        });
        self
    }

    pub fn footer(mut self, text: impl Into<String>) -> Embed {
        self.footer = Some(text.into());
        self
    }

    fn chars(&self) -> usize {
        let count = |s: &str| s.chars().count();
        count(&self.title)
            + self.description.as_deref().map_or(0, count)
            + self.footer.as_deref().map_or(0, count)
            + self
                .fields
                .iter()
                .map(|f| count(&f.name) + count(&f.value))
                .sum::<usize>()
    }

    fn fit(&mut self, budget: &mut usize) {
        let mut take = |text: &str, limit: usize| -> String {
            let cut = truncate(text, limit.min(*budget));
            *budget -= cut.chars().count();
            cut
        };
        self.title = take(&self.title, limits::TITLE);
        if self.title.is_empty() {
            self.title = take("…", 1);
        }
        self.footer = self.footer.as_deref().map(|f| take(f, limits::FOOTER));
        self.description = self
            .description
            .as_deref()
            .map(|d| take(d, limits::DESCRIPTION));
        self.fields.truncate(limits::FIELDS);
        let mut fields = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let name = take(&field.name, limits::FIELD_NAME);
            let value = take(&field.value, limits::FIELD_VALUE);
            if name.is_empty() || value.is_empty() {
                break;
            }
            fields.push(Field {
                name,
                value,
                inline: field.inline,
            });
        }
        self.fields = fields;
    }
}

/// At most `max` characters; a cut text ends in `…`. Cuts at a line end when one is near,
/// so a list never ends in half an entry.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let cut: String = text.chars().take(max - 1).collect();
    // Cut a list at a line end when that keeps at least half of the text. A code block
    // keeps its closing fence.
    let body = match cut.rfind('\n') {
        Some(i) if i >= cut.len() / 2 => cut[..i].to_owned(),
        _ => cut,
    };
    if body.matches("```").count() % 2 == 1 {
        let fence = "\n```";
        let keep: String = body
            .chars()
            .take(max.saturating_sub(fence.chars().count() + 1))
            .collect();
        return format!("{keep}…{fence}");
    }
    format!("{body}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_the_limit_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        let long = "é".repeat(300);
        let cut = truncate(&long, 256);
        assert_eq!(cut.chars().count(), 256);
        assert!(cut.ends_with('…'));
        let list = (0..100)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let cut = truncate(&list, 100);
        assert!(cut.chars().count() <= 100);
        assert!(cut
            .trim_end_matches('…')
            .lines()
            .all(|l| l.starts_with("line ")));
        let block = format!("```\n{}\n```", "x\n".repeat(200));
        let cut = truncate(&block, 50);
        assert!(cut.chars().count() <= 50, "{cut}");
        assert!(cut.ends_with("```"));
    }

    #[test]
    fn fit_enforces_every_embed_limit() {
        let mut embed = Embed::new("t".repeat(400), colour::INFO)
            .description("d".repeat(5000))
            .footer("f".repeat(3000));
        for i in 0..40 {
            embed = embed.field(format!("{i}").repeat(300), "v".repeat(2000), true);
        }
        let reply = Reply {
            content: Some("c".repeat(2500)),
            embeds: vec![embed.clone(), embed],
            attachments: vec![Attachment {
                name: "big.png".into(),
                bytes: vec![0; 100],
            }],
            buttons: (0..8)
                .map(|i| Button {
                    id: format!("b{i}"),
                    label: "l".repeat(100),
                    style: ButtonStyle::Primary,
                    disabled: false,
                })
                .collect(),
            ephemeral: false,
        }
        .fit(50);
        assert!(reply.content.as_deref().unwrap_or("").chars().count() <= limits::CONTENT);
        assert!(reply.embed_chars() <= limits::EMBEDS_TOTAL);
        for e in &reply.embeds {
            assert!(e.title.chars().count() <= limits::TITLE);
            assert!(e.description.as_deref().unwrap_or("").chars().count() <= limits::DESCRIPTION);
            assert!(e.fields.len() <= limits::FIELDS);
            for f in &e.fields {
                assert!(f.name.chars().count() <= limits::FIELD_NAME);
                assert!(f.value.chars().count() <= limits::FIELD_VALUE);
            }
        }
        assert!(reply.attachments.is_empty());
        assert!(reply.content.unwrap_or_default().contains("big.png"));
        assert_eq!(reply.buttons.len(), limits::BUTTONS);
        assert!(reply.buttons.iter().all(|b| b.label.chars().count() <= 80));
    }
}
