//! A session's timeline: the journal's entries for it (its seed, every
//! input the daemon fed the core for it, its archiving), newest first, each
//! with its time and a sentence a person can read. It reads the active
//! journal file first, then the rotated segments from the newest, and stops
//! once it has as many entries as asked for.

use ao_core::domain::{Fingerprint, SessionId};
use ao_core::journal::{effects_digest, segment_number, JournalEntry};
use ao_core::lcm::{Event, ScmObservation};
use ao_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The most entries one request returns.
pub const MAX_ENTRIES: usize = 1000;

/// One thing that happened to a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// When (ms since the Unix epoch; none for an archiving, whose time
    /// the journal does not keep).
    pub at: Option<Timestamp>,
    /// What kind of entry: `seed`, `archived`, or the input's kind
    /// (`runtime`, `activity`, `scm`, `spawn_completed`, ...).
    pub kind: String,
    /// What happened, for people.
    pub text: String,
    /// Whether the core decided something on it (a write or an effect);
    /// `false` for an observation that changed nothing.
    pub decided: bool,
}

/// A session's timeline, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(examples(json!({
    "session": "default-1",
    "entries": [
        {"at": 1764866400000_u64, "kind": "activity", "text": "activity: waiting_input (from hook)", "decided": true},
        {"at": 1764866100000_u64, "kind": "seed", "text": "created: worker session of project default, issue 42, branch ao/default-1", "decided": true}
    ],
    "truncated": false
})))]
pub struct Timeline {
    /// The session.
    pub session: String,
    /// Its entries, newest first.
    pub entries: Vec<TimelineEntry>,
    /// More, older entries exist than were returned.
    pub truncated: bool,
}

/// Why the journal could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the journal {}: {error}", path.display())]
pub struct TimelineError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: std::io::Error,
}

/// The journal's files, newest first: the active file, then its segments
/// from the highest number down.
fn files_newest_first(active: &Path) -> Result<Vec<PathBuf>, TimelineError> {
    let name = active
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = active.parent().unwrap_or(Path::new("."));
    let io = |error| TimelineError {
        path: dir.to_owned(),
        error,
    };
    let mut numbered = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if let Some(n) = segment_number(&name, &entry.file_name().to_string_lossy()) {
            numbered.push((n, entry.path()));
        }
    }
    numbered.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let mut files = vec![active.to_owned()];
    files.extend(numbered.into_iter().map(|(_, p)| p));
    Ok(files)
}

/// The newest `limit` entries of `session` in the journal whose active file is `active`.
pub fn read(active: &Path, session: &SessionId, limit: usize) -> Result<Timeline, TimelineError> {
    let limit = limit.clamp(1, MAX_ENTRIES);
    let quiet = effects_digest(&[]);
    // A cheap filter before parsing: the id as it appears in the line's JSON.
    let needle = serde_json::to_string(session.as_str()).unwrap_or_default();
    let mut entries = Vec::new();
    for path in files_newest_first(active)? {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(TimelineError { path, error }),
        };
        for line in text.lines().rev().filter(|l| l.contains(&needle)) {
            let Ok(entry) = serde_json::from_str::<JournalEntry>(line) else {
                continue;
            };
            if let Some(e) = describe(&entry, session, quiet) {
                if entries.len() == limit {
                    return Ok(Timeline {
                        session: session.to_string(),
                        entries,
                        truncated: true,
                    });
                }
                entries.push(e);
            }
        }
    }
    Ok(Timeline {
        session: session.to_string(),
        entries,
        truncated: false,
    })
}

/// An entry of `session` as people read it (`None`: another session's).
fn describe(
    entry: &JournalEntry,
    session: &SessionId,
    quiet: Fingerprint,
) -> Option<TimelineEntry> {
    let (at, kind, text, decided) = match entry {
        JournalEntry::Seed { record } if &record.id == session => (
            Some(record.created_at),
            "seed".to_owned(),
            format!(
                "created: {} session of project {}, issue {}, branch {}",
                record.kind,
                record.project_id,
                or_dash(record.issue_id.as_str()),
                or_dash(&record.metadata.branch)
            ),
            true,
        ),
        JournalEntry::Input { input, effects } if &input.session == session => {
            let (kind, text) = event_text(&input.event);
            (Some(input.at), kind.to_owned(), text, *effects != quiet)
        }
        JournalEntry::Archived { session: s } if s == session => (
            None,
            "archived".to_owned(),
            "archived (`ao rm`)".to_owned(),
            true,
        ),
        _ => return None,
    };
    Some(TimelineEntry {
        at,
        kind,
        text,
        decided,
    })
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// An input's kind and its sentence.
fn event_text(event: &Event) -> (&'static str, String) {
    match event {
        Event::Runtime(o) => (
            "runtime",
            format!("probe: runtime {}, agent process {}", o.runtime, o.process),
        ),
        Event::Activity(a) => {
            let mut text = format!("activity: {} (from {})", a.state, a.source);
            if a.confidence != ao_core::domain::Confidence::Valid {
                text.push_str(&format!(", {} signal: ignored", a.confidence));
            }
            ("activity", text)
        }
        Event::Scm(ScmObservation::FetchFailed) => (
            "scm",
            "PR poll failed (nothing changes until one answers)".to_owned(),
        ),
        Event::Scm(ScmObservation::Fetched(pr)) => {
            let number = pr.number.map(|n| format!(" #{n}")).unwrap_or_default();
            let draft = if pr.draft { " (draft)" } else { "" };
            let mut text = format!(
                "PR{number}{draft} {}: CI {}, review {}",
                pr.state, pr.ci, pr.review
            );
            if pr.mergeability.mergeable {
                text.push_str(", mergeable");
            } else if !pr.mergeability.no_conflicts {
                text.push_str(", merge conflicts");
            }
            if !pr.comments.is_empty() {
                text.push_str(&format!(", {} pending comment(s)", pr.comments.len()));
            }
            ("scm", text)
        }
        Event::SpawnCompleted(h) => (
            "spawn_completed",
            format!(
                "agent started: {} runtime {} in {}",
                or_dash(&h.runtime_name),
                h.runtime_handle,
                h.workspace_path
            ),
        ),
        Event::KillRequested { kind } => ("kill_requested", format!("kill requested ({kind})")),
        Event::Reopened { stopped } => (
            "reopened",
            match stopped {
                Some(h) => format!("restore: reopened after stopping runtime {h}"),
                None => "restore: reopened".to_owned(),
            },
        ),
        Event::Released { runtime, workspace } => {
            let what: Vec<&str> = [(*runtime, "runtime"), (*workspace, "workspace")]
                .into_iter()
                .filter_map(|(b, w)| b.then_some(w))
                .collect();
            ("released", format!("released: {}", what.join(" and ")))
        }
        Event::Adopted {
            runtime_handle,
            workspace_path,
        } => {
            let mut kept = Vec::new();
            if let Some(h) = runtime_handle {
                kept.push(format!("runtime {h}"));
            }
            if let Some(w) = workspace_path {
                kept.push(format!("workspace {w}"));
            }
            (
                "adopted",
                format!("could not free, kept: {}", kept.join(" and ")),
            )
        }
        Event::AgentIdentified { agent_session_id } => (
            "agent_identified",
            format!("the agent's own session id: {agent_session_id}"),
        ),
        Event::DeliveryFailed { reaction } => (
            "delivery_failed",
            format!("the {reaction} message could not be delivered to the agent"),
        ),
        Event::Tick => ("tick", "tick (time-based escalations checked)".to_owned()),
    }
}
