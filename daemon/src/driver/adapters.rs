//! The real adapters behind the ports, chosen per project by config: which
//! runtime and workspace a session uses, its repository and GitHub repo.

use super::Shared;
use crate::config::{DaemonConfig, ProjectConfig, RuntimeKind, WorkspaceKind};
use crate::error::AdapterError;
use crate::notify::Notifiers;
use crate::ports::{Notifier, Removal, Runtime, RuntimeSpec, Scm, Workspace};
use crate::runtime::{AnyRuntime, ProcessRuntime, TmuxRuntime};
use crate::scm::GitHub;
use crate::workspace::{AnyWorkspace, Directory, GitWorktree};
use ao_core::domain::{Handle, Probe, ProjectId, SessionId, SessionRecord};
use ao_core::lcm::{Notification, ScmObservation};
use ao_core::sm::Outcome;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every adapter the daemon drives.
pub struct Adapters {
    process: AnyRuntime,
    tmux: AnyRuntime,
    directory: AnyWorkspace,
    git: AnyWorkspace,
    scm: Option<GitHub>,
    notifiers: Notifiers,
    projects: BTreeMap<ProjectId, ProjectConfig>,
    data_dir: PathBuf,
}

fn outcome(r: Result<(), AdapterError>) -> Outcome {
    match r {
        Ok(()) => Outcome::Ok,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

impl Adapters {
    /// Builds the adapters from the config (GitHub is off without a token).
    pub fn from_config(cfg: &DaemonConfig, data_dir: &Path) -> Result<Adapters, String> {
        let scm = GitHub::from_env_or_config(
            cfg.github.token.as_deref(),
            cfg.github.api_base.as_deref(),
            None,
        )
        .map_err(|e| e.to_string())?;
        let notifiers = Notifiers::from_config(&cfg.notifiers).map_err(|e| e.to_string())?;
        Ok(Adapters {
            process: ProcessRuntime::new(data_dir.join("runtimes")).into(),
            tmux: TmuxRuntime::new().into(),
            directory: Directory::new().into(),
            git: GitWorktree::new().into(),
            scm,
            notifiers,
            projects: cfg
                .projects_with_default()
                .into_iter()
                .map(|(id, p)| (ProjectId(id), p))
                .collect(),
            data_dir: data_dir.to_owned(),
        })
    }

    fn project(&self, id: &ProjectId) -> ProjectConfig {
        self.projects.get(id).cloned().unwrap_or_default()
    }

    /// The runtime kind a project's new sessions use.
    pub fn runtime_kind_name(&self, project: &ProjectId) -> &'static str {
        match self.project(project).runtime {
            RuntimeKind::Process => self.process.name(),
            RuntimeKind::Tmux => self.tmux.name(),
        }
    }

    /// The runtime a session runs in: the one its record names, else its project's.
    fn runtime_of(&self, rec: Option<&SessionRecord>, project: Option<&ProjectId>) -> &AnyRuntime {
        let name = rec.map(|r| r.metadata.runtime_name.as_str()).unwrap_or("");
        match name {
            "tmux" => &self.tmux,
            "process" => &self.process,
            _ => {
                let project = project.or(rec.map(|r| &r.project_id));
                match project.map(|p| self.project(p).runtime) {
                    Some(RuntimeKind::Tmux) => &self.tmux,
                    _ => &self.process,
                }
            }
        }
    }

    fn workspace_of(&self, project: &ProjectId) -> (&AnyWorkspace, PathBuf) {
        let p = self.project(project);
        let repo = p.repo.clone().unwrap_or_else(|| self.data_dir.clone());
        match p.workspace {
            WorkspaceKind::Directory => (&self.directory, repo),
            WorkspaceKind::GitWorktree => (&self.git, repo),
        }
    }

    async fn record(shared: &Arc<Shared>, id: &SessionId) -> Option<SessionRecord> {
        let store = shared.store.clone();
        let id = id.clone();
        tokio::task::spawn_blocking(move || store.get(&id))
            .await
            .ok()?
            .ok()?
    }

    /// Where a session's agent output goes, if its runtime keeps a log.
    pub fn output_log(&self, rec: &SessionRecord) -> Option<PathBuf> {
        match (
            self.runtime_of(Some(rec), None),
            &rec.metadata.runtime_handle,
        ) {
            (AnyRuntime::Process(p), Some(handle)) => Some(p.log_path(handle)),
            _ => None,
        }
    }

    /// Types a message into the session's agent.
    pub async fn send(&self, rec: &SessionRecord, message: &str) -> Result<(), AdapterError> {
        let Some(handle) = &rec.metadata.runtime_handle else {
            return Err(AdapterError::failed("send", "the session has no runtime"));
        };
        self.runtime_of(Some(rec), None).send(handle, message).await
    }

    /// Tells the human.
    pub async fn notify(&self, n: &Notification) -> Result<(), AdapterError> {
        self.notifiers.notify(n).await
    }

    /// Both probes for a session (no handle: both dead).
    pub async fn probe(&self, rec: &SessionRecord) -> (Probe, Probe) {
        match &rec.metadata.runtime_handle {
            Some(handle) => self.runtime_of(Some(rec), None).probe(handle).await,
            None => (Probe::Dead, Probe::Dead),
        }
    }

    /// The session's PR, if its project has a GitHub repo and GitHub is on.
    pub async fn fetch(&self, rec: &SessionRecord) -> Option<ScmObservation> {
        let scm = self.scm.as_ref()?;
        let repo = self.project(&rec.project_id).github?;
        if rec.metadata.branch.is_empty() {
            return None;
        }
        Some(scm.fetch(&repo, &rec.metadata.branch).await)
    }

    /// Creates (or, for a restore, reuses) a session's workspace.
    pub async fn create_workspace(
        &self,
        project: &ProjectId,
        path: &Handle,
        branch: &str,
        restore: bool,
    ) -> Outcome {
        let (ws, repo) = self.workspace_of(project);
        let path = Path::new(path.as_str());
        if restore {
            outcome(ws.restore(&repo, path, branch).await)
        } else {
            outcome(ws.create(&repo, path, branch).await)
        }
    }

    /// Starts the agent (with `AO_URL`, its hook token and the data dir, so
    /// its hooks can reach the daemon).
    pub async fn create_runtime(
        &self,
        shared: &Arc<Shared>,
        session: &SessionId,
        handle: &Handle,
        workspace: &Handle,
        command: &str,
        env: &[(String, String)],
    ) -> Outcome {
        let rec = Self::record(shared, session).await;
        let mut env = env.to_vec();
        env.push(("AO_URL".to_owned(), shared.url.clone()));
        // Least privilege: the agent's token reaches only its own session's
        // hook endpoint; the data dir is where `ao hook` spools when the
        // daemon is unreachable.
        env.push(("AO_TOKEN".to_owned(), shared.secret.hook_token(session)));
        env.push((
            "AO_DATA_DIR".to_owned(),
            shared.data_dir.display().to_string(),
        ));
        let spec = RuntimeSpec {
            session: session.clone(),
            handle: handle.clone(),
            workspace: PathBuf::from(workspace.as_str()),
            command: command.to_owned(),
            env,
        };
        outcome(self.runtime_of(rec.as_ref(), None).create(&spec).await)
    }

    /// Stops a runtime (absent is fine).
    pub async fn destroy_runtime(
        &self,
        shared: &Arc<Shared>,
        session: &SessionId,
        handle: &Handle,
    ) -> Outcome {
        let rec = Self::record(shared, session).await;
        outcome(self.runtime_of(rec.as_ref(), None).destroy(handle).await)
    }

    /// Deletes a workspace unless it holds work.
    pub async fn destroy_workspace(
        &self,
        shared: &Arc<Shared>,
        session: &SessionId,
        path: &Handle,
    ) -> Outcome {
        let project = Self::record(shared, session).await.map_or_else(
            || ProjectId::from(crate::config::DEFAULT_PROJECT),
            |r| r.project_id,
        );
        let (ws, repo) = self.workspace_of(&project);
        match ws.destroy(&repo, Path::new(path.as_str())).await {
            Ok(Removal::Removed | Removal::Absent) => Outcome::Ok,
            Ok(Removal::Refused(why)) => Outcome::Refused(why),
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}
