//! The terminal commands against a real daemon: `ao logs` (the process
//! runtime's bounded output file, and following it), `ao attach` (a real
//! tmux client, run inside a test tmux server, shows the agent's pane; the
//! process runtime gets a message), and `ao watch` (a live table redrawn in
//! place on a terminal, read with tmux capture-pane; plain text in a pipe).
//! Every tmux server here is private (a socket in the test's temp dir).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/daemon.rs"]
mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{sandbox_home, wait_until, Daemon, TempDir, AO, QUIET};

/// A tmux server of the test's own, where commands run on a terminal.
struct Terminal {
    socket: PathBuf,
    home: PathBuf,
}

impl Terminal {
    /// Runs `command` (with `env`) on a 160x40 terminal.
    fn run(dir: &TempDir, d: &Daemon, command: &str) -> Terminal {
        let t = Terminal {
            socket: dir.join("term.sock"),
            home: sandbox_home(&d.data_dir),
        };
        let out = t
            .tmux()
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "160",
                "-y",
                "40",
            ])
            .arg("-e")
            .arg(format!("AO_URL={}", d.url))
            .arg("-e")
            .arg(format!("AO_DATA_DIR={}", d.data_dir.display()))
            .arg("-e")
            .arg(format!("HOME={}", t.home.display()))
            .arg(command)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S")
            .arg(&self.socket)
            .env("HOME", &self.home)
            .env("TMUX_TMPDIR", &self.home)
            .env_remove("TMUX");
        c
    }

    /// What the terminal shows now.
    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `f`; the screen it saw last.
    fn until(&self, within: Duration, f: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        wait_until(within, || {
            last = self.screen();
            f(&last)
        });
        last
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}

fn tmux_installed() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `ao ARGS` running on, its stdout a pipe.
fn piped(d: &Daemon, args: &[&str]) -> std::process::Child {
    Command::new(AO)
        .args(args)
        .env("AO_URL", &d.url)
        .env("AO_DATA_DIR", &d.data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Stops a [`piped`] command; what it printed.
fn stop(mut child: std::process::Child) -> String {
    let _ = child.kill();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let _ = child.wait();
    out
}

/// An agent that prints three lines, then echoes what it is sent.
const ECHO: &str =
    r#"for i in 1 2 3; do echo "line $i"; done; while read l; do echo "got: $l"; done"#;

#[test]
fn ao_logs_prints_and_follows_the_agents_output() {
    let dir = TempDir::new("logs");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let id = d.spawn(ECHO);
    let mut shown = String::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            shown = text(&d.ao(&["logs", &id]));
            shown.contains("line 3")
        }),
        "{shown}"
    );
    assert_eq!(shown, "line 1\nline 2\nline 3\n");
    assert_eq!(text(&d.ao(&["logs", &id, "-n", "1"])), "line 3\n");

    let follow = piped(&d, &["logs", &id, "-f", "-n", "2"]);
    std::thread::sleep(Duration::from_millis(500));
    for m in ["one", "two"] {
        let out = d.ao(&["send", &id, m]);
        assert!(out.status.success(), "{}", text(&out));
    }
    // `got: two` is printed once a line follows it: a third message.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(d.ao(&["send", &id, "three"]).status.success());
    std::thread::sleep(Duration::from_millis(2500));
    let printed = stop(follow);
    // The last line waits until another follows it: `line 3` comes with the first reply.
    assert_eq!(
        printed, "line 2\nline 3\ngot: one\ngot: two\n",
        "each line once, in order"
    );

    let none = d.ao(&["logs", "nope"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none).contains("no such session"), "{}", text(&none));
}

