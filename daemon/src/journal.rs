//! The journal file: every input the daemon fed the core (with its time),
//! appended as JSON lines of [`JournalEntry`], so `ao-sim replay JOURNAL`
//! re-runs a production incident deterministically.
//!
//! One entry is one line; [`Journal::append_lines`] writes a whole group of
//! lines (a group commit's) with a single `write` on an append-only file
//! descriptor and one flush (and, with [`Durability::Sync`], one
//! `fdatasync`) before it returns. A crash can only tear the last line;
//! [`Journal::open`] cuts such a torn tail off so the next entry starts on a
//! line of its own. The calls block: async code holds the journal behind a
//! mutex, or hands lines to the store writer's thread.
//!
//! Size-bounded segments: once the active file would grow past its bound
//! ([`SEGMENT_BYTES`] by default), it is renamed to the next numbered
//! segment (`journal.000001.jsonl`, ...) and a new active file begins; a
//! group of lines never straddles two files. `ao-sim replay <data_dir>` reads
//! the segments in order, then the active file.
//!
//! Quiet repeats are left out: an input that decided nothing (no write, no
//! effect) is not journaled when the same session's last such input of the
//! same kind (a probe, an SCM poll, a tick, ...) carried the same event. An
//! input that decided nothing changed nothing, so leaving it out cannot
//! change a replay: every journaled decision is still reproduced against the
//! exact record the daemon decided it on. The first of a run is journaled,
//! so replay still checks that decision. A steady session so costs a line
//! per change (its agent's hooks), not a line per probe, poll and tick.

use ao_core::domain::{Fingerprint, SessionId};
use ao_core::journal::{effects_digest, segment_name, segment_number, JournalEntry};
use ao_core::lcm::Event;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::mem::Discriminant;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The default bound of a journal segment (64 MiB).
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// A journal call that did not succeed; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file (or its directory) could not be opened or created.
    #[error("cannot open the journal {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An entry could not be written or synced.
    #[error("cannot append to the journal {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file could not be read.
    #[error("cannot read the journal {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An entry could not be encoded (not expected for core types).
    #[error("cannot encode a journal entry for {}: {source}", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A line is not a journal entry.
    #[error("{}:{line}: not a journal entry: {source}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number (equal to the entry number replay reports).
        line: usize,
        /// Why it does not parse.
        source: serde_json::Error,
    },
    /// The last line is cut short (no newline, not an entry): the writer
    /// crashed mid-append. [`Journal::open`] cuts it off.
    #[error(
        "{}:{line}: the last line is cut short (the writer probably crashed mid-append): {source}",
        path.display()
    )]
    Torn {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the torn line.
        line: usize,
        /// Why it does not parse.
        source: serde_json::Error,
    },
}

/// When an appended entry is forced to disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `fdatasync` after every entry: an acknowledged entry survives power loss.
    #[default]
    Sync,
    /// Written to the OS only: survives a daemon crash, not a power loss.
    Flush,
}

/// An open journal, appending one JSON line per entry.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    durability: Durability,
    torn_tail: u64,
    /// Reused for a group of lines, so a group is one `write`.
    buf: Vec<u8>,
    /// Bytes in the active file.
    size: u64,
    /// The active file is rotated before it would grow past this.
    segment_bytes: u64,
    /// The number the next segment gets.
    next_segment: u64,
    /// Per session and kind of event, the event of its last input that
    /// decided nothing (what is left out when it comes again).
    quiet: HashMap<(SessionId, Discriminant<Event>), Event>,
    /// Quiet repeats left out since the journal was opened.
    left_out: u64,
}

/// One entry encoded as its journal line (newline included): encoded where
/// the entry is made, so the thread that appends only copies bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    bytes: Vec<u8>,
    scope: Scope,
}

/// What an entry means for leaving out quiet repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    /// An input that decided nothing: its event.
    Quiet(SessionId, Event),
    /// An input that decided something: always journaled.
    Decided,
    /// A new record: its session starts afresh.
    Seed(SessionId),
    /// A configuration (or anything else): every decision may change.
    All,
}

impl Line {
    /// Encodes an entry as one line.
    pub fn encode(entry: &JournalEntry) -> Result<Line, serde_json::Error> {
        let mut bytes = serde_json::to_vec(entry)?;
        bytes.push(b'\n');
        let scope = match entry {
            JournalEntry::Input { input, effects } if *effects == no_effects() => {
                Scope::Quiet(input.session.clone(), input.event.clone())
            }
            JournalEntry::Input { .. } => Scope::Decided,
            JournalEntry::Seed { record } => Scope::Seed(record.id.clone()),
            _ => Scope::All,
        };
        Ok(Line { bytes, scope })
    }

