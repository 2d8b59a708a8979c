//! The observers: the reaper probes, the SCM poller polls, and ticks fire
//! duration escalations. Whom they visit is the core's pure selection, so the
//! simulator exercises the daemon's exact choice.

use super::Shared;
use ao_core::domain::SessionRecord;
use ao_core::lcm::{reaper_targets, scm_targets, Event, ReaperTarget, RuntimeObservation};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Probes running at once.
const PROBE_CONCURRENCY: usize = 16;

/// Every stored record (none, with an error logged, if the store fails).
pub(super) async fn records(shared: &Arc<Shared>) -> Vec<SessionRecord> {
    let store = shared.store.clone();
    match tokio::task::spawn_blocking(move || store.records()).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::error!("cannot read records: {e}");
            Vec::new()
        }
        Err(e) => {
            tracing::error!("store task failed: {e}");
            Vec::new()
        }
    }
}

/// One reaper pass: probe every live session (quarantined first), reclaim
/// runtimes of terminal sessions. Also the boot reconcile.
pub async fn reaper_pass(shared: &Arc<Shared>) {
    let all = records(shared).await;
    let mut jobs = JoinSet::new();
    for target in reaper_targets(&all) {
        while jobs.len() >= PROBE_CONCURRENCY {
            let _ = jobs.join_next().await;
        }
        let shared = shared.clone();
        let Some(rec) = all.iter().find(|r| match &target {
            ReaperTarget::Probe(id) | ReaperTarget::Reclaim(id) => &r.id == id,
        }) else {
            continue;
        };
        let rec = rec.clone();
        jobs.spawn(async move {
            match target {
                ReaperTarget::Probe(id) => {
                    let (runtime, process) = shared.adapters.probe(&rec).await;
                    shared
                        .post(&id, Event::Runtime(RuntimeObservation { runtime, process }))
                        .await;
                }
                ReaperTarget::Reclaim(id) => {
                    if let Some(handle) = rec.metadata.runtime_handle.clone() {
                        let outcome = shared.adapters.destroy_runtime(&shared, &id, &handle).await;
                        if let ao_core::sm::Outcome::Foreign(why) = &outcome {
                            // Its own runtime is gone; what holds the name is left alone.
                            tracing::info!(session = %id, "not reclaiming {handle}: {why}");
                        }
                        if matches!(
                            outcome,
                            ao_core::sm::Outcome::Ok | ao_core::sm::Outcome::Foreign(_)
                        ) {
                            shared
                                .post(
                                    &id,
                                    Event::Released {
                                        runtime: true,
                                        workspace: false,
                                    },
                                )
                                .await;
                        } else {
                            tracing::warn!(session = %id, "reclaiming {handle} failed: {outcome}");
                        }
                    }
                }
            }
        });
    }
    while jobs.join_next().await.is_some() {}
}

/// One SCM pass over the sessions the core selects.
pub async fn scm_pass(shared: &Arc<Shared>) {
    let all = records(shared).await;
    for id in scm_targets(&all) {
        let Some(rec) = all.iter().find(|r| r.id == id) else {
            continue;
        };
        if let Some(observation) = shared.adapters.fetch(rec).await {
            shared.post(&id, Event::Scm(observation)).await;
        }
    }
}

/// One tick for every live session.
pub async fn tick_pass(shared: &Arc<Shared>) {
    for rec in records(shared)
        .await
        .into_iter()
        .filter(|r| !r.is_terminal())
    {
        shared.post(&rec.id, Event::Tick).await;
    }
}

fn every(d: ao_core::time::Duration) -> Duration {
    Duration::from_millis(d.as_millis().max(1))
}

/// Runs the observers (reaper, SCM poller, ticks and, unless it is
/// disabled, the terminal observer) until `stop` turns true.
pub async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let t = shared.cfg.thresholds.clone();
    let screens = shared.daemon_cfg.terminal_observer.clone();
    let mut reaper = tokio::time::interval(every(t.reaper_interval));
    let mut scm = tokio::time::interval(every(t.scm_interval));
    let mut tick = tokio::time::interval(every(t.tick_interval));
    let mut look = tokio::time::interval(every(screens.interval));
    for i in [&mut reaper, &mut scm, &mut tick, &mut look] {
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    let mut observer =
        super::terminal::Observer::new(every(screens.idle_after), every(t.recent_activity_window));
    // The first tick of an interval fires at once: the boot reconcile already probed.
    reaper.tick().await;
    scm.tick().await;
    tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = reaper.tick() => {
                // A hook that timed out against a busy daemon spooled its signal.
                crate::spool::ingest(&shared).await;
                reaper_pass(&shared).await;
            }
            _ = scm.tick() => scm_pass(&shared).await,
            _ = tick.tick() => tick_pass(&shared).await,
            _ = look.tick(), if screens.enabled => observer.pass(&shared).await,
        }
    }
}
