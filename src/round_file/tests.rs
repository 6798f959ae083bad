//! Parser behaviour on well-formed and broken files of both formats.

use std::borrow::Cow;

use proptest::prelude::*;

use super::writer::write_v3;
use super::*;

const V2_HEADER: &str = "# PROXIMITY_TRACKER_V2\n# map=goldrush\n# round=0\n# FORMAT: game_time|killer_slot|killer_guid|killer_name|killer_team|killer_x|killer_y|killer_z|victim_slot|victim_guid|victim_name|victim_team|victim_x|victim_y|victim_z|distance|weapon|mod|engagement_type|killer_allies|victim_allies|supporting_allies\n";
const V2_NAME: &str = "2025-11-18-211955-goldrush-round-0_proximity.txt";
const KILL_A: &str = "1000|1|AAAA|alpha|AXIS|0.0|0.0|0.0|2|BBBB|bravo|ALLIES|100.0|0.0|0.0|100.0|8|9|2v1|1|0|charlie\n";
const KILL_B: &str = "2000|3|CCCC|charlie|AXIS|10.0|0.0|0.0|2|BBBB|bravo|ALLIES|-0.04|-600.0|0.0|100.0|8|9|1v1|0|0|NONE\n";
const HEATMAP: &str = "\n# HEATMAP\n# grid_x|grid_y|axis_kills|allies_kills\n0|0|1|0\n";

fn v2(body: &str) -> String {
    format!("{V2_HEADER}{body}")
}

fn parse(text: &str) -> ParsedRound<'_> {
    parse_round_file(text.as_bytes(), V2_NAME).expect("file should parse")
}

fn names(kill: &KillRecord<'_>) -> Vec<String> {
    kill.supporting_allies
        .iter()
        .map(|a| String::from_utf8_lossy(&a.name).into_owned())
        .collect()
}

