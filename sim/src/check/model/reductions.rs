//! What keeps the space small without losing a behaviour: forgetting what
//! no future decision reads, and treating slots as interchangeable.

use super::*;

impl stateright::Representative for State {
    /// Slots are interchangeable: sort them (by a stable hash), except while a
    /// cleanup runs (it names slots by position).
    fn representative(&self) -> Self {
        let mut s = self.clone();
        if s.cleanup.is_none() && s.slots.len() > 1 {
            s.slots.sort_by_cached_key(digest);
        }
        s
    }
}

impl CheckModel {
    /// Forgets what cannot influence the future: revisions (only compared
    /// within a step), the stored runtime axis (decisions read the probes),
    /// which of active/ready/idle was stored (one activity for every
    /// decision), and counts past the bound that reads them. Instants need
    /// nothing here: every step writes them at the model's fixed now, and
    /// only time passing ages them ([`Self::pass_time`]).
    pub(super) fn normalize(&self, n: &mut State) {
        let t = &self.cfg.thresholds;
        let cap = ao_core::decide::quarantine::attempt_cap(t);
        for slot in &mut n.slots {
            let g = &mut slot.ghost;
            g.q_same = g.q_same.min(u8::try_from(cap).unwrap_or(u8::MAX));
            g.dead_streak = g
                .dead_streak
                .min(u8::try_from(t.death_confirmations).unwrap_or(u8::MAX));
            let Some(rec) = &slot.rec else {
                continue;
            };
            let abstracted = |r: &SessionRecord| {
                let l = &r.lifecycle;
                l.runtime != Lifecycle::seeded().runtime
                    || matches!(l.activity.state, ActivityState::Ready | ActivityState::Idle)
            };
            let over_attempts =
                |r: &SessionRecord| r.lifecycle.detecting.is_some_and(|q| q.attempts > cap);
            // The observe profile has no world: nothing there reads a handle
            // (see [`SmEvent`]), so which ones a record names is forgotten.
            let env = self.alphabet.sm_events;
            let handles = |r: &SessionRecord| {
                env && (r.metadata.runtime_handle.is_some() || r.metadata.workspace_path.is_some())
            };
            if rec.revision == 1 && !abstracted(rec) && !over_attempts(rec) && !handles(rec) {
                continue;
            }
            slot.edit_rec(|r| {
                if env {
                    r.metadata.runtime_handle = None;
                    r.metadata.workspace_path = None;
                }
                r.revision = 1;
                r.lifecycle.runtime = Lifecycle::seeded().runtime;
                if matches!(
                    r.lifecycle.activity.state,
                    ActivityState::Ready | ActivityState::Idle
                ) {
                    r.lifecycle.activity.state = ActivityState::Active;
                }
                if let Some(q) = &mut r.lifecycle.detecting {
                    q.attempts = q.attempts.min(cap);
                }
            });
        }
    }
}
