//! The whole fight of a round (tracker 1.2 sections) into the raw fight rows: roster indices
//! resolved to player keys by the same rule as kills (`stats::identity::player_key`), damage
//! given its weapon (`round_file::fight::weapons`), shots and hits met per weapon, lives
//! rebuilt from spawns and deaths, presence binned into 64-unit cells. Pure but for
//! [`store_fights`], which writes them in the round's transaction (`db::fight`); the per-day
//! aggregates are made from those rows there.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::prepare::Prepared;
use crate::db::fight::{self as db_fight, FightRows};
use crate::round_file::fight::{weapons, FightSections, PresenceSample, RosterEntry};
use crate::round_file::{field, KillRecord, Team};
use crate::stats::identity::player_key;

/// Writes the fight of the rounds that got an id in this transaction. A round stored before
/// under the same id (a shorter version being replaced) has its fight taken out first, so the
/// aggregates hold the new version alone. Rounds without fight sections write nothing.
pub(super) async fn store_fights(
    tx: &mut PgConnection,
    rounds: &[(i64, &Prepared<'_>)],
) -> sqlx::Result<()> {
    if rounds.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rounds.iter().map(|(id, _)| *id).collect();
    db_fight::take_out_rounds(tx, &ids).await?;
    let mut rows = FightRows::default();
    for (id, p) in rounds {
        if let Some(fight) = &p.round.fight {
            let round = RoundOf {
                round_id: *id,
                session_date: p.row.session_date,
                map_name: &p.row.map_name,
            };
            add_round(&mut rows, &round, &p.round.kills, fight);
        }
    }
    db_fight::write_rounds(tx, &rows).await
}

/// Where a round's fight rows go.
#[derive(Debug, Clone, Copy)]
pub struct RoundOf<'m> {
    pub round_id: i64,
    pub session_date: NaiveDate,
    pub map_name: &'m str,
}

/// Appends one round's raw fight rows to `rows`.
pub fn add_round(
    rows: &mut FightRows,
    round: &RoundOf<'_>,
    kills: &[KillRecord<'_>],
    fight: &FightSections<'_>,
) {
    let keys: BTreeMap<u16, (String, &'static str)> = fight
        .players
        .iter()
        .map(|e| (e.index, (player_key(&e.guid, &e.name), e.team.as_str())))
        .collect();
    // The parser let no line name a player the players section lacks.
    let key = |p: u16| keys.get(&p).map_or(("", ""), |(k, t)| (k.as_str(), *t));
    rows.round_ids.push(round.round_id);
    add_roster(rows, round, fight, &key);
    add_damage(rows, round, fight, &key);
    add_weapon_fire(rows, round, fight, &key);
    add_revives(rows, round, fight, &key);
    add_objectives(rows, round, fight, &key);
    for stint in stints(&fight.players) {
        add_lives(rows, round, kills, fight, &stint);
    }
    add_presence(rows, round, fight, &key);
}

type KeyOf<'k> = dyn Fn(u16) -> (&'k str, &'static str) + 'k;

fn add_roster<'k>(rows: &mut FightRows, r: &RoundOf<'_>, f: &FightSections<'_>, key: &KeyOf<'k>) {
    let c = &mut rows.roster;
    for e in &f.players {
        c.round_id.push(r.round_id);
        c.session_date.push(r.session_date);
        c.roster_index.push(i32::from(e.index));
        c.player_guid.push(key(e.index).0.to_owned());
        c.slot.push(e.slot);
        c.team.push(e.team.as_str());
        c.from_ms.push(e.from_ms);
        c.to_ms.push(e.to_ms);
    }
}

fn add_damage<'k>(rows: &mut FightRows, r: &RoundOf<'_>, f: &FightSections<'_>, key: &KeyOf<'k>) {
    let c = &mut rows.damage;
    for d in &f.damage {
        let (attacker, attacker_team) = key(d.attacker);
        let (target, target_team) = key(d.target);
        c.round_id.push(r.round_id);
        c.session_date.push(r.session_date);
        c.t_ms.push(d.t_ms);
        c.attacker_guid.push(attacker.to_owned());
        c.target_guid.push(target.to_owned());
        c.attacker_team.push(attacker_team);
        c.target_team.push(target_team);
        c.damage.push(d.damage);
        c.effective.push(d.effective());
        c.means_of_death.push(d.means_of_death);
        c.weapon.push(weapons::of_mod(d.means_of_death));
        c.headshot.push(d.headshot);
        c.team_damage.push(d.team_damage);
        c.splash.push(d.splash);
    }
}

/// Shots per player and weapon (fired weapon → counted weapon), with the hits and headshots on
/// enemies of the same weapon (means of death → weapon): a hit is a damage event on an enemy
/// that took health.
fn add_weapon_fire<'k>(
    rows: &mut FightRows,
    r: &RoundOf<'_>,
    f: &FightSections<'_>,
    key: &KeyOf<'k>,
) {
    // (player, weapon) → (shots, hits, headshots)
    let mut per: BTreeMap<(&str, i16), (i32, i32, i32)> = BTreeMap::new();
    for s in &f.shots {
        let e = per
            .entry((key(s.player).0, weapons::of_fired(s.weapon)))
            .or_default();
        e.0 = e.0.saturating_add(s.shots);
    }
    for d in f
        .damage
        .iter()
        .filter(|d| !d.team_damage && d.effective() > 0)
    {
        let e = per
            .entry((key(d.attacker).0, weapons::of_mod(d.means_of_death)))
            .or_default();
        e.1 += 1;
        e.2 += i32::from(d.headshot);
    }
    let c = &mut rows.weapon_fire;
    for ((player, weapon), (shots, hits, headshots)) in per {
        c.round_id.push(r.round_id);
        c.session_date.push(r.session_date);
        c.player_guid.push(player.to_owned());
        c.weapon.push(weapon);
        c.shots.push(shots);
        c.hits.push(hits);
        c.headshots.push(headshots);
    }
}

