//! Workspace adapters against real git repositories and real folders.

#![allow(clippy::unwrap_used)]

use ao_daemon::error::AdapterError;
use ao_daemon::owner::{InstanceId, Owner};
use ao_daemon::ports::{Removal, Workspace};
use ao_daemon::workspace::{AnyWorkspace, Directory, GitWorktree};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temp folder removed on drop.
struct Temp(PathBuf);

impl Temp {
    fn new(tag: &str) -> Temp {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("ao-ws-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Temp(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs git in `dir` with a fixed identity and no user config; panics on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=ao", "-c", "user.email=ao@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository with one commit on `main`.
fn repo(tmp: &Temp) -> PathBuf {
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "hello\n").unwrap();
    git(&repo, &["add", "README.md"]);
    git(&repo, &["commit", "-q", "-m", "initial"]);
    repo
}

fn commit(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
    git(dir, &["add", file]);
    git(dir, &["commit", "-q", "-m", &format!("change {file}")]);
}

fn registered(repo: &Path, wt: &Path) -> bool {
    let wt = std::fs::canonicalize(wt.parent().unwrap())
        .unwrap()
        .join(wt.file_name().unwrap());
    git(repo, &["worktree", "list", "--porcelain"])
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .any(|p| Path::new(p) == wt)
}

/// The owner every workspace of these tests is made for (session `s1`).
fn owner() -> Owner {
    owner_of("0123456789abcdef", "s1")
}

fn owner_of(instance: &str, session: &str) -> Owner {
    Owner::new(InstanceId::parse(instance).unwrap(), session.into())
}

fn not_ours<T: std::fmt::Debug>(r: Result<T, AdapterError>) -> bool {
    matches!(r, Err(AdapterError::NotOurs { .. }))
}

fn refused(r: &Removal, needle: &str) -> bool {
    matches!(r, Removal::Refused(reason) if reason.contains(needle))
}

// ---------------------------------------------------------------- git

#[tokio::test]
async fn clean_worktree_is_removed_and_branch_kept() {
    let tmp = Temp::new("clean");
    let repo = repo(&tmp);
    let wt = tmp.path().join("worktrees/s1");
    let ws = GitWorktree::new();
    ws.create(&owner(), &repo, &wt, "ao/s1").await.unwrap();
    assert!(wt.join("README.md").exists());
    assert!(registered(&repo, &wt));
    assert_eq!(
        git(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "ao/s1"
    );
    assert_eq!(ws.dirty(&wt).await.unwrap(), None);

    assert_eq!(
        ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        Removal::Removed
    );
    assert!(!wt.exists());
    assert!(!registered(&repo, &wt));
    git(&repo, &["rev-parse", "--verify", "refs/heads/ao/s1"]);
    assert_eq!(
        ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        Removal::Absent
    );
}

#[tokio::test]
async fn uncommitted_change_is_refused() {
    let tmp = Temp::new("modified");
    let repo = repo(&tmp);
    let wt = tmp.path().join("wt");
    let ws = AnyWorkspace::from(GitWorktree::new());
    assert_eq!(ws.name(), "git-worktree");
    ws.create(&owner(), &repo, &wt, "ao/s2").await.unwrap();
    std::fs::write(wt.join("README.md"), "edited\n").unwrap();
    let r = ws.destroy(&owner(), &repo, &wt).await.unwrap();
    assert!(
        refused(&r, "uncommitted") && refused(&r, "README.md"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_to_string(wt.join("README.md")).unwrap(),
        "edited\n"
    );

    // Staged but uncommitted is work too.
    git(&wt, &["add", "README.md"]);
    assert!(refused(
        &ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        "uncommitted"
    ));

    git(&wt, &["reset", "-q", "--hard"]);
    assert_eq!(
        ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        Removal::Removed
    );
}

#[tokio::test]
async fn untracked_file_is_refused_but_gitignored_is_not() {
    let tmp = Temp::new("untracked");
    let repo = repo(&tmp);
    commit(&repo, ".gitignore", "target/\n");
    let wt = tmp.path().join("wt");
    let ws = GitWorktree::new();
    ws.create(&owner(), &repo, &wt, "ao/s3").await.unwrap();
    std::fs::create_dir_all(wt.join("notes/deep")).unwrap();
    std::fs::write(wt.join("notes/deep/idea.txt"), "keep me\n").unwrap();
    let r = ws.destroy(&owner(), &repo, &wt).await.unwrap();
    assert!(refused(&r, "notes/deep/idea.txt"), "{r:?}");
    assert!(wt.join("notes/deep/idea.txt").exists());

    std::fs::remove_dir_all(wt.join("notes")).unwrap();
    std::fs::create_dir_all(wt.join("target")).unwrap();
    std::fs::write(wt.join("target/build.o"), "junk").unwrap();
    assert_eq!(ws.dirty(&wt).await.unwrap(), None);
    assert_eq!(
        ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        Removal::Removed
    );
}

#[tokio::test]
async fn unpushed_commit_is_refused_until_pushed() {
    let tmp = Temp::new("unpushed");
    let repo = repo(&tmp);
    let remote = tmp.path().join("remote.git");
    git(tmp.path(), &["init", "-q", "--bare", "remote.git"]);
    git(
        &repo,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    git(&repo, &["push", "-q", "origin", "main"]);

    let wt = tmp.path().join("wt");
    let ws = GitWorktree::new();
    ws.create(&owner(), &repo, &wt, "ao/s4").await.unwrap();
    assert_eq!(ws.dirty(&wt).await.unwrap(), None);
    commit(&wt, "feature.txt", "work\n");
    let r = ws.destroy(&owner(), &repo, &wt).await.unwrap();
    assert!(
        refused(&r, "1 unpushed commit") && refused(&r, "change feature.txt"),
        "{r:?}"
    );
    assert!(wt.join("feature.txt").exists());

    git(&wt, &["push", "-q", "origin", "ao/s4"]);
    assert_eq!(ws.dirty(&wt).await.unwrap(), None);
    assert_eq!(
        ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        Removal::Removed
    );
}

#[tokio::test]
async fn without_remotes_commits_beyond_the_base_are_unpushed() {
    let tmp = Temp::new("noremote");
    let repo = repo(&tmp);
    let wt = tmp.path().join("wt");
    let ws = GitWorktree::new();
    ws.create(&owner(), &repo, &wt, "ao/s5").await.unwrap();
    // The base moving on does not make the worktree dirty.
    commit(&repo, "main-only.txt", "main\n");
    assert_eq!(ws.dirty(&wt).await.unwrap(), None);

    commit(&wt, "feature.txt", "work\n");
    assert!(refused(
        &ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        "unpushed"
    ));

    // Once the base holds the work (merged locally), nothing is lost.
    git(&repo, &["merge", "-q", "--no-edit", "ao/s5"]);
    assert_eq!(
        ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        Removal::Removed
    );
}

#[tokio::test]
async fn daemon_written_files_are_ignored() {
    let tmp = Temp::new("daemonfiles");
    let repo = repo(&tmp);
    let wt = tmp.path().join("wt");
    let ws = GitWorktree::new();
    ws.create(&owner(), &repo, &wt, "ao/s6").await.unwrap();
    std::fs::create_dir_all(wt.join(".ao/hooks")).unwrap();
    std::fs::write(wt.join(".ao/hooks/post.sh"), "#!/bin/sh\n").unwrap();
    std::fs::write(wt.join(".ao/marker"), "s6\n").unwrap();
    assert_eq!(ws.dirty(&wt).await.unwrap(), None);
    assert_eq!(
        ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        Removal::Removed
    );
    assert!(!wt.exists());

    // A custom list replaces the default.
    let custom = GitWorktree::new().with_ignored(["AGENT_NOTES.md", ".hooks/"]);
    let wt2 = tmp.path().join("wt2");
    custom
        .create(&owner(), &repo, &wt2, "ao/s6b")
        .await
        .unwrap();
    std::fs::write(wt2.join("AGENT_NOTES.md"), "daemon\n").unwrap();
    std::fs::create_dir_all(wt2.join(".hooks")).unwrap();
    std::fs::write(wt2.join(".hooks/x"), "daemon\n").unwrap();
    std::fs::create_dir_all(wt2.join(".ao")).unwrap();
    std::fs::write(wt2.join(".ao/marker"), "now it counts\n").unwrap();
    let r = custom.destroy(&owner(), &repo, &wt2).await.unwrap();
    assert!(
        refused(&r, ".ao/marker") && !refused(&r, "AGENT_NOTES"),
        "{r:?}"
    );
    std::fs::remove_dir_all(wt2.join(".ao")).unwrap();
    assert_eq!(
        custom.destroy(&owner(), &repo, &wt2).await.unwrap(),
        Removal::Removed
    );
}

#[tokio::test]
async fn restore_reuses_or_re_adds() {
    let tmp = Temp::new("restore");
    let repo = repo(&tmp);
    let wt = tmp.path().join("wt");
    let ws = GitWorktree::new();
    ws.create(&owner(), &repo, &wt, "ao/s7").await.unwrap();
    commit(&wt, "work.txt", "done\n");
    std::fs::write(wt.join("scratch.txt"), "untracked\n").unwrap();

    // Present and registered: reused as it is.
    ws.restore(&owner(), &repo, &wt, "ao/s7").await.unwrap();
    assert!(wt.join("scratch.txt").exists());

    // The folder vanished (registration now stale): re-added on the existing branch.
    std::fs::remove_dir_all(&wt).unwrap();
    ws.restore(&owner(), &repo, &wt, "ao/s7").await.unwrap();
    assert_eq!(
        std::fs::read_to_string(wt.join("work.txt")).unwrap(),
        "done\n"
    );
    assert_eq!(
        git(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "ao/s7"
    );

    // The branch is gone too: a new one from HEAD.
    git(
        &repo,
        &["worktree", "remove", "-f", "-f", wt.to_str().unwrap()],
    );
    git(&repo, &["branch", "-q", "-D", "ao/s7"]);
    ws.restore(&owner(), &repo, &wt, "ao/s7").await.unwrap();
    assert!(!wt.join("work.txt").exists());
    assert_eq!(
        git(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "ao/s7"
    );
    assert_eq!(
        ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        Removal::Removed
    );

    // A folder that is not a worktree is never adopted.
    let stranger = tmp.path().join("stranger");
    std::fs::create_dir_all(&stranger).unwrap();
    assert!(not_ours(
        ws.restore(&owner(), &repo, &stranger, "ao/s7b").await
    ));
}

/// Only its own: a folder, the main worktree, a worktree made by hand and
/// one tagged for another session or data dir are never deleted or
/// reused; a path that is taken is never created over.
#[tokio::test]
async fn destroy_never_touches_what_is_not_its_worktree() {
    let tmp = Temp::new("foreign");
    let repo = repo(&tmp);
    let ws = GitWorktree::new();

    let plain = tmp.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::write(plain.join("precious.txt"), "x").unwrap();
    assert!(not_ours(ws.destroy(&owner(), &repo, &plain).await));
    assert!(not_ours(ws.create(&owner(), &repo, &plain, "ao/p").await));
    assert!(plain.join("precious.txt").exists());

    assert!(not_ours(ws.destroy(&owner(), &repo, &repo).await));
    assert!(not_ours(ws.restore(&owner(), &repo, &repo, "main").await));
    assert!(repo.join("README.md").exists());

    // A clean worktree made by hand (no owner tag).
    let by_hand = tmp.path().join("by-hand");
    git(
        &repo,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "mine",
            by_hand.to_str().unwrap(),
        ],
    );
    assert!(not_ours(ws.destroy(&owner(), &repo, &by_hand).await));
    assert!(not_ours(
        ws.restore(&owner(), &repo, &by_hand, "mine").await
    ));
    assert!(by_hand.join("README.md").exists() && registered(&repo, &by_hand));

    // Ours, asked for by another session or another data dir.
    let wt = tmp.path().join("ours");
    ws.create(&owner(), &repo, &wt, "ao/ours").await.unwrap();
    for other in [
        owner_of("0123456789abcdef", "s2"),
        owner_of("fedcba9876543210", "s1"),
    ] {
        assert!(not_ours(ws.destroy(&other, &repo, &wt).await));
        assert!(not_ours(ws.restore(&other, &repo, &wt, "ao/ours").await));
    }
    assert!(wt.join("README.md").exists() && registered(&repo, &wt));
    // Its tag is a lock with the owner as reason, for everyone to see.
    let listing = git(&repo, &["worktree", "list", "--porcelain"]);
    assert!(
        listing.contains("locked ao-owner 0123456789abcdef/s1"),
        "{listing}"
    );
    // A user who re-locks it for themselves takes it over.
    git(&repo, &["worktree", "unlock", wt.to_str().unwrap()]);
    git(
        &repo,
        &["worktree", "lock", "--reason", "mine", wt.to_str().unwrap()],
    );
    assert!(not_ours(ws.destroy(&owner(), &repo, &wt).await));
    assert!(wt.join("README.md").exists() && registered(&repo, &wt));
}

/// The branch name is taken (another data dir on the same repository): not
/// ours either, and nothing is left behind.
#[tokio::test]
async fn a_taken_branch_is_not_ours_and_leaves_nothing() {
    let tmp = Temp::new("branch-taken");
    let repo = repo(&tmp);
    git(&repo, &["branch", "ao/s1"]);
    let ws = GitWorktree::new();
    let wt = tmp.path().join("wt");
    assert!(not_ours(ws.create(&owner(), &repo, &wt, "ao/s1").await));
    assert!(!wt.exists() && !registered(&repo, &wt));
}

#[tokio::test]
async fn vanished_worktree_is_absent_and_pruned() {
    let tmp = Temp::new("vanished");
    let repo = repo(&tmp);
    let wt = tmp.path().join("wt");
    let ws = GitWorktree::new();
    ws.create(&owner(), &repo, &wt, "ao/s8").await.unwrap();
    std::fs::remove_dir_all(&wt).unwrap();
    assert!(registered(&repo, &wt));
    // Another owner's destroy leaves its (locked) registration alone.
    let other = owner_of("fedcba9876543210", "s1");
    assert_eq!(
        ws.destroy(&other, &repo, &wt).await.unwrap(),
        Removal::Absent
    );
    assert!(registered(&repo, &wt));
    assert_eq!(
        ws.destroy(&owner(), &repo, &wt).await.unwrap(),
        Removal::Absent
    );
    assert!(!registered(&repo, &wt));
}

#[tokio::test]
async fn create_fails_cleanly() {
    let tmp = Temp::new("createfail");
    let repo = repo(&tmp);
    let ws = GitWorktree::new();
    let wt = tmp.path().join("wt");
    ws.create(&owner(), &repo, &wt, "ao/s9").await.unwrap();
    // The same branch again, or an invalid name, or no repository: an error, not a panic.
    assert!(ws
        .create(&owner(), &repo, &tmp.path().join("wt2"), "ao/s9")
        .await
        .is_err());
    assert!(ws
        .create(&owner(), &repo, &tmp.path().join("wt3"), "bad..name")
        .await
        .is_err());
    let not_repo = tmp.path().join("not-a-repo");
    std::fs::create_dir_all(&not_repo).unwrap();
    assert!(ws
        .create(&owner(), &not_repo, &tmp.path().join("wt4"), "x")
        .await
        .is_err());
    // Dirty-checking something that is not a worktree is an error, never "clean".
    assert!(ws.dirty(&not_repo).await.is_err());
}

// ---------------------------------------------------------------- directory

#[tokio::test]
async fn directory_empty_is_removed_non_empty_refused() {
    let tmp = Temp::new("dir");
    let ws = AnyWorkspace::from(Directory::new());
    assert_eq!(ws.name(), "directory");
    let dir = tmp.path().join("ws/s1");
    let none = Path::new("");
    ws.create(&owner(), none, &dir, "unused").await.unwrap();
    assert!(dir.is_dir());
    ws.restore(&owner(), none, &dir, "unused").await.unwrap();
    assert_eq!(
        ws.destroy(&owner(), none, &dir).await.unwrap(),
        Removal::Removed
    );
    assert!(!dir.exists());
    assert_eq!(
        ws.destroy(&owner(), none, &dir).await.unwrap(),
        Removal::Absent
    );

    ws.create(&owner(), none, &dir, "unused").await.unwrap();
    std::fs::write(dir.join("notes.txt"), "work\n").unwrap();
    let r = ws.destroy(&owner(), none, &dir).await.unwrap();
    assert!(refused(&r, "notes.txt"), "{r:?}");
    assert!(dir.join("notes.txt").exists());

    // Restore keeps what is there.
    ws.restore(&owner(), none, &dir, "unused").await.unwrap();
    assert!(dir.join("notes.txt").exists());
}

#[tokio::test]
async fn directory_only_daemon_files_is_removed() {
    let tmp = Temp::new("dir-daemon");
    let ws = Directory::new();
    let dir = tmp.path().join("s2");
    let none = Path::new("");
    ws.create(&owner(), none, &dir, "b").await.unwrap();
    std::fs::create_dir_all(dir.join(".ao/hooks")).unwrap();
    std::fs::write(dir.join(".ao/hooks/post.sh"), "#!/bin/sh\n").unwrap();
    std::fs::create_dir_all(dir.join(".ao/empty")).unwrap();
    assert_eq!(ws.dirty(&dir).await.unwrap(), None);
    assert_eq!(
        ws.destroy(&owner(), none, &dir).await.unwrap(),
        Removal::Removed
    );
    assert!(!dir.exists());
}

#[tokio::test]
async fn directory_refusals() {
    let tmp = Temp::new("dir-refuse");
    let ws = Directory::new();
    let none = Path::new("");

    // An empty sub-folder is content: someone made it.
    let dir = tmp.path().join("s3");
    ws.create(&owner(), none, &dir, "b").await.unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    assert!(refused(
        &ws.destroy(&owner(), none, &dir).await.unwrap(),
        "src/"
    ));

    // A symlink is content, and what it points to is never touched.
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("precious"), "x").unwrap();
    let linked = tmp.path().join("s4");
    ws.create(&owner(), none, &linked, "b").await.unwrap();
    std::os::unix::fs::symlink(&outside, linked.join("link")).unwrap();
    assert!(refused(
        &ws.destroy(&owner(), none, &linked).await.unwrap(),
        "link"
    ));
    assert!(outside.join("precious").exists());

    // An empty path never reaches the filesystem.
    assert!(ws.destroy(&owner(), none, none).await.is_err());
}

/// Only its own: a folder or file already at the path (made by hand, or
/// before tags) is never created over, reused or deleted, even when empty;
/// nor is a folder tagged for another session or data dir.
#[tokio::test]
async fn directory_of_others_is_left_alone() {
    let tmp = Temp::new("dir-owner");
    let ws = Directory::new();
    let none = Path::new("");

    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let full = tmp.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("notes.txt"), "x").unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    for path in [&empty, &full, &file] {
        assert!(
            not_ours(ws.create(&owner(), none, path, "b").await),
            "{path:?}"
        );
        assert!(
            not_ours(ws.restore(&owner(), none, path, "b").await),
            "{path:?}"
        );
        assert!(not_ours(ws.destroy(&owner(), none, path).await), "{path:?}");
        assert!(path.exists(), "{path:?} survives");
    }
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ao-owner"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no tag is left beside them: {leftovers:?}"
    );

    let ours = tmp.path().join("ours");
    ws.create(&owner(), none, &ours, "b").await.unwrap();
    for other in [
        owner_of("0123456789abcdef", "s2"),
        owner_of("fedcba9876543210", "s1"),
    ] {
        assert!(not_ours(ws.create(&other, none, &ours, "b").await));
        assert!(not_ours(ws.restore(&other, none, &ours, "b").await));
        assert!(not_ours(ws.destroy(&other, none, &ours).await));
    }
    assert!(ours.is_dir());
    // The folder vanished: a restore makes it again under the same tag.
    std::fs::remove_dir(&ours).unwrap();
    ws.restore(&owner(), none, &ours, "b").await.unwrap();
    assert_eq!(
        ws.destroy(&owner(), none, &ours).await.unwrap(),
        Removal::Removed
    );
    assert!(
        !tmp.path().join("ours.ao-owner").exists(),
        "the tag goes last"
    );
    assert_eq!(
        ws.destroy(&owner(), none, &ours).await.unwrap(),
        Removal::Absent
    );
}
