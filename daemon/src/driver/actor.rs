//! One actor per session: inputs and operations for a session run one at a
//! time, and a step's effects run in order before the session's next input.

use super::{ops, DriverError, SessionEvent, Shared};
use crate::driver::metrics::Metrics;
use crate::journal::Line;
use crate::store::Applied;
use crate::writer::WriteError;
use ao_core::domain::{display_status, SessionId, SessionRecord};
use ao_core::invariants::{check_step, StepView};
use ao_core::journal::{effects_digest, JournalEntry};
use ao_core::lcm::{step, Effect, Event, Input};
use ao_core::sm::{OpResult, Operation};
use ao_core::time::Timestamp;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What an input achieved.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Fed {
    /// A write was committed.
    Written,
    /// The step changed nothing.
    Unchanged,
}

/// A message to a session's actor.
pub(super) enum Msg {
    /// Feed an input (and reply once its effects ran).
    Feed {
        event: Event,
        /// When it was observed, if not now (a spooled hook).
        observed: Option<Timestamp>,
        reply: Option<oneshot::Sender<Result<Fed, DriverError>>>,
    },
    /// Run an operation to completion (boxed: operations are large and rare).
    Op {
        op: Box<Operation>,
        reply: Option<oneshot::Sender<OpResult>>,
    },
    /// Finish the queue, then stop.
    Stop { done: oneshot::Sender<()> },
}

/// Most re-decisions after revision conflicts before giving up on one input.
const MAX_CONFLICT_RETRIES: usize = 16;

/// Starts a session's actor.
pub(super) fn start(shared: Arc<Shared>, id: SessionId) -> mpsc::Sender<Msg> {
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    tokio::spawn(async move {
        // The session's record as last read or written: a stale copy is caught
        // by the store's revision check and re-read, so the cache is only a
        // saving, never a source of truth.
        let mut cache: Option<SessionRecord> = None;
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Feed {
                    event,
                    observed,
                    reply,
                } => {
                    let result = feed_all(&shared, &id, event, observed, &mut cache).await;
                    if let Some(reply) = reply {
                        let _ = reply.send(result);
                    }
                }
                Msg::Op { op, reply } => {
                    // `None`: stopped for shutdown; dropping the reply says so.
                    let result = ops::run(&shared, *op, Some((&id, &mut cache))).await;
                    if let (Some(result), Some(reply)) = (result, reply) {
                        let _ = reply.send(result);
                    }
                }
                Msg::Stop { done } => {
                    let _ = done.send(());
                    break;
                }
            }
        }
    });
    tx
}

/// Feeds an input (observed at `observed`, else now) and the inputs its
/// effects cause (a failed delivery, observed now), in order.
pub(super) async fn feed_all(
    shared: &Arc<Shared>,
    id: &SessionId,
    event: Event,
    mut observed: Option<Timestamp>,
    cache: &mut Option<SessionRecord>,
) -> Result<Fed, DriverError> {
    let mut queue = VecDeque::from([event]);
    let mut first = None;
    while let Some(event) = queue.pop_front() {
        let at = observed.take();
        let (fed, followups) = match feed_one(shared, id, event, at, cache).await {
            Ok(ok) => ok,
            Err(e) if first.is_none() => return Err(e),
            Err(e) => {
                tracing::warn!(session = %id, "follow-up input failed: {e}");
                continue;
            }
        };
        first.get_or_insert(fed);
        queue.extend(followups);
    }
    Ok(first.unwrap_or(Fed::Unchanged))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DriverError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| DriverError::Store(format!("store task failed: {e}")))
}

