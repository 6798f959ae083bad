//! Results that only change when a round is imported (per-player totals, best pairs over a
//! period), kept until the next import. The version is the rounds table's (max id, count):
//! a round committed out of id order still changes the count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use sqlx::PgPool;

use crate::db;
use crate::db::stats::PlayerTotals;
use crate::db::synergy::Pair;

type Version = (i64, i64);
type Slot<T> = Mutex<HashMap<(NaiveDate, NaiveDate), (Version, Arc<Vec<T>>)>>;

/// Entries kept per kind; older periods (yesterday's "7d") are dropped when it fills.
const ENTRIES: usize = 32;

#[derive(Default)]
pub struct Cache {
    totals: Slot<PlayerTotals>,
    pairs: Slot<Pair>,
}

async fn version(pool: &PgPool) -> sqlx::Result<Version> {
    let v = db::rounds::version(pool).await?;
    Ok((v.max_id, v.count))
}

fn get<T>(slot: &Slot<T>, key: (NaiveDate, NaiveDate), v: Version) -> Option<Arc<Vec<T>>> {
    let map = slot.lock().unwrap_or_else(|e| e.into_inner());
    map.get(&key)
        .filter(|(have, _)| *have == v)
        .map(|(_, data)| Arc::clone(data))
}

fn put<T>(slot: &Slot<T>, key: (NaiveDate, NaiveDate), v: Version, data: Arc<Vec<T>>) {
    let mut map = slot.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= ENTRIES {
        map.clear();
    }
    map.insert(key, (v, data));
}

impl Cache {
    /// Every player's totals over the days (bots included).
    pub async fn totals(
        &self,
        pool: &PgPool,
        from: NaiveDate,
        to: NaiveDate,
    ) -> sqlx::Result<Arc<Vec<PlayerTotals>>> {
        let v = version(pool).await?;
        if let Some(hit) = get(&self.totals, (from, to), v) {
            return Ok(hit);
        }
        let data = Arc::new(db::stats::all_totals(pool, from, to).await?);
        put(&self.totals, (from, to), v, Arc::clone(&data));
        Ok(data)
    }

    /// The server's best pairs over the days.
    pub async fn best_pairs(
        &self,
        pool: &PgPool,
        from: NaiveDate,
        to: NaiveDate,
    ) -> sqlx::Result<Arc<Vec<Pair>>> {
        let v = version(pool).await?;
        if let Some(hit) = get(&self.pairs, (from, to), v) {
            return Ok(hit);
        }
        let data = Arc::new(db::synergy::best_pairs(pool, from, to).await?);
        put(&self.pairs, (from, to), v, Arc::clone(&data));
        Ok(data)
    }

    pub fn clear(&self) {
        self.totals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.pairs.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
