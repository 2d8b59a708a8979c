//! Everything that can happen next: the actions, the profiles' alphabets,
//! and which actions a state enables.

use super::*;

/// How the driver reports an SM action's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpOutcome {
    /// It happened and reported ok.
    Ok,
    /// It failed and nothing happened.
    Fail,
    /// It happened but reported a failure (a timeout after the fact).
    FailHalf,
    /// It happened, then the daemon crashed before recording the outcome.
    CrashAfter,
}

impl OpOutcome {
    /// Every outcome, in action order.
    pub const ALL: [OpOutcome; 4] = [
        OpOutcome::Ok,
        OpOutcome::Fail,
        OpOutcome::FailHalf,
        OpOutcome::CrashAfter,
    ];
}

/// Everything that can happen next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The human spawns the slot's session.
    Spawn(u8),
    /// The human (or an auto-cleanup) kills it.
    Kill(u8, KillKind),
    /// The human restores it.
    Restore(u8),
    /// The human cleans up the project.
    Cleanup,
    /// The slot's operation executes its next action.
    Op(u8, OpOutcome),
    /// The cleanup executes its next action.
    CleanupOp(OpOutcome),
    /// The pending send reached the agent.
    Delivered(u8),
    /// The pending send could not be delivered (fed back as `DeliveryFailed`).
    DeliveryFailed(u8),
    /// The reaper's observation (runtime, process); a probe may lie.
    Probe(u8, Probe, Probe),
    /// An activity signal (valid or stale).
    Activity(u8, ActivityState, bool),
    /// An SCM fact.
    Scm(u8, ScmFact),
    /// Two writers race (index into [`RACES`]).
    Race(u8, u8),
    /// The agent process exits.
    ProcessExits(u8),
    /// The runtime is lost.
    RuntimeLost(u8),
    /// The workspace gets uncommitted work.
    WorkspaceDirty(u8),
    /// Something that is not ours takes one of the slot's names.
    Foreign(u8, Foreign),
    /// The reaper reclaims a terminal session's runtime.
    Reclaim(u8),
    /// The session manager, as the reducer's environment, writes one event
    /// to the record (the observe profile's stand-in for real operations).
    Sm(u8, SmEvent),
    /// The daemon crashes (in-memory state lost; the store is kept).
    Crash,
    /// The daemon restarts and recovers every intent.
    Restart,
    /// One unit of time passes; every live session gets a tick.
    Tick,
}

/// A record write the session manager can make, offered by the observe
/// profile whenever no operation runs for the session: every event a real
/// operation writes that a decision of the reducer reads, in any order,
/// except that spawn completion comes only while a spawn or restore has not
/// completed (the envelope the manage profile checks its real operations
/// against). Hand-offs of handles (`released`, `adopted`) are left out: no
/// decision of the reducer reads a handle but the restore's claim, which
/// this environment always makes against the handle the record names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SmEvent {
    /// Kill of this kind (a manual kill, a cleanup, a failed operation's errored mark).
    Kill(KillKind),
    /// A restore's claim of a terminal record.
    Reopen,
    /// Spawn (or restore) completed.
    Complete,
}

impl SmEvent {
    /// Every event the environment offers.
    pub const ALL: [SmEvent; 5] = [
        SmEvent::Kill(KillKind::Manual),
        SmEvent::Kill(KillKind::Cleanup),
        SmEvent::Kill(KillKind::Error),
        SmEvent::Reopen,
        SmEvent::Complete,
    ];
}

/// Which facts the model offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Every probe pair, every activity (valid and stale), every SCM fact, every race.
    Full,
    /// One probe pair per liveness row, fewer SCM facts and signals, two races:
    /// small enough for the mutant tests.
    Small,
    /// The reducer's side of the composition: every probe pair, signal, SCM
    /// fact, race, tick and crash, with the session manager as an
    /// environment that may write any of its record events at any time
    /// ([`SmEvent`]) instead of running operations (the spawn still runs).
    Observe,
    /// The session manager's side: every command, outcome, crash, world
    /// change and collision, with the only observations that change what
    /// the session manager can see of a record (see [`sm_view`]): an active
    /// signal (the agent starts) and dead probes (a confirmed death).
    Manage,
}

