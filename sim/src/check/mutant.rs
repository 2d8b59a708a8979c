//! Deliberately wrong supervisors. Most [`Mutant`]s wrap the real core (they
//! are applied to the decision, the record or the fakes AFTER the real
//! `lcm::step` ran); the timer ones plant a defect in the core's own logic
//! ([`ao_core::defects`]). Each breaks one property the way real supervisors
//! shipped it. The checker must find every one (see `tests/check.rs`), which shows the
//! properties and the model are not vacuous.

use ao_core::config::Config;
use ao_core::decide;
use ao_core::defects::Defect;
use ao_core::domain::{PrState, Probe};
use ao_core::domain::{
    ReactionAction, ReactionKey, SessionAxis, SessionReason, SessionRecord, SessionState,
};
use ao_core::lcm::CiSummary;
use ao_core::lcm::{
    reaction_for, Decision, Effect, Event, Input, Patch, QuarantineChange, ScmObservation,
};

/// One deliberately wrong variant of the supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mutant {
    /// A failed probe is read as death (the session is terminated).
    FailedProbeIsDeath,
    /// One dead observation terminates (no confirmation).
    OneDeadProbeTerminates,
    /// A CI flap (failing -> pending) resets the ci-failed retry budget.
    CiFlapResetsBudget,
    /// The workspace fake deletes a dirty workspace anyway (and records it).
    DirtyWorkspaceDestroyed,
    /// The store applies a write decided against a stale revision.
    StaleWriteApplied,
    /// A reaction is dispatched after the session left the state that caused it.
    StaleReaction,
    /// A restart forgets escalation state (the policy is reset on recovery).
    RestartForgetsEscalation,
    /// A failed restore leaves the session half-open (its undo is not recorded).
    RestoreHalfOpen,
    /// The runtime and workspace fakes destroy whatever holds a name, without
    /// checking that it is the session's (the bug that killed another agent).
    DestroysForeign,
    /// A create that met a name already taken is taken for a creation: the
    /// session adopts something that is not its own.
    AdoptsForeign,
    /// The core ignores the startup grace (a planted core defect).
    IgnoredGrace,
    /// The core restarts a quarantine episode's clock when the evidence
    /// changes (a planted core defect).
    EpisodeClockReset,
    /// The core lets `stuck` fall back to `detecting` (a planted core defect).
    StuckFallsBack,
    /// The core fires a duration escalation a tick late (a planted core defect).
    EscalationLate,
}

impl Mutant {
    /// Every mutant.
    pub const ALL: [Mutant; 14] = [
        Mutant::FailedProbeIsDeath,
        Mutant::OneDeadProbeTerminates,
        Mutant::CiFlapResetsBudget,
        Mutant::DirtyWorkspaceDestroyed,
        Mutant::StaleWriteApplied,
        Mutant::StaleReaction,
        Mutant::RestartForgetsEscalation,
        Mutant::RestoreHalfOpen,
        Mutant::DestroysForeign,
        Mutant::AdoptsForeign,
        Mutant::IgnoredGrace,
        Mutant::EpisodeClockReset,
        Mutant::StuckFallsBack,
        Mutant::EscalationLate,
    ];

