//! Daemon throughput: 1,000 sessions fed through the real driver (one actor
//! per session, the real SQLite store with revision CAS, the journal), with
//! the bench playing an in-process fake runtime that answers the probes.
//! Reports observations/s, p50/p99 time from input to committed write, and
//! peak RSS. Goals (issue 5): ≥ 20 k observations/s, p99 < 2 ms, RSS < 100 MB.
//!
//! Run: `cargo bench -p ao-daemon --bench daemon`

use ao_core::domain::*;
use ao_core::lcm::{ActivitySignal, Event, RuntimeObservation};
use ao_core::time::Timestamp;
use ao_daemon::config::DaemonConfig;
use ao_daemon::driver::{Adapters, Shared, SystemClock};
use ao_daemon::journal::Journal;
use ao_daemon::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SESSIONS: usize = 1_000;
const ROUNDS: usize = 20;

fn handle(text: String) -> Handle {
    Handle::new(text).expect("non-empty")
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("daemon: bench");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let dir = std::env::temp_dir().join(format!("ao-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = DaemonConfig {
        data_dir: Some(dir.clone()),
        ..DaemonConfig::default()
    };
    let cfg = config.core().expect("default config resolves");
    let store = Arc::new(Store::open(&dir.join("ao.db")).expect("store"));
    let journal = Journal::open(&dir.join("journal.jsonl")).expect("journal");
    let adapters = Adapters::from_config(&config, &dir).expect("adapters");
    let shared = Shared::new(
        cfg,
        config,
        dir.clone(),
        store.clone(),
        journal,
        adapters,
        Arc::new(SystemClock),
        "http://127.0.0.1:0".into(),
    );
    let now = SystemClock.now_ms();
    let ids: Vec<SessionId> = (0..SESSIONS)
        .map(|i| SessionId(format!("s{i:04}")))
        .collect();
    for id in &ids {
        let mut rec = SessionRecord::seeded(
            id.clone(),
            ProjectId::from("default"),
            IssueId::from("1"),
            SessionKind::Worker,
            Timestamp(now),
        );
        rec.metadata.runtime_handle = Some(handle(format!("ao-{id}")));
        rec.metadata.workspace_path = Some(handle(format!("/ws/{id}")));
        rec.metadata.runtime_name = "fake".into();
        rec.metadata.spawned_at = Some(Timestamp(now.saturating_sub(600_000)));
        store.insert(&rec).expect("seed");
    }
    // Each round: every session gets a probe (alive/alive; the fake runtime)
    // and an activity signal, all sessions in parallel, each awaited.
    let started = Instant::now();
    let mut latencies: Vec<Duration> = Vec::with_capacity(SESSIONS * ROUNDS * 2);
    for round in 0..ROUNDS {
        let mut tasks = tokio::task::JoinSet::new();
        for id in &ids {
            let shared = shared.clone();
            let id = id.clone();
            let activity = if round % 2 == 0 {
                ActivityState::Active
            } else {
                ActivityState::Idle
            };
            tasks.spawn(async move {
                let mut lat = Vec::with_capacity(2);
                for event in [
                    Event::Runtime(RuntimeObservation {
                        runtime: Probe::Alive,
                        process: Probe::Alive,
                    }),
                    Event::Activity(ActivitySignal {
                        state: activity,
                        confidence: Confidence::Valid,
                        source: ActivitySource::Hook,
                    }),
                ] {
                    let t = Instant::now();
                    let _ = shared.feed(&id, event).await;
                    lat.push(t.elapsed());
                }
                lat
            });
        }
        while let Some(r) = tasks.join_next().await {
            latencies.extend(r.unwrap_or_default());
        }
    }
    let elapsed = started.elapsed();
    let n = latencies.len();
    println!("daemon bench: {SESSIONS} sessions through actors + SQLite + journal");
    println!(
        "  saturated: {n} observations, every session at once ({} in flight)",
        SESSIONS * 2
    );
    println!(
        "    throughput     {:>10.0} observations/s",
        n as f64 / elapsed.as_secs_f64()
    );
    report(&mut latencies);

    // Moderate load: 16 streams, each feeding its sessions one input at a time.
    const STREAMS: usize = 16;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for stream in 0..STREAMS {
        let shared = shared.clone();
        let mine: Vec<SessionId> = ids.iter().skip(stream).step_by(STREAMS).cloned().collect();
        tasks.spawn(async move {
            let mut lat = Vec::new();
            for round in 0..4 {
                for id in &mine {
                    let state = if round % 2 == 0 {
                        ActivityState::Ready
                    } else {
                        ActivityState::Active
                    };
                    let signal = ActivitySignal {
                        state,
                        confidence: Confidence::Valid,
                        source: ActivitySource::Hook,
                    };
                    let t = Instant::now();
                    let _ = shared.feed(id, Event::Activity(signal)).await;
                    lat.push(t.elapsed());
                }
            }
            lat
        });
    }
    let mut moderate = Vec::new();
    while let Some(r) = tasks.join_next().await {
        moderate.extend(r.unwrap_or_default());
    }
    let elapsed = started.elapsed();
    println!(
        "  moderate: {} observations, {STREAMS} concurrent streams",
        moderate.len()
    );
    println!(
        "    throughput     {:>10.0} observations/s",
        moderate.len() as f64 / elapsed.as_secs_f64()
    );
    report(&mut moderate);
    println!("  peak RSS         {:>10.1} MB", peak_rss_mb());
    shared.drain().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn report(latencies: &mut [Duration]) {
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    println!(
        "    input→commit   p50 {:?}  p99 {:?}  max {:?}",
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
}

/// Milliseconds now, for seeding records.
trait NowMs {
    fn now_ms(&self) -> u64;
}

impl NowMs for SystemClock {
    fn now_ms(&self) -> u64 {
        use ao_daemon::driver::Clock;
        self.now().0
    }
}
