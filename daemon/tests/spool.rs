//! Hooks are never lost: with the daemon down, `ao hook` spools the signal
//! (exit 0, a warning); the next daemon feeds it at its observed time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/daemon.rs"]
mod support;

use serde_json::Value;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::{Daemon, TempDir, AO, QUIET};

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn hook(url: &str, data: &std::path::Path, session: &str, state: &str) -> std::process::Child {
    Command::new(AO)
        .args(["hook", "activity", "--state", state])
        .env("AO_URL", url)
        .env("AO_DATA_DIR", data)
        .env("AO_SESSION_ID", session)
        .env_remove("AO_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_hook_while_the_daemon_is_down_is_delivered_at_its_next_start() {
    let dir = TempDir::new("spool");
    let data = dir.join("data");
    let d = Daemon::start(&data, Some(QUIET));
    let id = d.spawn("sleep 30");
    let url = d.url.clone();
    // The daemon answers an unknown session with an error: that is not spooled.
    let refused = hook(&url, &data, "nope-1", "active")
        .wait_with_output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(!data.join("spool").exists(), "a refusal is never spooled");
    assert!(d.stop());

    // Daemon down: eight hooks at once, then a later one.
    let before = now_ms();
    let busy: Vec<_> = (0..8).map(|_| hook(&url, &data, &id, "active")).collect();
    for child in busy {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("warning:") && stderr.contains("spooled"),
            "{stderr}"
        );
    }
    std::thread::sleep(Duration::from_millis(20));
    let last = hook(&url, &data, &id, "waiting_input")
        .wait_with_output()
        .unwrap();
    assert!(last.status.success());
    let after = now_ms();
    let spooled = std::fs::read_to_string(data.join("spool/hooks.jsonl")).unwrap();
    assert_eq!(
        spooled.lines().count(),
        9,
        "no append lost or cut: {spooled}"
    );
    for line in spooled.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["session"], id.as_str());
    }
    std::thread::sleep(Duration::from_millis(50));

    let d = Daemon::start(&data, Some(QUIET));
    let rec: Value =
        serde_json::from_str(&d.authed("GET", &format!("/sessions/{id}")).send().body).unwrap();
    let activity = &rec["lifecycle"]["activity"];
    assert_eq!(activity["state"], "waiting_input", "{rec}");
    assert_eq!(activity["source"], "hook");
    let at = activity["last_activity_at"].as_u64().unwrap();
    assert!(
        before <= at && at <= after,
        "fed at its observed time: {at} not in {before}..{after}"
    );
    assert_eq!(rec["status"], "needs_input", "{rec}");
    let left: Vec<_> = std::fs::read_dir(data.join("spool")).unwrap().collect();
    assert!(left.is_empty(), "the spool is emptied: {left:?}");
    // The journal holds the late signals with their observed times: replay agrees.
    assert!(d.stop());
    let entries = ao_daemon::journal::read_journal(&data.join("journal.jsonl")).unwrap();
    let replayed = ao_core::journal::replay(&entries).unwrap();
    let store = ao_daemon::store::Store::open(&data.join("ao.db")).unwrap();
    let stored = store.records().unwrap();
    let replayed: Vec<_> = replayed.records.into_values().collect();
    assert_eq!(replayed, stored);
}
