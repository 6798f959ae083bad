use chrono::{TimeZone, Utc};

use super::*;

fn round(id: i64, map: &str, number: i16, start_min: i64, secs: i64) -> SessionRound {
    let start = Utc.with_ymd_and_hms(2025, 11, 21, 20, 0, 0).unwrap()
        + chrono::Duration::minutes(start_min);
    SessionRound {
        id,
        server_name: Some("^4EU ^7one".into()),
        map_name: map.into(),
        round_number: number,
        gametype: Some(3),
        started_at: Some(start),
        ended_at: Some(start + chrono::Duration::seconds(secs)),
        kill_count: 10,
    }
}

fn day(guid: &str, outgunned: i32, crossfire: i32, duels: (i32, i32), longest: f32) -> DayPlayer {
    DayPlayer {
        player_guid: guid.into(),
        player_name: format!("^1{guid}"),
        outgunned_kills: outgunned,
        crossfire,
        solo_kills: duels.0,
        solo_deaths: duels.1,
        max_kill_distance: Some(longest),
        is_bot: false,
    }
}

fn pr(guid: &str, round_id: i64, kills: i32, deaths: i32) -> PlayerRound {
    PlayerRound {
        player_guid: guid.into(),
        round_id,
        kills,
        deaths,
    }
}

fn pair(a: &str, b: &str, in_range: i32, trades: i32) -> PairDay {
    PairDay {
        player1_guid: a.into(),
        player2_guid: b.into(),
        kills_within_range: in_range,
        trade_kills: trades,
    }
}

/// Three players over a stopwatch map and a single round.
fn input() -> SessionInput {
    SessionInput {
        server_id: "eu-1".into(),
        server_name: "^4EU ^7one".into(),
        date: NaiveDate::from_ymd_opt(2025, 11, 21),
        rounds: vec![
            round(1, "goldrush", 1, 0, 600),
            round(2, "goldrush", 2, 12, 420),
            round(3, "radar", 1, 25, 900),
        ],
        player_rounds: vec![
            pr("alpha", 1, 10, 5),
            pr("alpha", 2, 8, 6),
            pr("alpha", 3, 4, 9),
            pr("bravo", 1, 6, 6),
            pr("bravo", 3, 14, 3),
            pr("charlie", 2, 3, 8),
        ],
        day: vec![
            day("alpha", 2, 5, (6, 6), 1800.0),
            day("bravo", 6, 1, (9, 3), 2500.0),
            day("charlie", 0, 9, (2, 2), 900.0),
        ],
        pairs: vec![
            pair("alpha", "bravo", 4, 1),
            pair("bravo", "alpha", 3, 2),
            pair("charlie", "alpha", 1, 3),
            pair("alpha", "charlie", 2, 0),
        ],
        reference_duels: vec![
            Duels {
                player_guid: "alpha".into(),
                won: 10,
                lost: 30,
            },
            Duels {
                player_guid: "bravo".into(),
                won: 18,
                lost: 22,
            },
        ],
        fight: Vec::new(),
    }
}

#[test]
fn mvp_weighs_outgunned_kills_trades_and_deaths_not_only_kills() {
    assert_eq!(mvp_points(10, 4, 2, 1, 4), 10.0 - 2.0 + 2.0 + 1.0 + 1.0);
    let recap = compute(&input());
    // trade_kills counts player1's deaths avenged by player2: alpha avenged bravo twice and
    // charlie three times.
    let alpha = recap.players.iter().find(|p| p.guid == "alpha").unwrap();
    assert_eq!((alpha.kills, alpha.deaths, alpha.trades), (22, 20, 5));
    assert_eq!(alpha.points, 22.0 - 10.0 + 2.0 + 5.0 + 1.25);
    // bravo has fewer kills (20) than alpha (22) but fewer deaths and more outgunned kills.
    let bravo = recap.players.iter().find(|p| p.guid == "bravo").unwrap();
    assert_eq!(bravo.points, 20.0 - 4.5 + 6.0 + 1.0 + 0.25);
    assert_eq!(recap.mvp().unwrap().guid, "bravo");
    assert!(bravo.kills < alpha.kills);
}

