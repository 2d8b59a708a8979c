//! Files ao writes into a session's workspace for an agent's hooks, and how
//! it takes them out again without losing anything of the user's.
//!
//! A file that was there before ao changed it has its original bytes kept in
//! `.ao/agent-backup/<path>` (`.ao/` is daemon-written: it never counts as
//! work and goes with the workspace), so uninstall can put back exactly what
//! was there when nothing else changed it. A file ao created is deleted on
//! uninstall (with the folders it alone needed) once nothing but ao's hooks
//! is left in it. Writes go to a temporary file first and are renamed into
//! place, so an agent never reads half a file.

use super::AgentError;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Where the original of a file ao changed is kept, inside the workspace.
const BACKUP_DIR: &str = ".ao/agent-backup";

/// One file of a workspace, by its path relative to the workspace.
pub struct WorkspaceFile {
    root: PathBuf,
    rel: &'static str,
}

impl WorkspaceFile {
    /// `rel` inside the workspace at `root`.
    pub fn new(root: &Path, rel: &'static str) -> WorkspaceFile {
        WorkspaceFile {
            root: root.to_owned(),
            rel,
        }
    }

    /// Its absolute path.
    pub fn path(&self) -> PathBuf {
        self.root.join(self.rel)
    }

    fn backup_path(&self) -> PathBuf {
        self.root.join(BACKUP_DIR).join(self.rel)
    }

    fn io(&self, path: PathBuf) -> impl FnOnce(std::io::Error) -> AgentError {
        move |error| AgentError::Io { path, error }
    }

    /// Its content, `None` if there is no such file.
    pub fn read(&self) -> Result<Option<String>, AgentError> {
        read(&self.path())
    }

    /// The original ao kept before it first changed the file, if it did.
    pub fn original(&self) -> Result<Option<String>, AgentError> {
        read(&self.backup_path())
    }

    /// Keeps `text` as the original, unless an original is kept already
    /// (a second install must not take ao's own hooks for the user's).
    pub fn keep_original(&self, text: &str) -> Result<(), AgentError> {
        let backup = self.backup_path();
        if backup.exists() {
            return Ok(());
        }
        write(&backup, text)
    }

    /// Replaces its content (creating the folders it needs).
    pub fn write(&self, text: &str) -> Result<(), AgentError> {
        write(&self.path(), text)
    }

    /// Deletes it, its kept original, and the folders they leave empty.
    pub fn remove(&self) -> Result<(), AgentError> {
        for path in [self.path(), self.backup_path()] {
            match std::fs::remove_file(&path) {
                Ok(()) => prune_empty(&self.root, &path),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(self.io(path)(e)),
            }
        }
        Ok(())
    }

    /// Drops the kept original (the file stays as it is).
    pub fn forget_original(&self) -> Result<(), AgentError> {
        let backup = self.backup_path();
        match std::fs::remove_file(&backup) {
            Ok(()) => {
                prune_empty(&self.root, &backup);
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io(backup)(e)),
        }
    }
}

/// A file's text, `None` if there is no such file.
pub fn read(path: &Path) -> Result<Option<String>, AgentError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(AgentError::Io {
            path: path.to_owned(),
            error,
        }),
    }
}

/// Writes through a temporary file renamed into place.
fn write(path: &Path, text: &str) -> Result<(), AgentError> {
    let io = |error| AgentError::Io {
        path: path.to_owned(),
        error,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".ao-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// Removes the folders above `file` that are now empty, up to `root` (exclusive).
fn prune_empty(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn removing_a_file_prunes_only_the_folders_it_leaves_empty() {
        let root = std::env::temp_dir().join(format!("ao-agent-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join(".claude/commands")).unwrap();
        let f = WorkspaceFile::new(&root, ".claude/settings.local.json");
        f.keep_original("{\"a\":1}").unwrap();
        f.keep_original("{\"b\":2}").unwrap();
        assert_eq!(f.original().unwrap().as_deref(), Some("{\"a\":1}"));
        f.write("{}").unwrap();
        f.remove().unwrap();
        assert!(!f.path().exists());
        assert!(
            root.join(".claude/commands").is_dir(),
            "the user's folder stays"
        );
        assert!(!root.join(".ao").exists(), "the backup folder goes");
        let _ = std::fs::remove_dir_all(&root);
    }
}
