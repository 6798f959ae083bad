//! Resolving a round's (GUID, name) pairs to identities and players, once each, and the
//! v2 ally names (which carry no GUID) to identities of the round.

use std::collections::HashMap;

use super::{Identity, PlayerRoundStats, ResolvedAlly};
use crate::round_file::name::{decode_name, display_name};
use crate::round_file::{FormatVersion, KillKind, KillRecord, ParsedRound, Team, WORLD_SLOT};
use crate::stats::identity::{is_bot_guid, player_key};

/// Resolves (GUID, name) pairs to identities and players, once each.
#[derive(Default)]
pub(super) struct Resolver<'r> {
    by_pair: HashMap<(&'r [u8], &'r [u8]), u32>,
    by_key: HashMap<String, u32>,
    pub(super) identities: Vec<Identity>,
    pub(super) raw_names: Vec<&'r [u8]>,
    pub(super) players: Vec<PlayerRoundStats>,
    teams: Vec<Option<Team>>,
}

/// Each kill's (killer, victim) identities; no killer for a world kill.
pub(super) type Sides = Vec<(Option<u32>, u32)>;

/// A kill's allies as resolved, and the distinct players among them other than the killer.
pub(super) struct Allies {
    pub(super) resolved: Vec<ResolvedAlly>,
    pub(super) players: Vec<usize>,
    /// v2 ally names that match no player of the round.
    pub(super) unresolved: u32,
}

impl<'r> Resolver<'r> {
    pub(super) fn identity(&mut self, guid: &'r [u8], raw_name: &'r [u8]) -> u32 {
        if let Some(&id) = self.by_pair.get(&(guid, raw_name)) {
            return id;
        }
        let key = player_key(guid, raw_name);
        let player = match self.by_key.get(&key) {
            Some(&p) => p,
            None => {
                let p = self.players.len() as u32;
                self.players.push(PlayerRoundStats {
                    key: key.clone(),
                    ..PlayerRoundStats::default()
                });
                self.teams.push(None);
                self.by_key.insert(key, p);
                p
            }
        };
        self.players[player as usize].is_bot |= is_bot_guid(guid);
        let id = self.identities.len() as u32;
        self.identities.push(Identity {
            player,
            name: decode_name(raw_name).into_owned(),
            display_name: display_name(raw_name),
        });
        self.raw_names.push(raw_name);
        self.by_pair.insert((guid, raw_name), id);
        id
    }

    /// Records that the identity appeared (in line order): the latest name and team win.
    pub(super) fn appear(&mut self, id: u32, team: Option<Team>) {
        let identity = &self.identities[id as usize];
        let player = &mut self.players[identity.player as usize];
        if !identity.display_name.is_empty() && player.name != identity.display_name {
            player.name.clone_from(&identity.display_name);
        }
        let player = identity.player as usize;
        if let Some(team @ (Team::Axis | Team::Allies)) = team {
            self.teams[player] = Some(team);
        }
    }

    pub(super) fn player_of(&self, id: u32) -> usize {
        self.identities[id as usize].player as usize
    }

    /// Pass 1: killers and victims, so v2 ally names can be found whatever the line order.
    pub(super) fn sides(&mut self, round: &'r ParsedRound<'_>) -> Sides {
        let mut sides = Vec::with_capacity(round.kills.len());
        for kill in &round.kills {
            let killer =
                is_player_killer(kill).then(|| self.identity(&kill.killer.guid, &kill.killer.name));
            let victim = self.identity(&kill.victim.guid, &kill.victim.name);
            sides.push((killer, victim));
        }
        sides
    }

    /// Players who appear only in the fight sections' players list (a medic who neither killed
    /// nor died): known players of the round, with no kill counted. Players the kills named
    /// already keep the name and team of their kill lines.
    pub(super) fn roster_only(&mut self, round: &'r ParsedRound<'_>) {
        let Some(fight) = &round.fight else {
            return;
        };
        let from_kills: std::collections::HashSet<String> = self.by_key.keys().cloned().collect();
        for entry in &fight.players {
            if from_kills.contains(&player_key(&entry.guid, &entry.name)) {
                continue;
            }
            let id = self.identity(&entry.guid, &entry.name);
            self.appear(id, Some(entry.team));
        }
    }

    /// Identities by raw name, for v2 ally names.
    pub(super) fn by_name(&self) -> HashMap<&'r [u8], Vec<u32>> {
        let mut by_name: HashMap<&[u8], Vec<u32>> = HashMap::new();
        for (id, raw) in self.raw_names.iter().enumerate() {
            by_name.entry(raw).or_default().push(id as u32);
        }
        by_name
    }

    /// A kill's allies: by GUID and name, or for v2 by name alone, preferring one on the
    /// killer's team.
    pub(super) fn allies(
        &mut self,
        format: FormatVersion,
        kill: &'r KillRecord<'_>,
        killer: Option<u32>,
        by_name: &HashMap<&[u8], Vec<u32>>,
    ) -> Allies {
        let mut allies = Allies {
            resolved: Vec::with_capacity(kill.supporting_allies.len()),
            players: Vec::with_capacity(kill.supporting_allies.len()),
            unresolved: 0,
        };
        let killer_player = killer.map(|k| self.player_of(k));
        for ally in &kill.supporting_allies {
            let identity = if ally.guid.is_empty() && format == FormatVersion::V2 {
                by_name.get(ally.name.as_ref()).and_then(|ids| {
                    ids.iter()
                        .copied()
                        .find(|&id| self.teams[self.player_of(id)] == Some(kill.killer.team))
                        .or_else(|| ids.first().copied())
                })
            } else {
                let id = self.identity(&ally.guid, &ally.name);
                self.appear(id, None);
                Some(id)
            };
            match identity {
                Some(id) => {
                    let p = self.player_of(id);
                    if killer_player != Some(p) && !allies.players.contains(&p) {
                        allies.players.push(p);
                    }
                    allies.resolved.push(ResolvedAlly::Known(id));
                }
                None => {
                    allies.unresolved += 1;
                    allies
                        .resolved
                        .push(ResolvedAlly::Unknown(display_name(&ally.name)));
                }
            }
        }
        allies
    }
}

pub(super) fn is_player_killer(kill: &KillRecord<'_>) -> bool {
    kill.kind != KillKind::World && kill.killer.slot != WORLD_SLOT
}
