//! The `etprox` command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use etprox::commands::retention::human_bytes;
use etprox::config::Config;
use etprox::db;
use etprox::ingest::{round_files_in, watcher, ImportOutcome, Importer};

/// Proximity stats for Wolfenstein: Enemy Territory (ET:Legacy) servers.
///
/// Reads the round files that the game-server tracker writes (ours, v3, or the public
/// Proximity Tracker v2), imports each round exactly once into PostgreSQL, and keeps per-player,
/// per-pair and per-map aggregates. Configuration comes from the environment or a `.env` file
/// (see .env.example); DATABASE_URL defaults to the local server, database `etprox`.
#[derive(Parser)]
#[command(name = "etprox", version, about, long_about)]
struct Cli {
    /// Read the configuration from this file instead of `.env` in the working folder (the
    /// Debian package keeps it in /etc/etprox/etprox.env). Variables already set in the
    /// environment win over the file.
    #[arg(long, global = true, value_name = "FILE")]
    env_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// See the whole product work: simulated servers play an evening, rounds are imported as they
    /// end, summaries and stats are printed, heatmaps written to ./demo-out/.
    ///
    /// Uses DATABASE_URL's server if set, else the local PostgreSQL on 127.0.0.1:5432, else a
    /// private cluster started from the PostgreSQL binaries on this machine. It only touches its
    /// own database, `etprox_demo`.
    Demo {
        /// Start from an empty demo database (otherwise a second run reports the rounds as
        /// already imported).
        #[arg(long)]
        fresh: bool,
        /// Keep the demo database afterwards, to try `etprox ask`.
        #[arg(long)]
        keep: bool,
        /// Where images and other outputs go.
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
    },
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
    /// Import round files or folders of round files once (prints one line per file).
    ///
    /// Exits with status 1 when any file or line was rejected; rejected lines are listed with
    /// their line number and reason, and kept in the import log.
    Import {
        /// Round files, or folders whose *.txt files are imported.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Batches imported at the same time.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Files per transaction. Each file is still all-or-nothing; 1 gives one transaction
        /// per file.
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Print only the summary line (and rejections).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Watch ETPROX_ROUND_DIRS and import every round file as it appears, until Ctrl-C.
    Watch,
    /// Run the Discord bot: watcher, importer, slash commands, round summaries, retention.
    ///
    /// Needs DISCORD_TOKEN; see .env.example for the other ETPROX_* settings.
    Bot,
    /// First-start doctor: checks the configuration, the database, the round folders, the
    /// Discord token, the guild(s), the summary channel's permissions and the map assets.
    ///
    /// Prints one line per check, ✔ or ✘ with what to do; exits with status 1 when any
    /// check failed. Reads the same environment and `.env` as `etprox bot`.
    Check,
    /// Answer a slash command in the terminal, as the bot would on Discord.
    ///
    /// Example: etprox ask "/duo player:Slomix period:7d". Attachments are written to --out.
    /// The console user counts as an admin.
    Ask {
        /// The command line, e.g. "/solo period:all" or "/retention archive days:60".
        #[arg(required_unless_present = "press")]
        command: Option<String>,
        /// Press a button instead: the id printed after a reply's button.
        #[arg(long, value_name = "BUTTON_ID", conflicts_with = "command")]
        press: Option<String>,
        /// Folder for attachments.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
        /// Act as this Discord user (for /link, /unlink and the [player] default).
        #[arg(long, value_name = "DISCORD_USER_ID")]
        as_user: Option<i64>,
    },
    /// Raw-data retention: what is stored, and archiving raw kills past a number of days.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Render a kill heatmap of a map to a PNG (the same image the bot's /heatmap sends).
    Heatmap(etprox::heatmap::cli::HeatmapArgs),
    /// Map calibration and command-map images: import them from an ET install or pk3 files.
    Maps(etprox::heatmap::cli::MapsArgs),
    /// Measure speed on this machine.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Time /solo, /duo, /player and /leaderboard (database + reply) on a scratch database
    /// `etprox_bench_commands` with about a million kills over two years (kept for --reuse).
    Commands {
        #[arg(long, default_value_t = 1_000_000)]
        kills: usize,
        #[arg(long, default_value_t = 730)]
        days: i64,
        #[arg(long, default_value_t = 40)]
        repeats: usize,
        /// Use the bench database from an earlier run instead of seeding it again.
        #[arg(long)]
        reuse: bool,
    },
    /// Write synthetic v3 round files (deterministic) into a folder, e.g. to try a backfill.
    Generate {
        /// Folder to write into (created if missing).
        dir: PathBuf,
        #[arg(long, default_value_t = 1000)]
        rounds: usize,
        #[arg(long, default_value_t = 70)]
        kills_per_round: usize,
    },
    /// Import synthetic rounds into a scratch database `etprox_bench` (created and dropped on the
    /// DATABASE_URL server) and compare with a plain COPY of the same kill rows.
    Import {
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        #[arg(long, default_value_t = 140)]
        kills_per_round: usize,
        /// Transactions at the same time.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Files per transaction (1 = one transaction per file, as the watcher does).
        #[arg(long, default_value_t = 32)]
        batch: usize,
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Create the database if needed and apply migrations (other commands do this too).
    Migrate,
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Rows, size and date range per table.
    Stats,
    /// Delete raw kills of session days older than N days. Aggregates are kept.
    Archive {
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
        older_than_days: u32,
        /// Show what would be archived, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the rows to DIR/kill_context-<date>.csv before deleting them.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The configuration file first, so RUST_LOG written there counts (configuration reads
    // `.env` again; dotenvy never overrides a variable that is already set).
    match &cli.env_file {
        Some(file) => {
            if let Err(e) = dotenvy::from_path(file) {
                eprintln!("error: --env-file {}: cannot read it: {e}", file.display());
                return ExitCode::from(2);
            }
        }
        None => {
            let _ = dotenvy::dotenv();
        }
    }
    // Long-running services log what they do; one-shot commands print their own results.
    let default_filter = match cli.command {
        Command::Watch | Command::Bot => "etprox=info,sqlx=error,warn",
        _ => "etprox=warn,sqlx=error,warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in journald or a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Check = cli.command {
        // Before the configuration is loaded: a bad setting is one of the things it reports.
        return Ok(check().await);
    }
    let config = Config::from_env().context("invalid configuration")?;
    match cli.command {
        Command::Demo { fresh, keep, out } => {
            let options = etprox::demo::DemoOptions {
                fresh,
                keep,
                work_dir: std::env::temp_dir().join("etprox-demo"),
                out_dir: out,
            };
            match etprox::demo::run(&config, &options).await? {
                etprox::demo::Finished::Completed => Ok(ExitCode::SUCCESS),
                etprox::demo::Finished::Interrupted => {
                    eprintln!("demo interrupted; its private database, if it had one, is stopped and removed");
                    // Exit at once: the simulation thread may still be running and the runtime
                    // would wait for it.
                    std::process::exit(130)
                }
            }
        }
        Command::Db(DbCommand::Migrate) => {
            db::connect_and_migrate(&config.database_url, 2).await?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            paths,
            jobs,
            batch,
            quiet,
        } => import(&config, paths, jobs, batch, quiet).await,
        Command::Watch => {
            anyhow::ensure!(
                !config.round_dirs.is_empty() || !config.remote.sources.is_empty(),
                "neither ETPROX_ROUND_DIRS nor ETPROX_ROUND_SOURCES is set: give the folder(s) the tracker writes round files to, separated by ':', and/or sftp://, ftp:// or ftps:// URLs of folders on the game server"
            );
            let pool = db::connect_with_retry(&config.database_url, 4).await?;
            let importer = Importer::new(pool, config.session, config.default_server_id.clone());
            let _pollers = etprox::remote::spawn_all(&importer, &config.remote);
            let options = watcher::WatchOptions::from_config(&config);
            tokio::select! {
                result = watcher::run(importer, options), if !config.round_dirs.is_empty() => result?,
                _ = tokio::signal::ctrl_c() => eprintln!("stopping (Ctrl-C)"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Retention(command) => retention(&config, command).await,
        // Handled before the configuration is loaded (see above); kept for completeness.
        Command::Check => Ok(check().await),
        Command::Bot => {
            // Token first: without it nothing else matters, and the message says how to get one.
            let bot = etprox::config::BotConfig::from_env().context("invalid bot configuration")?;
            tracing::info!(database = %config.database_url, "connecting to the database");
            // Like `watch`: a database that is down or still starting is waited for.
            let pool = db::connect_with_retry(&config.database_url, 8).await?;
            tracing::info!("database ready");
            tokio::select! {
                result = etprox::discord::run(etprox::discord::Bot {
                    config,
                    bot,
                    pool,
                    faults: Default::default(),
                }) => result?,
                _ = tokio::signal::ctrl_c() => eprintln!("stopping (Ctrl-C)"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ask {
            command,
            press,
            out,
            as_user,
        } => ask(&config, command, press, out, as_user).await,
        Command::Bench(BenchCommand::Commands {
            kills,
            days,
            repeats,
            reuse,
        }) => {
            let options = etprox::command_bench::CommandBenchOptions {
                database_url: config.database_url.expose().to_owned(),
                kills: kills.max(1),
                days: days.max(1),
                repeats: repeats.max(1),
                reuse,
            };
            let (kills, timings) = etprox::command_bench::command_bench(&options).await?;
            println!(
                "{kills} kills in the database; {} runs per command",
                options.repeats
            );
            for t in timings {
                println!(
                    "p50 {:>7.1} ms  p95 {:>7.1} ms  {}",
                    t.p50.as_secs_f64() * 1e3,
                    t.p95.as_secs_f64() * 1e3,
                    t.command
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Heatmap(args) => {
            let pool = db::connect_and_migrate(&config.database_url, 2).await?;
            println!(
                "{}",
                etprox::heatmap::cli::run(&args, &pool, &config).await?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Maps(args) => {
            println!("{}", etprox::heatmap::cli::run_maps(&args, &config.assets)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Generate {
            dir,
            rounds,
            kills_per_round,
        }) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let bar = ProgressBar::new(rounds as u64);
            for i in 0..rounds {
                let mut spec = etprox::round_file::synthetic::RoundSpec::new(
                    i as u64,
                    1_700_000_000 + i as i64 * 1_500,
                );
                spec.kills = kills_per_round;
                let path = dir.join(format!("{:06}-{}-round-1_etprox.txt", i, spec.map));
                std::fs::write(&path, etprox::round_file::synthetic::synthetic_v3(&spec))
                    .with_context(|| format!("writing {}", path.display()))?;
                bar.inc(1);
            }
            bar.finish_and_clear();
            println!(
                "wrote {rounds} round files ({} kills) to {}",
                rounds * kills_per_round,
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Import {
            rounds,
            kills_per_round,
            jobs,
            batch,
            repeats,
        }) => {
            let options = etprox::bench::ImportBenchOptions {
                database_url: config.database_url.expose().to_owned(),
                rounds: rounds.max(1),
                kills_per_round: kills_per_round.max(1),
                jobs,
                batch,
                repeats: repeats.max(1),
            };
            let r = etprox::bench::import_bench(&options).await?;
            let median = etprox::bench::ImportBenchResult::median;
            println!(
                "import: median {:.1} ms for {} kills = {:.0} kills/s (etprox importer, {} files per transaction, {} at once)",
                median(&r.ours).as_secs_f64() * 1e3,
                r.kills,
                r.ours_kills_per_sec(),
                batch,
                jobs
            );
            println!(
                "COPY:   median {:.1} ms for {} kills = {:.0} kills/s (plain COPY into an unindexed table)",
                median(&r.copy).as_secs_f64() * 1e3,
                r.kills,
                r.copy_kills_per_sec()
            );
            println!(
                "heatmap roll-up after the imports (not included above): median {:.1} ms",
                median(&r.roll_up).as_secs_f64() * 1e3
            );
            println!(
                "ratio:  importer / COPY = {:.0} %",
                100.0 * r.ours_kills_per_sec() / r.copy_kills_per_sec()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn check() -> ExitCode {
    let started = std::time::Instant::now();
    let lookup = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let lines = etprox::check::run(lookup, |line| println!("{line}")).await;
    let failed = lines.iter().filter(|l| !l.ok).count();
    println!(
        "{} checks, {failed} failed ({} ms)",
        lines.len(),
        started.elapsed().as_millis()
    );
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

async fn import(
    config: &Config,
    paths: Vec<PathBuf>,
    jobs: usize,
    batch: usize,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
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
    let jobs = jobs.clamp(1, 16);
    let pool = db::connect_and_migrate(&config.database_url, jobs as u32 + 1).await?;
    let importer = Arc::new(Importer::new(
        pool,
        config.session,
        config.default_server_id.clone(),
    ));

    let progress = if files.len() > 20 && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} files, {per_sec}, eta {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let print = |line: String| match &progress {
        Some(bar) => bar.println(line),
        None => println!("{line}"),
    };

    let batches: Vec<Vec<PathBuf>> = files
        .chunks(batch.max(1))
        .map(<[PathBuf]>::to_vec)
        .collect();
    let mut results = futures_util::stream::iter(batches.into_iter().map(|batch| {
        let importer = Arc::clone(&importer);
        async move { futures_util::stream::iter(importer.import_files(&batch).await) }
    }))
    .buffered(jobs)
    .flatten();

    let (mut imported, mut duplicate, mut empty, mut rejected, mut kills, mut bad_lines) =
        (0, 0, 0, 0, 0usize, 0usize);
    while let Some((path, outcome)) = results.next().await {
        if let Some(bar) = &progress {
            bar.inc(1);
        }
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
                imported += 1;
                kills += n;
                bad_lines += rejected_lines.len();
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    let names: Vec<&str> = flags.iter().map(|f| f.as_str()).collect();
                    format!(" [{}]", names.join(", "))
                };
                if !quiet || !rejected_lines.is_empty() {
                    print(format!(
                        "imported          {shown}: {map_name} round {round_number}, {n} kills{flags} (id {round_id})"
                    ));
                }
                for line in rejected_lines {
                    print(format!(
                        "  rejected line    {shown}:{}: {} ({:?})",
                        line.line, line.reason, line.excerpt
                    ));
                }
            }
            Ok(ImportOutcome::AlreadyImported {
                round_id,
                first_path,
            }) => {
                duplicate += 1;
                if !quiet {
                    print(format!(
                        "already imported  {shown}: round {round_id} (from {first_path})"
                    ));
                }
            }
            Ok(ImportOutcome::Empty) => {
                empty += 1;
                if !quiet {
                    print(format!("empty             {shown}"));
                }
            }
            Ok(ImportOutcome::Rejected { reason }) => {
                rejected += 1;
                print(format!("rejected          {shown}: {reason}"));
            }
            Err(e) => {
                rejected += 1;
                print(format!("failed            {shown}: {e}"));
            }
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if imported > 0 {
        let started = std::time::Instant::now();
        let rounds = etprox::db::heatmap::roll_up_pending(importer.pool()).await?;
        if !quiet {
            println!(
                "heatmap rollups: {rounds} rounds added in {} ms",
                started.elapsed().as_millis()
            );
        }
    }
    println!(
        "{imported} imported ({kills} kills), {duplicate} already imported, {empty} empty, {rejected} rejected, {bad_lines} lines rejected"
    );
    Ok(if rejected > 0 || bad_lines > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn ask(
    config: &Config,
    command: Option<String>,
    press: Option<String>,
    out: PathBuf,
    as_user: Option<i64>,
) -> anyhow::Result<ExitCode> {
    use etprox::commands::{self, Caller, Env, Invocation};
    let pool = db::connect_and_migrate(&config.database_url, 4).await?;
    let env = Env {
        importer: Some(Importer::new(
            pool.clone(),
            config.session,
            config.default_server_id.clone(),
        )),
        pool,
        round_dirs: config.round_dirs.clone(),
        assets_dir: config.assets.dir().to_path_buf(),
        export_dir: std::env::var_os("ETPROX_EXPORT_DIR").map(PathBuf::from),
        cache: Default::default(),
        clock: etprox::clock::Clock::system(config.session),
    };
    let caller = Caller {
        discord_user_id: as_user,
        display_name: "console".into(),
        is_admin: true,
    };
    let reply = match (command, press) {
        (_, Some(button)) => commands::press(&env, &caller, &button).await,
        (Some(line), None) => match Invocation::parse(&line) {
            Ok(invocation) => commands::dispatch(&env, &caller, &invocation).await,
            Err(e) => anyhow::bail!("{e}"),
        },
        (None, None) => anyhow::bail!("give a command, e.g. etprox ask \"/solo period:all\""),
    };
    let reply = reply.fit(commands::reply::limits::UPLOAD);
    print!("{}", etprox::console::render(&reply));
    for path in etprox::console::write_attachments(&reply, &out)
        .with_context(|| format!("writing attachments to {}", out.display()))?
    {
        println!("wrote {}", path.display());
    }
    Ok(if reply.ephemeral && reply.embeds.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn retention(config: &Config, command: RetentionCommand) -> anyhow::Result<ExitCode> {
    let pool = db::connect_and_migrate(&config.database_url, 2).await?;
    match command {
        RetentionCommand::Stats => {
            println!(
                "{:<24} {:>12} {:>12} {:>12} {:>12}",
                "table", "rows", "size", "oldest", "newest"
            );
            for t in db::retention::data_stats(&pool).await? {
                let day = |d: Option<chrono::NaiveDate>| {
                    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
                };
                println!(
                    "{:<24} {:>12} {:>12} {:>12} {:>12}",
                    t.table_name,
                    t.row_count,
                    human_bytes(t.total_bytes),
                    day(t.oldest_date),
                    day(t.newest_date)
                );
            }
        }
        RetentionCommand::Archive {
            older_than_days,
            dry_run,
            export,
        } => {
            let days = older_than_days as i32;
            let db::retention::RawKills {
                rows,
                oldest,
                newest,
            } = db::retention::archive_preview(&pool, days).await?;
            let range = match (oldest, newest) {
                (Some(a), Some(b)) => format!(" (session days {a} to {b})"),
                _ => String::new(),
            };
            if dry_run {
                println!("dry run: {rows} raw kill rows older than {days} days would be archived{range}; aggregates are kept");
                return Ok(ExitCode::SUCCESS);
            }
            // One transaction and one cutoff for export and delete; the file is new and on
            // disk before the delete commits (db::retention::archive_older_than).
            let mut file = match &export {
                Some(dir) => Some(
                    db::retention::ExportFile::create_new(dir, chrono::Utc::now())
                        .with_context(|| format!("creating an export file in {}", dir.display()))?,
                ),
                None => None,
            };
            let report = db::retention::archive_older_than(
                &pool,
                days,
                file.as_mut()
                    .map(|f| f as &mut dyn db::retention::ExportSink),
            )
            .await?;
            let range = match (report.oldest, report.newest) {
                (Some(a), Some(b)) => format!(" (session days {a} to {b})"),
                _ => String::new(),
            };
            if let (Some(f), Some(n)) = (&file, report.exported) {
                println!(
                    "exported {n} rows ({}) to {}",
                    human_bytes(report.exported_bytes as i64),
                    f.path().display()
                );
            }
            println!(
                "archived {} rows from kill_context{range}; aggregates are kept",
                report.archived
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
