//! The slash commands as Discord sees them: names, descriptions, options, autocomplete.
//! Each one builds an [`Invocation`] and hands it to [`super::answer`].

use poise::serenity_prelude as serenity;

use super::{answer, Ctx, Data, Error};
use crate::commands::leaderboard::Stat;
use crate::commands::{text, Invocation, Period};
use crate::db;

fn invocation(name: &str, sub: Option<&str>, options: &[(&str, Option<String>)]) -> Invocation {
    let mut inv = Invocation {
        name: name.into(),
        subcommand: sub.map(str::to_owned),
        ..Invocation::default()
    };
    for (key, value) in options {
        if let Some(v) = value {
            inv.options.insert((*key).into(), v.clone());
        }
    }
    inv
}

const AUTOCOMPLETE_WITHIN: std::time::Duration = std::time::Duration::from_millis(2500);

/// Players whose name or an alias contains what was typed; the value is the player key.
async fn autocomplete_player(
    ctx: Ctx<'_>,
    partial: &str,
) -> impl Iterator<Item = serenity::AutocompleteChoice> {
    let wanted = text::strip_colours(partial.trim());
    let search = db::players::search(&ctx.data().env.pool, &wanted, 25);
    // Suggestions are useless after Discord's 3 s; with the database away, offer none.
    let found = match tokio::time::timeout(AUTOCOMPLETE_WITHIN, search).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "player autocomplete failed");
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    found
        .into_iter()
        .filter(|(p, _)| p.guid.chars().count() <= 100)
        .map(|(p, alias)| {
            let current = text::strip_colours(&p.name);
            let label = match alias {
                Some(a) => format!("{current} (alias {})", text::strip_colours(&a)),
                None => current,
            };
            serenity::AutocompleteChoice::new(text::clip(&label, 100), p.guid)
        })
        .collect::<Vec<_>>()
        .into_iter()
}

async fn autocomplete_map(
    ctx: Ctx<'_>,
    partial: &str,
) -> impl Iterator<Item = serenity::AutocompleteChoice> {
    let wanted = partial.trim().to_ascii_lowercase();
    let maps = tokio::time::timeout(
        AUTOCOMPLETE_WITHIN,
        db::players::known_maps(&ctx.data().env.pool),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    maps.into_iter()
        .filter(|(m, _, _)| m.to_ascii_lowercase().contains(&wanted) && m.chars().count() <= 100)
        .take(25)
        .map(|(m, rounds, _)| {
            serenity::AutocompleteChoice::new(text::clip(&format!("{m} ({rounds} rounds)"), 100), m)
        })
        .collect::<Vec<_>>()
        .into_iter()
}

fn period(p: Option<Period>) -> Option<String> {
    p.map(|p| p.as_str().to_owned())
}

/// Lone-wolf stats: 1v1 record, outgunned kills, ganked deaths; without a player, the best 1v1 players.
#[poise::command(slash_command)]
pub async fn solo(
    ctx: Ctx<'_>,
    #[description = "Player (name, alias or GUID); default: you, if linked"]
    #[autocomplete = "autocomplete_player"]
    player: Option<String>,
    #[description = "Time window (default 30d)"] period: Option<Period>,
) -> Result<(), Error> {
    answer(
        ctx,
        invocation(
            "solo",
            None,
            &[("player", player), ("period", self::period(period))],
        ),
    )
    .await
}

/// Teamwork: the best pairs, a player's best partners, or two players' record together.
#[poise::command(slash_command)]
pub async fn duo(
    ctx: Ctx<'_>,
    #[description = "Player; default: you, if linked"]
    #[autocomplete = "autocomplete_player"]
    player: Option<String>,
    #[description = "Partner, for the pair's record"]
    #[autocomplete = "autocomplete_player"]
    partner: Option<String>,
    #[description = "Time window (default 30d)"] period: Option<Period>,
) -> Result<(), Error> {
    answer(
        ctx,
        invocation(
            "duo",
            None,
            &[
                ("player", player),
                ("partner", partner),
                ("period", self::period(period)),
            ],
        ),
    )
    .await
}

/// Kill heatmap of a map (PNG): where killers stood or victims fell.
#[poise::command(slash_command)]
#[allow(clippy::too_many_arguments)]
pub async fn heatmap(
    ctx: Ctx<'_>,
    #[description = "Map"]
    #[autocomplete = "autocomplete_map"]
    map: String,
    #[description = "Only this player"]
    #[autocomplete = "autocomplete_player"]
    player: Option<String>,
    #[description = "axis or allies"] team: Option<String>,
    #[description = "kills (where killers stood) or deaths (where victims fell, default)"]
    kind: Option<String>,
    #[description = "Weapon class (bullet, explosive, melee, fire) or weapon (mp40, panzerfaust)"]
    weapon: Option<String>,
    #[description = "all (default), session, 7d, a day 2026-11-20 or a range 2026-11-01..2026-11-20"]
    period: Option<String>,
    #[description = "Width and height in pixels (256 to 2048, default 1024)"]
    #[min = 256]
    #[max = 2048]
    size: Option<u32>,
) -> Result<(), Error> {
    answer(
        ctx,
        invocation(
            "heatmap",
            None,
            &[
                ("map", Some(map)),
                ("player", player),
                ("team", team),
                ("kind", kind),
                ("weapon", weapon),
                ("period", period),
                ("size", size.map(|s| s.to_string())),
            ],
        ),
    )
    .await
}

/// Engagement breakdown (1v1, 2v1, 1v2 …) with a chart.
#[poise::command(slash_command)]
pub async fn engagements(
    ctx: Ctx<'_>,
    #[description = "Only this map"]
    #[autocomplete = "autocomplete_map"]
    map: Option<String>,
    #[description = "Time window (default: latest session)"] period: Option<Period>,
) -> Result<(), Error> {
    answer(
        ctx,
        invocation(
            "engagements",
            None,
            &[("map", map), ("period", self::period(period))],
        ),
    )
    .await
}

/// Profile card: aliases, totals, favourite weapons, best partner, nemesis.
#[poise::command(slash_command)]
pub async fn player(
    ctx: Ctx<'_>,
    #[description = "Player (name, alias or GUID); default: you, if linked"]
    #[autocomplete = "autocomplete_player"]
    player: Option<String>,
) -> Result<(), Error> {
    answer(ctx, invocation("player", None, &[("player", player)])).await
}

/// Players ranked by one stat.
#[poise::command(slash_command)]
pub async fn leaderboard(
    ctx: Ctx<'_>,
    #[description = "What to rank by"] stat: Stat,
    #[description = "Time window (default 30d)"] period: Option<Period>,
) -> Result<(), Error> {
    answer(
        ctx,
        invocation(
            "leaderboard",
            None,
            &[
                ("stat", Some(stat.key().into())),
                ("period", self::period(period)),
            ],
        ),
    )
    .await
}

/// Summary of a round: kills, top fraggers, best duo, most outnumbered win.
#[poise::command(slash_command)]
pub async fn round(
    ctx: Ctx<'_>,
    #[description = "latest (default) or a round id"] round: Option<String>,
) -> Result<(), Error> {
    answer(ctx, invocation("round", None, &[("round", round)])).await
}

/// Known maps, and whether each has an image and a calibration for heatmaps.
#[poise::command(slash_command)]
pub async fn maps(ctx: Ctx<'_>) -> Result<(), Error> {
    answer(ctx, invocation("maps", None, &[])).await
}

/// Tie your Discord account to a player, so commands default to you.
#[poise::command(slash_command)]
pub async fn link(
    ctx: Ctx<'_>,
    #[description = "Your player (name, alias or GUID)"]
    #[autocomplete = "autocomplete_player"]
    player: String,
    #[description = "Admins: link this user instead"] user: Option<serenity::User>,
) -> Result<(), Error> {
    answer(
        ctx,
        invocation(
            "link",
            None,
            &[
                ("player", Some(player)),
                ("user", user.map(|u| u.id.get().to_string())),
            ],
        ),
    )
    .await
}

/// Remove the tie between your Discord account and a player.
#[poise::command(slash_command)]
pub async fn unlink(
    ctx: Ctx<'_>,
    #[description = "Admins: unlink this user instead"] user: Option<serenity::User>,
) -> Result<(), Error> {
    answer(
        ctx,
        invocation(
            "unlink",
            None,
            &[("user", user.map(|u| u.id.get().to_string()))],
        ),
    )
    .await
}

/// Stored raw data and archiving (admins).
#[poise::command(
    slash_command,
    subcommands("retention_stats", "retention_archive"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD",
    guild_only
)]
pub async fn retention(_ctx: Ctx<'_>) -> Result<(), Error> {
    Ok(())
}