#[test]
fn real_v2_fixtures_parse_without_rejections() {
    for (name, kills) in [
        ("2025-11-18-203822-supply-round-0_proximity.txt", 100),
        ("2025-11-18-211955-goldrush-round-0_proximity.txt", 108),
    ] {
        let bytes = std::fs::read(format!(
            "{}/tests/fixtures/v2/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("the v2 fixtures are in tests/fixtures/v2");
        let round = parse_round_file(&bytes, name).unwrap();
        assert_eq!(round.kills.len(), kills, "{name}");
        assert!(round.rejected.is_empty(), "{name}: {:?}", round.rejected);
        assert!(round.flags.is_empty(), "{name}: {:?}", round.flags);
        assert_eq!(
            round.header.round_number, 1,
            "v2 round 0 is round 1 for players"
        );
        assert!(round.heatmap.as_ref().is_some_and(|h| !h.is_empty()));
    }
}

#[test]
fn v2_header_and_file_name() {
    let text = v2(&format!("{KILL_A}{HEATMAP}"));
    let round = parse(&text);
    assert_eq!(round.format, FormatVersion::V2);
    assert_eq!(round.header.map_name, "goldrush");
    assert_eq!(round.header.round_number, 1);
    assert_eq!(
        round.header.ended_local.unwrap().to_string(),
        "2025-11-18 21:19:55"
    );
    let k = &round.kills[0];
    assert_eq!(k.kind, KillKind::Kill);
    assert_eq!(k.killer.name.as_ref(), b"alpha");
    assert_eq!(k.victim.team, Team::Allies);
    assert_eq!(names(k), ["charlie"]);
    assert_eq!(round.heatmap.as_ref().unwrap().len(), 1);
}

#[test]
fn crlf_files_parse_like_lf_files() {
    let lf = v2(&format!("{KILL_A}{KILL_B}{HEATMAP}"));
    let crlf = lf.replace('\n', "\r\n");
    let a = parse(&lf);
    let b = parse(&crlf);
    assert_eq!(a.kills, b.kills);
    assert_eq!(a.heatmap, b.heatmap);
    assert!(b.rejected.is_empty());
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let plain = v2(&format!("{KILL_A}{HEATMAP}"));
    let with_bom = format!("\u{FEFF}{plain}");
    let a = parse(&plain);
    let b = parse(&with_bom);
    assert_eq!(a.kills, b.kills);
    assert!(b.rejected.is_empty());
}

#[test]
fn missing_heatmap_is_flagged_not_rejected() {
    let text = v2(&format!("{KILL_A}{KILL_B}"));
    let round = parse(&text);
    assert_eq!(round.kills.len(), 2);
    assert!(round.flags.contains(&RoundFlag::NoHeatmap));
}

#[test]
fn cut_last_line_is_rejected_and_round_flagged_truncated() {
    let text = v2(&format!("{KILL_A}{}", &KILL_B[..40]));
    let round = parse(&text);
    assert_eq!(round.kills.len(), 1);
    assert_eq!(round.rejected.len(), 1);
    assert_eq!(round.rejected[0].line, 6);
    assert!(round.rejected[0].reason.contains("cut off"));
    assert!(round.flags.contains(&RoundFlag::Truncated));
    assert!(round.flags.contains(&RoundFlag::LinesRejected));
}

#[test]
fn a_parseable_but_unterminated_last_line_is_still_cut() {
    // "-600.0" cut to "-600" would still parse: without the newline we cannot trust it.
    let text = v2(&format!("{KILL_A}{}", KILL_B.trim_end()));
    let round = parse(&text);
    assert_eq!(round.kills.len(), 1);
    assert!(round.flags.contains(&RoundFlag::Truncated));
}

#[test]
fn garbage_lines_are_reported_with_line_numbers() {
    let text = v2(&format!("{KILL_A}hello world\n1|2|3\n{KILL_B}x|y|z|w\n"));
    let round = parse(&text);
    assert_eq!(round.kills.len(), 2);
    let lines: Vec<u32> = round.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [6, 7, 9]);
    assert!(round.rejected[0].reason.contains("fields"));
    assert_eq!(round.rejected[0].excerpt, "hello world");
}

#[test]
fn bad_numbers_are_named_in_the_reason() {
    let bad = KILL_A.replace("|100.0|8|", "|far|8|");
    let text = v2(&bad);
    let round = parse(&text);
    assert_eq!(round.rejected[0].reason, "distance is not a number");
}

#[test]
fn empty_and_foreign_files_are_rejected_whole() {
    assert_eq!(parse_round_file(b"", V2_NAME), Err(FileRejection::Empty));
    assert_eq!(
        parse_round_file(b"\n\r\n  ", V2_NAME),
        Err(FileRejection::Empty)
    );
    assert!(matches!(
        parse_round_file(b"<html>oops</html>\n", V2_NAME),
        Err(FileRejection::UnknownFormat(_))
    ));
}

#[test]
fn header_map_wins_over_file_name_and_is_flagged() {
    let text = v2(KILL_A).replace("# map=goldrush", "# map=radar");
    let round = parse(&text);
    assert_eq!(round.header.map_name, "radar");
    assert_eq!(round.header.file_map_name.as_deref(), Some("goldrush"));
    assert!(round.flags.contains(&RoundFlag::MapMismatch));
}

#[test]
fn pipe_in_names_is_realigned() {
    let line = "1000|1|AAAA|al|pha|AXIS|0.0|0.0|0.0|2|BBBB|br|av|o|ALLIES|100.0|0.0|0.0|100.0|8|9|2v1|1|0|ch|ar\n";
    let text = v2(line);
    let round = parse(&text);
    assert!(round.rejected.is_empty(), "{:?}", round.rejected);
    let k = &round.kills[0];
    assert_eq!(k.killer.name.as_ref(), b"al|pha");
    assert_eq!(k.victim.name.as_ref(), b"br|av|o");
    assert_eq!(k.distance, 100.0);
    assert_eq!(names(k), ["ch|ar"]);
    assert!(round.flags.contains(&RoundFlag::Realigned));
    assert_eq!(round.warnings.len(), 1);
}

#[test]
fn a_name_that_looks_like_a_team_block_does_not_fool_realignment() {
    let line = "1000|1|AAAA|x|AXIS|1.0|2.0|3.0|4|AXIS|0.0|0.0|0.0|2|BBBB|bravo|ALLIES|100.0|0.0|0.0|100.0|8|9|1v1|0|0|NONE\n";
    let text = v2(line);
    let round = parse(&text);
    let k = &round.kills[0];
    // Reading "AXIS" as the victim's GUID would also fit the columns; a team is never a GUID.
    assert_eq!(k.killer.name.as_ref(), b"x|AXIS|1.0|2.0|3.0|4");
    assert_eq!(k.victim.name.as_ref(), b"bravo");
    assert_eq!(k.means_of_death, 9);
}

#[test]
fn ally_names_with_commas_are_matched_against_the_round() {
    // "a,b" is a player (victim in a later line); the ally list "a,b,charlie" is two names.
    let kill1 = "1000|1|AAAA|alpha|AXIS|0.0|0.0|0.0|2|BBBB|bravo|ALLIES|1.0|1.0|0.0|1.0|8|9|3v1|2|0|a,b,charlie\n";
    let kill2 =
        "2000|5|DDDD|bravo|ALLIES|0.0|0.0|0.0|6|EEEE|a,b|AXIS|1.0|1.0|0.0|1.0|8|9|1v1|0|0|NONE\n";
    let text = v2(&format!("{kill1}{kill2}"));
    let round = parse(&text);
    assert_eq!(names(&round.kills[0]), ["a,b", "charlie"]);
    assert!(names(&round.kills[1]).is_empty());
}

#[test]
fn a_player_called_none_is_an_ally_when_the_counts_say_so() {
    let kill1 =
        "1000|1|AAAA|alpha|AXIS|0.0|0.0|0.0|2|BBBB|bravo|ALLIES|1.0|1.0|0.0|1.0|8|9|2v1|1|0|NONE\n";
    let kill2 =
        "2000|3|NNNN|NONE|AXIS|0.0|0.0|0.0|2|BBBB|bravo|ALLIES|1.0|1.0|0.0|1.0|8|9|1v1|0|0|NONE\n";
    let text = v2(&format!("{kill1}{kill2}"));
    let round = parse(&text);
    assert_eq!(names(&round.kills[0]), ["NONE"]);
    assert!(names(&round.kills[1]).is_empty());
}

#[test]
fn v2_team_kills_and_suicides_are_classified() {
    let tk =
        "1000|1|AAAA|alpha|AXIS|0.0|0.0|0.0|2|BBBB|bravo|AXIS|1.0|1.0|0.0|1.0|8|9|1v1|0|0|NONE\n";
    let text = v2(tk);
    let round = parse(&text);
    assert_eq!(round.kills[0].kind, KillKind::TeamKill);
}

fn sample_header() -> RoundHeader {
    RoundHeader {
        server_id: Some("eu|1".into()),
        server_name: Some("My, Server".into()),
        map_name: "goldrush".into(),
        file_map_name: None,
        round_number: 2,
        gametype: Some(3),
        round_id: Some("r-42".into()),
        started_unix: Some(1_763_498_302),
        ended_unix: Some(1_763_499_502),
        ended_local: None,
        mod_family: Some("etlegacy".into()),
    }
}

fn sample_kill(line: u32, killer_name: &[u8], ally: &[u8]) -> KillRecord<'static> {
    KillRecord {
        line,
        game_time: 1234,
        time_ms: Some(1234),
        kind: KillKind::Kill,
        killer: Combatant {
            slot: 3,
            guid: Cow::Borrowed(b"0F3C0F3C0F3C0F3C0F3C0F3C0F3C0F3C"),
            name: Cow::Owned(killer_name.to_vec()),
            team: Team::Axis,
            pos: [-120.5, 330.0, 16.1],
        },
        victim: Combatant {
            slot: 7,
            guid: Cow::Borrowed(b""),
            name: Cow::Borrowed(b"NONE"),
            team: Team::Allies,
            pos: [1.5, -2.5, 0.0],
        },
        distance: 412.7,
        weapon: 3,
        means_of_death: 3,
        killer_allies: 1,
        victim_allies: 0,
        supporting_allies: vec![AllyRef {
            guid: Cow::Borrowed(b"odd:guid|x"),
            name: Cow::Owned(ally.to_vec()),
        }],
    }
}

