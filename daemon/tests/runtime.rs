//! Runtime adapters against real processes and real tmux servers (each
//! test's own, on a socket in its temp dir: never the user's server).

#![allow(clippy::unwrap_used)]

use ao_core::domain::{Handle, Probe};
use ao_daemon::error::AdapterError;
use ao_daemon::owner::{InstanceId, Owner};
use ao_daemon::ports::{Runtime, RuntimeSpec};
use ao_daemon::runtime::tmux::TmuxServer;
use ao_daemon::runtime::{AnyRuntime, ProcessRuntime, RuntimeTimeouts, TmuxRuntime};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temp folder removed on drop.
struct Temp(PathBuf);

impl Temp {
    fn new(tag: &str) -> Temp {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("ao-rt-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Temp(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn handle(s: &str) -> Handle {
    Handle::new(s).unwrap()
}

/// The owner every runtime of these tests is made for (session `s1`).
fn owner() -> Owner {
    owner_of("0123456789abcdef", "s1")
}

fn owner_of(instance: &str, session: &str) -> Owner {
    Owner::new(InstanceId::parse(instance).unwrap(), session.into())
}

fn spec(h: &str, workspace: &Path, command: &str) -> RuntimeSpec {
    RuntimeSpec {
        owner: owner(),
        handle: handle(h),
        workspace: workspace.to_path_buf(),
        command: command.to_owned(),
        env: vec![
            ("AO_PROJECT_ID".to_owned(), "app".to_owned()),
            ("AO_ISSUE_ID".to_owned(), "42".to_owned()),
        ],
    }
}

fn fast() -> RuntimeTimeouts {
    RuntimeTimeouts {
        grace: Duration::from_millis(300),
        ..RuntimeTimeouts::default()
    }
}

/// Polls `probe` until it answers `want` (or 10 s pass); returns the last answer.
async fn probe_until(rt: &impl Runtime, h: &Handle, want: (Probe, Probe)) -> (Probe, Probe) {
    let mut last = rt.probe(&owner(), h).await;
    for _ in 0..500 {
        if last == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        last = rt.probe(&owner(), h).await;
    }
    last
}

/// Polls until the file holds `want` (trimmed) or 10 s pass; returns what it holds.
async fn file_until(path: &Path, want: &str) -> String {
    let mut last = String::new();
    for _ in 0..500 {
        last = std::fs::read_to_string(path).unwrap_or_default();
        if last.trim() == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    last.trim().to_owned()
}

fn leader_pid(rt: &ProcessRuntime, h: &str) -> i32 {
    let text = std::fs::read_to_string(rt.dir().join(format!("{h}.pid"))).unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

const ALIVE: (Probe, Probe) = (Probe::Alive, Probe::Alive);
const DEAD: (Probe, Probe) = (Probe::Dead, Probe::Dead);

// ---------------------------------------------------------------- process

#[tokio::test]
async fn process_agent_gets_messages_and_env() {
    let tmp = Temp::new("msg");
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let rt = ProcessRuntime::with_timeouts(tmp.path().join("runtimes"), fast());
    let h = handle("rt-s1-1");
    let cmd = r#"echo "$AO_SESSION_ID $AO_PROJECT_ID $AO_ISSUE_ID" > env.txt; read line; echo "$line" > got.txt; sleep 30"#;
    rt.create(&spec("rt-s1-1", &ws, cmd)).await.unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, ALIVE);
    assert_eq!(
        file_until(&ws.join("env.txt"), "s1 app 42").await,
        "s1 app 42"
    );

    rt.send(&owner(), &h, "hello agent").await.unwrap();
    assert_eq!(
        file_until(&ws.join("got.txt"), "hello agent").await,
        "hello agent"
    );
    assert_eq!(rt.probe(&owner(), &h).await, ALIVE);

    // A second agent under the same live handle is refused.
    assert!(rt.create(&spec("rt-s1-1", &ws, "sleep 30")).await.is_err());

    rt.destroy(&owner(), &h).await.unwrap();
    assert_eq!(probe_until(&rt, &h, DEAD).await, DEAD);
    rt.destroy(&owner(), &h).await.unwrap();
    assert!(!rt.dir().join("rt-s1-1.pid").exists());
    assert!(!rt.dir().join("rt-s1-1.fifo").exists());
    assert!(rt.send(&owner(), &h, "too late").await.is_err());
}

#[tokio::test]
async fn process_output_goes_to_the_log() {
    let tmp = Temp::new("log");
    let rt = ProcessRuntime::with_timeouts(tmp.path().join("runtimes"), fast());
    let h = handle("rt-log");
    rt.create(&spec("rt-log", tmp.path(), "echo out; echo err >&2"))
        .await
        .unwrap();
    // The agent exits at once: it is reaped, so both probes turn dead.
    assert_eq!(probe_until(&rt, &h, DEAD).await, DEAD);
    let log = std::fs::read_to_string(rt.log_path(&h)).unwrap();
    assert!(log.contains("out") && log.contains("err"), "{log}");
    rt.destroy(&owner(), &h).await.unwrap();
}

#[tokio::test]
async fn process_leader_death_then_group_death() {
    let tmp = Temp::new("kill");
    let rt = ProcessRuntime::with_timeouts(tmp.path().join("runtimes"), fast());
    let h = handle("rt-kill");
    // The leader (sh) waits on a second member of its group.
    rt.create(&spec("rt-kill", tmp.path(), "sleep 30 & wait"))
        .await
        .unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, ALIVE);
    let pgid = leader_pid(&rt, "rt-kill");

    kill(Pid::from_raw(pgid), Signal::SIGKILL).unwrap();
    let leader_gone = (Probe::Alive, Probe::Dead);
    assert_eq!(probe_until(&rt, &h, leader_gone).await, leader_gone);

    killpg(Pid::from_raw(pgid), Signal::SIGKILL).unwrap();
    assert_eq!(probe_until(&rt, &h, DEAD).await, DEAD);

    rt.destroy(&owner(), &h).await.unwrap();
    rt.destroy(&owner(), &h).await.unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, DEAD);
}

#[tokio::test]
async fn process_destroy_escalates_to_sigkill() {
    let tmp = Temp::new("term");
    let rt = ProcessRuntime::with_timeouts(tmp.path().join("runtimes"), fast());
    let h = handle("rt-stubborn");
    // Ignoring SIGTERM is inherited by the sleep, so only SIGKILL ends them.
    rt.create(&spec(
        "rt-stubborn",
        tmp.path(),
        "trap '' TERM; sleep 30 & wait",
    ))
    .await
    .unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, ALIVE);
    let started = std::time::Instant::now();
    rt.destroy(&owner(), &h).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(rt.probe(&owner(), &h).await, DEAD);
}

