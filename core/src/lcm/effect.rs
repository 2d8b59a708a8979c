//! Effects: what the driver must do, in order, after a step.

use crate::domain::{
    ActivityRecord, Metadata, PrAxis, Priority, ProjectId, Quarantine, ReactionKey, ReactionPolicy,
    RuntimeAxis, SessionAxis, SessionId, SessionRecord,
};
use crate::time::Timestamp;
use crate::wire::wire_enum;
use serde::{Deserialize, Serialize};

/// One thing the driver must do.
// Effects are short-lived and moved, never stored in bulk: boxing the patch
// would cost an allocation on every write for no memory win.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Effect {
    /// Write the patch if the stored revision still matches.
    Persist(Patch),
    /// Deliver a message into the agent's input.
    SendToAgent {
        /// Target session.
        session: SessionId,
        /// The reaction that sent it.
        reaction: ReactionKey,
        /// Sanitized text.
        message: String,
    },
    /// Tell the human.
    Notify(Notification),
}

wire_enum! {
    /// What a notification announces.
    pub enum NotificationKind ("notification kind") {
        /// A reaction fired.
        Reaction => "reaction",
        /// A reaction's budget ran out; the human must step in.
        Escalated => "reaction.escalated",
    }
}

/// A message for the human.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// Reaction or escalation.
    pub kind: NotificationKind,
    /// The reaction concerned.
    pub reaction: ReactionKey,
    /// How loud.
    pub priority: Priority,
    /// The session.
    pub session: SessionId,
    /// Its project.
    pub project: ProjectId,
    /// Text.
    pub message: String,
}

/// Three-way change of the quarantine memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QuarantineChange {
    /// Leave it as it is.
    #[default]
    Leave,
    /// Set it.
    Set(Quarantine),
    /// Clear it.
    Clear,
}

impl QuarantineChange {
    fn is_leave(&self) -> bool {
        matches!(self, QuarantineChange::Leave)
    }
}

/// A sparse merge-patch: only changed axes, plus the revision it was decided against.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// The revision the decision read; the store rejects a mismatch.
    pub expected_revision: u64,
    /// Write time (becomes `updated_at`).
    pub at: Timestamp,
    /// New session axis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionAxis>,
    /// New PR axis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<PrAxis>,
    /// New runtime axis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeAxis>,
    /// New activity record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityRecord>,
    /// Quarantine memory change.
    #[serde(default, skip_serializing_if = "QuarantineChange::is_leave")]
    pub detecting: QuarantineChange,
    /// New metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Box<Metadata>>,
    /// New escalation policy state (boxed: it changes rarely and is the largest part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Box<ReactionPolicy>>,
}

/// A write decided against an older revision than the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stale write: decided against revision {expected}, stored revision is {actual}")]
pub struct StaleRevision {
    /// The revision the patch expected.
    pub expected: u64,
    /// The stored revision.
    pub actual: u64,
}

impl Patch {
    /// The store's compare-and-swap: a patch applies only to the revision it was
    /// decided against (one definition for the store, the fakes and the invariants).
    pub fn admitted_at(&self, stored: u64) -> Result<(), StaleRevision> {
        if self.expected_revision == stored {
            Ok(())
        } else {
            Err(StaleRevision {
                expected: self.expected_revision,
                actual: stored,
            })
        }
    }
}

impl SessionRecord {
    /// Applies a patch with revision CAS: a stale patch is rejected and changes nothing.
    pub fn apply(&mut self, patch: &Patch) -> Result<(), StaleRevision> {
        patch.admitted_at(self.revision)?;
        let l = &mut self.lifecycle;
        if let Some(s) = patch.session {
            l.session = s;
        }
        if let Some(pr) = &patch.pr {
            l.pr.clone_from(pr);
        }
        if let Some(r) = patch.runtime {
            l.runtime = r;
        }
        if let Some(a) = patch.activity {
            l.activity = a;
        }
        match patch.detecting {
            QuarantineChange::Leave => {}
            QuarantineChange::Set(q) => l.detecting = Some(q),
            QuarantineChange::Clear => l.detecting = None,
        }
        if let Some(m) = &patch.metadata {
            self.metadata.clone_from(m);
        }
        if let Some(p) = &patch.policy {
            self.policy = **p;
        }
        self.revision += 1;
        self.updated_at = self.updated_at.max(patch.at);
        Ok(())
    }
}
