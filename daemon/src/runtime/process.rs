//! The `process` runtime: the embedded default, needing nothing but `sh`.
//!
//! Each agent is `sh -c <command>` in its own process group, detached from
//! the daemon so it survives a daemon restart. All state lives in files under
//! the runtime directory, so a restarted daemon (a new `ProcessRuntime` on the
//! same directory) can still probe, message and destroy agents it started
//! before. Per handle:
//!
//! - `<handle>.pid`: `<leader pid> <start time>`; the leader pid is also the
//!   process-group id, and the start time (field 22 of `/proc/<pid>/stat`)
//!   defeats pid reuse;
//! - `<handle>.fifo`: the agent's stdin. The agent holds it open read-write,
//!   so it never sees EOF when no writer is connected (a daemon restart);
//!   `send` opens it write-only and non-blocking;
//! - `<handle>.log`: the agent's stdout and stderr (appended; kept after
//!   destroy for post-mortems). With a [`Capture`] (what the daemon uses)
//!   they go through a pipe to a writer process in the agent's group that
//!   bounds the file (see [`super::output`]: `<handle>.log.1` holds the
//!   part before); without one, the agent appends to the file itself;
//! - `<handle>.owner`: the owner tag (`<instance>/<session>`), created
//!   exclusively before anything else, so a create whose name is taken
//!   answers "not ours" and touches nothing; destroy, probe and send act
//!   only on a handle carrying the caller's tag (a pid file without one was
//!   made by a daemon from before tags: not ours). It is removed last.
//!
//! Handles are percent-encoded into file names, so any handle is safe.
//!
//! Probes: the runtime probe asks whether the process group still exists
//! (`killpg(pgid, 0)`); the process probe asks whether the leader still runs
//! (same start time, not a zombie). Only "no such process" (or a group
//! whose members are all zombies, i.e. all exited) is `dead`; any other
//! error, an unreadable pid file or a timeout is `failed`.
//!
//! Known limit: after the leader died, a new, unrelated process group that
//! happens to get the same id would make the runtime probe say `alive`; the
//! process probe still says `dead`, which the core quarantines.

use super::output::Capture;
use super::{agent_env, within, RuntimeTimeouts};
use crate::error::AdapterError;
use crate::owner::{create_exclusive, read_tag, Holder, Owner};
use crate::ports::{Runtime, RuntimeSpec};
use ao_core::domain::{Handle, Probe};
use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{getpgrp, mkfifo, Pid};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::time::Instant;

/// How often destroy re-checks whether a signalled group is gone.
const POLL: Duration = Duration::from_millis(20);

/// Plain process-group runtime whose state lives in a directory, so agents
/// outlive (and are found again by) a restarted daemon.
#[derive(Clone, Debug)]
pub struct ProcessRuntime {
    dir: PathBuf,
    timeouts: RuntimeTimeouts,
    capture: Option<Capture>,
}

/// The files that describe one agent.
#[derive(Clone, Debug)]
struct Files {
    pid: PathBuf,
    fifo: PathBuf,
    log: PathBuf,
    owner: PathBuf,
}

/// The group leader as recorded at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Leader {
    pid: i32,
    start: u64,
}

impl ProcessRuntime {
    /// A runtime keeping its state in `dir` (e.g. `<data_dir>/runtimes/`), with default timeouts.
    pub fn new(dir: impl Into<PathBuf>) -> ProcessRuntime {
        ProcessRuntime::with_timeouts(dir, RuntimeTimeouts::default())
    }

    /// A runtime with explicit time limits (tests use short grace periods).
    pub fn with_timeouts(dir: impl Into<PathBuf>, timeouts: RuntimeTimeouts) -> ProcessRuntime {
        ProcessRuntime {
            dir: dir.into(),
            timeouts,
            capture: None,
        }
    }

    /// The same runtime with each agent's output bounded by a writer process.
    pub fn with_capture(mut self, capture: Capture) -> ProcessRuntime {
        self.capture = Some(capture);
        self
    }

    /// The directory holding pid files, FIFOs and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the agent's stdout and stderr go, so users and tests can read them.
    pub fn log_path(&self, handle: &Handle) -> PathBuf {
        self.files(handle).log
    }

