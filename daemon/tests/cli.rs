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

fn stdout_of(d: &Daemon, args: &[&str]) -> String {
    let out = d.ao(args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{args:?}: {stdout}{stderr}");
    stdout
}

#[test]
fn ls_hides_cleaned_sessions_and_rm_archives_only_those() {
    let dir = TempDir::new("cli-ls");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let done = d.spawn("sleep 30");
    let live = d.spawn("sleep 30");

    let table = stdout_of(&d, &["ls"]);
    let header = table.lines().next().unwrap();
    for column in ["STATUS", "FOR", "AGE", "BRANCH", "ACTIVITY"] {
        assert!(header.contains(column), "{header}");
    }
    let row = table.lines().find(|l| l.starts_with(&live)).unwrap();
    assert!(
        row.contains(&format!("ao/{live}")) && row.contains("none (hooks silent)"),
        "{row}"
    );

    let refused = d.ao(&["rm", &live]);
    let (_, err) = text(&refused);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        err.contains(&format!("kill it first (`ao kill {live}`)")),
        "{err}"
    );

    assert!(d.ao(&["kill", &done]).status.success());
    assert!(d.ao(&["cleanup", "default"]).status.success());
    let table = stdout_of(&d, &["ls"]);
    assert!(
        !table.lines().any(|l| l.starts_with(&done)),
        "a cleaned session is hidden: {table}"
    );
    assert!(table.contains("1 cleaned session(s) hidden"), "{table}");
    let all = stdout_of(&d, &["ls", "--all"]);
    let row = all.lines().find(|l| l.starts_with(&done)).unwrap();
    assert!(
        row.contains("killed") && row.contains("- (finished)"),
        "{row}"
    );
    let json: Value = serde_json::from_str(&stdout_of(&d, &["--json", "ls"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);

    assert_eq!(
        stdout_of(&d, &["rm", &done]).trim(),
        format!("archived {done}")
    );
    let all = stdout_of(&d, &["ls", "--all"]);
    assert!(!all.contains(&done), "{all}");
    assert_eq!(d.ao(&["status", &done]).status.code(), Some(1));
    // The journal agrees: replaying it ends without the archived session.
    let data = d.data_dir.clone();
    assert!(d.stop());
    let entries = ao_daemon::journal::read_journal(&data.join("journal.jsonl")).unwrap();
    let replayed = ao_core::journal::replay(&entries).unwrap();
    let stored = ao_daemon::store::Store::open(&data.join("ao.db"))
        .unwrap()
        .records()
        .unwrap();
    assert_eq!(replayed.records.into_values().collect::<Vec<_>>(), stored);
    assert_eq!(stored.len(), 1);
}

/// Whether `text` holds a local time as `YYYY-MM-DD HH:MM:SS` right after `after`.
fn has_local_time(text: &str, after: &str) -> bool {
    text.split(after).nth(1).is_some_and(|rest| {
        let t: Vec<char> = rest.chars().take(19).collect();
        t.len() == 19
            && t.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == '-',
                10 => *c == ' ',
                13 | 16 => *c == ':',
                _ => c.is_ascii_digit(),
            })
    })
}

#[test]
fn status_shows_local_times_durations_runtime_and_log() {
    let dir = TempDir::new("cli-status");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let id = d.spawn(&format!("\"{AO}\" hook activity --state active; sleep 30"));
    assert!(support::wait_until(
        std::time::Duration::from_secs(15),
        || { stdout_of(&d, &["status", &id]).contains("status    working") }
    ));
    let status = stdout_of(&d, &["status", &id]);
    let line = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {status}"))
            .to_owned()
    };
    let s = line("status");
    assert!(
        s.contains("working, for ") && has_local_time(&s, " s (since "),
        "{s}"
    );
    // Runtime names carry the data dir's instance id: ao-<instance>-<session>.
    let runtime = line("runtime");
    assert!(
        runtime.starts_with("runtime   process ao-") && runtime.contains(&format!("-{id} ")),
        "{status}"
    );
    let log = line("output");
    let log = log.trim_start_matches("output").trim();
    assert!(
        log.ends_with(".log") && std::path::Path::new(log).exists(),
        "{status}"
    );
    let a = line("activity");
    assert!(
        has_local_time(&a, "active (reported by hook at ") && a.contains(" ago)"),
        "{a}"
    );

    assert!(d.ao(&["kill", &id]).status.success());
    let after = stdout_of(&d, &["status", &id]);
    let a = after.lines().find(|l| l.starts_with("activity")).unwrap();
    assert!(
        a.contains("- (finished; its last report was active at "),
        "a finished session's activity is history: {a}"
    );
}

#[test]
fn a_refused_restore_of_a_session_whose_runtime_is_gone_says_to_kill_it_first() {
    let dir = TempDir::new("cli-restore");
    let config = "thresholds:\n  reaper_interval: 200ms\n  scm_interval: 1h\n  tick_interval: 1h\n  spawn_grace: 100ms\n  death_confirmations: 1000\n";
    let d = Daemon::start(&dir.join("data"), Some(config));
    let id = d.spawn("exit 0");
    assert!(support::wait_until(
        std::time::Duration::from_secs(15),
        || {
            let v: Value =
                serde_json::from_str(&stdout_of(&d, &["--json", "status", &id])).unwrap();
            v["lifecycle"]["runtime"]["state"] == "exited"
        }
    ));
    let out = d.ao(&["restore", &id]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("its runtime is gone")
            && err.contains(&format!(
                "kill it first (`ao kill {id}`), then `ao restore {id}`"
            )),
        "{err}"
    );
    assert!(d.ao(&["kill", &id]).status.success());
    assert!(
        d.ao(&["restore", &id]).status.success(),
        "and then the restore works"
    );
}
