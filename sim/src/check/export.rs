//! Counterexamples for humans and for the simulator: a readable timeline, and
//! a scenario YAML (`ao-sim run` replays it).
//!
//! # Mapping to a scenario
//!
//! Model time unit `c` maps to the sim time `c` minutes plus an offset below
//! half a minute that grows by 1 ms per scripted step, and the scenario's
//! durations are widened or narrowed by half a minute (`Scale::Jittered`), so
//! every time comparison the core makes comes out as in the model. Observers
//! are off; facts are direct (`probe`, `activity`, `scm`, `race`, `tick`);
//! commands are `spawn`/`kill`/`restore`/`cleanup`; the simulator runs each
//! operation's actions every [`ACTION_LATENCY_MS`] ms, so model actions that
//! happen while an operation is in flight are placed between its action times,
//! and SM failures and crashes become `fault: action_fails` / `crash_after`
//! armed just before the action they hit.
//!
//! Known gaps (the export says `approximate` and lists them):
//! - an operation whose actions the model spreads over a tick (the sim runs
//!   them every few ms);
//! - a half-failure (happened, reported failed) replays as a clean failure;
//! - the reaper's reclaim of a terminal runtime has no scripted step;
//! - a restart also re-probes every live session from the sim's fake world;
//! - crash-after faults share one restart latency.

use super::fixtures::{self, RaceFact, Scale, ScmFact, HOSTILE_COMMENT, HOSTILE_LOG, RACES};
use super::model::{Action, CheckModel, Foreign, OpOutcome, SmEvent, State};
use crate::scenario::{
    self, ActionKind, ActivityFact, CommentSpec, CrashSpec, FaultKind, FaultSpec, KillSpec,
    Latency, Observers, PrSpec, ProbeFact, ProjectRef, RaceSpec, Scenario, SessionRef, SessionSpec,
    Step, StepAction, TickSpec, WorldChange,
};
use ao_core::domain::{display_status, ActivitySource, Confidence, PrState, Probe};
use ao_core::lcm::CiSummary;
use ao_core::sm::{self, Next, Operation};
use ao_core::time::Duration;

/// The sim's latency between an operation's actions in exported scenarios.
pub const ACTION_LATENCY_MS: u64 = 200;
const STEP_MS: u64 = 1;
const MINUTE_MS: u64 = 60_000;

fn minute_start(clock: u8) -> u64 {
    MINUTE_MS * (u64::from(clock) + 1) - 29_000
}

fn session_name(i: u8) -> String {
    format!("s{}", u32::from(i) + 1)
}

/// One action, for timelines and the explorer.
pub fn describe(a: &Action) -> String {
    let s = |i: &u8| session_name(*i);
    match a {
        Action::Spawn(i) => format!("{}: spawn", s(i)),
        Action::Kill(i, kind) => format!("{}: kill ({kind})", s(i)),
        Action::Restore(i) => format!("{}: restore", s(i)),
        Action::Cleanup => "cleanup project p".into(),
        Action::Op(i, o) => format!("{}: operation action -> {}", s(i), outcome(*o)),
        Action::CleanupOp(o) => format!("cleanup action -> {}", outcome(*o)),
        Action::Delivered(i) => format!("{}: send delivered", s(i)),
        Action::DeliveryFailed(i) => format!("{}: send FAILED (delivery_failed fed back)", s(i)),
        Action::Probe(i, r, p) => format!("{}: probe runtime={r} process={p}", s(i)),
        Action::Activity(i, st, valid) => format!(
            "{}: activity {st} ({})",
            s(i),
            if *valid { "valid" } else { "stale" }
        ),
        Action::Scm(i, f) => format!("{}: scm {}", s(i), f.name()),
        Action::Race(i, k) => {
            let (a, b) = RACES[usize::from(*k)];
            format!("{}: race {} vs {}", s(i), race_name(a), race_name(b))
        }
        Action::ProcessExits(i) => format!("{}: world: agent process exits", s(i)),
        Action::RuntimeLost(i) => format!("{}: world: runtime lost", s(i)),
        Action::WorkspaceDirty(i) => format!("{}: world: workspace gets uncommitted work", s(i)),
        Action::Foreign(i, f) => format!(
            "{}: world: something not ours takes {}",
            s(i),
            foreign_name(*f)
        ),
        Action::Reclaim(i) => format!("{}: reaper reclaims the terminal runtime", s(i)),
        Action::Sm(i, e) => format!("{}: session manager writes {}", s(i), sm_event_name(*e)),
        Action::Crash => "daemon CRASH".into(),
        Action::Restart => "daemon restart (recover intents)".into(),
        Action::Tick => "tick (+1m)".into(),
    }
}

