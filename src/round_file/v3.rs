//! Parser for our own v3 format (docs/round-file-format.md).

use super::escape::unescape;
use super::fight::{FightSections, Section};
use super::{
    field, lines, AllyRef, Combatant, FileRejection, FormatVersion, KillKind, KillRecord, Line,
    LineIssue, ParsedRound, RoundFlag, RoundHeader, Team,
};

const KILL_FIELDS: usize = 22;

pub(super) fn parse<'a>(
    bytes: &'a [u8],
    file_name: &str,
) -> Result<ParsedRound<'a>, FileRejection> {
    let mut round = ParsedRound::empty(FormatVersion::V3, bytes.len());
    let mut header = HeaderFields::default();
    let mut body = Body::default();
    for line in lines(bytes).skip(1) {
        body.read(&mut round, &mut header, line)?;
    }
    round.header = header.finish(file_name)?;
    round.tracker = header.tracker.clone();
    if header.incomplete {
        round.flag(RoundFlag::Incomplete);
    }
    check_end_marker(&mut round, &body);
    if let Some(fight) = body.fight.take() {
        round.fight = Some(fight);
    }
    if !round.rejected.is_empty() {
        round.flag(RoundFlag::LinesRejected);
    }
    Ok(round)
}

/// Where the reader is in the lines after the first: header, kill lines, a fight section, or
/// past the end.
#[derive(Default)]
struct Body<'a> {
    /// The end marker, once read.
    end_count: Option<EndMarker>,
    /// A kill line or the `# FORMAT:` line was seen: header lines are no longer allowed.
    in_kills: bool,
    /// The section being read (after `# SECTION <name>`): a known one, or an unknown one whose
    /// lines are skipped.
    section: Option<Option<Section>>,
    /// Data lines read per known section, used or rejected (compared with the end marker).
    section_lines: [usize; 7],
    /// Rejected lines that belong to fight sections (not counted as kill lines).
    rejected_in_sections: usize,
    fight: Option<FightSections<'a>>,
}

/// `# END kills=N [<section>=N …]`.
struct EndMarker {
    line: u32,
    kills: usize,
    sections: Vec<(Vec<u8>, usize)>,
}

impl<'a> Body<'a> {
    /// Sorts one line into the header, the kills, the end marker or the rejected lines.
    // Inlined into the loop, as the body of `parse` was: this runs once per line.
    #[inline(always)]
    fn read(
        &mut self,
        round: &mut ParsedRound<'a>,
        header: &mut HeaderFields,
        line: Line<'a>,
    ) -> Result<(), FileRejection> {
        let text = line.text;
        if let Some(EndMarker { line: line_no, .. }) = self.end_count {
            if !text.is_empty() {
                let reason = format!("text after the end marker on line {line_no}");
                round
                    .rejected
                    .push(LineIssue::new(line.number, text, reason));
            }
            return Ok(());
        }
        if text.is_empty() {
            return Ok(());
        }
        if let Some(rest) = text.strip_prefix(b"# END kills=") {
            self.end_count = read_end_marker(round, line, rest);
            return Ok(());
        }
        if let Some(rest) = text.strip_prefix(b"# ") {
            return self.read_comment(round, header, line, rest);
        }
        if let Some(section) = self.section {
            self.read_fight_line(round, section, line);
            return Ok(());
        }
        self.in_kills = true;
        read_kill_line(round, line);
        Ok(())
    }

    /// A data line of a fight section: used, rejected, or skipped (unknown section).
    fn read_fight_line(
        &mut self,
        round: &mut ParsedRound<'a>,
        section: Option<Section>,
        line: Line<'a>,
    ) {
        let Some(section) = section else {
            return;
        };
        self.section_lines[section.index()] += 1;
        let reason = if !line.terminated {
            round.flag(RoundFlag::Truncated);
            "line cut off (the file ends without a newline)".to_owned()
        } else {
            let fight = self.fight.get_or_insert_with(FightSections::default);
            match fight.read_line(section, line) {
                Ok(()) => return,
                Err(reason) => format!("{} line: {reason}", section.name()),
            }
        };
        self.rejected_in_sections += 1;
        round
            .rejected
            .push(LineIssue::new(line.number, line.text, reason));
    }

