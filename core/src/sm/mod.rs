//! The session manager (SPEC §5): spawn, kill, restore and cleanup as
//! step-wise state machines. The manager never infers lifecycle state; it runs
//! explicit operations, one idempotent [`Action`] at a time, and reports to the
//! reducer through [`Action::Reduce`].
//!
//! # Driver protocol
//!
//! 1. Plan: [`plan_spawn`], [`plan_kill`], [`plan_restore`] or [`plan_cleanup`].
//!    Planning is pure validation; an error means nothing was created.
//! 2. Persist the [`Operation`] as the write-ahead intent (it serializes).
//! 3. Call [`Operation::next`]. On [`Next::Act`], execute the action and call
//!    [`Operation::advance`] with its [`Outcome`]. On [`Progress::Advanced`],
//!    persist the operation again and repeat. On [`Progress::Stalled`] the
//!    operation is unchanged and asks for the same action again: retry it
//!    later (with a backoff; there is nothing new to persist). On
//!    [`Next::Done`], report the [`OpResult`] and delete the intent.
//! 4. After a crash, load every intent, call [`Operation::recover`], and resume
//!    at step 3. The action in flight may or may not have happened; recovery
//!    assumes neither (every action is idempotent): a spawn or a restore rolls
//!    back whatever it may have created, a kill or a cleanup finishes forward.
//!
//! Every operation finishes within [`Operation::max_steps`] advances that take
//! effect (SPEC §7.19): the bound drops with every [`Progress::Advanced`], a
//! stall leaves it (and the whole operation) unchanged, and it never grows on
//! `recover`. How long a stall lasts is the store's business, not the core's.
//!
//! # Record writes that are never given up
//!
//! A record write (`SeedRecord`, `Reduce`) answered with anything but `Ok`
//! wrote nothing; when the driver cannot tell, it stops as if it crashed. A
//! forward step treats either answer as the operation's failure and rolls back
//! (or, for a kill that could not be recorded, gives up having destroyed
//! nothing: the live record still owns everything). But the writes that hand
//! the aftermath to the record — a rollback's `Adopted` (what it could not
//! destroy) and `KillRequested { kind: Error }` (the errored mark), and a
//! teardown's `Released` (what it freed) — are never given up on
//! [`Outcome::Failed`] (the store failed; it may work later): the operation
//! stalls there and asks for the same write again. An operation that finished
//! without them would leave a leak nobody owns — a runtime or workspace no
//! record names, a record stuck `spawning` or half-open — with no intent left
//! to re-drive it (SPEC §7.8). One still in flight is an intent: the driver
//! retries it, and after a crash recovery re-drives it. [`Outcome::Refused`]
//! (the record is gone, the reducer said no) still settles, because asking
//! again cannot succeed; the result then names what was left.
//!
//! What the driver must guarantee:
//! - Fresh session ids and fresh runtime handles for every spawn and restore
//!   (a rollback destroys its planned handle; a reused name could be another
//!   agent's).
//! - A record write answered `Failed` is one the store may accept later (I/O,
//!   too many revision conflicts); `Refused` is one it never will (a step
//!   error, an unknown session, an id in use).
//! - One operation per session at a time (a cleanup counts for each of its
//!   sessions). Plans read a snapshot of the record; only racing restores are
//!   arbitrated by the core itself, through the `Reopened` claim.

mod action;
mod branch;
mod cleanup;
mod command;
mod error;
mod kill;
mod restore;
mod result;
mod rollback;
mod spawn;
mod teardown;

pub use action::{Action, Next, Outcome, Progress};
pub use branch::{validate_branch, BranchRule};
pub use cleanup::{plan_cleanup, CleanupOp};
pub use command::{agent_env, render_command, shell_quote, CommandVars, TemplateError};
pub use error::SmError;
pub use kill::{plan_kill, KillOp};
pub use restore::{plan_restore, RestoreOp};
pub use result::{
    Cause, CleanupReport, Failure, Fate, KillReport, OpKind, OpResult, RecordFate, RestoreMode,
    Step,
};
pub use spawn::{plan_spawn, SpawnOp, SpawnRequest};

