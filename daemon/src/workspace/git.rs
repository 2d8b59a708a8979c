//! The `git-worktree` workspace: each session works in its own worktree of
//! the project's repository, on its own new branch. Real git, shelled out,
//! every call under a timeout.
//!
//! Dirty (the worktree holds work, so destroy refuses) means either:
//! - uncommitted changes: `git status --porcelain --untracked-files=all`
//!   lists anything besides the daemon-written paths (files git ignores via
//!   `.gitignore` are build output, not work, and do not count); or
//! - unpushed commits: with a remote configured, any commit reachable from
//!   the worktree's HEAD that is on no remote-tracking ref
//!   (`git rev-list HEAD --not --remotes`). In a repository without remotes,
//!   "unpushed" means "not on the base the worktree was created from": create
//!   records that base (the branch, or the commit if HEAD was detached) as
//!   `branch.<branch>.aoBase` in the repository's config, and every commit
//!   not reachable from it counts. Without that record (a worktree made by
//!   hand), every commit that is on no other local branch counts.
//!
//! Only its own (core/SPEC.md §7.22): a worktree is created locked, its lock
//! reason being its owner tag (`git worktree add --lock --reason "ao-owner
//! <instance>/<session>"`), so the tag is there from the moment git registers
//! it, lives in the worktree's own admin dir (never making it look dirty),
//! and shows in `git worktree list`; the lock also keeps `git worktree prune`
//! from dropping it. Create refuses a path where anything exists (and git
//! refuses a branch name that is taken): "not ours". Restore reuses and
//! destroy deletes only a worktree locked with the caller's tag; anything
//! else at the path (a folder, the main worktree, an unlocked worktree or one
//! locked otherwise) is "not ours" and left alone.
//!
//! Destroy never passes `--force`: it deletes only untracked daemon-written
//! files (so git's own cleanliness check passes), unlocks, then runs `git
//! worktree remove` and `git worktree prune`, and reports `Refused` (locked
//! again) if git refuses, if the worktree is still registered afterwards, or
//! if the path still exists. The branch itself is kept (it still names the
//! agent's commits).

use super::{daemon_written, normalize_ignored, summarize, DEFAULT_IGNORED};
use crate::error::AdapterError;
use crate::owner::Owner;
use crate::ports::{Removal, Workspace};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

/// Git worktrees as workspaces.
#[derive(Clone, Debug)]
pub struct GitWorktree {
    ignored: Vec<String>,
    timeout: Duration,
}

impl Default for GitWorktree {
    fn default() -> Self {
        GitWorktree::new()
    }
}

/// What a worktree's lock reason starts with when it is an owner tag.
const LOCK_PREFIX: &str = "ao-owner ";

/// One worktree registered in a repository.
#[derive(Clone, Debug)]
struct Registered {
    /// Its canonical path.
    path: PathBuf,
    /// Its lock reason (`Some("")`: locked without one).
    locked: Option<String>,
}

impl Registered {
    /// The owner tag its lock carries, if it carries one.
    fn tag(&self) -> Option<&str> {
        self.locked.as_deref()?.strip_prefix(LOCK_PREFIX)
    }
}

/// The lock reason that tags a worktree as `owner`'s.
fn lock_reason(owner: &Owner) -> String {
    format!("{LOCK_PREFIX}{}", owner.tag())
}

/// What `git status` found, split into work and daemon-written files.
#[derive(Clone, Debug, Default)]
struct Status {
    /// Entries that count as work (`XY path`).
    work: Vec<String>,
    /// Untracked daemon-written files (deleted before removal).
    daemon_untracked: Vec<String>,
}

impl GitWorktree {
    /// Ignores `.ao/`; each git call may take up to 60 s (checkouts of big repositories are slow).
    pub fn new() -> GitWorktree {
        GitWorktree {
            ignored: normalize_ignored(DEFAULT_IGNORED.iter().copied()),
            timeout: Duration::from_secs(60),
        }
    }

    /// Ignores these workspace-relative paths (a trailing `/` means a directory) instead of `.ao/`.
    pub fn with_ignored(
        mut self,
        ignored: impl IntoIterator<Item = impl Into<String>>,
    ) -> GitWorktree {
        self.ignored = normalize_ignored(ignored);
        self
    }

    /// Uses another limit for each git call.
    pub fn with_timeout(mut self, timeout: Duration) -> GitWorktree {
        self.timeout = timeout;
        self
    }

    /// Why the worktree at `path` must be kept (`None` = it holds no work), for destroy and for previews.
    pub async fn dirty(&self, path: &Path) -> Result<Option<String>, AdapterError> {
        let path = absolute(path)?;
        let status = self.status(&path).await?;
        if !status.work.is_empty() {
            return Ok(Some(format!(
                "uncommitted changes: {}",
                summarize(&status.work)
            )));
        }
        self.unpushed(&path).await
    }

