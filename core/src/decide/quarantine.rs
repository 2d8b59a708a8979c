//! The quarantine (SPEC §4.2): structured evidence, its stable time-free
//! fingerprint, and the episode memory that escalates to `stuck` or confirms a death.

use crate::config::Thresholds;
use crate::domain::{Fingerprint, Probe, Quarantine, SessionReason, StableHasher};
use crate::time::Timestamp;
use serde::Serialize;

/// What was seen, without time: equal evidence observed later has the same fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Evidence {
    /// Runtime probe.
    pub runtime: Probe,
    /// Agent-process probe.
    pub process: Probe,
    /// Whether activity was recent at the observation.
    pub recent_activity: bool,
    /// The reason the verdict proposes.
    pub reason: SessionReason,
}

impl Evidence {
    /// Stable digest over a canonical, versioned encoding of the time-free fields.
    pub fn fingerprint(&self) -> Fingerprint {
        StableHasher::default()
            .field("ao.evidence.v1")
            .field(self.runtime.as_str())
            .field(self.process.as_str())
            .field(if self.recent_activity {
                "recent"
            } else {
                "quiet"
            })
            .field(self.reason.as_str())
            .finish()
    }
}

/// Where one more ambiguous observation leaves the episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Advance {
    /// Still quarantined.
    Detecting(Quarantine),
    /// Escalated: too many identical observations, or too long.
    Stuck(Quarantine),
    /// The death candidate was seen `death_confirmations` times in a row.
    ConfirmedDeath,
}

/// Advances the episode memory by one ambiguous observation.
pub fn advance(
    prev: Option<Quarantine>,
    evidence: &Evidence,
    death_candidate: bool,
    now: Timestamp,
    t: &Thresholds,
) -> Advance {
    let fingerprint = evidence.fingerprint();
    let memory = match prev {
        None => Quarantine {
            attempts: 1,
            started_at: now,
            evidence_fingerprint: fingerprint,
        },
        Some(q) if q.evidence_fingerprint == fingerprint => Quarantine {
            attempts: q.attempts.saturating_add(1),
            ..q
        },
        Some(q) => Quarantine {
            attempts: 1,
            started_at: q.started_at,
            evidence_fingerprint: fingerprint,
        },
    };
    if death_candidate && memory.attempts >= t.death_confirmations {
        return Advance::ConfirmedDeath;
    }
    if expired(&memory, now, t) {
        Advance::Stuck(memory)
    } else {
        Advance::Detecting(memory)
    }
}

/// The escalation bound: attempts reached, or the episode is too old (inclusive).
pub fn expired(q: &Quarantine, now: Timestamp, t: &Thresholds) -> bool {
    q.attempts >= t.quarantine_max_attempts || now.since(q.started_at) >= t.quarantine_max_duration
}
