//! Session change events, broadcast to the API's event stream.

use serde::{Deserialize, Serialize};

/// One change a client may want to see live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(examples(json!({"session": "default-1", "status": "needs_input", "what": "activity", "revision": 7})))]
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
