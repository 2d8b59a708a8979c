//! Whose a runtime or workspace is: "only its own" (core/SPEC.md §7.22).
//!
//! Every data directory has an instance id, made at the daemon's first start
//! and kept in `<data_dir>/instance`. Adapters tag what they create for a
//! session with an [`Owner`] (this instance and the session) at the moment
//! they create it, and destroy or reuse only what carries exactly that tag.
//! Anything else at the name is someone else's and is left alone: no tag
//! (made by hand, by another program, or by ao before it tagged what it
//! creates), another data dir's, or another session's.
//!
//! Tag files are created exclusively and whole: written under a temporary
//! name, then hard-linked to their final name, which fails if the name is
//! taken. So a tag file either does not exist or holds a complete tag, and
//! two creators racing for one name cannot both win.

use ao_core::domain::SessionId;
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The file in the data directory holding its instance id.
pub const INSTANCE_FILE: &str = "instance";
/// Hex digits in an instance id (64 random bits).
const INSTANCE_DIGITS: usize = 16;
/// Hex digits of the instance id that runtime names carry.
const SHORT_DIGITS: usize = 6;

/// The random id of one data directory, so names and tags of two daemons
/// (or two data dirs of one user) never collide.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(String);

/// Why the instance id could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// The file could not be read or written.
    #[error("cannot read or create the instance id {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds something else than an instance id.
    #[error(
        "{} does not hold an instance id ({INSTANCE_DIGITS} hex digits) but {text:?}: \
         restore it from a backup; a new id would make every runtime and workspace \
         of this data dir look like someone else's",
        path.display()
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What it holds.
        text: String,
    },
}

impl InstanceId {
    /// The data directory's id: read from `<data_dir>/instance`, or made
    /// (random) and stored there if the file does not exist yet.
    pub fn load_or_create(data_dir: &Path) -> Result<InstanceId, InstanceError> {
        let path = data_dir.join(INSTANCE_FILE);
        let io = |source| InstanceError::Io {
            path: path.clone(),
            source,
        };
        if read_tag(&path).map_err(io)?.is_none() {
            // Losing a race with another starting daemon is fine: read its id.
            create_exclusive(&path, &random_hex().map_err(io)?).map_err(io)?;
        }
        let text = read_tag(&path).map_err(io)?.unwrap_or_default();
        InstanceId::parse(&text).ok_or(InstanceError::Malformed { path, text })
    }

    /// An id from its text (exactly 16 lowercase hex digits).
    pub fn parse(text: &str) -> Option<InstanceId> {
        let ok = text.len() == INSTANCE_DIGITS
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| InstanceId(text.to_owned()))
    }

    /// The whole id (what tags carry).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its first six digits (what runtime names carry, to stay short).
    pub fn short(&self) -> &str {
        self.0.get(..SHORT_DIGITS).unwrap_or(&self.0)
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who a runtime or workspace is made for: this data dir's instance and one
/// session. Its [`tag`](Owner::tag) is what adapters store with what they create.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    instance: InstanceId,
    session: SessionId,
}

impl Owner {
    /// The owner for `session` of `instance`.
    pub fn new(instance: InstanceId, session: SessionId) -> Owner {
        Owner { instance, session }
    }

    /// The session.
    pub fn session(&self) -> &SessionId {
        &self.session
    }

    /// The data dir's instance.
    pub fn instance(&self) -> &InstanceId {
        &self.instance
    }

    /// The tag: `<instance>/<session>`.
    pub fn tag(&self) -> String {
        format!("{}/{}", self.instance, self.session)
    }

    /// `Ok` if `found` (the tag at a name, `None` if it has none) is this
    /// owner's; else why the thing at that name is someone else's.
    pub fn judge(&self, found: Option<&str>) -> Result<(), String> {
        match found {
            Some(tag) if tag == self.tag() => Ok(()),
            None => Err(
                "it carries no owner tag (made by hand, by another program, \
                 or by ao before it tagged what it creates)"
                    .to_owned(),
            ),
            Some(tag) => match tag.split_once('/') {
                Some((instance, session)) if instance == self.instance.as_str() => Err(format!(
                    "it belongs to session {session} of this data dir, not to {}",
                    self.session
                )),
                _ => Err(format!(
                    "it belongs to another ao data dir (owner tag {tag:?})"
                )),
            },
        }
    }
}

