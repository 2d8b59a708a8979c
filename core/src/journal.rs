//! The journal: what a driver fed the core, in commit order, so a production
//! incident can be replayed deterministically (`ao-sim replay JOURNAL`).
//! Types and the pure replay live here; drivers do the file I/O.

use crate::config::{Config, ConfigError, ConfigOverrides};
use crate::domain::{Fingerprint, SessionId, SessionRecord, StableHasher};
use crate::lcm::{step, Effect, Input, StepError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One journal line (JSON).
// Entries are written once and dropped: boxing the seed record would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum JournalEntry {
    /// The configuration in force from here on.
    Config {
        /// The user's overrides, as loaded.
        overrides: ConfigOverrides,
    },
    /// A record the session manager inserted.
    Seed {
        /// The record as inserted.
        record: SessionRecord,
    },
    /// An input whose decision was committed (written, or a no-op).
    Input {
        /// The input, with its time.
        input: Input,
        /// Digest of the effects the driver executed for it.
        effects: Fingerprint,
    },
    /// A finished, cleaned session the user archived (`ao rm`): it leaves
    /// the live records.
    Archived {
        /// The session.
        session: SessionId,
    },
}

/// A digest of a step's effects, for replay comparison. It hashes the
/// effects' `Debug` form, which is deterministic for these plain data types
/// within one release (a journal is replayed by the release that wrote it).
pub fn effects_digest(effects: &[Effect]) -> Fingerprint {
    StableHasher::new()
        .field("ao.effects.v1")
        .debug_field(&effects)
        .finish()
}

/// Where a replay diverged from the journal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The journal's configuration does not resolve.
    #[error("entry {line}: invalid config: {error}")]
    Config {
        /// 1-based entry number.
        line: usize,
        /// Why.
        error: ConfigError,
    },
    /// An input for a session the journal never seeded.
    #[error("entry {line}: input for unknown session `{session}`")]
    UnknownSession {
        /// 1-based entry number.
        line: usize,
        /// The session.
        session: SessionId,
    },
    /// The core rejected an input the driver had committed.
    #[error("entry {line}: the step rejected the input: {error}")]
    Step {
        /// 1-based entry number.
        line: usize,
        /// Why.
        error: StepError,
    },
    /// The core decided differently from the driver.
    #[error("entry {line}: effects differ from the journal (journal {journal}, replay {replay})")]
    Diverged {
        /// 1-based entry number.
        line: usize,
        /// Digest in the journal.
        journal: Fingerprint,
        /// Digest of the replay.
        replay: Fingerprint,
    },
}

/// The state a replay ends in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Every record, by id.
    pub records: BTreeMap<SessionId, SessionRecord>,
    /// Inputs replayed.
    pub inputs: usize,
}

/// The file name of numbered segment `number` of the journal whose active
/// file is named `active`: a driver appends to the active file
/// (`journal.jsonl`) and, once it outgrows its size bound, renames it to the
/// next segment (`journal.000001.jsonl`, `journal.000002.jsonl`, ...). A
/// journal is its segments in number order, then its active file.
pub fn segment_name(active: &str, number: u64) -> String {
    match active.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{number:06}.{ext}"),
        _ => format!("{active}.{number:06}"),
    }
}

/// The number of the segment file `name` of the journal whose active file is
/// `active` (`None`: not one of its segments).
pub fn segment_number(active: &str, name: &str) -> Option<u64> {
    let (prefix, suffix) = match active.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (format!("{stem}."), format!(".{ext}")),
        _ => (format!("{active}."), String::new()),
    };
    let digits = name.strip_prefix(&prefix)?.strip_suffix(suffix.as_str())?;
    if digits.len() < 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Re-runs a journal through the core; stops at the first divergence.
pub fn replay<'a>(
    entries: impl IntoIterator<Item = &'a JournalEntry>,
) -> Result<Replayed, ReplayError> {
    let mut cfg = Config::default();
    let mut out = Replayed::default();
    for (i, entry) in entries.into_iter().enumerate() {
        let line = i + 1;
        match entry {
            JournalEntry::Config { overrides } => {
                cfg = Config::resolve(overrides)
                    .map_err(|error| ReplayError::Config { line, error })?;
            }
            JournalEntry::Seed { record } => {
                out.records.insert(record.id.clone(), record.clone());
            }
            JournalEntry::Input { input, effects } => {
                let Some(rec) = out.records.get_mut(&input.session) else {
                    return Err(ReplayError::UnknownSession {
                        line,
                        session: input.session.clone(),
                    });
                };
                let decision =
                    step(rec, input, &cfg).map_err(|error| ReplayError::Step { line, error })?;
                let replay = effects_digest(&decision.effects);
                if replay != *effects {
                    return Err(ReplayError::Diverged {
                        line,
                        journal: *effects,
                        replay,
                    });
                }
                if let Some(patch) = decision.patch() {
                    // Decided against the record itself, so the revision always matches.
                    let _ = rec.apply(patch);
                }
                out.inputs += 1;
            }
            JournalEntry::Archived { session } => {
                if out.records.remove(session).is_none() {
                    return Err(ReplayError::UnknownSession {
                        line,
                        session: session.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::{IssueId, ProjectId, SessionKind};
    use crate::time::Timestamp;

    #[test]
    fn an_archived_session_leaves_the_replayed_records() {
        let record = SessionRecord::seeded(
            SessionId::from("app-1"),
            ProjectId::from("app"),
            IssueId::from("1"),
            SessionKind::Worker,
            Timestamp(1),
        );
        let archived = JournalEntry::Archived {
            session: SessionId::from("app-1"),
        };
        let entries = [JournalEntry::Seed { record }, archived.clone()];
        assert!(replay(&entries).unwrap().records.is_empty());
        let err = replay(&entries[1..]).unwrap_err();
        assert!(
            matches!(err, ReplayError::UnknownSession { line: 1, .. }),
            "{err}"
        );
        let text = serde_json::to_string(&archived).unwrap();
        assert_eq!(
            serde_json::from_str::<JournalEntry>(&text).unwrap(),
            archived
        );
    }
}