    /// Kebab-case name (CLI and reports).
    pub fn name(self) -> &'static str {
        match self {
            Mutant::FailedProbeIsDeath => "failed-probe-is-death",
            Mutant::OneDeadProbeTerminates => "one-dead-probe-terminates",
            Mutant::CiFlapResetsBudget => "ci-flap-resets-budget",
            Mutant::DirtyWorkspaceDestroyed => "dirty-workspace-destroyed",
            Mutant::StaleWriteApplied => "stale-write-applied",
            Mutant::StaleReaction => "stale-reaction",
            Mutant::RestartForgetsEscalation => "restart-forgets-escalation",
            Mutant::RestoreHalfOpen => "restore-half-open",
            Mutant::DestroysForeign => "destroys-foreign",
            Mutant::AdoptsForeign => "adopts-foreign",
            Mutant::IgnoredGrace => "ignored-grace",
            Mutant::EpisodeClockReset => "episode-clock-reset",
            Mutant::StuckFallsBack => "stuck-falls-back",
            Mutant::EscalationLate => "escalation-late",
        }
    }

    /// The core defect this variant plants (`None`: the variant wraps the
    /// real core, or changes a fake).
    pub fn defect(self) -> Option<Defect> {
        match self {
            Mutant::IgnoredGrace => Some(Defect::IgnoredGrace),
            Mutant::EpisodeClockReset => Some(Defect::EpisodeClockReset),
            Mutant::StuckFallsBack => Some(Defect::StuckFallsBack),
            Mutant::EscalationLate => Some(Defect::EscalationLate),
            _ => None,
        }
    }

    /// Parses a [`Mutant::name`].
    pub fn parse(name: &str) -> Option<Mutant> {
        Mutant::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The patch of a decision, created (against `rec`) when the step wrote nothing.
fn patch_mut<'a>(d: &'a mut Decision, rec: &SessionRecord, input: &Input) -> Option<&'a mut Patch> {
    let pos = d
        .effects
        .iter()
        .position(|e| matches!(e, Effect::Persist(_)));
    let pos = match pos {
        Some(p) => p,
        None => {
            d.effects.insert(
                0,
                Effect::Persist(Patch {
                    expected_revision: rec.revision,
                    at: input.at,
                    session: None,
                    pr: None,
                    runtime: None,
                    activity: None,
                    detecting: QuarantineChange::Leave,
                    metadata: None,
                    policy: None,
                }),
            );
            0
        }
    };
    match &mut d.effects[pos] {
        Effect::Persist(p) => Some(p),
        _ => None,
    }
}

/// Applies a decision-level mutant to what the real step decided.
pub fn mutate_decision(
    m: Mutant,
    cfg: &Config,
    rec: &SessionRecord,
    input: &Input,
    d: &mut Decision,
) {
    let live = !rec.is_terminal() && rec.metadata.spawned_at.is_some();
    match (m, &input.event) {
        (Mutant::FailedProbeIsDeath, Event::Runtime(obs))
            if live && (obs.runtime == Probe::Failed || obs.process == Probe::Failed) =>
        {
            if let Some(p) = patch_mut(d, rec, input) {
                p.session = Some(SessionAxis {
                    state: SessionState::Terminated,
                    reason: SessionReason::ProbeFailure,
                });
                if rec.lifecycle.detecting.is_some() {
                    p.detecting = QuarantineChange::Clear;
                }
            }
        }
        (Mutant::OneDeadProbeTerminates, Event::Runtime(obs))
            if live
                && obs.runtime == Probe::Dead
                && obs.process == Probe::Dead
                && !decide::recent_activity(&rec.lifecycle.activity, input.at, &cfg.thresholds) =>
        {
            if let Some(p) = patch_mut(d, rec, input) {
                p.session = Some(SessionAxis {
                    state: SessionState::Terminated,
                    reason: SessionReason::RuntimeLost,
                });
                p.detecting = if rec.lifecycle.detecting.is_some() {
                    QuarantineChange::Clear
                } else {
                    QuarantineChange::Leave
                };
            }
        }
        (Mutant::CiFlapResetsBudget, Event::Scm(ScmObservation::Fetched(f)))
            if f.state == PrState::Open && f.ci != CiSummary::Failing =>
        {
            let current = d.patch().and_then(|p| p.policy.as_deref().copied());
            let mut policy = current.unwrap_or(rec.policy);
            if policy.get(ReactionKey::CiFailed).is_some() {
                *policy.slot(ReactionKey::CiFailed) = None;
                if let Some(p) = patch_mut(d, rec, input) {
                    p.policy = Some(Box::new(policy));
                }
            }
        }
        (Mutant::StaleReaction, _) if !rec.is_terminal() => {
            let l = &rec.lifecycle;
            let Some(before) = reaction_for(rec.kind, l.session, &l.pr) else {
                return;
            };
            let table = cfg.reactions_for(&rec.project_id);
            if table.get(before).action != ReactionAction::SendToAgent {
                return;
            }
            let mut after = rec.clone();
            if let Some(p) = d.patch() {
                if after.apply(p).is_err() {
                    return;
                }
            }
            let la = &after.lifecycle;
            if reaction_for(after.kind, la.session, &la.pr) != Some(before) {
                d.effects.push(Effect::SendToAgent {
                    session: rec.id.clone(),
                    reaction: before,
                    message: table.get(before).message.clone(),
                });
            }
        }
        _ => {}
    }
}
