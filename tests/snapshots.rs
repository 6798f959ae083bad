//! What players see, under review: every command's console rendering (`etprox ask`) on the
//! two fixture rounds, with the clock fixed so 7d and 30d windows never move. A change in any
//! reply shows up as a changed `.snap` file in `tests/snapshots/`; a mismatch fails `cargo
//! test` (insta writes a `.snap.new` beside it to review; CI never writes).

mod common;
mod fight_rows;

use chrono::{TimeZone, Utc};
use etprox::clock::Clock;
use etprox::commands::{dispatch, press, Caller, Env, Invocation, Reply};
use etprox::config::SessionClock;
use sqlx::PgPool;

/// An evening two days after the fixture rounds (2025-11-18): 7d and 30d include them.
fn clock() -> Clock {
    let now = Utc.with_ymd_and_hms(2025, 11, 20, 21, 0, 0).unwrap();
    Clock::fixed(SessionClock::default(), now)
}

fn env(pool: &PgPool) -> Env {
    common::command_env(pool, clock())
}

fn console() -> Caller {
    common::console()
}

async fn seed(pool: &PgPool) {
    let importer = common::importer(pool);
    for f in [common::SUPPLY, common::GOLDRUSH] {
        common::expect_imported(&common::import(&importer, &common::shared_fixture(f)).await);
    }
    // Fight data for three players (tests/fight_rows): kira and the others have none.
    fight_rows::seed(pool).await;
}

