//! The real bot against a fake Discord (REST + gateway on 127.0.0.1, in this process): the
//! bot is started by `etprox::discord::run`, as `etprox bot` does, with
//! ETPROX_DISCORD_PROXY_URL pointing at the fake. Each test gets a fresh database.

mod common;
mod fake_discord;
mod fight_rows;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use etprox::config::{BotConfig, Config};
use etprox::discord::{run, Bot};
use etprox::jobs::supervise::Faults;
use fake_discord::*;
use serde_json::{json, Value};
use sqlx::PgPool;

const WAIT: Duration = Duration::from_secs(20);
const PLAIN: u64 = 111_111_111_111_111_111;
const ADMIN: u64 = 222_222_222_222_222_222;
const ROLE_ADMIN: u64 = 333_333_333_333_333_333;

fn plain() -> Value {
    member(PLAIN, "plain", 0, &[])
}
fn admin() -> Value {
    member(ADMIN, "admin", MANAGE_GUILD, &[])
}

struct Running {
    fake: FakeDiscord,
    /// The registered commands (body of the PUT).
    commands: Value,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn seed(pool: &PgPool) {
    let importer = common::importer(pool);
    for f in [common::SUPPLY, common::GOLDRUSH] {
        common::expect_imported(&common::import(&importer, &common::shared_fixture(f)).await);
    }
}

/// Starts the fake and the bot; returns once the bot has registered its commands.
async fn start(pool: PgPool, extra: &[(&str, String)]) -> Running {
    start_with(FakeDiscord::start().await, pool, extra).await
}

/// Like [`start`], with a fake the test has prepared.
async fn start_with(fake: FakeDiscord, pool: PgPool, extra: &[(&str, String)]) -> Running {
    start_faulty(fake, pool, extra, Faults::default()).await
}

/// Like [`start_with`], with failures injected.
async fn start_faulty(
    fake: FakeDiscord,
    pool: PgPool,
    extra: &[(&str, String)],
    faults: Faults,
) -> Running {
    let mut vars: HashMap<String, String> = HashMap::from([
        (
            "DISCORD_TOKEN".into(),
            "test-token.abcdefghijklmnopqrstuvwxyz".into(),
        ),
        ("ETPROX_DISCORD_PROXY_URL".into(), fake.url.clone()),
        ("ETPROX_GUILD_ID".into(), GUILD_ID.to_string()),
        ("ETPROX_ADMIN_ROLE_ID".into(), ROLE_ADMIN.to_string()),
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
        faults,
    }));
    let path = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
    let put = fake
        .wait_for("command registration", WAIT, |c| {
            c.method == "PUT" && c.path == path
        })
        .await;
    // Registration happens in setup, before the bot handles interactions; give the
    // framework a moment to finish it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Running {
        fake,
        commands: put.body,
        task,
    }
}

impl Running {
    /// The integer Discord sends for choice `choice` of option `option` of command `command`.
    fn choice(&self, command: &str, option: &str, choice: &str) -> Value {
        let cmd = self.command(command);
        let opt = cmd["options"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["name"] == option))
            .unwrap_or_else(|| panic!("/{command} has no option {option}"));
        opt["choices"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == choice))
            .map(|c| c["value"].clone())
            .unwrap_or_else(|| panic!("{option} has no choice {choice}"))
    }

    fn command(&self, name: &str) -> Value {
        self.commands
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("/{name} was not registered"))
    }

    fn period(&self, command: &str, p: &str) -> Value {
        json!({ "name": "period", "type": 4, "value": self.choice(command, "period", p) })
    }

    async fn ask(&self, name: &str, options: Value, who: Value) -> Answer {
        let id = self.fake.command(name, options, who);
        self.fake.answer(id, WAIT).await
    }
}

