//! Running a session-manager operation: persist the intent, execute each
//! action against the real adapters, advance, persist, until done.

use super::actor::{feed_all, Fed};
use super::{DriverError, Metrics, SessionEvent, Shared};
use crate::store::Inserted;
use ao_core::domain::{SessionId, SessionRecord};
use ao_core::journal::JournalEntry;
use ao_core::sm::{Action, Next, OpResult, Operation, Outcome};
use std::sync::Arc;

/// Runs `op` to completion. `in_actor` is the session whose actor runs it
/// (its reducer inputs are fed directly; others go through their actors).
pub(super) async fn run(
    shared: &Arc<Shared>,
    mut op: Operation,
    mut in_actor: Option<(&SessionId, &mut Option<SessionRecord>)>,
) -> OpResult {
    persist_intent(shared, &op).await;
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
                return result;
            }
            Next::Act(action) => {
                let outcome = execute(
                    shared,
                    &action,
                    in_actor.as_mut().map(|(id, c)| (*id, &mut **c)),
                )
                .await;
                tracing::debug!("{}: {action} -> {outcome}", op.id());
                op.advance(outcome);
                persist_intent(shared, &op).await;
            }
        }
    }
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
            project,
            branch,
            path,
            ..
        } => {
            shared
                .adapters
                .create_workspace(project, path, branch, false)
                .await
        }
        Action::RestoreWorkspace {
            project,
            branch,
            path,
            ..
        } => {
            shared
                .adapters
                .create_workspace(project, path, branch, true)
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
                    feed_all(shared, session, event.clone(), cache).await
                }
                _ => shared.feed(session, event.clone()).await,
            };
            match fed {
                Ok(Fed::Written | Fed::Unchanged) => Outcome::Ok,
                Err(DriverError::UnknownSession(s)) => {
                    Outcome::Failed(format!("no such session `{s}`"))
                }
                Err(e) => Outcome::Failed(e.to_string()),
            }
        }
    }
}
