//! What an operation asks the driver to do next, and what the driver reports back.

use super::result::OpResult;
use crate::domain::{Handle, ProjectId, SessionId, SessionRecord};
use crate::lcm::Event;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The operation's answer to "what now?": one action to execute, or the final result.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Next {
    /// Execute this action, then report its outcome with `advance`.
    Act(Action),
    /// The operation is over (completed or rolled back); delete its intent.
    Done(OpResult),
}

/// One I/O step for the driver. Every action is idempotent, because after a
/// crash the driver cannot know whether the one in flight happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Insert this new record. Never overwrite: if the id exists, answer `Refused`.
    SeedRecord(Box<SessionRecord>),
    /// Create the session's workspace (a git worktree on `branch`) at `path`,
    /// tagged as the session's; anything already at `path` is `Foreign`.
    CreateWorkspace {
        /// The session it is for.
        session: SessionId,
        /// Its project (the repository).
        project: ProjectId,
        /// The branch to check out.
        branch: String,
        /// Where.
        path: Handle,
    },
    /// Make sure the workspace exists at `path`, reusing it if present and the
    /// session's (a restore); something else at `path` is `Foreign`.
    RestoreWorkspace {
        /// The session it is for.
        session: SessionId,
        /// Its project (the repository).
        project: ProjectId,
        /// The branch to check out.
        branch: String,
        /// Where.
        path: Handle,
    },
    /// Start the agent: a runtime named `handle` running `command` in
    /// `workspace`, tagged as the session's; a name already taken is `Foreign`.
    CreateRuntime {
        /// The session it is for.
        session: SessionId,
        /// The runtime's id (tmux session name, process-group id file, ...).
        handle: Handle,
        /// The working directory.
        workspace: Handle,
        /// The shell command line (values already shell-quoted).
        command: String,
        /// Extra environment, in order.
        env: Vec<(String, String)>,
    },
    /// Destroy the runtime if it carries this session's tag. An absent runtime
    /// is `Ok` (idempotent); one that is not the session's is `Foreign`, untouched.
    DestroyRuntime {
        /// The session it belonged to.
        session: SessionId,
        /// The runtime.
        handle: Handle,
    },
    /// Delete the workspace if it carries this session's tag. Absent is `Ok`; a
    /// dirty one (uncommitted or unpushed work, or a worktree still registered)
    /// is `Refused`, never forced; one that is not the session's is `Foreign`.
    DestroyWorkspace {
        /// The session it belonged to.
        session: SessionId,
        /// The workspace.
        path: Handle,
    },
    /// Feed `Input { session, at: now, event }` to `lcm::step` and persist the
    /// patch (re-deciding on a revision conflict). `Ok` once persisted (or when
    /// the step changed nothing); a step error or a failed write is not `Ok`.
    Reduce {
        /// The session.
        session: SessionId,
        /// The event to reduce.
        event: Event,
    },
}

impl Action {
    /// The runtime or workspace name the action creates or destroys (`None`
    /// for record writes).
    pub fn resource(&self) -> Option<&Handle> {
        match self {
            Action::CreateWorkspace { path, .. }
            | Action::RestoreWorkspace { path, .. }
            | Action::DestroyWorkspace { path, .. } => Some(path),
            Action::CreateRuntime { handle, .. } | Action::DestroyRuntime { handle, .. } => {
                Some(handle)
            }
            Action::SeedRecord(_) | Action::Reduce { .. } => None,
        }
    }

    /// The session the action concerns.
    pub fn session(&self) -> &SessionId {
        match self {
            Action::SeedRecord(rec) => &rec.id,
            Action::CreateWorkspace { session, .. }
            | Action::RestoreWorkspace { session, .. }
            | Action::CreateRuntime { session, .. }
            | Action::DestroyRuntime { session, .. }
            | Action::DestroyWorkspace { session, .. }
            | Action::Reduce { session, .. } => session,
        }
    }
}

