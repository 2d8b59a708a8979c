//! Spawn (SPEC §5): validate, seed the record as the intent, create the
//! workspace, start the agent, report spawn completed. Any failure, or a crash
//! at any step, rolls back in reverse so no resource outlives its record and no
//! record stays `spawning`.

use super::action::{Action, Next, Outcome, Progress};
use super::branch::validate_branch;
use super::command::{agent_env, render_command, CommandVars};
use super::error::SmError;
use super::result::{Cause, OpKind, OpResult, Step};
use super::rollback::Rollback;
use super::{OpId, Operation};
use crate::config::Config;
use crate::domain::{Handle, IssueId, ProjectId, SessionId, SessionKind, SessionRecord};
use crate::lcm::{Event, SpawnHandles};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A spawn request: the user's part (project, issue, kind, branch, prompt,
/// rules) and the driver's choices (fresh ids, handles, the time), so planning
/// stays pure.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpawnRequest {
    /// The operation id.
    pub op: OpId,
    /// The fresh session id.
    pub id: SessionId,
    /// The project.
    pub project: ProjectId,
    /// The issue to work on.
    pub issue: IssueId,
    /// Worker or orchestrator.
    pub kind: SessionKind,
    /// The git branch for the workspace.
    pub branch: String,
    /// The agent's task (stored, so a restore can relaunch from it).
    pub prompt: String,
    /// Extra rules for the agent (`{rules}` in the launch template).
    pub rules: Option<String>,
    /// Where the workspace will be.
    pub workspace_path: Handle,
    /// The runtime's id.
    pub runtime_handle: Handle,
    /// The runtime kind (`process`, `tmux`, ...).
    pub runtime_name: String,
    /// Now (the record's creation time).
    pub at: Timestamp,
}

/// Validates a spawn and plans it. A validation error creates nothing.
pub fn plan_spawn(
    req: SpawnRequest,
    cfg: &Config,
    exists: impl Fn(&SessionId) -> bool,
) -> Result<Operation, SmError> {
    let project = cfg
        .projects
        .get(&req.project)
        .ok_or_else(|| SmError::UnknownProject(req.project.clone()))?;
    let agent = project
        .agent
        .as_ref()
        .filter(|a| !a.launch.trim().is_empty())
        .ok_or_else(|| SmError::NoAgent(req.project.clone()))?;
    validate_branch(&req.branch).map_err(|rule| SmError::InvalidBranch {
        branch: req.branch.clone(),
        rule,
    })?;
    let vars = CommandVars {
        session_id: &req.id,
        project_id: &req.project,
        issue_id: &req.issue,
        prompt: &req.prompt,
        rules: req.rules.as_deref(),
        agent_session_id: None,
    };
    let command = render_command(&agent.launch, &vars).map_err(|error| SmError::BadCommand {
        project: req.project.clone(),
        error,
    })?;
    if exists(&req.id) {
        return Err(SmError::IdInUse(req.id));
    }
    let env = agent_env(&req.id, &req.project, &req.issue);
    let mut record = SessionRecord::seeded(req.id, req.project, req.issue, req.kind, req.at);
    record.metadata.prompt = req.prompt;
    record.metadata.rules = req.rules;
    record.metadata.branch = req.branch;
    Ok(Operation::Spawn(SpawnOp {
        id: req.op,
        record: Box::new(record),
        workspace_path: req.workspace_path,
        runtime_handle: req.runtime_handle,
        runtime_name: req.runtime_name,
        command,
        env,
        stage: Stage::SeedRecord,
    }))
}

/// A spawn in progress (the write-ahead intent).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpawnOp {
    id: OpId,
    record: Box<SessionRecord>,
    workspace_path: Handle,
    runtime_handle: Handle,
    runtime_name: String,
    command: String,
    env: Vec<(String, String)>,
    stage: Stage,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Stage {
    SeedRecord,
    CreateWorkspace,
    CreateRuntime,
    ReportSpawned,
    RollingBack(Rollback),
    Done { result: OpResult },
}

impl Stage {
    /// A struct variant keeps the intent representable in YAML (no enum directly inside an enum).
    fn done(result: OpResult) -> Stage {
        Stage::Done { result }
    }
}

/// Forward actions, and the most a rollback can add after any of them
/// (runtime, workspace, adopting what could not be freed, record).
const FORWARD: usize = 4;
const ROLLBACK: usize = 4;

impl SpawnOp {
    /// The operation id.
    pub fn id(&self) -> &OpId {
        &self.id
    }

    /// The session being spawned.
    pub fn session(&self) -> &SessionId {
        &self.record.id
    }

    /// The command line the agent is launched with.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The runtime name this spawn starts the agent under.
    pub fn runtime_handle(&self) -> &Handle {
        &self.runtime_handle
    }

    pub(crate) fn next(&self) -> Next {
        let session = self.session().clone();
        let act = match &self.stage {
            Stage::SeedRecord => Action::SeedRecord(self.record.clone()),
            Stage::CreateWorkspace => Action::CreateWorkspace {
                session,
                project: self.record.project_id.clone(),
                branch: self.record.metadata.branch.clone(),
                path: self.workspace_path.clone(),
            },
            Stage::CreateRuntime => Action::CreateRuntime {
                session,
                handle: self.runtime_handle.clone(),
                workspace: self.workspace_path.clone(),
                command: self.command.clone(),
                env: self.env.clone(),
            },
            Stage::ReportSpawned => Action::Reduce {
                session,
                event: Event::SpawnCompleted(SpawnHandles {
                    workspace_path: self.workspace_path.clone(),
                    runtime_handle: self.runtime_handle.clone(),
                    runtime_name: self.runtime_name.clone(),
                    branch: self.record.metadata.branch.clone(),
                    agent_session_id: None,
                }),
            },
            Stage::RollingBack(rb) => match rb.next() {
                Some(action) => action,
                None => return Next::Done(OpResult::Failed(rb.failure(OpKind::Spawn, None))),
            },
            Stage::Done { result } => return Next::Done(result.clone()),
        };
        Next::Act(act)
    }

