//! The `tmux` runtime: each agent is a detached tmux session named by its
//! handle, on a tmux server of its own ([`TmuxServer`]: by default the
//! daemon's, a socket in its data dir), so users can attach to watch an agent
//! ([`TmuxRuntime::attach_command`]) and neither the daemon nor its tests ever
//! touch the user's own server.
//!
//! Only its own (core/SPEC.md §7.22): a session is created with its owner tag
//! in its environment (`new-session -e AO_OWNER=<instance>/<session>`, set
//! atomically with the session), and tmux refuses a duplicate name, which is
//! someone else's ("not ours"). Destroy, probe and send read the tag first and
//! act only on a session carrying the caller's; destroy then kills it by its
//! unique session id (`$N`), so it cannot hit a session that took the name
//! meanwhile. A session at the name without the caller's tag means the
//! caller's own is gone: the probe says `dead`.
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
use crate::owner::Owner;
use crate::ports::{Runtime, RuntimeSpec};
use ao_core::domain::{Handle, Probe};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How often an indefinite answer to a query is asked again.
const QUERY_TRIES: u32 = 4;
/// The pause between those tries.
const QUERY_RETRY: Duration = Duration::from_millis(50);
/// The session environment variable holding the owner tag.
pub const OWNER_VAR: &str = "AO_OWNER";
/// The longest socket path a Unix socket can bind (`sun_path` less its NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// The `tmux` section of the config file: which server tmux runtimes use.
/// At most one of `socket` and `server`; neither: the daemon's own server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TmuxSection {
    /// `tmux -S PATH`: the server on this socket.
    pub socket: Option<PathBuf>,
    /// `tmux -L NAME`: a named server in tmux's socket directory (`default`
    /// is the user's own default server).
    pub server: Option<String>,
}

impl TmuxSection {
    /// The server it names, or the daemon's own for `data_dir` (see
    /// [`TmuxServer::for_data_dir`]); an error says what is wrong with it.
    pub fn server(&self, data_dir: &Path, instance: &str) -> Result<TmuxServer, String> {
        Ok(match self.named()? {
            Some(server) => server,
            None => TmuxServer::for_data_dir(data_dir, instance),
        })
    }

    /// Why the section cannot be used, if it cannot (for config validation).
    pub fn check(&self) -> Result<(), String> {
        self.named().map(|_| ())
    }

    /// The server the section names (`None`: it names none), checked.
    fn named(&self) -> Result<Option<TmuxServer>, String> {
        let server = match (&self.socket, &self.server) {
            (Some(_), Some(_)) => return Err("set `socket` or `server`, not both".to_owned()),
            (Some(path), None) => TmuxServer::Socket(path.clone()),
            (None, Some(name)) => TmuxServer::Server(name.clone()),
            (None, None) => return Ok(None),
        };
        server.check()?;
        Ok(Some(server))
    }
}

/// Which tmux server the runtime uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TmuxServer {
    /// `tmux -S PATH`: the server listening on that socket.
    Socket(PathBuf),
    /// `tmux -L NAME`: a named server in tmux's socket directory
    /// (`default` is the user's own default server).
    Server(String),
}

impl TmuxServer {
    /// The daemon's own server for a data dir: `-S <data_dir>/tmux.sock`, or
    /// `-L ao-<instance>` when that path is too long for a socket.
    pub fn for_data_dir(data_dir: &Path, instance: &str) -> TmuxServer {
        let socket = data_dir.join("tmux.sock");
        if socket.as_os_str().len() <= MAX_SOCKET_PATH && socket.is_absolute() {
            TmuxServer::Socket(socket)
        } else {
            TmuxServer::Server(format!("ao-{instance}"))
        }
    }

    /// Why the server cannot be used, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        match self {
            TmuxServer::Socket(path) if path.as_os_str().len() > MAX_SOCKET_PATH => Err(format!(
                "socket: {} is longer than a socket path may be ({MAX_SOCKET_PATH} bytes)",
                path.display()
            )),
            TmuxServer::Socket(path) if path.as_os_str().is_empty() => {
                Err("socket: empty path".to_owned())
            }
            TmuxServer::Server(name) if name.is_empty() || name.contains('/') => Err(format!(
                "server: {name:?} is not a server name (no '/', not empty)"
            )),
            _ => Ok(()),
        }
    }

    /// The arguments that select this server.
    fn args(&self) -> [&std::ffi::OsStr; 2] {
        match self {
            TmuxServer::Socket(path) => ["-S".as_ref(), path.as_os_str()],
            TmuxServer::Server(name) => ["-L".as_ref(), name.as_ref()],
        }
    }
}

