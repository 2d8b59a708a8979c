//! The canonical session record (SPEC §2): the only persisted lifecycle.
//! It holds no display status; that is derived on every read.

use super::fingerprint::Fingerprint;
use super::ids::{Handle, IssueId, ProjectId, SessionId};
use super::reaction::ReactionPolicy;
use super::states::*;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Schema version of the record shape.
pub const RECORD_VERSION: u32 = 1;

/// The session axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionAxis {
    /// The state.
    pub state: SessionState,
    /// Why.
    pub reason: SessionReason,
}

/// The PR axis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PrAxis {
    /// The state.
    pub state: PrState,
    /// Why (the SCM ladder's result).
    pub reason: PrReason,
    /// PR number, once known.
    #[serde(default)]
    pub number: Option<u64>,
    /// PR URL, once known.
    #[serde(default)]
    pub url: Option<String>,
    /// A draft is open for incident rules but never a genuine recovery.
    #[serde(default)]
    pub draft: bool,
}

/// The runtime axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuntimeAxis {
    /// The state.
    pub state: RuntimeState,
    /// Why.
    pub reason: RuntimeReason,
}

/// The last accepted activity signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ActivityRecord {
    /// What the agent said.
    pub state: ActivityState,
    /// When (None until the first valid signal).
    pub last_activity_at: Option<Timestamp>,
    /// Who said it; `none` means hooks never fired.
    pub source: ActivitySource,
}

impl ActivityRecord {
    /// No signal yet.
    pub const NONE: ActivityRecord = ActivityRecord {
        state: ActivityState::Idle,
        last_activity_at: None,
        source: ActivitySource::None,
    };
}

/// Quarantine memory, present only while an ambiguous episode is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Quarantine {
    /// Consecutive observations with this fingerprint.
    pub attempts: u32,
    /// Start of the whole episode (kept across fingerprint changes).
    pub started_at: Timestamp,
    /// Time-free digest of the last ambiguous evidence.
    pub evidence_fingerprint: Fingerprint,
}

/// Every persisted lifecycle axis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// Session axis.
    pub session: SessionAxis,
    /// PR axis.
    pub pr: PrAxis,
    /// Runtime axis.
    pub runtime: RuntimeAxis,
    /// Activity record.
    pub activity: ActivityRecord,
    /// Quarantine memory.
    #[serde(default)]
    pub detecting: Option<Quarantine>,
}

impl Lifecycle {
    /// A freshly seeded spawn (SPEC §5).
    pub fn seeded() -> Lifecycle {
        Lifecycle {
            session: SessionAxis {
                state: SessionState::NotStarted,
                reason: SessionReason::SpawnRequested,
            },
            pr: PrAxis {
                state: PrState::None,
                reason: PrReason::NotCreated,
                number: None,
                url: None,
                draft: false,
            },
            runtime: RuntimeAxis {
                state: RuntimeState::Unknown,
                reason: RuntimeReason::SpawnIncomplete,
            },
            activity: ActivityRecord::NONE,
            detecting: None,
        }
    }
}

/// String metadata: handles, the stored prompt, and when spawn completed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Git branch.
    #[serde(default)]
    pub branch: String,
    /// Workspace path; absent until created.
    #[serde(default)]
    pub workspace_path: Option<Handle>,
    /// Runtime handle id; absent until created.
    #[serde(default)]
    pub runtime_handle: Option<Handle>,
    /// Runtime kind name (`process`, `tmux`, ...).
    #[serde(default)]
    pub runtime_name: String,
    /// The agent's own session id, which makes a resume possible.
    #[serde(default)]
    pub agent_session_id: Option<String>,
    /// When spawn completed (startup grace counts from here).
    #[serde(default)]
    pub spawned_at: Option<Timestamp>,
    /// The prompt the agent was launched with (a restore relaunches from it).
    #[serde(default)]
    pub prompt: String,
    /// The extra rules the agent was launched with (`{rules}`): a relaunch
    /// that dropped them would start an agent without its constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    /// The last failing CI log tail, sanitized and capped, while CI fails: a
    /// ci-failed message sent later (a re-delivery, after a restart) still carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_log_tail: Option<String>,
}

/// The canonical persisted record of one session.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionRecord {
    /// Record shape version.
    pub version: u32,
    /// Write counter and optimistic-concurrency token.
    pub revision: u64,
    /// Session id.
    pub id: SessionId,
    /// Project id.
    pub project_id: ProjectId,
    /// Issue id.
    pub issue_id: IssueId,
    /// Worker or orchestrator.
    pub kind: SessionKind,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last write time.
    pub updated_at: Timestamp,
    /// The lifecycle axes.
    pub lifecycle: Lifecycle,
    /// Handles and prompt.
    pub metadata: Metadata,
    /// Escalation policy state.
    #[serde(default)]
    pub policy: ReactionPolicy,
}

impl SessionRecord {
    /// Whether two records hold the same facts, ignoring the write bookkeeping
    /// (revision and write time), so "no write without a change" is checkable
    /// without copying a record.
    pub fn same_facts(&self, other: &SessionRecord) -> bool {
        let SessionRecord {
            version,
            revision: _,
            id,
            project_id,
            issue_id,
            kind,
            created_at,
            updated_at: _,
            lifecycle,
            metadata,
            policy,
        } = self;
        *version == other.version
            && *kind == other.kind
            && *created_at == other.created_at
            && *lifecycle == other.lifecycle
            && *policy == other.policy
            && *id == other.id
            && *project_id == other.project_id
            && *issue_id == other.issue_id
            && *metadata == other.metadata
    }

    /// A seeded record at revision 1 (the first write).
    pub fn seeded(
        id: SessionId,
        project_id: ProjectId,
        issue_id: IssueId,
        kind: SessionKind,
        now: Timestamp,
    ) -> SessionRecord {
        SessionRecord {
            version: RECORD_VERSION,
            revision: 1,
            id,
            project_id,
            issue_id,
            kind,
            created_at: now,
            updated_at: now,
            lifecycle: Lifecycle::seeded(),
            metadata: Metadata::default(),
            policy: ReactionPolicy::default(),
        }
    }

    /// Terminal (done or terminated).
    pub fn is_terminal(&self) -> bool {
        self.lifecycle.session.state.is_terminal()
    }
}