/// What happened when the driver executed an action.
///
/// For record writes (`SeedRecord`, `Reduce`) anything but `Ok` means nothing
/// was written: a store write is one transaction, and a driver that cannot tell
/// whether it committed must treat that like a crash (stop; `recover` later).
/// There, `Failed` is the store's own failure (I/O, too many revision
/// conflicts: trying again may work), and `Refused` is a deliberate no (the
/// reducer rejected the input, the id exists, the record is gone: trying again
/// cannot work). The difference matters where an operation must not give up
/// (see [`Progress::Stalled`]).
/// For external resources (workspace, runtime) `Failed` may have half-happened
/// (a timeout), so rollbacks destroy them anyway; `Refused` means the driver
/// deliberately did nothing; `Foreign` means the name is held by something this
/// session did not create (SPEC §7.22), which is left alone and never adopted.
///
/// Adapters tag what they create for a session, so every create and destroy
/// can tell "ours" from "someone else's": a create whose name is taken answers
/// `Foreign` (never "created"), and a destroy removes only what carries the
/// session's tag (anything else at that name answers `Foreign`, untouched).
/// That is what makes a rollback after an unknown outcome (a timeout, a crash
/// mid-create) safe: its destroy can only ever remove its own creation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// Done.
    Ok,
    /// An error; the text says what went wrong.
    Failed(String),
    /// Deliberately not done (a dirty workspace, an id already in use).
    Refused(String),
    /// The name is held by something this session did not create (another
    /// daemon's agent, a user's own tmux session, a directory already there):
    /// nothing was created or destroyed, and it must never be adopted.
    Foreign(String),
}

/// What [`advance`](super::Operation::advance) made of an outcome, so the
/// driver knows whether to go on at once or to try the same action later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// The outcome took effect: the operation moved on and its
    /// [`max_steps`](super::Operation::max_steps) dropped. Persist it and go on.
    Advanced,
    /// A record write the operation cannot give up on (a rollback's or a
    /// teardown's hand-off to the record) failed and wrote nothing: the
    /// operation is unchanged and asks for the same action again. Retry it
    /// later, with a backoff; an operation that finished instead would leave
    /// a leak that no record and no intent owns. A finished operation, which
    /// ignores outcomes, answers this too.
    Stalled,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::Failed(why) => write!(f, "failed: {why}"),
            Outcome::Refused(why) => write!(f, "refused: {why}"),
            Outcome::Foreign(why) => write!(f, "not ours: {why}"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::SeedRecord(rec) => write!(
                f,
                "seed_record {} (project {}, issue {}, {}, {}/{})",
                rec.id,
                rec.project_id,
                rec.issue_id,
                rec.kind,
                rec.lifecycle.session.state,
                rec.lifecycle.session.reason,
            ),
            Action::CreateWorkspace {
                session,
                project,
                branch,
                path,
            } => write!(
                f,
                "create_workspace {session} at {path} (project {project}, branch {branch})"
            ),
            Action::RestoreWorkspace {
                session,
                project,
                branch,
                path,
            } => write!(
                f,
                "restore_workspace {session} at {path} (project {project}, branch {branch})"
            ),
            Action::CreateRuntime {
                session,
                handle,
                workspace,
                command,
                env,
            } => {
                write!(f, "create_runtime {session} as {handle} in {workspace}:")?;
                for (k, v) in env {
                    write!(f, " {k}={v}")?;
                }
                write!(f, " {command}")
            }
            Action::DestroyRuntime { session, handle } => {
                write!(f, "destroy_runtime {session} {handle}")
            }
            Action::DestroyWorkspace { session, path } => {
                write!(f, "destroy_workspace {session} {path}")
            }
            Action::Reduce { session, event } => {
                write!(f, "reduce {session} ")?;
                write_event(f, event)
            }
        }
    }
}

fn write_event(f: &mut fmt::Formatter<'_>, event: &Event) -> fmt::Result {
    match event {
        Event::KillRequested { kind } => write!(f, "kill_requested({kind})"),
        Event::Reopened { stopped: None } => f.write_str("reopened"),
        Event::Reopened { stopped: Some(h) } => write!(f, "reopened(stopped {h})"),
        Event::Released { runtime, workspace } => {
            write!(f, "released(runtime: {runtime}, workspace: {workspace})")
        }
        Event::SpawnCompleted(h) => {
            write!(
                f,
                "spawn_completed(workspace {}, runtime {}",
                h.workspace_path, h.runtime_handle
            )?;
            if !h.runtime_name.is_empty() {
                write!(f, " [{}]", h.runtime_name)?;
            }
            write!(f, ", branch {}", h.branch)?;
            if let Some(agent) = &h.agent_session_id {
                write!(f, ", agent session {agent}")?;
            }
            f.write_str(")")
        }
        other => write!(f, "{other:?}"),
    }
}