    async fn git(&self, what: &str, dir: &Path, args: &[&str]) -> Result<Output, AdapterError> {
        let mut cmd = tokio::process::Command::new("git");
        cmd.arg("-C").arg(dir).args(args);
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_COMMON_DIR",
            "GIT_OBJECT_DIRECTORY",
            "GIT_NAMESPACE",
            "GIT_CEILING_DIRECTORIES",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        match tokio::time::timeout(self.timeout, cmd.output()).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(AdapterError::failed(what, format!("run git: {e}"))),
            Err(_) => Err(AdapterError::Timeout {
                what: what.to_owned(),
                millis: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }

    /// Like [`Self::git`], but a non-zero exit is an error carrying git's stderr.
    async fn git_ok(&self, what: &str, dir: &Path, args: &[&str]) -> Result<String, AdapterError> {
        let out = self.git(what, dir, args).await?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(AdapterError::failed(what, git_error(&out)))
        }
    }

    async fn status(&self, path: &Path) -> Result<Status, AdapterError> {
        let what = format!("git status in {}", path.display());
        let out = self
            .git_ok(
                &what,
                path,
                &[
                    "status",
                    "--porcelain=v1",
                    "-z",
                    "--untracked-files=all",
                    "--ignore-submodules=none",
                ],
            )
            .await?;
        let mut status = Status::default();
        let mut fields = out.split('\0').filter(|f| !f.is_empty());
        while let Some(entry) = fields.next() {
            let (code, file) = match (entry.get(..2), entry.get(3..)) {
                (Some(code), Some(file)) => (code, file),
                _ => {
                    return Err(AdapterError::failed(
                        &what,
                        format!("unparsable entry {entry:?}"),
                    ))
                }
            };
            if code.starts_with('R') || code.starts_with('C') {
                // The rename's source follows as its own field.
                fields.next();
            }
            if daemon_written(file, false, &self.ignored) {
                if code == "??" {
                    status.daemon_untracked.push(file.to_owned());
                }
            } else {
                status.work.push(format!("{code} {file}"));
            }
        }
        Ok(status)
    }

    async fn unpushed(&self, path: &Path) -> Result<Option<String>, AdapterError> {
        let what = format!("unpushed commits in {}", path.display());
        let remotes = self.git_ok(&what, path, &["remote"]).await?;
        let exclude: Vec<String> = if !remotes.trim().is_empty() {
            vec!["--remotes".to_owned()]
        } else {
            let branch = self.current_branch(path).await?;
            let base = match &branch {
                Some(b) => self.recorded_base(path, b).await?,
                None => None,
            };
            match (base, branch) {
                (Some(base), _) => vec![base],
                (None, Some(b)) => vec![format!("--exclude={b}"), "--branches".to_owned()],
                (None, None) => vec!["--branches".to_owned()],
            }
        };
        let mut args = vec!["rev-list", "--oneline", "HEAD", "--not"];
        args.extend(exclude.iter().map(String::as_str));
        args.push("--");
        let listing = self.git_ok(&what, path, &args).await?;
        let commits: Vec<String> = listing.lines().map(str::to_owned).collect();
        if commits.is_empty() {
            Ok(None)
        } else {
            Ok(Some(format!(
                "{} unpushed commit(s): {}",
                commits.len(),
                summarize(&commits)
            )))
        }
    }

    async fn current_branch(&self, path: &Path) -> Result<Option<String>, AdapterError> {
        let what = format!("current branch in {}", path.display());
        let out = self
            .git(&what, path, &["symbolic-ref", "-q", "--short", "HEAD"])
            .await?;
        match out.status.code() {
            Some(0) => Ok(Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())),
            // 1 = HEAD is detached.
            Some(1) => Ok(None),
            _ => Err(AdapterError::failed(&what, git_error(&out))),
        }
    }

    /// The recorded base, if recorded and it still resolves to a commit.
    async fn recorded_base(
        &self,
        path: &Path,
        branch: &str,
    ) -> Result<Option<String>, AdapterError> {
        let what = format!("base of {branch}");
        let key = format!("branch.{branch}.aoBase");
        let out = self.git(&what, path, &["config", "--get", &key]).await?;
        if !out.status.success() {
            return Ok(None);
        }
        let base = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if base.is_empty() || base.starts_with('-') {
            return Ok(None);
        }
        let spec = format!("{base}^{{commit}}");
        let resolves = self
            .git(&what, path, &["rev-parse", "--verify", "--quiet", &spec])
            .await?
            .status
            .success();
        Ok(resolves.then_some(base))
    }

