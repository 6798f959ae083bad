//! Writes v3 round files. Used by tests, benches and the match simulator; the game server writes
//! the same format from Lua.

use std::io::Write;

use super::escape::{escape, escape_guid};
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
    let _ = writeln!(out, "# END kills={}", kills.len());
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