#[test]
fn v3_round_trips_hostile_names() {
    let header = sample_header();
    let kills = vec![
        sample_kill(13, b"^1Al|pha,x%20", b"No,guid|NONE"),
        sample_kill(14, b"J\xf6rg\xe2\x82", b"\xff\x00"),
    ];
    let bytes = write_v3(&header, false, &kills);
    let round = parse_round_file(&bytes, "2025-11-18-211955-goldrush-round-2_etprox.txt").unwrap();
    assert!(round.rejected.is_empty(), "{:?}", round.rejected);
    assert!(round.flags.is_empty(), "{:?}", round.flags);
    assert!(round.has_end_marker);
    assert_eq!(round.header.server_id.as_deref(), Some("eu|1"));
    assert_eq!(round.header.server_name.as_deref(), Some("My, Server"));
    assert_eq!(round.header.file_map_name.as_deref(), Some("goldrush"));
    assert_eq!(round.kills, kills);
}

#[test]
fn v3_without_end_marker_is_truncated() {
    let bytes = write_v3(&sample_header(), false, &[sample_kill(13, b"a", b"b")]);
    let text = String::from_utf8(bytes).unwrap();
    let cut = text.replace("# END kills=1\n", "");
    let round = parse_round_file(cut.as_bytes(), "x.txt").unwrap();
    assert_eq!(round.kills.len(), 1);
    assert!(round.flags.contains(&RoundFlag::Truncated));
    assert!(!round.has_end_marker);
}