    /// `# SECTION <name>`: the lines that follow belong to that section.
    fn start_section(&mut self, round: &mut ParsedRound<'_>, line: Line<'_>, name: &[u8]) {
        self.in_kills = true;
        let section = Section::parse(name);
        match section {
            Some(_) => {
                self.fight.get_or_insert_with(FightSections::default);
            }
            None => round.warnings.push(LineIssue::new(
                line.number,
                line.text,
                format!(
                    "unknown section {:?}: its lines are skipped (written by a newer tracker?)",
                    field::text(name)
                ),
            )),
        }
        self.section = Some(section);
    }

    /// A `# ` line that is not the end marker: the column line, or a header line (an error
    /// among the kills).
    fn read_comment(
        &mut self,
        round: &mut ParsedRound<'_>,
        header: &mut HeaderFields,
        line: Line<'_>,
        rest: &[u8],
    ) -> Result<(), FileRejection> {
        if rest.starts_with(b"FORMAT:") {
            self.in_kills = true;
            return Ok(());
        }
        if let Some(name) = rest.strip_prefix(b"SECTION ") {
            self.start_section(round, line, name);
            return Ok(());
        }
        if let Some(section) = self.section {
            let name = section.map_or("unknown section", Section::name);
            let issue = LineIssue::new(
                line.number,
                line.text,
                format!("header line among the {name} lines"),
            );
            round.rejected.push(issue);
            self.rejected_in_sections += 1;
            return Ok(());
        }
        if self.in_kills {
            let issue = LineIssue::new(line.number, line.text, "header line among the kill lines");
            round.rejected.push(issue);
            return Ok(());
        }
        header.read(line, rest)
    }
}

/// `# END kills=N [<section>=N …]`: its line number and counts, or None (and a rejected line)
/// when cut off or without a kill count. A section count that is not `name=N` is a warning.
fn read_end_marker(round: &mut ParsedRound<'_>, line: Line<'_>, rest: &[u8]) -> Option<EndMarker> {
    let mut parts = rest.split(|&b| b == b' ');
    let kills = parts.next().and_then(field::int::<usize>);
    let reason = match kills {
        Some(kills) if line.terminated => {
            let mut sections = Vec::new();
            for part in parts.filter(|p| !p.is_empty()) {
                let count = memchr::memchr(b'=', part)
                    .and_then(|eq| Some((&part[..eq], field::int::<usize>(&part[eq + 1..])?)));
                match count {
                    Some((name, n)) => sections.push((name.to_vec(), n)),
                    None => round.warnings.push(LineIssue::new(
                        line.number,
                        line.text,
                        format!(
                            "end marker: {:?} is not <section>=<count>; ignored",
                            field::text(part)
                        ),
                    )),
                }
            }
            return Some(EndMarker {
                line: line.number,
                kills,
                sections,
            });
        }
        Some(_) => "end marker cut off",
        None => "end marker without a kill count",
    };
    round
        .rejected
        .push(LineIssue::new(line.number, line.text, reason));
    None
}

/// One kill line: a kill, or a rejected line (also when the file ends in its middle).
#[inline(always)]
fn read_kill_line<'a>(round: &mut ParsedRound<'a>, line: Line<'a>) {
    if !line.terminated {
        round.rejected.push(LineIssue::new(
            line.number,
            line.text,
            "line cut off (the file ends without a newline)",
        ));
        round.flag(RoundFlag::Truncated);
        return;
    }
    match parse_kill(line) {
        Ok(kill) => round.kills.push(kill),
        Err(reason) => round
            .rejected
            .push(LineIssue::new(line.number, line.text, reason)),
    }
}

/// Compares the end marker's counts with the kill lines and the lines of each fight section
/// read; no marker means truncated. A section the marker does not count must be empty, and a
/// section it counts but the file lacks must count 0.
fn check_end_marker(round: &mut ParsedRound<'_>, body: &Body<'_>) {
    let Some(end) = &body.end_count else {
        round.flag(RoundFlag::Truncated);
        return;
    };
    round.has_end_marker = true;
    let count = end.kills;
    let lines_seen = round.kills.len() + round.rejected.len() - body.rejected_in_sections;
    if count != lines_seen {
        round.flag(RoundFlag::CountMismatch);
        round.warnings.push(LineIssue::new(
            0,
            b"",
            format!("end marker says {count} kills, the file has {lines_seen} kill lines"),
        ));
    }
    for section in Section::ALL {
        let name = section.name();
        let said = end
            .sections
            .iter()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, c)| *c);
        let seen = body.section_lines[section.index()];
        if said.unwrap_or(0) != seen {
            round.flag(RoundFlag::CountMismatch);
            let said = said.map_or("nothing".to_owned(), |c| c.to_string());
            round.warnings.push(LineIssue::new(
                end.line,
                b"",
                format!("end marker says {said} for {name}, the file has {seen} {name} lines"),
            ));
        }
    }
}

