//! Snapshot tables over whole input spaces (SPEC.md §2–§4, §6): one row per
//! combination, so reviewing a snapshot reads like reviewing the spec's tables.
//!
//! Every step runs at [`NOW`] against `Config::default()`; times in cells are
//! relative to it (`now-30s`). Empty wire words print as `""`. Records start
//! "settled": their reaction policy already maps to the reaction of their
//! starting state (one open tracker), so a row's effects show only what the
//! step itself changes.

use ao_core::config::{Config, ReactionTable};
use ao_core::decide::{self, Evidence, Verdict};
use ao_core::domain::{
    derive_display, display_status, ActivityRecord, ActivitySource, ActivityState, Confidence,
    Fingerprint, PrAxis, PrReason, PrState, Probe, Quarantine, ReactionKey, RuntimeAxis,
    RuntimeReason, RuntimeState, SessionAxis, SessionKind, SessionReason, SessionRecord,
    SessionState, Tracker,
};
use ao_core::lcm::{
    self, ActivitySignal, CiSummary, Effect, Event, Input, Mergeability, NotificationKind, PrFacts,
    QuarantineChange, ReviewComment, ReviewDecision, RuntimeObservation, ScmObservation,
};
use ao_core::time::Timestamp;
use ao_core::WireEnum;

/// The observation time of every step.
const NOW: Timestamp = Timestamp(1_000_000_000);

// ---------------------------------------------------------------- rendering

/// `secs` seconds before [`NOW`].
fn ago(secs: u64) -> Timestamp {
    Timestamp(NOW.0 - secs * 1000)
}

/// A time relative to [`NOW`].
fn rel(t: Timestamp) -> String {
    match t.cmp(&NOW) {
        std::cmp::Ordering::Equal => "now".into(),
        std::cmp::Ordering::Less => format!("now-{}", NOW.since(t)),
        std::cmp::Ordering::Greater => format!("now+{}", t.since(NOW)),
    }
}

/// A wire word; the empty word prints as `""`.
fn w<T: WireEnum>(v: T) -> String {
    match v.as_str() {
        "" => "\"\"".into(),
        s => s.into(),
    }
}

fn yn(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn axis(s: SessionAxis) -> String {
    format!("{}/{}", w(s.state), w(s.reason))
}

fn runtime(r: RuntimeAxis) -> String {
    format!("{}/{}", w(r.state), w(r.reason))
}

fn pr(p: &PrAxis) -> String {
    let number = p.number.map(|n| format!(" #{n}")).unwrap_or_default();
    format!("{}/{}{number}", w(p.state), w(p.reason))
}

fn quarantine(q: Option<Quarantine>) -> String {
    q.map_or("-".into(), |q| {
        format!("{}@{}", q.attempts, rel(q.started_at))
    })
}

fn activity(a: &ActivityRecord) -> String {
    let at = a.last_activity_at.map_or("-".into(), rel);
    format!("{}@{at}/{}", w(a.state), w(a.source))
}

fn reaction(key: Option<ReactionKey>) -> String {
    key.map_or("-".into(), w)
}

/// Renders rows under a header as an aligned plain-text table.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        assert_eq!(
            row.len(),
            header.len(),
            "row {row:?} does not fit {header:?}"
        );
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = String>| {
        let padded: Vec<String> = cells
            .zip(&widths)
            .map(|(c, width)| format!("{c:<width$}"))
            .collect();
        padded.join(" | ").trim_end().to_owned() + "\n"
    };
    let mut out = line(&mut header.iter().map(|h| (*h).to_owned()));
    out += &line(&mut widths.iter().map(|n| "-".repeat(*n)));
    for row in rows {
        out += &line(&mut row.iter().cloned());
    }
    out
}

