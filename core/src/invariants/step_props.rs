//! Properties of one step: (before, input, decision, after).

use super::{PropertyId, Violation};
use crate::config::Config;
use crate::decide::{self, quarantine, Evidence};
use crate::domain::*;
use crate::lcm::sanitize::is_terminal_safe;
use crate::lcm::{reaction_for, Decision, Effect, Event, Input, NotificationKind, ScmObservation};
use crate::timers;

/// Everything a step property may look at.
#[derive(Clone, Copy, Debug)]
pub struct StepView<'a> {
    /// The configuration the step ran with.
    pub cfg: &'a Config,
    /// The record before.
    pub before: &'a SessionRecord,
    /// The input.
    pub input: &'a Input,
    /// What the step decided.
    pub decision: &'a Decision,
    /// The record after applying the decision's patch (== before when none).
    pub after: &'a SessionRecord,
}

type Check = fn(&StepView<'_>) -> Result<(), String>;

/// Every step property with its predicate, in SPEC order.
pub const STEP_PROPERTIES: &[(PropertyId, Check)] = &[
    (PropertyId::DerivedDisplay, derived_display),
    (PropertyId::OneAuthorityForDeath, one_authority_for_death),
    (PropertyId::FailedProbeIsNotDeath, failed_probe_is_not_death),
    (PropertyId::TerminalIsFinal, terminal_is_final),
    (
        PropertyId::FailedFetchChangesNothing,
        failed_fetch_changes_nothing,
    ),
    (PropertyId::Revision, revision),
    (PropertyId::NoStaleReaction, no_stale_reaction),
    (PropertyId::Budgets, budgets),
    (PropertyId::NoNotificationStorm, no_notification_storm),
    (PropertyId::StickyActivity, sticky_activity),
    (PropertyId::AxisIsolation, axis_isolation),
    (PropertyId::UntrustedText, untrusted_text),
    (PropertyId::QuarantineEnds, quarantine_ends),
    (PropertyId::DeathConfirmed, death_confirmed),
    (PropertyId::DurationEscalation, duration_escalation),
    (PropertyId::StartupGrace, startup_grace),
    (PropertyId::EscalationMonotone, escalation_monotone),
];

/// Checks every step property; the first violation wins.
pub fn check_step(v: &StepView<'_>) -> Result<(), Violation> {
    for (property, check) in STEP_PROPERTIES {
        check(v).map_err(|detail| Violation {
            property: *property,
            detail,
        })?;
    }
    Ok(())
}

fn fail(cond: bool, detail: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Err(detail())
    } else {
        Ok(())
    }
}

fn state(r: &SessionRecord) -> SessionState {
    r.lifecycle.session.state
}

/// The display is a function of the session and PR axes alone: scrubbing
/// everything else (metadata, policy, revision, times, activity) cannot change it.
fn derived_display(v: &StepView<'_>) -> Result<(), String> {
    let l = &v.after.lifecycle;
    let scrubbed = Lifecycle {
        session: l.session,
        pr: PrAxis {
            url: None,
            number: None,
            ..l.pr.clone()
        },
        ..Lifecycle::seeded()
    };
    let (a, b) = (display_status(l), display_status(&scrubbed));
    fail(a != b, || {
        format!("display {a} depends on more than the canonical axes ({b})")
    })
}

/// The death verdict the input would confirm, judged from the record before.
fn is_confirmed_death(v: &StepView<'_>) -> bool {
    if !is_quiet_death_observation(v) {
        return false;
    }
    let t = &v.cfg.thresholds;
    let fp = death_fingerprint();
    v.before
        .lifecycle
        .detecting
        .is_some_and(|q| q.evidence_fingerprint == fp && q.attempts + 1 >= t.death_confirmations)
}

/// The input is a "runtime dead, process dead, no recent activity" observation
/// (judged against the record before).
fn is_quiet_death_observation(v: &StepView<'_>) -> bool {
    let Event::Runtime(obs) = &v.input.event else {
        return false;
    };
    obs.runtime == Probe::Dead
        && obs.process == Probe::Dead
        && !decide::recent_activity(&v.before.lifecycle.activity, v.input.at, &v.cfg.thresholds)
}

