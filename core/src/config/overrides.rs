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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked::positive_duration"
    )]
    pub recent_activity_window: Option<Duration>,
    /// See [`super::Thresholds::death_confirmations`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked::at_least_two"
    )]
    pub death_confirmations: Option<u32>,
    /// See [`super::Thresholds::spawn_grace`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawn_grace: Option<Duration>,
    /// See [`super::Thresholds::quarantine_max_attempts`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked::positive_count"
    )]
    pub quarantine_max_attempts: Option<u32>,
    /// See [`super::Thresholds::quarantine_max_duration`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked::positive_duration"
    )]
    pub quarantine_max_duration: Option<Duration>,
    /// See [`super::Thresholds::reaper_interval`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked::positive_duration"
    )]
    pub reaper_interval: Option<Duration>,
    /// See [`super::Thresholds::scm_interval`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked::positive_duration"
    )]
    pub scm_interval: Option<Duration>,
    /// See [`super::Thresholds::tick_interval`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked::positive_duration"
    )]
    pub tick_interval: Option<Duration>,
}

/// A field-level override of one reaction: only the named fields change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionOverride {
    /// Replace the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ReactionAction>,
    /// Replace the message (never with an empty one).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked::non_empty_text"
    )]
    pub message: Option<String>,
    /// Replace the retry budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Replace the duration budget.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked::positive_duration"
    )]
    pub escalate_after: Option<Duration>,
    /// Replace the priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Enable or disable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// Range checks done inside the visitors, while the deserializer still stands
/// on the value, so a bad value is reported with its full path, line and
/// column (the resolve step re-checks values built in code).
pub(crate) use checked::non_empty_command;

mod checked {
    use crate::time::Duration;
    use serde::de::{Error, Visitor};
    use serde::Deserializer;
    use std::fmt;

    struct Count {
        min: u64,
        why: &'static str,
    }

    impl Visitor<'_> for Count {
        type Value = u32;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a whole number of at least {} ({})", self.min, self.why)
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<u32, E> {
            if v < self.min {
                return Err(E::custom(format!(
                    "must be at least {} ({}), got {v}",
                    self.min, self.why
                )));
            }
            u32::try_from(v).map_err(|_| E::custom(format!("{v} is too large")))
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<u32, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::custom(format!(
                    "must be at least {} ({}), got {v}",
                    self.min, self.why
                ))),
            }
        }
    }

    struct PositiveDuration;

    impl Visitor<'_> for PositiveDuration {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration greater than zero, such as 250ms, 30s, 15m, 2h or 1m30s")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Duration, E> {
            let d: Duration = v.parse().map_err(E::custom)?;
            if d.as_millis() == 0 {
                return Err(E::custom("must be a duration greater than zero"));
            }
            Ok(d)
        }
    }

    struct NonEmpty(&'static str);

    impl Visitor<'_> for NonEmpty {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a non-empty {}", self.0)
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<String, E> {
            if v.trim().is_empty() {
                return Err(E::custom(format!("the {} must not be empty", self.0)));
            }
            Ok(v.to_owned())
        }
    }

    pub(super) fn at_least_two<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        d.deserialize_u64(Count {
            min: 2,
            why: "one observation never confirms a death",
        })
        .map(Some)
    }

    pub(super) fn positive_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        d.deserialize_u64(Count {
            min: 1,
            why: "zero would never allow one",
        })
        .map(Some)
    }

    pub(super) fn positive_duration<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        d.deserialize_str(PositiveDuration).map(Some)
    }

    pub(super) fn non_empty_text<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<String>, D::Error> {
        d.deserialize_str(NonEmpty("reaction message")).map(Some)
    }

    /// A launch command that cannot be empty.
    pub(crate) fn non_empty_command<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        d.deserialize_str(NonEmpty("agent launch command"))
    }
}
