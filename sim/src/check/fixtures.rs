//! The model's fixed vocabulary: interned ids and handles, the time-scaled
//! configuration, and the representative SCM facts and racing fact pairs.

use ao_core::config::{
    AgentSpec, Config, ConfigError, ConfigOverrides, ProjectOverrides, ReactionOverride,
    ThresholdOverrides,
};
use ao_core::domain::{
    ActivitySource, ActivityState, Confidence, Handle, KillKind, PrState, Probe, ProjectId,
    ReactionKey, SessionId,
};
use ao_core::lcm::{
    ActivitySignal, CiSummary, Event, Mergeability, PrFacts, ReviewComment, ReviewDecision,
    RuntimeObservation, ScmObservation,
};
use ao_core::time::{Duration, Timestamp};
use std::collections::BTreeMap;

/// One model time unit: a Tick ages every stored instant by one.
pub const UNIT: Duration = Duration::mins(1);

/// The model's fixed now: time passing ages stored instants instead of
/// moving the clock, so every input happens at this instant. It is far from
/// the epoch, so no age the model keeps saturates at zero.
pub const NOW: Timestamp = Timestamp(1_000 * UNIT.as_millis());

/// Every session slot uses the same interned id: a slot's state never names
/// another slot, so permuting slots is a symmetry (see `Representative`).
pub const SESSION: &str = "s";
/// The one project every session belongs to.
pub const PROJECT: &str = "p";
/// The workspace path of a slot (one per slot).
pub const WORKSPACE: &str = "w";
/// Runtime handles: the spawn's, then one fresh handle per restore.
pub const RUNTIMES: [&str; 3] = ["r0", "r1", "r2"];
/// The CI log tail of a failing CI fact: it carries escape sequences on purpose.
pub const HOSTILE_LOG: &str =
    "error: \u{1b}[31mboom\u{1b}[0m\n\u{1b}]0;pwned\u{7}\ttest failed\r\n";
/// A review comment body with an escape sequence.
pub const HOSTILE_COMMENT: &str = "please fix \u{1b}[2J\u{1b}[Hthe tests";

/// The session id of every slot.
pub fn session_id() -> SessionId {
    SessionId(SESSION.to_owned())
}

/// The project id.
pub fn project_id() -> ProjectId {
    ProjectId(PROJECT.to_owned())
}

/// A handle from one of the fixed names (`None` only for a blank name).
pub fn handle(name: &str) -> Option<Handle> {
    Handle::new(name)
}

/// Index of a runtime handle in [`RUNTIMES`].
pub fn runtime_index(h: &Handle) -> Option<usize> {
    RUNTIMES.iter().position(|r| *r == h.as_str())
}

/// The thresholds and reaction budgets of the model, scaled to [`UNIT`]s.
/// `offset` widens or narrows each duration so that times jittered by less
/// than half a unit compare the same way (used by the scenario exporter; the
/// model itself uses `Scale::Exact`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Durations are whole units.
    Exact,
    /// Durations tolerate jitter below half a unit.
    Jittered,
}

fn units(n: u64, cmp: Cmp, scale: Scale) -> Duration {
    let base = n * UNIT.as_millis();
    let half = UNIT.as_millis() / 2;
    Duration(match (scale, cmp) {
        (Scale::Exact, _) => base,
        // `since <= window`: widen, so anything below the next unit still counts.
        (Scale::Jittered, Cmp::AtMost) => base + half,
        // `since < d` and `since >= d`: narrow, so a jittered `n` units reaches it.
        (Scale::Jittered, Cmp::Reaches) => base - half,
    })
}

/// The recent-activity window, in units.
const RECENT: u64 = 1;
/// The startup grace, in units.
const GRACE: u64 = 2;
/// The quarantine's longest episode, in units.
const QUARANTINE: u64 = 3;
/// Every duration escalation window, in units.
const ESCALATION: u64 = 4;

#[derive(Clone, Copy)]
enum Cmp {
    AtMost,
    Reaches,
}

