//! The display status (SPEC §3): one pure, total function of the canonical record.

use super::record::{Lifecycle, SessionAxis};
use super::states::{DisplayStatus, PrReason, PrState, SessionReason, SessionState};

/// Derives the display word of a record's lifecycle.
pub fn display_status(l: &Lifecycle) -> DisplayStatus {
    derive_display(l.session, l.pr.state, l.pr.reason)
}

/// The display rule over the only inputs it reads; first match wins, exactly as SPEC §3 lists it.
pub fn derive_display(
    session: SessionAxis,
    pr_state: PrState,
    pr_reason: PrReason,
) -> DisplayStatus {
    use DisplayStatus as D;
    match session.state {
        SessionState::Done => return D::Done,
        SessionState::NeedsInput => return D::NeedsInput,
        SessionState::Stuck => return D::Stuck,
        SessionState::Detecting => return D::Detecting,
        SessionState::NotStarted => return D::Spawning,
        SessionState::Terminated => return terminated_display(session.reason),
        SessionState::Working | SessionState::Idle => {}
    }
    match pr_state {
        PrState::Merged => return D::Merged,
        PrState::Open => {
            return match pr_reason {
                PrReason::CiFailing => D::CiFailed,
                PrReason::ChangesRequested | PrReason::BotComments => D::ChangesRequested,
                PrReason::Approved => D::Approved,
                PrReason::MergeReady => D::Mergeable,
                PrReason::ReviewPending => D::ReviewPending,
                _ => D::PrOpen,
            }
        }
        PrState::None | PrState::Closed => {}
    }
    if session.state == SessionState::Idle {
        D::Idle
    } else {
        D::Working
    }
}

fn terminated_display(reason: SessionReason) -> DisplayStatus {
    use SessionReason as R;
    match reason {
        R::ManuallyKilled | R::RuntimeLost | R::AgentProcessExited => DisplayStatus::Killed,
        R::AutoCleanup | R::PrMerged => DisplayStatus::Cleanup,
        R::ErrorInProcess | R::ProbeFailure => DisplayStatus::Errored,
        _ => DisplayStatus::Terminated,
    }
}
