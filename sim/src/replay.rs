//! `ao-sim replay JOURNAL`: re-run a daemon's journal through the core and
//! check that every decision is reproduced exactly, so a production incident
//! can be studied deterministically.

use ao_core::domain::display_status;
use ao_core::journal::{replay, JournalEntry, ReplayError};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `ao-sim replay`.
#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// The daemon's journal (`<data-dir>/journal.jsonl`).
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

/// Reads every entry (one JSON object per line).
pub fn read(file: &std::path::Path) -> Result<Vec<JournalEntry>, ReadError> {
    let text = std::fs::read_to_string(file).map_err(|error| ReadError::Io {
        file: file.to_owned(),
        error,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|error| ReadError::Malformed {
                file: file.to_owned(),
                line: i + 1,
                error,
            })
        })
        .collect()
}

/// Runs `ao-sim replay`: 0 reproduced, 1 diverged, 2 unreadable.
pub fn cli(args: &ReplayArgs) -> ExitCode {
    let entries = match read(&args.journal) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match replay(&entries) {
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
            eprintln!("diverged: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
