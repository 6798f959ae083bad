//! Tests of the per-round aggregation: classes, pairs, allies, identities and tables.

use super::*;
use crate::round_file::parse_round_file;
use crate::round_file::FormatVersion;
use proptest::prelude::*;

const HEADER: &str = "# PROXIMITY_TRACKER_V2\n# map=goldrush\n# round=0\n";
const NAME: &str = "2025-11-18-211955-goldrush-round-0_proximity.txt";

fn stats_of(body: &str) -> RoundStats {
    let text = format!("{HEADER}{body}");
    let round = parse_round_file(text.as_bytes(), NAME).unwrap();
    assert!(round.rejected.is_empty(), "{:?}", round.rejected);
    aggregate_round(&round)
}

fn player<'s>(s: &'s RoundStats, key: &str) -> &'s PlayerRoundStats {
    s.players
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no player {key}"))
}

fn pair<'s>(s: &'s RoundStats, a: &str, b: &str) -> &'s PairRoundStats {
    s.pairs
        .iter()
        .find(|p| p.player1 == a && p.player2 == b)
        .unwrap_or_else(|| panic!("no pair {a} {b}"))
}

#[test]
fn kills_and_deaths_land_in_exactly_one_class() {
    let s = stats_of(concat!(
        "1000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|100.0|0.0|0.0|100.0|8|9|1v1|0|0|NONE\n",
        "2000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|100.0|0.0|0.0|300.0|8|9|2v1|1|0|charlie\n",
        "3000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|100.0|0.0|0.0|200.0|8|9|1v3|0|2|NONE\n",
        "4000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|100.0|0.0|0.0|50.0|8|9|2v2|1|1|charlie\n",
        "5000|9|C|charlie|AXIS|0.0|0.0|0.0|1|A|alpha|AXIS|0.0|0.0|0.0|10.0|8|9|1v1|0|0|NONE\n",
    ));
    let a = player(&s, "A");
    assert_eq!(a.kills, [1, 1, 1, 1]);
    assert_eq!(a.total_kills(), 4);
    assert_eq!(a.team_deaths, 1);
    assert_eq!(
        a.total_deaths(),
        0,
        "a team kill is not a death in the stats"
    );
    assert_eq!(a.sum_distance, 650.0);
    assert_eq!((a.min_distance, a.max_distance), (Some(50.0), Some(300.0)));
    let b = player(&s, "B");
    assert_eq!(b.deaths, [1, 1, 1, 1]);
    let c = player(&s, "C");
    assert_eq!(c.crossfire, 2);
    assert_eq!(c.team_kills, 1);
    assert_eq!(c.total_kills(), 0);
    assert_eq!(pair(&s, "A", "C").kills_within_range, 2);
    assert!(
        !s.pairs.iter().any(|p| p.player1 == "C" && p.player2 == "A"),
        "directional: C never killed with A near"
    );
    // Heatmap: 4 counted kills, all in cell (0,0) for axis.
    assert_eq!(
        s.cells,
        [CellStats {
            grid_x: 0,
            grid_y: 0,
            axis_kills: 4,
            allies_kills: 0
        }]
    );
}

#[test]
fn simultaneous_and_trade_kills() {
    let s = stats_of(concat!(
        // t=1000 alpha kills bravo; t=2500 charlie (alpha's mate) kills delta: simultaneous.
        "1000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
        "2500|3|C|charlie|AXIS|0.0|0.0|0.0|4|D|delta|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
        // t=9000 echo kills alpha; t=11000 charlie kills echo: charlie traded alpha.
        "9000|5|E|echo|ALLIES|0.0|0.0|0.0|1|A|alpha|AXIS|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
        "11000|3|C|charlie|AXIS|0.0|0.0|0.0|5|E|echo|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
        // t=20000 echo... a kill 3.5 s later is not a trade.
        "20000|5|E|echo|ALLIES|0.0|0.0|0.0|1|A|alpha|AXIS|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
        "23500|3|C|charlie|AXIS|0.0|0.0|0.0|5|E|echo|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
    ));
    assert_eq!(pair(&s, "A", "C").simultaneous_kills, 1);
    assert_eq!(pair(&s, "C", "A").simultaneous_kills, 1);
    assert_eq!(pair(&s, "A", "C").trade_kills, 1);
    assert_eq!(pair(&s, "C", "A").trade_kills, 0);
    assert!(
        s.pairs.iter().all(|p| p.player1 != "B" && p.player2 != "B"),
        "deaths are not kills"
    );
}

#[test]
fn guidless_players_stay_apart_and_allies_resolve_by_name_in_any_order() {
    let s = stats_of(concat!(
        // The ally "ghost" only appears as a killer in a later line.
        "1000|1|UNKNOWN|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|2v1|1|0|ghost\n",
        "2000|3|UNKNOWN|ghost|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
        "3000|4|OMNIBOT0400000000000000000000000|[BOT]x|ALLIES|0.0|0.0|0.0|1|UNKNOWN|alpha|AXIS|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
    ));
    assert_eq!(player(&s, "NOGUID:alpha").kills[KILL_ASSISTED], 1);
    assert_eq!(player(&s, "NOGUID:ghost").crossfire, 1);
    assert_eq!(player(&s, "NOGUID:ghost").kills[KILL_SOLO], 1);
    assert!(player(&s, "OMNIBOT0400000000000000000000000").is_bot);
    assert!(!player(&s, "NOGUID:alpha").is_bot);
    assert_eq!(s.unresolved_allies, 0);
    assert_eq!(
        s.allies_json(&s.kills[0]),
        r#"[{"guid":"NOGUID:ghost","name":"ghost"}]"#
    );
}

