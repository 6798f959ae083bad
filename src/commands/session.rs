//! `/session [server] [date]`: the recap of a server's session day (maps, MVP, awards and the
//! chart), the same one the bot posts by itself once the server has gone quiet.

use chrono::NaiveDate;

use super::slash::{given, Ctx, Error, Front};
use super::{user_error, Caller, Command, CommandError, CommandResult, Env, Invocation, Reply};
use crate::db;
use crate::recap::load;

/// The options of `/session`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Server id or name; absent: the server of the latest round (of `date`, when given).
    pub server: Option<String>,
    /// Session day; absent: the server's latest.
    pub date: Option<NaiveDate>,
}

impl Session {
    /// `2025-11-21`, or `latest` (the same as absent).
    pub fn parse_date(text: Option<&str>) -> Result<Option<NaiveDate>, CommandError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if text.eq_ignore_ascii_case("latest") {
            return Ok(None);
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .or_else(|_| {
                user_error(format!(
                    "date: {text:?} is not a day; write it as 2025-11-21 (or latest)"
                ))
            })
    }
}

impl Command for Session {
    const NAME: &'static str = "session";
    const DESCRIPTION: &'static str =
        "Recap of a session: maps, MVP, awards and a chart of the evening.";

    fn from_invocation(inv: &Invocation) -> Result<Session, CommandError> {
        Ok(Session {
            server: inv.text("server"),
            date: Session::parse_date(inv.get("date"))?,
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("server", self.server.as_ref())
            .set("date", self.date)
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        let server = match &self.server {
            Some(text) => match db::recap::find_server(&env.pool, text).await? {
                Some((id, _)) => Some(id),
                None => {
                    return user_error(format!(
                        "no server has the id or name {}; give one that sent rounds",
                        super::text::name(text)
                    ))
                }
            },
            None => None,
        };
        let Some(found) = db::recap::latest_session(&env.pool, server.as_deref(), self.date).await?
        else {
            return Ok(Reply::text(nothing_found(&self)));
        };
        let recap = load::recap(&env.pool, &found.server_id, found.session_date).await?;
        Ok(load::recap_reply(&recap).await)
    }
}

fn nothing_found(session: &Session) -> String {
    match (&session.server, session.date) {
        (Some(server), Some(day)) => format!(
            "No round was played on {} on session day {day}.",
            super::text::name(server)
        ),
        (None, Some(day)) => format!("No round was played on session day {day}."),
        (Some(_), None) => "That server has no round imported yet.".into(),
        (None, None) => "No round imported yet.".into(),
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Server id or name (default: the one that played last)"]
    #[autocomplete = "super::slash::servers"]
    server: Option<String>,
    #[description = "Session day as 2025-11-21 (default: the latest)"] date: Option<String>,
) -> Result<(), Error> {
    let read = || -> Result<Session, CommandError> {
        Ok(Session {
            server: given(server),
            date: Session::parse_date(date.as_deref())?,
        })
    };
    D::answer(ctx, read()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_back_as_written() {
        let inv = Invocation::parse(r#"/session server:"eu 1" date:2025-11-21"#).unwrap();
        let session = Session::from_invocation(&inv).unwrap();
        assert_eq!(session.server.as_deref(), Some("eu 1"));
        assert_eq!(session.date, NaiveDate::from_ymd_opt(2025, 11, 21));
        let again = Invocation::parse(&session.to_invocation().to_line()).unwrap();
        assert_eq!(Session::from_invocation(&again).unwrap(), session);
    }

    #[test]
    fn latest_and_blank_mean_the_latest_day_and_a_bad_day_is_explained() {
        assert_eq!(Session::parse_date(Some("latest")).unwrap(), None);
        assert_eq!(Session::parse_date(Some("  ")).unwrap(), None);
        let e = Session::parse_date(Some("21.11.2025")).unwrap_err();
        assert!(e.to_string().contains("write it as 2025-11-21"), "{e}");
    }
}
