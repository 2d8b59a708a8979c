//! The simulation engine: a virtual clock and an event queue drive a model of
//! the daemon (the core's step, effects run in order, session-manager
//! operations with write-ahead intents, observers, crash and restart) against
//! the world of fakes. Every invariant is checked after every step and event.

mod expect;
pub mod trace;
pub mod world;

use crate::rng::Rng;
use crate::scenario::{
    ActionKind, FaultKind, ForeignChange, ProcessChange, RaceFact, Scenario, StepAction,
    WorkspaceChange,
};
use ao_core::config::Config;
use ao_core::domain::*;
use ao_core::invariants::{
    check_step, check_world, handed_to_record, LiveRuntime, OpProgress, StepView, WorkspaceView,
    WorldView,
};
use ao_core::lcm::{
    self, ActivitySignal, Effect, Event, Input, PrFacts, RuntimeObservation, ScmObservation,
};
use ao_core::sm::{self, Action, Next, OpId, OpResult, Operation, Outcome, Progress};
use ao_core::time::{Duration, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;
use trace::{Trace, TraceLine};
use world::{Agent, Delivered, Process, Runtime, ScriptedFault, Workspace, World};

/// How to run a scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Override the scenario's seed.
    pub seed: Option<u64>,
    /// Run a core with this defect planted (a counterexample's replay).
    pub defect: Option<ao_core::defects::Defect>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Verdict {
    /// Every invariant held and every expectation was met.
    Pass,
    /// Some expectations were not met.
    Failed {
        /// What was expected and what was seen.
        failures: Vec<String>,
    },
    /// An invariant broke; the run stopped there.
    Violation {
        /// The property and what was seen.
        violation: String,
    },
}

/// The result of one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Scenario name.
    pub name: String,
    /// Seed used.
    pub seed: u64,
    /// Outcome.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Core steps taken.
    pub steps: u64,
    /// Virtual time at the end.
    pub end: Timestamp,
    /// Trace fingerprint (equal runs, equal fingerprints).
    pub fingerprint: String,
    /// What the run reached.
    pub coverage: Coverage,
    /// The timeline.
    #[serde(skip)]
    pub trace: Vec<TraceLine>,
}

impl RunReport {
    /// Every invariant held and every expectation was met.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}

/// Display statuses and reactions a run reached (for library coverage checks).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Display statuses some session showed after some step.
    pub statuses: std::collections::BTreeSet<DisplayStatus>,
    /// Reactions that fired (a send or a notification).
    pub reactions: std::collections::BTreeSet<ReactionKey>,
    /// Reactions that escalated.
    pub escalations: std::collections::BTreeSet<ReactionKey>,
}

/// A human command waiting for its sessions to be free.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Command {
    Spawn(SessionId),
    Kill(SessionId, KillKind),
    Restore(SessionId),
    Cleanup(ProjectId),
    /// Two drivers restore at once: they bypass each other's lock, but not an
    /// operation of another kind already running on the session (the core
    /// arbitrates racing restores only; see the SM module docs).
    RacingRestores(SessionId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Script(usize),
    Reaper,
    Scm,
    Tick,
    AgentStart {
        session: SessionId,
        handle: Handle,
    },
    AgentSignal {
        session: SessionId,
        handle: Handle,
        state: ActivityState,
    },
    OpAction {
        epoch: u64,
        op: OpId,
    },
    Restart,
    DeliveryFailed {
        session: SessionId,
        reaction: ReactionKey,
    },
    Check(usize),
}

/// An operation the daemon runs: `steps` counts its advances that took
/// effect (a stalled retry is not a step), `bound` is its `max_steps` at the
/// start (or at recovery), for SPEC §7.19.
#[derive(Clone, Debug)]
struct Running {
    op: Operation,
    steps: usize,
    bound: usize,
}

#[derive(Clone, Debug, Default)]
struct Daemon {
    up: bool,
    epoch: u64,
    ops: BTreeMap<OpId, Running>,
    op_counter: u64,
}

/// What feeding one input achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fed {
    Written,
    Unchanged,
    Unknown,
    Rejected(String),
    StoreFailed,
    Conflict,
    Stopped,
}

struct Sim<'s> {
    sc: &'s Scenario,
    cfg: Config,
    seed: u64,
    rng: Rng,
    now: Timestamp,
    until: Timestamp,
    queue: BTreeMap<(Timestamp, u8, u64), Ev>,
    seq: u64,
    world: World,
    daemon: Daemon,
    results: BTreeMap<SessionId, Vec<String>>,
    cleanup_skipped: Vec<SessionId>,
    trace: Trace,
    steps: u64,
    violation: Option<String>,
    failures: Vec<String>,
    coverage: Coverage,
    /// Commands waiting for a session with an operation in flight (one per session at a time).
    pending: std::collections::VecDeque<Command>,
}

/// Runs one scenario to its end (or its first invariant violation).
pub fn run(sc: &Scenario, opts: &RunOptions) -> RunReport {
    let mut sim = Sim::new(sc, opts);
    sim.run();
    let verdict = match (&sim.violation, sim.failures.is_empty()) {
        (Some(v), _) => Verdict::Violation {
            violation: v.clone(),
        },
        (None, true) => Verdict::Pass,
        (None, false) => Verdict::Failed {
            failures: sim.failures.clone(),
        },
    };
    RunReport {
        name: sc.name.clone(),
        seed: sim.seed,
        verdict,
        steps: sim.steps,
        end: sim.now,
        fingerprint: sim.trace.fingerprint(),
        coverage: std::mem::take(&mut sim.coverage),
        trace: std::mem::take(&mut sim.trace.lines),
    }
}

/// Resolves a scenario's config: its overrides, plus a default agent for every
/// project its sessions use that the config does not declare.
pub fn scenario_config(sc: &Scenario) -> Result<Config, ao_core::config::ConfigError> {
    let mut overrides = sc.config.clone();
    for s in &sc.sessions {
        let project = overrides
            .projects
            .entry(ProjectId(s.project.clone()))
            .or_default();
        if project.agent.is_none() {
            project.agent = Some(ao_core::config::AgentSpec {
                launch: "fake-agent --prompt {prompt}".into(),
                resume: Some("fake-agent --resume {agent_session_id}".into()),
                relaunch: true,
            });
        }
    }
    Config::resolve(&overrides)
}

