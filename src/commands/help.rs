//! `/help [topic]`: the commands (from the registry) and the glossary of the words replies use.
//! Replies that use a term end their footer with `/help <term>`; every such term is here.

use super::reply::colour;
use super::slash::{given, Ctx, Error, Front};
use super::{
    registry, user_error, Caller, Command, CommandError, CommandResult, Embed, Env, Invocation,
    Reply,
};

/// A word of the glossary and what it means; `aliases` are other spellings that find it.
pub struct Term {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub meaning: &'static str,
}

/// Every term a reply uses, in the order help lists them.
pub const GLOSSARY: &[Term] = &[
    Term {
        name: "solo",
        aliases: &["1v1", "duel", "lone wolf", "win rate"],
        meaning: "A 1v1: neither the killer nor the victim had an alive teammate within 300 units. \
            A solo kill is a duel won, a solo death a duel lost; the 1v1 win rate is solo kills / \
            (solo kills + solo deaths).",
    },
    Term {
        name: "outgunned",
        aliases: &["outnumbered"],
        meaning: "A kill made while the killer's side (the killer and their alive teammates within \
            300 units) was smaller than the victim's side, e.g. 1v2 or 2v3.",
    },
    Term {
        name: "ganked",
        aliases: &["ganking", "assisted", "outnumbering"],
        meaning: "A death while the killer's side was larger than the victim's, e.g. 2v1. For the \
            killer the same kill is an assisted (ganking) kill.",
    },
    Term {
        name: "even",
        aliases: &[],
        meaning: "A kill between equal sides larger than one: 2v2, 3v3 …",
    },
    Term {
        name: "crossfire",
        aliases: &["supporting"],
        meaning: "Standing by a teammate's kill: each kill lists the killer's teammates within 300 \
            units; every time a player is listed counts as one crossfire appearance for them.",
    },
    Term {
        name: "in range",
        aliases: &["within range", "kills within range", "duo"],
        meaning: "For a pair of teammates: a kill by one of them while the other stood within 300 \
            units (listed as a supporting ally of the kill).",
    },
    Term {
        name: "trades",
        aliases: &["trade", "trade kills", "avenged"],
        meaning: "A teammate is killed and, within 3 seconds, a player kills that killer: the \
            death is traded (avenged). Counted per pair of teammates.",
    },
    Term {
        name: "session day",
        aliases: &["session", "day", "period"],
        meaning: "One evening of play: a session day starts at ETPROX_SESSION_DAY_START (default \
            06:00) in the configured zone, so a game that goes past midnight stays one session. \
            Periods (7d, 30d, session) count session days.",
    },
    Term {
        name: "MVP",
        aliases: &["most valuable player"],
        meaning: "The player of the evening in a session recap (/session): a score that weighs \
            kills, outgunned kills, trades and deaths, not kills alone; the formula is in the \
            project's docs/stats.md.",
    },
    Term {
        name: "versus",
        aliases: &["head to head", "streak"],
        meaning: "/versus counts only the kills of one of the two players on the other. The \
            engagement class is the killer's side (1v1, outgunned, ganking, even); a streak is the \
            most kills one made on the other in one round without dying to them in between.",
    },
    Term {
        name: "trend",
        aliases: &["median", "k/d", "kd"],
        meaning: "/trend draws a player's number per session day (K/D is kills / deaths that day) \
            and, dashed, the median of every human player who played that day.",
    },
    Term {
        name: "dpm",
        aliases: &["damage per minute", "damage"],
        meaning: "Damage per minute: the health a player took from enemies (a hit on a player \
            with 20 health left counts 20, a hit on a corpse 0; team damage not counted) divided \
            by the minutes the player was in the rounds (spectating not counted). Leaderboards \
            rank only players with 30+ minutes in the period.",
    },
    Term {
        name: "accuracy",
        aliases: &["acc", "headshots", "hs", "headshot share"],
        meaning: "Hits on enemies / shots fired, with bullet weapons only (pistols, SMGs, rifles, \
            MGs): a grenade or a panzerfaust hit is splash, not aim. /weapons gives it per weapon. \
            The headshot share is headshots / hits. Leaderboards rank only players with 200+ \
            bullet shots in the period.",
    },
    Term {
        name: "revives",
        aliases: &["revive", "medic", "top medic"],
        meaning: "A medic bringing a downed teammate back with the syringe. Revives given are \
            counted when the engine names the medic; revives received always.",
    },
    Term {
        name: "objective plays",
        aliases: &["objectives", "objective", "objective hero"],
        meaning: "A player's own objective actions: documents or flag stolen, secured, returned; \
            dynamite planted or defused; objectives destroyed; constructions built. Each counts \
            one play; a drop is not a play.",
    },
];