#[test]
fn v3_end_marker_count_mismatch_is_flagged() {
    let bytes = write_v3(&sample_header(), true, &[sample_kill(13, b"a", b"b")]);
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("# END kills=1", "# END kills=5");
    let round = parse_round_file(text.as_bytes(), "x.txt").unwrap();
    assert!(round.flags.contains(&RoundFlag::CountMismatch));
    assert!(round.flags.contains(&RoundFlag::Incomplete));
}

#[test]
fn v3_misplaced_lines_are_rejected_with_their_reason() {
    let bytes = write_v3(&sample_header(), false, &[sample_kill(13, b"a", b"b")]);
    let text = String::from_utf8(bytes).unwrap();
    let (head, tail) = text.split_once("# END kills=1\n").unwrap();
    assert!(tail.is_empty());
    let reasons = |text: &str| -> Vec<(u32, String)> {
        let round = parse_round_file(text.as_bytes(), "x.txt").unwrap();
        assert!(round.flags.contains(&RoundFlag::LinesRejected));
        round
            .rejected
            .iter()
            .map(|r| (r.line, r.reason.clone()))
            .collect()
    };
    let lines = head.lines().count() as u32;
    let marker = lines + 1;
    let after = format!("{head}# END kills=1\n\nstray\n");
    assert_eq!(
        reasons(&after),
        [(
            marker + 2,
            format!("text after the end marker on line {marker}")
        )]
    );
    let header_late = format!("{head}# map=oasis\n# END kills=2\n");
    assert_eq!(
        reasons(&header_late),
        [(marker, "header line among the kill lines".to_owned())]
    );
    let no_count = format!("{head}# END kills=x\n");
    assert_eq!(
        reasons(&no_count),
        [(marker, "end marker without a kill count".to_owned())]
    );
    let cut = format!("{head}# END kills=1");
    assert_eq!(reasons(&cut), [(marker, "end marker cut off".to_owned())]);
    let cut_kill = format!("{head}1|2");
    assert_eq!(
        reasons(&cut_kill),
        [(
            marker,
            "line cut off (the file ends without a newline)".to_owned()
        )]
    );
}

#[test]
fn v3_missing_header_key_rejects_the_file() {
    let bytes = write_v3(&sample_header(), false, &[]);
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("# round_id=r-42\n", "");
    assert_eq!(
        parse_round_file(text.as_bytes(), "x.txt"),
        Err(FileRejection::MissingHeader("round_id"))
    );
    let bad = String::from_utf8(write_v3(&sample_header(), false, &[]))
        .unwrap()
        .replace("# round=2", "# round=two");
    assert!(matches!(
        parse_round_file(bad.as_bytes(), "x.txt"),
        Err(FileRejection::BadHeader { line: 6, .. })
    ));
}

#[test]
fn v3_zero_kill_round_is_valid() {
    let bytes = write_v3(&sample_header(), false, &[]);
    let round = parse_round_file(&bytes, "x.txt").unwrap();
    assert!(round.kills.is_empty());
    assert!(round.flags.is_empty());
}

fn arb_name() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 1..=35)
}

fn arb_pos() -> impl Strategy<Value = f32> {
    // Positions are written with one decimal, so generate values that survive that.
    (-400_000i32..400_000).prop_map(|t| format!("{:.1}", t as f64 / 10.0).parse().unwrap())
}

