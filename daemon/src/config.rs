//! The daemon's one YAML config file: projects (repo, agent templates,
//! workspace and runtime kinds, reaction overrides), thresholds, notifier
//! routing, GitHub and the API. Every field is optional: with no file at all
//! the daemon runs on embedded defaults (SQLite under the data directory,
//! process runtime, directory workspaces, log notifier).

use ao_core::config::{
    AgentSpec, Config, ConfigError, ConfigOverrides, ProjectOverrides, ReactionOverride,
    ThresholdOverrides,
};
use ao_core::domain::{ProjectId, ReactionKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The config file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonConfig {
    /// Where the database, journal, runtimes and workspaces live (default `~/.ao`).
    pub data_dir: Option<PathBuf>,
    /// The HTTP API.
    pub api: ApiConfig,
    /// Thresholds and intervals (the core's).
    pub thresholds: ThresholdOverrides,
    /// Global reaction overrides (the core's).
    pub reactions: BTreeMap<ReactionKey, ReactionOverride>,
    /// Projects by id.
    pub projects: BTreeMap<String, ProjectConfig>,
    /// Notifier channels and routing by priority.
    pub notifiers: crate::notify::NotifyConfig,
    /// GitHub.
    pub github: GitHubSection,
    /// The tmux server of tmux runtimes (`socket: PATH` or `server: NAME`;
    /// neither: the daemon's own, `<data_dir>/tmux.sock`).
    pub tmux: crate::runtime::tmux::TmuxSection,
    /// The terminal observer: the fallback for agents whose hooks are silent.
    pub terminal_observer: TerminalObserverConfig,
}

/// The terminal observer (tmux agents only): a screen that changes means
/// the agent works; one unchanged for `idle_after` at the agent's prompt
/// means it is idle. Reported with source `terminal`, which never outranks
/// the agent's own hooks (core/SPEC.md §4.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TerminalObserverConfig {
    /// Whether to read agents' screens at all.
    pub enabled: bool,
    /// How often each agent's screen is read.
    pub interval: ao_core::time::Duration,
    /// How long a screen stays unchanged at the prompt before the agent is idle.
    pub idle_after: ao_core::time::Duration,
}

impl Default for TerminalObserverConfig {
    fn default() -> Self {
        TerminalObserverConfig {
            enabled: true,
            interval: ao_core::time::Duration::secs(5),
            idle_after: ao_core::time::Duration::secs(30),
        }
    }
}

/// The HTTP API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Address to bind (loopback by default; anything else requires `token`).
    pub listen: SocketAddr,
    /// A bearer token accepted besides the one in `<data_dir>/token`
    /// (mandatory off loopback, where clients cannot read that file).
    pub token: Option<String>,
    /// Host names (`name` or `name:port`) the API answers to besides
    /// localhost, 127.0.0.1 and [::1] (e.g. a reverse proxy's name).
    pub allowed_hosts: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            token: None,
            allowed_hosts: Vec::new(),
        }
    }
}

/// GitHub access.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitHubSection {
    /// Token (else `GITHUB_TOKEN` / `GH_TOKEN` from the environment).
    pub token: Option<String>,
    /// API base URL (tests point it at a local fake).
    pub api_base: Option<String>,
}

/// How a project's sessions run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectConfig {
    /// The repository (a git checkout for git-worktree workspaces).
    pub repo: Option<PathBuf>,
    /// `owner/name` on GitHub (enables SCM polling).
    pub github: Option<String>,
    /// Runtime kind.
    pub runtime: RuntimeKind,
    /// Workspace kind.
    pub workspace: WorkspaceKind,
    /// The agent: a built-in one by name, or custom templates.
    pub agent: Option<crate::agent::AgentConfig>,
    /// Reaction overrides for this project.
    pub reactions: BTreeMap<ReactionKey, ReactionOverride>,
}

impl Default for ProjectConfig {
    fn default() -> Self {
        ProjectConfig {
            repo: None,
            github: None,
            runtime: RuntimeKind::Process,
            workspace: WorkspaceKind::Directory,
            agent: None,
            reactions: BTreeMap::new(),
        }
    }
}

/// Runtime kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeKind {
    /// A plain child process in its own process group.
    Process,
    /// A tmux session.
    Tmux,
}

/// Workspace kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkspaceKind {
    /// A plain folder.
    Directory,
    /// A git worktree on its own branch.
    GitWorktree,
}

/// Why a config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("{file}: cannot read: {error}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// YAML or shape error, with its location.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was expected.
        message: String,
    },
    /// A value that parses but cannot be used.
    #[error("{file}: {field}: {message}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Dotted field path.
        field: String,
        /// Why.
        message: String,
    },
}