/// The glossary entry `word` names (its name or an alias, any case).
pub fn term(word: &str) -> Option<&'static Term> {
    let w = word.trim().trim_start_matches('/').to_lowercase();
    GLOSSARY.iter().find(|t| {
        t.name.to_lowercase() == w || t.aliases.iter().any(|a| a.to_lowercase() == w)
    })
}

/// The options of `/help`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help {
    /// A command name or a glossary term; absent: everything.
    pub topic: Option<String>,
}

impl Command for Help {
    const NAME: &'static str = "help";
    const DESCRIPTION: &'static str =
        "The commands, and what the words in replies mean (solo, outgunned, trades …).";

    fn from_invocation(inv: &Invocation) -> Result<Help, CommandError> {
        Ok(Help {
            topic: inv.text("topic"),
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME).set("topic", self.topic.as_ref())
    }

    async fn run(self, _env: &Env, _caller: &Caller) -> CommandResult {
        match self.topic.as_deref() {
            None => Ok(Reply::embed(overview())),
            Some(topic) => about(topic),
        }
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "A command or a word (solo, outgunned, trades …)"]
    #[autocomplete = "topics"]
    topic: Option<String>,
) -> Result<(), Error> {
    D::answer(ctx, Ok(Help { topic: given(topic) })).await
}

/// Commands and glossary terms that contain what was typed.
async fn topics<D: Front>(
    _ctx: Ctx<'_, D>,
    partial: &str,
) -> impl Iterator<Item = poise::serenity_prelude::AutocompleteChoice> {
    let wanted = partial.trim().trim_start_matches('/').to_lowercase();
    let commands = super::ALL.iter().map(|s| format!("/{}", s.name));
    let terms = GLOSSARY.iter().map(|t| t.name.to_owned());
    commands
        .chain(terms)
        .filter(|t| t.to_lowercase().contains(&wanted))
        .take(25)
        .map(|t| poise::serenity_prelude::AutocompleteChoice::new(t.clone(), t))
        .collect::<Vec<_>>()
        .into_iter()
}

/// Every command with its description, then the glossary's words.
fn overview() -> Embed {
    let commands: Vec<String> = super::ALL
        .iter()
        .map(|s| {
            let admin = if s.admin { " (admins)" } else { "" };
            format!("/{}{admin}: {}", s.name, s.description)
        })
        .collect();
    let words: Vec<&str> = GLOSSARY.iter().map(|t| t.name).collect();
    Embed::new("etprox commands", colour::INFO)
        .description(commands.join("\n"))
        .field("Words in replies", words.join(", "), false)
        .footer("/help topic:WORD explains a word, /help topic:/COMMAND a command")
}

/// A command's description and options' meaning, or a glossary entry.
fn about(topic: &str) -> CommandResult {
    let name = topic.trim().trim_start_matches('/').to_lowercase();
    if let Some(spec) = registry::spec(&name) {
        let mut embed = Embed::new(format!("/{}", spec.name), colour::INFO)
            .description(spec.description);
        if !spec.subcommands.is_empty() {
            embed = embed.field("Subcommands", spec.subcommands.join(", "), false);
        }
        if let Some(t) = term(&name) {
            embed = embed.field("How it counts", t.meaning, false);
        }
        return Ok(Reply::embed(embed.footer("/help lists every command and word")));
    }
    match term(topic) {
        Some(t) => Ok(Reply::embed(
            Embed::new(t.name, colour::INFO)
                .description(t.meaning)
                .footer("/help lists every command and word"),
        )),
        None => {
            let words: Vec<&str> = GLOSSARY.iter().map(|t| t.name).collect();
            user_error(format!(
                "no command or word {topic:?}: commands are {}; words are {}",
                registry::names(),
                words.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_is_found_by_its_name_and_aliases_in_any_case() {
        for t in GLOSSARY {
            assert_eq!(term(&t.name.to_uppercase()).map(|f| f.name), Some(t.name));
            for a in t.aliases {
                assert_eq!(term(a).map(|f| f.name), Some(t.name), "{a}");
            }
        }
        assert!(term("headshot").is_none());
    }

    #[test]
    fn the_issue_terms_are_all_explained() {
        for word in [
            "solo", "outgunned", "ganked", "even", "crossfire", "in range", "trades",
            "session day", "MVP",
        ] {
            assert!(term(word).is_some(), "{word}");
        }
    }

    #[test]
    fn the_overview_lists_every_command() {
        let text = overview().description.unwrap_or_default();
        for spec in crate::commands::ALL {
            assert!(text.contains(&format!("/{}", spec.name)), "{}", spec.name);
        }
    }
}
