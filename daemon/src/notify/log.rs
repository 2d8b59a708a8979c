//! The default notifier: one tracing event per notification, louder for
//! higher priorities (urgent, action and warning → WARN, info → INFO). Never
//! ERROR: a notification is the daemon doing its job, and ERROR is kept for
//! the daemon's own failures, so an operator filtering on it sees only those.

use crate::error::AdapterError;
use crate::ports::Notifier;
use ao_core::domain::Priority;
use ao_core::lcm::Notification;

/// Writes notifications to the daemon's log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogNotifier;

impl LogNotifier {
    /// The tracing level a priority is logged at.
    pub fn level(priority: Priority) -> tracing::Level {
        match priority {
            Priority::Urgent | Priority::Action | Priority::Warning => tracing::Level::WARN,
            Priority::Info => tracing::Level::INFO,
        }
    }
}

impl Notifier for LogNotifier {
    async fn notify(&self, n: &Notification) -> Result<(), AdapterError> {
        macro_rules! emit {
            ($level:ident) => {
                tracing::$level!(
                    target: "ao::notify",
                    kind = n.kind.as_str(),
                    reaction = n.reaction.as_str(),
                    priority = n.priority.as_str(),
                    session_id = n.session.as_str(),
                    project_id = n.project.as_str(),
                    "{}",
                    n.message
                )
            };
        }
        match Self::level(n.priority) {
            tracing::Level::WARN => emit!(warn),
            _ => emit!(info),
        }
        Ok(())
    }
}
