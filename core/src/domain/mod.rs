//! The domain: the canonical record, its vocabulary, and the derived display status.

pub mod display;
pub mod fingerprint;
pub mod ids;
pub mod reaction;
pub mod record;
pub mod states;

pub use display::{derive_display, display_status};
pub use fingerprint::{Fingerprint, StableHasher};
pub use ids::{Handle, IssueId, ProjectId, SessionId};
pub use reaction::{
    Priority, ReactionAction, ReactionKey, ReactionPolicy, Tracker, REACTION_COUNT,
};
pub use record::*;
pub use states::*;
