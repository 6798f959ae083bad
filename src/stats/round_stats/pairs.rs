//! Teammate pair counters of a round: kills within range, simultaneous kills and trades.

use std::collections::HashMap;

use super::PAIR_WINDOW_MS;
use crate::round_file::Team;

/// Pair counters by (player1, player2): kills within range (player2 was a supporting ally of
/// player1's kill), simultaneous kills (both killed within 3 s) and trades (player2 killed
/// player1's killer within 3 s after player1 died).
pub(super) fn pair_stats(
    mut timeline: Vec<(i64, usize, Team, usize)>,
    crossfire: &[(usize, usize)],
) -> HashMap<(usize, usize), [i32; 3]> {
    let mut pairs: HashMap<(usize, usize), [i32; 3]> = HashMap::new();
    for &(killer, ally) in crossfire {
        pairs.entry((killer, ally)).or_default()[0] += 1;
    }
    timeline.sort_by_key(|t| t.0);
    let mut partners: Vec<usize> = Vec::new();
    for (i, &(t1, p1, team1, victim1)) in timeline.iter().enumerate() {
        // Simultaneous: once per kill of p1 for each teammate p2 who also killed within 3 s.
        partners.clear();
        // Times come from the file: saturate rather than overflow at the ends of i64.
        let start = timeline[..i].partition_point(|e| e.0 < t1.saturating_sub(PAIR_WINDOW_MS));
        for &(t2, p2, team2, _) in &timeline[start..] {
            if t2 > t1.saturating_add(PAIR_WINDOW_MS) {
                break;
            }
            if p2 != p1 && team2 == team1 && !partners.contains(&p2) {
                partners.push(p2);
            }
        }
        for &p2 in &partners {
            pairs.entry((p1, p2)).or_default()[1] += 1;
        }
        // Trade: victim1 died; a teammate of victim1 kills p1 within 3 s after.
        partners.clear();
        for &(t2, p2, team2, victim2) in &timeline[i + 1..] {
            if t2.saturating_sub(t1) > PAIR_WINDOW_MS {
                break;
            }
            if victim2 == p1 && p2 != victim1 && team2 != team1 && !partners.contains(&p2) {
                partners.push(p2);
            }
        }
        for &p2 in &partners {
            pairs.entry((victim1, p2)).or_default()[2] += 1;
        }
    }
    pairs
}
