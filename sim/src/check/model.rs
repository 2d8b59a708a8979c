//! The stateright model: N interchangeable session slots, each with its store
//! record, the fakes (runtimes, workspace), the session-manager operation in
//! flight (its write-ahead intent, and whether the daemon holds it in memory),
//! the pending delivery of the last step's send, and ghost counters for the
//! bounded-liveness and budget properties; plus a bounded clock and the daemon's
//! up/down flag. `next_state` drives the real core exactly as the simulator does
//! (step, check_step, persist with CAS, effects in order; SM operations action
//! by action; a crash drops in-memory state and a restart calls `recover`) and
//! records every broken SPEC §7 property in the state.

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

/// A runtime in the world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rt {
    /// Not there.
    #[default]
    Absent,
    /// There, with the agent process running.
    Running,
    /// There, but the agent process exited.
    Exited,
}

impl Rt {
    fn alive(self) -> bool {
        self != Rt::Absent
    }
}

/// A slot's workspace in the world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ws {
    /// Not there.
    #[default]
    Absent,
    /// Everything committed and pushed.
    Clean,
    /// Holds uncommitted or unpushed work.
    Dirty,
}

/// An operation's write-ahead intent, shared, with its digest computed once:
/// operations are large, change rarely, and are hashed with every state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    op: Arc<Operation>,
    digest: u64,
}

impl Intent {
    /// The intent of `op`.
    pub fn new(op: Operation) -> Intent {
        Intent {
            digest: digest(&op),
            op: Arc::new(op),
        }
    }

    /// The digest of the operation (the memo key of its steps).
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// The intent after a crash: rolled forward or back (`Operation::recover`),
    /// with SPEC §7.19 checked (recovery never raises the bound).
    fn recovered(&self, v: &mut Viol) -> Intent {
        let before = self.op.max_steps();
        let op = (*self.op).clone().recover();
        if op.max_steps() > before {
            v.add(PropertyId::OperationsFinish, || {
                format!(
                    "recovering a {} raised its bound {before} -> {}",
                    op.kind(),
                    op.max_steps()
                )
            });
        }
        Intent::new(op)
    }
}

impl std::ops::Deref for Intent {
    type Target = Operation;

    fn deref(&self) -> &Operation {
        &self.op
    }
}

impl Hash for Intent {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.digest.hash(state);
    }
}

/// An operation's intent, and whether the daemon holds it in memory.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OpSlot {
    /// The persisted intent.
    pub op: Intent,
    /// The daemon runs it (false after a crash until the restart recovers it).
    pub in_memory: bool,
}

impl OpSlot {
    /// The slot for an operation the daemon runs.
    pub fn new(op: Intent) -> OpSlot {
        OpSlot {
            op,
            in_memory: true,
        }
    }
}

/// A stable digest (equal values, equal digests; fixed seeds, so runs repeat).
/// aHash, not SipHash: records are re-digested on most transitions.
pub fn digest<T: Hash>(value: &T) -> u64 {
    ahash::RandomState::with_seeds(
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
    )
    .hash_one(value)
}

/// Model-level memory for the properties the core's records cannot show by
/// themselves (what was sent and escalated across restarts; bounded liveness).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ghost {
    /// Reactions escalated in the current incident (one bit per reaction).
    pub escalated: u16,
    /// Notify reactions announced in the current incident.
    pub notified: u16,
    /// Sends not refunded, per reaction, since the incident began (SPEC rules).
    pub sends: [u8; REACTION_COUNT],
    /// Consecutive dead/dead/quiet observations.
    pub dead_streak: u8,
    /// Ticks since the current quarantine episode began (saturating at the
    /// quarantine's duration: older episodes are all alike).
    pub q_age: Option<u8>,
    /// Consecutive identical ambiguous observations in the episode.
    pub q_same: u8,
    /// The last ambiguous evidence.
    pub q_fp: Option<Fingerprint>,
}

/// Commands spent (the bounds that keep the space finite).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Used {
    /// Spawned (once).
    pub spawned: bool,
    /// Kills issued.
    pub kills: u8,
    /// Restores issued.
    pub restores: u8,
}

/// The bit a broken composition interface sets in [`Broken::mask`] (above
/// every SPEC property's bit).
pub const INTERFACE_BIT: u32 = 1 << 31;

/// What the session manager can see of a record: everything a plan, an
/// operation's record write, a reclaim or a world property reads. The
/// composition of the observe and manage profiles rests on observations
/// changing it only as the manage profile's own observations can
/// ([`observation_keeps_interface`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmView<'a> {
    /// Terminal (restorable, a cleanup candidate, reclaimable).
    pub terminal: bool,
    /// Still `not_started` (a record stuck spawning is a leak).
    pub not_started: bool,
    /// Handles, prompt, branch, agent session, spawn completion (but not the
    /// CI log tail, which only reactions read).
    pub handles: (
        Option<&'a Handle>,
        Option<&'a Handle>,
        &'a str,
        &'a str,
        Option<&'a String>,
        bool,
    ),
    /// Worker or orchestrator.
    pub kind: SessionKind,
}

/// The session manager's view of `rec`.
pub fn sm_view(rec: &SessionRecord) -> SmView<'_> {
    let m = &rec.metadata;
    SmView {
        terminal: rec.is_terminal(),
        not_started: rec.lifecycle.session.state == SessionState::NotStarted,
        handles: (
            m.runtime_handle.as_ref(),
            m.workspace_path.as_ref(),
            &m.branch,
            &m.prompt,
            m.agent_session_id.as_ref(),
            m.spawned_at.is_some(),
        ),
        kind: rec.kind,
    }
}

/// An observation may change the session manager's view only as the manage
/// profile's observations can: not at all, by the agent starting (no longer
/// `not_started`, still live), or by a confirmed death (terminated,
/// `runtime_lost`, by a probe).
pub fn observation_keeps_interface(
    before: &SessionRecord,
    event: &Event,
    after: &SessionRecord,
) -> bool {
    let (b, a) = (sm_view(before), sm_view(after));
    if b == a {
        return true;
    }
    let same_handles = b.handles == a.handles && b.kind == a.kind;
    let started = b.not_started && !a.not_started && !b.terminal && !a.terminal;
    let died = !b.terminal
        && a.terminal
        && matches!(event, Event::Runtime(_))
        && after.lifecycle.session.reason == ao_core::domain::SessionReason::RuntimeLost;
    same_handles && (started || died)
}

