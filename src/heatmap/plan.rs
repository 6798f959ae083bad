//! Which days a heatmap reads from which table: raw kills, the 64-unit rollup (per day or all
//! time) or the 512-unit `kill_heatmap`, so that no day is counted twice. Pure: decided from
//! what the database holds for the map ([`Coverage`]), tested without one.

use chrono::{Days, NaiveDate};

/// Session days from..to, inclusive; `None` is open-ended.
pub type DayRange = (Option<NaiveDate>, Option<NaiveDate>);

/// Which days come from which table. Ranges are inclusive; None is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Plan {
    pub raw: Option<DayRange>,
    pub fine: Option<DayRange>,
    /// The fine segment covers every rolled-up day: read the all-time table instead.
    pub fine_all_time: bool,
    pub coarse: Option<DayRange>,
    /// Days before this were archived and cannot be answered (raw-only filters).
    pub archived_before: Option<NaiveDate>,
}

/// What the database holds for a map: first raw day, and the span of the 64-unit rollup.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Coverage {
    pub first_raw: Option<NaiveDate>,
    /// Days in the per-day 64-unit rollup (the archived days).
    pub fine: Option<(NaiveDate, NaiveDate)>,
    /// The all-time 64-unit rollup has cells for the map (it holds every rolled-up round).
    pub total: bool,
}

fn day_before(d: NaiveDate) -> Option<NaiveDate> {
    d.checked_sub_days(Days::new(1))
}

fn day_after(d: NaiveDate) -> Option<NaiveDate> {
    d.checked_add_days(Days::new(1))
}

/// The part of `range` from `start` on (inclusive), or None when nothing is left.
fn clip_from((from, to): DayRange, start: Option<NaiveDate>) -> Option<DayRange> {
    let from = match (from, start) {
        (Some(f), Some(s)) => Some(f.max(s)),
        (f, s) => f.or(s),
    };
    match (from, to) {
        (Some(f), Some(t)) if f > t => None,
        r => Some(r),
    }
}

/// The part of `range` up to `end` (inclusive), or None when nothing is left.
fn clip_to((from, to): DayRange, end: Option<NaiveDate>) -> Option<DayRange> {
    let to = match (to, end) {
        (Some(t), Some(e)) => Some(t.min(e)),
        (t, e) => t.or(e),
    };
    match (from, to) {
        (Some(f), Some(t)) if f > t => None,
        r => Some(r),
    }
}

