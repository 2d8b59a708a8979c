//! The session-manager state machines against a tiny deterministic fake world:
//! happy paths (snapshotted), every single failure, every crash point, pairs of
//! faults, racing restores, and an exhaustive walk over all outcome sequences.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use ao_core::config::{AgentSpec, Config, ProjectConfig, ReactionTable};
use ao_core::domain::{
    display_status, DisplayStatus, Handle, KillKind, Probe, SessionId, SessionKind, SessionRecord,
    SessionState,
};
use ao_core::lcm::{self, Event, Input, RuntimeObservation};
use ao_core::sm::*;
use ao_core::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------- fixtures --

const LAUNCH: &str = "agent --session {session_id} --issue {issue_id} --prompt {prompt}";
const RESUME: &str = "agent --resume {agent_session_id}";
const PROMPT: &str = "Fix issue #42; don't break 'quotes'";

fn h(s: &str) -> Handle {
    Handle::new(s).unwrap()
}

fn agent(resume: bool, relaunch: bool) -> AgentSpec {
    AgentSpec {
        launch: LAUNCH.into(),
        resume: resume.then(|| RESUME.into()),
        relaunch,
    }
}

fn project(agent: Option<AgentSpec>) -> ProjectConfig {
    ProjectConfig {
        reactions: ReactionTable::default(),
        agent,
    }
}

fn config() -> Config {
    let mut cfg = Config::default();
    let blank = AgentSpec {
        launch: "  ".into(),
        resume: None,
        relaunch: true,
    };
    let typo = AgentSpec {
        launch: "agent {promt}".into(),
        resume: None,
        relaunch: true,
    };
    for (name, spec) in [
        ("app", Some(agent(true, true))),
        ("other", Some(agent(true, true))),
        ("bare", None),
        ("blank", Some(blank)),
        ("typo", Some(typo)),
        ("resume_only", Some(agent(true, false))),
        ("relaunch_only", Some(agent(false, true))),
        ("neither", Some(agent(false, false))),
    ] {
        cfg.projects.insert(name.into(), project(spec));
    }
    cfg
}

fn spawn_request(id: &str) -> SpawnRequest {
    SpawnRequest {
        op: OpId(format!("spawn-{id}")),
        id: id.into(),
        project: "app".into(),
        issue: "42".into(),
        kind: SessionKind::Worker,
        branch: format!("ao/{id}"),
        prompt: PROMPT.into(),
        rules: None,
        workspace_path: h(&format!("/ws/{id}")),
        runtime_handle: h(&format!("rt-{id}")),
        runtime_name: "tmux".into(),
        at: Timestamp(1_000),
    }
}

// ------------------------------------------------------------- fake world --

/// What the world does to the action with a given index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Not done; reported failed.
    Fail,
    /// Done, but reported failed (a timeout). Record writes are atomic, so for
    /// them this is the same as `Fail`.
    FailAfterEffect,
    /// Not done; reported refused.
    Refuse,
    /// The daemon dies before executing it.
    CrashBefore,
    /// The daemon dies after executing it, before recording the outcome.
    CrashAfter,
}

const FAILURES: [Fault; 3] = [Fault::Fail, Fault::FailAfterEffect, Fault::Refuse];
const CRASHES: [Fault; 2] = [Fault::CrashBefore, Fault::CrashAfter];
const ALL_FAULTS: [Fault; 5] = [
    Fault::Fail,
    Fault::FailAfterEffect,
    Fault::Refuse,
    Fault::CrashBefore,
    Fault::CrashAfter,
];

#[derive(Clone, Debug)]
struct Workspace {
    session: SessionId,
    dirty: bool,
}

#[derive(Clone, Debug)]
struct World {
    cfg: Config,
    now: u64,
    records: BTreeMap<SessionId, SessionRecord>,
    runtimes: BTreeMap<Handle, SessionId>,
    workspaces: BTreeMap<Handle, Workspace>,
    /// The agent writes into its workspace as soon as its runtime starts.
    dirty_on_runtime: bool,
    /// Every workspace that was ever dirty (none may ever disappear).
    dirty_seen: BTreeSet<Handle>,
    /// Runtimes of terminal records before the op (reclaim candidates it did not cause).
    reclaimable: BTreeSet<Handle>,
    executed: usize,
    /// Advances that did not take effect (a failed record write, asked again).
    stalls: usize,
    faults: BTreeMap<usize, Fault>,
    log: Vec<String>,
}

impl World {
    fn new() -> World {
        World {
            cfg: config(),
            now: 1_000,
            records: BTreeMap::new(),
            runtimes: BTreeMap::new(),
            workspaces: BTreeMap::new(),
            dirty_on_runtime: false,
            dirty_seen: BTreeSet::new(),
            reclaimable: BTreeSet::new(),
            executed: 0,
            stalls: 0,
            faults: BTreeMap::new(),
            log: Vec::new(),
        }
    }

    /// Forgets the set-up's actions, so fault indices count from the operation under test.
    fn ready(mut self) -> World {
        self.executed = 0;
        self.log.clear();
        self.reclaimable = self
            .runtimes
            .iter()
            .filter(|(_, s)| self.records[*s].is_terminal())
            .map(|(h, _)| h.clone())
            .collect();
        self
    }

    fn with_faults(mut self, faults: &[(usize, Fault)]) -> World {
        self.faults = faults.iter().copied().collect();
        self
    }

    fn rec(&self, id: &str) -> &SessionRecord {
        &self.records[&SessionId::from(id)]
    }

    fn trace(&self) -> String {
        self.log.join("\n")
    }

    // --- set-up helpers -------------------------------------------------

    fn spawned(self, id: &str, project: &str, kind: SessionKind) -> World {
        let mut req = spawn_request(id);
        req.project = project.into();
        req.kind = kind;
        self.spawned_from(req)
    }

    fn spawned_from(mut self, req: SpawnRequest) -> World {
        let op = plan_spawn(req, &self.cfg.clone(), |s| self.records.contains_key(s)).unwrap();
        let result = self.run(op);
        assert!(matches!(result, OpResult::Spawned { .. }), "{result}");
        self
    }

    /// The runtime vanishes and two agreeing dead probes confirm the death.
    fn died(mut self, id: &str) -> World {
        let session = SessionId::from(id);
        self.runtimes.retain(|_, s| *s != session);
        let dead = RuntimeObservation {
            runtime: Probe::Dead,
            process: Probe::Dead,
        };
        for _ in 0..2 {
            self.now += 200_000;
            assert_eq!(self.reduce(&session, Event::Runtime(dead)), Outcome::Ok);
        }
        assert_eq!(
            self.rec(id).lifecycle.session.state,
            SessionState::Terminated
        );
        self
    }

    /// A terminal session whose handles were never released (its runtime may still run).
    fn terminated(mut self, id: &str) -> World {
        let kill = Event::KillRequested {
            kind: KillKind::Manual,
        };
        assert_eq!(self.reduce(&id.into(), kill), Outcome::Ok);
        self
    }

    fn dirty(mut self, id: &str) -> World {
        let path = self.rec(id).metadata.workspace_path.clone().unwrap();
        self.workspaces.get_mut(&path).unwrap().dirty = true;
        self.dirty_seen.insert(path);
        self
    }

    fn with_agent_session(mut self, id: &str, agent_session: &str) -> World {
        let rec = self.records.get_mut(&SessionId::from(id)).unwrap();
        rec.metadata.agent_session_id = Some(agent_session.into());
        self
    }

    /// A terminal session whose workspace was already reclaimed.
    fn cleaned(mut self, id: &str) -> World {
        let path = self.rec(id).metadata.workspace_path.clone().unwrap();
        self.workspaces.remove(&path);
        let released = Event::Released {
            runtime: true,
            workspace: true,
        };
        assert_eq!(self.reduce(&id.into(), released), Outcome::Ok);
        self
    }

    // --- executing actions ----------------------------------------------

