//! Deterministic shrinking of a failing scenario: delta debugging over the
//! steps (remove chunks, halving down to single steps), then simplification
//! (fault rates to zero, observers off, config and latency back to defaults,
//! unused sessions dropped, steps made plainer, gaps closed; a fault rate
//! that is needed is tried at 1, which no longer depends on the PRNG), repeated to a
//! fixpoint within a budget of runs. A candidate is kept only if `fails`
//! still says so, so the caller decides what "the same failure" means.

use crate::scenario::{
    AgentSpec, FaultRates, Latency, PrSpec, Scenario, SessionRef, SessionSpec, Step, StepAction,
    WorldChange,
};
use ao_core::config::ThresholdOverrides;
use ao_core::domain::{ActivitySource, Confidence, SessionKind};
use ao_core::time::Duration;
use std::collections::BTreeSet;

/// The result of shrinking.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smallest failing scenario found.
    pub scenario: Scenario,
    /// Candidate runs spent.
    pub runs: usize,
    /// The budget ran out before a fixpoint (the result may not be 1-minimal).
    pub exhausted: bool,
}

/// Shrinks `failing` (which `fails` must accept) with at most `budget` calls
/// of `fails`. When the budget is not exhausted the result is 1-minimal in its
/// steps: removing any single step makes `fails` false.
pub fn shrink<F: FnMut(&Scenario) -> bool>(failing: &Scenario, budget: usize, fails: F) -> Shrunk {
    let mut s = Shrinker {
        best: failing.clone(),
        runs: 0,
        budget,
        fails,
    };
    loop {
        let before = s.best.clone();
        // Rates first: certain faults make the step removals that follow
        // independent of the PRNG stream.
        s.rates();
        s.steps();
        s.simplify();
        if s.exhausted() || s.best == before {
            break;
        }
    }
    Shrunk {
        exhausted: s.exhausted(),
        runs: s.runs,
        scenario: s.best,
    }
}

struct Shrinker<F> {
    best: Scenario,
    runs: usize,
    budget: usize,
    fails: F,
}

impl<F: FnMut(&Scenario) -> bool> Shrinker<F> {
    fn exhausted(&self) -> bool {
        self.runs >= self.budget
    }

    /// Runs a candidate; keeps it if it still fails.
    fn attempt(&mut self, candidate: Scenario) -> bool {
        if self.exhausted() || candidate == self.best {
            return false;
        }
        self.runs += 1;
        if (self.fails)(&candidate) {
            self.best = candidate;
            true
        } else {
            false
        }
    }

    /// Tries an edit of the current best; `edit` returns false when it does not apply.
    fn edit(&mut self, edit: impl FnOnce(&mut Scenario) -> bool) -> bool {
        let mut c = self.best.clone();
        edit(&mut c) && self.attempt(c)
    }

    /// Delta debugging over the steps, ending with a pass of single-step
    /// removals that removes nothing (1-minimality).
    fn steps(&mut self) {
        let mut chunk = (self.best.steps.len() / 2).max(1);
        while !self.best.steps.is_empty() && !self.exhausted() {
            let mut progressed = false;
            // From the end: steps after the failure are the cheapest to lose.
            let mut end = self.best.steps.len();
            while end > 0 && !self.exhausted() {
                let start = end.saturating_sub(chunk);
                let removed = self.edit(|c| {
                    c.steps.drain(start..end);
                    true
                });
                progressed |= removed;
                end = start.min(self.best.steps.len());
            }
            if !progressed {
                if chunk == 1 {
                    break;
                }
                chunk /= 2;
            }
            chunk = chunk.min(self.best.steps.len().max(1));
        }
    }

    fn simplify(&mut self) {
        self.rates();
        self.observers();
        self.config();
        self.latency();
        self.sessions();
        self.step_contents();
        self.times();
    }

    fn rates(&mut self) {
        let fields: [fn(&mut FaultRates) -> &mut f64; 8] = [
            |r| &mut r.probe_fail,
            |r| &mut r.fetch_fail,
            |r| &mut r.signal_lost,
            |r| &mut r.signal_stale,
            |r| &mut r.delivery_fail,
            |r| &mut r.notify_fail,
            |r| &mut r.store_fail,
            |r| &mut r.action_fail,
        ];
        if self.best.faults != FaultRates::default()
            && self.edit(|c| {
                c.faults = FaultRates::default();
                true
            })
        {
            return;
        }
        for field in fields {
            // Zero it; else make it certain: a rate of 1 draws nothing from
            // the PRNG, so later edits no longer shift which events fail.
            for to in [0.0, 1.0] {
                if self.edit(|c| {
                    let rate = field(&mut c.faults);
                    let was = *rate;
                    *rate = to;
                    was != 0.0 && was != to
                }) {
                    break;
                }
            }
        }
    }

