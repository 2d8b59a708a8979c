//! The daemon's secret: a random token created at first start in
//! `<data_dir>/token` (mode 0600, reused across restarts), and what is
//! derived from it — the browser's cookie value and each agent's hook token,
//! which reaches only its own session's hook endpoint.

use ao_core::domain::SessionId;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

/// The token file's name inside the data directory.
pub const TOKEN_FILE: &str = "token";

/// What a scoped hook token starts with (`ao-hook.<session>.<mac>`).
const HOOK_PREFIX: &str = "ao-hook.";

/// Random bytes in a new token (64 hex characters).
const TOKEN_BYTES: usize = 32;

/// The shortest token the daemon accepts from the file.
const MIN_TOKEN_CHARS: usize = 32;

/// Why the token file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Reading, creating or writing it failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// Other users may read it: it may be known to them.
    #[error("{path} is readable by other users (mode {mode:o}): run `chmod 600 {path}`, or delete it and restart the daemon to create a new token")]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Its content is not a token.
    #[error("{path} does not hold a token (at least {MIN_TOKEN_CHARS} characters, no spaces): delete it and restart the daemon to create a new one")]
    Malformed {
        /// The file.
        path: PathBuf,
    },
    /// The system's random source failed.
    #[error("cannot draw random bytes for a new token: {0}")]
    Random(String),
}

/// The daemon's secret and the credentials derived from it.
#[derive(Clone)]
pub struct Secret {
    token: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// Reads `<data_dir>/token`, creating it (0600) with a fresh random token
    /// when absent; refuses a file other users can read or that holds no token.
    pub fn load_or_create(data_dir: &Path) -> Result<Secret, TokenError> {
        let path = data_dir.join(TOKEN_FILE);
        match std::fs::metadata(&path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(TokenError::Exposed { path, mode });
                }
                let text = std::fs::read_to_string(&path).map_err(|error| TokenError::Io {
                    path: path.clone(),
                    error,
                })?;
                Secret::from_token(text.trim()).ok_or(TokenError::Malformed { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = Secret::random()?;
                write_private(&path, &secret.token)?;
                Ok(secret)
            }
            Err(error) => Err(TokenError::Io { path, error }),
        }
    }

    /// A fresh random secret (tests and benchmarks that need no file).
    pub fn random() -> Result<Secret, TokenError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
        Ok(Secret { token: hex(&bytes) })
    }

    /// A secret from a token's text, if it looks like one.
    pub fn from_token(token: &str) -> Option<Secret> {
        let ok = token.len() >= MIN_TOKEN_CHARS
            && token.chars().all(|c| c.is_ascii_graphic())
            && !token.starts_with(HOOK_PREFIX);
        ok.then(|| Secret {
            token: token.to_owned(),
        })
    }

    /// The user's token (what the CLI sends, what the browser link carries).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether `given` is the user's token (constant time).
    pub fn is_token(&self, given: &str) -> bool {
        equal(given, &self.token)
    }

    /// The agent's token for its session: it reaches only that session's hook endpoint.
    pub fn hook_token(&self, session: &SessionId) -> String {
        format!(
            "{HOOK_PREFIX}{session}.{}",
            self.mac(&[b"ao-hook\0", session.as_str().as_bytes()])
        )
    }

    /// The session a hook token was made for, if `given` is one and is genuine.
    pub fn hook_session(&self, given: &str) -> Option<SessionId> {
        let rest = given.strip_prefix(HOOK_PREFIX)?;
        let (session, _) = rest.rsplit_once('.')?;
        let session = SessionId(session.to_owned());
        equal(given, &self.hook_token(&session)).then_some(session)
    }

    /// Whether `given` is a hook token at all (genuine or not), so a forged
    /// one is told apart from no credential.
    pub fn looks_like_hook_token(given: &str) -> bool {
        given.starts_with(HOOK_PREFIX)
    }

    /// The browser cookie's value: as powerful as the token, but not the token itself.
    pub fn cookie_value(&self) -> String {
        self.mac(&[b"ao-browser\0"])
    }

    /// Whether `given` is the browser cookie's value (constant time).
    pub fn is_cookie(&self, given: &str) -> bool {
        equal(given, &self.cookie_value())
    }

    fn mac(&self, parts: &[&[u8]]) -> String {
        // HMAC takes a key of any length: this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.token.as_bytes()) else {
            return String::new();
        };
        for p in parts {
            mac.update(p);
        }
        hex(&mac.finalize().into_bytes())
    }
}

/// Reads the user's token from a data directory (what the CLI does), if there is one.
pub fn read_token(data_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join(TOKEN_FILE)).ok()?;
    let token = text.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// Writes a new file readable by its owner only, durably, and atomically
/// (a crash leaves either no token file or a whole one).
fn write_private(path: &Path, text: &str) -> Result<(), TokenError> {
    let io = |error| TokenError::Io {
        path: path.to_owned(),
        error,
    };
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_hook_token_names_its_session_and_cannot_be_moved_to_another() {
        let s = Secret::random().unwrap();
        let t = s.hook_token(&SessionId::from("app-1"));
        assert_eq!(s.hook_session(&t), Some(SessionId::from("app-1")));
        let moved = t.replace("app-1", "app-2");
        assert_eq!(s.hook_session(&moved), None);
        let other = Secret::random().unwrap();
        assert_eq!(other.hook_session(&t), None, "another daemon's token");
        assert!(!s.is_token(&t));
        assert!(
            Secret::from_token(&t).is_none(),
            "a hook token is no user token"
        );
    }

    #[test]
    fn the_cookie_is_derived_not_the_token() {
        let s = Secret::random().unwrap();
        assert_ne!(s.cookie_value(), s.token());
        assert!(s.is_cookie(&s.cookie_value()));
        assert!(!s.is_cookie(s.token()));
        assert_eq!(s.token().len(), 64);
    }
}
