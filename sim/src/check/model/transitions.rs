//! What each action does: drive the real core (step, check_step, persist
//! with CAS, effects in order; operations action by action), the fakes'
//! answers, crashes and restarts, and the violations a transition collects.

use super::*;

/// What feeding one input achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fed {
    Written,
    Unchanged,
    Unknown,
    Rejected(String),
}

/// Broken properties collected during one transition.
#[derive(Clone, Debug, Default)]
pub(crate) struct Viol {
    pub(super) mask: u32,
    /// One line per property, in the order they broke.
    lines: Vec<(u32, String)>,
}

/// What feeding one input did to a slot (the memoized part of a feed).
#[derive(Debug)]
pub(crate) struct FedOut {
    rec: Option<Arc<SessionRecord>>,
    rec_digest: u64,
    ghost: Ghost,
    pending: Option<ReactionKey>,
    fed: Fed,
    viol: Viol,
}

impl Viol {
    /// Records that an observation changed the session manager's view in a
    /// way the manage profile cannot (the composition would be unsound).
    pub(super) fn interface(&mut self, detail: impl FnOnce() -> String) {
        if self.mask & INTERFACE_BIT == 0 {
            self.mask |= INTERFACE_BIT;
            self.lines
                .push((INTERFACE_BIT, format!("interface: {}", detail())));
        }
    }

    /// Adds what `other` saw, for properties not broken yet.
    pub(super) fn merge(&mut self, other: &Viol) {
        for (bit, line) in &other.lines {
            if self.mask & bit == 0 {
                self.mask |= bit;
                self.lines.push((*bit, line.clone()));
            }
        }
    }

    /// Every line, joined.
    pub(super) fn detail(&self) -> String {
        let lines: Vec<&str> = self.lines.iter().map(|(_, l)| l.as_str()).collect();
        lines.join("\n")
    }

    pub(super) fn add(&mut self, p: PropertyId, detail: impl FnOnce() -> String) {
        let bit = 1 << (p as u32);
        if self.mask & bit == 0 {
            self.mask |= bit;
            self.lines
                .push((bit, format!("§7.{} {}: {}", p.number(), p, detail())));
        }
    }
}

/// An operation advanced by one outcome, with what its ranking function showed.
#[derive(Debug)]
pub struct Advanced {
    /// The operation afterwards.
    pub op: Intent,
    /// How SPEC §7.19 broke, if it did.
    pub broken: Option<String>,
}

/// The world answers an action on `name` that something foreign holds: the
/// operation is told `Foreign`, unless `report` turns the answer into a
/// failure (the call timed out after looking) or the daemon crashes before
/// reading it, which tell it nothing.
pub(super) fn tell(
    slot: &mut Slot,
    report: impl Fn(Outcome) -> Outcome,
    name: &Handle,
    o: OpOutcome,
) -> Outcome {
    let outcome = report(Outcome::Foreign(format!("{name} is not ours")));
    if matches!(outcome, Outcome::Foreign(_)) && o != OpOutcome::CrashAfter {
        slot.foreign_told = true;
    }
    outcome
}

/// Advances `op` (whose next action is `action`) by `outcome`, checking that
/// an advance lowers `max_steps` and that a stall changes nothing (§7.19).
pub(super) fn advance(op: &Operation, action: &sm::Action, outcome: Outcome) -> Advanced {
    let mut op = op.clone();
    let before = op.max_steps();
    let mut broken =
        (before == 0).then(|| format!("{} asks for `{action}` beyond its bound", op.kind()));
    let progress = op.advance(outcome);
    let after = op.max_steps();
    if progress == Progress::Stalled {
        if after != before || op.next() != Next::Act(action.clone()) {
            broken = Some(format!("{} changed on a stall after `{action}`", op.kind()));
        }
    } else if after >= before {
        broken = Some(format!(
            "{} bound did not drop ({before} -> {after}) after `{action}`",
            op.kind()
        ));
    }
    Advanced {
        op: Intent::new(op),
        broken,
    }
}

