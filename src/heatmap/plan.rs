//! Which days a heatmap reads from which table, so that no day is counted twice: the 0010
//! rollups (`kill_heatmap_cells` per day, or an all-time total) for every day they hold, and
//! for days archived before they existed the 64-unit `kill_heatmap_fine` and the 512-unit
//! `kill_heatmap` (which answer team and kind filters only). Raw kills only when asked
//! (`raw_only`, for comparisons). Pure: decided from what the database holds for the map
//! ([`Coverage`]), tested without one.

use chrono::{Days, NaiveDate};

/// Session days from..to, inclusive; `None` is open-ended.
pub type DayRange = (Option<NaiveDate>, Option<NaiveDate>);

/// What the filter asks of the data, from the least to the most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Team, kind and period only: every rollup answers.
    Team,
    /// A weapon or an engagement class, no player: the 0010 rollups only.
    Filtered,
    /// A player (with any other filter): `kill_heatmap_cells` by player.
    Player,
    /// Count raw kills for every day (comparisons and benches).
    Raw,
}

/// An all-time table that answers the whole request alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// `kill_heatmap_fine_total`: every kill ever rolled up, by team.
    Fine,
    /// `kill_heatmap_cube_total`: the days of `kill_heatmap_cells`, by team, weapon, engagement.
    Cube,
}

/// Which days come from which table. Ranges are inclusive; None is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Plan {
    pub raw: Option<DayRange>,
    /// Days read from `kill_heatmap_cells`.
    pub cells: Option<DayRange>,
    /// The whole request from one all-time table (no day segments then).
    pub total: Option<Total>,
    pub fine: Option<DayRange>,
    pub coarse: Option<DayRange>,
    /// Days the filter cannot be answered for (archived before the 0010 rollups existed).
    pub archived: Option<Archived>,
}

/// Which requested days a weapon, engagement or player filter cannot see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archived {
    /// Kills before this day.
    Before(NaiveDate),
    /// Every kill of the map.
    All,
}

/// What the database holds for a map.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Coverage {
    /// First day with raw kills (only needed for [`Need::Raw`]).
    pub first_raw: Option<NaiveDate>,
    /// First day in `kill_heatmap_cells`: from it on the 0010 rollups hold every day.
    pub first_cells: Option<NaiveDate>,
    /// Days in the per-day `kill_heatmap_fine` (archived days).
    pub fine: Option<(NaiveDate, NaiveDate)>,
    /// First day in the 512-unit `kill_heatmap`.
    pub first_coarse: Option<NaiveDate>,
    /// `kill_heatmap_fine_total` has cells for the map (it holds every rolled-up round).
    pub total: bool,
}

impl Coverage {
    /// First day of the older rollups, when they hold days before `first_cells`.
    fn first_older_than_cells(&self) -> Option<NaiveDate> {
        let first = [self.fine.map(|(f0, _)| f0), self.first_coarse]
            .into_iter()
            .flatten()
            .min()?;
        self.first_cells.is_none_or(|c| first < c).then_some(first)
    }
}

