//! The model's state: session slots (record, operation in flight, the fakes'
//! runtimes and workspace, ghost memory), the cleanup in flight and the
//! daemon's up/down flag. Nothing in it is a clock: stored instants live in
//! the records as ages seen from the model's fixed now (see [`super::time`]).

use super::*;

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
    pub(super) fn alive(self) -> bool {
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
    pub(super) fn recovered(&self, v: &mut Viol) -> Intent {
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

/// One session slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// The store's record (set only through [`Slot::set_rec`], which keeps
    /// `rec_digest` in step with it).
    pub(super) rec: Option<Arc<SessionRecord>>,
    /// A digest of `rec`, computed once per record written (most transitions
    /// keep the record, and hashing it is a large part of each state's hash).
    pub(super) rec_digest: u64,
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
    pub(super) fn runtime(self, k: usize) -> bool {
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

    pub(super) fn add(&mut self, source: Polled) {
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
    pub(super) fn set_rec(&mut self, rec: Option<Arc<SessionRecord>>) {
        self.rec_digest = rec.as_ref().map_or(0, digest);
        self.rec = rec;
    }

    /// Changes the record in place (copying it if shared), and its digest with it.
    pub(super) fn edit_rec(&mut self, edit: impl FnOnce(&mut SessionRecord)) {
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

    pub(super) fn any_pending(&self) -> bool {
        self.slots.iter().any(|s| s.pending.is_some())
    }
}