    fn files(&self, handle: &Handle) -> Files {
        let stem = file_stem(handle);
        Files {
            pid: self.dir.join(format!("{stem}.pid")),
            fifo: self.dir.join(format!("{stem}.fifo")),
            log: self.dir.join(format!("{stem}.log")),
            owner: self.dir.join(format!("{stem}.owner")),
        }
    }

    async fn create_inner(&self, spec: &RuntimeSpec) -> Result<(), AdapterError> {
        let what = format!("create process runtime {}", spec.handle);
        let files = self.files(&spec.handle);
        match std::fs::metadata(&spec.workspace) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(AdapterError::failed(
                    &what,
                    format!("workspace {} is not a directory", spec.workspace.display()),
                ))
            }
            Err(e) => {
                return Err(AdapterError::failed(
                    &what,
                    format!("workspace {}: {e}", spec.workspace.display()),
                ))
            }
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            AdapterError::failed(&what, format!("runtime dir {}: {e}", self.dir.display()))
        })?;
        // Claim the name first: a taken name is someone else's, left alone.
        let claimed = create_exclusive(&files.owner, &spec.owner.tag())
            .map_err(|e| AdapterError::failed(&what, format!("owner tag: {e}")))?;
        if !claimed {
            let found = read_tag(&files.owner)
                .map_err(|e| AdapterError::failed(&what, format!("owner tag: {e}")))?;
            let why = match spec.owner.judge(found.as_deref()) {
                Err(why) => why,
                Ok(()) => "the name is taken by an earlier runtime of this session".to_owned(),
            };
            return Err(AdapterError::not_ours(&what, why));
        }
        let pid_file = files.pid.try_exists();
        if pid_file.map_err(|e| AdapterError::failed(&what, format!("pid file: {e}")))? {
            // A pid file from before tags: not ours. Give the name back.
            let _ = remove_if_present(&files.owner);
            let why = spec.owner.judge(None).err().unwrap_or_default();
            return Err(AdapterError::not_ours(&what, why));
        }
        remove_if_present(&files.fifo).map_err(|e| AdapterError::failed(&what, e))?;
        mkfifo(&files.fifo, Mode::S_IRUSR | Mode::S_IWUSR)
            .map_err(|e| AdapterError::failed(&what, format!("mkfifo: {e}")))?;
        // Read-write: the agent is its own writer, so it never reads EOF.
        let stdin = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&files.fifo)
            .map_err(|e| AdapterError::failed(&what, format!("open fifo: {e}")))?;
        let (stdout, writer_input) = match &self.capture {
            // The agent writes into a pipe; the writer (started below) reads it.
            Some(_) => {
                let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                    .map_err(|e| AdapterError::failed(&what, format!("pipe: {e}")))?;
                (File::from(write), Some(read))
            }
            None => (
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&files.log)
                    .map_err(|e| AdapterError::failed(&what, format!("open log: {e}")))?,
                None,
            ),
        };
        let stderr = stdout
            .try_clone()
            .map_err(|e| AdapterError::failed(&what, format!("clone output: {e}")))?;
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&spec.command)
            .current_dir(&spec.workspace)
            .envs(agent_env(spec))
            .stdin(Stdio::from(stdin))
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr))
            .process_group(0)
            .kill_on_drop(false)
            .spawn()
            .map_err(|e| AdapterError::failed(&what, format!("spawn sh: {e}")))?;
        let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) else {
            return Err(AdapterError::failed(&what, "the child has no pid"));
        };
        // Not yet reaped (we hold the child), so /proc/<pid> exists even if it exited.
        let recorded = match proc_stat(pid) {
            Ok(Some(stat)) => write_pid_file(
                &files.pid,
                Leader {
                    pid,
                    start: stat.start,
                },
            )
            .map_err(|e| format!("pid file: {e}")),
            Ok(None) => Err("the child vanished before it was recorded".to_owned()),
            Err(e) => Err(format!("read /proc/{pid}/stat: {e}")),
        };
        // Before the agent is reaped: its group exists for the writer to join.
        let recorded = match (recorded, &self.capture, writer_input) {
            (Ok(()), Some(capture), Some(input)) => start_writer(capture, &files.log, input, pid)
                .map_err(|e| format!("output writer: {e}")),
            (recorded, _, _) => recorded,
        };
        // Reap it whenever it exits, so no zombie lingers while the daemon lives;
        // dropping the task (runtime shutdown) leaves the child running.
        tokio::spawn(async move {
            let _ = child.wait().await;
        });
        if let Err(detail) = recorded {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            let _ = remove_if_present(&files.fifo);
            return Err(AdapterError::failed(&what, detail));
        }
        Ok(())
    }

    async fn destroy_inner(&self, owner: &Owner, handle: &Handle) -> Result<(), AdapterError> {
        let what = format!("destroy process runtime {handle}");
        let files = self.files(handle);
        match holder(&files, owner).map_err(|e| AdapterError::failed(&what, e))? {
            Holder::Nobody => return Ok(()),
            Holder::Other(why) => return Err(AdapterError::not_ours(&what, why)),
            Holder::Ours => {}
        }
        let leader = read_leader(&files.pid)
            .map_err(|e| AdapterError::failed(&what, format!("pid file: {e}")))?;
        if let Some(leader) = leader {
            terminate_group(leader.pid, self.timeouts.grace)
                .await
                .map_err(|e| AdapterError::failed(&what, e))?;
        }
        remove_if_present(&files.pid).map_err(|e| AdapterError::failed(&what, e))?;
        remove_if_present(&files.fifo).map_err(|e| AdapterError::failed(&what, e))?;
        // Last: until the runtime is gone, its name stays claimed.
        remove_if_present(&files.owner).map_err(|e| AdapterError::failed(&what, e))?;
        Ok(())
    }

    async fn send_inner(
        &self,
        owner: &Owner,
        handle: &Handle,
        message: &str,
    ) -> Result<(), AdapterError> {
        let what = format!("send to process runtime {handle}");
        let files = self.files(handle);
        match holder(&files, owner).map_err(|e| AdapterError::failed(&what, e))? {
            Holder::Nobody => return Err(AdapterError::failed(&what, "no such runtime")),
            Holder::Other(why) => return Err(AdapterError::not_ours(&what, why)),
            Holder::Ours => {}
        }
        match std::fs::symlink_metadata(&files.fifo) {
            Ok(m) if m.file_type().is_fifo() => {}
            Ok(_) => return Err(AdapterError::failed(&what, "the input is not a FIFO")),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(AdapterError::failed(&what, "no such runtime"))
            }
            Err(e) => return Err(AdapterError::failed(&what, e)),
        }
        let mut fifo = OpenOptions::new()
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(&files.fifo)
            .map_err(|e| {
                if e.raw_os_error() == Some(Errno::ENXIO as i32) {
                    AdapterError::failed(&what, "nobody reads the agent's input (exited?)")
                } else {
                    AdapterError::failed(&what, format!("open fifo: {e}"))
                }
            })?;
        let mut bytes = Vec::with_capacity(message.len() + 1);
        bytes.extend_from_slice(message.as_bytes());
        bytes.push(b'\n');
        let mut rest: &[u8] = &bytes;
        while !rest.is_empty() {
            match fifo.write(rest) {
                Ok(0) => return Err(AdapterError::failed(&what, "the FIFO accepted nothing")),
                Ok(n) => rest = &rest[n..],
                // A full pipe: the agent reads slowly; the outer timeout bounds the wait.
                Err(e) if e.kind() == ErrorKind::WouldBlock => tokio::time::sleep(POLL).await,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(AdapterError::failed(&what, format!("write: {e}"))),
            }
        }
        Ok(())
    }
}

