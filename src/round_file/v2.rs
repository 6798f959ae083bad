//! Parser for files of the public "Proximity Tracker v2" module
//! (layout and every quirk in docs/round-file-format.md).

use std::borrow::Cow;

use chrono::NaiveDateTime;

use super::{
    field, lines, AllyRef, Combatant, FileRejection, FormatVersion, HeatmapCell, KillKind,
    KillRecord, LineIssue, ParsedRound, RoundFlag, RoundHeader, Team,
};

const KILL_FIELDS: usize = 22;
/// What v2 writes when the killer had no ally nearby.
const NONE: &[u8] = b"NONE";

/// End time, map and 0-based round from `YYYY-MM-DD-HHMMSS-<map>-round-<N>_proximity.txt`.
pub fn parse_v2_file_name(file_name: &str) -> Option<(NaiveDateTime, String, i16)> {
    let stem = file_name.strip_suffix("_proximity.txt")?;
    let (before, round) = stem.rsplit_once("-round-")?;
    let round: i16 = round.parse().ok()?;
    let stamp = before.get(..17)?;
    let map = before.get(18..)?;
    if before.as_bytes().get(17) != Some(&b'-') || map.is_empty() {
        return None;
    }
    let ended = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d-%H%M%S").ok()?;
    Some((ended, map.to_owned(), round))
}

pub(super) fn parse<'a>(
    bytes: &'a [u8],
    file_name: &str,
) -> Result<ParsedRound<'a>, FileRejection> {
    let mut round = ParsedRound::empty(FormatVersion::V2, bytes.len());
    let mut header_map: Option<String> = None;
    let mut header_round: Option<i16> = None;
    let mut raw_allies: Vec<&'a [u8]> = Vec::new();
    let mut in_heatmap = false;

    for line in lines(bytes).skip(1) {
        let text = line.text;
        if text.is_empty() {
            continue;
        }
        if let Some(comment) = text.strip_prefix(b"#") {
            let comment = comment.strip_prefix(b" ").unwrap_or(comment);
            if let Some(map) = comment.strip_prefix(b"map=") {
                header_map = Some(field::text(map));
            } else if let Some(value) = comment.strip_prefix(b"round=") {
                header_round = Some(field::int(value).ok_or_else(|| FileRejection::BadHeader {
                    line: line.number,
                    reason: format!("round is not a number: {:?}", field::text(value)),
                })?);
            } else if comment == b"HEATMAP" {
                in_heatmap = true;
                round.heatmap.get_or_insert_with(Vec::new);
            }
            continue;
        }
        if !line.terminated {
            round.rejected.push(LineIssue::new(
                line.number,
                text,
                "line cut off (the file ends without a newline)",
            ));
            round.flag(RoundFlag::Truncated);
            continue;
        }
        if in_heatmap {
            match parse_cell(text) {
                Ok(cell) => round.heatmap.get_or_insert_with(Vec::new).push(cell),
                Err(reason) => round
                    .rejected
                    .push(LineIssue::new(line.number, text, reason)),
            }
            continue;
        }
        match parse_kill(line.number, text) {
            Ok((kill, allies, realigned)) => {
                if realigned {
                    round.flag(RoundFlag::Realigned);
                    round.warnings.push(LineIssue::new(
                        line.number,
                        text,
                        "a name contains '|': columns realigned",
                    ));
                }
                round.kills.push(kill);
                raw_allies.push(allies);
            }
            Err(reason) => round
                .rejected
                .push(LineIssue::new(line.number, text, reason)),
        }
    }

    resolve_ally_names(&mut round.kills, &raw_allies);
    round.header = header(file_name, header_map, header_round, &mut round)?;
    if round.heatmap.is_none() {
        round.flag(RoundFlag::NoHeatmap);
    }
    if !round.rejected.is_empty() {
        round.flag(RoundFlag::LinesRejected);
    }
    Ok(round)
}

fn header(
    file_name: &str,
    header_map: Option<String>,
    header_round: Option<i16>,
    round: &mut ParsedRound<'_>,
) -> Result<RoundHeader, FileRejection> {
    let from_name = parse_v2_file_name(file_name);
    let file_map_name = from_name.as_ref().map(|(_, map, _)| map.clone());
    let map_name = header_map
        .filter(|m| !m.is_empty())
        .or_else(|| file_map_name.clone())
        .ok_or(FileRejection::MissingHeader("map"))?;
    if file_map_name.as_ref().is_some_and(|m| *m != map_name) {
        round.flag(RoundFlag::MapMismatch);
    }
    let zero_based = header_round
        .or(from_name.as_ref().map(|(_, _, r)| *r))
        .ok_or(FileRejection::MissingHeader("round"))?;
    if !(0..1000).contains(&zero_based) {
        return Err(FileRejection::BadHeader {
            line: 3,
            reason: format!("round {zero_based} is out of range"),
        });
    }
    Ok(RoundHeader {
        map_name,
        file_map_name,
        round_number: zero_based + 1,
        ended_local: from_name.map(|(ended, _, _)| ended),
        ..RoundHeader::default()
    })
}