#[tokio::test]
async fn process_restarted_daemon_probes_sends_and_destroys() {
    let tmp = Temp::new("restart");
    let dir = tmp.path().join("runtimes");
    let h = handle("rt-restart");
    let cmd = r#"while read line; do echo "$line" >> got.txt; done"#;
    {
        let first = ProcessRuntime::with_timeouts(&dir, fast());
        first
            .create(&spec("rt-restart", tmp.path(), cmd))
            .await
            .unwrap();
        first.send(&owner(), &h, "one").await.unwrap();
        assert_eq!(file_until(&tmp.path().join("got.txt"), "one").await, "one");
    }
    // A fresh instance on the same directory: what a restarted daemon builds.
    let second = AnyRuntime::from(ProcessRuntime::with_timeouts(&dir, fast()));
    assert_eq!(second.name(), "process");
    // The agent did not read EOF when the first writer went away.
    assert_eq!(second.probe(&owner(), &h).await, ALIVE);
    second.send(&owner(), &h, "two").await.unwrap();
    assert_eq!(
        file_until(&tmp.path().join("got.txt"), "one\ntwo").await,
        "one\ntwo"
    );
    second.destroy(&owner(), &h).await.unwrap();
    assert_eq!(second.probe(&owner(), &h).await, DEAD);
}

