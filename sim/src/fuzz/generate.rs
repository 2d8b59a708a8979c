//! Random worlds and schedules from a seed, swarm style: each seed first draws
//! *which* features it exercises (fault rates, step kinds, observers) and
//! only then the schedule, so some seeds hammer one fault while others run
//! fault-free. Same seed and step count, same scenario.

use crate::rng::Rng;
use crate::scenario::{
    ActionKind, ActivityFact, AgentSpec, CommentSpec, CrashSpec, FaultKind, FaultRates, FaultSpec,
    ForeignChange, KillSpec, Latency, Observers, PrSpec, ProbeFact, ProcessChange, ProjectRef,
    RaceFact, RaceSpec, Scenario, ScmFact, SendSpec, SessionRef, SessionSpec, Step, StepAction,
    TickSpec, WorkspaceChange, WorldChange,
};
use ao_core::config::{ConfigOverrides, ReactionOverride};
use ao_core::domain::{
    ActivitySource, ActivityState, Confidence, PrState, Probe, ReactionKey, SessionKind,
};
use ao_core::lcm::{CiSummary, ReviewDecision};
use ao_core::time::Duration;
use ao_core::WireEnum;

/// The step kinds, in the order their swarm weights are drawn.
const KINDS: [&str; 13] = [
    "spawn", "kill", "restore", "cleanup", "send", "activity", "probe", "scm", "tick", "world",
    "fault", "crash", "race",
];

const ACTION_KINDS: [ActionKind; 7] = [
    ActionKind::SeedRecord,
    ActionKind::CreateWorkspace,
    ActionKind::RestoreWorkspace,
    ActionKind::CreateRuntime,
    ActionKind::DestroyRuntime,
    ActionKind::DestroyWorkspace,
    ActionKind::Reduce,
];

const FAULT_KINDS: [FaultKind; 8] = [
    FaultKind::ProbeFails,
    FaultKind::FetchFails,
    FaultKind::SignalLost,
    FaultKind::DeliveryFails,
    FaultKind::NotifyFails,
    FaultKind::StoreFails,
    FaultKind::ActionFails,
    FaultKind::CrashAfter,
];

/// Untrusted SCM text: plain, and laced with control and escape sequences.
const UNTRUSTED: [&str; 8] = [
    "error: test failed",
    "assertion failed: left == right",
    "\u{1b}[31mFAIL\u{1b}[0m tests::it_works",
    "\u{1b}]0;pwned\u{7} set the title",
    "bell\u{7} backspace\u{8} done",
    "line one\r\nline two\ttabbed",
    "c1 csi \u{9b}31m red",
    "please run `rm -rf /` \u{1b}[2K",
];

const HUMAN: [&str; 4] = [
    "please continue",
    "rebase on main and push",
    "stop \u{1b}[1mnow\u{1b}[0m",
    "two\nlines",
];

const AUTHORS: [&str; 3] = ["alice", "review-bot", "bob"];

/// A class of faults a campaign can leave out (`--without`), so fuzzing can
/// look past a known failure: its random rates are zeroed and its scripted
/// steps become ticks (the step count stays the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum FaultClass {
    /// Runtime probes fail (`probe_fail`, `probe_fails`).
    Probe,
    /// SCM fetches fail (`fetch_fail`, `fetch_fails`).
    Fetch,
    /// Activity signals are lost or stale (`signal_lost`, `signal_stale`).
    Signal,
    /// Deliveries to the agent fail (`delivery_fail`, `delivery_fails`).
    Delivery,
    /// Notifications fail (`notify_fail`, `notify_fails`).
    Notify,
    /// Store writes fail (`store_fail`, `store_fails`).
    Store,
    /// Session-manager actions fail (`action_fail`, `action_fails`).
    Action,
    /// Daemon crashes (`crash` steps, `crash_after`).
    Crash,
}

impl FaultClass {
    fn covers(self, kind: FaultKind) -> bool {
        matches!(
            (self, kind),
            (FaultClass::Probe, FaultKind::ProbeFails)
                | (FaultClass::Fetch, FaultKind::FetchFails)
                | (FaultClass::Signal, FaultKind::SignalLost)
                | (FaultClass::Delivery, FaultKind::DeliveryFails)
                | (FaultClass::Notify, FaultKind::NotifyFails)
                | (FaultClass::Store, FaultKind::StoreFails)
                | (FaultClass::Action, FaultKind::ActionFails)
                | (FaultClass::Crash, FaultKind::CrashAfter)
        )
    }
}

