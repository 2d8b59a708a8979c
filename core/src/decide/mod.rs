//! Pure deciders: tables from facts to verdicts, with no state of their own.

pub mod activity;
pub mod probe;
pub mod quarantine;
pub mod scm;

pub use probe::{liveness, recent_activity, runtime_axis, Verdict};
pub use quarantine::{Advance, Evidence};
