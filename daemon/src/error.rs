//! The one error type adapters return: what failed, whether it timed out, and
//! whether the name was held by something that is not the session's, so
//! callers can tell "the runtime said no" from "we could not ask" from "that
//! is someone else's" (which must be left alone, never destroyed or adopted).

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
    /// The name is held by something the session did not create (no owner
    /// tag, another daemon's, another session's): nothing was touched.
    #[error("{what}: {detail}")]
    NotOurs {
        /// What was being done.
        what: String,
        /// What holds the name.
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

    /// A name held by something that is not the session's.
    pub fn not_ours(what: impl Into<String>, detail: impl ToString) -> AdapterError {
        AdapterError::NotOurs {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}
