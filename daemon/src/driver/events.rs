//! Session change events, broadcast to the API's event stream.

use serde::Serialize;

/// One change a client may want to see live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionEvent {
    /// The session.
    pub session: String,
    /// Its display status after the change.
    pub status: String,
    /// What happened (input kind or operation).
    pub what: String,
    /// Revision after the change.
    pub revision: u64,
}