/// A runtime backed by a real tmux server.
#[derive(Clone, Debug)]
pub struct TmuxRuntime {
    server: TmuxServer,
    timeouts: RuntimeTimeouts,
}

/// Who holds a session name, and the session's unique id if there is one.
enum Found {
    /// No session has that name (or no server runs).
    Absent,
    /// Session `id` (`$N`) has the name, with this owner tag (if any); `rest`
    /// is what the commands after the tag query printed.
    Held {
        id: String,
        tag: Option<String>,
        rest: String,
    },
}

impl TmuxRuntime {
    /// A runtime on `server`.
    pub fn on(server: TmuxServer) -> TmuxRuntime {
        TmuxRuntime {
            server,
            timeouts: RuntimeTimeouts::default(),
        }
    }

    /// The same runtime with other time limits.
    pub fn with_timeouts(mut self, timeouts: RuntimeTimeouts) -> TmuxRuntime {
        self.timeouts = timeouts;
        self
    }

    /// The server it uses.
    pub fn server(&self) -> &TmuxServer {
        &self.server
    }

    /// The exact command a user runs to watch the agent of `handle`.
    pub fn attach_command(&self, handle: &Handle) -> String {
        let words: Vec<String> = self
            .attach_argv(handle)
            .iter()
            .map(|w| shell_word(w))
            .collect();
        words.join(" ")
    }

    /// [`Self::attach_command`] as a program and its arguments (what `ao attach` runs).
    pub fn attach_argv(&self, handle: &Handle) -> Vec<String> {
        let [flag, value] = self.server.args();
        vec![
            "tmux".to_owned(),
            flag.to_string_lossy().into_owned(),
            value.to_string_lossy().into_owned(),
            "attach".to_owned(),
            "-t".to_owned(),
            session_target(handle),
        ]
    }