/// Groups a function over the product of `dims` into rows, exactly: at each
/// dimension, values whose remaining sub-tables are identical share one row
/// (comma-joined, or `*` when that is every value of the dimension).
fn grouped(dims: &[Vec<String>], f: &dyn Fn(&[usize]) -> String) -> Vec<Vec<String>> {
    fn go(
        dims: &[Vec<String>],
        f: &dyn Fn(&[usize]) -> String,
        at: &mut Vec<usize>,
    ) -> Vec<Vec<String>> {
        let Some((values, rest)) = dims.split_first() else {
            return vec![vec![f(at)]];
        };
        let mut groups: Vec<(Vec<usize>, Vec<Vec<String>>)> = Vec::new();
        for i in 0..values.len() {
            at.push(i);
            let sub = go(rest, f, at);
            at.pop();
            match groups.iter_mut().find(|(_, s)| *s == sub) {
                Some((members, _)) => members.push(i),
                None => groups.push((vec![i], sub)),
            }
        }
        let mut rows = Vec::new();
        for (members, sub) in groups {
            let label = if members.len() == values.len() && values.len() > 1 {
                "*".to_owned()
            } else {
                let names: Vec<&str> = members.iter().map(|i| values[*i].as_str()).collect();
                names.join(",")
            };
            for row in sub {
                rows.push(std::iter::once(label.clone()).chain(row).collect());
            }
        }
        rows
    }
    go(dims, f, &mut Vec::new())
}

/// Every wire word of an enum, for [`grouped`].
fn words<T: WireEnum>() -> Vec<String> {
    T::ALL.iter().map(|v| w(*v)).collect()
}

// ------------------------------------------------------------------ records

fn session(state: SessionState, reason: SessionReason) -> SessionAxis {
    SessionAxis { state, reason }
}

/// A record in `state` whose spawn completed at `spawned_at` (None: spawn not completed),
/// with its reaction policy settled on the state's current reaction.
fn record(kind: SessionKind, s: SessionAxis, spawned_at: Option<Timestamp>) -> SessionRecord {
    let mut rec = SessionRecord::seeded("s1".into(), "app".into(), "42".into(), kind, ago(3600));
    rec.revision = 7;
    rec.lifecycle.session = s;
    rec.metadata.spawned_at = spawned_at;
    if spawned_at.is_some() {
        rec.lifecycle.runtime = RuntimeAxis {
            state: RuntimeState::Alive,
            reason: RuntimeReason::ProcessRunning,
        };
    }
    settle(&mut rec);
    rec
}

/// Maps the policy to the record's current reaction, with its first attempt 30 s ago.
fn settle(rec: &mut SessionRecord) {
    let l = &rec.lifecycle;
    let mapped = lcm::reaction_for(rec.kind, l.session, &l.pr);
    rec.policy = Default::default();
    rec.policy.mapped = mapped;
    if let Some(key) = mapped {
        *rec.policy.slot(key) = Some(Tracker {
            attempts: 1,
            first_attempt_at: ago(30),
            escalated: false,
            undelivered: false,
        });
    }
}

/// Runs one step at [`NOW`]; returns the record after its patch and the effects summary.
fn run(rec: &SessionRecord, event: Event) -> (SessionRecord, String) {
    let input = Input {
        session: rec.id.clone(),
        at: NOW,
        event,
    };
    let decision = lcm::step(rec, &input, &Config::default()).expect("a well-formed step");
    let mut after = rec.clone();
    if let Some(patch) = decision.patch() {
        after.apply(patch).expect("a fresh patch applies");
    }
    let summary: Vec<String> = decision.effects.iter().map(effect).collect();
    let summary = if summary.is_empty() {
        "-".into()
    } else {
        summary.join("; ")
    };
    (after, summary)
}

fn effect(e: &Effect) -> String {
    match e {
        Effect::Persist(p) => {
            let mut axes: Vec<&str> = [
                (p.session.is_some(), "session"),
                (p.pr.is_some(), "pr"),
                (p.runtime.is_some(), "runtime"),
                (p.activity.is_some(), "activity"),
                (p.metadata.is_some(), "metadata"),
                (p.policy.is_some(), "policy"),
            ]
            .into_iter()
            .filter_map(|(changed, name)| changed.then_some(name))
            .collect();
            match p.detecting {
                QuarantineChange::Leave => {}
                QuarantineChange::Set(_) => axes.push("quarantine=set"),
                QuarantineChange::Clear => axes.push("quarantine=clear"),
            }
            format!("persist[{}]", axes.join(","))
        }
        Effect::SendToAgent { reaction, .. } => format!("send {reaction}"),
        Effect::Notify(n) => match n.kind {
            NotificationKind::Reaction => format!("notify {} ({})", n.reaction, n.priority),
            NotificationKind::Escalated => format!("escalate {} ({})", n.reaction, n.priority),
        },
    }
}