fn death_fingerprint() -> Fingerprint {
    Evidence {
        runtime: Probe::Dead,
        process: Probe::Dead,
        recent_activity: false,
        reason: SessionReason::RuntimeLost,
    }
    .fingerprint()
}

fn one_authority_for_death(v: &StepView<'_>) -> Result<(), String> {
    let became = !v.before.is_terminal() && state(v.after) == SessionState::Terminated;
    let explicit = matches!(v.input.event, Event::KillRequested { .. });
    fail(became && !explicit && !is_confirmed_death(v), || {
        format!(
            "terminated by {:?} without kill or confirmed death",
            v.input.event
        )
    })
}

fn failed_probe_is_not_death(v: &StepView<'_>) -> Result<(), String> {
    let Event::Runtime(obs) = &v.input.event else {
        return Ok(());
    };
    let failed = obs.runtime == Probe::Failed || obs.process == Probe::Failed;
    fail(
        failed && !v.before.is_terminal() && v.after.is_terminal(),
        || {
            format!(
                "probe {}/{} terminated the session",
                obs.runtime, obs.process
            )
        },
    )
}

fn terminal_is_final(v: &StepView<'_>) -> Result<(), String> {
    let reopen = matches!(v.input.event, Event::Reopened { .. });
    fail(
        v.before.is_terminal()
            && !reopen
            && v.after.lifecycle.session != v.before.lifecycle.session,
        || format!("terminal session axis changed by {:?}", v.input.event),
    )
}

fn failed_fetch_changes_nothing(v: &StepView<'_>) -> Result<(), String> {
    let failed = matches!(v.input.event, Event::Scm(ScmObservation::FetchFailed));
    fail(
        failed && (!v.decision.effects.is_empty() || v.after != v.before),
        || "a failed fetch produced effects or a write".into(),
    )
}

fn revision(v: &StepView<'_>) -> Result<(), String> {
    match v.decision.patch() {
        None => fail(v.after != v.before, || {
            "record changed without a write".into()
        }),
        Some(p) => {
            if let Err(stale) = p.admitted_at(v.before.revision) {
                return Err(format!("a patch the step just decided is {stale}"));
            }
            if v.after.revision != v.before.revision + 1 {
                return Err("revision did not advance by exactly one".into());
            }
            if v.after.same_facts(v.before) {
                return Err("a write that changes nothing".into());
            }
            fail(p.admitted_at(v.before.revision + 1).is_ok(), || {
                "a stale patch was accepted".into()
            })
        }
    }
}

fn no_stale_reaction(v: &StepView<'_>) -> Result<(), String> {
    let l = &v.after.lifecycle;
    let maps = reaction_for(v.after.kind, l.session, &l.pr);
    for e in &v.decision.effects {
        if let Effect::SendToAgent {
            session, reaction, ..
        } = e
        {
            if v.after.is_terminal() || maps != Some(*reaction) || *session != v.after.id {
                return Err(format!(
                    "send {reaction} to {session} while it maps to {maps:?} in state {}",
                    l.session.state
                ));
            }
        }
    }
    Ok(())
}

fn budgets(v: &StepView<'_>) -> Result<(), String> {
    let table = v.cfg.reactions_for(&v.after.project_id);
    for (key, t) in v.after.policy.iter() {
        if let Some(r) = table.get(key).retries {
            if table.get(key).action == ReactionAction::SendToAgent && t.attempts > r + 1 {
                return Err(format!(
                    "{key}: {} attempts exceed retries {r} + 1",
                    t.attempts
                ));
            }
        }
    }
    for key in <ReactionKey as crate::WireEnum>::ALL {
        let was_escalated = v.before.policy.get(*key).is_some_and(|t| t.escalated);
        let still_escalated = v.after.policy.get(*key).is_some_and(|t| t.escalated);
        let sends = v
            .decision
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::SendToAgent { reaction, .. } if reaction == key));
        if was_escalated && still_escalated && sends.count() > 0 {
            return Err(format!("{key}: escalated reaction sent to the agent"));
        }
        let notices = escalations(v.decision, *key);
        if notices > 1 || (notices == 1 && was_escalated) {
            return Err(format!(
                "{key}: {notices} escalation notice(s), already escalated: {was_escalated}"
            ));
        }
    }
    Ok(())
}