impl Runtime for ProcessRuntime {
    fn name(&self) -> &'static str {
        "process"
    }

    async fn create(&self, spec: &RuntimeSpec) -> Result<(), AdapterError> {
        let what = format!("create process runtime {}", spec.handle);
        within(&what, self.timeouts.create, self.create_inner(spec)).await
    }

    async fn destroy(&self, owner: &Owner, handle: &Handle) -> Result<(), AdapterError> {
        let what = format!("destroy process runtime {handle}");
        within(
            &what,
            self.timeouts.destroy,
            self.destroy_inner(owner, handle),
        )
        .await
    }

    async fn probe(&self, owner: &Owner, handle: &Handle) -> (Probe, Probe) {
        let files = self.files(handle);
        let owner = owner.clone();
        let task = tokio::task::spawn_blocking(move || probe_files(&files, &owner));
        match tokio::time::timeout(self.timeouts.probe, task).await {
            Ok(Ok(probes)) => probes,
            // Timed out, or the probe task panicked: we could not ask.
            _ => (Probe::Failed, Probe::Failed),
        }
    }

    async fn send(
        &self,
        owner: &Owner,
        handle: &Handle,
        message: &str,
    ) -> Result<(), AdapterError> {
        let what = format!("send to process runtime {handle}");
        let sending = self.send_inner(owner, handle, message);
        within(&what, self.timeouts.send, sending).await
    }
}