/// One action, naming the SM action an operation step executes in `s`.
pub fn describe_in(s: &State, a: &Action) -> String {
    let op = match a {
        Action::Op(i, _) => s.slots[usize::from(*i)].op.as_ref().map(|o| o.op.clone()),
        Action::CleanupOp(_) => s
            .cleanup
            .as_ref()
            .and_then(|c| c.items.iter().find(|(_, op)| !op.is_done()))
            .map(|(_, op)| op.clone()),
        _ => None,
    };
    let step = op.as_deref().and_then(next_action).map(|x| match &x {
        // `reduce <session> <event>`: name the event.
        sm::Action::Reduce { .. } => format!("reduce {}", event_label(&x.to_string())),
        other => action_name(kind_of(other)).to_owned(),
    });
    match (a, step) {
        (Action::Op(i, o), Some(k)) => format!("{}: {k} -> {}", session_name(*i), outcome(*o)),
        (Action::CleanupOp(o), Some(k)) => format!("cleanup: {k} -> {}", outcome(*o)),
        _ => describe(a),
    }
}

/// The event part of a `reduce <session> <event>` action text.
fn event_label(text: &str) -> String {
    text.splitn(3, ' ').nth(2).unwrap_or(text).to_owned()
}

fn action_name(k: ActionKind) -> &'static str {
    match k {
        ActionKind::SeedRecord => "seed_record",
        ActionKind::CreateWorkspace => "create_workspace",
        ActionKind::RestoreWorkspace => "restore_workspace",
        ActionKind::CreateRuntime => "create_runtime",
        ActionKind::DestroyRuntime => "destroy_runtime",
        ActionKind::DestroyWorkspace => "destroy_workspace",
        ActionKind::Reduce => "reduce (record write)",
    }
}

fn outcome(o: OpOutcome) -> &'static str {
    match o {
        OpOutcome::Ok => "ok",
        OpOutcome::Fail => "failed",
        OpOutcome::FailHalf => "failed after it happened",
        OpOutcome::CrashAfter => "ok, then CRASH before recording it",
    }
}

fn race_name(f: RaceFact) -> String {
    match f {
        RaceFact::Activity(a) => format!("activity {a}"),
        RaceFact::Probe(r, p) => format!("probe {r}/{p}"),
        RaceFact::Scm(f) => format!("scm {}", f.name()),
        RaceFact::Kill => "kill".into(),
    }
}

/// What each slot looks like, in one line.
pub fn summary(s: &State) -> String {
    let mut parts = Vec::new();
    for (i, slot) in s.slots.iter().enumerate() {
        let status = slot.rec().map_or_else(
            || "-".to_owned(),
            |r| display_status(&r.lifecycle).to_string(),
        );
        let mut p = format!("{}={status}", session_name(i as u8));
        let live: Vec<String> = slot
            .rt
            .iter()
            .enumerate()
            .filter(|(_, r)| **r != super::model::Rt::Absent)
            .map(|(k, r)| format!("r{k}:{r:?}").to_lowercase())
            .collect();
        if !live.is_empty() {
            p.push_str(&format!(" [{}]", live.join(",")));
        }
        if slot.ws != super::model::Ws::Absent {
            p.push_str(&format!(" ws:{:?}", slot.ws).to_lowercase());
        }
        if let Some(op) = &slot.op {
            p.push_str(&format!(
                " op:{}{}",
                op.op.kind(),
                if op.in_memory { "" } else { "(intent)" }
            ));
        }
        if let Some(k) = slot.pending {
            p.push_str(&format!(" sending:{k}"));
        }
        parts.push(p);
    }
    if !s.up {
        parts.push("daemon DOWN".into());
    }
    parts.join("  ")
}