#[tokio::test]
async fn process_unknown_and_broken_handles() {
    let tmp = Temp::new("unknown");
    let rt = ProcessRuntime::new(tmp.path().join("runtimes"));
    let h = handle("never-started");
    assert_eq!(rt.probe(&owner(), &h).await, DEAD);
    rt.destroy(&owner(), &h).await.unwrap();
    assert!(rt.send(&owner(), &h, "hi").await.is_err());

    // A workspace that does not exist: nothing starts.
    let missing = tmp.path().join("missing");
    assert!(rt.create(&spec("rt-x", &missing, "sleep 1")).await.is_err());
    assert_eq!(rt.probe(&owner(), &handle("rt-x")).await, DEAD);

    // An unreadable pid file of ours is a failed probe, never dead, and destroy will not guess.
    std::fs::create_dir_all(rt.dir()).unwrap();
    std::fs::write(rt.dir().join("garbled.pid"), "not a pid\n").unwrap();
    std::fs::write(rt.dir().join("garbled.owner"), owner().tag()).unwrap();
    let g = handle("garbled");
    assert_eq!(rt.probe(&owner(), &g).await, (Probe::Failed, Probe::Failed));
    assert!(rt.destroy(&owner(), &g).await.is_err());
    // So is an owner tag that cannot be read.
    std::fs::remove_file(rt.dir().join("garbled.owner")).unwrap();
    std::fs::create_dir(rt.dir().join("garbled.owner")).unwrap();
    assert_eq!(rt.probe(&owner(), &g).await, (Probe::Failed, Probe::Failed));

    // Handles with path characters stay inside the runtime directory.
    let odd = handle("../escape/x");
    rt.create(&spec("../escape/x", tmp.path(), "sleep 30"))
        .await
        .unwrap();
    assert!(!tmp.path().join("escape").exists());
    assert_eq!(rt.probe(&owner(), &odd).await, ALIVE);
    rt.destroy(&owner(), &odd).await.unwrap();
    assert_eq!(rt.probe(&owner(), &odd).await, DEAD);
}

fn not_ours<T: std::fmt::Debug>(r: Result<T, AdapterError>) -> bool {
    matches!(r, Err(AdapterError::NotOurs { .. }))
}

/// Only its own: a taken handle is refused, and a runtime of another
/// session, another data dir or from before tags is never destroyed,
/// messaged or taken for the caller's (whose own is then gone: dead).
#[tokio::test]
async fn process_runtimes_of_others_are_left_alone() {
    let tmp = Temp::new("owner");
    let rt = ProcessRuntime::with_timeouts(tmp.path().join("runtimes"), fast());
    let h = handle("rt-own");
    rt.create(&spec("rt-own", tmp.path(), "sleep 30"))
        .await
        .unwrap();
    assert!(not_ours(
        rt.create(&spec("rt-own", tmp.path(), "sleep 30")).await
    ));
    for other in [
        owner_of("0123456789abcdef", "s2"),
        owner_of("fedcba9876543210", "s1"),
    ] {
        assert!(not_ours(rt.destroy(&other, &h).await));
        assert!(not_ours(rt.send(&other, &h, "hi").await));
        assert_eq!(rt.probe(&other, &h).await, DEAD);
        assert_eq!(rt.probe(&owner(), &h).await, ALIVE, "untouched");
    }
    rt.destroy(&owner(), &h).await.unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, DEAD);
    assert!(!rt.dir().join("rt-own.owner").exists());

    // A pid file without an owner tag (a daemon from before tags): not ours.
    let mut legacy = std::process::Command::new("sleep")
        .arg("30")
        .process_group(0)
        .spawn()
        .unwrap();
    let pid = legacy.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap();
    std::fs::write(rt.dir().join("rt-legacy.pid"), format!("{pid} {start}\n")).unwrap();
    let old = handle("rt-legacy");
    assert!(not_ours(rt.destroy(&owner(), &old).await));
    assert!(not_ours(
        rt.create(&spec("rt-legacy", tmp.path(), "sleep 1")).await
    ));
    assert!(
        !rt.dir().join("rt-legacy.owner").exists(),
        "the name is given back"
    );
    assert_eq!(rt.probe(&owner(), &old).await, DEAD);
    assert!(
        legacy.try_wait().unwrap().is_none(),
        "the legacy agent still runs"
    );
    legacy.kill().unwrap();
    legacy.wait().unwrap();
}

// ---------------------------------------------------------------- tmux

fn tmux_installed() -> bool {
    let ok = std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping: tmux is not installed (.ci/run installs it)");
    }
    ok
}

/// A private tmux server on a socket in its own temp dir, killed on drop.
struct Server {
    dir: Temp,
}

impl Server {
    fn new() -> Server {
        Server {
            dir: Temp::new("tmux-server"),
        }
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("tmux.sock")
    }