impl<'s> Sim<'s> {
    fn new(sc: &'s Scenario, opts: &RunOptions) -> Sim<'s> {
        let seed = opts.seed.unwrap_or(sc.seed);
        let mut cfg = scenario_config(sc).unwrap_or_default();
        cfg.thresholds.defect = opts.defect;
        let last = sc.steps.iter().map(|s| s.at).max().unwrap_or_default();
        let until = sc
            .until
            .map(|d| Timestamp(d.as_millis()))
            .unwrap_or(Timestamp(last.as_millis()).plus(Duration::mins(10)));
        let mut world = World::default();
        for s in &sc.sessions {
            world.agents.insert(
                SessionId(s.id.clone()),
                Agent {
                    spec: s.clone(),
                    busy: s.agent.busy,
                },
            );
        }
        let mut sim = Sim {
            sc,
            cfg,
            seed,
            rng: Rng::new(seed),
            now: Timestamp(0),
            until,
            queue: BTreeMap::new(),
            seq: 0,
            world,
            daemon: Daemon {
                up: true,
                ..Daemon::default()
            },
            results: BTreeMap::new(),
            cleanup_skipped: Vec::new(),
            trace: Trace::default(),
            steps: 0,
            violation: None,
            failures: Vec::new(),
            coverage: Coverage::default(),
            pending: std::collections::VecDeque::new(),
        };
        for (i, step) in sc.steps.iter().enumerate() {
            sim.schedule_at(Timestamp(step.at.as_millis()), 0, Ev::Script(i));
        }
        for (i, e) in sc.expect.iter().enumerate() {
            if let Some(at) = e.at {
                sim.schedule_at(Timestamp(at.as_millis()), 1, Ev::Check(i));
            }
        }
        let t = sim.cfg.thresholds.clone();
        if sc.observers.reaper {
            sim.schedule_at(Timestamp(0).plus(t.reaper_interval), 0, Ev::Reaper);
        }
        if sc.observers.scm {
            sim.schedule_at(Timestamp(0).plus(t.scm_interval), 0, Ev::Scm);
        }
        if sc.observers.ticks {
            sim.schedule_at(Timestamp(0).plus(t.tick_interval), 0, Ev::Tick);
        }
        sim
    }

    fn schedule_at(&mut self, at: Timestamp, priority: u8, ev: Ev) {
        self.seq += 1;
        self.queue.insert((at, priority, self.seq), ev);
    }

    fn schedule_in(&mut self, after: Duration, ev: Ev) {
        let at = self.now.plus(after);
        self.schedule_at(at, 0, ev);
    }

    fn run(&mut self) {
        while let Some(((at, _, _), ev)) = self.queue.pop_first() {
            if at > self.until || self.violation.is_some() {
                break;
            }
            self.now = at;
            self.handle(ev);
            if self.violation.is_none() {
                self.check_world();
            }
        }
        if self.violation.is_none() {
            self.now = self.now.max(self.until);
            for i in 0..self.sc.expect.len() {
                if self.sc.expect[i].r#final {
                    self.check_expectation(i);
                }
            }
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Script(i) => self.script(i),
            Ev::Reaper => {
                self.reaper_pass();
                let next = self.cfg.thresholds.reaper_interval;
                self.schedule_in(next, Ev::Reaper);
            }
            Ev::Scm => {
                self.scm_pass();
                let next = self.cfg.thresholds.scm_interval;
                self.schedule_in(next, Ev::Scm);
            }
            Ev::Tick => {
                self.tick_pass("tick");
                let next = self.cfg.thresholds.tick_interval;
                self.schedule_in(next, Ev::Tick);
            }
            Ev::AgentStart { session, handle } => self.agent_start(&session, &handle),
            Ev::AgentSignal {
                session,
                handle,
                state,
            } => {
                let running = self
                    .world
                    .runtimes
                    .get(&handle)
                    .is_some_and(|rt| rt.process == Process::Running);
                if running {
                    self.hook_signal(&session, state);
                }
            }
            Ev::OpAction { epoch, op } => self.op_action(epoch, &op),
            Ev::Restart => self.restart(),
            Ev::DeliveryFailed { session, reaction } => {
                if self.daemon.up {
                    self.feed(
                        &session,
                        Event::DeliveryFailed { reaction },
                        "daemon",
                        format!("delivery of {reaction} failed"),
                    );
                }
            }
            Ev::Check(i) => self.check_expectation(i),
        }
    }

    // ---- tracing -------------------------------------------------------

    fn note(&mut self, session: &str, origin: &'static str, what: String) {
        self.trace.push(TraceLine {
            at: self.now,
            session: session.to_owned(),
            origin,
            what,
            status: String::new(),
            effects: String::new(),
        });
    }

    // ---- feeding the core ----------------------------------------------

    fn status_of(&self, id: &SessionId) -> String {
        self.world
            .store
            .records
            .get(id)
            .map(|r| display_status(&r.lifecycle).to_string())
            .unwrap_or_default()
    }

    /// Feeds one input to the core and runs its effects in order.
    fn feed(&mut self, id: &SessionId, event: Event, origin: &'static str, what: String) -> Fed {
        if self.violation.is_some() {
            return Fed::Stopped;
        }
        let Some(before) = self.world.store.records.get(id).cloned() else {
            self.note(
                id.as_str(),
                origin,
                format!("{what}: no such session (counted no-op)"),
            );
            return Fed::Unknown;
        };
        let input = Input {
            session: id.clone(),
            at: self.now,
            event,
        };
        self.decide_and_commit(&before, &input, origin, what)
    }

