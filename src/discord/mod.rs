//! The Discord front end: the poise framework with the slash commands, button clicks, round
//! summary posts and session recaps (per server channel), and the daily retention run. `etprox bot` calls [`run`].

pub mod render;
mod slash;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poise::serenity_prelude as serenity;
use sqlx::PgPool;
use tracing::{info, warn};

use crate::commands::{self, Caller, Command, CommandError, Env, Reply};
use crate::config::{BotConfig, Config};
use crate::ingest::{watcher, Importer};
use crate::jobs::{self, supervise};

pub type Error = anyhow::Error;
pub type Ctx<'a> = poise::Context<'a, Data, Error>;

pub struct Data {
    pub env: Env,
    admin_role: Option<serenity::RoleId>,
    /// The community's guild(s): the only places the bot answers.
    home: Vec<serenity::GuildId>,
    /// What the refusal elsewhere calls the community (its guild names).
    community: String,
    probe: DatabaseProbe,
}

impl Data {
    fn is_home(&self, guild: Option<serenity::GuildId>) -> bool {
        guild.is_some_and(|g| self.home.contains(&g))
    }

    fn refusal(&self) -> String {
        format!(
            "This bot belongs to {} and answers only there.",
            self.community
        )
    }
}

/// Work that may take longer than this is deferred ("thinking…"), so Discord's 3 s limit
/// for the first response is always met.
const DEFER_AFTER: Duration = Duration::from_millis(1200);

/// Admin if the interaction comes from a home guild and Discord says the member has Manage
/// Server there (Administrator arrives with every bit set), or has the configured admin role.
/// Manage Server in any other guild counts for nothing.
fn is_admin(
    guild: Option<serenity::GuildId>,
    member: Option<&serenity::Member>,
    data: &Data,
) -> bool {
    let (true, Some(member)) = (data.is_home(guild), member) else {
        return false;
    };
    let admin_role = data.admin_role;
    let by_permission = member
        .permissions
        .is_some_and(|p| p.manage_guild() || p.administrator());
    let by_role = admin_role.is_some_and(|role| member.roles.contains(&role));
    by_permission || by_role
}

fn caller(
    user: &serenity::User,
    guild: Option<serenity::GuildId>,
    member: Option<&serenity::Member>,
    data: &Data,
) -> Caller {
    Caller {
        discord_user_id: i64::try_from(user.id.get()).ok(),
        display_name: user.name.clone(),
        is_admin: is_admin(guild, member, data),
    }
}

/// Runs before every slash command and autocomplete (poise's command check): anything from
/// outside the community's guilds gets a short private refusal (or no suggestions), before any
/// database work.
async fn home_only(ctx: Ctx<'_>) -> Result<bool, Error> {
    let data = ctx.data();
    if data.is_home(ctx.guild_id()) {
        return Ok(true);
    }
    refuse(ctx).await?;
    Ok(false)
}

async fn refuse(ctx: Ctx<'_>) -> Result<(), Error> {
    let data = ctx.data();
    info!(
        guild = ?ctx.guild_id().map(|g| g.get()),
        user = %ctx.author().name,
        command = %ctx.command().qualified_name,
        "refused an interaction from outside the community's guilds"
    );
    if let poise::Context::Application(app) = ctx {
        if app.interaction_type == poise::CommandInteractionType::Autocomplete {
            app.interaction
                .create_response(
                    ctx.http(),
                    serenity::CreateInteractionResponse::Autocomplete(
                        serenity::CreateAutocompleteResponse::new(),
                    ),
                )
                .await?;
            return Ok(());
        }
    }
    ctx.send(render::poise_reply(&Reply::error(data.refusal())))
        .await?;
    Ok(())
}

/// Runs a command and sends its reply (privately when the command says so), deferring first
/// when it takes a while.
async fn answer<C: Command>(ctx: Ctx<'_>, command: Result<C, CommandError>) -> Result<(), Error> {
    let data = ctx.data();
    let member = match ctx {
        poise::Context::Application(app) => app.interaction.member.as_deref(),
        poise::Context::Prefix(_) => None,
    };
    let caller = caller(ctx.author(), ctx.guild_id(), member, data);
    let private = C::PRIVATE;
    let work = commands::run(&data.env, &caller, command);
    tokio::pin!(work);
    let reply = tokio::select! {
        reply = &mut work => reply,
        _ = tokio::time::sleep(DEFER_AFTER) => {
            if private { ctx.defer_ephemeral().await? } else { ctx.defer().await? }
            unless_database_down(work, &data.probe).await
        }
    };
    ctx.send(render::poise_reply(
        &reply.fit(commands::reply::limits::UPLOAD),
    ))
    .await?;
    Ok(())
}