    /// The last `lines` lines of the agent's pane (its history, then its
    /// screen; wrapped lines joined, blank lines at the bottom left out),
    /// if the session is `owner`'s.
    pub async fn history(
        &self,
        owner: &Owner,
        handle: &Handle,
        lines: usize,
    ) -> Result<Vec<String>, AdapterError> {
        let what = format!("read tmux session {handle}");
        let pane = pane_target(handle);
        let start = format!("-{lines}");
        let capture: [&str; 7] = ["capture-pane", "-p", "-J", "-t", &pane, "-S", &start];
        match self
            .holder(&what, self.timeouts.send, handle, &[&capture])
            .await?
        {
            Found::Absent => Err(AdapterError::failed(&what, "no such session")),
            Found::Held { tag, rest, .. } => {
                if let Err(why) = owner.judge(tag.as_deref()) {
                    return Err(AdapterError::not_ours(&what, why));
                }
                let mut all: Vec<String> = rest.lines().map(|l| l.trim_end().to_owned()).collect();
                while all.last().is_some_and(String::is_empty) {
                    all.pop();
                }
                let skip = all.len().saturating_sub(lines);
                Ok(all.split_off(skip))
            }
        }
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

    /// The visible text of `owner`'s agent pane (the terminal observer's
    /// view); a session at the name that is not `owner`'s is an error, never read.
    pub async fn capture_owned(
        &self,
        owner: &Owner,
        handle: &Handle,
    ) -> Result<String, AdapterError> {
        let what = format!("capture tmux session {handle}");
        let pane = pane_target(handle);
        let capture: [&str; 5] = ["capture-pane", "-p", "-t", &pane, "-J"];
        match self
            .holder(&what, self.timeouts.probe, handle, &[&capture])
            .await?
        {
            Found::Absent => Err(AdapterError::failed(&what, "no such session")),
            Found::Held { tag, rest, .. } => match owner.judge(tag.as_deref()) {
                Ok(()) => Ok(rest),
                Err(why) => Err(AdapterError::not_ours(&what, why)),
            },
        }
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
        cmd.args(self.server.args());
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
        commands: &[&[&str]],
    ) -> Result<Output, AdapterError> {
        within(what, limit, async {
            let mut tries = 1;
            loop {
                let out = self.tmux(what, limit, commands).await?;
                if definitive(&out) || tries >= QUERY_TRIES {
                    return Ok(out);
                }
                tries += 1;
                tokio::time::sleep(QUERY_RETRY).await;
            }
        })
        .await
    }

    /// Who holds the name `handle`, running `then` (tmux commands, e.g. a
    /// pane listing) after the tag query in the same invocation: they run
    /// only if the session has a tag. An indefinite answer is an error.
    async fn holder(
        &self,
        what: &str,
        limit: Duration,
        handle: &Handle,
        then: &[&[&str]],
    ) -> Result<Found, AdapterError> {
        let window = window_target(handle);
        let session = session_target(handle);
        let id: [&str; 5] = ["display-message", "-p", "-t", &window, "#{session_id}"];
        let tag: [&str; 4] = ["show-environment", "-t", &session, OWNER_VAR];
        let mut commands: Vec<&[&str]> = vec![&id, &tag];
        commands.extend_from_slice(then);
        let out = self.query(what, limit, &commands).await?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut lines = stdout.splitn(3, '\n');
        let id = lines
            .next()
            .filter(|l| l.starts_with('$'))
            .map(str::to_owned);
        let tag_line = lines.next().unwrap_or("");
        let rest = lines.next().unwrap_or("").to_owned();
        match id {
            Some(id) if out.status.success() => {
                let prefix = format!("{OWNER_VAR}=");
                let tag = tag_line.strip_prefix(&prefix).map(str::to_owned);
                Ok(Found::Held { id, tag, rest })
            }
            Some(id) if untagged(&out) => Ok(Found::Held {
                id,
                tag: None,
                rest: String::new(),
            }),
            _ if is_absent(&out) => Ok(Found::Absent),
            _ => Err(AdapterError::failed(what, stderr_of(&out))),
        }
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
        let mut env: Vec<String> = agent_env(spec)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        // Last, so nothing in the spec can replace it.
        env.push(format!("{OWNER_VAR}={}", spec.owner.tag()));
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
        // A server whose last session just closed is shutting down: a
        // session created on it dies with it ("server exited unexpectedly"),
        // so nothing was created and the next try starts a fresh server.
        let mut tries = 1;
        let out = loop {
            let commands: [&[&str]; 2] = [&new_session, &set_option];
            let out = self.tmux(&what, self.timeouts.create, &commands).await?;
            if tries >= QUERY_TRIES || !server_exited(&out) {
                break out;
            }
            tries += 1;
            tokio::time::sleep(QUERY_RETRY).await;
        };
        if String::from_utf8_lossy(&out.stderr).contains("duplicate session") {
            return Err(AdapterError::not_ours(
                &what,
                format!("a tmux session named {name} already exists"),
            ));
        }
        succeeded(&what, &out)
    }

    async fn destroy_inner(&self, owner: &Owner, handle: &Handle) -> Result<(), AdapterError> {
        let what = format!("destroy tmux session {handle}");
        let limit = self.timeouts.destroy;
        let id = match self.holder(&what, limit, handle, &[]).await? {
            Found::Absent => return Ok(()),
            Found::Held { id, tag, .. } => match owner.judge(tag.as_deref()) {
                Ok(()) => id,
                Err(why) => return Err(AdapterError::not_ours(&what, why)),
            },
        };
        // By its unique id: never a session that took the name meanwhile.
        let out = self
            .query(&what, limit, &[&["kill-session", "-t", &id]])
            .await?;
        if is_absent(&out) {
            return Ok(());
        }
        succeeded(&what, &out)
    }

    async fn probe_inner(&self, owner: &Owner, handle: &Handle) -> (Probe, Probe) {
        let what = format!("probe tmux session {handle}");
        let session = session_target(handle);
        let panes: [&str; 6] = [
            "list-panes",
            "-s",
            "-t",
            &session,
            "-F",
            "#{pane_dead} #{pane_pid}",
        ];
        match self
            .holder(&what, self.timeouts.probe, handle, &[&panes])
            .await
        {
            Ok(Found::Absent) => (Probe::Dead, Probe::Dead),
            Ok(Found::Held { tag, rest, .. }) => match owner.judge(tag.as_deref()) {
                Ok(()) => (Probe::Alive, parse_panes(&rest)),
                // Someone else's session at the name: ours is gone.
                Err(_) => (Probe::Dead, Probe::Dead),
            },
            Err(_) => (Probe::Failed, Probe::Failed),
        }
    }

    async fn send_inner(
        &self,
        owner: &Owner,
        handle: &Handle,
        message: &str,
    ) -> Result<(), AdapterError> {
        let what = format!("send to tmux session {handle}");
        match self.holder(&what, self.timeouts.send, handle, &[]).await? {
            Found::Absent => return Err(AdapterError::failed(&what, "no such session")),
            Found::Held { tag, .. } => {
                if let Err(why) = owner.judge(tag.as_deref()) {
                    return Err(AdapterError::not_ours(&what, why));
                }
            }
        }
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

    async fn destroy(&self, owner: &Owner, handle: &Handle) -> Result<(), AdapterError> {
        let what = format!("destroy tmux session {handle}");
        within(
            &what,
            self.timeouts.destroy,
            self.destroy_inner(owner, handle),
        )
        .await
    }

    async fn probe(&self, owner: &Owner, handle: &Handle) -> (Probe, Probe) {
        self.probe_inner(owner, handle).await
    }

    async fn send(
        &self,
        owner: &Owner,
        handle: &Handle,
        message: &str,
    ) -> Result<(), AdapterError> {
        let what = format!("send to tmux session {handle}");
        let sending = self.send_inner(owner, handle, message);
        within(&what, self.timeouts.send, sending).await
    }
}

/// A word the shell takes as it is: quoted unless it is plain.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@%+,".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
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
        || err.contains("no such session")
        || err.contains("session not found")
        || err.contains("no server running")
        || (err.contains("error connecting to") && err.contains("No such file or directory"))
}

/// Did the session answer that it has no owner tag?
fn untagged(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stderr).contains("unknown variable")
}