    pub(crate) fn advance(&mut self, outcome: Outcome) -> Progress {
        let (rt, ws) = (
            Some(self.runtime_handle.clone()),
            Some(self.workspace_path.clone()),
        );
        match (&mut self.stage, outcome) {
            (Stage::SeedRecord, Outcome::Ok) => self.stage = Stage::CreateWorkspace,
            (Stage::CreateWorkspace, Outcome::Ok) => self.stage = Stage::CreateRuntime,
            (Stage::CreateRuntime, Outcome::Ok) => self.stage = Stage::ReportSpawned,
            (Stage::ReportSpawned, Outcome::Ok) => {
                self.stage = Stage::done(OpResult::Spawned {
                    session: self.session().clone(),
                });
            }
            // A record write that failed wrote nothing: there is nothing to undo.
            (Stage::SeedRecord, Outcome::Failed(e)) => {
                self.roll_back(Step::SeedRecord, Cause::Failed(e), None, None, false);
            }
            (Stage::SeedRecord, Outcome::Refused(e) | Outcome::Foreign(e)) => {
                self.roll_back(Step::SeedRecord, Cause::Refused(e), None, None, false);
            }
            // A failed create may have half-happened (a timeout): destroy it too.
            (Stage::CreateWorkspace, Outcome::Failed(e)) => {
                self.roll_back(Step::CreateWorkspace, Cause::Failed(e), None, ws, true);
            }
            (Stage::CreateWorkspace, Outcome::Refused(e)) => {
                self.roll_back(Step::CreateWorkspace, Cause::Refused(e), None, None, true);
            }
            // The path holds something that is not ours: never destroyed, never adopted.
            (Stage::CreateWorkspace, Outcome::Foreign(e)) => {
                self.roll_back(Step::CreateWorkspace, Cause::Foreign(e), None, None, true);
            }
            (Stage::CreateRuntime, Outcome::Failed(e)) => {
                self.roll_back(Step::CreateRuntime, Cause::Failed(e), rt, ws, true);
            }
            (Stage::CreateRuntime, Outcome::Refused(e)) => {
                self.roll_back(Step::CreateRuntime, Cause::Refused(e), None, ws, true);
            }
            (Stage::CreateRuntime, Outcome::Foreign(e)) => {
                self.roll_back(Step::CreateRuntime, Cause::Foreign(e), None, ws, true);
            }
            (Stage::ReportSpawned, Outcome::Failed(e)) => {
                self.roll_back(Step::ReportSpawned, Cause::Failed(e), rt, ws, true);
            }
            (Stage::ReportSpawned, Outcome::Refused(e) | Outcome::Foreign(e)) => {
                self.roll_back(Step::ReportSpawned, Cause::Refused(e), rt, ws, true);
            }
            (Stage::RollingBack(rb), outcome) => {
                let progress = rb.advance(outcome);
                self.settle();
                return progress;
            }
            (Stage::Done { .. }, _) => return Progress::Stalled,
        }
        Progress::Advanced
    }

    /// After a crash: everything the reached step may have created is rolled back.
    pub(crate) fn recover(mut self) -> SpawnOp {
        let (rt, ws) = (
            Some(self.runtime_handle.clone()),
            Some(self.workspace_path.clone()),
        );
        let cause = Cause::Interrupted;
        match self.stage {
            // The insert may have happened: mark it errored (a missing record is tolerated).
            Stage::SeedRecord => self.roll_back(Step::SeedRecord, cause, None, None, true),
            Stage::CreateWorkspace => self.roll_back(Step::CreateWorkspace, cause, None, ws, true),
            Stage::CreateRuntime => self.roll_back(Step::CreateRuntime, cause, rt, ws, true),
            Stage::ReportSpawned => self.roll_back(Step::ReportSpawned, cause, rt, ws, true),
            // A rollback re-runs its current (idempotent) action; a result stays.
            Stage::RollingBack(_) | Stage::Done { .. } => {}
        }
        self
    }

    pub(crate) fn max_steps(&self) -> usize {
        let forward = |done: usize| FORWARD - done + ROLLBACK;
        match &self.stage {
            Stage::SeedRecord => forward(0),
            Stage::CreateWorkspace => forward(1),
            Stage::CreateRuntime => forward(2),
            Stage::ReportSpawned => forward(3),
            Stage::RollingBack(rb) => rb.remaining(),
            Stage::Done { .. } => 0,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done { .. })
    }

    fn roll_back(
        &mut self,
        step: Step,
        cause: Cause,
        runtime: Option<Handle>,
        workspace: Option<Handle>,
        record: bool,
    ) {
        let session = self.session().clone();
        self.stage = Stage::RollingBack(Rollback::new(
            session, step, cause, runtime, workspace, record,
        ));
        self.settle();
    }

    fn settle(&mut self) {
        if let Stage::RollingBack(rb) = &self.stage {
            if rb.next().is_none() {
                self.stage = Stage::done(OpResult::Failed(rb.failure(OpKind::Spawn, None)));
            }
        }
    }
}
