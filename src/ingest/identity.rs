//! When two files are the same round: a file that grew since it was read, and the same round
//! written by both trackers.
//!
//! * **A file that grows.** A v2 file is one round per server and file name; a v3 file is one
//!   round per round id. A later version replaces the stored one when the stored bytes are a
//!   prefix of the new ones (the file grew, as a file read while it is written does). Every kill
//!   line of the stored version is then a line of the new one, at the same time, so taking the
//!   stored version's counters out and the new version's in gives exactly an import of the new
//!   version alone. A version that does not extend the stored one (shorter, or different) is
//!   reported as already imported and changes nothing.
//! * **Both trackers.** A v2 file and a v3 file are the same round when they have the same map
//!   and round number, time windows within two minutes of each other, and at least 90 % of the
//!   kills of the one with fewer (killer, victim, means of death; kills and team kills by a
//!   player) are also kills of the other. The first one imported is kept; the other is reported
//!   as a duplicate of it. Two servers playing the same map at the same time never match: no
//!   player is on both.

use sha2::{Digest, Sha256};

use crate::db::stored::KillSignature;
use crate::round_file::{KillKind, KillRecord};
use crate::stats::RoundStats;

/// Share of the smaller round's kills the other must also have (in tenths).
const MATCHING_KILLS_TENTHS: usize = 9;

/// The length of a prefix of `bytes` whose content hash is `sha`, shorter than `bytes`.
/// `stored_len` is the length read then (rows from before migration 0005 lack it: then every
/// prefix that ends a line is tried).
pub fn grown_from(bytes: &[u8], sha: &str, stored_len: Option<i64>) -> Option<usize> {
    if let Some(len) = stored_len {
        let len = usize::try_from(len).ok()?;
        return (len < bytes.len() && super::content_hash(&bytes[..len]) == sha).then_some(len);
    }
    // The hash reads CRLF as LF and skips a byte-order mark; hash the same way incrementally and
    // compare at every line end.
    let start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut hasher = Sha256::new();
    let mut from = start;
    for (at, &b) in bytes.iter().enumerate().skip(start) {
        if b != b'\n' {
            continue;
        }
        let end = if at > from && bytes[at - 1] == b'\r' {
            at - 1
        } else {
            at
        };
        hasher.update(&bytes[from..end]);
        hasher.update(b"\n");
        from = at + 1;
        if from < bytes.len() && hex::encode(hasher.clone().finalize()) == sha {
            return Some(from);
        }
    }
    None
}

/// (killer, victim, means of death) of the kills and team kills by a player, sorted.
pub fn kill_signatures(kills: &[KillRecord<'_>], stats: &RoundStats) -> Vec<KillSignature> {
    let mut out: Vec<KillSignature> = kills
        .iter()
        .zip(&stats.kills)
        .filter(|(k, _)| matches!(k.kind, KillKind::Kill | KillKind::TeamKill))
        .filter_map(|(k, r)| {
            let killer = r.killer?;
            Some(KillSignature {
                killer: stats.key(killer).to_owned(),
                victim: stats.key(r.victim).to_owned(),
                means_of_death: k.means_of_death,
            })
        })
        .collect();
    out.sort();
    out
}

/// Whether two rounds' kills say they are the same round (both lists sorted).
pub fn same_kills(a: &[KillSignature], b: &[KillSignature]) -> bool {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return false;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common * 10 >= smaller * MATCHING_KILLS_TENTHS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grown_file_is_recognised_with_or_without_the_stored_length() {
        let full = b"# head\r\nline one\r\nline two\r\nline thr";
        for cut in [8usize, 18] {
            let sha = crate::ingest::content_hash(&full[..cut]);
            assert_eq!(grown_from(full, &sha, Some(cut as i64)), Some(cut));
            assert_eq!(grown_from(full, &sha, None), Some(cut));
        }
        // Cut inside a line: found with the stored length only.
        let sha = crate::ingest::content_hash(&full[..12]);
        assert_eq!(grown_from(full, &sha, Some(12)), Some(12));
        assert_eq!(grown_from(full, &sha, None), None);
        // The same length is not a grown version; other bytes are not either.
        let same = crate::ingest::content_hash(full);
        assert_eq!(grown_from(full, &same, Some(full.len() as i64)), None);
        let other = crate::ingest::content_hash(b"# head\r\nline 1\r\n");
        assert_eq!(grown_from(full, &other, None), None);
        assert_eq!(grown_from(full, &other, Some(16)), None);
    }

    #[test]
    fn kills_match_when_nine_in_ten_of_the_smaller_side_agree() {
        let k = |n: i16| KillSignature {
            killer: "A".to_owned(),
            victim: "B".to_owned(),
            means_of_death: n,
        };
        let ten: Vec<_> = (0..10).map(k).collect();
        let nine: Vec<_> = (0..9).map(k).chain([k(99)]).collect();
        let eight: Vec<_> = (0..8).map(k).chain([k(98), k(99)]).collect();
        assert!(same_kills(&ten, &ten));
        assert!(same_kills(&ten, &nine));
        assert!(!same_kills(&ten, &eight));
        assert!(
            same_kills(&ten[..5], &ten),
            "v2 loses some kills: the smaller side counts"
        );
        assert!(!same_kills(&[], &ten));
    }
}
