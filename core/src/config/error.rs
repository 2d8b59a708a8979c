//! Typed configuration errors; each names the offending field by its dotted path.

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Death needs at least two agreeing observations (SPEC §4.1).
    #[error("{field}: must be at least 2 (one observation never confirms a death), got {value}")]
    DeathConfirmationsTooLow {
        /// Dotted field path.
        field: String,
        /// The value given.
        value: u32,
    },
    /// A count or interval that must be positive was zero.
    #[error("{field}: must be greater than zero")]
    Zero {
        /// Dotted field path.
        field: String,
    },
    /// A send-to-agent reaction would send nothing.
    #[error("{field}: a send-to-agent reaction needs a non-empty message")]
    EmptyMessage {
        /// Dotted field path.
        field: String,
    },
    /// An agent template that cannot launch anything.
    #[error("{field}: the agent launch command must not be empty")]
    EmptyAgentCommand {
        /// Dotted field path.
        field: String,
    },
}

impl ConfigError {
    /// The dotted path of the field at fault, e.g. `projects.app.reactions.ci-failed.message`.
    pub fn field(&self) -> &str {
        match self {
            ConfigError::DeathConfirmationsTooLow { field, .. }
            | ConfigError::Zero { field }
            | ConfigError::EmptyMessage { field }
            | ConfigError::EmptyAgentCommand { field } => field,
        }
    }
}