#[derive(Default)]
struct HeaderFields {
    server_id: Option<String>,
    server_name: Option<String>,
    map: Option<String>,
    gametype: Option<i16>,
    round: Option<i16>,
    round_id: Option<String>,
    start_unix: Option<i64>,
    end_unix: Option<i64>,
    status: Option<bool>,
    incomplete: bool,
    mod_family: Option<String>,
    tracker: Option<String>,
}

impl HeaderFields {
    fn read(&mut self, line: Line<'_>, rest: &[u8]) -> Result<(), FileRejection> {
        let bad = |reason: String| FileRejection::BadHeader {
            line: line.number,
            reason,
        };
        let Some(eq) = memchr::memchr(b'=', rest) else {
            // A free comment line: allowed, ignored.
            return Ok(());
        };
        let key = &rest[..eq];
        let raw_value = &rest[eq + 1..];
        let value = unescape(raw_value).map_err(|e| bad(e.to_string()))?;
        let text = || field::text(&value);
        let number = |what: &str| {
            field::int::<i64>(&value)
                .ok_or_else(|| bad(format!("{what} is not a number: {:?}", text())))
        };
        match key {
            b"server_id" => self.server_id = Some(text()),
            b"server_name" => self.server_name = Some(text()),
            b"map" => self.map = Some(text()),
            b"gametype" => self.gametype = Some(small(number("gametype")?, &bad)?),
            b"round" => {
                let round = small(number("round")?, &bad)?;
                if round < 1 {
                    return Err(bad(format!("round must be 1 or more, got {round}")));
                }
                self.round = Some(round);
            }
            b"round_id" => self.round_id = Some(text()),
            b"start_unix" => {
                self.start_unix =
                    Some(field::unix_time(number("start_unix")?, "start_unix").map_err(bad)?)
            }
            b"end_unix" => {
                self.end_unix =
                    Some(field::unix_time(number("end_unix")?, "end_unix").map_err(bad)?)
            }
            b"status" => match value.as_ref() {
                b"complete" => self.status = Some(true),
                b"incomplete" => {
                    self.status = Some(false);
                    self.incomplete = true;
                }
                _ => {
                    return Err(bad(format!(
                        "status must be complete or incomplete, got {:?}",
                        text()
                    )))
                }
            },
            b"mod_family" => self.mod_family = Some(text()),
            b"tracker" => self.tracker = Some(text()),
            _ => {} // unknown keys are allowed for forward compatibility
        }
        Ok(())
    }

    fn finish(&self, file_name: &str) -> Result<RoundHeader, FileRejection> {
        let need = |value: &Option<String>, key: &'static str| {
            value
                .clone()
                .filter(|v| !v.is_empty())
                .ok_or(FileRejection::MissingHeader(key))
        };
        let map_name = need(&self.map, "map")?;
        let file_map_name = file_map(file_name);
        Ok(RoundHeader {
            server_id: Some(need(&self.server_id, "server_id")?),
            server_name: self.server_name.clone(),
            map_name,
            file_map_name,
            round_number: self.round.ok_or(FileRejection::MissingHeader("round"))?,
            gametype: Some(
                self.gametype
                    .ok_or(FileRejection::MissingHeader("gametype"))?,
            ),
            round_id: Some(need(&self.round_id, "round_id")?),
            started_unix: Some(
                self.start_unix
                    .ok_or(FileRejection::MissingHeader("start_unix"))?,
            ),
            ended_unix: Some(
                self.end_unix
                    .ok_or(FileRejection::MissingHeader("end_unix"))?,
            ),
            ended_local: None,
            mod_family: self.mod_family.clone(),
        })
    }
}