prop_compose! {
    fn arb_kill()(killer in arb_name(), victim in arb_name(), ally in arb_name(),
                  t in 0i64..10_000_000, kx in arb_pos(), vy in arb_pos(), d in arb_pos(),
                  ka in 0u16..20, va in 0u16..20, kind in 0usize..4)
                 -> (Vec<u8>, Vec<u8>, Vec<u8>, i64, f32, f32, f32, u16, u16, usize) {
        (killer, victim, ally, t, kx, vy, d.abs(), ka, va, kind)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_round_file(&bytes, V2_NAME);
        let mut v2 = V2_HEADER.as_bytes().to_vec();
        v2.extend_from_slice(&bytes);
        let _ = parse_round_file(&v2, V2_NAME);
        let mut v3 = b"# ETPROX_ROUND v3\n".to_vec();
        v3.extend_from_slice(&bytes);
        let _ = parse_round_file(&v3, "x.txt");
    }

    #[test]
    fn mutated_real_lines_never_panic(cut in 0usize..200, insert in any::<u8>(), at in 0usize..200) {
        let mut line = KILL_A.as_bytes().to_vec();
        line.truncate(cut.min(line.len()));
        line.insert(at.min(line.len()), insert);
        let mut file = V2_HEADER.as_bytes().to_vec();
        file.extend_from_slice(&line);
        file.push(b'\n');
        let _ = parse_round_file(&file, V2_NAME);
    }

    #[test]
    fn writer_then_parser_round_trips(kills in proptest::collection::vec(arb_kill(), 0..20)) {
        let kinds = [KillKind::Kill, KillKind::TeamKill, KillKind::Suicide, KillKind::World];
        let records: Vec<KillRecord<'_>> = kills.iter().enumerate().map(|(i, k)| {
            let mut r = sample_kill(13 + i as u32, &k.0, &k.2);
            r.victim.name = Cow::Owned(k.1.clone());
            r.game_time = k.3;
            r.time_ms = Some(k.3);
            r.killer.pos[0] = k.4;
            r.victim.pos[1] = k.5;
            r.distance = k.6;
            r.killer_allies = k.7;
            r.victim_allies = k.8;
            r.kind = kinds[k.9];
            r
        }).collect();
        let bytes = write_v3(&sample_header(), false, &records);
        let round = parse_round_file(&bytes, "x.txt").unwrap();
        prop_assert!(round.rejected.is_empty());
        prop_assert_eq!(round.kills, records);
    }

    #[test]
    fn v2_names_with_pipes_realign(killer in "[a-z|]{1,12}", victim in "[a-z|]{1,12}") {
        prop_assume!(killer.contains(|c| c != '|') && victim.contains(|c| c != '|'));
        let line = format!("1000|1|AAAA|{killer}|AXIS|0.0|0.0|0.0|2|BBBB|{victim}|ALLIES|100.0|0.0|0.0|100.0|8|9|2v1|1|0|NONE\n");
        let file = v2(&line);
        let round = parse(&file);
        prop_assert!(round.rejected.is_empty());
        prop_assert_eq!(round.kills[0].killer.name.as_ref(), killer.as_bytes());
        prop_assert_eq!(round.kills[0].victim.name.as_ref(), victim.as_bytes());
    }
}

/// A v3 file with one kill line whose numbers are given as text.
fn v3_with(start_unix: &str, t_ms: &str, x: &str, slot: &str) -> String {
    format!(
        "# ETPROX_ROUND v3\n# server_id=s\n# map=goldrush\n# gametype=4\n# round=1\n# round_id=r\n\
         # start_unix={start_unix}\n# end_unix=1763000900\n# status=complete\n# FORMAT: x\n\
         {t_ms}|kill|{slot}|AAAA|alpha|AXIS|{x}|0.0|0.0|2|BBBB|bravo|ALLIES|1.0|2.0|3.0|10.0|8|9|0|0|\n\
         # END kills=1\n"
    )
}

fn extreme_integer() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::from(i32::MAX) + 1),
        Just(i64::from(i32::MIN) - 1),
        Just(LATEST_UNIX + 1),
        Just(-1),
        0i64..2_000_000_000,
    ]
}

fn extreme_float() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f32>().prop_map(|f| f.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        Just("1e39".to_owned()),
        Just("-3.4028235e38".to_owned()),
        Just("NaN".to_owned()),
        Just("-inf".to_owned()),
        (-5000.0f32..5000.0).prop_map(|f| f.to_string()),
    ]
}

proptest! {
    // Whatever the numbers, the parser does not panic, and what it accepts lies in the ranges
    // the rest of the import relies on (times, t_ms in INTEGER, positions on a map).
    #[test]
    fn extreme_numbers_are_accepted_only_within_range(
        start in extreme_integer(), t_ms in extreme_integer(), x in extreme_float(), slot in extreme_integer()
    ) {
        let text = v3_with(&start.to_string(), &t_ms.to_string(), &x, &slot.to_string());
        match parse_round_file(text.as_bytes(), "x.txt") {
            Err(FileRejection::BadHeader { .. }) => {
                prop_assert!(!(EARLIEST_UNIX..=LATEST_UNIX).contains(&start));
            }
            Err(other) => prop_assert!(false, "unexpected rejection {other}"),
            Ok(round) => {
                let start_seen = round.header.started_unix.unwrap_or_default();
                prop_assert!((EARLIEST_UNIX..=LATEST_UNIX).contains(&start_seen));
                prop_assert_eq!(round.kills.len() + round.rejected.len(), 1);
                for kill in &round.kills {
                    prop_assert!(kill.time_ms.is_some_and(|t| (0..=i64::from(i32::MAX)).contains(&t)));
                    prop_assert!(kill.killer.pos.iter().all(|v| v.is_finite() && v.abs() <= MAX_COORD));
                }
            }
        }
    }

    // The same for v2 kill lines: game_time is the engine's 32-bit clock, positions on a map.
    #[test]
    fn v2_extreme_numbers_are_accepted_only_within_range(t in extreme_integer(), x in extreme_float()) {
        let text = v2(&format!(
            "{t}|1|AAAA|alpha|AXIS|{x}|0.0|0.0|2|BBBB|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n"
        ));
        let round = parse(&text);
        prop_assert_eq!(round.kills.len() + round.rejected.len(), 1);
        for kill in &round.kills {
            prop_assert!(i32::try_from(kill.game_time).is_ok());
            prop_assert!(kill.killer.pos.iter().all(|v| v.is_finite() && v.abs() <= MAX_COORD));
        }
    }
}

