//! Inputs to the step (SPEC §4): facts, outcomes and ticks, each with its time.

use crate::domain::{
    ActivitySource, ActivityState, Confidence, Handle, KillKind, PrState, Probe, ReactionKey,
    SessionId,
};
use crate::time::Timestamp;
use crate::wire::wire_enum;
use serde::{Deserialize, Serialize};

/// One input for one session, with the time it was observed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The session it concerns.
    pub session: SessionId,
    /// When it was observed.
    pub at: Timestamp,
    /// What happened.
    pub event: Event,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// The reaper's two probes.
    Runtime(RuntimeObservation),
    /// An agent activity signal.
    Activity(ActivitySignal),
    /// The SCM poller's view of the session's PR.
    Scm(ScmObservation),
    /// The session manager finished spawning (or restoring) the runtime.
    SpawnCompleted(SpawnHandles),
    /// The one explicit terminal write.
    KillRequested {
        /// Manual, cleanup or error.
        kind: KillKind,
    },
    /// A restore reopens a terminal session's lifecycle: its claim. It only
    /// succeeds on a terminal record that names no runtime but the one the
    /// restore stopped, so a restore planned from an older snapshot (another
    /// restore ran in between and left a runtime behind) cannot forget it.
    Reopened {
        /// The runtime the restore stopped first (the one the terminal record
        /// named when the restore was planned).
        #[serde(default)]
        stopped: Option<Handle>,
    },
    /// The session manager destroyed these handles; metadata forgets them.
    Released {
        /// The runtime was destroyed.
        #[serde(default)]
        runtime: bool,
        /// The workspace was destroyed.
        #[serde(default)]
        workspace: bool,
    },
    /// The session manager could not free these handles (a failed destroy, a
    /// dirty workspace kept): the record takes them, so a reclaim or a cleanup
    /// can free them later and nothing lives on without a record.
    Adopted {
        /// A runtime still alive.
        #[serde(default)]
        runtime_handle: Option<Handle>,
        /// A workspace still on disk.
        #[serde(default)]
        workspace_path: Option<Handle>,
    },
    /// The agent reported its own session id (e.g. from a hook), so a restore can resume it.
    AgentIdentified {
        /// The agent's session id.
        agent_session_id: String,
    },
    /// A send-to-agent could not be delivered; its attempt is refunded.
    DeliveryFailed {
        /// The reaction whose message failed.
        reaction: ReactionKey,
    },
    /// Periodic tick: fires duration escalations the reducer cannot wake itself for.
    Tick,
}

/// The reaper's observation: the runtime probe and the agent-process probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeObservation {
    /// Is the runtime (tmux session, process group) there?
    pub runtime: Probe,
    /// Is the agent process there?
    pub process: Probe,
}

/// An activity signal from an agent hook, its log, or the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivitySignal {
    /// What the agent is doing.
    pub state: ActivityState,
    /// Only `valid` signals count.
    pub confidence: Confidence,
    /// Who reported it.
    pub source: ActivitySource,
}

/// The SCM poller's result: a failed fetch is not "no PR".
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScmObservation {
    /// The query failed or timed out: nothing may change.
    FetchFailed,
    /// The query answered.
    Fetched(PrFacts),
}

wire_enum! {
    /// CI summary of the PR head.
    pub enum CiSummary ("CI summary") {
        /// No CI configured or reported.
        None => "none",
        /// Running.
        Pending => "pending",
        /// Green.
        Passing => "passing",
        /// Red.
        Failing => "failing",
    }
}

wire_enum! {
    /// The review decision.
    pub enum ReviewDecision ("review decision") {
        /// No review requested.
        None => "none",
        /// Requested, not given.
        Pending => "pending",
        /// Approved.
        Approved => "approved",
        /// Changes requested.
        ChangesRequested => "changes_requested",
    }
}

/// What the SCM says about merging.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mergeability {
    /// Every gate passes (the authoritative gate).
    pub mergeable: bool,
    /// Required checks pass.
    pub ci_passing: bool,
    /// Required approvals given.
    pub approved: bool,
    /// No conflicts with the base.
    pub no_conflicts: bool,
    /// Human-readable blockers.
    pub blockers: Vec<String>,
}

impl Default for Mergeability {
    fn default() -> Self {
        Mergeability {
            mergeable: false,
            ci_passing: false,
            approved: false,
            no_conflicts: true,
            blockers: Vec::new(),
        }
    }
}

/// A pending review comment (untrusted text).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewComment {
    /// Who wrote it.
    pub author: String,
    /// What it says.
    pub body: String,
    /// Written by a bot.
    #[serde(default)]
    pub is_bot: bool,
    /// Where it is.
    #[serde(default)]
    pub url: String,
}

/// The facts of a successful SCM fetch.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrFacts {
    /// PR state (`none` changes nothing).
    pub state: PrState,
    /// PR number.
    #[serde(default)]
    pub number: Option<u64>,
    /// PR URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Draft PR.
    #[serde(default)]
    pub draft: bool,
    /// CI summary.
    #[serde(default = "ci_none")]
    pub ci: CiSummary,
    /// Review decision.
    #[serde(default = "review_none")]
    pub review: ReviewDecision,
    /// Mergeability.
    #[serde(default)]
    pub mergeability: Mergeability,
    /// Pending review comments.
    #[serde(default)]
    pub comments: Vec<ReviewComment>,
    /// Tail of the failing CI job's log (only when CI fails).
    #[serde(default)]
    pub ci_log_tail: Option<String>,
}

fn ci_none() -> CiSummary {
    CiSummary::None
}

fn review_none() -> ReviewDecision {
    ReviewDecision::None
}

impl PrFacts {
    /// A PR in `state` with nothing else known (what an adapter reports
    /// before, or instead of, the per-PR details).
    pub fn in_state(state: PrState) -> PrFacts {
        PrFacts {
            state,
            number: None,
            url: None,
            draft: false,
            ci: CiSummary::None,
            review: ReviewDecision::None,
            mergeability: Mergeability::default(),
            comments: Vec::new(),
            ci_log_tail: None,
        }
    }

    /// An open PR with nothing notable (a base for building facts).
    pub fn open(number: u64) -> PrFacts {
        PrFacts {
            number: Some(number),
            ..PrFacts::in_state(PrState::Open)
        }
    }
}

/// Handles reported when a spawn (or restore) created its runtime.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpawnHandles {
    /// The workspace.
    pub workspace_path: Handle,
    /// The runtime.
    pub runtime_handle: Handle,
    /// Runtime kind name.
    #[serde(default)]
    pub runtime_name: String,
    /// Git branch.
    #[serde(default)]
    pub branch: String,
    /// The agent's own session id, if known (enables resume).
    #[serde(default)]
    pub agent_session_id: Option<String>,
}