impl DaemonConfig {
    /// Reads and validates a config file.
    pub fn load(file: &Path) -> Result<DaemonConfig, ConfigFileError> {
        let text = std::fs::read_to_string(file).map_err(|error| ConfigFileError::Read {
            file: file.to_owned(),
            error,
        })?;
        Self::parse(file, &text)
    }

    /// Parses and validates config text (`file` names it in errors).
    pub fn parse(file: &Path, text: &str) -> Result<DaemonConfig, ConfigFileError> {
        let config: DaemonConfig = if text.trim().is_empty() {
            DaemonConfig::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| {
                let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
                let message = e.to_string();
                let message = match message.rfind(" at line ") {
                    Some(i) => message[..i].to_owned(),
                    None => message,
                };
                ConfigFileError::Parse {
                    file: file.to_owned(),
                    line,
                    column,
                    message,
                }
            })?
        };
        config.core().map_err(|e| ConfigFileError::Invalid {
            file: file.to_owned(),
            field: e.field().to_owned(),
            message: e.to_string(),
        })?;
        if !config.api.listen.ip().is_loopback()
            && config
                .api
                .token
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
        {
            return Err(ConfigFileError::Invalid {
                file: file.to_owned(),
                field: "api.token".into(),
                message: format!(
                    "binding {} (not loopback) requires a bearer token",
                    config.api.listen
                ),
            });
        }
        if let Err(e) = crate::notify::Notifiers::from_config(&config.notifiers) {
            return Err(ConfigFileError::Invalid {
                file: file.to_owned(),
                field: "notifiers".into(),
                message: e.to_string(),
            });
        }
        if let Err(message) = config.tmux.check() {
            return Err(ConfigFileError::Invalid {
                file: file.to_owned(),
                field: "tmux".into(),
                message,
            });
        }
        let observer = &config.terminal_observer;
        for (field, d) in [
            ("interval", observer.interval),
            ("idle_after", observer.idle_after),
        ] {
            if d.as_millis() == 0 {
                return Err(ConfigFileError::Invalid {
                    file: file.to_owned(),
                    field: format!("terminal_observer.{field}"),
                    message: "must be more than zero".into(),
                });
            }
        }
        for (id, p) in &config.projects {
            if p.workspace == WorkspaceKind::GitWorktree && p.repo.is_none() {
                return Err(ConfigFileError::Invalid {
                    file: file.to_owned(),
                    field: format!("projects.{id}.repo"),
                    message: "a git-worktree workspace needs the repository path".into(),
                });
            }
        }
        Ok(config)
    }

    /// The core's resolved config (thresholds, reactions, projects and agents).
    pub fn core(&self) -> Result<Config, ConfigError> {
        Config::resolve(&self.core_overrides())
    }

    /// What the core resolves its config from (and the journal records):
    /// each project's agent as the templates its adapter renders, hooks
    /// calling back the running `ao`.
    pub fn core_overrides(&self) -> ConfigOverrides {
        let ao = crate::agent::ao_program();
        let projects = self
            .projects_with_default()
            .into_iter()
            .map(|(id, p)| {
                let agent = p.agent.as_ref().map(|a| a.spec(&ao));
                let reactions = p.reactions;
                (ProjectId(id), ProjectOverrides { reactions, agent })
            })
            .collect();
        ConfigOverrides {
            thresholds: self.thresholds.clone(),
            reactions: self.reactions.clone(),
            projects,
        }
    }

    /// The configured projects, plus the embedded `default` project when none is named so.
    pub fn projects_with_default(&self) -> BTreeMap<String, ProjectConfig> {
        let mut all = self.projects.clone();
        all.entry(DEFAULT_PROJECT.to_owned())
            .or_insert_with(|| ProjectConfig {
                agent: Some(crate::agent::AgentConfig::Custom(AgentSpec {
                    launch: DEFAULT_AGENT.to_owned(),
                    resume: None,
                    relaunch: true,
                })),
                ..ProjectConfig::default()
            });
        all
    }

    /// The data directory: configured, else `$HOME/.ao`, else `./.ao`.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map_or_else(|| PathBuf::from(".ao"), |h| PathBuf::from(h).join(".ao"))
        })
    }
}

/// The project that exists with zero configuration.
pub const DEFAULT_PROJECT: &str = "default";

/// The default project's agent runs its prompt as a shell command line:
/// enough to try the daemon with no AI agent installed; real projects
/// configure their agent's launch and resume templates.
pub const DEFAULT_AGENT: &str = "sh -c {prompt}";