#[test]
fn the_process_runtimes_output_file_is_bounded() {
    let dir = TempDir::new("bounded");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    // 20 MiB of numbered lines, then one last line.
    let id = d.spawn("seq 1 2500000; echo the-end; sleep 30");
    let view = d.authed("GET", &format!("/sessions/{id}")).send();
    let log: serde_json::Value = serde_json::from_str(&view.body).unwrap();
    let log = PathBuf::from(log["output_log"].as_str().unwrap());
    assert!(
        wait_until(Duration::from_secs(30), || {
            text(&d.ao(&["logs", &id, "-n", "1"])) == "the-end\n"
        }),
        "the last line arrives"
    );
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut older = log.clone().into_os_string();
    older.push(".1");
    let (now, before) = (size(&log), size(Path::new(&older)));
    let limit = 8 * 1024 * 1024 + 64 * 1024;
    assert!(now <= limit && before <= limit, "{now} {before}");
    assert!(before > 0, "the full file moved aside");
    let tail = text(&d.ao(&["logs", &id, "-n", "3"]));
    assert_eq!(tail, "2499999\n2500000\nthe-end\n");
}

#[test]
fn ao_attach_opens_the_agents_tmux_pane() {
    if !tmux_installed() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let dir = TempDir::new("attach");
    let config = format!(
        "{QUIET}projects:\n  app:\n    runtime: tmux\n    agent: {{launch: \"sh -c {{prompt}}\"}}\n"
    );
    let d = Daemon::start(&dir.join("data"), Some(&config));
    let out = d.ao(&[
        "--json",
        "spawn",
        "-p",
        "app",
        "echo attached-to-the-agent; read x; echo \"typed: $x\"; sleep 30",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let id = "app-1";
    let term = Terminal::run(&dir, &d, &format!("{AO} attach {id}; sleep 30"));
    let screen = term.until(Duration::from_secs(10), |s| {
        s.contains("attached-to-the-agent")
    });
    assert!(screen.contains("attached-to-the-agent"), "{screen}");
    // Keys typed in this terminal reach the agent.
    term.tmux()
        .args(["send-keys", "-t", "t", "hello", "Enter"])
        .output()
        .unwrap();
    let screen = term.until(Duration::from_secs(10), |s| s.contains("typed: hello"));
    assert!(screen.contains("typed: hello"), "{screen}");

    // A process-runtime session has no terminal: a message, exit 1.
    let p = d.spawn("sleep 30");
    let out = d.ao(&["attach", &p]);
    assert_eq!(out.status.code(), Some(1));
    let msg = text(&out);
    assert!(
        msg.contains("process runtime") && msg.contains(&format!("ao logs {p} -f")),
        "{msg}"
    );
}

#[test]
fn ao_watch_redraws_the_table_in_place_and_pipes_plain_text() {
    if !tmux_installed() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let dir = TempDir::new("watch");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let a = d.spawn("sleep 30");
    let b = d.spawn("sleep 30");
    let term = Terminal::run(&dir, &d, &format!("{AO} watch"));
    let screen = term.until(Duration::from_secs(10), |s| {
        s.contains(&a) && s.contains(&b)
    });
    assert!(screen.contains(&a) && screen.contains(&b), "{screen}");

    let hook = |id: &str, state: &str| {
        let out = d.ao(&["hook", "activity", "--state", state, "--session", id]);
        assert!(out.status.success(), "{}", text(&out));
    };
    hook(&b, "waiting_input");
    let screen = term.until(Duration::from_secs(10), |s| s.contains("needs_input"));
    assert!(screen.contains("needs_input"), "{screen}");
    // In place: one table on the screen, its header on the first line, and
    // the session that needs a person listed first.
    assert!(
        screen.starts_with("ao watch: 2 session(s), 1 need attention"),
        "{screen}"
    );
    assert_eq!(screen.matches("ao watch:").count(), 1, "{screen}");
    let row = |id: &str| screen.lines().position(|l| l.starts_with(id)).unwrap();
    assert!(row(&b) < row(&a), "attention first: {screen}");

    // Into a pipe: the same table, no escape codes at all.
    let piped = piped(&d, &["watch"]);
    std::thread::sleep(Duration::from_millis(800));
    hook(&a, "blocked");
    std::thread::sleep(Duration::from_millis(1200));
    let out = stop(piped);
    assert!(!out.contains('\x1b'), "{out:?}");
    assert!(
        out.contains("stuck") && out.contains("needs_input"),
        "{out}"
    );
    assert!(
        out.matches("ao watch:").count() >= 2,
        "a table per change: {out}"
    );
}
