//! The step (SPEC §4.5–4.7, §6): one deterministic function from (record,
//! input with its time, config) to ordered effects, the first of which is the
//! sparse patch when anything changed.

use super::effect::{Effect, Patch, QuarantineChange};
use super::input::{
    ActivitySignal, Event, Input, PrFacts, RuntimeObservation, ScmObservation, SpawnHandles,
};
use super::reactions::{react, ReactionContext};
use crate::config::{Config, Thresholds};
use crate::decide::{self, activity, quarantine, Advance, Evidence, Verdict};
use crate::defects::{self, Defect};
use crate::domain::*;
use crate::time::Timestamp;
use crate::timers;

/// What one step decided: effects in the order the driver must run them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Persist (if anything changed) first, then reactions.
    pub effects: Vec<Effect>,
}

impl Decision {
    /// The write, if the step changed anything.
    pub fn patch(&self) -> Option<&Patch> {
        self.effects.iter().find_map(|e| match e {
            Effect::Persist(p) => Some(p),
            _ => None,
        })
    }
}

/// An input that contradicts the record it was applied to (a driver bug, reported, never a panic).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The input names another session.
    #[error("input for session `{input}` applied to record `{record}`")]
    WrongSession {
        /// Session named by the input.
        input: SessionId,
        /// Session of the record.
        record: SessionId,
    },
    /// Spawn completed for a terminal session (a restore must reopen it first).
    #[error("spawn completed for terminal session `{0}`: restore must reopen it first")]
    SpawnCompletedOnTerminal(SessionId),
    /// Only a terminal session can be reopened (restoring a live one would start a second agent).
    #[error("session `{0}` is not terminal: restoring it would start a second agent")]
    ReopenLiveSession(SessionId),
    /// The record names a runtime the restore did not stop (it was planned
    /// before another operation left that runtime): it may still run.
    #[error("session `{session}` names runtime {runtime}, which this restore did not stop: it may still run")]
    ReopenBesideRuntime {
        /// The session.
        session: SessionId,
        /// The runtime it names.
        runtime: Handle,
    },
}

/// The working copy of the axes a step may change; compared with the record at the end.
struct Draft<'a> {
    rec: &'a SessionRecord,
    session: SessionAxis,
    runtime: RuntimeAxis,
    activity: ActivityRecord,
    detecting: Option<Quarantine>,
    pr: Option<PrAxis>,
    metadata: Option<Box<Metadata>>,
    policy: ReactionPolicy,
}

impl<'a> Draft<'a> {
    fn new(rec: &'a SessionRecord) -> Self {
        let l = &rec.lifecycle;
        Draft {
            rec,
            session: l.session,
            runtime: l.runtime,
            activity: l.activity,
            detecting: l.detecting,
            pr: None,
            metadata: None,
            policy: rec.policy,
        }
    }

    fn pr(&self) -> &PrAxis {
        self.pr.as_ref().unwrap_or(&self.rec.lifecycle.pr)
    }

    fn metadata_mut(&mut self) -> &mut Metadata {
        let rec = self.rec;
        self.metadata
            .get_or_insert_with(|| Box::new(rec.metadata.clone()))
    }

    fn into_patch(self, at: Timestamp) -> Option<Patch> {
        let l = &self.rec.lifecycle;
        let patch = Patch {
            expected_revision: self.rec.revision,
            at,
            session: (self.session != l.session).then_some(self.session),
            pr: self.pr.filter(|pr| *pr != l.pr),
            runtime: (self.runtime != l.runtime).then_some(self.runtime),
            activity: (self.activity != l.activity).then_some(self.activity),
            detecting: match (l.detecting, self.detecting) {
                (a, b) if a == b => QuarantineChange::Leave,
                (_, Some(q)) => QuarantineChange::Set(q),
                (_, None) => QuarantineChange::Clear,
            },
            metadata: self.metadata.filter(|m| **m != self.rec.metadata),
            policy: (self.policy != self.rec.policy).then(|| Box::new(self.policy)),
        };
        let changed = patch.session.is_some()
            || patch.pr.is_some()
            || patch.runtime.is_some()
            || patch.activity.is_some()
            || patch.detecting != QuarantineChange::Leave
            || patch.metadata.is_some()
            || patch.policy.is_some();
        changed.then_some(patch)
    }
}

/// Decides one input for one session. Deterministic: same arguments, same result.
pub fn step(rec: &SessionRecord, input: &Input, cfg: &Config) -> Result<Decision, StepError> {
    let mut effects = Vec::new();
    step_into(rec, input, cfg, &mut effects)?;
    Ok(Decision { effects })
}