/// One session slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// The store's record (set only through [`Slot::set_rec`], which keeps
    /// `rec_digest` in step with it).
    rec: Option<Arc<SessionRecord>>,
    /// A digest of `rec`, computed once per record written (most transitions
    /// keep the record, and hashing it is a large part of each state's hash).
    rec_digest: u64,
    /// The operation in flight for this session (spawn, kill or restore).
    pub op: Option<OpSlot>,
    /// Runtimes by handle index (`r0` spawn, `r1`.. restores).
    pub rt: [Rt; 3],
    /// The workspace.
    pub ws: Ws,
    /// A dirty workspace was deleted (only a mutant fake does that).
    pub dirty_deleted: bool,
    /// Names held by something that is not ours (SPEC §7.22).
    pub foreign: Foreign,
    /// The operation in flight (or the last one) was told (an action
    /// answered `Foreign`) that the foreign name is not ours.
    pub foreign_told: bool,
    /// An operation handed its record a name it was told is not ours (a
    /// §7.22 violation, kept as world history like `dirty_deleted`).
    pub foreign_adopted: bool,
    /// Something that is not ours was destroyed (only a mutant fake does that).
    pub foreign_destroyed: bool,
    /// The send of the last step, not yet delivered.
    pub pending: Option<ReactionKey>,
    /// Commands spent.
    pub used: Used,
    /// Property memory.
    pub ghost: Ghost,
    /// A restore completed in the last action (a reachability marker).
    pub restored: bool,
    /// A cleanup skipped this session's dirty workspace in the last action.
    pub cleanup_skipped: bool,
    /// Observation sources already heard from this tick (paced runs).
    pub polled: Polled,
}

/// Which of a slot's names something that is not ours holds (SPEC §7.22):
/// the workspace path, or one of the runtime names. It takes a name only
/// while nothing holds it and no record names it, once per slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Foreign {
    /// Nothing foreign.
    #[default]
    None,
    /// The workspace path.
    Workspace,
    /// The runtime name with this index (`r0` spawn, `r1`.. restores).
    Runtime(u8),
}

impl Foreign {
    fn runtime(self, k: usize) -> bool {
        self == Foreign::Runtime(k as u8)
    }
}

/// Which observation sources reported in the current tick: a paced model
/// hears each source at most once per tick, as the daemon's pollers do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Polled(u8);

impl Polled {
    /// The reaper's runtime/process probe.
    pub const PROBE: Polled = Polled(1);
    /// The agent's activity signal.
    pub const ACTIVITY: Polled = Polled(2);
    /// The SCM poller.
    pub const SCM: Polled = Polled(4);
    /// A second driver racing a write.
    pub const RACE: Polled = Polled(8);

    /// Whether `source` already reported this tick.
    pub fn has(self, source: Polled) -> bool {
        self.0 & source.0 != 0
    }

    fn add(&mut self, source: Polled) {
        self.0 |= source.0;
    }
}

impl Hash for Slot {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let Slot {
            rec: _,
            rec_digest,
            op,
            rt,
            ws,
            dirty_deleted,
            foreign,
            foreign_told,
            foreign_adopted,
            foreign_destroyed,
            pending,
            used,
            ghost,
            restored,
            cleanup_skipped,
            polled,
        } = self;
        rec_digest.hash(state);
        op.hash(state);
        rt.hash(state);
        ws.hash(state);
        dirty_deleted.hash(state);
        foreign.hash(state);
        foreign_told.hash(state);
        foreign_adopted.hash(state);
        foreign_destroyed.hash(state);
        pending.hash(state);
        used.hash(state);
        ghost.hash(state);
        restored.hash(state);
        cleanup_skipped.hash(state);
        polled.hash(state);
    }
}

impl Slot {
    /// The store's record.
    pub fn rec(&self) -> Option<&SessionRecord> {
        self.rec.as_deref()
    }

    /// Replaces the record, and its digest with it.
    fn set_rec(&mut self, rec: Option<Arc<SessionRecord>>) {
        self.rec_digest = rec.as_ref().map_or(0, digest);
        self.rec = rec;
    }

    /// Changes the record in place (copying it if shared), and its digest with it.
    fn edit_rec(&mut self, edit: impl FnOnce(&mut SessionRecord)) {
        if let Some(rec) = &mut self.rec {
            edit(Arc::make_mut(rec));
            self.rec_digest = digest(rec);
        }
    }
}

/// A cleanup in flight: one single-session cleanup per terminal slot, run in slot order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CleanupRun {
    /// (slot, its part of the cleanup).
    pub items: Vec<(u8, Intent)>,
    /// The daemon runs it.
    pub in_memory: bool,
}

/// The properties a transition broke, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Broken {
    /// One bit per [`PropertyId`].
    pub mask: u32,
    /// What was seen, one line per property.
    pub detail: String,
}

/// The model state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The daemon is running.
    pub up: bool,
    /// The sessions, interchangeable.
    pub slots: Vec<Slot>,
    /// The cleanup in flight.
    pub cleanup: Option<CleanupRun>,
    /// Cleanups issued.
    pub cleanups: u8,
    /// Set once a property broke; the state is then terminal.
    pub broken: Option<Arc<Broken>>,
}

impl State {
    /// Whether `p` still holds on the path to this state.
    pub fn holds(&self, p: PropertyId) -> bool {
        self.broken
            .as_ref()
            .is_none_or(|b| b.mask & (1 << (p as u32)) == 0)
    }

    /// Whether the composition's interface held on the path to this state.
    pub fn interface_holds(&self) -> bool {
        self.broken
            .as_ref()
            .is_none_or(|b| b.mask & INTERFACE_BIT == 0)
    }

    fn any_pending(&self) -> bool {
        self.slots.iter().any(|s| s.pending.is_some())
    }
}

impl stateright::Representative for State {
    /// Slots are interchangeable: sort them (by a stable hash), except while a
    /// cleanup runs (it names slots by position).
    fn representative(&self) -> Self {
        let mut s = self.clone();
        if s.cleanup.is_none() && s.slots.len() > 1 {
            s.slots.sort_by_cached_key(digest);
        }
        s
    }
}

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

/// Whether a session-manager event the store accepted lies in the envelope
/// the observe profile offers ([`SmEvent`]): spawn completion only for a
/// record whose spawn (or restore) has not completed yet.
pub fn sm_event_in_envelope(before: &SessionRecord, event: &Event) -> bool {
    match event {
        Event::SpawnCompleted(_) => before.metadata.spawned_at.is_none() && !before.is_terminal(),
        _ => true,
    }
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

/// What feeding one input achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fed {
    Written,
    Unchanged,
    Unknown,
    Rejected(String),
}