/// The facts a model offers, in action order.
#[derive(Clone, Debug)]
pub struct Alphabet {
    /// Runtime observations (runtime, process).
    pub probes: Vec<(Probe, Probe)>,
    /// Activity signals (state, valid).
    pub activities: Vec<(ActivityState, bool)>,
    /// SCM facts.
    pub scm: Vec<ScmFact>,
    /// Races (indices into [`RACES`]).
    pub races: Vec<u8>,
    /// Kill kinds a kill command uses.
    pub kills: Vec<KillKind>,
    /// Operation failures (failed and half-done actions).
    pub failures: bool,
    /// Daemon crashes (and restarts).
    pub crashes: bool,
    /// Restore and cleanup commands (kills are listed in `kills`).
    pub commands: bool,
    /// World changes (process exits, runtime lost, workspace dirty).
    pub world: bool,
    /// Session-manager record writes as free actions ([`SmEvent`]) instead
    /// of commands run as real operations.
    pub sm_events: bool,
}

impl Alphabet {
    /// The alphabet of a profile.
    pub fn new(p: Profile) -> Alphabet {
        use ActivityState as A;
        use Probe::{Alive, Dead, Failed, Indeterminate};
        match p {
            Profile::Full => Alphabet {
                probes: PROBES
                    .iter()
                    .flat_map(|r| PROBES.iter().map(move |p| (*r, *p)))
                    .collect(),
                activities: ACTIVITIES
                    .iter()
                    .flat_map(|a| [(*a, true), (*a, false)])
                    .collect(),
                scm: ScmFact::ALL.to_vec(),
                races: (0..RACES.len() as u8).collect(),
                kills: vec![KillKind::Manual, KillKind::Cleanup],
                failures: true,
                crashes: true,
                commands: true,
                world: true,
                sm_events: false,
            },
            Profile::Small => Alphabet {
                probes: vec![
                    (Alive, Alive),
                    (Alive, Dead),
                    (Dead, Dead),
                    (Dead, Alive),
                    (Indeterminate, Indeterminate),
                    (Failed, Failed),
                ],
                activities: vec![
                    (A::Active, true),
                    (A::Idle, true),
                    (A::WaitingInput, true),
                    (A::Blocked, true),
                    (A::Active, false),
                ],
                scm: vec![
                    ScmFact::FetchFailed,
                    ScmFact::CiFailing,
                    ScmFact::CiPending,
                    ScmFact::ApprovedMergeable,
                    ScmFact::ChangesRequested,
                    ScmFact::Merged,
                    ScmFact::Closed,
                ],
                races: vec![0, 3],
                kills: vec![KillKind::Manual],
                failures: true,
                crashes: true,
                commands: true,
                world: true,
                sm_events: false,
            },
            Profile::Observe => Alphabet {
                kills: Vec::new(),
                failures: false,
                commands: false,
                world: false,
                sm_events: true,
                ..Alphabet::new(Profile::Full)
            },
            Profile::Manage => Alphabet {
                probes: vec![(Dead, Dead)],
                activities: vec![(A::Active, true)],
                scm: Vec::new(),
                races: Vec::new(),
                ..Alphabet::new(Profile::Full)
            },
        }
    }
}

