//! The scenario format: scripted facts at virtual times, world events, faults,
//! SM commands, config overrides and expectations. Documented in
//! `scenarios/README.md`; loaded strictly by [`load`].

mod load;
mod refs;
mod step;

pub use load::{load_file, load_str, LoadError};
pub use refs::{ProjectRef, SessionRef};
pub use step::{Step, StepAction};

use ao_core::config::ConfigOverrides;
use ao_core::domain::{
    ActivitySource, ActivityState, Confidence, DisplayStatus, PrState, Probe, ReactionKey,
    SessionKind,
};
use ao_core::lcm::{CiSummary, ReviewDecision};
use ao_core::time::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What it proves (kebab-case, like its file name).
    pub name: String,
    /// A sentence for humans.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The seed of the one PRNG.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Virtual time at which the run ends (default: 10 minutes after the last step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Duration>,
    /// Config overrides (the same shape as the daemon's config file).
    #[serde(
        default,
        skip_serializing_if = "is_default",
        deserialize_with = "refs::config_declaring"
    )]
    pub config: ConfigOverrides,
    /// Which automatic observers run.
    #[serde(default, skip_serializing_if = "is_default")]
    pub observers: Observers,
    /// Random fault probabilities (drawn from the seeded PRNG).
    #[serde(default, skip_serializing_if = "is_default")]
    pub faults: FaultRates,
    /// Latencies of the fake world.
    #[serde(default, skip_serializing_if = "is_default")]
    pub latency: Latency,
    /// The sessions (declare them before `steps` and `expect`).
    #[serde(deserialize_with = "refs::sessions_declaring")]
    pub sessions: Vec<SessionSpec>,
    /// What happens, in time order.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// What must hold.
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

fn default_seed() -> u64 {
    1
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Automatic observers (all on by default).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Observers {
    /// The reaper probes every `thresholds.reaper_interval`.
    pub reaper: bool,
    /// The SCM poller polls every `thresholds.scm_interval`.
    pub scm: bool,
    /// Ticks every `thresholds.tick_interval`.
    pub ticks: bool,
}

impl Default for Observers {
    fn default() -> Self {
        Observers {
            reaper: true,
            scm: true,
            ticks: true,
        }
    }
}

/// Per-event fault probabilities (0.0..=1.0), drawn from the seeded PRNG.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// A runtime probe call fails (`failed`).
    pub probe_fail: f64,
    /// An SCM fetch fails.
    pub fetch_fail: f64,
    /// An activity signal is lost.
    pub signal_lost: f64,
    /// An activity signal arrives `stale`.
    pub signal_stale: f64,
    /// A send-to-agent delivery fails.
    pub delivery_fail: f64,
    /// A notification fails.
    pub notify_fail: f64,
    /// A store write fails.
    pub store_fail: f64,
    /// A session-manager action fails.
    pub action_fail: f64,
}

/// Latencies of the fake world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    /// Each session-manager action (create workspace, create runtime, ...).
    pub action: Duration,
    /// From runtime start until the agent process runs.
    pub agent_start: Duration,
    /// Daemon restart after a crash.
    pub restart: Duration,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            action: Duration::secs(1),
            agent_start: Duration::secs(2),
            restart: Duration::secs(1),
        }
    }
}

/// A declared session and its fake agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    /// Session id.
    pub id: String,
    /// Project id (auto-registered with a default agent unless configured).
    pub project: String,
    /// Issue id.
    #[serde(default)]
    pub issue: String,
    /// Worker or orchestrator.
    #[serde(default = "worker")]
    pub kind: SessionKind,
    /// Branch (default `ao/<id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Prompt (default `Work on issue <issue>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The fake agent.
    #[serde(default, skip_serializing_if = "is_default")]
    pub agent: AgentSpec,
}

fn worker() -> SessionKind {
    SessionKind::Worker
}

/// How the fake agent behaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentSpec {
    /// Its hooks report `active` this long after the process starts; `null` = hooks never fire.
    pub ack_after: Option<Duration>,
    /// It reports its own session id at spawn (so a restore can resume).
    pub resumable: bool,
    /// Busy: deliveries into its input fail.
    pub busy: bool,
}

impl Default for AgentSpec {
    fn default() -> Self {
        AgentSpec {
            ack_after: Some(Duration::secs(5)),
            resumable: true,
            busy: false,
        }
    }
}

/// A direct activity fact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityFact {
    /// The session.
    pub session: SessionRef,
    /// What the agent says.
    pub state: ActivityState,
    /// Default `valid`.
    #[serde(default = "valid")]
    pub confidence: Confidence,
    /// Default `hook`.
    #[serde(default = "hook")]
    pub source: ActivitySource,
}

