//! Activity mapping (SPEC §4.3): which session axis a valid signal implies.

use crate::domain::{
    ActivityRecord, ActivitySource, ActivityState, SessionAxis, SessionReason, SessionState,
};

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