/// The readable timeline of a path (model time counts the ticks so far:
/// the state keeps only ages, not a clock).
pub fn timeline(path: &[(State, Option<Action>)]) -> String {
    let mut out = String::new();
    let mut minutes = 0u32;
    for (k, (state, action)) in path.iter().enumerate() {
        let Some(a) = action else {
            continue;
        };
        let next = path.get(k + 1).map_or(state, |(s, _)| s);
        out.push_str(&format!(
            "  {:>3}. [t={}m] {:<52} => {}\n",
            k + 1,
            minutes,
            describe_in(state, a),
            summary(next)
        ));
        if *a == Action::Tick {
            minutes += 1;
        }
    }
    if let Some(b) = path.last().and_then(|(s, _)| s.broken.as_ref()) {
        for line in b.detail.lines() {
            out.push_str(&format!("       VIOLATED {line}\n"));
        }
    }
    out
}

/// A scenario replaying a path, and whether the replay is exact.
#[derive(Clone, Debug)]
pub struct Export {
    /// The scenario.
    pub scenario: Scenario,
    /// Why the replay may differ from the model (empty: exact).
    pub gaps: Vec<String>,
}

fn kind_of(a: &sm::Action) -> ActionKind {
    match a {
        sm::Action::SeedRecord(_) => ActionKind::SeedRecord,
        sm::Action::CreateWorkspace { .. } => ActionKind::CreateWorkspace,
        sm::Action::RestoreWorkspace { .. } => ActionKind::RestoreWorkspace,
        sm::Action::CreateRuntime { .. } => ActionKind::CreateRuntime,
        sm::Action::DestroyRuntime { .. } => ActionKind::DestroyRuntime,
        sm::Action::DestroyWorkspace { .. } => ActionKind::DestroyWorkspace,
        sm::Action::Reduce { .. } => ActionKind::Reduce,
    }
}

fn next_action(op: &Operation) -> Option<sm::Action> {
    match op.next() {
        Next::Act(a) => Some(a),
        Next::Done(_) => None,
    }
}

fn pr_spec(f: ScmFact) -> Option<PrSpec> {
    let facts = f.facts()?;
    if facts.state == PrState::None {
        return None;
    }
    let comments = facts
        .comments
        .iter()
        .map(|c| CommentSpec {
            author: c.author.clone(),
            body: HOSTILE_COMMENT.into(),
            bot: c.is_bot,
            url: c.url.clone(),
        })
        .collect();
    Some(PrSpec {
        state: facts.state,
        number: facts.number.unwrap_or(7),
        draft: facts.draft,
        ci: facts.ci,
        review: facts.review,
        mergeable: facts.mergeability.mergeable,
        conflicts: !facts.mergeability.no_conflicts,
        comments,
        log: facts
            .ci_log_tail
            .as_ref()
            .map(|_| HOSTILE_LOG.to_owned())
            .filter(|_| facts.ci == CiSummary::Failing),
    })
}

fn scm_step(session: SessionRef, f: ScmFact) -> scenario::ScmFact {
    scenario::ScmFact {
        session,
        fetch_failed: f == ScmFact::FetchFailed,
        pr: pr_spec(f),
    }
}

fn probe_step(session: SessionRef, runtime: Probe, process: Probe) -> ProbeFact {
    ProbeFact {
        session,
        runtime,
        process,
    }
}

fn activity_step(
    session: SessionRef,
    state: ao_core::domain::ActivityState,
    valid: bool,
) -> ActivityFact {
    ActivityFact {
        session,
        state,
        confidence: if valid {
            Confidence::Valid
        } else {
            Confidence::Stale
        },
        source: ActivitySource::Hook,
    }
}

fn race_fact(session: &SessionRef, f: RaceFact) -> scenario::RaceFact {
    match f {
        RaceFact::Activity(a) => {
            scenario::RaceFact::Activity(activity_step(session.clone(), a, true))
        }
        RaceFact::Probe(r, p) => scenario::RaceFact::Probe(probe_step(session.clone(), r, p)),
        RaceFact::Scm(f) => scenario::RaceFact::Scm(scm_step(session.clone(), f)),
        RaceFact::Kill => scenario::RaceFact::Kill(session.clone()),
    }
}

