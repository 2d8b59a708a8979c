//! End to end against the real `ao` binary: a temp data dir, real child
//! processes running a small fake agent that calls `ao hook activity`, a
//! local webhook receiver and a fake GitHub on loopback.
//!
//! Hermetic: every daemon gets a temp data dir and an ephemeral port, and
//! runs with `HOME` and `TMUX_TMPDIR` pointed into its test's temp dir (and
//! no `TMUX`), so nothing it does can reach `~/.ao` or a tmux server of the
//! user's; `the_suite_leaves_the_default_tmux_server_and_home_untouched`
//! checks that it did not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/fake_github.rs"]
mod fake_github;
#[path = "support/process_agents.rs"]
mod process_agents;

use fake_github::{FakeCheckRun, FakeGitHub, FakePr};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const AO: &str = env!("CARGO_BIN_EXE_ao");

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let unique = format!(
            "ao-e2e-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        stop_agents(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Ends the process-runtime agents the test's daemons left running, in
/// every data dir under `dir`.
fn stop_agents(dir: &Path) {
    let Ok(data_dirs) = std::fs::read_dir(dir) else {
        return;
    };
    for data in data_dirs.flatten() {
        process_agents::stop(&data.path());
    }
}

/// A running `ao daemon`.
struct Daemon {
    child: Child,
    url: String,
    data_dir: PathBuf,
}

impl Daemon {
    /// Starts the daemon and waits for its readiness line.
    fn start(config: &Path, data_dir: &Path) -> Daemon {
        let (home, tmux_tmpdir) = sandbox(data_dir);
        let mut child = Command::new(AO)
            .args(["daemon", "--config"])
            .arg(config)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("HOME", home)
            .env("TMUX_TMPDIR", tmux_tmpdir)
            .env_remove("TMUX")
            .env("AO_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ao daemon");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("ao daemon listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the daemon reports it is listening");
        Daemon {
            child,
            url,
            data_dir: data_dir.to_owned(),
        }
    }

    /// SIGTERM; returns how long the exit took.
    fn stop(mut self) -> Duration {
        let started = Instant::now();
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "a SIGTERM'd daemon exits 0, got {status}");
        started.elapsed()
    }

    /// A session as the API returns it (through the CLI's `--json`).
    fn get(&self, path: &str) -> Value {
        let id = path.trim_start_matches("/sessions/");
        let out = self.ao(&["--json", "status", id]);
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Runs the CLI against this daemon.
    fn ao(&self, args: &[&str]) -> std::process::Output {
        Command::new(AO)
            .args(args)
            .env("AO_URL", &self.url)
            .env("AO_DATA_DIR", &self.data_dir)
            .output()
            .unwrap()
    }

    fn status(&self, id: &str) -> String {
        self.get(&format!("/sessions/{id}"))["status"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    fn wait_status(&self, id: &str, want: &str, within: Duration) {
        let ok = wait_until(within, || self.status(id) == want);
        assert!(
            ok,
            "{id} never reached {want}; last: {}",
            self.get(&format!("/sessions/{id}"))
        );
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a daemon on `data_dir` finds its `HOME` and `TMUX_TMPDIR`: empty
/// folders beside the data dir, so anything that reaches for `~/.ao` or a
/// tmux server by name (or the default one) leaves a trace there.
fn sandbox(data_dir: &Path) -> (PathBuf, PathBuf) {
    let home = data_dir.with_extension("home");
    let tmux_tmpdir = data_dir.with_extension("tmux");
    for d in [&home, &tmux_tmpdir] {
        std::fs::create_dir_all(d).unwrap();
    }
    (home, tmux_tmpdir)
}

fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

/// A fake agent: reports `active` through the real CLI, appends every input
/// line to an inbox outside its workspace, and records its pid.
fn write_agent(dir: &Path, touch_workspace: bool) -> PathBuf {
    let script = dir.join("agent.sh");
    let touch = if touch_workspace {
        "echo 'work in progress' > notes.txt"
    } else {
        ":"
    };
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             INBOX=\"$1\"\n\
             echo $$ > \"$INBOX.pid\"\n\
             {touch}\n\
             \"{AO}\" hook activity --state active >/dev/null 2>&1\n\
             while IFS= read -r line; do printf '%s\\n' \"$line\" >> \"$INBOX\"; done\n"
        ),
    )
    .unwrap();
    script
}

fn fast_thresholds() -> &'static str {
    "thresholds:\n  reaper_interval: 250ms\n  scm_interval: 300ms\n  tick_interval: 300ms\n  spawn_grace: 1s\n  recent_activity_window: 1s\n  death_confirmations: 2\n"
}

/// Collects webhook POSTs.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    _rt: tokio::runtime::Runtime,
}

impl Receiver {
    fn start() -> Receiver {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let store = bodies.clone();
        let url = rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let app = axum::Router::new().route(
                "/hook",
                axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
                    let store = store.clone();
                    async move {
                        store.lock().unwrap().push(v);
                        "ok"
                    }
                }),
            );
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            format!("http://{addr}/hook")
        });
        Receiver {
            url,
            bodies,
            _rt: rt,
        }
    }

    fn reactions(&self, kind: &str) -> usize {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b["reaction"] == kind || b["type"] == kind)
            .count()
    }
}

