//! The quarantine (SPEC §4.2): structured evidence, its stable time-free
//! fingerprint, and the episode memory that escalates to `stuck` or confirms a death.

use crate::config::Thresholds;
use crate::defects::{self, Defect};
use crate::domain::{Fingerprint, Probe, Quarantine, SessionReason, StableHasher};
use crate::time::Timestamp;
use crate::timers;
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

/// The versioned encoding's prefix.
const EVIDENCE_V1: StableHasher = StableHasher::new().field("ao.evidence.v1");

/// The canonical encoding: prefix, runtime probe, process probe, recency, reason.
const fn encode(
    runtime: Probe,
    process: Probe,
    recent: bool,
    reason: SessionReason,
) -> Fingerprint {
    EVIDENCE_V1
        .field(runtime.as_str())
        .field(process.as_str())
        .field(if recent { "recent" } else { "quiet" })
        .field(reason.as_str())
        .finish()
}

const PROBES: usize = Probe::NAMES.len();
const REASONS: usize = SessionReason::NAMES.len();

/// Every evidence fingerprint, computed at compile time from [`encode`].
static TABLE: [[[[Fingerprint; REASONS]; 2]; PROBES]; PROBES] = {
    let probes = [
        Probe::Alive,
        Probe::Dead,
        Probe::Indeterminate,
        Probe::Failed,
    ];
    let mut table = [[[[Fingerprint(0); REASONS]; 2]; PROBES]; PROBES];
    let mut r = 0;
    while r < PROBES {
        let mut p = 0;
        while p < PROBES {
            let mut recent = 0;
            while recent < 2 {
                let mut reason = 0;
                while reason < REASONS {
                    table[r][p][recent][reason] =
                        encode(probes[r], probes[p], recent == 1, reason_at(reason));
                    reason += 1;
                }
                recent += 1;
            }
            p += 1;
        }
        r += 1;
    }
    table
};

const fn reason_at(i: usize) -> SessionReason {
    use SessionReason as R;
    const ALL: [SessionReason; REASONS] = [
        R::None,
        R::SpawnRequested,
        R::AgentAcknowledged,
        R::TaskInProgress,
        R::PrCreated,
        R::FixingCi,
        R::ResolvingReviewComments,
        R::AwaitingUserInput,
        R::AwaitingExternalReview,
        R::ResearchComplete,
        R::MergedWaitingDecision,
        R::ManuallyKilled,
        R::PrMerged,
        R::AutoCleanup,
        R::RuntimeLost,
        R::AgentProcessExited,
        R::ProbeFailure,
        R::ErrorInProcess,
    ];
    ALL[i]
}

impl Evidence {
    /// Stable digest over a canonical, versioned encoding of the time-free
    /// fields (looked up in a table computed at compile time by the same encoding).
    pub fn fingerprint(&self) -> Fingerprint {
        TABLE[self.runtime as usize][self.process as usize][usize::from(self.recent_activity)]
            [self.reason as usize]
    }

    /// The same digest computed directly (the table's reference).
    pub fn fingerprint_uncached(&self) -> Fingerprint {
        encode(
            self.runtime,
            self.process,
            self.recent_activity,
            self.reason,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WireEnum;

    #[test]
    fn table_matches_direct_encoding_for_every_evidence() {
        for runtime in Probe::ALL {
            for process in Probe::ALL {
                for recent_activity in [false, true] {
                    for reason in SessionReason::ALL {
                        let e = Evidence {
                            runtime: *runtime,
                            process: *process,
                            recent_activity,
                            reason: *reason,
                        };
                        assert_eq!(e.fingerprint(), e.fingerprint_uncached(), "{e:?}");
                        assert_eq!(reason_at(*reason as usize), *reason);
                    }
                }
            }
        }
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
        // Saturates at the largest bound that still matters, so the same
        // evidence observed again changes nothing (and writes nothing).
        Some(q) if q.evidence_fingerprint == fingerprint => Quarantine {
            attempts: q
                .attempts
                .saturating_add(1)
                .min(attempt_cap(t))
                .max(q.attempts),
            ..q
        },
        Some(q) => Quarantine {
            attempts: 1,
            started_at: if defects::planted(t, Defect::EpisodeClockReset) {
                now
            } else {
                q.started_at
            },
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

/// The most attempts worth counting: escalation and death confirmation both decided.
pub fn attempt_cap(t: &Thresholds) -> u32 {
    t.quarantine_max_attempts.max(t.death_confirmations)
}

/// The escalation bound: attempts reached, or the episode is too old (inclusive).
pub fn expired(q: &Quarantine, now: Timestamp, t: &Thresholds) -> bool {
    q.attempts >= t.quarantine_max_attempts || timers::quarantine_overdue(now, q.started_at, t)
}