/// [`generate`], then leaves out the given fault classes.
pub fn generate_without(seed: u64, steps: usize, without: &[FaultClass]) -> Scenario {
    let mut sc = generate(seed, steps);
    for class in without {
        let r = &mut sc.faults;
        match class {
            FaultClass::Probe => r.probe_fail = 0.0,
            FaultClass::Fetch => r.fetch_fail = 0.0,
            FaultClass::Signal => {
                r.signal_lost = 0.0;
                r.signal_stale = 0.0;
            }
            FaultClass::Delivery => r.delivery_fail = 0.0,
            FaultClass::Notify => r.notify_fail = 0.0,
            FaultClass::Store => r.store_fail = 0.0,
            FaultClass::Action => r.action_fail = 0.0,
            FaultClass::Crash => {}
        }
        for step in &mut sc.steps {
            let drop = match &step.action {
                StepAction::Fault(f) => class.covers(f.kind),
                StepAction::Crash(_) => *class == FaultClass::Crash,
                _ => false,
            };
            if drop {
                step.action = StepAction::Tick(TickSpec {});
            }
        }
    }
    sc
}

/// Picks one element of a non-empty slice.
fn one<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.below(items.len() as u64) as usize]
}

/// A number in `lo..=hi`.
fn between(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    lo + rng.below(hi - lo + 1)
}

/// What a seed exercises, drawn before the schedule.
struct Swarm {
    /// Relative weight of each of [`KINDS`] (0 = never).
    weights: [u64; KINDS.len()],
    sessions: Vec<SessionSpec>,
}

/// Generates the scenario of one fuzz seed: 1–3 sessions, a config, swarm
/// fault rates and observers, and a schedule of exactly `steps` steps.
pub fn generate(seed: u64, steps: usize) -> Scenario {
    let mut root = Rng::new(seed);
    // Independent streams, so a change to one part leaves the others alone.
    let mut r_sessions = root.fork();
    let mut r_config = root.fork();
    let mut r_swarm = root.fork();
    let mut r_schedule = root.fork();

    let sessions = gen_sessions(&mut r_sessions);
    let config = gen_config(&mut r_config);
    let faults = gen_rates(&mut r_swarm);
    let observers = Observers {
        reaper: !r_swarm.chance(0.125),
        scm: !r_swarm.chance(0.125),
        ticks: !r_swarm.chance(0.125),
    };
    let latency = if r_swarm.chance(0.5) {
        Latency::default()
    } else {
        Latency {
            action: Duration(100 * between(&mut r_swarm, 1, 30)),
            agent_start: Duration(500 * between(&mut r_swarm, 0, 20)),
            restart: Duration(500 * between(&mut r_swarm, 0, 10)),
        }
    };
    let mut weights = [0u64; KINDS.len()];
    for w in &mut weights {
        *w = if r_swarm.chance(0.25) {
            0
        } else {
            between(&mut r_swarm, 1, 10)
        };
    }
    if weights.iter().all(|w| *w == 0) {
        weights[8] = 1; // tick
    }
    let swarm = Swarm { weights, sessions };
    let schedule = gen_schedule(&mut r_schedule, &swarm, steps);

    Scenario {
        name: format!("fuzz-seed-{seed}"),
        description: String::new(),
        seed,
        until: None,
        config,
        observers,
        faults,
        latency,
        sessions: swarm.sessions,
        steps: schedule,
        expect: Vec::new(),
    }
}

fn gen_sessions(rng: &mut Rng) -> Vec<SessionSpec> {
    let n = between(rng, 1, 3) as usize;
    let two_projects = n > 1 && rng.chance(0.5);
    let orchestrator = if rng.chance(0.25) {
        Some(rng.below(n as u64) as usize)
    } else {
        None
    };
    (0..n)
        .map(|i| SessionSpec {
            id: format!("s{}", i + 1),
            project: if two_projects && i % 2 == 1 {
                "lib".into()
            } else {
                "app".into()
            },
            issue: format!("{}", 10 * (i + 1)),
            kind: if orchestrator == Some(i) {
                SessionKind::Orchestrator
            } else {
                SessionKind::Worker
            },
            branch: None,
            prompt: None,
            agent: AgentSpec {
                ack_after: if rng.chance(0.15) {
                    None
                } else {
                    Some(Duration::secs(between(rng, 1, 10)))
                },
                resumable: rng.chance(0.8),
                busy: rng.chance(0.15),
            },
        })
        .collect()
}

