//! The `tmux` runtime: each agent is a detached tmux session named by its
//! handle, on a configurable server socket (`tmux -L <socket>`), so users can
//! attach to watch an agent and tests never touch the user's own server.
//!
//! The session keeps `remain-on-exit on`, so an agent that exits leaves a dead
//! pane behind: the runtime probe still says `alive` while the process probe
//! says `dead`, which is exactly the "agent exited inside a live runtime"
//! evidence the core wants. Only tmux's definitive answers ("can't find
//! session", "no server running", no socket at all) count as `dead`; any other
//! failure or a timeout is `failed`. Idempotent queries (probes, kill) are
//! asked again a few times, within their one timeout, while tmux answers
//! neither yes nor a definitive no (a server shutting down says "server
//! exited unexpectedly" for a moment before it says "no server running").
//!
//! A message is pasted, not typed: it is loaded into a tmux buffer (through
//! the client's stdin, so its size is not bound by tmux's command length) and
//! pasted with bracketed-paste markers when the agent asked for them, then one
//! Enter submits it. Typed keys would turn every newline of a multi-line
//! message (a CI log tail) into its own Enter, submitting it line by line.
//!
//! Session names may not contain `:` or `.` (tmux would silently rename the
//! session), so `create` rejects such handles.

use super::{agent_env, within, RuntimeTimeouts};
use crate::error::AdapterError;
use crate::ports::{Runtime, RuntimeSpec};
use ao_core::domain::{Handle, Probe};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How often an indefinite answer to a query is asked again.
const QUERY_TRIES: u32 = 4;
/// The pause between those tries.
const QUERY_RETRY: Duration = Duration::from_millis(50);

/// A runtime backed by a real tmux server.
#[derive(Clone, Debug, Default)]
pub struct TmuxRuntime {
    socket: Option<String>,
    timeouts: RuntimeTimeouts,
}

impl TmuxRuntime {
    /// A runtime on the user's default tmux server (so `tmux attach` just works).
    pub fn new() -> TmuxRuntime {
        TmuxRuntime::default()
    }

    /// A runtime on its own server (`tmux -L <socket>`), isolated from the user's.
    pub fn on_socket(socket: impl Into<String>) -> TmuxRuntime {
        TmuxRuntime {
            socket: Some(socket.into()),
            timeouts: RuntimeTimeouts::default(),
        }
    }

    /// The same runtime with other time limits.
    pub fn with_timeouts(mut self, timeouts: RuntimeTimeouts) -> TmuxRuntime {
        self.timeouts = timeouts;
        self
    }

    /// The server socket name, if not the default one (for `tmux -L` by hand).
    pub fn socket(&self) -> Option<&str> {
        self.socket.as_deref()
    }

    /// The visible text of the agent's pane, so users and tests can see what it shows.
    pub async fn capture(&self, handle: &Handle) -> Result<String, AdapterError> {
        let what = format!("capture tmux session {handle}");
        let pane = pane_target(handle);
        let out = self
            .tmux(
                &what,
                self.timeouts.send,
                &[&["capture-pane", "-p", "-t", &pane]],
            )
            .await?;
        succeeded(&what, &out)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs one tmux client invocation holding `commands` (joined by `;`), under `limit`.
    async fn tmux(
        &self,
        what: &str,
        limit: Duration,
        commands: &[&[&str]],
    ) -> Result<Output, AdapterError> {
        self.tmux_with_input(what, limit, commands, None).await
    }

    /// [`Self::tmux`], writing `input` to the client's stdin (for `load-buffer -`).
    async fn tmux_with_input(
        &self,
        what: &str,
        limit: Duration,
        commands: &[&[&str]],
        input: Option<&[u8]>,
    ) -> Result<Output, AdapterError> {
        let mut cmd = tokio::process::Command::new("tmux");
        if let Some(socket) = &self.socket {
            cmd.arg("-L").arg(socket);
        }
        for (i, args) in commands.iter().enumerate() {
            if i > 0 {
                cmd.arg(";");
            }
            cmd.args(args.iter().map(|a| escape_arg(a)));
        }
        cmd.env_remove("TMUX")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let failed = |e: std::io::Error| AdapterError::failed(what, format!("run tmux: {e}"));
        within(what, limit, async {
            let mut child = cmd.spawn().map_err(failed)?;
            if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
                stdin.write_all(bytes).await.map_err(failed)?;
                // Dropping stdin closes it: tmux reads the buffer to its end.
            }
            child.wait_with_output().await.map_err(failed)
        })
        .await
    }

