//! Writes round files: v3 (ours; the game server writes the same format from Lua) and v2 (as the
//! public "Proximity Tracker v2" module writes it). Used by the synthetic rounds of tests and
//! benches and by the match simulator.

use std::io::Write;

use super::escape::{escape, escape_guid};
use super::fight::{digit64_char, FightSections, Section};
use super::{AllyRef, Combatant, KillRecord, RoundHeader};

/// Serialises a round as a complete v3 file, end marker included.
pub fn write_v3(header: &RoundHeader, incomplete: bool, kills: &[KillRecord<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + kills.len() * 200);
    write_v3_into(&mut out, header, incomplete, kills);
    out
}

pub fn write_v3_into(
    out: &mut Vec<u8>,
    header: &RoundHeader,
    incomplete: bool,
    kills: &[KillRecord<'_>],
) {
    write_v3_head_and_kills(out, header, incomplete, kills, None);
    let _ = writeln!(out, "# END kills={}", kills.len());
}

/// A tracker 1.2 file: header with `# tracker=1.2`, kills, every fight section (each with its
/// `# SECTION` and `# FORMAT:` lines, in the documented order) and the end marker counting
/// them all.
pub fn write_v3_fight(
    header: &RoundHeader,
    incomplete: bool,
    kills: &[KillRecord<'_>],
    fight: &FightSections<'_>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024 + kills.len() * 200 + fight.damage.len() * 24);
    write_v3_head_and_kills(&mut out, header, incomplete, kills, Some("1.2"));
    write_fight_sections(&mut out, fight);
    let _ = write!(out, "# END kills={}", kills.len());
    for section in Section::ALL {
        let _ = write!(out, " {}={}", section.name(), fight.len(section));
    }
    out.push(b'\n');
    out
}

/// The fight sections, as tracker 1.2 writes them (docs/round-file-format.md).
pub fn write_fight_sections(out: &mut Vec<u8>, fight: &FightSections<'_>) {
    let opt = |v: Option<i64>| v.map_or(String::new(), |v| v.to_string());
    for section in Section::ALL {
        let _ = writeln!(out, "# SECTION {}", section.name());
        let _ = writeln!(out, "# FORMAT: {}", section.format_line());
        match section {
            Section::Players => {
                for p in &fight.players {
                    let _ = write!(out, "{}|{}|", p.index, p.slot);
                    out.extend_from_slice(escape_guid(&p.guid).as_bytes());
                    out.push(b'|');
                    out.extend_from_slice(escape(&p.name).as_bytes());
                    let _ = writeln!(out, "|{}|{}|{}", p.team.as_str(), p.from_ms, p.to_ms);
                }
            }
            Section::Damage => {
                for d in &fight.damage {
                    let flags = [(d.headshot, 'h'), (d.team_damage, 't'), (d.splash, 's')]
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, c)| *c)
                        .collect::<String>();
                    let _ = writeln!(
                        out,
                        "{}|{}|{}|{}|{}|{}|{flags}",
                        d.t_ms, d.attacker, d.target, d.damage, d.health, d.means_of_death
                    );
                }
            }
            Section::Shots => {
                for s in &fight.shots {
                    let _ = writeln!(out, "{}|{}|{}", s.player, s.weapon, s.shots);
                }
            }
            Section::Revives => {
                for r in &fight.revives {
                    let [x, y, z] = r.pos;
                    let _ = writeln!(
                        out,
                        "{}|{}|{}|{x:.1}|{y:.1}|{z:.1}|{}",
                        r.t_ms,
                        r.revived,
                        opt(r.medic.map(i64::from)),
                        opt(r.down_ms.map(i64::from))
                    );
                }
            }
            Section::Objectives => {
                for o in &fight.objectives {
                    let _ = write!(
                        out,
                        "{}|{}|{}|{}|",
                        o.t_ms,
                        opt(o.player.map(i64::from)),
                        o.team.as_str(),
                        o.action.as_str()
                    );
                    out.extend_from_slice(escape(&o.target).as_bytes());
                    match o.pos {
                        Some([x, y, z]) => {
                            let _ = writeln!(out, "|{x:.1}|{y:.1}|{z:.1}");
                        }
                        None => out.extend_from_slice(b"|||\n"),
                    }
                }
            }
            Section::Spawns => {
                for s in &fight.spawns {
                    let _ = writeln!(out, "{}|{}|{}", s.t_ms, s.player, u8::from(s.revived));
                }
            }
            Section::Presence => {
                for second in &fight.presence {
                    let _ = write!(out, "{}|", second.t_s);
                    for s in &second.samples {
                        for v in [s.player, s.qx, s.qy] {
                            out.push(digit64_char(v >> 6));
                            out.push(digit64_char(v));
                        }
                    }
                    out.push(b'\n');
                }
            }
        }
    }
}