fn parse_cell(text: &[u8]) -> Result<HeatmapCell, String> {
    let mut parts = text.split(|&b| b == b'|');
    let mut next = |what: &str| -> Result<i32, String> {
        parts
            .next()
            .and_then(field::int)
            .ok_or_else(|| format!("heatmap line: {what} is not a number"))
    };
    let cell = HeatmapCell {
        grid_x: next("grid_x")?,
        grid_y: next("grid_y")?,
        axis_kills: next("axis_kills")?,
        allies_kills: next("allies_kills")?,
    };
    if parts.next().is_some() {
        return Err("heatmap line has more than 4 fields".to_owned());
    }
    Ok(cell)
}

/// Parses one kill line. Returns the kill, its raw supporting_allies field (resolved once all
/// names of the round are known) and whether the columns had to be realigned.
fn parse_kill(line: u32, text: &[u8]) -> Result<(KillRecord<'_>, &[u8], bool), String> {
    let fields: Vec<&[u8]> = text.split(|&b| b == b'|').collect();
    if fields.len() < KILL_FIELDS {
        return Err(format!("{} fields, expected {KILL_FIELDS}", fields.len()));
    }
    if fields.len() == KILL_FIELDS {
        return build_kill(line, text, &fields, 4, 11).map(|(k, a)| (k, a, false));
    }
    // Names containing '|' shift every later column. Find the killer team (i) and victim team
    // (j) columns for which the whole rest of the line has the right shape.
    let n = fields.len();
    for i in 4..n {
        if !anchors_team_block(&fields, i) || !fields.get(i + 5).is_some_and(|g| plausible_guid(g))
        {
            continue;
        }
        for j in (i + 7)..n.saturating_sub(10) {
            if anchors_team_block(&fields, j) && anchors_tail(&fields, j) {
                return build_kill(line, text, &fields, i, j).map(|(k, a)| (k, a, true));
            }
        }
    }
    Err(format!(
        "{} fields, expected {KILL_FIELDS}, and no realignment fits",
        fields.len()
    ))
}

/// `TEAM|x|y|z|slot` starting at `at`.
fn anchors_team_block(f: &[&[u8]], at: usize) -> bool {
    f.len() > at + 4
        && matches!(f[at], b"AXIS" | b"ALLIES")
        && f[at + 1..at + 4].iter().all(|v| field::float(v).is_some())
}

/// A GUID column: 32 hex, OMNIBOT…, UNKNOWN or a short token; never a team or a number.
fn plausible_guid(raw: &[u8]) -> bool {
    !matches!(raw, b"AXIS" | b"ALLIES")
        && field::float(raw).is_none()
        && raw.len() <= 64
        && raw
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// `distance|weapon|mod|NvM|ka|va|allies…` after the victim block at `j`.
fn anchors_tail(f: &[&[u8]], j: usize) -> bool {
    f.len() >= j + 11
        && field::float(f[j + 4]).is_some()
        && field::int::<i16>(f[j + 5]).is_some()
        && field::int::<i16>(f[j + 6]).is_some()
        && parse_engagement(f[j + 7]).is_some()
        && field::int::<u16>(f[j + 8]).is_some()
        && field::int::<u16>(f[j + 9]).is_some()
}

fn parse_engagement(raw: &[u8]) -> Option<(u16, u16)> {
    let v = memchr::memchr(b'v', raw)?;
    Some((field::int(&raw[..v])?, field::int(&raw[v + 1..])?))
}

/// Joins `f[from..to]` with '|' (a name that contained '|'), borrowing when it is one field.
fn joined<'a>(f: &[&'a [u8]], from: usize, to: usize) -> Cow<'a, [u8]> {
    if to == from + 1 {
        Cow::Borrowed(f[from])
    } else {
        Cow::Owned(f[from..to].join(&b'|'))
    }
}

