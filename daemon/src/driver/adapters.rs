//! The real adapters behind the ports, chosen per project by config: which
//! runtime and workspace a session uses, its repository and GitHub repo; the
//! names runtimes get, and whose they are (this data dir's instance id and
//! the session: see [`crate::owner`]). An adapter's "not ours" answer becomes
//! [`Outcome::Foreign`], which the session manager never destroys or adopts.

use super::Shared;
use crate::config::{DaemonConfig, ProjectConfig, RuntimeKind, WorkspaceKind};
use crate::error::AdapterError;
use crate::notify::Notifiers;
use crate::owner::{InstanceId, Owner};
use crate::ports::{Removal, Runtime, RuntimeSpec, Scm, Workspace};
use crate::runtime::output::Capture;
use crate::runtime::{AnyRuntime, ProcessRuntime, TmuxRuntime};
use crate::scm::GitHub;
use crate::workspace::{AnyWorkspace, Directory, GitWorktree};
use ao_core::domain::{Handle, Probe, ProjectId, SessionId, SessionRecord};
use ao_core::lcm::{Notification, ScmObservation};
use ao_core::sm::{OpId, Outcome};
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
    instance: InstanceId,
}

/// A session's agent output as the dashboard and `ao logs` show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentOutput {
    /// The runtime kind (`tmux`, `process`).
    pub runtime: &'static str,
    /// Where it was read: the log file, or the tmux attach command.
    pub source: String,
    /// The lines, oldest first.
    pub lines: Vec<String>,
}