fn valid() -> Confidence {
    Confidence::Valid
}

fn hook() -> ActivitySource {
    ActivitySource::Hook
}

/// A direct probe fact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeFact {
    /// The session.
    pub session: SessionRef,
    /// Runtime probe.
    pub runtime: Probe,
    /// Agent-process probe.
    pub process: Probe,
}

/// A review comment in a fact or in the fake SCM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentSpec {
    /// Author.
    pub author: String,
    /// Body (untrusted).
    pub body: String,
    /// Written by a bot.
    #[serde(default)]
    pub bot: bool,
    /// Where.
    #[serde(default)]
    pub url: String,
}

/// A PR as the SCM reports it (a direct fact, or the fake SCM's state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrSpec {
    /// PR state.
    #[serde(default = "open")]
    pub state: PrState,
    /// Number.
    #[serde(default = "seven")]
    pub number: u64,
    /// Draft.
    #[serde(default)]
    pub draft: bool,
    /// CI summary.
    #[serde(default = "ci_none")]
    pub ci: CiSummary,
    /// Review decision.
    #[serde(default = "review_none")]
    pub review: ReviewDecision,
    /// Mergeable (every gate passes).
    #[serde(default)]
    pub mergeable: bool,
    /// Conflicts with the base.
    #[serde(default)]
    pub conflicts: bool,
    /// Pending review comments.
    #[serde(default)]
    pub comments: Vec<CommentSpec>,
    /// Failing CI log tail (untrusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

fn open() -> PrState {
    PrState::Open
}
fn seven() -> u64 {
    7
}
fn ci_none() -> CiSummary {
    CiSummary::None
}
fn review_none() -> ReviewDecision {
    ReviewDecision::None
}

/// A direct SCM fact: a failed fetch, or a PR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScmFact {
    /// The session.
    pub session: SessionRef,
    /// The fetch failed (nothing else may be given).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fetch_failed: bool,
    /// The PR the fetch reports (absent = no PR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<PrSpec>,
}

/// A change to the fake world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldChange {
    /// The session whose world changes.
    pub session: SessionRef,
    /// The agent process: exits, hangs (probes time out), or runs again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessChange>,
    /// The runtime (tmux session / process group) is lost.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub runtime_lost: bool,
    /// The workspace becomes dirty (uncommitted work) or clean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<WorkspaceChange>,
    /// The agent becomes busy (deliveries fail) or free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy: Option<bool>,
    /// The PR as the SCM will report it from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<PrSpec>,
    /// The agent reports this activity through its hooks now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityState>,
    /// Something that is not ours (another daemon's agent, a user's own tmux
    /// session or directory) takes one of the session's names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign: Option<ForeignChange>,
}

impl WorldChange {
    /// A change to `session`'s world that changes nothing yet (fields are set on it).
    pub fn nothing(session: SessionRef) -> WorldChange {
        WorldChange {
            session,
            process: None,
            runtime_lost: false,
            workspace: None,
            busy: None,
            pr: None,
            activity: None,
            foreign: None,
        }
    }
}

/// Which of a session's names something foreign takes (SPEC §7.22). It takes
/// the name only while nothing holds it and no record names it, so anything
/// of ours that ends up touching it is the supervisor's doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignChange {
    /// The runtime name of the session's spawn or restore in flight, or else
    /// the name its next spawn or restore will use.
    Runtime,
    /// The session's workspace path.
    Workspace,
}

/// What happens to the agent process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessChange {
    /// It exits.
    Exit,
    /// It hangs: probes time out (`failed`).
    Hang,
    /// It runs (again).
    Run,
}

/// Workspace content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceChange {
    /// Uncommitted or unpushed work.
    Dirty,
    /// Everything committed and pushed.
    Clean,
}

/// A scripted fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// What fails.
    pub kind: FaultKind,
    /// Which session (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionRef>,
    /// Which session-manager action (for `action_fails` and `crash_after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionKind>,
    /// How many times (default 1).
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// Kinds of scripted faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The next runtime probes fail.
    ProbeFails,
    /// The next SCM fetches fail.
    FetchFails,
    /// The next activity signals are lost.
    SignalLost,
    /// The next send-to-agent deliveries fail.
    DeliveryFails,
    /// The next notifications fail.
    NotifyFails,
    /// The next store writes fail.
    StoreFails,
    /// The next session-manager actions of a kind fail.
    ActionFails,
    /// The daemon crashes right after executing an action of a kind (before recording it).
    CrashAfter,
}