    fn effect(&mut self, action: &Action) -> Outcome {
        self.now += 1_000;
        match action {
            Action::SeedRecord(rec) => {
                if self.records.contains_key(&rec.id) {
                    return Outcome::Refused("session id in use".into());
                }
                self.records.insert(rec.id.clone(), (**rec).clone());
                Outcome::Ok
            }
            Action::CreateWorkspace { session, path, .. }
            | Action::RestoreWorkspace { session, path, .. } => {
                self.workspaces
                    .entry(path.clone())
                    .or_insert_with(|| Workspace {
                        session: session.clone(),
                        dirty: false,
                    });
                Outcome::Ok
            }
            Action::CreateRuntime {
                session,
                handle,
                workspace,
                ..
            } => {
                let Some(ws) = self.workspaces.get_mut(workspace) else {
                    return Outcome::Failed("no such workspace".into());
                };
                if self.dirty_on_runtime {
                    ws.dirty = true;
                    self.dirty_seen.insert(workspace.clone());
                }
                self.runtimes.insert(handle.clone(), session.clone());
                Outcome::Ok
            }
            Action::DestroyRuntime { handle, .. } => {
                self.runtimes.remove(handle);
                Outcome::Ok
            }
            Action::DestroyWorkspace { path, .. } => match self.workspaces.get(path) {
                Some(ws) if ws.dirty => Outcome::Refused("uncommitted changes".into()),
                _ => {
                    self.workspaces.remove(path);
                    Outcome::Ok
                }
            },
            Action::Reduce { session, event } => self.reduce(session, event.clone()),
        }
    }

    /// A step error or a missing record is a refusal (asking again cannot
    /// help); only the store itself fails, and this fake store never does.
    fn reduce(&mut self, session: &SessionId, event: Event) -> Outcome {
        let Some(rec) = self.records.get_mut(session) else {
            return Outcome::Refused("no such session".into());
        };
        let input = Input {
            session: session.clone(),
            at: Timestamp(self.now),
            event,
        };
        match lcm::step(rec, &input, &self.cfg) {
            Err(e) => Outcome::Refused(e.to_string()),
            Ok(decision) => {
                if let Some(patch) = decision.patch() {
                    rec.apply(patch).expect("the fake store has one writer");
                }
                Outcome::Ok
            }
        }
    }

    /// Runs one action of `op`, with its fault. False once the op is done.
    fn step_op(&mut self, op: &mut Operation) -> bool {
        assert_intent_round_trips(op);
        let action = match op.next() {
            Next::Done(_) => {
                assert!(op.is_done());
                return false;
            }
            Next::Act(action) => action,
        };
        assert!(!op.is_done());
        let bound = op.max_steps();
        assert!(bound > 0, "`{action}` asked for beyond max_steps");
        let idx = self.executed;
        self.executed += 1;
        let fault = self.faults.get(&idx).copied();
        match fault {
            Some(Fault::CrashBefore) => {
                self.log.push(format!("#{idx} CRASH before {action}"));
                self.crash(op, bound);
                return true;
            }
            Some(Fault::CrashAfter) => {
                let outcome = self.effect(&action);
                self.log
                    .push(format!("#{idx} {action} -> {outcome}, then CRASH"));
                self.crash(op, bound);
                return true;
            }
            _ => {}
        }
        let outcome = match fault {
            Some(Fault::Fail) => Outcome::Failed("injected".into()),
            Some(Fault::FailAfterEffect) => {
                if is_external(&action) {
                    self.effect(&action);
                }
                Outcome::Failed("injected timeout".into())
            }
            Some(Fault::Refuse) => Outcome::Refused("injected".into()),
            _ => self.effect(&action),
        };
        self.log.push(format!("#{idx} {action} -> {outcome}"));
        let before = op.clone();
        match op.advance(outcome) {
            Progress::Advanced => assert!(
                op.max_steps() < bound,
                "max_steps must drop on every advance\n{}",
                self.trace()
            ),
            Progress::Stalled => {
                assert_eq!(
                    *op,
                    before,
                    "a stall leaves the op unchanged\n{}",
                    self.trace()
                );
                self.stalls += 1;
            }
        }
        true
    }

    /// The daemon restarts: the intent is loaded from storage and recovered.
    fn crash(&mut self, op: &mut Operation, bound: usize) {
        let stored = serde_json::to_string(op).unwrap();
        let loaded: Operation = serde_json::from_str(&stored).unwrap();
        let recovered = loaded.recover();
        assert!(
            recovered.max_steps() <= bound,
            "recover must not grow the bound"
        );
        assert_eq!(
            recovered.clone().recover(),
            recovered,
            "recover is idempotent"
        );
        self.log.push("   recover()".into());
        *op = recovered;
    }

    fn run(&mut self, mut op: Operation) -> OpResult {
        let budget = op.max_steps();
        let start = self.executed;
        let stalls = self.stalls;
        while self.step_op(&mut op) {}
        let stalls = self.stalls - stalls;
        let crashes = self
            .faults
            .range(start..self.executed)
            .filter(|(_, f)| CRASHES.contains(f))
            .count();
        let used = self.executed - start;
        assert!(
            used <= budget + crashes + stalls,
            "{used} actions > max_steps {budget} + {crashes} crashes + {stalls} stalls\n{}",
            self.trace()
        );
        let Next::Done(result) = op.next() else {
            panic!("run ended before the op was done");
        };
        self.log.push(format!("=> {result}"));
        result
    }

    // --- guarantees -----------------------------------------------------

    /// SPEC §7.7, 7.8, 7.9 after an operation finished; `result` may excuse
    /// exactly what it reports (a kept or leaked handle, an unmarked record).
    fn check(&self, result: &OpResult) {
        let reported = self.reported(result);
        let trace = || format!("{}\n", self.trace());
        let mut per_session: BTreeMap<&SessionId, usize> = BTreeMap::new();
        for (handle, session) in &self.runtimes {
            *per_session.entry(session).or_default() += 1;
            let rec = self
                .records
                .get(session)
                .unwrap_or_else(|| panic!("runtime {handle} has no record\n{}", trace()));
            let named = rec.metadata.runtime_handle.as_ref() == Some(handle);
            let owned = named && !rec.is_terminal();
            let old = named && self.reclaimable.contains(handle);
            assert!(
                owned || old || reported.contains(handle),
                "runtime {handle} of {session} is neither owned by a live record nor reported\n{}",
                trace()
            );
        }
        for (session, n) in per_session {
            assert!(n <= 1, "{n} live runtimes for {session}\n{}", trace());
        }
        for (path, ws) in &self.workspaces {
            let rec = self
                .records
                .get(&ws.session)
                .unwrap_or_else(|| panic!("workspace {path} has no record\n{}", trace()));
            let owned = rec.metadata.workspace_path.as_ref() == Some(path);
            assert!(
                owned || reported.contains(path),
                "workspace {path} is neither in its record nor reported\n{}",
                trace()
            );
        }
        let unmarked = result
            .failure()
            .is_some_and(|f| matches!(f.record, RecordFate::Unmarked(_)));
        for rec in self.records.values() {
            if rec.lifecycle.session.state == SessionState::NotStarted {
                let running = rec.metadata.spawned_at.is_some()
                    && rec
                        .metadata
                        .runtime_handle
                        .as_ref()
                        .is_some_and(|h| self.runtimes.get(h) == Some(&rec.id));
                assert!(
                    running || unmarked,
                    "{} is stuck spawning or half-open\n{}",
                    rec.id,
                    trace()
                );
            }
        }
        for path in &self.dirty_seen {
            assert!(
                self.workspaces.contains_key(path),
                "dirty workspace {path} was deleted\n{}",
                trace()
            );
        }
    }

    /// Handles the result says are still there (kept or leaked).
    fn reported(&self, result: &OpResult) -> BTreeSet<Handle> {
        let mut out = BTreeSet::new();
        match result {
            OpResult::Failed(f) => out.extend(
                [&f.runtime, &f.workspace]
                    .into_iter()
                    .filter_map(Fate::remaining)
                    .cloned(),
            ),
            OpResult::Killed(r) => out.extend(
                [&r.runtime, &r.workspace]
                    .into_iter()
                    .filter_map(Fate::remaining)
                    .cloned(),
            ),
            OpResult::Cleaned(r) => {
                for (session, _) in &r.skipped {
                    let m = &self.records[session].metadata;
                    out.extend(m.runtime_handle.clone());
                    out.extend(m.workspace_path.clone());
                }
            }
            OpResult::Spawned { .. } | OpResult::Restored { .. } => {}
        }
        out
    }

