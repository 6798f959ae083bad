//! Storing one batch of prepared files in one transaction: the batch's own duplicates folded,
//! each file planned against the database (new, a longer version of a stored round, or a copy),
//! earlier versions taken out, new rounds written with kills, aggregates and import log, and
//! the copies logged. The SQL is in `db::{rounds, stored, aggregates, import_log, heatmap}`;
//! the heatmap rollups and head-to-head rows are computed from the parsed kills (`derived`).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use sqlx::PgConnection;
use tracing::{debug, warn};

use super::{derived, identity, ImportError, ImportOutcome, Importer, NotStored, Plan, Prepared};
use crate::db::aggregates::upsert_aggregates;
use crate::db::import_log::{self, ImportLogEntry, NotImported};
use crate::db::rounds::{self as db_rounds, KillsOfRound, Rename, RoundRow};
use crate::db::stored::{self, ExistingRound, KillSignature, StoredFor, StoredRound};
use crate::round_file::parse_round_file;
use crate::stats::batch::{merge_rounds, RoundContext};
use crate::stats::{aggregate_round, RoundStats};

/// What a batch's files came to: for each, `(index of the file, outcome)`.
pub(super) type Outcomes = Vec<(usize, Result<ImportOutcome, ImportError>)>;

/// A round's kills as `identity` compares them.
type Signatures = Vec<KillSignature>;

/// A stored round taken out for a longer version: which file replaced it, and its counters.
struct Replaced {
    by: usize,
    old: StoredRound,
    stats: RoundStats,
}