fn spawn(d: &Daemon, project: &str) -> String {
    let out = d.ao(&[
        "--json",
        "spawn",
        "--project",
        project,
        "--issue",
        "7",
        "fix the bug",
    ]);
    assert!(
        out.status.success(),
        "spawn failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["session"].as_str().unwrap().to_owned()
}

#[test]
fn ci_failure_reaches_the_agent_and_a_restart_does_not_repeat_it() {
    let dir = TempDir::new("ci");
    write_agent(&dir.0, false);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let github = rt.block_on(FakeGitHub::start());
    let log: String = (1..=300).map(|i| format!("line {i}\n")).collect::<String>()
        + "\u{1b}[31merror[E0308]: mismatched types\u{1b}[0m\n";
    let mut pr = FakePr::open("owner/repo", 7, "ao/app-1");
    pr.check_runs
        .push(FakeCheckRun::completed(42, "test", "failure"));
    github.add_pr(pr);
    github.with(|w| {
        w.job_logs.insert(42, log);
    });
    let config = dir.0.join("ao.yaml");
    std::fs::write(
        &config,
        format!(
            "{}projects:\n  app:\n    github: owner/repo\n    agent:\n      launch: \"sh {d}/agent.sh {d}/inbox-{{session_id}}\"\ngithub:\n  token: test-token\n  api_base: {}\n",
            fast_thresholds(),
            github.base(),
            d = dir.0.display()
        ),
    )
    .unwrap();
    let data = dir.0.join("data");
    let d = Daemon::start(&config, &data);
    let id = spawn(&d, "app");
    assert_eq!(id, "app-1");
    let inbox = dir.0.join("inbox-app-1");
    let delivered = wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(&inbox).is_ok_and(|t| t.contains("mismatched types"))
    });
    assert!(
        delivered,
        "the CI log tail never reached the agent; session: {}",
        d.get("/sessions/app-1")
    );
    let text = std::fs::read_to_string(&inbox).unwrap();
    assert!(text.contains("Failing CI log"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "escape sequences must not reach the agent: {text:?}"
    );
    assert!(
        !text.contains("line 100\n"),
        "only the tail (120 lines) is sent"
    );
    assert_eq!(d.status("app-1"), "ci_failed");
    let attempts = |d: &Daemon| {
        d.get("/sessions/app-1")["policy"]["trackers"]["ci-failed"]["attempts"].clone()
    };
    assert_eq!(attempts(&d), 1);
    let took = d.stop();
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?}");

    // Restart mid-incident: CI still fails, but nothing is sent again and the budget is kept.
    let d = Daemon::start(&config, &data);
    std::thread::sleep(Duration::from_secs(2));
    let again = std::fs::read_to_string(&inbox).unwrap();
    assert_eq!(
        again.matches("Failing CI log").count(),
        1,
        "a restart must not re-send: {again}"
    );
    assert_eq!(attempts(&d), 1);
    let took = d.stop();
    assert!(took < Duration::from_secs(5));

    // The journal (quiet repeats left out, read as `ao-sim replay` reads it)
    // replays to exactly the stored state.
    let journal = ao_sim::replay::read(&data).unwrap();
    let replayed = ao_core::journal::replay(&journal.entries).unwrap();
    let store = ao_daemon::store::Store::open(&data.join("ao.db")).unwrap();
    let stored: Vec<_> = store.records().unwrap();
    let replayed: Vec<_> = replayed.records.into_values().collect();
    assert_eq!(
        replayed, stored,
        "replaying the journal must reproduce the daemon's state"
    );
}

