//! Workspace adapters: where agents work. `git-worktree` (a real git worktree
//! on a new branch) and `directory` (a plain folder). Both follow the no-data-
//! loss rule of SPEC §5: a workspace holding work is never deleted, the
//! refusal is reported as [`Removal::Refused`](crate::ports::Removal), and
//! nothing is ever forced. Files the daemon itself wrote (by default anything
//! under `.ao/`) do not count as work, or no workspace could ever be freed.
//!
//! Both also keep to "only its own" (core/SPEC.md §7.22): a workspace is
//! created only where nothing is, tagged with its owner (a sidecar file for a
//! folder, the worktree's lock reason for git), and reused or deleted only if
//! it carries the caller's tag; anything else at the path is "not ours".

pub mod directory;
pub mod git;

pub use directory::Directory;
pub use git::GitWorktree;

use crate::error::AdapterError;
use crate::owner::Owner;
use crate::ports::{Removal, Workspace};
use std::path::Path;

/// What the daemon writes into workspaces by default (hooks, markers).
pub const DEFAULT_IGNORED: &[&str] = &[".ao/"];

/// Every workspace kind the daemon ships, so the driver dispatches without `dyn`.
#[derive(Clone, Debug)]
pub enum AnyWorkspace {
    /// A git worktree on its own branch.
    GitWorktree(GitWorktree),
    /// A plain folder (the default).
    Directory(Directory),
}

impl From<GitWorktree> for AnyWorkspace {
    fn from(w: GitWorktree) -> Self {
        AnyWorkspace::GitWorktree(w)
    }
}

impl From<Directory> for AnyWorkspace {
    fn from(w: Directory) -> Self {
        AnyWorkspace::Directory(w)
    }
}

impl Workspace for AnyWorkspace {
    fn name(&self) -> &'static str {
        match self {
            AnyWorkspace::GitWorktree(w) => w.name(),
            AnyWorkspace::Directory(w) => w.name(),
        }
    }

    async fn create(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
        branch: &str,
    ) -> Result<(), AdapterError> {
        match self {
            AnyWorkspace::GitWorktree(w) => w.create(owner, repo, path, branch).await,
            AnyWorkspace::Directory(w) => w.create(owner, repo, path, branch).await,
        }
    }

    async fn restore(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
        branch: &str,
    ) -> Result<(), AdapterError> {
        match self {
            AnyWorkspace::GitWorktree(w) => w.restore(owner, repo, path, branch).await,
            AnyWorkspace::Directory(w) => w.restore(owner, repo, path, branch).await,
        }
    }

    async fn destroy(
        &self,
        owner: &Owner,
        repo: &Path,
        path: &Path,
    ) -> Result<Removal, AdapterError> {
        match self {
            AnyWorkspace::GitWorktree(w) => w.destroy(owner, repo, path).await,
            AnyWorkspace::Directory(w) => w.destroy(owner, repo, path).await,
        }
    }
}

/// The ignore list in canonical form: `/`-separated, no leading `./` or `/`,
/// blanks dropped. An entry ending in `/` is a directory and all it holds; any
/// other entry is that exact path, or everything under it if it is a directory.
pub(crate) fn normalize_ignored(
    ignored: impl IntoIterator<Item = impl Into<String>>,
) -> Vec<String> {
    ignored
        .into_iter()
        .map(Into::into)
        .map(|p| {
            let mut p = p.as_str();
            while let Some(rest) = p.strip_prefix("./") {
                p = rest;
            }
            p.trim_start_matches('/').to_owned()
        })
        .filter(|p| !p.is_empty() && p != "/")
        .collect()
}

/// Whether a workspace-relative path (`/`-separated) is one the daemon wrote.
pub(crate) fn daemon_written(rel: &str, is_dir: bool, ignored: &[String]) -> bool {
    let as_dir = if is_dir {
        format!("{}/", rel.trim_end_matches('/'))
    } else {
        rel.to_owned()
    };
    ignored.iter().any(|p| {
        if p.ends_with('/') {
            as_dir.starts_with(p.as_str())
        } else {
            rel.trim_end_matches('/') == p || as_dir.starts_with(&format!("{p}/"))
        }
    })
}

/// A short, bounded listing for refusal reasons (`a, b, c (+4 more)`).
pub(crate) fn summarize(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" (+{} more)", items.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_paths_match_by_prefix() {
        let ig = normalize_ignored(["./.ao/", "marker.txt", "/hooks"]);
        assert_eq!(ig, vec![".ao/", "marker.txt", "hooks"]);
        assert!(daemon_written(".ao/hook.sh", false, &ig));
        assert!(daemon_written(".ao", true, &ig));
        assert!(daemon_written(".ao/x/y", false, &ig));
        assert!(!daemon_written(".aox", false, &ig));
        assert!(!daemon_written(".ao", false, &ig));
        assert!(daemon_written("marker.txt", false, &ig));
        assert!(!daemon_written("marker.txt.bak", false, &ig));
        assert!(daemon_written("hooks/pre", false, &ig));
        assert!(daemon_written("hooks", true, &ig));
        assert!(!daemon_written("src/main.rs", false, &ig));
    }

    #[test]
    fn summaries_are_bounded() {
        let items: Vec<String> = (0..7).map(|i| format!("f{i}")).collect();
        assert_eq!(summarize(&items), "f0, f1, f2, f3, f4 (+2 more)");
        assert_eq!(summarize(&items[..1]), "f0");
    }
}
