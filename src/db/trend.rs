//! A player's numbers per session day next to the community's median that day (`/trend`), from
//! `player_proximity_stats` (one row per player and session day, kept forever).

use chrono::NaiveDate;
use sqlx::PgPool;

/// One session day of the player: their four trend stats and the medians of every human player
/// who played that day (a rate's median counts only players for whom it is defined).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPoint {
    pub session_date: NaiveDate,
    /// Solo kills over duels (solo kills + solo deaths); `None` without a duel.
    pub win_rate: Option<f64>,
    /// Kills over deaths; `None` without a death.
    pub kill_death: Option<f64>,
    pub outgunned: i64,
    pub crossfire: i64,
    pub median_win_rate: Option<f64>,
    pub median_kill_death: Option<f64>,
    pub median_outgunned: Option<f64>,
    pub median_crossfire: Option<f64>,
    /// Players the medians are taken over.
    pub players: i64,
}

/// The player's last `sessions` session days with a round played, oldest first.
pub async fn sessions(pool: &PgPool, guid: &str, sessions: i64) -> sqlx::Result<Vec<SessionPoint>> {
    // The medians are taken day by day through the primary key (session_date first), so the
    // cost is the players of those days, not every stored day. The planner prices the 100 index
    // probes high enough to JIT-compile the statement (tens of ms, more than the query itself):
    // off for this transaction only.
    let mut tx = pool.begin().await?;
    sqlx::query!("SET LOCAL jit = off")
        .execute(&mut *tx)
        .await?;
    let mut points = sqlx::query_as!(
        SessionPoint,
        r#"WITH days AS (
             SELECT session_date, solo_kills, solo_deaths, total_kills, total_deaths,
                    outgunned_kills, crossfire_participations
             FROM player_proximity_stats
             WHERE player_guid = $1 AND rounds_played > 0
             ORDER BY session_date DESC LIMIT $2)
         SELECT d.session_date AS "session_date!",
            CASE WHEN d.solo_kills + d.solo_deaths > 0
                 THEN d.solo_kills::float8 / (d.solo_kills + d.solo_deaths) END AS win_rate,
            CASE WHEN d.total_deaths > 0 THEN d.total_kills::float8 / d.total_deaths END AS kill_death,
            d.outgunned_kills::bigint AS "outgunned!", d.crossfire_participations::bigint AS "crossfire!",
            c.win_rate AS median_win_rate, c.kill_death AS median_kill_death,
            c.outgunned AS median_outgunned, c.crossfire AS median_crossfire,
            c.players AS "players!"
         FROM days d CROSS JOIN LATERAL (
             SELECT
                percentile_cont(0.5) WITHIN GROUP (ORDER BY s.solo_kills::float8 / (s.solo_kills + s.solo_deaths))
                    FILTER (WHERE s.solo_kills + s.solo_deaths > 0) AS win_rate,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY s.total_kills::float8 / s.total_deaths)
                    FILTER (WHERE s.total_deaths > 0) AS kill_death,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY s.outgunned_kills) AS outgunned,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY s.crossfire_participations) AS crossfire,
                COUNT(*) AS players
             FROM player_proximity_stats s
             WHERE s.session_date = d.session_date AND s.rounds_played > 0 AND NOT s.is_bot) c
         ORDER BY d.session_date DESC"#,
        guid,
        sessions,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    points.reverse();
    Ok(points)
}