    /// The line's bytes, newline included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The digest of a decision with no effect at all.
fn no_effects() -> Fingerprint {
    static EMPTY: OnceLock<Fingerprint> = OnceLock::new();
    *EMPTY.get_or_init(|| effects_digest(&[]))
}

impl Journal {
    /// Opens (creating it and its directory if needed) the journal at `path`,
    /// flushing every entry to the OS (it survives a daemon crash; the store,
    /// not the journal, is the source of truth); a torn last line is cut off.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        Journal::open_with(path, Durability::Flush)
    }

    /// [`Journal::open`] with an explicit durability.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Journal, JournalError> {
        let open_err = |source| JournalError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(open_err)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(open_err)?;
        let len = file.metadata().map_err(open_err)?.len();
        let keep = complete_prefix_len(&mut file, len).map_err(open_err)?;
        let mut torn_tail = len - keep;
        if torn_tail > 0 && tail_is_an_entry(&mut file, keep).map_err(open_err)? {
            // Complete but for its newline (e.g. written by hand): keep it.
            file.write_all(b"\n").map_err(open_err)?;
            file.sync_data().map_err(open_err)?;
            torn_tail = 0;
        }
        if torn_tail > 0 {
            file.set_len(keep).map_err(open_err)?;
            file.sync_data().map_err(open_err)?;
            tracing::warn!(
                journal = %path.display(),
                bytes = torn_tail,
                "cut off a torn last journal line (a crash interrupted its append)"
            );
        }
        let next_segment = last_segment(path).map_err(open_err)? + 1;
        Ok(Journal {
            file,
            path: path.to_owned(),
            durability,
            torn_tail,
            buf: Vec::new(),
            size: len - torn_tail,
            segment_bytes: SEGMENT_BYTES,
            next_segment,
            quiet: HashMap::new(),
            left_out: 0,
        })
    }

    /// The same journal with another segment bound (tests use small ones).
    pub fn with_segment_bytes(mut self, bytes: u64) -> Journal {
        self.segment_bytes = bytes.max(1);
        self
    }

    /// Quiet repeats left out since the journal was opened.
    pub fn left_out(&self) -> u64 {
        self.left_out
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of a torn last line [`Journal::open`] cut off (0 after a clean shutdown).
    pub fn torn_tail(&self) -> u64 {
        self.torn_tail
    }

    /// Appends one entry as one line, flushed (and synced, per [`Durability`]).
    pub fn append(&mut self, entry: &JournalEntry) -> Result<(), JournalError> {
        let line = Line::encode(entry).map_err(|source| JournalError::Encode {
            path: self.path.clone(),
            source,
        })?;
        self.append_lines([&line])
    }

    /// Appends lines in order with one `write`, one flush and (per
    /// [`Durability`]) one sync: a group commit pays for the file once.
    pub fn append_lines<'a>(
        &mut self,
        lines: impl IntoIterator<Item = &'a Line>,
    ) -> Result<(), JournalError> {
        self.buf.clear();
        for line in lines {
            if self.keep(line) {
                self.buf.extend_from_slice(line.as_bytes());
            } else {
                self.left_out += 1;
            }
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let len = self.buf.len() as u64;
        let written = self.write_group();
        if written.is_err() {
            // What was not written must not be taken for written.
            self.quiet.clear();
        } else {
            self.size += len;
        }
        written
    }

    /// Whether `line` is to be written (a quiet repeat is not), remembering
    /// what it says about its session.
    fn keep(&mut self, line: &Line) -> bool {
        match &line.scope {
            Scope::Quiet(session, event) => {
                let key = (session.clone(), std::mem::discriminant(event));
                if self.quiet.get(&key) == Some(event) {
                    return false;
                }
                self.quiet.insert(key, event.clone());
            }
            Scope::Decided => {}
            Scope::Seed(session) => self.quiet.retain(|(s, _), _| s != session),
            Scope::All => self.quiet.clear(),
        }
        true
    }

    /// Writes the buffered group to the active file (rotated first if the
    /// group would take it past its bound), flushed and synced per [`Durability`].
    fn write_group(&mut self) -> Result<(), JournalError> {
        if self.size > 0 && self.size + self.buf.len() as u64 > self.segment_bytes {
            self.rotate()?;
        }
        let write_err = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&self.buf).map_err(write_err)?;
        self.file.flush().map_err(write_err)?;
        if self.durability == Durability::Sync {
            self.file.sync_data().map_err(write_err)?;
        }
        Ok(())
    }

    /// Renames the active file to the next numbered segment and starts a new one.
    fn rotate(&mut self) -> Result<(), JournalError> {
        let write_err = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        let name = file_name(&self.path);
        let mut segment = self
            .path
            .with_file_name(segment_name(&name, self.next_segment));
        // Never rename over a segment (rename would replace it silently).
        while segment.try_exists().map_err(write_err)? {
            self.next_segment += 1;
            segment = self
                .path
                .with_file_name(segment_name(&name, self.next_segment));
        }
        self.file.sync_data().map_err(write_err)?;
        std::fs::rename(&self.path, &segment).map_err(write_err)?;
        self.file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(write_err)?;
        self.size = 0;
        self.next_segment += 1;
        tracing::info!(segment = %segment.display(), "journal segment complete");
        Ok(())
    }
}