    fn decide_and_commit(
        &mut self,
        before: &SessionRecord,
        input: &Input,
        origin: &'static str,
        what: String,
    ) -> Fed {
        self.steps += 1;
        let id = &input.session;
        let decision = match lcm::step(before, input, &self.cfg) {
            Ok(d) => d,
            Err(e) => {
                self.note(id.as_str(), origin, format!("{what}: rejected: {e}"));
                return Fed::Rejected(e.to_string());
            }
        };
        let mut after = before.clone();
        if let Some(p) = decision.patch() {
            if let Err(e) = after.apply(p) {
                self.violation = Some(format!(
                    "a fresh patch did not apply to the record it was decided on: {e}"
                ));
                return Fed::Stopped;
            }
        }
        let view = StepView {
            cfg: &self.cfg,
            before,
            input,
            decision: &decision,
            after: &after,
        };
        if let Err(v) = check_step(&view) {
            self.note(
                id.as_str(),
                origin,
                format!("{what}: INVARIANT VIOLATED: {v}"),
            );
            self.violation = Some(format!("{v} (at {}, {what})", trace::format_time(self.now)));
            return Fed::Stopped;
        }
        let mut summary = Vec::new();
        let mut fed = Fed::Unchanged;
        for effect in &decision.effects {
            match effect {
                Effect::Persist(p) => {
                    if self.fault(
                        FaultKind::StoreFails,
                        Some(id),
                        None,
                        self.sc.faults.store_fail,
                    ) {
                        summary.push("STORE WRITE FAILED: effects dropped".to_owned());
                        fed = Fed::StoreFailed;
                        break;
                    }
                    let Some(stored) = self.world.store.records.get_mut(id) else {
                        summary.push("record vanished".to_owned());
                        fed = Fed::Rejected("record vanished".into());
                        break;
                    };
                    if let Err(stale) = stored.apply(p) {
                        self.world.store.conflicts += 1;
                        summary.push(format!("REVISION CONFLICT ({stale}): nothing applied"));
                        fed = Fed::Conflict;
                        break;
                    }
                    summary.push(format!("persist[{}]", patch_fields(p)));
                    fed = Fed::Written;
                }
                Effect::SendToAgent {
                    session,
                    reaction,
                    message,
                } => {
                    self.coverage.reactions.insert(*reaction);
                    if self.deliver(session, Some(*reaction), message) {
                        summary.push(format!("send {reaction}"));
                    } else {
                        summary.push(format!("send {reaction} FAILED"));
                        self.schedule_in(
                            Duration(0),
                            Ev::DeliveryFailed {
                                session: session.clone(),
                                reaction: *reaction,
                            },
                        );
                    }
                }
                Effect::Notify(n) => {
                    match n.kind {
                        lcm::NotificationKind::Reaction => {
                            self.coverage.reactions.insert(n.reaction)
                        }
                        lcm::NotificationKind::Escalated => {
                            self.coverage.escalations.insert(n.reaction)
                        }
                    };
                    let label = notification_label(n);
                    if self.fault(
                        FaultKind::NotifyFails,
                        Some(id),
                        None,
                        self.sc.faults.notify_fail,
                    ) {
                        summary.push(format!("notify {label} FAILED"));
                    } else {
                        summary.push(format!("notify {label} ({})", n.priority));
                        self.world
                            .notified
                            .entry(n.session.clone())
                            .or_default()
                            .push(n.clone());
                    }
                }
            }
        }
        if let Some(r) = self.world.store.records.get(id) {
            self.coverage.statuses.insert(display_status(&r.lifecycle));
        }
        let quiet_observer =
            matches!(origin, "reaper" | "scm" | "tick") && decision.effects.is_empty();
        if !quiet_observer {
            let status = self.status_of(id);
            self.trace.push(TraceLine {
                at: self.now,
                session: id.to_string(),
                origin,
                what,
                status,
                effects: summary.join("; "),
            });
        }
        fed
    }

    /// Draws a fault: a scripted one first, else the random rate.
    fn fault(
        &mut self,
        kind: FaultKind,
        session: Option<&SessionId>,
        action: Option<ActionKind>,
        rate: f64,
    ) -> bool {
        self.world.take_fault(kind, session, action) || self.rng.chance(rate)
    }

    /// Delivers a message into the agent's input; false if it could not be delivered.
    fn deliver(&mut self, id: &SessionId, reaction: Option<ReactionKey>, message: &str) -> bool {
        let busy = self.world.agents.get(id).is_some_and(|a| a.busy);
        let handle = self
            .world
            .store
            .records
            .get(id)
            .and_then(|r| r.metadata.runtime_handle.clone());
        let reachable = handle
            .and_then(|h| self.world.runtimes.get(&h))
            .is_some_and(|rt| matches!(rt.process, Process::Running | Process::Starting));
        if busy
            || !reachable
            || self.fault(
                FaultKind::DeliveryFails,
                Some(id),
                None,
                self.sc.faults.delivery_fail,
            )
        {
            return false;
        }
        self.world
            .delivered
            .entry(id.clone())
            .or_default()
            .push(Delivered {
                reaction,
                message: message.to_owned(),
            });
        true
    }

    // ---- the fake agent ------------------------------------------------

    fn agent_start(&mut self, id: &SessionId, handle: &Handle) {
        let Some(rt) = self.world.runtimes.get_mut(handle) else {
            return;
        };
        if rt.process != Process::Starting {
            return;
        }
        rt.process = Process::Running;
        self.note(
            id.as_str(),
            "world",
            format!("agent process started in {handle}"),
        );
        let Some(agent) = self.world.agents.get(id).cloned() else {
            return;
        };
        if agent.spec.agent.resumable && self.daemon.up {
            self.feed(
                id,
                Event::AgentIdentified {
                    agent_session_id: format!("agent-{id}"),
                },
                "hook",
                "agent reports its session id".into(),
            );
        }
        if let Some(after) = agent.spec.agent.ack_after {
            self.schedule_in(
                after,
                Ev::AgentSignal {
                    session: id.clone(),
                    handle: handle.clone(),
                    state: ActivityState::Active,
                },
            );
        }
    }

    /// An activity signal from the agent's hooks (if it has hooks), subject to faults.
    fn hook_signal(&mut self, id: &SessionId, state: ActivityState) {
        let hooks = self
            .world
            .agents
            .get(id)
            .is_some_and(|a| a.spec.agent.ack_after.is_some());
        if !hooks || !self.daemon.up {
            return;
        }
        if self.fault(
            FaultKind::SignalLost,
            Some(id),
            None,
            self.sc.faults.signal_lost,
        ) {
            self.note(id.as_str(), "hook", format!("activity {state} lost"));
            return;
        }
        let confidence = if self.rng.chance(self.sc.faults.signal_stale) {
            Confidence::Stale
        } else {
            Confidence::Valid
        };
        let signal = ActivitySignal {
            state,
            confidence,
            source: ActivitySource::Hook,
        };
        self.feed(
            id,
            Event::Activity(signal),
            "hook",
            format!("activity {state} ({confidence})"),
        );
    }

