//! The ports: what the driver needs from the outside world. Each adapter
//! implements one port; the driver dispatches over an enum of adapters
//! (native async trait methods, no boxing).
//!
//! Rules every adapter follows (they come from failures real supervisors shipped):
//! - every call has a timeout; a timeout or an unexpected error is `failed`,
//!   never `dead`: a probe reports `Dead` only on definitive evidence
//!   ("no such session", "no such process");
//! - destroy calls are idempotent: an absent resource is `Ok`;
//! - a workspace holding uncommitted or unpushed work is never deleted.

#![allow(async_fn_in_trait)]

use crate::error::AdapterError;
use ao_core::domain::{Handle, Probe, SessionId};
use ao_core::lcm::{Notification, ScmObservation};
use std::path::{Path, PathBuf};

/// What to start in a runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeSpec {
    /// The session.
    pub session: SessionId,
    /// The runtime's name (tmux session name, process-group tag).
    pub handle: Handle,
    /// Working directory.
    pub workspace: PathBuf,
    /// Shell command line (already quoted).
    pub command: String,
    /// Extra environment, in order.
    pub env: Vec<(String, String)>,
}

/// Where agents run.
pub trait Runtime: Send + Sync {
    /// The runtime kind's name (`process`, `tmux`, ...).
    fn name(&self) -> &'static str;
    /// Starts the agent.
    async fn create(&self, spec: &RuntimeSpec) -> Result<(), AdapterError>;
    /// Stops it; an absent runtime is `Ok`.
    async fn destroy(&self, handle: &Handle) -> Result<(), AdapterError>;
    /// (runtime probe, agent-process probe); errors and timeouts are `Failed`.
    async fn probe(&self, handle: &Handle) -> (Probe, Probe);
    /// Types a message into the agent's input.
    async fn send(&self, handle: &Handle, message: &str) -> Result<(), AdapterError>;
}

/// What destroying a workspace did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Deleted.
    Removed,
    /// It was not there.
    Absent,
    /// Kept: it holds work (the reason says what).
    Refused(String),
}

/// Where agents work.
pub trait Workspace: Send + Sync {
    /// The workspace kind's name (`git-worktree`, `directory`).
    fn name(&self) -> &'static str;
    /// Creates it at `path` on a new `branch` of the repository at `repo`.
    async fn create(&self, repo: &Path, path: &Path, branch: &str) -> Result<(), AdapterError>;
    /// Makes sure it exists (reusing it if present).
    async fn restore(&self, repo: &Path, path: &Path, branch: &str) -> Result<(), AdapterError>;
    /// Deletes it unless it holds uncommitted or unpushed work.
    async fn destroy(&self, repo: &Path, path: &Path) -> Result<Removal, AdapterError>;
}

/// Where PRs live.
pub trait Scm: Send + Sync {
    /// The PR of `branch` in `repo` (`owner/name`); a failed or timed-out query is `FetchFailed`.
    async fn fetch(&self, repo: &str, branch: &str) -> ScmObservation;
}

/// How the human is told.
pub trait Notifier: Send + Sync {
    /// Delivers one notification (with its own retries, if any).
    async fn notify(&self, n: &Notification) -> Result<(), AdapterError>;
}
