//! What a finished operation reports: what it did, and on failure, exactly what
//! it freed, kept or could not free, so nothing is lost silently.

use crate::domain::{Handle, ProjectId, SessionId};
use crate::wire::wire_enum;
use serde::{Deserialize, Serialize};
use std::fmt;

wire_enum! {
    /// The kinds of session-manager operation (for logs and reports).
    pub enum OpKind ("operation kind") {
        /// Create a session.
        Spawn => "spawn",
        /// End a session and free its resources.
        Kill => "kill",
        /// Reopen a terminal session.
        Restore => "restore",
        /// Free the resources of a project's terminal sessions.
        Cleanup => "cleanup",
    }
}

wire_enum! {
    /// The forward step an operation failed at (a failure report names it).
    pub enum Step ("operation step") {
        /// Inserting the new record.
        SeedRecord => "seed_record",
        /// Creating the workspace.
        CreateWorkspace => "create_workspace",
        /// Restoring (or reusing) the workspace.
        RestoreWorkspace => "restore_workspace",
        /// Reopening the terminal record (the restore's claim).
        Reopen => "reopen",
        /// Stopping a runtime the terminal record still names (a restore never runs two agents).
        StopPreviousRuntime => "stop_previous_runtime",
        /// Starting the agent's runtime.
        CreateRuntime => "create_runtime",
        /// Reporting spawn completed to the record.
        ReportSpawned => "report_spawned",
        /// Recording the kill.
        RecordKill => "record_kill",
    }
}

wire_enum! {
    /// How a restore starts the agent again.
    pub enum RestoreMode ("restore mode") {
        /// The agent's resume command with its own session id: the conversation continues.
        Resume => "resume",
        /// The launch command with the stored prompt: a fresh agent on the old worktree.
        Relaunch => "relaunch",
    }
}

/// Why a step did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Cause {
    /// The action failed with this error.
    Failed(String),
    /// The driver refused the action (id in use, a live session, ...).
    Refused(String),
    /// The name was held by something that is not the session's (SPEC §7.22).
    Foreign(String),
    /// The daemon crashed while the step was in flight; recovery rolled back.
    Interrupted,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Failed(why) => write!(f, "failed: {why}"),
            Cause::Refused(why) => write!(f, "refused: {why}"),
            Cause::Foreign(why) => write!(f, "not ours: {why}"),
            Cause::Interrupted => f.write_str("interrupted by a restart"),
        }
    }
}

/// What became of a runtime or workspace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Fate {
    /// The operation had none (no handle, or nothing was created).
    Absent,
    /// Destroyed (or confirmed absent).
    Freed(Handle),
    /// Deliberately left in place (a dirty workspace, a restore's workspace,
    /// a workspace whose runtime may still run).
    Kept {
        /// The resource.
        handle: Handle,
        /// Why it was kept.
        reason: String,
    },
    /// Something that is not the session's holds the name: left alone, and
    /// nothing of the session's is there any more (SPEC §7.22).
    Foreign {
        /// The name.
        handle: Handle,
        /// What the adapter saw.
        reason: String,
    },
    /// A destroy failed: it may still exist, and this report may be the only trace of it.
    Leaked {
        /// The resource.
        handle: Handle,
        /// The destroy error.
        reason: String,
    },
}

impl Fate {
    /// The resource is gone.
    pub fn is_freed(&self) -> bool {
        matches!(self, Fate::Freed(_))
    }

    /// The record may stop naming it: it was freed, or its name now holds
    /// something that is not the session's (whose own resource is then gone).
    pub fn is_released(&self) -> bool {
        matches!(self, Fate::Freed(_) | Fate::Foreign { .. })
    }

    /// The handle of a resource that may still exist (kept or leaked).
    pub fn remaining(&self) -> Option<&Handle> {
        match self {
            Fate::Kept { handle, .. } | Fate::Leaked { handle, .. } => Some(handle),
            Fate::Absent | Fate::Freed(_) | Fate::Foreign { .. } => None,
        }
    }

    /// Why a resource remains, if it does.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Fate::Kept { reason, .. } | Fate::Leaked { reason, .. } => Some(reason),
            Fate::Absent | Fate::Freed(_) | Fate::Foreign { .. } => None,
        }
    }
}

impl fmt::Display for Fate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fate::Absent => f.write_str("absent"),
            Fate::Freed(h) => write!(f, "freed {h}"),
            Fate::Kept { handle, reason } => write!(f, "kept {handle} ({reason})"),
            Fate::Foreign { handle, reason } => {
                write!(f, "left alone {handle} (not ours: {reason})")
            }
            Fate::Leaked { handle, reason } => write!(f, "LEAKED {handle} ({reason})"),
        }
    }
}