/// The outcome columns shared by the step tables.
fn outcome(after: &SessionRecord, effects: String) -> Vec<String> {
    let l = &after.lifecycle;
    vec![
        axis(l.session),
        runtime(l.runtime),
        quarantine(l.detecting),
        w(display_status(l)),
        effects,
    ]
}

// ------------------------------------------------------------------ tables

#[test]
fn liveness() {
    let mut rows = Vec::new();
    for &rt in Probe::ALL {
        for &proc in Probe::ALL {
            for recent in [true, false] {
                let verdict = match decide::liveness(rt, proc, recent) {
                    Verdict::Healthy => "healthy (working/task_in_progress)".to_owned(),
                    Verdict::Quarantine(r) => format!("quarantine {}", w(r)),
                    Verdict::DeathCandidate => {
                        "death candidate (runtime_lost; confirmed if repeated)".to_owned()
                    }
                };
                rows.push(vec![w(rt), w(proc), yn(recent), verdict]);
            }
        }
    }
    assert_eq!(rows.len(), 32);
    let header = ["runtime probe", "process probe", "recent", "verdict"];
    insta::assert_snapshot!("liveness", table(&header, &rows));
}

/// Every starting session state: label, axis, seconds since spawn completed.
/// `stuck` comes twice: activity-owned (a `blocked` signal) and liveness-owned.
#[rustfmt::skip]
fn starts() -> Vec<(&'static str, SessionAxis, u64)> {
    use SessionReason as R;
    use SessionState as S;
    vec![
        ("not_started (after grace)", session(S::NotStarted, R::SpawnRequested), 600),
        ("not_started (in grace)", session(S::NotStarted, R::SpawnRequested), 30),
        ("working", session(S::Working, R::TaskInProgress), 600),
        ("idle", session(S::Idle, R::None), 600),
        ("needs_input", session(S::NeedsInput, R::AwaitingUserInput), 600),
        ("stuck (activity)", session(S::Stuck, R::AwaitingUserInput), 600),
        ("stuck (liveness)", session(S::Stuck, R::RuntimeLost), 600),
        ("detecting", session(S::Detecting, R::RuntimeLost), 600),
        ("done", session(S::Done, R::None), 600),
        ("terminated", session(S::Terminated, R::ManuallyKilled), 600),
    ]
}

/// Quarantine memory: `attempts` observations of `fp`, the episode started `since` seconds ago.
fn memory(attempts: u32, since: u64, fp: Fingerprint) -> Quarantine {
    Quarantine {
        attempts,
        started_at: ago(since),
        evidence_fingerprint: fp,
    }
}

/// The memory of a quarantined session: one `runtime_lost` observation 30 s ago.
fn liveness_memory() -> Quarantine {
    memory(
        1,
        30,
        evidence(Probe::Dead, Probe::Alive, false).fingerprint(),
    )
}

/// A fingerprint no observation produces (no verdict proposes `error_in_process`).
fn other_fingerprint() -> Fingerprint {
    Evidence {
        runtime: Probe::Indeterminate,
        process: Probe::Indeterminate,
        recent_activity: false,
        reason: SessionReason::ErrorInProcess,
    }
    .fingerprint()
}

/// An activity record that makes `recent` true at [`NOW`]: active 10 s ago, or none at all.
fn recent_record(recent: bool) -> ActivityRecord {
    if recent {
        ActivityRecord {
            state: ActivityState::Active,
            last_activity_at: Some(ago(10)),
            source: ActivitySource::Hook,
        }
    } else {
        ActivityRecord::NONE
    }
}

/// The evidence an observation yields (healthy verdicts carry the empty reason).
fn evidence(rt: Probe, proc: Probe, recent: bool) -> Evidence {
    let reason = decide::liveness(rt, proc, recent).reason();
    Evidence {
        runtime: rt,
        process: proc,
        recent_activity: recent,
        reason: reason.unwrap_or(SessionReason::None),
    }
}

fn runtime_event(rt: Probe, proc: Probe) -> Event {
    Event::Runtime(RuntimeObservation {
        runtime: rt,
        process: proc,
    })
}