/// Broken properties collected during one transition.
#[derive(Clone, Debug, Default)]
pub(crate) struct Viol {
    mask: u32,
    /// One line per property, in the order they broke.
    lines: Vec<(u32, String)>,
}

/// What feeding one input did to a slot (the memoized part of a feed).
#[derive(Debug)]
pub(crate) struct FedOut {
    rec: Option<Arc<SessionRecord>>,
    rec_digest: u64,
    ghost: Ghost,
    pending: Option<ReactionKey>,
    fed: Fed,
    viol: Viol,
}

impl Viol {
    /// Records that an observation changed the session manager's view in a
    /// way the manage profile cannot (the composition would be unsound).
    fn interface(&mut self, detail: impl FnOnce() -> String) {
        if self.mask & INTERFACE_BIT == 0 {
            self.mask |= INTERFACE_BIT;
            self.lines
                .push((INTERFACE_BIT, format!("interface: {}", detail())));
        }
    }

    /// Adds what `other` saw, for properties not broken yet.
    fn merge(&mut self, other: &Viol) {
        for (bit, line) in &other.lines {
            if self.mask & bit == 0 {
                self.mask |= bit;
                self.lines.push((*bit, line.clone()));
            }
        }
    }

    /// Every line, joined.
    fn detail(&self) -> String {
        let lines: Vec<&str> = self.lines.iter().map(|(_, l)| l.as_str()).collect();
        lines.join("\n")
    }

    fn add(&mut self, p: PropertyId, detail: impl FnOnce() -> String) {
        let bit = 1 << (p as u32);
        if self.mask & bit == 0 {
            self.mask |= bit;
            self.lines
                .push((bit, format!("§7.{} {}: {}", p.number(), p, detail())));
        }
    }
}

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

/// An operation advanced by one outcome, with what its ranking function showed.
#[derive(Debug)]
pub struct Advanced {
    /// The operation afterwards.
    pub op: Intent,
    /// How SPEC §7.19 broke, if it did.
    pub broken: Option<String>,
}

/// The world answers an action on `name` that something foreign holds: the
/// operation is told `Foreign`, unless `report` turns the answer into a
/// failure (the call timed out after looking) or the daemon crashes before
/// reading it, which tell it nothing.
fn tell(
    slot: &mut Slot,
    report: impl Fn(Outcome) -> Outcome,
    name: &Handle,
    o: OpOutcome,
) -> Outcome {
    let outcome = report(Outcome::Foreign(format!("{name} is not ours")));
    if matches!(outcome, Outcome::Foreign(_)) && o != OpOutcome::CrashAfter {
        slot.foreign_told = true;
    }
    outcome
}

