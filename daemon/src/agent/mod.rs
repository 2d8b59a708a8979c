//! The agents ao knows by name (issue 14). For each: how to launch it with
//! its prompt, resume one of its sessions or relaunch it fresh (an
//! [`AgentSpec`] the core's session manager renders, every value
//! shell-quoted), what to install in a session's workspace so that the
//! agent's own hooks report to the daemon (and how to take it out again),
//! how to read what those hooks send to `ao hook <agent> <event>`, and what
//! its screen looks like when it waits at its prompt (the terminal
//! observer's fallback when hooks are silent).
//!
//! A project picks one with `agent: claude-code` (or `codex`, `aider`,
//! `opencode`, `gemini`), optionally `{name: claude-code, args: [...]}` for
//! extra command-line arguments; `agent: {launch, resume, relaunch}` is a
//! custom agent, configured by its templates alone.

mod aider;
mod claude_code;
mod codex;
mod config;
mod custom;
mod files;
mod gemini;
mod opencode;
mod payload;
mod settings;
mod words;

pub use config::AgentConfig;
pub use words::hook_command;

use ao_core::config::AgentSpec;
use ao_core::domain::ActivityState;
use std::path::{Path, PathBuf};

/// A built-in agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentKind {
    /// Anthropic's Claude Code (`claude`).
    ClaudeCode,
    /// OpenAI's Codex CLI (`codex`).
    Codex,
    /// Aider (`aider`).
    Aider,
    /// OpenCode (`opencode`).
    OpenCode,
    /// Google's Gemini CLI (`gemini`).
    Gemini,
}

impl AgentKind {
    /// Every built-in agent, in the order the docs list them.
    pub const ALL: [AgentKind; 5] = [
        AgentKind::ClaudeCode,
        AgentKind::Codex,
        AgentKind::Aider,
        AgentKind::OpenCode,
        AgentKind::Gemini,
    ];

    /// The name in the config file and on `ao hook <agent>`.
    pub fn name(self) -> &'static str {
        match self {
            AgentKind::ClaudeCode => "claude-code",
            AgentKind::Codex => "codex",
            AgentKind::Aider => "aider",
            AgentKind::OpenCode => "opencode",
            AgentKind::Gemini => "gemini",
        }
    }

    /// The program it runs as (looked up on `PATH`).
    pub fn program(self) -> &'static str {
        match self {
            AgentKind::ClaudeCode => "claude",
            AgentKind::Codex => "codex",
            AgentKind::Aider => "aider",
            AgentKind::OpenCode => "opencode",
            AgentKind::Gemini => "gemini",
        }
    }

    /// Launch, resume and relaunch templates, `args` going right after the program.
    pub fn spec(self, args: &[String], ao: &Path) -> AgentSpec {
        match self {
            AgentKind::ClaudeCode => claude_code::spec(args),
            AgentKind::Codex => codex::spec(args, ao),
            AgentKind::Aider => aider::spec(args, ao),
            AgentKind::OpenCode => opencode::spec(args),
            AgentKind::Gemini => gemini::spec(args),
        }
    }

    /// Installs the agent's hooks into a session's workspace, for `ao` at
    /// `ao` (idempotent: a second install leaves one set of hooks).
    pub fn install(self, workspace: &Path, ao: &Path) -> Result<(), AgentError> {
        match self {
            AgentKind::ClaudeCode => claude_code::LAYOUT.install(workspace, ao),
            AgentKind::Gemini => gemini::install(workspace, ao),
            AgentKind::OpenCode => opencode::install(workspace, ao),
            // Both take their hooks on the command line (see their `spec`).
            AgentKind::Codex | AgentKind::Aider => Ok(()),
        }
    }

    /// Takes out what [`Self::install`] put in (the user's own settings
    /// stay; a file ao created and nothing else uses is deleted).
    pub fn uninstall(self, workspace: &Path) -> Result<(), AgentError> {
        match self {
            AgentKind::ClaudeCode => claude_code::LAYOUT.uninstall(workspace),
            AgentKind::Gemini => gemini::uninstall(workspace),
            AgentKind::OpenCode => opencode::uninstall(workspace),
            AgentKind::Codex | AgentKind::Aider => Ok(()),
        }
    }

    /// Where a hook of this agent finds its payload.
    pub fn payload_source(self, event: &str) -> PayloadSource {
        match self {
            AgentKind::Codex if event == codex::NOTIFY => PayloadSource::LastArgument,
            AgentKind::Aider => PayloadSource::None,
            _ => PayloadSource::Stdin,
        }
    }

    /// What one hook invocation (`ao hook <agent> <event>`) reports.
    pub fn read_hook(self, event: &str, payload: &str) -> Result<Report, Rejected> {
        match self {
            AgentKind::ClaudeCode => claude_code::read_hook(event, payload),
            AgentKind::Codex => codex::read_hook(event, payload),
            AgentKind::Aider => aider::read_hook(event),
            AgentKind::OpenCode => opencode::read_hook(event, payload),
            AgentKind::Gemini => gemini::read_hook(event, payload),
        }
    }

    /// What its screen shows when it waits at its prompt.
    pub fn prompt(self) -> &'static PromptStyle {
        match self {
            AgentKind::ClaudeCode => &claude_code::PROMPT,
            AgentKind::Codex => &codex::PROMPT,
            AgentKind::Aider => &aider::PROMPT,
            AgentKind::OpenCode => &opencode::PROMPT,
            AgentKind::Gemini => &gemini::PROMPT,
        }
    }

    /// Whether its hooks say when it works again after a question (a tool
    /// runs, a permission is answered): then a question its hook reported
    /// is the hook's to end, never the terminal observer's. aider's only
    /// hook says it waits, so only its screen can show the answer.
    pub fn hooks_report_work(self) -> bool {
        !matches!(self, AgentKind::Aider)
    }

    /// The files [`Self::install`] writes, relative to the workspace (for the docs and tests).
    pub fn installed_files(self) -> &'static [&'static str] {
        match self {
            AgentKind::ClaudeCode => &[claude_code::SETTINGS],
            AgentKind::Gemini => &[gemini::SETTINGS],
            AgentKind::OpenCode => &[opencode::PLUGIN],
            AgentKind::Codex | AgentKind::Aider => &[],
        }
    }
}