impl CheckModel {
    pub(super) fn apply(&self, n: &mut State, a: Action, v: &mut Viol) {
        // Reachability markers last one state only (they would double the space).
        for slot in &mut n.slots {
            slot.restored = false;
            slot.cleanup_skipped = false;
        }
        match a {
            Action::Spawn(i) => {
                let i = usize::from(i);
                n.slots[i].used.spawned = true;
                let req = sm::SpawnRequest {
                    op: OpId::from("op"),
                    id: self.sid.clone(),
                    project: self.project.clone(),
                    issue: IssueId(String::new()),
                    kind: SessionKind::Worker,
                    branch: "ao/s".into(),
                    prompt: "task".into(),
                    rules: None,
                    workspace_path: self.ws.clone(),
                    runtime_handle: self.rts[0].clone(),
                    runtime_name: String::new(),
                    at: self.now(),
                };
                let exists = n.slots[i].rec.is_some();
                if let Ok(op) = sm::plan_spawn(req, &self.cfg, |_| exists) {
                    self.start(n, i, op);
                }
            }
            Action::Kill(i, kind) => {
                let i = usize::from(i);
                n.slots[i].used.kills += 1;
                let op = sm::plan_kill(OpId::from("op"), n.slots[i].rec.as_deref(), kind);
                if let Some(op) = op {
                    self.start(n, i, op);
                }
            }
            Action::Restore(i) => {
                let i = usize::from(i);
                let op = self.restore_plan(n, i);
                n.slots[i].used.restores += 1;
                if let Some(op) = op {
                    self.start(n, i, op);
                }
            }
            Action::Cleanup => {
                n.cleanups += 1;
                let items: Vec<(u8, Intent)> = self
                    .cleanup_candidates(n)
                    .into_iter()
                    .filter_map(|i| {
                        let rec = n.slots[i].rec.as_deref()?;
                        let op = sm::plan_cleanup(OpId::from("op"), &self.project, [rec]);
                        Some((i as u8, Intent::new(op)))
                    })
                    .collect();
                for (i, _) in &items {
                    n.slots[usize::from(*i)].foreign_told = false;
                }
                n.cleanup = Some(CleanupRun {
                    items,
                    in_memory: true,
                });
                self.settle_cleanup(n);
            }
            Action::Op(i, o) => self.op_step(n, usize::from(i), o, v),
            Action::CleanupOp(o) => self.cleanup_step(n, o, v),
            Action::Delivered(i) => {
                let i = usize::from(i);
                if let (Some(k), Some(rec)) = (n.slots[i].pending.take(), &n.slots[i].rec) {
                    let l = &rec.lifecycle;
                    if rec.is_terminal() || reaction_for(rec.kind, l.session, &l.pr) != Some(k) {
                        v.add(PropertyId::NoStaleReaction, || {
                            format!("{k} delivered to a session in state {}", l.session.state)
                        });
                    }
                }
            }
            Action::DeliveryFailed(i) => {
                let i = usize::from(i);
                if let Some(reaction) = n.slots[i].pending.take() {
                    self.feed(n, i, Event::DeliveryFailed { reaction }, v);
                }
            }
            Action::Probe(i, r, p) => self.observe(n, i, Polled::PROBE, |n| {
                self.feed(n, usize::from(i), fixtures::probe_event(r, p), v);
            }),
            Action::Activity(i, st, valid) => self.observe(n, i, Polled::ACTIVITY, |n| {
                self.feed(n, usize::from(i), fixtures::activity_event(st, valid), v);
            }),
            Action::Scm(i, f) => self.observe(n, i, Polled::SCM, |n| {
                self.feed(n, usize::from(i), f.event(), v);
            }),
            Action::Race(i, k) => self.observe(n, i, Polled::RACE, |n| {
                if let Some(pair) = RACES.get(usize::from(k)) {
                    self.race(n, usize::from(i), *pair, v);
                }
            }),
            Action::ProcessExits(i) => {
                for r in n.slots[usize::from(i)].rt.iter_mut() {
                    if *r == Rt::Running {
                        *r = Rt::Exited;
                    }
                }
            }
            Action::RuntimeLost(i) => n.slots[usize::from(i)].rt = [Rt::Absent; 3],
            Action::WorkspaceDirty(i) => n.slots[usize::from(i)].ws = Ws::Dirty,
            Action::Foreign(i, f) => n.slots[usize::from(i)].foreign = f,
            Action::Sm(i, e) => {
                let i = usize::from(i);
                let event = self.sm_event(n.slots[i].rec(), e);
                self.feed(n, i, event, v);
            }
            Action::Reclaim(i) => {
                let i = usize::from(i);
                let handle = n.slots[i]
                    .rec
                    .as_ref()
                    .and_then(|r| r.metadata.runtime_handle.clone());
                if let Some(k) = handle.as_ref().and_then(fixtures::runtime_index) {
                    n.slots[i].rt[k] = Rt::Absent;
                }
                let released = Event::Released {
                    runtime: true,
                    workspace: false,
                };
                self.feed(n, i, released, v);
            }
            Action::Crash => self.crash(n),
            Action::Restart => self.restart(n, v),
            Action::Tick => {
                self.pass_time(n);
                if n.up {
                    for i in 0..n.slots.len() {
                        if n.slots[i].rec.as_ref().is_some_and(|r| !r.is_terminal()) {
                            self.feed(n, i, Event::Tick, v);
                        }
                    }
                }
            }
        }
    }