fn add_revives<'k>(rows: &mut FightRows, r: &RoundOf<'_>, f: &FightSections<'_>, key: &KeyOf<'k>) {
    let c = &mut rows.revives;
    for v in &f.revives {
        let (revived, team) = key(v.revived);
        c.round_id.push(r.round_id);
        c.session_date.push(r.session_date);
        c.map_name.push(r.map_name.to_owned());
        c.t_ms.push(v.t_ms);
        c.revived_guid.push(revived.to_owned());
        c.medic_guid.push(v.medic.map(|m| key(m).0.to_owned()));
        c.team.push(team);
        c.x.push(v.pos[0]);
        c.y.push(v.pos[1]);
        c.z.push(v.pos[2]);
        c.down_ms.push(v.down_ms);
    }
}

fn add_objectives<'k>(
    rows: &mut FightRows,
    r: &RoundOf<'_>,
    f: &FightSections<'_>,
    key: &KeyOf<'k>,
) {
    let c = &mut rows.objectives;
    for o in &f.objectives {
        c.round_id.push(r.round_id);
        c.session_date.push(r.session_date);
        c.map_name.push(r.map_name.to_owned());
        c.t_ms.push(o.t_ms);
        c.player_guid.push(o.player.map(|p| key(p).0.to_owned()));
        c.team.push(o.team.as_str());
        c.action.push(o.action.as_str());
        c.target.push(field::text(&o.target));
        c.x.push(o.pos.map(|p| p[0]));
        c.y.push(o.pos.map(|p| p[1]));
        c.z.push(o.pos.map(|p| p[2]));
    }
}

/// One life: from a spawn (or revive) to the death that ended it, the next spawn, or the end of
/// this identity's time in the round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Life {
    pub start_ms: i32,
    pub end_ms: i32,
    pub revived: bool,
    pub ended_by_death: bool,
}

/// A player's unbroken time in one slot and team: one roster entry, or several in a row when
/// only the name changed (a rename is not a new life). Lives are counted per stint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stint {
    pub key: String,
    pub slot: i16,
    pub team: Team,
    pub indices: Vec<u16>,
    pub from_ms: i32,
    pub to_ms: i32,
}

