//! The store writer: one dedicated thread that owns the daemon's writes.
//!
//! Session actors hand it their revision-CAS writes (each with the journal
//! line of the input that decided it) over a channel and await the answer.
//! The thread takes every write waiting at that moment, commits them as one
//! SQLite transaction ([`Store::apply_batch`]: each write still its own CAS),
//! appends the journal lines of the writes that landed with one `write`, and
//! only then answers every waiter. So an actor never acts on a write before it
//! is committed, the journal holds exactly the committed inputs in commit
//! order (per session, input order), and the per-commit cost is paid once per
//! batch instead of once per write. Under light load a batch is one write and
//! nothing waits for company.
//!
//! Inputs that write nothing are journaled directly ([`StoreWriter::journal`])
//! under the same lock: an actor's previous write was journaled before it was
//! answered, so per-session order holds.
//!
//! WAL checkpoints (page copies and fsyncs, milliseconds each) run on a
//! second thread with its own connection, at most every
//! [`CHECKPOINT_INTERVAL`], so no batch waits for one.

use crate::journal::{Journal, JournalError, Line};
use crate::store::{Applied, Checkpointer, Store, StoreError, Write};
use ao_core::domain::{SessionId, SessionRecord};
use ao_core::journal::JournalEntry;
use ao_core::lcm::Patch;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;

/// Most writes committed in one transaction: bounds how long the first
/// waiter of a batch waits for the rest.
pub const MAX_BATCH: usize = 1024;

/// Least time between two background checkpoints. Each costs two fsyncs,
/// and on ext4 an fsync stalls the writer's WAL appends for a few ms: fewer,
/// larger checkpoints stall less often (measured: p99 input-to-commit at 16
/// streams ~3-4 ms at 50 ms, ~2 ms at 200 ms), while the WAL only grows by
/// what one interval commits (~10 MB at full speed with small batches).
/// Longer intervals did not measurably help further (1 s against 200 ms,
/// interleaved runs on a loaded 2-core VM): a checkpoint that catches up lets
/// the writer restart the WAL, and SQLite syncs the restarted WAL's header on
/// the writer's own commit (tens of ms when the disk is busy), so some
/// writer stall per cycle remains whatever the interval; under sustained
/// load the cycle is also bounded by [`crate::store::BACKSTOP_CHECKPOINT_PAGES`].
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// Why a write was not committed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum WriteError {
    /// The store refused the write or failed its whole batch; a batch's
    /// failure is shared by every waiter of that batch.
    #[error("{0}")]
    Store(Arc<StoreError>),
    /// The writer thread is gone (shutdown, or it died): nothing was committed.
    #[error("the store writer has stopped")]
    Stopped,
}

/// What the writer thread is handed.
// Nearly every message is a write: boxing it would only add an allocation
// per write.
#[allow(clippy::large_enum_variant)]
enum Msg {
    /// A write for the next batch.
    Write(Job),
    /// Commit what was handed over before this, then stop (answered on exit).
    Stop(oneshot::Sender<()>),
}

/// One write waiting for its batch.
struct Job {
    id: SessionId,
    patch: Patch,
    base: Option<SessionRecord>,
    line: Option<Line>,
    reply: oneshot::Sender<Result<Applied, WriteError>>,
}

/// The handle to the writer thread (cheap to share: the daemon holds one).
#[derive(Debug)]
pub struct StoreWriter {
    jobs: mpsc::Sender<Msg>,
    journal: Arc<Mutex<Journal>>,
}

impl StoreWriter {
    /// Starts the writer thread; it stops once the handle is dropped and the
    /// writes already handed over are committed.
    pub fn start(store: Arc<Store>, journal: Journal) -> std::io::Result<StoreWriter> {
        let journal = Arc::new(Mutex::new(journal));
        let (jobs, queue) = mpsc::channel();
        let checkpoints = background_checkpoints(&store)?;
        let thread_journal = journal.clone();
        std::thread::Builder::new()
            .name("ao-store-writer".into())
            .spawn(move || {
                let stopped = run(&store, &thread_journal, &queue, checkpoints.as_ref());
                // Let go of the store (and the checkpoint thread) before
                // telling `stop` the writer is gone.
                drop((store, checkpoints));
                if let Some(done) = stopped {
                    let _ = done.send(());
                }
            })?;
        Ok(StoreWriter { jobs, journal })
    }

