//! `etprox import`: imports round files and folders once, in batches, with a progress bar on a
//! terminal; one line per file, a summary line, and status 1 when a file or line was rejected.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use etprox::config::Config;
use etprox::db;
use etprox::ingest::{round_files_in, BackfillOptions, ImportOutcome, Importer};

#[derive(Args)]
pub struct ImportArgs {
    /// Round files, or folders whose *.txt files are imported.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Batches imported at the same time.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Files per transaction. Each file is still all-or-nothing; 1 gives one transaction
    /// per file.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Print only the summary line (and rejections).
    #[arg(long, short)]
    quiet: bool,
}

pub async fn run(config: &Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let files = expand(args.paths)?;
    let jobs = args.jobs.clamp(1, 16);
    let pool = db::connect_and_migrate(&config.database_url, jobs as u32 + 1).await?;
    let importer = Arc::new(Importer::new(
        pool,
        config.session,
        config.default_server_id.clone(),
    ));
    let out = Output::new(files.len(), args.quiet);
    let options = BackfillOptions {
        batch: args.batch.max(1),
        jobs,
    };
    let mut tally = Tally::default();
    let report = importer
        .import_backfill(&files, &options, |path, outcome| {
            out.tick();
            tally.record(&out, path, outcome);
        })
        .await;
    out.finish();
    if tally.imported > 0 && !args.quiet {
        println!(
            "heatmap rollups: brought up to date in {} ms",
            report.roll_up.as_millis()
        );
    }
    println!("{}", tally.summary());
    Ok(if tally.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The files to import: each folder's round files, each file as given.
fn expand(paths: Vec<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(
                round_files_in(&path)
                    .with_context(|| format!("reading folder {}", path.display()))?,
            );
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

/// Where the per-file lines go: above the progress bar when there is one, else stdout.
struct Output {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Output {
    /// A bar only for a person at a terminal and more than a screenful of files.
    fn new(files: usize, quiet: bool) -> Output {
        let bar = (files > 20 && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(files as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} files, {per_sec}, eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Output { bar, quiet }
    }

    fn print(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => println!("{line}"),
        }
    }

    fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What the files came to.
#[derive(Default)]
struct Tally {
    imported: usize,
    duplicate: usize,
    empty: usize,
    rejected: usize,
    kills: usize,
    bad_lines: usize,
}

impl Tally {
    fn record(
        &mut self,
        out: &Output,
        path: &std::path::Path,
        outcome: &Result<ImportOutcome, impl std::fmt::Display>,
    ) {
        let shown = path.display();
        match outcome {
            Ok(ImportOutcome::Imported {
                round_id,
                map_name,
                round_number,
                kills: n,
                flags,
                rejected_lines,
            }) => {
                self.imported += 1;
                self.kills += *n;
                self.bad_lines += rejected_lines.len();
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    let names: Vec<&str> = flags.iter().map(|f| f.as_str()).collect();
                    format!(" [{}]", names.join(", "))
                };
                if !out.quiet || !rejected_lines.is_empty() {
                    out.print(format!(
                        "imported          {shown}: {map_name} round {round_number}, {n} kills{flags} (id {round_id})"
                    ));
                }
                for line in rejected_lines {
                    out.print(format!(
                        "  rejected line    {shown}:{}: {} ({:?})",
                        line.line, line.reason, line.excerpt
                    ));
                }
            }
            Ok(ImportOutcome::AlreadyImported {
                round_id,
                first_path,
            }) => {
                self.duplicate += 1;
                if !out.quiet {
                    out.print(format!(
                        "already imported  {shown}: round {round_id} (from {first_path})"
                    ));
                }
            }
            Ok(ImportOutcome::Empty) => {
                self.empty += 1;
                if !out.quiet {
                    out.print(format!("empty             {shown}"));
                }
            }
            Ok(ImportOutcome::Rejected { reason }) => {
                self.rejected += 1;
                out.print(format!("rejected          {shown}: {reason}"));
            }
            Err(e) => {
                self.rejected += 1;
                out.print(format!("failed            {shown}: {e}"));
            }
        }
    }

    fn summary(&self) -> String {
        let Tally {
            imported,
            duplicate,
            empty,
            rejected,
            kills,
            bad_lines,
        } = self;
        format!(
            "{imported} imported ({kills} kills), {duplicate} already imported, {empty} empty, {rejected} rejected, {bad_lines} lines rejected"
        )
    }

    fn failed(&self) -> bool {
        self.rejected > 0 || self.bad_lines > 0
    }
}