    /// With one fault, nothing may be lost that the fault itself did not cause.
    fn check_single_fault(&self, result: &OpResult, fault: Fault, faulted: Option<&Action>) {
        self.check(result);
        if let Some(f) = result.failure() {
            if let RecordFate::Unmarked(why) = &f.record {
                assert!(
                    !self.records.contains_key(&f.session),
                    "record left unmarked by one fault ({why})\n{}",
                    self.trace()
                );
            }
        }
        let destroy_failed = !CRASHES.contains(&fault)
            && matches!(
                faulted,
                Some(Action::DestroyRuntime { .. } | Action::DestroyWorkspace { .. })
            );
        let leaked = |fate: &Fate| matches!(fate, Fate::Leaked { .. });
        let any_leak = match result {
            OpResult::Failed(f) => leaked(&f.runtime) || leaked(&f.workspace),
            OpResult::Killed(r) => leaked(&r.runtime) || leaked(&r.workspace),
            _ => false,
        };
        assert!(
            !any_leak || destroy_failed,
            "a leak not caused by a failed destroy\n{}",
            self.trace()
        );
    }
}

fn is_external(action: &Action) -> bool {
    !matches!(action, Action::SeedRecord(_) | Action::Reduce { .. })
}

fn assert_intent_round_trips(op: &Operation) {
    let json = serde_json::to_string(op).unwrap();
    let back: Operation = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, op, "the intent must round-trip: {json}");
    let next = op.next();
    let back: Next = serde_json::from_str(&serde_json::to_string(&next).unwrap()).unwrap();
    assert_eq!(back, next);
}

// --------------------------------------------------------------- scenarios --

/// A named world with the operation under test planned against it.
struct Scenario {
    name: &'static str,
    world: World,
    op: Operation,
}

fn spawn_scenario(name: &'static str, dirty_on_runtime: bool) -> Scenario {
    let mut world = World::new().ready();
    world.dirty_on_runtime = dirty_on_runtime;
    let op = plan_spawn(spawn_request("s1"), &world.cfg, |s| {
        world.records.contains_key(s)
    })
    .unwrap();
    Scenario { name, world, op }
}

fn kill_scenario(name: &'static str, dirty: bool) -> Scenario {
    let mut world = World::new().spawned("s1", "app", SessionKind::Worker);
    if dirty {
        world = world.dirty("s1");
    }
    let world = world.ready();
    let op = plan_kill(
        OpId::from("kill-s1"),
        Some(world.rec("s1")),
        KillKind::Manual,
    )
    .unwrap();
    Scenario { name, world, op }
}

fn dead_world() -> World {
    World::new()
        .spawned("s1", "app", SessionKind::Worker)
        .died("s1")
}

fn restore_op(world: &World, op: &str) -> Operation {
    plan_restore(
        OpId::from(op),
        &"s1".into(),
        world.records.get(&SessionId::from("s1")),
        &world.cfg,
        h(&format!("rt-s1-{op}")),
        h("/ws/s1-fresh"),
    )
    .unwrap()
}

fn restore_scenario(name: &'static str, world: World) -> Scenario {
    let world = world.ready();
    let op = restore_op(&world, "r1");
    Scenario { name, world, op }
}

/// A restore of a session killed without freeing its runtime (it may still run).
fn restore_beside_old_runtime() -> Scenario {
    let alive = World::new()
        .spawned("s1", "app", SessionKind::Worker)
        .terminated("s1");
    restore_scenario("restore while the old runtime still runs", alive)
}

/// After a failed restore, a second one without faults; returns the world after it.
fn restore_again(world: World) -> World {
    assert!(world.rec("s1").is_terminal(), "{}", world.trace());
    let mut world = world.ready().with_faults(&[]);
    let result = world.run(restore_op(&world, "r2"));
    assert!(result.is_ok(), "{result}\n{}", world.trace());
    world.check(&result);
    world
}

fn cleanup_world() -> World {
    World::new()
        // s1: died; stale runtime handle, clean workspace.
        .spawned("s1", "app", SessionKind::Worker)
        .died("s1")
        // s2: killed without release; its runtime still runs (a reclaim).
        .spawned("s2", "app", SessionKind::Worker)
        .terminated("s2")
        // s3: live: never touched.
        .spawned("s3", "app", SessionKind::Worker)
        // s4: died with uncommitted work: skipped.
        .spawned("s4", "app", SessionKind::Worker)
        .died("s4")
        .dirty("s4")
        // o1: an orchestrator is never reclaimed.
        .spawned("o1", "app", SessionKind::Orchestrator)
        .died("o1")
        // x1: another project.
        .spawned("x1", "other", SessionKind::Worker)
        .died("x1")
}

fn cleanup_scenario(name: &'static str) -> Scenario {
    let world = cleanup_world().ready();
    let op = plan_cleanup(
        OpId::from("cleanup-app"),
        &"app".into(),
        world.records.values(),
    );
    Scenario { name, world, op }
}

fn scenarios() -> Vec<Scenario> {
    vec![
        spawn_scenario("spawn", false),
        spawn_scenario("spawn, agent dirties its workspace", true),
        kill_scenario("kill", false),
        kill_scenario("kill, dirty workspace", true),
        restore_scenario("restore (relaunch)", dead_world()),
        restore_scenario(
            "restore (resume)",
            dead_world().with_agent_session("s1", "agent-abc"),
        ),
        restore_scenario("restore after cleanup", dead_world().cleaned("s1")),
        restore_beside_old_runtime(),
        cleanup_scenario("cleanup"),
    ]
}

/// Runs a scenario with faults; returns the world after, the result, and the faulted action.
fn run_faulted(s: &Scenario, faults: &[(usize, Fault)]) -> (World, OpResult) {
    let mut world = s.world.clone().with_faults(faults);
    let result = world.run(s.op.clone());
    (world, result)
}

fn happy_actions(s: &Scenario) -> Vec<Action> {
    let mut op = s.op.clone();
    let mut world = s.world.clone();
    let mut actions = Vec::new();
    while let Next::Act(action) = op.next() {
        let outcome = world.effect(&action);
        actions.push(action);
        op.advance(outcome);
    }
    actions
}

/// Op-specific guarantees on top of `World::check`.
fn check_outcome(s: &Scenario, world: &World, result: &OpResult) {
    let trace = world.trace();
    match &s.op {
        Operation::Spawn(op) => {
            if let (OpResult::Failed(_), Some(rec)) = (result, world.records.get(op.session())) {
                assert_eq!(
                    display_status(&rec.lifecycle),
                    DisplayStatus::Errored,
                    "a failed spawn's record must be errored\n{trace}"
                );
            }
        }
        Operation::Restore(op) => {
            let rec = world.records.get(op.session()).unwrap();
            match result {
                OpResult::Restored { .. } => {
                    assert_eq!(rec.lifecycle.session.state, SessionState::NotStarted);
                    assert!(world.runtimes.values().any(|s| s == op.session()));
                }
                OpResult::Failed(_) => {
                    assert!(
                        rec.is_terminal(),
                        "a failed restore leaves the session terminal\n{trace}"
                    );
                    assert!(
                        !world
                            .runtimes
                            .iter()
                            .any(|(h, s)| s == op.session() && !world.reclaimable.contains(h)),
                        "a failed restore leaves no runtime of its own\n{trace}"
                    );
                    let again = plan_restore(
                        "again".into(),
                        op.session(),
                        Some(rec),
                        &world.cfg,
                        h("rt-again"),
                        h("/ws/again"),
                    );
                    assert!(again.is_ok(), "and restorable: {again:?}\n{trace}");
                }
                other => panic!("restore ended with {other}"),
            }
        }
        Operation::Kill(op) => match result {
            OpResult::Killed(r) => {
                assert!(world.rec(op.session().as_str()).is_terminal());
                if !matches!(r.runtime, Fate::Leaked { .. }) {
                    assert!(
                        !world.runtimes.values().any(|s| s == op.session()),
                        "{trace}"
                    );
                }
            }
            OpResult::Failed(f) => assert_eq!(f.step, Step::RecordKill),
            other => panic!("kill ended with {other}"),
        },
        Operation::Cleanup(_) => {
            let OpResult::Cleaned(r) = result else {
                panic!("cleanup ended with {result}");
            };
            for id in ["s3", "o1", "x1"] {
                let before = s.world.rec(id);
                assert_eq!(world.rec(id), before, "{id} must not be touched\n{trace}");
            }
            for id in &r.cleaned {
                let path = s.world.records[id].metadata.workspace_path.clone().unwrap();
                assert!(!world.workspaces.contains_key(&path));
                assert!(!world.runtimes.values().any(|s| s == id));
            }
        }
    }
}

