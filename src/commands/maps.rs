//! `/maps`: maps seen in rounds, and whether each has an image and a calibration for heatmaps.

use std::collections::HashMap;
use std::path::Path;

use super::reply::colour;
use super::slash::{Ctx, Error, Front};
use super::text;
use super::{Caller, Command, CommandError, CommandResult, Embed, Env, Invocation, Reply};
use crate::db;

/// What `maps.csv` (map,mins_x,mins_y,maxs_x,maxs_y,image,…) and `maps/<map>.png` say per
/// map: (calibrated, has an image).
pub fn read_assets(dir: &Path) -> HashMap<String, (bool, bool)> {
    let Ok(csv) = std::fs::read_to_string(dir.join("maps.csv")) else {
        return HashMap::new();
    };
    csv.lines()
        .skip(1)
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let name = cells.first()?.trim().to_ascii_lowercase();
            let calibrated =
                cells.len() >= 5 && cells[1..5].iter().all(|c| c.trim().parse::<f64>().is_ok());
            // The image named in the table, or the converted command map `maps/<map>.png`.
            let image = cells
                .get(5)
                .is_some_and(|i| !i.trim().is_empty() && dir.join(i.trim()).is_file())
                || dir.join("maps").join(format!("{name}.png")).is_file();
            (!name.is_empty()).then_some((name, (calibrated, image)))
        })
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
    let assets = read_assets(&env.assets_dir);
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let rows: Vec<Vec<String>> = maps
        .iter()
        .map(|(name, rounds, last)| {
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
