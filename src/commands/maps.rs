//! `/maps [server]`: maps seen in rounds (of one server when given), and whether each has an
//! image and a calibration for heatmaps.

use std::collections::HashMap;
use std::path::Path;

use super::reply::colour;
use super::slash::{given, Ctx, Error, Front};
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

/// The options of `/maps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maps {
    /// Only the maps this server (id or name) played.
    pub server: Option<String>,
}

impl Command for Maps {
    const NAME: &'static str = "maps";
    const DESCRIPTION: &'static str =
        "Known maps, and whether each has an image and a calibration for heatmaps.";

    fn from_invocation(inv: &Invocation) -> Result<Maps, CommandError> {
        Ok(Maps {
            server: inv.text("server"),
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME).set("server", self.server.as_ref())
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        let server = match &self.server {
            Some(s) => Some(super::resolve_server(env, s).await?),
            None => None,
        };
        list(env, server.as_deref()).await
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Only the maps of this server"]
    #[autocomplete = "super::slash::servers"]
    server: Option<String>,
) -> Result<(), Error> {
    D::answer(
        ctx,
        Ok(Maps {
            server: given(server),
        }),
    )
    .await
}

async fn list(env: &Env, server: Option<&str>) -> CommandResult {
    let maps = match server {
        Some(s) => db::servers::maps_on(&env.pool, s).await?,
        None => db::players::known_maps(&env.pool).await?,
    };
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
    let title = match server {
        Some(s) => format!("Maps played on {s}"),
        None => "Known maps".into(),
    };
    let embed = Embed::new(title, colour::INFO)
        .description(text::table(
            &["map", "rounds", "last played", "image", "calibrated"],
            &rows,
        ))
        .footer(format!("{} maps", maps.len()));
    Ok(Reply::embed(embed))
}
