//! The world properties (SPEC §7.7-9, §7.19, §7.22) over each slot's
//! record and fakes, memoized per configuration.

use super::*;

impl CheckModel {
    /// World properties (`check_world`), one slot at a time with every
    /// in-flight operation (the leak rules wait for all of them).
    /// Only slots whose world changed since `prev` are checked again (unless
    /// the set of operations in flight changed: the leak rules depend on it).
    pub(super) fn world_check(&self, prev: &State, n: &State, v: &mut Viol) {
        // The observe profile's session manager is an environment that
        // writes records without touching the world: world properties are
        // the manage profile's to check.
        if self.alphabet.sm_events {
            return;
        }
        let in_flight = |s: &State| {
            s.slots.iter().filter(|s| s.op.is_some()).count()
                + s.cleanup.as_ref().map_or(0, |c| {
                    c.items.iter().filter(|(_, op)| !op.is_done()).count()
                })
        };
        let count = in_flight(n);
        let all = count != in_flight(prev) || prev.slots.len() != n.slots.len();
        let ops = vec![OpProgress { steps: 0, bound: 1 }; count];
        for (i, slot) in n.slots.iter().enumerate() {
            let old = &prev.slots[i.min(prev.slots.len().saturating_sub(1))];
            let same_record = match (&old.rec, &slot.rec) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            let unchanged = same_record
                && old.rt == slot.rt
                && old.ws == slot.ws
                && old.dirty_deleted == slot.dirty_deleted;
            if unchanged && !all {
                continue;
            }
            let idle = slot.rec.is_none()
                && slot.ws == Ws::Absent
                && !slot.dirty_deleted
                && !slot.foreign_destroyed
                && !slot.foreign_adopted
                && !slot.rt.iter().any(|r| r.alive());
            if idle {
                continue;
            }
            // Everything the view below is built from (a mutant's fakes
            // differ, but each run checks one supervisor).
            let key = digest(&(
                slot.rec_digest,
                slot.rt,
                slot.ws,
                slot.dirty_deleted,
                slot.foreign,
                slot.foreign_adopted,
                slot.foreign_destroyed,
                count,
            ));
            if super::memo::known_clean(key) {
                continue;
            }
            let view = WorldView {
                records: slot.rec.as_deref().into_iter().collect(),
                runtimes: slot
                    .rt
                    .iter()
                    .zip(&self.rts)
                    .filter(|(r, _)| r.alive())
                    .map(|(_, h)| LiveRuntime {
                        session: self.sid.clone(),
                        handle: h.clone(),
                    })
                    .collect(),
                workspaces: if slot.ws == Ws::Absent {
                    Vec::new()
                } else {
                    vec![WorkspaceView {
                        session: self.sid.clone(),
                        path: self.ws.clone(),
                    }]
                },
                dirty_deleted: if slot.dirty_deleted {
                    vec![self.ws.clone()]
                } else {
                    Vec::new()
                },
                ops: ops.clone(),
                foreign_adopted: if slot.foreign_adopted {
                    self.foreign_name(slot.foreign).into_iter().collect()
                } else {
                    Vec::new()
                },
                foreign_destroyed: if slot.foreign_destroyed {
                    vec![self.ws.clone()]
                } else {
                    Vec::new()
                },
            };
            if check_world(&view).is_err() {
                for (property, check) in WORLD_PROPERTIES {
                    if let Err(detail) = check(&view) {
                        v.add(*property, || format!("session {}: {detail}", i + 1));
                    }
                }
            } else {
                super::memo::remember_clean(key);
            }
        }
    }
}
