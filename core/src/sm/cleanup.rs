//! Cleanup (SPEC §5): reclaim the workspaces of a project's terminal worker
//! sessions, one session at a time in id order: runtime (best effort), then
//! workspace (a dirty one is skipped, never forced), then tell the record.
//! Orchestrators are never reclaimed.

use super::action::{Next, Outcome, Progress};
use super::result::{CleanupReport, Fate, OpResult};
use super::teardown::Teardown;
use super::{OpId, Operation};
use crate::domain::{ProjectId, SessionId, SessionKind, SessionRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Plans a cleanup of `project` over the stored records.
pub fn plan_cleanup<'a>(
    op: OpId,
    project: &ProjectId,
    records: impl IntoIterator<Item = &'a SessionRecord>,
) -> Operation {
    let items: BTreeMap<&SessionId, Teardown> = records
        .into_iter()
        .filter(|r| r.project_id == *project && r.kind == SessionKind::Worker && r.is_terminal())
        .filter_map(|r| {
            let workspace = r.metadata.workspace_path.clone()?;
            let runtime = r.metadata.runtime_handle.clone();
            Some((
                &r.id,
                Teardown::new(r.id.clone(), runtime, Some(workspace), true),
            ))
        })
        .collect();
    Operation::Cleanup(CleanupOp {
        id: op,
        project: project.clone(),
        items: items.into_values().collect(),
        current: 0,
    })
}

/// A cleanup in progress (the write-ahead intent).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanupOp {
    id: OpId,
    project: ProjectId,
    items: Vec<Teardown>,
    /// Items before this index are finished.
    current: usize,
}

impl CleanupOp {
    /// The operation id.
    pub fn id(&self) -> &OpId {
        &self.id
    }

    /// The project being cleaned.
    pub fn project(&self) -> &ProjectId {
        &self.project
    }

    /// The sessions it will reclaim, in order.
    pub fn sessions(&self) -> impl Iterator<Item = &SessionId> {
        self.items.iter().map(Teardown::session)
    }

    pub(crate) fn next(&self) -> Next {
        match self.pending().find_map(Teardown::next) {
            Some(action) => Next::Act(action),
            None => Next::Done(OpResult::Cleaned(self.report())),
        }
    }

    pub(crate) fn advance(&mut self, outcome: Outcome) -> Progress {
        let Some(item) = self
            .items
            .iter_mut()
            .skip(self.current)
            .find(|t| !t.is_finished())
        else {
            return Progress::Stalled;
        };
        if item.advance(outcome) == Progress::Stalled {
            return Progress::Stalled;
        }
        while self
            .items
            .get(self.current)
            .is_some_and(Teardown::is_finished)
        {
            self.current += 1;
        }
        Progress::Advanced
    }

    /// After a crash a cleanup finishes forward: every action is idempotent.
    pub(crate) fn recover(self) -> CleanupOp {
        self
    }

    pub(crate) fn max_steps(&self) -> usize {
        self.pending().map(Teardown::remaining).sum()
    }

    pub(crate) fn is_done(&self) -> bool {
        self.pending().all(Teardown::is_finished)
    }

    fn pending(&self) -> impl Iterator<Item = &Teardown> {
        self.items.iter().skip(self.current)
    }

    fn report(&self) -> CleanupReport {
        let mut report = CleanupReport {
            project: self.project.clone(),
            cleaned: Vec::new(),
            skipped: Vec::new(),
            unreleased: Vec::new(),
        };
        for item in &self.items {
            let session = item.session().clone();
            match item.workspace_fate() {
                Fate::Freed(_) => report.cleaned.push(session.clone()),
                Fate::Kept { reason, .. } => report.skipped.push((session.clone(), reason.clone())),
                Fate::Leaked { reason, .. } => report.skipped.push((
                    session.clone(),
                    format!("deleting the workspace failed: {reason}"),
                )),
                Fate::Foreign { reason, .. } => report.skipped.push((
                    session.clone(),
                    format!(
                        "its workspace path holds something that is not ours, left alone: {reason}"
                    ),
                )),
                Fate::Absent => report
                    .skipped
                    .push((session.clone(), "not reached".to_owned())),
            }
            if let Some(why) = item.release_error() {
                report.unreleased.push((session, why.clone()));
            }
        }
        report
    }
}