fn escalations(d: &Decision, key: ReactionKey) -> usize {
    d.effects
        .iter()
        .filter(|e| matches!(e, Effect::Notify(n) if n.kind == NotificationKind::Escalated && n.reaction == key))
        .count()
}

fn no_notification_storm(v: &StepView<'_>) -> Result<(), String> {
    for e in &v.decision.effects {
        if let Effect::Notify(n) = e {
            if n.kind == NotificationKind::Reaction && v.before.policy.get(n.reaction).is_some() {
                return Err(format!(
                    "{} notified again for an open incident",
                    n.reaction
                ));
            }
        }
    }
    // Same evidence again may only advance the quarantine, never move it back.
    let Event::Runtime(obs) = &v.input.event else {
        return Ok(());
    };
    let Some(q) = v.before.lifecycle.detecting else {
        return Ok(());
    };
    let t = &v.cfg.thresholds;
    let recent = decide::recent_activity(&v.before.lifecycle.activity, v.input.at, t);
    let Some(reason) = decide::liveness(obs.runtime, obs.process, recent).reason() else {
        return Ok(());
    };
    let same = Evidence {
        runtime: obs.runtime,
        process: obs.process,
        recent_activity: recent,
        reason,
    }
    .fingerprint()
        == q.evidence_fingerprint;
    let (from, to) = (state(v.before), state(v.after));
    let allowed = match from {
        SessionState::Detecting => matches!(
            to,
            SessionState::Detecting | SessionState::Stuck | SessionState::Terminated
        ),
        SessionState::Stuck => matches!(to, SessionState::Stuck | SessionState::Terminated),
        _ => true,
    };
    fail(same && !allowed, || {
        format!("same evidence moved {from} back to {to}")
    })
}

fn sticky_activity(v: &StepView<'_>) -> Result<(), String> {
    let time_alone = matches!(
        v.input.event,
        Event::Tick | Event::Runtime(_) | Event::Scm(_)
    );
    let (a, b) = (&v.before.lifecycle.activity, &v.after.lifecycle.activity);
    fail(time_alone && a != b, || {
        format!("activity {} changed by {:?}", a.state, v.input.event)
    })?;
    fail(
        a.state.is_sticky() && !decide::recent_activity(a, v.input.at, &v.cfg.thresholds),
        || format!("sticky activity {} aged out", a.state),
    )
}

fn axis_isolation(v: &StepView<'_>) -> Result<(), String> {
    let (b, a) = (&v.before.lifecycle, &v.after.lifecycle);
    match &v.input.event {
        Event::Runtime(_) => fail(a.pr != b.pr || a.activity != b.activity, || {
            "a runtime probe wrote the PR or activity axis".into()
        }),
        Event::Activity(_) => fail(a.pr != b.pr || a.runtime != b.runtime, || {
            "an activity signal wrote the PR or runtime axis".into()
        }),
        Event::Scm(ScmObservation::Fetched(f)) => {
            fail(a.runtime != b.runtime || a.activity != b.activity, || {
                "an SCM fact wrote the runtime or activity axis".into()
            })?;
            fail(f.state == PrState::Open && a.session != b.session, || {
                "an open PR wrote the session axis".into()
            })
        }
        _ => Ok(()),
    }
}

fn untrusted_text(v: &StepView<'_>) -> Result<(), String> {
    for e in &v.decision.effects {
        if let Effect::SendToAgent { message, .. } = e {
            if !is_terminal_safe(message) {
                return Err(format!("message carries control characters: {message:?}"));
            }
        }
    }
    Ok(())
}

/// Enforced at the first tick or probe at or after a bound (an SCM fact or a
/// stale signal may not write the session axis, so it cannot end a quarantine).
fn quarantine_ends(v: &StepView<'_>) -> Result<(), String> {
    // The bound is measured from the episode's start, kept for the whole
    // episode (SPEC §4.2): a clock restarted by changed evidence would keep a
    // quarantine whose evidence keeps changing open for ever.
    if let (Some(was), Some(is)) = (v.before.lifecycle.detecting, v.after.lifecycle.detecting) {
        fail(is.started_at != was.started_at, || {
            format!(
                "the quarantine episode's clock moved from {:?} to {:?}",
                was.started_at, is.started_at
            )
        })?;
    }
    if !matches!(v.input.event, Event::Tick | Event::Runtime(_)) {
        return Ok(());
    }
    let l = &v.after.lifecycle;
    match l.detecting {
        Some(q) if l.session.state == SessionState::Detecting => fail(
            quarantine::expired(&q, v.input.at, &v.cfg.thresholds),
            || {
                format!(
                    "still detecting after {} attempts since {:?}",
                    q.attempts, q.started_at
                )
            },
        ),
        _ => Ok(()),
    }
}