#[test]
fn v2_file_names_outside_1970_to_9999_carry_no_time() {
    assert!(parse_v2_file_name("1969-12-31-235959-goldrush-round-0_proximity.txt").is_none());
    assert!(parse_v2_file_name("0000-01-01-000000-goldrush-round-0_proximity.txt").is_none());
    assert!(parse_v2_file_name("9999-12-31-235959-goldrush-round-0_proximity.txt").is_some());
}

#[test]
fn a_broken_escape_never_puts_nul_in_a_reason() {
    let text = v3_with("1763000000", "1000", "0.0", "1").replace("alpha", "al%\0\0pha");
    let round = parse_round_file(text.as_bytes(), "x.txt").unwrap();
    assert_eq!(round.rejected.len(), 1);
    assert!(
        !round.rejected[0].reason.contains('\0'),
        "{:?}",
        round.rejected[0]
    );
}

// Fight sections (tracker 1.2) -------------------------------------------------------------------

const V3_NAME: &str = "2025-11-18-205822-goldrush-round-2_etprox_eu-1_17.txt";

/// A tracker 1.2 file with one kill, `sections` (each after its `# SECTION` line) and `end`.
fn fight_file(sections: &str, end: &str) -> String {
    let kills = writer::write_v3(&sample_header(), false, &[sample_kill(13, b"alpha", b"x")]);
    let text = String::from_utf8(kills).unwrap();
    let head = text.rsplit_once("# END").unwrap().0;
    let head = head.replace(
        "# mod_family=etlegacy\n",
        "# mod_family=etlegacy\n# tracker=1.2\n",
    );
    format!("{head}{sections}{end}\n")
}

const PLAYERS: &str = "# SECTION players\n# FORMAT: p|slot|guid|name|team|from_ms|to_ms\n0|3|0F3C0F3C0F3C0F3C0F3C0F3C0F3C0F3C|alpha|AXIS|0|612000\n1|7||NONE|ALLIES|15250|612000\n";