/// The active file's name (what its segments are named after).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The highest segment number next to the active file at `path` (0: none).
fn last_segment(path: &Path) -> std::io::Result<u64> {
    let name = file_name(path);
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => dir,
        None => Path::new("."),
    };
    let mut last = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(n) = segment_number(&name, &entry.file_name().to_string_lossy()) {
            last = last.max(n);
        }
    }
    Ok(last)
}

/// Length of the file up to and including its last newline.
fn complete_prefix_len(file: &mut File, len: u64) -> std::io::Result<u64> {
    const CHUNK: u64 = 64 * 1024;
    let mut end = len;
    let mut buf = vec![0u8; CHUNK as usize];
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let n = usize::try_from(end - start).unwrap_or(buf.len());
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|b| *b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Whether the bytes after `start` (a last line without newline) form an entry.
fn tail_is_an_entry(file: &mut File, start: u64) -> std::io::Result<bool> {
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(start))?;
    file.read_to_end(&mut tail)?;
    Ok(serde_json::from_slice::<JournalEntry>(&tail).is_ok())
}

/// Reads a whole journal; a line that is not an entry is an error naming the
/// file and the line (a blank line too: entry numbers equal line numbers).
pub fn read_journal(path: &Path) -> Result<Vec<JournalEntry>, JournalError> {
    let read_err = |source| JournalError::Read {
        path: path.to_owned(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(read_err)?);
    let mut entries = Vec::new();
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(read_err)? == 0 {
            return Ok(entries);
        }
        number += 1;
        let torn = !line.ends_with('\n');
        let entry =
            serde_json::from_str(line.trim_end_matches(['\n', '\r'])).map_err(|source| {
                let path = path.to_owned();
                if torn {
                    JournalError::Torn {
                        path,
                        line: number,
                        source,
                    }
                } else {
                    JournalError::Malformed {
                        path,
                        line: number,
                        source,
                    }
                }
            })?;
        entries.push(entry);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ao_core::config::ConfigOverrides;
    use ao_core::domain::{Fingerprint, IssueId, KillKind, SessionKind, SessionRecord};
    use ao_core::lcm::{Event, Input};
    use ao_core::time::Timestamp;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "ao-journal-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Overrides with every threshold set: see `default_config_overrides_round_trip`.
    fn overrides() -> ConfigOverrides {
        use ao_core::time::Duration;
        let mut o = ConfigOverrides::default();
        let t = &mut o.thresholds;
        t.recent_activity_window = Some(Duration::secs(30));
        t.death_confirmations = Some(2);
        t.spawn_grace = Some(Duration::secs(60));
        t.quarantine_max_attempts = Some(3);
        t.quarantine_max_duration = Some(Duration::mins(5));
        t.reaper_interval = Some(Duration::secs(10));
        t.scm_interval = Some(Duration::secs(30));
        t.tick_interval = Some(Duration::secs(15));
        o
    }

    fn entries() -> Vec<JournalEntry> {
        let record = SessionRecord::seeded(
            "app-1".into(),
            "app".into(),
            IssueId::from("42"),
            SessionKind::Worker,
            Timestamp(1_000),
        );
        vec![
            JournalEntry::Config {
                overrides: overrides(),
            },
            JournalEntry::Seed { record },
            JournalEntry::Input {
                input: Input {
                    session: "app-1".into(),
                    at: Timestamp(2_000),
                    event: Event::KillRequested {
                        kind: KillKind::Manual,
                    },
                },
                effects: Fingerprint(0xdead_beef),
            },
        ]
    }

    fn shareable<T: Send + Sync>() {}

    #[test]
    fn the_journal_can_live_behind_an_async_mutex() {
        shareable::<Journal>();
    }

    #[test]
    fn entries_round_trip_one_per_line_across_reopens() {
        let dir = TempDir::new("roundtrip");
        let path = dir.0.join("nested/journal.jsonl");
        let all = entries();
        {
            let mut j = Journal::open(&path).unwrap();
            j.append(&all[0]).unwrap();
            j.append(&all[1]).unwrap();
        }
        let mut j = Journal::open_with(&path, Durability::Flush).unwrap();
        assert_eq!(j.torn_tail(), 0);
        j.append(&all[2]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with('\n'));
        assert_eq!(read_journal(&path).unwrap(), all);
    }

    #[test]
    fn a_group_of_lines_is_appended_in_order_and_an_empty_group_writes_nothing() {
        let dir = TempDir::new("group");
        let path = dir.0.join("j.jsonl");
        let all = entries();
        let lines: Vec<Line> = all.iter().map(|e| Line::encode(e).unwrap()).collect();
        let mut j = Journal::open_with(&path, Durability::Sync).unwrap();
        j.append_lines([]).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"");
        j.append_lines(&lines[..1]).unwrap();
        j.append_lines(&lines[1..]).unwrap();
        assert_eq!(read_journal(&path).unwrap(), all);
    }

    #[test]
    fn default_config_overrides_round_trip() {
        let dir = TempDir::new("defaultconfig");
        let path = dir.0.join("j.jsonl");
        let entry = JournalEntry::Config {
            overrides: ConfigOverrides::default(),
        };
        Journal::open(&path).unwrap().append(&entry).unwrap();
        assert_eq!(read_journal(&path).unwrap(), vec![entry]);
    }

    #[test]
    fn a_malformed_line_names_the_file_and_line() {
        let dir = TempDir::new("malformed");
        let path = dir.0.join("j.jsonl");
        let all = entries();
        let mut j = Journal::open(&path).unwrap();
        j.append(&all[0]).unwrap();
        drop(j);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"kind\":\"bogus\"}\n");
        std::fs::write(&path, &text).unwrap();
        let err = read_journal(&path).unwrap_err();
        assert!(
            matches!(&err, JournalError::Malformed { line: 2, .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(msg.contains("j.jsonl:2:"), "{msg}");
    }

    #[test]
    fn a_torn_last_line_is_reported_then_cut_off_on_open() {
        let dir = TempDir::new("torn");
        let path = dir.0.join("j.jsonl");
        let all = entries();
        let mut j = Journal::open(&path).unwrap();
        j.append(&all[0]).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"kind\":\"inp").unwrap();
        drop(f);
        let err = read_journal(&path).unwrap_err();
        assert!(matches!(&err, JournalError::Torn { line: 2, .. }), "{err}");
        assert!(err.to_string().contains("cut short"), "{err}");

        let mut j = Journal::open(&path).unwrap();
        assert_eq!(j.torn_tail(), 12);
        j.append(&all[1]).unwrap();
        assert_eq!(read_journal(&path).unwrap(), all[..2].to_vec());
    }

    #[test]
    fn a_complete_last_line_without_newline_is_kept() {
        let dir = TempDir::new("nonewline");
        let path = dir.0.join("j.jsonl");
        let all = entries();
        std::fs::create_dir_all(&dir.0).unwrap();
        std::fs::write(&path, serde_json::to_vec(&all[0]).unwrap()).unwrap();
        assert_eq!(read_journal(&path).unwrap(), all[..1].to_vec());
        let mut j = Journal::open(&path).unwrap();
        assert_eq!(j.torn_tail(), 0);
        j.append(&all[1]).unwrap();
        assert_eq!(read_journal(&path).unwrap(), all[..2].to_vec());
    }

    #[test]
    fn a_blank_line_is_malformed_and_a_missing_file_is_a_read_error() {
        let dir = TempDir::new("blank");
        let path = dir.0.join("j.jsonl");
        std::fs::create_dir_all(&dir.0).unwrap();
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            read_journal(&path).unwrap_err(),
            JournalError::Malformed { line: 1, .. }
        ));
        let err = read_journal(&dir.0.join("absent")).unwrap_err();
        assert!(matches!(err, JournalError::Read { .. }), "{err}");
        assert!(err.to_string().contains("absent"), "{err}");
    }

    /// An input of `session` at `at` with `event`, deciding `effects`.
    fn input(session: &str, at: u64, event: Event, effects: Fingerprint) -> JournalEntry {
        JournalEntry::Input {
            input: Input {
                session: session.into(),
                at: Timestamp(at),
                event,
            },
            effects,
        }
    }

    #[test]
    fn quiet_repeats_are_left_out() {
        let dir = TempDir::new("quiet");
        let path = dir.0.join("j.jsonl");
        let quiet = effects_digest(&[]);
        let acted = Fingerprint(0xdead_beef);
        let kill = |kind| Event::KillRequested { kind };
        let all = entries();
        // (entry, journaled?)
        let offered = vec![
            (all[0].clone(), true),
            (all[1].clone(), true),
            (input("app-1", 1, Event::Tick, quiet), true),
            (input("app-1", 2, Event::Tick, quiet), false),
            (input("app-1", 3, kill(KillKind::Manual), quiet), true), // another kind
            (input("app-1", 4, Event::Tick, quiet), false),
            (input("app-2", 5, Event::Tick, quiet), true), // another session
            (input("app-1", 6, Event::Tick, acted), true), // decided something
            (input("app-1", 7, Event::Tick, quiet), false),
            (input("app-1", 8, kill(KillKind::Error), quiet), true), // another value
            (input("app-1", 9, kill(KillKind::Manual), quiet), true),
            (all[0].clone(), true), // a new config: every decision may change
            (input("app-1", 10, Event::Tick, quiet), true),
            (input("app-2", 11, Event::Tick, quiet), true),
            (all[1].clone(), true), // a new record app-1
            (input("app-1", 12, Event::Tick, quiet), true),
            (input("app-2", 13, Event::Tick, quiet), false),
        ];
        let mut j = Journal::open(&path).unwrap();
        for (e, _) in &offered {
            j.append(e).unwrap();
        }
        let kept: Vec<JournalEntry> = offered
            .iter()
            .filter(|(_, kept)| *kept)
            .map(|(e, _)| e.clone())
            .collect();
        assert_eq!(j.left_out(), (offered.len() - kept.len()) as u64);
        assert_eq!(read_journal(&path).unwrap(), kept);
        // A reopened journal (a restarted daemon) journals the first one again.
        drop(j);
        let mut j = Journal::open(&path).unwrap();
        j.append(&offered[2].0).unwrap();
        assert_eq!(j.left_out(), 0);
        assert_eq!(read_journal(&path).unwrap().len(), kept.len() + 1);
    }

    #[test]
    fn the_journal_rotates_into_numbered_segments_of_bounded_size() {
        let dir = TempDir::new("rotate");
        let path = dir.0.join("journal.jsonl");
        let acted = Fingerprint(1);
        let all: Vec<JournalEntry> = (0..40)
            .map(|i| input("app-1", i, Event::Tick, acted))
            .collect();
        let line_len = Line::encode(&all[0]).unwrap().as_bytes().len() as u64;
        let bound = 5 * line_len + 3;
        {
            let mut j = Journal::open(&path).unwrap().with_segment_bytes(bound);
            for e in &all[..25] {
                j.append(e).unwrap();
            }
            // A group is never split across segments.
            let group: Vec<Line> = all[25..33]
                .iter()
                .map(|e| Line::encode(e).unwrap())
                .collect();
            j.append_lines(&group).unwrap();
        }
        // A restarted daemon goes on numbering after the last segment.
        let mut j = Journal::open(&path).unwrap().with_segment_bytes(bound);
        for e in &all[33..] {
            j.append(e).unwrap();
        }
        let mut read = Vec::new();
        let mut oversized = 0;
        let mut n = 1;
        loop {
            let segment = dir.0.join(segment_name("journal.jsonl", n));
            let Ok(meta) = std::fs::metadata(&segment) else {
                break;
            };
            if meta.len() > bound {
                oversized += 1;
            }
            read.extend(read_journal(&segment).unwrap());
            n += 1;
        }
        assert!(n > 6, "{} segments", n - 1);
        assert_eq!(
            oversized, 1,
            "only the 8-line group's segment outgrows the bound"
        );
        read.extend(read_journal(&path).unwrap());
        assert_eq!(
            read, all,
            "the segments in number order, then the active file"
        );
    }

    #[test]
    fn the_torn_tail_scan_crosses_chunk_boundaries() {
        let dir = TempDir::new("chunks");
        let path = dir.0.join("j.jsonl");
        std::fs::create_dir_all(&dir.0).unwrap();
        // One complete line, then a torn line longer than a scan chunk.
        let mut content = b"x\n".to_vec();
        content.extend(vec![b'y'; 200 * 1024]);
        std::fs::write(&path, &content).unwrap();
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.torn_tail(), 200 * 1024);
        assert_eq!(std::fs::read(&path).unwrap(), b"x\n");
    }
}