fn day_before(d: NaiveDate) -> Option<NaiveDate> {
    d.checked_sub_days(Days::new(1))
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

/// Splits the requested days between the tables so that no day is counted twice.
/// All time reads one all-time table when the filter allows it. Otherwise the days from the
/// first of `kill_heatmap_cells` on come from it; earlier days (archived before migration
/// 0010) from `kill_heatmap_fine`, and before that `kill_heatmap`, for team filters, and are
/// reported as archived for weapon, engagement and player filters.
pub fn plan_sources(range: DayRange, need: Need, cov: Coverage) -> Plan {
    let all_time = range == (None, None);
    match need {
        Need::Raw => Plan {
            raw: Some(range),
            archived: cov
                .first_raw
                .filter(|first| range.0.is_none_or(|f| f < *first))
                .map(Archived::Before),
            ..Plan::default()
        },
        Need::Team if all_time && cov.total => Plan {
            total: Some(Total::Fine),
            ..Plan::default()
        },
        Need::Team => plan_days_with_older(range, cov),
        Need::Filtered | Need::Player => {
            let archived = archived_days(range, cov);
            let cells = cov.first_cells.and_then(|c| clip_from(range, Some(c)));
            if need == Need::Filtered && all_time {
                return Plan {
                    total: cells.map(|_| Total::Cube),
                    archived,
                    ..Plan::default()
                };
            }
            Plan {
                cells,
                archived,
                ..Plan::default()
            }
        }
    }
}

/// Whether `range` reaches days that only the older rollups hold.
fn archived_days(range: DayRange, cov: Coverage) -> Option<Archived> {
    let older = cov.first_older_than_cells()?;
    let starts_before_cells = range
        .0
        .is_none_or(|f| cov.first_cells.is_none_or(|c| f < c));
    let ends_after_older = range.1.is_none_or(|t| t >= older);
    let archived = match cov.first_cells {
        Some(c) => Archived::Before(c),
        None => Archived::All,
    };
    (starts_before_cells && ends_after_older).then_some(archived)
}

/// Team filters over days: cells from their first day on, the older rollups before it.
fn plan_days_with_older(range: DayRange, cov: Coverage) -> Plan {
    let cells = cov.first_cells.and_then(|c| clip_from(range, Some(c)));
    let older = match cov.first_cells {
        Some(c) => day_before(c).and_then(|end| clip_to(range, Some(end))),
        None => Some(range),
    };
    let (fine, coarse) = match (older, cov.fine) {
        (None, _) => (None, None),
        (Some(older), None) => (None, Some(older)),
        // The fine rollup holds every day archived since it exists: it answers the older
        // days from its first on, kill_heatmap the days before.
        (Some(older), Some((f0, _))) => (
            clip_from(older, Some(f0)),
            day_before(f0).and_then(|end| clip_to(older, Some(end))),
        ),
    };
    Plan {
        cells,
        fine,
        coarse,
        ..Plan::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    /// Cells from `cells` on, archived fine days `fine`, coarse from `coarse`.
    fn cov(cells: Option<&str>, fine: Option<(&str, &str)>, coarse: Option<&str>) -> Coverage {
        Coverage {
            first_raw: cells.map(d),
            first_cells: cells.map(d),
            fine: fine.map(|(a, b)| (d(a), d(b))),
            first_coarse: coarse.map(d),
            total: cells.is_some() || fine.is_some(),
        }
    }

    #[test]
    fn all_time_reads_one_total_table() {
        let c = cov(Some("2026-10-01"), Some(("2026-03-01", "2026-09-30")), None);
        let plan = plan_sources((None, None), Need::Team, c);
        assert_eq!(plan.total, Some(Total::Fine));
        assert_eq!((plan.cells, plan.fine, plan.coarse), (None, None, None));
        let plan = plan_sources((None, None), Need::Filtered, c);
        assert_eq!(plan.total, Some(Total::Cube));
        assert_eq!(plan.archived, Some(Archived::Before(d("2026-10-01"))));
        // A bounded period reads days.
        let week = plan_sources((Some(d("2026-11-01")), None), Need::Filtered, c);
        assert_eq!(week.total, None);
        assert_eq!(week.cells, Some((Some(d("2026-11-01")), None)));
        assert_eq!(week.archived, None);
    }

    #[test]
    fn team_filters_read_older_rollups_before_the_cells() {
        let c = cov(
            Some("2026-10-01"),
            Some(("2026-03-01", "2026-11-19")),
            Some("2026-01-01"),
        );
        let plan = plan_sources((Some(d("2026-02-01")), None), Need::Team, c);
        assert_eq!(
            plan.coarse,
            Some((Some(d("2026-02-01")), Some(d("2026-02-28"))))
        );
        assert_eq!(
            plan.fine,
            Some((Some(d("2026-03-01")), Some(d("2026-09-30"))))
        );
        assert_eq!(plan.cells, Some((Some(d("2026-10-01")), None)));
        assert_eq!((plan.raw, plan.total, plan.archived), (None, None, None));
    }

    #[test]
    fn player_filters_read_cells_and_report_older_days() {
        let c = cov(Some("2026-10-01"), Some(("2026-01-01", "2026-09-30")), None);
        let plan = plan_sources((None, None), Need::Player, c);
        assert_eq!(plan.cells, Some((Some(d("2026-10-01")), None)));
        assert_eq!(plan.total, None);
        assert_eq!(plan.archived, Some(Archived::Before(d("2026-10-01"))));
        let recent = plan_sources((Some(d("2026-11-01")), None), Need::Player, c);
        assert_eq!(recent.archived, None);
        // Nothing in the cells: every kill is archived for this filter.
        let old = plan_sources(
            (None, None),
            Need::Player,
            cov(None, None, Some("2026-01-01")),
        );
        assert_eq!((old.cells, old.archived), (None, Some(Archived::All)));
        // No data at all: nothing archived either.
        let empty = plan_sources((None, None), Need::Filtered, cov(None, None, None));
        assert_eq!((empty.total, empty.archived), (None, None));
    }

    #[test]
    fn raw_only_reads_raw_for_every_day() {
        let plan = plan_sources(
            (None, None),
            Need::Raw,
            cov(Some("2026-10-01"), Some(("2026-01-01", "2026-11-20")), None),
        );
        assert_eq!(plan.raw, Some((None, None)));
        assert_eq!((plan.fine, plan.coarse, plan.cells), (None, None, None));
        assert_eq!(plan.archived, Some(Archived::Before(d("2026-10-01"))));
    }

    proptest::proptest! {
        /// Every requested day is read from exactly one table, for every kind of filter.
        #[test]
        fn plans_cover_each_day_once(
            from in proptest::option::of(0u64..60), len in 0u64..60, open_end: bool,
            cells in proptest::option::of(0u64..60),
            fine in proptest::option::of((0u64..60, 0u64..30)),
            coarse in proptest::option::of(0u64..60),
            need in proptest::sample::select(vec![Need::Team, Need::Filtered, Need::Player, Need::Raw]),
        ) {
            let base = d("2026-01-01");
            let day = |n: u64| base.checked_add_days(Days::new(n)).expect("day");
            let range = (from.map(day), if open_end { None } else { Some(day(from.unwrap_or(0) + len)) });
            let coverage = Coverage {
                first_raw: cells.map(day),
                first_cells: cells.map(day),
                fine: fine.map(|(a, l)| (day(a), day(a + l))),
                first_coarse: coarse.map(day),
                total: true,
            };
            let plan = plan_sources(range, need, coverage);
            let inside = |r: Option<DayRange>, x: NaiveDate| {
                r.is_some_and(|(f, t)| f.is_none_or(|f| f <= x) && t.is_none_or(|t| x <= t))
            };
            let total = match plan.total {
                Some(Total::Fine) => Some((None, None)),
                Some(Total::Cube) => Some((cells.map(day), None)),
                None => None,
            };
            for n in 0..130 {
                let x = day(n);
                let wanted = inside(Some(range), x);
                let hits = [plan.raw, plan.cells, total, plan.fine, plan.coarse]
                    .iter().filter(|r| inside(**r, x)).count();
                let answerable = need == Need::Team || need == Need::Raw
                    || cells.is_some_and(|c| x >= day(c));
                proptest::prop_assert_eq!(
                    hits, usize::from(wanted && answerable), "day {} plan {:?}", x, plan
                );
            }
        }
    }
}