    /// Feeds one observation from `source`, marking the source heard from
    /// this tick (paced runs only) when it changed anything. An observation
    /// that changed nothing stays a self-loop: the state it would lead to can
    /// do only what its parent can, so marking it would split states for
    /// nothing.
    pub(super) fn observe(
        &self,
        n: &mut State,
        i: u8,
        source: Polled,
        feed: impl FnOnce(&mut State),
    ) {
        let i = usize::from(i);
        let before = self.paced.then(|| n.slots[i].clone());
        feed(n);
        if before.is_some_and(|b| b != n.slots[i]) {
            n.slots[i].polled.add(source);
        }
    }

    /// A new operation on slot `i` starts: what earlier operations were told
    /// about foreign names is theirs (§7.22 judges each operation by what it
    /// was told).
    pub(super) fn start(&self, n: &mut State, i: usize, op: Operation) {
        n.slots[i].foreign_told = false;
        self.hold(n, i, Intent::new(op));
    }

    /// Slot `i`'s operation is now `op`: held in memory while it has an
    /// action left, else finished (and dropped).
    pub(super) fn hold(&self, n: &mut State, i: usize, op: Intent) {
        match &*memo::next_of(op.digest(), || op.next()) {
            Next::Done(result) => {
                n.slots[i].op = None;
                self.finished(n, i, result);
            }
            Next::Act(_) => n.slots[i].op = Some(OpSlot::new(op)),
        }
    }

    pub(super) fn finished(&self, n: &mut State, i: usize, result: &OpResult) {
        let slot = &mut n.slots[i];
        match result {
            OpResult::Restored { .. } => slot.restored = true,
            OpResult::Cleaned(report) if !report.skipped.is_empty() && slot.ws == Ws::Dirty => {
                slot.cleanup_skipped = true;
            }
            _ => {}
        }
    }

    /// Executes one action of `op` against slot `i`; returns the advanced
    /// op, or `None` if the daemon crashed right after. Checks the op's
    /// ranking function (`max_steps` drops on every advance that takes
    /// effect: SPEC §7.19; a stall, a failed record write asked again, leaves
    /// the op as it was). The op's own part is pure, so it is memoized per
    /// thread (operations are large to copy).
    pub(super) fn run_action(
        &self,
        n: &mut State,
        i: usize,
        op: &Intent,
        o: OpOutcome,
        v: &mut Viol,
    ) -> Option<Intent> {
        let next = memo::next_of(op.digest(), || op.next());
        let Next::Act(action) = &*next else {
            return Some(op.clone());
        };
        let restore = matches!(**op, Operation::Restore(_));
        let outcome = self.exec(n, i, action, o, restore, v);
        if o == OpOutcome::CrashAfter {
            self.crash(n);
            return None;
        }
        let key = digest(&(op.digest(), &outcome));
        let step = memo::advanced(key, || advance(op, action, outcome));
        if let Some(why) = &step.broken {
            v.add(PropertyId::OperationsFinish, || why.clone());
        }
        Some(step.op.clone())
    }

    pub(super) fn op_step(&self, n: &mut State, i: usize, o: OpOutcome, v: &mut Viol) {
        let Some(slot_op) = n.slots[i].op.clone() else {
            return;
        };
        if let Some(op) = self.run_action(n, i, &slot_op.op, o, v) {
            self.hold(n, i, op);
        }
    }

    pub(super) fn current_cleanup_item(n: &State) -> Option<usize> {
        n.cleanup
            .as_ref()?
            .items
            .iter()
            .position(|(_, op)| !op.is_done())
    }

    pub(super) fn cleanup_step(&self, n: &mut State, o: OpOutcome, v: &mut Viol) {
        let Some(j) = Self::current_cleanup_item(n) else {
            return;
        };
        let Some((slot, op)) = n.cleanup.as_ref().map(|c| c.items[j].clone()) else {
            return;
        };
        let Some(op) = self.run_action(n, usize::from(slot), &op, o, v) else {
            return;
        };
        if let Some(c) = n.cleanup.as_mut() {
            c.items[j].1 = op;
        }
        self.settle_cleanup(n);
    }

