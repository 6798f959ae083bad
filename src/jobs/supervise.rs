//! Keeps the bot's background tasks (watcher, summaries, retention, cache warming) alive: a
//! task that fails or panics is logged as an error and started again after a growing pause.
//! A task that keeps failing ends the bot with an error, so the process exits non-zero and a
//! service manager restarts it: never a live bot with a dead importer.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::{error, info};

/// When to restart and when to give up.
#[derive(Debug, Clone, Copy)]
pub struct RestartPolicy {
    /// Pause before the first restart; doubled after each failure up to `max_pause`.
    pub first_pause: Duration,
    pub max_pause: Duration,
    /// Failures in a row (each after a run shorter than `healthy_after`) before giving up.
    pub give_up_after: u32,
    /// A run this long counts as healthy: the failure count and the pause start over.
    pub healthy_after: Duration,
}

impl Default for RestartPolicy {
    /// 1 s, 2 s, 4 s … 60 s: about ten minutes of failing before the process gives up.
    fn default() -> Self {
        RestartPolicy {
            first_pause: Duration::from_secs(1),
            max_pause: Duration::from_secs(60),
            give_up_after: 15,
            healthy_after: Duration::from_secs(300),
        }
    }
}

/// Test hook: makes the next `n` watcher starts panic, to prove the supervisor brings the
/// watcher back. Zero (the default) injects nothing.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub watcher_panics: Arc<AtomicU32>,
}

impl Faults {
    pub(crate) fn watcher_start(&self) {
        let left = self
            .watcher_panics
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if left.is_ok() {
            panic!("injected watcher fault (test)");
        }
    }
}

/// Runs the task that `start` makes, again and again: it is never meant to end. Returns (an
/// error) only when the task failed `give_up_after` times in a row.
pub async fn supervise<F, Fut>(
    name: &'static str,
    policy: RestartPolicy,
    mut start: F,
) -> anyhow::Error
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let mut failures = 0u32;
    let mut pause = policy.first_pause;
    loop {
        let started = Instant::now();
        // A task of its own, so a panic ends that task only and comes back as a JoinError.
        let reason = match tokio::spawn(start()).await {
            Ok(Ok(())) => "it stopped".to_owned(),
            Ok(Err(e)) => format!("{e:#}"),
            Err(join) => match join.try_into_panic() {
                Ok(payload) => format!("panic: {}", panic_message(payload.as_ref())),
                Err(_) => "it was cancelled".to_owned(),
            },
        };
        if started.elapsed() >= policy.healthy_after {
            failures = 0;
            pause = policy.first_pause;
        }
        failures += 1;
        if failures >= policy.give_up_after {
            error!(
                task = name,
                failures,
                error = %reason,
                "bot task keeps failing; giving up so the service manager can restart etprox"
            );
            return anyhow::anyhow!(
                "the {name} task failed {failures} times in a row; last: {reason}"
            );
        }
        error!(
            task = name,
            error = %reason,
            restart_in_s = pause.as_secs_f64(),
            "bot task failed; restarting it"
        );
        tokio::time::sleep(pause).await;
        info!(task = name, "restarting bot task");
        pause = (pause * 2).min(policy.max_pause);
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn quick() -> RestartPolicy {
        RestartPolicy {
            first_pause: Duration::from_secs(1),
            max_pause: Duration::from_secs(8),
            give_up_after: 4,
            healthy_after: Duration::from_secs(60),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_task_is_restarted_with_growing_pauses() {
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&starts);
        let began = Instant::now();
        let supervisor = tokio::spawn(supervise("test", quick(), move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    panic!("boom {n}");
                }
                // Third start: runs for good.
                std::future::pending::<()>().await;
                Ok(())
            }
        }));
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 3);
        assert!(!supervisor.is_finished(), "a healthy task keeps running");
        supervisor.abort();
        assert!(began.elapsed() >= Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_keeps_failing_ends_the_supervisor_with_its_error() {
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&starts);
        let began = Instant::now();
        let error = supervise("watcher", quick(), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Err(anyhow::anyhow!("folder gone")) }
        })
        .await;
        assert_eq!(starts.load(Ordering::SeqCst), 4);
        let text = format!("{error:#}");
        assert!(
            text.contains("watcher") && text.contains("folder gone"),
            "{text}"
        );
        // Pauses 1 + 2 + 4 s between the four starts.
        assert_eq!(began.elapsed().as_secs(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_healthy_run_resets_the_count() {
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&starts);
        let supervisor = tokio::spawn(supervise("test", quick(), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {
                // Fails, but only after a healthy hour each time.
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Err(anyhow::anyhow!("hourly hiccup"))
            }
        }));
        tokio::time::sleep(Duration::from_secs(10 * 3601)).await;
        assert!(starts.load(Ordering::SeqCst) >= 10);
        assert!(!supervisor.is_finished());
        supervisor.abort();
    }
}