/// What changes from run to run: import times (only `/import status` shows them), table sizes
/// (and the column widths they set), PNG sizes.
fn check(name: &str, reply: &Reply) {
    let text = etprox::console::render(reply);
    let mut filters = vec![
        (r" +\d+(\.\d)? (B|KiB|MiB|GiB) +", " [size] "),
        (r"rows +size +oldest", "rows [size] oldest"),
        (r"\(\d+ bytes\)", "([n] bytes)"),
    ];
    if name.starts_with("import") {
        filters.push((r"\d\d-\d\d \d\d:\d\d", "[MM-DD hh:mm]"));
    }
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        filters => filters,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Each command (and each form a command answers in), by snapshot name.
const LINES: [(&str, &str); 41] = [
    ("solo_ranking", "/solo period:all"),
    ("solo_player", "/solo player:SlomiX period:all"),
    ("solo_week", "/solo player:SlomiX period:7d"),
    (
        "solo_day_range",
        "/solo player:carniee period:2025-11-17..2025-11-18",
    ),
    ("duo_best_pairs", "/duo period:all"),
    ("duo_partners", "/duo player:SlomiX period:all"),
    ("duo_pair", "/duo player:SlomiX partner:carniee period:30d"),
    ("engagements_session", "/engagements"),
    ("engagements_map", "/engagements map:goldrush period:all"),
    ("player", "/player player:SlomiX"),
    ("player_no_fight", "/player player:kira"),
    ("weapons", "/weapons player:SlomiX"),
    ("weapons_everyone", "/weapons by:accuracy period:7d"),
    ("leaderboard_kills", "/leaderboard stat:kills period:all"),
    ("leaderboard_week", "/leaderboard stat:rounds period:7d"),
    ("leaderboard_dpm", "/leaderboard stat:dpm period:all"),
    (
        "leaderboard_accuracy",
        "/leaderboard stat:accuracy period:30d",
    ),
    ("round_latest", "/round"),
    ("round_first", "/round round:1"),
    ("session_latest", "/session"),
    ("session_day", "/session server:test-server date:2025-11-18"),
    ("session_no_rounds", "/session date:2025-11-01"),
    ("maps", "/maps"),
    ("heatmap", "/heatmap map:goldrush kind:kills size:256"),
    (
        "heatmap_presence",
        "/heatmap map:goldrush kind:presence team:axis size:256",
    ),
    (
        "heatmap_objectives",
        "/heatmap map:goldrush kind:objectives action:steal size:256",
    ),
    ("retention_stats", "/retention stats"),
    (
        "retention_dry_run",
        "/retention archive days:30 dry_run:true",
    ),
    ("retention_prompt", "/retention archive days:30 export:true"),
    ("import_status", "/import status"),
    ("link", "/link player:SlomiX"),
    ("unlink", "/unlink"),
    ("versus", "/versus player:SlomiX opponent:Lagger"),
    (
        "versus_week",
        "/versus player:carniee opponent:SlomiX period:7d",
    ),
    ("trend", "/trend player:SlomiX"),
    ("trend_kd", "/trend player:carniee stat:kd sessions:5"),
    ("help", "/help"),
    ("help_term", "/help topic:outgunned"),
    ("help_command", "/help topic:/versus"),
    ("round_server", "/round server:test-server"),
    ("maps_server", "/maps server:TEST-SERVER"),
];

/// A command added to the registry without a line above would ship unseen: every registered
/// command (and each of its subcommands) is snapshotted at least once.
#[test]
fn every_registered_command_has_a_snapshot_line() {
    for spec in etprox::commands::ALL {
        let covered = |line: &str, sub: Option<&str>| {
            let inv = Invocation::parse(line).unwrap();
            inv.name == spec.name && sub.is_none_or(|s| inv.subcommand.as_deref() == Some(s))
        };
        if spec.subcommands.is_empty() {
            assert!(
                LINES.iter().any(|(_, line)| covered(line, None)),
                "/{} has no line in LINES",
                spec.name
            );
        }
        for sub in spec.subcommands {
            // /import rescan imports the round folders: covered in tests/commands.rs instead.
            if (spec.name, *sub) == ("import", "rescan") {
                continue;
            }
            assert!(
                LINES.iter().any(|(_, line)| covered(line, Some(sub))),
                "/{} {sub} has no line in LINES",
                spec.name
            );
        }
    }
}

#[sqlx::test]
async fn every_command_renders_as_in_its_snapshot(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    for (name, line) in LINES {
        let reply = dispatch(&env, &console(), &Invocation::parse(line).unwrap()).await;
        check(name, &reply);
    }
    // A page button repeats the command with the next page.
    let first = dispatch(
        &env,
        &console(),
        &Invocation::parse("/duo period:all").unwrap(),
    )
    .await;
    let next = press(&env, &console(), &first.buttons[1].id).await;
    check("duo_best_pairs_page_2", &next);
}

#[sqlx::test]
async fn mistakes_are_answered_as_in_their_snapshots(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let member = Caller {
        is_admin: false,
        ..console()
    };
    for (name, caller, line) in [
        (
            "error_ambiguous_player",
            console(),
            "/solo player:e period:all",
        ),
        ("error_unknown_player", console(), "/player player:zzzz"),
        ("error_unknown_command", console(), "/nosuch"),
        ("error_period", console(), "/duo period:year"),
        (
            "error_heatmap_size",
            console(),
            "/heatmap map:goldrush size:9",
        ),
        ("error_admin_only", member, "/retention stats"),
        (
            "error_member_not_linked",
            console(),
            "/player member:<@4242>",
        ),
        ("error_unknown_server", console(), "/round server:nowhere"),
        (
            "error_versus_self",
            console(),
            "/versus player:SlomiX opponent:slomix",
        ),
        ("error_help_topic", console(), "/help topic:teabag"),
    ] {
        let reply = dispatch(&env, &caller, &Invocation::parse(line).unwrap()).await;
        check(name, &reply);
    }
}

/// `member:` and a mention stand for the player the member linked.
#[sqlx::test]
async fn a_linked_member_stands_for_their_player(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let slomix = etprox::players::resolve_one(&pool, "SlomiX").await.unwrap();
    etprox::db::links::link(&pool, 4242, &slomix.guid, 4242)
        .await
        .unwrap();
    let by_member = |line: &str| {
        let env = env.clone();
        let line = line.to_owned();
        async move { dispatch(&env, &console(), &Invocation::parse(&line).unwrap()).await }
    };
    let named = by_member("/player player:SlomiX").await;
    assert_eq!(by_member("/player member:<@4242>").await, named);
    assert_eq!(
        by_member("/versus member:4242 opponent:Lagger").await,
        by_member("/versus player:SlomiX opponent:Lagger").await
    );
    let mentioned = by_member("/versus player:Lagger opponent:<@4242>").await;
    assert_eq!(
        mentioned,
        by_member("/versus player:Lagger opponent:SlomiX").await
    );
    check("versus_member_mention", &mentioned);
}

/// A Discord front end that answers nothing: enough to list the slash commands.
struct NoFront(Env);

impl etprox::commands::slash::Front for NoFront {
    fn env(&self) -> &Env {
        &self.0
    }

    async fn answer<C: etprox::commands::Command>(
        _ctx: etprox::commands::slash::Ctx<'_, Self>,
        _command: Result<C, etprox::commands::CommandError>,
    ) -> Result<(), anyhow::Error> {
        Ok(())
    }
}

fn check_json(name: &str, value: &impl serde::Serialize) {
    let json = serde_json::to_string_pretty(value).unwrap();
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, json);
    });
}

/// The JSON Discord receives for the first answer to a slash command.
fn slash_answer(reply: &Reply) -> serenity::CreateInteractionResponse {
    use etprox::discord::render;
    let message = render::poise_reply(reply)
        .to_slash_initial_response(serenity::CreateInteractionResponseMessage::new());
    serenity::CreateInteractionResponse::Message(message)
}

use poise::serenity_prelude as serenity;

#[test]
fn the_slash_commands_register_as_in_their_snapshot() {
    // What `register_in_guild` sends: names, descriptions, options, choices, bounds, permissions.
    let commands = etprox::commands::slash_commands::<NoFront>();
    check_json(
        "discord_registration",
        &poise::builtins::create_application_commands(&commands),
    );
}

#[sqlx::test]
async fn discord_payloads_are_as_in_their_snapshots(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    for (name, line) in [
        ("discord_page_buttons", "/duo period:all"),
        ("discord_error", "/player player:@everyone"),
        ("discord_heatmap", "/heatmap map:goldrush size:256"),
        ("discord_private", "/retention archive days:30"),
    ] {
        let reply = dispatch(&env, &console(), &Invocation::parse(line).unwrap()).await;
        let reply = reply.fit(etprox::commands::reply::limits::UPLOAD);
        check_json(name, &slash_answer(&reply));
    }
}
