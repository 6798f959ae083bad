//! A fake Discord on 127.0.0.1 for the bot's end-to-end tests: the REST API the bot calls
//! (recorded for assertions) and the gateway websocket (HELLO, READY, heartbeats, and the
//! events a test dispatches). See docs/reference/discord-test-facts.md.
//!
//! Protocol facts it relies on (checked with serenity 0.12.5 and poise 0.6):
//! - serenity sends every REST call to `HttpBuilder::proxy(url)` only with its rate limiter
//!   disabled; paths keep their `/api/v10/...` form.
//! - Start-up: `GET /gateway`, websocket HELLO (op 10) / IDENTIFY (op 2) / READY (op 0 with
//!   `user`, `guilds`, `session_id`, `resume_gateway_url`, `application`), heartbeats answered
//!   with op 11; then command registration with `PUT /applications/{app}/guilds/{g}/commands`.
//! - An INTERACTION_CREATE without `attachment_size_limit` is dropped by serenity silently.
//! - A guild interaction carries `guild_id` and `member`; a DM carries `user` and no guild.
//! - Without the privileged GUILD_MEMBERS intent members come over REST
//!   (`GET /guilds/{g}/members/{u}`), never in GUILD_CREATE: the fake serves them that way.
//! - A guild the bot is not in answers 403 "Missing Access" (code 50001); a bad token 401.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::broadcast;

pub const APP_ID: u64 = 900_000_000_000_000_001;
pub const GUILD_ID: u64 = 900_000_000_000_000_002;
pub const CHANNEL_ID: u64 = 900_000_000_000_000_003;
pub const SUMMARY_CHANNEL_ID: u64 = 900_000_000_000_000_004;
pub const ADMIN_ROLE_ID: u64 = 900_000_000_000_000_005;
pub const MANAGE_GUILD: u64 = 1 << 5;
/// The role Discord gives the bot when it is invited (its "managed" integration role).
pub const BOT_ROLE_ID: u64 = 900_000_000_000_000_006;
/// A guild the bot was invited to by a stranger.
pub const FOREIGN_GUILD_ID: u64 = 900_000_000_000_000_007;
pub const GUILD_NAME: &str = "ET Test Community";

pub const VIEW_CHANNEL: u64 = 1 << 10;
pub const SEND_MESSAGES: u64 = 1 << 11;
pub const EMBED_LINKS: u64 = 1 << 14;
pub const ATTACH_FILES: u64 = 1 << 15;
pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;

/// A guild as the fake serves it over REST (`GET /guilds/{id}`, its roles, members, channels).
#[derive(Debug, Clone)]
pub struct FakeGuild {
    pub id: u64,
    pub name: String,
    pub owner_id: u64,
    /// (role id, name, permission bits); the @everyone role has the guild's id.
    pub roles: Vec<(u64, String, u64)>,
    /// Member user id → role ids.
    pub members: Vec<(u64, Vec<u64>)>,
    pub channels: Vec<FakeChannel>,
}

#[derive(Debug, Clone)]
pub struct FakeChannel {
    pub id: u64,
    pub name: String,
    /// (role or member id, 0 role / 1 member, allow bits, deny bits).
    pub overwrites: Vec<(u64, u8, u64, u64)>,
}

impl FakeGuild {
    /// The community's guild as a fresh invite leaves it: @everyone may read and write, the
    /// bot is a member with its own role (no extra permissions), two text channels.
    pub fn home() -> FakeGuild {
        FakeGuild {
            id: GUILD_ID,
            name: GUILD_NAME.into(),
            owner_id: 1,
            roles: vec![
                (
                    GUILD_ID,
                    "@everyone".into(),
                    VIEW_CHANNEL
                        | SEND_MESSAGES
                        | EMBED_LINKS
                        | ATTACH_FILES
                        | READ_MESSAGE_HISTORY,
                ),
                (BOT_ROLE_ID, "etprox".into(), 0),
            ],
            members: vec![(APP_ID, vec![BOT_ROLE_ID])],
            channels: vec![
                FakeChannel {
                    id: CHANNEL_ID,
                    name: "general".into(),
                    overwrites: vec![],
                },
                FakeChannel {
                    id: SUMMARY_CHANNEL_ID,
                    name: "rounds".into(),
                    overwrites: vec![],
                },
            ],
        }
    }
}