// ------------------------------------------------------------ happy paths --

#[test]
fn happy_paths_read_like_the_spec() {
    let mut out = String::new();
    for s in scenarios() {
        let (world, result) = run_faulted(&s, &[]);
        world.check(&result);
        check_outcome(&s, &world, &result);
        if !s.name.contains("dirt") {
            assert!(result.is_ok(), "{}: {result}", s.name);
        }
        out.push_str(&format!("## {}\n{}\n\n", s.name, world.trace()));
    }
    insta::assert_snapshot!("happy_paths", out);
}

#[test]
fn spawn_happy_path_in_full() {
    let s = spawn_scenario("spawn", false);
    insta::assert_yaml_snapshot!("spawn_actions", happy_actions(&s));
}

#[test]
fn spawn_seeds_an_unstarted_record_with_prompt_and_branch_but_no_handles() {
    let s = spawn_scenario("spawn", false);
    let Next::Act(Action::SeedRecord(rec)) = s.op.next() else {
        panic!("a spawn seeds its record first");
    };
    assert_eq!(display_status(&rec.lifecycle), DisplayStatus::Spawning);
    assert_eq!(rec.metadata.prompt, PROMPT);
    assert_eq!(rec.metadata.branch, "ao/s1");
    assert_eq!(rec.metadata.workspace_path, None);
    assert_eq!(rec.metadata.runtime_handle, None);
    assert_eq!(rec.revision, 1);
    let (world, _) = run_faulted(&s, &[]);
    let m = &world.rec("s1").metadata;
    assert_eq!(m.workspace_path, Some(h("/ws/s1")));
    assert_eq!(m.runtime_handle, Some(h("rt-s1")));
    assert_eq!(m.runtime_name, "tmux");
    assert!(m.spawned_at.is_some());
}

#[test]
fn the_agent_command_quotes_the_prompt_and_names_the_session() {
    let s = spawn_scenario("spawn", false);
    let create = happy_actions(&s)
        .into_iter()
        .find(|a| matches!(a, Action::CreateRuntime { .. }))
        .unwrap();
    let Action::CreateRuntime { command, env, .. } = create else {
        unreachable!()
    };
    assert_eq!(
        command,
        "agent --session s1 --issue 42 --prompt 'Fix issue #42; don'\\''t break '\\''quotes'\\'''"
    );
    assert_eq!(
        env,
        [
            ("AO_SESSION_ID".to_owned(), "s1".to_owned()),
            ("AO_PROJECT_ID".to_owned(), "app".to_owned()),
            ("AO_ISSUE_ID".to_owned(), "42".to_owned()),
        ]
    );
}

// ------------------------------------------------------ failure and crash --

/// (2) Every single failure of every action rolls back cleanly.
#[test]
fn every_single_failure_rolls_back() {
    for s in scenarios() {
        let n = happy_actions(&s).len();
        for fault in FAILURES {
            for i in 0..n {
                let (world, result) = run_faulted(&s, &[(i, fault)]);
                let faulted = happy_actions(&s).get(i).cloned();
                world.check_single_fault(&result, fault, faulted.as_ref());
                check_outcome(&s, &world, &result);
            }
        }
    }
}

/// (3) A crash before or after every action (rollback actions included) recovers.
#[test]
fn every_crash_point_recovers() {
    for s in scenarios() {
        for fault in CRASHES {
            for i in 0.. {
                let (world, result) = run_faulted(&s, &[(i, fault)]);
                if world.executed <= i {
                    break; // the op finished before action i
                }
                world.check_single_fault(&result, fault, None);
                check_outcome(&s, &world, &result);
            }
        }
    }
}

/// Two faults anywhere (crashes during recovery, failures during rollback):
/// still bounded, and anything left behind is reported.
#[test]
fn every_pair_of_faults_is_bounded_and_reported() {
    let mut runs = 0;
    for s in scenarios() {
        for f1 in ALL_FAULTS {
            for f2 in ALL_FAULTS {
                for i in 0.. {
                    let (world, _) = run_faulted(&s, &[(i, f1)]);
                    if world.executed <= i {
                        break;
                    }
                    for j in i + 1.. {
                        let (world, result) = run_faulted(&s, &[(i, f1), (j, f2)]);
                        if world.executed <= j {
                            break;
                        }
                        world.check(&result);
                        runs += 1;
                    }
                }
            }
        }
    }
    assert!(runs > 1_000, "only {runs} runs");
}

fn fault_table(s: &Scenario, faults: &[Fault]) -> String {
    let mut out = String::new();
    for fault in faults {
        for i in 0.. {
            let (world, _) = run_faulted(s, &[(i, *fault)]);
            if world.executed <= i {
                break;
            }
            out.push_str(&format!("## {fault:?} at #{i}\n{}\n\n", world.trace()));
        }
    }
    out
}

#[test]
fn failure_tables_read_like_the_spec() {
    insta::assert_snapshot!(
        "spawn_failures",
        fault_table(&spawn_scenario("spawn", false), &[Fault::Fail])
    );
    insta::assert_snapshot!(
        "spawn_crashes",
        fault_table(&spawn_scenario("spawn", false), &CRASHES)
    );
    insta::assert_snapshot!(
        "kill_failures",
        fault_table(&kill_scenario("kill", false), &[Fault::Fail])
    );
    insta::assert_snapshot!(
        "restore_failures",
        fault_table(&restore_scenario("restore", dead_world()), &[Fault::Fail])
    );
    insta::assert_snapshot!(
        "restore_crashes",
        fault_table(&restore_scenario("restore", dead_world()), &CRASHES)
    );
    insta::assert_snapshot!(
        "cleanup_failures",
        fault_table(&cleanup_scenario("cleanup"), &[Fault::Fail])
    );
}

// ------------------------------------------------------------ dirty work --

/// (4) A dirty workspace is refused and reported by kill, cleanup and rollback.
#[test]
fn a_dirty_workspace_is_never_destroyed() {
    // Kill.
    let (world, result) = run_faulted(&kill_scenario("kill", true), &[]);
    let OpResult::Killed(report) = &result else {
        panic!("{result}")
    };
    assert!(report.runtime_freed());
    assert!(!report.workspace_freed());
    assert_eq!(report.workspace_kept(), Some("uncommitted changes"));
    assert!(world.workspaces.contains_key(&h("/ws/s1")));
    // The record still names it, so a later cleanup can retry.
    assert_eq!(world.rec("s1").metadata.workspace_path, Some(h("/ws/s1")));
    assert_eq!(world.rec("s1").metadata.runtime_handle, None);

    // Cleanup.
    let (world, result) = run_faulted(&cleanup_scenario("cleanup"), &[]);
    let OpResult::Cleaned(report) = &result else {
        panic!("{result}")
    };
    assert_eq!(
        report.cleaned,
        [SessionId::from("s1"), SessionId::from("s2")]
    );
    assert_eq!(
        report.skipped,
        [(SessionId::from("s4"), "uncommitted changes".to_owned())]
    );
    assert!(world.workspaces.contains_key(&h("/ws/s4")));

    // Spawn rollback after the agent wrote into its workspace.
    let s = spawn_scenario("spawn", true);
    let report_step = happy_actions(&s).len() - 1;
    let (world, result) = run_faulted(&s, &[(report_step, Fault::Fail)]);
    let failure = result.failure().unwrap();
    assert_eq!(failure.step, Step::ReportSpawned);
    assert!(failure.runtime.is_freed());
    assert_eq!(
        failure.workspace,
        Fate::Kept {
            handle: h("/ws/s1"),
            reason: "uncommitted changes".into()
        }
    );
    assert_eq!(failure.record, RecordFate::Errored);
    assert!(world.workspaces.contains_key(&h("/ws/s1")));
}

