//! The ports: what the driver needs from the outside world. Each adapter
//! implements one port; the driver dispatches over an enum of adapters
//! (native async trait methods, no boxing).
//!
//! Rules every adapter follows (they come from failures real supervisors shipped):
//! - every call has a timeout; a timeout or an unexpected error is `failed`,
//!   never `dead`: a probe reports `Dead` only on definitive evidence
//!   ("no such session", "no such process");
//! - destroy calls are idempotent: an absent resource is `Ok`;
//! - a workspace holding uncommitted or unpushed work is never deleted;
//! - only its own (core/SPEC.md §7.22): everything an adapter creates carries
//!   its [`Owner`]'s tag from the moment it exists; a create whose name is
//!   taken answers [`AdapterError::NotOurs`] and touches nothing; destroy,
//!   reuse (a restore) and messages act only on what carries exactly the
//!   caller's tag, and answer `NotOurs` for anything else at the name; a
//!   probe that finds something else at the name reports the session's own
//!   runtime `Dead` (it is gone), and one that cannot read the tag `Failed`.

#![allow(async_fn_in_trait)]

use crate::error::AdapterError;
use crate::owner::Owner;
use ao_core::domain::{Handle, Probe};
use ao_core::lcm::{Notification, ScmObservation};
use std::path::{Path, PathBuf};

/// What to start in a runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeSpec {
    /// The session it is for, and the data dir's instance (the tag).
    pub owner: Owner,
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
    /// Starts the agent, tagged with the spec's owner; a taken name is `NotOurs`.
    async fn create(&self, spec: &RuntimeSpec) -> Result<(), AdapterError>;
    /// Stops it if it is `owner`'s; an absent runtime is `Ok`, another's `NotOurs`.
    async fn destroy(&self, owner: &Owner, handle: &Handle) -> Result<(), AdapterError>;
    /// (runtime probe, agent-process probe) of `owner`'s runtime: another's at
    /// the name means `owner`'s is gone (`Dead`); errors and timeouts are `Failed`.
    async fn probe(&self, owner: &Owner, handle: &Handle) -> (Probe, Probe);
    /// Types a message into the agent's input, if the runtime is `owner`'s.
    async fn send(&self, owner: &Owner, handle: &Handle, message: &str)
        -> Result<(), AdapterError>;
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
    /// Creates it for `owner` at `path` (where nothing may exist yet, else
    /// `NotOurs`) on a new `branch` of the repository at `repo`.
    async fn create(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
        branch: &str,
    ) -> Result<(), AdapterError>;
    /// Makes sure `owner`'s workspace exists: reused if present and `owner`'s,
    /// created if absent, `NotOurs` if something else is at `path`.
    async fn restore(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
        branch: &str,
    ) -> Result<(), AdapterError>;
    /// Deletes it if it is `owner`'s (else `NotOurs`), unless it holds
    /// uncommitted or unpushed work.
    async fn destroy(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
    ) -> Result<Removal, AdapterError>;
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