#[test]
fn fight_sections_parse_and_round_trip_through_the_writer() {
    for seed in [1u64, 7, 99] {
        let spec = synthetic::RoundSpec {
            kills: 30,
            ..synthetic::RoundSpec::new(seed, 1_763_000_000)
        };
        let bytes = synthetic::synthetic_v3_fight(&spec);
        let round = parse_round_file(&bytes, V3_NAME).unwrap();
        assert!(round.rejected.is_empty(), "{:?}", round.rejected);
        assert!(round.flags.is_empty(), "{:?}", round.flags);
        assert!(round.warnings.is_empty(), "{:?}", round.warnings);
        assert_eq!(round.tracker.as_deref(), Some("1.2"));
        let fight = round.fight.as_ref().expect("fight sections");
        assert_eq!(fight.players.len(), 12);
        assert!(!fight.damage.is_empty() && !fight.presence.is_empty());
        assert!(fight.objectives.iter().any(|o| o.player.is_none()));
        let again = writer::write_v3_fight(&round.header, false, &round.kills, fight);
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[test]
fn files_without_fight_sections_have_none() {
    let text = String::from_utf8(write_v3(
        &sample_header(),
        false,
        &[sample_kill(13, b"a", b"b")],
    ))
    .unwrap();
    let round = parse_round_file(text.as_bytes(), V3_NAME).unwrap();
    assert_eq!(
        (round.fight.is_none(), round.tracker.is_none()),
        (true, true)
    );
    assert!(round.flags.is_empty());
    let text = v2(&format!("{KILL_A}{HEATMAP}"));
    assert!(parse(&text).fight.is_none());
}

#[test]
fn every_fight_line_kind_is_read() {
    use fight::PresenceSample;
    let sections = format!(
        "{PLAYERS}# SECTION damage\n# FORMAT: t_ms|attacker|target|damage|health|mod|flags\n\
         12001|0|1|18|100|8|\n12034|0|1|56|-4|8|hts\n\
         # SECTION shots\n# FORMAT: player|weapon|shots\n0|47|41\n\
         # SECTION revives\n# FORMAT: t_ms|revived|medic|x|y|z|down_ms\n20110|1||-120.5|330.0|16.1|\n\
         # SECTION objectives\n# FORMAT: t_ms|player|team|action|target|x|y|z\n\
         30500|0|AXIS|steal|the%20Gold%20Crate|101.0|-2030.0|64.1\n31000||ALLIES|return|the%20Gold%20Crate|||\n\
         # SECTION spawns\n# FORMAT: t_ms|player|revived\n0|0|0\n20110|1|1\n\
         # SECTION presence\n# FORMAT: t_s|samples\n1|000Vzw01Wz0X\n"
    );
    let text = fight_file(
        &sections,
        "# END kills=1 players=2 damage=2 shots=1 revives=1 objectives=2 spawns=2 presence=1",
    );
    let round = parse_round_file(text.as_bytes(), V3_NAME).unwrap();
    assert!(round.rejected.is_empty(), "{:?}", round.rejected);
    assert!(
        round.flags.is_empty(),
        "{:?} {:?}",
        round.flags,
        round.warnings
    );
    let f = round.fight.unwrap();
    assert_eq!(f.players[1].guid.as_ref(), b"");
    assert_eq!(f.players[1].from_ms, 15250);
    let corpse = f.damage[1];
    assert!(corpse.headshot && corpse.team_damage && corpse.splash);
    assert_eq!((corpse.effective(), f.damage[0].effective()), (0, 18));
    assert_eq!(f.shots[0].weapon, 47);
    assert_eq!((f.revives[0].medic, f.revives[0].down_ms), (None, None));
    assert_eq!(f.objectives[0].target.as_ref(), b"the Gold Crate");
    assert_eq!((f.objectives[1].player, f.objectives[1].pos), (None, None));
    assert!(f.spawns[1].revived);
    // "00" "0V" "zw": player 0, x = 0 * 64 + 31, y = 61 * 64 + 58 ('z' is 61, 'w' 58).
    let s = f.presence[0].samples[0];
    assert_eq!((s.player, s.qx, s.qy), (0, 31, 61 * 64 + 58));
    assert_eq!(PresenceSample::cell(31), -505);
    assert_eq!(f.presence[0].samples[1].player, 1);
}

#[test]
fn bad_fight_lines_are_rejected_with_line_number_and_reason() {
    let sections = format!(
        "{PLAYERS}# SECTION damage\n# FORMAT: t_ms|attacker|target|damage|health|mod|flags\n\
         12001|0|5|18|100|8|\n12002|0|1|18|100|8|x\n12003|0|0|18|100|8|\n\
         # SECTION objectives\n# FORMAT: t_ms|player|team|action|target|x|y|z\n\
         30500||AXIS|steal|crate|||\n30600|0|AXIS|steal|crate|1.0||\n\
         # SECTION presence\n# FORMAT: t_s|samples\n1|000Vz\n2|020000\n"
    );
    let text = fight_file(
        &sections,
        "# END kills=1 players=2 damage=3 objectives=2 presence=2",
    );
    let first = text.lines().position(|l| l.starts_with("12001")).unwrap() as u32 + 1;
    let round = parse_round_file(text.as_bytes(), V3_NAME).unwrap();
    let got: Vec<(u32, &str)> = round
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (first, "damage line: target 5 is not in the players section (a players line is missing or was rejected)"),
            (first + 1, "damage line: flags: unknown letter 'x' (h, t and s are known)"),
            (first + 2, "damage line: attacker and target are the same player (self-damage is not written)"),
            (first + 5, "objectives line: player is empty, which only a return by time-out may be (action steal)"),
            (first + 6, "objectives line: position: give x, y and z, or none of them"),
            (first + 9, "presence line: samples is 5 characters, not a multiple of 6"),
            (first + 10, "presence line: sample 1: player 2 is not in the players section"),
        ]
    );
    assert!(round.flags.contains(&RoundFlag::LinesRejected));
    // Rejected lines still count against the end marker, as kill lines do.
    assert!(
        !round.flags.contains(&RoundFlag::CountMismatch),
        "{:?}",
        round.warnings
    );
    assert_eq!(round.kills.len(), 1);
}

#[test]
fn section_counts_that_differ_from_the_end_marker_are_flagged() {
    let text = fight_file(PLAYERS, "# END kills=1 players=3 damage=1");
    let round = parse_round_file(text.as_bytes(), V3_NAME).unwrap();
    assert!(round.flags.contains(&RoundFlag::CountMismatch));
    let reasons: Vec<&str> = round.warnings.iter().map(|w| w.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "end marker says 3 for players, the file has 2 players lines",
            "end marker says 1 for damage, the file has 0 damage lines",
        ]
    );
    // A file cut inside a section: truncated, the cut line rejected, what came before kept.
    let cut = fight_file(PLAYERS, "");
    let cut = &cut[..cut.len() - 6];
    let round = parse_round_file(cut.as_bytes(), V3_NAME).unwrap();
    assert!(round.flags.contains(&RoundFlag::Truncated));
    assert_eq!(round.fight.unwrap().players.len(), 1);
    assert_eq!(round.rejected.len(), 1);
}