#[test]
fn an_agent_killed_from_outside_is_confirmed_dead_and_paged_once() {
    let dir = TempDir::new("death");
    write_agent(&dir.0, false);
    let hook = Receiver::start();
    let config = dir.0.join("ao.yaml");
    std::fs::write(
        &config,
        format!(
            "{}projects:\n  app:\n    agent:\n      launch: \"sh {d}/agent.sh {d}/inbox-{{session_id}}\"\nnotifiers:\n  channels:\n    hook: {{kind: webhook, url: \"{}\"}}\n  routes:\n    urgent: [log, hook]\n",
            fast_thresholds(),
            hook.url,
            d = dir.0.display()
        ),
    )
    .unwrap();
    let data = dir.0.join("data");
    let d = Daemon::start(&config, &data);
    let id = spawn(&d, "app");
    d.wait_status(&id, "working", Duration::from_secs(15));
    let pid: i32 = std::fs::read_to_string(dir.0.join(format!("inbox-{id}.pid")))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    d.wait_status(&id, "killed", Duration::from_secs(15));
    let rec = d.get(&format!("/sessions/{id}"));
    assert_eq!(
        rec["lifecycle"]["session"]["reason"], "runtime_lost",
        "{rec}"
    );
    assert!(
        wait_until(Duration::from_secs(10), || hook.reactions("agent-exited")
            == 1),
        "agent-exited webhook"
    );
    let took = d.stop();
    assert!(took < Duration::from_secs(5));
    // After a restart nothing pages again.
    let d = Daemon::start(&config, &data);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        hook.reactions("agent-exited"),
        1,
        "no repeated page after a restart"
    );
    drop(d);
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kill_keeps_a_dirty_worktree_and_restore_reopens_the_session() {
    let dir = TempDir::new("kill");
    write_agent(&dir.0, true);
    let repo = dir.0.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(
        &repo,
        &[
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ],
    );
    let config = dir.0.join("ao.yaml");
    std::fs::write(
        &config,
        format!(
            "{}projects:\n  app:\n    repo: {}\n    workspace: git-worktree\n    agent:\n      launch: \"sh {d}/agent.sh {d}/inbox-{{session_id}}\"\n",
            fast_thresholds(),
            repo.display(),
            d = dir.0.display()
        ),
    )
    .unwrap();
    let d = Daemon::start(&config, &dir.0.join("data"));
    let id = spawn(&d, "app");
    d.wait_status(&id, "working", Duration::from_secs(15));
    let workspace = d.get(&format!("/sessions/{id}"))["metadata"]["workspace_path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        Path::new(&workspace).join("notes.txt").exists(),
        "the agent wrote into its worktree"
    );
    let out = d.ao(&["kill", &id]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("runtime: freed"), "{said}");
    assert!(
        said.contains("workspace: kept"),
        "a dirty worktree is kept and reported: {said}"
    );
    assert!(
        Path::new(&workspace).join("notes.txt").exists(),
        "uncommitted work survives a kill"
    );
    assert_eq!(d.status(&id), "killed");
    let out = d.ao(&["restore", &id]);
    assert!(
        out.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    d.wait_status(&id, "working", Duration::from_secs(15));
    let out = d.ao(&["restore", &id]);
    assert!(!out.status.success(), "restoring a live session is refused");
}

#[test]
fn a_port_in_use_fails_the_start_at_once() {
    let dir = TempDir::new("port");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let started = Instant::now();
    let out = Command::new(AO)
        .args(["daemon", "--data-dir"])
        .arg(dir.0.join("data"))
        .args(["--listen", &addr])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen on"), "{err}");
}

/// `ao daemon --check-config` on a config file holding `text`: its exit
/// code and what it said on stderr.
fn check_config(config: &Path, text: &str) -> (Option<i32>, String) {
    std::fs::write(config, text).unwrap();
    let out = Command::new(AO)
        .args(["daemon", "--check-config", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_malformed_config_names_file_line_and_column() {
    let dir = TempDir::new("config");
    let config = dir.0.join("bad.yaml");
    let (code, err) = check_config(
        &config,
        "thresholds:\n  reaper_interval: 30\nprojects: {}\n",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("bad.yaml:2:20"), "{err}");
    let (code, err) = check_config(&config, "projects:\n  app:\n    runtime: docker\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("bad.yaml:3:14") && err.contains("docker"),
        "{err}"
    );
    let (code, err) = check_config(&config, "tmux: {socket: /tmp/s, server: x}\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("tmux") && err.contains("not both"), "{err}");
    let (code, err) = check_config(&config, "projects:\n  app:\n    runtime: tmux\n");
    assert_eq!(code, Some(0), "{err}");
}

fn tmux_installed() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
    }
    ok
}

/// The daemon's own tmux server (a socket in its data dir), as a user reaches it.
struct DaemonTmux(PathBuf);

impl DaemonTmux {
    fn of(data: &Path) -> DaemonTmux {
        DaemonTmux(data.join("tmux.sock"))
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.0)
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap()
    }

    fn has(&self, name: &str) -> bool {
        self.run(&["has-session", "-t", &format!("={name}")])
            .status
            .success()
    }
}

impl Drop for DaemonTmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The data dir's instance id, as runtime names carry it (six hex digits).
fn instance_short(data: &Path) -> String {
    let id = std::fs::read_to_string(data.join("instance")).unwrap();
    id.trim()[..6].to_owned()
}

/// A config with one project `app` running the fake agent, plus `settings`
/// (indented project lines, e.g. `    runtime: tmux\n`).
fn app_config(dir: &Path, settings: &str) -> PathBuf {
    let config = dir.join("ao.yaml");
    std::fs::write(
        &config,
        format!(
            "{}projects:\n  app:\n{settings}    agent:\n      launch: \"sh {d}/agent.sh {d}/inbox-{{session_id}}\"\n",
            fast_thresholds(),
            d = dir.display()
        ),
    )
    .unwrap();
    config
}

#[test]
fn the_tmux_runtime_runs_an_agent() {
    if !tmux_installed() {
        return;
    }
    let dir = TempDir::new("tmux");
    write_agent(&dir.0, false);
    let config = app_config(&dir.0, "    runtime: tmux\n");
    let data = dir.0.join("data");
    let d = Daemon::start(&config, &data);
    let tmux = DaemonTmux::of(&data);
    let id = spawn(&d, "app");
    d.wait_status(&id, "working", Duration::from_secs(15));
    let handle = d.get(&format!("/sessions/{id}"))["metadata"]["runtime_handle"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        handle,
        format!("ao-{}-{id}", instance_short(&data)),
        "runtime names carry the data dir's instance"
    );
    assert!(
        tmux.has(&handle),
        "the tmux session exists on the daemon's own server"
    );
    let shown = String::from_utf8_lossy(&d.ao(&["status", &id]).stdout).to_string();
    let attach = shown
        .lines()
        .find(|l| l.starts_with("attach"))
        .unwrap_or_else(|| panic!("`ao status` shows how to attach:\n{shown}"));
    assert!(
        attach.contains(&format!("{}", data.join("tmux.sock").display()))
            && attach.contains(&handle)
            && attach.contains(&format!("ao attach {id}")),
        "the attach line names the daemon's own tmux server and the session: {attach}"
    );
    let out = d.ao(&["send", &id, "hello agent"]);
    assert!(out.status.success());
    assert!(wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(dir.0.join(format!("inbox-{id}")))
            .is_ok_and(|t| t.contains("hello agent"))
    }));
    let out = d.ao(&["kill", &id]);
    assert!(out.status.success());
    assert!(!tmux.has(&handle), "kill ends the tmux session");
}