#[test]
fn awards_name_the_best_with_their_number() {
    let recap = compute(&input());
    let award = |title: &str| {
        recap
            .awards
            .iter()
            .find(|a| a.title == title)
            .unwrap_or_else(|| panic!("no {title}"))
            .clone()
    };
    assert_eq!(award("Lone wolf").winner, "^1bravo");
    assert_eq!(award("Lone wolf").value, "6 outgunned kills");
    // alpha + bravo: 4 + 3 kills in range, both directions.
    assert_eq!(award("Best duo").winner, "^1alpha + ^1bravo");
    assert_eq!(award("Best duo").value, "7 kills in range");
    assert_eq!(award("Trade master").winner, "^1alpha");
    assert_eq!(award("Trade master").value, "5 teammates avenged");
    assert_eq!(award("Crossfire").winner, "^1charlie");
    assert_eq!(award("Longest kill").winner, "^1bravo");
    assert_eq!(award("Longest kill").value, "2500 units (~63 m)");
    for a in &recap.awards {
        assert!(!a.how.is_empty(), "{} explains itself", a.title);
    }
}

#[test]
fn the_1v1_riser_needs_ten_duels_on_both_sides_and_a_rise() {
    let recap = compute(&input());
    // bravo: 9/12 = 75% tonight vs 45%; alpha: 50% vs 25% (a smaller rise); charlie: 4 duels.
    let riser = recap
        .awards
        .iter()
        .find(|a| a.title == "1v1 riser")
        .unwrap();
    assert_eq!(riser.winner, "^1bravo");
    assert!(
        riser.value.starts_with("75% tonight vs 45%"),
        "{}",
        riser.value
    );
    let mut few = input();
    few.day[1].solo_kills = 5; // bravo: 8 duels tonight
    few.reference_duels[0].won = 30; // alpha: 50% before, 50% tonight: no rise
    let recap = compute(&few);
    assert!(recap.awards.iter().all(|a| a.title != "1v1 riser"));
    assert_eq!(duel_rate(5, 4), None);
    assert_eq!(duel_rate(5, 5), Some(0.5));
}

#[test]
fn stopwatch_halves_are_paired_and_the_time_tells_the_result() {
    let recap = compute(&input());
    assert_eq!(recap.maps.len(), 2);
    assert_eq!(recap.maps[0].map, "goldrush");
    assert_eq!(recap.maps[0].halves, vec![Some(600), Some(420)]);
    assert_eq!(recap.maps[0].outcome, Outcome::TimeBeaten);
    assert_eq!(
        recap.maps[1].outcome,
        Outcome::Unknown,
        "stopwatch, one half"
    );
    assert_eq!(stopwatch_outcome_of(600, 598), Outcome::TimeHeld);
    assert_eq!(recap.played_seconds, 600 + 420 + 900);
    assert_eq!(recap.rounds, 3);
    // A map of another game type is one round with no winner in the files.
    let mut other = round(9, "oasis", 1, 0, 60);
    other.gametype = Some(2);
    assert_eq!(maps_played(&[other])[0].outcome, Outcome::NotInFiles);
    // Round 2 of another map does not pair.
    let rounds = [
        round(1, "goldrush", 1, 0, 600),
        round(2, "radar", 2, 12, 420),
    ];
    assert_eq!(maps_played(&rounds).len(), 2);
}

fn stopwatch_outcome_of(a: i64, b: i64) -> Outcome {
    maps::stopwatch_outcome(Some(a), Some(b))
}

#[test]
fn the_chart_follows_the_top_players_round_by_round() {
    let recap = compute(&input());
    assert_eq!(recap.series.rounds, ["goldrush", "goldrush 2", "radar"]);
    assert_eq!(
        recap.series.players[0],
        ("bravo".to_string(), vec![6, 0, 14])
    );
    assert_eq!(recap.series.players.len(), 3);
}