impl std::fmt::Display for AgentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for AgentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgentKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown agent `{s}`: expected one of {}",
                    AgentKind::ALL.map(AgentKind::name).join(", ")
                )
            })
    }
}

/// Where a hook finds what the agent tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadSource {
    /// JSON on standard input (Claude Code, Gemini CLI, Codex hooks, the OpenCode plugin).
    Stdin,
    /// JSON as the last command-line argument (Codex's `notify` program).
    LastArgument,
    /// Nothing: the event name is all there is (Aider's notification command).
    None,
}

/// What one hook invocation reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The activity it means, if any (a known event may mean none, e.g. `/clear`).
    pub state: Option<ActivityState>,
    /// The agent's own session id, for a later resume.
    pub agent_session_id: Option<String>,
}

impl Report {
    /// A report of `state` alone.
    pub fn state(state: ActivityState) -> Report {
        Report {
            state: Some(state),
            agent_session_id: None,
        }
    }

    /// A known event that changes nothing.
    pub fn nothing() -> Report {
        Report::default()
    }

    /// This report, also naming the agent's session (blank ids are dropped).
    pub fn identified(mut self, id: Option<String>) -> Report {
        self.agent_session_id = id.filter(|s| !s.trim().is_empty());
        self
    }
}

/// Why a hook invocation reports nothing: counted and logged, never a crash.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// An event this agent's adapter does not know.
    #[error("unknown event `{0}`")]
    UnknownEvent(String),
    /// A payload that is not what the agent sends.
    #[error("malformed payload: {0}")]
    Malformed(String),
}

/// Why installing or removing an agent's hooks failed (the spawn fails with it).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Reading or writing a file failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A file holds something ao cannot merge its hooks into without clobbering it.
    #[error("{}: {why}", path.display())]
    Unmergeable {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

/// How an agent's screen looks when it waits at its prompt: one of the last
/// few non-blank lines, with box-drawing borders and blanks trimmed, starts
/// with one of `starts` or ends with one of `ends`. A numbered menu entry
/// (`❯ 1. Yes`) is a question, not the prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PromptStyle {
    /// Prompt markers a line starts with (`>`, `❯`, `›`).
    pub starts: &'static [&'static str],
    /// Prompt markers a line ends with (a shell's `$`).
    pub ends: &'static [&'static str],
}

/// How many of the last non-blank lines may hold the prompt (status lines sit below it).
const PROMPT_LINES: usize = 6;

impl PromptStyle {
    /// Whether `screen` (a capture of the agent's pane) shows the prompt.
    pub fn at_prompt(&self, screen: &str) -> bool {
        let border = |c: char| c.is_whitespace() || ('\u{2500}'..='\u{257f}').contains(&c);
        screen
            .lines()
            .map(|l| l.trim_matches(border))
            .filter(|l| !l.is_empty())
            .rev()
            .take(PROMPT_LINES)
            .any(|line| {
                let starts = self.starts.iter().find_map(|m| line.strip_prefix(m));
                let menu = starts.is_some_and(|rest| {
                    let rest = rest.trim_start();
                    rest.chars().next().is_some_and(|c| c.is_ascii_digit()) && rest.contains('.')
                });
                (starts.is_some() && !menu) || self.ends.iter().any(|m| line.ends_with(m))
            })
    }
}

