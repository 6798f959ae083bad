//! The one list of commands. Each command is a type implementing [`Command`] (its options,
//! name, description, whether it is admin-only and answered privately) in a file of its own;
//! one line in the `commands!` list of `commands/mod.rs` registers it. Dispatch of a typed
//! line, the names in help and "unknown command", admin checks, private answers and the
//! Discord slash commands all come from that list.
//!
//! Adding a command: write `commands/NAME.rs` (the options type, `impl Command`, and the poise
//! handler `slash`, generic over [`super::slash::Front`]), then add `NAME::Type,` to the list.

use std::future::Future;

use super::{Caller, CommandError, CommandResult, Env, Invocation, Reply, ALL};

/// A command with typed options. The console and buttons build it from an [`Invocation`]; the
/// Discord handler in the same file builds it from its typed arguments.
pub trait Command: Sized + Send + 'static {
    /// The name typed after `/`.
    const NAME: &'static str;
    /// What Discord shows under the name (and help lists).
    const DESCRIPTION: &'static str;
    /// Refused unless the front end says the caller is an admin; on Discord, offered only to
    /// members with Manage Server and only in guilds.
    const ADMIN: bool = false;
    /// Answered so that only the caller sees it (also while the answer is deferred).
    const PRIVATE: bool = false;
    /// Subcommand words (`/retention archive`); empty for commands without.
    const SUBCOMMANDS: &'static [&'static str] = &[];

    /// Reads the options of a typed line or a button id.
    fn from_invocation(inv: &Invocation) -> Result<Self, CommandError>;
    /// The line that reads back into the same command (page and confirm buttons).
    fn to_invocation(&self) -> Invocation;
    fn run(self, env: &Env, caller: &Caller) -> impl Future<Output = CommandResult> + Send;
}

/// What the registry says about a command without its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub description: &'static str,
    pub admin: bool,
    pub private: bool,
    pub subcommands: &'static [&'static str],
}

impl Spec {
    pub const fn of<C: Command>() -> Spec {
        Spec {
            name: C::NAME,
            description: C::DESCRIPTION,
            admin: C::ADMIN,
            private: C::PRIVATE,
            subcommands: C::SUBCOMMANDS,
        }
    }
}

/// Declares the command modules and builds [`ALL`](super::ALL), the name dispatch and the
/// slash command list from one list of `module::Type` (the module also holds the Discord
/// handler `slash`). Used once, in `commands/mod.rs`.
macro_rules! commands {
    ($($module:ident :: $ty:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every command, in the order help lists them.
        pub const ALL: &[$crate::commands::registry::Spec] =
            &[$($crate::commands::registry::Spec::of::<$module::$ty>()),*];

        /// Reads and runs the command `inv` names; `None` when no command has that name.
        async fn run_named(env: &Env, caller: &Caller, inv: &Invocation) -> Option<CommandResult> {
            use $crate::commands::registry::{run_line, Command as _};
            $(
                if inv.name == <$module::$ty>::NAME {
                    return Some(run_line::<$module::$ty>(env, caller, inv).await);
                }
            )*
            None
        }

        /// The slash commands of a Discord front end `D`.
        pub fn slash_commands<D: $crate::commands::slash::Front>() -> Vec<poise::Command<D, anyhow::Error>> {
            vec![$(
                $crate::commands::slash::declare::<$module::$ty, D>($module::slash::<D>())
            ),*]
        }
    };
}
pub(super) use commands;

/// The registered command called `name`.
pub fn spec(name: &str) -> Option<&'static Spec> {
    ALL.iter().find(|s| s.name == name)
}

/// Whether a word after `/name` is a subcommand rather than a stray word.
pub fn has_subcommands(name: &str) -> bool {
    spec(name).is_some_and(|s| !s.subcommands.is_empty())
}

