//! `ao-sim replay JOURNAL`: re-run a daemon's journal through the core and
//! check that every decision is reproduced exactly, so a production incident
//! can be studied deterministically. A journal is read across its segments:
//! given a data dir or a journal file (`journal.jsonl`), its numbered
//! segments (`journal.000001.jsonl`, ...) come first, in number order, then
//! the file itself.

use ao_core::domain::display_status;
use ao_core::journal::{replay, segment_name, segment_number, JournalEntry, ReplayError};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The journal's file name in a data dir.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// Arguments of `ao-sim replay`.
#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// The daemon's data dir, or its journal (`<data-dir>/journal.jsonl`):
    /// either way, its rotated segments are read first.
    pub journal: PathBuf,
    /// Print the final records as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Why a journal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("{file}: cannot read: {error}")]
    Io {
        /// The file.
        file: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A line is not a journal entry.
    #[error("{file}:{line}: not a journal entry: {error}")]
    Malformed {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// What the parser said.
        error: serde_json::Error,
    },
}

/// A journal as read: its entries in order, and where each came from.
#[derive(Debug, Default)]
pub struct Journal {
    /// Every entry, across segments.
    pub entries: Vec<JournalEntry>,
    /// For each entry, its file and 1-based line.
    pub origins: Vec<(PathBuf, usize)>,
}

impl Journal {
    /// Where entry `number` (1-based, as replay errors count) came from.
    pub fn origin(&self, number: usize) -> Option<String> {
        let (file, line) = self.origins.get(number.checked_sub(1)?)?;
        Some(format!("{}:{line}", file.display()))
    }
}

/// The files of the journal at `path` (a data dir or a journal file), in
/// order: its numbered segments, then the file itself if it exists.
pub fn files(path: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let active = if path.is_dir() {
        path.join(JOURNAL_FILE)
    } else {
        path.to_owned()
    };
    let io = |file: &Path| {
        let file = file.to_owned();
        move |error| ReadError::Io { file, error }
    };
    let name = active
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = match active.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => dir.to_owned(),
        None => PathBuf::from("."),
    };
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
        let entry = entry.map_err(io(&dir))?;
        numbers.extend(segment_number(&name, &entry.file_name().to_string_lossy()));
    }
    numbers.sort_unstable();
    let mut out: Vec<PathBuf> = numbers
        .into_iter()
        .map(|n| dir.join(segment_name(&name, n)))
        .collect();
    if active.exists() || out.is_empty() {
        out.push(active);
    }
    Ok(out)
}

/// Reads every entry (one JSON object per line) of the journal at `path`
/// (a data dir or a journal file), across its segments.
pub fn read(path: &Path) -> Result<Journal, ReadError> {
    let mut journal = Journal::default();
    for file in files(path)? {
        let text = std::fs::read_to_string(&file).map_err(|error| ReadError::Io {
            file: file.clone(),
            error,
        })?;
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let entry = serde_json::from_str(l).map_err(|error| ReadError::Malformed {
                file: file.clone(),
                line: i + 1,
                error,
            })?;
            journal.entries.push(entry);
            journal.origins.push((file.clone(), i + 1));
        }
    }
    Ok(journal)
}

/// The 1-based entry number a replay error names.
fn entry_number(e: &ReplayError) -> usize {
    match e {
        ReplayError::Config { line, .. }
        | ReplayError::UnknownSession { line, .. }
        | ReplayError::Step { line, .. }
        | ReplayError::Diverged { line, .. } => *line,
    }
}

/// Runs `ao-sim replay`: 0 reproduced, 1 diverged, 2 unreadable.
pub fn cli(args: &ReplayArgs) -> ExitCode {
    let journal = match read(&args.journal) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let entries = &journal.entries;
    let at = |e: &ReplayError| {
        journal
            .origin(entry_number(e))
            .map_or_else(String::new, |o| format!(" (at {o})"))
    };
    match replay(entries) {
        Ok(state) => {
            if args.json {
                let records: Vec<_> = state.records.values().collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&records).unwrap_or_default()
                );
            } else {
                println!(
                    "{:<20} {:<18} {:>9}  lifecycle",
                    "session", "status", "revision"
                );
                for r in state.records.values() {
                    let l = &r.lifecycle;
                    println!(
                        "{:<20} {:<18} {:>9}  {}/{} pr {}/{} runtime {}",
                        r.id,
                        display_status(l),
                        r.revision,
                        l.session.state,
                        l.session.reason,
                        l.pr.state,
                        l.pr.reason,
                        l.runtime.state
                    );
                }
                println!(
                    "\nreproduced: {} entries, {} inputs, {} session(s); every decision matched the journal",
                    entries.len(),
                    state.inputs,
                    state.records.len()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e @ ReplayError::Diverged { .. }) | Err(e @ ReplayError::Step { .. }) => {
            eprintln!("diverged: {e}{}", at(&e));
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}{}", at(&e));
            ExitCode::from(2)
        }
    }
}
