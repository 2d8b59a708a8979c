//! `ao daemon --check-config` checks what a spawn will need, not just the
//! YAML: every problem listed with file and field, exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/daemon.rs"]
mod support;

use std::process::{Command, Output};
use support::{TempDir, AO};

fn check(config: &std::path::Path, path_var: &str) -> Output {
    Command::new(AO)
        .args(["daemon", "--check-config", "--config"])
        .arg(config)
        .env("PATH", path_var)
        .output()
        .unwrap()
}

#[test]
fn every_problem_a_spawn_would_meet_is_listed() {
    let dir = TempDir::new("check-config");
    let plain = dir.join("not-a-repo");
    std::fs::create_dir_all(&plain).unwrap();
    let config = dir.join("ao.yaml");
    std::fs::write(
        &config,
        format!(
            "projects:\n  gone:\n    repo: {missing}\n    workspace: git-worktree\n  plain:\n    repo: {plain}\n    workspace: git-worktree\n  tmuxed:\n    runtime: tmux\n    agent:\n      launch: \"claude -p {{promt}}\"\n      resume: \"claude --resume {{agent_session_id}} {{bogus}}\"\n",
            missing = dir.join("missing").display(),
            plain = plain.display(),
        ),
    )
    .unwrap();
    let empty_path = dir.join("empty-bin");
    std::fs::create_dir_all(&empty_path).unwrap();
    let out = check(&config, &empty_path.display().to_string());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let file = config.display().to_string();
    for (field, what) in [
        ("projects.gone.repo", "does not exist"),
        ("projects.plain.repo", "is not a git repository"),
        (
            "projects.tmuxed.agent.launch",
            "unknown placeholder `{promt}`",
        ),
        (
            "projects.tmuxed.agent.resume",
            "unknown placeholder `{bogus}`",
        ),
        ("projects.tmuxed.runtime", "`tmux` is not on PATH"),
        ("projects.gone.workspace", "`git` is not on PATH"),
        ("projects.tmuxed.agent.launch", "`claude` is not on PATH"),
        ("projects.default.agent.launch", "`sh` is not on PATH"),
    ] {
        let line = format!("{file}: {field}: ");
        assert!(
            err.lines().any(|l| l.contains(&line) && l.contains(what)),
            "{field} {what}: {err}"
        );
    }
}

#[test]
fn a_config_whose_needs_are_met_passes() {
    let dir = TempDir::new("check-config-ok");
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let init = Command::new("git")
        .args(["init", "-q"])
        .arg(&repo)
        .status()
        .unwrap();
    assert!(init.success());
    let config = dir.join("ao.yaml");
    std::fs::write(
        &config,
        format!(
            "projects:\n  app:\n    repo: {}\n    workspace: git-worktree\n    agent:\n      launch: \"sh -c {{prompt}}\"\n      resume: \"sh -c {{agent_session_id}}\"\n",
            repo.display()
        ),
    )
    .unwrap();
    let out = check(&config, &std::env::var("PATH").unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "config ok");
}
