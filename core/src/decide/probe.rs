//! The liveness table (SPEC §4.1): two probes and recent activity in, one verdict out.

use crate::config::Thresholds;
use crate::domain::{
    ActivityRecord, ActivityState, Probe, RuntimeAxis, RuntimeReason, RuntimeState, SessionReason,
};
use crate::time::Timestamp;
use crate::timers;
use serde::Serialize;

/// What the liveness table concludes from one observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The agent runs.
    Healthy,
    /// Ambiguous: quarantine with this proposed reason.
    Quarantine(SessionReason),
    /// Runtime dead, process dead, no recent activity: death once confirmed.
    DeathCandidate,
}

impl Verdict {
    /// The reason a quarantine (or a death) would record.
    pub fn reason(self) -> Option<SessionReason> {
        match self {
            Verdict::Healthy => None,
            Verdict::Quarantine(r) => Some(r),
            Verdict::DeathCandidate => Some(SessionReason::RuntimeLost),
        }
    }
}

/// The table of SPEC §4.1, first match wins.
pub fn liveness(runtime: Probe, process: Probe, recent_activity: bool) -> Verdict {
    use Probe::*;
    match (runtime, process) {
        (Failed, _) | (_, Failed) => Verdict::Quarantine(SessionReason::ProbeFailure),
        (Alive, Dead) => Verdict::Quarantine(SessionReason::AgentProcessExited),
        (Alive, Alive | Indeterminate) => Verdict::Healthy,
        (Dead, Alive) => Verdict::Quarantine(SessionReason::RuntimeLost),
        (Dead, _) if recent_activity => Verdict::Quarantine(SessionReason::RuntimeLost),
        (Dead, Dead) => Verdict::DeathCandidate,
        (Dead, Indeterminate) | (Indeterminate, _) => {
            Verdict::Quarantine(SessionReason::RuntimeLost)
        }
    }
}

/// The runtime axis is always written from the runtime probe.
pub fn runtime_axis(runtime: Probe) -> RuntimeAxis {
    let (state, reason) = match runtime {
        Probe::Alive => (RuntimeState::Alive, RuntimeReason::ProcessRunning),
        Probe::Dead => (RuntimeState::Exited, RuntimeReason::TmuxMissing),
        Probe::Failed => (RuntimeState::ProbeFailed, RuntimeReason::ProbeError),
        Probe::Indeterminate => (RuntimeState::Unknown, RuntimeReason::None),
    };
    RuntimeAxis { state, reason }
}

/// Sticky activity always counts; otherwise a non-exit signal within the window.
pub fn recent_activity(activity: &ActivityRecord, now: Timestamp, t: &Thresholds) -> bool {
    if activity.state.is_sticky() {
        return true;
    }
    match activity.last_activity_at {
        Some(at) if activity.state != ActivityState::Exited => timers::is_recent(now, at, t),
        _ => false,
    }
}
