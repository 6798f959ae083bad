//! How the whole fight reads in replies: the wording of damage per minute, accuracy, revives
//! and objective plays, shared by `/player`, `/leaderboard`, `/weapons` and the round summary
//! (the numbers come from [`crate::db::fight_stats`]; the formulas are in docs/stats.md).

use super::text::{self, percent};
use super::Embed;
use sqlx::PgPool;

use crate::db::fight_stats::{self, FightTotals, Medic, ObjectivePlay};

/// `312.4`, or `-` without playing time.
pub fn dpm(t: &FightTotals) -> String {
    t.damage_per_minute()
        .map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

/// `2 steals, 1 secure, 3 builds`, the non-zero objective counters, or `none`.
pub fn objective_counts(t: &FightTotals) -> String {
    let counts = [
        (t.obj_steals, "steal"),
        (t.obj_secures, "secure"),
        (t.obj_returns, "return"),
        (t.obj_plants, "plant"),
        (t.obj_defuses, "defuse"),
        (t.obj_destroys, "destroy"),
        (t.obj_builds, "build"),
    ];
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| plural(*n, what))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// The fight fields of a profile: damage per minute, accuracy, revives, objective plays.
pub fn profile_fields(embed: Embed, t: &FightTotals) -> Embed {
    embed
        .field(
            "Damage per minute",
            format!(
                "{} ({} given, {} taken)",
                dpm(t),
                t.damage_given,
                t.damage_received
            ),
            true,
        )
        .field(
            "Accuracy",
            format!(
                "{} (headshots {})",
                percent(t.bullet_hits, t.bullet_shots),
                percent(t.bullet_headshots, t.bullet_hits)
            ),
            true,
        )
        .field(
            "Revives",
            format!("{} given, {} received", t.revives_given, t.revives_received),
            true,
        )
        .field("Objective plays", objective_counts(t), false)
}

/// `1:32 Alpha (axis) stole the Gold Crate`, one line per play.
pub fn objective_line(play: &ObjectivePlay) -> String {
    let secs = play.t_ms.max(0) / 1000;
    let who = match &play.name {
        Some(name) => format!("{} ({})", text::name(name), play.team.to_ascii_lowercase()),
        None => format!("{} (time-out)", play.team.to_ascii_lowercase()),
    };
    let verb = match play.action.as_str() {
        "steal" => "stole",
        "secure" => "secured",
        "return" => "returned",
        "plant" => "planted at",
        "defuse" => "defused at",
        "destroy" => "destroyed",
        "build" => "built",
        other => other,
    };
    let target = text::name(&play.target);
    format!("{}:{:02} {who} {verb} {target}", secs / 60, secs % 60)
}

/// Lines of a round's objective plays that fit an embed field (1,024 characters).
pub fn objective_lines(plays: &[ObjectivePlay]) -> String {
    const MAX_LINES: usize = 10;
    let mut lines: Vec<String> = plays.iter().take(MAX_LINES).map(objective_line).collect();
    if plays.len() > MAX_LINES {
        lines.push(format!("… and {} more", plays.len() - MAX_LINES));
    }
    text::clip(&lines.join("\n"), 1024)
}

/// The round summary's fight fields, when the round has fight data: its objective plays and
/// its top medic (most revives given; ties by key).
pub async fn round_fields(pool: &PgPool, embed: Embed, round_id: i64) -> sqlx::Result<Embed> {
    let (plays, medics) = tokio::try_join!(
        fight_stats::round_objectives(pool, round_id),
        fight_stats::round_medics(pool, round_id),
    )?;
    let mut embed = embed;
    if !plays.is_empty() {
        embed = embed.field("Objective plays", objective_lines(&plays), false);
    }
    if let Some(top) = medics.first() {
        embed = embed.field("Top medic", medic_line(top), true);
    }
    Ok(embed)
}

/// `Alpha (6 revives)`.
pub fn medic_line(medic: &Medic) -> String {
    format!(
        "{} ({})",
        text::name(&medic.name),
        plural(medic.revives, "revive")
    )
}

fn plural(n: i64, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_counts_name_the_non_zero_counters() {
        let t = FightTotals {
            obj_steals: 2,
            obj_builds: 1,
            ..FightTotals::default()
        };
        assert_eq!(objective_counts(&t), "2 steals, 1 build");
        assert_eq!(objective_counts(&FightTotals::default()), "none");
    }

    #[test]
    fn objective_lines_say_when_and_who() {
        let play = ObjectivePlay {
            t_ms: 92_500,
            name: Some("^1Alpha".into()),
            team: "AXIS".into(),
            action: "steal".into(),
            target: "the Gold Crate".into(),
        };
        assert_eq!(
            objective_line(&play),
            "1:32 Alpha (axis) stole the Gold Crate"
        );
    }
}
