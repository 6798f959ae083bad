//! `/maps`: maps seen in rounds, and whether each has an image and a calibration for heatmaps.

use std::collections::HashMap;
use std::path::Path;

use super::reply::colour;
use super::slash::{Ctx, Error, Front};
use super::text;
use super::{Caller, Command, CommandError, CommandResult, Embed, Env, Invocation, Reply};
use crate::db;

/// What the assets folder says per map: (calibrated, has an image). Read by the one reader
/// of `maps.csv` ([`crate::assets::Assets::map_status`]); an unreadable table says nothing.
pub fn read_assets(dir: &Path) -> HashMap<String, (bool, bool)> {
    let status = crate::assets::Assets::in_dir(dir).map_status();
    status
        .unwrap_or_default()
        .into_iter()
        .map(|(map, s)| (map, (s.calibrated, s.has_image)))
        .collect()
}

/// `/maps` has no options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Maps;

impl Command for Maps {
    const NAME: &'static str = "maps";
    const DESCRIPTION: &'static str =
        "Known maps, and whether each has an image and a calibration for heatmaps.";

    fn from_invocation(_inv: &Invocation) -> Result<Maps, CommandError> {
        Ok(Maps)
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        list(env).await
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(ctx: Ctx<'_, D>) -> Result<(), Error> {
    D::answer(ctx, Ok(Maps)).await
}

async fn list(env: &Env) -> CommandResult {
    let maps = db::players::known_maps(&env.pool).await?;
    if maps.is_empty() {
        return Ok(Reply::text("No rounds imported yet, so no maps are known."));
    }
    let assets = read_assets(env.assets.dir());
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let rows: Vec<Vec<String>> = maps
        .iter()
        .map(|m| {
            let (name, rounds, last) = (&m.map_name, m.rounds, m.last_played);
            let (calibrated, image) = assets
                .get(&name.to_ascii_lowercase())
                .copied()
                .unwrap_or_default();
            vec![
                text::clip(&text::name_in_code(name), 20),
                rounds.to_string(),
                last.to_string(),
                yes_no(image).into(),
                yes_no(calibrated).into(),
            ]
        })
        .collect();
    let embed = Embed::new("Known maps", colour::INFO)
        .description(text::table(
            &["map", "rounds", "last played", "image", "calibrated"],
            &rows,
        ))
        .footer(format!("{} maps", maps.len()));
    Ok(Reply::embed(embed))
}
