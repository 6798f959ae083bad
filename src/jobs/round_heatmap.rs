//! The small heatmap a round summary carries: where the round's kills happened, drawn by the
//! heatmap module's renderer over the map. Only for maps with a calibration (a map we cannot
//! place gets no image, and that is not an error); any failure leaves the summary without it.

use std::time::Instant;

use sqlx::PgPool;
use tracing::{debug, warn};

use crate::assets::Assets;
use crate::commands::Attachment;
use crate::db;
use crate::db::round_summary::RoundInfo;
use crate::heatmap::density::{GridSpec, Scale};
use crate::heatmap::render::{load_background, Frame};
use crate::heatmap::{render_bins, Binned, HeatmapOptions};

/// Width and height in pixels: small beside the embed, still readable on a phone.
pub const SIZE: u32 = 384;

/// The round's heatmap as `round-<id>-heatmap.png`, or `None` (uncalibrated map, no kills, or
/// a failure, which is logged).
pub async fn round_heatmap(
    pool: &PgPool,
    assets: &Assets,
    round: &RoundInfo,
) -> Option<Attachment> {
    let started = Instant::now();
    let map = round.map_name.trim().to_ascii_lowercase();
    let table = match assets.load_table() {
        Ok(table) => table,
        Err(e) => {
            warn!(error = %e, "map calibration unreadable; round summaries go without heatmaps");
            return None;
        }
    };
    let entry = table.get(&map)?.clone();
    let world = entry.world_box().ok()?;
    let positions = match db::recap::round_kill_positions(pool, round.id, round.session_date).await
    {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => return None,
        Err(e) => {
            warn!(round_id = round.id, error = %e, "could not read the round's kills for its heatmap");
            return None;
        }
    };
    let image = assets.image_path(&entry);
    let title = format!("{map} · round {}", round.round_number);
    let drawn = tokio::task::spawn_blocking(move || {
        // A missing or unreadable image draws the world grid instead.
        let background = image.and_then(|path| load_background(&path, SIZE).ok());
        let mut binned = Binned::new(GridSpec::for_output(world, SIZE));
        for (x, y) in &positions {
            binned.add_point(f64::from(*x), f64::from(*y));
        }
        let frame = Frame {
            size: SIZE,
            world,
            background,
            title,
            filters: Vec::new(),
            kill_count: binned.inside.round() as u64,
            scale: Scale::Linear,
            notes: Vec::new(),
        };
        render_bins(
            &binned,
            frame,
            HeatmapOptions::DEFAULT_SMOOTHING,
            99.0,
            Scale::Linear,
        )
    })
    .await;
    match drawn {
        Ok(Ok((png, _))) => {
            debug!(
                round_id = round.id,
                ms = started.elapsed().as_secs_f64() * 1e3,
                bytes = png.len(),
                "drew the round heatmap"
            );
            Some(Attachment {
                name: format!("round-{}-heatmap.png", round.id),
                bytes: png,
            })
        }
        Ok(Err(e)) => {
            warn!(round_id = round.id, error = %e, "could not draw the round heatmap");
            None
        }
        Err(e) => {
            warn!(round_id = round.id, error = %e, "the round heatmap task failed");
            None
        }
    }
}