    /// An idempotent query, retried while tmux answers neither yes nor a
    /// definitive no: a server that is shutting down (its last session just
    /// closed) briefly says "server exited unexpectedly" or "no current
    /// target" before it says "no server running". All tries share `limit`.
    async fn query(
        &self,
        what: &str,
        limit: Duration,
        args: &[&str],
    ) -> Result<Output, AdapterError> {
        within(what, limit, async {
            let mut tries = 1;
            loop {
                let out = self.tmux(what, limit, &[args]).await?;
                if out.status.success() || is_absent(&out) || tries >= QUERY_TRIES {
                    return Ok(out);
                }
                tries += 1;
                tokio::time::sleep(QUERY_RETRY).await;
            }
        })
        .await
    }

    async fn create_inner(&self, spec: &RuntimeSpec) -> Result<(), AdapterError> {
        let what = format!("create tmux session {}", spec.handle);
        let name = spec.handle.as_str();
        if name.contains([':', '.']) {
            return Err(AdapterError::failed(
                &what,
                "a tmux session name may not contain ':' or '.'",
            ));
        }
        if !spec.workspace.is_dir() {
            return Err(AdapterError::failed(
                &what,
                format!("workspace {} is not a directory", spec.workspace.display()),
            ));
        }
        let workspace = spec.workspace.to_string_lossy().into_owned();
        let env: Vec<String> = agent_env(spec)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut new_session: Vec<&str> = vec!["new-session", "-d", "-s", name, "-c", &workspace];
        for kv in &env {
            new_session.push("-e");
            new_session.push(kv);
        }
        new_session.push("--");
        new_session.push(&spec.command);
        let window = window_target(&spec.handle);
        // One invocation, so the option is set before a fast-exiting agent's pane closes.
        let set_option: [&str; 6] = ["set-option", "-w", "-t", &window, "remain-on-exit", "on"];
        let out = self
            .tmux(&what, self.timeouts.create, &[&new_session, &set_option])
            .await?;
        succeeded(&what, &out)
    }

    async fn runtime_probe(&self, handle: &Handle) -> Probe {
        let target = session_target(handle);
        let what = format!("probe tmux session {handle}");
        match self
            .query(&what, self.timeouts.probe, &["has-session", "-t", &target])
            .await
        {
            Ok(out) if out.status.success() => Probe::Alive,
            Ok(out) if is_absent(&out) => Probe::Dead,
            _ => Probe::Failed,
        }
    }

    async fn process_probe(&self, handle: &Handle) -> Probe {
        let target = session_target(handle);
        let what = format!("probe tmux panes of {handle}");
        let listing: [&str; 6] = [
            "list-panes",
            "-s",
            "-t",
            &target,
            "-F",
            "#{pane_dead} #{pane_pid}",
        ];
        match self.query(&what, self.timeouts.probe, &listing).await {
            Ok(out) if out.status.success() => parse_panes(&String::from_utf8_lossy(&out.stdout)),
            Ok(out) if is_absent(&out) => Probe::Dead,
            _ => Probe::Failed,
        }
    }

    async fn send_inner(&self, handle: &Handle, message: &str) -> Result<(), AdapterError> {
        let what = format!("send to tmux session {handle}");
        let pane = pane_target(handle);
        // One buffer per session: sends to one session are serialized by the driver.
        let buffer = format!("ao-send-{}", handle.as_str());
        // `-p`: bracketed paste if the agent enabled it; `-d`: drop the buffer.
        let paste: [&str; 7] = ["paste-buffer", "-d", "-p", "-b", &buffer, "-t", &pane];
        let enter: [&str; 4] = ["send-keys", "-t", &pane, "Enter"];
        let mut submit: Vec<&[&str]> = vec![&enter];
        // tmux keeps no empty buffer: an empty message is a bare Enter.
        if !message.is_empty() {
            let load: [&str; 4] = ["load-buffer", "-b", &buffer, "-"];
            let input = Some(message.as_bytes());
            let out = self
                .tmux_with_input(&what, self.timeouts.send, &[&load], input)
                .await?;
            succeeded(&what, &out)?;
            submit.insert(0, &paste);
        }
        let out = self.tmux(&what, self.timeouts.send, &submit).await?;
        succeeded(&what, &out)
    }
}