/// Builds the kill with the killer team at column `i` and the victim team at column `j`.
fn build_kill<'a>(
    line: u32,
    text: &'a [u8],
    f: &[&'a [u8]],
    i: usize,
    j: usize,
) -> Result<(KillRecord<'a>, &'a [u8]), String> {
    let game_time = field::int(f[0]).ok_or("game_time is not a number")?;
    let killer_slot = field::int(f[1]).ok_or("killer_slot is not a number")?;
    let killer = Combatant {
        slot: killer_slot,
        guid: Cow::Borrowed(f[2]),
        name: joined(f, 3, i),
        team: Team::parse(f[i]).ok_or("killer_team is not AXIS or ALLIES")?,
        pos: position(&f[i + 1..i + 4]).ok_or("killer position is not a number")?,
    };
    let victim = Combatant {
        slot: field::int(f[i + 4]).ok_or("victim_slot is not a number")?,
        guid: Cow::Borrowed(f[i + 5]),
        name: joined(f, i + 6, j),
        team: Team::parse(f[j]).ok_or("victim_team is not AXIS or ALLIES")?,
        pos: position(&f[j + 1..j + 4]).ok_or("victim position is not a number")?,
    };
    let distance = field::float(f[j + 4]).ok_or("distance is not a number")?;
    let weapon = field::int(f[j + 5]).ok_or("weapon is not a number")?;
    let means_of_death = field::int(f[j + 6]).ok_or("mod is not a number")?;
    parse_engagement(f[j + 7]).ok_or("engagement_type is not of the form NvM")?;
    let killer_allies = field::int(f[j + 8]).ok_or("killer_allies is not a count")?;
    let victim_allies = field::int(f[j + 9]).ok_or("victim_allies is not a count")?;
    // Ally names may themselves contain '|': the allies are the rest of the line.
    let allies_start = f[..j + 10].iter().map(|x| x.len() + 1).sum::<usize>();
    let allies = text.get(allies_start..).unwrap_or_default();
    let kind = if killer.slot == victim.slot {
        KillKind::Suicide
    } else if killer.team == victim.team {
        KillKind::TeamKill
    } else {
        KillKind::Kill
    };
    Ok((
        KillRecord {
            line,
            game_time,
            time_ms: None,
            kind,
            killer,
            victim,
            distance,
            weapon,
            means_of_death,
            killer_allies,
            victim_allies,
            supporting_allies: Vec::new(),
        },
        allies,
    ))
}

fn position(raw: &[&[u8]]) -> Option<[f32; 3]> {
    Some([
        field::float(raw[0])?,
        field::float(raw[1])?,
        field::float(raw[2])?,
    ])
}

/// Splits each kill's v2 `supporting_allies` into names, using the names seen in the round to
/// keep a name that contains ',' (or is literally `NONE`) in one piece, whatever the line order.
fn resolve_ally_names<'a>(kills: &mut [KillRecord<'a>], raw_allies: &[&'a [u8]]) {
    let splits: Vec<Vec<&'a [u8]>> = {
        let mut known: Vec<&[u8]> = kills
            .iter()
            .flat_map(|k| [k.killer.name.as_ref(), k.victim.name.as_ref()])
            .collect();
        known.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        known.dedup();
        raw_allies
            .iter()
            .zip(kills.iter())
            .map(|(field, kill)| split_allies(field, &known, kill.killer_allies))
            .collect()
    };
    for (kill, names) in kills.iter_mut().zip(splits) {
        kill.supporting_allies = names
            .into_iter()
            .map(|name| AllyRef {
                guid: Cow::Borrowed(b""),
                name: Cow::Borrowed(name),
            })
            .collect();
    }
}

/// Splits a v2 ally list. `known` is sorted longest first.
pub(crate) fn split_allies<'f>(
    field: &'f [u8],
    known: &[&[u8]],
    killer_allies: u16,
) -> Vec<&'f [u8]> {
    if field.is_empty() {
        return Vec::new();
    }
    if field == NONE {
        // "NONE" means no allies, unless the killer had an ally and a player is called NONE.
        let someone_is_none = known.contains(&NONE);
        return if killer_allies > 0 && someone_is_none {
            vec![field]
        } else {
            Vec::new()
        };
    }
    let mut names = Vec::new();
    let mut pos = 0;
    while pos < field.len() {
        let rest = &field[pos..];
        let hit = known.iter().find(|name| {
            !name.is_empty()
                && rest.starts_with(name)
                && (rest.len() == name.len() || rest[name.len()] == b',')
        });
        let len = match hit {
            Some(name) => name.len(),
            None => memchr::memchr(b',', rest).unwrap_or(rest.len()),
        };
        names.push(&rest[..len]);
        pos += len + 1;
    }
    names
}