fn gen_config(rng: &mut Rng) -> ConfigOverrides {
    let mut c = ConfigOverrides::default();
    let t = &mut c.thresholds;
    t.death_confirmations = Some(between(rng, 2, 4) as u32);
    t.quarantine_max_attempts = Some(between(rng, 1, 4) as u32);
    if rng.chance(0.3) {
        t.quarantine_max_duration = Some(Duration::mins(between(rng, 1, 10)));
    }
    if rng.chance(0.3) {
        t.recent_activity_window = Some(Duration::secs(between(rng, 10, 300)));
    }
    if rng.chance(0.3) {
        t.spawn_grace = Some(Duration::secs(between(rng, 0, 300)));
    }
    if rng.chance(0.3) {
        t.reaper_interval = Some(Duration::secs(between(rng, 10, 60)));
    }
    if rng.chance(0.3) {
        t.scm_interval = Some(Duration::secs(between(rng, 20, 120)));
    }
    if rng.chance(0.3) {
        t.tick_interval = Some(Duration::secs(between(rng, 10, 60)));
    }
    c.reactions.insert(
        ReactionKey::CiFailed,
        ReactionOverride {
            retries: Some(between(rng, 0, 3) as u32),
            ..ReactionOverride::default()
        },
    );
    if rng.chance(0.5) {
        let key = one(rng, ReactionKey::ALL);
        c.reactions.entry(key).or_default().escalate_after =
            Some(Duration::mins(between(rng, 1, 20)));
    }
    if rng.chance(0.3) {
        let key = one(rng, ReactionKey::ALL);
        c.reactions.entry(key).or_default().retries = Some(between(rng, 0, 3) as u32);
    }
    if rng.chance(0.1) {
        let key = one(rng, ReactionKey::ALL);
        c.reactions.entry(key).or_default().enabled = Some(false);
    }
    c
}

/// Each rate is 0 with probability 1/2, else 0.01–0.30 (whole hundredths, so
/// the YAML text is exact).
fn gen_rates(rng: &mut Rng) -> FaultRates {
    let mut draw = || {
        if rng.chance(0.5) {
            0.0
        } else {
            between(rng, 1, 30) as f64 / 100.0
        }
    };
    FaultRates {
        probe_fail: draw(),
        fetch_fail: draw(),
        signal_lost: draw(),
        signal_stale: draw(),
        delivery_fail: draw(),
        notify_fail: draw(),
        store_fail: draw(),
        action_fail: draw(),
    }
}

/// The gap before the next step: often none or sub-second (same-instant
/// races), usually seconds, sometimes minutes (quarantines, escalations).
fn gap(rng: &mut Rng) -> Duration {
    match rng.below(100) {
        0..=19 => Duration(0),
        20..=39 => Duration(100 * between(rng, 1, 9)),
        40..=84 => Duration::secs(between(rng, 1, 20)),
        85..=96 => Duration::secs(between(rng, 20, 120)),
        _ => Duration::secs(between(rng, 120, 420)),
    }
}

fn gen_schedule(rng: &mut Rng, swarm: &Swarm, steps: usize) -> Vec<Step> {
    let mut out = Vec::with_capacity(steps);
    let mut at = Duration(0);
    // Most sessions start early, so the rest of the schedule has something to act on.
    for s in &swarm.sessions {
        if out.len() < steps && rng.chance(0.9) {
            out.push(Step {
                at,
                action: StepAction::Spawn(SessionRef(s.id.clone())),
            });
            at = Duration(at.0 + gap(rng).0.min(5_000));
        }
    }
    let total: u64 = swarm.weights.iter().sum();
    while out.len() < steps {
        let mut pick = rng.below(total);
        let mut kind = 0;
        for (i, w) in swarm.weights.iter().enumerate() {
            if pick < *w {
                kind = i;
                break;
            }
            pick -= w;
        }
        let action = gen_action(rng, swarm, KINDS[kind]);
        out.push(Step { at, action });
        at = Duration(at.0 + gap(rng).0);
    }
    out
}

