//! Real agents (issue 14), end to end against the real `ao` binary: for
//! each built-in agent a fake with the real agent's name, argv and hook
//! protocol (`fixtures/agents/bin/`, node scripts) is first on the daemon's
//! `PATH`; it reads the hook configuration ao installed where the real agent
//! reads it (Claude Code's and Gemini CLI's settings files, Codex's `-c`
//! overrides and `notify` program, OpenCode's plugin directory, aider's
//! `--notifications-command`) and fires the real event sequence with
//! payloads shaped like the real ones (`fixtures/agents/<agent>/`). A test
//! drives a fake by typing a step into its terminal (`ao send`:
//! `permission`, `approve`, `stop`, `exit`, ...).
//!
//! Hermetic: each daemon has a temp data dir, an ephemeral port, its own
//! tmux server on a socket in its data dir, `HOME` and `TMUX_TMPDIR` in the
//! test's temp dir.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/process_agents.rs"]
mod process_agents;
#[path = "support/daemon.rs"]
mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{daemon_command, wait_until, Daemon, TempDir, AO};

/// Where the fakes and their payloads live.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents")
}

/// How long any one expected change may take.
const WITHIN: Duration = Duration::from_secs(20);

/// The recent-activity window in these tests (also how often the terminal
/// observer repeats that a screen keeps changing).
const RECENT: Duration = Duration::from_secs(5);

/// The terminal observer's idle window in these tests.
const IDLE_AFTER: Duration = Duration::from_secs(1);

/// Collects webhook notifications (a bare HTTP/1.1 listener).
struct Webhook {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Webhook {
    fn start() -> Webhook {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let store = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_ok() {
                    if let Ok(v) = serde_json::from_slice(&body) {
                        store.lock().unwrap().push(v);
                    }
                }
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            }
        });
        Webhook { url, bodies }
    }

    /// Urgent notifications of `reaction` so far.
    fn urgent(&self, reaction: &str) -> usize {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b["reaction"] == reaction && b["priority"] == "urgent")
            .count()
    }
}

/// The runtime and workspace a test's project uses.
#[derive(Clone, Copy)]
enum Setup {
    /// tmux runtime, git-worktree workspace (the real set-up).
    TmuxWorktree,
    /// tmux runtime, directory workspace.
    TmuxDirectory,
    /// process runtime, directory workspace (an exited agent leaves nothing behind).
    ProcessDirectory,
}

/// A daemon with one project `app` running `agent`, its fakes first on PATH.
struct Rig {
    /// `None` while a test has it stopped (first: it ends before `dir` goes).
    daemon: Option<Daemon>,
    dir: TempDir,
    hook: Webhook,
    repo: PathBuf,
}

impl Rig {
    fn start(name: &str, agent: &str, setup: Setup, spawn_grace: &str) -> Rig {
        for tool in ["node", "tmux", "git"] {
            let ok = Command::new(tool)
                .arg(if tool == "tmux" { "-V" } else { "--version" })
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                ok,
                "the agent tests need `{tool}` on PATH (.ci/run installs it)"
            );
        }
        let dir = TempDir::new(&format!("agents-{name}"));
        let hook = Webhook::start();
        let repo = dir.join("repo");
        git_repo(&repo);
        let (runtime, workspace) = match setup {
            Setup::TmuxWorktree => ("tmux", "git-worktree"),
            Setup::TmuxDirectory => ("tmux", "directory"),
            Setup::ProcessDirectory => ("process", "directory"),
        };
        let config = format!(
            "thresholds: {{reaper_interval: 200ms, scm_interval: 1h, tick_interval: 200ms, spawn_grace: {spawn_grace}, recent_activity_window: {}ms, death_confirmations: 2}}\n\
             terminal_observer: {{interval: 200ms, idle_after: {}ms}}\n\
             reactions: {{agent-idle: {{enabled: false}}}}\n\
             notifiers:\n  channels:\n    hook: {{kind: webhook, url: \"{}\"}}\n  routes: {{urgent: [log, hook]}}\n\
             projects:\n  app:\n    repo: {}\n    runtime: {runtime}\n    workspace: {workspace}\n    agent: {agent}\n",
            RECENT.as_millis(),
            IDLE_AFTER.as_millis(),
            hook.url,
            repo.display()
        );
        std::fs::write(dir.join("ao.yaml"), config).unwrap();
        for sub in ["data", "home", "tmux"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let daemon = Some(Rig::launch(&dir));
        Rig {
            daemon,
            dir,
            hook,
            repo,
        }
    }