    /// Commits a patch decided against `base` (the record as the caller last
    /// read or wrote it; `None` to let the store read it) in the next batch,
    /// journals `line` if and only if the write lands, and answers once the
    /// batch has committed.
    pub async fn apply(
        &self,
        id: SessionId,
        patch: Patch,
        base: Option<SessionRecord>,
        line: Option<Line>,
    ) -> Result<Applied, WriteError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            id,
            patch,
            base,
            line,
            reply,
        };
        self.jobs
            .send(Msg::Write(job))
            .map_err(|_| WriteError::Stopped)?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }

    /// Commits every write handed over so far, then stops the thread (and so
    /// releases its hold on the store); later writes fail with
    /// [`WriteError::Stopped`]. Shutdown calls it after the actors drained.
    pub async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.jobs.send(Msg::Stop(done)).is_ok() {
            let _ = stopped.await;
        }
    }

    /// Appends an entry that goes with no write (an input that changed
    /// nothing, a seeded record), in order with the writer's own appends.
    pub fn journal(&self, entry: &JournalEntry) -> Result<(), JournalError> {
        lock(&self.journal).append(entry)
    }
}

fn lock(journal: &Mutex<Journal>) -> MutexGuard<'_, Journal> {
    // A panic mid-append left at most a torn last line, which the next open cuts.
    journal.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer thread: a batch is every job waiting when the previous commit
/// finished (up to [`MAX_BATCH`]), so batches grow with the load by
/// themselves. Returns on a stop (its answer, to send once the store is let
/// go) or when every handle is gone.
fn run(
    store: &Store,
    journal: &Mutex<Journal>,
    queue: &mpsc::Receiver<Msg>,
    checkpoints: Option<&mpsc::SyncSender<()>>,
) -> Option<oneshot::Sender<()>> {
    let mut batch = Vec::new();
    let mut stop = None;
    while stop.is_none() {
        let Ok(first) = queue.recv() else {
            return None;
        };
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Write(job) => batch.push(job),
                Msg::Stop(done) => {
                    stop = Some(done);
                    break;
                }
            }
            if batch.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        if batch.is_empty() {
            continue;
        }
        commit(store, journal, &mut batch);
        if let Some(poke) = checkpoints {
            // Full means a checkpoint is already due: nothing to add.
            let _ = poke.try_send(());
        }
    }
    stop
}

/// Starts the checkpoint thread, if the store has a file; without one (or if
/// its connection does not open) the store keeps checkpointing inline.
fn background_checkpoints(store: &Store) -> std::io::Result<Option<mpsc::SyncSender<()>>> {
    let checkpointer = match store.checkpointer() {
        Ok(Some(c)) => c,
        Ok(None) => return Ok(None),
        Err(e) => {
            tracing::warn!("checkpoints stay on the write path: {e}");
            return Ok(None);
        }
    };
    let (poke, pokes) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("ao-store-checkpoint".into())
        .spawn(move || checkpoints(&checkpointer, &pokes))?;
    Ok(Some(poke))
}

/// After a commit pokes it, waits out the interval (more commits join the
/// same checkpoint), then checkpoints; stops with the writer.
fn checkpoints(checkpointer: &Checkpointer, pokes: &mpsc::Receiver<()>) {
    while pokes.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_INTERVAL);
        if let Err(e) = checkpointer.checkpoint() {
            tracing::warn!(
                store = checkpointer.location(),
                "background checkpoint failed: {e}"
            );
        }
    }
}

/// Commits one batch, journals what landed, answers every waiter.
fn commit(store: &Store, journal: &Mutex<Journal>, batch: &mut Vec<Job>) {
    let writes: Vec<Write<'_>> = batch
        .iter()
        .map(|job| Write {
            id: &job.id,
            patch: &job.patch,
            base: job.base.as_ref(),
        })
        .collect();
    let outcomes = store.apply_batch(&writes);
    drop(writes);
    match outcomes {
        Ok(outcomes) => {
            let landed = batch
                .iter()
                .zip(&outcomes)
                .filter(|(_, outcome)| matches!(outcome, Ok(Applied::Written(_))))
                .filter_map(|(job, _)| job.line.as_ref());
            if let Err(e) = lock(journal).append_lines(landed) {
                tracing::error!("journal append failed: {e}");
            }
            for (job, outcome) in batch.drain(..).zip(outcomes) {
                let _ = job
                    .reply
                    .send(outcome.map_err(|e| WriteError::Store(Arc::new(e))));
            }
        }
        Err(e) => {
            tracing::error!(writes = batch.len(), "store batch failed: {e}");
            let e = Arc::new(e);
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(WriteError::Store(e.clone())));
            }
        }
    }
}