/// [`step`] writing its effects into a caller-owned buffer (cleared first), so
/// a hot driver loop allocates nothing per input.
pub fn step_into(
    rec: &SessionRecord,
    input: &Input,
    cfg: &Config,
    effects: &mut Vec<Effect>,
) -> Result<(), StepError> {
    effects.clear();
    if input.session != rec.id {
        return Err(StepError::WrongSession {
            input: input.session.clone(),
            record: rec.id.clone(),
        });
    }
    if matches!(input.event, Event::Scm(ScmObservation::FetchFailed)) {
        // A failed fetch is not "no PR": nothing may change (SPEC §7.5).
        return Ok(());
    }
    let now = input.at;
    let t = &cfg.thresholds;
    let mut d = Draft::new(rec);
    let mut facts: Option<&PrFacts> = None;
    let mut explicit_kill = false;
    match &input.event {
        Event::Runtime(obs) => on_runtime(&mut d, obs, now, t),
        Event::Activity(sig) => on_activity(&mut d, sig, now, t),
        Event::Scm(ScmObservation::FetchFailed) => {}
        Event::Scm(ScmObservation::Fetched(f)) => {
            facts = Some(f);
            on_scm(&mut d, f);
        }
        Event::SpawnCompleted(h) => on_spawn_completed(&mut d, h, now)?,
        Event::KillRequested { kind } => {
            explicit_kill = true;
            on_kill(&mut d, *kind);
        }
        Event::Reopened { stopped } => on_reopen(&mut d, stopped.as_ref())?,
        Event::Adopted {
            runtime_handle,
            workspace_path,
        } => {
            let m = d.metadata_mut();
            if runtime_handle.is_some() {
                m.runtime_handle.clone_from(runtime_handle);
            }
            if workspace_path.is_some() {
                m.workspace_path.clone_from(workspace_path);
            }
        }
        Event::AgentIdentified { agent_session_id } => {
            if !agent_session_id.trim().is_empty() {
                d.metadata_mut().agent_session_id = Some(agent_session_id.clone());
            }
        }
        Event::Released { runtime, workspace } => {
            let m = d.metadata_mut();
            if *runtime {
                m.runtime_handle = None;
            }
            if *workspace {
                m.workspace_path = None;
            }
        }
        Event::DeliveryFailed { reaction } => {
            if let Some(tr) = d.policy.slot(*reaction) {
                if tr.attempts > 0 && !tr.escalated {
                    tr.attempts -= 1;
                    tr.undelivered = true;
                }
            }
        }
        Event::Tick => on_tick(&mut d, now, t),
    }

    // An explicit kill fires no reaction; a session that was already terminal has no incident left.
    if !explicit_kill && !rec.is_terminal() {
        let cx = ReactionContext {
            rec,
            session: d.session,
            pr: d.pr.as_ref().unwrap_or(&rec.lifecycle.pr),
            now,
            table: cfg.reactions_for(&rec.project_id),
            facts,
            ci_log: d
                .metadata
                .as_deref()
                .unwrap_or(&rec.metadata)
                .ci_log_tail
                .as_deref(),
            tick: matches!(input.event, Event::Tick),
            thresholds: &cfg.thresholds,
        };
        react(&cx, &mut d.policy, effects);
    }
    // The write goes first: reactions run after it, in order (SPEC §6).
    if let Some(patch) = d.into_patch(now) {
        effects.insert(0, Effect::Persist(patch));
    }
    Ok(())
}

fn on_runtime(d: &mut Draft<'_>, obs: &RuntimeObservation, now: Timestamp, t: &Thresholds) {
    let Some(spawned_at) = d.rec.metadata.spawned_at else {
        // Spawn has not completed: the session manager owns the session.
        return;
    };
    d.runtime = decide::runtime_axis(obs.runtime);
    if d.session.state.is_terminal() {
        return;
    }
    let recent = decide::recent_activity(&d.activity, now, t);
    let verdict = decide::liveness(obs.runtime, obs.process, recent);
    if d.session.state == SessionState::NotStarted {
        let in_grace = timers::in_startup_grace(now, spawned_at, t)
            && !defects::planted(t, Defect::IgnoredGrace);
        if in_grace && obs.runtime == Probe::Alive && obs.process != Probe::Failed {
            // The agent has not started yet: nothing changes on the session axis.
            return;
        }
    }
    match verdict {
        Verdict::Healthy => {
            d.detecting = None;
            let liveness_owned = d.session.state == SessionState::Detecting
                || d.session.reason.is_liveness_owned()
                || d.session.state == SessionState::NotStarted;
            if liveness_owned {
                d.session = activity::recovered(&d.activity);
            }
        }
        Verdict::Quarantine(reason) => on_ambiguous(d, obs, recent, reason, false, now, t),
        Verdict::DeathCandidate => {
            on_ambiguous(d, obs, recent, SessionReason::RuntimeLost, true, now, t);
        }
    }
}

