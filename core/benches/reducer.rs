//! Reducer throughput: a mixed stream (runtime probes, activity signals, SCM
//! facts, ticks) over 64 sessions, applying each write as a driver would.
//! Two mixes: `steady` (facts persist between polls, as in real use) and
//! `churn` (every fact drawn afresh). Target (issue 2): ≤ 100 ns per input.

use ao_core::config::Config;
use ao_core::domain::*;
use ao_core::lcm::*;
use ao_core::time::{Duration, Timestamp};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const SESSIONS: usize = 64;
const INPUTS: usize = 8192;

/// A tiny deterministic generator (xorshift), so the stream is the same every run.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn handle(text: String) -> Handle {
    Handle::new(text).expect("non-empty")
}

fn sessions() -> Vec<SessionRecord> {
    (0..SESSIONS)
        .map(|i| {
            let mut r = SessionRecord::seeded(
                SessionId(format!("s{i}")),
                ProjectId::from("app"),
                IssueId(format!("{i}")),
                SessionKind::Worker,
                Timestamp(0),
            );
            r.metadata.spawned_at = Some(Timestamp(0));
            r.metadata.runtime_handle = Some(handle(format!("rt-{i}")));
            r.metadata.workspace_path = Some(handle(format!("/ws/{i}")));
            r
        })
        .collect()
}

/// How often facts change between observations of the same session.
#[derive(Clone, Copy)]
enum Mix {
    /// Realistic: a session's facts persist and change now and then (1 in 16).
    Steady,
    /// Adversarial: every fact is drawn afresh (constant transitions and reactions).
    Churn,
}

/// Per-session world facts that the stream reports.
#[derive(Clone, Copy)]
struct Facts {
    runtime: Probe,
    process: Probe,
    activity: ActivityState,
    ci: CiSummary,
}

fn stream(mix: Mix) -> Vec<(usize, Input)> {
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let probes = [
        Probe::Alive,
        Probe::Alive,
        Probe::Alive,
        Probe::Dead,
        Probe::Failed,
        Probe::Indeterminate,
    ];
    let activities = [
        ActivityState::Active,
        ActivityState::Active,
        ActivityState::Idle,
        ActivityState::Ready,
        ActivityState::WaitingInput,
    ];
    let cis = [CiSummary::Passing, CiSummary::Pending, CiSummary::Failing];
    let initial = Facts {
        runtime: Probe::Alive,
        process: Probe::Alive,
        activity: ActivityState::Active,
        ci: CiSummary::Pending,
    };
    let mut facts = [initial; SESSIONS];
    let mut now = Timestamp(200_000);
    (0..INPUTS)
        .map(|_| {
            now = now.plus(Duration(rng.next(2_000)));
            let i = rng.next(SESSIONS as u64) as usize;
            let change = match mix {
                Mix::Steady => rng.next(16) == 0,
                Mix::Churn => true,
            };
            let f = &mut facts[i];
            let event = match rng.next(10) {
                0..=3 => {
                    if change {
                        f.runtime = probes[rng.next(probes.len() as u64) as usize];
                        f.process = probes[rng.next(3) as usize];
                    }
                    Event::Runtime(RuntimeObservation {
                        runtime: f.runtime,
                        process: f.process,
                    })
                }
                4..=6 => {
                    if change {
                        f.activity = activities[rng.next(activities.len() as u64) as usize];
                    }
                    Event::Activity(ActivitySignal {
                        state: f.activity,
                        confidence: Confidence::Valid,
                        source: ActivitySource::Hook,
                    })
                }
                7..=8 => {
                    if change {
                        f.ci = cis[rng.next(3) as usize];
                    }
                    let mut pr = PrFacts::open(7);
                    pr.ci = f.ci;
                    if pr.ci == CiSummary::Failing {
                        pr.ci_log_tail =
                            Some("error[E0308]: mismatched types\n  --> src/lib.rs:3:5".into());
                    }
                    Event::Scm(ScmObservation::Fetched(pr))
                }
                _ => Event::Tick,
            };
            (
                i,
                Input {
                    session: SessionId(format!("s{i}")),
                    at: now,
                    event,
                },
            )
        })
        .collect()
}

fn bench_reducer(c: &mut Criterion) {
    let cfg = Config::default();
    let mut group = c.benchmark_group("reducer");
    group.throughput(Throughput::Elements(INPUTS as u64));
    for (name, mix) in [
        ("steady_64_sessions", Mix::Steady),
        ("churn_64_sessions", Mix::Churn),
    ] {
        let inputs = stream(mix);
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                sessions,
                |records| {
                    let mut effects = Vec::with_capacity(8);
                    for (i, input) in &inputs {
                        let rec = &mut records[*i];
                        if step_into(rec, input, &cfg, &mut effects).is_ok() {
                            if let Some(Effect::Persist(patch)) = effects.first() {
                                let _ = rec.apply(patch);
                            }
                            black_box(&effects);
                        }
                    }
                },
                criterion::BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bench_reducer);
criterion_main!(benches);
