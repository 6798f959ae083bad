//! A backfill: many files imported at once (a community's history, a folder given to
//! `etprox import`). Files go in batches of one transaction each, several batches at a time; each
//! batch writes its heatmap rollups itself (`store`), so the roll-up at the end only finds rounds
//! an older version left pending. The live path (the watcher, one round per transaction) does
//! not come through here.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tracing::{debug, warn};

use super::{ImportError, ImportOutcome, Importer};

/// How a backfill runs.
#[derive(Debug, Clone, Copy)]
pub struct BackfillOptions {
    /// Files per transaction (each file is still all-or-nothing).
    pub batch: usize,
    /// Batches at the same time.
    pub jobs: usize,
}

/// One file's outcome.
pub type FileResult = (PathBuf, Result<ImportOutcome, ImportError>);

/// What a backfill came to.
#[derive(Debug)]
pub struct BackfillReport {
    /// Each file's outcome, in the order the files were given.
    pub files: Vec<FileResult>,
    /// Time spent rolling the heatmap up at the end.
    pub roll_up: Duration,
}

impl Importer {
    /// Imports `files` as a backfill; `on_outcome` hears each file as its batch commits. Results
    /// come back in the order of `files`. Ends with the heatmap rolled up over every committed
    /// round, so readers find nothing pending.
    pub async fn import_backfill(
        &self,
        files: &[PathBuf],
        options: &BackfillOptions,
        mut on_outcome: impl FnMut(&Path, &Result<ImportOutcome, ImportError>),
    ) -> BackfillReport {
        let batch = options.batch.max(1);
        let mut batches = futures_util::stream::iter(files.chunks(batch))
            .map(|chunk| self.spawn_batch(chunk.to_vec()))
            .buffered(options.jobs.max(1));
        let mut results: Vec<FileResult> = Vec::with_capacity(files.len());
        let mut roll_up = Duration::ZERO;
        let mut imported = false;
        while let Some(outcomes) = batches.next().await {
            for (path, outcome) in outcomes {
                imported |= matches!(outcome, Ok(ImportOutcome::Imported { .. }));
                on_outcome(&path, &outcome);
                results.push((path, outcome));
            }
        }
        if imported {
            roll_up = self.roll_up_heatmap().await;
        }
        BackfillReport {
            files: results,
            roll_up,
        }
    }

    /// Imports one batch on a task of its own, so that parsing one batch and waiting for the
    /// database on another use both cores.
    async fn spawn_batch(&self, paths: Vec<PathBuf>) -> Vec<FileResult> {
        let importer = self.clone();
        let batch = paths.clone();
        match tokio::spawn(async move { importer.import_files(&batch).await }).await {
            Ok(results) => results,
            // A panic inside the import (a bug, not the files): each file of the batch fails
            // and can be imported again; a panicked transaction never commits.
            Err(e) => paths
                .into_iter()
                .map(|path| {
                    let source = std::io::Error::other(format!("the import task failed: {e}"));
                    (path.clone(), Err(ImportError::Io { path, source }))
                })
                .collect(),
        }
    }

    /// Rolls the heatmap up over every committed round; returns the time it took. Best effort:
    /// what is left pending is rolled up by the next reader or import.
    async fn roll_up_heatmap(&self) -> Duration {
        let started = Instant::now();
        match crate::db::heatmap::roll_up_pending(&self.pool).await {
            Ok(rounds) => {
                debug!(
                    rounds,
                    ms = started.elapsed().as_millis() as u64,
                    "heatmap rolled up"
                )
            }
            Err(e) => warn!(error = %e, "heatmap roll-up failed; the next reader does it"),
        }
        started.elapsed()
    }
}