/// One ambiguous observation: advance the quarantine; escalate or confirm death.
fn on_ambiguous(
    d: &mut Draft<'_>,
    obs: &RuntimeObservation,
    recent: bool,
    reason: SessionReason,
    death_candidate: bool,
    now: Timestamp,
    t: &Thresholds,
) {
    let evidence = Evidence {
        runtime: obs.runtime,
        process: obs.process,
        recent_activity: recent,
        reason,
    };
    match quarantine::advance(d.detecting, &evidence, death_candidate, now, t) {
        Advance::ConfirmedDeath => {
            d.session = SessionAxis {
                state: SessionState::Terminated,
                reason: SessionReason::RuntimeLost,
            };
            d.detecting = None;
        }
        Advance::Stuck(q) => {
            d.session = SessionAxis {
                state: SessionState::Stuck,
                reason,
            };
            d.detecting = Some(q);
        }
        Advance::Detecting(q) => {
            let escalated = d.session.state == SessionState::Stuck
                && d.session.reason.is_liveness_owned()
                && !defects::planted(t, Defect::StuckFallsBack);
            // Never back from stuck to detecting: same evidence may only advance.
            let state = if escalated {
                SessionState::Stuck
            } else {
                SessionState::Detecting
            };
            d.session = SessionAxis { state, reason };
            d.detecting = Some(q);
        }
    }
}

fn on_activity(d: &mut Draft<'_>, sig: &ActivitySignal, now: Timestamp, t: &Thresholds) {
    if sig.confidence != Confidence::Valid {
        return;
    }
    if sig.source == ActivitySource::Terminal
        && activity::outranks_terminal(&d.activity, sig.state, now, t)
    {
        return;
    }
    // A signal observed before the one on record (a hook spooled while the
    // daemon was down, ingested at its next start) is history: it cannot
    // replace a newer signal, so time never moves backwards in a record.
    if d.activity.last_activity_at.is_some_and(|last| now < last) {
        return;
    }
    d.activity = ActivityRecord {
        state: sig.state,
        last_activity_at: Some(now),
        source: sig.source,
    };
    if d.session.state.is_terminal() {
        return;
    }
    let Some(target) = activity::session_for(sig.state) else {
        return;
    };
    let liveness_stuck =
        d.session.state == SessionState::Stuck && d.session.reason.is_liveness_owned();
    if liveness_stuck {
        return;
    }
    if d.session.state == SessionState::Detecting {
        d.detecting = None;
    }
    d.session = target;
}

fn on_scm(d: &mut Draft<'_>, f: &PrFacts) {
    if d.rec.kind == SessionKind::Orchestrator || d.session.state.is_terminal() {
        return;
    }
    let (state, reason) = match f.state {
        PrState::None => return,
        PrState::Open => (PrState::Open, decide::scm::open_pr_reason(f)),
        PrState::Merged => (PrState::Merged, PrReason::Merged),
        PrState::Closed => (PrState::Closed, PrReason::ClosedUnmerged),
    };
    let previous = d.pr().state;
    d.pr = Some(PrAxis {
        state,
        reason,
        number: f.number.or(d.pr().number),
        url: f.url.clone().or_else(|| d.pr().url.clone()),
        draft: f.draft,
    });
    remember_ci_log(d, reason, f);
    let park = match state {
        PrState::Merged => Some(SessionReason::MergedWaitingDecision),
        PrState::Closed => Some(SessionReason::AwaitingUserInput),
        _ => None,
    };
    if let Some(reason) = park {
        // A merged or closed PR ends the work: it parks the session once, on
        // the transition, over any live state (a quarantine included, whose
        // episode ends; liveness starts a new one if the runtime is still in doubt).
        if previous != state {
            d.session = SessionAxis {
                state: SessionState::Idle,
                reason,
            };
            d.detecting = None;
        }
    }
}