/// One REST call the bot made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    /// JSON body, or `payload_json` of a multipart body.
    pub body: Value,
    /// Files of a multipart body: (file name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    pub at: Instant,
}

struct Shared {
    calls: Mutex<Vec<Call>>,
    events: broadcast::Sender<Value>,
    port: u16,
    next_id: AtomicU64,
    connections: AtomicU64,
    guilds: Mutex<Vec<FakeGuild>>,
    /// Commands registered globally (what an earlier version may have left behind).
    global_commands: Mutex<Vec<Value>>,
    /// When set, REST calls with another token are refused with 401, as Discord does.
    token: Mutex<Option<String>>,
}

#[derive(Clone)]
pub struct FakeDiscord {
    shared: Arc<Shared>,
    pub url: String,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake discord");
        let port = listener.local_addr().expect("local addr").port();
        let (events, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            calls: Mutex::new(Vec::new()),
            events,
            port,
            next_id: AtomicU64::new(1_000),
            connections: AtomicU64::new(0),
            guilds: Mutex::new(vec![FakeGuild::home()]),
            global_commands: Mutex::new(Vec::new()),
            token: Mutex::new(None),
        });
        let app = Router::new()
            .route("/gw", get(gateway))
            .fallback(rest)
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeDiscord {
            shared,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().expect("calls lock").clone()
    }

    /// Replaces the guilds the bot is in.
    pub fn set_guilds(&self, guilds: Vec<FakeGuild>) {
        *self.shared.guilds.lock().expect("guilds lock") = guilds;
    }

    pub fn guilds(&self) -> Vec<FakeGuild> {
        self.shared.guilds.lock().expect("guilds lock").clone()
    }

    /// Global commands, as an earlier version that registered globally left them.
    pub fn set_global_commands(&self, commands: Vec<Value>) {
        *self.shared.global_commands.lock().expect("commands lock") = commands;
    }

    pub fn global_commands(&self) -> Vec<Value> {
        self.shared
            .global_commands
            .lock()
            .expect("commands lock")
            .clone()
    }

    /// Only this bot token is accepted from now on; others get 401.
    pub fn accept_only_token(&self, token: &str) {
        *self.shared.token.lock().expect("token lock") = Some(token.to_owned());
    }

    pub fn gateway_connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Waits until a recorded call matches.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Call) -> bool,
    ) -> Call {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(c) = self.calls().into_iter().find(|c| pred(c)) {
                return c;
            }
            if Instant::now() > deadline {
                let seen: Vec<String> = self
                    .calls()
                    .iter()
                    .map(|c| format!("{} {}", c.method, c.path))
                    .collect();
                panic!("timed out waiting for {what}; calls so far: {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn next_id(&self) -> u64 {
        self.shared.next_id.fetch_add(1, Ordering::SeqCst)
    }

    /// Sends a dispatch event to every connected gateway session.
    pub fn dispatch(&self, t: &str, d: Value) {
        let _ = self.shared.events.send(json!({ "t": t, "d": d }));
    }

    /// Closes every gateway session, as Discord does on a network drop or a restart.
    pub fn drop_gateway(&self) {
        let _ = self.shared.events.send(json!({ "t": "__CLOSE__" }));
    }

    /// Dispatches a slash command in the community's guild; returns the interaction id.
    /// `options` is the Discord `options` array; `member` comes from [`member`].
    pub fn command(&self, name: &str, options: Value, member: Value) -> u64 {
        self.command_in(Some(GUILD_ID), name, options, member)
    }

    /// A slash command from guild `guild`, or from a DM with the bot when `None`.
    pub fn command_in(&self, guild: Option<u64>, name: &str, options: Value, member: Value) -> u64 {
        self.interaction(2, json!({ "id": self.next_id().to_string(), "name": name, "type": 1, "options": options }), member, None, guild)
    }

    /// A slash command from the home guild whose user options name `users` (user JSON, as
    /// [`user_json`] writes it): Discord sends those users resolved beside the options.
    pub fn command_with_users(
        &self,
        name: &str,
        options: Value,
        users: &[Value],
        member: Value,
    ) -> u64 {
        let resolved: serde_json::Map<String, Value> = users
            .iter()
            .map(|u| (u["id"].as_str().unwrap_or_default().to_owned(), u.clone()))
            .collect();
        let data = json!({
            "id": self.next_id().to_string(), "name": name, "type": 1, "options": options,
            "resolved": { "users": resolved }
        });
        self.interaction(2, data, member, None, Some(GUILD_ID))
    }

    /// Dispatches autocomplete for `name` (the focused option is marked in `options`).
    pub fn autocomplete(&self, name: &str, options: Value, member: Value) -> u64 {
        self.autocomplete_in(Some(GUILD_ID), name, options, member)
    }

    pub fn autocomplete_in(
        &self,
        guild: Option<u64>,
        name: &str,
        options: Value,
        member: Value,
    ) -> u64 {
        self.interaction(4, json!({ "id": self.next_id().to_string(), "name": name, "type": 1, "options": options }), member, None, guild)
    }

    /// Dispatches a button click on a message the bot sent.
    pub fn click(&self, custom_id: &str, member: Value) -> u64 {
        self.click_in(Some(GUILD_ID), custom_id, member)
    }

    pub fn click_in(&self, guild: Option<u64>, custom_id: &str, member: Value) -> u64 {
        let message = message_json(self.next_id(), CHANNEL_ID, json!({ "content": "" }));
        self.interaction(
            3,
            json!({ "custom_id": custom_id, "component_type": 2 }),
            member,
            Some(message),
            guild,
        )
    }

    fn interaction(
        &self,
        kind: u8,
        data: Value,
        member: Value,
        message: Option<Value>,
        guild: Option<u64>,
    ) -> u64 {
        let id = self.next_id();
        let mut d = json!({
            "id": id.to_string(),
            "application_id": APP_ID.to_string(),
            "type": kind,
            "data": data,
            "channel_id": CHANNEL_ID.to_string(),
            "token": format!("tok-{id}"),
            "version": 1,
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "app_permissions": "2147483647",
            "attachment_size_limit": 10_485_760,
            "authorizing_integration_owners": {},
            "context": 0
        });
        match guild {
            Some(g) => {
                d["guild_id"] = json!(g.to_string());
                d["member"] = member;
            }
            // A DM carries the user alone, no member and no guild.
            None => {
                d["user"] = member["user"].clone();
                d["context"] = json!(1);
            }
        }
        if let Some(m) = message {
            d["message"] = m;
        }
        self.dispatch("INTERACTION_CREATE", d);
        id
    }

    /// The bot's answer to interaction `id`: the callback (type 4 message, 7 update, 8
    /// autocomplete), or after a deferral (type 5/6) the edit of the original message.
    pub async fn answer(&self, id: u64, timeout: Duration) -> Answer {
        let token = format!("tok-{id}");
        let callback = format!("/api/v10/interactions/{id}/");
        let call = self
            .wait_for(&format!("the answer to interaction {id}"), timeout, |c| {
                if c.path.starts_with(&callback) {
                    let t = c.body["type"].as_u64().unwrap_or(0);
                    return t != 5 && t != 6;
                }
                c.path.contains(&format!("/webhooks/{APP_ID}/{token}"))
                    && (c.method == "PATCH" || c.method == "POST")
            })
            .await;
        let deferred = self.calls().iter().any(|c| {
            c.path.starts_with(&callback) && matches!(c.body["type"].as_u64(), Some(5 | 6))
        });
        let (kind, data) = if call.path.starts_with(&callback) {
            (
                call.body["type"].as_u64().unwrap_or(0),
                call.body["data"].clone(),
            )
        } else {
            (4, call.body.clone())
        };
        Answer {
            kind,
            data,
            files: call.files.clone(),
            deferred,
            at: call.at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Answer {
    /// 4 message, 7 updated message, 8 autocomplete choices.
    pub kind: u64,
    pub data: Value,
    pub files: Vec<(String, Vec<u8>)>,
    pub deferred: bool,
    pub at: Instant,
}

impl Answer {
    pub fn content(&self) -> String {
        self.data["content"].as_str().unwrap_or_default().to_owned()
    }
    pub fn ephemeral(&self) -> bool {
        self.data["flags"].as_u64().unwrap_or(0) & 64 != 0
    }
    pub fn embed_titles(&self) -> Vec<String> {
        self.data["embeds"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["title"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
    /// All the text of the first embed (title, description, fields, footer).
    pub fn embed_text(&self) -> String {
        let e = &self.data["embeds"][0];
        let mut s = format!(
            "{}\n{}\n",
            e["title"].as_str().unwrap_or_default(),
            e["description"].as_str().unwrap_or_default()
        );
        for f in e["fields"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "{}: {}\n",
                f["name"].as_str().unwrap_or_default(),
                f["value"].as_str().unwrap_or_default()
            ));
        }
        s.push_str(e["footer"]["text"].as_str().unwrap_or_default());
        s
    }
    pub fn field(&self, name: &str) -> Option<String> {
        self.data["embeds"][0]["fields"]
            .as_array()?
            .iter()
            .find(|f| f["name"] == name)
            .and_then(|f| f["value"].as_str().map(str::to_owned))
    }
    pub fn buttons(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for row in self.data["components"].as_array().into_iter().flatten() {
            for b in row["components"].as_array().into_iter().flatten() {
                out.push((
                    b["custom_id"].as_str().unwrap_or_default().to_owned(),
                    b["label"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        out
    }
    pub fn choices(&self) -> Vec<(String, String)> {
        self.data["choices"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        (
                            c["name"].as_str().unwrap_or_default().to_owned(),
                            c["value"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub fn user_json(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(), "username": name, "discriminator": "0", "global_name": name,
        "avatar": null, "bot": bot, "public_flags": 0
    })
}

/// A guild member as an interaction carries it; `permissions` is what Discord computed for
/// the channel (ADMINISTRATOR arrives with every bit set).
pub fn member(user_id: u64, name: &str, permissions: u64, roles: &[u64]) -> Value {
    json!({
        "user": user_json(user_id, name, false),
        "nick": null, "avatar": null,
        "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "premium_since": null, "deaf": false, "mute": false, "flags": 0, "pending": false,
        "permissions": permissions.to_string(), "communication_disabled_until": null
    })
}

fn guild_json(g: &FakeGuild) -> Value {
    let roles: Vec<Value> = g
        .roles
        .iter()
        .enumerate()
        .map(|(position, (id, name, permissions))| {
            json!({
                "id": id.to_string(), "name": name, "color": 0,
                "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
                "hoist": false, "icon": null, "unicode_emoji": null, "position": position,
                "permissions": permissions.to_string(), "managed": *id == BOT_ROLE_ID,
                "mentionable": false, "flags": 0
            })
        })
        .collect();
    json!({
        "id": g.id.to_string(), "name": g.name, "icon": null, "icon_hash": null, "splash": null,
        "discovery_splash": null, "owner_id": g.owner_id.to_string(), "afk_channel_id": null,
        "afk_timeout": 300, "widget_enabled": false, "widget_channel_id": null,
        "verification_level": 0, "default_message_notifications": 0,
        "explicit_content_filter": 0, "roles": roles, "emojis": [], "features": [],
        "mfa_level": 0, "application_id": null, "system_channel_id": null,
        "system_channel_flags": 0, "rules_channel_id": null, "max_presences": null,
        "max_members": 500000, "vanity_url_code": null, "description": null, "banner": null,
        "premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": "en-US",
        "public_updates_channel_id": null, "max_video_channel_users": 25, "nsfw_level": 0,
        "stickers": [], "premium_progress_bar_enabled": false
    })
}

fn channel_json(guild_id: u64, c: &FakeChannel) -> Value {
    let overwrites: Vec<Value> = c
        .overwrites
        .iter()
        .map(|(id, kind, allow, deny)| {
            json!({ "id": id.to_string(), "type": kind, "allow": allow.to_string(), "deny": deny.to_string() })
        })
        .collect();
    json!({
        "id": c.id.to_string(), "type": 0, "guild_id": guild_id.to_string(), "name": c.name,
        "position": 0, "permission_overwrites": overwrites, "nsfw": false, "topic": null,
        "last_message_id": null, "parent_id": null, "rate_limit_per_user": 0, "flags": 0
    })
}

fn message_json(id: u64, channel: u64, body: Value) -> Value {
    let mut m = json!({
        "id": id.to_string(), "channel_id": channel.to_string(),
        "author": user_json(APP_ID, "etprox", true),
        "content": "", "timestamp": "2026-01-01T00:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": [], "pinned": false, "type": 0, "flags": 0, "components": []
    });
    for key in ["content", "embeds", "components"] {
        if let Some(v) = body.get(key) {
            if !v.is_null() {
                m[key] = v.clone();
            }
        }
    }
    m
}

async fn rest(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let req_auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let multipart = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let (body, files) = if multipart {
        let mut body = Value::Null;
        let mut files = Vec::new();
        if let Ok(mut parts) = Multipart::from_request(req, &()).await {
            while let Ok(Some(field)) = parts.next_field().await {
                let name = field.name().unwrap_or_default().to_owned();
                let file = field.file_name().map(str::to_owned);
                let bytes = field.bytes().await.unwrap_or_default().to_vec();
                if name == "payload_json" {
                    body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                } else {
                    files.push((file.unwrap_or(name), bytes));
                }
            }
        }
        (body, files)
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), 64 << 20)
            .await
            .unwrap_or_default();
        (
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            Vec::new(),
        )
    };
    let authorization = req_auth.clone();
    shared.calls.lock().expect("calls lock").push(Call {
        method: method.to_string(),
        path: path.clone(),
        body: body.clone(),
        files,
        at: Instant::now(),
    });
    let wanted = shared.token.lock().expect("token lock").clone();
    if let Some(token) = wanted {
        if authorization != format!("Bot {token}") {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "message": "401: Unauthorized", "code": 0 })),
            )
                .into_response();
        }
    }
    let segments: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    let guild = |id: &str| -> Option<FakeGuild> {
        let id: u64 = id.parse().ok()?;
        shared
            .guilds
            .lock()
            .expect("guilds lock")
            .iter()
            .find(|g| g.id == id)
            .cloned()
    };
    let missing_access = || {
        (
            StatusCode::FORBIDDEN,
            Json(json!({ "message": "Missing Access", "code": 50001 })),
        )
            .into_response()
    };
    let gateway_url = format!("ws://127.0.0.1:{}/gw", shared.port);
    let id = || shared.next_id.fetch_add(1, Ordering::SeqCst);
    match (method, segments.as_slice()) {
        (Method::GET, ["gateway"]) => Json(json!({ "url": gateway_url })).into_response(),
        (Method::GET, ["gateway", "bot"]) => Json(json!({
            "url": gateway_url, "shards": 1,
            "session_start_limit": { "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1 }
        }))
        .into_response(),
        (Method::GET, ["oauth2", "applications", "@me"]) => Json(json!({
            "id": APP_ID.to_string(), "name": "etprox", "icon": null, "description": "", "rpc_origins": [],
            "bot_public": false, "bot_require_code_grant": false, "verify_key": "00", "flags": 0,
            "owner": user_json(1, "owner", false), "team": null
        }))
        .into_response(),
        (Method::GET, ["users", "@me"]) => Json(user_json(APP_ID, "etprox", true)).into_response(),
        (Method::GET, ["applications", _, "commands"]) => {
            Json(Value::Array(shared.global_commands.lock().expect("commands lock").clone())).into_response()
        }
        (Method::GET, ["guilds", id]) => match guild(id) {
            Some(g) => Json(guild_json(&g)).into_response(),
            None => missing_access(),
        },
        (Method::GET, ["guilds", id, "roles"]) => match guild(id) {
            Some(g) => Json(guild_json(&g)["roles"].clone()).into_response(),
            None => missing_access(),
        },
        (Method::GET, ["guilds", id, "members", user]) => {
            let Some(g) = guild(id) else { return missing_access() };
            let user: u64 = user.parse().unwrap_or(0);
            match g.members.iter().find(|(u, _)| *u == user) {
                Some((u, roles)) => {
                    let mut m = member(*u, if *u == APP_ID { "etprox" } else { "member" }, 0, roles);
                    m["user"]["bot"] = json!(*u == APP_ID);
                    if let Some(o) = m.as_object_mut() {
                        o.remove("permissions");
                    }
                    Json(m).into_response()
                }
                None => (StatusCode::NOT_FOUND, Json(json!({ "message": "Unknown Member", "code": 10007 }))).into_response(),
            }
        }
        (Method::GET, ["channels", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            let found = shared.guilds.lock().expect("guilds lock").iter().find_map(|g| {
                g.channels.iter().find(|c| c.id == id).map(|c| (g.id, c.clone()))
            });
            match found {
                Some((guild_id, c)) => Json(channel_json(guild_id, &c)).into_response(),
                None => (StatusCode::NOT_FOUND, Json(json!({ "message": "Unknown Channel", "code": 10003 }))).into_response(),
            }
        }
        (Method::PUT, ["applications", _, "commands"]) | (Method::PUT, ["applications", _, "guilds", _, "commands"]) => {
            let commands: Vec<Value> = body
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|mut c| {
                    c["id"] = json!(id().to_string());
                    c["application_id"] = json!(APP_ID.to_string());
                    c["version"] = json!("1");
                    if c.get("type").is_none() {
                        c["type"] = json!(1);
                    }
                    if c.get("description").is_none() {
                        c["description"] = json!("");
                    }
                    c
                })
                .collect();
            if segments.len() == 3 {
                *shared.global_commands.lock().expect("commands lock") = commands.clone();
            }
            Json(Value::Array(commands)).into_response()
        }
        (Method::POST, ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        (Method::PATCH, ["webhooks", _, _, "messages", _]) | (Method::POST, ["webhooks", _, _]) => {
            Json(message_json(id(), CHANNEL_ID, body)).into_response()
        }
        (Method::POST, ["channels", channel, "messages"]) => {
            let channel = channel.parse().unwrap_or(CHANNEL_ID);
            Json(message_json(id(), channel, body)).into_response()
        }
        (Method::PATCH, ["channels", channel, "messages", message]) => {
            let channel = channel.parse().unwrap_or(CHANNEL_ID);
            let mut m = message_json(id(), channel, body);
            m["id"] = json!(message);
            Json(m).into_response()
        }
        _ => (StatusCode::NOT_FOUND, Json(json!({ "message": "Unknown (fake Discord)", "code": 0 }))).into_response(),
    }
}

async fn gateway(ws: WebSocketUpgrade, State(shared): State<Arc<Shared>>) -> Response {
    ws.on_upgrade(move |socket| session(socket, shared))
}

async fn session(mut socket: WebSocket, shared: Arc<Shared>) {
    shared.connections.fetch_add(1, Ordering::SeqCst);
    let send = |v: Value| WsMessage::Text(v.to_string());
    if socket
        .send(send(
            json!({ "op": 10, "d": { "heartbeat_interval": 1000 } }),
        ))
        .await
        .is_err()
    {
        return;
    }
    let mut events = shared.events.subscribe();
    let mut seq = 0u64;
    let mut identified = false;
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return };
                let WsMessage::Text(text) = message else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                match v["op"].as_u64() {
                    Some(1) if socket.send(send(json!({ "op": 11 }))).await.is_err() => return,
                    Some(2) | Some(6) => {
                        seq += 1;
                        let ready = json!({
                            "op": 0, "t": "READY", "s": seq,
                            "d": {
                                "v": 10,
                                "user": user_json(APP_ID, "etprox", true),
                                "guilds": [],
                                "session_id": "fake-session",
                                "resume_gateway_url": format!("ws://127.0.0.1:{}/gw", shared.port),
                                "shard": [0, 1],
                                "application": { "id": APP_ID.to_string(), "flags": 0 }
                            }
                        });
                        if socket.send(send(ready)).await.is_err() { return; }
                        identified = true;
                    }
                    _ => {}
                }
            }
            event = events.recv() => {
                let Ok(event) = event else { continue };
                if event["t"] == "__CLOSE__" {
                    let frame = axum::extract::ws::CloseFrame { code: 4000, reason: "fake restart".into() };
                    let _ = socket.send(WsMessage::Close(Some(frame))).await;
                    return;
                }
                if !identified { continue; }
                seq += 1;
                let frame = json!({ "op": 0, "t": event["t"], "s": seq, "d": event["d"] });
                if socket.send(send(frame)).await.is_err() { return; }
            }
        }
    }
}