    // ---- observers -----------------------------------------------------

    fn reaper_pass(&mut self) {
        if !self.daemon.up {
            return;
        }
        let targets = lcm::reaper_targets(self.world.store.records.values());
        for target in targets {
            match target {
                lcm::ReaperTarget::Probe(id) => {
                    let handle = self
                        .world
                        .store
                        .records
                        .get(&id)
                        .and_then(|r| r.metadata.runtime_handle.clone());
                    let (mut runtime, mut process) = self.world.probe(handle.as_ref());
                    if self.fault(
                        FaultKind::ProbeFails,
                        Some(&id),
                        None,
                        self.sc.faults.probe_fail,
                    ) {
                        (runtime, process) = (Probe::Failed, Probe::Failed);
                    }
                    let obs = RuntimeObservation { runtime, process };
                    self.feed(
                        &id,
                        Event::Runtime(obs),
                        "reaper",
                        format!("probe runtime={runtime} process={process}"),
                    );
                }
                lcm::ReaperTarget::Reclaim(id) => {
                    let Some(handle) = self
                        .world
                        .store
                        .records
                        .get(&id)
                        .and_then(|r| r.metadata.runtime_handle.clone())
                    else {
                        continue;
                    };
                    self.world.runtimes.remove(&handle);
                    self.feed(
                        &id,
                        Event::Released {
                            runtime: true,
                            workspace: false,
                        },
                        "reaper",
                        format!("reclaimed runtime {handle}"),
                    );
                }
            }
        }
    }

    fn scm_pass(&mut self) {
        if !self.daemon.up {
            return;
        }
        for id in lcm::scm_targets(self.world.store.records.values()) {
            if self.fault(
                FaultKind::FetchFails,
                Some(&id),
                None,
                self.sc.faults.fetch_fail,
            ) {
                self.feed(
                    &id,
                    Event::Scm(ScmObservation::FetchFailed),
                    "scm",
                    "fetch failed".into(),
                );
                continue;
            }
            let facts = match self.world.prs.get(&id) {
                Some(spec) => world::pr_facts(spec),
                None => PrFacts {
                    state: PrState::None,
                    number: None,
                    ..PrFacts::open(0)
                },
            };
            let what = describe_pr(&facts);
            self.feed(&id, Event::Scm(ScmObservation::Fetched(facts)), "scm", what);
        }
    }

    fn tick_pass(&mut self, origin: &'static str) {
        if !self.daemon.up {
            return;
        }
        let ids: Vec<SessionId> = self
            .world
            .store
            .records
            .values()
            .filter(|r| !r.is_terminal())
            .map(|r| r.id.clone())
            .collect();
        for id in ids {
            self.feed(&id, Event::Tick, origin, "tick".into());
        }
    }

    // ---- scripted steps ------------------------------------------------

    fn sid(s: &crate::scenario::SessionRef) -> SessionId {
        SessionId(s.0.clone())
    }

    fn script(&mut self, i: usize) {
        let action = self.sc.steps[i].action.clone();
        let human = matches!(
            action,
            StepAction::Spawn(_)
                | StepAction::Kill(_)
                | StepAction::Restore(_)
                | StepAction::Cleanup(_)
                | StepAction::Send(_)
        );
        let fact = matches!(
            action,
            StepAction::Activity(_)
                | StepAction::Probe(_)
                | StepAction::Scm(_)
                | StepAction::Tick(_)
                | StepAction::Race(_)
        );
        if (human || fact) && !self.daemon.up {
            self.note(
                "-",
                "script",
                format!("{}: the daemon is down (lost)", action.key()),
            );
            return;
        }
        match action {
            StepAction::Spawn(s) => self.command(Command::Spawn(Self::sid(&s))),
            StepAction::Kill(k) => self.command(Command::Kill(Self::sid(&k.session), k.kind)),
            StepAction::Restore(s) => self.command(Command::Restore(Self::sid(&s))),
            StepAction::Cleanup(p) => self.command(Command::Cleanup(ProjectId(p.0.clone()))),
            StepAction::Send(s) => {
                let id = Self::sid(&s.session);
                let ok = self.deliver(&id, None, &s.message);
                self.note(
                    id.as_str(),
                    "human",
                    format!(
                        "send {:?}: {}",
                        s.message,
                        if ok { "delivered" } else { "FAILED" }
                    ),
                );
            }
            StepAction::Activity(f) => {
                let signal = ActivitySignal {
                    state: f.state,
                    confidence: f.confidence,
                    source: f.source,
                };
                let what = format!("activity {} ({}, {})", f.state, f.confidence, f.source);
                self.feed(
                    &Self::sid(&f.session),
                    Event::Activity(signal),
                    "script",
                    what,
                );
            }
            StepAction::Probe(f) => {
                let obs = RuntimeObservation {
                    runtime: f.runtime,
                    process: f.process,
                };
                self.feed(
                    &Self::sid(&f.session),
                    Event::Runtime(obs),
                    "script",
                    format!("probe runtime={} process={}", f.runtime, f.process),
                );
            }
            StepAction::Scm(f) => {
                let (event, what) = scm_event(&f);
                self.feed(&Self::sid(&f.session), event, "script", what);
            }
            StepAction::Tick(_) => self.tick_pass("script"),
            StepAction::World(w) => self.world_change(&w),
            StepAction::Fault(f) => {
                self.world.faults.push(ScriptedFault {
                    kind: f.kind,
                    session: f.session.as_ref().map(Self::sid),
                    action: f.action,
                    remaining: f.times,
                });
                self.note(
                    f.session.as_ref().map_or("-", |s| s.as_str()),
                    "script",
                    format!("fault armed: {:?} x{}", f.kind, f.times),
                );
            }
            StepAction::Crash(c) => self.crash(c.restart_after),
            StepAction::Race(r) => self.race(&r.first, &r.second),
        }
    }

