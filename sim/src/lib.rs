//! `ao-sim`: the seeded deterministic simulator of the ao core — a world of
//! fakes, YAML scenarios, fuzzing with shrinking, and reports.

pub mod check;
pub mod engine;
pub mod fuzz;
pub mod replay;
pub mod rng;
pub mod runner;
pub mod scenario;
