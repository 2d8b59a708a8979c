//! Desktop and Slack notifications from a real daemon: an agent that asks
//! for input (an urgent `agent-needs-input` reaction) reaches a fake
//! `notify-send` first on the daemon's `PATH` (its argv recorded) and a fake
//! Slack incoming webhook that checks the message as Slack does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/slack.rs"]
mod slack;
#[path = "support/daemon.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use support::{daemon_command, wait_until, Daemon, TempDir, QUIET};

#[test]
fn an_agent_asking_for_input_reaches_the_desktop_and_slack() {
    let dir = TempDir::new("notify-e2e");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let argv = dir.join("notify-send.argv");
    let fake = bin.join("notify-send");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done >> '{}'\n",
            argv.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let team = slack::FakeSlack::start();

    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = dir.join("ao.yaml");
    std::fs::write(
        &config,
        format!(
            "{QUIET}notifiers:\n  channels:\n    team: {{kind: slack, url: \"{}\", backoff: 10ms}}\n    screen: {{kind: desktop}}\n  routes:\n    urgent: [log, screen, team]\n",
            team.url
        ),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let child = daemon_command(&data, Some(&config), "127.0.0.1:0")
        .env("PATH", &path)
        .spawn()
        .unwrap();
    let d = Daemon::ready(child, &data);
    let id = d.spawn("sleep 30");
    let out = d.ao(&[
        "hook",
        "activity",
        "--state",
        "waiting_input",
        "--session",
        &id,
    ]);
    assert!(out.status.success());

    let recorded = || {
        std::fs::read_to_string(&argv)
            .unwrap_or_default()
            .split('\0')
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || !recorded().is_empty()
            && !team.seen().is_empty()),
        "both channels were told: argv {:?}, slack {:?}",
        recorded(),
        team.seen()
    );
    assert_eq!(
        recorded(),
        [
            "--app-name=ao",
            "--urgency=critical",
            "--",
            &format!("ao: {id} needs_input"),
            "The agent needs your input.",
        ]
    );
    let seen = team.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (status, _, body) = &seen[0];
    assert_eq!(*status, 200, "Slack would accept it: {body}");
    assert_eq!(
        body["text"],
        format!("ao: {id} needs_input: The agent needs your input.")
    );
    assert_eq!(
        body["blocks"][1]["elements"][0]["text"],
        "urgent · agent-needs-input"
    );
}