fn small(value: i64, bad: &impl Fn(String) -> FileRejection) -> Result<i16, FileRejection> {
    i16::try_from(value).map_err(|_| bad(format!("{value} is out of range")))
}

/// What a v3 file name says (docs/round-file-format.md, "Writing"). The header is
/// authoritative; the name only has to be unique and readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3FileName {
    /// `YYYY-MM-DD-HHMMSS`: the round's end, UTC.
    pub ended: chrono::NaiveDateTime,
    /// The map with bytes other than `A-Z a-z 0-9 _ -` replaced by `_`.
    pub map: String,
    pub round: i16,
    /// Server id and round counter; `None` in names from tracker 1.0
    /// (`…-round-<N>_etprox.txt`), which had neither.
    pub server_id: Option<String>,
    pub seq: Option<u64>,
}

/// Parses `<YYYY-MM-DD-HHMMSS>-<map>-round-<N>_etprox_<server_id>_<seq>.txt` and the older
/// `<YYYY-MM-DD-HHMMSS>-<map>-round-<N>_etprox.txt`. The server id is `[a-z0-9-]`, so the
/// last `_etprox_` is the one the tracker wrote even when the map name holds that text.
pub fn parse_v3_file_name(file_name: &str) -> Option<V3FileName> {
    let (stem, server_id, seq) = match file_name.strip_suffix("_etprox.txt") {
        Some(stem) => (stem, None, None),
        None => {
            let rest = file_name.strip_suffix(".txt")?;
            let (rest, seq) = rest.rsplit_once('_')?;
            let (stem, server_id) = rest.rsplit_once("_etprox_")?;
            let id_ok = !server_id.is_empty()
                && server_id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            let seq_ok = !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit());
            if !id_ok || !seq_ok {
                return None;
            }
            (stem, Some(server_id.to_owned()), Some(seq.parse().ok()?))
        }
    };
    let (before, round) = stem.rsplit_once("-round-")?;
    let round = round
        .parse::<i16>()
        .ok()
        .filter(|r| round.bytes().all(|b| b.is_ascii_digit()) && *r >= 0)?;
    // YYYY-MM-DD-HHMMSS is 17 characters, then `-`.
    let stamp = before.get(..17)?;
    let map = before.get(18..).filter(|m| !m.is_empty())?;
    if before.as_bytes().get(17) != Some(&b'-') {
        return None;
    }
    let ended = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d-%H%M%S").ok()?;
    Some(V3FileName {
        ended,
        map: map.to_owned(),
        round,
        server_id,
        seq,
    })
}

/// The map part of a v3 file name (informational: the header's `map` wins).
fn file_map(file_name: &str) -> Option<String> {
    parse_v3_file_name(file_name).map(|n| n.map)
}

fn parse_kill(line: Line<'_>) -> Result<KillRecord<'_>, String> {
    let mut fields = [&b""[..]; KILL_FIELDS];
    let mut count = 0;
    for part in line.text.split(|&b| b == b'|') {
        if count == KILL_FIELDS {
            return Err(format!("more than {KILL_FIELDS} fields"));
        }
        fields[count] = part;
        count += 1;
    }
    if count != KILL_FIELDS {
        return Err(format!("{count} fields, expected {KILL_FIELDS}"));
    }
    let f = &fields;
    let time_ms: i64 = field::int(f[0]).ok_or("t_ms is not a number")?;
    // Stored as INTEGER; a round is never 24 days long, and never before its start.
    if !(0..=i64::from(i32::MAX)).contains(&time_ms) {
        return Err(format!(
            "t_ms {time_ms} is out of range (0 to {} ms since the round start)",
            i32::MAX
        ));
    }
    let kind = KillKind::parse(f[1]).ok_or("kind is not kill, teamkill, suicide or world")?;
    let killer = combatant(&f[2..9], "killer")?;
    let victim = combatant(&f[9..16], "victim")?;
    let distance = field::float(f[16]).ok_or("distance is not a number")?;
    let weapon = field::int(f[17]).ok_or("weapon is not a number")?;
    let means_of_death = field::int(f[18]).ok_or("mod is not a number")?;
    let killer_allies = field::int(f[19]).ok_or("killer_allies is not a count")?;
    let victim_allies = field::int(f[20]).ok_or("victim_allies is not a count")?;
    let supporting_allies = allies(f[21])?;
    Ok(KillRecord {
        line: line.number,
        game_time: time_ms,
        time_ms: Some(time_ms),
        kind,
        killer,
        victim,
        distance,
        weapon,
        means_of_death,
        killer_allies,
        victim_allies,
        supporting_allies,
    })
}

fn combatant<'a>(f: &[&'a [u8]], side: &str) -> Result<Combatant<'a>, String> {
    let slot = field::int(f[0]).ok_or_else(|| format!("{side}_slot is not a number"))?;
    let guid = unescape(f[1]).map_err(|e| format!("{side}_guid: {e}"))?;
    let name = unescape(f[2]).map_err(|e| format!("{side}_name: {e}"))?;
    let team = Team::parse(f[3]).ok_or_else(|| format!("{side}_team is not a team"))?;
    let mut pos = [0f32; 3];
    for (axis, raw) in pos.iter_mut().zip(&f[4..7]) {
        *axis = field::coord(raw).map_err(|e| format!("{side} {e}"))?;
    }
    Ok(Combatant {
        slot,
        guid,
        name,
        team,
        pos,
    })
}