#[test]
fn runtime_observation_step() {
    let priors: [(&str, Option<(u32, bool)>); 4] = [
        ("none", None),
        ("same x1", Some((1, true))),
        ("same x2", Some((2, true))),
        ("other x2", Some((2, false))),
    ];
    let mut rows = Vec::new();
    for (label, start, spawned) in starts() {
        for &rt in Probe::ALL {
            for &proc in Probe::ALL {
                for recent in [true, false] {
                    for (prior_label, prior) in priors {
                        let mut rec = record(SessionKind::Worker, start, Some(ago(spawned)));
                        rec.lifecycle.activity = recent_record(recent);
                        rec.lifecycle.detecting = prior.map(|(attempts, same)| {
                            let fp = if same {
                                evidence(rt, proc, recent).fingerprint()
                            } else {
                                other_fingerprint()
                            };
                            memory(attempts, 30, fp)
                        });
                        let (after, effects) = run(&rec, runtime_event(rt, proc));
                        let mut row = vec![
                            label.to_owned(),
                            w(rt),
                            w(proc),
                            yn(recent),
                            prior_label.to_owned(),
                        ];
                        row.extend(outcome(&after, effects));
                        rows.push(row);
                    }
                }
            }
        }
    }
    assert_eq!(rows.len(), 10 * 4 * 4 * 2 * 4);
    let header = [
        "session",
        "runtime",
        "process",
        "recent",
        "prior quarantine",
        "-> session",
        "runtime axis",
        "quarantine",
        "display",
        "effects",
    ];
    insta::assert_snapshot!("runtime_observation_step", table(&header, &rows));
}

#[test]
fn runtime_observation_step_edges() {
    use ActivityState as A;
    use SessionReason as R;
    use SessionState as S;
    let act = |state, secs: u64| ActivityRecord {
        state,
        last_activity_at: Some(ago(secs)),
        source: ActivitySource::Hook,
    };
    let none = ActivityRecord::NONE;
    let not_started = session(S::NotStarted, R::SpawnRequested);
    let working = session(S::Working, R::TaskInProgress);
    let detecting = session(S::Detecting, R::RuntimeLost);
    let (alive, dead, failed) = (Probe::Alive, Probe::Dead, Probe::Failed);
    // case, session, seconds since spawn (None: spawn not completed), activity record,
    // prior quarantine (attempts, seconds since the episode started, same fingerprint), probes.
    #[rustfmt::skip]
    let cases = [
        ("spawn not completed", not_started, None, none, None, (alive, alive)),
        ("spawn not completed", not_started, None, none, None, (alive, dead)),
        ("spawn not completed", not_started, None, none, None, (dead, dead)),
        ("spawn not completed", not_started, None, none, None, (failed, failed)),
        ("spawn not completed", working, None, none, None, (dead, dead)),
        ("grace: 119s after spawn", not_started, Some(119), none, None, (alive, dead)),
        ("grace: 120s after spawn (over)", not_started, Some(120), none, None, (alive, dead)),
        ("grace: in grace, runtime dead", not_started, Some(30), none, None, (dead, dead)),
        ("grace: in grace, runtime dead", not_started, Some(30), none, Some((1, 30, true)), (dead, dead)),
        ("grace: in grace, process failed", not_started, Some(30), none, None, (alive, failed)),
        ("window: active 60s ago (recent)", detecting, Some(600), act(A::Active, 60), Some((1, 30, true)), (dead, dead)),
        ("window: active 61s ago (quiet)", detecting, Some(600), act(A::Active, 61), Some((1, 30, true)), (dead, dead)),
        ("window: exited 10s ago (quiet)", detecting, Some(600), act(A::Exited, 10), Some((1, 30, true)), (dead, dead)),
        ("sticky: waiting_input 1h ago", detecting, Some(600), act(A::WaitingInput, 3600), Some((1, 30, true)), (dead, dead)),
        ("sticky: blocked 1h ago", detecting, Some(600), act(A::Blocked, 3600), Some((1, 30, true)), (dead, dead)),
        ("recover to sticky activity", detecting, Some(600), act(A::WaitingInput, 3600), Some((1, 30, true)), (alive, alive)),
        ("recover to sticky activity", detecting, Some(600), act(A::Blocked, 3600), Some((1, 30, true)), (alive, alive)),
        ("recover, hooks never fired", detecting, Some(600), none, Some((1, 30, true)), (alive, alive)),
        ("quarantine 4m59s old", detecting, Some(600), none, Some((1, 299, true)), (alive, failed)),
        ("quarantine 5m old (escalates)", detecting, Some(600), none, Some((1, 300, true)), (alive, failed)),
        ("new fingerprint keeps started_at", detecting, Some(600), none, Some((1, 300, false)), (alive, failed)),
        ("death confirmed from stuck", session(S::Stuck, R::RuntimeLost), Some(600), none, Some((3, 120, true)), (dead, dead)),
        ("dead after probe_failure: not confirmed", session(S::Detecting, R::ProbeFailure), Some(600), none, Some((1, 30, false)), (dead, dead)),
    ];
    let thresholds = Config::default().thresholds;
    let rows: Vec<Vec<String>> = cases
        .into_iter()
        .map(
            |(case, start, spawned, activity_record, prior, (rt, proc))| {
                let mut rec = record(SessionKind::Worker, start, spawned.map(ago));
                rec.lifecycle.activity = activity_record;
                let recent = decide::recent_activity(&activity_record, NOW, &thresholds);
                rec.lifecycle.detecting = prior.map(|(attempts, since, same)| {
                    let fp = if same {
                        evidence(rt, proc, recent).fingerprint()
                    } else {
                        other_fingerprint()
                    };
                    memory(attempts, since, fp)
                });
                let (after, effects) = run(&rec, runtime_event(rt, proc));
                let prior = prior.map_or("none".into(), |(attempts, since, same)| {
                    let fp = if same { "same" } else { "other" };
                    format!("{fp} x{attempts}@{}", rel(ago(since)))
                });
                let mut row = vec![
                    case.to_owned(),
                    axis(start),
                    activity(&activity_record),
                    prior,
                    w(rt),
                    w(proc),
                ];
                row.extend(outcome(&after, effects));
                row
            },
        )
        .collect();
    let header = [
        "case",
        "session",
        "activity record",
        "prior quarantine",
        "runtime",
        "process",
        "-> session",
        "runtime axis",
        "quarantine",
        "display",
        "effects",
    ];
    insta::assert_snapshot!("runtime_observation_step_edges", table(&header, &rows));
}