#[test]
fn unknown_sections_are_skipped_with_a_warning() {
    let sections = format!("# SECTION focus_fire\n# FORMAT: a|b\n1|2\n3|4\n{PLAYERS}");
    let text = fight_file(&sections, "# END kills=1 focus_fire=2 players=2");
    let round = parse_round_file(text.as_bytes(), V3_NAME).unwrap();
    assert!(round.rejected.is_empty(), "{:?}", round.rejected);
    assert!(round.flags.is_empty(), "{:?}", round.flags);
    assert_eq!(round.warnings.len(), 1);
    assert!(round.warnings[0]
        .reason
        .contains("unknown section \"focus_fire\""));
    assert_eq!(round.fight.unwrap().players.len(), 2);
}

#[test]
fn shots_and_hits_of_one_weapon_meet_on_one_number() {
    use fight::weapons::{of_fired, of_mod};
    // (means of death, weapon et_WeaponFire reports)
    for (means_of_death, fired) in [
        (8, 3),   // MP40
        (46, 40), // Garand, scoped
        (51, 41), // K43, scoped
        (14, 42), // FG42, scoped
        (12, 14), // silenced Luger
        (45, 39), // silenced Colt
        (53, 35), // akimbo Colts
        (56, 46), // akimbo silenced Lugers
        (44, 47), // mobile MG42 fired deployed
        (44, 30), // … and carried
        (62, 50), // mobile Browning, deployed
        (52, 43), // mortar, set
        (37, 24), // M1 Carbine
        (16, 4),  // hand grenade (Axis)
        (23, 22), // airstrike: thrown as its marker
    ] {
        assert_eq!(
            of_mod(means_of_death),
            of_fired(fired),
            "mod {means_of_death}"
        );
    }
    // Fixed guns (emplacement, tanks) never fire through et_WeaponFire: their own number.
    assert_eq!([of_mod(1), of_mod(2), of_mod(3)], [33, 33, 33]);
    assert_ne!(of_mod(1), of_mod(44));
    // No weapon's: falling, world, unknown numbers.
    assert_eq!([of_mod(32), of_mod(0), of_mod(999)], [0, 0, 0]);
    // Every bullet means of death lands on a weapon that fires as itself.
    for line in include_str!("../../assets/mods.csv").lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[3] == "bullet" {
            let w = of_mod(f[0].parse().unwrap());
            assert!(w > 0 && of_fired(w) == w, "{line}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn synthetic_fight_files_round_trip(seed in 0u64..1_000_000, kills in 0usize..40, team in 2usize..8) {
        let spec = synthetic::RoundSpec {
            kills,
            team_size: team,
            ..synthetic::RoundSpec::new(seed, 1_763_000_000)
        };
        let bytes = synthetic::synthetic_v3_fight(&spec);
        let round = parse_round_file(&bytes, V3_NAME).unwrap();
        prop_assert!(round.rejected.is_empty(), "{:?}", round.rejected);
        prop_assert!(round.flags.is_empty(), "{:?}", round.flags);
        let fight = round.fight.as_ref().unwrap();
        let again = writer::write_v3_fight(&round.header, false, &round.kills, fight);
        prop_assert_eq!(again, bytes);
    }

    /// Any single line dropped from a fight file: every other line is still used or reported,
    /// and the end marker tells the loss.
    #[test]
    fn a_lost_fight_line_is_never_silent(seed in 0u64..1_000, drop in 0usize..400) {
        let spec = synthetic::RoundSpec {
            kills: 6,
            team_size: 2,
            ..synthetic::RoundSpec::new(seed, 1_763_000_000)
        };
        let bytes = synthetic::synthetic_v3_fight(&spec);
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let first_section = lines.iter().position(|l| l.starts_with("# SECTION")).unwrap();
        let data: Vec<usize> = (first_section..lines.len() - 1)
            .filter(|i| !lines[*i].starts_with('#'))
            .collect();
        let gone = data[drop % data.len()];
        let kept: String = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != gone)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let round = parse_round_file(kept.as_bytes(), V3_NAME).unwrap();
        prop_assert!(round.flags.contains(&RoundFlag::CountMismatch), "{:?}", round.flags);
    }
}
