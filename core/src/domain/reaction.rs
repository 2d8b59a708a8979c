//! The reaction vocabulary (SPEC §6) and the per-session escalation policy
//! state, which is persisted beside the lifecycle so a restart keeps budgets.

use crate::time::Timestamp;
use crate::wire::wire_enum;
use serde::{Deserialize, Serialize};

wire_enum! {
    /// A reaction a session can map to.
    pub enum ReactionKey ("reaction") {
        /// CI fails on the open PR.
        CiFailed => "ci-failed",
        /// A human asked for changes.
        ChangesRequested => "changes-requested",
        /// A bot left review comments.
        BugbotComments => "bugbot-comments",
        /// The PR conflicts with its base.
        MergeConflicts => "merge-conflicts",
        /// The agent is idle.
        AgentIdle => "agent-idle",
        /// Approved and green: the human merges.
        ApprovedAndGreen => "approved-and-green",
        /// The agent is stuck.
        AgentStuck => "agent-stuck",
        /// The agent waits for the human.
        AgentNeedsInput => "agent-needs-input",
        /// The agent died (by inference, not by an explicit kill).
        AgentExited => "agent-exited",
        /// The PR was closed without merging.
        PrClosed => "pr-closed",
        /// The PR merged.
        AllComplete => "all-complete",
    }
}

/// Number of reactions; the policy state is a fixed array indexed by [`ReactionKey`].
pub const REACTION_COUNT: usize = 11;

impl ReactionKey {
    /// Position in fixed-size per-reaction tables.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// A persistent tracker survives flapping and clears only on genuine recovery
    /// or when the incident is over (SPEC §6: ci-failed).
    pub const fn is_persistent(self) -> bool {
        matches!(self, Self::CiFailed)
    }
}

wire_enum! {
    /// How loudly a notification should reach the human.
    pub enum Priority ("priority") {
        /// Page now.
        Urgent => "urgent",
        /// Needs an action.
        Action => "action",
        /// Worth a look.
        Warning => "warning",
        /// For the record.
        Info => "info",
    }
}

wire_enum! {
    /// What a reaction does.
    pub enum ReactionAction ("reaction action") {
        /// Send a message into the agent's input.
        SendToAgent => "send-to-agent",
        /// Notify the human.
        Notify => "notify",
    }
}

/// Escalation memory for one (session, reaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Tracker {
    /// Dispatches counted against the budget (failed deliveries are refunded).
    pub attempts: u32,
    /// When the first attempt of this incident was dispatched.
    pub first_attempt_at: Timestamp,
    /// Escalated: the human was told once; the reaction is silent until the tracker clears.
    pub escalated: bool,
    /// The last delivery failed; the next tick re-sends while the session still maps here.
    #[serde(default)]
    pub undelivered: bool,
}

/// Per-session escalation policy state: the reaction the session last mapped
/// to outside quarantine (so a pass through `detecting` is not a new incident),
/// and one optional tracker per reaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReactionPolicy {
    /// The reaction the session maps to, as of its last non-quarantined state.
    pub mapped: Option<ReactionKey>,
    trackers: [Option<Tracker>; REACTION_COUNT],
}

impl ReactionPolicy {
    /// The tracker for `key`, if an incident is open for it.
    pub fn get(&self, key: ReactionKey) -> Option<&Tracker> {
        self.trackers[key.index()].as_ref()
    }

    /// Mutable access to the tracker slot for `key`.
    pub fn slot(&mut self, key: ReactionKey) -> &mut Option<Tracker> {
        &mut self.trackers[key.index()]
    }

    /// Open trackers, in reaction order.
    pub fn iter(&self) -> impl Iterator<Item = (ReactionKey, &Tracker)> {
        use crate::wire::WireEnum;
        ReactionKey::ALL
            .iter()
            .filter_map(|k| self.get(*k).map(|t| (*k, t)))
    }

    /// No incident is open and nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.mapped.is_none() && self.trackers.iter().all(Option::is_none)
    }
}

/// The serialized shape: `{mapped: ci-failed, trackers: {ci-failed: {...}}}`.
#[derive(Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(as = ReactionPolicy)
)]
#[serde(deny_unknown_fields)]
struct PolicyWire {
    #[serde(default)]
    mapped: Option<ReactionKey>,
    #[serde(default)]
    trackers: std::collections::BTreeMap<ReactionKey, Tracker>,
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ReactionPolicy {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <PolicyWire as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ReactionPolicy {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <PolicyWire as utoipa::ToSchema>::schemas(schemas);
    }
}

impl Serialize for ReactionPolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PolicyWire {
            mapped: self.mapped,
            trackers: self.iter().map(|(k, t)| (k, *t)).collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ReactionPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = PolicyWire::deserialize(d)?;
        let mut policy = ReactionPolicy {
            mapped: wire.mapped,
            ..ReactionPolicy::default()
        };
        for (key, tracker) in wire.trackers {
            *policy.slot(key) = Some(tracker);
        }
        Ok(policy)
    }
}