// ------------------------------------------------------ missing handles --

/// (5) A record seeded by a spawn that crashed before its runtime can be killed:
/// the kill destroys nothing it has no handle for, and terminates the record.
#[test]
fn kill_with_missing_handles_terminates_and_destroys_nothing() {
    let s = spawn_scenario("spawn", false);
    // Crash right after the workspace was created, and do not recover yet.
    let mut world = s.world.clone().with_faults(&[(1, Fault::CrashAfter)]);
    let mut spawn = s.op.clone();
    while world.executed < 2 {
        world.step_op(&mut spawn);
    }
    let rec = world.rec("s1").clone();
    assert_eq!(rec.metadata.runtime_handle, None);
    assert_eq!(rec.metadata.workspace_path, None);

    let kill = plan_kill("kill-s1".into(), Some(&rec), KillKind::Manual).unwrap();
    let actions: Vec<Action> = happy_actions(&Scenario {
        name: "kill",
        world: world.clone(),
        op: kill.clone(),
    });
    assert_eq!(
        actions,
        [Action::Reduce {
            session: "s1".into(),
            event: Event::KillRequested {
                kind: KillKind::Manual
            }
        }]
    );
    let result = world.run(kill);
    assert_eq!(
        result,
        OpResult::Killed(KillReport {
            session: "s1".into(),
            runtime: Fate::Absent,
            workspace: Fate::Absent,
            release_error: None,
        })
    );
    assert!(world.rec("s1").is_terminal());
    assert!(
        world.workspaces.contains_key(&h("/ws/s1")),
        "not the kill's to delete"
    );

    // The spawn's own recovery then frees what it created.
    let result = world.run(spawn);
    world.check(&result);
    assert!(world.workspaces.is_empty() && world.runtimes.is_empty());
    assert_eq!(
        display_status(&world.rec("s1").lifecycle),
        DisplayStatus::Killed
    );
}

#[test]
fn killing_an_unknown_session_is_a_no_op() {
    assert_eq!(plan_kill("k".into(), None, KillKind::Manual), None);
}

#[test]
fn a_kill_that_cannot_be_recorded_destroys_nothing() {
    let s = kill_scenario("kill", false);
    let (world, result) = run_faulted(&s, &[(0, Fault::Fail)]);
    assert_eq!(world.executed, 1);
    let failure = result.failure().unwrap();
    assert_eq!(failure.step, Step::RecordKill);
    assert!(matches!(failure.runtime, Fate::Kept { .. }));
    assert!(matches!(failure.workspace, Fate::Kept { .. }));
    assert!(world.runtimes.contains_key(&h("rt-s1")));
}

// ------------------------------------------- record writes that must land --

/// Runs a scenario with faults like [`run_faulted`], and also checks that
/// `max_steps` never grows and that a stall leaves the op exactly as it was;
/// then checks the world after the op (SPEC §7.7-7.9).
fn run_stalling(s: &Scenario, faults: &[(usize, Fault)]) -> (World, OpResult) {
    let mut world = s.world.clone().with_faults(faults);
    let mut op = s.op.clone();
    loop {
        let (before, stalls) = (op.clone(), world.stalls);
        if !world.step_op(&mut op) {
            break;
        }
        if world.stalls > stalls {
            assert_eq!(op, before, "a stall leaves the op unchanged");
        }
        assert!(op.max_steps() <= before.max_steps(), "{}", world.trace());
    }
    let Next::Done(result) = op.next() else {
        panic!("not done");
    };
    world.check(&result);
    (world, result)
}

/// A spawn with these faults, which must fail after exactly `stalls` stalls.
fn failed_spawn(faults: &[(usize, Fault)], stalls: usize) -> (World, Failure) {
    let (world, result) = run_stalling(&spawn_scenario("spawn", false), faults);
    assert_eq!(world.stalls, stalls, "{}", world.trace());
    let failure = result.failure().cloned().expect("the spawn fails");
    (world, failure)
}

/// (10) A rollback never gives up its errored mark on a failed store write:
/// it asks for the same write again until the store takes it, and ends with
/// the record errored and nothing leaked.
#[test]
fn a_rollback_retries_its_errored_mark_until_the_store_takes_it() {
    // #2 create_runtime fails; the rollback destroys the runtime (#3) and the
    // workspace (#4), then its errored mark fails three times (#5..#7).
    let fail = Fault::Fail;
    let (world, failure) = failed_spawn(&[(2, fail), (5, fail), (6, fail), (7, fail)], 3);
    let marks = world
        .log
        .iter()
        .filter(|l| l.contains("kill_requested(error)"));
    assert_eq!(
        marks.count(),
        4,
        "the same write, asked again\n{}",
        world.trace()
    );
    assert_eq!(failure.step, Step::CreateRuntime);
    assert_eq!(failure.record, RecordFate::Errored);
    assert!(failure.runtime.is_freed() && failure.workspace.is_freed());
    let status = display_status(&world.rec("s1").lifecycle);
    assert_eq!(status, DisplayStatus::Errored);
    assert!(world.runtimes.is_empty() && world.workspaces.is_empty());
}

/// (11) The hand-off of what a rollback could not destroy is retried the same
/// way: the record ends up naming the leftover, so nothing lives on unowned.
#[test]
fn a_rollback_retries_handing_its_leftovers_to_the_record() {
    // #2 create_runtime fails; #3 destroys the runtime; #4 cannot delete the
    // workspace; the adoption (#5, #6) fails twice, then lands (#7); #8 marks it.
    let fail = Fault::Fail;
    let (world, failure) = failed_spawn(&[(2, fail), (4, fail), (5, fail), (6, fail)], 2);
    assert!(matches!(failure.workspace, Fate::Leaked { .. }));
    assert_eq!(failure.record, RecordFate::Errored);
    let rec = world.rec("s1");
    assert_eq!(rec.metadata.workspace_path, Some(h("/ws/s1")), "adopted");
    assert_eq!(display_status(&rec.lifecycle), DisplayStatus::Errored);
    assert!(world.workspaces.contains_key(&h("/ws/s1")));
}

/// A refused record write (the record is gone) still settles: asking again
/// cannot succeed, and the result says the record was not marked.
#[test]
fn a_refused_errored_mark_settles_and_is_reported() {
    let (_, failure) = failed_spawn(&[(2, Fault::Fail), (5, Fault::Refuse)], 0);
    assert!(
        matches!(failure.record, RecordFate::Unmarked(_)),
        "{failure}"
    );
}

/// (12) A restore never starts an agent while the previous one may still run:
/// when the old runtime cannot be stopped, the restore fails before the claim
/// and before creating anything; the session stays terminal, still names the
/// old runtime (for the reaper), and can be restored again later.
#[test]
fn a_restore_that_cannot_stop_the_old_runtime_creates_nothing() {
    let s = restore_beside_old_runtime();
    let before = s.world.rec("s1").clone();
    // #1 stopping the old runtime fails; so does the rollback's second try (#2).
    let (world, result) = run_stalling(&s, &[(1, Fault::Fail), (2, Fault::Fail)]);
    check_outcome(&s, &world, &result);
    let failure = result.failure().unwrap();
    assert_eq!(failure.step, Step::StopPreviousRuntime);
    assert_eq!(failure.record, RecordFate::Unchanged);
    assert!(matches!(failure.runtime, Fate::Leaked { .. }));
    assert!(
        !world
            .log
            .iter()
            .any(|l| l.contains("create_runtime") || l.contains("reopened")),
        "nothing created, nothing claimed\n{}",
        world.trace()
    );
    let rec = world.rec("s1");
    assert_eq!(rec.lifecycle, before.lifecycle, "still terminal, as it was");
    assert_eq!(rec.metadata.runtime_handle, Some(h("rt-s1")));
    assert_eq!(world.runtimes.len(), 1);

    // Once the old runtime can be stopped, a second restore starts exactly one agent.
    let world = restore_again(world);
    assert_eq!(
        world.runtimes.keys().cloned().collect::<Vec<_>>(),
        [h("rt-s1-r2")]
    );
}