/// A yes, a definitive no, or "no tag": anything but a transient failure.
/// Whether the server went away under the command (it was shutting down).
fn server_exited(out: &Output) -> bool {
    !out.status.success()
        && String::from_utf8_lossy(&out.stderr).contains("server exited unexpectedly")
}

fn definitive(out: &Output) -> bool {
    out.status.success() || is_absent(out) || untagged(out)
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_a_server_that_went_away_is_tried_again() {
        use std::os::unix::process::ExitStatusExt;
        let out = |code: i32, stderr: &str| Output {
            status: std::process::ExitStatus::from_raw(code << 8),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        };
        assert!(server_exited(&out(1, "server exited unexpectedly\n")));
        assert!(!server_exited(&out(1, "duplicate session: ao-1-app-1\n")));
        assert!(!server_exited(&out(0, "")));
    }

    #[test]
    fn trailing_semicolons_are_escaped() {
        assert_eq!(escape_arg("a;"), "a\\;");
        assert_eq!(escape_arg("a\\;"), "a\\\\;");
        assert_eq!(escape_arg(";"), "\\;");
        assert_eq!(escape_arg("a;b"), "a;b");
    }

    #[test]
    fn attach_commands_are_exact_and_quoted() {
        let h = Handle::new("ao-abc123-app-1").unwrap();
        let rt = TmuxRuntime::on(TmuxServer::Socket("/data dir/tmux.sock".into()));
        assert_eq!(
            rt.attach_command(&h),
            "tmux -S '/data dir/tmux.sock' attach -t =ao-abc123-app-1"
        );
        let rt = TmuxRuntime::on(TmuxServer::Server("ao-abc123".into()));
        assert_eq!(
            rt.attach_command(&h),
            "tmux -L ao-abc123 attach -t =ao-abc123-app-1"
        );
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    #[test]
    fn the_default_server_is_a_socket_in_the_data_dir_unless_too_long() {
        let short = TmuxServer::for_data_dir(Path::new("/home/u/.ao"), "abc123");
        assert_eq!(short, TmuxServer::Socket("/home/u/.ao/tmux.sock".into()));
        let long_dir = format!("/{}", "d".repeat(120));
        let long = TmuxServer::for_data_dir(Path::new(&long_dir), "abc123");
        assert_eq!(long, TmuxServer::Server("ao-abc123".into()));
        assert!(long.check().is_ok() && short.check().is_ok());
        let too_long = TmuxServer::Socket(PathBuf::from(&long_dir).join("s"));
        assert!(too_long.check().unwrap_err().contains("longer than"));
        assert!(TmuxServer::Server("a/b".into()).check().is_err());
        let data = Path::new("/d");
        assert_eq!(
            TmuxSection::default().server(data, "abc123").unwrap(),
            TmuxServer::Socket("/d/tmux.sock".into())
        );
        let named = TmuxSection {
            server: Some("default".into()),
            ..TmuxSection::default()
        };
        assert_eq!(
            named.server(data, "abc123").unwrap(),
            TmuxServer::Server("default".into())
        );
        let both = TmuxSection {
            socket: Some("/s".into()),
            ..named
        };
        assert!(both
            .server(data, "abc123")
            .unwrap_err()
            .contains("not both"));
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
