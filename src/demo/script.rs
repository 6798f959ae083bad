//! The scripted part of the demo: questions asked through the console front end, exactly as
//! `etprox ask` (and the Discord bot) answers them.

use std::path::Path;

use sqlx::PgPool;

use crate::commands::{self, Caller, Env, Invocation};
use crate::ingest::Importer;

/// Asks each command, prints the reply as the console renders it and writes attachments.
pub async fn run(
    pool: &PgPool,
    importer: &Importer,
    out_dir: &Path,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<()> {
    let env = Env {
        importer: Some(importer.clone()),
        pool: pool.clone(),
        round_dirs: Vec::new(),
        assets: crate::assets::Assets::default(),
        export_dir: None,
        cache: Default::default(),
        clock: crate::clock::Clock::system(importer.session()),
    };
    let caller = Caller {
        discord_user_id: None,
        display_name: "demo".into(),
        is_admin: true,
    };
    // Ask about the evening's best fragger by name, as a player would (one whose name no
    // other player shares, so the answer is a card, not a list to choose from).
    let star = crate::db::demo::top_fragger_name(pool).await?;
    let mut script = vec![
        "/solo period:all".to_owned(),
        "/duo period:all".to_owned(),
        "/engagements period:all".to_owned(),
        "/heatmap map:goldrush".to_owned(),
        "/retention archive days:30 dry_run:true".to_owned(),
    ];
    if let Some(name) = star {
        script.insert(2, format!("/player player:{name}"));
        script.insert(3, format!("/weapons player:{name}"));
    }
    for line in script {
        progress.say(&format!("\n$ etprox ask \"{line}\""));
        let reply = match Invocation::parse(&line) {
            Ok(invocation) => commands::dispatch(&env, &caller, &invocation).await,
            Err(e) => anyhow::bail!("demo script line {line:?}: {e}"),
        };
        let reply = reply.fit(commands::reply::limits::UPLOAD);
        progress.say(crate::console::render(&reply).trim_end_matches('\n'));
        for path in crate::console::write_attachments(&reply, out_dir)? {
            progress.say(&format!("wrote {}", path.display()));
        }
    }
    Ok(())
}