/// Open-PR facts for the ladder; comments are one human and/or one bot comment.
fn open_facts(
    ci: CiSummary,
    review: ReviewDecision,
    conflicts: bool,
    human: bool,
    bot: bool,
    mergeable: bool,
) -> PrFacts {
    let comment = |author: &str, is_bot| ReviewComment {
        author: author.into(),
        body: "please rename this".into(),
        is_bot,
        url: format!("https://example.test/pr/7#{author}"),
    };
    let mut comments = Vec::new();
    if human {
        comments.push(comment("alice", false));
    }
    if bot {
        comments.push(comment("bugbot", true));
    }
    PrFacts {
        ci,
        review,
        comments,
        mergeability: Mergeability {
            mergeable,
            no_conflicts: !conflicts,
            ..Mergeability::default()
        },
        ci_log_tail: (ci == CiSummary::Failing).then(|| "error: test failed".into()),
        ..PrFacts::open(7)
    }
}

#[test]
fn scm_open_pr() {
    let working = session(SessionState::Working, SessionReason::TaskInProgress);
    let mut rows = Vec::new();
    for &ci in CiSummary::ALL {
        for &review in ReviewDecision::ALL {
            for conflicts in [false, true] {
                for human in [false, true] {
                    for bot in [false, true] {
                        for mergeable in [false, true] {
                            let facts = open_facts(ci, review, conflicts, human, bot, mergeable);
                            let reason = decide::scm::open_pr_reason(&facts);
                            let axis = PrAxis {
                                reason,
                                ..pr_axis(PrState::Open)
                            };
                            rows.push(vec![
                                w(ci),
                                w(review),
                                yn(conflicts),
                                yn(human),
                                yn(bot),
                                yn(mergeable),
                                w(reason),
                                w(derive_display(working, PrState::Open, reason)),
                                reaction(lcm::reaction_for(SessionKind::Worker, working, &axis)),
                            ]);
                        }
                    }
                }
            }
        }
    }
    assert_eq!(rows.len(), 256);
    let header = [
        "ci",
        "review",
        "conflicts",
        "human comments",
        "bot comments",
        "mergeable",
        "-> pr reason",
        "display (working)",
        "reaction (worker)",
    ];
    insta::assert_snapshot!("scm_open_pr", table(&header, &rows));
}

