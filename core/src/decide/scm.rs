//! The SCM ladder (SPEC §4.4): the facts of an open PR decide its reason.

use crate::domain::PrReason;
use crate::lcm::input::{CiSummary, PrFacts, ReviewDecision};

/// The open-PR ladder, first match wins.
pub fn open_pr_reason(f: &PrFacts) -> PrReason {
    let human_comments = f.comments.iter().any(|c| !c.is_bot);
    let bot_comments = f.comments.iter().any(|c| c.is_bot);
    if f.ci == CiSummary::Failing {
        PrReason::CiFailing
    } else if f.review == ReviewDecision::ChangesRequested || human_comments {
        PrReason::ChangesRequested
    } else if !f.mergeability.no_conflicts {
        PrReason::MergeConflicts
    } else if bot_comments {
        PrReason::BotComments
    } else if f.mergeability.mergeable {
        PrReason::MergeReady
    } else if f.review == ReviewDecision::Approved {
        PrReason::Approved
    } else if f.review == ReviewDecision::Pending {
        PrReason::ReviewPending
    } else {
        PrReason::InProgress
    }
}