/// Groups the roster entries into stints: an entry continues the stint of the same key, slot
/// and team that ended when it began.
pub fn stints(players: &[RosterEntry<'_>]) -> Vec<Stint> {
    let mut out: Vec<Stint> = Vec::new();
    for e in players {
        let key = player_key(&e.guid, &e.name);
        let open = out
            .iter_mut()
            .find(|s| s.key == key && s.slot == e.slot && s.team == e.team && s.to_ms == e.from_ms);
        match open {
            Some(s) => {
                s.indices.push(e.index);
                s.to_ms = e.to_ms;
            }
            None => out.push(Stint {
                key,
                slot: e.slot,
                team: e.team,
                indices: vec![e.index],
                from_ms: e.from_ms,
                to_ms: e.to_ms,
            }),
        }
    }
    out
}

/// The lives of one stint. Deaths are the kill lines (any kind) whose victim is this player
/// (same key and slot) within the stint. A death before the first spawn the file saw (the
/// player was alive when play began, or when the stint began) ends a life that started at
/// the stint's start.
pub fn lives_of(kills: &[KillRecord<'_>], f: &FightSections<'_>, e: &Stint) -> Vec<Life> {
    let key = &e.key;
    let mut spawns: Vec<(i32, bool)> = f
        .spawns
        .iter()
        .filter(|s| e.indices.contains(&s.player))
        .map(|s| (s.t_ms, s.revived))
        .collect();
    spawns.sort_unstable();
    let mut deaths: Vec<i32> = kills
        .iter()
        .filter(|k| k.victim.slot == e.slot)
        .filter_map(|k| Some((i32::try_from(k.time_ms?).ok()?, k)))
        .filter(|(t, _)| (e.from_ms..=e.to_ms).contains(t))
        .filter(|(_, k)| player_key(&k.victim.guid, &k.victim.name) == *key)
        .map(|(t, _)| t)
        .collect();
    deaths.sort_unstable();
    let mut lives = Vec::new();
    let first_spawn = spawns.first().map_or(i32::MAX, |s| s.0);
    let mut di = 0;
    if let Some(&d) = deaths.first().filter(|d| **d < first_spawn) {
        lives.push(Life {
            start_ms: e.from_ms,
            end_ms: d,
            revived: false,
            ended_by_death: true,
        });
    }
    for (k, &(start, revived)) in spawns.iter().enumerate() {
        let next_spawn = spawns.get(k + 1).map(|s| s.0);
        while deaths.get(di).is_some_and(|d| *d < start) {
            di += 1;
        }
        let death = deaths
            .get(di)
            .copied()
            .filter(|d| next_spawn.is_none_or(|n| *d <= n));
        let life = match death {
            Some(d) => {
                di += 1;
                Life {
                    start_ms: start,
                    end_ms: d,
                    revived,
                    ended_by_death: true,
                }
            }
            None => Life {
                start_ms: start,
                end_ms: next_spawn.unwrap_or(e.to_ms).min(e.to_ms).max(start),
                revived,
                ended_by_death: false,
            },
        };
        lives.push(life);
    }
    lives
}

fn add_lives(
    rows: &mut FightRows,
    r: &RoundOf<'_>,
    kills: &[KillRecord<'_>],
    f: &FightSections<'_>,
    e: &Stint,
) {
    let c = &mut rows.lives;
    for life in lives_of(kills, f, e) {
        c.round_id.push(r.round_id);
        c.session_date.push(r.session_date);
        c.player_guid.push(e.key.clone());
        c.team.push(e.team.as_str());
        c.start_ms.push(life.start_ms);
        c.end_ms.push(life.end_ms);
        c.revived.push(life.revived);
        c.ended_by_death.push(life.ended_by_death);
    }
}

/// Seconds per player, team and 64-unit cell.
fn add_presence<'k>(rows: &mut FightRows, r: &RoundOf<'_>, f: &FightSections<'_>, key: &KeyOf<'k>) {
    let mut per: BTreeMap<(&str, &'static str, i32, i32), i32> = BTreeMap::new();
    for second in &f.presence {
        for s in &second.samples {
            let (player, team) = key(s.player);
            let cell = (
                player,
                team,
                PresenceSample::cell(s.qx),
                PresenceSample::cell(s.qy),
            );
            *per.entry(cell).or_default() += 1;
        }
    }
    let c = &mut rows.presence;
    for ((player, team, x, y), seconds) in per {
        c.round_id.push(r.round_id);
        c.session_date.push(r.session_date);
        c.map_name.push(r.map_name.to_owned());
        c.player_guid.push(player.to_owned());
        c.team.push(team);
        c.cell_x.push(x);
        c.cell_y.push(y);
        c.seconds.push(seconds);
    }
}