impl CheckModel {
    /// Whether an outcome applies to an SM action (a half-failure only where
    /// it differs from a failure; no write failure with a reliable store).
    pub(super) fn applies(&self, slot: &Slot, action: &sm::Action, o: OpOutcome) -> bool {
        let write = matches!(
            action,
            sm::Action::SeedRecord(_) | sm::Action::Reduce { .. }
        );
        let allowed = match o {
            OpOutcome::Ok => true,
            OpOutcome::Fail | OpOutcome::FailHalf => self.alphabet.failures,
            OpOutcome::CrashAfter => self.alphabet.crashes,
        };
        if !allowed {
            return false;
        }
        match o {
            OpOutcome::Ok | OpOutcome::CrashAfter => return true,
            OpOutcome::Fail => return !(write && self.reliable_store),
            OpOutcome::FailHalf => {}
        }
        match action {
            sm::Action::CreateWorkspace { .. } | sm::Action::RestoreWorkspace { .. } => {
                slot.ws == Ws::Absent
            }
            sm::Action::CreateRuntime { handle, .. } => {
                fixtures::runtime_index(handle).is_some_and(|k| !slot.rt[k].alive())
            }
            sm::Action::DestroyRuntime { handle, .. } => {
                fixtures::runtime_index(handle).is_some_and(|k| slot.rt[k].alive())
            }
            sm::Action::DestroyWorkspace { .. } => slot.ws == Ws::Clean,
            sm::Action::SeedRecord(_) | sm::Action::Reduce { .. } => false,
        }
    }

    /// Whether an action can happen in `s` (cheap checks `actions` skipped).
    pub(super) fn applicable(&self, s: &State, a: Action) -> bool {
        let (i, next, o) = match a {
            Action::Op(i, o) => match &s.slots[usize::from(i)].op {
                Some(slot) => (
                    usize::from(i),
                    memo::next_of(slot.op.digest(), || slot.op.next()),
                    o,
                ),
                None => return false,
            },
            Action::CleanupOp(o) => {
                let item = Self::current_cleanup_item(s)
                    .and_then(|j| s.cleanup.as_ref().map(|c| &c.items[j]));
                match item {
                    Some((i, op)) => (usize::from(*i), memo::next_of(op.digest(), || op.next()), o),
                    None => return false,
                }
            }
            Action::Restore(i) => return self.restore_plan(s, usize::from(i)).is_some(),
            _ => return true,
        };
        match &*next {
            Next::Act(action) => self.applies(&s.slots[i], action, o),
            Next::Done(_) => false,
        }
    }

    pub(super) fn slot_actions(&self, s: &State, i: usize, out: &mut Vec<Action>) {
        let slot = &s.slots[i];
        let n = i as u8;
        let running = slot.rt.contains(&Rt::Running);
        if slot.pending.is_some() {
            if running {
                out.push(Action::Delivered(n));
            }
            out.push(Action::DeliveryFailed(n));
        } else if s.up {
            if !self.busy(s, i) {
                if !slot.used.spawned {
                    out.push(Action::Spawn(n));
                }
                if slot.rec.is_some() && slot.used.kills < MAX_KILLS {
                    out.extend(self.alphabet.kills.iter().map(|k| Action::Kill(n, *k)));
                }
                if self.alphabet.commands
                    && slot.rec.as_ref().is_some_and(|r| r.is_terminal())
                    && slot.used.restores < self.restores
                {
                    out.push(Action::Restore(n));
                }
            }
            if slot.op.as_ref().is_some_and(|o| o.in_memory) {
                out.extend(OpOutcome::ALL.iter().map(|o| Action::Op(n, *o)));
            }
            if let Some(rec) = &slot.rec {
                let terminal = rec.is_terminal();
                let spawned = rec.metadata.spawned_at.is_some();
                let ready = |source| !(self.paced && slot.polled.has(source));
                if !terminal && spawned && ready(Polled::PROBE) {
                    out.extend(
                        self.alphabet
                            .probes
                            .iter()
                            .map(|(r, p)| Action::Probe(n, *r, *p)),
                    );
                }
                if terminal && rec.metadata.runtime_handle.is_some() {
                    out.push(Action::Reclaim(n));
                }
                if self.alphabet.sm_events && !self.busy(s, i) {
                    out.extend(
                        SmEvent::ALL
                            .into_iter()
                            .filter(|e| self.sm_event_offered(rec, *e))
                            .map(|e| Action::Sm(n, e)),
                    );
                }
                if running && ready(Polled::ACTIVITY) {
                    out.extend(
                        self.alphabet
                            .activities
                            .iter()
                            .map(|(a, valid)| Action::Activity(n, *a, *valid)),
                    );
                }
                let scm_target = rec.kind == SessionKind::Worker
                    && !terminal
                    && spawned
                    && matches!(rec.lifecycle.pr.state, PrState::None | PrState::Open);
                if scm_target && ready(Polled::SCM) {
                    out.extend(self.alphabet.scm.iter().map(|f| Action::Scm(n, *f)));
                }
                if !terminal && spawned && ready(Polled::RACE) {
                    out.extend(self.alphabet.races.iter().map(|k| Action::Race(n, *k)));
                }
            }
        }
        if !self.alphabet.world {
            return;
        }
        if running {
            out.push(Action::ProcessExits(n));
        }
        if slot.rt.iter().any(|r| r.alive()) {
            out.push(Action::RuntimeLost(n));
        }
        if slot.ws == Ws::Clean {
            out.push(Action::WorkspaceDirty(n));
        }
        if slot.foreign == Foreign::None {
            self.foreign_actions(slot, n, out);
        }
    }

