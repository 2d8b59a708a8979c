//! What a spawn will need, checked before any spawn: each project's
//! repository exists and is a git repository when its workspaces are git
//! worktrees, its agent templates use only known placeholders, and the
//! tools the config names (tmux, git, the agent's program) are on `PATH`.
//! `--check-config` lists every problem and exits 2; a starting daemon
//! logs them as warnings.

use crate::config::{DaemonConfig, RuntimeKind, WorkspaceKind};
use ao_core::domain::{IssueId, ProjectId, SessionId};
use ao_core::sm::{render_command, CommandVars, TemplateError};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// One thing spawn would trip on: the config field and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Dotted field path (`projects.app.repo`).
    pub field: String,
    /// What is wrong, and what to do.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem the config's projects would meet at spawn, in project order.
pub fn check(config: &DaemonConfig, path_var: Option<&str>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut push = |field: String, message: String| problems.push(Problem { field, message });
    let mut tools: Vec<(String, String)> = Vec::new();
    for (id, p) in config.projects_with_default() {
        let at = |f: &str| format!("projects.{id}.{f}");
        if p.workspace == WorkspaceKind::GitWorktree {
            match &p.repo {
                None => push(
                    at("repo"),
                    "a git-worktree workspace needs the repository path".into(),
                ),
                Some(repo) if !repo.is_dir() => {
                    push(
                        at("repo"),
                        format!("{} does not exist (or is not a directory)", repo.display()),
                    );
                }
                Some(repo) if !is_git_repo(repo) => {
                    push(at("repo"), format!("{} is not a git repository (run `git init` there, or use `workspace: directory`)", repo.display()));
                }
                Some(_) => {}
            }
            tools.push(("git".into(), at("workspace")));
        }
        if p.runtime == RuntimeKind::Tmux {
            tools.push(("tmux".into(), at("runtime")));
        }
        if let Some(config) = &p.agent {
            let agent = config.spec(&crate::agent::ao_program());
            if let Some(message) = template_problem(&agent.launch, false) {
                push(at("agent.launch"), message);
            }
            if let Some(resume) = &agent.resume {
                if let Some(message) = template_problem(resume, true) {
                    push(at("agent.resume"), message);
                }
            }
            let field = match config.kind() {
                Some(_) => at("agent"),
                None => at("agent.launch"),
            };
            let program = config
                .kind()
                .map(|k| k.program())
                .or(program(&agent.launch));
            if let Some(program) = program {
                tools.push((program.to_owned(), field));
            }
        }
    }
    for (tool, field) in tools {
        if !on_path(&tool, path_var) {
            push(field, format!("`{tool}` is not on PATH"));
        }
    }
    problems
}

/// Renders a template with sample values: an unknown placeholder, or
/// `{agent_session_id}` outside a resume, is a problem.
fn template_problem(template: &str, resume: bool) -> Option<String> {
    let (s, p, i) = (
        SessionId::from("s-1"),
        ProjectId::from("p"),
        IssueId::from("1"),
    );
    let vars = CommandVars {
        session_id: &s,
        project_id: &p,
        issue_id: &i,
        prompt: "prompt",
        rules: None,
        agent_session_id: resume.then_some("agent-1"),
    };
    match render_command(template, &vars) {
        Ok(_) => None,
        Err(e @ TemplateError::Unknown(_)) => Some(format!(
            "{e}; known: {{session_id}}, {{project_id}}, {{issue_id}}, {{prompt}}, {{rules}}{}",
            if resume { ", {agent_session_id}" } else { "" }
        )),
        Err(e @ TemplateError::Unavailable(_)) => Some(format!("{e} (only a resume knows it)")),
    }
}

/// The program a command line starts, when it is a plain word we can look up.
fn program(command: &str) -> Option<&str> {
    let first = command.split_whitespace().next()?;
    let plain = first
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./+".contains(c));
    plain.then_some(first)
}

/// Whether `tool` is an executable file: a path as given, a bare name on `PATH`.
fn on_path(tool: &str, path_var: Option<&str>) -> bool {
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if tool.contains('/') {
        return executable(Path::new(tool));
    }
    path_var
        .unwrap_or("")
        .split(':')
        .filter(|d| !d.is_empty())
        .any(|d| executable(&PathBuf::from(d).join(tool)))
}

/// A directory git can work in (a checkout or a bare repository).
fn is_git_repo(repo: &Path) -> bool {
    repo.join(".git").exists() || (repo.join("HEAD").is_file() && repo.join("objects").is_dir())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn templates_name_their_bad_placeholder() {
        assert_eq!(template_problem("claude -p {prompt}", false), None);
        assert!(template_problem("claude -p {promt}", false)
            .unwrap()
            .contains("promt"));
        assert!(
            template_problem("claude --resume {agent_session_id}", false)
                .unwrap()
                .contains("only a resume")
        );
        assert_eq!(
            template_problem("claude --resume {agent_session_id}", true),
            None
        );
        assert_eq!(program("sh -c {prompt}"), Some("sh"));
        assert_eq!(program("FOO=1 claude"), None);
    }
}
