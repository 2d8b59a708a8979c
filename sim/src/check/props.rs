//! The checker's properties: every SPEC §7 property as its own `always` (one
//! generated fn per [`PropertyId`], since property fns cannot capture), and
//! the SPEC reachability list as `sometimes`, so a run also proves the model
//! is not vacuous.

use super::model::{CheckModel, State};
use ao_core::domain::{display_status, DisplayStatus, ReactionKey};
use ao_core::invariants::PropertyId;
use stateright::Property;

macro_rules! always {
    ($($f:ident => $id:ident, $label:literal;)*) => {
        $(fn $f(_: &CheckModel, s: &State) -> bool { s.holds(PropertyId::$id) })*
        /// Every SPEC `always` property, with the [`PropertyId`] it checks.
        pub const ALWAYS: &[(PropertyId, &str)] = &[$((PropertyId::$id, $label)),*];
        fn always_properties() -> Vec<Property<CheckModel>> {
            vec![
                $(Property::always($label, $f),)*
                Property::always(INTERFACE, |_, s: &State| s.interface_holds()),
            ]
        }
    };
}

/// The composition's interface, a property of the model rather than of the
/// SPEC: an observation changes what the session manager can see of a
/// record ([`super::model::SmView`]) only as the manage profile's
/// observations can (so checking the two profiles apart covers their product).
pub const INTERFACE: &str = "interface observations_change_the_sm_view_as_manage_does";

/// Every `always` a run checks, as (its bit in a broken state's mask, its name).
pub fn always_bits() -> impl Iterator<Item = (u32, &'static str)> {
    ALWAYS
        .iter()
        .map(|(id, name)| (1u32 << (*id as u32), *name))
        .chain(std::iter::once((super::model::INTERFACE_BIT, INTERFACE)))
}

always! {
    p01 => DerivedDisplay, "7.1 derived_display";
    p02 => OneAuthorityForDeath, "7.2 one_authority_for_death";
    p03 => FailedProbeIsNotDeath, "7.3 failed_probe_is_not_death";
    p04 => TerminalIsFinal, "7.4 terminal_is_final";
    p05 => FailedFetchChangesNothing, "7.5 failed_fetch_changes_nothing";
    p06 => Revision, "7.6 revision";
    p07 => NoDataLoss, "7.7 no_data_loss";
    p08 => NoLeaks, "7.8 no_leaks";
    p09 => OneAgentPerSession, "7.9 one_agent_per_session";
    p10 => NoStaleReaction, "7.10 no_stale_reaction";
    p11 => Budgets, "7.11 budgets";
    p12 => NoNotificationStorm, "7.12 no_notification_storm";
    p13 => StickyActivity, "7.13 sticky_activity";
    p14 => AxisIsolation, "7.14 axis_isolation";
    p15 => UntrustedText, "7.15 untrusted_text";
    p16 => QuarantineEnds, "7.16 quarantine_ends";
    p17 => DeathConfirmed, "7.17 death_confirmed";
    p18 => DurationEscalation, "7.18 duration_escalation";
    p19 => OperationsFinish, "7.19 operations_finish";
    p20 => StartupGrace, "7.20 startup_grace";
    p21 => EscalationMonotone, "7.21 escalation_monotone";
    p22 => OnlyItsOwn, "7.22 only_its_own";
}

fn shows(s: &State, d: DisplayStatus) -> bool {
    s.slots
        .iter()
        .filter_map(|slot| slot.rec())
        .any(|r| display_status(&r.lifecycle) == d)
}

/// A reachability target's condition.
pub type Reach = fn(&CheckModel, &State) -> bool;