    fn world_change(&mut self, w: &crate::scenario::WorldChange) {
        let id = Self::sid(&w.session);
        let handles: Vec<Handle> = self
            .world
            .runtimes_of(&id)
            .map(|(h, _)| h.clone())
            .collect();
        if let Some(change) = w.process {
            let to = match change {
                ProcessChange::Exit => Process::Exited,
                ProcessChange::Hang => Process::Hung,
                ProcessChange::Run => Process::Running,
            };
            for h in &handles {
                if let Some(rt) = self.world.runtimes.get_mut(h) {
                    rt.process = to;
                }
            }
            self.note(
                id.as_str(),
                "world",
                format!("agent process: {change:?} ({} runtime(s))", handles.len()),
            );
            if change == ProcessChange::Exit && !handles.is_empty() {
                self.hook_signal(&id, ActivityState::Exited);
            }
        }
        if w.runtime_lost {
            for h in &handles {
                self.world.runtimes.remove(h);
            }
            self.note(
                id.as_str(),
                "world",
                format!("runtime lost ({} runtime(s))", handles.len()),
            );
        }
        if let Some(ws) = w.workspace {
            let dirty = ws == WorkspaceChange::Dirty;
            let mut n = 0;
            for w in self
                .world
                .workspaces
                .values_mut()
                .filter(|w| w.session == id)
            {
                w.dirty = dirty;
                n += 1;
            }
            self.note(
                id.as_str(),
                "world",
                format!("workspace {ws:?} ({n} workspace(s))"),
            );
        }
        if let Some(busy) = w.busy {
            if let Some(a) = self.world.agents.get_mut(&id) {
                a.busy = busy;
            }
            self.note(id.as_str(), "world", format!("agent busy: {busy}"));
        }
        if let Some(pr) = &w.pr {
            self.world.prs.insert(id.clone(), pr.clone());
            self.note(
                id.as_str(),
                "world",
                format!("SCM now reports {}", describe_pr(&world::pr_facts(pr))),
            );
        }
        if let Some(state) = w.activity {
            self.hook_signal(&id, state);
        }
        if let Some(which) = w.foreign {
            self.foreign_takes(&id, which);
        }
    }

    /// Something that is not ours takes one of the session's names, if
    /// nothing holds it and no record names it (SPEC §7.22).
    fn foreign_takes(&mut self, id: &SessionId, which: ForeignChange) {
        let name = match which {
            ForeignChange::Workspace => self
                .world
                .agents
                .get(id)
                .and_then(|a| Self::workspace_for(&a.spec.project, id)),
            // The name of the spawn or restore in flight, else the next one's.
            ForeignChange::Runtime => self
                .daemon
                .ops
                .values()
                .map(|r| &r.op)
                .chain(self.world.store.intents.values())
                .filter(|op| op.session() == Some(id))
                .find_map(|op| op.planned_runtime().cloned())
                .or_else(|| Handle::new(format!("rt-{id}-{}", self.daemon.op_counter + 1))),
        };
        let Some(name) = name else {
            return;
        };
        let named = self.world.store.records.values().any(|r| {
            r.metadata.runtime_handle.as_ref() == Some(&name)
                || r.metadata.workspace_path.as_ref() == Some(&name)
        });
        let (held, set) = match which {
            ForeignChange::Runtime => (
                self.world.runtimes.contains_key(&name),
                &mut self.world.foreign_runtimes,
            ),
            ForeignChange::Workspace => (
                self.world.workspaces.contains_key(&name),
                &mut self.world.foreign_workspaces,
            ),
        };
        let what = if held || named || set.contains_key(&name) {
            format!("something not ours would take {name}, but it is in use: no change")
        } else {
            set.insert(name.clone(), None);
            format!("something not ours now holds {name}")
        };
        self.note(id.as_str(), "world", what);
    }

    fn race(&mut self, first: &RaceFact, second: &RaceFact) {
        let id = Self::sid(first.session());
        if let (RaceFact::Restore(_), RaceFact::Restore(_)) = (first, second) {
            // Two drivers (two daemons, or a daemon and a CLI) restore at once.
            self.command(Command::RacingRestores(id));
            return;
        }
        let Some(before) = self.world.store.records.get(&id).cloned() else {
            self.note(id.as_str(), "script", "race: no such session".into());
            return;
        };
        let (e1, w1) = race_event(first);
        let (e2, w2) = race_event(second);
        let i1 = Input {
            session: id.clone(),
            at: self.now,
            event: e1,
        };
        let i2 = Input {
            session: id.clone(),
            at: self.now,
            event: e2.clone(),
        };
        self.decide_and_commit(&before, &i1, "writer1", w1);
        if self.decide_and_commit(&before, &i2, "writer2", w2.clone()) == Fed::Conflict {
            // The losing writer re-reads and re-decides.
            self.feed(
                &id,
                e2,
                "writer2",
                format!("{w2} (re-decided after conflict)"),
            );
        }
    }

    // ---- session-manager operations ------------------------------------

    /// The sessions a command would touch (a cleanup: the project's sessions).
    fn command_sessions(&self, c: &Command) -> Vec<SessionId> {
        match c {
            Command::Spawn(s)
            | Command::Kill(s, _)
            | Command::Restore(s)
            | Command::RacingRestores(s) => vec![s.clone()],
            Command::Cleanup(p) => self
                .world
                .store
                .records
                .values()
                .filter(|r| &r.project_id == p)
                .map(|r| r.id.clone())
                .collect(),
        }
    }

    fn busy(&self, session: &SessionId) -> bool {
        self.daemon.ops.values().any(|r| match &r.op {
            Operation::Cleanup(c) => c.sessions().any(|s| s == session),
            op => op.session() == Some(session),
        })
    }

    /// One operation per session at a time: a command waits for its sessions.
    fn command(&mut self, c: Command) {
        let blocked = self.command_sessions(&c).iter().any(|s| self.busy(s));
        if blocked || !self.pending.is_empty() {
            self.note(
                "-",
                "human",
                format!("{c:?} queued behind an operation in flight"),
            );
            self.pending.push_back(c);
            return;
        }
        self.start_command(c);
    }

    fn start_command(&mut self, c: Command) {
        match c {
            Command::Spawn(s) => self.cmd_spawn(&s),
            Command::Kill(s, kind) => self.cmd_kill(&s, kind),
            Command::Restore(s) => self.cmd_restore(&s),
            Command::Cleanup(p) => self.cmd_cleanup(&p),
            Command::RacingRestores(s) => {
                // Neither driver sees the other's lock, only the store's revision CAS.
                self.note(
                    s.as_str(),
                    "script",
                    "race: two drivers restore at once".into(),
                );
                self.cmd_restore(&s);
                self.cmd_restore(&s);
            }
        }
    }