    /// Reports finished cleanup items and ends the cleanup once all are done.
    pub(super) fn settle_cleanup(&self, n: &mut State) {
        let Some(c) = n.cleanup.clone() else {
            return;
        };
        if c.items.iter().all(|(_, op)| op.is_done()) {
            n.cleanup = None;
            for (slot, op) in &c.items {
                if let Next::Done(result) = op.next() {
                    self.finished(n, usize::from(*slot), &result);
                }
            }
        }
    }

    /// The fakes execute one SM action.
    pub(super) fn exec(
        &self,
        n: &mut State,
        i: usize,
        action: &sm::Action,
        o: OpOutcome,
        restore: bool,
        v: &mut Viol,
    ) -> Outcome {
        let failed = || Outcome::Failed("injected failure".into());
        if o == OpOutcome::Fail {
            return failed();
        }
        let report = |ok: Outcome| {
            if o == OpOutcome::FailHalf {
                Outcome::Failed("injected failure".into())
            } else {
                ok
            }
        };
        let slot = &mut n.slots[i];
        match action {
            sm::Action::SeedRecord(rec) => {
                if slot.rec.is_some() {
                    return Outcome::Refused("a record with this id exists".into());
                }
                slot.set_rec(Some(Arc::new((**rec).clone())));
                Outcome::Ok
            }
            sm::Action::CreateWorkspace { path, .. }
            | sm::Action::RestoreWorkspace { path, .. } => {
                if slot.foreign == Foreign::Workspace {
                    return self.collided(tell(slot, report, path, o));
                }
                if slot.ws == Ws::Absent {
                    slot.ws = Ws::Clean;
                }
                report(Outcome::Ok)
            }
            sm::Action::CreateRuntime { handle, .. } => {
                let Some(k) = fixtures::runtime_index(handle) else {
                    return failed();
                };
                if slot.foreign.runtime(k) {
                    return self.collided(tell(slot, report, handle, o));
                }
                if slot.rt[k].alive() {
                    return Outcome::Refused(format!("runtime {handle} exists"));
                }
                slot.rt[k] = Rt::Running;
                report(Outcome::Ok)
            }
            // The fakes check the session's tag before destroying, as the adapters do.
            sm::Action::DestroyRuntime { handle, .. } => {
                if let Some(k) = fixtures::runtime_index(handle) {
                    if slot.foreign.runtime(k) {
                        if !self.is(Mutant::DestroysForeign) {
                            return tell(slot, report, handle, o);
                        }
                        slot.foreign = Foreign::None;
                        slot.foreign_destroyed = true;
                    }
                    slot.rt[k] = Rt::Absent;
                }
                report(Outcome::Ok)
            }
            sm::Action::DestroyWorkspace { path, .. } if slot.foreign == Foreign::Workspace => {
                if !self.is(Mutant::DestroysForeign) {
                    return tell(slot, report, path, o);
                }
                slot.foreign = Foreign::None;
                slot.foreign_destroyed = true;
                report(Outcome::Ok)
            }
            sm::Action::DestroyWorkspace { .. } => match slot.ws {
                Ws::Absent => report(Outcome::Ok),
                Ws::Clean => {
                    slot.ws = Ws::Absent;
                    report(Outcome::Ok)
                }
                Ws::Dirty if self.is(Mutant::DirtyWorkspaceDestroyed) => {
                    slot.ws = Ws::Absent;
                    slot.dirty_deleted = true;
                    report(Outcome::Ok)
                }
                Ws::Dirty => Outcome::Refused("uncommitted or unpushed work".into()),
            },
            sm::Action::Reduce { event, .. } => {
                let undo = matches!(
                    event,
                    Event::KillRequested {
                        kind: KillKind::Error
                    }
                );
                if restore && undo && self.is(Mutant::RestoreHalfOpen) {
                    return Outcome::Ok;
                }
                if slot.foreign_told {
                    let name = self.foreign_name(slot.foreign);
                    if name.is_some_and(|h| handed_to_record(event).contains(&&h)) {
                        slot.foreign_adopted = true;
                    }
                }
                match self.feed(n, i, event.clone(), v) {
                    Fed::Written | Fed::Unchanged => Outcome::Ok,
                    // Asking again cannot help: refused (only `Fail` is the store's).
                    Fed::Unknown => Outcome::Refused("no such session".into()),
                    Fed::Rejected(e) => Outcome::Refused(e),
                }
            }
        }
    }