impl Runtime for TmuxRuntime {
    fn name(&self) -> &'static str {
        "tmux"
    }

    async fn create(&self, spec: &RuntimeSpec) -> Result<(), AdapterError> {
        self.create_inner(spec).await
    }

    async fn destroy(&self, handle: &Handle) -> Result<(), AdapterError> {
        let what = format!("destroy tmux session {handle}");
        let target = session_target(handle);
        let out = self
            .query(
                &what,
                self.timeouts.destroy,
                &["kill-session", "-t", &target],
            )
            .await?;
        if is_absent(&out) {
            return Ok(());
        }
        succeeded(&what, &out)
    }

    async fn probe(&self, handle: &Handle) -> (Probe, Probe) {
        match self.runtime_probe(handle).await {
            Probe::Alive => (Probe::Alive, self.process_probe(handle).await),
            Probe::Dead => (Probe::Dead, Probe::Dead),
            other => (other, Probe::Failed),
        }
    }

    async fn send(&self, handle: &Handle, message: &str) -> Result<(), AdapterError> {
        let what = format!("send to tmux session {handle}");
        within(&what, self.timeouts.send, self.send_inner(handle, message)).await
    }
}

/// `=name`: an exact session match (a bare name would also match prefixes).
fn session_target(handle: &Handle) -> String {
    format!("={}", handle.as_str())
}

/// `=name:`: the session's current window.
fn window_target(handle: &Handle) -> String {
    format!("={}:", handle.as_str())
}

/// `=name:`: the current window's active pane.
fn pane_target(handle: &Handle) -> String {
    window_target(handle)
}

/// tmux treats an argument ending in `;` as a command separator; `\;` is a literal `;`.
fn escape_arg(arg: &str) -> String {
    match arg.strip_suffix(';') {
        Some(head) => format!("{head}\\;"),
        None => arg.to_owned(),
    }
}

/// Ok if tmux exited successfully, else a failure of `what` with tmux's own words.
fn succeeded(what: &str, out: &Output) -> Result<(), AdapterError> {
    if out.status.success() {
        Ok(())
    } else {
        Err(AdapterError::failed(what, stderr_of(out)))
    }
}

fn stderr_of(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if text.is_empty() {
        format!("tmux exited with {}", out.status)
    } else {
        text
    }
}

/// Did tmux say, definitively, that the session (or the whole server) is not there?
fn is_absent(out: &Output) -> bool {
    let err = String::from_utf8_lossy(&out.stderr);
    err.contains("can't find session")
        || err.contains("session not found")
        || err.contains("no server running")
        || (err.contains("error connecting to") && err.contains("No such file or directory"))
}

/// `#{pane_dead} #{pane_pid}` lines: any live pane → alive; all dead → dead.
fn parse_panes(listing: &str) -> Probe {
    let mut any = false;
    for line in listing.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let dead = words.next();
        let pid_ok = words.next().is_some_and(|p| p.parse::<u32>().is_ok());
        match (dead, pid_ok) {
            (Some("0"), true) => return Probe::Alive,
            (Some("1"), _) => any = true,
            _ => return Probe::Failed,
        }
    }
    if any {
        Probe::Dead
    } else {
        Probe::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_semicolons_are_escaped() {
        assert_eq!(escape_arg("a;"), "a\\;");
        assert_eq!(escape_arg("a\\;"), "a\\\\;");
        assert_eq!(escape_arg(";"), "\\;");
        assert_eq!(escape_arg("a;b"), "a;b");
    }

    #[test]
    fn pane_listings() {
        assert_eq!(parse_panes("0 123\n"), Probe::Alive);
        assert_eq!(parse_panes("1 123\n"), Probe::Dead);
        assert_eq!(parse_panes("1 123\n0 124\n"), Probe::Alive);
        assert_eq!(parse_panes(""), Probe::Failed);
        assert_eq!(parse_panes("x 1\n"), Probe::Failed);
        assert_eq!(parse_panes("0 nope\n"), Probe::Failed);
    }
}