    /// Starts the daemon on the rig's data dir and config: its own `HOME`
    /// and tmux dir, the fakes first on `PATH`.
    fn launch(dir: &TempDir) -> Daemon {
        let data = dir.join("data");
        let path = format!(
            "{}:{}",
            fixtures().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let child = daemon_command(&data, Some(&dir.join("ao.yaml")), "127.0.0.1:0")
            .env("PATH", path)
            .env("HOME", dir.join("home"))
            .env("TMUX_TMPDIR", dir.join("tmux"))
            .env("AO_FAKE_LOG", dir.join("fakes.jsonl"))
            .env_remove("TMUX")
            .env_remove("AO_SESSION_ID")
            .spawn()
            .expect("start ao daemon");
        Daemon::ready(child, &data)
    }

    /// The running daemon.
    fn daemon(&self) -> &Daemon {
        self.daemon.as_ref().expect("the daemon is running")
    }

    /// Stops the daemon (SIGTERM); its agents go on in their runtimes.
    fn stop_daemon(&mut self) {
        let stopped = self.daemon.take().map(Daemon::stop);
        assert_eq!(stopped, Some(true), "the daemon stops cleanly");
    }

    /// Starts the daemon again on the same data dir.
    fn restart_daemon(&mut self) {
        assert!(self.daemon.is_none(), "stop it first");
        self.daemon = Some(Rig::launch(&self.dir));
    }

    fn ao(&self, args: &[&str]) -> Output {
        self.daemon().ao(args)
    }

    /// Spawns a session of `app`; its id.
    fn spawn(&self, prompt: &str) -> String {
        let out = self.ao(&["--json", "spawn", "-p", "app", "-i", "14", prompt]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert!(out.status.success(), "spawn: {v} {}", stderr(&out));
        v["session"].as_str().unwrap().to_owned()
    }

    /// The session as `ao status --json` shows it.
    fn view(&self, id: &str) -> Value {
        let out = self.ao(&["--json", "status", id]);
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Waits until the session holds `what`; the view that did.
    fn wait(&self, id: &str, what: &str, holds: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        let ok = wait_until(WITHIN, || {
            last = self.view(id);
            holds(&last)
        });
        assert!(
            ok,
            "{id} never reached {what}; last: {last}\nfakes: {}",
            self.fakes_log()
        );
        last
    }

    /// Waits for a display status and an activity state and source.
    fn wait_status(&self, id: &str, status: &str, state: &str, source: &str) -> Value {
        self.wait(id, &format!("{status} ({state} by {source})"), |v| {
            let a = &v["lifecycle"]["activity"];
            v["status"] == status && a["state"] == state && a["source"] == source
        })
    }

    /// Waits until the session has recorded the agent's own session id
    /// (the hook that reports it feeds the activity first, then the id).
    fn wait_identified(&self, id: &str, agent_id: &str) -> Value {
        self.wait(id, &format!("agent session id {agent_id}"), |v| {
            v["metadata"]["agent_session_id"] == agent_id
        })
    }

    /// Types a step into the session's agent.
    fn step(&self, id: &str, step: &str) {
        let out = self.ao(&["send", id, step]);
        assert!(out.status.success(), "send {step}: {}", stderr(&out));
    }

    /// What the fakes logged: their launches and the hooks they ran.
    fn fakes_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("fakes.jsonl")).unwrap_or_default()
    }

    /// Every launch of `agent`, in order (argv, session id).
    fn launches(&self, agent: &str) -> Vec<Value> {
        self.fakes_log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["agent"] == agent && v.get("argv").is_some())
            .collect()
    }

    /// A counter from `/metrics`.
    fn metric(&self, name: &str) -> u64 {
        let r = self.daemon().authed("GET", "/metrics").send();
        r.body
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics: {}", r.body))
    }

    /// Waits until `reaction` has been sent as an urgent notification exactly `n` times.
    fn wait_urgent(&self, reaction: &str, n: usize) {
        let ok = wait_until(WITHIN, || self.hook.urgent(reaction) == n);
        assert!(
            ok,
            "urgent {reaction}: {} (want {n})",
            self.hook.urgent(reaction)
        );
    }