    fn observers(&mut self) {
        self.edit(|c| std::mem::replace(&mut c.observers.reaper, false));
        self.edit(|c| std::mem::replace(&mut c.observers.scm, false));
        self.edit(|c| std::mem::replace(&mut c.observers.ticks, false));
    }

    fn config(&mut self) {
        let fields: [fn(&mut ThresholdOverrides) -> bool; 8] = [
            |t| t.recent_activity_window.take().is_some(),
            |t| t.death_confirmations.take().is_some(),
            |t| t.spawn_grace.take().is_some(),
            |t| t.quarantine_max_attempts.take().is_some(),
            |t| t.quarantine_max_duration.take().is_some(),
            |t| t.reaper_interval.take().is_some(),
            |t| t.scm_interval.take().is_some(),
            |t| t.tick_interval.take().is_some(),
        ];
        for field in fields {
            self.edit(|c| field(&mut c.config.thresholds));
        }
        let keys: Vec<_> = self.best.config.reactions.keys().copied().collect();
        for key in keys {
            if self.edit(|c| c.config.reactions.remove(&key).is_some()) {
                continue;
            }
            let fields: [fn(&mut ao_core::config::ReactionOverride) -> bool; 6] = [
                |o| o.action.take().is_some(),
                |o| o.message.take().is_some(),
                |o| o.retries.take().is_some(),
                |o| o.escalate_after.take().is_some(),
                |o| o.priority.take().is_some(),
                |o| o.enabled.take().is_some(),
            ];
            for field in fields {
                self.edit(|c| c.config.reactions.get_mut(&key).is_some_and(field));
            }
        }
        // Smaller numbers: retries and confirmation counts towards their minimum.
        let keys: Vec<_> = self.best.config.reactions.keys().copied().collect();
        for key in keys {
            while self.edit(|c| {
                c.config
                    .reactions
                    .get_mut(&key)
                    .and_then(|o| o.retries.as_mut())
                    .is_some_and(|r| {
                        let was = *r;
                        *r = r.saturating_sub(1);
                        was > 0
                    })
            }) {}
        }
        while self.edit(|c| {
            c.config
                .thresholds
                .death_confirmations
                .as_mut()
                .is_some_and(|d| {
                    let was = *d;
                    *d = (*d - 1).max(2);
                    was > 2
                })
        }) {}
        while self.edit(|c| {
            c.config
                .thresholds
                .quarantine_max_attempts
                .as_mut()
                .is_some_and(|d| {
                    let was = *d;
                    *d = (*d - 1).max(1);
                    was > 1
                })
        }) {}
    }

    fn latency(&mut self) {
        if self.edit(|c| std::mem::take(&mut c.latency) != Latency::default()) {
            return;
        }
        let d = Latency::default();
        self.edit(|c| std::mem::replace(&mut c.latency.action, d.action) != d.action);
        self.edit(|c| {
            std::mem::replace(&mut c.latency.agent_start, d.agent_start) != d.agent_start
        });
        self.edit(|c| std::mem::replace(&mut c.latency.restart, d.restart) != d.restart);
    }

    fn sessions(&mut self) {
        // Drop sessions no step refers to (keeping one declaring each referenced project).
        self.edit(|c| {
            let (sessions, projects) = referenced(&c.steps);
            let before = c.sessions.len();
            let mut kept: Vec<SessionSpec> = Vec::new();
            for s in &c.sessions {
                let needed_for_project = projects.contains(&s.project)
                    && !kept.iter().any(|k| k.project == s.project)
                    && !c
                        .sessions
                        .iter()
                        .any(|o| o.project == s.project && sessions.contains(&o.id));
                if sessions.contains(&s.id) || needed_for_project {
                    kept.push(s.clone());
                }
            }
            c.sessions = kept;
            c.sessions.len() < before
        });
        for i in 0..self.best.sessions.len() {
            let d = AgentSpec::default();
            if self.edit(|c| std::mem::take(&mut c.sessions[i].agent) != d) {
                continue;
            }
            self.edit(|c| {
                std::mem::replace(&mut c.sessions[i].agent.ack_after, d.ack_after) != d.ack_after
            });
            self.edit(|c| {
                std::mem::replace(&mut c.sessions[i].agent.resumable, d.resumable) != d.resumable
            });
            self.edit(|c| std::mem::replace(&mut c.sessions[i].agent.busy, d.busy) != d.busy);
        }
        for i in 0..self.best.sessions.len() {
            self.edit(|c| {
                std::mem::replace(&mut c.sessions[i].kind, SessionKind::Worker)
                    != SessionKind::Worker
            });
        }
    }