    /// Records what `branch` starts from, for the unpushed check of remote-less repositories.
    async fn record_base(&self, repo: &Path, branch: &str) -> Result<(), AdapterError> {
        let what = format!("record base of {branch}");
        let base = match self.current_branch(repo).await? {
            Some(b) => b,
            None => self
                .git_ok(&what, repo, &["rev-parse", "HEAD"])
                .await?
                .trim()
                .to_owned(),
        };
        let key = format!("branch.{branch}.aoBase");
        self.git_ok(&what, repo, &["config", &key, &base]).await?;
        Ok(())
    }

    /// The worktrees registered in `repo`; the first is the main one.
    async fn registered(&self, repo: &Path) -> Result<Vec<Registered>, AdapterError> {
        let what = format!("git worktree list in {}", repo.display());
        let out = self
            .git_ok(&what, repo, &["worktree", "list", "--porcelain", "-z"])
            .await?;
        let mut all: Vec<Registered> = Vec::new();
        for field in out.split('\0') {
            if let Some(p) = field.strip_prefix("worktree ") {
                all.push(Registered {
                    path: canonical(Path::new(p)),
                    locked: None,
                });
            } else if let Some(entry) = all.last_mut() {
                if field == "locked" {
                    entry.locked = Some(String::new());
                } else if let Some(reason) = field.strip_prefix("locked ") {
                    entry.locked = Some(reason.to_owned());
                }
            }
        }
        Ok(all)
    }

    /// `repo`'s registration of the worktree at `path`, with its position
    /// (0: the main worktree).
    async fn registration(
        &self,
        repo: &Path,
        path: &Path,
    ) -> Result<Option<(usize, Registered)>, AdapterError> {
        let target = canonical(path);
        Ok(self
            .registered(repo)
            .await?
            .into_iter()
            .enumerate()
            .find(|(_, r)| r.path == target))
    }

    /// Whether the worktree at `path` (which exists) is `owner`'s: `Err`
    /// says whose it is instead, or that it is no worktree of `repo` at all.
    async fn ours(&self, owner: &Owner, repo: &Path, path: &Path) -> Result<(), AdapterError> {
        let what = format!("worktree {}", path.display());
        match self.registration(repo, path).await? {
            None => Err(AdapterError::not_ours(
                &what,
                format!(
                    "{} is not a registered worktree of {}",
                    path.display(),
                    repo.display()
                ),
            )),
            Some((0, _)) => Err(AdapterError::not_ours(
                &what,
                format!("{} is the repository's main worktree", path.display()),
            )),
            Some((_, reg)) => owner
                .judge(reg.tag())
                .map_err(|why| AdapterError::not_ours(&what, why)),
        }
    }

    /// Unlocks `owner`'s registration of a worktree whose folder vanished,
    /// so that a prune clears it (another's lock is left as it is).
    async fn release_vanished(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
    ) -> Result<(), AdapterError> {
        if let Some((_, reg)) = self.registration(repo, path).await? {
            if owner.judge(reg.tag()).is_ok() {
                self.lock(repo, path, None).await?;
            }
        }
        Ok(())
    }

    /// Locks the worktree at `path` with `reason`, or unlocks it (`None`).
    async fn lock(
        &self,
        repo: &Path,
        path: &Path,
        reason: Option<&str>,
    ) -> Result<(), AdapterError> {
        let path_text = path.to_string_lossy();
        let what = format!("git worktree lock {}", path.display());
        match reason {
            Some(reason) => {
                let args = ["worktree", "lock", "--reason", reason, &path_text];
                self.git_ok(&what, repo, &args).await?
            }
            None => {
                let args = ["worktree", "unlock", &path_text];
                self.git_ok(&what, repo, &args).await?
            }
        };
        Ok(())
    }

    async fn add(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
        branch: &str,
        existing: bool,
    ) -> Result<(), AdapterError> {
        let what = format!("git worktree add {} ({branch})", path.display());
        let path_text = path.to_string_lossy();
        let reason = lock_reason(owner);
        let mut args = vec!["worktree", "add", "--lock", "--reason", &reason];
        if !existing {
            args.extend(["-b", branch]);
        }
        args.extend(["--", &path_text]);
        if existing {
            args.push(branch);
        }
        let out = self.git(&what, repo, &args).await?;
        if !out.status.success() {
            let error = git_error(&out);
            // The path, the branch name or a stale locked registration is taken.
            if error.contains("already exists") || error.contains("missing but locked") {
                return Err(AdapterError::not_ours(&what, error));
            }
            return Err(AdapterError::failed(&what, error));
        }
        if !existing {
            if let Err(e) = self.record_base(repo, branch).await {
                // Not fatal: the unpushed check falls back to "on no other local branch".
                tracing::warn!(error = %e, branch, "could not record the worktree's base");
            }
        }
        Ok(())
    }