/// Session-manager action kinds, for faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Insert the new record.
    SeedRecord,
    /// Create the workspace.
    CreateWorkspace,
    /// Restore (or reuse) the workspace.
    RestoreWorkspace,
    /// Create the runtime.
    CreateRuntime,
    /// Destroy the runtime.
    DestroyRuntime,
    /// Destroy the workspace.
    DestroyWorkspace,
    /// Feed an input to the reducer and persist it.
    Reduce,
}

/// Two writers decide against the same revision of one session (a daemon
/// and a CLI, or two daemons).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaceSpec {
    /// The first writer's fact (its write lands).
    pub first: RaceFact,
    /// The second writer's fact (its write conflicts, re-reads and re-decides).
    pub second: RaceFact,
}

/// A fact one racing writer feeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RaceFact {
    /// An activity signal.
    Activity(ActivityFact),
    /// A probe.
    Probe(ProbeFact),
    /// An SCM fact.
    Scm(ScmFact),
    /// A manual kill.
    Kill(SessionRef),
    /// A restore (two restores racing from two drivers).
    Restore(SessionRef),
}

impl RaceFact {
    /// The session the fact concerns.
    pub fn session(&self) -> &SessionRef {
        match self {
            RaceFact::Activity(f) => &f.session,
            RaceFact::Probe(f) => &f.session,
            RaceFact::Scm(f) => &f.session,
            RaceFact::Kill(s) | RaceFact::Restore(s) => s,
        }
    }
}

/// A kill: `kill: s1` (manual) or `kill: {session: s1, kind: cleanup}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KillSpec {
    /// The session.
    pub session: SessionRef,
    /// Manual (default), cleanup or error.
    pub kind: ao_core::domain::KillKind,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct KillWire {
    session: SessionRef,
    #[serde(default = "manual")]
    kind: ao_core::domain::KillKind,
}

fn manual() -> ao_core::domain::KillKind {
    ao_core::domain::KillKind::Manual
}

impl<'de> Deserialize<'de> for KillSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KillSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a session id, or {session, kind: manual|cleanup|error}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KillSpec, E> {
                let session =
                    SessionRef::deserialize(serde::de::value::StrDeserializer::<E>::new(v))?;
                Ok(KillSpec {
                    session,
                    kind: manual(),
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<KillSpec, A::Error> {
                let w = KillWire::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(KillSpec {
                    session: w.session,
                    kind: w.kind,
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for KillSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.kind == manual() {
            self.session.serialize(s)
        } else {
            KillWire {
                session: self.session.clone(),
                kind: self.kind,
            }
            .serialize(s)
        }
    }
}

/// A message the human sends to the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendSpec {
    /// The session.
    pub session: SessionRef,
    /// The text.
    pub message: String,
}

/// A daemon crash (in-memory state lost, the store kept), then a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrashSpec {
    /// Override the restart latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_after: Option<Duration>,
}

/// A tick for every session (`tick: {}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickSpec {}

/// What must hold at a time (after everything at that time ran) or at the end.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// When to check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Duration>,
    /// Check at the end of the run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub r#final: bool,
    /// Display status per session.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<SessionRef, DisplayStatus>,
    /// Every send-to-agent delivered so far, by reaction, per session.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sends: BTreeMap<SessionRef, Vec<ReactionKey>>,
    /// Every notification so far per session: a reaction name, or `reaction.escalated`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notifications: BTreeMap<SessionRef, Vec<String>>,
    /// Text every delivered message of the session contains (checked on the last one).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub last_send_contains: BTreeMap<SessionRef, Vec<String>>,
    /// Budget attempts per session and reaction (absent tracker = 0).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attempts: BTreeMap<SessionRef, BTreeMap<ReactionKey, u32>>,
    /// Whether the session's runtime is alive in the world.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtime: BTreeMap<SessionRef, Presence>,
    /// Whether the session's workspace exists in the world.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub workspace: BTreeMap<SessionRef, Presence>,
    /// Whether a record exists in the store.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub record: BTreeMap<SessionRef, Presence>,
    /// Finished operations per session, as `kind:ok` / `kind:failed` / `kind:refused`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<SessionRef, Vec<String>>,
    /// Sessions a cleanup skipped (dirty workspaces kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_skipped: Option<Vec<SessionRef>>,
    /// Revision conflicts the store rejected so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<u32>,
    /// Every name held by something that is not ours, sorted (SPEC §7.22:
    /// what was there is still there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign: Option<Vec<String>>,
}

/// Present or absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// It exists.
    Present,
    /// It does not.
    Absent,
}