/// Issue 12: a tmux session someone else made under the exact name a spawn
/// wants survives the failed spawn (before, the rollback destroyed it), and
/// one that took a live session's name survives the kill.
#[test]
fn a_foreign_tmux_session_with_our_name_survives_a_failed_spawn_and_a_kill() {
    if !tmux_installed() {
        return;
    }
    let dir = TempDir::new("tmux-foreign");
    write_agent(&dir.0, false);
    let config = app_config(&dir.0, "    runtime: tmux\n");
    let data = dir.0.join("data");
    let d = Daemon::start(&config, &data);
    let tmux = DaemonTmux::of(&data);
    let taken = format!("ao-{}-app-1", instance_short(&data));
    assert!(tmux
        .run(&["new-session", "-d", "-s", &taken, "sleep 300"])
        .status
        .success());

    let out = d.ao(&["spawn", "--project", "app", "--issue", "7", "fix it"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("failed at create_runtime (not ours"),
        "{said}"
    );
    assert!(
        said.contains("runtime: absent"),
        "nothing of ours was made: {said}"
    );
    assert!(
        tmux.has(&taken),
        "the foreign session survives the rollback"
    );
    assert_eq!(d.status("app-1"), "errored");

    // A live session whose tmux session is replaced by someone else's: the
    // reaper finds its own gone (killed, runtime_lost) and its reclaim
    // releases the name without touching what holds it now.
    let replace = |id: &str| {
        let name = format!("ao-{}-{id}", instance_short(&data));
        assert!(tmux
            .run(&["kill-session", "-t", &format!("={name}")])
            .status
            .success());
        assert!(tmux
            .run(&["new-session", "-d", "-s", &name, "sleep 300"])
            .status
            .success());
        name
    };
    let id = spawn(&d, "app");
    d.wait_status(&id, "working", Duration::from_secs(15));
    let name = replace(&id);
    d.wait_status(&id, "killed", Duration::from_secs(15));
    let released = wait_until(Duration::from_secs(10), || {
        d.get(&format!("/sessions/{id}"))["metadata"]["runtime_handle"].is_null()
    });
    assert!(released, "{}", d.get(&format!("/sessions/{id}")));
    assert!(tmux.has(&name), "the foreign session survives the reclaim");

    // The same, ended by a kill.
    let id = spawn(&d, "app");
    d.wait_status(&id, "working", Duration::from_secs(15));
    let name = replace(&id);
    let out = d.ao(&["kill", &id]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}");
    assert!(!said.contains(&format!("freed {name}")), "{said}");
    assert!(tmux.has(&name), "the foreign session survives the kill");
    assert!(tmux.has(&taken));
}

/// A folder already at a new session's workspace path (made by hand, or
/// another program's) is never adopted or deleted: the spawn fails as "not ours".
#[test]
fn a_foreign_directory_at_the_workspace_path_survives() {
    let dir = TempDir::new("dir-foreign");
    write_agent(&dir.0, false);
    let config = app_config(&dir.0, "");
    let data = dir.0.join("data");
    let foreign = data.join("workspaces/app/app-1");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("keep.txt"), "someone's work\n").unwrap();
    let d = Daemon::start(&config, &data);
    let out = d.ao(&["spawn", "--project", "app", "--issue", "7", "fix it"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("failed at create_workspace (not ours"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(foreign.join("keep.txt")).unwrap(),
        "someone's work\n"
    );
    // The next session gets its own path and works.
    let id = spawn(&d, "app");
    d.wait_status(&id, "working", Duration::from_secs(15));
    let out = d.ao(&["kill", &id]);
    assert!(out.status.success());
    assert!(foreign.join("keep.txt").exists());
}

/// The sessions of the tmux server a bare `tmux` reaches from this test
/// (the user's default server, or the one this shell is attached to), as
/// `$id name` lines; none if no server runs. Read-only: listing never starts
/// a server.
fn user_tmux_sessions() -> Vec<String> {
    Command::new("tmux")
        .args(["list-sessions", "-F", "#{session_id} #{session_name}"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Issue 12: the test suite must never touch the user's tmux server or
/// `~/.ao`. The daemon's tmux flows (a name collision, spawn, message,
/// kill, restore) run here with `HOME` and `TMUX_TMPDIR` pointed at empty
/// folders: a tmux server reached by name or by default would leave its
/// socket in the second, `~/.ao` would appear in the first. Both stay empty,
/// and every session the user's own server had before is still there, with
/// none of ours added. (Other suites running at the same time are hermetic
/// too, so only the user can change that list meanwhile; by adding sessions,
/// which this check allows.)
#[test]
fn the_suite_leaves_the_default_tmux_server_and_home_untouched() {
    if !tmux_installed() {
        return;
    }
    let before = user_tmux_sessions();
    let dir = TempDir::new("hermetic");
    write_agent(&dir.0, false);
    let config = app_config(&dir.0, "    runtime: tmux\n");
    let data = dir.0.join("data");
    let d = Daemon::start(&config, &data);
    let tmux = DaemonTmux::of(&data);
    let ours = format!("ao-{}-", instance_short(&data));
    let taken = format!("{ours}app-1");
    assert!(tmux
        .run(&["new-session", "-d", "-s", &taken, "sleep 300"])
        .status
        .success());
    let out = d.ao(&["spawn", "--project", "app", "--issue", "7", "fix it"]);
    assert!(!out.status.success(), "the collision fails the spawn");
    let id = spawn(&d, "app");
    d.wait_status(&id, "working", Duration::from_secs(15));
    assert!(d.ao(&["send", &id, "hello"]).status.success());
    assert!(d.ao(&["kill", &id]).status.success());
    assert!(d.ao(&["restore", &id]).status.success());
    d.wait_status(&id, "working", Duration::from_secs(15));
    assert!(d.ao(&["kill", &id]).status.success());
    d.stop();
    drop(tmux);

    let (home, tmux_tmpdir) = sandbox(&data);
    let left = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    assert_eq!(
        left(&tmux_tmpdir),
        Vec::<PathBuf>::new(),
        "no named or default tmux server was used"
    );
    assert_eq!(
        left(&home),
        Vec::<PathBuf>::new(),
        "nothing was written to HOME"
    );
    let after = user_tmux_sessions();
    for session in &before {
        assert!(
            after.contains(session),
            "the user's session {session} is gone"
        );
    }
    let added: Vec<&String> = after.iter().filter(|s| s.contains(&ours)).collect();
    assert!(
        added.is_empty(),
        "sessions of ours on the user's server: {added:?}"
    );
}
