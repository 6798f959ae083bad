//! `etprox check`, the first-start doctor, run as a process against the fake Discord (through
//! ETPROX_DISCORD_PROXY_URL, as the bot) and a fresh database per test.

mod fake_discord;

use std::path::Path;
use std::time::{Duration, Instant};

use fake_discord::*;
use sqlx::PgPool;

const TOKEN: &str = "test-token.abcdefghijklmnopqrstuvwxyz";

/// The URL of the database `pool` belongs to (a `#[sqlx::test]` database).
fn url_of(pool: &PgPool) -> String {
    let name = pool.connect_options().get_database().unwrap().to_owned();
    etprox::demo::database::with_database(
        &std::env::var("DATABASE_URL").expect("DATABASE_URL for the tests"),
        &name,
    )
}

/// An asset folder where goldrush has a calibration and an image, supply a calibration only.
fn assets(dir: &Path) -> std::path::PathBuf {
    let assets = dir.join("assets");
    std::fs::create_dir_all(assets.join("maps")).unwrap();
    std::fs::write(
        assets.join("maps.csv"),
        "map,mins_x,mins_y,maxs_x,maxs_y,image,source\n\
         goldrush,-1000,1000,1000,-1000,,test\n\
         supply,-1000,1000,1000,-1000,,test\n",
    )
    .unwrap();
    std::fs::write(assets.join("maps/goldrush.png"), b"\x89PNG\r\n\x1a\n").unwrap();
    assets
}

struct Outcome {
    code: i32,
    out: String,
    took: Duration,
}

impl Outcome {
    /// The line of the check named `what` (the text after the mark starts with it).
    fn line(&self, what: &str) -> String {
        self.out
            .lines()
            .find(|l| {
                l.split_once(' ').is_some_and(|(mark, rest)| {
                    (mark == "✔" || mark == "✘") && rest.starts_with(what)
                })
            })
            .unwrap_or_else(|| panic!("no line about {what:?} in:\n{}", self.out))
            .to_owned()
    }
}

async fn check(vars: &[(&str, String)]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_etprox"));
    command.arg("check").current_dir(dir.path());
    for (key, _) in std::env::vars() {
        if key == "DATABASE_URL" || key.starts_with("ETPROX_") || key == "DISCORD_TOKEN" {
            command.env_remove(key);
        }
    }
    for (k, v) in vars {
        command.env(k, v);
    }
    let started = Instant::now();
    let output = command.output().await.unwrap();
    let took = started.elapsed();
    Outcome {
        code: output.status.code().unwrap_or(-1),
        out: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        took,
    }
}

