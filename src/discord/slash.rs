//! The slash commands as Discord sees them: the registry's commands (each declared, with
//! its handler, in its own file under `crate::commands`), answered through this front end.

use super::{answer, Ctx, Data, Error};
use crate::commands::slash::Front;
use crate::commands::{Command, CommandError, Env};

impl Front for Data {
    fn env(&self) -> &Env {
        &self.env
    }

    fn answer<C: Command>(
        ctx: Ctx<'_>,
        command: Result<C, CommandError>,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send {
        answer(ctx, command)
    }
}

pub fn all() -> Vec<poise::Command<Data, Error>> {
    crate::commands::slash_commands::<Data>()
}