/// What became of the record after a failed operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RecordFate {
    /// Not changed: no record was created (spawn), it stayed terminal (restore),
    /// or the kill could not be recorded (kill).
    Unchanged,
    /// Terminal and restorable: marked `error_in_process` (display `errored`),
    /// or left as it was when it was already terminal (an unclaimed restore).
    Errored,
    /// Marking it errored was refused (the record is gone, or the reducer said
    /// no); a failed store write is retried instead, never reported here.
    Unmarked(String),
}

impl fmt::Display for RecordFate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordFate::Unchanged => f.write_str("unchanged"),
            RecordFate::Errored => f.write_str("errored"),
            RecordFate::Unmarked(why) => write!(f, "NOT marked errored ({why})"),
        }
    }
}

/// A failed spawn, restore or kill, after its rollback.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// Which operation.
    pub op: OpKind,
    /// The session.
    pub session: SessionId,
    /// The step that failed.
    pub step: Step,
    /// Why.
    pub cause: Cause,
    /// What became of the runtime.
    pub runtime: Fate,
    /// What became of the workspace.
    pub workspace: Fate,
    /// What became of the record.
    pub record: RecordFate,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} failed at {} ({}); runtime: {}; workspace: {}; record: {}",
            self.op, self.session, self.step, self.cause, self.runtime, self.workspace, self.record
        )
    }
}

/// What a kill freed (SPEC §5: "the result says what was freed").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KillReport {
    /// The session, now terminal.
    pub session: SessionId,
    /// What became of its runtime.
    pub runtime: Fate,
    /// What became of its workspace.
    pub workspace: Fate,
    /// Set when telling the record what was freed was refused (the record is
    /// gone); a failed store write is retried instead. Harmless either way,
    /// because destroys are idempotent and a later cleanup repeats them.
    pub release_error: Option<String>,
}

impl KillReport {
    /// The runtime was destroyed.
    pub fn runtime_freed(&self) -> bool {
        self.runtime.is_freed()
    }

    /// The workspace was deleted.
    pub fn workspace_freed(&self) -> bool {
        self.workspace.is_freed()
    }

    /// Why the workspace is still there, if it is.
    pub fn workspace_kept(&self) -> Option<&str> {
        self.workspace.reason()
    }
}

/// What a cleanup reclaimed and what it had to leave.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CleanupReport {
    /// The project.
    pub project: ProjectId,
    /// Sessions whose workspace was deleted, in id order.
    pub cleaned: Vec<SessionId>,
    /// Sessions left alone, with why (dirty workspace, destroy failed).
    pub skipped: Vec<(SessionId, String)>,
    /// Cleaned sessions whose record could not be told (harmless; see [`KillReport::release_error`]).
    pub unreleased: Vec<(SessionId, String)>,
}

/// The final result of an operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OpResult {
    /// The session was created and its agent started (display `spawning` until it acknowledges).
    Spawned {
        /// The new session.
        session: SessionId,
    },
    /// The kill was recorded; the report says what was freed.
    Killed(KillReport),
    /// The session was reopened and its agent started again.
    Restored {
        /// The session.
        session: SessionId,
        /// Resume or relaunch.
        mode: RestoreMode,
    },
    /// A cleanup pass finished.
    Cleaned(CleanupReport),
    /// The operation failed and was rolled back.
    Failed(Failure),
}

impl OpResult {
    /// The operation achieved what it was asked to.
    pub fn is_ok(&self) -> bool {
        !matches!(self, OpResult::Failed(_))
    }

    /// The failure, if it failed.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            OpResult::Failed(f) => Some(f),
            _ => None,
        }
    }
}

impl fmt::Display for OpResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpResult::Spawned { session } => write!(f, "spawned {session}"),
            OpResult::Killed(r) => {
                write!(
                    f,
                    "killed {}; runtime: {}; workspace: {}",
                    r.session, r.runtime, r.workspace
                )?;
                if let Some(e) = &r.release_error {
                    write!(f, "; record not told: {e}")?;
                }
                Ok(())
            }
            OpResult::Restored { session, mode } => write!(f, "restored {session} ({mode})"),
            OpResult::Cleaned(r) => {
                write!(f, "cleanup of {}: cleaned [", r.project)?;
                write_list(f, r.cleaned.iter().map(|s| s.to_string()))?;
                f.write_str("]; skipped [")?;
                write_list(f, r.skipped.iter().map(|(s, why)| format!("{s}: {why}")))?;
                f.write_str("]")?;
                if !r.unreleased.is_empty() {
                    f.write_str("; records not told [")?;
                    write_list(f, r.unreleased.iter().map(|(s, why)| format!("{s}: {why}")))?;
                    f.write_str("]")?;
                }
                Ok(())
            }
            OpResult::Failed(failure) => failure.fmt(f),
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: impl Iterator<Item = String>) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(&item)?;
    }
    Ok(())
}
