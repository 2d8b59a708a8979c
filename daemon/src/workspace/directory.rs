//! The `directory` workspace: a plain folder, the embedded default for
//! projects without git. A plain folder has no version control, so nothing in
//! it is "committed" or "pushed": any content besides the daemon-written files
//! counts as work, and destroy refuses a folder that holds any. It removes
//! only the daemon's own files and then the folder, once nothing else is left.
//! Symlinks are never followed (a link is content, not a way out).
//!
//! Its owner tag is a sidecar file beside it (`<name>.ao-owner`, so the
//! folder holds nothing of the daemon's), created exclusively before the
//! folder, and the folder is made with a single `mkdir` of its last
//! component: a path that is taken is "not ours" and is left alone. The
//! sidecar goes last, when the folder is gone.

use super::{daemon_written, normalize_ignored, summarize, DEFAULT_IGNORED};
use crate::error::AdapterError;
use crate::owner::{create_exclusive, read_tag, Holder, Owner};
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
        self.checked(what, move || job().map(Ok)).await
    }

    /// Runs a job that may find the path is someone else's (`Ok(Err(why))`).
    async fn checked<T: Send + 'static>(
        &self,
        what: &str,
        job: impl FnOnce() -> Checked<T> + Send + 'static,
    ) -> Result<T, AdapterError> {
        let task = tokio::task::spawn_blocking(job);
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(Ok(Ok(value)))) => Ok(value),
            Ok(Ok(Ok(Err(why)))) => Err(AdapterError::not_ours(what, why)),
            Ok(Ok(Err(e))) => Err(AdapterError::failed(what, e)),
            Ok(Err(e)) => Err(AdapterError::failed(what, e)),
            Err(_) => Err(AdapterError::Timeout {
                what: what.to_owned(),
                millis: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }

    /// Runs `job` on `path` for `owner` (a non-empty path) off the async runtime.
    async fn on_path<T: Send + 'static>(
        &self,
        verb: &str,
        owner: &Owner,
        path: &Path,
        job: impl FnOnce(&Owner, &Path) -> Checked<T> + Send + 'static,
    ) -> Result<T, AdapterError> {
        if path.as_os_str().is_empty() {
            return Err(AdapterError::failed(
                format!("{verb} workspace"),
                "empty path",
            ));
        }
        let what = format!("{verb} {}", path.display());
        let (owner, path) = (owner.clone(), path.to_path_buf());
        self.checked(&what, move || job(&owner, &path)).await
    }
}

/// A blocking job's answer: an I/O error, the path is someone else's
/// (`Ok(Err(why))`), or done.
type Checked<T> = std::io::Result<Result<T, String>>;

impl Workspace for Directory {
    fn name(&self) -> &'static str {
        "directory"
    }

    async fn create(
        &self,
        owner: &Owner,
        _repo: &Path,
        path: &Path,
        _branch: &str,
    ) -> Result<(), AdapterError> {
        self.on_path("create", owner, path, create_blocking).await
    }

    async fn restore(
        &self,
        owner: &Owner,
        _repo: &Path,
        path: &Path,
        _branch: &str,
    ) -> Result<(), AdapterError> {
        self.on_path("restore", owner, path, restore_blocking).await
    }

    async fn destroy(
        &self,
        owner: &Owner,
        _repo: &Path,
        path: &Path,
    ) -> Result<Removal, AdapterError> {
        let ignored = self.ignored.clone();
        let job = move |owner: &Owner, path: &Path| destroy_blocking(owner, path, &ignored);
        self.on_path("destroy", owner, path, job).await
    }
}

/// The owner tag file beside the folder at `path`.
fn sidecar(path: &Path) -> std::io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            ErrorKind::InvalidInput,
            format!("{} has no last component", path.display()),
        )
    })?;
    Ok(path.with_file_name(format!("{}.ao-owner", name.to_string_lossy())))
}

/// Who holds `path`, and whether anything is at it.
fn holder(owner: &Owner, path: &Path) -> std::io::Result<(Holder, Option<std::fs::Metadata>)> {
    let tag = read_tag(&sidecar(path)?)?;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    Ok((owner.holder(tag.as_deref(), meta.is_some()), meta))
}

/// Claims the name (the sidecar), then makes the folder where nothing is.
fn create_blocking(owner: &Owner, path: &Path) -> Checked<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let tag_file = sidecar(path)?;
    if !create_exclusive(&tag_file, &owner.tag())? {
        let found = read_tag(&tag_file)?;
        let why = owner
            .judge(found.as_deref())
            .err()
            .unwrap_or_else(|| "an earlier create of this session claimed it".to_owned());
        return Ok(Err(format!("{} exists: {why}", tag_file.display())));
    }
    make_dir(path).inspect(|made| {
        if made.is_err() {
            // Nothing was made: give the name back, or a later destroy
            // would take whatever is at the path for ours.
            let _ = std::fs::remove_file(&tag_file);
        }
    })
}

/// `mkdir` of the last component: `Ok(Err(_))` if something is already there.
fn make_dir(path: &Path) -> Checked<()> {
    match std::fs::create_dir(path) {
        Ok(()) => Ok(Ok(())),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(Err(format!(
            "{} already exists and carries no owner tag of this session",
            path.display()
        ))),
        Err(e) => Err(e),
    }
}

/// Reuses the folder if it is the owner's, makes it if nothing is there.
fn restore_blocking(owner: &Owner, path: &Path) -> Checked<()> {
    match holder(owner, path)? {
        (Holder::Other(why), _) => Ok(Err(why)),
        (Holder::Ours, Some(meta)) if meta.is_dir() => Ok(Ok(())),
        (Holder::Ours, Some(_)) => Err(std::io::Error::other(format!(
            "{} is not a directory",
            path.display()
        ))),
        (Holder::Ours, None) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            make_dir(path)
        }
        (Holder::Nobody, _) => create_blocking(owner, path),
    }
}

fn destroy_blocking(owner: &Owner, path: &Path, ignored: &[String]) -> Checked<Removal> {
    let meta = match holder(owner, path)? {
        (Holder::Ours, Some(meta)) => meta,
        (Holder::Other(why), Some(_)) => return Ok(Err(why)),
        // Nothing at the path: drop our own tag, never another's.
        (Holder::Ours, None) => {
            remove_tag(path)?;
            return Ok(Ok(Removal::Absent));
        }
        (Holder::Other(_) | Holder::Nobody, _) => return Ok(Ok(Removal::Absent)),
    };
    if !meta.is_dir() {
        return Ok(Ok(Removal::Refused(format!(
            "{} is not a directory",
            path.display()
        ))));
    }
    let removal = remove_contents(path, ignored)?;
    if removal == Removal::Removed {
        remove_tag(path)?;
    }
    Ok(Ok(removal))
}

/// Deletes the sidecar (absent is fine).
fn remove_tag(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(sidecar(path)?) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Deletes the folder if it holds only daemon-written files, else says why not.
fn remove_contents(path: &Path, ignored: &[String]) -> std::io::Result<Removal> {
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
