//! The Discord front end: the poise framework with the slash commands, button clicks, round
//! summary posts, and the daily retention run. `etprox bot` calls [`run`].

mod render;
mod slash;
pub mod summaries;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poise::serenity_prelude as serenity;
use sqlx::PgPool;
use tracing::{info, warn};

use crate::commands::{self, Caller, Env, Invocation, Reply};
use crate::config::{BotConfig, Config};
use crate::ingest::{watcher, Importer};

pub type Error = anyhow::Error;
pub type Ctx<'a> = poise::Context<'a, Data, Error>;

pub struct Data {
    pub env: Env,
    admin_role: Option<serenity::RoleId>,
}

/// Work that may take longer than this is deferred ("thinking…"), so Discord's 3 s limit
/// for the first response is always met.
const DEFER_AFTER: Duration = Duration::from_millis(1200);

/// Admin if Discord says the member has Manage Server (Administrator arrives with every bit
/// set) in this channel, or has the configured admin role.
fn is_admin(member: Option<&serenity::Member>, admin_role: Option<serenity::RoleId>) -> bool {
    let Some(member) = member else {
        return false;
    };
    let by_permission = member
        .permissions
        .is_some_and(|p| p.manage_guild() || p.administrator());
    let by_role = admin_role.is_some_and(|role| member.roles.contains(&role));
    by_permission || by_role
}

fn caller(user: &serenity::User, member: Option<&serenity::Member>, data: &Data) -> Caller {
    Caller {
        discord_user_id: i64::try_from(user.id.get()).ok(),
        display_name: user.name.clone(),
        is_admin: is_admin(member, data.admin_role),
    }
}

/// Runs a command and sends its reply, deferring first when it takes a while.
async fn answer(ctx: Ctx<'_>, invocation: Invocation) -> Result<(), Error> {
    let data = ctx.data();
    let member = match ctx {
        poise::Context::Application(app) => app.interaction.member.as_deref(),
        poise::Context::Prefix(_) => None,
    };
    let caller = caller(ctx.author(), member, data);
    let private = matches!(
        invocation.name.as_str(),
        "retention" | "import" | "link" | "unlink"
    );
    let work = commands::dispatch(&data.env, &caller, &invocation);
    tokio::pin!(work);
    let reply = tokio::select! {
        reply = &mut work => reply,
        _ = tokio::time::sleep(DEFER_AFTER) => {
            if private { ctx.defer_ephemeral().await? } else { ctx.defer().await? }
            work.await
        }
    };
    ctx.send(render::poise_reply(
        &reply.fit(commands::reply::limits::UPLOAD),
    ))
    .await?;
    Ok(())
}

/// A button click: repeats the invocation in its id (checked like a fresh command) and
/// updates the message, or answers privately for errors and refusals.
async fn on_button(
    ctx: &serenity::Context,
    click: &serenity::ComponentInteraction,
    data: &Data,
) -> Result<(), Error> {
    use serenity::{CreateInteractionResponse, EditInteractionResponse};
    let caller = caller(&click.user, click.member.as_ref(), data);
    let work = commands::press(&data.env, &caller, &click.data.custom_id);
    tokio::pin!(work);
    let quick = tokio::select! {
        reply = &mut work => Some(reply),
        _ = tokio::time::sleep(DEFER_AFTER) => None,
    };
    let reply = match quick {
        Some(reply) => reply.fit(commands::reply::limits::UPLOAD),
        None => {
            click
                .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
                .await?;
            let reply = work.await.fit(commands::reply::limits::UPLOAD);
            let mut edit = EditInteractionResponse::new()
                .embeds(reply.embeds.iter().map(render::embed).collect())
                .components(render::components(&reply))
                .allowed_mentions(serenity::CreateAllowedMentions::new());
            if let Some(c) = &reply.content {
                edit = edit.content(c);
            }
            click.edit_response(&ctx.http, edit).await?;
            return Ok(());
        }
    };
    let message = render::interaction_message(&reply);
    let response = if reply.ephemeral && reply.embeds.is_empty() {
        CreateInteractionResponse::Message(message)
    } else {
        CreateInteractionResponse::UpdateMessage(message)
    };
    click.create_response(&ctx.http, response).await?;
    Ok(())
}

