//! Commands called directly (the console path), on a real PostgreSQL seeded through the
//! importer. Each test gets a fresh database.

mod common;

use etprox::commands::{dispatch, press, Caller, Env, Invocation, Reply};
use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
use sqlx::PgPool;

fn env(pool: &PgPool) -> Env {
    Env {
        pool: pool.clone(),
        importer: Some(common::importer(pool)),
        round_dirs: Vec::new(),
        assets_dir: "assets".into(),
        export_dir: None,
        cache: Default::default(),
    }
}

fn console() -> Caller {
    Caller {
        discord_user_id: Some(42),
        display_name: "console".into(),
        is_admin: true,
    }
}

async fn ask(env: &Env, caller: &Caller, line: &str) -> Reply {
    dispatch(env, caller, &Invocation::parse(line).expect("command line")).await
}

fn all_text(reply: &Reply) -> String {
    etprox::console::render(reply)
}

async fn seed(pool: &PgPool) {
    let importer = common::importer(pool);
    for f in [common::SUPPLY, common::GOLDRUSH] {
        common::expect_imported(&common::import(&importer, &common::shared_fixture(f)).await);
    }
}

#[sqlx::test]
async fn pair_record_is_the_same_from_aggregates_and_from_raw_kills(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let line = "/duo player:SlomiX partner:carniee period:all";
    let raw = ask(&env, &console(), line).await;
    sqlx::query("SELECT backfill_player_aggregates()")
        .execute(&pool)
        .await
        .unwrap();
    let rounds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM player_rounds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(rounds > 0);
    let from_aggregates = ask(&env, &console(), line).await;
    assert_eq!(raw, from_aggregates);
    let together = raw.embeds[0]
        .fields
        .iter()
        .find(|f| f.name == "Together (same team)")
        .expect("together field");
    assert!(together.value.starts_with("2 rounds"), "{}", together.value);

    // Profile: favourite weapons and nemesis agree too.
    let profile = ask(&env, &console(), "/player player:SlomiX").await;
    sqlx::raw_sql("TRUNCATE player_weapon_daily, player_versus_daily, player_rounds")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        profile,
        ask(&env, &console(), "/player player:SlomiX").await
    );
}

#[sqlx::test]
async fn cached_leaderboards_change_after_an_import(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let before = ask(&env, &console(), "/leaderboard stat:rounds period:all").await;
    assert_eq!(
        before,
        ask(&env, &console(), "/leaderboard stat:rounds period:all").await
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("extra.txt");
    std::fs::write(&path, synthetic_v3(&RoundSpec::new(3, 1_763_000_000))).unwrap();
    common::expect_imported(&common::import(&common::importer(&pool), &path).await);
    let after = ask(&env, &console(), "/leaderboard stat:rounds period:all").await;
    assert_ne!(before, after, "a new round must show in the leaderboard");
    assert!(all_text(&after).contains("player"), "{}", all_text(&after));
}

#[sqlx::test]
async fn players_resolve_by_name_alias_or_key_and_ambiguity_is_explained(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let guid: String =
        sqlx::query_scalar("SELECT player_guid FROM players WHERE last_name = 'SlomiX'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let by_name = ask(&env, &console(), "/solo player:slomix period:all").await;
    let by_key = ask(&env, &console(), &format!("/solo player:{guid} period:all")).await;
    let by_colour = ask(&env, &console(), "/solo player:^1Slo^7miX period:all").await;
    assert_eq!(by_name.embeds[0].title, "Lone wolf: SlomiX");
    assert_eq!(by_name, by_key);
    assert_eq!(by_name, by_colour);
    // A substring that several names contain lists them instead of guessing.
    let many = ask(&env, &console(), "/solo player:e period:all").await;
    assert!(many.ephemeral);
    assert!(many.content.unwrap_or_default().contains("players match"));
    let none = ask(&env, &console(), "/solo player:zzzz period:all").await;
    assert!(none
        .content
        .unwrap_or_default()
        .contains("no player matches"));
}

#[sqlx::test]
async fn admin_commands_need_an_admin_and_archive_needs_confirmation(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let member = Caller {
        is_admin: false,
        ..console()
    };
    let refused = ask(&env, &member, "/retention archive days:30").await;
    assert!(refused.ephemeral && refused.embeds.is_empty());

    let dry = ask(&env, &console(), "/retention archive days:30 dry_run:true").await;
    assert!(dry
        .content
        .unwrap_or_default()
        .contains("would be archived"));
    let prompt = ask(&env, &console(), "/retention archive days:30").await;
    assert_eq!(prompt.embeds[0].title, "Archive raw kills?");
    let confirm = prompt.buttons[0].id.clone();
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM kill_context")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert!(count().await > 0);
    let refused = press(&env, &member, &confirm).await;
    assert!(refused.ephemeral);
    assert!(count().await > 0);
    let done = press(&env, &console(), &confirm).await;
    assert_eq!(done.embeds[0].title, "Archived");
    assert_eq!(count().await, 0);
    assert!(press(&env, &console(), "pg:not a command").await.ephemeral);

    let status = ask(&env, &console(), "/import status").await;
    assert_eq!(status.embeds[0].title, "Imports");
}

#[sqlx::test]
async fn hostile_names_are_shown_safely(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.txt");
    let text = String::from_utf8(synthetic_v3(&RoundSpec::new(5, 1_763_000_000))).unwrap();
    // Rename every player of the round to a name that tries to ping and format.
    let hostile = text.replace("player", "@everyone**`");
    std::fs::write(&path, hostile).unwrap();
    common::expect_imported(&common::import(&common::importer(&pool), &path).await);
    let env = env(&pool);
    for line in [
        "/round",
        "/leaderboard stat:kills period:all",
        "/duo period:all",
    ] {
        let reply = ask(&env, &console(), line).await;
        for e in &reply.embeds {
            let mut texts = vec![e.title.clone()];
            texts.extend(e.description.clone());
            texts.extend(e.fields.iter().map(|f| f.value.clone()));
            for t in texts {
                assert!(!t.contains("@everyone"), "{line}: {t}");
            }
        }
    }
}