/// What an agent's screen looks like at its prompt (generic without an agent).
pub fn prompt_of(agent: Option<&AgentConfig>) -> &'static PromptStyle {
    agent.map_or(&custom::PROMPT, AgentConfig::prompt)
}

/// Where ao records, inside a workspace, that it installed an agent's hooks
/// there and for whom: the owner tag, then the agent (`.ao/` is
/// daemon-written: never work, gone with the workspace).
const INSTALLED: &str = ".ao/agent-hooks";

/// Installs `kind`'s hooks into a session's workspace, recorded as
/// `owner`'s (hooks of another agent ao installed there for the same
/// owner, e.g. before a config change, are taken out first).
pub fn install_hooks(
    kind: AgentKind,
    workspace: &Path,
    ao: &Path,
    owner: &str,
) -> Result<(), AgentError> {
    let record = files::WorkspaceFile::new(workspace, INSTALLED);
    let text = record.read()?;
    if let Some((tag, previous)) = text.as_deref().and_then(parse_installed) {
        if tag == owner && previous != kind {
            previous.uninstall(workspace)?;
        }
    }
    // Recorded first: a crash half-way still leaves uninstall something to go by.
    record.write(&format!("{owner}\n{kind}\n"))?;
    kind.install(workspace, ao)
}

/// Takes out the hooks ao installed into `workspace` for `owner`; a
/// workspace without that record (or with another owner's: not ours) is
/// left as it is. The agent whose hooks were taken out, if any.
pub fn uninstall_hooks(workspace: &Path, owner: &str) -> Result<Option<AgentKind>, AgentError> {
    let record = files::WorkspaceFile::new(workspace, INSTALLED);
    let text = record.read()?;
    let Some((tag, kind)) = text.as_deref().and_then(parse_installed) else {
        return Ok(None);
    };
    if tag != owner {
        return Ok(None);
    }
    kind.uninstall(workspace)?;
    record.remove()?;
    Ok(Some(kind))
}

/// `<owner>\n<agent>\n`.
fn parse_installed(text: &str) -> Option<(&str, AgentKind)> {
    let mut lines = text.lines();
    let tag = lines.next()?.trim();
    let kind = lines.next()?.trim().parse().ok()?;
    Some((tag, kind))
}

/// The `ao` binary hooks call back: the running one, by absolute path, so
/// an agent's `PATH` does not matter.
pub fn ao_program() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("ao"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for k in AgentKind::ALL {
            assert_eq!(k.name().parse::<AgentKind>().unwrap(), k);
        }
        let e = "claude".parse::<AgentKind>().unwrap_err();
        assert!(
            e.contains("claude-code, codex, aider, opencode, gemini"),
            "{e}"
        );
    }

    #[test]
    fn hooks_are_taken_out_only_for_their_owner() {
        let ws = std::env::temp_dir().join(format!("ao-agent-owner-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&ws);
        std::fs::create_dir_all(&ws).unwrap();
        let ao = Path::new("/bin/ao");
        install_hooks(AgentKind::Gemini, &ws, ao, "i1/app-1").unwrap();
        // The project switched agents before a restore: one agent's hooks, not two.
        install_hooks(AgentKind::ClaudeCode, &ws, ao, "i1/app-1").unwrap();
        assert!(!ws.join(gemini::SETTINGS).exists());
        assert_eq!(uninstall_hooks(&ws, "i2/app-1").unwrap(), None, "not ours");
        assert!(ws.join(claude_code::SETTINGS).exists());
        assert_eq!(
            uninstall_hooks(&ws, "i1/app-1").unwrap(),
            Some(AgentKind::ClaudeCode)
        );
        assert_eq!(
            std::fs::read_dir(&ws).unwrap().count(),
            0,
            "nothing of ao's is left"
        );
        let _ = std::fs::remove_dir_all(&ws);
    }

    #[test]
    fn prompts_are_recognised_below_status_lines_but_menus_are_not() {
        let claude = AgentKind::ClaudeCode.prompt();
        let idle = "● Done.\n\n╭────────╮\n│ >      │\n╰────────╯\n  ? for shortcuts\n\n";
        assert!(claude.at_prompt(idle));
        let menu = "Do you want to proceed?\n❯ 1. Yes\n  2. No\n";
        assert!(!claude.at_prompt(menu));
        assert!(!claude.at_prompt("compiling...\n"));
        let shell = custom::PROMPT;
        assert!(shell.at_prompt("done\nuser@host:~/w$ \n"));
        assert!(!shell.at_prompt(""));
    }
}