/// An adapter's answer as the session manager's outcome.
fn outcome(r: Result<(), AdapterError>) -> Outcome {
    match r {
        Ok(()) => Outcome::Ok,
        Err(e @ AdapterError::NotOurs { .. }) => Outcome::Foreign(e.to_string()),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// The runtime name for a session: `ao-<instance>-<session>` for a spawn,
/// `…-<op>` for a restore (each restore starts a new runtime). `:` and `.`
/// become `_` (tmux would rename a session holding them); a name two
/// sessions share anyway is told apart by its owner tag.
pub fn runtime_name(instance: &InstanceId, session: &SessionId, restore: Option<&OpId>) -> String {
    let name = match restore {
        None => format!("ao-{}-{session}", instance.short()),
        Some(op) => format!("ao-{}-{session}-{op}", instance.short()),
    };
    name.replace([':', '.'], "_")
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
        let instance = InstanceId::load_or_create(data_dir).map_err(|e| e.to_string())?;
        let server = cfg
            .tmux
            .server(data_dir, instance.short())
            .map_err(|e| format!("tmux: {e}"))?;
        Ok(Adapters {
            process: ProcessRuntime::new(data_dir.join("runtimes"))
                .with_capture(
                    Capture::this_binary().map_err(|e| {
                        format!("cannot find the ao binary for output capture: {e}")
                    })?,
                )
                .into(),
            tmux: TmuxRuntime::on(server).into(),
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
            instance,
        })
    }

    /// This data dir's instance id.
    pub fn instance(&self) -> &InstanceId {
        &self.instance
    }

    /// Whose a session's runtimes and workspaces are: this instance's, that session's.
    pub fn owner(&self, session: &SessionId) -> Owner {
        Owner::new(self.instance.clone(), session.clone())
    }

    /// The runtime handle a spawn (`restore: None`) or a restore gives a
    /// session's agent (see [`runtime_name`]).
    pub fn runtime_handle(&self, session: &SessionId, restore: Option<&OpId>) -> Option<Handle> {
        Handle::new(runtime_name(&self.instance, session, restore))
    }

    /// How a user watches a session's agent: the exact `tmux … attach` line
    /// for a tmux runtime (`None` for other runtimes, or without a runtime).
    pub fn attach_command(&self, rec: &SessionRecord) -> Option<String> {
        let handle = rec.metadata.runtime_handle.as_ref()?;
        match self.runtime_of(Some(rec), None) {
            AnyRuntime::Tmux(tmux) => Some(tmux.attach_command(handle)),
            AnyRuntime::Process(_) => None,
        }
    }

    /// [`Self::attach_command`] as a program and its arguments (`ao attach` runs it).
    pub fn attach_argv(&self, rec: &SessionRecord) -> Option<Vec<String>> {
        let handle = rec.metadata.runtime_handle.as_ref()?;
        match self.runtime_of(Some(rec), None) {
            AnyRuntime::Tmux(tmux) => Some(tmux.attach_argv(handle)),
            AnyRuntime::Process(_) => None,
        }
    }

    /// The last `lines` lines of a session's agent output: its tmux pane, or
    /// its process runtime's captured output — for a session whose runtime
    /// is gone, the output its last process runtime left (a tmux pane's
    /// history goes with its session).
    pub async fn output(
        &self,
        rec: &SessionRecord,
        lines: usize,
    ) -> Result<AgentOutput, AdapterError> {
        let what = format!("read the output of session {}", rec.id);
        let handle = rec.metadata.runtime_handle.as_ref();
        match (self.runtime_of(Some(rec), None), handle) {
            (AnyRuntime::Tmux(tmux), Some(handle)) => {
                let owner = self.owner(&rec.id);
                Ok(AgentOutput {
                    runtime: "tmux",
                    source: tmux.attach_command(handle),
                    lines: tmux.history(&owner, handle, lines).await?,
                })
            }
            (AnyRuntime::Tmux(_), None) => Err(AdapterError::failed(
                what,
                "its tmux session is gone, and its history with it",
            )),
            (AnyRuntime::Process(p), handle) => {
                let log = match handle {
                    Some(h) => Some(p.log_path(h)),
                    None => self.last_log(p, &rec.id),
                };
                let Some(log) = log else {
                    return Err(AdapterError::failed(what, "it never had a runtime"));
                };
                let path = log.clone();
                let read = tokio::task::spawn_blocking(move || {
                    crate::runtime::output::last_lines(&path, lines)
                })
                .await
                .map_err(|e| AdapterError::failed(&what, e))?
                .map_err(|e| AdapterError::failed(&what, format!("{}: {e}", log.display())))?;
                Ok(AgentOutput {
                    runtime: "process",
                    source: log.display().to_string(),
                    lines: read,
                })
            }
        }
    }

    /// The newest output log a process runtime of `session` left (a spawn's
    /// or a restore's), once the record no longer names its runtime.
    fn last_log(&self, runtime: &ProcessRuntime, session: &SessionId) -> Option<PathBuf> {
        let spawned = runtime.log_path(&self.runtime_handle(session, None)?);
        let stem = spawned.file_stem()?.to_string_lossy().into_owned();
        let restored = format!("{stem}-op-");
        std::fs::read_dir(runtime.dir())
            .ok()?
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".log")
                    .is_some_and(|s| s == stem || s.starts_with(&restored))
            })
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .max()
            .map(|(_, path)| path)
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
        let owner = self.owner(&rec.id);
        self.runtime_of(Some(rec), None)
            .send(&owner, handle, message)
            .await
    }

    /// Tells the human about the session `rec` (its state after the decision).
    pub async fn notify(&self, n: &Notification, rec: &SessionRecord) -> Result<(), AdapterError> {
        self.notifiers
            .notify_about(n, &crate::notify::About::of(rec))
            .await
    }

    /// Both probes for a session (no handle: both dead).
    pub async fn probe(&self, rec: &SessionRecord) -> (Probe, Probe) {
        match &rec.metadata.runtime_handle {
            Some(handle) => {
                let owner = self.owner(&rec.id);
                self.runtime_of(Some(rec), None).probe(&owner, handle).await
            }
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

    /// Creates (or, for a restore, reuses) a session's workspace, tagged as its.
    pub async fn create_workspace(
        &self,
        session: &SessionId,
        project: &ProjectId,
        path: &Handle,
        branch: &str,
        restore: bool,
    ) -> Outcome {
        let (ws, repo) = self.workspace_of(project);
        let path = Path::new(path.as_str());
        let owner = self.owner(session);
        if restore {
            outcome(ws.restore(&owner, &repo, path, branch).await)
        } else {
            outcome(ws.create(&owner, &repo, path, branch).await)
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
            owner: self.owner(session),
            handle: handle.clone(),
            workspace: PathBuf::from(workspace.as_str()),
            command: command.to_owned(),
            env,
        };
        if let Some(rec) = &rec {
            if let Err(why) = self.install_hooks(rec, &spec).await {
                return Outcome::Failed(why);
            }
        }
        let runtime = self.runtime_of(rec.as_ref(), None);
        let created = runtime.create(&spec).await;
        if let (Ok(()), AnyRuntime::Tmux(tmux)) = (&created, runtime) {
            let attach = tmux.attach_command(handle);
            tracing::info!(session = %session, "the agent runs in tmux; watch it with: {attach}");
        }
        outcome(created)
    }

    /// Installs the hooks of the session's agent (a built-in one) into its
    /// workspace, just before the agent starts there (SPEC's spawn and
    /// restore both pass here; installing twice leaves one set).
    async fn install_hooks(&self, rec: &SessionRecord, spec: &RuntimeSpec) -> Result<(), String> {
        let agent = self.project(&rec.project_id).agent;
        let Some(kind) = agent.and_then(|a| a.kind()) else {
            return Ok(());
        };
        let (workspace, tag) = (spec.workspace.clone(), spec.owner.tag());
        let ao = crate::agent::ao_program();
        let installed = tokio::task::spawn_blocking(move || {
            crate::agent::install_hooks(kind, &workspace, &ao, &tag)
        })
        .await;
        match installed {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("cannot install {kind}'s hooks: {e}")),
            Err(e) => Err(format!("cannot install {kind}'s hooks: {e}")),
        }
    }

    /// What the session's agent shows in its terminal (a tmux runtime of
    /// its own; `None` for other runtimes, or when it cannot be read).
    pub async fn screen(&self, rec: &SessionRecord) -> Option<String> {
        let handle = rec.metadata.runtime_handle.as_ref()?;
        match self.runtime_of(Some(rec), None) {
            AnyRuntime::Tmux(tmux) => tmux.capture_owned(&self.owner(&rec.id), handle).await.ok(),
            AnyRuntime::Process(_) => None,
        }
    }

    /// What a session's agent looks like when it waits at its prompt.
    pub fn prompt_of(&self, project: &ProjectId) -> &'static crate::agent::PromptStyle {
        crate::agent::prompt_of(self.project(project).agent.as_ref())
    }

    /// The project's built-in agent, if it names one.
    pub fn agent_kind(&self, project: &ProjectId) -> Option<crate::agent::AgentKind> {
        self.project(project).agent.and_then(|a| a.kind())
    }

    /// Stops a runtime if it is the session's (absent is fine).
    pub async fn destroy_runtime(
        &self,
        shared: &Arc<Shared>,
        session: &SessionId,
        handle: &Handle,
    ) -> Outcome {
        let rec = Self::record(shared, session).await;
        let owner = self.owner(session);
        outcome(
            self.runtime_of(rec.as_ref(), None)
                .destroy(&owner, handle)
                .await,
        )
    }

    /// Deletes a workspace if it is the session's, unless it holds work.
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
        let owner = self.owner(session);
        // The hooks ao installed are not work: out before the dirty check.
        let (dir, tag) = (PathBuf::from(path.as_str()), owner.tag());
        let removed =
            tokio::task::spawn_blocking(move || crate::agent::uninstall_hooks(&dir, &tag)).await;
        match removed {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(session = %session, "cannot remove the agent's hooks: {e}")
            }
            Err(e) => tracing::warn!(session = %session, "cannot remove the agent's hooks: {e}"),
        }
        match ws.destroy(&owner, &repo, Path::new(path.as_str())).await {
            Ok(Removal::Removed | Removal::Absent) => Outcome::Ok,
            Ok(Removal::Refused(why)) => Outcome::Refused(why),
            Err(e) => outcome(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn runtime_names_carry_the_instance_and_suit_tmux() {
        let i = InstanceId::parse("0123456789abcdef").unwrap();
        let s = SessionId::from("app-1");
        assert_eq!(runtime_name(&i, &s, None), "ao-012345-app-1");
        let op = OpId::from("op-000000000007");
        assert_eq!(
            runtime_name(&i, &s, Some(&op)),
            "ao-012345-app-1-op-000000000007"
        );
        let odd = SessionId::from("my.app:x-1");
        assert_eq!(runtime_name(&i, &odd, None), "ao-012345-my_app_x-1");
    }
}
