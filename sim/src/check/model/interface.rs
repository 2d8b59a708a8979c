//! The seam of the composition: what the session manager can see of a
//! record, the only ways an observation may change it, and the envelope of
//! record writes the observe profile's environment offers (see the
//! `check` module docs).

use super::*;

/// The bit a broken composition interface sets in [`Broken::mask`] (above
/// every SPEC property's bit).
pub const INTERFACE_BIT: u32 = 1 << 31;

/// What the session manager can see of a record: everything a plan, an
/// operation's record write, a reclaim or a world property reads. The
/// composition of the observe and manage profiles rests on observations
/// changing it only as the manage profile's own observations can
/// ([`observation_keeps_interface`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmView<'a> {
    /// Terminal (restorable, a cleanup candidate, reclaimable).
    pub terminal: bool,
    /// Still `not_started` (a record stuck spawning is a leak).
    pub not_started: bool,
    /// Handles, prompt, branch, agent session, spawn completion (but not the
    /// CI log tail, which only reactions read).
    pub handles: (
        Option<&'a Handle>,
        Option<&'a Handle>,
        &'a str,
        &'a str,
        Option<&'a String>,
        bool,
    ),
    /// Worker or orchestrator.
    pub kind: SessionKind,
}

/// The session manager's view of `rec`.
pub fn sm_view(rec: &SessionRecord) -> SmView<'_> {
    let m = &rec.metadata;
    SmView {
        terminal: rec.is_terminal(),
        not_started: rec.lifecycle.session.state == SessionState::NotStarted,
        handles: (
            m.runtime_handle.as_ref(),
            m.workspace_path.as_ref(),
            &m.branch,
            &m.prompt,
            m.agent_session_id.as_ref(),
            m.spawned_at.is_some(),
        ),
        kind: rec.kind,
    }
}

/// An observation may change the session manager's view only as the manage
/// profile's observations can: not at all, by the agent starting (no longer
/// `not_started`, still live), or by a confirmed death (terminated,
/// `runtime_lost`, by a probe).
pub fn observation_keeps_interface(
    before: &SessionRecord,
    event: &Event,
    after: &SessionRecord,
) -> bool {
    let (b, a) = (sm_view(before), sm_view(after));
    if b == a {
        return true;
    }
    let same_handles = b.handles == a.handles && b.kind == a.kind;
    let started = b.not_started && !a.not_started && !b.terminal && !a.terminal;
    let died = !b.terminal
        && a.terminal
        && matches!(event, Event::Runtime(_))
        && after.lifecycle.session.reason == ao_core::domain::SessionReason::RuntimeLost;
    same_handles && (started || died)
}

/// Whether a session-manager event the store accepted lies in the envelope
/// the observe profile offers ([`SmEvent`]): spawn completion only for a
/// record whose spawn (or restore) has not completed yet.
pub fn sm_event_in_envelope(before: &SessionRecord, event: &Event) -> bool {
    match event {
        Event::SpawnCompleted(_) => before.metadata.spawned_at.is_none() && !before.is_terminal(),
        _ => true,
    }
}
