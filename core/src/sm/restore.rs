//! Restore (SPEC §5): reopen a terminal session and start its agent again,
//! resuming the agent's own session when possible, else relaunching it fresh
//! from the stored prompt. First, a runtime the terminal record still names (a
//! kill whose destroy failed) is stopped: if it cannot be, the restore fails
//! having created and changed nothing (the session stays terminal and
//! restorable, and its record still names that runtime for the reaper), so a
//! restore never starts an agent beside one that may still run. Then the
//! `Reopened` write is the claim (a revision-checked write that only succeeds
//! on a terminal record), made before any runtime exists, so two racing
//! restores cannot both start an agent. A failure after the claim destroys the
//! new runtime, never the workspace (it holds the agent's earlier work), and
//! leaves the session terminal again, restorable.

use super::action::{Action, Next, Outcome, Progress};
use super::branch::validate_branch;
use super::command::{agent_env, render_command, CommandVars};
use super::error::SmError;
use super::result::{Cause, Fate, OpKind, OpResult, RestoreMode, Step};
use super::rollback::{cause, Rollback};
use super::{OpId, Operation};
use crate::config::{AgentSpec, Config};
use crate::domain::{Handle, ProjectId, SessionId, SessionRecord};
use crate::lcm::{Event, SpawnHandles};
use serde::{Deserialize, Serialize};

/// Why a restore keeps the workspace whatever happens.
const KEEP_WORKSPACE: &str =
    "a restore never deletes the workspace: it holds the agent's earlier work";

/// Validates a restore of `session` and plans it. `rec` is the stored record
/// (`None` if there is none); `workspace_path` is used only when the record has
/// no workspace path (it was cleaned up). A validation error creates nothing.
pub fn plan_restore(
    op: OpId,
    session: &SessionId,
    rec: Option<&SessionRecord>,
    cfg: &Config,
    runtime_handle: Handle,
    workspace_path: Handle,
) -> Result<Operation, SmError> {
    let rec = rec
        .filter(|r| r.id == *session)
        .ok_or_else(|| SmError::NotFound(session.clone()))?;
    if !rec.is_terminal() {
        return Err(SmError::NotTerminal(rec.id.clone()));
    }
    let project = cfg
        .projects
        .get(&rec.project_id)
        .ok_or_else(|| SmError::UnknownProject(rec.project_id.clone()))?;
    let agent = project
        .agent
        .as_ref()
        .ok_or_else(|| SmError::NoAgent(rec.project_id.clone()))?;
    let branch = rec.metadata.branch.clone();
    validate_branch(&branch).map_err(|rule| SmError::InvalidBranch {
        branch: branch.clone(),
        rule,
    })?;
    let (mode, command) = restore_command(rec, agent)?;
    Ok(Operation::Restore(RestoreOp {
        id: op,
        session: rec.id.clone(),
        project: rec.project_id.clone(),
        branch,
        workspace_path: rec
            .metadata
            .workspace_path
            .clone()
            .unwrap_or(workspace_path),
        runtime_handle,
        previous_runtime: rec.metadata.runtime_handle.clone(),
        runtime_name: rec.metadata.runtime_name.clone(),
        agent_session_id: rec.metadata.agent_session_id.clone(),
        mode,
        command,
        env: agent_env(&rec.id, &rec.project_id, &rec.issue_id),
        stage: Stage::RestoreWorkspace,
    }))
}

/// Resume when the agent's session id is known and the agent can resume;
/// otherwise relaunch from the stored prompt if allowed; otherwise not resumable.
fn restore_command(
    rec: &SessionRecord,
    agent: &AgentSpec,
) -> Result<(RestoreMode, String), SmError> {
    let m = &rec.metadata;
    let agent_session = m
        .agent_session_id
        .as_deref()
        .filter(|s| !s.trim().is_empty());
    let resume = agent.resume.as_deref().filter(|s| !s.trim().is_empty());
    let mut vars = CommandVars {
        session_id: &rec.id,
        project_id: &rec.project_id,
        issue_id: &rec.issue_id,
        prompt: &m.prompt,
        rules: m.rules.as_deref(),
        agent_session_id: agent_session,
    };
    let bad = |error| SmError::BadCommand {
        project: rec.project_id.clone(),
        error,
    };
    if let (Some(_), Some(template)) = (agent_session, resume) {
        let command = render_command(template, &vars).map_err(bad)?;
        return Ok((RestoreMode::Resume, command));
    }
    let launch = agent.launch.trim();
    if agent.relaunch && !m.prompt.trim().is_empty() && !launch.is_empty() {
        vars.agent_session_id = None;
        let command = render_command(&agent.launch, &vars).map_err(bad)?;
        return Ok((RestoreMode::Relaunch, command));
    }
    let resume_why = match (agent_session, resume) {
        (None, _) => "no agent session id is known",
        (Some(_), _) => "the agent has no resume command",
    };
    let relaunch_why = if !agent.relaunch {
        "the agent does not allow relaunch"
    } else if launch.is_empty() {
        "the agent has no launch command"
    } else {
        "no prompt was stored"
    };
    Err(SmError::NotResumable {
        session: rec.id.clone(),
        why: format!("cannot resume ({resume_why}) and cannot relaunch ({relaunch_why})"),
    })
}

