//! Activity mapping (SPEC §4.3): which session axis a valid signal implies,
//! and which signal a terminal observation may not replace.

use crate::config::Thresholds;
use crate::domain::{
    ActivityRecord, ActivitySource, ActivityState, SessionAxis, SessionReason, SessionState,
};
use crate::time::Timestamp;
use crate::timers;

/// The session axis a signal writes; `None` for `exited` (not a death verdict).
pub fn session_for(state: ActivityState) -> Option<SessionAxis> {
    use ActivityState as A;
    let (state, reason) = match state {
        A::Active => (SessionState::Working, SessionReason::TaskInProgress),
        A::Ready => (SessionState::Idle, SessionReason::ResearchComplete),
        A::Idle => (SessionState::Idle, SessionReason::None),
        A::WaitingInput => (SessionState::NeedsInput, SessionReason::AwaitingUserInput),
        A::Blocked => (SessionState::Stuck, SessionReason::AwaitingUserInput),
        A::Exited => return None,
    };
    Some(SessionAxis { state, reason })
}

/// The state a healthy probe recovers to: the sticky activity, if the agent
/// reported one, else working.
pub fn recovered(activity: &ActivityRecord) -> SessionAxis {
    if activity.source != ActivitySource::None && activity.state.is_sticky() {
        if let Some(axis) = session_for(activity.state) {
            return axis;
        }
    }
    SessionAxis {
        state: SessionState::Working,
        reason: SessionReason::TaskInProgress,
    }
}

/// SPEC §4.3: the terminal observer is a fallback for silent hooks, so its
/// `signal` never replaces what the agent itself reported (a hook, or its
/// own log) while that report is recent; a question the agent asked
/// (sticky) stays asked until the screen shows it working again.
pub fn outranks_terminal(
    activity: &ActivityRecord,
    signal: ActivityState,
    now: Timestamp,
    t: &Thresholds,
) -> bool {
    let from_agent = matches!(
        activity.source,
        ActivitySource::Hook | ActivitySource::Native
    );
    let recent = activity
        .last_activity_at
        .is_some_and(|at| timers::is_recent(now, at, t));
    let answered = signal == ActivityState::Active;
    from_agent && (recent || (activity.state.is_sticky() && !answered))
}
