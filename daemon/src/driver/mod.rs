//! The driver: owns no decisions. Per session, one actor serializes inputs
//! and session-manager operations; each input goes through the core's step,
//! its write is committed with revision CAS by the store writer (group
//! commit; re-read and re-decide on a conflict), journaled, and its effects
//! run in order before the session's next input. Timers feed the reaper, the
//! SCM poller and ticks, whose targets come from the core's selection
//! functions.

mod actor;
mod adapters;
mod clock;
mod events;
mod metrics;
mod ops;
mod terminal;
pub mod timers;

pub use actor::Fed;
pub use adapters::{Adapters, AgentOutput};
pub use clock::{Clock, SystemClock};
pub use events::SessionEvent;
pub use metrics::Metrics;

use crate::config::DaemonConfig;
use crate::journal::Journal;
use crate::store::Store;
use crate::writer::StoreWriter;
use ao_core::config::Config;
use ao_core::domain::SessionId;
use ao_core::lcm::Event;
use ao_core::sm::{OpResult, Operation};
use ao_core::time::Timestamp;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Everything the actors, timers and API share.
pub struct Shared {
    /// The core's resolved configuration.
    pub cfg: Config,
    /// The daemon's configuration.
    pub daemon_cfg: DaemonConfig,
    /// Data directory.
    pub data_dir: PathBuf,
    /// The store (SQLite), for reads and the session manager's own writes.
    pub store: Arc<Store>,
    /// Commits every input's write (group commit) and journals every input.
    pub writer: StoreWriter,
    /// Real adapters.
    pub adapters: Adapters,
    /// Session actors by id (a plain mutex: held for a lookup, never across an await).
    actors: Mutex<BTreeMap<SessionId, mpsc::Sender<actor::Msg>>>,
    /// Session change events (for the SSE stream).
    pub events: broadcast::Sender<SessionEvent>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// The daemon's own URL, handed to agents as `AO_URL`.
    pub url: String,
    /// The daemon's secret: agents get hook tokens derived from it.
    pub secret: crate::token::Secret,
    /// Set once shutdown begins, so an operation waiting to retry a record
    /// write stops (its intent stays for boot recovery) instead of holding
    /// its actor past the shutdown limit.
    stopping: watch::Sender<bool>,
}

/// Why a request to a session could not be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    /// No record with this id.
    #[error("no such session `{0}`")]
    UnknownSession(SessionId),
    /// The core refused the input (a contract error).
    #[error("rejected: {0}")]
    Rejected(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
    /// The daemon is shutting down.
    #[error("the daemon is shutting down")]
    ShuttingDown,
}

impl Shared {
    /// Builds the shared state and starts the store writer's thread (which
    /// owns the journal from here on); fails only if the thread cannot start.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: Config,
        daemon_cfg: DaemonConfig,
        data_dir: PathBuf,
        store: Arc<Store>,
        journal: Journal,
        adapters: Adapters,
        clock: Arc<dyn Clock>,
        url: String,
        secret: crate::token::Secret,
    ) -> std::io::Result<Arc<Shared>> {
        let (events, _) = broadcast::channel(1024);
        let writer = StoreWriter::start(store.clone(), journal)?;
        Ok(Arc::new(Shared {
            cfg,
            daemon_cfg,
            data_dir,
            store,
            writer,
            adapters,
            actors: Mutex::new(BTreeMap::new()),
            events,
            metrics: Metrics::default(),
            clock,
            url,
            secret,
            stopping: watch::Sender::new(false),
        }))
    }

    /// The actor of a session, started on first use.
    fn actor(self: &Arc<Self>, id: &SessionId) -> mpsc::Sender<actor::Msg> {
        let mut actors = self.actors.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = actors.get(id) {
            if !tx.is_closed() {
                return tx.clone();
            }
        }
        let tx = actor::start(self.clone(), id.clone());
        actors.insert(id.clone(), tx.clone());
        tx
    }

    /// Feeds one input to a session and waits until its effects ran.
    pub async fn feed(
        self: &Arc<Self>,
        id: &SessionId,
        event: Event,
    ) -> Result<actor::Fed, DriverError> {
        self.feed_observed(id, event, None).await
    }

    /// [`Self::feed`] for an input observed at `observed` (a spooled hook
    /// signal ingested late), not now.
    pub async fn feed_observed(
        self: &Arc<Self>,
        id: &SessionId,
        event: Event,
        observed: Option<Timestamp>,
    ) -> Result<actor::Fed, DriverError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.actor(id);
        tx.send(actor::Msg::Feed {
            event,
            observed,
            reply: Some(reply),
        })
        .await
        .map_err(|_| DriverError::ShuttingDown)?;
        rx.await.map_err(|_| DriverError::ShuttingDown)?
    }

    /// Feeds an input without waiting (observers).
    pub async fn post(self: &Arc<Self>, id: &SessionId, event: Event) {
        let tx = self.actor(id);
        let _ = tx
            .send(actor::Msg::Feed {
                event,
                observed: None,
                reply: None,
            })
            .await;
    }

    /// Runs a session-manager operation in its session's actor (one at a
    /// time per session) and waits for its result.
    pub async fn run_op(self: &Arc<Self>, op: Operation) -> Result<OpResult, DriverError> {
        match op.session().cloned() {
            Some(id) => {
                let (reply, rx) = oneshot::channel();
                let tx = self.actor(&id);
                tx.send(actor::Msg::Op {
                    op: Box::new(op),
                    reply: Some(reply),
                })
                .await
                .map_err(|_| DriverError::ShuttingDown)?;
                rx.await.map_err(|_| DriverError::ShuttingDown)
            }
            // A cleanup spans sessions: it runs on its own and feeds each session's actor.
            None => ops::run(self, op, None)
                .await
                .ok_or(DriverError::ShuttingDown),
        }
    }

    /// Stops every actor after it drains its queue (bounded by the caller's timeout).
    pub async fn drain(&self) {
        self.stopping.send_replace(true);
        let actors: Vec<_> =
            std::mem::take(&mut *self.actors.lock().unwrap_or_else(PoisonError::into_inner))
                .into_values()
                .collect();
        for tx in actors {
            let (done, rx) = oneshot::channel();
            if tx.send(actor::Msg::Stop { done }).await.is_ok() {
                let _ = rx.await;
            }
        }
    }
}
