//! The stateright model: N interchangeable session slots, each with its store
//! record, the fakes (runtimes, workspace, foreign names), the
//! session-manager operation in flight (its write-ahead intent, and whether
//! the daemon holds it in memory), the pending delivery of the last step's
//! send, and ghost counters for the bounded-liveness and budget properties;
//! plus the daemon's up/down flag. No clock: time passing ages the stored
//! instants ([`time`]). `next_state` drives the real core exactly as the
//! simulator does (step, check_step, persist with CAS, effects in order; SM
//! operations action by action; a crash drops in-memory state and a restart
//! calls `recover`) and records every broken SPEC §7 property in the state.
//!
//! One concept per module: [`state`], [`actions`] (what can happen next and
//! the profiles' alphabets), [`transitions`] (what each action does),
//! [`time`], [`ghost`] (model memory for bounded liveness), [`world`] (the
//! world properties), [`interface`] (the composition's seam) and
//! [`reductions`] (what the state forgets, symmetry).

mod actions;
mod ghost;
mod interface;
mod reductions;
mod state;
mod time;
mod transitions;
mod world;

pub use actions::{Action, Alphabet, OpOutcome, Profile, SmEvent};
pub use interface::{
    observation_keeps_interface, sm_event_in_envelope, sm_view, SmView, INTERFACE_BIT,
};
pub use state::{
    digest, Broken, CleanupRun, Foreign, Ghost, Intent, OpSlot, Polled, Rt, Slot, State, Used, Ws,
};
pub use transitions::Advanced;
pub(crate) use transitions::{FedOut, Viol};

use super::fixtures::{self, RaceFact, ScmFact, ACTIVITIES, PROBES, RACES, RUNTIMES};
use super::memo;
use super::mutant::{self, Mutant};
use ao_core::config::{Config, ConfigError};
use ao_core::decide::{self, Evidence};
use ao_core::domain::{
    ActivityState, Fingerprint, Handle, IssueId, KillKind, Lifecycle, PrReason, PrState, Probe,
    ProjectId, ReactionKey, SessionId, SessionKind, SessionRecord, SessionState, REACTION_COUNT,
};
use ao_core::invariants::{
    check_step, check_world, handed_to_record, LiveRuntime, OpProgress, PropertyId, StepView,
    WorkspaceView, WorldView, STEP_PROPERTIES, WORLD_PROPERTIES,
};
use ao_core::lcm::{self, reaction_for, Effect, Event, Input, NotificationKind};
use ao_core::sm::{self, Next, OpId, OpResult, Operation, Outcome, Progress};
use ao_core::time::Timestamp;
use ao_core::timers;
use ao_core::WireEnum;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The most sessions a model can have.
pub const MAX_SESSIONS: usize = 3;
/// Kill commands per session (a kill of either kind).
pub const MAX_KILLS: u8 = 1;
/// Cleanup commands per run.
pub const MAX_CLEANUPS: u8 = 1;

/// The model of the supervisor core (see the module docs).
#[derive(Clone, Debug)]
pub struct CheckModel {
    /// Number of sessions (1..=3).
    pub sessions: usize,
    /// Restores per session.
    pub restores: u8,
    /// A deliberately wrong supervisor, or the real one.
    pub mutant: Option<Mutant>,
    /// Check only this property (a minimal counterexample run).
    pub only: Option<&'static str>,
    /// Record writes (`SeedRecord`, `Reduce`) never fail (the store is reliable).
    pub reliable_store: bool,
    /// Each observation source reports at most once per tick (the daemon
    /// polls on intervals); unpaced, they may report any number of times.
    pub paced: bool,
    /// The facts offered.
    pub alphabet: Alphabet,
    /// Check every `always` as one property (a run that stops at the first
    /// violation needs no per-property discovery).
    pub merge_always: bool,
    /// The reachability targets this run reached, shared by the checker's
    /// threads (`None`: plain evaluation, as the explorer does).
    pub reached: Option<Arc<ReachFlags>>,
    /// The configuration the core runs with.
    pub cfg: Config,
    /// Memoize feeds (a slot's record, ghost and pending send, and the
    /// event). It pays where the same records recur beside many operation
    /// and world states (the manage and full profiles); in the observe
    /// profile a slot is little but its record, so 85% of lookups miss and
    /// the table's churn cost a third of the run (measured: 16.3 s against
    /// 10.5 s of CPU for `--profile observe --depth 11 --threads 1`).
    pub memo_feeds: bool,
    sid: SessionId,
    project: ProjectId,
    ws: Handle,
    rts: [Handle; 3],
}

/// Which reachability targets a run has reached. One `sometimes` property
/// stands for the whole list (see `props::REACH_ALL`); these flags keep each
/// target's verdict.
#[derive(Debug, Default)]
pub struct ReachFlags {
    hit: Box<[AtomicBool]>,
    all: AtomicBool,
}

impl ReachFlags {
    /// No target reached yet, of `n`.
    pub fn new(n: usize) -> ReachFlags {
        ReachFlags {
            hit: (0..n).map(|_| AtomicBool::new(false)).collect(),
            all: AtomicBool::new(false),
        }
    }