/// Decide, commit with CAS (re-read and re-decide on conflict), journal, run effects.
async fn feed_one(
    shared: &Arc<Shared>,
    id: &SessionId,
    event: Event,
    observed: Option<Timestamp>,
    cache: &mut Option<SessionRecord>,
) -> Result<(Fed, Vec<Event>), DriverError> {
    let kind = event_kind(&event);
    for _ in 0..MAX_CONFLICT_RETRIES {
        let before = match cache.take() {
            Some(rec) => Some(rec),
            None => {
                let store = shared.store.clone();
                let key = id.clone();
                blocking(move || store.get(&key))
                    .await?
                    .map_err(|e| DriverError::Store(e.to_string()))?
            }
        };
        let Some(before) = before else {
            Metrics::inc(&shared.metrics.stray_observations);
            return Err(DriverError::UnknownSession(id.clone()));
        };
        let input = Input {
            session: id.clone(),
            at: observed.unwrap_or_else(|| shared.clock.now()),
            event: event.clone(),
        };
        let decision =
            step(&before, &input, &shared.cfg).map_err(|e| DriverError::Rejected(e.to_string()))?;
        Metrics::inc(&shared.metrics.inputs);
        // What the invariants need once `before` and `input` have moved on.
        let checked = cfg!(debug_assertions).then(|| (before.clone(), input.clone()));
        let entry = JournalEntry::Input {
            input,
            effects: effects_digest(&decision.effects),
        };
        let after = match decision.patch() {
            None => {
                if let Err(e) = shared.writer.journal(&entry) {
                    tracing::error!("journal append failed: {e}");
                }
                before
            }
            Some(patch) => {
                let line = Line::encode(&entry)
                    .map_err(|e| tracing::error!("cannot encode a journal entry: {e}"))
                    .ok();
                // Answered only once the write's batch has committed.
                match shared
                    .writer
                    .apply(id.clone(), patch.clone(), Some(before), line)
                    .await
                    .map_err(|e| match e {
                        WriteError::Stopped => DriverError::ShuttingDown,
                        e @ WriteError::Store(_) => DriverError::Store(e.to_string()),
                    })? {
                    Applied::Written(after) => after,
                    Applied::Stale { .. } => {
                        // Someone else wrote: re-read and re-decide.
                        Metrics::inc(&shared.metrics.conflicts);
                        continue;
                    }
                    Applied::Missing => return Err(DriverError::UnknownSession(id.clone())),
                }
            }
        };
        if let Some((before, input)) = &checked {
            debug_assert_invariants(shared, before, input, &decision, &after);
        }
        let fed = if decision.patch().is_some() {
            Metrics::inc(&shared.metrics.writes);
            Fed::Written
        } else {
            Fed::Unchanged
        };
        let followups = run_effects(shared, &after, &decision.effects).await;
        if fed == Fed::Written && shared.events.receiver_count() > 0 {
            let _ = shared.events.send(SessionEvent {
                session: id.to_string(),
                status: display_status(&after.lifecycle).to_string(),
                what: kind.to_owned(),
                revision: after.revision,
            });
        }
        *cache = Some(after);
        return Ok((fed, followups));
    }
    Err(DriverError::Store(format!(
        "{MAX_CONFLICT_RETRIES} revision conflicts in a row on `{id}`"
    )))
}

/// The shared invariants as debug assertions: the daemon checks what the simulator checks.
fn debug_assert_invariants(
    shared: &Shared,
    before: &SessionRecord,
    input: &Input,
    decision: &ao_core::lcm::Decision,
    after: &SessionRecord,
) {
    if cfg!(debug_assertions) {
        let view = StepView {
            cfg: &shared.cfg,
            before,
            input,
            decision,
            after,
        };
        if let Err(v) = check_step(&view) {
            tracing::error!("invariant violated: {v}");
            debug_assert!(false, "{v}");
        }
    }
}

/// Runs the effects after the write, in order; returns inputs they cause.
async fn run_effects(shared: &Arc<Shared>, rec: &SessionRecord, effects: &[Effect]) -> Vec<Event> {
    let mut followups = Vec::new();
    for effect in effects {
        match effect {
            Effect::Persist(_) => {}
            Effect::SendToAgent {
                reaction, message, ..
            } => match shared.adapters.send(rec, message).await {
                Ok(()) => Metrics::inc(&shared.metrics.sends),
                Err(e) => {
                    tracing::warn!(session = %rec.id, %reaction, "delivery failed: {e}");
                    Metrics::inc(&shared.metrics.send_failures);
                    followups.push(Event::DeliveryFailed {
                        reaction: *reaction,
                    });
                }
            },
            Effect::Notify(n) => match shared.adapters.notify(n, rec).await {
                Ok(()) => Metrics::inc(&shared.metrics.notifications),
                Err(e) => {
                    tracing::warn!(session = %rec.id, "notification failed: {e}");
                    Metrics::inc(&shared.metrics.notification_failures);
                }
            },
        }
    }
    followups
}

fn event_kind(e: &Event) -> &'static str {
    match e {
        Event::Runtime(_) => "runtime",
        Event::Activity(_) => "activity",
        Event::Scm(_) => "scm",
        Event::SpawnCompleted(_) => "spawn_completed",
        Event::KillRequested { .. } => "kill_requested",
        Event::Reopened { .. } => "reopened",
        Event::Released { .. } => "released",
        Event::Adopted { .. } => "adopted",
        Event::AgentIdentified { .. } => "agent_identified",
        Event::DeliveryFailed { .. } => "delivery_failed",
        Event::Tick => "tick",
    }
}