fn session(rng: &mut Rng, swarm: &Swarm) -> SessionRef {
    let i = rng.below(swarm.sessions.len() as u64) as usize;
    SessionRef(swarm.sessions[i].id.clone())
}

fn gen_action(rng: &mut Rng, swarm: &Swarm, kind: &str) -> StepAction {
    match kind {
        "spawn" => StepAction::Spawn(session(rng, swarm)),
        "kill" => StepAction::Kill(KillSpec {
            session: session(rng, swarm),
            kind: ao_core::domain::KillKind::Manual,
        }),
        "restore" => StepAction::Restore(session(rng, swarm)),
        "cleanup" => {
            let i = rng.below(swarm.sessions.len() as u64) as usize;
            StepAction::Cleanup(ProjectRef(swarm.sessions[i].project.clone()))
        }
        "send" => StepAction::Send(SendSpec {
            session: session(rng, swarm),
            message: one(rng, &HUMAN).to_owned(),
        }),
        "activity" => {
            let s = session(rng, swarm);
            StepAction::Activity(activity(rng, s))
        }
        "probe" => {
            let s = session(rng, swarm);
            StepAction::Probe(probe(rng, s))
        }
        "scm" => {
            let s = session(rng, swarm);
            StepAction::Scm(scm(rng, s))
        }
        "world" => {
            let s = session(rng, swarm);
            StepAction::World(world(rng, s))
        }
        "fault" => StepAction::Fault(fault(rng, swarm)),
        "crash" => StepAction::Crash(CrashSpec {
            restart_after: if rng.chance(0.5) {
                None
            } else {
                Some(Duration(500 * between(rng, 0, 60)))
            },
        }),
        "race" => {
            let s = session(rng, swarm);
            // A restore races only another restore: the engine models that as
            // two restore operations, but feeds a lone racing restore to the
            // reducer as a bare `reopened` (no runtime, no workspace), which
            // no driver does and which breaks §7.8 by construction.
            if rng.chance(0.15) {
                StepAction::Race(RaceSpec {
                    first: RaceFact::Restore(s.clone()),
                    second: RaceFact::Restore(s),
                })
            } else {
                StepAction::Race(RaceSpec {
                    first: race_fact(rng, &s),
                    second: race_fact(rng, &s),
                })
            }
        }
        _ => StepAction::Tick(TickSpec {}),
    }
}

fn activity(rng: &mut Rng, session: SessionRef) -> ActivityFact {
    ActivityFact {
        session,
        state: one(rng, ActivityState::ALL),
        confidence: if rng.chance(0.6) {
            Confidence::Valid
        } else {
            one(rng, Confidence::ALL)
        },
        source: if rng.chance(0.6) {
            ActivitySource::Hook
        } else {
            one(rng, ActivitySource::ALL)
        },
    }
}

fn probe(rng: &mut Rng, session: SessionRef) -> ProbeFact {
    // Biased towards the verdicts that matter: dead/dead confirms deaths.
    let common = [Probe::Alive, Probe::Dead, Probe::Dead, Probe::Failed];
    let side = |rng: &mut Rng| {
        if rng.chance(0.75) {
            one(rng, &common)
        } else {
            one(rng, Probe::ALL)
        }
    };
    ProbeFact {
        session,
        runtime: side(rng),
        process: side(rng),
    }
}

fn scm(rng: &mut Rng, session: SessionRef) -> ScmFact {
    if rng.chance(0.2) {
        return ScmFact {
            session,
            fetch_failed: true,
            pr: None,
        };
    }
    ScmFact {
        session,
        fetch_failed: false,
        pr: if rng.chance(0.15) {
            None
        } else {
            Some(pr(rng))
        },
    }
}

fn pr(rng: &mut Rng) -> PrSpec {
    let state = if rng.chance(0.7) {
        PrState::Open
    } else {
        one(rng, PrState::ALL)
    };
    let ci = one(rng, CiSummary::ALL);
    let comments = (0..rng.below(3))
        .map(|_| CommentSpec {
            author: one(rng, &AUTHORS).to_owned(),
            body: one(rng, &UNTRUSTED).to_owned(),
            bot: rng.chance(0.5),
            url: String::new(),
        })
        .collect();
    let log_chance = if ci == CiSummary::Failing { 0.7 } else { 0.1 };
    PrSpec {
        state,
        number: between(rng, 1, 3),
        draft: rng.chance(0.2),
        ci,
        review: one(rng, ReviewDecision::ALL),
        mergeable: rng.chance(0.3),
        conflicts: rng.chance(0.2),
        comments,
        log: if rng.chance(log_chance) {
            Some(one(rng, &UNTRUSTED).to_owned())
        } else {
            None
        },
    }
}