    /// Marks each target not yet reached for which `holds(i)`; true only for
    /// the one call that completes the list (stateright then records it once).
    pub fn mark(&self, holds: impl Fn(usize) -> bool) -> bool {
        if self.all.load(Ordering::Relaxed) {
            return false;
        }
        let mut missing = false;
        for (i, flag) in self.hit.iter().enumerate() {
            if !flag.load(Ordering::Relaxed) {
                if holds(i) {
                    flag.store(true, Ordering::Relaxed);
                } else {
                    missing = true;
                }
            }
        }
        !missing && !self.all.swap(true, Ordering::AcqRel)
    }

    /// Whether target `i` was reached.
    pub fn reached(&self, i: usize) -> bool {
        self.hit.get(i).is_some_and(|f| f.load(Ordering::Relaxed))
    }
}

/// Why a model could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The model configuration did not resolve.
    #[error("model configuration: {0}")]
    Config(#[from] ConfigError),
    /// A bound is out of range.
    #[error("{0}")]
    Bounds(String),
}

impl CheckModel {
    /// A model of `sessions` sessions and `restores` restores per session,
    /// over all of time.
    pub fn new(
        sessions: usize,
        restores: u8,
        mutant: Option<Mutant>,
    ) -> Result<CheckModel, ModelError> {
        if !(1..=MAX_SESSIONS).contains(&sessions) {
            return Err(ModelError::Bounds(format!(
                "sessions must be 1..={MAX_SESSIONS}, got {sessions}"
            )));
        }
        if restores > 2 {
            return Err(ModelError::Bounds(format!(
                "restores must be 0..=2, got {restores}"
            )));
        }
        let bad = || ModelError::Bounds("a fixed handle is blank".into());
        let h = |name| fixtures::handle(name).ok_or_else(bad);
        let mut cfg = fixtures::config()?;
        cfg.thresholds.defect = mutant.and_then(Mutant::defect);
        Ok(CheckModel {
            sessions,
            restores,
            mutant,
            only: None,
            reliable_store: false,
            paced: true,
            merge_always: false,
            reached: None,
            memo_feeds: true,
            alphabet: Alphabet::new(Profile::Full),
            cfg,
            sid: fixtures::session_id(),
            project: fixtures::project_id(),
            ws: h(fixtures::WORKSPACE)?,
            rts: [h(RUNTIMES[0])?, h(RUNTIMES[1])?, h(RUNTIMES[2])?],
        })
    }

    /// Fresh "already reached" flags for a new run.
    pub fn fresh_run(&mut self) {
        self.reached = Some(Arc::new(ReachFlags::new(super::props::REACH.len())));
    }

    fn is(&self, m: Mutant) -> bool {
        self.mutant == Some(m)
    }

    /// Whether an operation (own or cleanup) holds the slot.
    fn busy(&self, s: &State, i: usize) -> bool {
        s.slots[i].op.is_some()
            || s.cleanup
                .as_ref()
                .is_some_and(|c| c.items.iter().any(|(j, _)| usize::from(*j) == i))
    }

    fn cleanup_candidates(&self, s: &State) -> Vec<usize> {
        (0..s.slots.len())
            .filter(|&i| {
                s.slots[i].rec.as_ref().is_some_and(|r| {
                    r.is_terminal()
                        && r.kind == SessionKind::Worker
                        && r.metadata.workspace_path.is_some()
                })
            })
            .collect()
    }

    fn restore_plan(&self, s: &State, i: usize) -> Option<Operation> {
        let slot = &s.slots[i];
        let idx = usize::from(slot.used.restores) + 1;
        let rt = self.rts.get(idx)?.clone();
        sm::plan_restore(
            OpId::from("op"),
            &self.sid,
            slot.rec.as_deref(),
            &self.cfg,
            rt,
            self.ws.clone(),
        )
        .ok()
    }

    // ---- transitions ----------------------------------------------------
}

impl stateright::Model for CheckModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![State {
            up: true,
            slots: vec![Slot::default(); self.sessions],
            cleanup: None,
            cleanups: 0,
            broken: None,
        }]
    }

    fn actions(&self, s: &State, out: &mut Vec<Action>) {
        self.enabled(s, out);
    }

    fn next_state(&self, s: &State, a: Action) -> Option<State> {
        if !self.applicable(s, a) {
            return None;
        }
        let mut n = s.clone();
        let mut v = Viol::default();
        self.apply(&mut n, a, &mut v);
        self.normalize(&mut n);
        self.world_check(s, &n, &mut v);
        if v.mask != 0 {
            n.broken = Some(Arc::new(Broken {
                mask: v.mask,
                detail: v.detail(),
            }));
        }
        // A self-loop adds nothing (a broken property would have changed the state).
        (n != *s).then_some(n)
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        let all = match (self.only, &self.reached) {
            (Some(_), _) => super::props::properties(false),
            (None, Some(_)) => super::props::properties(self.merge_always),
            (None, None) => super::props::explorer_properties(),
        };
        match self.only {
            Some(name) => all.into_iter().filter(|p| p.name == name).collect(),
            None => all,
        }
    }

    fn format_action(&self, a: &Action) -> String {
        super::export::describe(a)
    }
}