/// A PR axis in `state` with the reason the SCM path writes for it (number 7 once created).
fn pr_axis(state: PrState) -> PrAxis {
    let reason = match state {
        PrState::None => PrReason::NotCreated,
        PrState::Open => PrReason::InProgress,
        PrState::Merged => PrReason::Merged,
        PrState::Closed => PrReason::ClosedUnmerged,
    };
    PrAxis {
        state,
        reason,
        number: (state != PrState::None).then_some(7),
        url: None,
        draft: false,
    }
}

#[test]
fn scm_step() {
    use SessionReason as R;
    use SessionState as S;
    let starts = [
        session(S::Working, R::TaskInProgress),
        session(S::NeedsInput, R::AwaitingUserInput),
        session(S::Detecting, R::RuntimeLost),
        session(S::Terminated, R::ManuallyKilled),
    ];
    let observations: Vec<(&str, ScmObservation)> = vec![
        ("fetch failed", ScmObservation::FetchFailed),
        (
            "none",
            ScmObservation::Fetched(PrFacts {
                state: PrState::None,
                number: None,
                ..PrFacts::open(0)
            }),
        ),
        (
            "open, ci failing",
            ScmObservation::Fetched(open_facts(
                CiSummary::Failing,
                ReviewDecision::None,
                false,
                false,
                false,
                false,
            )),
        ),
        (
            "merged",
            ScmObservation::Fetched(PrFacts {
                state: PrState::Merged,
                ..PrFacts::open(7)
            }),
        ),
        (
            "closed",
            ScmObservation::Fetched(PrFacts {
                state: PrState::Closed,
                ..PrFacts::open(7)
            }),
        ),
    ];
    let mut rows = Vec::new();
    for &kind in SessionKind::ALL {
        for start in starts {
            for prior_pr in [PrState::None, PrState::Open] {
                for (obs_label, obs) in &observations {
                    let mut rec = record(kind, start, Some(ago(600)));
                    rec.lifecycle.pr = pr_axis(prior_pr);
                    if start.state == S::Detecting {
                        rec.lifecycle.detecting = Some(liveness_memory());
                    }
                    settle(&mut rec);
                    let (after, effects) = run(&rec, Event::Scm(obs.clone()));
                    let l = &after.lifecycle;
                    rows.push(vec![
                        w(kind),
                        axis(start),
                        pr(&rec.lifecycle.pr),
                        (*obs_label).to_owned(),
                        axis(l.session),
                        pr(&l.pr),
                        w(display_status(l)),
                        effects,
                    ]);
                }
            }
        }
    }
    assert_eq!(rows.len(), 2 * 4 * 2 * 5);
    let header = [
        "kind",
        "session",
        "prior pr",
        "observation",
        "-> session",
        "pr axis",
        "display",
        "effects",
    ];
    insta::assert_snapshot!("scm_step", table(&header, &rows));
}

#[test]
fn display() {
    let dims = [
        words::<SessionState>(),
        words::<SessionReason>(),
        words::<PrState>(),
        words::<PrReason>(),
    ];
    let rows = grouped(&dims, &|i| {
        let s = session(SessionState::ALL[i[0]], SessionReason::ALL[i[1]]);
        w(derive_display(s, PrState::ALL[i[2]], PrReason::ALL[i[3]]))
    });
    let header = [
        "session state",
        "session reason",
        "pr state",
        "pr reason",
        "display",
    ];
    insta::assert_snapshot!("display", table(&header, &rows));
}

