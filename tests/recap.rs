//! Session recaps, per-server channels and the round summaries' heatmaps, through the real bot
//! against the fake Discord (as tests/discord.rs starts it). Each test gets a fresh database.

mod common;
mod fake_discord;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use etprox::config::{BotConfig, Config};
use etprox::discord::{run, Bot};
use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
use fake_discord::*;
use serde_json::{json, Value};
use sqlx::PgPool;

const WAIT: Duration = Duration::from_secs(20);
/// A channel of its own for the server "eu-2".
const EU2_CHANNEL_ID: u64 = 900_000_000_000_000_104;
/// The recap's quiet time in the tests: 3 s.
const RECAP_AFTER_MINS: &str = "0.05";

struct Running {
    fake: FakeDiscord,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a fake Discord and the bot; returns once the bot has registered its commands.
async fn start(pool: PgPool, extra: &[(&str, String)]) -> Running {
    let fake = FakeDiscord::start().await;
    let mut vars: HashMap<String, String> = HashMap::from([
        (
            "DISCORD_TOKEN".into(),
            "test-token.abcdefghijklmnopqrstuvwxyz".into(),
        ),
        ("ETPROX_DISCORD_PROXY_URL".into(), fake.url.clone()),
        ("ETPROX_GUILD_ID".into(), GUILD_ID.to_string()),
        ("ETPROX_RETENTION_DAYS".into(), "0".into()),
    ]);
    for (k, v) in extra {
        vars.insert((*k).into(), v.clone());
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("config");
    let bot = BotConfig::from_lookup(|k| vars.get(k).cloned()).expect("bot config");
    let task = tokio::spawn(run(Bot {
        config,
        bot,
        pool,
        faults: Default::default(),
    }));
    let path = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
    fake.wait_for("command registration", WAIT, |c| {
        c.method == "PUT" && c.path == path
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    Running { fake, task }
}

fn messages_path(channel: u64) -> String {
    format!("/api/v10/channels/{channel}/messages")
}

fn is_recap(call: &Call) -> bool {
    call.method == "POST"
        && call.body["embeds"][0]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Session recap"))
}

fn recaps(fake: &FakeDiscord) -> Vec<Call> {
    fake.calls().into_iter().filter(is_recap).collect()
}

fn field_names(embed: &Value) -> Vec<String> {
    embed["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Writes a synthetic v3 round of `server` on `map` that started `ago` seconds ago.
fn round_file(dir: &std::path::Path, seed: u64, server: &str, map: &str, number: i16, ago: i64) {
    let mut spec = RoundSpec::new(seed, chrono::Utc::now().timestamp() - ago);
    spec.server_id = server.into();
    spec.map = map.into();
    spec.round_number = number;
    spec.kills = 40;
    let name = format!("{server}-{map}-{seed}.txt");
    std::fs::write(dir.join(name), synthetic_v3(&spec)).unwrap();
}

async fn import_dir(pool: &PgPool, dir: &std::path::Path) {
    let importer = common::importer(pool);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        common::expect_imported(&common::import(&importer, &f).await);
    }
}

async fn posted_recaps(pool: &PgPool) -> Vec<(String, bool)> {
    sqlx::query_as::<_, (String, bool)>(
        "SELECT server_id, message_id IS NOT NULL FROM posted_recaps ORDER BY server_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("a PNG");
    (img.width(), img.height())
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn a_quiet_server_gets_its_recap_once_also_after_a_restart(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    // eu-1 played a stopwatch map that ended a few minutes ago; old-1 only has a day three days
    // back (a backfill), which gets no recap.
    round_file(dir.path(), 1, "eu-1", "oasis", 1, 1500);
    round_file(dir.path(), 2, "eu-1", "oasis", 2, 900);
    round_file(dir.path(), 3, "old-1", "goldrush", 1, 3 * 86_400);
    import_dir(&pool, dir.path()).await;
    let settings = [
        ("ETPROX_SUMMARY_CHANNEL_ID", SUMMARY_CHANNEL_ID.to_string()),
        ("ETPROX_RECAP_AFTER_MINS", RECAP_AFTER_MINS.to_string()),
    ];
    let bot = start(pool.clone(), &settings).await;
    let post = bot.fake.wait_for("the session recap", WAIT, is_recap).await;
    assert_eq!(post.path, messages_path(SUMMARY_CHANNEL_ID));
    let embed = &post.body["embeds"][0];
    let title = embed["title"].as_str().unwrap();
    assert!(title.contains("Synthetic server"), "{title}");
    let fields = field_names(embed);
    for f in [
        "Maps played",
        "MVP",
        "Lone wolf",
        "Crossfire",
        "Longest kill",
    ] {
        assert!(fields.iter().any(|n| n == f), "{f} missing from {fields:?}");
    }
    let maps = embed["fields"][0]["value"].as_str().unwrap();
    assert!(maps.starts_with("1. oasis · "), "{maps}");
    assert!(maps.contains(" + "), "the halves are paired: {maps}");
    assert_eq!(post.body["allowed_mentions"]["parse"], json!([]));
    assert_eq!(post.files.len(), 1, "the chart is attached");
    assert!(post.files[0].0.starts_with("recap-eu-1-"));
    assert_eq!(png_size(&post.files[0].1), (800, 450));

    // Several more looks of the job: still one recap, and none for the backfilled server.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(recaps(&bot.fake).len(), 1);
    assert_eq!(posted_recaps(&pool).await, [("eu-1".to_string(), true)]);
    drop(bot);

    // A restart within the posting window does not post it again.
    let again = start(pool.clone(), &settings).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert!(
        recaps(&again.fake).is_empty(),
        "posted again after a restart"
    );
    assert_eq!(posted_recaps(&pool).await.len(), 1);
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn a_server_still_playing_gets_no_recap_yet(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    round_file(dir.path(), 1, "eu-1", "oasis", 1, 1500);
    import_dir(&pool, dir.path()).await;
    let bot = start(
        pool.clone(),
        &[
            ("ETPROX_SUMMARY_CHANNEL_ID", SUMMARY_CHANNEL_ID.to_string()),
            ("ETPROX_RECAP_AFTER_MINS", "60".to_string()),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(recaps(&bot.fake).is_empty());
    assert!(posted_recaps(&pool).await.is_empty());
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn each_server_posts_to_its_own_channel_with_round_heatmaps(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let bot = start(
        pool.clone(),
        &[
            ("ETPROX_ROUND_DIRS", dir.path().display().to_string()),
            ("ETPROX_RESCAN_SECS", "1".into()),
            ("ETPROX_SUMMARY_CHANNEL_ID", SUMMARY_CHANNEL_ID.to_string()),
            ("ETPROX_SUMMARY_CHANNELS", format!("eu-2={EU2_CHANNEL_ID}")),
            ("ETPROX_RECAP_AFTER_MINS", RECAP_AFTER_MINS.to_string()),
        ],
    )
    .await;
    // radar has no calibration: its summary goes without a heatmap; oasis has one.
    round_file(dir.path(), 1, "eu-1", "radar", 1, 900);
    round_file(dir.path(), 2, "eu-2", "oasis", 1, 900);
    let summary = |channel: u64, title: &'static str| {
        let path = messages_path(channel);
        move |c: &Call| {
            c.method == "POST" && c.path == path && c.body["embeds"][0]["title"] == title
        }
    };
    let radar = bot
        .fake
        .wait_for(
            "eu-1's summary",
            WAIT,
            summary(SUMMARY_CHANNEL_ID, "radar · round 1"),
        )
        .await;
    assert!(radar.files.is_empty(), "no heatmap for an uncalibrated map");
    let oasis = bot
        .fake
        .wait_for(
            "eu-2's summary",
            WAIT,
            summary(EU2_CHANNEL_ID, "oasis · round 1"),
        )
        .await;
    assert_eq!(oasis.files.len(), 1);
    let (name, png) = &oasis.files[0];
    assert!(
        name.starts_with("round-") && name.ends_with("-heatmap.png"),
        "{name}"
    );
    assert_eq!(png_size(png), (384, 384));
    // The recaps follow the same routes.
    let deadline = Instant::now() + WAIT;
    while recaps(&bot.fake).len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut routes: Vec<(String, String)> = recaps(&bot.fake)
        .iter()
        .map(|c| {
            let footer = c.body["embeds"][0]["footer"]["text"]
                .as_str()
                .unwrap_or_default();
            let server = footer.split(" · ").next().unwrap_or_default().to_owned();
            (server, c.path.clone())
        })
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            ("server eu-1".to_string(), messages_path(SUMMARY_CHANNEL_ID)),
            ("server eu-2".to_string(), messages_path(EU2_CHANNEL_ID)),
        ]
    );
    // Nothing went to a channel it should not have.
    let wrong = bot.fake.calls().into_iter().any(|c| {
        c.method == "POST"
            && c.path == messages_path(SUMMARY_CHANNEL_ID)
            && c.body["embeds"][0]["title"] == "oasis · round 1"
    });
    assert!(!wrong);
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn session_answers_with_the_recap_and_its_chart(pool: PgPool) {
    let importer = common::importer(&pool);
    for f in [common::SUPPLY, common::GOLDRUSH] {
        common::expect_imported(&common::import(&importer, &common::shared_fixture(f)).await);
    }
    let bot = start(pool.clone(), &[]).await;
    let id = bot
        .fake
        .command("session", json!([]), member(1, "plain", 0, &[]));
    let answer = bot.fake.answer(id, WAIT).await;
    assert!(!answer.ephemeral());
    assert_eq!(
        answer.embed_titles(),
        ["Session recap · test-server · Tue 2025-11-18"]
    );
    assert!(answer.field("MVP").is_some());
    assert_eq!(answer.files.len(), 1);
    assert_eq!(png_size(&answer.files[0].1), (800, 450));

    let options = json!([{ "name": "date", "type": 3, "value": "2024-01-01" }]);
    let id = bot
        .fake
        .command("session", options, member(1, "plain", 0, &[]));
    let answer = bot.fake.answer(id, WAIT).await;
    assert!(answer
        .content()
        .contains("No round was played on session day 2024-01-01"));

    let options = json!([{ "name": "date", "type": 3, "value": "yesterday" }]);
    let id = bot
        .fake
        .command("session", options, member(1, "plain", 0, &[]));
    let answer = bot.fake.answer(id, WAIT).await;
    assert!(answer.ephemeral());
    assert!(
        answer.content().contains("write it as 2025-11-21"),
        "{}",
        answer.content()
    );
}