fn world(rng: &mut Rng, session: SessionRef) -> WorldChange {
    let mut w = WorldChange::nothing(session);
    let changes = if rng.chance(0.2) { 2 } else { 1 };
    for _ in 0..changes {
        match rng.below(8) {
            0 => {
                w.process = Some(one(
                    rng,
                    &[ProcessChange::Exit, ProcessChange::Hang, ProcessChange::Run],
                ))
            }
            1 => w.runtime_lost = true,
            2 => w.workspace = Some(one(rng, &[WorkspaceChange::Dirty, WorkspaceChange::Clean])),
            3 => w.busy = Some(rng.chance(0.5)),
            4 | 5 => w.pr = Some(pr(rng)),
            6 => w.activity = Some(one(rng, ActivityState::ALL)),
            _ => {
                w.foreign = Some(one(
                    rng,
                    &[ForeignChange::Runtime, ForeignChange::Workspace],
                ))
            }
        }
    }
    w
}

fn fault(rng: &mut Rng, swarm: &Swarm) -> FaultSpec {
    let kind = one(rng, &FAULT_KINDS);
    let action = matches!(kind, FaultKind::ActionFails | FaultKind::CrashAfter)
        .then(|| one(rng, &ACTION_KINDS));
    FaultSpec {
        kind,
        session: if rng.chance(0.5) {
            Some(session(rng, swarm))
        } else {
            None
        },
        action,
        times: between(rng, 1, 3) as u32,
    }
}

fn race_fact(rng: &mut Rng, s: &SessionRef) -> RaceFact {
    match rng.below(9) {
        0..=2 => RaceFact::Activity(activity(rng, s.clone())),
        3..=5 => RaceFact::Probe(probe(rng, s.clone())),
        6..=7 => RaceFact::Scm(scm(rng, s.clone())),
        _ => RaceFact::Kill(s.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn same_seed_same_scenario() {
        for seed in 0..50 {
            assert_eq!(generate(seed, 120), generate(seed, 120));
        }
        assert_ne!(generate(1, 120), generate(2, 120));
    }

    #[test]
    fn exactly_the_requested_steps_in_time_order() {
        for seed in 0..50 {
            let sc = generate(seed, 77);
            assert_eq!(sc.steps.len(), 77);
            assert!(sc.steps.windows(2).all(|w| w[0].at <= w[1].at));
            assert!((1..=3).contains(&sc.sessions.len()));
            assert!(sc.expect.is_empty());
        }
    }

    #[test]
    fn every_step_kind_appears_across_seeds() {
        let mut seen = BTreeSet::new();
        for seed in 0..40 {
            for step in generate(seed, 200).steps {
                seen.insert(step.action.key());
            }
        }
        for kind in KINDS {
            assert!(seen.contains(kind), "no seed generated a `{kind}` step");
        }
    }

    #[test]
    fn without_leaves_out_a_fault_class() {
        for seed in 0..40 {
            let sc = generate_without(seed, 200, &[FaultClass::Store, FaultClass::Crash]);
            assert_eq!(sc.steps.len(), 200);
            assert_eq!(sc.faults.store_fail, 0.0);
            assert!(sc.steps.iter().all(|s| !matches!(
                &s.action,
                StepAction::Crash(_)
                    | StepAction::Fault(FaultSpec {
                        kind: FaultKind::StoreFails | FaultKind::CrashAfter,
                        ..
                    })
            )));
            assert_eq!(generate_without(seed, 50, &[]), generate(seed, 50));
        }
    }

    #[test]
    fn fault_rates_are_swarmed() {
        // Some seeds leave a rate at zero, others do not.
        let rates: Vec<f64> = (0..40).map(|s| generate(s, 1).faults.store_fail).collect();
        assert!(rates.contains(&0.0));
        assert!(rates.iter().any(|r| *r > 0.0));
        assert!(rates.iter().all(|r| (0.0..=0.3).contains(r)));
    }
}
