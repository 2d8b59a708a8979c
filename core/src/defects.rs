//! Defects planted on purpose, to prove the harness finds timer bugs of the
//! kinds real supervisors shipped. Each is a change to the core's own logic
//! (not a filter on its output), switched on only through
//! `Thresholds::defect`, which exists only with the `defects` cargo feature
//! (the simulator's and the checker's test builds); without it [`planted`]
//! is `false` and the branches compile away. No configuration file can set one.

/// One deliberately wrong timer rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Defect {
    /// The startup grace is ignored: an agent that has not started yet is an exit.
    IgnoredGrace,
    /// A quarantine episode's clock restarts when the evidence changes, so
    /// changing evidence keeps a session detecting for ever.
    EpisodeClockReset,
    /// A `stuck` session falls back to `detecting` on the next ambiguous observation.
    StuckFallsBack,
    /// A duration escalation fires one tick interval after its deadline.
    EscalationLate,
}

impl Defect {
    /// Every planted defect.
    pub const ALL: [Defect; 4] = [
        Defect::IgnoredGrace,
        Defect::EpisodeClockReset,
        Defect::StuckFallsBack,
        Defect::EscalationLate,
    ];
}

/// Whether `defect` is planted under these thresholds.
#[cfg(feature = "defects")]
pub fn planted(t: &crate::config::Thresholds, defect: Defect) -> bool {
    t.defect == Some(defect)
}

/// Whether `defect` is planted: never, in a build without the `defects` feature.
#[cfg(not(feature = "defects"))]
pub fn planted(_: &crate::config::Thresholds, _: Defect) -> bool {
    false
}
