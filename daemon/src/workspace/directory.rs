//! The `directory` workspace: a plain folder, the embedded default for
//! projects without git. A plain folder has no version control, so nothing in
//! it is "committed" or "pushed": any content besides the daemon-written files
//! counts as work, and destroy refuses a folder that holds any. It removes
//! only the daemon's own files and then the folder, once nothing else is left.
//! Symlinks are never followed (a link is content, not a way out).

use super::{daemon_written, normalize_ignored, summarize, DEFAULT_IGNORED};
use crate::error::AdapterError;
use crate::ports::{Removal, Workspace};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Plain folders as workspaces.
#[derive(Clone, Debug)]
pub struct Directory {
    ignored: Vec<String>,
    timeout: Duration,
}

impl Default for Directory {
    fn default() -> Self {
        Directory::new()
    }
}

/// One thing found in a workspace, relative to its root.
#[derive(Clone, Debug)]
struct Entry {
    rel: String,
    path: PathBuf,
    is_dir: bool,
    /// A directory with nothing in it (a leaf, so it counts as content).
    empty: bool,
}

impl Directory {
    /// Ignores `.ao/`; each call may take up to 30 s (a slow disk must not hang the driver).
    pub fn new() -> Directory {
        Directory {
            ignored: normalize_ignored(DEFAULT_IGNORED.iter().copied()),
            timeout: Duration::from_secs(30),
        }
    }

    /// Ignores these workspace-relative paths (a trailing `/` means a directory) instead of `.ao/`.
    pub fn with_ignored(
        mut self,
        ignored: impl IntoIterator<Item = impl Into<String>>,
    ) -> Directory {
        self.ignored = normalize_ignored(ignored);
        self
    }

    /// Uses another limit for each call.
    pub fn with_timeout(mut self, timeout: Duration) -> Directory {
        self.timeout = timeout;
        self
    }

    /// Why the folder must be kept (`None` = only daemon files, or nothing, is in it).
    pub async fn dirty(&self, path: &Path) -> Result<Option<String>, AdapterError> {
        let what = format!("inspect {}", path.display());
        let path = path.to_path_buf();
        let ignored = self.ignored.clone();
        self.blocking(&what, move || {
            let entries = walk(&path)?;
            Ok(work_in(&entries, &ignored))
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        what: &str,
        job: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> Result<T, AdapterError> {
        let task = tokio::task::spawn_blocking(job);
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(AdapterError::failed(what, e)),
            Ok(Err(e)) => Err(AdapterError::failed(what, e)),
            Err(_) => Err(AdapterError::Timeout {
                what: what.to_owned(),
                millis: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }

    async fn make(&self, path: &Path) -> Result<(), AdapterError> {
        if path.as_os_str().is_empty() {
            return Err(AdapterError::failed("create workspace", "empty path"));
        }
        let what = format!("create {}", path.display());
        let path = path.to_path_buf();
        self.blocking(&what, move || std::fs::create_dir_all(&path))
            .await
    }
}

impl Workspace for Directory {
    fn name(&self) -> &'static str {
        "directory"
    }

    async fn create(&self, _repo: &Path, path: &Path, _branch: &str) -> Result<(), AdapterError> {
        self.make(path).await
    }

    async fn restore(&self, _repo: &Path, path: &Path, _branch: &str) -> Result<(), AdapterError> {
        self.make(path).await
    }

    async fn destroy(&self, _repo: &Path, path: &Path) -> Result<Removal, AdapterError> {
        if path.as_os_str().is_empty() {
            return Err(AdapterError::failed("destroy workspace", "empty path"));
        }
        let what = format!("destroy {}", path.display());
        let path = path.to_path_buf();
        let ignored = self.ignored.clone();
        self.blocking(&what, move || destroy_blocking(&path, &ignored))
            .await
    }
}

fn destroy_blocking(path: &Path, ignored: &[String]) -> std::io::Result<Removal> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Removal::Absent),
        Err(e) => return Err(e),
        Ok(m) if !m.is_dir() => {
            return Ok(Removal::Refused(format!(
                "{} is not a directory",
                path.display()
            )))
        }
        Ok(_) => {}
    }
    let entries = walk(path)?;
    if let Some(reason) = work_in(&entries, ignored) {
        return Ok(Removal::Refused(reason));
    }
    // Deepest first, so each folder is empty by the time we reach it.
    for entry in entries.iter().rev() {
        let removed = if entry.is_dir {
            std::fs::remove_dir(&entry.path)
        } else {
            std::fs::remove_file(&entry.path)
        };
        match removed {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            // Something new appeared meanwhile: keep it.
            Err(e) if e.kind() == ErrorKind::DirectoryNotEmpty => {
                return Ok(Removal::Refused(format!(
                    "{} gained content while being removed",
                    entry.rel
                )))
            }
            Err(e) => return Err(e),
        }
    }
    match std::fs::remove_dir(path) {
        Ok(()) => Ok(Removal::Removed),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Removal::Absent),
        Err(e) if e.kind() == ErrorKind::DirectoryNotEmpty => Ok(Removal::Refused(format!(
            "{} gained content while being removed",
            path.display()
        ))),
        Err(e) => Err(e),
    }
}

/// A refusal reason if anything besides daemon-written files is there.
fn work_in(entries: &[Entry], ignored: &[String]) -> Option<String> {
    let work: Vec<String> = entries
        .iter()
        .filter(|e| !e.is_dir || e.empty)
        .filter(|e| !daemon_written(&e.rel, e.is_dir, ignored))
        .map(|e| {
            if e.is_dir {
                format!("{}/", e.rel)
            } else {
                e.rel.clone()
            }
        })
        .collect();
    (!work.is_empty()).then(|| format!("holds content: {}", summarize(&work)))
}

/// Every entry under `root`, parents before children, symlinks not followed.
fn walk(root: &Path) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    walk_into(root, "", &mut out)?;
    Ok(out)
}

fn walk_into(dir: &Path, prefix: &str, out: &mut Vec<Entry>) -> std::io::Result<()> {
    let mut children: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let name = child.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = child.path();
        if child.file_type()?.is_dir() {
            let at = out.len();
            out.push(Entry {
                rel: rel.clone(),
                path: path.clone(),
                is_dir: true,
                empty: false,
            });
            walk_into(&path, &rel, out)?;
            if out.len() == at + 1 {
                if let Some(e) = out.get_mut(at) {
                    e.empty = true;
                }
            }
        } else {
            out.push(Entry {
                rel,
                path,
                is_dir: false,
                empty: false,
            });
        }
    }
    Ok(())
}