impl Importer {
    /// One transaction: round rows, kills (COPY), merged aggregates, import log; earlier versions
    /// of the rounds taken out; the other tracker's copies reported.
    pub(super) async fn store(&self, batch: &[&Prepared<'_>]) -> sqlx::Result<Outcomes> {
        let mut steps = Steps::new();
        let (unique, twins) = fold_batch(batch);
        // Month partitions first, in their own short transaction (see db::partitions).
        let days: Vec<_> = unique.iter().map(|p| p.row.session_date).collect();
        crate::db::partitions::ensure_months(&self.pool, &days).await?;
        let mut tx = self.pool.begin().await?;
        steps.done("months");
        let keys: Vec<String> = unique.iter().flat_map(|p| p.lock_keys()).collect();
        stored::lock_round_keys(&mut tx, &keys).await?;
        let plans = plan_batch(&mut tx, &unique).await?;
        steps.done("plan");
        let mut round_ids: Vec<Option<i64>> = vec![None; unique.len()];
        let replaced = take_out_replaced(&mut tx, &unique, &plans, &mut round_ids).await?;
        insert_new_rounds(&mut tx, &unique, &plans, &mut round_ids).await?;
        steps.done("rounds");
        write_round_contents(&mut tx, &unique, &round_ids, &replaced, &mut steps).await?;
        clean_after_replacement(&mut tx, &unique, &replaced).await?;
        let raced = find_raced(&mut tx, &unique, &plans, &round_ids).await?;
        log_not_stored(&mut tx, &unique, &plans, &round_ids).await?;
        steps.done("after");
        tx.commit().await?;
        steps.done("commit");
        steps.log(unique.len());
        Ok(self.outcomes(batch.len(), &unique, &twins, &plans, &round_ids, &raced))
    }

    /// Each file's outcome, in the order of `unique` and then the twins folded into them.
    fn outcomes(
        &self,
        files: usize,
        unique: &[&Prepared<'_>],
        twins: &[(&Prepared<'_>, usize)],
        plans: &[Result<Plan, NotStored>],
        round_ids: &[Option<i64>],
        raced: &[ExistingRound],
    ) -> Outcomes {
        let mut outcomes: Outcomes = Vec::with_capacity(files);
        let mut first_outcome: Vec<(i64, String)> = Vec::with_capacity(unique.len());
        for ((p, plan), id) in unique.iter().zip(plans).zip(round_ids) {
            let (round_id, first_path) = match (plan, id) {
                (_, Some(round_id)) => {
                    debug!(round_id, map = %p.row.map_name, kills = p.round.kills.len(), "imported round");
                    let _ = self.events.send(p.event(*round_id));
                    first_outcome.push((*round_id, p.row.source_path.clone()));
                    outcomes.push((p.index, Ok(imported(p, *round_id))));
                    continue;
                }
                (
                    Err(
                        NotStored::Stored(id, path)
                        | NotStored::OtherTracker(id, path)
                        | NotStored::Archived(id, path),
                    ),
                    None,
                ) => (*id, path.clone()),
                (Err(NotStored::OtherTrackerTwin(j)), None) => first_outcome
                    .get(*j)
                    .cloned()
                    .unwrap_or((0, unique[*j].row.source_path.clone())),
                (Ok(_), None) => raced
                    .iter()
                    .find(|r| {
                        r.content_sha256 == p.row.content_sha256 || r.round_key == p.row.round_key
                    })
                    .map_or((0, String::new()), |r| (r.id, r.source_path.clone())),
            };
            first_outcome.push((round_id, first_path.clone()));
            outcomes.push((p.index, Ok(already(round_id, first_path))));
        }
        for (p, first) in twins {
            let (round_id, first_path) = first_outcome[*first].clone();
            outcomes.push((p.index, Ok(already(round_id, first_path))));
        }
        outcomes
    }
}

fn imported(p: &Prepared<'_>, round_id: i64) -> ImportOutcome {
    ImportOutcome::Imported {
        round_id,
        map_name: p.row.map_name.clone(),
        round_number: p.row.round_number,
        kills: p.round.kills.len(),
        flags: p.round.flags.clone(),
        rejected_lines: p.round.rejected.clone(),
    }
}

fn already(round_id: i64, first_path: String) -> ImportOutcome {
    ImportOutcome::AlreadyImported {
        round_id,
        first_path,
    }
}

/// The files of a batch to store, and the others, each with the index (into the first list)
/// of the file it is folded into.
type Folded<'b, 'a> = (Vec<&'b Prepared<'a>>, Vec<(&'b Prepared<'a>, usize)>);

/// Inside the batch: the same content, or versions of one round (the longest that extends the
/// others wins), are stored once.
fn fold_batch<'b, 'a>(batch: &[&'b Prepared<'a>]) -> Folded<'b, 'a> {
    let mut unique: Vec<&Prepared<'_>> = Vec::new();
    let mut twins: Vec<(&Prepared<'_>, usize)> = Vec::new();
    for p in batch {
        let same = unique.iter().position(|u| {
            u.row.content_sha256 == p.row.content_sha256 || u.identity() == p.identity()
        });
        match same {
            Some(at)
                if unique[at].row.content_sha256 != p.row.content_sha256
                    && identity::grown_from(
                        p.bytes,
                        &unique[at].row.content_sha256,
                        Some(unique[at].row.content_bytes),
                    )
                    .is_some() =>
            {
                twins.push((unique[at], at));
                unique[at] = p;
            }
            Some(at) => twins.push((p, at)),
            None => unique.push(p),
        }
    }
    (unique, twins)
}

/// Decides, file by file in batch order, against the database and the earlier files.
async fn plan_batch(
    tx: &mut PgConnection,
    unique: &[&Prepared<'_>],
) -> sqlx::Result<Vec<Result<Plan, NotStored>>> {
    let shas: Vec<&str> = unique
        .iter()
        .map(|p| p.row.content_sha256.as_str())
        .collect();
    let by_content = stored::find_existing(tx, &shas, &[]).await?;
    let rows: Vec<&RoundRow> = unique.iter().map(|p| &p.row).collect();
    let versions = stored::stored_versions(tx, &rows).await?;
    let candidates = stored::other_tracker_candidates(tx, &rows).await?;
    let mut plans: Vec<Result<Plan, NotStored>> = Vec::with_capacity(unique.len());
    let mut signatures: Vec<Option<Signatures>> = vec![None; unique.len()];
    for (i, p) in unique.iter().enumerate() {
        if let Some(found) = by_content
            .iter()
            .find(|r| r.content_sha256 == p.row.content_sha256)
        {
            plans.push(Err(NotStored::Stored(found.id, found.source_path.clone())));
            continue;
        }
        let stored: Vec<StoredRound> = versions
            .iter()
            .filter(|v| v.index == i)
            .map(|v| v.round.clone())
            .collect();
        if !stored.is_empty() {
            plans.push(plan_version(tx, p, stored).await?);
            continue;
        }
        let plan = plan_copy(tx, i, unique, &plans, &mut signatures, &candidates).await?;
        plans.push(plan);
    }
    Ok(plans)
}

/// A file with stored versions of its round: it replaces them when it extends every one (and
/// their raw kills are still there to take out), else it is a version already stored.
async fn plan_version(
    tx: &mut PgConnection,
    p: &Prepared<'_>,
    stored: Vec<StoredRound>,
) -> sqlx::Result<Result<Plan, NotStored>> {
    let grown = stored
        .iter()
        .all(|old| identity::grown_from(p.bytes, &old.content_sha256, old.content_bytes).is_some());
    let mut archived = false;
    for old in stored.iter().filter(|_| grown) {
        archived |= stored::stored_kill_rows(tx, old.id).await? != i64::from(old.kill_count);
    }
    let (id, path) = (stored[0].id, stored[0].source_path.clone());
    Ok(match (grown, archived) {
        (true, false) => Ok(Plan::Replace(stored)),
        (true, true) => Err(NotStored::Archived(id, path)),
        (false, _) => Err(NotStored::Stored(id, path)),
    })
}

/// The other tracker's copy: of an earlier file of the batch, or of a stored round. Kills are
/// compared only when map, round and time agree (`signatures` keeps those computed).
async fn plan_copy(
    tx: &mut PgConnection,
    i: usize,
    unique: &[&Prepared<'_>],
    plans: &[Result<Plan, NotStored>],
    signatures: &mut [Option<Signatures>],
    candidates: &[StoredFor],
) -> sqlx::Result<Result<Plan, NotStored>> {
    let p = unique[i];
    let mut mine: Option<Signatures> = None;
    let mut plan = Ok(Plan::New);
    for (j, earlier) in unique[..i].iter().enumerate() {
        if plans[j].is_ok() && p.may_match(earlier) {
            let mine =
                mine.get_or_insert_with(|| identity::kill_signatures(&p.round.kills, &p.stats));
            let theirs = signatures[j].get_or_insert_with(|| {
                identity::kill_signatures(&earlier.round.kills, &earlier.stats)
            });
            if identity::same_kills(mine, theirs) {
                plan = Err(NotStored::OtherTrackerTwin(j));
                break;
            }
        }
    }
    for candidate in candidates.iter().filter(|c| c.index == i) {
        if plan.is_err() {
            break;
        }
        let theirs = stored::kill_signatures(tx, candidate.round.id).await?;
        let mine = mine.get_or_insert_with(|| identity::kill_signatures(&p.round.kills, &p.stats));
        if identity::same_kills(mine, &theirs) {
            let source_path = candidate.round.source_path.clone();
            plan = Err(NotStored::OtherTracker(candidate.round.id, source_path));
        }
    }
    signatures[i] = mine;
    Ok(plan)
}

/// Earlier versions out: their counters (from the stored bytes, read again from the new file),
/// kills and heatmap roll-up; the first keeps its id for the new version.
async fn take_out_replaced(
    tx: &mut PgConnection,
    unique: &[&Prepared<'_>],
    plans: &[Result<Plan, NotStored>],
    round_ids: &mut [Option<i64>],
) -> sqlx::Result<Vec<Replaced>> {
    let mut replaced: Vec<Replaced> = Vec::new();
    for (i, (p, plan)) in unique.iter().zip(plans).enumerate() {
        let Ok(Plan::Replace(stored)) = plan else {
            continue;
        };
        for (n, old) in stored.iter().enumerate() {
            let Some(len) = identity::grown_from(p.bytes, &old.content_sha256, old.content_bytes)
            else {
                continue;
            };
            let name = old.source_name.clone().unwrap_or_default();
            let Ok(old_round) = parse_round_file(&p.bytes[..len], &name) else {
                continue;
            };
            let old_stats = aggregate_round(&old_round);
            let context = RoundContext {
                session_date: old.session_date,
                map_name: old.map_name.clone(),
                seen: old.started_at.or(old.ended_at).unwrap_or(old.imported_at),
            };
            let negated = merge_rounds([(&context, &old_stats)]).negated();
            db_rounds::remove_round_contribution(tx, old, &negated).await?;
            if n == 0 {
                db_rounds::update_round(tx, old.id, &p.row).await?;
                round_ids[i] = Some(old.id);
            } else {
                db_rounds::delete_round(tx, old.id).await?;
            }
            replaced.push(Replaced {
                by: i,
                old: old.clone(),
                stats: old_stats,
            });
        }
    }
    Ok(replaced)
}

/// Inserts the rows of the rounds planned as new, noting their ids.
async fn insert_new_rounds(
    tx: &mut PgConnection,
    unique: &[&Prepared<'_>],
    plans: &[Result<Plan, NotStored>],
    round_ids: &mut [Option<i64>],
) -> sqlx::Result<()> {
    let new_rows: Vec<(usize, &RoundRow)> = unique
        .iter()
        .zip(plans)
        .enumerate()
        .filter(|(_, (_, plan))| matches!(plan, Ok(Plan::New)))
        .map(|(i, (p, _))| (i, &p.row))
        .collect();
    let rows: Vec<&RoundRow> = new_rows.iter().map(|(_, r)| *r).collect();
    for inserted in db_rounds::insert_rounds(tx, &rows).await? {
        round_ids[new_rows[inserted.index].0] = Some(inserted.id);
    }
    Ok(())
}

/// Kills, player rounds, head-to-head, aggregates, import log and heatmap rollups of the rounds
/// that got an id: everything a round adds, in one place. A round's further sections (the v3
/// fight sections) are written here too, next to the kills.
async fn write_round_contents(
    tx: &mut PgConnection,
    unique: &[&Prepared<'_>],
    round_ids: &[Option<i64>],
    replaced: &[Replaced],
    steps: &mut Steps,
) -> sqlx::Result<()> {
    let new: Vec<(i64, &Prepared<'_>)> = unique
        .iter()
        .zip(round_ids)
        .filter_map(|(p, id)| id.map(|id| (id, *p)))
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let kills: Vec<KillsOfRound<'_, '_>> = new
        .iter()
        .map(|(id, p)| KillsOfRound {
            round_id: *id,
            row: &p.row,
            kills: &p.round.kills,
            stats: &p.stats,
        })
        .collect();
    db_rounds::copy_kills(tx, &kills).await?;
    steps.done("kills");
    // The whole fight (tracker 1.2 sections), after the kills: see ingest::fight.
    super::fight::store_fights(tx, &new).await?;
    steps.done("fight");
    db_rounds::insert_player_rounds(tx, &kills).await?;
    let (details, streaks) = derived::versus_rounds(&kills);
    db_rounds::insert_versus_rounds(tx, &details, &streaks).await?;
    steps.done("versus");
    crate::db::stats::add_round_engagements(tx, &kills).await?;
    let contexts: Vec<RoundContext> = new.iter().map(|(_, p)| p.context()).collect();
    let merged = merge_rounds(contexts.iter().zip(new.iter().map(|(_, p)| &p.stats)));
    upsert_aggregates(tx, &merged).await?;
    steps.done("aggregates");
    let log: Vec<ImportLogEntry<'_>> = new
        .iter()
        .map(|(id, p)| ImportLogEntry {
            source_path: &p.row.source_path,
            content_sha256: &p.row.content_sha256,
            round_id: *id,
            rejected: &p.round.rejected,
            message: replaces_message(*id, round_ids, replaced),
        })
        .collect();
    import_log::log_imports(tx, &log).await?;
    // The heatmap rollups from the parsed kills, so the rounds commit rolled up. Last: its
    // all-time rows are the ones concurrent batches wait for, so their locks are held shortest.
    crate::db::heatmap::add_rollup(tx, &derived::heatmap_rollup(&kills)).await?;
    steps.done("heatmap");
    Ok(())
}

/// The import-log message of a round that replaced earlier versions, if it did.
fn replaces_message(id: i64, round_ids: &[Option<i64>], replaced: &[Replaced]) -> Option<String> {
    replaced
        .iter()
        .filter(|r| round_ids[r.by] == Some(id))
        .map(|r| {
            format!(
                "replaces the earlier, shorter version of this round ({} kills, {} bytes, from {})",
                r.old.kill_count,
                r.old.content_bytes.map_or("?".into(), |b| b.to_string()),
                r.old.source_path
            )
        })
        .reduce(|a, b| format!("{a}; {b}"))
}

/// Rows only the replaced versions had, and names only they gave, go.
async fn clean_after_replacement(
    tx: &mut PgConnection,
    unique: &[&Prepared<'_>],
    replaced: &[Replaced],
) -> sqlx::Result<()> {
    for r in replaced {
        let (old, old_stats) = (&r.old, &r.stats);
        let keys: Vec<&str> = old_stats.players.iter().map(|p| p.key.as_str()).collect();
        db_rounds::delete_emptied_rows(tx, old.session_date, &old.map_name, &keys).await?;
        let new_stats = &unique[r.by].stats;
        let renames: Vec<Rename<'_>> = old_stats
            .players
            .iter()
            .filter_map(|o| {
                let n = new_stats.players.iter().find(|n| n.key == o.key)?;
                (n.name != o.name && !n.name.is_empty()).then_some(Rename {
                    key: &o.key,
                    old: &o.name,
                    new: &n.name,
                })
            })
            .collect();
        let seen = old.started_at.or(old.ended_at).unwrap_or(old.imported_at);
        db_rounds::rename_from_replaced(tx, old.session_date, seen, &renames).await?;
    }
    Ok(())
}

/// New rounds another import stored first (a race with a version without the locks).
async fn find_raced(
    tx: &mut PgConnection,
    unique: &[&Prepared<'_>],
    plans: &[Result<Plan, NotStored>],
    round_ids: &[Option<i64>],
) -> sqlx::Result<Vec<ExistingRound>> {
    let lost: Vec<&str> = unique
        .iter()
        .zip(plans)
        .zip(round_ids)
        .filter(|((_, plan), id)| matches!(plan, Ok(Plan::New)) && id.is_none())
        .map(|((p, _), _)| p.row.round_key.as_str())
        .collect();
    if lost.is_empty() {
        return Ok(Vec::new());
    }
    let shas: Vec<&str> = unique
        .iter()
        .map(|p| p.row.content_sha256.as_str())
        .collect();
    stored::find_existing(tx, &shas, &lost).await
}

/// The other tracker's copies, in the import log with the round they duplicate; longer
/// versions that could not replace an archived round, too.
async fn log_not_stored(
    tx: &mut PgConnection,
    unique: &[&Prepared<'_>],
    plans: &[Result<Plan, NotStored>],
    round_ids: &[Option<i64>],
) -> sqlx::Result<()> {
    for (p, plan) in unique.iter().zip(plans) {
        let (outcome, round_id, message) = match plan {
            Err(NotStored::Archived(id, first_path)) => {
                let message = format!(
                    "a longer version of round {id} (from {first_path}), whose raw kills were archived: the stored version is kept"
                );
                warn!(path = %p.row.source_path, %message, "round not replaced");
                ("not_replaced", Some(*id), message)
            }
            Err(NotStored::OtherTracker(id, path)) => (
                "duplicate",
                Some(*id),
                duplicate_message(p, Some(*id), path),
            ),
            Err(NotStored::OtherTrackerTwin(j)) => {
                let (id, path) = (round_ids[*j], &unique[*j].row.source_path);
                ("duplicate", id, duplicate_message(p, id, path))
            }
            _ => continue,
        };
        let file = NotImported {
            source_path: &p.row.source_path,
            content_sha256: Some(&p.row.content_sha256),
            outcome,
            round_id,
            message: &message,
        };
        import_log::log_not_imported(&mut *tx, &file).await?;
    }
    Ok(())
}

/// The import-log message of the other tracker's copy of a round (and says so in the log).
fn duplicate_message(p: &Prepared<'_>, id: Option<i64>, first_path: &str) -> String {
    let message = format!(
        "the same round as {first_path}{}, written by the other tracker (same map, round and time, the same kills); not imported again",
        id.map_or(String::new(), |id| format!(" (round {id})"))
    );
    warn!(path = %p.row.source_path, %message, "duplicate round");
    message
}

/// Time spent in each step of a batch's transaction, logged at debug level
/// (`RUST_LOG=etprox::ingest=debug`): where an import's time goes.
struct Steps {
    last: Instant,
    spent: Vec<(&'static str, Duration)>,
}

impl Steps {
    fn new() -> Self {
        Steps {
            last: Instant::now(),
            spent: Vec::with_capacity(12),
        }
    }

    /// The step just finished: the time since the previous one.
    fn done(&mut self, step: &'static str) {
        let now = Instant::now();
        self.spent.push((step, now - self.last));
        self.last = now;
    }

    fn log(&self, rounds: usize) {
        let total: Duration = self.spent.iter().map(|(_, d)| *d).sum();
        let mut steps = String::new();
        for (step, spent) in &self.spent {
            let _ = write!(steps, " {step}={:.1}", spent.as_secs_f64() * 1e3);
        }
        debug!(
            rounds,
            ms = total.as_secs_f64() * 1e3,
            steps = steps.trim_start(),
            "batch stored"
        );
    }
}