/// The SPEC reachability list, each checked as `sometimes` (so a clean run
/// also shows the model is not vacuous).
pub const REACH: &[(&str, Reach)] = &[
    ("reach status spawning", |_, s| {
        shows(s, DisplayStatus::Spawning)
    }),
    ("reach status working", |_, s| {
        shows(s, DisplayStatus::Working)
    }),
    ("reach status detecting", |_, s| {
        shows(s, DisplayStatus::Detecting)
    }),
    ("reach status pr_open", |_, s| {
        shows(s, DisplayStatus::PrOpen)
    }),
    ("reach status ci_failed", |_, s| {
        shows(s, DisplayStatus::CiFailed)
    }),
    ("reach status review_pending", |_, s| {
        shows(s, DisplayStatus::ReviewPending)
    }),
    ("reach status changes_requested", |_, s| {
        shows(s, DisplayStatus::ChangesRequested)
    }),
    ("reach status approved", |_, s| {
        shows(s, DisplayStatus::Approved)
    }),
    ("reach status mergeable", |_, s| {
        shows(s, DisplayStatus::Mergeable)
    }),
    ("reach status merged", |_, s| {
        shows(s, DisplayStatus::Merged)
    }),
    ("reach status cleanup", |_, s| {
        shows(s, DisplayStatus::Cleanup)
    }),
    ("reach status needs_input", |_, s| {
        shows(s, DisplayStatus::NeedsInput)
    }),
    ("reach status stuck", |_, s| shows(s, DisplayStatus::Stuck)),
    ("reach status errored", |_, s| {
        shows(s, DisplayStatus::Errored)
    }),
    ("reach status killed", |_, s| {
        shows(s, DisplayStatus::Killed)
    }),
    ("reach status idle", |_, s| shows(s, DisplayStatus::Idle)),
    ("reach reaction ci-failed", |_, s| {
        dispatched(s, ReactionKey::CiFailed)
    }),
    ("reach reaction changes-requested", |_, s| {
        dispatched(s, ReactionKey::ChangesRequested)
    }),
    ("reach reaction bugbot-comments", |_, s| {
        dispatched(s, ReactionKey::BugbotComments)
    }),
    ("reach reaction merge-conflicts", |_, s| {
        dispatched(s, ReactionKey::MergeConflicts)
    }),
    ("reach reaction agent-idle", |_, s| {
        dispatched(s, ReactionKey::AgentIdle)
    }),
    ("reach reaction approved-and-green", |_, s| {
        dispatched(s, ReactionKey::ApprovedAndGreen)
    }),
    ("reach reaction agent-stuck", |_, s| {
        dispatched(s, ReactionKey::AgentStuck)
    }),
    ("reach reaction agent-needs-input", |_, s| {
        dispatched(s, ReactionKey::AgentNeedsInput)
    }),
    ("reach reaction agent-exited", |_, s| {
        dispatched(s, ReactionKey::AgentExited)
    }),
    ("reach reaction pr-closed", |_, s| {
        dispatched(s, ReactionKey::PrClosed)
    }),
    ("reach reaction all-complete", |_, s| {
        dispatched(s, ReactionKey::AllComplete)
    }),
    ("reach escalation by retries", retries_escalated),
    ("reach escalation by duration", duration_escalated),
    ("reach restore", |_, s| {
        s.slots.iter().any(|slot| slot.restored)
    }),
    ("reach cleanup skipping a dirty workspace", |_, s| {
        s.slots.iter().any(|slot| slot.cleanup_skipped)
    }),
];

/// Display statuses left out of the reachability list, and why.
pub const UNREACHABLE_BY_DESIGN: &[(&str, &str)] = &[
    (
        "done",
        "nothing in the core writes the `done` session state",
    ),
    (
        "terminated",
        "every terminal write carries a reason with its own display (killed, cleanup, errored)",
    ),
];

fn dispatched(s: &State, k: ReactionKey) -> bool {
    s.slots
        .iter()
        .filter_map(|slot| slot.rec())
        .any(|r| r.policy.get(k).is_some())
}

fn retries_escalated(m: &CheckModel, s: &State) -> bool {
    s.slots.iter().filter_map(|slot| slot.rec()).any(|r| {
        let table = m.cfg.reactions_for(&r.project_id);
        r.policy
            .iter()
            .any(|(k, t)| t.escalated && table.get(k).retries.is_some_and(|n| t.attempts > n))
    })
}

fn duration_escalated(m: &CheckModel, s: &State) -> bool {
    s.slots.iter().filter_map(|slot| slot.rec()).any(|r| {
        let table = m.cfg.reactions_for(&r.project_id);
        r.policy
            .iter()
            .any(|(k, t)| t.escalated && table.get(k).retries.is_none_or(|n| t.attempts <= n))
    })
}

/// The one `sometimes` the checker runs for the whole reachability list:
/// stateright looks every property up by name on every state, so one
/// property for 31 targets saves most of that; the targets' own verdicts
/// come from the run's flags ([`CheckModel::reached`]).
pub const REACH_ALL: &str = "reach every target";

/// The one `always` standing for every SPEC property in a run that stops at
/// the first violation (the same lookup saving as [`REACH_ALL`]): the state
/// that breaks it records which properties broke.
pub const SPEC_ALL: &str = "every SPEC property";

/// The properties a check runs: every `always` (merged into [`SPEC_ALL`] when
/// `merged`), then the reachability list as one `sometimes` ([`REACH_ALL`]).
pub fn properties(merged: bool) -> Vec<Property<CheckModel>> {
    let mut all = if merged {
        vec![Property::always(SPEC_ALL, |_, s: &State| {
            s.broken.is_none()
        })]
    } else {
        always_properties()
    };
    all.push(Property::sometimes(REACH_ALL, reach_all));
    all
}

/// The properties the explorer shows: every `always`, then each reachability
/// target as its own `sometimes`.
pub fn explorer_properties() -> Vec<Property<CheckModel>> {
    let mut all = always_properties();
    all.extend(
        REACH
            .iter()
            .map(|(label, cond)| Property::sometimes(label, *cond)),
    );
    all
}

/// Marks every target `s` reaches; true once, when the last one is reached.
fn reach_all(m: &CheckModel, s: &State) -> bool {
    match &m.reached {
        Some(flags) => flags.mark(|i| REACH[i].1(m, s)),
        None => REACH.iter().all(|(_, cond)| cond(m, s)),
    }
}
