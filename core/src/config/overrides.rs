//! What a user writes: sparse overrides, deserialized strictly (unknown fields,
//! unknown reaction names and malformed durations are errors at their location).

use crate::domain::{Priority, ProjectId, ReactionAction, ReactionKey};
use crate::time::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The user's config file (the core part of it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigOverrides {
    /// Threshold and interval overrides.
    #[serde(default)]
    pub thresholds: ThresholdOverrides,
    /// Global reaction overrides.
    #[serde(default)]
    pub reactions: BTreeMap<ReactionKey, ReactionOverride>,
    /// Per-project settings.
    #[serde(default)]
    pub projects: BTreeMap<ProjectId, ProjectOverrides>,
}

/// Optional thresholds; absent fields keep their defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdOverrides {
    /// See [`super::Thresholds::recent_activity_window`].
    pub recent_activity_window: Option<Duration>,
    /// See [`super::Thresholds::death_confirmations`].
    pub death_confirmations: Option<u32>,
    /// See [`super::Thresholds::spawn_grace`].
    pub spawn_grace: Option<Duration>,
    /// See [`super::Thresholds::quarantine_max_attempts`].
    pub quarantine_max_attempts: Option<u32>,
    /// See [`super::Thresholds::quarantine_max_duration`].
    pub quarantine_max_duration: Option<Duration>,
    /// See [`super::Thresholds::reaper_interval`].
    pub reaper_interval: Option<Duration>,
    /// See [`super::Thresholds::scm_interval`].
    pub scm_interval: Option<Duration>,
    /// See [`super::Thresholds::tick_interval`].
    pub tick_interval: Option<Duration>,
}

/// A field-level override of one reaction: only the named fields change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionOverride {
    /// Replace the action.
    pub action: Option<ReactionAction>,
    /// Replace the message.
    pub message: Option<String>,
    /// Replace the retry budget.
    pub retries: Option<u32>,
    /// Replace the duration budget.
    pub escalate_after: Option<Duration>,
    /// Replace the priority.
    pub priority: Option<Priority>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// Per-project overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectOverrides {
    /// Reaction overrides for this project (merged over the global table).
    #[serde(default)]
    pub reactions: BTreeMap<ReactionKey, ReactionOverride>,
    /// The project's agent.
    #[serde(default)]
    pub agent: Option<super::AgentSpec>,
}