/// Rows, sizes, oldest and newest day per table.
#[poise::command(
    slash_command,
    rename = "stats",
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn retention_stats(ctx: Ctx<'_>) -> Result<(), Error> {
    answer(ctx, invocation("retention", Some("stats"), &[])).await
}

/// Delete raw kills older than some days (asks for confirmation); aggregates are kept.
#[poise::command(
    slash_command,
    rename = "archive",
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn retention_archive(
    ctx: Ctx<'_>,
    #[description = "Older than this many days (default 30)"]
    #[min = 1]
    days: Option<u32>,
    #[description = "Only show what would go"] dry_run: Option<bool>,
    #[description = "Export the rows to CSV first (ETPROX_EXPORT_DIR)"] export: Option<bool>,
) -> Result<(), Error> {
    answer(
        ctx,
        invocation(
            "retention",
            Some("archive"),
            &[
                ("days", days.map(|d| d.to_string())),
                ("dry_run", dry_run.map(|b| b.to_string())),
                ("export", export.map(|b| b.to_string())),
            ],
        ),
    )
    .await
}

/// Imports: status and rescan (admins).
#[poise::command(
    slash_command,
    subcommands("import_status", "import_rescan"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD",
    guild_only
)]
pub async fn import(_ctx: Ctx<'_>) -> Result<(), Error> {
    Ok(())
}

/// Last imports, rejected files and lines.
#[poise::command(
    slash_command,
    rename = "status",
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn import_status(ctx: Ctx<'_>) -> Result<(), Error> {
    answer(ctx, invocation("import", Some("status"), &[])).await
}

/// Import what the round folders hold and the database does not.
#[poise::command(
    slash_command,
    rename = "rescan",
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn import_rescan(ctx: Ctx<'_>) -> Result<(), Error> {
    answer(ctx, invocation("import", Some("rescan"), &[])).await
}

pub fn all() -> Vec<poise::Command<Data, Error>> {
    vec![
        solo(),
        duo(),
        heatmap(),
        engagements(),
        player(),
        leaderboard(),
        round(),
        maps(),
        link(),
        unlink(),
        retention(),
        import(),
    ]
}