#[test]
fn unknown_ally_names_are_counted() {
    let s = stats_of(
        "1000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|2v1|1|0|nobody\n",
    );
    assert_eq!(s.unresolved_allies, 1);
    assert_eq!(
        s.allies_json(&s.kills[0]),
        r#"[{"guid":null,"name":"nobody"}]"#
    );
}

#[test]
fn cells_use_the_floor_of_the_position() {
    let s = stats_of(
        "1000|1|A|alpha|ALLIES|0.0|0.0|0.0|2|B|bravo|AXIS|-0.1|-512.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
    );
    assert_eq!(
        s.cells,
        [CellStats {
            grid_x: -1,
            grid_y: -1,
            axis_kills: 0,
            allies_kills: 1
        }]
    );
}

proptest! {
    // Whatever the kills, counted kills = counted deaths = heatmap total, and every
    // player's class counters add up to the totals.
    #[test]
    fn counters_add_up(kills in proptest::collection::vec(
        (0usize..6, 0usize..6, 0u16..4, 0u16..4, 0i64..100_000), 0..60)) {
        let teams = ["AXIS", "AXIS", "AXIS", "ALLIES", "ALLIES", "ALLIES"];
        let mut body = String::new();
        for (k, v, ka, va, t) in &kills {
            body.push_str(&format!(
                "{t}|{k}|G{k}|p{k}|{}|0.0|0.0|0.0|{v}|G{v}|p{v}|{}|10.0|20.0|0.0|5.0|8|9|{}v{}|{ka}|{va}|NONE\n",
                teams[*k], teams[*v], ka + 1, va + 1));
        }
        let s = stats_of(&body);
        let counted = kills.iter().filter(|(k, v, ..)| teams[*k] != teams[*v]).count() as i32;
        let total_kills: i32 = s.players.iter().map(|p| p.total_kills()).sum();
        let total_deaths: i32 = s.players.iter().map(|p| p.total_deaths()).sum();
        let cells: i32 = s.cells.iter().map(|c| c.axis_kills + c.allies_kills).sum();
        prop_assert_eq!(total_kills, counted);
        prop_assert_eq!(total_deaths, counted);
        prop_assert_eq!(cells, counted);
    }
}

fn combatant(
    slot: i16,
    name: &'static str,
    team: Team,
    pos: [f32; 3],
) -> crate::round_file::Combatant<'static> {
    crate::round_file::Combatant {
        slot,
        guid: std::borrow::Cow::Borrowed(name.as_bytes()),
        name: std::borrow::Cow::Borrowed(name.as_bytes()),
        team,
        pos,
    }
}

proptest! {
    // Aggregation is a public function over public fields: it must not overflow or panic
    // whatever the numbers, even ones the parser never lets through (i64 ends, NaN, inf).
    #[test]
    fn extreme_values_never_panic(kills in proptest::collection::vec(
        (prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX)],
         prop_oneof![any::<f32>(), Just(f32::NAN), Just(f32::INFINITY), Just(f32::MAX)],
         0usize..4, any::<i16>(), any::<u16>(), any::<u16>()), 0..24)) {
        let names = ["a", "b", "c", "d"];
        let teams = [Team::Axis, Team::Allies, Team::Axis, Team::Allies];
        let records: Vec<KillRecord<'static>> = kills.iter().enumerate().map(|(i, (t, f, who, weapon, ka, va))| {
            let victim = (who + 1) % 4;
            KillRecord {
                line: i as u32 + 2,
                game_time: *t,
                time_ms: Some(*t),
                kind: KillKind::Kill,
                killer: combatant(*who as i16, names[*who], teams[*who], [*f, -*f, 0.0]),
                victim: combatant(victim as i16, names[victim], teams[victim], [*f, *f, *f]),
                distance: *f,
                weapon: *weapon,
                means_of_death: *weapon,
                killer_allies: *ka,
                victim_allies: *va,
                supporting_allies: vec![crate::round_file::AllyRef {
                    guid: std::borrow::Cow::Borrowed(b""),
                    name: std::borrow::Cow::Borrowed(names[(who + 2) % 4].as_bytes()),
                }],
            }
        }).collect();
        let mut round = ParsedRound::empty(FormatVersion::V2, 0);
        round.kills = records;
        let s = aggregate_round(&round);
        let counted = round.kills.iter().filter(|k| k.killer.team != k.victim.team).count() as i32;
        let kills: i32 = s.players.iter().map(|p| p.total_kills()).sum();
        prop_assert_eq!(kills, counted);
    }
}