/// Who holds a name, as its tag tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// Nothing is there, and no tag.
    Nobody,
    /// The owner's own (its tag is there; what it tags may be gone).
    Ours,
    /// Someone else's; the text says whose.
    Other(String),
}

impl Owner {
    /// Who holds a name whose tag is `tag` (`None`: no tag) and at which
    /// something is (`present`) or not.
    pub fn holder(&self, tag: Option<&str>, present: bool) -> Holder {
        if tag.is_none() && !present {
            return Holder::Nobody;
        }
        match self.judge(tag) {
            Ok(()) => Holder::Ours,
            Err(why) => Holder::Other(why),
        }
    }
}

/// Creates `path` holding `contents` if nothing is there: `Ok(true)` if it
/// was created, `Ok(false)` if the name was taken (nothing was touched). The
/// file appears whole or not at all (a temporary file hard-linked into place).
pub fn create_exclusive(path: &Path, contents: &str) -> std::io::Result<bool> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "no file name"))?
        .to_string_lossy()
        .into_owned();
    let tmp = path.with_file_name(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    })();
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    });
    let _ = std::fs::remove_file(&tmp);
    linked
}

/// The tag stored in the file at `path` (`None` if there is no such file).
pub fn read_tag(path: &Path) -> std::io::Result<Option<String>> {
    let mut text = String::new();
    match std::fs::File::open(path) {
        Ok(mut file) => {
            file.read_to_string(&mut text)?;
            Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// 16 random lowercase hex digits from the kernel.
fn random_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; INSTANCE_DIGITS / 2];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ao-owner-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_instance_id_is_made_once_and_kept() {
        let dir = temp("instance");
        let first = InstanceId::load_or_create(&dir).unwrap();
        assert_eq!(first.as_str().len(), 16);
        assert_eq!(first.short(), &first.as_str()[..6]);
        assert_eq!(InstanceId::load_or_create(&dir).unwrap(), first);
        let other = temp("instance-other");
        assert_ne!(InstanceId::load_or_create(&other).unwrap(), first);
        std::fs::write(dir.join(INSTANCE_FILE), "not an id\n").unwrap();
        let err = InstanceId::load_or_create(&dir).unwrap_err().to_string();
        assert!(err.contains("does not hold an instance id"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&other);
    }

    #[test]
    fn only_the_exact_tag_is_ours() {
        let a = InstanceId::parse("0123456789abcdef").unwrap();
        let b = InstanceId::parse("fedcba9876543210").unwrap();
        let owner = Owner::new(a.clone(), "app-1".into());
        assert_eq!(owner.tag(), "0123456789abcdef/app-1");
        assert!(owner.judge(Some("0123456789abcdef/app-1")).is_ok());
        assert!(owner.judge(None).unwrap_err().contains("no owner tag"));
        let sibling = Owner::new(a, "app-2".into()).tag();
        assert!(owner
            .judge(Some(&sibling))
            .unwrap_err()
            .contains("session app-2"));
        let stranger = Owner::new(b, "app-1".into()).tag();
        assert!(owner
            .judge(Some(&stranger))
            .unwrap_err()
            .contains("another ao data dir"));
        assert_eq!(owner.holder(None, false), Holder::Nobody);
        assert!(matches!(owner.holder(None, true), Holder::Other(_)));
        assert_eq!(owner.holder(Some(&owner.tag()), false), Holder::Ours);
        assert!(matches!(
            owner.holder(Some(&sibling), false),
            Holder::Other(_)
        ));
        assert!(InstanceId::parse("0123456789ABCDEF").is_none());
        assert!(InstanceId::parse("0123").is_none());
    }

    #[test]
    fn an_exclusive_file_is_created_once_and_never_overwritten() {
        let dir = temp("exclusive");
        let path = dir.join("x.owner");
        assert_eq!(read_tag(&path).unwrap(), None);
        assert!(create_exclusive(&path, "mine").unwrap());
        assert!(!create_exclusive(&path, "theirs").unwrap());
        assert_eq!(read_tag(&path).unwrap().as_deref(), Some("mine"));
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
