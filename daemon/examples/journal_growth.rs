//! How fast the journal grows: bytes per session-hour at the default
//! intervals, through the real driver (session actors, the store writer's
//! group commit into SQLite, the journal), on a simulated clock.
//!
//! Each of `SESSIONS` working sessions gets, over one simulated hour, what
//! the daemon's observers and a busy agent give it: a runtime probe (alive,
//! alive) and a tick every 30 s (the default reaper and tick intervals), an
//! SCM observation of its open, green PR every 60 s (the default SCM
//! interval), and an agent hook reporting `active` every 60 s. Everything
//! but the hooks changes nothing in a steady session.
//!
//! Run: `cargo run -p ao-daemon --example journal_growth`

#[path = "../benches/fixture.rs"]
mod fixture;

use ao_core::domain::*;
use ao_core::lcm::{ActivitySignal, CiSummary, Event, PrFacts, RuntimeObservation, ScmObservation};
use ao_core::time::Timestamp;
use ao_daemon::driver::Clock;
use fixture::Fixture;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const SESSIONS: usize = 20;
const HOUR_MS: u64 = 3_600_000;
const START_MS: u64 = 1_700_000_000_000;

/// A clock the driver reads and this program moves.
struct Manual(AtomicU64);

impl Clock for Manual {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let clock = Arc::new(Manual(AtomicU64::new(START_MS)));
    let fx = Fixture::start("journal-growth", SESSIONS, clock.clone());
    let (shared, dir) = (&fx.shared, fx.dir.as_path());
    let hook = Event::Activity(ActivitySignal {
        state: ActivityState::Active,
        confidence: Confidence::Valid,
        source: ActivitySource::Hook,
    });
    let probe = Event::Runtime(RuntimeObservation {
        runtime: Probe::Alive,
        process: Probe::Alive,
    });
    let pr = Event::Scm(ScmObservation::Fetched(PrFacts {
        ci: CiSummary::Passing,
        ..PrFacts::open(7)
    }));
    // Warm up: every session working, its PR known.
    for id in &fx.ids {
        shared.feed(id, hook.clone()).await?;
        shared.feed(id, pr.clone()).await?;
    }
    let before = journal_bytes(dir)?;
    let mut t = 0;
    while t < HOUR_MS {
        t += 30_000;
        clock.0.store(START_MS + t, Ordering::SeqCst);
        for id in &fx.ids {
            shared.feed(id, probe.clone()).await?;
            shared.feed(id, Event::Tick).await?;
            if t % 60_000 == 0 {
                shared.feed(id, pr.clone()).await?;
                shared.feed(id, hook.clone()).await?;
            }
        }
    }
    shared.drain().await;
    shared.writer.stop().await;
    let after = journal_bytes(dir)?;
    let grown: u64 = after.values().sum::<u64>() - before.values().sum::<u64>();
    println!("sessions: {SESSIONS}, one simulated hour at the default intervals");
    println!(
        "journal bytes per session-hour: {}",
        grown / SESSIONS as u64
    );
    println!("\nlines in the journal by kind:");
    for (kind, (lines, bytes)) in lines_by_kind(dir)? {
        println!("  {kind:<16} {lines:>7} lines {bytes:>10} bytes");
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// Every journal file (segments and the active one) with its size.
fn journal_bytes(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, u64>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("journal.") && name.ends_with(".jsonl") {
            out.insert(entry.path(), entry.metadata()?.len());
        }
    }
    Ok(out)
}

/// Lines and bytes per entry kind (inputs by event), across the journal files.
fn lines_by_kind(dir: &Path) -> std::io::Result<BTreeMap<String, (u64, u64)>> {
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for file in journal_bytes(dir)?.keys() {
        for line in std::fs::read_to_string(file)?.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let event = &v["input"]["event"];
            let kind = match (v["kind"].as_str(), event) {
                (Some("input"), serde_json::Value::String(s)) => format!("input {s}"),
                (Some("input"), serde_json::Value::Object(m)) => {
                    format!("input {}", m.keys().next().map_or("?", |k| k.as_str()))
                }
                (kind, _) => kind.unwrap_or("?").to_owned(),
            };
            let slot = out.entry(kind).or_default();
            slot.0 += 1;
            slot.1 += line.len() as u64 + 1;
        }
    }
    Ok(out)
}