fn death_confirmed(v: &StepView<'_>) -> Result<(), String> {
    if v.before.is_terminal()
        || v.before.metadata.spawned_at.is_none()
        || !is_quiet_death_observation(v)
    {
        return Ok(());
    }
    let confirmed = is_confirmed_death(v);
    let terminated = state(v.after) == SessionState::Terminated;
    fail(confirmed != terminated, || {
        format!("dead observation: confirmed={confirmed} but terminated={terminated}")
    })
}

fn duration_escalation(v: &StepView<'_>) -> Result<(), String> {
    if !matches!(v.input.event, Event::Tick) {
        return Ok(());
    }
    let Some(key) = v.after.policy.mapped else {
        return Ok(());
    };
    let cfg = v.cfg.reactions_for(&v.after.project_id).get(key);
    let (Some(after), Some(t)) = (cfg.escalate_after, v.after.policy.get(key)) else {
        return Ok(());
    };
    let due = cfg.enabled
        && cfg.action == ReactionAction::SendToAgent
        && timers::escalation_due(v.input.at, t.first_attempt_at, after);
    fail(due && !t.escalated, || {
        format!("{key} past its deadline at a tick but not escalated")
    })
}

/// SPEC §7.20: while a spawned session is `not_started` and younger than
/// `spawn_grace`, "runtime alive, process dead or indeterminate" means the
/// agent has not started yet: the session axis and the quarantine stay.
fn startup_grace(v: &StepView<'_>) -> Result<(), String> {
    let Event::Runtime(obs) = &v.input.event else {
        return Ok(());
    };
    let Some(spawned_at) = v.before.metadata.spawned_at else {
        return Ok(());
    };
    let not_started_yet = matches!(obs.process, Probe::Dead | Probe::Indeterminate);
    let in_grace = timers::in_startup_grace(v.input.at, spawned_at, &v.cfg.thresholds);
    let guarded = state(v.before) == SessionState::NotStarted
        && in_grace
        && obs.runtime == Probe::Alive
        && not_started_yet;
    let (b, a) = (&v.before.lifecycle, &v.after.lifecycle);
    fail(
        guarded && (a.session != b.session || a.detecting != b.detecting),
        || {
            format!(
                "probe alive/{} inside the startup grace moved not_started to {}",
                obs.process, a.session.state
            )
        },
    )
}

/// SPEC §7.21: a session that liveness escalated to `stuck` leaves it only by
/// a healthy runtime verdict, a confirmed death, a PR that merges or closes,
/// or an explicit command; nothing ever moves it back to `detecting`.
fn escalation_monotone(v: &StepView<'_>) -> Result<(), String> {
    let b = &v.before.lifecycle.session;
    if b.state != SessionState::Stuck || !b.reason.is_liveness_owned() {
        return Ok(());
    }
    let to = state(v.after);
    if to == SessionState::Stuck {
        return Ok(());
    }
    let allowed = match &v.input.event {
        // The SPEC §4.1 table's healthy rows, read off the probes themselves.
        Event::Runtime(obs) => {
            let healthy = obs.runtime == Probe::Alive
                && matches!(obs.process, Probe::Alive | Probe::Indeterminate);
            (healthy && to != SessionState::Detecting)
                || (to == SessionState::Terminated && is_confirmed_death(v))
        }
        Event::Scm(ScmObservation::Fetched(f)) => {
            matches!(f.state, PrState::Merged | PrState::Closed)
        }
        Event::KillRequested { .. } | Event::Reopened { .. } => true,
        _ => false,
    };
    fail(!allowed, || {
        format!("stuck/{} left to {to} by {:?}", b.reason, v.input.event)
    })
}
