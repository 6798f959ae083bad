//! Merging what several rounds add into one set of aggregate rows, so a batch of rounds
//! touches each aggregate row once. Merging is plain addition (plus min/max and "latest name"),
//! so one batch of N rounds gives exactly what N single-round imports give, in any order.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::round_stats::{PlayerRoundStats, RoundStats};

/// Where and when a round happened.
#[derive(Debug, Clone)]
pub struct RoundContext {
    pub session_date: NaiveDate,
    pub map_name: String,
    /// The round's start (or end) time: "first/last seen" for players and names.
    pub seen: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlayerRow {
    pub key: String,
    pub name: String,
    /// When `name` was used (see [`newer_name`]).
    pub name_seen: DateTime<Utc>,
    pub is_bot: bool,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AliasRow {
    pub key: String,
    pub raw_name: Vec<u8>,
    pub name: String,
    pub display_name: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub times_seen: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DailyPlayerRow {
    pub session_date: NaiveDate,
    pub stats: PlayerRoundStats,
    pub rounds_played: i32,
    /// When the name in `stats` was used, so the latest name wins (see [`newer_name`]).
    pub name_seen: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairRow {
    pub player1: String,
    pub player2: String,
    pub kills_within_range: i32,
    pub simultaneous_kills: i32,
    pub trade_kills: i32,
    pub rounds_together: i32,
    pub first_seen: NaiveDate,
    pub last_seen: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRow {
    pub session_date: NaiveDate,
    pub map_name: String,
    pub grid_x: i32,
    pub grid_y: i32,
    pub axis_kills: i32,
    pub allies_kills: i32,
}

/// Aggregate rows for a batch, each list sorted by its key (a fixed lock order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchAggregates {
    pub players: Vec<PlayerRow>,
    pub aliases: Vec<AliasRow>,
    pub daily_players: Vec<DailyPlayerRow>,
    /// Pair counters per session day; `first_seen` and `last_seen` hold that day.
    pub daily_pairs: Vec<PairRow>,
    pub cells: Vec<CellRow>,
    pub weapons: Vec<WeaponRow>,
    pub versus: Vec<VersusRow>,
}

/// `player_weapon_daily`: one player's kills and deaths by one means of death on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct WeaponRow {
    pub player: String,
    pub session_date: NaiveDate,
    pub weapon: i16,
    pub kills: i32,
    pub deaths: i32,
}

/// `player_versus_daily`: how often one player killed another on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct VersusRow {
    pub killer: String,
    pub victim: String,
    pub session_date: NaiveDate,
    pub kills: i32,
}

impl BatchAggregates {
    /// What removing these rounds again takes: every counter negated. Names, first/last seen,
    /// bot flags and min/max distances are left as they are: the upsert keeps the stored value
    /// for them (the caller replaces a round only by a version that contains all of its kills,
    /// at the same time, so none of those can change).
    pub fn negated(&self) -> BatchAggregates {
        let mut out = self.clone();
        for d in &mut out.daily_players {
            let s = &mut d.stats;
            for i in 0..4 {
                s.kills[i] = -s.kills[i];
                s.deaths[i] = -s.deaths[i];
            }
            s.team_kills = -s.team_kills;
            s.team_deaths = -s.team_deaths;
            s.suicides = -s.suicides;
            s.world_deaths = -s.world_deaths;
            s.crossfire = -s.crossfire;
            s.sum_distance = -s.sum_distance;
            d.rounds_played = -d.rounds_played;
        }
        for a in &mut out.aliases {
            a.times_seen = -a.times_seen;
        }
        for p in &mut out.daily_pairs {
            p.kills_within_range = -p.kills_within_range;
            p.simultaneous_kills = -p.simultaneous_kills;
            p.trade_kills = -p.trade_kills;
            p.rounds_together = -p.rounds_together;
        }
        for c in &mut out.cells {
            c.axis_kills = -c.axis_kills;
            c.allies_kills = -c.allies_kills;
        }
        for w in &mut out.weapons {
            w.kills = -w.kills;
            w.deaths = -w.deaths;
        }
        for v in &mut out.versus {
            v.kills = -v.kills;
        }
        out
    }

    /// The latest name of a player in the batch, or "" when the batch does not know it.
    pub fn name_of(&self, key: &str) -> &str {
        self.players
            .binary_search_by(|p| p.key.as_str().cmp(key))
            .map(|i| self.players[i].name.as_str())
            .unwrap_or("")
    }
}

/// Whether a name used at `seen` replaces `current` (used at `current_seen`): a name beats no
/// name, then the later round wins, and two rounds in the same second go to the greater name
/// (byte order, as PostgreSQL's "C" collation), so the result never depends on import order.
/// The SQL upsert applies the same rule.
pub fn newer_name(
    name: &str,
    seen: DateTime<Utc>,
    current: &str,
    current_seen: DateTime<Utc>,
) -> bool {
    (!name.is_empty(), seen, name) > (!current.is_empty(), current_seen, current)
}

fn add_player(into: &mut PlayerRoundStats, from: &PlayerRoundStats) {
    for i in 0..4 {
        into.kills[i] += from.kills[i];
        into.deaths[i] += from.deaths[i];
    }
    into.is_bot |= from.is_bot;
    into.team_kills += from.team_kills;
    into.team_deaths += from.team_deaths;
    into.suicides += from.suicides;
    into.world_deaths += from.world_deaths;
    into.crossfire += from.crossfire;
    into.sum_distance += from.sum_distance;
    into.min_distance = min_opt(into.min_distance, from.min_distance);
    into.max_distance = max_opt(into.max_distance, from.max_distance);
}

fn min_opt(a: Option<f32>, b: Option<f32>) -> Option<f32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<f32>, b: Option<f32>) -> Option<f32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Merges the contributions of several rounds.
pub fn merge_rounds<'a>(
    rounds: impl IntoIterator<Item = (&'a RoundContext, &'a RoundStats)>,
) -> BatchAggregates {
    let mut merger = Merger::default();
    for (ctx, stats) in rounds {
        merger.add_players(ctx, stats);
        merger.add_aliases(ctx, stats);
        merger.add_pairs(ctx, stats);
        merger.add_cells(ctx, stats);
        merger.add_tables(ctx, stats);
    }
    merger.finish()
}

