//! What a heatmap counts: the map, whose positions (killers or victims), and the optional
//! filters (player, team, weapon, engagement, period) a person types, parsed and checked
//! before any SQL runs.

use std::str::FromStr;

use sqlx::PgPool;

use super::plan::Need;
use super::HeatmapError;
use crate::db::heatmap::Side;
use crate::db::players::Player;
use crate::period::Period;
use crate::players::{self, strip_colour_codes, LookupError, PlayerKey};

/// A player resolved by the caller ([`crate::players::resolve_one`]): the key the kills are
/// matched on, as stored (so `NOGUID:` players work), and the name shown in the caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerFilter {
    pub key: PlayerKey,
    pub label: String,
}

impl PlayerFilter {
    pub fn new(key: PlayerKey, label: impl Into<String>) -> PlayerFilter {
        PlayerFilter {
            key,
            label: label.into(),
        }
    }
}

/// The one player `text` names, by the one resolution of [`crate::players`]: no match and
/// several matches are errors ([`HeatmapError::Player`]), never a guess.
pub async fn resolve_player(pool: &PgPool, text: &str) -> Result<PlayerFilter, HeatmapError> {
    match players::resolve_one(pool, text).await {
        Ok(player) => Ok(player.into()),
        Err(LookupError::Database(e)) => Err(HeatmapError::Db(e)),
        Err(e) => Err(HeatmapError::Player(e)),
    }
}

/// What to tell a person whose player name did not resolve: the candidates when several
/// players match, so they can give the key of the one they mean.
pub fn lookup_message(error: &LookupError) -> String {
    match error {
        LookupError::NotFound { wanted } => {
            format!("no player matches `{wanted}`: give a GUID or a name the bot has seen")
        }
        LookupError::Ambiguous { wanted, candidates } => {
            let names: Vec<String> = candidates
                .iter()
                .take(8)
                .map(|p| format!("{} ({})", strip_colour_codes(&p.name), p.guid))
                .collect();
            format!(
                "{} players match `{wanted}`: {}{}; give the GUID of the one you mean",
                candidates.len(),
                names.join(", "),
                if candidates.len() > 8 { ", …" } else { "" }
            )
        }
        other => other.to_string(),
    }
}

impl From<Player> for PlayerFilter {
    fn from(player: Player) -> PlayerFilter {
        let label = strip_colour_codes(&player.name);
        PlayerFilter::new(PlayerKey::from_stored(player.guid), label)
    }
}

/// Whose position is plotted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositionKind {
    /// Where the killer stood when the kill happened.
    Kills,
    /// Where the victim died (the same position `kill_heatmap` records).
    #[default]
    Deaths,
    /// Seconds living players spent per cell (tracker 1.2 presence samples): [`super::fight`].
    Presence,
    /// Objective plays per cell, optionally of one action: [`super::fight`].
    Objectives(Option<ObjectiveAction>),
}

/// An objective play a heatmap can be limited to (`objective_cells_daily.action`; a drop is
/// not a play).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectiveAction {
    Steal,
    Secure,
    Return,
    Plant,
    Defuse,
    Destroy,
    Build,
}

impl ObjectiveAction {
    pub const ALL: [ObjectiveAction; 7] = [
        ObjectiveAction::Steal,
        ObjectiveAction::Secure,
        ObjectiveAction::Return,
        ObjectiveAction::Plant,
        ObjectiveAction::Defuse,
        ObjectiveAction::Destroy,
        ObjectiveAction::Build,
    ];

    /// The value stored in `action`.
    pub fn db_name(self) -> &'static str {
        match self {
            ObjectiveAction::Steal => "steal",
            ObjectiveAction::Secure => "secure",
            ObjectiveAction::Return => "return",
            ObjectiveAction::Plant => "plant",
            ObjectiveAction::Defuse => "defuse",
            ObjectiveAction::Destroy => "destroy",
            ObjectiveAction::Build => "build",
        }
    }
}

impl FromStr for ObjectiveAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let want = s.trim().to_ascii_lowercase();
        ObjectiveAction::ALL
            .into_iter()
            .find(|a| a.db_name() == want || format!("{}s", a.db_name()) == want)
            .ok_or_else(|| {
                format!(
                    "unknown action `{want}`: use steal, secure, return, plant, defuse, destroy or build"
                )
            })
    }
}

