//! `etprox watch`: imports every round file as it appears in ETPROX_ROUND_DIRS (and polls the
//! remote sources), until Ctrl-C.

use std::process::ExitCode;

use etprox::config::Config;
use etprox::db;
use etprox::ingest::{watcher, Importer};

pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !config.round_dirs.is_empty() || !config.remote.sources.is_empty(),
        "neither ETPROX_ROUND_DIRS nor ETPROX_ROUND_SOURCES is set: give the folder(s) the tracker writes round files to, separated by ':', and/or sftp://, ftp:// or ftps:// URLs of folders on the game server"
    );
    let pool = db::connect_with_retry(&config.database_url, 4).await?;
    let _months_ahead = etprox::jobs::partitions::spawn_months_ahead(pool.clone());
    let importer = Importer::new(pool, config.session, config.default_server_id.clone());
    let _pollers = etprox::remote::spawn_all(&importer, &config.remote);
    let options = watcher::WatchOptions::from_config(config);
    tokio::select! {
        result = watcher::run(importer, options), if !config.round_dirs.is_empty() => result?,
        _ = tokio::signal::ctrl_c() => eprintln!("stopping (Ctrl-C)"),
    }
    Ok(ExitCode::SUCCESS)
}
