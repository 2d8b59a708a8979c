//! Which sessions the reaper probes and the SCM poller polls: a pure function,
//! so the simulator exercises the daemon's exact selection.

use crate::domain::{PrState, SessionId, SessionKind, SessionRecord, SessionState};
use serde::Serialize;

/// What the reaper should do for one session.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReaperTarget {
    /// Probe it (quarantined sessions come first).
    Probe(SessionId),
    /// A terminal session still holding a runtime handle (never released): reclaim it.
    Reclaim(SessionId),
}

/// Reaper targets: quarantined sessions first, then every other non-terminal
/// session whose spawn completed, then terminal sessions whose runtime was never released; each group by id.
pub fn reaper_targets<'a>(
    records: impl IntoIterator<Item = &'a SessionRecord>,
) -> Vec<ReaperTarget> {
    let mut keyed: Vec<(u8, &SessionId)> = records
        .into_iter()
        .filter_map(|r| {
            let state = r.lifecycle.session.state;
            if state.is_terminal() {
                return r.metadata.runtime_handle.is_some().then_some((2, &r.id));
            }
            r.metadata.spawned_at?;
            Some((u8::from(state != SessionState::Detecting), &r.id))
        })
        .collect();
    keyed.sort();
    keyed
        .into_iter()
        .map(|(group, id)| match group {
            2 => ReaperTarget::Reclaim(id.clone()),
            _ => ReaperTarget::Probe(id.clone()),
        })
        .collect()
}

/// SCM poll targets: live worker sessions whose PR is not finished, by id.
pub fn scm_targets<'a>(records: impl IntoIterator<Item = &'a SessionRecord>) -> Vec<SessionId> {
    let mut ids: Vec<SessionId> = records
        .into_iter()
        .filter(|r| {
            r.kind == SessionKind::Worker
                && !r.is_terminal()
                && r.metadata.spawned_at.is_some()
                && matches!(r.lifecycle.pr.state, PrState::None | PrState::Open)
        })
        .map(|r| r.id.clone())
        .collect();
    ids.sort();
    ids
}