fn write_v3_head_and_kills(
    out: &mut Vec<u8>,
    header: &RoundHeader,
    incomplete: bool,
    kills: &[KillRecord<'_>],
    tracker: Option<&str>,
) {
    let text =
        |value: &Option<String>| escape(value.as_deref().unwrap_or("").as_bytes()).into_owned();
    let number = |value: Option<i64>| value.unwrap_or(0);
    // Writing into a Vec cannot fail.
    let _ = writeln!(out, "# ETPROX_ROUND v3");
    let _ = writeln!(out, "# server_id={}", text(&header.server_id));
    if header.server_name.is_some() {
        let _ = writeln!(out, "# server_name={}", text(&header.server_name));
    }
    let _ = writeln!(out, "# map={}", escape(header.map_name.as_bytes()));
    let _ = writeln!(out, "# gametype={}", header.gametype.unwrap_or(0));
    let _ = writeln!(out, "# round={}", header.round_number);
    let _ = writeln!(out, "# round_id={}", text(&header.round_id));
    let _ = writeln!(out, "# start_unix={}", number(header.started_unix));
    let _ = writeln!(out, "# end_unix={}", number(header.ended_unix));
    let status = if incomplete { "incomplete" } else { "complete" };
    let _ = writeln!(out, "# status={status}");
    let family = header.mod_family.as_deref().unwrap_or("etlegacy");
    let _ = writeln!(out, "# mod_family={}", escape(family.as_bytes()));
    if let Some(tracker) = tracker {
        let _ = writeln!(out, "# tracker={}", escape(tracker.as_bytes()));
    }
    let _ = writeln!(
        out,
        "# FORMAT: t_ms|kind|killer_slot|killer_guid|killer_name|killer_team|killer_x|killer_y|killer_z|victim_slot|victim_guid|victim_name|victim_team|victim_x|victim_y|victim_z|distance|weapon|mod|killer_allies|victim_allies|supporting_allies"
    );
    for kill in kills {
        let _ = write!(
            out,
            "{}|{}|",
            kill.time_ms.unwrap_or(kill.game_time),
            kill.kind.as_str()
        );
        write_combatant(out, &kill.killer);
        write_combatant(out, &kill.victim);
        let _ = write!(
            out,
            "{:.1}|{}|{}|{}|{}|",
            kill.distance, kill.weapon, kill.means_of_death, kill.killer_allies, kill.victim_allies
        );
        for (i, ally) in kill.supporting_allies.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let AllyRef { guid, name } = ally;
            out.extend_from_slice(escape_guid(guid).as_bytes());
            out.push(b':');
            out.extend_from_slice(escape(name).as_bytes());
        }
        out.push(b'\n');
    }
}

fn write_combatant(out: &mut Vec<u8>, side: &Combatant<'_>) {
    let _ = write!(out, "{}|", side.slot);
    out.extend_from_slice(escape_guid(&side.guid).as_bytes());
    out.push(b'|');
    out.extend_from_slice(escape(&side.name).as_bytes());
    let _ = write!(
        out,
        "|{}|{:.1}|{:.1}|{:.1}|",
        side.team.as_str(),
        side.pos[0],
        side.pos[1],
        side.pos[2]
    );
}