/// The seed-623 class: a restore whose claim succeeded but whose rollback
/// could not hand the old runtime back used to finish with that runtime
/// unowned, and the next restore started a second agent. Now the old runtime
/// is stopped before the claim, and every hand-off is retried: whatever the
/// outcomes (with store failures), no two runtimes ever live at once.
#[test]
fn restores_with_failing_writes_never_run_two_agents() {
    let s = restore_beside_old_runtime();
    let n = 8;
    for i in 0..n {
        for j in i..n {
            for fi in FAILURES {
                let (world, result) = run_faulted(&s, &[(i, fi), (j + 1, Fault::Fail)]);
                world.check(&result);
                if !result.is_ok() {
                    let world = restore_again(world);
                    assert_eq!(world.runtimes.len(), 1, "{}", world.trace());
                }
            }
        }
    }
}

// ------------------------------------------------------- racing restores --

/// (6) Two restores planned from the same terminal record, in every
/// interleaving: exactly one reopens, the loser starts no runtime, and there
/// are never two live runtimes for the session.
#[test]
fn racing_restores_start_one_agent() {
    let world = dead_world().ready();
    let a = restore_op(&world, "a");
    let b = restore_op(&world, "b");
    let mut leaves = 0;
    interleave(&world, [a, b], &mut Vec::new(), &mut leaves);
    // The winner takes 5 actions, the loser 4 (restoring the workspace,
    // stopping the old runtime, its failed claim, then handing the kept
    // workspace to the record): 2 winners x (C(9,4) = 126 merges - 45 where
    // the loser would claim first) = 162.
    assert_eq!(leaves, 162);
}

fn interleave(world: &World, ops: [Operation; 2], order: &mut Vec<usize>, leaves: &mut usize) {
    let live = world
        .runtimes
        .values()
        .filter(|s| s.as_str() == "s1")
        .count();
    assert!(
        live <= 1,
        "two live runtimes after {order:?}\n{}",
        world.trace()
    );
    if ops.iter().all(Operation::is_done) {
        *leaves += 1;
        let results: Vec<OpResult> = ops
            .iter()
            .map(|op| match op.next() {
                Next::Done(r) => r,
                Next::Act(_) => unreachable!(),
            })
            .collect();
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "{order:?}: {results:?}");
        for r in &results {
            if let OpResult::Failed(f) = r {
                assert_eq!(f.step, Step::Reopen, "{order:?}");
                assert_eq!(f.runtime, Fate::Absent);
                assert_eq!(f.record, RecordFate::Unchanged);
            }
        }
        world.check(&results[0]);
        let creates = world
            .log
            .iter()
            .filter(|l| l.contains("create_runtime"))
            .count();
        assert_eq!(creates, 1, "{}", world.trace());
        return;
    }
    for who in 0..2 {
        if ops[who].is_done() {
            continue;
        }
        let mut world = world.clone();
        let mut ops = ops.clone();
        world.step_op(&mut ops[who]);
        order.push(who);
        interleave(&world, ops, order, leaves);
        order.pop();
    }
}

/// (6b) Two restores race beside a runtime that may still run, with up to two
/// failures (destroys that fail, writes that fail) anywhere in every
/// interleaving: once both finish, every live runtime is named by the record
/// — no rollback hand-off overwrites what the other restore recorded (the
/// racing-restore leak found by the fuzzer, SPEC §7.8).
#[test]
fn racing_restores_with_failures_leave_no_untracked_runtime() {
    let base = restore_beside_old_runtime().world;
    let mut leaves = 0;
    for i in 0..10 {
        for j in i..10 {
            for fault in [Fault::Fail, Fault::FailAfterEffect] {
                let faults = [(i, fault), (j + 1, Fault::Fail)];
                let world = base.clone().with_faults(&faults);
                let ops = [restore_op(&world, "a"), restore_op(&world, "b")];
                interleave_tracked(&world, ops, &mut leaves);
            }
        }
    }
    assert!(leaves > 10_000, "{leaves}");
}

fn interleave_tracked(world: &World, ops: [Operation; 2], leaves: &mut usize) {
    if ops.iter().all(Operation::is_done) {
        *leaves += 1;
        let rec = world.rec("s1");
        for (handle, session) in &world.runtimes {
            assert!(
                rec.metadata.runtime_handle.as_ref() == Some(handle),
                "runtime {handle} of {session} is not named by the record\n{}",
                world.trace()
            );
        }
        return;
    }
    for who in 0..2 {
        if ops[who].is_done() {
            continue;
        }
        let mut world = world.clone();
        let mut ops = ops.clone();
        world.step_op(&mut ops[who]);
        interleave_tracked(&world, ops, leaves);
    }
}

// ------------------------------------------------------------ validation --

/// (7) Validation errors come before any action: nothing is created.
#[test]
fn spawn_validation_errors_create_nothing() {
    let world = World::new().spawned("taken", "app", SessionKind::Worker);
    type Edit = fn(&mut SpawnRequest);
    let cases: [(&str, Edit); 8] = [
        ("unknown project", |r| r.project = "nope".into()),
        ("no agent", |r| r.project = "bare".into()),
        ("blank launch", |r| r.project = "blank".into()),
        ("template typo", |r| r.project = "typo".into()),
        ("bad branch", |r| r.branch = "fix..it".into()),
        ("empty branch", |r| r.branch = String::new()),
        ("branch with space", |r| r.branch = "fix it".into()),
        ("id in use", |r| r.id = "taken".into()),
    ];
    let mut table = String::new();
    for (name, edit) in cases {
        let mut req = spawn_request("s9");
        edit(&mut req);
        // An `Err` is all a driver gets: there is no operation, so no action can run.
        let err = plan_spawn(req, &world.cfg, |s| world.records.contains_key(s)).unwrap_err();
        table.push_str(&format!("{name:<18} -> {err:?}\n{:<18}    {err}\n", ""));
    }
    insta::assert_snapshot!("spawn_validation", table);
}

#[test]
fn restore_validation_errors_come_before_any_action() {
    let dead = dead_world();
    let live = World::new().spawned("s1", "app", SessionKind::Worker);
    let plan = |rec: Option<&SessionRecord>, cfg: &Config| {
        plan_restore("r".into(), &"s1".into(), rec, cfg, h("rt"), h("/ws"))
    };
    assert_eq!(
        plan(None, &dead.cfg).unwrap_err(),
        SmError::NotFound("s1".into())
    );
    let mut other = dead.rec("s1").clone();
    other.id = "s2".into();
    assert_eq!(
        plan(Some(&other), &dead.cfg).unwrap_err(),
        SmError::NotFound("s1".into())
    );
    assert_eq!(
        plan(Some(live.rec("s1")), &live.cfg).unwrap_err(),
        SmError::NotTerminal("s1".into())
    );
    let mut orphan = dead.rec("s1").clone();
    orphan.project_id = "gone".into();
    assert!(matches!(
        plan(Some(&orphan), &dead.cfg),
        Err(SmError::UnknownProject(_))
    ));
    orphan.project_id = "bare".into();
    assert!(matches!(
        plan(Some(&orphan), &dead.cfg),
        Err(SmError::NoAgent(_))
    ));
}