fn base(pool: &PgPool, fake: &FakeDiscord, dir: &Path) -> Vec<(&'static str, String)> {
    let rounds = dir.join("rounds");
    std::fs::create_dir_all(&rounds).unwrap();
    for name in ["a-round-1.txt", "a-round-2.txt"] {
        std::fs::write(rounds.join(name), "x").unwrap();
    }
    vec![
        ("DATABASE_URL", url_of(pool)),
        ("DISCORD_TOKEN", TOKEN.into()),
        ("ETPROX_GUILD_ID", GUILD_ID.to_string()),
        ("ETPROX_DISCORD_PROXY_URL", fake.url.clone()),
        ("ETPROX_ROUND_DIRS", rounds.display().to_string()),
        ("ETPROX_SUMMARY_CHANNEL_ID", SUMMARY_CHANNEL_ID.to_string()),
        ("ETPROX_ASSETS_DIR", assets(dir).display().to_string()),
    ]
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn a_good_setup_is_all_ticks(pool: PgPool) {
    let fake = FakeDiscord::start().await;
    fake.accept_only_token(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let o = check(&base(&pool, &fake, dir.path())).await;
    println!("{}\netprox check took {:?}", o.out, o.took);
    assert_eq!(o.code, 0, "{}", o.out);
    assert!(!o.out.contains('✘'), "{}", o.out);
    assert!(o.line("configuration").starts_with('✔'));
    assert!(o.line("database").contains("migrations applied"));
    assert!(o.line("round folder").contains("2 round files, newest"));
    assert!(o.line("Discord token").contains("the bot is etprox"));
    assert!(o.line(&format!("guild {GUILD_ID}")).contains(GUILD_NAME));
    assert!(o
        .line("summary channel")
        .contains("may view it, send messages, embed links and attach files"));
    let maps = o.line("map assets");
    assert!(
        maps.contains("1 maps with image and calibration: goldrush"),
        "{maps}"
    );
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn each_problem_is_a_cross_with_its_fix(pool: PgPool) {
    let fake = FakeDiscord::start().await;
    // The summary channel denies the bot's role Attach Files and Embed Links.
    let mut home = FakeGuild::home();
    home.channels[1]
        .overwrites
        .push((BOT_ROLE_ID, 0, 0, ATTACH_FILES | EMBED_LINKS));
    fake.set_guilds(vec![home]);
    let dir = tempfile::tempdir().unwrap();
    let mut vars = base(&pool, &fake, dir.path());
    vars.retain(|(k, _)| *k != "ETPROX_GUILD_ID" && *k != "ETPROX_ROUND_DIRS");
    vars.push(("ETPROX_GUILD_ID", format!("{GUILD_ID},{FOREIGN_GUILD_ID}")));
    vars.push((
        "ETPROX_ROUND_DIRS",
        dir.path().join("no-such-folder").display().to_string(),
    ));
    let o = check(&vars).await;
    println!("{}", o.out);
    assert_eq!(o.code, 1, "{}", o.out);
    let channel = o.line("summary channel");
    assert!(channel.starts_with('✘'), "{channel}");
    assert!(
        channel.contains("Embed Links") && channel.contains("Attach Files"),
        "{channel}"
    );
    assert!(!channel.contains("Send Messages"), "{channel}");
    assert!(o.out.contains("allow the bot's role"), "{}", o.out);
    assert!(o
        .line(&format!("guild {FOREIGN_GUILD_ID}"))
        .starts_with('✘'));
    assert!(
        o.out
            .contains("scope=bot+applications.commands&permissions=52224"),
        "the fix is the invite URL:\n{}",
        o.out
    );
    assert!(o.line(&format!("guild {GUILD_ID}")).starts_with('✔'));
    assert!(o.line("round folder").starts_with('✘'));

    // A token Discord refuses.
    fake.accept_only_token("another-token.abcdefghijklmnopqrstuvwxyz");
    let o = check(&base(&pool, &fake, dir.path())).await;
    assert_eq!(o.code, 1);
    assert!(o.line("Discord token").starts_with('✘'), "{}", o.out);
    assert!(o.out.contains("Reset Token"), "{}", o.out);
}

#[sqlx::test(migrations = false)]
async fn an_unmigrated_database_and_a_missing_guild_id_are_reported(pool: PgPool) {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let o = check(&base(&pool, &fake, dir.path())).await;
    assert_eq!(o.code, 1);
    let db = o.line("database");
    assert!(db.starts_with('✘') && db.contains("not migrated"), "{db}");
    assert!(o.out.contains("etprox db migrate"), "{}", o.out);

    let mut vars = base(&pool, &fake, dir.path());
    vars.retain(|(k, _)| *k != "ETPROX_GUILD_ID");
    let o = check(&vars).await;
    assert_eq!(o.code, 1);
    let config = o.line("configuration");
    assert!(
        config.starts_with('✘') && config.contains("ETPROX_GUILD_ID"),
        "{config}"
    );
}

#[tokio::test]
async fn the_database_password_is_not_shown_and_a_dead_database_is_a_cross() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = check(&[
        (
            "DATABASE_URL",
            format!("postgres://etprox:s3cr3t-pw@127.0.0.1:{port}/etprox"),
        ),
        ("DISCORD_TOKEN", TOKEN.into()),
        ("ETPROX_GUILD_ID", GUILD_ID.to_string()),
        ("ETPROX_DISCORD_PROXY_URL", fake.url.clone()),
        (
            "ETPROX_ASSETS_DIR",
            assets(dir.path()).display().to_string(),
        ),
    ])
    .await;
    println!("etprox check with the database down took {:?}", o.took);
    assert_eq!(o.code, 1);
    assert!(!o.out.contains("s3cr3t-pw"), "{}", o.out);
    let db = o.line("database");
    assert!(db.starts_with('✘'), "{db}");
    assert!(db.contains("etprox:***@127.0.0.1"), "{db}");
    assert!(o.out.contains("start PostgreSQL"), "{}", o.out);
}
