//! The maps of a session in play order, a stopwatch map's two halves paired, with durations
//! and what the files tell of the result.

use crate::db::recap::SessionRound;

/// ET's `g_gametype` for stopwatch, the mode that plays a map in two halves.
const STOPWATCH: i16 = 3;
/// A second half within this many seconds of the first half's time did not beat it (the
/// game ends the half when the clock reaches the first half's time; rounds end on whole
/// seconds in the files).
const TIME_TOLERANCE_SECS: i64 = 5;

/// What the files say about a map's result. They carry no winner; for a stopwatch map the
/// two halves' durations tell whether the second half beat the first half's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A single round: the round files carry no winner.
    NotInFiles,
    /// Stopwatch: the second half finished faster than the first half's time.
    TimeBeaten,
    /// Stopwatch: the second half ran (about) as long as the first: its time held.
    TimeHeld,
    /// Stopwatch halves without both durations, or only one half imported.
    Unknown,
}

/// One map played: its halves' durations (seconds, `None` when a file lacks the start).
#[derive(Debug, Clone, PartialEq)]
pub struct MapPlayed {
    pub map: String,
    pub halves: Vec<Option<i64>>,
    pub stopwatch: bool,
    pub outcome: Outcome,
}

/// A round's duration in seconds, when its file carries a start and an end.
pub fn seconds(round: &SessionRound) -> Option<i64> {
    let (start, end) = (round.started_at?, round.ended_at?);
    let s = (end - start).num_seconds();
    (s >= 0).then_some(s)
}

/// `goldrush` or `goldrush 2` (the second half of a stopwatch map), for chart labels.
pub fn round_label(round: &SessionRound) -> String {
    let map = crate::players::strip_colour_codes(&round.map_name);
    if round.round_number >= 2 {
        format!("{map} {}", round.round_number)
    } else {
        map
    }
}

fn may_be_stopwatch(round: &SessionRound) -> bool {
    round.gametype.is_none_or(|g| g == STOPWATCH)
}

/// The maps played, in order: a round 1 followed directly by round 2 of the same map (and a
/// stopwatch or unknown game type) is one stopwatch map; a round 2 alone is a half map.
pub fn maps_played(rounds: &[SessionRound]) -> Vec<MapPlayed> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rounds.len() {
        let r = &rounds[i];
        let next = rounds.get(i + 1);
        let paired = next.filter(|n| {
            r.round_number == 1
                && n.round_number == 2
                && n.map_name == r.map_name
                && may_be_stopwatch(r)
                && may_be_stopwatch(n)
        });
        if let Some(second) = paired {
            let (a, b) = (seconds(r), seconds(second));
            out.push(MapPlayed {
                map: r.map_name.clone(),
                halves: vec![a, b],
                stopwatch: true,
                outcome: stopwatch_outcome(a, b),
            });
            i += 2;
            continue;
        }
        let stopwatch = r.round_number >= 2 || r.gametype == Some(STOPWATCH);
        out.push(MapPlayed {
            map: r.map_name.clone(),
            halves: vec![seconds(r)],
            stopwatch,
            outcome: if stopwatch {
                Outcome::Unknown
            } else {
                Outcome::NotInFiles
            },
        });
        i += 1;
    }
    out
}

/// Whether the second half beat the first half's time, from the two durations.
pub fn stopwatch_outcome(first: Option<i64>, second: Option<i64>) -> Outcome {
    match (first, second) {
        (Some(a), Some(b)) if b + TIME_TOLERANCE_SECS < a => Outcome::TimeBeaten,
        (Some(_), Some(_)) => Outcome::TimeHeld,
        _ => Outcome::Unknown,
    }
}
