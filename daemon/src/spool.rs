//! Hooks are never lost: when no daemon answers, `ao hook` appends the
//! signal with its observation time to `<data_dir>/spool/hooks.jsonl` (one
//! JSON line, under an exclusive lock, fsync'd); the daemon claims the file
//! at its next start (after recovery, before serving) and on every reaper
//! pass, feeds the signals in time order at their observed times (the core
//! ages them out by its normal rules and never lets an older signal replace
//! a newer one), then deletes it.

use ao_core::domain::{ActivitySource, ActivityState, Confidence, SessionId};
use ao_core::lcm::{ActivitySignal, Event};
use ao_core::time::Timestamp;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The spool's directory inside the data directory.
pub const SPOOL_DIR: &str = "spool";

/// The file hooks append to.
const OPEN_FILE: &str = "hooks.jsonl";

/// What claimed files start with (a claimed file is being ingested).
const CLAIMED_PREFIX: &str = "claimed-";

/// One spooled hook signal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spooled {
    /// The session it reports on.
    pub session: SessionId,
    /// When the hook observed it (ms since the Unix epoch).
    pub at: Timestamp,
    /// What the agent was doing.
    pub state: ActivityState,
    /// Who reported it.
    pub source: ActivitySource,
    /// The agent's own session id the hook reported with it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_session_id: Option<String>,
}

/// Appends one signal to the spool; the file it went to.
pub fn append(data_dir: &Path, entry: &Spooled) -> std::io::Result<PathBuf> {
    let dir = data_dir.join(SPOOL_DIR);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(OPEN_FILE);
    let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
    line.push('\n');
    loop {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&path)?;
        let mut file =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| std::io::Error::from(e))?;
        // The daemon may have claimed (renamed) the file between our open
        // and our lock: then write to the new one instead.
        let same = std::fs::metadata(&path)
            .is_ok_and(|m| m.ino() == file.metadata().map_or(0, |f| f.ino()));
        if !same {
            continue;
        }
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        return Ok(path);
    }
}

/// Claims what hooks spooled so far: renames the open file (under its lock,
/// so no append is cut) to a claimed file; returns every claimed file,
/// including those a crashed ingestion left.
fn claim(data_dir: &Path, now: Timestamp) -> std::io::Result<Vec<PathBuf>> {
    let dir = data_dir.join(SPOOL_DIR);
    let path = dir.join(OPEN_FILE);
    match std::fs::OpenOptions::new().append(true).open(&path) {
        Ok(file) => {
            let _locked = Flock::lock(file, FlockArg::LockExclusive)
                .map_err(|(_, e)| std::io::Error::from(e))?;
            // Zero-padded, so name order is claim order; never over an earlier claim.
            let target = (0u32..)
                .map(|n| dir.join(format!("{CLAIMED_PREFIX}{:020}-{n}.jsonl", now.0)))
                .find(|p| !p.exists())
                .unwrap_or_else(|| dir.join(format!("{CLAIMED_PREFIX}{:020}.jsonl", now.0)));
            std::fs::rename(&path, target)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut claimed: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(CLAIMED_PREFIX))
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    claimed.sort();
    Ok(claimed)
}

/// Reads claimed files: their signals in time order (stable: file, then
/// line order for equal times) and how many lines were not signals.
fn read(files: &[PathBuf]) -> (Vec<Spooled>, usize) {
    let mut signals = Vec::new();
    let mut bad = 0;
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            bad += 1;
            continue;
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<Spooled>(line) {
                Ok(s) => signals.push(s),
                Err(_) => bad += 1,
            }
        }
    }
    signals.sort_by_key(|s| s.at);
    (signals, bad)
}

/// Ingests the spool: every claimed signal is fed at its observed time, in
/// time order, then the claimed files are deleted. Stops (keeping the files
/// for the next start) if the daemon begins shutting down.
pub async fn ingest(shared: &Arc<crate::driver::Shared>) {
    let data_dir = shared.data_dir.clone();
    let now = shared.clock.now();
    let files = match tokio::task::spawn_blocking(move || claim(&data_dir, now)).await {
        Ok(Ok(files)) => files,
        Ok(Err(e)) => {
            tracing::warn!("cannot claim the hook spool: {e}");
            return;
        }
        Err(e) => {
            tracing::warn!("spool task failed: {e}");
            return;
        }
    };
    if files.is_empty() {
        return;
    }
    let (signals, bad) = read(&files);
    if bad > 0 {
        tracing::warn!("hook spool: skipped {bad} unreadable line(s)");
    }
    let mut fed = 0usize;
    for s in &signals {
        let event = Event::Activity(ActivitySignal {
            state: s.state,
            confidence: Confidence::Valid,
            source: s.source,
        });
        match shared.feed_observed(&s.session, event, Some(s.at)).await {
            Ok(_) => fed += 1,
            Err(crate::driver::DriverError::ShuttingDown) => return,
            Err(e) => tracing::warn!(session = %s.session, "spooled hook signal dropped: {e}"),
        }
        if let Some(agent_session_id) = s.agent_session_id.clone() {
            let event = Event::AgentIdentified { agent_session_id };
            if let Err(crate::driver::DriverError::ShuttingDown) =
                shared.feed_observed(&s.session, event, Some(s.at)).await
            {
                return;
            }
        }
    }
    for f in &files {
        if let Err(e) = std::fs::remove_file(f) {
            tracing::warn!("cannot remove {}: {e}", f.display());
        }
    }
    tracing::info!("hook spool: fed {fed} of {} signal(s)", signals.len());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn appends_survive_a_claim_and_come_back_in_time_order() {
        let dir = std::env::temp_dir().join(format!("ao-spool-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = |at, state| Spooled {
            session: SessionId::from("app-1"),
            at: Timestamp(at),
            state,
            source: ActivitySource::Hook,
            agent_session_id: None,
        };
        append(&dir, &s(30, ActivityState::Idle)).unwrap();
        append(&dir, &s(10, ActivityState::Active)).unwrap();
        let first = claim(&dir, Timestamp(1)).unwrap();
        append(&dir, &s(20, ActivityState::Blocked)).unwrap();
        let mut open = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join(SPOOL_DIR).join(OPEN_FILE))
            .unwrap();
        open.write_all(b"not json\n").unwrap();
        let all = claim(&dir, Timestamp(1)).unwrap();
        assert_eq!(all.len(), 2, "the earlier claim is still there: {first:?}");
        let (signals, bad) = read(&all);
        let order: Vec<u64> = signals.iter().map(|s| s.at.0).collect();
        assert_eq!(order, [10, 20, 30]);
        assert_eq!(bad, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
