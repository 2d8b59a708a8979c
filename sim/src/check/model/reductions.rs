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
    /// Forgets, in each slot, what cannot influence the future (see
    /// [`Self::canonical`]) and caps the ghost counters at the bound that
    /// reads them. A record written by a step is already canonical (the
    /// memoized step makes it so once); this catches the rest.
    pub(super) fn normalize(&self, n: &mut State) {
        let t = &self.cfg.thresholds;
        let cap = ao_core::decide::quarantine::attempt_cap(t);
        for slot in &mut n.slots {
            let g = &mut slot.ghost;
            g.q_same = g.q_same.min(u8::try_from(cap).unwrap_or(u8::MAX));
            g.dead_streak = g
                .dead_streak
                .min(u8::try_from(t.death_confirmations).unwrap_or(u8::MAX));
            if slot.rec.as_deref().is_some_and(|r| !self.is_canonical(r)) {
                slot.edit_rec(|r| self.canonical(r));
            }
        }
    }

    /// Whether `r` is already in its canonical form.
    pub(super) fn is_canonical(&self, r: &SessionRecord) -> bool {
        let cap = ao_core::decide::quarantine::attempt_cap(&self.cfg.thresholds);
        let l = &r.lifecycle;
        let handles = self.alphabet.sm_events
            && (r.metadata.runtime_handle.is_some() || r.metadata.workspace_path.is_some());
        r.revision == 1
            && l.runtime == Lifecycle::seeded().runtime
            && !matches!(l.activity.state, ActivityState::Ready | ActivityState::Idle)
            && l.detecting.is_none_or(|q| q.attempts <= cap)
            && !handles
    }

    /// Forgets what cannot influence the future: the revision (only compared
    /// within a step), the stored runtime axis (decisions read the probes),
    /// which of active/ready/idle was stored (one activity for every
    /// decision), quarantine attempts past the bound that reads them, and in
    /// the observe profile, which has no world, the handles a record names
    /// (no decision reads them: see [`SmEvent`]). Instants need nothing here:
    /// every step writes them at the model's fixed now, and only time passing
    /// ages them ([`Self::pass_time`]).
    pub(super) fn canonical(&self, r: &mut SessionRecord) {
        let cap = ao_core::decide::quarantine::attempt_cap(&self.cfg.thresholds);
        if self.alphabet.sm_events {
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
    }
}