fn allies(field: &[u8]) -> Result<Vec<AllyRef<'_>>, String> {
    if field.is_empty() {
        return Ok(Vec::new());
    }
    field
        .split(|&b| b == b',')
        .map(|entry| {
            let colon = memchr::memchr(b':', entry)
                .ok_or("supporting_allies entry is not <guid>:<name>")?;
            let name =
                unescape(&entry[colon + 1..]).map_err(|e| format!("supporting_allies: {e}"))?;
            let guid = unescape(&entry[..colon]).map_err(|e| format!("supporting_allies: {e}"))?;
            Ok(AllyRef { guid, name })
        })
        .collect()
}

#[cfg(test)]
mod file_name_tests {
    use super::*;

    fn at(s: &str) -> chrono::NaiveDateTime {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("test time")
    }

    #[test]
    fn reads_names_with_server_id_and_counter() {
        let n = parse_v3_file_name("2025-11-18-205822-te_es__cape-round-2_etprox_eu-1_17.txt")
            .expect("parses");
        assert_eq!(
            n,
            V3FileName {
                ended: at("2025-11-18 20:58:22"),
                map: "te_es__cape".into(),
                round: 2,
                server_id: Some("eu-1".into()),
                seq: Some(17),
            }
        );
    }

    #[test]
    fn still_reads_names_of_tracker_1_0() {
        let n =
            parse_v3_file_name("2025-11-18-211955-goldrush-round-1_etprox.txt").expect("parses");
        assert_eq!(n.map, "goldrush");
        assert_eq!(n.round, 1);
        assert_eq!(n.ended, at("2025-11-18 21:19:55"));
        assert_eq!((n.server_id, n.seq), (None, None));
    }

    #[test]
    fn map_names_that_look_like_the_suffix_stay_in_the_map() {
        let n = parse_v3_file_name(
            "2025-11-18-205822-x_etprox_a-round-3-b-round-1_etprox_my-server-27960_2.txt",
        )
        .expect("parses");
        assert_eq!(n.map, "x_etprox_a-round-3-b");
        assert_eq!(n.round, 1);
        assert_eq!(n.server_id.as_deref(), Some("my-server-27960"));
        assert_eq!(n.seq, Some(2));
    }

    #[test]
    fn refuses_what_the_tracker_never_writes() {
        for name in [
            "2025-11-18-205822-goldrush-round-1_etprox_EU_1.txt",
            "2025-11-18-205822-goldrush-round-1_etprox_eu-1_.txt",
            "2025-11-18-205822-goldrush-round-1_etprox_eu-1_x.txt",
            "2025-11-18-205822-goldrush-round-1_etprox__1.txt",
            "2025-11-18-205822-goldrush-round-x_etprox.txt",
            "2025-11-18-205822-goldrush-round--1_etprox.txt",
            "2025-11-18-205822-round-1_etprox.txt",
            "2025-13-18-205822-goldrush-round-1_etprox.txt",
            "2025-11-18-205822-goldrush-round-1_proximity.txt",
            "goldrush-round-1_etprox.txt",
        ] {
            assert_eq!(parse_v3_file_name(name), None, "{name}");
        }
    }
}