/// "/solo, /duo, …": every command, for help and the unknown-command message.
pub fn names() -> String {
    ALL.iter()
        .map(|s| format!("/{}", s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs the command a line names, or says which commands exist.
pub(super) async fn run(env: &Env, caller: &Caller, inv: &Invocation) -> CommandResult {
    match super::run_named(env, caller, inv).await {
        Some(result) => result,
        None => Err(CommandError::User(format!(
            "unknown command /{}: try {}",
            inv.name,
            names()
        ))),
    }
}

/// Admin check first (a refused member learns nothing about the options), then the options.
pub(super) async fn run_line<C: Command>(
    env: &Env,
    caller: &Caller,
    inv: &Invocation,
) -> CommandResult {
    if let Some(refusal) = refuse::<C>(caller, || inv.to_line()) {
        return Ok(refusal);
    }
    C::from_invocation(inv)?.run(env, caller).await
}

/// Runs a command its front end built directly from typed arguments.
pub(super) async fn run_typed<C: Command>(env: &Env, caller: &Caller, command: C) -> CommandResult {
    if let Some(refusal) = refuse::<C>(caller, || command.to_invocation().to_line()) {
        return Ok(refusal);
    }
    command.run(env, caller).await
}

/// Admin commands are refused (and the refusal logged) unless the front end said the caller
/// is an admin.
fn refuse<C: Command>(caller: &Caller, line: impl FnOnce() -> String) -> Option<Reply> {
    if !C::ADMIN || caller.is_admin {
        return None;
    }
    tracing::warn!(
        user_id = caller.discord_user_id,
        user = %caller.display_name,
        command = %line(),
        "refused admin command to a member without Manage Server or the admin role"
    );
    Some(Reply::error(
        "This command is for server admins (Manage Server permission or the admin role).",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_listed_once_with_a_description() {
        let mut names: Vec<&str> = ALL.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 17);
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "duplicate command names");
        assert!(ALL.iter().all(|s| !s.description.is_empty()));
        assert!(super::names().starts_with("/solo, /duo, /heatmap"));
    }

    #[test]
    fn admin_and_private_commands_are_declared_with_them() {
        let admin: Vec<&str> = ALL.iter().filter(|s| s.admin).map(|s| s.name).collect();
        assert_eq!(admin, ["retention", "import"]);
        let private: Vec<&str> = ALL.iter().filter(|s| s.private).map(|s| s.name).collect();
        assert_eq!(private, ["link", "unlink", "retention", "import"]);
        assert!(has_subcommands("retention") && !has_subcommands("solo"));
    }

    /// Reads `line`, writes it back and reads that again: the same command both times.
    fn round_trip<C: Command + PartialEq + std::fmt::Debug>(line: &str) -> C {
        let first = C::from_invocation(&Invocation::parse(line).unwrap()).unwrap();
        let again = Invocation::parse(&first.to_invocation().to_line()).unwrap();
        assert_eq!(C::from_invocation(&again).unwrap(), first, "{line}");
        first
    }

    #[test]
    fn every_command_writes_back_what_it_read() {
        use super::super::*;
        use crate::period::Period;
        // Button ids written before typed commands still read.
        let solo: solo::Solo = round_trip("/solo page:1 period:all");
        assert_eq!(
            (solo.page, solo.period, solo.nolink),
            (1, Period::All, false)
        );
        let solo: solo::Solo = round_trip("/solo nolink:true page:2");
        assert_eq!((solo.period, solo.nolink), (Period::MONTH, true));
        round_trip::<duo::Duo>(r#"/duo player:"big boss" partner:x period:2026-11-01..2026-11-20"#);
        round_trip::<heatmap::Heatmap>(
            "/heatmap map:goldrush player:x team:axis kind:kills weapon:mp40 period:3d size:512",
        );
        round_trip::<engagements::Engagements>("/engagements map:supply");
        round_trip::<player::Player>("/player player:SlomiX");
        let board: leaderboard::Leaderboard = round_trip("/leaderboard stat:kd page:3");
        assert_eq!(board.stat, leaderboard::Stat::KillDeath);
        assert_eq!(
            round_trip::<round::Round>("/round round:#7").which,
            round::Which::Id(7)
        );
        let latest: round::Round = round_trip("/round server:eu-1");
        assert_eq!(latest.server.as_deref(), Some("eu-1"));
        round_trip::<maps::Maps>("/maps server:\"eu 1\"");
        let versus: versus::Versus =
            round_trip("/versus player:a opponent:<@7> member:<@42> period:7d");
        assert_eq!(versus.member, Some(42));
        let trend: trend::Trend = round_trip("/trend member:42 stat:kd sessions:5");
        assert_eq!((trend.stat, trend.sessions), (trend::Stat::KillDeath, 5));
        round_trip::<help::Help>("/help topic:\"in range\"");
        let player: player::Player = round_trip("/player member:<@!42>");
        assert_eq!(player.member, Some(42));
        round_trip::<solo::Solo>("/solo member:42 period:7d");
        round_trip::<duo::Duo>("/duo member:42 partner:x");
        round_trip::<heatmap::Heatmap>("/heatmap map:goldrush member:42");
        round_trip::<maps::Maps>("/maps");
        let link: link::Link = round_trip("/link player:SlomiX user:<@42>");
        assert_eq!(link.user, Some(42));
        round_trip::<unlink::Unlink>("/unlink");
        let archive: retention::Retention =
            round_trip("/retention archive export:true confirmed:true");
        assert_eq!(
            archive,
            retention::Retention::Archive(retention::Archive {
                days: retention::DEFAULT_DAYS,
                dry_run: false,
                export: true,
                confirmed: true,
            })
        );
        round_trip::<import::Import>("/import rescan");
    }

    #[test]
    fn options_are_checked_when_read() {
        let bad = |line: &str| spec_error(line).unwrap_or_default();
        assert!(bad("/heatmap").contains("name a map"));
        assert!(bad("/heatmap map:x team:blue").starts_with("team:"));
        assert!(bad("/round round:abc").contains("is not a round id"));
        assert!(bad("/retention").contains("use /retention stats"));
        assert!(bad("/link").contains("name the player"));
        assert!(bad("/solo period:fortnight").contains("unknown period"));
        assert!(bad("/player member:someone").contains("is not a Discord user id"));
        assert!(bad("/trend stat:headshots").starts_with("stat:"));
        assert!(bad("/trend sessions:1").contains("from 2 to 100"));
        // Blank options are absent, whichever front end sends them.
        assert_eq!(
            super::super::round::Which::parse(Some("  ")).unwrap(),
            super::super::round::Which::Latest
        );
        assert_eq!(super::super::slash::given(Some(" ".into())), None);
    }

    /// The message a command's reader gives for `line`, if it refuses it.
    fn spec_error(line: &str) -> Option<String> {
        use super::super::*;
        let inv = Invocation::parse(line).unwrap();
        let err = match inv.name.as_str() {
            "heatmap" => heatmap::Heatmap::from_invocation(&inv).err(),
            "round" => round::Round::from_invocation(&inv).err(),
            "retention" => retention::Retention::from_invocation(&inv).err(),
            "link" => link::Link::from_invocation(&inv).err(),
            "solo" => solo::Solo::from_invocation(&inv).err(),
            "player" => player::Player::from_invocation(&inv).err(),
            "trend" => trend::Trend::from_invocation(&inv).err(),
            _ => None,
        };
        err.map(|e| e.to_string())
    }
}
