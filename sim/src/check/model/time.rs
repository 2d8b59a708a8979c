//! Time without a horizon: the model's now never moves; a tick ages every
//! stored instant by one unit and cuts ages off at their timers' horizons
//! (`ao_core::timers::extrapolate`), so time passing reaches a fixpoint.

use super::*;

impl CheckModel {
    /// The model's now never moves: time passing ages the stored instants
    /// instead (see [`Action::Tick`]).
    pub(super) fn now(&self) -> Timestamp {
        fixtures::NOW
    }

    /// One unit of time passes. The clock does not move: every stored
    /// instant ages by a unit instead, and ages past the largest threshold
    /// that reads them are cut off (`timers::extrapolate`), so time passing
    /// reaches a fixpoint and the space is finite without a horizon.
    pub(super) fn pass_time(&self, n: &mut State) {
        let cap = self.units(self.cfg.thresholds.quarantine_max_duration);
        for slot in &mut n.slots {
            slot.polled = Polled::default();
            if let Some(age) = &mut slot.ghost.q_age {
                *age = age.saturating_add(1).min(cap);
            }
            slot.edit_rec(|r| {
                timers::age_by(r, fixtures::UNIT);
                timers::extrapolate(r, fixtures::NOW, &self.cfg);
            });
        }
    }

    /// A duration in whole model units (saturating).
    pub(super) fn units(&self, d: ao_core::time::Duration) -> u8 {
        u8::try_from(d.as_millis() / fixtures::UNIT.as_millis()).unwrap_or(u8::MAX)
    }
}