/// Keeps the failing CI log tail while CI fails (sanitized and capped once,
/// here), and forgets it when CI stops failing.
fn remember_ci_log(d: &mut Draft<'_>, reason: PrReason, f: &PrFacts) {
    let was_failing = d.rec.lifecycle.pr.reason == PrReason::CiFailing;
    let stored = &d.rec.metadata.ci_log_tail;
    match (reason, f.ci_log_tail.as_deref()) {
        // Sanitize once, when CI starts failing (or a log first appears): the
        // ci-failed message refers to that failure; polls of the same failure
        // need no work.
        (PrReason::CiFailing, Some(log)) if !was_failing || stored.is_none() => {
            let excerpt = super::reactions::ci_log_excerpt(log);
            if stored.as_deref() != Some(excerpt.as_str()) {
                d.metadata_mut().ci_log_tail = Some(excerpt);
            }
        }
        (PrReason::CiFailing, _) => {}
        _ => {
            if stored.is_some() {
                d.metadata_mut().ci_log_tail = None;
            }
        }
    }
}

fn on_spawn_completed(
    d: &mut Draft<'_>,
    h: &SpawnHandles,
    now: Timestamp,
) -> Result<(), StepError> {
    if d.session.state.is_terminal() {
        return Err(StepError::SpawnCompletedOnTerminal(d.rec.id.clone()));
    }
    d.runtime = RuntimeAxis {
        state: RuntimeState::Alive,
        reason: RuntimeReason::ProcessRunning,
    };
    let m = d.metadata_mut();
    m.workspace_path = Some(h.workspace_path.clone());
    m.runtime_handle = Some(h.runtime_handle.clone());
    m.runtime_name.clone_from(&h.runtime_name);
    if !h.branch.is_empty() {
        m.branch.clone_from(&h.branch);
    }
    if h.agent_session_id.is_some() {
        m.agent_session_id.clone_from(&h.agent_session_id);
    }
    m.spawned_at = Some(now);
    Ok(())
}

fn on_kill(d: &mut Draft<'_>, kind: KillKind) {
    let (session_reason, runtime_reason) = match kind {
        KillKind::Manual => (
            SessionReason::ManuallyKilled,
            RuntimeReason::ManualKillRequested,
        ),
        KillKind::Cleanup => (SessionReason::AutoCleanup, RuntimeReason::AutoCleanup),
        KillKind::Error => (SessionReason::ErrorInProcess, RuntimeReason::ProbeError),
    };
    if !d.session.state.is_terminal() {
        d.session = SessionAxis {
            state: SessionState::Terminated,
            reason: session_reason,
        };
    }
    d.runtime = RuntimeAxis {
        state: RuntimeState::Exited,
        reason: runtime_reason,
    };
    d.detecting = None;
    d.policy = ReactionPolicy::default();
}

fn on_reopen(d: &mut Draft<'_>, stopped: Option<&Handle>) -> Result<(), StepError> {
    if !d.session.state.is_terminal() {
        return Err(StepError::ReopenLiveSession(d.rec.id.clone()));
    }
    if let Some(running) = d.rec.metadata.runtime_handle.as_ref() {
        if Some(running) != stopped {
            return Err(StepError::ReopenBesideRuntime {
                session: d.rec.id.clone(),
                runtime: running.clone(),
            });
        }
    }
    let seeded = Lifecycle::seeded();
    d.session = seeded.session;
    d.runtime = seeded.runtime;
    d.activity = seeded.activity;
    d.detecting = None;
    d.pr = Some(PrAxis {
        reason: PrReason::ClearedOnRestore,
        ..seeded.pr
    });
    d.policy = ReactionPolicy::default();
    let m = d.metadata_mut();
    m.runtime_handle = None;
    m.spawned_at = None;
    Ok(())
}

