//! Kill (SPEC §5): record the kill first, so a session with missing handles (a
//! crash mid-spawn) can still be killed; then destroy only the runtime and
//! workspace whose handles exist; then tell the record what was freed.

use super::action::{Action, Next, Outcome, Progress};
use super::result::{Failure, Fate, KillReport, OpKind, OpResult, RecordFate, Step};
use super::rollback::cause;
use super::teardown::Teardown;
use super::{OpId, Operation};
use crate::domain::{Handle, KillKind, SessionId, SessionRecord};
use crate::lcm::Event;
use serde::{Deserialize, Serialize};

/// Plans a kill of the stored record; `None` (no record) is a no-op, as SPEC §4.5 says.
pub fn plan_kill(op: OpId, rec: Option<&SessionRecord>, kind: KillKind) -> Option<Operation> {
    let rec = rec?;
    let runtime = rec.metadata.runtime_handle.clone();
    let workspace = rec.metadata.workspace_path.clone();
    Some(Operation::Kill(KillOp {
        id: op,
        session: rec.id.clone(),
        kind,
        teardown: Teardown::new(rec.id.clone(), runtime.clone(), workspace.clone(), true),
        runtime,
        workspace,
        stage: Stage::RecordKill,
    }))
}

/// A kill in progress (the write-ahead intent).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillOp {
    id: OpId,
    session: SessionId,
    kind: KillKind,
    runtime: Option<Handle>,
    workspace: Option<Handle>,
    teardown: Teardown,
    stage: Stage,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Stage {
    RecordKill,
    TearDown,
    Done { result: OpResult },
}

impl Stage {
    /// A struct variant keeps the intent representable in YAML (no enum directly inside an enum).
    fn done(result: OpResult) -> Stage {
        Stage::Done { result }
    }
}

impl KillOp {
    /// The operation id.
    pub fn id(&self) -> &OpId {
        &self.id
    }

    /// The session being killed.
    pub fn session(&self) -> &SessionId {
        &self.session
    }

    pub(crate) fn next(&self) -> Next {
        match &self.stage {
            Stage::RecordKill => Next::Act(Action::Reduce {
                session: self.session.clone(),
                event: Event::KillRequested { kind: self.kind },
            }),
            Stage::TearDown => match self.teardown.next() {
                Some(action) => Next::Act(action),
                None => Next::Done(self.report()),
            },
            Stage::Done { result } => Next::Done(result.clone()),
        }
    }

    pub(crate) fn advance(&mut self, outcome: Outcome) -> Progress {
        match (&mut self.stage, outcome) {
            (Stage::RecordKill, Outcome::Ok) => {
                self.stage = Stage::TearDown;
                self.settle();
            }
            // Not recorded: destroy nothing (the session would look alive with
            // its agent gone). Nothing is orphaned: the live record still owns
            // its handles, so giving up here is safe.
            (Stage::RecordKill, outcome) => {
                let untouched = |h: &Option<Handle>| match h {
                    Some(handle) => Fate::Kept {
                        handle: handle.clone(),
                        reason: "the kill was not recorded".to_owned(),
                    },
                    None => Fate::Absent,
                };
                self.stage = Stage::done(OpResult::Failed(Failure {
                    op: OpKind::Kill,
                    session: self.session.clone(),
                    step: Step::RecordKill,
                    cause: cause(outcome),
                    runtime: untouched(&self.runtime),
                    workspace: untouched(&self.workspace),
                    record: RecordFate::Unchanged,
                }));
            }
            (Stage::TearDown, outcome) => {
                let progress = self.teardown.advance(outcome);
                self.settle();
                return progress;
            }
            (Stage::Done { .. }, _) => return Progress::Stalled,
        }
        Progress::Advanced
    }

    /// After a crash a kill finishes forward: its current action is idempotent
    /// (re-recording a kill on a terminal record changes nothing).
    pub(crate) fn recover(self) -> KillOp {
        self
    }

    pub(crate) fn max_steps(&self) -> usize {
        match self.stage {
            Stage::RecordKill => 1 + self.teardown.remaining(),
            Stage::TearDown => self.teardown.remaining(),
            Stage::Done { .. } => 0,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done { .. })
    }

    fn settle(&mut self) {
        if self.stage == Stage::TearDown && self.teardown.is_finished() {
            self.stage = Stage::done(self.report());
        }
    }

    fn report(&self) -> OpResult {
        OpResult::Killed(KillReport {
            session: self.session.clone(),
            runtime: self.teardown.runtime_fate().clone(),
            workspace: self.teardown.workspace_fate().clone(),
            release_error: self.teardown.release_error().cloned(),
        })
    }
}