    /// Names something foreign may take: one nothing holds and no record
    /// names — the workspace path, or the runtime name of the spawn or
    /// restore in flight (a collision the operation will meet).
    pub(super) fn foreign_actions(&self, slot: &Slot, n: u8, out: &mut Vec<Action>) {
        let named = |h: &Handle| {
            slot.rec.as_ref().is_some_and(|r| {
                r.metadata.runtime_handle.as_ref() == Some(h)
                    || r.metadata.workspace_path.as_ref() == Some(h)
            })
        };
        if slot.ws == Ws::Absent && !named(&self.ws) {
            out.push(Action::Foreign(n, Foreign::Workspace));
        }
        let planned = slot.op.as_ref().and_then(|o| o.op.planned_runtime());
        if let Some((k, h)) = planned.and_then(|h| Some((fixtures::runtime_index(h)?, h))) {
            if !slot.rt[k].alive() && !named(h) {
                out.push(Action::Foreign(n, Foreign::Runtime(k as u8)));
            }
        }
    }

    /// Whether the environment offers `e` to `rec` now (a claim of a live
    /// record, which the core refuses, is left out).
    pub(super) fn sm_event_offered(&self, rec: &SessionRecord, e: SmEvent) -> bool {
        match e {
            SmEvent::Kill(_) => true,
            SmEvent::Reopen => rec.is_terminal(),
            SmEvent::Complete => rec.metadata.spawned_at.is_none() && !rec.is_terminal(),
        }
    }

    /// Every action enabled in `s`, in a fixed order (paths replay by index).
    pub(super) fn enabled(&self, s: &State, out: &mut Vec<Action>) {
        if s.broken.is_some() {
            return;
        }
        for i in 0..s.slots.len() {
            self.slot_actions(s, i, out);
        }
        if s.up {
            if self.alphabet.commands && s.cleanup.is_none() && s.cleanups < MAX_CLEANUPS {
                let candidates = self.cleanup_candidates(s);
                if !candidates.is_empty() && candidates.iter().all(|&i| !self.busy(s, i)) {
                    out.push(Action::Cleanup);
                }
            }
            if let Some(c) = s.cleanup.as_ref().filter(|c| c.in_memory) {
                if let Some(j) = Self::current_cleanup_item(s) {
                    let slot = &s.slots[usize::from(c.items[j].0)];
                    if slot.pending.is_none() {
                        out.extend(OpOutcome::ALL.iter().map(|o| Action::CleanupOp(*o)));
                    }
                }
            }
            // A crash with nothing in memory (no operation, no send) and the
            // restart after it change nothing but the ticks missed meanwhile.
            let in_memory = s
                .slots
                .iter()
                .any(|x| x.op.is_some() || x.pending.is_some())
                || s.cleanup.is_some();
            if in_memory && self.alphabet.crashes {
                out.push(Action::Crash);
            }
        } else {
            out.push(Action::Restart);
        }
        // Time always passes (but not between a step and the delivery of its send).
        if !s.any_pending() {
            out.push(Action::Tick);
        }
    }
}
