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

use ao_core::journal::JournalEntry;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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
}

/// One entry encoded as its journal line (newline included): encoded where
/// the entry is made, so the thread that appends only copies bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line(Vec<u8>);

impl Line {
    /// Encodes an entry as one line.
    pub fn encode(entry: &JournalEntry) -> Result<Line, serde_json::Error> {
        let mut line = serde_json::to_vec(entry)?;
        line.push(b'\n');
        Ok(Line(line))
    }

    /// The line's bytes, newline included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
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
        Ok(Journal {
            file,
            path: path.to_owned(),
            durability,
            torn_tail,
            buf: Vec::new(),
        })
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
        let mut lines = lines.into_iter();
        let Some(first) = lines.next() else {
            return Ok(());
        };
        let bytes = match lines.next() {
            None => first.as_bytes(),
            Some(second) => {
                self.buf.clear();
                self.buf.extend_from_slice(first.as_bytes());
                self.buf.extend_from_slice(second.as_bytes());
                for line in lines {
                    self.buf.extend_from_slice(line.as_bytes());
                }
                &self.buf
            }
        };
        let write_err = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(bytes).map_err(write_err)?;
        self.file.flush().map_err(write_err)?;
        if self.durability == Durability::Sync {
            self.file.sync_data().map_err(write_err)?;
        }
        Ok(())
    }
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