    fn runtime(&self) -> TmuxRuntime {
        TmuxRuntime::on(TmuxServer::Socket(self.socket()))
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("tmux")
            .arg("-S")
            .arg(self.socket())
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// Polls the pane until it shows `needle` (or 10 s pass).
async fn capture_until(rt: &TmuxRuntime, h: &Handle, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..500 {
        last = rt.capture(h).await.unwrap_or_default();
        if last.contains(needle) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    last
}

#[tokio::test]
async fn tmux_session_lifecycle() {
    if !tmux_installed() {
        return;
    }
    let tmp = Temp::new("tmux");
    let server = Server::new();
    let rt = server.runtime();
    assert_eq!(rt.server(), &TmuxServer::Socket(server.socket()));
    let h = handle("rt-s1-1");
    let cmd = r#"echo "id=$AO_SESSION_ID/$AO_ISSUE_ID pwd=$(pwd)"; read line; echo "got:$line"; read again"#;
    rt.create(&spec("rt-s1-1", tmp.path(), cmd)).await.unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, ALIVE);
    let shown = capture_until(&rt, &h, "id=s1/42").await;
    assert!(shown.contains("id=s1/42"), "{shown}");
    assert!(
        shown.contains(&format!("pwd={}", tmp.path().display())),
        "{shown}"
    );

    // A trailing ';' and a leading '-' must arrive verbatim.
    rt.send(&owner(), &h, "-hello; world;").await.unwrap();
    let shown = capture_until(&rt, &h, "got:-hello; world;").await;
    assert!(shown.contains("got:-hello; world;"), "{shown}");

    // The agent exits: the dead pane stays, so the runtime lives on without it.
    rt.send(&owner(), &h, "bye").await.unwrap();
    let exited = (Probe::Alive, Probe::Dead);
    assert_eq!(probe_until(&rt, &h, exited).await, exited);

    rt.destroy(&owner(), &h).await.unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, DEAD);
    rt.destroy(&owner(), &h).await.unwrap();
    assert!(rt.send(&owner(), &h, "nobody").await.is_err());
}

/// A multi-line message (a CI log tail) reaches an agent that asked for
/// bracketed paste as one paste and one Enter, never line by line.
#[tokio::test]
async fn tmux_multi_line_message_is_one_paste_then_enter() {
    if !tmux_installed() {
        return;
    }
    let tmp = Temp::new("tmux-paste");
    let server = Server::new();
    let rt = server.runtime();
    let out = tmp.path().join("received");
    let ready = tmp.path().join("ready");
    // Raw mode: the agent sees exactly the bytes the terminal delivers.
    let cmd = format!(
        r#"printf '\033[?2004h'; stty raw -echo; echo ok > '{}'; exec cat > '{}'"#,
        ready.display(),
        out.display()
    );
    let h = handle("rt-paste");
    rt.create(&spec("rt-paste", tmp.path(), &cmd))
        .await
        .unwrap();
    let message = "CI failed:\nerror: boom\n  at line 3; end";
    assert_eq!(
        file_until(&ready, "ok").await,
        "ok",
        "the agent never got ready"
    );
    rt.send(&owner(), &h, message).await.unwrap();
    let want = "\u{1b}[200~CI failed:\rerror: boom\r  at line 3; end\u{1b}[201~\r";
    let mut got = String::new();
    for _ in 0..500 {
        got = std::fs::read_to_string(&out).unwrap_or_default();
        if got.len() >= want.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(got, want);
    // An empty message is a bare Enter.
    rt.send(&owner(), &h, "").await.unwrap();
    let want_after = format!("{want}\r");
    for _ in 0..500 {
        got = std::fs::read_to_string(&out).unwrap_or_default();
        if got.len() >= want_after.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(got, want_after);
    rt.destroy(&owner(), &h).await.unwrap();
}

#[tokio::test]
async fn tmux_fast_exit_leaves_a_dead_pane() {
    if !tmux_installed() {
        return;
    }
    let tmp = Temp::new("tmux-exit");
    let server = Server::new();
    let rt = AnyRuntime::from(server.runtime());
    assert_eq!(rt.name(), "tmux");
    let h = handle("rt-quick");
    rt.create(&spec("rt-quick", tmp.path(), "exit 3"))
        .await
        .unwrap();
    let exited = (Probe::Alive, Probe::Dead);
    assert_eq!(probe_until(&rt, &h, exited).await, exited);
    rt.destroy(&owner(), &h).await.unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, DEAD);
}

#[tokio::test]
async fn tmux_session_killed_from_outside_is_dead() {
    if !tmux_installed() {
        return;
    }
    let tmp = Temp::new("tmux-kill");
    let server = Server::new();
    let rt = server.runtime();
    let h = handle("rt-victim");
    rt.create(&spec("rt-victim", tmp.path(), "sleep 30"))
        .await
        .unwrap();
    // A second session keeps the server up, so "can't find session" is what we see.
    rt.create(&spec("rt-bystander", tmp.path(), "sleep 30"))
        .await
        .unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, ALIVE);
    assert!(server
        .tmux(&["kill-session", "-t", "=rt-victim"])
        .status
        .success());
    assert_eq!(rt.probe(&owner(), &h).await, DEAD);
    assert_eq!(rt.probe(&owner(), &handle("rt-bystander")).await, ALIVE);
    rt.destroy(&owner(), &h).await.unwrap();
    // An exact match: a prefix of a live session's name is not that session.
    assert_eq!(rt.probe(&owner(), &handle("rt-by")).await, DEAD);
    rt.destroy(&owner(), &handle("rt-bystander")).await.unwrap();
}

#[tokio::test]
async fn tmux_unknown_sessions_are_dead() {
    if !tmux_installed() {
        return;
    }
    let tmp = Temp::new("tmux-unknown");
    let server = Server::new();
    let rt = server.runtime();
    let h = handle("rt-nope");
    // No server on this socket at all.
    assert_eq!(rt.probe(&owner(), &h).await, DEAD);
    rt.destroy(&owner(), &h).await.unwrap();
    // A server that runs, without that session.
    rt.create(&spec("rt-other", tmp.path(), "sleep 30"))
        .await
        .unwrap();
    assert_eq!(rt.probe(&owner(), &h).await, DEAD);
    rt.destroy(&owner(), &h).await.unwrap();
    assert!(rt.send(&owner(), &h, "hi").await.is_err());
    assert!(rt.capture(&h).await.is_err());
    // tmux would silently rename these, so they are refused up front.
    assert!(rt
        .create(&spec("rt.dot", tmp.path(), "sleep 1"))
        .await
        .is_err());
    assert!(rt
        .create(&spec("rt:colon", tmp.path(), "sleep 1"))
        .await
        .is_err());
    // A duplicate session is refused, the first one untouched.
    assert!(rt
        .create(&spec("rt-other", tmp.path(), "sleep 1"))
        .await
        .is_err());
    assert_eq!(rt.probe(&owner(), &handle("rt-other")).await, ALIVE);
    // A missing workspace is refused before tmux runs.
    let missing = tmp.path().join("missing");
    assert!(rt
        .create(&spec("rt-ws", &missing, "sleep 1"))
        .await
        .is_err());
    assert_eq!(rt.probe(&owner(), &handle("rt-ws")).await, DEAD);
}

/// Only its own: a session name that is taken is refused and the session
/// there untouched; sessions without the caller's tag (made by hand, by
/// another data dir, for another session) are never killed or messaged, and
/// the probe says the caller's own is gone.
#[tokio::test]
async fn tmux_sessions_of_others_are_left_alone() {
    if !tmux_installed() {
        return;
    }
    let tmp = Temp::new("tmux-owner");
    let server = Server::new();
    let rt = server.runtime();
    let alive = |name: &str| {
        server
            .tmux(&["has-session", "-t", &format!("={name}")])
            .status
            .success()
    };
    let by_hand = handle("rt-by-hand");
    assert!(server
        .tmux(&["new-session", "-d", "-s", "rt-by-hand", "sleep 30"])
        .status
        .success());
    let stranger = format!("AO_OWNER={}", owner_of("fedcba9876543210", "s1").tag());
    assert!(server
        .tmux(&[
            "new-session",
            "-d",
            "-s",
            "rt-stranger",
            "-e",
            &stranger,
            "sleep 30"
        ])
        .status
        .success());
    for name in ["rt-by-hand", "rt-stranger"] {
        let h = handle(name);
        assert!(not_ours(
            rt.create(&spec(name, tmp.path(), "sleep 1")).await
        ));
        assert!(not_ours(rt.destroy(&owner(), &h).await));
        assert!(not_ours(rt.send(&owner(), &h, "rm -rf ~").await));
        assert_eq!(rt.probe(&owner(), &h).await, DEAD);
        assert!(alive(name), "{name} survives");
    }
    // Ours, but asked for by another session: left alone too.
    let h = handle("rt-mine");
    rt.create(&spec("rt-mine", tmp.path(), "sleep 30"))
        .await
        .unwrap();
    let sibling = owner_of("0123456789abcdef", "s2");
    assert!(not_ours(rt.destroy(&sibling, &h).await));
    assert_eq!(rt.probe(&sibling, &h).await, DEAD);
    assert_eq!(rt.probe(&owner(), &h).await, ALIVE);
    rt.destroy(&owner(), &h).await.unwrap();
    assert!(!alive("rt-mine") && alive("rt-by-hand"));
    assert_eq!(rt.probe(&owner(), &by_hand).await, DEAD);
}