impl PositionKind {
    /// The side whose position, GUID and team are read.
    pub fn side(self) -> Side {
        match self {
            PositionKind::Kills => Side::Killer,
            // Fight kinds read no kills ([`PositionKind::is_fight`]); the victim side is inert.
            PositionKind::Deaths | PositionKind::Presence | PositionKind::Objectives(_) => {
                Side::Victim
            }
        }
    }

    /// Presence and objectives come from the fight tables, not from kills.
    pub fn is_fight(self) -> bool {
        matches!(self, PositionKind::Presence | PositionKind::Objectives(_))
    }
}

impl FromStr for PositionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "kills" | "kill" | "killer" => Ok(PositionKind::Kills),
            "deaths" | "death" | "victim" => Ok(PositionKind::Deaths),
            "presence" => Ok(PositionKind::Presence),
            "objectives" | "objective" => Ok(PositionKind::Objectives(None)),
            other => Err(format!(
                "unknown kind `{other}`: use kills, deaths, presence or objectives"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Team {
    Axis,
    Allies,
}

impl Team {
    /// The value stored in `killer_team` / `victim_team`.
    pub fn db_name(self) -> &'static str {
        match self {
            Team::Axis => "AXIS",
            Team::Allies => "ALLIES",
        }
    }

    pub fn opponent(self) -> Team {
        match self {
            Team::Axis => Team::Allies,
            Team::Allies => Team::Axis,
        }
    }
}

impl FromStr for Team {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "axis" => Ok(Team::Axis),
            "allies" | "allied" => Ok(Team::Allies),
            other => Err(format!("unknown team `{other}`: use axis or allies")),
        }
    }
}

/// A weapon or means-of-death class. Kills are matched on the means of death (the
/// killing MOD), not `weapon`, which is only the weapon held at the obituary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeaponFilter {
    /// What the user typed, for the caption.
    pub label: String,
    /// ET:Legacy means-of-death numbers (`assets/mods.csv`).
    pub mods: Vec<i16>,
}

const MODS_CSV: &str = include_str!("../../assets/mods.csv");

impl FromStr for WeaponFilter {
    type Err = String;
    /// A category of `assets/mods.csv` (bullet, explosive, melee, fire, world, self,
    /// other), or one means of death by name (`MOD_MP40`, `mp40`) or label (`Panzerfaust`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let want = s.trim().to_ascii_lowercase();
        let want_mod = format!("mod_{want}");
        let mut by_category = Vec::new();
        let mut by_name = Vec::new();
        for line in MODS_CSV.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            let [value, name, label, category, ..] = fields.as_slice() else {
                continue;
            };
            let Ok(value) = value.parse::<i16>() else {
                continue;
            };
            if category.eq_ignore_ascii_case(&want) {
                by_category.push(value);
            }
            let name = name.to_ascii_lowercase();
            if name == want || name == want_mod || label.eq_ignore_ascii_case(&want) {
                by_name.push(value);
            }
        }
        let mods = if by_category.is_empty() {
            by_name
        } else {
            by_category
        };
        if mods.is_empty() {
            return Err(format!(
                "unknown weapon `{s}`: use a class (bullet, explosive, melee, fire, world) \
                 or a means of death such as mp40, thompson, panzerfaust"
            ));
        }
        Ok(WeaponFilter {
            label: s.trim().to_string(),
            mods,
        })
    }
}

/// An engagement class as the importer stores it in `kill_context.engagement_class`:
/// `solo`, `outnumbering`, `even` or `outnumbered`. The stats words are accepted too:
/// `assisted` / `ganked` (the killer's side had more players) and `outgunned` (fewer).
pub fn parse_engagement(s: &str) -> Result<String, String> {
    let class = match s.trim().to_ascii_lowercase().as_str() {
        "solo" | "1v1" => "solo",
        "outnumbering" | "assisted" | "ganked" => "outnumbering",
        "even" => "even",
        "outnumbered" | "outgunned" => "outnumbered",
        other => {
            return Err(format!(
                "unknown engagement `{other}`: use solo, outnumbering (assisted), even or outnumbered (outgunned)"
            ))
        }
    };
    Ok(class.to_string())
}