    /// Starts queued commands whose sessions are free, in order.
    fn drain_pending(&mut self) {
        while let Some(c) = self.pending.front().cloned() {
            if self.command_sessions(&c).iter().any(|s| self.busy(s)) {
                return;
            }
            self.pending.pop_front();
            self.start_command(c);
        }
    }

    fn next_op(&mut self, kind: &str) -> OpId {
        self.daemon.op_counter += 1;
        OpId(format!("{kind}-{}", self.daemon.op_counter))
    }

    fn workspace_for(project: &str, id: &SessionId) -> Option<Handle> {
        Handle::new(format!("/ws/{project}/{id}"))
    }

    fn refused(&mut self, id: &SessionId, kind: &str, why: String) {
        self.note(id.as_str(), "human", format!("{kind} refused: {why}"));
        self.results
            .entry(id.clone())
            .or_default()
            .push(format!("{kind}:refused"));
    }

    fn cmd_spawn(&mut self, id: &SessionId) {
        let Some(spec) = self.world.agents.get(id).map(|a| a.spec.clone()) else {
            return;
        };
        let op = self.next_op("spawn");
        let (Some(workspace_path), Some(runtime_handle)) = (
            Self::workspace_for(&spec.project, id),
            Handle::new(format!("rt-{id}-{}", self.daemon.op_counter)),
        ) else {
            return;
        };
        let req = sm::SpawnRequest {
            op,
            id: id.clone(),
            project: ProjectId(spec.project.clone()),
            issue: IssueId(spec.issue.clone()),
            kind: spec.kind,
            branch: spec.branch.clone().unwrap_or_else(|| format!("ao/{id}")),
            prompt: spec
                .prompt
                .clone()
                .unwrap_or_else(|| format!("Work on issue {}", spec.issue)),
            rules: None,
            workspace_path,
            runtime_handle,
            runtime_name: "sim".into(),
            at: self.now,
        };
        let records = &self.world.store.records;
        match sm::plan_spawn(req, &self.cfg, |sid| records.contains_key(sid)) {
            Ok(op) => self.start_op(op, "spawn requested"),
            Err(e) => self.refused(id, "spawn", e.to_string()),
        }
    }

    fn cmd_kill(&mut self, id: &SessionId, kind: KillKind) {
        let op = self.next_op("kill");
        match sm::plan_kill(op, self.world.store.records.get(id), kind) {
            Some(op) => self.start_op(op, "kill requested"),
            None => self.refused(id, "kill", "no such session (no-op)".into()),
        }
    }

    fn cmd_restore(&mut self, id: &SessionId) {
        let op = self.next_op("restore");
        let project = self
            .world
            .agents
            .get(id)
            .map(|a| a.spec.project.clone())
            .unwrap_or_default();
        let (Some(rt), Some(ws)) = (
            Handle::new(format!("rt-{id}-{}", self.daemon.op_counter)),
            Self::workspace_for(&project, id),
        ) else {
            return;
        };
        match sm::plan_restore(op, id, self.world.store.records.get(id), &self.cfg, rt, ws) {
            Ok(op) => self.start_op(op, "restore requested"),
            Err(e) => self.refused(id, "restore", e.to_string()),
        }
    }

    fn cmd_cleanup(&mut self, project: &ProjectId) {
        let op = self.next_op("cleanup");
        let op = sm::plan_cleanup(op, project, self.world.store.records.values());
        self.start_op(op, "cleanup requested");
    }

    fn start_op(&mut self, op: Operation, what: &str) {
        let id = op.id().clone();
        let session = op
            .session()
            .map_or_else(|| "-".to_owned(), |s| s.to_string());
        self.note(&session, "human", format!("{what} ({id})"));
        self.world.store.intents.insert(id.clone(), op.clone());
        let bound = op.max_steps();
        self.daemon.ops.insert(
            id.clone(),
            Running {
                op,
                steps: 0,
                bound,
            },
        );
        let epoch = self.daemon.epoch;
        self.schedule_in(self.sc.latency.action, Ev::OpAction { epoch, op: id });
    }

    fn op_action(&mut self, epoch: u64, id: &OpId) {
        if epoch != self.daemon.epoch || !self.daemon.up {
            return;
        }
        let Some(mut running) = self.daemon.ops.get(id).cloned() else {
            return;
        };
        let action = match running.op.next() {
            Next::Done(result) => return self.finish_op(id, &running.op, result),
            Next::Act(action) => action,
        };
        let kind = action_kind(&action);
        let outcome = self.execute(&action, kind, id);
        let session = action.session().clone();
        let crash = self.violation.is_none()
            && self
                .world
                .take_fault(FaultKind::CrashAfter, Some(&session), Some(kind));
        let line = format!("{id}: {action} -> {outcome}");
        if let (false, Outcome::Foreign(_), Some(name)) = (crash, &outcome, action.resource()) {
            self.world.tell(name, id);
        }
        // A crash loses the outcome: the op is not advanced.
        let progress = (!crash).then(|| running.op.advance(outcome));
        let line = match progress {
            // Unchanged, asking for the same write again: not a step (§7.19).
            Some(Progress::Stalled) => format!("{line} (stalled: asked again later)"),
            _ => line,
        };
        self.note(session.as_str(), "sm", line);
        if self.violation.is_some() {
            return;
        }
        if crash {
            self.note(
                session.as_str(),
                "daemon",
                format!("CRASH after {kind:?} (outcome not recorded)"),
            );
            self.crash(None);
            return;
        }
        if progress == Some(Progress::Advanced) {
            running.steps += 1;
            self.world
                .store
                .intents
                .insert(id.clone(), running.op.clone());
        }
        let next = running.op.next();
        let op = running.op.clone();
        self.daemon.ops.insert(id.clone(), running);
        match next {
            Next::Done(result) => self.finish_op(id, &op, result),
            Next::Act(_) => {
                let epoch = self.daemon.epoch;
                self.schedule_in(
                    self.sc.latency.action,
                    Ev::OpAction {
                        epoch,
                        op: id.clone(),
                    },
                );
            }
        }
    }