/// Waits for a slow command, unless the database turns out to be down meanwhile: then the
/// answer is "database unavailable" at once instead of after the pool's timeout. A database
/// that is merely busy (many commands at once) is waited for.
async fn unless_database_down(
    work: impl std::future::Future<Output = Reply>,
    probe: &DatabaseProbe,
) -> Reply {
    tokio::select! {
        reply = work => reply,
        _ = probe.until_down() => Reply::error(commands::DATABASE_UNAVAILABLE),
    }
}

/// Whether PostgreSQL accepts a connection, tried at most every half second however many
/// commands ask (they share the last result).
pub struct DatabaseProbe {
    options: sqlx::postgres::PgConnectOptions,
    last: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl DatabaseProbe {
    const EVERY: Duration = Duration::from_millis(500);

    pub fn new(pool: &PgPool) -> DatabaseProbe {
        DatabaseProbe {
            options: pool.connect_options().as_ref().clone(),
            last: tokio::sync::Mutex::new(None),
        }
    }

    pub async fn is_up(&self) -> bool {
        use sqlx::Connection as _;
        let mut last = self.last.lock().await;
        if let Some((at, up)) = *last {
            if at.elapsed() < Self::EVERY {
                return up;
            }
        }
        let connect = sqlx::PgConnection::connect_with(&self.options);
        let up = match tokio::time::timeout(Duration::from_secs(1), connect).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                true
            }
            _ => false,
        };
        *last = Some((std::time::Instant::now(), up));
        up
    }

    /// Returns once the database is found down; never while it is up.
    pub async fn until_down(&self) {
        while self.is_up().await {
            tokio::time::sleep(Self::EVERY).await;
        }
    }
}