async fn on_event(
    ctx: &serenity::Context,
    event: &serenity::FullEvent,
    data: &Data,
) -> Result<(), Error> {
    match event {
        serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Component(click),
        } => on_button(ctx, click, data).await,
        serenity::FullEvent::Ready { data_about_bot } => {
            info!(user = %data_about_bot.user.name, "connected to Discord");
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            warn!(command = %ctx.command().qualified_name, error = %error, "command failed");
            let _ = ctx
                .send(render::poise_reply(&Reply::error(
                    "Something went wrong on our side; the error is logged.",
                )))
                .await;
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                warn!(error = %e, "while handling a framework error");
            }
        }
    }
}

/// Recomputes the cached all-time and 30-day totals and pairs after imports (batched: waits
/// for a quiet second), so the first /solo, /duo or /leaderboard after a round is fast too.
async fn warm_cache(
    env: Env,
    mut rounds: tokio::sync::broadcast::Receiver<crate::ingest::ImportedRound>,
) {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    loop {
        match rounds.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        loop {
            match rounds.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
        for period in [commands::Period::All, commands::Period::Month] {
            let Ok(range) = period.range(&env.pool).await else {
                continue;
            };
            let totals = env.cache.totals(&env.pool, range.from, range.to).await;
            let pairs = env.cache.best_pairs(&env.pool, range.from, range.to).await;
            if let Err(e) = totals.and(pairs) {
                warn!(error = %e, "could not refresh cached totals");
            }
        }
    }
}

/// What the bot's tasks share.
pub struct Bot {
    pub config: Config,
    pub bot: BotConfig,
    pub pool: PgPool,
}

/// Runs the watcher, the importer, the Discord client, summary posts and daily retention,
/// until the client stops (it reconnects by itself on gateway drops).
pub async fn run(bot: Bot) -> anyhow::Result<()> {
    let Bot { config, bot, pool } = bot;
    let importer = Importer::new(
        pool.clone(),
        config.session,
        config.default_server_id.clone(),
    );
    let env = Env {
        pool: pool.clone(),
        importer: Some(importer.clone()),
        round_dirs: config.round_dirs.clone(),
        assets_dir: bot.assets_dir.clone(),
        export_dir: bot.export_dir.clone(),
        cache: Default::default(),
    };
    // Subscribe before the watcher starts, so no round is missed.
    let rounds = importer.subscribe();
    tokio::spawn(warm_cache(env.clone(), importer.subscribe()));
    if config.round_dirs.is_empty() {
        warn!("ETPROX_ROUND_DIRS is not set: the bot imports nothing by itself");
    } else {
        let options = watcher::WatchOptions::from_config(&config);
        let importer = importer.clone();
        tokio::spawn(async move {
            if let Err(e) = watcher::run(importer, options).await {
                tracing::error!(error = %format!("{e:#}"), "the round-file watcher stopped");
            }
        });
    }

    let mut http = serenity::HttpBuilder::new(&bot.discord_token);
    if let Some(url) = &bot.proxy_url {
        // serenity only honours the proxy with its own rate limiter off; the proxy limits.
        http = http.proxy(url.clone()).ratelimiter_disabled(true);
    }
    let http = http.build();

    let guild = bot.guild_id.map(serenity::GuildId::new);
    let admin_role = bot.admin_role_id.map(serenity::RoleId::new);
    let data_env = env.clone();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: slash::all(),
            on_error: |e| Box::pin(on_error(e)),
            event_handler: |ctx, event, _framework, data| Box::pin(on_event(ctx, event, data)),
            initialize_owners: false,
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                match guild {
                    Some(g) => poise::builtins::register_in_guild(ctx, commands, g).await?,
                    None => poise::builtins::register_globally(ctx, commands).await?,
                }
                info!(commands = commands.len(), guild = ?guild, "registered slash commands");
                Ok(Data {
                    env: data_env,
                    admin_role,
                })
            })
        })
        .build();
    let intents = serenity::GatewayIntents::GUILDS;
    let mut client = serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .await
        .context("building the Discord client")?;

    if let Some(channel) = bot.summary_channel_id {
        tokio::spawn(summaries::post_summaries(
            Arc::clone(&client.http),
            pool.clone(),
            rounds,
            serenity::ChannelId::new(channel),
            bot.summary_max_age,
        ));
    }
    if bot.retention_days > 0 {
        tokio::spawn(summaries::daily_retention(
            pool.clone(),
            bot.retention_days,
            bot.retention_hour,
            bot.export_dir.clone(),
        ));
    }
    client.start().await.context("Discord connection")?;
    Ok(())
}
