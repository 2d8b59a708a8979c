//! One daemon per data directory: an exclusive `flock` on
//! `<data_dir>/daemon.lock`, held for the daemon's life. The file names the
//! holder (pid, and once bound its URL, which the CLI uses when no `--url`
//! is given). The kernel releases the lock when its holder dies, however it
//! dies, so a lock left by a killed daemon is simply taken by the next one.

use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "daemon.lock";

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another daemon holds it.
    #[error("another ao daemon ({holder}) is running on the data directory {dir}; stop it first, or start this one with another --data-dir")]
    Held {
        /// The data directory.
        dir: PathBuf,
        /// Who holds it, as its lock file says.
        holder: String,
    },
    /// The lock file could not be opened, locked or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

/// The held lock (released when dropped, or by the kernel when the process dies).
pub struct DaemonLock {
    file: Flock<File>,
    path: PathBuf,
}

impl DaemonLock {
    /// Takes the data directory's lock without waiting, and writes our pid into it.
    pub fn acquire(data_dir: &Path) -> Result<DaemonLock, LockError> {
        let path = data_dir.join(LOCK_FILE);
        let io = |error| LockError::Io {
            path: path.clone(),
            error,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(f) => f,
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                return Err(LockError::Held {
                    dir: data_dir.to_owned(),
                    holder: holder(&path),
                })
            }
            Err((_, errno)) => return Err(io(std::io::Error::from(errno))),
        };
        let mut lock = DaemonLock { file, path };
        lock.write(&format!("pid={}\n", std::process::id()))?;
        Ok(lock)
    }

    /// Adds the URL the daemon listens on, for clients that were not told.
    pub fn record_url(&mut self, url: &str) -> Result<(), LockError> {
        self.write(&format!("pid={}\nurl={url}\n", std::process::id()))
    }

    fn write(&mut self, text: &str) -> Result<(), LockError> {
        let path = self.path.clone();
        let io = |error| LockError::Io { path, error };
        let f: &mut File = &mut self.file;
        f.set_len(0)
            .and_then(|()| f.seek(SeekFrom::Start(0)))
            .and_then(|_| f.write_all(text.as_bytes()))
            .and_then(|()| f.sync_data())
            .map_err(io)
    }
}

/// One `key=value` line of a data directory's lock file, if present.
pub fn recorded(data_dir: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join(LOCK_FILE)).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::to_owned)
}

fn holder(path: &Path) -> String {
    let dir = path.parent().unwrap_or(path);
    match recorded(dir, "pid") {
        Some(pid) => format!("pid {pid}"),
        None => "pid unknown".to_owned(),
    }
}
