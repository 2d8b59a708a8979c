//! `ao-core`: the one pure core of the agent-session supervisor.
//!
//! Facts, commands and outcomes go in (each carrying its time); the next state
//! and ordered effects come out. No I/O, no clock, no randomness, no threads:
//! the model checker, the simulator and the daemon all drive this same code.
//!
//! The behaviour it implements is described in `core/SPEC.md`; comments that
//! cite "SPEC §N" (and property numbers §7.N) refer to that page.

pub mod config;
pub mod decide;
pub mod defects;
pub mod domain;
pub mod invariants;
pub mod journal;
pub mod lcm;
pub mod sm;
pub mod time;
pub mod timers;
mod wire;

pub use wire::{UnknownWord, WireEnum};
