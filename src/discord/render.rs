//! A [`Reply`] in serenity's builders. Every message goes out with no allowed mentions, so a
//! name like `@everyone` can never ping anyone.

use poise::serenity_prelude as serenity;
use serenity::{
    CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponseMessage, CreateMessage, EditMessage,
};

use crate::commands::{ButtonStyle, Embed, Reply};

pub fn embed(e: &Embed) -> CreateEmbed {
    let mut out = CreateEmbed::new().title(&e.title).colour(e.colour);
    if let Some(d) = &e.description {
        out = out.description(d);
    }
    for f in &e.fields {
        out = out.field(&f.name, &f.value, f.inline);
    }
    if let Some(footer) = &e.footer {
        out = out.footer(CreateEmbedFooter::new(footer));
    }
    out
}

pub fn components(reply: &Reply) -> Vec<CreateActionRow> {
    if reply.buttons.is_empty() {
        return Vec::new();
    }
    vec![CreateActionRow::Buttons(
        reply
            .buttons
            .iter()
            .map(|b| {
                CreateButton::new(&b.id)
                    .label(&b.label)
                    .style(match b.style {
                        ButtonStyle::Primary => serenity::ButtonStyle::Primary,
                        ButtonStyle::Secondary => serenity::ButtonStyle::Secondary,
                        ButtonStyle::Danger => serenity::ButtonStyle::Danger,
                    })
                    .disabled(b.disabled)
            })
            .collect(),
    )]
}

fn attachments(reply: &Reply) -> Vec<CreateAttachment> {
    reply
        .attachments
        .iter()
        .map(|a| CreateAttachment::bytes(a.bytes.clone(), a.name.clone()))
        .collect()
}

/// An answer to a slash command.
pub fn poise_reply(reply: &Reply) -> poise::CreateReply {
    let mut out = poise::CreateReply::default()
        .allowed_mentions(CreateAllowedMentions::new())
        .ephemeral(reply.ephemeral)
        .components(components(reply));
    if let Some(c) = &reply.content {
        out = out.content(c);
    }
    out.embeds = reply.embeds.iter().map(embed).collect();
    out.attachments = attachments(reply);
    out
}

/// An answer to a button: a new or an updated message.
pub fn interaction_message(reply: &Reply) -> CreateInteractionResponseMessage {
    let mut out = CreateInteractionResponseMessage::new()
        .allowed_mentions(CreateAllowedMentions::new())
        .ephemeral(reply.ephemeral)
        .components(components(reply))
        .embeds(reply.embeds.iter().map(embed).collect())
        .content(reply.content.clone().unwrap_or_default());
    for a in attachments(reply) {
        out = out.add_file(a);
    }
    out
}

/// A message the bot posts by itself (round summaries).
pub fn channel_message(reply: &Reply) -> CreateMessage {
    let mut out = CreateMessage::new()
        .allowed_mentions(CreateAllowedMentions::new())
        .embeds(reply.embeds.iter().map(embed).collect())
        .components(components(reply));
    if let Some(c) = &reply.content {
        out = out.content(c);
    }
    out.add_files(attachments(reply))
}

/// An edit of a message the bot posted; a reply with attachments replaces the message's
/// attachments with them, one without leaves them as they are.
pub fn edit_message(reply: &Reply) -> EditMessage {
    let mut out = EditMessage::new()
        .allowed_mentions(CreateAllowedMentions::new())
        .embeds(reply.embeds.iter().map(embed).collect());
    for a in attachments(reply) {
        out = out.new_attachment(a);
    }
    out
}