    /// The record event standing for `e` on `rec`.
    pub(super) fn sm_event(&self, rec: Option<&SessionRecord>, e: SmEvent) -> Event {
        match e {
            SmEvent::Kill(kind) => Event::KillRequested { kind },
            SmEvent::Reopen => Event::Reopened {
                stopped: rec.and_then(|r| r.metadata.runtime_handle.clone()),
            },
            SmEvent::Complete => Event::SpawnCompleted(lcm::SpawnHandles {
                workspace_path: self.ws.clone(),
                runtime_handle: self.rts[0].clone(),
                runtime_name: String::new(),
                branch: "ao/s".into(),
                agent_session_id: None,
            }),
        }
    }

    /// The name something foreign holds.
    pub(super) fn foreign_name(&self, f: Foreign) -> Option<Handle> {
        match f {
            Foreign::None => None,
            Foreign::Workspace => Some(self.ws.clone()),
            Foreign::Runtime(k) => self.rts.get(usize::from(k)).cloned(),
        }
    }

    /// A create met a name that is not ours; the mutant that takes it for
    /// its own creation goes on as if it had created it.
    pub(super) fn collided(&self, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Foreign(_) if self.is(Mutant::AdoptsForeign) => Outcome::Ok,
            other => other,
        }
    }

    pub(super) fn crash(&self, n: &mut State) {
        n.up = false;
        for slot in &mut n.slots {
            slot.pending = None;
            if let Some(op) = &mut slot.op {
                op.in_memory = false;
            }
        }
        if let Some(c) = &mut n.cleanup {
            c.in_memory = false;
        }
    }

    pub(super) fn restart(&self, n: &mut State, v: &mut Viol) {
        n.up = true;
        for i in 0..n.slots.len() {
            let escalated = n.slots[i].rec().is_some_and(|r| !r.policy.is_empty());
            if escalated && self.is(Mutant::RestartForgetsEscalation) {
                n.slots[i].edit_rec(|r| r.policy = Default::default());
            }
            if let Some(slot_op) = n.slots[i].op.clone() {
                self.hold(n, i, slot_op.op.recovered(v));
            }
        }
        if let Some(c) = &mut n.cleanup {
            c.in_memory = true;
            for (_, op) in &mut c.items {
                *op = op.recovered(v);
            }
        }
        self.settle_cleanup(n);
    }

    /// Two writers decide against the same revision; the first lands, the
    /// second must be rejected as stale and re-decide.
    pub(super) fn race(
        &self,
        n: &mut State,
        i: usize,
        (f1, f2): (RaceFact, RaceFact),
        v: &mut Viol,
    ) {
        let Some(before) = n.slots[i].rec.clone() else {
            return;
        };
        let now = self.now();
        // Writer 1: an ordinary feed (its send, if any, is delivered at once).
        let first = self.feed(n, i, f1.event(), v);
        n.slots[i].pending = None;
        // Writer 2 decided against `before`.
        let input = Input {
            session: self.sid.clone(),
            at: now,
            event: f2.event(),
        };
        let Ok(mut d2) = lcm::step(&before, &input, &self.cfg) else {
            return;
        };
        if let Some(m) = self.mutant {
            mutant::mutate_decision(m, &self.cfg, &before, &input, &mut d2);
        }
        let Some(p2) = d2.patch().cloned() else {
            return;
        };
        let Some(stored) = n.slots[i].rec.clone() else {
            return;
        };
        if first != Fed::Written {
            // Writer 1 changed nothing: writer 2's decision is current.
            self.commit(&mut n.slots[i], &before, &input, &d2, v);
            return;
        }
        // The store's CAS (the mutant store writes blindly). Stored records
        // keep a canonical revision (see `canonical`): the store's is one
        // ahead of the revision writer 2 read.
        let mut written = (*stored).clone();
        written.revision = before.revision + 1;
        let accepted = if self.is(Mutant::StaleWriteApplied) {
            let mut blind = p2.clone();
            blind.expected_revision = written.revision;
            written.apply(&blind).is_ok()
        } else {
            written.apply(&p2).is_ok()
        };
        if accepted {
            v.add(PropertyId::Revision, || {
                format!(
                    "a write decided against revision {} was applied over revision {}",
                    p2.expected_revision,
                    before.revision + 1
                )
            });
            n.slots[i].set_rec(Some(Arc::new(written)));
            return;
        }
        // Rejected as stale: re-read and re-decide.
        self.feed(n, i, input.event, v);
    }

    /// Feeds one input to slot `i`'s record through the real step. The step
    /// and its checks are pure in the slot's record, ghost and pending send
    /// and the event, so the outcome is memoized per thread.
    pub(super) fn feed(&self, n: &mut State, i: usize, event: Event, v: &mut Viol) -> Fed {
        let slot = &mut n.slots[i];
        if slot.rec.is_none() {
            return Fed::Unknown;
        }
        let fresh = || {
            let mut scratch = Slot {
                rec: slot.rec.clone(),
                rec_digest: slot.rec_digest,
                ghost: slot.ghost,
                pending: slot.pending,
                ..Slot::default()
            };
            let mut viol = Viol::default();
            let fed = self.feed_fresh(&mut scratch, event.clone(), &mut viol);
            FedOut {
                rec: scratch.rec,
                rec_digest: scratch.rec_digest,
                ghost: scratch.ghost,
                pending: scratch.pending,
                fed,
                viol,
            }
        };
        let out = if self.memo_feeds {
            let key = digest(&(slot.rec_digest, slot.ghost, slot.pending, &event));
            memo::fed(key, fresh)
        } else {
            Arc::new(fresh())
        };
        slot.rec.clone_from(&out.rec);
        slot.rec_digest = out.rec_digest;
        slot.ghost = out.ghost;
        slot.pending = out.pending;
        v.merge(&out.viol);
        out.fed.clone()
    }

    /// [`Self::feed`] without the memo.
    pub(super) fn feed_fresh(&self, slot: &mut Slot, event: Event, v: &mut Viol) -> Fed {
        let Some(rec) = slot.rec.clone() else {
            return Fed::Unknown;
        };
        let input = Input {
            session: self.sid.clone(),
            at: self.now(),
            event,
        };
        let mut decision = match lcm::step(&rec, &input, &self.cfg) {
            Ok(d) => d,
            Err(e) => return Fed::Rejected(e.to_string()),
        };
        if let Some(m) = self.mutant {
            mutant::mutate_decision(m, &self.cfg, &rec, &input, &mut decision);
        }
        self.commit(slot, &rec, &input, &decision, v)
    }

    /// Checks a decision, persists its patch and runs its effects.
    pub(super) fn commit(
        &self,
        slot: &mut Slot,
        before: &Arc<SessionRecord>,
        input: &Input,
        decision: &lcm::Decision,
        v: &mut Viol,
    ) -> Fed {
        let mut written: Option<SessionRecord> = None;
        if let Some(p) = decision.patch() {
            let mut after = (**before).clone();
            if let Err(e) = after.apply(p) {
                v.add(PropertyId::Revision, || {
                    format!("a fresh patch did not apply to the record it was decided on: {e}")
                });
                return Fed::Unchanged;
            }
            written = Some(after);
        }
        let after: &SessionRecord = written.as_ref().unwrap_or(before);
        let view = StepView {
            cfg: &self.cfg,
            before,
            input,
            decision,
            after,
        };
        if check_step(&view).is_err() {
            for (property, check) in STEP_PROPERTIES {
                if let Err(detail) = check(&view) {
                    v.add(*property, || format!("{detail} (input {:?})", input.event));
                }
            }
        }
        let observation = matches!(
            input.event,
            Event::Runtime(_)
                | Event::Activity(_)
                | Event::Scm(_)
                | Event::Tick
                | Event::DeliveryFailed { .. }
        );
        if !observation && written.is_some() && !sm_event_in_envelope(before, &input.event) {
            v.interface(|| {
                format!(
                    "the session manager wrote {:?} outside the observe profile's envelope",
                    input.event
                )
            });
        }
        if observation && !observation_keeps_interface(before, &input.event, after) {
            v.interface(|| {
                format!(
                    "{:?} changed the session manager's view: {:?} -> {:?}",
                    input.event,
                    sm_view(before),
                    sm_view(after)
                )
            });
        }
        self.ghost_step(slot, before, input, decision, after, v);
        for e in &decision.effects {
            if let Effect::SendToAgent { reaction, .. } = e {
                slot.pending = Some(*reaction);
            }
        }
        match written {
            Some(mut after) => {
                self.canonical(&mut after);
                slot.set_rec(Some(Arc::new(after)));
                Fed::Written
            }
            None => Fed::Unchanged,
        }
    }
}