/// (8) Resume when the agent's session id is known and the agent can resume;
/// otherwise relaunch from the stored prompt; otherwise NotResumable, before any I/O.
#[test]
fn restore_chooses_resume_or_relaunch() {
    let world = dead_world();
    let mut table = String::new();
    for project in ["app", "resume_only", "relaunch_only", "neither"] {
        for agent_session in [Some("abc"), Some("  "), None] {
            for prompt in [PROMPT, ""] {
                let mut rec = world.rec("s1").clone();
                rec.project_id = project.into();
                rec.metadata.agent_session_id = agent_session.map(str::to_owned);
                rec.metadata.prompt = prompt.into();
                let planned = plan_restore(
                    "r".into(),
                    &rec.id,
                    Some(&rec),
                    &world.cfg,
                    h("rt"),
                    h("/ws"),
                );
                let verdict = match planned {
                    Ok(Operation::Restore(op)) => format!("{}: {}", op.mode(), op.command()),
                    Ok(other) => panic!("{other:?}"),
                    Err(e @ SmError::NotResumable { .. }) => e.to_string(),
                    Err(e) => panic!("{e}"),
                };
                let prompt = if prompt.is_empty() {
                    "no prompt"
                } else {
                    "prompt"
                };
                table.push_str(&format!(
                    "{project:<13} {:<13} {prompt:<9} -> {verdict}\n",
                    format!("{agent_session:?}")
                ));
            }
        }
    }
    insta::assert_snapshot!("restore_modes", table);
}

