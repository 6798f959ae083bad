//! `/heatmap <map> [player] [team] [kind] [weapon] [period] [size]`: the PNG of
//! `etprox::heatmap`, with the options of its CLI.

use super::{resolve_player, user_error, Attachment, CommandResult, Env, Invocation, Reply};
use crate::assets::Assets;
use crate::heatmap::{render_heatmap_png, HeatmapError, HeatmapFilter, HeatmapOptions};

fn parse<T: std::str::FromStr<Err: std::fmt::Display>>(
    inv: &Invocation,
    key: &str,
) -> Result<Option<T>, super::CommandError> {
    match inv.get(key) {
        Some(text) => text
            .trim()
            .parse::<T>()
            .map(Some)
            .or_else(|e| user_error(format!("{key}: {e}"))),
        None => Ok(None),
    }
}

pub async fn run(env: &Env, inv: &Invocation) -> CommandResult {
    let Some(map) = inv.get("map") else {
        return user_error("name a map, e.g. /heatmap map:goldrush");
    };
    let player = match inv.get("player") {
        Some(p) => Some(resolve_player(env, p).await?.into()),
        None => None,
    };
    let mut filter = HeatmapFilter::new(map.trim().to_ascii_lowercase());
    filter.player = player;
    filter.team = parse(inv, "team")?;
    if let Some(kind) = parse(inv, "kind")? {
        filter.kind = kind;
    }
    filter.weapon = parse(inv, "weapon")?;
    if let Some(period) = parse(inv, "period")? {
        filter.period = period;
    }
    let mut options = HeatmapOptions::new(filter);
    options.size = match inv.get("size") {
        Some(s) => match s.trim().parse::<u32>() {
            Ok(n) if (256..=2048).contains(&n) => n,
            _ => {
                return user_error(format!(
                    "size: {s:?} is not a number of pixels from 256 to 2048"
                ))
            }
        },
        None => 1024,
    };
    options.assets = Assets::in_dir(&env.assets_dir);
    // The UTC date as before, until Env carries the configured clock (commands helper).
    let utc_days = crate::config::SessionClock {
        timezone: chrono_tz::Tz::UTC,
        day_start: chrono::NaiveTime::MIN,
    };
    let clock = crate::clock::Clock::system(utc_days);
    let (png, summary) = match render_heatmap_png(&env.pool, &clock, &options).await {
        Ok(done) => done,
        Err(HeatmapError::Db(e)) => return Err(e.into()),
        Err(e @ (HeatmapError::Player(_) | HeatmapError::InvalidOption(_))) => {
            return user_error(e.to_string())
        }
        Err(e) => return Err(anyhow::anyhow!("rendering the heatmap: {e}").into()),
    };
    let name = format!(
        "heatmap-{}.png",
        summary
            .map
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect::<String>()
    );
    Ok(Reply {
        content: Some(summary.message()),
        attachments: vec![Attachment { name, bytes: png }],
        ..Reply::default()
    })
}