/// Builds the scenario for a path of `model`.
pub fn scenario(model: &CheckModel, name: &str, path: &[(State, Option<Action>)]) -> Export {
    let n = model.sessions;
    let sref = |i: u8| SessionRef(session_name(i));
    let mut gaps: Vec<String> = Vec::new();
    let mut gap = |g: String| {
        if !gaps.contains(&g) {
            gaps.push(g);
        }
    };
    // (time ms, order, minor, step): sorted by time, then insertion order; a
    // fault armed for a step's send sorts just before that step (minor 0).
    let mut steps: Vec<(u64, usize, u8, StepAction)> = Vec::new();
    let push = |steps: &mut Vec<(u64, usize, u8, StepAction)>, at: u64, a: StepAction| {
        let order = steps.len();
        steps.push((at, order, 1, a));
        order
    };
    let mut t = minute_start(0);
    let mut clock = 0u8;
    let mut op_next: Vec<Option<u64>> = vec![None; n];
    let mut cleanup_next: Option<u64> = None;
    // Per slot: when and by which scripted step its pending send was produced.
    let mut producer: Vec<Option<(u64, Option<usize>)>> = vec![None; n];
    let mut crash_step: Option<usize> = None;
    let mut crash_at = 0u64;
    let mut restart_latency: Option<u64> = None;
    for (k, (before, action)) in path.iter().enumerate() {
        let Some(a) = *action else {
            continue;
        };
        let after = path.get(k + 1).map_or(before, |(s, _)| s);
        let scripted = |steps: &mut Vec<_>, t: &mut u64, step: StepAction| {
            *t += STEP_MS;
            Some(push(steps, *t, step))
        };
        let mut made: Option<usize> = None;
        let mut made_at = t;
        match a {
            Action::Tick => {
                clock += 1;
                t = (t + STEP_MS).max(minute_start(clock));
                if op_next
                    .iter()
                    .flatten()
                    .chain(cleanup_next.iter())
                    .any(|&f| f < t)
                {
                    gap(
                        "an operation in flight across a tick runs its actions earlier in the sim"
                            .into(),
                    );
                }
                made = Some(push(&mut steps, t, StepAction::Tick(TickSpec {})));
                made_at = t;
            }
            Action::Spawn(i) | Action::Kill(i, _) | Action::Restore(i) => {
                let who = sref(i);
                let step = match a {
                    Action::Spawn(_) => StepAction::Spawn(who),
                    Action::Kill(_, kind) => StepAction::Kill(KillSpec { session: who, kind }),
                    _ => StepAction::Restore(who),
                };
                scripted(&mut steps, &mut t, step);
                let started = after.slots[usize::from(i)].op.is_some();
                op_next[usize::from(i)] = started.then_some(t + ACTION_LATENCY_MS);
            }
            Action::Cleanup => {
                scripted(
                    &mut steps,
                    &mut t,
                    StepAction::Cleanup(ProjectRef(fixtures::PROJECT.into())),
                );
                cleanup_next = after.cleanup.is_some().then_some(t + ACTION_LATENCY_MS);
            }
            Action::Op(_, o) | Action::CleanupOp(o) => {
                let (slot, op) = match a {
                    Action::Op(i, _) => (
                        i,
                        before.slots[usize::from(i)]
                            .op
                            .as_ref()
                            .map(|o| o.op.clone()),
                    ),
                    _ => {
                        let item = before
                            .cleanup
                            .as_ref()
                            .and_then(|c| c.items.iter().find(|(_, op)| !op.is_done()).cloned());
                        (item.as_ref().map_or(0, |(s, _)| *s), item.map(|(_, op)| op))
                    }
                };
                let next = match a {
                    Action::Op(..) => &mut op_next[usize::from(slot)],
                    _ => &mut cleanup_next,
                };
                let forced = next.unwrap_or(t + ACTION_LATENCY_MS);
                if forced <= t {
                    gap("an operation action the model delays runs earlier in the sim".into());
                }
                let kind = op.as_deref().and_then(next_action).map(|x| kind_of(&x));
                let fault = match o {
                    OpOutcome::Ok => None,
                    OpOutcome::Fail => Some(FaultKind::ActionFails),
                    OpOutcome::FailHalf => {
                        gap(
                            "a half-failure (it happened, then failed) replays as a clean failure"
                                .into(),
                        );
                        Some(FaultKind::ActionFails)
                    }
                    OpOutcome::CrashAfter => Some(FaultKind::CrashAfter),
                };
                if let (Some(kind), Some(action)) = (fault, kind) {
                    let arm = (t + STEP_MS).max(forced.saturating_sub(ACTION_LATENCY_MS / 2));
                    if arm >= forced {
                        gap("a fault could not be armed before the action it hits".into());
                    }
                    push(
                        &mut steps,
                        arm,
                        StepAction::Fault(FaultSpec {
                            kind,
                            session: Some(sref(slot)),
                            action: Some(action),
                            times: 1,
                        }),
                    );
                }
                t = t.max(forced);
                made_at = t;
                let continues = match a {
                    Action::Op(..) => after.slots[usize::from(slot)].op.is_some(),
                    _ => after.cleanup.is_some(),
                };
                *next = (continues && o != OpOutcome::CrashAfter).then_some(t + ACTION_LATENCY_MS);
                if o == OpOutcome::CrashAfter {
                    crash_at = t;
                    crash_step = None;
                    for f in op_next.iter_mut() {
                        *f = None;
                    }
                    cleanup_next = None;
                }
            }
            Action::Delivered(_) => {}
            Action::DeliveryFailed(i) => {
                let i = usize::from(i);
                if let Some((at, step)) = producer[i].take() {
                    let (arm_at, order) = match step {
                        Some(idx) => (steps[idx].0, steps[idx].1),
                        None => (at.saturating_sub(STEP_MS), steps.len()),
                    };
                    steps.push((
                        arm_at,
                        order,
                        0,
                        StepAction::Fault(FaultSpec {
                            kind: FaultKind::DeliveryFails,
                            session: Some(sref(i as u8)),
                            action: None,
                            times: 1,
                        }),
                    ));
                }
            }
            Action::Probe(i, r, p) => {
                made = scripted(
                    &mut steps,
                    &mut t,
                    StepAction::Probe(probe_step(sref(i), r, p)),
                );
                made_at = t;
            }
            Action::Activity(i, st, valid) => {
                made = scripted(
                    &mut steps,
                    &mut t,
                    StepAction::Activity(activity_step(sref(i), st, valid)),
                );
                made_at = t;
            }
            Action::Scm(i, f) => {
                made = scripted(&mut steps, &mut t, StepAction::Scm(scm_step(sref(i), f)));
                made_at = t;
            }
            Action::Race(i, k) => {
                let (f1, f2) = RACES[usize::from(k)];
                let who = sref(i);
                made = scripted(
                    &mut steps,
                    &mut t,
                    StepAction::Race(RaceSpec {
                        first: race_fact(&who, f1),
                        second: race_fact(&who, f2),
                    }),
                );
                made_at = t;
            }
            Action::ProcessExits(i) => {
                let mut w = WorldChange::nothing(sref(i));
                w.process = Some(scenario::ProcessChange::Exit);
                scripted(&mut steps, &mut t, StepAction::World(w));
            }
            Action::RuntimeLost(i) => {
                let mut w = WorldChange::nothing(sref(i));
                w.runtime_lost = true;
                scripted(&mut steps, &mut t, StepAction::World(w));
            }
            Action::WorkspaceDirty(i) => {
                let mut w = WorldChange::nothing(sref(i));
                w.workspace = Some(scenario::WorkspaceChange::Dirty);
                scripted(&mut steps, &mut t, StepAction::World(w));
            }
            Action::Foreign(i, f) => {
                let mut w = WorldChange::nothing(sref(i));
                w.foreign = Some(match f {
                    Foreign::Workspace => scenario::ForeignChange::Workspace,
                    Foreign::Runtime(_) | Foreign::None => scenario::ForeignChange::Runtime,
                });
                scripted(&mut steps, &mut t, StepAction::World(w));
            }
            Action::Sm(i, SmEvent::Kill(kind)) => {
                let step = StepAction::Kill(KillSpec {
                    session: sref(i),
                    kind,
                });
                scripted(&mut steps, &mut t, step);
            }
            Action::Sm(..) => {
                gap("a session-manager record write of the observe profile's environment has no scripted step".into());
            }
            Action::Reclaim(_) => {
                gap("the reaper's reclaim of a terminal runtime has no scripted step".into());
            }
            Action::Crash => {
                crash_step = scripted(
                    &mut steps,
                    &mut t,
                    StepAction::Crash(CrashSpec {
                        restart_after: None,
                    }),
                );
                crash_at = t;
                for f in op_next.iter_mut() {
                    *f = None;
                }
                cleanup_next = None;
            }
            Action::Restart => {
                t += STEP_MS;
                let down = t - crash_at;
                match crash_step {
                    Some(idx) => {
                        steps[idx].3 = StepAction::Crash(CrashSpec {
                            restart_after: Some(Duration(down)),
                        });
                    }
                    None => match restart_latency {
                        None => restart_latency = Some(down),
                        Some(l) if l != down => {
                            gap("crash-after faults share one restart latency".into());
                        }
                        Some(_) => {}
                    },
                }
                gap("a restart also re-probes every live session from the sim's fake world".into());
                for (i, slot) in after.slots.iter().enumerate() {
                    op_next[i] = slot.op.is_some().then_some(t + ACTION_LATENCY_MS);
                }
                cleanup_next = after.cleanup.is_some().then_some(t + ACTION_LATENCY_MS);
            }
        }
        for (i, slot) in after.slots.iter().enumerate() {
            if slot.pending.is_some() && before.slots[i].pending.is_none() {
                producer[i] = Some((made_at, made));
            }
        }
    }
    steps.sort_by_key(|(at, order, minor, _)| (*at, *order, *minor));
    let until = steps
        .iter()
        .map(|(at, ..)| *at)
        .chain(op_next.iter().flatten().copied())
        .chain([t])
        .max()
        .unwrap_or(t)
        + 1;
    let sessions = (0..n as u8)
        .map(|i| SessionSpec {
            id: session_name(i),
            project: fixtures::PROJECT.into(),
            issue: String::new(),
            kind: ao_core::domain::SessionKind::Worker,
            branch: None,
            prompt: None,
            agent: scenario::AgentSpec {
                ack_after: None,
                resumable: false,
                busy: false,
            },
        })
        .collect();
    let scenario = Scenario {
        name: name.to_owned(),
        description: format!(
            "Counterexample found by `ao-sim check` ({} session(s)).",
            model.sessions
        ),
        seed: 1,
        until: Some(Duration(until)),
        config: fixtures::overrides(Scale::Jittered),
        observers: Observers {
            reaper: false,
            scm: false,
            ticks: false,
        },
        faults: Default::default(),
        latency: Latency {
            action: Duration(ACTION_LATENCY_MS),
            agent_start: Duration(1),
            restart: Duration(restart_latency.unwrap_or(1000)),
        },
        sessions,
        steps: steps
            .into_iter()
            .map(|(at, _, _, action)| Step {
                at: Duration(at),
                action,
            })
            .collect(),
        expect: Vec::new(),
    };
    Export { scenario, gaps }
}

/// The scenario as YAML, with a header comment.
pub fn to_yaml(e: &Export) -> Result<String, String> {
    let body = serde_yaml::to_string(&e.scenario).map_err(|err| err.to_string())?;
    let mut head =
        String::from("# Generated by `ao-sim check`: replay with `ao-sim run <this file>`.\n");
    if e.gaps.is_empty() {
        head.push_str("# The replay is exact.\n");
    } else {
        head.push_str("# The replay is approximate:\n");
        for g in &e.gaps {
            head.push_str(&format!("# - {g}\n"));
        }
    }
    Ok(head + &body)
}

fn foreign_name(f: Foreign) -> String {
    match f {
        Foreign::None => "nothing".into(),
        Foreign::Workspace => "the workspace path".into(),
        Foreign::Runtime(k) => format!("runtime name r{k}"),
    }
}

fn sm_event_name(e: SmEvent) -> String {
    match e {
        SmEvent::Kill(kind) => format!("kill_requested({kind})"),
        SmEvent::Reopen => "reopened".into(),
        SmEvent::Complete => "spawn_completed".into(),
    }
}
