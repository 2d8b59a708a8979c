//! SPEC §7 as code: every property is a named plain predicate, over one step
//! (before, input, decision, after) or over a world snapshot, so the simulator,
//! the model checker, the tests and the daemon's debug assertions share one
//! definition.

mod step_props;
mod world_props;

pub use step_props::{check_step, StepView, STEP_PROPERTIES};
pub use world_props::{
    check_world, handed_to_record, LiveRuntime, OpProgress, WorkspaceView, WorldView,
    WORLD_PROPERTIES,
};

use crate::wire::wire_enum;

wire_enum! {
    /// The SPEC §7 properties, numbered as there.
    pub enum PropertyId ("property") {
        /// §7.1 display is derived, never stored.
        DerivedDisplay => "derived_display",
        /// §7.2 only a kill, a failed spawn or a confirmed death terminates.
        OneAuthorityForDeath => "one_authority_for_death",
        /// §7.3 a failed probe is not death.
        FailedProbeIsNotDeath => "failed_probe_is_not_death",
        /// §7.4 only Restore reopens a terminal session.
        TerminalIsFinal => "terminal_is_final",
        /// §7.5 a failed SCM fetch changes nothing.
        FailedFetchChangesNothing => "failed_fetch_changes_nothing",
        /// §7.6 revision discipline.
        Revision => "revision",
        /// §7.7 a dirty workspace is never deleted.
        NoDataLoss => "no_data_loss",
        /// §7.8 nothing live without a record; nothing left half-done.
        NoLeaks => "no_leaks",
        /// §7.9 never two live runtimes for one session.
        OneAgentPerSession => "one_agent_per_session",
        /// §7.10 no send to a terminal session or for a reaction it left.
        NoStaleReaction => "no_stale_reaction",
        /// §7.11 budgets bound attempts; escalation silences and notifies once.
        Budgets => "budgets",
        /// §7.12 same evidence only advances; one page per incident.
        NoNotificationStorm => "no_notification_storm",
        /// §7.13 waiting_input/blocked never decay with time alone.
        StickyActivity => "sticky_activity",
        /// §7.14 an observation writes only the axes it owns.
        AxisIsolation => "axis_isolation",
        /// §7.15 nothing sent to an agent carries a control or escape sequence.
        UntrustedText => "untrusted_text",
        /// §7.16 a quarantine ends within its attempt and duration bounds.
        QuarantineEnds => "quarantine_ends",
        /// §7.17 death after exactly `death_confirmations` agreeing observations.
        DeathConfirmed => "death_confirmed",
        /// §7.18 a duration escalation fires at the first tick at or after its deadline.
        DurationEscalation => "duration_escalation",
        /// §7.19 every SM operation finishes in a bounded number of steps.
        OperationsFinish => "operations_finish",
        /// §7.20 an agent that has not started yet is not an exit.
        StartupGrace => "startup_grace",
        /// §7.21 liveness's `stuck` never falls back to `detecting`.
        EscalationMonotone => "escalation_monotone",
        /// §7.22 only what a session created or its record names is destroyed or adopted.
        OnlyItsOwn => "only_its_own",
    }
}

impl PropertyId {
    /// The property's number in SPEC §7 (declaration order is SPEC order,
    /// so the numbers follow; a test pins them).
    pub const fn number(self) -> u8 {
        self as u8 + 1
    }
}

/// A broken property, with what was seen.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, thiserror::Error)]
#[error("property §7.{} {property} violated: {detail}", property.number())]
pub struct Violation {
    /// Which property.
    pub property: PropertyId,
    /// What was seen.
    pub detail: String,
}
