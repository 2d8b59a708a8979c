//! One daemon per data directory: a second one is refused naming the
//! holder's pid; a daemon killed with SIGKILL leaves no lock behind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/daemon.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::{spawn_daemon, Daemon, TempDir, AO, QUIET};

#[test]
fn a_second_daemon_on_the_same_data_dir_is_refused_naming_the_holder() {
    let dir = TempDir::new("lock-held");
    let data = dir.join("data");
    let first = Daemon::start(&data, Some(QUIET));
    let started = Instant::now();
    let mut child = spawn_daemon(&data, None, &[]);
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a second daemon on the same data dir started");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = child.wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains(&format!("pid {}", first.pid())) && err.contains("another ao daemon"),
        "{err}"
    );
    assert!(
        first.ao(&["ls"]).status.success(),
        "the first one still serves"
    );
}

#[test]
fn a_killed_daemons_lock_is_taken_over_and_the_cli_finds_the_new_one() {
    let dir = TempDir::new("lock-stale");
    let data = dir.join("data");
    let first = Daemon::start(&data, Some(QUIET));
    let id = first.spawn("sleep 30");
    first.crash();
    let second = Daemon::start(&data, Some(QUIET));
    // No --url: the CLI reads the new daemon's address from the data dir.
    let out = Command::new(AO)
        .args(["--json", "status", &id])
        .env_remove("AO_URL")
        .env_remove("AO_TOKEN")
        .env("AO_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["id"], id.as_str());
    let recorded = std::fs::read_to_string(data.join("daemon.lock")).unwrap();
    assert!(
        recorded.contains(&format!("pid={}", second.pid())),
        "{recorded}"
    );
}