/// The batch's rows so far, keyed (and so sorted) as they are written.
#[derive(Default)]
struct Merger {
    players: BTreeMap<String, PlayerRow>,
    aliases: BTreeMap<(String, Vec<u8>), AliasRow>,
    daily: BTreeMap<(NaiveDate, String), DailyPlayerRow>,
    daily_pairs: BTreeMap<(NaiveDate, String, String), PairRow>,
    cells: BTreeMap<(NaiveDate, String, i32, i32), CellRow>,
    weapons: BTreeMap<(String, NaiveDate, i16), (i32, i32)>,
    versus: BTreeMap<(String, String, NaiveDate), i32>,
}

impl Merger {
    fn add_players(&mut self, ctx: &RoundContext, stats: &RoundStats) {
        let seen = ctx.seen;
        for p in &stats.players {
            let row = self
                .players
                .entry(p.key.clone())
                .or_insert_with(|| PlayerRow {
                    key: p.key.clone(),
                    name: p.name.clone(),
                    name_seen: seen,
                    is_bot: p.is_bot,
                    first_seen: seen,
                    last_seen: seen,
                });
            if newer_name(&p.name, seen, &row.name, row.name_seen) {
                row.name.clone_from(&p.name);
                row.name_seen = seen;
            }
            row.is_bot |= p.is_bot;
            row.first_seen = row.first_seen.min(seen);
            row.last_seen = row.last_seen.max(seen);

            let day = self
                .daily
                .entry((ctx.session_date, p.key.clone()))
                .or_insert_with(|| DailyPlayerRow {
                    session_date: ctx.session_date,
                    stats: PlayerRoundStats {
                        key: p.key.clone(),
                        name: p.name.clone(),
                        ..PlayerRoundStats::default()
                    },
                    rounds_played: 0,
                    name_seen: seen,
                });
            add_player(&mut day.stats, p);
            day.rounds_played += 1;
            if newer_name(&p.name, seen, &day.stats.name, day.name_seen) {
                day.stats.name.clone_from(&p.name);
                day.name_seen = seen;
            }
        }
    }

    fn add_aliases(&mut self, ctx: &RoundContext, stats: &RoundStats) {
        let seen = ctx.seen;
        for a in &stats.aliases {
            let row = self
                .aliases
                .entry((a.key.clone(), a.raw_name.clone()))
                .or_insert_with(|| AliasRow {
                    key: a.key.clone(),
                    raw_name: a.raw_name.clone(),
                    name: a.name.clone(),
                    display_name: a.display_name.clone(),
                    first_seen: seen,
                    last_seen: seen,
                    times_seen: 0,
                });
            row.times_seen += 1;
            row.first_seen = row.first_seen.min(seen);
            row.last_seen = row.last_seen.max(seen);
        }
    }

    fn add_pairs(&mut self, ctx: &RoundContext, stats: &RoundStats) {
        let day = ctx.session_date;
        for p in &stats.pairs {
            let row = self
                .daily_pairs
                .entry((day, p.player1.clone(), p.player2.clone()))
                .or_insert_with(|| PairRow {
                    player1: p.player1.clone(),
                    player2: p.player2.clone(),
                    kills_within_range: 0,
                    simultaneous_kills: 0,
                    trade_kills: 0,
                    rounds_together: 0,
                    first_seen: day,
                    last_seen: day,
                });
            row.kills_within_range += p.kills_within_range;
            row.simultaneous_kills += p.simultaneous_kills;
            row.trade_kills += p.trade_kills;
            row.rounds_together += 1;
            row.first_seen = row.first_seen.min(day);
            row.last_seen = row.last_seen.max(day);
        }
    }

