//! Undoing a failed spawn or restore: destroy what may have been created (in
//! reverse order of creation), hand what could not be destroyed to the record
//! (`Adopted`), then mark the record terminal `errored`, so no resource is left
//! without a record and no record is left half-open.
//!
//! Destroys are best effort: a failed one is reported and its handle adopted.
//! The two record writes are not: when one fails with [`Outcome::Failed`] (the
//! store wrote nothing; it may work later) the rollback stays where it is and
//! asks for the same write again ([`Progress::Stalled`]). A rollback that
//! finished without them would be a leak nobody owns, or a record stuck
//! `spawning`, with no intent left to re-drive it (SPEC §7.8); one still in
//! flight is an intent the driver retries and recovery re-drives. Only a
//! [`Outcome::Refused`] write (the record is gone, the reducer said no) settles
//! without it, because asking again cannot succeed; the report then says so.

use super::action::{Action, Outcome, Progress};
use super::result::{Cause, Failure, Fate, OpKind, RecordFate, Step};
use super::teardown::Teardown;
use crate::domain::{Handle, KillKind, SessionId};
use crate::lcm::Event;
use serde::{Deserialize, Serialize};

/// A rollback in progress, and what it has found so far.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rollback {
    step: Step,
    cause: Cause,
    teardown: Teardown,
    /// Handles the teardown could not free are handed to the record (once).
    #[serde(default)]
    adopted: bool,
    /// A workspace kept by design (a restore's) that the record must track.
    #[serde(default)]
    keep: Option<Handle>,
    /// The runtime being undone is one the record itself names (a restore's
    /// previous runtime): it stays the record's, so it is never handed over.
    #[serde(default)]
    recorded_runtime: bool,
    record: RecordUndo,
}

/// Whether the record still has to be marked errored.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RecordUndo {
    Pending,
    Settled { fate: RecordFate },
}

impl Rollback {
    /// Plans the undo of whatever may exist: `runtime` and `workspace` are the
    /// handles that may have been created; `record` says the record may have
    /// been written (created by a spawn, reopened by a restore).
    pub(crate) fn new(
        session: SessionId,
        step: Step,
        cause: Cause,
        runtime: Option<Handle>,
        workspace: Option<Handle>,
        record: bool,
    ) -> Rollback {
        Rollback {
            step,
            cause,
            teardown: Teardown::new(session, runtime, workspace, false),
            adopted: false,
            keep: None,
            recorded_runtime: false,
            record: if record {
                RecordUndo::Pending
            } else {
                RecordUndo::Settled {
                    fate: RecordFate::Unchanged,
                }
            },
        }
    }

    /// Also hands `keep` (a workspace kept by design) to the record.
    pub(crate) fn keeping(mut self, keep: Option<Handle>) -> Rollback {
        self.keep = keep;
        self
    }

    /// The runtime to undo is the one the record names already: if it
    /// survives, the record still tracks it (a destroy that frees it is the
    /// only thing that makes the record let go of it). Handing it over would
    /// be stale after a race: a restore that lost the claim would overwrite
    /// the runtime the winner (which did stop the old one) just recorded.
    pub(crate) fn recorded_runtime(mut self) -> Rollback {
        self.recorded_runtime = true;
        self
    }

    /// What the teardown left alive, for the record to adopt (`None`: nothing).
    fn leftovers(&self) -> Option<Event> {
        let runtime_handle = if self.recorded_runtime {
            None
        } else {
            self.teardown.runtime_fate().remaining().cloned()
        };
        let workspace_path = self
            .teardown
            .workspace_fate()
            .remaining()
            .cloned()
            .or_else(|| self.keep.clone());
        (runtime_handle.is_some() || workspace_path.is_some()).then_some(Event::Adopted {
            runtime_handle,
            workspace_path,
        })
    }

    /// The next undo action, or `None` once everything was tried.
    pub(crate) fn next(&self) -> Option<Action> {
        if let Some(action) = self.teardown.next() {
            return Some(action);
        }
        if !self.adopted {
            if let Some(event) = self.leftovers() {
                return Some(Action::Reduce {
                    session: self.teardown.session().clone(),
                    event,
                });
            }
        }
        match self.record {
            RecordUndo::Pending => Some(Action::Reduce {
                session: self.teardown.session().clone(),
                event: Event::KillRequested {
                    kind: KillKind::Error,
                },
            }),
            RecordUndo::Settled { .. } => None,
        }
    }

    /// Records the outcome of the action `next` returned. A failed destroy is
    /// best effort (reported, adopted); a failed record write stalls.
    pub(crate) fn advance(&mut self, outcome: Outcome) -> Progress {
        // Mirrors `next`: whoever asked for the action gets its outcome.
        if self.teardown.next().is_some() {
            return self.teardown.advance(outcome);
        }
        if let Outcome::Failed(_) = outcome {
            // The store wrote nothing: ask for the same write again.
            return Progress::Stalled;
        }
        if !self.adopted && self.leftovers().is_some() {
            // Refused (no record to take them): the report still names them.
            self.adopted = true;
        } else if self.record == RecordUndo::Pending {
            let fate = match outcome {
                Outcome::Ok => RecordFate::Errored,
                Outcome::Failed(why) | Outcome::Refused(why) | Outcome::Foreign(why) => {
                    RecordFate::Unmarked(why)
                }
            };
            self.record = RecordUndo::Settled { fate };
        } else {
            return Progress::Stalled;
        }
        Progress::Advanced
    }

    /// The step that failed and why.
    pub(crate) fn cause(&self) -> (Step, &Cause) {
        (self.step, &self.cause)
    }

    /// An upper bound on the actions still to come.
    pub(crate) fn remaining(&self) -> usize {
        let pending = self.record == RecordUndo::Pending;
        self.teardown.remaining() + usize::from(pending) + usize::from(!self.adopted)
    }

    /// The failure report, once `next` returns `None`. `workspace` replaces the
    /// teardown's workspace fate when the operation keeps the workspace by design.
    pub(crate) fn failure(&self, op: OpKind, workspace: Option<Fate>) -> Failure {
        Failure {
            op,
            session: self.teardown.session().clone(),
            step: self.step,
            cause: self.cause.clone(),
            runtime: self.teardown.runtime_fate().clone(),
            workspace: workspace.unwrap_or_else(|| self.teardown.workspace_fate().clone()),
            record: match &self.record {
                RecordUndo::Settled { fate } => fate.clone(),
                RecordUndo::Pending => {
                    RecordFate::Unmarked("the rollback did not reach the record".into())
                }
            },
        }
    }
}

/// The cause of a step that did not succeed (callers match `Ok` first).
pub(crate) fn cause(outcome: Outcome) -> Cause {
    match outcome {
        Outcome::Refused(why) => Cause::Refused(why),
        Outcome::Failed(why) => Cause::Failed(why),
        Outcome::Foreign(why) => Cause::Foreign(why),
        Outcome::Ok => Cause::Failed("reported ok".to_owned()),
    }
}