/// What to count. Positions are always of `kind = 'kill'` rows (no team kills,
/// suicides or world deaths).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapFilter {
    pub map: String,
    /// The player, resolved by the caller ([`crate::players`]). With [`PositionKind::Kills`]
    /// the player is the killer, with [`PositionKind::Deaths`] the victim.
    pub player: Option<PlayerFilter>,
    /// Team of the plotted player (killer for kills, victim for deaths).
    pub team: Option<Team>,
    pub kind: PositionKind,
    pub weapon: Option<WeaponFilter>,
    /// `kill_context.engagement_class` as stored (see [`parse_engagement`]).
    pub engagement: Option<String>,
    /// Which session days; `session` is the latest day with kills on this map.
    pub period: Period,
}

impl HeatmapFilter {
    /// Every kill on `map`, at the victims' positions, all time.
    pub fn new(map: impl Into<String>) -> Self {
        Self {
            map: map.into(),
            player: None,
            team: None,
            kind: PositionKind::default(),
            weapon: None,
            engagement: None,
            period: Period::All,
        }
    }

    /// Which rollups can answer: a player needs the per-player cells, a weapon or an
    /// engagement class the 0010 rollups, team, kind and period any of them.
    pub fn need(&self) -> Need {
        if self.player.is_some() {
            Need::Player
        } else if self.weapon.is_some() || self.engagement.is_some() {
            Need::Filtered
        } else {
            Need::Team
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// The forms the heatmap's own period accepted still parse, into the one [`Period`].
    #[test]
    fn periods_parse() {
        assert_eq!("all".parse::<Period>(), Ok(Period::All));
        assert_eq!("session".parse::<Period>(), Ok(Period::Session));
        assert_eq!("7d".parse::<Period>(), Ok(Period::LastDays(7)));
        assert_eq!("30".parse::<Period>(), Ok(Period::LastDays(30)));
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(
            "2026-11-20".parse::<Period>(),
            Ok(Period::Days(d("2026-11-20"), d("2026-11-20")))
        );
        assert_eq!(
            "2026-11-01..2026-11-20".parse::<Period>(),
            Ok(Period::Days(d("2026-11-01"), d("2026-11-20")))
        );
        assert!("2026-11-20..2026-11-01".parse::<Period>().is_err());
        assert!("0d".parse::<Period>().is_err());
        assert!("yesterday".parse::<Period>().is_err());
    }

    #[test]
    fn weapons_resolve_to_means_of_death() {
        let mp40: WeaponFilter = "mp40".parse().expect("mp40");
        assert_eq!(mp40.mods, vec![8]);
        let panzer: WeaponFilter = "Panzerfaust".parse().expect("label");
        assert_eq!(panzer.mods, vec![15]);
        let melee: WeaponFilter = "melee".parse().expect("category");
        assert_eq!(melee.mods, vec![5, 61, 65]);
        let explosive: WeaponFilter = "explosive".parse().expect("category");
        assert!(explosive.mods.contains(&26) && explosive.mods.contains(&64));
        assert!("banana".parse::<WeaponFilter>().is_err());
    }

    #[test]
    fn engagement_words_map_to_stored_classes() {
        assert_eq!(parse_engagement("Assisted").as_deref(), Ok("outnumbering"));
        assert_eq!(parse_engagement("outgunned").as_deref(), Ok("outnumbered"));
        assert_eq!(parse_engagement("solo").as_deref(), Ok("solo"));
        assert!(parse_engagement("2v1").is_err());
    }

    #[test]
    fn teams_and_kinds_parse() {
        assert_eq!("Axis".parse::<Team>(), Ok(Team::Axis));
        assert_eq!("allies".parse::<Team>(), Ok(Team::Allies));
        assert!("spectator".parse::<Team>().is_err());
        assert_eq!("kills".parse::<PositionKind>(), Ok(PositionKind::Kills));
        assert_eq!("deaths".parse::<PositionKind>(), Ok(PositionKind::Deaths));
    }

    #[test]
    fn filters_say_which_rollups_answer() {
        let mut f = HeatmapFilter::new("goldrush");
        f.team = Some(Team::Axis);
        assert_eq!(f.need(), Need::Team);
        f.engagement = Some("solo".into());
        assert_eq!(f.need(), Need::Filtered);
        f.player = Some(PlayerFilter::new(
            PlayerKey::from_stored("A".repeat(32)),
            "a",
        ));
        assert_eq!(f.need(), Need::Player);
        assert_eq!(
            HeatmapFilter::new("goldrush").period,
            Period::All,
            "default all time"
        );
    }
}
