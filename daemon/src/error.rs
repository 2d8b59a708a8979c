//! The one error type adapters return: what failed, and whether it timed out,
//! so callers can tell "the runtime said no" from "we could not ask".

/// An adapter call that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// The call did not answer in time.
    #[error("{what} timed out after {millis} ms")]
    Timeout {
        /// What was being done.
        what: String,
        /// The limit.
        millis: u64,
    },
    /// The call answered with an error.
    #[error("{what}: {detail}")]
    Failed {
        /// What was being done.
        what: String,
        /// What went wrong.
        detail: String,
    },
}

impl AdapterError {
    /// A failure with context.
    pub fn failed(what: impl Into<String>, detail: impl ToString) -> AdapterError {
        AdapterError::Failed {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}
