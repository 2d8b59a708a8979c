//! Reactions and escalation (SPEC §6), decided inside the same step as the
//! transition that caused them.

use super::effect::{Effect, Notification, NotificationKind};
use super::input::PrFacts;
use super::sanitize::{
    cap_head, cap_tail, strip_controls, MAX_COMMENT_CHARS, MAX_LOG_CHARS, MAX_LOG_LINES,
    MAX_MESSAGE_CHARS,
};
use crate::config::{ReactionConfig, ReactionTable, Thresholds};
use crate::defects::{self, Defect};
use crate::domain::{
    derive_display, DisplayStatus, PrAxis, PrReason, PrState, Priority, ReactionAction,
    ReactionKey, ReactionPolicy, SessionAxis, SessionKind, SessionReason, SessionRecord,
    SessionState, Tracker,
};
use crate::time::Duration;
use crate::time::Timestamp;
use crate::timers;

/// The reaction a canonical state maps to (SPEC §6), if any.
pub fn reaction_for(kind: SessionKind, session: SessionAxis, pr: &PrAxis) -> Option<ReactionKey> {
    use DisplayStatus as D;
    use ReactionKey as K;
    if session.state.is_terminal() {
        // The incident is over; only a death by inference is news.
        return (session.state == SessionState::Terminated && killed_by_inference(session.reason))
            .then_some(K::AgentExited);
    }
    if pr.state == PrState::Closed {
        return Some(K::PrClosed);
    }
    match derive_display(session, pr.state, pr.reason) {
        D::CiFailed => Some(K::CiFailed),
        D::ChangesRequested if pr.reason == PrReason::BotComments => Some(K::BugbotComments),
        D::ChangesRequested => Some(K::ChangesRequested),
        D::PrOpen if pr.reason == PrReason::MergeConflicts => Some(K::MergeConflicts),
        // A draft is not approved or mergeable work: nothing to merge yet.
        D::Approved | D::Mergeable if pr.draft => None,
        D::Approved | D::Mergeable => Some(K::ApprovedAndGreen),
        D::Idle if kind == SessionKind::Orchestrator => None,
        D::Idle => Some(K::AgentIdle),
        D::Stuck => Some(K::AgentStuck),
        D::NeedsInput => Some(K::AgentNeedsInput),
        D::Merged => Some(K::AllComplete),
        _ => None,
    }
}

fn killed_by_inference(reason: SessionReason) -> bool {
    matches!(
        reason,
        SessionReason::RuntimeLost | SessionReason::AgentProcessExited
    )
}

/// A genuine recovery ends a persistent incident; a draft never counts.
fn genuinely_recovered(pr: &PrAxis) -> bool {
    !pr.draft && matches!(pr.reason, PrReason::Approved | PrReason::MergeReady)
}

/// Everything the reaction phase needs to know about the step.
pub(crate) struct ReactionContext<'a> {
    /// The record before the step.
    pub rec: &'a SessionRecord,
    /// The session axis after the step.
    pub session: SessionAxis,
    /// The PR axis after the step.
    pub pr: &'a PrAxis,
    /// The step's time.
    pub now: Timestamp,
    /// The project's reaction table.
    pub table: &'a ReactionTable,
    /// SCM facts seen in this step (for review comments).
    pub facts: Option<&'a PrFacts>,
    /// The failing CI log tail, already sanitized and capped.
    pub ci_log: Option<&'a str>,
    /// The step is a tick (re-deliveries happen on ticks).
    pub tick: bool,
    /// The thresholds in force.
    pub thresholds: &'a Thresholds,
}

/// Updates the policy state and appends the reaction effects of one step.
pub(crate) fn react(
    cx: &ReactionContext<'_>,
    policy: &mut ReactionPolicy,
    effects: &mut Vec<Effect>,
) {
    let terminal = cx.session.state.is_terminal();
    let detecting = cx.session.state == SessionState::Detecting;
    let now_maps = reaction_for(cx.rec.kind, cx.session, cx.pr);

    // 1. Leaving a state clears its tracker; the persistent one waits for a
    //    genuine recovery or the end of the incident. Quarantine holds them all.
    for key in crate::wire::WireEnum::ALL.iter().copied() {
        let clear = match policy.get(key) {
            None => false,
            Some(_) if terminal => true,
            Some(_) if key.is_persistent() => {
                cx.pr.state != PrState::Open || genuinely_recovered(cx.pr)
            }
            Some(_) => !detecting && now_maps != Some(key),
        };
        if clear {
            *policy.slot(key) = None;
        }
    }

    // 2. A genuine change of mapping dispatches (quarantine keeps the old mapping).
    if !detecting && now_maps != policy.mapped {
        policy.mapped = now_maps;
        if let Some(key) = now_maps {
            dispatch(cx, key, policy, effects);
        }
    } else if cx.tick && !detecting {
        // 3. A tick re-sends a message whose delivery failed, if still relevant.
        if let Some(key) = now_maps {
            if policy
                .get(key)
                .is_some_and(|t| t.undelivered && !t.escalated)
            {
                dispatch(cx, key, policy, effects);
            }
        }
    }

    // 4. Duration budgets are checked on every step, ticks included (SPEC §7.18).
    if let Some(key) = policy.mapped {
        let cfg = cx.table.get(key);
        if let (Some(after), Some(t)) = (cfg.escalate_after, policy.slot(key).as_mut()) {
            if cfg.enabled
                && cfg.action == ReactionAction::SendToAgent
                && !t.escalated
                && timers::escalation_due(cx.now, t.first_attempt_at, late(cx.thresholds, after))
            {
                t.escalated = true;
                effects.push(escalation(cx, key, t));
            }
        }
    }
}