    fn finish_op(&mut self, id: &OpId, op: &Operation, result: OpResult) {
        self.daemon.ops.remove(id);
        self.world.store.intents.remove(id);
        let kind = op.kind();
        let verdict = if result.is_ok() { "ok" } else { "failed" };
        match &result {
            OpResult::Cleaned(report) => {
                for s in &report.cleaned {
                    self.results
                        .entry(s.clone())
                        .or_default()
                        .push("cleanup:cleaned".into());
                }
                for (s, _) in &report.skipped {
                    self.results
                        .entry(s.clone())
                        .or_default()
                        .push("cleanup:skipped".into());
                    self.cleanup_skipped.push(s.clone());
                }
            }
            _ => {
                if let Some(s) = op.session() {
                    self.results
                        .entry(s.clone())
                        .or_default()
                        .push(format!("{kind}:{verdict}"));
                }
            }
        }
        let session = op
            .session()
            .map_or_else(|| "-".to_owned(), |s| s.to_string());
        self.note(&session, "sm", format!("{id} finished: {result}"));
        if self.daemon.up {
            self.drain_pending();
        }
    }

    /// Executes one session-manager action against the world.
    fn execute(&mut self, action: &Action, kind: ActionKind, op: &OpId) -> Outcome {
        let session = action.session().clone();
        if self.fault(
            FaultKind::ActionFails,
            Some(&session),
            Some(kind),
            self.sc.faults.action_fail,
        ) {
            return Outcome::Failed("injected fault".into());
        }
        match action {
            Action::SeedRecord(rec) => {
                if self.world.store.records.contains_key(&rec.id) {
                    return Outcome::Refused("a record with this id exists".into());
                }
                self.world
                    .store
                    .records
                    .insert(rec.id.clone(), (**rec).clone());
                Outcome::Ok
            }
            Action::CreateWorkspace { path, .. } | Action::RestoreWorkspace { path, .. } => {
                if self.world.foreign_workspaces.contains_key(path) {
                    return Outcome::Foreign(format!("{path} exists and is not ours"));
                }
                match self.world.workspaces.get(path) {
                    Some(w) if w.session != session => {
                        Outcome::Foreign(format!("{path} belongs to {}", w.session))
                    }
                    Some(_) => Outcome::Ok,
                    None => {
                        self.world.workspaces.insert(
                            path.clone(),
                            Workspace {
                                session,
                                dirty: false,
                            },
                        );
                        Outcome::Ok
                    }
                }
            }
            Action::CreateRuntime { handle, .. } => {
                if self.world.foreign_runtimes.contains_key(handle) {
                    return Outcome::Foreign(format!("runtime {handle} exists and is not ours"));
                }
                match self.world.runtimes.get(handle) {
                    Some(rt) if rt.session != session => {
                        return Outcome::Foreign(format!(
                            "runtime {handle} belongs to {}",
                            rt.session
                        ));
                    }
                    Some(_) => return Outcome::Refused(format!("runtime {handle} exists")),
                    None => {}
                }
                self.world.runtimes.insert(
                    handle.clone(),
                    Runtime {
                        session: session.clone(),
                        process: Process::Starting,
                    },
                );
                let start = self.sc.latency.agent_start;
                self.schedule_in(
                    start,
                    Ev::AgentStart {
                        session,
                        handle: handle.clone(),
                    },
                );
                Outcome::Ok
            }
            // Destroys check the session's tag, as the real adapters do.
            Action::DestroyRuntime { handle, .. } => {
                if self.world.foreign_runtimes.contains_key(handle) {
                    return Outcome::Foreign(format!("runtime {handle} is not ours"));
                }
                match self.world.runtimes.get(handle) {
                    Some(rt) if rt.session != session => {
                        Outcome::Foreign(format!("runtime {handle} belongs to {}", rt.session))
                    }
                    _ => {
                        self.world.runtimes.remove(handle);
                        Outcome::Ok
                    }
                }
            }
            Action::DestroyWorkspace { path, .. } => match self.world.workspaces.get(path) {
                None if self.world.foreign_workspaces.contains_key(path) => {
                    Outcome::Foreign(format!("{path} is not ours"))
                }
                None => Outcome::Ok,
                Some(w) if w.session != session => {
                    Outcome::Foreign(format!("{path} belongs to {}", w.session))
                }
                Some(w) if w.dirty => Outcome::Refused("uncommitted or unpushed work".into()),
                Some(_) => {
                    self.world.workspaces.remove(path);
                    Outcome::Ok
                }
            },
            Action::Reduce { session, event } => {
                let adopted: Vec<Handle> = handed_to_record(event)
                    .into_iter()
                    .filter(|h| self.world.told(op, h))
                    .cloned()
                    .collect();
                self.world.foreign_adopted.extend(adopted);
                let what = format!("reduce {}", event_name(event));
                match self.feed(session, event.clone(), "sm", what) {
                    Fed::Written | Fed::Unchanged => Outcome::Ok,
                    // Asking again cannot help: refused. The store's own failures may pass.
                    Fed::Unknown => Outcome::Refused("no such session".into()),
                    Fed::Rejected(e) => Outcome::Refused(e),
                    Fed::StoreFailed => Outcome::Failed("store write failed".into()),
                    Fed::Conflict => Outcome::Failed("revision conflict".into()),
                    Fed::Stopped => Outcome::Failed("stopped".into()),
                }
            }
        }
    }

    // ---- crash and restart ---------------------------------------------

    fn crash(&mut self, restart_after: Option<Duration>) {
        if !self.daemon.up {
            return;
        }
        self.daemon.up = false;
        self.daemon.ops.clear();
        let lost = self.pending.len();
        self.pending.clear();
        self.note(
            "-",
            "daemon",
            format!("CRASH: in-memory state lost ({lost} queued command(s)); the store is kept"),
        );
        let after = restart_after.unwrap_or(self.sc.latency.restart);
        self.schedule_in(after, Ev::Restart);
    }