/// Starts the output writer in the agent's process group (so destroying the
/// group stops it too), reading the agent's output from `input`.
fn start_writer(
    capture: &Capture,
    log: &Path,
    input: std::os::fd::OwnedFd,
    pgid: i32,
) -> std::io::Result<()> {
    let mut writer = tokio::process::Command::new(&capture.program)
        .arg0("ao")
        .args(capture.args(log))
        .stdin(Stdio::from(input))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(pgid)
        .kill_on_drop(false)
        .spawn()?;
    tokio::spawn(async move {
        let _ = writer.wait().await;
    });
    Ok(())
}

/// Who holds the handle: its owner tag, or (without one) whether a pid file
/// from before tags is there.
fn holder(files: &Files, owner: &Owner) -> Result<Holder, String> {
    let tag = read_tag(&files.owner).map_err(|e| format!("owner tag: {e}"))?;
    let pid_file = (files.pid.try_exists()).map_err(|e| format!("pid file: {e}"))?;
    Ok(owner.holder(tag.as_deref(), pid_file))
}

/// Both probes from the files alone (blocking; runs on the blocking pool).
/// Someone else's runtime at the name means the owner's is gone: dead.
fn probe_files(files: &Files, owner: &Owner) -> (Probe, Probe) {
    match holder(files, owner) {
        Ok(Holder::Ours) => {}
        Ok(Holder::Nobody | Holder::Other(_)) => return (Probe::Dead, Probe::Dead),
        Err(_) => return (Probe::Failed, Probe::Failed),
    }
    match read_leader(&files.pid) {
        Ok(None) => (Probe::Dead, Probe::Dead),
        Ok(Some(leader)) => (group_probe(leader.pid), leader_probe(leader)),
        Err(_) => (Probe::Failed, Probe::Failed),
    }
}

/// Does the process group still hold a running process? EPERM means it
/// exists but is not ours to signal. A group whose members are all zombies
/// (killed, not yet reaped by whoever inherited them) counts as dead: every
/// member has exited, which is definitive.
fn group_probe(pgid: i32) -> Probe {
    match killpg(Pid::from_raw(pgid), None) {
        Ok(()) | Err(Errno::EPERM) => match live_members(pgid) {
            Some(false) => Probe::Dead,
            // Live members, or none visible: trust the kernel's answer.
            Some(true) | None => Probe::Alive,
        },
        Err(Errno::ESRCH) => Probe::Dead,
        Err(_) => Probe::Failed,
    }
}

/// Scans `/proc`: `Some(true)` if a member of the group is not a zombie,
/// `Some(false)` if every visible member is one, `None` if none is visible.
fn live_members(pgid: i32) -> Option<bool> {
    let mut seen = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // Processes come and go during the scan: skip what cannot be read.
        let Ok(Some(stat)) = proc_stat(pid) else {
            continue;
        };
        if stat.pgrp == pgid {
            if !is_zombie(stat.state) {
                return Some(true);
            }
            seen = true;
        }
    }
    seen.then_some(false)
}

fn is_zombie(state: char) -> bool {
    matches!(state, 'Z' | 'X' | 'x')
}

/// Is the recorded leader still running (same start time, not a zombie)?
fn leader_probe(leader: Leader) -> Probe {
    match proc_stat(leader.pid) {
        Ok(None) => Probe::Dead,
        Ok(Some(stat)) if stat.start != leader.start => Probe::Dead,
        Ok(Some(stat)) if is_zombie(stat.state) => Probe::Dead,
        Ok(Some(_)) => Probe::Alive,
        Err(_) => Probe::Failed,
    }
}