/// One side of a v2 kill line: written raw, as the v2 module does (no escaping).
#[derive(Debug, Clone, Copy)]
pub struct V2Side<'a> {
    pub slot: i64,
    pub guid: &'a [u8],
    pub name: &'a [u8],
    /// `AXIS`, `ALLIES`, ...
    pub team: &'a str,
    pub pos: [f64; 3],
}

/// One kill line of a v2 file.
#[derive(Debug, Clone)]
pub struct V2Kill<'a> {
    /// The module's offset clock (milliseconds).
    pub game_time: i64,
    pub killer: V2Side<'a>,
    pub victim: V2Side<'a>,
    pub distance: f64,
    pub weapon: i64,
    pub means_of_death: i64,
    /// Teammates near the killer and the victim; the engagement is `(killer+1)v(victim+1)`.
    pub killer_allies: usize,
    pub victim_allies: usize,
    /// Names of the killer's allies, joined with `,` (or `NONE`).
    pub ally_names: Vec<&'a [u8]>,
}

/// A v2 heatmap cell: `(grid_x, grid_y)`, axis kills, allies kills.
pub type V2Cell = ((i64, i64), u32, u32);

/// A complete v2 file: header, kill lines, and the `# HEATMAP` section with `cells`.
pub fn write_v2(map: &str, round: i64, kills: &[V2Kill<'_>], cells: &[V2Cell]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + kills.len() * 160);
    let _ = write!(
        out,
        "# PROXIMITY_TRACKER_V2\n# map={map}\n# round={round}\n"
    );
    out.extend_from_slice(
        b"# FORMAT: game_time|killer_slot|killer_guid|killer_name|killer_team|killer_x|killer_y|killer_z|victim_slot|victim_guid|victim_name|victim_team|victim_x|victim_y|victim_z|distance|weapon|mod|engagement_type|killer_allies|victim_allies|supporting_allies\n",
    );
    for kill in kills {
        write_v2_kill(&mut out, kill);
    }
    out.extend_from_slice(b"\n# HEATMAP\n# grid_x|grid_y|axis_kills|allies_kills\n");
    for ((x, y), axis, allies) in cells {
        let _ = writeln!(out, "{x}|{y}|{axis}|{allies}");
    }
    out
}

fn write_v2_kill(out: &mut Vec<u8>, kill: &V2Kill<'_>) {
    let _ = write!(out, "{}|", kill.game_time);
    for side in [&kill.killer, &kill.victim] {
        let _ = write!(out, "{}|", side.slot);
        out.extend_from_slice(side.guid);
        out.push(b'|');
        out.extend_from_slice(side.name);
        let [x, y, z] = side.pos;
        let _ = write!(out, "|{}|{x:.1}|{y:.1}|{z:.1}|", side.team);
    }
    let (ka, va) = (kill.killer_allies, kill.victim_allies);
    let _ = write!(
        out,
        "{:.1}|{}|{}|{}v{}|{ka}|{va}|",
        kill.distance,
        kill.weapon,
        kill.means_of_death,
        ka + 1,
        va + 1
    );
    if kill.ally_names.is_empty() {
        out.extend_from_slice(b"NONE");
    } else {
        out.extend_from_slice(&kill.ally_names.join(&b","[..]));
    }
    out.push(b'\n');
}

/// The v2 module's file name: `<ended, local>-<map>-round-<round>_proximity.txt`.
pub fn v2_file_name(ended: chrono::NaiveDateTime, map: &str, round: i64) -> String {
    format!(
        "{}-{map}-round-{round}_proximity.txt",
        ended.format("%Y-%m-%d-%H%M%S")
    )
}