fn dispatch(
    cx: &ReactionContext<'_>,
    key: ReactionKey,
    policy: &mut ReactionPolicy,
    effects: &mut Vec<Effect>,
) {
    let cfg = cx.table.get(key);
    if !cfg.enabled {
        return;
    }
    let slot = policy.slot(key);
    match cfg.action {
        ReactionAction::Notify => {
            if slot.is_none() {
                *slot = Some(Tracker {
                    attempts: 1,
                    first_attempt_at: cx.now,
                    escalated: false,
                    undelivered: false,
                });
                effects.push(notification(
                    cx,
                    key,
                    NotificationKind::Reaction,
                    cfg.priority,
                    cfg.message.clone(),
                ));
            }
        }
        ReactionAction::SendToAgent => {
            let t = slot.get_or_insert(Tracker {
                attempts: 0,
                first_attempt_at: cx.now,
                escalated: false,
                undelivered: false,
            });
            if t.escalated {
                return;
            }
            t.attempts = t.attempts.saturating_add(1);
            t.undelivered = false;
            if budget_exhausted(t, cfg, cx.now) {
                t.escalated = true;
                effects.push(escalation(cx, key, t));
            } else {
                effects.push(Effect::SendToAgent {
                    session: cx.rec.id.clone(),
                    reaction: key,
                    message: agent_message(key, cfg, cx.facts, cx.ci_log, cx.pr),
                });
            }
        }
    }
}

/// `after`, or a tick interval more where that defect is planted.
fn late(t: &Thresholds, after: Duration) -> Duration {
    if defects::planted(t, Defect::EscalationLate) {
        Duration(after.as_millis() + t.tick_interval.as_millis())
    } else {
        after
    }
}

/// Inclusive bounds: attempts beyond `retries`, or `escalate_after` elapsed.
pub fn budget_exhausted(t: &Tracker, cfg: &ReactionConfig, now: Timestamp) -> bool {
    cfg.retries.is_some_and(|r| t.attempts > r)
        || cfg
            .escalate_after
            .is_some_and(|d| timers::escalation_due(now, t.first_attempt_at, d))
}

fn escalation(cx: &ReactionContext<'_>, key: ReactionKey, t: &Tracker) -> Effect {
    // Says which budget ran out, never an instant: a notification is a
    // function of the record's facts, not of how old they are.
    let cfg = cx.table.get(key);
    let why = match (cfg.retries, cfg.escalate_after) {
        (Some(r), _) if t.attempts > r => {
            format!("{} attempt(s) exceeded its {r} retries", t.attempts)
        }
        (_, Some(after)) => format!(
            "{after} passed since its first attempt ({} attempt(s))",
            t.attempts
        ),
        _ => format!("{} attempt(s)", t.attempts),
    };
    let message = format!("Reaction {key} escalated: {why}; the agent needs a human.");
    notification(
        cx,
        key,
        NotificationKind::Escalated,
        Priority::Urgent,
        message,
    )
}

fn notification(
    cx: &ReactionContext<'_>,
    key: ReactionKey,
    kind: NotificationKind,
    priority: Priority,
    message: String,
) -> Effect {
    Effect::Notify(Notification {
        kind,
        reaction: key,
        priority,
        session: cx.rec.id.clone(),
        project: cx.rec.project_id.clone(),
        message,
    })
}

/// The message sent into the agent: the configured text plus the detail it
/// needs (CI log tail, review comments), each piece sanitized once, then capped.
pub fn agent_message(
    key: ReactionKey,
    cfg: &ReactionConfig,
    facts: Option<&PrFacts>,
    ci_log: Option<&str>,
    pr: &PrAxis,
) -> String {
    let mut text = strip_controls(&cfg.message);
    let pr_ref = pr.number.map(|n| format!(" (PR #{n})")).unwrap_or_default();
    match key {
        ReactionKey::CiFailed => match ci_log {
            Some(log) => {
                text.push_str(&format!("\n\nFailing CI log{pr_ref}, last lines:\n"));
                text.push_str(log);
            }
            None => text.push_str(&format!(
                "\n\nThe failure log was not available{pr_ref}: inspect the failing checks."
            )),
        },
        ReactionKey::ChangesRequested | ReactionKey::BugbotComments => {
            let want_bot = key == ReactionKey::BugbotComments;
            let comments: Vec<_> = facts
                .map(|f| f.comments.iter().filter(|c| c.is_bot == want_bot).collect())
                .unwrap_or_default();
            if comments.is_empty() {
                text.push_str(&format!("\n\nSee the review{pr_ref}."));
            } else {
                text.push_str(&format!("\n\nPending review comments{pr_ref}:"));
                for c in comments {
                    text.push_str(&format!(
                        "\n\n- {} ({}):\n{}",
                        strip_controls(&c.author),
                        strip_controls(&c.url),
                        cap_head(&strip_controls(&c.body), MAX_COMMENT_CHARS)
                    ));
                }
            }
        }
        _ => {}
    }
    cap_head(&text, MAX_MESSAGE_CHARS)
}

/// A CI log as an agent may see it: control and escape sequences removed,
/// the last lines kept.
pub fn ci_log_excerpt(log: &str) -> String {
    cap_tail(&strip_controls(log), MAX_LOG_LINES, MAX_LOG_CHARS)
}
