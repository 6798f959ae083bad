//! `etprox ask`: answers a slash command (or presses a reply's button) in the terminal, as the
//! bot would on Discord; attachments go to `--out`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use etprox::commands::{self, Caller, Env, Invocation};
use etprox::config::Config;
use etprox::db;
use etprox::ingest::Importer;

#[derive(Args)]
pub struct AskArgs {
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
}

pub async fn run(config: &Config, args: AskArgs) -> anyhow::Result<ExitCode> {
    let env = console_env(config).await?;
    let caller = Caller {
        discord_user_id: args.as_user,
        display_name: "console".into(),
        is_admin: true,
    };
    let reply = match (args.command, args.press) {
        (_, Some(button)) => commands::press(&env, &caller, &button).await,
        (Some(line), None) => match Invocation::parse(&line) {
            Ok(invocation) => commands::dispatch(&env, &caller, &invocation).await,
            Err(e) => anyhow::bail!("{e}"),
        },
        (None, None) => anyhow::bail!("give a command, e.g. etprox ask \"/solo period:all\""),
    };
    let reply = reply.fit(commands::reply::limits::UPLOAD);
    print!("{}", etprox::console::render(&reply));
    let out = &args.out;
    for path in etprox::console::write_attachments(&reply, out)
        .with_context(|| format!("writing attachments to {}", out.display()))?
    {
        println!("wrote {}", path.display());
    }
    // An error reply (ephemeral text only) fails the command, so scripts can tell.
    Ok(if reply.ephemeral && reply.embeds.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What the commands see from the console: the configured database, folders and importer.
async fn console_env(config: &Config) -> anyhow::Result<Env> {
    let pool = db::connect_and_migrate(&config.database_url, 4).await?;
    Ok(Env {
        importer: Some(Importer::new(
            pool.clone(),
            config.session,
            config.default_server_id.clone(),
        )),
        pool,
        round_dirs: config.round_dirs.clone(),
        assets: config.assets.clone(),
        export_dir: std::env::var_os("ETPROX_EXPORT_DIR").map(PathBuf::from),
        cache: Default::default(),
        clock: etprox::clock::Clock::system(config.session),
    })
}