    fn step_contents(&mut self) {
        for i in 0..self.best.steps.len() {
            let mut v = 0;
            // Variants are recomputed from the current step after each success.
            loop {
                let variants = simpler(&self.best.steps[i].action);
                let Some(next) = variants.into_iter().nth(v) else {
                    break;
                };
                if !self.edit(|c| {
                    c.steps[i].action = next;
                    true
                }) {
                    v += 1;
                }
                if self.exhausted() {
                    return;
                }
            }
        }
    }

    /// Closes gaps between steps (and before the first), shifting every later step.
    fn times(&mut self) {
        for i in 0..self.best.steps.len() {
            let prev = if i == 0 {
                Duration(0)
            } else {
                self.best.steps[i - 1].at
            };
            let gap = self.best.steps[i].at.0.saturating_sub(prev.0);
            if gap == 0 {
                continue;
            }
            if !self.edit(|c| shift(&mut c.steps[i..], gap)) {
                self.edit(|c| shift(&mut c.steps[i..], gap / 2));
            }
        }
    }
}

fn shift(steps: &mut [Step], by: u64) -> bool {
    for s in steps.iter_mut() {
        s.at = Duration(s.at.0.saturating_sub(by));
    }
    by > 0
}

/// The sessions and projects the steps refer to.
fn referenced(steps: &[Step]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut sessions = BTreeSet::new();
    let mut projects = BTreeSet::new();
    let mut add = |s: &SessionRef| {
        sessions.insert(s.0.clone());
    };
    for step in steps {
        match &step.action {
            StepAction::Spawn(s) | StepAction::Restore(s) => add(s),
            StepAction::Kill(k) => add(&k.session),
            StepAction::Cleanup(p) => {
                projects.insert(p.0.clone());
            }
            StepAction::Send(f) => add(&f.session),
            StepAction::Activity(f) => add(&f.session),
            StepAction::Probe(f) => add(&f.session),
            StepAction::Scm(f) => add(&f.session),
            StepAction::World(f) => add(&f.session),
            StepAction::Fault(f) => {
                if let Some(s) = &f.session {
                    add(s);
                }
            }
            StepAction::Race(r) => add(r.first.session()),
            StepAction::Tick(_) | StepAction::Crash(_) => {}
        }
    }
    (sessions, projects)
}

/// Plainer versions of a step's action, most drastic first.
fn simpler(a: &StepAction) -> Vec<StepAction> {
    let mut out = Vec::new();
    match a {
        StepAction::Fault(f) => {
            if f.times > 1 {
                let mut g = f.clone();
                g.times = 1;
                out.push(StepAction::Fault(g));
            }
            if f.session.is_some() {
                let mut g = f.clone();
                g.session = None;
                out.push(StepAction::Fault(g));
            }
        }
        StepAction::Crash(c) if c.restart_after.is_some() => {
            out.push(StepAction::Crash(Default::default()));
        }
        StepAction::Activity(f) => {
            if f.confidence != Confidence::Valid {
                let mut g = f.clone();
                g.confidence = Confidence::Valid;
                out.push(StepAction::Activity(g));
            }
            if f.source != ActivitySource::Hook {
                let mut g = f.clone();
                g.source = ActivitySource::Hook;
                out.push(StepAction::Activity(g));
            }
        }
        StepAction::Send(s) if s.message != "please continue" => {
            let mut g = s.clone();
            g.message = "please continue".into();
            out.push(StepAction::Send(g));
        }
        StepAction::Scm(f) => {
            if let Some(pr) = &f.pr {
                for p in simpler_pr(pr) {
                    let mut g = f.clone();
                    g.pr = Some(p);
                    out.push(StepAction::Scm(g));
                }
            }
        }
        StepAction::World(w) => {
            // One change at a time.
            let parts = world_parts(w);
            if parts.len() > 1 {
                out.extend(parts.into_iter().map(StepAction::World));
            }
            if let Some(pr) = &w.pr {
                for p in simpler_pr(pr) {
                    let mut g = w.clone();
                    g.pr = Some(p);
                    out.push(StepAction::World(g));
                }
            }
        }
        _ => {}
    }
    out
}

fn world_parts(w: &WorldChange) -> Vec<WorldChange> {
    let empty = WorldChange::nothing(w.session.clone());
    let mut parts = Vec::new();
    if w.process.is_some() {
        parts.push(WorldChange {
            process: w.process,
            ..empty.clone()
        });
    }
    if w.runtime_lost {
        parts.push(WorldChange {
            runtime_lost: true,
            ..empty.clone()
        });
    }
    if w.workspace.is_some() {
        parts.push(WorldChange {
            workspace: w.workspace,
            ..empty.clone()
        });
    }
    if w.busy.is_some() {
        parts.push(WorldChange {
            busy: w.busy,
            ..empty.clone()
        });
    }
    if w.pr.is_some() {
        parts.push(WorldChange {
            pr: w.pr.clone(),
            ..empty.clone()
        });
    }
    if w.activity.is_some() {
        parts.push(WorldChange {
            activity: w.activity,
            ..empty.clone()
        });
    }
    if w.foreign.is_some() {
        parts.push(WorldChange {
            foreign: w.foreign,
            ..empty
        });
    }
    parts
}