/// A restore in progress (the write-ahead intent).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreOp {
    id: OpId,
    session: SessionId,
    project: ProjectId,
    branch: String,
    workspace_path: Handle,
    runtime_handle: Handle,
    /// The runtime the terminal record still names; it may still run.
    previous_runtime: Option<Handle>,
    runtime_name: String,
    agent_session_id: Option<String>,
    mode: RestoreMode,
    command: String,
    env: Vec<(String, String)>,
    stage: Stage,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Stage {
    RestoreWorkspace,
    StopPreviousRuntime(Handle),
    Reopen,
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

/// Forward actions (without stopping a previous runtime), and the most a
/// rollback can add (runtime, adopting it if it could not be freed, record).
const FORWARD: usize = 4;
const ROLLBACK: usize = 3;

impl RestoreOp {
    /// The operation id.
    pub fn id(&self) -> &OpId {
        &self.id
    }

    /// The session being restored.
    pub fn session(&self) -> &SessionId {
        &self.session
    }

    /// Resume or relaunch.
    pub fn mode(&self) -> RestoreMode {
        self.mode
    }

    /// The command line the agent is started with.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The runtime name this restore starts the agent under.
    pub fn runtime_handle(&self) -> &Handle {
        &self.runtime_handle
    }

    pub(crate) fn next(&self) -> Next {
        let session = self.session.clone();
        let act = match &self.stage {
            Stage::RestoreWorkspace => Action::RestoreWorkspace {
                session,
                project: self.project.clone(),
                branch: self.branch.clone(),
                path: self.workspace_path.clone(),
            },
            Stage::StopPreviousRuntime(handle) => Action::DestroyRuntime {
                session,
                handle: handle.clone(),
            },
            Stage::Reopen => Action::Reduce {
                session,
                event: Event::Reopened {
                    stopped: self.previous_runtime.clone(),
                },
            },
            Stage::CreateRuntime => self.create_runtime(),
            Stage::ReportSpawned => Action::Reduce {
                session,
                event: Event::SpawnCompleted(SpawnHandles {
                    workspace_path: self.workspace_path.clone(),
                    runtime_handle: self.runtime_handle.clone(),
                    runtime_name: self.runtime_name.clone(),
                    branch: self.branch.clone(),
                    agent_session_id: self.agent_session_id.clone(),
                }),
            },
            Stage::RollingBack(rb) => match rb.next() {
                Some(action) => action,
                None => return Next::Done(self.failed(rb)),
            },
            Stage::Done { result } => return Next::Done(result.clone()),
        };
        Next::Act(act)
    }

    pub(crate) fn advance(&mut self, outcome: Outcome) -> Progress {
        let rt = Some(self.runtime_handle.clone());
        match (&mut self.stage, outcome) {
            (Stage::RestoreWorkspace, Outcome::Ok) => {
                self.stage = match self.previous_runtime.clone() {
                    Some(handle) => Stage::StopPreviousRuntime(handle),
                    None => Stage::Reopen,
                };
            }
            // Foreign: the old name now holds something else, so the old agent is gone.
            (Stage::StopPreviousRuntime(_), Outcome::Ok | Outcome::Foreign(_)) => {
                self.stage = Stage::Reopen;
            }
            (Stage::Reopen, Outcome::Ok) => self.stage = Stage::CreateRuntime,
            (Stage::CreateRuntime, Outcome::Ok) => self.stage = Stage::ReportSpawned,
            (Stage::ReportSpawned, Outcome::Ok) => {
                self.stage = Stage::done(OpResult::Restored {
                    session: self.session.clone(),
                    mode: self.mode,
                });
            }
            // Before the claim nothing was changed: the session is still terminal.
            (Stage::RestoreWorkspace, outcome) => {
                self.roll_back(Step::RestoreWorkspace, cause(outcome), None, false);
            }
            // The old agent may still run: starting another would make two. Give
            // up before the claim (trying the old runtime once more on the way
            // out); the terminal record still names it, for the reaper.
            (Stage::StopPreviousRuntime(handle), outcome) => {
                let previous = Some(handle.clone());
                self.roll_back(Step::StopPreviousRuntime, cause(outcome), previous, false);
            }
            // Lost the claim (the session is live: another restore won) or the
            // write failed: nothing was written, nothing to undo.
            (Stage::Reopen, outcome) => self.roll_back(Step::Reopen, cause(outcome), None, false),
            // Nothing was created: nothing of ours to destroy, nothing to adopt.
            (Stage::CreateRuntime, outcome @ (Outcome::Refused(_) | Outcome::Foreign(_))) => {
                self.roll_back(Step::CreateRuntime, cause(outcome), None, true);
            }
            // A failed create may have half-happened (a timeout): destroy it too.
            (Stage::CreateRuntime, outcome) => {
                self.roll_back(Step::CreateRuntime, cause(outcome), rt, true);
            }
            (Stage::ReportSpawned, outcome) => {
                self.roll_back(Step::ReportSpawned, cause(outcome), rt, true);
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

    /// After a crash: once the claim may have been made, roll back to terminal.
    pub(crate) fn recover(mut self) -> RestoreOp {
        let rt = Some(self.runtime_handle.clone());
        let undo = match &self.stage {
            Stage::RestoreWorkspace => Some((Step::RestoreWorkspace, None, false)),
            // Unclaimed: the record still names the old runtime; try it once more.
            Stage::StopPreviousRuntime(handle) => {
                Some((Step::StopPreviousRuntime, Some(handle.clone()), false))
            }
            // The claim may have happened (the old runtime is already stopped).
            // Marking an unclaimed (still terminal) record errored is harmless.
            Stage::Reopen => Some((Step::Reopen, None, true)),
            Stage::CreateRuntime => Some((Step::CreateRuntime, rt, true)),
            Stage::ReportSpawned => Some((Step::ReportSpawned, rt, true)),
            Stage::RollingBack(_) | Stage::Done { .. } => None,
        };
        if let Some((step, runtime, record)) = undo {
            self.roll_back(step, Cause::Interrupted, runtime, record);
        }
        self
    }

    pub(crate) fn max_steps(&self) -> usize {
        let stop = usize::from(self.previous_runtime.is_some());
        let forward = |done: usize| FORWARD + stop - done + ROLLBACK;
        match &self.stage {
            Stage::RestoreWorkspace => forward(0),
            Stage::StopPreviousRuntime(_) => forward(1),
            Stage::Reopen => forward(1 + stop),
            Stage::CreateRuntime => forward(2 + stop),
            Stage::ReportSpawned => forward(3 + stop),
            Stage::RollingBack(rb) => rb.remaining(),
            Stage::Done { .. } => 0,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done { .. })
    }

    fn create_runtime(&self) -> Action {
        Action::CreateRuntime {
            session: self.session.clone(),
            handle: self.runtime_handle.clone(),
            workspace: self.workspace_path.clone(),
            command: self.command.clone(),
            env: self.env.clone(),
        }
    }

    fn roll_back(&mut self, step: Step, cause: Cause, runtime: Option<Handle>, record: bool) {
        // The workspace is kept whatever happens; hand it to the record so it
        // stays tracked even if a concurrent kill or cleanup released it
        // meanwhile (a no-op write when the record still names it) — unless
        // its path holds something that is not ours, which is never adopted.
        let keep = foreign_path(step, &cause)
            .is_none()
            .then(|| self.workspace_path.clone());
        let rb =
            Rollback::new(self.session.clone(), step, cause, runtime, None, record).keeping(keep);
        // Before the claim, the runtime to stop is the terminal record's own.
        let rb = if step == Step::StopPreviousRuntime {
            rb.recorded_runtime()
        } else {
            rb
        };
        self.stage = Stage::RollingBack(rb);
        self.settle();
    }

    fn settle(&mut self) {
        if let Stage::RollingBack(rb) = &self.stage {
            if rb.next().is_none() {
                self.stage = Stage::done(self.failed(rb));
            }
        }
    }

    fn failed(&self, rb: &Rollback) -> OpResult {
        let handle = self.workspace_path.clone();
        let (step, cause) = rb.cause();
        let fate = match foreign_path(step, cause) {
            Some(why) => Fate::Foreign {
                handle,
                reason: why.to_owned(),
            },
            None => Fate::Kept {
                handle,
                reason: KEEP_WORKSPACE.to_owned(),
            },
        };
        OpResult::Failed(rb.failure(OpKind::Restore, Some(fate)))
    }
}

/// Why the workspace path holds something that is not ours, when the
/// restore stopped because of that (SPEC §7.22).
fn foreign_path(step: Step, cause: &Cause) -> Option<&str> {
    match (step, cause) {
        (Step::RestoreWorkspace, Cause::Foreign(why)) => Some(why),
        _ => None,
    }
}