/// The model's configuration: the daemon's defaults scaled to small whole
/// units, in the same order (one unit stands for a reaper interval):
///
/// | threshold | default | model |
/// |---|---|---|
/// | reaper / SCM poll / tick interval | 30 s / 60 s / 30 s | any number per unit (unpaced) |
/// | recent-activity window | 60 s | 1 unit |
/// | startup grace | 120 s | 2 units |
/// | quarantine: attempts, duration | 3, 5 min | 3, 3 units |
/// | death confirmations | 2 | 2 |
/// | escalation windows (merge-conflicts, changes-requested, bugbot, agent-idle) | 15–30 min | 4 units |
/// | retries (ci-failed, agent-idle) | 2, 2 | 1, 1 |
///
/// Observations are not paced: any number of probes, signals and SCM facts
/// may arrive inside one unit, so several fall inside a grace period, a
/// quarantine episode and an escalation window, as in the daemon.
pub fn overrides(scale: Scale) -> ConfigOverrides {
    let reaction = |retries: Option<u32>, after: Option<u64>| ReactionOverride {
        retries,
        escalate_after: after.map(|n| units(n, Cmp::Reaches, scale)),
        ..ReactionOverride::default()
    };
    let mut reactions = BTreeMap::new();
    reactions.insert(ReactionKey::CiFailed, reaction(Some(1), None));
    reactions.insert(
        ReactionKey::ChangesRequested,
        reaction(None, Some(ESCALATION)),
    );
    reactions.insert(
        ReactionKey::BugbotComments,
        reaction(None, Some(ESCALATION)),
    );
    reactions.insert(
        ReactionKey::MergeConflicts,
        reaction(None, Some(ESCALATION)),
    );
    reactions.insert(ReactionKey::AgentIdle, reaction(Some(1), Some(ESCALATION)));
    let mut projects = BTreeMap::new();
    projects.insert(
        project_id(),
        ProjectOverrides {
            agent: Some(AgentSpec {
                launch: "agent --prompt {prompt}".into(),
                resume: Some("agent --resume {agent_session_id}".into()),
                relaunch: true,
            }),
            ..ProjectOverrides::default()
        },
    );
    ConfigOverrides {
        thresholds: ThresholdOverrides {
            recent_activity_window: Some(units(RECENT, Cmp::AtMost, scale)),
            death_confirmations: Some(2),
            spawn_grace: Some(units(GRACE, Cmp::Reaches, scale)),
            quarantine_max_attempts: Some(3),
            quarantine_max_duration: Some(units(QUARANTINE, Cmp::Reaches, scale)),
            ..ThresholdOverrides::default()
        },
        reactions,
        projects,
    }
}

/// The resolved model configuration.
pub fn config() -> Result<Config, ConfigError> {
    Config::resolve(&overrides(Scale::Exact))
}

/// The representative SCM facts (a failed fetch is a fact too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScmFact {
    /// The query failed.
    FetchFailed,
    /// No PR.
    NoPr,
    /// Open, CI failing, with a hostile log tail.
    CiFailing,
    /// Open draft, CI failing.
    CiFailingDraft,
    /// Open, CI pending (in progress).
    CiPending,
    /// Open, review requested.
    ReviewPending,
    /// Open, approved but not mergeable.
    Approved,
    /// Open, approved and mergeable.
    ApprovedMergeable,
    /// Open, changes requested with a human comment.
    ChangesRequested,
    /// Open, a bot left a comment.
    BotComment,
    /// Open, conflicts with the base.
    Conflicts,
    /// Merged.
    Merged,
    /// Closed without merging.
    Closed,
}

impl ScmFact {
    /// Every fact, in action order.
    pub const ALL: [ScmFact; 13] = [
        ScmFact::FetchFailed,
        ScmFact::NoPr,
        ScmFact::CiFailing,
        ScmFact::CiFailingDraft,
        ScmFact::CiPending,
        ScmFact::ReviewPending,
        ScmFact::Approved,
        ScmFact::ApprovedMergeable,
        ScmFact::ChangesRequested,
        ScmFact::BotComment,
        ScmFact::Conflicts,
        ScmFact::Merged,
        ScmFact::Closed,
    ];

    /// The PR facts of a successful fetch (`None` for a failed fetch).
    pub fn facts(self) -> Option<PrFacts> {
        let open = |f: fn(&mut PrFacts)| {
            let mut p = PrFacts::open(7);
            f(&mut p);
            Some(p)
        };
        let comment = |bot: bool| ReviewComment {
            author: if bot { "bugbot" } else { "reviewer" }.into(),
            body: HOSTILE_COMMENT.into(),
            is_bot: bot,
            url: "u".into(),
        };
        match self {
            ScmFact::FetchFailed => None,
            ScmFact::NoPr => Some(PrFacts {
                state: PrState::None,
                number: None,
                ..PrFacts::open(0)
            }),
            ScmFact::CiFailing => open(|p| {
                p.ci = CiSummary::Failing;
                p.ci_log_tail = Some(HOSTILE_LOG.into());
            }),
            ScmFact::CiFailingDraft => open(|p| {
                p.ci = CiSummary::Failing;
                p.draft = true;
            }),
            ScmFact::CiPending => open(|p| p.ci = CiSummary::Pending),
            ScmFact::ReviewPending => open(|p| {
                p.ci = CiSummary::Passing;
                p.review = ReviewDecision::Pending;
            }),
            ScmFact::Approved => open(|p| {
                p.ci = CiSummary::Passing;
                p.review = ReviewDecision::Approved;
            }),
            ScmFact::ApprovedMergeable => open(|p| {
                p.ci = CiSummary::Passing;
                p.review = ReviewDecision::Approved;
                p.mergeability = Mergeability {
                    mergeable: true,
                    ci_passing: true,
                    approved: true,
                    no_conflicts: true,
                    blockers: Vec::new(),
                };
            }),
            ScmFact::ChangesRequested => {
                let mut p = PrFacts::open(7);
                p.review = ReviewDecision::ChangesRequested;
                p.comments = vec![comment(false)];
                Some(p)
            }
            ScmFact::BotComment => {
                let mut p = PrFacts::open(7);
                p.comments = vec![comment(true)];
                Some(p)
            }
            ScmFact::Conflicts => open(|p| p.mergeability.no_conflicts = false),
            ScmFact::Merged => open(|p| p.state = PrState::Merged),
            ScmFact::Closed => open(|p| p.state = PrState::Closed),
        }
    }