/// Advances `op` (whose next action is `action`) by `outcome`, checking that
/// an advance lowers `max_steps` and that a stall changes nothing (§7.19).
fn advance(op: &Operation, action: &sm::Action, outcome: Outcome) -> Advanced {
    let mut op = op.clone();
    let before = op.max_steps();
    let mut broken =
        (before == 0).then(|| format!("{} asks for `{action}` beyond its bound", op.kind()));
    let progress = op.advance(outcome);
    let after = op.max_steps();
    if progress == Progress::Stalled {
        if after != before || op.next() != Next::Act(action.clone()) {
            broken = Some(format!("{} changed on a stall after `{action}`", op.kind()));
        }
    } else if after >= before {
        broken = Some(format!(
            "{} bound did not drop ({before} -> {after}) after `{action}`",
            op.kind()
        ));
    }
    Advanced {
        op: Intent::new(op),
        broken,
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

    /// The model's now never moves: time passing ages the stored instants
    /// instead (see [`Action::Tick`]).
    fn now(&self) -> Timestamp {
        fixtures::NOW
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

    /// Whether an outcome applies to an SM action (a half-failure only where
    /// it differs from a failure; no write failure with a reliable store).
    fn applies(&self, slot: &Slot, action: &sm::Action, o: OpOutcome) -> bool {
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
    fn applicable(&self, s: &State, a: Action) -> bool {
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

    fn slot_actions(&self, s: &State, i: usize, out: &mut Vec<Action>) {
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
    fn foreign_actions(&self, slot: &Slot, n: u8, out: &mut Vec<Action>) {
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

    // ---- transitions ----------------------------------------------------

    fn apply(&self, n: &mut State, a: Action, v: &mut Viol) {
        // Reachability markers last one state only (they would double the space).
        for slot in &mut n.slots {
            slot.restored = false;
            slot.cleanup_skipped = false;
        }
        match a {
            Action::Spawn(i) => {
                let i = usize::from(i);
                n.slots[i].used.spawned = true;
                let req = sm::SpawnRequest {
                    op: OpId::from("op"),
                    id: self.sid.clone(),
                    project: self.project.clone(),
                    issue: IssueId(String::new()),
                    kind: SessionKind::Worker,
                    branch: "ao/s".into(),
                    prompt: "task".into(),
                    rules: None,
                    workspace_path: self.ws.clone(),
                    runtime_handle: self.rts[0].clone(),
                    runtime_name: String::new(),
                    at: self.now(),
                };
                let exists = n.slots[i].rec.is_some();
                if let Ok(op) = sm::plan_spawn(req, &self.cfg, |_| exists) {
                    self.start(n, i, op);
                }
            }
            Action::Kill(i, kind) => {
                let i = usize::from(i);
                n.slots[i].used.kills += 1;
                let op = sm::plan_kill(OpId::from("op"), n.slots[i].rec.as_deref(), kind);
                if let Some(op) = op {
                    self.start(n, i, op);
                }
            }
            Action::Restore(i) => {
                let i = usize::from(i);
                let op = self.restore_plan(n, i);
                n.slots[i].used.restores += 1;
                if let Some(op) = op {
                    self.start(n, i, op);
                }
            }
            Action::Cleanup => {
                n.cleanups += 1;
                let items: Vec<(u8, Intent)> = self
                    .cleanup_candidates(n)
                    .into_iter()
                    .filter_map(|i| {
                        let rec = n.slots[i].rec.as_deref()?;
                        let op = sm::plan_cleanup(OpId::from("op"), &self.project, [rec]);
                        Some((i as u8, Intent::new(op)))
                    })
                    .collect();
                for (i, _) in &items {
                    n.slots[usize::from(*i)].foreign_told = false;
                }
                n.cleanup = Some(CleanupRun {
                    items,
                    in_memory: true,
                });
                self.settle_cleanup(n);
            }
            Action::Op(i, o) => self.op_step(n, usize::from(i), o, v),
            Action::CleanupOp(o) => self.cleanup_step(n, o, v),
            Action::Delivered(i) => {
                let i = usize::from(i);
                if let (Some(k), Some(rec)) = (n.slots[i].pending.take(), &n.slots[i].rec) {
                    let l = &rec.lifecycle;
                    if rec.is_terminal() || reaction_for(rec.kind, l.session, &l.pr) != Some(k) {
                        v.add(PropertyId::NoStaleReaction, || {
                            format!("{k} delivered to a session in state {}", l.session.state)
                        });
                    }
                }
            }
            Action::DeliveryFailed(i) => {
                let i = usize::from(i);
                if let Some(reaction) = n.slots[i].pending.take() {
                    self.feed(n, i, Event::DeliveryFailed { reaction }, v);
                }
            }
            Action::Probe(i, r, p) => self.observe(n, i, Polled::PROBE, |n| {
                self.feed(n, usize::from(i), fixtures::probe_event(r, p), v);
            }),
            Action::Activity(i, st, valid) => self.observe(n, i, Polled::ACTIVITY, |n| {
                self.feed(n, usize::from(i), fixtures::activity_event(st, valid), v);
            }),
            Action::Scm(i, f) => self.observe(n, i, Polled::SCM, |n| {
                self.feed(n, usize::from(i), f.event(), v);
            }),
            Action::Race(i, k) => self.observe(n, i, Polled::RACE, |n| {
                if let Some(pair) = RACES.get(usize::from(k)) {
                    self.race(n, usize::from(i), *pair, v);
                }
            }),
            Action::ProcessExits(i) => {
                for r in n.slots[usize::from(i)].rt.iter_mut() {
                    if *r == Rt::Running {
                        *r = Rt::Exited;
                    }
                }
            }
            Action::RuntimeLost(i) => n.slots[usize::from(i)].rt = [Rt::Absent; 3],
            Action::WorkspaceDirty(i) => n.slots[usize::from(i)].ws = Ws::Dirty,
            Action::Foreign(i, f) => n.slots[usize::from(i)].foreign = f,
            Action::Sm(i, e) => {
                let i = usize::from(i);
                let event = self.sm_event(n.slots[i].rec(), e);
                self.feed(n, i, event, v);
            }
            Action::Reclaim(i) => {
                let i = usize::from(i);
                let handle = n.slots[i]
                    .rec
                    .as_ref()
                    .and_then(|r| r.metadata.runtime_handle.clone());
                if let Some(k) = handle.as_ref().and_then(fixtures::runtime_index) {
                    n.slots[i].rt[k] = Rt::Absent;
                }
                let released = Event::Released {
                    runtime: true,
                    workspace: false,
                };
                self.feed(n, i, released, v);
            }
            Action::Crash => self.crash(n),
            Action::Restart => self.restart(n, v),
            Action::Tick => {
                self.pass_time(n);
                if n.up {
                    for i in 0..n.slots.len() {
                        if n.slots[i].rec.as_ref().is_some_and(|r| !r.is_terminal()) {
                            self.feed(n, i, Event::Tick, v);
                        }
                    }
                }
            }
        }
    }

    /// Feeds one observation from `source`, marking the source heard from
    /// this tick (paced runs only) when it changed anything. An observation
    /// that changed nothing stays a self-loop: the state it would lead to can
    /// do only what its parent can, so marking it would split states for
    /// nothing.
    fn observe(&self, n: &mut State, i: u8, source: Polled, feed: impl FnOnce(&mut State)) {
        let i = usize::from(i);
        let before = self.paced.then(|| n.slots[i].clone());
        feed(n);
        if before.is_some_and(|b| b != n.slots[i]) {
            n.slots[i].polled.add(source);
        }
    }

    /// A new operation on slot `i` starts: what earlier operations were told
    /// about foreign names is theirs (§7.22 judges each operation by what it
    /// was told).
    fn start(&self, n: &mut State, i: usize, op: Operation) {
        n.slots[i].foreign_told = false;
        self.hold(n, i, Intent::new(op));
    }

    /// Slot `i`'s operation is now `op`: held in memory while it has an
    /// action left, else finished (and dropped).
    fn hold(&self, n: &mut State, i: usize, op: Intent) {
        match &*memo::next_of(op.digest(), || op.next()) {
            Next::Done(result) => {
                n.slots[i].op = None;
                self.finished(n, i, result);
            }
            Next::Act(_) => n.slots[i].op = Some(OpSlot::new(op)),
        }
    }

    fn finished(&self, n: &mut State, i: usize, result: &OpResult) {
        let slot = &mut n.slots[i];
        match result {
            OpResult::Restored { .. } => slot.restored = true,
            OpResult::Cleaned(report) if !report.skipped.is_empty() && slot.ws == Ws::Dirty => {
                slot.cleanup_skipped = true;
            }
            _ => {}
        }
    }

    /// Executes one action of `op` against slot `i`; returns the advanced
    /// op, or `None` if the daemon crashed right after. Checks the op's
    /// ranking function (`max_steps` drops on every advance that takes
    /// effect: SPEC §7.19; a stall, a failed record write asked again, leaves
    /// the op as it was). The op's own part is pure, so it is memoized per
    /// thread (operations are large to copy).
    fn run_action(
        &self,
        n: &mut State,
        i: usize,
        op: &Intent,
        o: OpOutcome,
        v: &mut Viol,
    ) -> Option<Intent> {
        let next = memo::next_of(op.digest(), || op.next());
        let Next::Act(action) = &*next else {
            return Some(op.clone());
        };
        let restore = matches!(**op, Operation::Restore(_));
        let outcome = self.exec(n, i, action, o, restore, v);
        if o == OpOutcome::CrashAfter {
            self.crash(n);
            return None;
        }
        let key = digest(&(op.digest(), &outcome));
        let step = memo::advanced(key, || advance(op, action, outcome));
        if let Some(why) = &step.broken {
            v.add(PropertyId::OperationsFinish, || why.clone());
        }
        Some(step.op.clone())
    }

    fn op_step(&self, n: &mut State, i: usize, o: OpOutcome, v: &mut Viol) {
        let Some(slot_op) = n.slots[i].op.clone() else {
            return;
        };
        if let Some(op) = self.run_action(n, i, &slot_op.op, o, v) {
            self.hold(n, i, op);
        }
    }

    fn current_cleanup_item(n: &State) -> Option<usize> {
        n.cleanup
            .as_ref()?
            .items
            .iter()
            .position(|(_, op)| !op.is_done())
    }

    fn cleanup_step(&self, n: &mut State, o: OpOutcome, v: &mut Viol) {
        let Some(j) = Self::current_cleanup_item(n) else {
            return;
        };
        let Some((slot, op)) = n.cleanup.as_ref().map(|c| c.items[j].clone()) else {
            return;
        };
        let Some(op) = self.run_action(n, usize::from(slot), &op, o, v) else {
            return;
        };
        if let Some(c) = n.cleanup.as_mut() {
            c.items[j].1 = op;
        }
        self.settle_cleanup(n);
    }

    /// Reports finished cleanup items and ends the cleanup once all are done.
    fn settle_cleanup(&self, n: &mut State) {
        let Some(c) = n.cleanup.clone() else {
            return;
        };
        if c.items.iter().all(|(_, op)| op.is_done()) {
            n.cleanup = None;
            for (slot, op) in &c.items {
                if let Next::Done(result) = op.next() {
                    self.finished(n, usize::from(*slot), &result);
                }
            }
        }
    }

    /// The fakes execute one SM action.
    fn exec(
        &self,
        n: &mut State,
        i: usize,
        action: &sm::Action,
        o: OpOutcome,
        restore: bool,
        v: &mut Viol,
    ) -> Outcome {
        let failed = || Outcome::Failed("injected failure".into());
        if o == OpOutcome::Fail {
            return failed();
        }
        let report = |ok: Outcome| {
            if o == OpOutcome::FailHalf {
                Outcome::Failed("injected failure".into())
            } else {
                ok
            }
        };
        let slot = &mut n.slots[i];
        match action {
            sm::Action::SeedRecord(rec) => {
                if slot.rec.is_some() {
                    return Outcome::Refused("a record with this id exists".into());
                }
                slot.set_rec(Some(Arc::new((**rec).clone())));
                Outcome::Ok
            }
            sm::Action::CreateWorkspace { path, .. }
            | sm::Action::RestoreWorkspace { path, .. } => {
                if slot.foreign == Foreign::Workspace {
                    return self.collided(tell(slot, report, path, o));
                }
                if slot.ws == Ws::Absent {
                    slot.ws = Ws::Clean;
                }
                report(Outcome::Ok)
            }
            sm::Action::CreateRuntime { handle, .. } => {
                let Some(k) = fixtures::runtime_index(handle) else {
                    return failed();
                };
                if slot.foreign.runtime(k) {
                    return self.collided(tell(slot, report, handle, o));
                }
                if slot.rt[k].alive() {
                    return Outcome::Refused(format!("runtime {handle} exists"));
                }
                slot.rt[k] = Rt::Running;
                report(Outcome::Ok)
            }
            // The fakes check the session's tag before destroying, as the adapters do.
            sm::Action::DestroyRuntime { handle, .. } => {
                if let Some(k) = fixtures::runtime_index(handle) {
                    if slot.foreign.runtime(k) {
                        if !self.is(Mutant::DestroysForeign) {
                            return tell(slot, report, handle, o);
                        }
                        slot.foreign = Foreign::None;
                        slot.foreign_destroyed = true;
                    }
                    slot.rt[k] = Rt::Absent;
                }
                report(Outcome::Ok)
            }
            sm::Action::DestroyWorkspace { path, .. } if slot.foreign == Foreign::Workspace => {
                if !self.is(Mutant::DestroysForeign) {
                    return tell(slot, report, path, o);
                }
                slot.foreign = Foreign::None;
                slot.foreign_destroyed = true;
                report(Outcome::Ok)
            }
            sm::Action::DestroyWorkspace { .. } => match slot.ws {
                Ws::Absent => report(Outcome::Ok),
                Ws::Clean => {
                    slot.ws = Ws::Absent;
                    report(Outcome::Ok)
                }
                Ws::Dirty if self.is(Mutant::DirtyWorkspaceDestroyed) => {
                    slot.ws = Ws::Absent;
                    slot.dirty_deleted = true;
                    report(Outcome::Ok)
                }
                Ws::Dirty => Outcome::Refused("uncommitted or unpushed work".into()),
            },
            sm::Action::Reduce { event, .. } => {
                let undo = matches!(
                    event,
                    Event::KillRequested {
                        kind: KillKind::Error
                    }
                );
                if restore && undo && self.is(Mutant::RestoreHalfOpen) {
                    return Outcome::Ok;
                }
                if slot.foreign_told {
                    let name = self.foreign_name(slot.foreign);
                    if name.is_some_and(|h| handed_to_record(event).contains(&&h)) {
                        slot.foreign_adopted = true;
                    }
                }
                match self.feed(n, i, event.clone(), v) {
                    Fed::Written | Fed::Unchanged => Outcome::Ok,
                    // Asking again cannot help: refused (only `Fail` is the store's).
                    Fed::Unknown => Outcome::Refused("no such session".into()),
                    Fed::Rejected(e) => Outcome::Refused(e),
                }
            }
        }
    }

    /// Whether the environment offers `e` to `rec` now (a claim of a live
    /// record, which the core refuses, is left out).
    fn sm_event_offered(&self, rec: &SessionRecord, e: SmEvent) -> bool {
        match e {
            SmEvent::Kill(_) => true,
            SmEvent::Reopen => rec.is_terminal(),
            SmEvent::Complete => rec.metadata.spawned_at.is_none() && !rec.is_terminal(),
        }
    }

    /// The record event standing for `e` on `rec`.
    fn sm_event(&self, rec: Option<&SessionRecord>, e: SmEvent) -> Event {
        match e {
            SmEvent::Kill(kind) => Event::KillRequested { kind },
            SmEvent::Reopen => Event::Reopened {
                stopped: rec.and_then(|r| r.metadata.runtime_handle.clone()),
            },
            SmEvent::Complete => Event::SpawnCompleted(lcm::SpawnHandles {
                workspace_path: self.ws.clone(),
                runtime_handle: self.rts[0].clone(),
                runtime_name: String::new(),
                branch: "ao/s".into(),
                agent_session_id: None,
            }),
        }
    }

    /// The name something foreign holds.
    fn foreign_name(&self, f: Foreign) -> Option<Handle> {
        match f {
            Foreign::None => None,
            Foreign::Workspace => Some(self.ws.clone()),
            Foreign::Runtime(k) => self.rts.get(usize::from(k)).cloned(),
        }
    }

    /// A create met a name that is not ours; the mutant that takes it for
    /// its own creation goes on as if it had created it.
    fn collided(&self, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Foreign(_) if self.is(Mutant::AdoptsForeign) => Outcome::Ok,
            other => other,
        }
    }

    fn crash(&self, n: &mut State) {
        n.up = false;
        for slot in &mut n.slots {
            slot.pending = None;
            if let Some(op) = &mut slot.op {
                op.in_memory = false;
            }
        }
        if let Some(c) = &mut n.cleanup {
            c.in_memory = false;
        }
    }

    fn restart(&self, n: &mut State, v: &mut Viol) {
        n.up = true;
        for i in 0..n.slots.len() {
            let escalated = n.slots[i].rec().is_some_and(|r| !r.policy.is_empty());
            if escalated && self.is(Mutant::RestartForgetsEscalation) {
                n.slots[i].edit_rec(|r| r.policy = Default::default());
            }
            if let Some(slot_op) = n.slots[i].op.clone() {
                self.hold(n, i, slot_op.op.recovered(v));
            }
        }
        if let Some(c) = &mut n.cleanup {
            c.in_memory = true;
            for (_, op) in &mut c.items {
                *op = op.recovered(v);
            }
        }
        self.settle_cleanup(n);
    }

    /// Two writers decide against the same revision; the first lands, the
    /// second must be rejected as stale and re-decide.
    fn race(&self, n: &mut State, i: usize, (f1, f2): (RaceFact, RaceFact), v: &mut Viol) {
        let Some(before) = n.slots[i].rec.clone() else {
            return;
        };
        let now = self.now();
        // Writer 1: an ordinary feed (its send, if any, is delivered at once).
        self.feed(n, i, f1.event(), v);
        n.slots[i].pending = None;
        // Writer 2 decided against `before`.
        let input = Input {
            session: self.sid.clone(),
            at: now,
            event: f2.event(),
        };
        let Ok(mut d2) = lcm::step(&before, &input, &self.cfg) else {
            return;
        };
        if let Some(m) = self.mutant {
            mutant::mutate_decision(m, &self.cfg, &before, &input, &mut d2);
        }
        let Some(p2) = d2.patch().cloned() else {
            return;
        };
        let Some(stored) = n.slots[i].rec.clone() else {
            return;
        };
        if p2.expected_revision == stored.revision {
            // Writer 1 changed nothing: writer 2's decision is current.
            self.commit(&mut n.slots[i], &before, &input, &d2, v);
            return;
        }
        // The store's CAS (the mutant store writes blindly).
        let mut written = (*stored).clone();
        let accepted = if self.is(Mutant::StaleWriteApplied) {
            let mut blind = p2.clone();
            blind.expected_revision = written.revision;
            written.apply(&blind).is_ok()
        } else {
            written.apply(&p2).is_ok()
        };
        if accepted {
            v.add(PropertyId::Revision, || {
                format!(
                    "a write decided against revision {} was applied over revision {}",
                    p2.expected_revision, stored.revision
                )
            });
            n.slots[i].set_rec(Some(Arc::new(written)));
            return;
        }
        // Rejected as stale: re-read and re-decide.
        self.feed(n, i, input.event, v);
    }

    /// Feeds one input to slot `i`'s record through the real step. The step
    /// and its checks are pure in the slot's record, ghost and pending send
    /// and the event, so the outcome is memoized per thread.
    fn feed(&self, n: &mut State, i: usize, event: Event, v: &mut Viol) -> Fed {
        let slot = &mut n.slots[i];
        if slot.rec.is_none() {
            return Fed::Unknown;
        }
        let key = digest(&(slot.rec_digest, slot.ghost, slot.pending, &event));
        let out = memo::fed(key, || {
            let mut scratch = Slot {
                rec: slot.rec.clone(),
                rec_digest: slot.rec_digest,
                ghost: slot.ghost,
                pending: slot.pending,
                ..Slot::default()
            };
            let mut viol = Viol::default();
            let fed = self.feed_fresh(&mut scratch, event, &mut viol);
            FedOut {
                rec: scratch.rec,
                rec_digest: scratch.rec_digest,
                ghost: scratch.ghost,
                pending: scratch.pending,
                fed,
                viol,
            }
        });
        slot.rec.clone_from(&out.rec);
        slot.rec_digest = out.rec_digest;
        slot.ghost = out.ghost;
        slot.pending = out.pending;
        v.merge(&out.viol);
        out.fed.clone()
    }

    /// [`Self::feed`] without the memo.
    fn feed_fresh(&self, slot: &mut Slot, event: Event, v: &mut Viol) -> Fed {
        let Some(rec) = slot.rec.clone() else {
            return Fed::Unknown;
        };
        let input = Input {
            session: self.sid.clone(),
            at: self.now(),
            event,
        };
        let mut decision = match lcm::step(&rec, &input, &self.cfg) {
            Ok(d) => d,
            Err(e) => return Fed::Rejected(e.to_string()),
        };
        if let Some(m) = self.mutant {
            mutant::mutate_decision(m, &self.cfg, &rec, &input, &mut decision);
        }
        self.commit(slot, &rec, &input, &decision, v)
    }

    /// Checks a decision, persists its patch and runs its effects.
    fn commit(
        &self,
        slot: &mut Slot,
        before: &Arc<SessionRecord>,
        input: &Input,
        decision: &lcm::Decision,
        v: &mut Viol,
    ) -> Fed {
        let mut written: Option<SessionRecord> = None;
        if let Some(p) = decision.patch() {
            let mut after = (**before).clone();
            if let Err(e) = after.apply(p) {
                v.add(PropertyId::Revision, || {
                    format!("a fresh patch did not apply to the record it was decided on: {e}")
                });
                return Fed::Unchanged;
            }
            written = Some(after);
        }
        let after: &SessionRecord = written.as_ref().unwrap_or(before);
        let view = StepView {
            cfg: &self.cfg,
            before,
            input,
            decision,
            after,
        };
        if check_step(&view).is_err() {
            for (property, check) in STEP_PROPERTIES {
                if let Err(detail) = check(&view) {
                    v.add(*property, || format!("{detail} (input {:?})", input.event));
                }
            }
        }
        let observation = matches!(
            input.event,
            Event::Runtime(_)
                | Event::Activity(_)
                | Event::Scm(_)
                | Event::Tick
                | Event::DeliveryFailed { .. }
        );
        if !observation && written.is_some() && !sm_event_in_envelope(before, &input.event) {
            v.interface(|| {
                format!(
                    "the session manager wrote {:?} outside the observe profile's envelope",
                    input.event
                )
            });
        }
        if observation && !observation_keeps_interface(before, &input.event, after) {
            v.interface(|| {
                format!(
                    "{:?} changed the session manager's view: {:?} -> {:?}",
                    input.event,
                    sm_view(before),
                    sm_view(after)
                )
            });
        }
        self.ghost_step(slot, before, input, decision, after, v);
        for e in &decision.effects {
            if let Effect::SendToAgent { reaction, .. } = e {
                slot.pending = Some(*reaction);
            }
        }
        match written {
            Some(after) => {
                slot.set_rec(Some(Arc::new(after)));
                Fed::Written
            }
            None => Fed::Unchanged,
        }
    }

    /// Model-level properties over the step and the ghost counters.
    fn ghost_step(
        &self,
        slot: &mut Slot,
        before: &SessionRecord,
        input: &Input,
        decision: &lcm::Decision,
        after: &SessionRecord,
        v: &mut Viol,
    ) {
        let g = &mut slot.ghost;
        let table = self.cfg.reactions_for(&after.project_id);
        let bit = |k: ReactionKey| 1u16 << k.index();
        for e in &decision.effects {
            match e {
                Effect::SendToAgent { reaction: k, .. } => {
                    if g.escalated & bit(*k) != 0 {
                        v.add(PropertyId::Budgets, || {
                            format!("{k} sent after it escalated, before its incident cleared")
                        });
                    }
                    if let Some(r) = table.get(*k).retries {
                        let sends = &mut g.sends[k.index()];
                        *sends = sends.saturating_add(1);
                        if u32::from(*sends) > r + 1 {
                            let count = *sends;
                            v.add(PropertyId::Budgets, || {
                                format!("{k}: {count} sends in one incident, retries {r}")
                            });
                        }
                    }
                }
                Effect::Notify(note) => {
                    let k = note.reaction;
                    match note.kind {
                        NotificationKind::Escalated => {
                            if g.escalated & bit(k) != 0 {
                                v.add(PropertyId::Budgets, || {
                                    format!("{k} escalated twice in one incident")
                                });
                            }
                            g.escalated |= bit(k);
                        }
                        NotificationKind::Reaction => {
                            if g.notified & bit(k) != 0 {
                                v.add(PropertyId::NoNotificationStorm, || {
                                    format!("{k} notified twice in one incident")
                                });
                            }
                            g.notified |= bit(k);
                        }
                    }
                }
                Effect::Persist(_) => {}
            }
        }
        if let Event::DeliveryFailed { reaction } = input.event {
            let sends = &mut g.sends[reaction.index()];
            *sends = sends.saturating_sub(1);
        }
        // Incidents end by the SPEC's rules (not by reading the core's trackers).
        let la = &after.lifecycle;
        let maps = reaction_for(after.kind, la.session, &la.pr);
        let detecting = la.session.state == SessionState::Detecting;
        let recovered =
            !la.pr.draft && matches!(la.pr.reason, PrReason::Approved | PrReason::MergeReady);
        for k in ReactionKey::ALL.iter().copied() {
            let over = after.is_terminal()
                || if k.is_persistent() {
                    la.pr.state != PrState::Open || recovered
                } else {
                    !detecting && maps != Some(k)
                };
            if over {
                g.sends[k.index()] = 0;
            }
            if after.policy.get(k).is_none() {
                g.escalated &= !bit(k);
                g.notified &= !bit(k);
            }
        }
        // Bounded liveness: death confirmation and quarantine counters.
        let t = &self.cfg.thresholds;
        let mut dead_observation = false;
        if let Event::Runtime(obs) = &input.event {
            if !before.is_terminal() && before.metadata.spawned_at.is_some() {
                let bl = &before.lifecycle;
                let recent = decide::recent_activity(&bl.activity, input.at, t);
                if obs.runtime == Probe::Dead && obs.process == Probe::Dead && !recent {
                    dead_observation = true;
                    g.dead_streak = g.dead_streak.saturating_add(1);
                    let due = u32::from(g.dead_streak) >= t.death_confirmations;
                    let dead = la.session.state == SessionState::Terminated;
                    if due != dead {
                        let streak = g.dead_streak;
                        v.add(PropertyId::DeathConfirmed, || {
                            format!("{streak} agreeing dead observation(s), terminated: {dead}")
                        });
                    }
                }
                let grace = bl.session.state == SessionState::NotStarted
                    && before
                        .metadata
                        .spawned_at
                        .is_some_and(|at| timers::in_startup_grace(input.at, at, t))
                    && obs.runtime == Probe::Alive
                    && obs.process != Probe::Failed;
                if let Some(reason) = decide::liveness(obs.runtime, obs.process, recent).reason() {
                    if !grace {
                        let fp = Evidence {
                            runtime: obs.runtime,
                            process: obs.process,
                            recent_activity: recent,
                            reason,
                        }
                        .fingerprint();
                        g.q_same = if g.q_fp == Some(fp) {
                            g.q_same.saturating_add(1)
                        } else {
                            1
                        };
                        g.q_fp = Some(fp);
                    }
                }
            }
        }
        // Only another runtime observation breaks a streak of agreeing ones
        // (SPEC §4.1: "the previous observation of this session"); other
        // inputs (a stale signal, an SCM fact) are not liveness observations.
        if !dead_observation && matches!(input.event, Event::Runtime(_)) {
            g.dead_streak = 0;
        }
        match (before.lifecycle.detecting.is_some(), la.detecting.is_some()) {
            (false, true) => g.q_age = Some(0),
            (_, false) => {
                g.q_age = None;
                g.q_same = 0;
                g.q_fp = None;
                g.dead_streak = 0;
            }
            (true, true) => {}
        }
        if matches!(input.event, Event::Tick | Event::Runtime(_)) && detecting {
            let units = t.quarantine_max_duration.as_millis() / fixtures::UNIT.as_millis();
            let age = g.q_age.map_or(0, u64::from);
            if u32::from(g.q_same) >= t.quarantine_max_attempts || age >= units {
                let same = g.q_same;
                v.add(PropertyId::QuarantineEnds, || {
                    format!(
                        "still detecting after {same} identical observation(s) and {age} unit(s)"
                    )
                });
            }
        }
    }

    /// World properties (`check_world`), one slot at a time with every
    /// in-flight operation (the leak rules wait for all of them).
    /// Only slots whose world changed since `prev` are checked again (unless
    /// the set of operations in flight changed: the leak rules depend on it).
    fn world_check(&self, prev: &State, n: &State, v: &mut Viol) {
        // The observe profile's session manager is an environment that
        // writes records without touching the world: world properties are
        // the manage profile's to check.
        if self.alphabet.sm_events {
            return;
        }
        let in_flight = |s: &State| {
            s.slots.iter().filter(|s| s.op.is_some()).count()
                + s.cleanup.as_ref().map_or(0, |c| {
                    c.items.iter().filter(|(_, op)| !op.is_done()).count()
                })
        };
        let count = in_flight(n);
        let all = count != in_flight(prev) || prev.slots.len() != n.slots.len();
        let ops = vec![OpProgress { steps: 0, bound: 1 }; count];
        for (i, slot) in n.slots.iter().enumerate() {
            let old = &prev.slots[i.min(prev.slots.len().saturating_sub(1))];
            let same_record = match (&old.rec, &slot.rec) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            let unchanged = same_record
                && old.rt == slot.rt
                && old.ws == slot.ws
                && old.dirty_deleted == slot.dirty_deleted;
            if unchanged && !all {
                continue;
            }
            let idle = slot.rec.is_none()
                && slot.ws == Ws::Absent
                && !slot.dirty_deleted
                && !slot.foreign_destroyed
                && !slot.foreign_adopted
                && !slot.rt.iter().any(|r| r.alive());
            if idle {
                continue;
            }
            // Everything the view below is built from (a mutant's fakes
            // differ, but each run checks one supervisor).
            let key = digest(&(
                slot.rec_digest,
                slot.rt,
                slot.ws,
                slot.dirty_deleted,
                slot.foreign,
                slot.foreign_adopted,
                slot.foreign_destroyed,
                count,
            ));
            if super::memo::known_clean(key) {
                continue;
            }
            let view = WorldView {
                records: slot.rec.as_deref().into_iter().collect(),
                runtimes: slot
                    .rt
                    .iter()
                    .zip(&self.rts)
                    .filter(|(r, _)| r.alive())
                    .map(|(_, h)| LiveRuntime {
                        session: self.sid.clone(),
                        handle: h.clone(),
                    })
                    .collect(),
                workspaces: if slot.ws == Ws::Absent {
                    Vec::new()
                } else {
                    vec![WorkspaceView {
                        session: self.sid.clone(),
                        path: self.ws.clone(),
                    }]
                },
                dirty_deleted: if slot.dirty_deleted {
                    vec![self.ws.clone()]
                } else {
                    Vec::new()
                },
                ops: ops.clone(),
                foreign_adopted: if slot.foreign_adopted {
                    self.foreign_name(slot.foreign).into_iter().collect()
                } else {
                    Vec::new()
                },
                foreign_destroyed: if slot.foreign_destroyed {
                    vec![self.ws.clone()]
                } else {
                    Vec::new()
                },
            };
            if check_world(&view).is_err() {
                for (property, check) in WORLD_PROPERTIES {
                    if let Err(detail) = check(&view) {
                        v.add(*property, || format!("session {}: {detail}", i + 1));
                    }
                }
            } else {
                super::memo::remember_clean(key);
            }
        }
    }

    /// One unit of time passes. The clock does not move: every stored
    /// instant ages by a unit instead, and ages past the largest threshold
    /// that reads them are cut off (`timers::extrapolate`), so time passing
    /// reaches a fixpoint and the space is finite without a horizon.
    fn pass_time(&self, n: &mut State) {
        let cap = self.units(self.cfg.thresholds.quarantine_max_duration);
        for slot in &mut n.slots {
            slot.polled = Polled::default();
            if let Some(age) = &mut slot.ghost.q_age {
                *age = age.saturating_add(1).min(cap);
            }
            slot.edit_rec(|r| {
                timers::age_by(r, fixtures::UNIT);
                timers::extrapolate(r, fixtures::NOW, &self.cfg);
            });
        }
    }

    /// A duration in whole model units (saturating).
    fn units(&self, d: ao_core::time::Duration) -> u8 {
        u8::try_from(d.as_millis() / fixtures::UNIT.as_millis()).unwrap_or(u8::MAX)
    }

    /// Forgets what cannot influence the future: revisions (only compared
    /// within a step), the stored runtime axis (decisions read the probes),
    /// which of active/ready/idle was stored (one activity for every
    /// decision), and counts past the bound that reads them. Instants need
    /// nothing here: every step writes them at the model's fixed now, and
    /// only time passing ages them ([`Self::pass_time`]).
    fn normalize(&self, n: &mut State) {
        let t = &self.cfg.thresholds;
        let cap = ao_core::decide::quarantine::attempt_cap(t);
        for slot in &mut n.slots {
            let g = &mut slot.ghost;
            g.q_same = g.q_same.min(u8::try_from(cap).unwrap_or(u8::MAX));
            g.dead_streak = g
                .dead_streak
                .min(u8::try_from(t.death_confirmations).unwrap_or(u8::MAX));
            let Some(rec) = &slot.rec else {
                continue;
            };
            let abstracted = |r: &SessionRecord| {
                let l = &r.lifecycle;
                l.runtime != Lifecycle::seeded().runtime
                    || matches!(l.activity.state, ActivityState::Ready | ActivityState::Idle)
            };
            let over_attempts =
                |r: &SessionRecord| r.lifecycle.detecting.is_some_and(|q| q.attempts > cap);
            // The observe profile has no world: nothing there reads a handle
            // (see [`SmEvent`]), so which ones a record names is forgotten.
            let env = self.alphabet.sm_events;
            let handles = |r: &SessionRecord| {
                env && (r.metadata.runtime_handle.is_some() || r.metadata.workspace_path.is_some())
            };
            if rec.revision == 1 && !abstracted(rec) && !over_attempts(rec) && !handles(rec) {
                continue;
            }
            slot.edit_rec(|r| {
                if env {
                    r.metadata.runtime_handle = None;
                    r.metadata.workspace_path = None;
                }
                r.revision = 1;
                r.lifecycle.runtime = Lifecycle::seeded().runtime;
                if matches!(
                    r.lifecycle.activity.state,
                    ActivityState::Ready | ActivityState::Idle
                ) {
                    r.lifecycle.activity.state = ActivityState::Active;
                }
                if let Some(q) = &mut r.lifecycle.detecting {
                    q.attempts = q.attempts.min(cap);
                }
            });
        }
    }
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
