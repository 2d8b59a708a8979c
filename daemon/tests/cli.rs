//! The `ao` CLI as a user meets it, against the real daemon binary: errors
//! carry the daemon's message and exit 1 (2 for usage), `--json` covers
//! errors, a missing daemon says how to start one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/daemon.rs"]
mod support;

use serde_json::Value;
use std::process::{Command, Output};
use support::{Daemon, TempDir, AO, QUIET};

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bogus_hook_state_is_a_usage_error_listing_the_states() {
    let out = Command::new(AO)
        .args(["hook", "activity", "--state", "bogus", "--session", "x-1"])
        .env("AO_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(!stdout.contains("recorded"), "{stdout}");
    for state in [
        "active",
        "ready",
        "idle",
        "waiting_input",
        "blocked",
        "exited",
    ] {
        assert!(
            stderr.contains(state),
            "the valid states are listed: {stderr}"
        );
    }
}

#[test]
fn every_refusal_is_an_error_with_the_daemons_message() {
    let dir = TempDir::new("cli-errors");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let cases: [(&[&str], &str); 6] = [
        (&["status", "nope-1"], "no such session `nope-1`"),
        (&["kill", "nope-1"], "no such session `nope-1`"),
        (&["restore", "nope-1"], "no session `nope-1`"),
        (&["cleanup", "nope"], "unknown project `nope`"),
        (&["spawn", "-p", "nope", "x"], "unknown project `nope`"),
        (
            &[
                "hook",
                "activity",
                "--state",
                "active",
                "--session",
                "nope-1",
            ],
            "no such session `nope-1`",
        ),
    ];
    for (args, message) in cases {
        let out = d.ao(args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{args:?}: {stderr}"
        );
        assert!(stdout.is_empty(), "{args:?}: {stdout}");

        let mut json_args = vec!["--json"];
        json_args.extend_from_slice(args);
        let out = d.ao(&json_args);
        let (stdout, _) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{json_args:?}");
        let v: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{json_args:?}: {e}: {stdout}"));
        assert!(v["error"].as_str().unwrap().contains(message), "{v}");
    }
}

#[test]
fn a_missing_daemon_says_how_to_start_one() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = TempDir::new("cli-missing");
    for json in [false, true] {
        let mut cmd = Command::new(AO);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .arg("ls")
            .env("AO_URL", format!("http://127.0.0.1:{port}"))
            .env("AO_DATA_DIR", &dir.0)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1));
        let said = if json { stdout } else { stderr };
        assert!(
            said.contains("cannot reach the daemon") && said.contains("`ao daemon`"),
            "{said}"
        );
    }
    let help = Command::new(AO).arg("--help").output().unwrap();
    let (usage, _) = text(&help);
    let url_line = usage.lines().find(|l| l.contains("--url")).unwrap();
    assert!(
        url_line.contains("default"),
        "--url is optional: {url_line}"
    );
    assert!(
        !usage.lines().next().unwrap_or("").contains("--url"),
        "{usage}"
    );
}
