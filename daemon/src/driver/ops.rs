//! Running a session-manager operation: persist the intent, execute each
//! action against the real adapters, advance, persist, until done. A record
//! write the operation cannot give up (a rollback's or a teardown's hand-off)
//! that the store failed stalls the operation: it is retried with a backoff
//! until the store takes it, or until shutdown, which leaves the intent for
//! boot recovery.

use super::actor::{feed_all, Fed};
use super::{DriverError, Metrics, SessionEvent, Shared};
use crate::store::Inserted;
use ao_core::domain::{SessionId, SessionRecord};
use ao_core::journal::JournalEntry;
use ao_core::sm::{Action, Next, OpResult, Operation, Outcome, Progress};
use std::sync::Arc;
use std::time::Duration;

/// The first wait before retrying a stalled action; it doubles on every
/// further stall, so a failing store is not hammered.
const RETRY_FIRST: Duration = Duration::from_millis(50);
/// The longest wait between retries of a stalled action.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Runs `op` to completion. `in_actor` is the session whose actor runs it
/// (its reducer inputs are fed directly; others go through their actors).
/// `None`: shutdown began while the op waited to retry; its intent stays.
pub(super) async fn run(
    shared: &Arc<Shared>,
    mut op: Operation,
    mut in_actor: Option<(&SessionId, &mut Option<SessionRecord>)>,
) -> Option<OpResult> {
    persist_intent(shared, &op).await;
    let mut stopping = shared.stopping.subscribe();
    let mut backoff = RETRY_FIRST;
    loop {
        match op.next() {
            Next::Done(result) => {
                let store = shared.store.clone();
                let id = op.id().clone();
                if let Ok(Err(e)) =
                    tokio::task::spawn_blocking(move || store.delete_intent(&id)).await
                {
                    tracing::error!("cannot delete intent: {e}");
                }
                Metrics::inc(&shared.metrics.operations);
                tracing::info!("{} finished: {result}", op.id());
                let _ = shared.events.send(SessionEvent {
                    session: op.session().map_or_else(|| "-".into(), ToString::to_string),
                    status: String::new(),
                    what: format!(
                        "{} {}",
                        op.kind(),
                        if result.is_ok() { "ok" } else { "failed" }
                    ),
                    revision: 0,
                });
                return Some(result);
            }
            Next::Act(action) => {
                let outcome = execute(
                    shared,
                    &action,
                    in_actor.as_mut().map(|(id, c)| (*id, &mut **c)),
                )
                .await;
                tracing::debug!("{}: {action} -> {outcome}", op.id());
                if op.advance(outcome.clone()) == Progress::Advanced {
                    backoff = RETRY_FIRST;
                    persist_intent(shared, &op).await;
                    continue;
                }
                // Unchanged: the persisted intent already asks for this action.
                tracing::warn!(
                    "{}: {action} -> {outcome}; retrying in {backoff:?}",
                    op.id()
                );
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stopping.wait_for(|stop| *stop) => {
                        tracing::warn!(
                            "{}: stopped while retrying; boot recovery re-drives it",
                            op.id()
                        );
                        return None;
                    }
                }
                backoff = next_backoff(backoff);
            }
        }
    }
}

/// The wait after `current` for the next retry of a stalled action: doubled, capped.
fn next_backoff(current: Duration) -> Duration {
    (current * 2).min(RETRY_MAX)
}

async fn persist_intent(shared: &Arc<Shared>, op: &Operation) {
    let store = shared.store.clone();
    let op = op.clone();
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.put_intent(&op)).await {
        tracing::error!("cannot persist intent: {e}");
    }
}

/// Executes one action against the real world.
async fn execute(
    shared: &Arc<Shared>,
    action: &Action,
    in_actor: Option<(&SessionId, &mut Option<SessionRecord>)>,
) -> Outcome {
    match action {
        Action::SeedRecord(rec) => {
            let store = shared.store.clone();
            let record = (**rec).clone();
            match tokio::task::spawn_blocking(move || store.insert(&record)).await {
                Ok(Ok(Inserted::Created)) => {
                    let entry = JournalEntry::Seed {
                        record: (**rec).clone(),
                    };
                    if let Err(e) = shared.writer.journal(&entry) {
                        tracing::error!("journal append failed: {e}");
                    }
                    Outcome::Ok
                }
                Ok(Ok(Inserted::Exists)) => {
                    Outcome::Refused(format!("a record `{}` exists", rec.id))
                }
                Ok(Err(e)) => Outcome::Failed(e.to_string()),
                Err(e) => Outcome::Failed(e.to_string()),
            }
        }
        Action::CreateWorkspace {
            session,
            project,
            branch,
            path,
        } => {
            shared
                .adapters
                .create_workspace(session, project, path, branch, false)
                .await
        }
        Action::RestoreWorkspace {
            session,
            project,
            branch,
            path,
        } => {
            shared
                .adapters
                .create_workspace(session, project, path, branch, true)
                .await
        }
        Action::CreateRuntime {
            session,
            handle,
            workspace,
            command,
            env,
        } => {
            shared
                .adapters
                .create_runtime(shared, session, handle, workspace, command, env)
                .await
        }
        Action::DestroyRuntime { session, handle } => {
            shared
                .adapters
                .destroy_runtime(shared, session, handle)
                .await
        }
        Action::DestroyWorkspace { session, path } => {
            shared
                .adapters
                .destroy_workspace(shared, session, path)
                .await
        }
        Action::Reduce { session, event } => {
            let fed = match in_actor {
                Some((id, cache)) if id == session => {
                    feed_all(shared, session, event.clone(), None, cache).await
                }
                _ => shared.feed(session, event.clone()).await,
            };
            match fed {
                Ok(Fed::Written | Fed::Unchanged) => Outcome::Ok,
                // Asking again cannot help: refused.
                Err(DriverError::UnknownSession(s)) => {
                    Outcome::Refused(format!("no such session `{s}`"))
                }
                Err(e @ DriverError::Rejected(_)) => Outcome::Refused(e.to_string()),
                // The store (or the daemon) may take it later.
                Err(e @ (DriverError::Store(_) | DriverError::ShuttingDown)) => {
                    Outcome::Failed(e.to_string())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stalled_retries_back_off_from_50ms_to_at_most_5s() {
        let mut waits = vec![RETRY_FIRST];
        while waits.len() < 12 {
            let last = waits[waits.len() - 1];
            waits.push(next_backoff(last));
        }
        assert_eq!(waits[1], Duration::from_millis(100));
        assert!(waits.windows(2).all(|w| w[1] >= w[0] && w[1] <= RETRY_MAX));
        assert_eq!(waits[11], RETRY_MAX, "{waits:?}");
    }
}