    async fn branch_exists(&self, repo: &Path, branch: &str) -> Result<bool, AdapterError> {
        let what = format!("look up branch {branch}");
        let reference = format!("refs/heads/{branch}");
        let out = self
            .git(
                &what,
                repo,
                &["show-ref", "--verify", "--quiet", &reference],
            )
            .await?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(AdapterError::failed(&what, git_error(&out))),
        }
    }

    async fn prune(&self, repo: &Path) -> Result<(), AdapterError> {
        let what = format!("git worktree prune in {}", repo.display());
        self.git_ok(&what, repo, &["worktree", "prune"]).await?;
        Ok(())
    }
}

impl Workspace for GitWorktree {
    fn name(&self) -> &'static str {
        "git-worktree"
    }

    async fn create(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
        branch: &str,
    ) -> Result<(), AdapterError> {
        let repo = absolute(repo)?;
        let path = absolute(path)?;
        let what = format!("create worktree {}", path.display());
        if exists(&path).map_err(|e| AdapterError::failed(&what, e))? {
            return Err(AdapterError::not_ours(
                &what,
                format!("{} already exists", path.display()),
            ));
        }
        self.add(owner, &repo, &path, branch, false).await
    }

    async fn restore(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
        branch: &str,
    ) -> Result<(), AdapterError> {
        let repo = absolute(repo)?;
        let path = absolute(path)?;
        let what = format!("restore worktree {}", path.display());
        if exists(&path).map_err(|e| AdapterError::failed(&what, e))? {
            return self.ours(owner, &repo, &path).await;
        }
        // A worktree whose folder vanished is still registered until pruned.
        self.release_vanished(owner, &repo, &path).await?;
        self.prune(&repo).await?;
        let existing = self.branch_exists(&repo, branch).await?;
        self.add(owner, &repo, &path, branch, existing).await
    }

    async fn destroy(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
    ) -> Result<Removal, AdapterError> {
        let repo = absolute(repo)?;
        let path = absolute(path)?;
        let what = format!("destroy worktree {}", path.display());
        if !exists(&path).map_err(|e| AdapterError::failed(&what, e))? {
            // Clear our stale registration; nothing on disk to lose.
            self.release_vanished(owner, &repo, &path).await?;
            self.prune(&repo).await?;
            return Ok(Removal::Absent);
        }
        self.ours(owner, &repo, &path).await?;
        let status = self.status(&path).await?;
        if !status.work.is_empty() {
            return Ok(Removal::Refused(format!(
                "uncommitted changes: {}",
                summarize(&status.work)
            )));
        }
        if let Some(reason) = self.unpushed(&path).await? {
            return Ok(Removal::Refused(reason));
        }
        // Our own untracked files would make git's cleanliness check refuse.
        for file in &status.daemon_untracked {
            remove_daemon_file(&path, file).map_err(|e| AdapterError::failed(&what, e))?;
        }
        self.lock(&repo, &path, None).await?;
        let path_text = path.to_string_lossy();
        let out = self
            .git(&what, &repo, &["worktree", "remove", "--", &path_text])
            .await?;
        if !out.status.success() {
            // Still ours: tag it again (if that fails, the refusal says so).
            let relocked = self.lock(&repo, &path, Some(&lock_reason(owner))).await;
            let mut reason = format!("git refused: {}", git_error(&out));
            if let Err(e) = relocked {
                reason.push_str(&format!(" (and it could not be locked again: {e})"));
            }
            return Ok(Removal::Refused(reason));
        }
        self.prune(&repo).await?;
        if self.registration(&repo, &path).await?.is_some() {
            return Ok(Removal::Refused(
                "the worktree is still registered after a prune".to_owned(),
            ));
        }
        if exists(&path).map_err(|e| AdapterError::failed(&what, e))? {
            return Ok(Removal::Refused(format!(
                "{} still exists after git removed the worktree",
                path.display()
            )));
        }
        Ok(Removal::Removed)
    }
}

/// Deletes one daemon-written file and any folders it leaves empty, up to the root.
fn remove_daemon_file(root: &Path, rel: &str) -> Result<(), String> {
    let file = root.join(rel);
    match std::fs::remove_file(&file) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(format!("remove {}: {e}", file.display())),
    }
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

fn git_error(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if text.is_empty() {
        format!("git exited with {}", out.status)
    } else {
        text
    }
}

/// `path` made absolute against the daemon's working directory (git runs elsewhere).
fn absolute(path: &Path) -> Result<PathBuf, AdapterError> {
    if path.as_os_str().is_empty() {
        return Err(AdapterError::failed("workspace path", "empty path"));
    }
    std::path::absolute(path).map_err(|e| AdapterError::failed("workspace path", e))
}

/// Whether anything (even a dangling symlink) is at `path`.
fn exists(path: &Path) -> std::io::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Best-effort canonical form, also for paths that no longer exist.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => canonical(parent).join(name),
        _ => path.to_path_buf(),
    }
}
