//! The lifecycle manager: the reducer step, its inputs and effects, reactions,
//! sanitizing of untrusted text, and observer target selection.

pub mod effect;
pub mod input;
pub mod reactions;
pub mod sanitize;
pub mod select;
pub mod step;

pub use effect::{Effect, Notification, NotificationKind, Patch, QuarantineChange, StaleRevision};
pub use input::*;
pub use reactions::reaction_for;
pub use select::{reaper_targets, scm_targets, ReaperTarget};
pub use step::{step, step_into, Decision, StepError};