/// Splits the requested days between the tables so that no day is counted twice:
/// filters the rollups can answer use `kill_heatmap_fine` for the days it covers (a few
/// thousand rows instead of every kill), raw kills for later days not rolled up yet,
/// and `kill_heatmap` for days archived before the fine rollup existed. Player, weapon
/// and engagement filters need raw kills for every day.
pub fn plan_sources(range: DayRange, needs_raw: bool, cov: Coverage) -> Plan {
    if needs_raw {
        let archived_before = cov
            .first_raw
            .filter(|first| range.0.is_none_or(|f| f < *first));
        return Plan {
            raw: Some(range),
            archived_before,
            ..Plan::default()
        };
    }
    if cov.total && range == (None, None) {
        return Plan {
            fine: Some(range),
            fine_all_time: true,
            ..Plan::default()
        };
    }
    match cov.fine {
        Some((f0, f1)) => Plan {
            coarse: day_before(f0).and_then(|end| clip_to(range, Some(end))),
            fine: clip_from(range, Some(f0)).and_then(|r| clip_to(r, Some(f1))),
            fine_all_time: false,
            raw: day_after(f1).and_then(|start| clip_from(range, Some(start))),
            archived_before: None,
        },
        None => match cov.first_raw {
            None => Plan {
                coarse: Some(range),
                ..Plan::default()
            },
            Some(first) => Plan {
                coarse: day_before(first).and_then(|end| clip_to(range, Some(end))),
                raw: clip_from(range, Some(first)),
                ..Plan::default()
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn cov(first_raw: Option<&str>, fine: Option<(&str, &str)>) -> Coverage {
        Coverage {
            first_raw: first_raw.map(d),
            fine: fine.map(|(a, b)| (d(a), d(b))),
            total: false,
        }
    }

    #[test]
    fn all_time_with_the_total_rollup_reads_only_it() {
        let mut c = cov(Some("2026-10-01"), Some(("2026-03-01", "2026-09-30")));
        c.total = true;
        let plan = plan_sources((None, None), false, c);
        assert_eq!(plan.fine, Some((None, None)));
        assert!(plan.fine_all_time);
        assert_eq!((plan.raw, plan.coarse), (None, None));
        // A bounded period does not use the all-time table.
        let week = plan_sources((Some(d("2026-11-01")), None), false, c);
        assert!(!week.fine_all_time);
        assert_eq!(week.raw, Some((Some(d("2026-11-01")), None)));
    }

    #[test]
    fn all_time_uses_coarse_then_fine_then_raw_without_overlap() {
        let plan = plan_sources(
            (None, None),
            false,
            cov(Some("2026-10-01"), Some(("2026-03-01", "2026-11-19"))),
        );
        assert_eq!(plan.coarse, Some((None, Some(d("2026-02-28")))));
        assert_eq!(
            plan.fine,
            Some((Some(d("2026-03-01")), Some(d("2026-11-19"))))
        );
        assert_eq!(plan.raw, Some((Some(d("2026-11-20")), None)));
        assert_eq!(plan.archived_before, None);
    }

    #[test]
    fn without_fine_rollup_archived_days_come_from_coarse() {
        let plan = plan_sources((None, None), false, cov(Some("2026-10-01"), None));
        assert_eq!(plan.coarse, Some((None, Some(d("2026-09-30")))));
        assert_eq!(plan.raw, Some((Some(d("2026-10-01")), None)));
        assert_eq!(plan.fine, None);
        let none = plan_sources((None, None), false, cov(None, None));
        assert_eq!(none.coarse, Some((None, None)));
        assert_eq!(none.raw, None);
    }

    #[test]
    fn raw_only_filters_report_archived_days() {
        let plan = plan_sources(
            (None, None),
            true,
            cov(Some("2026-10-01"), Some(("2026-01-01", "2026-11-20"))),
        );
        assert_eq!(plan.raw, Some((None, None)));
        assert_eq!((plan.fine, plan.coarse), (None, None));
        assert_eq!(plan.archived_before, Some(d("2026-10-01")));
        let recent = plan_sources(
            (Some(d("2026-11-01")), None),
            true,
            cov(Some("2026-10-01"), None),
        );
        assert_eq!(recent.archived_before, None);
    }

    #[test]
    fn period_inside_the_rollup_uses_it_alone() {
        let plan = plan_sources(
            (Some(d("2026-11-01")), Some(d("2026-11-07"))),
            false,
            cov(Some("2026-10-01"), Some(("2026-01-01", "2026-11-20"))),
        );
        assert_eq!(
            plan.fine,
            Some((Some(d("2026-11-01")), Some(d("2026-11-07"))))
        );
        assert_eq!((plan.raw, plan.coarse), (None, None));
    }

    #[test]
    fn days_not_rolled_up_yet_come_from_raw() {
        // Importer not writing the rollup: everything after its last day is raw.
        let plan = plan_sources(
            (Some(d("2026-11-15")), None),
            false,
            cov(Some("2026-10-01"), Some(("2026-10-01", "2026-11-10"))),
        );
        assert_eq!(plan.fine, None);
        assert_eq!(plan.coarse, None);
        assert_eq!(plan.raw, Some((Some(d("2026-11-15")), None)));
    }

    proptest::proptest! {
        /// Every requested day is read from exactly one table.
        #[test]
        fn plans_cover_each_day_once(
            from in proptest::option::of(0u64..60), len in 0u64..60, open_end: bool,
            first_raw in proptest::option::of(0u64..60),
            fine in proptest::option::of((0u64..60, 0u64..30)),
            total: bool,
        ) {
            let base = d("2026-01-01");
            let day = |n: u64| base.checked_add_days(Days::new(n)).expect("day");
            let range = (from.map(day), if open_end { None } else { Some(day(from.unwrap_or(0) + len)) });
            let coverage = Coverage { first_raw: first_raw.map(day), fine: fine.map(|(a, l)| (day(a), day(a + l))), total };
            let plan = plan_sources(range, false, coverage);
            let inside = |r: Option<DayRange>, x: NaiveDate| {
                r.is_some_and(|(f, t)| f.is_none_or(|f| f <= x) && t.is_none_or(|t| x <= t))
            };
            for n in 0..130 {
                let x = day(n);
                let wanted = inside(Some(range), x);
                let hits = [plan.raw, plan.fine, plan.coarse].iter().filter(|r| inside(**r, x)).count();
                proptest::prop_assert_eq!(hits, usize::from(wanted), "day {} plan {:?}", x, plan);
            }
        }
    }
}
