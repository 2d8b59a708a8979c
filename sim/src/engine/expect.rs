//! Expectations: what a scenario says must hold at a time or at the end.

use super::{notification_name, Sim};
use crate::scenario::Presence;
use ao_core::domain::{display_status, SessionId};

impl Sim<'_> {
    pub(super) fn check_expectation(&mut self, i: usize) {
        let e = &self.sc.expect[i];
        let when = match e.at {
            Some(at) => format!("at {at}"),
            None => "at the end".to_owned(),
        };
        let mut failures = Vec::new();
        let sid = |s: &crate::scenario::SessionRef| SessionId(s.0.clone());
        for (s, want) in &e.status {
            let got = self
                .world
                .store
                .records
                .get(&sid(s))
                .map(|r| display_status(&r.lifecycle).to_string())
                .unwrap_or_else(|| "(no record)".into());
            if got != want.as_str() {
                failures.push(format!("{when}: {s} status: expected {want}, got {got}"));
            }
        }
        for (s, want) in &e.sends {
            let got: Vec<String> = self
                .world
                .delivered
                .get(&sid(s))
                .map(|d| {
                    d.iter()
                        .filter_map(|m| m.reaction.map(|r| r.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let want: Vec<String> = want.iter().map(ToString::to_string).collect();
            if got != want {
                failures.push(format!("{when}: {s} sends: expected {want:?}, got {got:?}"));
            }
        }
        for (s, want) in &e.notifications {
            let got: Vec<String> = self
                .world
                .notified
                .get(&sid(s))
                .map(|n| n.iter().map(notification_name).collect())
                .unwrap_or_default();
            if &got != want {
                failures.push(format!(
                    "{when}: {s} notifications: expected {want:?}, got {got:?}"
                ));
            }
        }
        for (s, needles) in &e.last_send_contains {
            let last = self
                .world
                .delivered
                .get(&sid(s))
                .and_then(|d| d.last())
                .map(|m| m.message.clone());
            match last {
                None => failures.push(format!(
                    "{when}: {s}: expected a delivered message, none was"
                )),
                Some(text) => {
                    for needle in needles {
                        if !text.contains(needle.as_str()) {
                            failures.push(format!(
                                "{when}: {s}: last message lacks {needle:?}: {text:?}"
                            ));
                        }
                    }
                }
            }
        }
        for (s, per) in &e.attempts {
            let rec = self.world.store.records.get(&sid(s));
            for (key, want) in per {
                let got = rec
                    .and_then(|r| r.policy.get(*key))
                    .map_or(0, |t| t.attempts);
                if got != *want {
                    failures.push(format!(
                        "{when}: {s} {key} attempts: expected {want}, got {got}"
                    ));
                }
            }
        }
        for (s, want) in &e.runtime {
            let alive = self.world.runtimes_of(&sid(s)).next().is_some();
            if alive != (*want == Presence::Present) {
                failures.push(format!(
                    "{when}: {s} runtime: expected {want:?}, alive={alive}"
                ));
            }
        }
        for (s, want) in &e.workspace {
            let id = sid(s);
            let exists = self.world.workspaces.values().any(|w| w.session == id);
            if exists != (*want == Presence::Present) {
                failures.push(format!(
                    "{when}: {s} workspace: expected {want:?}, exists={exists}"
                ));
            }
        }
        for (s, want) in &e.record {
            let exists = self.world.store.records.contains_key(&sid(s));
            if exists != (*want == Presence::Present) {
                failures.push(format!(
                    "{when}: {s} record: expected {want:?}, exists={exists}"
                ));
            }
        }
        for (s, want) in &e.operations {
            let got = self.results.get(&sid(s)).cloned().unwrap_or_default();
            if &got != want {
                failures.push(format!(
                    "{when}: {s} operations: expected {want:?}, got {got:?}"
                ));
            }
        }
        if let Some(want) = &e.cleanup_skipped {
            let want: Vec<SessionId> = want.iter().map(sid).collect();
            if self.cleanup_skipped != want {
                failures.push(format!(
                    "{when}: cleanup skipped: expected {want:?}, got {:?}",
                    self.cleanup_skipped
                ));
            }
        }
        if let Some(want) = e.conflicts {
            if self.world.store.conflicts != want {
                failures.push(format!(
                    "{when}: revision conflicts: expected {want}, got {}",
                    self.world.store.conflicts
                ));
            }
        }
        if let Some(want) = &e.foreign {
            let w = &self.world;
            let mut got: Vec<String> = w
                .foreign_runtimes
                .keys()
                .chain(w.foreign_workspaces.keys())
                .map(ToString::to_string)
                .collect();
            got.sort();
            if &got != want {
                failures.push(format!("{when}: foreign: expected {want:?}, got {got:?}"));
            }
        }
        for f in &failures {
            self.note("-", "expect", format!("FAILED {f}"));
        }
        self.failures.extend(failures);
    }
}