/// A button click: repeats the invocation in its id (checked like a fresh command) and
/// updates the message, or answers privately for errors and refusals.
async fn on_button(
    ctx: &serenity::Context,
    click: &serenity::ComponentInteraction,
    data: &Data,
) -> Result<(), Error> {
    use serenity::{CreateInteractionResponse, EditInteractionResponse};
    if !data.is_home(click.guild_id) {
        info!(guild = ?click.guild_id.map(|g| g.get()), user = %click.user.name, "refused a button click from outside the community's guilds");
        let message = render::interaction_message(&Reply::error(data.refusal()));
        click
            .create_response(&ctx.http, CreateInteractionResponse::Message(message))
            .await?;
        return Ok(());
    }
    let caller = caller(&click.user, click.guild_id, click.member.as_ref(), data);
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
            let reply = unless_database_down(work, &data.probe)
                .await
                .fit(commands::reply::limits::UPLOAD);
            if reply.ephemeral && reply.embeds.is_empty() {
                // An error or refusal: privately, leaving the message that was clicked as it was.
                let followup = serenity::CreateInteractionResponseFollowup::new()
                    .content(reply.content.clone().unwrap_or_default())
                    .ephemeral(true)
                    .allowed_mentions(serenity::CreateAllowedMentions::new());
                click.create_followup(&ctx.http, followup).await?;
                return Ok(());
            }
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
            info!(
                "connected to Discord as {} (id {})",
                data_about_bot.user.name,
                data_about_bot.user.id.get()
            );
            let elsewhere: Vec<u64> = data_about_bot
                .guilds
                .iter()
                .map(|g| g.id)
                .filter(|g| !data.home.contains(g))
                .map(|g| g.get())
                .collect();
            if !elsewhere.is_empty() {
                warn!(
                    guilds = ?elsewhere,
                    "the bot is also in servers outside ETPROX_GUILD_ID; it refuses every command there"
                );
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        // Refused by `home_only`, which has answered already.
        poise::FrameworkError::CommandCheckFailed { error: None, .. } => {}
        // Admin commands are guild-only; a DM gets the same refusal as a stranger's guild.
        poise::FrameworkError::GuildOnly { ctx, .. } => {
            if let Err(e) = refuse(ctx).await {
                warn!(error = %e, "could not send the refusal");
            }
        }
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

/// Discord's REST client, through ETPROX_DISCORD_PROXY_URL when set (`etprox check` too).
pub fn http_client(bot: &BotConfig) -> serenity::Http {
    let mut http = serenity::HttpBuilder::new(&bot.discord_token);
    if let Some(url) = &bot.proxy_url {
        // serenity only honours the proxy with its own rate limiter off; the proxy limits.
        http = http.proxy(url.clone()).ratelimiter_disabled(true);
    }
    http.build()
}

/// What the bot needs in a channel: see it, post, embed and attach (heatmaps). It edits only its
/// own messages and reads no history, so nothing more.
pub fn needed_permissions() -> serenity::Permissions {
    serenity::Permissions::VIEW_CHANNEL
        | serenity::Permissions::SEND_MESSAGES
        | serenity::Permissions::EMBED_LINKS
        | serenity::Permissions::ATTACH_FILES
}

/// The URL that adds the bot to a server with the scopes and permissions it needs.
pub fn invite_url(application_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot+applications.commands&permissions={}",
        needed_permissions().bits()
    )
}

/// Registers the commands in each home guild, removes global commands an earlier version left
/// (they would let the bot be used anywhere), and returns the community's name for refusals.
async fn register(
    ctx: &serenity::Context,
    ready: &serenity::Ready,
    commands: &[poise::Command<Data, Error>],
    home: &[serenity::GuildId],
) -> Result<String, Error> {
    info!(
        "invite the bot to your server with {}",
        invite_url(ready.application.id.get())
    );
    let mut names = Vec::new();
    for guild in home {
        match ctx.http.get_guild(*guild).await {
            Ok(g) => {
                info!(guild = %g.name, id = guild.get(), "serving guild");
                names.push(g.name);
            }
            Err(e) => {
                warn!(
                    id = guild.get(),
                    error = %e,
                    "the bot cannot see this guild of ETPROX_GUILD_ID: is it invited there? (see the invite URL above)"
                );
                names.push(format!("Discord server {}", guild.get()));
            }
        }
        poise::builtins::register_in_guild(ctx, commands, *guild)
            .await
            .with_context(|| format!("registering the slash commands in guild {}", guild.get()))?;
        info!(
            commands = commands.len(),
            guild = guild.get(),
            "registered slash commands"
        );
    }
    let global = serenity::Command::get_global_commands(&ctx.http)
        .await
        .context("listing global slash commands")?;
    if !global.is_empty() {
        serenity::Command::set_global_commands(&ctx.http, Vec::new())
            .await
            .context("removing global slash commands")?;
        info!(
            removed = global.len(),
            "removed global slash commands left by an earlier version"
        );
    }
    Ok(match names.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => "its community".into(),
    })
}

/// Commands get a pool of their own: a stuck query cannot hold a connection for long
/// (statement timeout), and a busy pool is waited for this long. A database that is down is
/// noticed sooner by [`DatabaseProbe`]. Dead connections are dropped when next taken (sqlx
/// tests each before use), so the bot recovers by itself when the database is back.
pub const COMMAND_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

fn command_pool(pool: &PgPool) -> PgPool {
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .options([("statement_timeout", "30s")]);
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(COMMAND_ACQUIRE_TIMEOUT)
        .connect_lazy_with(options)
}

/// What the bot's tasks share.
pub struct Bot {
    pub config: Config,
    pub bot: BotConfig,
    pub pool: PgPool,
    /// Failures to inject (tests); `Faults::default()` injects none.
    pub faults: supervise::Faults,
}