/// A relaunch starts the agent the way spawn did: the stored rules fill
/// `{rules}` again (an agent relaunched without them loses its constraints).
#[test]
fn a_relaunch_keeps_the_rules_the_session_was_spawned_with() {
    const RULED: &str = "agent --prompt {prompt} --rules {rules}";
    let mut world = World::new();
    let ruled = AgentSpec {
        launch: RULED.into(),
        resume: None,
        relaunch: true,
    };
    world
        .cfg
        .projects
        .insert("ruled".into(), project(Some(ruled)));
    let mut req = spawn_request("s1");
    req.project = "ruled".into();
    req.rules = Some("never push to main".into());
    let launched = match plan_spawn(req.clone(), &world.cfg, |_| false).unwrap() {
        Operation::Spawn(op) => op.command().to_owned(),
        other => panic!("{other:?}"),
    };
    assert!(launched.contains("'never push to main'"), "{launched}");
    let world = world.spawned_from(req).died("s1");
    assert_eq!(
        world.rec("s1").metadata.rules.as_deref(),
        Some("never push to main")
    );
    match restore_op(&world, "r1") {
        Operation::Restore(op) => {
            assert_eq!(op.mode(), RestoreMode::Relaunch);
            assert_eq!(op.command(), launched);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_resumed_restore_keeps_the_agent_session_and_clears_the_pr() {
    let s = restore_scenario("resume", dead_world().with_agent_session("s1", "agent-abc"));
    let (world, result) = run_faulted(&s, &[]);
    assert_eq!(
        result,
        OpResult::Restored {
            session: "s1".into(),
            mode: RestoreMode::Resume
        }
    );
    let rec = world.rec("s1");
    assert_eq!(rec.metadata.agent_session_id.as_deref(), Some("agent-abc"));
    assert_eq!(rec.metadata.runtime_handle, Some(h("rt-s1-r1")));
    assert_eq!(
        rec.metadata.workspace_path,
        Some(h("/ws/s1")),
        "the old worktree"
    );
    assert_eq!(rec.lifecycle.pr.reason.as_str(), "cleared_on_restore");
}

#[test]
fn a_restore_after_cleanup_recreates_the_workspace_at_the_given_path() {
    let s = restore_scenario("after cleanup", dead_world().cleaned("s1"));
    let (world, result) = run_faulted(&s, &[]);
    assert!(result.is_ok(), "{result}");
    assert_eq!(
        world.rec("s1").metadata.workspace_path,
        Some(h("/ws/s1-fresh"))
    );
}

// --------------------------------------------------------------- cleanup --

#[test]
fn cleanup_picks_terminal_workers_of_the_project_with_a_workspace_in_id_order() {
    let world = cleanup_world();
    // Records given in reverse order: the plan still goes by id.
    let op = plan_cleanup("c".into(), &"app".into(), world.records.values().rev());
    let Operation::Cleanup(c) = &op else { panic!() };
    let ids: Vec<&str> = c.sessions().map(SessionId::as_str).collect();
    assert_eq!(ids, ["s1", "s2", "s4"]);
    let empty = plan_cleanup("c".into(), &"nobody".into(), world.records.values());
    assert!(empty.is_done());
    assert_eq!(empty.max_steps(), 0);
}

// ------------------------------------------------- exhaustive exploration --

#[derive(Clone, Debug)]
enum Ev {
    Did(Action, Outcome),
    Crashed(Action),
}

impl Ev {
    fn action(&self) -> &Action {
        match self {
            Ev::Did(a, _) | Ev::Crashed(a) => a,
        }
    }
}

/// Walks every sequence of outcomes (and up to `crashes` recoveries): every
/// path ends within `max_steps`, the bound drops on every advance, and `check`
/// holds for the path and its result.
fn explore(
    op: &Operation,
    crashes: usize,
    budget: usize,
    path: &mut Vec<Ev>,
    leaves: &mut usize,
    check: &dyn Fn(&[Ev], &OpResult),
) {
    match op.next() {
        Next::Done(result) => {
            *leaves += 1;
            let did = path.iter().filter(|e| matches!(e, Ev::Did(..))).count();
            assert!(did <= budget, "{did} actions > {budget}: {path:#?}");
            check(path, &result);
        }
        Next::Act(action) => {
            let bound = op.max_steps();
            assert!(bound > 0);
            for outcome in [
                Outcome::Ok,
                Outcome::Failed("x".into()),
                Outcome::Refused("y".into()),
                Outcome::Foreign("z".into()),
            ] {
                let mut next = op.clone();
                if next.advance(outcome.clone()) == Progress::Stalled {
                    // A self-loop: the same op asks for the same action again.
                    assert_eq!(&next, op, "{action} -> {outcome}: a stall changed the op");
                    continue;
                }
                assert!(next.max_steps() < bound, "{action} -> {outcome}");
                path.push(Ev::Did(action.clone(), outcome));
                explore(&next, crashes, budget, path, leaves, check);
                path.pop();
            }
            if crashes > 0 {
                let recovered = op.clone().recover();
                assert!(recovered.max_steps() <= bound);
                path.push(Ev::Crashed(action));
                explore(&recovered, crashes - 1, budget, path, leaves, check);
                path.pop();
            }
        }
    }
}

fn explore_all(op: &Operation, crashes: usize, check: &dyn Fn(&[Ev], &OpResult)) -> usize {
    let mut leaves = 0;
    explore(
        op,
        crashes,
        op.max_steps(),
        &mut Vec::new(),
        &mut leaves,
        check,
    );
    leaves
}

/// SPEC §7.22 along one path: a name a create found taken (`Foreign`) is
/// never destroyed afterwards and never handed to the record.
fn never_takes_what_is_not_ours(path: &[Ev]) {
    let mut taken: Vec<Handle> = Vec::new();
    for e in path {
        match e {
            Ev::Did(Action::CreateRuntime { handle, .. }, Outcome::Foreign(_)) => {
                taken.push(handle.clone());
            }
            Ev::Did(
                Action::CreateWorkspace { path: p, .. } | Action::RestoreWorkspace { path: p, .. },
                Outcome::Foreign(_),
            ) => taken.push(p.clone()),
            _ => {}
        }
        let named: Vec<&Handle> = match e.action() {
            Action::DestroyRuntime { handle, .. } => vec![handle],
            Action::DestroyWorkspace { path: p, .. } => vec![p],
            Action::Reduce {
                event: Event::SpawnCompleted(h),
                ..
            } => vec![&h.runtime_handle, &h.workspace_path],
            Action::Reduce {
                event:
                    Event::Adopted {
                        runtime_handle,
                        workspace_path,
                    },
                ..
            } => runtime_handle.iter().chain(workspace_path).collect(),
            _ => Vec::new(),
        };
        for h in named {
            assert!(
                !taken.contains(h),
                "{h} was found taken by something not ours, then touched: {path:#?}"
            );
        }
    }
}

fn is_kill_error(a: &Action) -> bool {
    matches!(
        a,
        Action::Reduce {
            event: Event::KillRequested {
                kind: KillKind::Error
            },
            ..
        }
    )
}

#[test]
fn spawn_every_outcome_path() {
    let s = spawn_scenario("spawn", false);
    let leaves = explore_all(&s.op, 2, &|path, result| {
        // Refused or failed seed: the record is not ours (or not there): touch nothing.
        if let Some(Ev::Did(Action::SeedRecord(_), o)) = path.first() {
            if *o != Outcome::Ok {
                assert_eq!(path.len(), 1, "{path:#?}");
            }
        }
        for e in path {
            match e.action() {
                Action::DestroyRuntime { handle, .. } => assert_eq!(handle, &h("rt-s1")),
                Action::DestroyWorkspace { path, .. } => assert_eq!(path, &h("/ws/s1")),
                _ => {}
            }
        }
        let all_ok = path.iter().all(|e| matches!(e, Ev::Did(_, Outcome::Ok)));
        assert_eq!(result.is_ok(), all_ok, "{path:#?}");
        if !all_ok
            && path.iter().any(|e| {
                matches!(
                    e,
                    Ev::Did(Action::SeedRecord(_), Outcome::Ok) | Ev::Crashed(_)
                )
            })
        {
            assert!(path.iter().any(|e| is_kill_error(e.action())), "{path:#?}");
        }
        never_takes_what_is_not_ours(path);
        // A runtime that may exist is always destroyed before giving up.
        let created = path.iter().position(|e| {
            matches!(
                e,
                Ev::Did(
                    Action::CreateRuntime { .. },
                    Outcome::Ok | Outcome::Failed(_)
                ) | Ev::Crashed(Action::CreateRuntime { .. })
            )
        });
        if let (Some(at), false) = (created, all_ok) {
            assert!(
                path[at..]
                    .iter()
                    .any(|e| matches!(e.action(), Action::DestroyRuntime { .. })),
                "{path:#?}"
            );
        }
    });
    assert!(leaves > 100, "{leaves}");
}

#[test]
fn restore_every_outcome_path() {
    let s = restore_scenario("restore", dead_world());
    let leaves = explore_all(&s.op, 2, &|path, result| {
        let mut claimed = false;
        for (i, e) in path.iter().enumerate() {
            match e {
                Ev::Did(Action::DestroyWorkspace { .. }, _)
                | Ev::Crashed(Action::DestroyWorkspace { .. }) => {
                    panic!("a restore never deletes the workspace: {path:#?}")
                }
                Ev::Did(
                    Action::Reduce {
                        event: Event::Reopened { .. },
                        ..
                    },
                    o,
                ) => {
                    if *o == Outcome::Ok {
                        claimed = true;
                    } else {
                        // Lost the claim: nothing but handing the kept workspace to
                        // the record; above all no kill of the winner.
                        assert!(
                            path[i + 1..].iter().all(|e| matches!(
                                e.action(),
                                Action::Reduce {
                                    event: Event::Adopted {
                                        runtime_handle: None,
                                        ..
                                    },
                                    ..
                                }
                            )),
                            "{path:#?}"
                        );
                    }
                }
                _ => {}
            }
            if matches!(e.action(), Action::CreateRuntime { .. }) {
                assert!(claimed, "a runtime before the claim: {path:#?}");
            }
        }
        // A previous runtime whose name now holds something else is gone: not a failure.
        let all_ok = path.iter().all(|e| {
            matches!(
                e,
                Ev::Did(_, Outcome::Ok)
                    | Ev::Did(Action::DestroyRuntime { .. }, Outcome::Foreign(_))
            )
        });
        assert_eq!(result.is_ok(), all_ok);
        never_takes_what_is_not_ours(path);
        if let OpResult::Failed(f) = result {
            // Kept, or left alone when its path holds something that is not ours.
            let foreign_path = path.iter().any(|e| {
                matches!(
                    e,
                    Ev::Did(Action::RestoreWorkspace { .. }, Outcome::Foreign(_))
                )
            });
            match &f.workspace {
                Fate::Kept { .. } => assert!(!foreign_path, "{path:#?}"),
                Fate::Foreign { .. } => assert!(foreign_path, "{path:#?}"),
                other => panic!("a restore's workspace ends {other}: {path:#?}"),
            }
            if claimed {
                assert!(path.iter().any(|e| is_kill_error(e.action())), "{path:#?}");
            }
        }
    });
    assert!(leaves > 100, "{leaves}");
}

#[test]
fn kill_every_outcome_path() {
    let s = kill_scenario("kill", false);
    let leaves = explore_all(&s.op, 2, &|path, result| {
        let mut recorded = false;
        let mut runtime_ok = false;
        for e in path {
            match e {
                Ev::Did(
                    Action::Reduce {
                        event: Event::KillRequested { .. },
                        ..
                    },
                    Outcome::Ok,
                ) => {
                    recorded = true;
                }
                // Foreign: the name holds something else, so our agent is not there.
                Ev::Did(Action::DestroyRuntime { .. }, o) => {
                    runtime_ok = matches!(o, Outcome::Ok | Outcome::Foreign(_));
                }
                _ => {}
            }
            match e.action() {
                Action::DestroyRuntime { .. } => {
                    assert!(recorded, "destroy before the kill is recorded: {path:#?}")
                }
                Action::DestroyWorkspace { .. } => {
                    assert!(
                        recorded && runtime_ok,
                        "workspace deleted while its runtime may run: {path:#?}"
                    )
                }
                _ => {}
            }
        }
        match result {
            OpResult::Killed(_) => assert!(recorded),
            OpResult::Failed(f) => {
                assert_eq!(f.step, Step::RecordKill);
                assert!(!recorded);
            }
            other => panic!("{other}"),
        }
    });
    assert!(leaves > 20, "{leaves}");
}

#[test]
fn cleanup_every_outcome_path() {
    // Two items keep the walk small: s1 (runtime + workspace) and s2.
    let world = World::new()
        .spawned("s1", "app", SessionKind::Worker)
        .died("s1")
        .spawned("s2", "app", SessionKind::Worker)
        .terminated("s2")
        .spawned("s3", "app", SessionKind::Worker);
    let op = plan_cleanup("c".into(), &"app".into(), world.records.values());
    let leaves = explore_all(&op, 1, &|path, result| {
        for e in path {
            assert_ne!(
                e.action().session().as_str(),
                "s3",
                "a live session was touched"
            );
        }
        let OpResult::Cleaned(r) = result else {
            panic!("{result}")
        };
        assert_eq!(r.cleaned.len() + r.skipped.len(), 2, "{r:?}");
    });
    assert!(leaves > 100, "{leaves}");
}

// ------------------------------------------------------------ the intent --

/// (9) Every op, at every step, is its own intent: it round-trips through JSON
/// (checked in `step_op`) and YAML, and stays readable.
#[test]
fn intents_round_trip_through_yaml_too() {
    for s in scenarios() {
        let mut op = s.op.clone();
        let mut world = s.world.clone();
        loop {
            let yaml = serde_yaml::to_string(&op).unwrap();
            let back: Operation = serde_yaml::from_str(&yaml).unwrap();
            assert_eq!(back, op, "{}:\n{yaml}", s.name);
            if !world.step_op(&mut op) {
                break;
            }
        }
    }
}

#[test]
fn a_finished_op_ignores_further_outcomes() {
    let s = kill_scenario("kill", false);
    let mut world = s.world.clone();
    let mut op = s.op.clone();
    while world.step_op(&mut op) {}
    let Next::Done(result) = op.next() else {
        panic!("not done")
    };
    let before = op.clone();
    assert_eq!(
        op.advance(Outcome::Failed("late".into())),
        Progress::Stalled
    );
    assert_eq!(op, before);
    assert_eq!(op.next(), Next::Done(result));
    assert_eq!(op.clone().recover(), op);
    assert_eq!(op.kind(), OpKind::Kill);
    assert_eq!(op.id(), &OpId::from("kill-s1"));
    assert_eq!(op.session(), Some(&SessionId::from("s1")));
}