#[test]
fn bots_get_no_award_and_the_order_of_rows_does_not_matter() {
    let mut with_bot = input();
    with_bot.day[1].is_bot = true;
    let recap = compute(&with_bot);
    assert!(recap.players.iter().all(|p| p.guid != "bravo"));
    assert!(recap.awards.iter().all(|a| !a.winner.contains("bravo")));
    let mut shuffled = input();
    shuffled.player_rounds.reverse();
    shuffled.day.reverse();
    shuffled.pairs.reverse();
    shuffled.reference_duels.reverse();
    assert_eq!(compute(&shuffled), compute(&input()));
}

#[test]
fn an_empty_session_has_no_mvp_and_no_awards() {
    let recap = compute(&SessionInput::default());
    assert!(recap.mvp().is_none());
    assert!(recap.awards.is_empty());
    let embed = embed::recap_embed(&recap);
    assert!(embed.description.unwrap().contains("No round"));
}

#[test]
fn the_embed_explains_each_number() {
    let recap = compute(&input());
    let embed = embed::recap_embed(&recap);
    assert_eq!(embed.title, "Session recap · EU one · Fri 2025-11-21");
    let names: Vec<&str> = embed.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Maps played",
            "MVP",
            "Lone wolf",
            "Best duo",
            "Trade master",
            "Crossfire",
            "Longest kill",
            "1v1 riser"
        ]
    );
    let mvp = &embed.fields[1].value;
    assert!(mvp.contains("bravo") && mvp.contains("points ="), "{mvp}");
    assert!(embed.fields[0]
        .value
        .contains("1. goldrush · 10m 00s + 7m 00s · stopwatch: the 2nd half beat the time"));
}

fn fight(
    guid: &str,
    minutes: i64,
    damage: i64,
    shots: i64,
    hits: i64,
    revives: i64,
) -> FightTotals {
    FightTotals {
        guid: guid.into(),
        name: guid.into(),
        time_played_ms: minutes * 60_000,
        damage_given: damage,
        bullet_shots: shots,
        bullet_hits: hits,
        revives_given: revives,
        ..FightTotals::default()
    }
}

#[test]
fn fight_awards_need_their_minimum_and_explain_themselves() {
    let mut with_fight = input();
    with_fight.fight = vec![
        // alpha: best accuracy but too few shots; most damage per minute.
        fight("alpha", 20, 6000, 50, 40, 1),
        fight("bravo", 30, 6000, 400, 120, 6),
        FightTotals {
            obj_steals: 2,
            obj_secures: 1,
            ..fight("charlie", 5, 5000, 0, 0, 0)
        },
    ];
    let recap = compute(&with_fight);
    let award = |title: &str| {
        recap
            .awards
            .iter()
            .find(|a| a.title == title)
            .unwrap_or_else(|| panic!("no {title} award in {:?}", recap.awards))
    };
    assert_eq!(award("Top medic").winner, "^1bravo");
    assert_eq!(award("Top medic").value, "6 revives");
    assert_eq!(award("Sharpshooter").winner, "^1bravo");
    assert_eq!(
        award("Sharpshooter").value,
        "30.0% accuracy (120 of 400 bullet shots hit)"
    );
    // charlie's 1000/min over 5 minutes is below the 10-minute minimum.
    assert_eq!(award("Damage dealer").winner, "^1alpha");
    assert_eq!(
        award("Damage dealer").value,
        "300.0 damage per minute (6000 damage in 20 min)"
    );
    assert_eq!(award("Objective hero").winner, "^1charlie");
    assert_eq!(
        award("Objective hero").value,
        "3 objective plays (2 steals, 1 secure)"
    );
    // Without fight data there is no fight award.
    let plain = compute(&input());
    assert!(plain.awards.iter().all(|a| a.title != "Top medic"));
}
