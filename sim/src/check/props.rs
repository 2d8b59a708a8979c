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
        /// Every `always` property, with the [`PropertyId`] it checks.
        pub const ALWAYS: &[(PropertyId, &str)] = &[$((PropertyId::$id, $label)),*];
        fn always_properties() -> Vec<Property<CheckModel>> {
            vec![$(Property::always($label, $f)),*]
        }
    };
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
}

fn shows(s: &State, d: DisplayStatus) -> bool {
    s.slots
        .iter()
        .filter_map(|slot| slot.rec.as_deref())
        .any(|r| display_status(&r.lifecycle) == d)
}

macro_rules! displays {
    ($($f:ident => $d:ident, $idx:literal, $label:literal;)*) => {
        $(fn $f(m: &CheckModel, s: &State) -> bool {
            m.first_time($idx, || shows(s, DisplayStatus::$d))
        })*
        fn display_properties() -> Vec<Property<CheckModel>> {
            vec![$(Property::sometimes($label, $f)),*]
        }
    };
}

displays! {
    d_spawning => Spawning, 0, "reach status spawning";
    d_working => Working, 1, "reach status working";
    d_detecting => Detecting, 2, "reach status detecting";
    d_pr_open => PrOpen, 3, "reach status pr_open";
    d_ci_failed => CiFailed, 4, "reach status ci_failed";
    d_review_pending => ReviewPending, 5, "reach status review_pending";
    d_changes_requested => ChangesRequested, 6, "reach status changes_requested";
    d_approved => Approved, 7, "reach status approved";
    d_mergeable => Mergeable, 8, "reach status mergeable";
    d_merged => Merged, 9, "reach status merged";
    d_cleanup => Cleanup, 10, "reach status cleanup";
    d_needs_input => NeedsInput, 11, "reach status needs_input";
    d_stuck => Stuck, 12, "reach status stuck";
    d_errored => Errored, 13, "reach status errored";
    d_killed => Killed, 14, "reach status killed";
    d_idle => Idle, 15, "reach status idle";
}

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
        .filter_map(|slot| slot.rec.as_deref())
        .any(|r| r.policy.get(k).is_some())
}

macro_rules! reactions {
    ($($f:ident => $k:ident, $idx:literal, $label:literal;)*) => {
        $(fn $f(m: &CheckModel, s: &State) -> bool {
            m.first_time($idx, || dispatched(s, ReactionKey::$k))
        })*
        fn reaction_properties() -> Vec<Property<CheckModel>> {
            vec![$(Property::sometimes($label, $f)),*]
        }
    };
}

reactions! {
    r_ci_failed => CiFailed, 16, "reach reaction ci-failed";
    r_changes_requested => ChangesRequested, 17, "reach reaction changes-requested";
    r_bugbot => BugbotComments, 18, "reach reaction bugbot-comments";
    r_conflicts => MergeConflicts, 19, "reach reaction merge-conflicts";
    r_idle => AgentIdle, 20, "reach reaction agent-idle";
    r_green => ApprovedAndGreen, 21, "reach reaction approved-and-green";
    r_stuck => AgentStuck, 22, "reach reaction agent-stuck";
    r_needs_input => AgentNeedsInput, 23, "reach reaction agent-needs-input";
    r_exited => AgentExited, 24, "reach reaction agent-exited";
    r_closed => PrClosed, 25, "reach reaction pr-closed";
    r_complete => AllComplete, 26, "reach reaction all-complete";
}

fn escalated_by_retries(m: &CheckModel, s: &State) -> bool {
    m.first_time(27, || retries_escalated(m, s))
}

fn retries_escalated(m: &CheckModel, s: &State) -> bool {
    s.slots
        .iter()
        .filter_map(|slot| slot.rec.as_deref())
        .any(|r| {
            let table = m.cfg.reactions_for(&r.project_id);
            r.policy
                .iter()
                .any(|(k, t)| t.escalated && table.get(k).retries.is_some_and(|n| t.attempts > n))
        })
}

fn escalated_by_duration(m: &CheckModel, s: &State) -> bool {
    m.first_time(28, || duration_escalated(m, s))
}

fn duration_escalated(m: &CheckModel, s: &State) -> bool {
    s.slots
        .iter()
        .filter_map(|slot| slot.rec.as_deref())
        .any(|r| {
            let table = m.cfg.reactions_for(&r.project_id);
            r.policy
                .iter()
                .any(|(k, t)| t.escalated && table.get(k).retries.is_none_or(|n| t.attempts <= n))
        })
}

fn restored(m: &CheckModel, s: &State) -> bool {
    m.first_time(29, || s.slots.iter().any(|slot| slot.restored))
}

fn cleanup_skipped_dirty(m: &CheckModel, s: &State) -> bool {
    m.first_time(30, || s.slots.iter().any(|slot| slot.cleanup_skipped))
}

/// Number of `sometimes` properties.
pub const SOMETIMES: usize = 31;

/// Every property the checker reports: the `always` ones first.
pub fn properties() -> Vec<Property<CheckModel>> {
    let mut all = always_properties();
    all.extend(display_properties());
    all.extend(reaction_properties());
    all.push(Property::sometimes(
        "reach escalation by retries",
        escalated_by_retries,
    ));
    all.push(Property::sometimes(
        "reach escalation by duration",
        escalated_by_duration,
    ));
    all.push(Property::sometimes("reach restore", restored));
    all.push(Property::sometimes(
        "reach cleanup skipping a dirty workspace",
        cleanup_skipped_dirty,
    ));
    all
}