fn on_tick(d: &mut Draft<'_>, now: Timestamp, t: &Thresholds) {
    if d.session.state != SessionState::Detecting {
        return;
    }
    if let Some(q) = d.detecting {
        if timers::quarantine_overdue(now, q.started_at, t) {
            d.session = SessionAxis {
                state: SessionState::Stuck,
                reason: d.session.reason,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn signal(state: ActivityState, at: u64) -> Input {
        from(ActivitySource::Hook, state, at)
    }

    fn from(source: ActivitySource, state: ActivityState, at: u64) -> Input {
        Input {
            session: SessionId::from("app-1"),
            at: Timestamp(at),
            event: Event::Activity(ActivitySignal {
                state,
                confidence: Confidence::Valid,
                source,
            }),
        }
    }

    /// A session whose spawn completed at 1 s, no signal yet.
    fn spawned_record() -> SessionRecord {
        let mut rec = SessionRecord::seeded(
            SessionId::from("app-1"),
            ProjectId::from("app"),
            IssueId::from("1"),
            SessionKind::Worker,
            Timestamp(1_000),
        );
        rec.metadata.spawned_at = Some(Timestamp(1_000));
        rec
    }

    /// Applies a decision's patch to the record (what the driver persists).
    fn apply(rec: &mut SessionRecord, d: &Decision) {
        if let Some(p) = d.patch() {
            rec.lifecycle.activity = p.activity.unwrap_or(rec.lifecycle.activity);
            rec.lifecycle.session = p.session.unwrap_or(rec.lifecycle.session);
            if let Some(policy) = &p.policy {
                rec.policy = **policy;
            }
        }
    }

    #[test]
    fn a_terminal_observation_never_outranks_a_recent_or_sticky_hook_signal() {
        use ActivitySource::Terminal;
        use ActivityState::{Active, Idle, Ready, WaitingInput};
        let cfg = Config::default();
        let window = cfg.thresholds.recent_activity_window.as_millis();
        let mut rec = spawned_record();
        // Hooks silent so far: the fallback is heard (and says where it came from).
        let seen = step(&rec, &from(Terminal, Active, 2_000), &cfg).unwrap();
        apply(&mut rec, &seen);
        assert_eq!(rec.lifecycle.activity.source, Terminal);
        assert_eq!(rec.lifecycle.session.state, SessionState::Working);
        // A hook reports; a terminal idle within the window changes nothing.
        let hook = step(&rec, &signal(Active, 3_000), &cfg).unwrap();
        apply(&mut rec, &hook);
        let muted = step(&rec, &from(Terminal, Idle, 3_000 + window), &cfg).unwrap();
        assert!(muted.effects.is_empty(), "{muted:?}");
        // Once the hook is older than the window, a silent stop is seen.
        let heard = step(&rec, &from(Terminal, Idle, 3_001 + window), &cfg).unwrap();
        let activity = heard.patch().unwrap().activity.unwrap();
        assert_eq!((activity.state, activity.source), (Idle, Terminal));
        // A question the agent asked stays asked, however old, until the
        // screen shows work again (not within the window, though).
        let asked = step(&rec, &signal(WaitingInput, 4_000), &cfg).unwrap();
        apply(&mut rec, &asked);
        let late = step(&rec, &from(Terminal, Idle, 4_000 + 100 * window), &cfg).unwrap();
        assert!(late.effects.is_empty(), "{late:?}");
        let soon = step(&rec, &from(Terminal, Active, 4_000 + window), &cfg).unwrap();
        assert!(soon.effects.is_empty(), "{soon:?}");
        let answered = step(&rec, &from(Terminal, Active, 4_001 + window), &cfg).unwrap();
        let session = answered.patch().unwrap().session.unwrap();
        assert_eq!(session.state, SessionState::Working);
        // A hook signal always counts, after a terminal one too.
        let hook = step(&rec, &signal(Ready, 5_000), &cfg).unwrap();
        assert_eq!(hook.patch().unwrap().activity.unwrap().state, Ready);
    }

    #[test]
    fn a_signal_older_than_the_one_on_record_is_history() {
        let cfg = Config::default();
        let mut rec = spawned_record();
        // Spooled while the daemon was down: taken at its own (old) time.
        let first = step(&rec, &signal(ActivityState::Active, 5_000), &cfg).unwrap();
        let patch = first.patch().unwrap();
        assert_eq!(
            patch.activity.unwrap().last_activity_at,
            Some(Timestamp(5_000))
        );
        rec.lifecycle.activity = patch.activity.unwrap();
        rec.lifecycle.session = patch.session.unwrap_or(rec.lifecycle.session);
        // An even older one cannot replace it, nor move its time back.
        let older = step(&rec, &signal(ActivityState::Blocked, 4_000), &cfg).unwrap();
        assert_eq!(older.patch(), None);
        assert!(older.effects.is_empty());
        // A newer one (or one at the same instant) is taken.
        let newer = step(&rec, &signal(ActivityState::Blocked, 5_000), &cfg).unwrap();
        assert_eq!(
            newer.patch().unwrap().activity.unwrap().state,
            ActivityState::Blocked
        );
    }
}
