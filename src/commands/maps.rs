//! `/maps`: maps seen in rounds, and whether each has an image and a calibration for heatmaps.

use std::collections::HashMap;
use std::path::Path;

use super::reply::colour;
use super::text;
use super::{CommandResult, Embed, Env, Reply};
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

pub async fn run(env: &Env) -> CommandResult {
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