/// Runs the watcher, the importer, the Discord client, summary posts and daily retention,
/// until the client stops (it reconnects by itself on gateway drops) or a background task
/// keeps failing (see [`supervise`]); both are errors, so the process exits non-zero.
pub async fn run(bot: Bot) -> anyhow::Result<()> {
    let Bot {
        config,
        bot,
        pool,
        faults,
    } = bot;
    let policy = supervise::RestartPolicy::default();
    let mut tasks = tokio::task::JoinSet::new();
    let importer = Importer::new(
        pool.clone(),
        config.session,
        config.default_server_id.clone(),
    );
    let env = Env {
        pool: command_pool(&pool),
        importer: Some(importer.clone()),
        round_dirs: config.round_dirs.clone(),
        assets: config.assets.clone(),
        export_dir: bot.export_dir.clone(),
        cache: Default::default(),
        clock: crate::clock::Clock::system(config.session),
    };
    // Subscribe before the watcher starts, so no round is missed; a restarted task
    // subscribes again.
    let rounds = importer.subscribe();
    jobs::spawn_cache_warming(&mut tasks, policy, &env, &importer);
    spawn_imports(&mut tasks, &config, &importer, faults, policy);

    let http = http_client(&bot);

    let framework = framework(&bot, env.clone(), DatabaseProbe::new(&pool));
    let intents = serenity::GatewayIntents::GUILDS;
    let mut client = serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .await
        .context("building the Discord client")?;

    let channels = jobs::SummaryChannels::from_config(&bot);
    if channels.is_empty() {
        drop(rounds);
    } else {
        let summaries = jobs::Summaries {
            http: Arc::clone(&client.http),
            pool: pool.clone(),
            channels,
            max_age: bot.summary_max_age,
            assets: config.assets.clone(),
            recap_after: bot.recap_after,
        };
        jobs::spawn_recaps(&mut tasks, policy, &summaries);
        jobs::spawn_summaries(&mut tasks, policy, summaries, &importer, rounds);
    }
    if bot.retention_days > 0 {
        let retention = jobs::DailyRetention {
            pool: pool.clone(),
            days: bot.retention_days,
            hour: bot.retention_hour,
            export_dir: bot.export_dir.clone(),
        };
        jobs::spawn_daily_retention(&mut tasks, policy, retention);
    }
    tokio::select! {
        result = client.start() => {
            result.context("Discord connection")?;
            anyhow::bail!("the Discord client stopped")
        }
        Some(gave_up) = tasks.join_next() => match gave_up {
            Ok(error) => Err(error),
            Err(e) => Err(anyhow::anyhow!("a task supervisor ended: {e}")),
        },
    }
}

type Tasks = tokio::task::JoinSet<anyhow::Error>;

/// The importing tasks: one poller per remote source, the watcher of the round folders.
fn spawn_imports(
    tasks: &mut Tasks,
    config: &Config,
    importer: &Importer,
    faults: supervise::Faults,
    policy: supervise::RestartPolicy,
) {
    for source in &config.remote.sources {
        let (importer, source) = (importer.clone(), source.clone());
        let options =
            crate::remote::PollerOptions::new(config.remote.poll, config.remote.spool_dir.clone());
        tasks.spawn(supervise::supervise("remote source", policy, move || {
            let (importer, source, options) = (importer.clone(), source.clone(), options.clone());
            async move {
                crate::remote::run_source(importer, source, options).await;
                Ok(())
            }
        }));
    }
    if config.round_dirs.is_empty() {
        if config.remote.sources.is_empty() {
            warn!("neither ETPROX_ROUND_DIRS nor ETPROX_ROUND_SOURCES is set: the bot imports nothing by itself");
        }
    } else {
        let options = watcher::WatchOptions::from_config(config);
        let importer = importer.clone();
        tasks.spawn(supervise::supervise("watcher", policy, move || {
            let (importer, options, faults) = (importer.clone(), options.clone(), faults.clone());
            async move {
                faults.watcher_start();
                watcher::run(importer, options).await
            }
        }));
    }
}

/// The poise framework with the registry's slash commands; registers them when connected.
fn framework(bot: &BotConfig, env: Env, probe: DatabaseProbe) -> poise::Framework<Data, Error> {
    let home: Vec<serenity::GuildId> = bot
        .guild_ids
        .iter()
        .map(|g| serenity::GuildId::new(*g))
        .collect();
    let admin_role = bot.admin_role_id.map(serenity::RoleId::new);
    poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: slash::all(),
            on_error: |e| Box::pin(on_error(e)),
            command_check: Some(|ctx| Box::pin(home_only(ctx))),
            event_handler: |ctx, event, _framework, data| Box::pin(on_event(ctx, event, data)),
            initialize_owners: false,
            ..Default::default()
        })
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                let community = register(ctx, ready, &framework.options().commands, &home).await?;
                Ok(Data {
                    env,
                    admin_role,
                    home,
                    community,
                    probe,
                })
            })
        })
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invite_asks_for_the_four_permissions_the_bot_uses() {
        // View Channel 1<<10, Send Messages 1<<11, Embed Links 1<<14, Attach Files 1<<15.
        assert_eq!(needed_permissions().bits(), 1024 + 2048 + 16384 + 32768);
        let url = invite_url(42);
        assert_eq!(
            url,
            "https://discord.com/oauth2/authorize?client_id=42&scope=bot+applications.commands&permissions=52224"
        );
        assert!(!needed_permissions().administrator());
        assert!(!needed_permissions().read_message_history());
    }
}