fn simpler_pr(p: &PrSpec) -> Vec<PrSpec> {
    let mut out = Vec::new();
    let mut push = |edit: &dyn Fn(&mut PrSpec)| {
        let mut q = p.clone();
        edit(&mut q);
        if q != *p {
            out.push(q);
        }
    };
    push(&|q| q.comments.clear());
    push(&|q| q.comments.truncate(1));
    push(&|q| q.log = None);
    push(&|q| q.draft = false);
    push(&|q| q.mergeable = false);
    push(&|q| q.conflicts = false);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::generate::generate;

    /// A synthetic failure: a spawn of s1 followed (later in the list) by a
    /// kill of s1, with a store fault rate set. Everything else is noise.
    fn synthetic(sc: &Scenario) -> bool {
        let spawn = sc
            .steps
            .iter()
            .position(|s| matches!(&s.action, StepAction::Spawn(r) if r.0 == "s1"));
        let kill = sc
            .steps
            .iter()
            .rposition(|s| matches!(&s.action, StepAction::Kill(k) if k.session.0 == "s1"));
        matches!((spawn, kill), (Some(a), Some(b)) if a < b) && sc.faults.store_fail > 0.0
    }

    fn failing_seed() -> Scenario {
        (0..500)
            .map(|seed| {
                let mut sc = generate(seed, 150);
                sc.faults.store_fail = 0.2;
                sc.faults.probe_fail = 0.1;
                sc
            })
            .find(|sc| synthetic(sc) && sc.sessions.len() > 1)
            .unwrap_or_else(|| panic!("no generated scenario fails the synthetic predicate"))
    }

    #[test]
    fn shrinks_a_synthetic_failure_to_a_one_minimal_run() {
        let sc = failing_seed();
        let mut calls = 0;
        let out = shrink(&sc, 10_000, |c| {
            calls += 1;
            synthetic(c)
        });
        assert!(!out.exhausted);
        assert_eq!(out.runs, calls);
        let min = &out.scenario;
        assert!(synthetic(min));
        // 1-minimal: removing any single step repairs it.
        for i in 0..min.steps.len() {
            let mut c = min.clone();
            c.steps.remove(i);
            assert!(!synthetic(&c), "step {i} could still be removed");
        }
        assert_eq!(min.steps.len(), 2);
        assert_eq!(min.steps[0].at, Duration(0), "gaps are closed");
        assert_eq!(min.faults.probe_fail, 0.0, "irrelevant rates are zeroed");
        assert!(min.faults.store_fail > 0.0);
        assert_eq!(min.sessions.len(), 1, "unreferenced sessions are dropped");
        assert!(!min.observers.reaper && !min.observers.scm && !min.observers.ticks);
        assert_eq!(min.config, Default::default());
    }

    #[test]
    fn shrinking_is_deterministic_and_respects_the_budget() {
        let sc = failing_seed();
        let a = shrink(&sc, 10_000, synthetic);
        let b = shrink(&sc, 10_000, synthetic);
        assert_eq!(a.scenario, b.scenario);
        assert_eq!(a.runs, b.runs);
        let tight = shrink(&sc, 5, synthetic);
        assert_eq!(tight.runs, 5);
        assert!(tight.exhausted);
        assert!(synthetic(&tight.scenario));
    }

    #[test]
    fn keeps_a_session_that_declares_a_cleaned_project() {
        let mut sc = generate(3, 10);
        sc.sessions = vec![
            SessionSpec {
                id: "s1".into(),
                project: "app".into(),
                issue: "1".into(),
                kind: SessionKind::Worker,
                branch: None,
                prompt: None,
                agent: AgentSpec::default(),
            },
            SessionSpec {
                id: "s2".into(),
                project: "lib".into(),
                issue: "2".into(),
                kind: SessionKind::Worker,
                branch: None,
                prompt: None,
                agent: AgentSpec::default(),
            },
        ];
        sc.steps = vec![Step {
            at: Duration(0),
            action: StepAction::Cleanup(crate::scenario::ProjectRef("lib".into())),
        }];
        let out = shrink(&sc, 1000, |c| {
            c.steps
                .iter()
                .any(|s| matches!(s.action, StepAction::Cleanup(_)))
        });
        let ids: Vec<&str> = out
            .scenario
            .sessions
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["s2"]);
    }
}