fn text(name: &str, value: &str) -> Value {
    json!({ "name": name, "type": 3, "value": value })
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn registers_commands_and_answers_each(pool: PgPool) {
    seed(&pool).await;
    let bot = start(pool.clone(), &[]).await;

    let names: Vec<&str> = bot
        .commands
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    for expected in [
        "solo",
        "duo",
        "engagements",
        "player",
        "leaderboard",
        "round",
        "maps",
        "link",
        "unlink",
        "retention",
        "import",
    ] {
        assert!(
            names.contains(&expected),
            "/{expected} missing from {names:?}"
        );
    }
    for admin_only in ["retention", "import"] {
        assert_eq!(bot.command(admin_only)["default_member_permissions"], "32");
    }
    let solo = bot.command("solo");
    assert!(!solo["description"].as_str().unwrap_or_default().is_empty());
    let player_opt = &solo["options"][0];
    assert_eq!(player_opt["name"], "player");
    assert_eq!(player_opt["autocomplete"], true);
    assert!(!player_opt["description"]
        .as_str()
        .unwrap_or_default()
        .is_empty());

    let a = bot
        .ask("solo", json!([bot.period("solo", "all")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Best 1v1 players"]);
    assert!(a.embed_text().contains("Lagger"), "{}", a.embed_text());
    assert_eq!(
        a.data["allowed_mentions"]["parse"],
        json!([]),
        "replies must not ping"
    );

    let a = bot
        .ask(
            "solo",
            json!([text("player", "slomix"), bot.period("solo", "all")]),
            plain(),
        )
        .await;
    assert_eq!(a.embed_titles(), ["Lone wolf: SlomiX"]);
    assert_eq!(a.field("1v1 win rate").as_deref(), Some("38.9%"));

    let a = bot
        .ask("duo", json!([bot.period("duo", "all")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Best duos"]);
    let buttons = a.buttons();
    assert_eq!(buttons.len(), 2, "pagination buttons");
    let next = &buttons[1].0;
    let click = bot.fake.click(next, plain());
    let page2 = bot.fake.answer(click, WAIT).await;
    assert_eq!(page2.kind, 7, "a page click updates the message");
    assert!(
        page2.embed_text().contains("page 2 of"),
        "{}",
        page2.embed_text()
    );

    let a = bot
        .ask(
            "duo",
            json!([
                text("player", "SlomiX"),
                text("partner", "carniee"),
                bot.period("duo", "all")
            ]),
            plain(),
        )
        .await;
    assert_eq!(a.embed_titles(), ["SlomiX + carniee"]);
    assert_eq!(a.field("Kills within range").as_deref(), Some("6"));
    assert!(a.field("Together (same team)").is_some());

    let a = bot
        .ask(
            "engagements",
            json!([bot.period("engagements", "all")]),
            plain(),
        )
        .await;
    assert_eq!(a.embed_titles(), ["Engagements"]);
    assert_eq!(a.field("Kills").as_deref(), Some("203"));

    let a = bot
        .ask("player", json!([text("player", "SlomiX")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["SlomiX"]);
    assert!(a.field("Nemesis").unwrap_or_default().contains("Lagger"));
    assert!(a
        .field("Favourite weapons")
        .unwrap_or_default()
        .contains("MP40"));

    let stat =
        json!({ "name": "stat", "type": 4, "value": bot.choice("leaderboard", "stat", "kills") });
    let a = bot
        .ask(
            "leaderboard",
            json!([stat, bot.period("leaderboard", "all")]),
            plain(),
        )
        .await;
    assert_eq!(a.embed_titles(), ["Most kills"]);

    let a = bot.ask("round", json!([]), plain()).await;
    assert_eq!(a.embed_titles(), ["goldrush · round 1"]);
    assert_eq!(a.field("Kills").as_deref(), Some("105"));

    let a = bot
        .ask(
            "heatmap",
            json!([text("map", "goldrush"), { "name": "size", "type": 4, "value": 512 }]),
            plain(),
        )
        .await;
    assert!(a.content().contains("goldrush"), "{}", a.content());
    assert_eq!(a.files.len(), 1, "one PNG attached");
    let (name, png) = &a.files[0];
    assert_eq!(name, "heatmap-goldrush.png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    assert_eq!((width, height), (512, 512));

    let a = bot.ask("maps", json!([]), plain()).await;
    assert_eq!(a.embed_titles(), ["Known maps"]);
    assert!(a.embed_text().contains("supply") && a.embed_text().contains("goldrush"));

    // /link makes [player] default to oneself; /unlink undoes it.
    let a = bot
        .ask("link", json!([text("player", "SlomiX")]), plain())
        .await;
    assert!(a.ephemeral());
    assert_eq!(a.embed_titles(), ["Linked"]);
    let a = bot
        .ask("solo", json!([bot.period("solo", "all")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Lone wolf: SlomiX"]);
    let a = bot.ask("unlink", json!([]), plain()).await;
    assert_eq!(a.embed_titles(), ["Unlinked"]);
    let a = bot
        .ask("solo", json!([bot.period("solo", "all")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Best 1v1 players"]);

    // An unknown player is the caller's mistake: a private message, no embed.
    let a = bot
        .ask("player", json!([text("player", "@everyone")]), plain())
        .await;
    assert!(a.ephemeral());
    assert!(a.content().contains("no player matches"));
    assert!(!a.content().contains("@everyone"), "{}", a.content());
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn autocomplete_offers_players_and_maps(pool: PgPool) {
    seed(&pool).await;
    let bot = start(pool, &[]).await;
    let id = bot.fake.autocomplete(
        "solo",
        json!([{ "name": "player", "type": 3, "value": "SLO", "focused": true }]),
        plain(),
    );
    let a = bot.fake.answer(id, WAIT).await;
    assert_eq!(a.kind, 8);
    let choices = a.choices();
    assert!(
        choices.iter().any(|(name, _)| name == "SlomiX"),
        "{choices:?}"
    );
    assert!(choices.len() <= 25);
    assert!(choices
        .iter()
        .all(|(n, v)| n.chars().count() <= 100 && v.chars().count() <= 100));
    // The value is the player key, which /solo accepts.
    let (_, key) = choices.iter().find(|(n, _)| n == "SlomiX").unwrap().clone();
    let a = bot
        .ask(
            "solo",
            json!([text("player", &key), bot.period("solo", "all")]),
            plain(),
        )
        .await;
    assert_eq!(a.embed_titles(), ["Lone wolf: SlomiX"]);

    let id = bot.fake.autocomplete(
        "engagements",
        json!([{ "name": "map", "type": 3, "value": "GOLD", "focused": true }]),
        plain(),
    );
    let a = bot.fake.answer(id, WAIT).await;
    assert_eq!(
        a.choices(),
        vec![("goldrush (1 rounds)".to_owned(), "goldrush".to_owned())]
    );
}

/// A user option as Discord sends it: the id, the user itself goes in `resolved`.
fn user_option(name: &str, id: u64) -> Value {
    json!({ "name": name, "type": 6, "value": id.to_string() })
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn versus_trend_help_members_servers_and_timestamps(pool: PgPool) {
    seed(&pool).await;
    let bot = start(pool, &[]).await;
    for name in ["versus", "trend", "help"] {
        assert!(!bot.command(name)["description"].is_null(), "/{name}");
    }
    let member_opt = |cmd: &str| {
        bot.command(cmd)["options"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["name"] == "member").cloned())
    };
    for cmd in ["player", "solo", "duo", "heatmap", "versus", "trend"] {
        assert_eq!(
            member_opt(cmd).map(|o| o["type"].clone()),
            Some(json!(6)),
            "/{cmd}"
        );
    }
    let plain_user = user_json(PLAIN, "plain", false);
    let ask_member = |cmd: &str, mut options: Vec<Value>| {
        options.push(user_option("member", PLAIN));
        let id = bot.fake.command_with_users(
            cmd,
            json!(options),
            std::slice::from_ref(&plain_user),
            admin(),
        );
        bot.fake.answer(id, WAIT)
    };

    // Not linked yet: the caller is told, privately.
    let a = ask_member("player", vec![]).await;
    assert!(a.ephemeral());
    assert!(
        a.content().contains("has not linked a player"),
        "{}",
        a.content()
    );
    let a = bot
        .ask("link", json!([text("player", "SlomiX")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Linked"]);

    let a = ask_member("player", vec![]).await;
    assert_eq!(a.embed_titles(), ["SlomiX"]);
    let last_seen = a.field("Last seen").unwrap_or_default();
    assert!(
        last_seen.starts_with("<t:") && last_seen.ends_with(":f>"),
        "{last_seen}"
    );

    let a = ask_member("versus", vec![text("opponent", "Lagger")]).await;
    assert_eq!(a.embed_titles(), ["SlomiX vs Lagger"]);
    assert!(
        a.embed_text().contains("Lagger leads 5–1"),
        "{}",
        a.embed_text()
    );
    assert!(a
        .field("Longest streak")
        .unwrap_or_default()
        .contains("<t:"));
    assert!(a.embed_text().contains("/help versus"));

    let stat = json!({ "name": "stat", "type": 4, "value": bot.choice("trend", "stat", "K/D") });
    let a = ask_member("trend", vec![stat]).await;
    assert_eq!(a.embed_titles(), ["SlomiX · K/D"]);
    assert_eq!(a.files.len(), 1, "one PNG attached");
    let (name, png) = &a.files[0];
    assert_eq!(name, "trend-kd.png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    assert_eq!((width, height), (800, 450));
    assert!(
        png.len() > 5_000 && png.len() < 500_000,
        "{} bytes",
        png.len()
    );

    let a = bot.ask("help", json!([]), plain()).await;
    assert_eq!(a.embed_titles(), ["etprox commands"]);
    assert!(a.embed_text().contains("/versus") && a.embed_text().contains("/trend"));
    let a = bot
        .ask("help", json!([text("topic", "in range")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["in range"]);

    // Times are Discord timestamps; no reply names a zone.
    let a = bot.ask("round", json!([]), plain()).await;
    let ended = a.field("Ended").unwrap_or_default();
    assert!(
        ended.starts_with("<t:") && ended.ends_with(":f>"),
        "{ended}"
    );
    assert!(!a.embed_text().contains("UTC"), "{}", a.embed_text());

    // Servers: autocomplete from the rounds, then the server's maps and latest round.
    let id = bot.fake.autocomplete(
        "maps",
        json!([{ "name": "server", "type": 3, "value": "TEST", "focused": true }]),
        plain(),
    );
    let choices = bot.fake.answer(id, WAIT).await.choices();
    assert_eq!(
        choices,
        vec![(
            "test-server (2 rounds)".to_owned(),
            "test-server".to_owned()
        )]
    );
    let a = bot
        .ask("maps", json!([text("server", "test-server")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Maps played on test-server"]);
    let a = bot
        .ask("round", json!([text("server", "elsewhere")]), plain())
        .await;
    assert!(a.ephemeral());
    assert!(
        a.content().contains("known servers are test-server"),
        "{}",
        a.content()
    );
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn admin_commands_refuse_members_and_archive_after_confirmation(pool: PgPool) {
    seed(&pool).await;
    let bot = start(pool.clone(), &[]).await;
    let stats = json!([{ "name": "stats", "type": 1, "options": [] }]);

    let a = bot.ask("retention", stats.clone(), plain()).await;
    assert!(a.ephemeral());
    assert!(a.content().contains("for server admins"), "{}", a.content());
    assert!(a.embed_titles().is_empty());

    let role_admin = member(PLAIN + 1, "moderator", 0, &[ROLE_ADMIN]);
    let a = bot.ask("retention", stats.clone(), role_admin).await;
    assert_eq!(a.embed_titles(), ["Stored data"]);
    assert!(a.embed_text().contains("kill_context"));

    let a = bot
        .ask(
            "import",
            json!([{ "name": "status", "type": 1, "options": [] }]),
            admin(),
        )
        .await;
    assert_eq!(a.embed_titles(), ["Imports"]);
    assert_eq!(a.field("Rounds").as_deref(), Some("2"));

    let archive = json!([{ "name": "archive", "type": 1, "options": [{ "name": "days", "type": 4, "value": 30 }] }]);
    let a = bot.ask("retention", archive, admin()).await;
    assert_eq!(a.embed_titles(), ["Archive raw kills?"]);
    let buttons = a.buttons();
    assert_eq!(buttons.len(), 2);
    let (confirm, cancel) = (buttons[0].0.clone(), buttons[1].0.clone());
    let kills = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM kill_context")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = kills().await;
    assert!(before > 0);

    // A plain member pressing the button is refused: nothing changes.
    let id = bot.fake.click(&confirm, plain());
    let a = bot.fake.answer(id, WAIT).await;
    assert!(
        a.ephemeral() && a.content().contains("for server admins"),
        "{a:?}"
    );
    assert_eq!(kills().await, before);

    let id = bot.fake.click(&cancel, admin());
    let a = bot.fake.answer(id, WAIT).await;
    assert!(a.content().contains("Cancelled"));
    assert_eq!(kills().await, before);

    let id = bot.fake.click(&confirm, admin());
    let a = bot.fake.answer(id, WAIT).await;
    assert_eq!(a.kind, 7);
    assert_eq!(a.embed_titles(), ["Archived"]);
    assert!(a.buttons().is_empty(), "the confirmation buttons are gone");
    assert_eq!(kills().await, 0);
    let aggregates: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM player_proximity_stats")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(aggregates > 0, "aggregates are kept");
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn a_round_dropped_into_the_folder_is_summarised_in_the_channel(pool: PgPool) {
    use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
    let dir = tempfile::tempdir().unwrap();
    let bot = start(
        pool.clone(),
        &[
            ("ETPROX_ROUND_DIRS", dir.path().display().to_string()),
            ("ETPROX_SUMMARY_CHANNEL_ID", SUMMARY_CHANNEL_ID.to_string()),
            ("ETPROX_RESCAN_SECS", "1".into()),
        ],
    )
    .await;
    let now = chrono::Utc::now().timestamp();
    // An old round (a backfill) is imported but not posted.
    let mut old = RoundSpec::new(7, now - 3 * 86_400);
    old.map = "supply".into();
    std::fs::write(dir.path().join("old-supply.txt"), synthetic_v3(&old)).unwrap();
    let mut spec = RoundSpec::new(8, now - 600);
    spec.map = "radar".into();
    spec.kills = 60;
    std::fs::write(dir.path().join("new-radar.txt"), synthetic_v3(&spec)).unwrap();

    let path = format!("/api/v10/channels/{SUMMARY_CHANNEL_ID}/messages");
    let post = bot
        .fake
        .wait_for("a summary post", WAIT, |c| {
            c.method == "POST" && c.path == path
        })
        .await;
    let embed = &post.body["embeds"][0];
    assert_eq!(embed["title"], "radar · round 1");
    assert_eq!(post.body["allowed_mentions"]["parse"], json!([]));
    let fields: Vec<&str> = embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    for f in [
        "Duration",
        "Kills",
        "Team kills",
        "Top fraggers (kills/deaths)",
        "Engagements",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    // Both rounds are imported; only the recent one is posted.
    let rounds = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM rounds")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let deadline = Instant::now() + WAIT;
    while rounds().await < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rounds().await, 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = bot.fake.calls().iter().filter(|c| c.path == path).count();
    assert_eq!(posts, 1, "the backfilled round is not posted");

    // Stopwatch: the second half of the map is added to the first half's post.
    let mut first = RoundSpec::new(9, now - 1500);
    first.map = "oasis".into();
    first.kills = 20;
    std::fs::write(dir.path().join("oasis-1.txt"), synthetic_v3(&first)).unwrap();
    let first_post = bot
        .fake
        .wait_for("the first half's post", WAIT, |c| {
            c.method == "POST"
                && c.path == path
                && c.body["embeds"][0]["title"] == "oasis · round 1"
        })
        .await;
    assert_eq!(first_post.body["embeds"].as_array().map(Vec::len), Some(1));
    let mut second = first.clone();
    second.seed = 10;
    second.round_number = 2;
    second.start_unix = now - 900;
    std::fs::write(dir.path().join("oasis-2.txt"), synthetic_v3(&second)).unwrap();
    let edit = bot
        .fake
        .wait_for("the edit adding the second half", WAIT, |c| {
            c.method == "PATCH" && c.path.starts_with(&format!("{path}/"))
        })
        .await;
    let titles: Vec<&str> = edit.body["embeds"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["title"].as_str())
        .collect();
    assert_eq!(titles, ["oasis · round 1", "oasis · round 2"]);
    let posts = bot
        .fake
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path == path)
        .count();
    assert_eq!(posts, 2, "the second half is not a post of its own");
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn a_watcher_that_panics_is_restarted_and_rounds_still_import(pool: PgPool) {
    use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::default();
    // The first two starts of the watcher panic.
    faults
        .watcher_panics
        .store(2, std::sync::atomic::Ordering::SeqCst);
    let _bot = start_faulty(
        FakeDiscord::start().await,
        pool.clone(),
        &[
            ("ETPROX_ROUND_DIRS", dir.path().display().to_string()),
            ("ETPROX_RESCAN_SECS", "1".into()),
        ],
        faults.clone(),
    )
    .await;
    let spec = RoundSpec::new(3, chrono::Utc::now().timestamp() - 600);
    std::fs::write(dir.path().join("round.txt"), synthetic_v3(&spec)).unwrap();
    let rounds = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM rounds")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    // Restarts after 1 s and 2 s, then the watcher finds the file.
    let deadline = Instant::now() + WAIT;
    while rounds().await < 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        faults
            .watcher_panics
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "both injected panics happened"
    );
    assert_eq!(
        rounds().await,
        1,
        "the round was imported after the restarts"
    );
}

/// PostgreSQL restarting under the bot: a private cluster of this test's own (initdb and
/// pg_ctl on a free port in a temporary folder, as the demo starts one), stopped and started
/// again while the bot runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_restarts_commands_say_so_within_3_s_and_the_bot_recovers() {
    use etprox::demo::database::PrivateCluster;
    use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // The server runs as user postgres when we are root: it must reach its data folder.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cluster = PrivateCluster::start().expect("private cluster");
    let pool = etprox::db::connect_and_migrate(&cluster.url("etprox"), 4)
        .await
        .unwrap();
    let rounds = dir.path().join("rounds");
    std::fs::create_dir(&rounds).unwrap();
    let importer = common::importer(&pool);
    let path = rounds.join("round.txt");
    std::fs::write(&path, synthetic_v3(&RoundSpec::new(1, 1_764_000_000))).unwrap();
    common::expect_imported(&common::import(&importer, &path).await);
    let bot = start(pool, &[]).await;
    let a = bot.ask("round", json!([]), plain()).await;
    assert_eq!(a.embed_titles(), ["goldrush · round 1"]);

    cluster.stop().unwrap();
    for command in ["round", "solo"] {
        let sent = Instant::now();
        let a = bot.ask(command, json!([]), plain()).await;
        let took = a.at.duration_since(sent);
        println!("/{command} with the database down: answered in {took:?}");
        assert!(a.ephemeral(), "{a:?}");
        assert!(
            a.content().contains("database is unavailable") && a.content().contains("minute"),
            "{a:?}"
        );
        assert!(took <= Duration::from_secs(3), "took {took:?}");
    }

    cluster.resume().unwrap();
    let back = Instant::now();
    let mut answered = None;
    while back.elapsed() < WAIT {
        let a = bot.ask("round", json!([]), plain()).await;
        if a.embed_titles() == ["goldrush · round 1"] {
            answered = Some(back.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let answered = answered.expect("no answer after the database came back");
    println!("first answer {answered:?} after the database was back");
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn two_hundred_interactions_at_once_are_all_answered_within_3_s(pool: PgPool) {
    seed(&pool).await;
    let bot = start(pool, &[]).await;
    let commands: Vec<(&str, Value)> = vec![
        ("solo", json!([bot.period("solo", "all")])),
        ("duo", json!([bot.period("duo", "all")])),
        ("player", json!([text("player", "SlomiX")])),
        (
            "leaderboard",
            json!([{ "name": "stat", "type": 4, "value": bot.choice("leaderboard", "stat", "kills") }, bot.period("leaderboard", "all")]),
        ),
        ("round", json!([])),
        ("engagements", json!([bot.period("engagements", "all")])),
    ];
    let sent = Instant::now();
    let ids: Vec<u64> = (0..200)
        .map(|i| {
            let (name, options) = &commands[i % commands.len()];
            bot.fake
                .command(name, options.clone(), member(PLAIN + i as u64, "m", 0, &[]))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut deferred = 0;
    for id in ids {
        let a = bot.fake.answer(id, Duration::from_secs(30)).await;
        assert!(!a.embed_titles().is_empty(), "interaction {id} got {a:?}");
        deferred += usize::from(a.deferred);
        latencies.push(a.at.duration_since(sent));
    }
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    println!(
        "200 interactions at once: p50 {:?}, p95 {:?}, max {:?} ({} deferred first)",
        p(0.5),
        p(0.95),
        latencies[latencies.len() - 1],
        deferred
    );
    assert!(
        latencies[latencies.len() - 1] <= Duration::from_secs(3),
        "slowest answer {:?}",
        latencies[latencies.len() - 1]
    );
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn the_bot_reconnects_after_the_gateway_drops(pool: PgPool) {
    seed(&pool).await;
    let bot = start(pool, &[]).await;
    assert_eq!(bot.fake.gateway_connections(), 1);
    bot.fake.drop_gateway();
    let deadline = Instant::now() + WAIT;
    while bot.fake.gateway_connections() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        bot.fake.gateway_connections() >= 2,
        "the bot did not reconnect"
    );
    // Commands keep working over the new session (give it a moment to identify).
    let mut answered = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let id = bot.fake.command("round", json!([]), plain());
        if let Ok(a) = tokio::time::timeout(
            Duration::from_secs(2),
            bot.fake.answer(id, Duration::from_secs(2)),
        )
        .await
        {
            answered = Some(a);
            break;
        }
    }
    let a = answered.expect("no answer after the reconnect");
    assert_eq!(a.embed_titles(), ["goldrush · round 1"]);
}

const HOME_2: u64 = 900_000_000_000_000_008;

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn commands_live_in_the_home_guilds_only_and_old_global_ones_are_removed(pool: PgPool) {
    let fake = FakeDiscord::start().await;
    // An earlier version registered its commands globally.
    fake.set_global_commands(vec![json!({
        "id": "1", "application_id": APP_ID.to_string(), "version": "1", "type": 1,
        "name": "solo", "description": "old", "default_member_permissions": null,
        "dm_permission": true, "nsfw": false
    })]);
    let mut second = FakeGuild::home();
    second.id = HOME_2;
    second.name = "ET Test Community (cups)".into();
    fake.set_guilds(vec![FakeGuild::home(), second]);
    let bot = start_with(
        fake,
        pool,
        &[("ETPROX_GUILD_ID", format!("{GUILD_ID}, {HOME_2}"))],
    )
    .await;
    let second_put = format!("/api/v10/applications/{APP_ID}/guilds/{HOME_2}/commands");
    bot.fake
        .wait_for("registration in the second home guild", WAIT, |c| {
            c.method == "PUT" && c.path == second_put
        })
        .await;
    let deadline = Instant::now() + WAIT;
    while !bot.fake.global_commands().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        bot.fake.global_commands().is_empty(),
        "global commands left: {:?}",
        bot.fake.global_commands()
    );
    let global = format!("/api/v10/applications/{APP_ID}/commands");
    assert!(
        bot.fake.calls().iter().all(|c| !(c.method == "PUT"
            && c.path == global
            && c.body.as_array().is_some_and(|a| !a.is_empty()))),
        "nothing is registered globally"
    );
    // Both home guilds are served.
    let id = bot
        .fake
        .command_in(Some(HOME_2), "maps", json!([]), plain());
    let a = bot.fake.answer(id, WAIT).await;
    assert!(!a.content().contains(GUILD_NAME), "{a:?}");
}

/// A pool whose server does not exist: any database work would hang until its timeout.
fn dead_pool() -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(15))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap()
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn interactions_from_other_guilds_and_dms_are_refused_before_any_database_work(
    _pool: PgPool,
) {
    let bot = start(dead_pool(), &[]).await;
    let quick = Duration::from_secs(3);
    let refused = |a: &Answer| {
        assert!(a.ephemeral(), "{a:?}");
        assert!(a.content().contains(GUILD_NAME), "{a:?}");
        assert!(a.embed_titles().is_empty(), "{a:?}");
    };
    let stranger_admin = member(ADMIN, "stranger", MANAGE_GUILD | (1 << 3), &[]);
    let id = bot.fake.command_in(
        Some(FOREIGN_GUILD_ID),
        "solo",
        json!([bot.period("solo", "all")]),
        plain(),
    );
    refused(&bot.fake.answer(id, quick).await);
    let archive = json!([{ "name": "archive", "type": 1, "options": [{ "name": "days", "type": 4, "value": 1 }] }]);
    let id = bot.fake.command_in(
        Some(FOREIGN_GUILD_ID),
        "retention",
        archive.clone(),
        stranger_admin.clone(),
    );
    refused(&bot.fake.answer(id, quick).await);
    let id = bot
        .fake
        .command_in(None, "player", json!([text("player", "SlomiX")]), plain());
    refused(&bot.fake.answer(id, quick).await);
    let id = bot
        .fake
        .command_in(None, "retention", archive, stranger_admin.clone());
    refused(&bot.fake.answer(id, quick).await);
    for guild in [Some(FOREIGN_GUILD_ID), None] {
        let id = bot.fake.click_in(
            guild,
            "ok:/retention archive days:1",
            stranger_admin.clone(),
        );
        refused(&bot.fake.answer(id, quick).await);
        let id = bot.fake.autocomplete_in(
            guild,
            "solo",
            json!([{ "name": "player", "type": 3, "value": "SLO", "focused": true }]),
            plain(),
        );
        let a = bot.fake.answer(id, quick).await;
        assert_eq!(a.kind, 8);
        assert!(a.choices().is_empty(), "{a:?}");
    }
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn a_strangers_admin_cannot_archive_from_their_own_guild(pool: PgPool) {
    seed(&pool).await;
    let bot = start(pool.clone(), &[]).await;
    let kills = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM kill_context")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = kills().await;
    assert!(before > 0);
    let stranger_admin = member(ADMIN, "stranger", MANAGE_GUILD, &[]);
    let id = bot.fake.click_in(
        Some(FOREIGN_GUILD_ID),
        "ok:/retention archive days:1",
        stranger_admin,
    );
    let a = bot.fake.answer(id, WAIT).await;
    assert!(a.ephemeral() && a.content().contains(GUILD_NAME), "{a:?}");
    assert_eq!(kills().await, before);
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn a_page_button_pressed_by_someone_else_keeps_the_invokers_choice(pool: PgPool) {
    use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
    // Twelve a side, so a player has eleven partners: two pages.
    let dir = tempfile::tempdir().unwrap();
    let importer = common::importer(&pool);
    for round in 0..3 {
        let mut spec = RoundSpec::new(0, 1_764_000_000 + round * 1_800);
        spec.team_size = 12;
        spec.kills = 400;
        let path = dir.path().join(format!("round-{round}.txt"));
        std::fs::write(&path, synthetic_v3(&spec)).unwrap();
        common::expect_imported(&common::import(&importer, &path).await);
    }
    let bot = start(pool, &[]).await;
    let other = || member(PLAIN + 7, "other", 0, &[]);
    let a = bot
        .ask("link", json!([text("player", "player14")]), other())
        .await;
    assert_eq!(a.embed_titles(), ["Linked"]);

    // An unlinked member asks for the best duos; a linked one pages on.
    let a = bot
        .ask("duo", json!([bot.period("duo", "all")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Best duos"]);
    let next = a.buttons()[1].0.clone();
    let id = bot.fake.click(&next, other());
    let a = bot.fake.answer(id, WAIT).await;
    assert_eq!(a.embed_titles(), ["Best duos"], "{a:?}");

    // A linked member asks for their partners; someone else pages on.
    let a = bot
        .ask("link", json!([text("player", "player0")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Linked"]);
    let a = bot
        .ask("duo", json!([bot.period("duo", "all")]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Best partners of player0"]);
    let buttons = a.buttons();
    assert_eq!(buttons.len(), 2, "{a:?}");
    for who in [other(), member(PLAIN + 8, "unlinked", 0, &[])] {
        let id = bot.fake.click(&buttons[1].0, who);
        let a = bot.fake.answer(id, WAIT).await;
        assert_eq!(a.embed_titles(), ["Best partners of player0"], "{a:?}");
        assert!(a.embed_text().contains("page 2"), "{}", a.embed_text());
    }
}

#[test]
fn the_database_password_never_reaches_the_screen() {
    let secret = "s3cr3t-pw";
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], url: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_etprox"))
            .args(args)
            .current_dir(dir.path())
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "debug")
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    // A URL the driver cannot read, a server that is not there, the help texts.
    for (args, url) in [
        (
            &["db", "migrate"][..],
            format!("postgres://etprox:{secret}@127.0.0.1:notaport/x"),
        ),
        (
            &["db", "migrate"][..],
            format!("postgres://etprox:{secret}@127.0.0.1:1/x"),
        ),
        (
            &["db", "migrate"][..],
            format!("mysql://etprox:{secret}@127.0.0.1:1/x"),
        ),
        (
            &["--help"][..],
            format!("postgres://etprox:{secret}@127.0.0.1:1/x"),
        ),
        (
            &["bot", "--help"][..],
            format!("postgres://etprox:{secret}@127.0.0.1:1/x"),
        ),
    ] {
        let shown = run(args, &url);
        assert!(
            !shown.contains(secret),
            "etprox {args:?} printed the password:\n{shown}"
        );
    }
}

/// `etprox bot` as a process, its configuration in `.env` only, its log collected.
struct BotProcess {
    child: std::process::Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl BotProcess {
    fn start(dir: &std::path::Path, dotenv: &str) -> BotProcess {
        use std::io::BufRead;
        std::fs::write(dir.join(".env"), dotenv).unwrap();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_etprox"));
        command
            .arg("bot")
            .current_dir(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        // Only `.env` configures it.
        for (key, _) in std::env::vars() {
            if key == "DATABASE_URL"
                || key == "RUST_LOG"
                || key.starts_with("ETPROX_")
                || key == "DISCORD_TOKEN"
            {
                command.env_remove(key);
            }
        }
        let mut child = command.spawn().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = std::sync::Arc::clone(&log);
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        BotProcess { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    async fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + WAIT;
        while !self.log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} in the log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The URL of the database `pool` belongs to (a `#[sqlx::test]` database).
fn url_of(pool: &PgPool) -> String {
    let name = pool.connect_options().get_database().unwrap().to_owned();
    etprox::demo::database::with_database(
        &std::env::var("DATABASE_URL").expect("DATABASE_URL for the tests"),
        &name,
    )
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn a_first_start_explains_itself_in_the_log(pool: PgPool) {
    use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let rounds = dir.path().join("rounds");
    std::fs::create_dir(&rounds).unwrap();
    let dotenv = format!(
        "DATABASE_URL={}\nDISCORD_TOKEN=test-token.abcdefghijklmnopqrstuvwxyz\nETPROX_GUILD_ID={GUILD_ID}\n\
         ETPROX_DISCORD_PROXY_URL={}\nETPROX_ROUND_DIRS={}\nETPROX_RESCAN_SECS=1\n\
         ETPROX_SUMMARY_CHANNEL_ID={SUMMARY_CHANNEL_ID}\n",
        url_of(&pool),
        fake.url,
        rounds.display()
    );
    let bot = BotProcess::start(dir.path(), &dotenv);
    for expected in [
        "database ready",
        "registered slash commands",
        "connected to Discord as etprox",
        GUILD_NAME,
        &format!("client_id={APP_ID}&scope=bot+applications.commands&permissions=52224"),
        "daily retention",
    ] {
        bot.wait_for_log(expected).await;
    }
    // A round that ended a few minutes ago, so it gets a summary post.
    let mut spec = RoundSpec::new(5, chrono::Utc::now().timestamp() - 600);
    spec.kills = 60;
    std::fs::write(rounds.join("round.txt"), synthetic_v3(&spec)).unwrap();
    bot.wait_for_log("imported").await;
    bot.wait_for_log("posted the round summary").await;
    drop(bot);

    // RUST_LOG in .env is honoured: at warn, the info lines are gone.
    let quiet = BotProcess::start(dir.path(), &format!("{dotenv}RUST_LOG=warn\n"));
    let put = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
    let registrations = || {
        fake.calls()
            .iter()
            .filter(|c| c.method == "PUT" && c.path == put)
            .count()
    };
    let deadline = Instant::now() + WAIT;
    while registrations() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(registrations(), 2, "the second bot registered its commands");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !quiet.log().contains("connected to Discord"),
        "{}",
        quiet.log()
    );
}

#[test]
fn the_bot_waits_for_the_database_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bot = BotProcess::start(
        dir.path(),
        &format!(
            "DATABASE_URL=postgres://etprox:s3cr3t-pw@127.0.0.1:{port}/etprox\n\
             DISCORD_TOKEN=test-token.abcdefghijklmnopqrstuvwxyz\nETPROX_GUILD_ID={GUILD_ID}\n\
             ETPROX_DISCORD_PROXY_URL=http://127.0.0.1:{port}\n"
        ),
    );
    let mut bot = bot;
    // The first attempt gives up after the pool's 5 s connect timeout.
    let deadline = Instant::now() + WAIT;
    while !bot.log().contains("database not reachable, waiting") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        bot.child.try_wait().unwrap().is_none(),
        "the bot exited instead of waiting:\n{}",
        bot.log()
    );
    let log = bot.log();
    assert!(log.contains("database not reachable, waiting"), "{log}");
    assert!(log.contains("etprox:***@127.0.0.1"), "{log}");
    assert!(!log.contains("s3cr3t-pw"), "{log}");
}

#[test]
fn bot_without_token_fails_at_once_and_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_etprox"))
        .arg("bot")
        .current_dir(dir.path())
        .env_remove("DISCORD_TOKEN")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DISCORD_TOKEN"), "{stderr}");
    assert!(
        stderr.contains("discord.com/developers/applications"),
        "{stderr}"
    );
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn daily_retention_archives_once_a_day(pool: PgPool) {
    /// Rows archived by today's run, `None` when it ran today already.
    async fn run_retention(pool: &PgPool, days: u32) -> anyhow::Result<Option<i64>> {
        let run = etprox::retention::run_daily(pool, days, None).await?;
        Ok(run.map(|archived| archived.report.archived))
    }
    seed(&pool).await;
    let archived = run_retention(&pool, 30).await.unwrap();
    assert!(archived.is_some_and(|n| n > 0), "{archived:?}");
    // A restart on the same day does not run it again.
    assert_eq!(run_retention(&pool, 30).await.unwrap(), None);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kill_context")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

/// The whole fight through Discord: /weapons is registered and answers with its choices,
/// /player shows the fight fields, /leaderboard ranks damage per minute, /heatmap draws presence.
#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn weapons_and_the_fight_stats_answer_on_discord(pool: PgPool) {
    seed(&pool).await;
    fight_rows::seed(&pool).await;
    let bot = start(pool.clone(), &[]).await;
    let weapons = bot.command("weapons");
    assert!(!weapons["description"]
        .as_str()
        .unwrap_or_default()
        .is_empty());

    let by = json!({ "name": "by", "type": 4, "value": bot.choice("weapons", "by", "damage") });
    let a = bot
        .ask("weapons", json!([text("player", "SlomiX"), by]), plain())
        .await;
    assert_eq!(a.embed_titles(), ["Weapons · SlomiX"]);
    let table = a.embed_text();
    assert!(
        table.contains(" 1. MP40") && table.contains("9000"),
        "{table}"
    );
    assert!(table.contains("ranked by damage"), "{table}");

    let a = bot
        .ask("player", json!([text("player", "SlomiX")]), plain())
        .await;
    assert_eq!(
        a.field("Damage per minute").as_deref(),
        Some("300.0 (12000 given, 9000 taken)")
    );
    assert_eq!(
        a.field("Objective plays").as_deref(),
        Some("2 steals, 1 secure")
    );

    let stat =
        json!({ "name": "stat", "type": 4, "value": bot.choice("leaderboard", "stat", "dpm") });
    let a = bot
        .ask(
            "leaderboard",
            json!([stat, bot.period("leaderboard", "all")]),
            plain(),
        )
        .await;
    assert_eq!(a.embed_titles(), ["Most damage per minute"]);
    assert!(
        a.embed_text().contains("30+ minutes played"),
        "{}",
        a.embed_text()
    );

    let a = bot
        .ask(
            "heatmap",
            json!([
                text("map", "goldrush"),
                text("kind", "presence"),
                { "name": "size", "type": 4, "value": 256 }
            ]),
            plain(),
        )
        .await;
    assert!(a.content().contains("of presence"), "{}", a.content());
    assert_eq!(a.files.len(), 1, "one PNG attached");
    assert_eq!(&a.files[0].1[..8], b"\x89PNG\r\n\x1a\n");
}
