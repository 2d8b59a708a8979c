//! The run's timeline: one line per decision, in order, and its stable fingerprint.

use ao_core::domain::StableHasher;
use ao_core::time::Timestamp;
use serde::Serialize;

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceLine {
    /// Virtual time.
    pub at: Timestamp,
    /// The session it concerns (`-` for the daemon).
    pub session: String,
    /// Who produced the input (reaper, scm, hook, human, script, sm, daemon).
    pub origin: &'static str,
    /// What happened.
    pub what: String,
    /// Display status after the decision (empty when not applicable).
    pub status: String,
    /// Effects, summarized.
    pub effects: String,
}

impl TraceLine {
    /// Human-readable form, as `--trace` prints it.
    pub fn render(&self) -> String {
        let mut line = format!(
            "{:>10}  {:<8} {:<7} {}",
            format_time(self.at),
            self.session,
            self.origin,
            self.what
        );
        if !self.status.is_empty() {
            line.push_str(&format!("  => {}", self.status));
        }
        if !self.effects.is_empty() {
            line.push_str(&format!("  | {}", self.effects));
        }
        line
    }
}

/// `1m30.250s` style virtual time.
pub fn format_time(t: Timestamp) -> String {
    let ms = t.0;
    let (mins, rest) = (ms / 60_000, ms % 60_000);
    if mins > 0 {
        format!("{mins}m{:02}.{:03}s", rest / 1000, rest % 1000)
    } else {
        format!("{}.{:03}s", rest / 1000, rest % 1000)
    }
}

/// The timeline of one run.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// Lines in order.
    pub lines: Vec<TraceLine>,
    hasher: Option<StableHasher>,
}

impl Trace {
    /// Appends a line (and folds it into the fingerprint).
    pub fn push(&mut self, line: TraceLine) {
        let h = self.hasher.unwrap_or_default();
        self.hasher = Some(h.field(&line.render()));
        self.lines.push(line);
    }

    /// Stable fingerprint of every line so far: equal runs print equal fingerprints.
    pub fn fingerprint(&self) -> String {
        self.hasher.unwrap_or_default().finish().to_string()
    }
}