    fn add_cells(&mut self, ctx: &RoundContext, stats: &RoundStats) {
        for c in &stats.cells {
            let row = self
                .cells
                .entry((ctx.session_date, ctx.map_name.clone(), c.grid_x, c.grid_y))
                .or_insert_with(|| CellRow {
                    session_date: ctx.session_date,
                    map_name: ctx.map_name.clone(),
                    grid_x: c.grid_x,
                    grid_y: c.grid_y,
                    axis_kills: 0,
                    allies_kills: 0,
                });
            row.axis_kills += c.axis_kills;
            row.allies_kills += c.allies_kills;
        }
    }

    /// Per-weapon and per-opponent counts of each player and day.
    fn add_tables(&mut self, ctx: &RoundContext, stats: &RoundStats) {
        for (player, weapon, k, d) in &stats.weapons {
            let row = self
                .weapons
                .entry((player.clone(), ctx.session_date, *weapon))
                .or_default();
            row.0 += k;
            row.1 += d;
        }
        for (killer, victim, n) in &stats.versus {
            *self
                .versus
                .entry((killer.clone(), victim.clone(), ctx.session_date))
                .or_default() += n;
        }
    }

    fn finish(self) -> BatchAggregates {
        BatchAggregates {
            players: self.players.into_values().collect(),
            aliases: self.aliases.into_values().collect(),
            daily_players: self.daily.into_values().collect(),
            daily_pairs: self.daily_pairs.into_values().collect(),
            cells: self.cells.into_values().collect(),
            weapons: self
                .weapons
                .into_iter()
                .map(
                    |((player, session_date, weapon), (kills, deaths))| WeaponRow {
                        player,
                        session_date,
                        weapon,
                        kills,
                        deaths,
                    },
                )
                .collect(),
            versus: self
                .versus
                .into_iter()
                .map(|((killer, victim, session_date), kills)| VersusRow {
                    killer,
                    victim,
                    session_date,
                    kills,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round_file::parse_round_file;
    use crate::round_file::synthetic::{synthetic_v3, RoundSpec};
    use crate::stats::aggregate_round;
    use proptest::prelude::*;

    fn round(seed: u64) -> (RoundContext, RoundStats) {
        let bytes = synthetic_v3(&RoundSpec::new(seed, 1_763_000_000 + seed as i64 * 900));
        let parsed = parse_round_file(&bytes, "x.txt").unwrap();
        let ctx = RoundContext {
            session_date: NaiveDate::from_ymd_opt(2025, 11, 18 + (seed % 2) as u32).unwrap(),
            map_name: if seed.is_multiple_of(3) {
                "supply".into()
            } else {
                "goldrush".into()
            },
            seen: DateTime::from_timestamp(1_763_000_000 + seed as i64 * 900, 0).unwrap(),
        };
        (ctx, aggregate_round(&parsed))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        // Merging in one go equals merging the parts and adding them up: the property that
        // makes batch imports equal to one-by-one imports.
        #[test]
        fn merging_is_additive(seeds in proptest::collection::vec(0u64..50, 1..6), split in 0usize..6) {
            let rounds: Vec<_> = seeds.iter().map(|s| round(*s)).collect();
            let all = merge_rounds(rounds.iter().map(|(c, s)| (c, s)));
            let split = split.min(rounds.len());
            let a = merge_rounds(rounds[..split].iter().map(|(c, s)| (c, s)));
            let b = merge_rounds(rounds[split..].iter().map(|(c, s)| (c, s)));
            let total_kills = |m: &BatchAggregates| m.daily_players.iter().map(|d| d.stats.total_kills()).sum::<i32>();
            prop_assert_eq!(total_kills(&all), total_kills(&a) + total_kills(&b));
            let rounds_together = |m: &BatchAggregates| m.daily_pairs.iter().map(|p| p.rounds_together).sum::<i32>();
            prop_assert_eq!(rounds_together(&all), rounds_together(&a) + rounds_together(&b));
            let cells = |m: &BatchAggregates| m.cells.iter().map(|c| c.axis_kills + c.allies_kills).sum::<i32>();
            prop_assert_eq!(cells(&all), cells(&a) + cells(&b));
            let times = |m: &BatchAggregates| m.aliases.iter().map(|a| a.times_seen).sum::<i32>();
            prop_assert_eq!(times(&all), times(&a) + times(&b));
            // Names do not depend on the order of the rounds.
            let reversed = merge_rounds(rounds.iter().rev().map(|(c, s)| (c, s)));
            prop_assert_eq!(&all.players, &reversed.players);
            prop_assert_eq!(&all.daily_players, &reversed.daily_players);
        }
    }
}