#[test]
fn reactions() {
    let dims = [
        words::<SessionState>(),
        words::<SessionReason>(),
        words::<PrState>(),
        words::<PrReason>(),
        words::<SessionKind>(),
    ];
    let rows = grouped(&dims, &|i| {
        let s = session(SessionState::ALL[i[0]], SessionReason::ALL[i[1]]);
        let axis = PrAxis {
            reason: PrReason::ALL[i[3]],
            ..pr_axis(PrState::ALL[i[2]])
        };
        reaction(lcm::reaction_for(SessionKind::ALL[i[4]], s, &axis))
    });
    let header = [
        "session state",
        "session reason",
        "pr state",
        "pr reason",
        "kind",
        "reaction",
    ];
    insta::assert_snapshot!("reactions", table(&header, &rows));
}

#[test]
fn reaction_defaults() {
    let rows: Vec<Vec<String>> = ReactionTable::default()
        .iter()
        .map(|(key, r)| {
            vec![
                w(key),
                w(r.action),
                r.retries.map_or("-".into(), |n| n.to_string()),
                r.escalate_after.map_or("-".into(), |d| d.to_string()),
                w(r.priority),
                yn(r.enabled),
                yn(key.is_persistent()),
                r.message.clone(),
            ]
        })
        .collect();
    let header = [
        "reaction",
        "action",
        "retries",
        "escalate_after",
        "priority",
        "enabled",
        "persistent",
        "message",
    ];
    insta::assert_snapshot!("reaction_defaults", table(&header, &rows));
}

#[test]
fn activity_step() {
    let mut rows = Vec::new();
    // The startup grace does not concern activity: one not_started block.
    let starts = starts()
        .into_iter()
        .filter(|(l, ..)| !l.ends_with("(in grace)"));
    for (label, start, spawned) in starts {
        for &state in ActivityState::ALL {
            for &confidence in Confidence::ALL {
                let mut rec = record(SessionKind::Worker, start, Some(ago(spawned)));
                let quarantined =
                    matches!(start.state, SessionState::Detecting | SessionState::Stuck)
                        && start.reason.is_liveness_owned();
                if quarantined {
                    rec.lifecycle.detecting = Some(liveness_memory());
                }
                let signal = ActivitySignal {
                    state,
                    confidence,
                    source: ActivitySource::Hook,
                };
                let (after, effects) = run(&rec, Event::Activity(signal));
                let l = &after.lifecycle;
                let cleared = match (rec.lifecycle.detecting, l.detecting) {
                    (None, _) => "-",
                    (Some(_), None) => "cleared",
                    (Some(_), Some(_)) => "kept",
                };
                rows.push(vec![
                    label.to_owned(),
                    w(state),
                    w(confidence),
                    axis(l.session),
                    activity(&l.activity),
                    cleared.to_owned(),
                    w(display_status(l)),
                    effects,
                ]);
            }
        }
    }
    assert_eq!(rows.len(), 9 * 6 * 5);
    let header = [
        "session",
        "activity",
        "confidence",
        "-> session",
        "activity record",
        "quarantine",
        "display",
        "effects",
    ];
    insta::assert_snapshot!("activity_step", table(&header, &rows));
}

#[test]
fn fingerprints() {
    let mut rows = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for &rt in Probe::ALL {
        for &proc in Probe::ALL {
            for recent in [true, false] {
                if decide::liveness(rt, proc, recent) == Verdict::Healthy {
                    continue;
                }
                let e = evidence(rt, proc, recent);
                let fp = e.fingerprint();
                assert!(seen.insert(fp), "fingerprint collision at {e:?}");
                let activity = if recent { "recent" } else { "quiet" };
                // The canonical encoding, spelled out: FNV-1a 64 over fields each followed by 0x1f.
                let fields = [
                    "ao.evidence.v1",
                    rt.as_str(),
                    proc.as_str(),
                    activity,
                    e.reason.as_str(),
                ];
                let encoding: String = fields.iter().map(|f| format!("{f}\u{1f}")).collect();
                assert_eq!(fp.0, fnv1a64(encoding.as_bytes()), "{e:?}");
                rows.push(vec![
                    w(rt),
                    w(proc),
                    activity.into(),
                    w(e.reason),
                    fp.to_string(),
                ]);
            }
        }
    }
    assert_eq!(rows.len(), 28);
    let header = ["runtime", "process", "activity", "reason", "fingerprint"];
    insta::assert_snapshot!("fingerprints", table(&header, &rows));
}

/// Reference FNV-1a (64-bit), independent of the core's hasher.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
