//! The reaction table (SPEC §6): defaults, and the resolved per-reaction settings.

use crate::domain::{Priority, ReactionAction, ReactionKey, REACTION_COUNT};
use crate::time::Duration;
use crate::wire::WireEnum;
use serde::{Deserialize, Serialize};

/// Resolved settings of one reaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionConfig {
    /// Send to the agent, or notify the human.
    pub action: ReactionAction,
    /// The message (for send-to-agent: never empty).
    pub message: String,
    /// Attempts allowed before escalation (`None` = no retry bound).
    pub retries: Option<u32>,
    /// Escalate once this long has passed since the first attempt (`None` = never by time).
    pub escalate_after: Option<Duration>,
    /// Notification priority.
    pub priority: Priority,
    /// A disabled reaction never fires.
    pub enabled: bool,
}

/// The full table, one entry per reaction, indexed by [`ReactionKey`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReactionTable([ReactionConfig; REACTION_COUNT]);

impl ReactionTable {
    /// Settings of one reaction.
    pub fn get(&self, key: ReactionKey) -> &ReactionConfig {
        &self.0[key.index()]
    }

    /// Mutable settings of one reaction (used while merging overrides).
    pub fn get_mut(&mut self, key: ReactionKey) -> &mut ReactionConfig {
        &mut self.0[key.index()]
    }

    /// Every reaction with its settings, in vocabulary order.
    pub fn iter(&self) -> impl Iterator<Item = (ReactionKey, &ReactionConfig)> {
        ReactionKey::ALL.iter().map(|k| (*k, self.get(*k)))
    }
}

impl Default for ReactionTable {
    fn default() -> Self {
        ReactionTable(std::array::from_fn(|i| default_for(ReactionKey::ALL[i])))
    }
}

fn send(
    message: &str,
    retries: Option<u32>,
    escalate_after: Option<Duration>,
    priority: Priority,
) -> ReactionConfig {
    ReactionConfig {
        action: ReactionAction::SendToAgent,
        message: message.to_owned(),
        retries,
        escalate_after,
        priority,
        enabled: true,
    }
}

fn notify(message: &str, priority: Priority) -> ReactionConfig {
    ReactionConfig {
        action: ReactionAction::Notify,
        message: message.to_owned(),
        retries: None,
        escalate_after: None,
        priority,
        enabled: true,
    }
}

/// The SPEC §6 default for one reaction.
pub fn default_for(key: ReactionKey) -> ReactionConfig {
    use ReactionKey as K;
    match key {
        K::CiFailed => send(
            "CI is failing on your pull request. Read the failure log below, fix the cause, and push.",
            Some(2),
            None,
            Priority::Action,
        ),
        K::ChangesRequested => send(
            "A reviewer requested changes on your pull request. Address each comment below, then push.",
            None,
            Some(Duration::mins(30)),
            Priority::Action,
        ),
        K::BugbotComments => send(
            "An automated reviewer left comments on your pull request. Address each comment below, then push.",
            None,
            Some(Duration::mins(30)),
            Priority::Action,
        ),
        K::MergeConflicts => send(
            "Your pull request has merge conflicts with its base branch. Rebase or merge the base, resolve the conflicts, and push.",
            None,
            Some(Duration::mins(15)),
            Priority::Action,
        ),
        K::AgentIdle => send(
            "You seem idle. Continue with your task; if you are blocked, say what you need.",
            Some(2),
            Some(Duration::mins(15)),
            Priority::Warning,
        ),
        K::ApprovedAndGreen => notify("The pull request is approved and green: ready for you to merge.", Priority::Action),
        K::AgentStuck => notify("The agent is stuck.", Priority::Urgent),
        K::AgentNeedsInput => notify("The agent needs your input.", Priority::Urgent),
        K::AgentExited => notify("The agent exited unexpectedly.", Priority::Urgent),
        K::PrClosed => notify("The pull request was closed without merging.", Priority::Action),
        K::AllComplete => notify("The pull request merged: the work is complete.", Priority::Info),
    }
}
