//! The scripted part of the demo: questions asked through the console front end.
//! (Until the console front end lands, the seed's own analytics queries.)

use std::path::Path;

use sqlx::PgPool;

pub async fn run(pool: &PgPool, out_dir: &Path) -> anyhow::Result<()> {
    let day: Option<chrono::NaiveDate> = sqlx::query_scalar("SELECT MAX(session_date) FROM rounds")
        .fetch_one(pool)
        .await?;
    let Some(day) = day else { return Ok(()) };
    println!("\n> engagement breakdown, session {day}");
    let breakdown: Vec<(String, i32, f64)> = sqlx::query_as(
        "SELECT engagement_type, kill_count, percentage::float8 FROM engagement_breakdown WHERE session_date = $1 ORDER BY kill_count DESC",
    )
    .bind(day)
    .fetch_all(pool)
    .await?;
    for (kind, n, pct) in breakdown {
        println!("  {kind:>5} {n:>5} kills {pct:>5.1} %");
    }
    println!("\n> best 1v1 players, session {day}");
    let solo: Vec<(String, i32, i32)> = sqlx::query_as(
        "SELECT player_name, solo_kills, solo_deaths FROM player_proximity_stats WHERE session_date = $1
         AND solo_kills + solo_deaths >= 5 ORDER BY solo_kills::float / (solo_kills + solo_deaths) DESC LIMIT 5",
    )
    .bind(day)
    .fetch_all(pool)
    .await?;
    for (name, k, d) in solo {
        println!("  {name:<24} {k:>3} won / {d:>3} lost");
    }
    println!("\n> heatmap goldrush");
    let options =
        crate::heatmap::HeatmapOptions::new(crate::heatmap::query::HeatmapFilter::new("goldrush"));
    let (png, summary) = crate::heatmap::render_heatmap_png(pool, &options).await?;
    let path = out_dir.join("heatmap-goldrush.png");
    std::fs::write(&path, &png)?;
    println!(
        "  {} kills drawn; wrote {} ({} KiB)",
        summary.kills,
        path.display(),
        png.len() / 1024
    );
    Ok(())
}
