//! Every timer of the core, in one place: the only code that compares "now
//! minus a stored instant" with a threshold. Nothing else in the core reads
//! the age of a stored instant (a test scans the sources for `.since(`), so
//! the list below is complete, and [`extrapolate`] can cut every stored
//! instant's age off just above the largest threshold it is ever compared
//! with without changing any decision, now or later. That cut-off is what
//! lets the model checker cover all of time with finitely many states (the
//! clock extrapolation of timed-automata checkers).
//!
//! | timer | stored instant | comparison |
//! |---|---|---|
//! | [`Timer::RecentActivity`] | `activity.last_activity_at` | `age <= recent_activity_window` |
//! | [`Timer::StartupGrace`] | `metadata.spawned_at` | `age < spawn_grace` |
//! | [`Timer::QuarantineDuration`] | `detecting.started_at` | `age >= quarantine_max_duration` |
//! | [`Timer::Escalation`] | `policy[k].first_attempt_at` | `age >= escalate_after(k)` |
//!
//! `created_at` and `updated_at` are never compared: their age never matters.
//! A new comparison must be a new [`Timer`] (its cut-off is then demanded by
//! the exhaustive match in [`Timer::horizon`]).

use crate::config::{Config, Thresholds};
use crate::domain::{ProjectId, ReactionKey, SessionRecord};
use crate::time::{Duration, Timestamp};
use crate::WireEnum;

/// One comparison of a stored instant's age with a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// SPEC §4.1: activity this recent counts as "recent activity".
    RecentActivity,
    /// SPEC §4.1: a not-yet-started agent is not an exit within the grace.
    StartupGrace,
    /// SPEC §4.2: a quarantine episode this old escalates to stuck.
    QuarantineDuration,
    /// SPEC §6: a send-to-agent reaction this old escalates.
    Escalation(ReactionKey),
}

/// The age of `at` seen from `now` (zero when inputs arrive out of order).
fn age(now: Timestamp, at: Timestamp) -> Duration {
    now.since(at)
}

/// SPEC §4.1: `at` is within the recent-activity window of `now`.
pub fn is_recent(now: Timestamp, at: Timestamp, t: &Thresholds) -> bool {
    age(now, at) <= t.recent_activity_window
}

/// SPEC §4.1: a session spawned at `spawned_at` is still inside its startup grace.
pub fn in_startup_grace(now: Timestamp, spawned_at: Timestamp, t: &Thresholds) -> bool {
    age(now, spawned_at) < t.spawn_grace
}

/// SPEC §4.2: a quarantine episode that began at `started_at` has lasted its maximum.
pub fn quarantine_overdue(now: Timestamp, started_at: Timestamp, t: &Thresholds) -> bool {
    age(now, started_at) >= t.quarantine_max_duration
}

/// SPEC §6: an incident whose first attempt was at `first_attempt_at` has
/// reached its reaction's `escalate_after`.
pub fn escalation_due(now: Timestamp, first_attempt_at: Timestamp, after: Duration) -> bool {
    age(now, first_attempt_at) >= after
}

impl Timer {
    /// The smallest age from which every comparison this timer makes gives
    /// the same answer, for a record of `project` under `cfg` (`<=` needs one
    /// millisecond more than its threshold; `<` and `>=` need the threshold).
    pub fn horizon(self, cfg: &Config, project: &ProjectId) -> Duration {
        let t = &cfg.thresholds;
        match self {
            Timer::RecentActivity => Duration(t.recent_activity_window.as_millis() + 1),
            Timer::StartupGrace => t.spawn_grace,
            Timer::QuarantineDuration => t.quarantine_max_duration,
            Timer::Escalation(key) => cfg
                .reactions_for(project)
                .get(key)
                .escalate_after
                .unwrap_or_default(),
        }
    }
}

/// Visits every instant stored in `rec`, with the timer that reads it
/// (`None`: no timer does). The one list of a record's instants.
pub fn for_each_instant(rec: &mut SessionRecord, mut f: impl FnMut(Option<Timer>, &mut Timestamp)) {
    f(None, &mut rec.created_at);
    f(None, &mut rec.updated_at);
    let l = &mut rec.lifecycle;
    if let Some(at) = &mut l.activity.last_activity_at {
        f(Some(Timer::RecentActivity), at);
    }
    if let Some(q) = &mut l.detecting {
        f(Some(Timer::QuarantineDuration), &mut q.started_at);
    }
    if let Some(at) = &mut rec.metadata.spawned_at {
        f(Some(Timer::StartupGrace), at);
    }
    for key in ReactionKey::ALL {
        if let Some(t) = rec.policy.slot(*key) {
            f(Some(Timer::Escalation(*key)), &mut t.first_attempt_at);
        }
    }
}

/// Rewrites every stored instant of `rec` so that its age seen from `now` is
/// cut off at its timer's horizon, and the instants no timer reads
/// (`created_at`, `updated_at`) to `now`. Every decision the core makes about
/// `rec` at `now` or later is unchanged (see the module docs); two records
/// that differ only in ages beyond the horizons become equal.
pub fn extrapolate(rec: &mut SessionRecord, now: Timestamp, cfg: &Config) {
    let project = rec.project_id.clone();
    for_each_instant(rec, |timer, at| {
        let horizon = timer.map_or(Duration(0), |t| t.horizon(cfg, &project));
        *at = Timestamp(now.0.saturating_sub(age(now, *at).min(horizon).as_millis()));
    });
}

/// Every stored instant of `rec` moves `by` into the past: the same as the
/// clock moving forward by `by` (saturating at the epoch).
pub fn age_by(rec: &mut SessionRecord, by: Duration) {
    for_each_instant(rec, |_, at| {
        *at = Timestamp(at.0.saturating_sub(by.as_millis()));
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::{Path, PathBuf};

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Extrapolation is sound only if this module sees every comparison of
    /// an age with a threshold: any other `.since(` in the core is a timer
    /// the cut-off does not know about.
    #[test]
    fn every_age_comparison_goes_through_this_module() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &mut files);
        let mut strays = Vec::new();
        for f in files {
            let name = f.strip_prefix(&root).unwrap().display().to_string();
            if name == "timers.rs" || name == "time.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.contains(".since(") {
                    strays.push(format!("{name}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(
            strays.is_empty(),
            "ages compared outside core/src/timers.rs (add a Timer and use its function):\n{}",
            strays.join("\n")
        );
    }
}
