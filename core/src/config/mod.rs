//! Configuration (SPEC §6): defaults, user overrides merged field by field
//! (globally, then per project), and validation into a resolved [`Config`].

mod error;
mod overrides;
mod reaction;

pub use error::ConfigError;
pub use overrides::{ConfigOverrides, ProjectOverrides, ReactionOverride, ThresholdOverrides};
pub use reaction::{default_for, ReactionConfig, ReactionTable};

use crate::domain::{ProjectId, ReactionAction, ReactionKey};
use crate::time::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Intervals and thresholds of the deciders and observers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Activity this recent counts as "recent activity" (SPEC §4.1).
    pub recent_activity_window: Duration,
    /// Consecutive agreeing dead observations that confirm a death (at least 2).
    pub death_confirmations: u32,
    /// After spawn completes, a not-yet-started process is not an exit.
    pub spawn_grace: Duration,
    /// Identical ambiguous observations before a quarantine escalates to stuck.
    pub quarantine_max_attempts: u32,
    /// Time since the episode started before a quarantine escalates to stuck.
    pub quarantine_max_duration: Duration,
    /// How often the reaper probes.
    pub reaper_interval: Duration,
    /// How often the SCM poller polls.
    pub scm_interval: Duration,
    /// How often ticks fire duration escalations.
    pub tick_interval: Duration,
    /// A planted defect (the harness's own tests only; see [`crate::defects`]).
    #[cfg(feature = "defects")]
    #[serde(skip)]
    pub defect: Option<crate::defects::Defect>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            recent_activity_window: Duration::secs(60),
            death_confirmations: 2,
            spawn_grace: Duration::secs(120),
            quarantine_max_attempts: 3,
            quarantine_max_duration: Duration::mins(5),
            reaper_interval: Duration::secs(30),
            scm_interval: Duration::secs(60),
            tick_interval: Duration::secs(30),
            #[cfg(feature = "defects")]
            defect: None,
        }
    }
}

/// How to launch an agent. Templates may use `{session_id}`, `{project_id}`,
/// `{issue_id}`, `{prompt}` and (resume only) `{agent_session_id}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// Launch command for a new session.
    #[serde(deserialize_with = "overrides::non_empty_command")]
    pub launch: String,
    /// Resume command, when the agent can resume by its own session id.
    #[serde(default)]
    pub resume: Option<String>,
    /// Whether a restore may relaunch fresh from the stored prompt.
    #[serde(default = "yes")]
    pub relaunch: bool,
}

fn yes() -> bool {
    true
}

/// A resolved project.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProjectConfig {
    /// The project's reaction table (global table with the project's overrides merged).
    pub reactions: ReactionTable,
    /// The project's agent, if configured.
    pub agent: Option<AgentSpec>,
}

/// The resolved, validated configuration the step reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Config {
    /// Thresholds and intervals.
    pub thresholds: Thresholds,
    /// The global reaction table.
    pub reactions: ReactionTable,
    /// Known projects.
    pub projects: BTreeMap<ProjectId, ProjectConfig>,
}

impl Config {
    /// Merges overrides over the defaults and validates the result.
    pub fn resolve(overrides: &ConfigOverrides) -> Result<Config, ConfigError> {
        let thresholds = resolve_thresholds(&overrides.thresholds)?;
        let mut reactions = ReactionTable::default();
        merge_reactions(&mut reactions, &overrides.reactions);
        validate_reactions(&reactions, "reactions")?;
        let mut projects = BTreeMap::new();
        for (id, project) in &overrides.projects {
            let mut table = reactions.clone();
            merge_reactions(&mut table, &project.reactions);
            validate_reactions(&table, &format!("projects.{id}.reactions"))?;
            if let Some(agent) = &project.agent {
                if agent.launch.trim().is_empty() {
                    return Err(ConfigError::EmptyAgentCommand {
                        field: format!("projects.{id}.agent.launch"),
                    });
                }
            }
            projects.insert(
                id.clone(),
                ProjectConfig {
                    reactions: table,
                    agent: project.agent.clone(),
                },
            );
        }
        Ok(Config {
            thresholds,
            reactions,
            projects,
        })
    }

    /// The reaction table that applies to a project (the global one for unknown projects).
    pub fn reactions_for(&self, project: &ProjectId) -> &ReactionTable {
        self.projects
            .get(project)
            .map_or(&self.reactions, |p| &p.reactions)
    }
}

fn resolve_thresholds(o: &ThresholdOverrides) -> Result<Thresholds, ConfigError> {
    let d = Thresholds::default();
    let t = Thresholds {
        recent_activity_window: o.recent_activity_window.unwrap_or(d.recent_activity_window),
        death_confirmations: o.death_confirmations.unwrap_or(d.death_confirmations),
        spawn_grace: o.spawn_grace.unwrap_or(d.spawn_grace),
        quarantine_max_attempts: o
            .quarantine_max_attempts
            .unwrap_or(d.quarantine_max_attempts),
        quarantine_max_duration: o
            .quarantine_max_duration
            .unwrap_or(d.quarantine_max_duration),
        reaper_interval: o.reaper_interval.unwrap_or(d.reaper_interval),
        scm_interval: o.scm_interval.unwrap_or(d.scm_interval),
        tick_interval: o.tick_interval.unwrap_or(d.tick_interval),
        #[cfg(feature = "defects")]
        defect: None,
    };
    if t.death_confirmations < 2 {
        return Err(ConfigError::DeathConfirmationsTooLow {
            field: "thresholds.death_confirmations".into(),
            value: t.death_confirmations,
        });
    }
    let positive: [(&str, u64); 6] = [
        (
            "quarantine_max_attempts",
            u64::from(t.quarantine_max_attempts),
        ),
        (
            "quarantine_max_duration",
            t.quarantine_max_duration.as_millis(),
        ),
        ("reaper_interval", t.reaper_interval.as_millis()),
        ("scm_interval", t.scm_interval.as_millis()),
        ("tick_interval", t.tick_interval.as_millis()),
        (
            "recent_activity_window",
            t.recent_activity_window.as_millis(),
        ),
    ];
    if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
        return Err(ConfigError::Zero {
            field: format!("thresholds.{name}"),
        });
    }
    Ok(t)
}

fn merge_reactions(table: &mut ReactionTable, overrides: &BTreeMap<ReactionKey, ReactionOverride>) {
    for (key, o) in overrides {
        let r = table.get_mut(*key);
        if let Some(action) = o.action {
            r.action = action;
        }
        if let Some(message) = &o.message {
            r.message.clone_from(message);
        }
        if let Some(retries) = o.retries {
            r.retries = Some(retries);
        }
        if let Some(after) = o.escalate_after {
            r.escalate_after = Some(after);
        }
        if let Some(priority) = o.priority {
            r.priority = priority;
        }
        if let Some(enabled) = o.enabled {
            r.enabled = enabled;
        }
    }
}

fn validate_reactions(table: &ReactionTable, path: &str) -> Result<(), ConfigError> {
    for (key, r) in table.iter() {
        if r.action == ReactionAction::SendToAgent && r.message.trim().is_empty() {
            return Err(ConfigError::EmptyMessage {
                field: format!("{path}.{key}.message"),
            });
        }
        if r.escalate_after == Some(Duration(0)) {
            return Err(ConfigError::Zero {
                field: format!("{path}.{key}.escalate_after"),
            });
        }
    }
    Ok(())
}