    fn restart(&mut self) {
        self.daemon.up = true;
        self.daemon.epoch += 1;
        let intents: Vec<(OpId, Operation)> = self
            .world
            .store
            .intents
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.note(
            "-",
            "daemon",
            format!(
                "restarted: recovering {} operation(s), then reconciling",
                intents.len()
            ),
        );
        for (id, op) in intents {
            let op = op.recover();
            self.world.store.intents.insert(id.clone(), op.clone());
            let bound = op.max_steps();
            self.daemon.ops.insert(
                id.clone(),
                Running {
                    op,
                    steps: 0,
                    bound,
                },
            );
            let epoch = self.daemon.epoch;
            self.schedule_in(self.sc.latency.action, Ev::OpAction { epoch, op: id });
        }
        // Boot reconcile: re-probe every live session, reclaim terminal runtimes.
        self.reaper_pass();
    }

    // ---- invariants over the world -------------------------------------

    fn check_world(&mut self) {
        let mut ops: Vec<OpProgress> = self
            .daemon
            .ops
            .values()
            .map(|r| OpProgress {
                steps: r.steps,
                bound: r.bound,
            })
            .collect();
        for id in self.world.store.intents.keys() {
            if !self.daemon.ops.contains_key(id) {
                ops.push(OpProgress {
                    steps: 0,
                    bound: usize::MAX,
                });
            }
        }
        let view = WorldView {
            records: self.world.store.records.values().collect(),
            runtimes: self
                .world
                .runtimes
                .iter()
                .map(|(h, rt)| LiveRuntime {
                    session: rt.session.clone(),
                    handle: h.clone(),
                })
                .collect(),
            workspaces: self
                .world
                .workspaces
                .iter()
                .map(|(p, w)| WorkspaceView {
                    session: w.session.clone(),
                    path: p.clone(),
                })
                .collect(),
            dirty_deleted: self.world.dirty_deleted.clone(),
            ops,
            foreign_adopted: self.world.foreign_adopted.clone(),
            // The fakes check tags before destroying (as the adapters do).
            foreign_destroyed: Vec::new(),
        };
        if let Err(v) = check_world(&view) {
            self.note("-", "check", format!("INVARIANT VIOLATED: {v}"));
            self.violation = Some(format!("{v} (at {})", trace::format_time(self.now)));
        }
    }
}

fn action_kind(a: &Action) -> ActionKind {
    match a {
        Action::SeedRecord(_) => ActionKind::SeedRecord,
        Action::CreateWorkspace { .. } => ActionKind::CreateWorkspace,
        Action::RestoreWorkspace { .. } => ActionKind::RestoreWorkspace,
        Action::CreateRuntime { .. } => ActionKind::CreateRuntime,
        Action::DestroyRuntime { .. } => ActionKind::DestroyRuntime,
        Action::DestroyWorkspace { .. } => ActionKind::DestroyWorkspace,
        Action::Reduce { .. } => ActionKind::Reduce,
    }
}

fn event_name(e: &Event) -> String {
    match e {
        Event::SpawnCompleted(_) => "spawn_completed".into(),
        Event::KillRequested { kind } => format!("kill_requested({kind})"),
        Event::Reopened { .. } => "reopened".into(),
        Event::Released { runtime, workspace } => {
            format!("released(runtime={runtime}, workspace={workspace})")
        }
        other => format!("{other:?}"),
    }
}

fn notification_label(n: &lcm::Notification) -> String {
    match n.kind {
        lcm::NotificationKind::Reaction => n.reaction.to_string(),
        lcm::NotificationKind::Escalated => format!("reaction.escalated({})", n.reaction),
    }
}

/// The name an expectation uses for a notification.
pub(crate) fn notification_name(n: &lcm::Notification) -> String {
    match n.kind {
        lcm::NotificationKind::Reaction => n.reaction.to_string(),
        lcm::NotificationKind::Escalated => "reaction.escalated".into(),
    }
}

fn patch_fields(p: &lcm::Patch) -> String {
    let mut f = Vec::new();
    if p.session.is_some() {
        f.push("session");
    }
    if p.pr.is_some() {
        f.push("pr");
    }
    if p.runtime.is_some() {
        f.push("runtime");
    }
    if p.activity.is_some() {
        f.push("activity");
    }
    match p.detecting {
        lcm::QuarantineChange::Leave => {}
        lcm::QuarantineChange::Set(q) => {
            f.push(if q.attempts == 1 {
                "quarantine=1"
            } else {
                "quarantine+"
            });
        }
        lcm::QuarantineChange::Clear => f.push("quarantine=clear"),
    }
    if p.metadata.is_some() {
        f.push("metadata");
    }
    if p.policy.is_some() {
        f.push("policy");
    }
    f.join(",")
}

fn describe_pr(f: &PrFacts) -> String {
    if f.state != PrState::Open {
        return format!("pr {}", f.state);
    }
    let mut s = format!(
        "pr open#{} ci={} review={}",
        f.number.unwrap_or(0),
        f.ci,
        f.review
    );
    if f.draft {
        s.push_str(" draft");
    }
    if f.mergeability.mergeable {
        s.push_str(" mergeable");
    }
    if !f.mergeability.no_conflicts {
        s.push_str(" conflicts");
    }
    if !f.comments.is_empty() {
        s.push_str(&format!(" comments={}", f.comments.len()));
    }
    s
}

fn scm_event(f: &crate::scenario::ScmFact) -> (Event, String) {
    if f.fetch_failed {
        return (
            Event::Scm(ScmObservation::FetchFailed),
            "scm fetch failed".into(),
        );
    }
    let facts = match &f.pr {
        Some(spec) => world::pr_facts(spec),
        None => PrFacts {
            state: PrState::None,
            number: None,
            ..PrFacts::open(0)
        },
    };
    let what = describe_pr(&facts);
    (Event::Scm(ScmObservation::Fetched(facts)), what)
}

fn race_event(f: &RaceFact) -> (Event, String) {
    match f {
        RaceFact::Activity(a) => (
            Event::Activity(ActivitySignal {
                state: a.state,
                confidence: a.confidence,
                source: a.source,
            }),
            format!("activity {}", a.state),
        ),
        RaceFact::Probe(p) => (
            Event::Runtime(RuntimeObservation {
                runtime: p.runtime,
                process: p.process,
            }),
            format!("probe runtime={} process={}", p.runtime, p.process),
        ),
        RaceFact::Scm(s) => scm_event(s),
        RaceFact::Kill(_) => (
            Event::KillRequested {
                kind: KillKind::Manual,
            },
            "kill".into(),
        ),
        RaceFact::Restore(_) => (Event::Reopened { stopped: None }, "reopen".into()),
    }
}
