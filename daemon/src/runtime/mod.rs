//! Runtime adapters: where agents run. `process` (the embedded default: a
//! detached process group whose state lives in files, so a restarted daemon
//! still finds it) and `tmux` (a real tmux server). The driver holds an
//! [`AnyRuntime`] and dispatches statically, without boxing.

pub mod output;
pub mod process;
pub mod tmux;

pub use process::ProcessRuntime;
pub use tmux::TmuxRuntime;

use crate::error::AdapterError;
use crate::owner::Owner;
use crate::ports::{Runtime, RuntimeSpec};
use ao_core::domain::{Handle, Probe};
use std::future::Future;
use std::time::Duration;

/// Time limits for runtime calls, so no call can hang the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeTimeouts {
    /// Limit for `create`.
    pub create: Duration,
    /// Limit for `destroy` (includes the grace period).
    pub destroy: Duration,
    /// Limit for each probe.
    pub probe: Duration,
    /// Limit for `send` (and tmux `capture`).
    pub send: Duration,
    /// How long a process group gets after SIGTERM before SIGKILL.
    pub grace: Duration,
}

impl Default for RuntimeTimeouts {
    fn default() -> Self {
        RuntimeTimeouts {
            create: Duration::from_secs(5),
            destroy: Duration::from_secs(5),
            probe: Duration::from_secs(2),
            send: Duration::from_secs(5),
            grace: Duration::from_secs(2),
        }
    }
}

/// Every runtime kind the daemon ships, so the driver dispatches without `dyn`.
#[derive(Clone, Debug)]
pub enum AnyRuntime {
    /// Plain process group (the default).
    Process(ProcessRuntime),
    /// A tmux session.
    Tmux(TmuxRuntime),
}

impl From<ProcessRuntime> for AnyRuntime {
    fn from(r: ProcessRuntime) -> Self {
        AnyRuntime::Process(r)
    }
}

impl From<TmuxRuntime> for AnyRuntime {
    fn from(r: TmuxRuntime) -> Self {
        AnyRuntime::Tmux(r)
    }
}

impl Runtime for AnyRuntime {
    fn name(&self) -> &'static str {
        match self {
            AnyRuntime::Process(r) => r.name(),
            AnyRuntime::Tmux(r) => r.name(),
        }
    }

    async fn create(&self, spec: &RuntimeSpec) -> Result<(), AdapterError> {
        match self {
            AnyRuntime::Process(r) => r.create(spec).await,
            AnyRuntime::Tmux(r) => r.create(spec).await,
        }
    }

    async fn destroy(&self, owner: &Owner, handle: &Handle) -> Result<(), AdapterError> {
        match self {
            AnyRuntime::Process(r) => r.destroy(owner, handle).await,
            AnyRuntime::Tmux(r) => r.destroy(owner, handle).await,
        }
    }

    async fn probe(&self, owner: &Owner, handle: &Handle) -> (Probe, Probe) {
        match self {
            AnyRuntime::Process(r) => r.probe(owner, handle).await,
            AnyRuntime::Tmux(r) => r.probe(owner, handle).await,
        }
    }

    async fn send(
        &self,
        owner: &Owner,
        handle: &Handle,
        message: &str,
    ) -> Result<(), AdapterError> {
        match self {
            AnyRuntime::Process(r) => r.send(owner, handle, message).await,
            AnyRuntime::Tmux(r) => r.send(owner, handle, message).await,
        }
    }
}

/// Runs `fut` under `limit`, turning an expiry into [`AdapterError::Timeout`].
pub(crate) async fn within<T>(
    what: &str,
    limit: Duration,
    fut: impl Future<Output = Result<T, AdapterError>>,
) -> Result<T, AdapterError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result,
        Err(_) => Err(AdapterError::Timeout {
            what: what.to_owned(),
            millis: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        }),
    }
}

/// The environment an agent gets: `AO_SESSION_ID` first (so hooks can always
/// name their session), then the spec's own variables, which may override it.
pub(crate) fn agent_env(spec: &RuntimeSpec) -> Vec<(String, String)> {
    let mut env = Vec::with_capacity(spec.env.len() + 1);
    if !spec.env.iter().any(|(k, _)| k == "AO_SESSION_ID") {
        let session = spec.owner.session().as_str().to_owned();
        env.push(("AO_SESSION_ID".to_owned(), session));
    }
    env.extend(spec.env.iter().cloned());
    env
}