    /// The core event.
    pub fn event(self) -> Event {
        Event::Scm(match self.facts() {
            None => ScmObservation::FetchFailed,
            Some(f) => ScmObservation::Fetched(f),
        })
    }

    /// Short name for timelines.
    pub fn name(self) -> &'static str {
        match self {
            ScmFact::FetchFailed => "fetch failed",
            ScmFact::NoPr => "no PR",
            ScmFact::CiFailing => "PR open, CI failing (hostile log)",
            ScmFact::CiFailingDraft => "draft PR, CI failing",
            ScmFact::CiPending => "PR open, CI pending",
            ScmFact::ReviewPending => "PR open, review pending",
            ScmFact::Approved => "PR open, approved",
            ScmFact::ApprovedMergeable => "PR open, approved and mergeable",
            ScmFact::ChangesRequested => "PR open, changes requested (human comment)",
            ScmFact::BotComment => "PR open, bot comment",
            ScmFact::Conflicts => "PR open, merge conflicts",
            ScmFact::Merged => "PR merged",
            ScmFact::Closed => "PR closed",
        }
    }
}

/// One writer's fact in a race.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RaceFact {
    /// A valid activity signal.
    Activity(ActivityState),
    /// A runtime observation.
    Probe(Probe, Probe),
    /// An SCM fact.
    Scm(ScmFact),
    /// A manual kill written directly (a CLI), without a teardown.
    Kill,
}

impl RaceFact {
    /// The core event.
    pub fn event(self) -> Event {
        match self {
            RaceFact::Activity(state) => activity_event(state, true),
            RaceFact::Probe(runtime, process) => probe_event(runtime, process),
            RaceFact::Scm(f) => f.event(),
            RaceFact::Kill => Event::KillRequested {
                kind: KillKind::Manual,
            },
        }
    }
}

/// Two writers racing on one record: the first lands, the second must be
/// rejected as stale and re-decide.
pub const RACES: [(RaceFact, RaceFact); 4] = [
    (
        RaceFact::Activity(ActivityState::Active),
        RaceFact::Probe(Probe::Dead, Probe::Dead),
    ),
    (
        RaceFact::Scm(ScmFact::CiFailing),
        RaceFact::Activity(ActivityState::WaitingInput),
    ),
    (
        RaceFact::Probe(Probe::Alive, Probe::Alive),
        RaceFact::Scm(ScmFact::Merged),
    ),
    (RaceFact::Kill, RaceFact::Activity(ActivityState::Active)),
];

/// A runtime observation event.
pub fn probe_event(runtime: Probe, process: Probe) -> Event {
    Event::Runtime(RuntimeObservation { runtime, process })
}

/// An activity signal event from the agent's hooks.
pub fn activity_event(state: ActivityState, valid: bool) -> Event {
    Event::Activity(ActivitySignal {
        state,
        confidence: if valid {
            Confidence::Valid
        } else {
            Confidence::Stale
        },
        source: ActivitySource::Hook,
    })
}

/// Every probe value, in action order.
pub const PROBES: [Probe; 4] = [
    Probe::Alive,
    Probe::Dead,
    Probe::Indeterminate,
    Probe::Failed,
];

/// Every activity state, in action order.
pub const ACTIVITIES: [ActivityState; 6] = [
    ActivityState::Active,
    ActivityState::Ready,
    ActivityState::Idle,
    ActivityState::WaitingInput,
    ActivityState::Blocked,
    ActivityState::Exited,
];

#[cfg(test)]
mod tests {
    use super::*;
    use ao_core::WireEnum;

    /// The scaled thresholds keep the defaults' order (reaper < grace <
    /// quarantine duration < every escalation window), so no timer the
    /// daemon runs is out of order in the model.
    #[test]
    fn scaled_thresholds_keep_the_defaults_order() {
        let cfg = config().expect("the model configuration resolves");
        let defaults = Config::resolve(&ConfigOverrides::default()).expect("defaults resolve");
        for c in [&cfg, &defaults] {
            let t = &c.thresholds;
            let table = c.reactions_for(&project_id());
            let windows: Vec<Duration> = ReactionKey::ALL
                .iter()
                .filter_map(|k| table.get(*k).escalate_after)
                .collect();
            assert!(!windows.is_empty());
            assert!(t.reaper_interval <= t.recent_activity_window || c == &cfg);
            assert!(t.recent_activity_window < t.spawn_grace);
            assert!(t.spawn_grace < t.quarantine_max_duration);
            assert!(
                windows.iter().all(|w| t.quarantine_max_duration < *w),
                "{windows:?}"
            );
        }
        assert_eq!(cfg.thresholds.recent_activity_window, UNIT);
    }
}