/// SIGTERM the group, give it `grace`, then SIGKILL; returns once it is gone.
async fn terminate_group(pgid: i32, grace: Duration) -> Result<(), String> {
    let group = Pid::from_raw(pgid);
    match killpg(group, Signal::SIGTERM) {
        Ok(()) => {}
        Err(Errno::ESRCH) => return Ok(()),
        Err(e) => return Err(format!("SIGTERM process group {pgid}: {e}")),
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        match group_probe(pgid) {
            Probe::Dead => return Ok(()),
            _ => tokio::time::sleep(POLL).await,
        }
    }
    match killpg(group, Signal::SIGKILL) {
        Ok(()) => {}
        Err(Errno::ESRCH) => return Ok(()),
        Err(e) => return Err(format!("SIGKILL process group {pgid}: {e}")),
    }
    // The caller's timeout bounds this wait (an unreaped zombie could hold it).
    loop {
        match group_probe(pgid) {
            Probe::Dead => return Ok(()),
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

/// `Ok(None)` if there is no pid file; an error if it cannot be read or trusted.
fn read_leader(path: &Path) -> std::io::Result<Option<Leader>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let invalid = || {
        std::io::Error::new(
            ErrorKind::InvalidData,
            format!("malformed pid file {}", path.display()),
        )
    };
    let mut words = text.split_whitespace();
    let pid: i32 = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(invalid)?;
    let start: u64 = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(invalid)?;
    // Never signal init, "every process" or the daemon's own group.
    if pid <= 1 || Pid::from_raw(pid) == getpgrp() {
        return Err(invalid());
    }
    Ok(Some(Leader { pid, start }))
}

/// Writes the pid file atomically (temp file, then rename).
fn write_pid_file(path: &Path, leader: Leader) -> std::io::Result<()> {
    let tmp = path.with_extension("pid.tmp");
    {
        let mut f = File::create(&tmp)?;
        writeln!(f, "{} {}", leader.pid, leader.start)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// What `/proc/<pid>/stat` says about a process.
#[derive(Clone, Copy, Debug)]
struct Stat {
    state: char,
    pgrp: i32,
    start: u64,
}

/// `Ok(None)` if there is no such process.
fn proc_stat(pid: i32) -> std::io::Result<Option<Stat>> {
    let text = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(text) => text,
        Err(e)
            if e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(Errno::ESRCH as i32) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let invalid = || {
        std::io::Error::new(
            ErrorKind::InvalidData,
            format!("malformed /proc/{pid}/stat"),
        )
    };
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = text.rsplit_once(')').map(|(_, r)| r).ok_or_else(invalid)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields
        .first()
        .and_then(|s| s.chars().next())
        .ok_or_else(invalid)?;
    // Field 5 (pgrp) and field 22 (starttime); `fields[0]` is field 3.
    let pgrp = fields
        .get(2)
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)?;
    let start = fields
        .get(19)
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)?;
    Ok(Some(Stat { state, pgrp, start }))
}

fn remove_if_present(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("remove {}: {e}", path.display())),
    }
}

/// Percent-encodes a handle into a safe file-name stem (no `/`, no leading dot).
fn file_stem(handle: &Handle) -> String {
    let mut out = String::new();
    for (i, b) in handle.as_str().bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe_and_distinct() {
        let h = |s: &str| Handle::new(s).expect("handle");
        assert_eq!(file_stem(&h("rt-s1-1")), "rt-s1-1");
        assert_eq!(file_stem(&h("../x")), "%2E.%2Fx");
        assert_eq!(file_stem(&h("a/b")), "a%2Fb");
        assert_ne!(file_stem(&h("a%2Fb")), file_stem(&h("a/b")));
    }

    #[test]
    fn proc_stat_reads_own_process() {
        let pid = i32::try_from(std::process::id()).expect("pid");
        let stat = proc_stat(pid).expect("stat").expect("exists");
        assert!(matches!(stat.state, 'R' | 'S'));
        assert!(stat.start > 0);
        assert_eq!(stat.pgrp, getpgrp().as_raw());
    }

    #[test]
    fn pid_file_rejects_dangerous_pids() {
        let dir = std::env::temp_dir().join(format!("ao-pidfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("x.pid");
        for text in ["1 5\n", "0 5\n", "-1 5\n", "garbage\n", "12\n"] {
            std::fs::write(&path, text).expect("write");
            assert!(read_leader(&path).is_err(), "{text:?} accepted");
        }
        std::fs::write(&path, "4242 99\n").expect("write");
        assert_eq!(
            read_leader(&path).expect("read"),
            Some(Leader {
                pid: 4242,
                start: 99
            })
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