    fn ok(&self, args: &[&str]) {
        let out = self.ao(args);
        assert!(
            out.status.success(),
            "ao {args:?}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        drop(self.daemon.take());
        // The daemon's own tmux server outlives it: end it (and its agents).
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(self.dir.join("data/tmux.sock"))
            .arg("kill-server")
            .env_remove("TMUX")
            .output();
        process_agents::stop(&self.dir.join("data"));
        // A fake that is going may still log a line: try until nothing is left.
        wait_until(Duration::from_secs(3), || {
            let _ = std::fs::remove_dir_all(&self.dir.0);
            !self.dir.0.exists()
        });
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A git repository with one commit.
fn git_repo(repo: &Path) {
    std::fs::create_dir_all(repo).unwrap();
    std::fs::write(repo.join("README.md"), "# app\n").unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "."],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "-m",
            "init",
        ],
    ] {
        let out = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    }
}

/// Runs `ao hook <agent> <event>` as an agent's hook would, `stdin` piped
/// in, for the daemon at `url` with data dir `data`.
fn run_hook(url: &str, data: &Path, id: &str, agent: &str, event: &str, stdin: &str) -> Output {
    let mut child = Command::new(AO)
        .args(["hook", agent, event])
        .env("AO_URL", url)
        .env("AO_DATA_DIR", data)
        .env("AO_SESSION_ID", id)
        .env_remove("AO_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Claude Code through its hooks, on tmux in a git worktree: spawn →
/// working with Claude's session id captured; a permission prompt →
/// needs_input and one urgent notification; Stop → idle (and the terminal
/// observer, seeing the idle prompt, does not outrank the hook); malformed
/// payloads and unknown events are counted and change nothing; kill and
/// restore resumes Claude's session; a worktree holding only the installed
/// hook files is cleaned up.
#[test]
fn claude_code_hooks_drive_a_session_from_spawn_to_cleanup() {
    let rig = Rig::start("claude", "claude-code", Setup::TmuxWorktree, "1s");
    let id = rig.spawn("fix the bug");
    rig.wait_status(&id, "working", "active", "hook");
    let launches = rig.launches("claude");
    let claude_id = launches[0]["session_id"].as_str().unwrap().to_owned();
    let v = rig.wait_identified(&id, &claude_id);
    assert_eq!(launches[0]["argv"], serde_json::json!(["fix the bug"]));
    let worktree = PathBuf::from(v["metadata"]["workspace_path"].as_str().unwrap());
    let settings = std::fs::read_to_string(worktree.join(".claude/settings.local.json")).unwrap();
    assert!(
        settings.contains("hook claude-code Notification"),
        "{settings}"
    );

    rig.step(&id, "permission");
    rig.wait_status(&id, "needs_input", "waiting_input", "hook");
    rig.wait_urgent("agent-needs-input", 1);
    rig.step(&id, "approve");
    rig.wait_status(&id, "working", "active", "hook");
    rig.step(&id, "stop");
    let idle = rig.wait_status(&id, "idle", "ready", "hook");
    // The screen sits at Claude's prompt longer than the idle window: the
    // terminal observer sees it, but never outranks the hook's report.
    std::thread::sleep(IDLE_AFTER * 2);
    assert_eq!(
        rig.view(&id)["lifecycle"]["activity"],
        idle["lifecycle"]["activity"]
    );

    let revision = rig.view(&id)["revision"].clone();
    rig.step(&id, "malformed");
    assert!(wait_until(WITHIN, || rig.metric("ao_hook_rejects_total") == 1));
    let (url, data) = (rig.daemon().url.clone(), rig.dir.join("data"));
    let out = run_hook(
        &url,
        &data,
        &id,
        "claude-code",
        "NoSuchEvent",
        r#"{"hook_event_name":"NoSuchEvent"}"#,
    );
    assert!(
        out.status.success(),
        "a hook never breaks its agent: {}",
        stderr(&out)
    );
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout, Claude would read it"
    );
    assert!(
        stderr(&out).contains("unknown event `NoSuchEvent`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(rig.metric("ao_hook_rejects_total"), 2);
    let after = rig.view(&id);
    assert_eq!(
        (&after["revision"], &after["status"]),
        (&revision, &Value::from("idle"))
    );
    assert_eq!(
        rig.hook.urgent("agent-needs-input"),
        1,
        "one page for one question"
    );

    rig.ok(&["kill", &id]);
    rig.ok(&["restore", &id]);
    rig.wait_status(&id, "working", "active", "hook");
    let resumed = &rig.launches("claude")[1];
    assert_eq!(resumed["argv"], serde_json::json!(["--resume", claude_id]));

    rig.ok(&["kill", &id]);
    rig.ok(&["cleanup", "app"]);
    let v = rig.wait(&id, "cleaned", |v| v["cleaned"] == true);
    assert!(!worktree.exists(), "the worktree is gone: {v}");
    let branches = Command::new("git")
        .arg("-C")
        .arg(&rig.repo)
        .args(["worktree", "list"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&branches.stdout).contains(&id),
        "unregistered"
    );
}

/// A hook that fires while the daemon is down is spooled with the agent's
/// session id (`ao hook` still exits 0, silent on stdout); the daemon's next
/// start records the id, and a restore resumes that session.
#[test]
fn an_agent_hook_while_the_daemon_is_down_is_spooled_with_its_session_id() {
    let mut rig = Rig::start("claude-spool", "claude-code", Setup::TmuxDirectory, "1s");
    let id = rig.spawn("fix the bug");
    rig.wait_status(&id, "working", "active", "hook");
    let (url, data) = (rig.daemon().url.clone(), rig.dir.join("data"));
    rig.stop_daemon();
    let start = r#"{"session_id":"claude-spooled","transcript_path":"/t.jsonl","cwd":"/w","hook_event_name":"SessionStart","source":"resume"}"#;
    let out = run_hook(&url, &data, &id, "claude-code", "SessionStart", start);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout, Claude would read it"
    );
    assert!(stderr(&out).contains("spooled"), "{}", stderr(&out));
    rig.restart_daemon();
    rig.wait(&id, "the spooled id recorded", |v| {
        v["metadata"]["agent_session_id"] == "claude-spooled"
    });
    rig.ok(&["kill", &id]);
    rig.ok(&["restore", &id]);
    let resumed = wait_until(WITHIN, || rig.launches("claude").len() == 2);
    assert!(resumed, "{}", rig.fakes_log());
    assert_eq!(
        rig.launches("claude")[1]["argv"],
        serde_json::json!(["--resume", "claude-spooled"])
    );
}

/// A question Claude's hook reported stays asked while its dialog keeps
/// the screen changing (longer than the recent-activity window and the
/// observer's repeat): Claude's hooks say when work goes on, its screen
/// does not; the answer (PostToolUse) makes it working again.
#[test]
fn a_claude_question_stays_asked_while_its_dialog_animates() {
    let rig = Rig::start("claude-asking", "claude-code", Setup::TmuxDirectory, "1s");
    let id = rig.spawn("fix the bug");
    rig.wait_status(&id, "working", "active", "hook");
    rig.step(&id, "asking");
    let asked = rig.wait_status(&id, "needs_input", "waiting_input", "hook");
    std::thread::sleep(RECENT * 2 + Duration::from_secs(2));
    let still = rig.view(&id);
    assert_eq!(still["status"], "needs_input", "{still}");
    assert_eq!(
        still["lifecycle"]["activity"], asked["lifecycle"]["activity"],
        "the screen changed nothing"
    );
    rig.step(&id, "approve");
    rig.wait_status(&id, "working", "active", "hook");
}

/// SessionEnd is an exit report, not a death; once the agent's process is
/// gone too the reaper confirms the death: killed, one urgent agent-exited.
/// (Process runtime: with tmux, a dead pane keeps the runtime alive, which
/// the core quarantines as agent_process_exited — stuck, never dead.)
#[test]
fn claude_code_session_end_then_a_confirmed_death() {
    let rig = Rig::start("claude-end", "claude-code", Setup::ProcessDirectory, "1s");
    let id = rig.spawn("fix the bug");
    rig.wait_status(&id, "working", "active", "hook");
    rig.step(&id, "exit");
    let v = rig.wait(&id, "killed after an exit", |v| v["status"] == "killed");
    assert_eq!(v["lifecycle"]["activity"]["state"], "exited");
    assert_eq!(v["lifecycle"]["activity"]["source"], "hook");
    assert_eq!(v["lifecycle"]["session"]["reason"], "runtime_lost");
    rig.wait_urgent("agent-exited", 1);
}

/// An agent whose hooks never fire (a custom one) is seen by the terminal
/// observer alone: working while its screen changes, idle at its prompt,
/// each reported with source `terminal` (the startup grace is long, so the
/// reaper cannot be what moved it).
#[test]
fn a_silent_agent_is_seen_by_the_terminal_observer() {
    let dir_agent = TempDir::new("agents-silent-script");
    let script = dir_agent.join("silent.sh");
    std::fs::write(
        &script,
        "i=0; while [ $i -lt 12 ]; do i=$((i+1)); echo \"building step $i\"; sleep 0.25; done; printf 'done\\n$ '; read line; sleep 600\n",
    )
    .unwrap();
    let agent = format!("{{launch: \"sh {}\"}}", script.display());
    let rig = Rig::start("silent", &agent, Setup::TmuxDirectory, "1h");
    let id = rig.spawn("anything");
    rig.wait_status(&id, "working", "active", "terminal");
    rig.wait_status(&id, "idle", "idle", "terminal");
    let text = rig.ao(&["status", &id]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("reported by terminal"), "{text}");
}

/// What one agent's run through the common steps looks like.
struct Expect {
    /// The fake's name (its log entries).
    fake: &'static str,
    /// The activity a fresh spawn shows, and its source.
    started: (&'static str, &'static str),
    /// After `stop`: display status, activity state, source.
    stopped: (&'static str, &'static str, &'static str),
    /// How the restored launch ends, given the first launch's session id.
    restored: fn(&str) -> Value,
    /// What ao installed in the workspace (nothing else of the agent's is there).
    installed: &'static [&'static str],
}

/// The steps every built-in agent goes through: spawn → working; a
/// permission question → needs_input and one urgent page; approve →
/// working; stop; kill and restore (resuming the agent's session when it
/// has ids, else relaunching fresh).
fn common_steps(agent: &str, e: &Expect) {
    let rig = Rig::start(agent, agent, Setup::TmuxDirectory, "1s");
    let id = rig.spawn("fix the bug");
    let (state, source) = e.started;
    let v = rig.wait_status(&id, "working", state, source);
    let first = rig.launches(e.fake)[0].clone();
    let agent_id = first["session_id"].as_str().unwrap_or("").to_owned();
    let v = if agent_id.is_empty() {
        v
    } else {
        rig.wait_identified(&id, &agent_id)
    };
    let workspace = PathBuf::from(v["metadata"]["workspace_path"].as_str().unwrap());
    for file in e.installed {
        assert!(workspace.join(file).is_file(), "{file} installed");
    }
    for dir in [".gemini", ".claude", ".opencode", ".codex"] {
        let ours = e.installed.iter().any(|f| f.starts_with(dir));
        assert_eq!(workspace.join(dir).exists(), ours, "{dir} in the workspace");
    }
    rig.step(&id, "permission");
    rig.wait_status(&id, "needs_input", "waiting_input", "hook");
    rig.wait_urgent("agent-needs-input", 1);
    rig.step(&id, "approve");
    rig.wait(&id, "working again", |v| v["status"] == "working");
    rig.step(&id, "stop");
    let (status, state, source) = e.stopped;
    rig.wait_status(&id, status, state, source);
    let before = rig.launches(e.fake).len();
    rig.ok(&["kill", &id]);
    rig.ok(&["restore", &id]);
    rig.wait(&id, "restored", |v| v["status"] != "killed");
    let ok = wait_until(WITHIN, || rig.launches(e.fake).len() > before);
    assert!(ok, "restored: {}", rig.fakes_log());
    let again = rig.launches(e.fake)[before]["argv"].clone();
    let want = (e.restored)(&agent_id);
    let (again, want) = (again.as_array().unwrap(), want.as_array().unwrap());
    assert!(
        again.ends_with(want),
        "restore launched {again:?}, want it to end with {want:?}"
    );
    assert_eq!(
        rig.metric("ao_hook_rejects_total"),
        0,
        "{}",
        rig.fakes_log()
    );
}

/// Codex: hooks passed as `-c` overrides (SessionStart, UserPromptSubmit,
/// tools, PermissionRequest, Stop) and the `notify` program after each
/// turn, which names the thread a restore resumes.
#[test]
fn codex_reports_through_overrides_and_notify() {
    common_steps(
        "codex",
        &Expect {
            fake: "codex",
            started: ("active", "hook"),
            stopped: ("idle", "ready", "hook"),
            restored: |id| serde_json::json!(["resume", id]),
            installed: &[],
        },
    );
}

/// Gemini CLI: hooks in a system settings file of its own (the project's
/// `.gemini/` untouched, no folder trust needed).
#[test]
fn gemini_reports_through_its_settings_hooks() {
    common_steps(
        "gemini",
        &Expect {
            fake: "gemini",
            started: ("active", "hook"),
            stopped: ("idle", "ready", "hook"),
            restored: |id| serde_json::json!(["--resume", id]),
            installed: &[".ao/gemini-settings.json"],
        },
    );
}

/// OpenCode: ao's plugin in `.opencode/plugins/` forwards the bus events of
/// the user's session (a subtask's own session is left out).
#[test]
fn opencode_reports_through_its_plugin() {
    common_steps(
        "opencode",
        &Expect {
            fake: "opencode",
            started: ("active", "hook"),
            stopped: ("idle", "ready", "hook"),
            restored: |id| serde_json::json!(["--session", id]),
            installed: &[".opencode/plugins/ao-hooks.js"],
        },
    );
}

/// aider: no hook for work, so working and idle come from the terminal
/// observer; its notification command says it waits for the user (a
/// question or its prompt); no session ids, so a restore relaunches.
#[test]
fn aider_reports_through_its_notification_command_and_the_terminal() {
    common_steps(
        "aider",
        &Expect {
            fake: "aider",
            started: ("active", "terminal"),
            stopped: ("needs_input", "waiting_input", "hook"),
            restored: |_| serde_json::json!(["--message", "fix the bug"]),
            installed: &[],
        },
    );
}

/// A subtask's session (OpenCode's `parentID`) going idle is not the
/// user's session going idle: the plugin leaves it out.
#[test]
fn an_opencode_subtask_going_idle_leaves_the_session_working() {
    let rig = Rig::start("opencode-sub", "opencode", Setup::TmuxDirectory, "1s");
    let id = rig.spawn("fix the bug");
    rig.wait_status(&id, "working", "active", "hook");
    rig.step(&id, "subtask");
    let emitted = wait_until(WITHIN, || {
        rig.fakes_log()
            .contains(r#""emitted":"session.idle.child""#)
    });
    assert!(emitted, "{}", rig.fakes_log());
    // The plugin's hook runs detached: give a forwarded event time to land.
    std::thread::sleep(Duration::from_secs(1));
    let after = rig.view(&id);
    let activity = &after["lifecycle"]["activity"];
    assert_eq!(
        (&after["status"], &activity["state"], &activity["source"]),
        (
            &Value::from("working"),
            &Value::from("active"),
            &Value::from("hook")
        ),
        "{}",
        rig.fakes_log()
    );
    assert_eq!(rig.metric("ao_hook_rejects_total"), 0);
}

/// `--check-config` knows the built-in agents by name: each one's program
/// must be on PATH (aider's too, though it starts from `sh -c`), and a name
/// it does not know is an error naming the file, line and the known names.
#[test]
fn check_config_checks_each_built_in_agents_program() {
    let dir = TempDir::new("agents-check");
    let config = dir.join("ao.yaml");
    let mut projects = String::from("projects:\n");
    for agent in ["claude-code", "codex", "aider", "opencode", "gemini"] {
        projects.push_str(&format!("  {agent}-app:\n    agent: {agent}\n"));
    }
    std::fs::write(&config, &projects).unwrap();
    let check = |path: &str| {
        Command::new(AO)
            .args(["daemon", "--check-config", "--config"])
            .arg(&config)
            .env("PATH", path)
            .output()
            .unwrap()
    };
    let empty = dir.join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = check(&empty.display().to_string());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for (agent, program) in [
        ("claude-code", "claude"),
        ("codex", "codex"),
        ("aider", "aider"),
        ("opencode", "opencode"),
        ("gemini", "gemini"),
    ] {
        let field = format!("projects.{agent}-app.agent: `{program}` is not on PATH");
        assert!(err.contains(&field), "{field}: {err}");
    }
    // The fakes stand in for the real programs: every need is met.
    let bin = fixtures().join("bin");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = check(&path);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(&config, "projects:\n  app:\n    agent: claude\n").unwrap();
    let out = check(&path);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "unknown agent `claude`: expected one of claude-code, codex, aider, opencode, gemini"
        ),
        "{err}"
    );
    assert!(err.contains("ao.yaml:3:"), "names the line: {err}");
}