use crate::domain::SessionId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Names one operation (chosen by the driver, unique), so its intent can be found after a crash.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub String);

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl From<&str> for OpId {
    fn from(s: &str) -> Self {
        OpId(s.to_owned())
    }
}

/// A session-manager operation in progress; serialized, it is the write-ahead
/// intent the driver persists (see the module docs for the driver protocol).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// Create a session.
    Spawn(SpawnOp),
    /// End a session and free its resources.
    Kill(KillOp),
    /// Reopen a terminal session.
    Restore(RestoreOp),
    /// Reclaim a project's terminal sessions.
    Cleanup(CleanupOp),
}

impl Operation {
    /// The operation's id.
    pub fn id(&self) -> &OpId {
        match self {
            Operation::Spawn(op) => op.id(),
            Operation::Kill(op) => op.id(),
            Operation::Restore(op) => op.id(),
            Operation::Cleanup(op) => op.id(),
        }
    }

    /// Which kind of operation this is.
    pub fn kind(&self) -> OpKind {
        match self {
            Operation::Spawn(_) => OpKind::Spawn,
            Operation::Kill(_) => OpKind::Kill,
            Operation::Restore(_) => OpKind::Restore,
            Operation::Cleanup(_) => OpKind::Cleanup,
        }
    }

    /// The one session it concerns (`None` for a cleanup, which spans a project),
    /// so a driver can serialize it with that session's other inputs.
    pub fn session(&self) -> Option<&SessionId> {
        match self {
            Operation::Spawn(op) => Some(op.session()),
            Operation::Kill(op) => Some(op.session()),
            Operation::Restore(op) => Some(op.session()),
            Operation::Cleanup(_) => None,
        }
    }

    /// The runtime name a spawn or restore starts its agent under (`None`
    /// for a kill or cleanup, which create nothing).
    pub fn planned_runtime(&self) -> Option<&crate::domain::Handle> {
        match self {
            Operation::Spawn(op) => Some(op.runtime_handle()),
            Operation::Restore(op) => Some(op.runtime_handle()),
            Operation::Kill(_) | Operation::Cleanup(_) => None,
        }
    }

    /// What to do now. Pure: calling it twice gives the same answer.
    pub fn next(&self) -> Next {
        match self {
            Operation::Spawn(op) => op.next(),
            Operation::Kill(op) => op.next(),
            Operation::Restore(op) => op.next(),
            Operation::Cleanup(op) => op.next(),
        }
    }

    /// Reports the outcome of the action `next` last returned, and says whether
    /// it took effect or the same action must be retried (see the module docs).
    /// Ignored once done (answered [`Progress::Stalled`]).
    pub fn advance(&mut self, outcome: Outcome) -> Progress {
        match self {
            Operation::Spawn(op) => op.advance(outcome),
            Operation::Kill(op) => op.advance(outcome),
            Operation::Restore(op) => op.advance(outcome),
            Operation::Cleanup(op) => op.advance(outcome),
        }
    }

    /// The operation to resume after a crash, when its in-flight action may or
    /// may not have happened. Idempotent: recovering twice is recovering once.
    #[must_use]
    pub fn recover(self) -> Operation {
        match self {
            Operation::Spawn(op) => Operation::Spawn(op.recover()),
            Operation::Kill(op) => Operation::Kill(op.recover()),
            Operation::Restore(op) => Operation::Restore(op.recover()),
            Operation::Cleanup(op) => Operation::Cleanup(op.recover()),
        }
    }

    /// An upper bound on the advances that still take effect, whatever the
    /// outcomes; it drops with every [`Progress::Advanced`], stays on a stall,
    /// and never grows on `recover`.
    pub fn max_steps(&self) -> usize {
        match self {
            Operation::Spawn(op) => op.max_steps(),
            Operation::Kill(op) => op.max_steps(),
            Operation::Restore(op) => op.max_steps(),
            Operation::Cleanup(op) => op.max_steps(),
        }
    }

    /// The operation is over; its intent can be deleted.
    pub fn is_done(&self) -> bool {
        match self {
            Operation::Spawn(op) => op.is_done(),
            Operation::Kill(op) => op.is_done(),
            Operation::Restore(op) => op.is_done(),
            Operation::Cleanup(op) => op.is_done(),
        }
    }
}
