//! Random input sequences (every input kind, with times) over several sessions:
//! every SPEC §7 step property holds after every step, the same sequence gives
//! identical outputs twice, every state round-trips through serde, and the
//! core decides the same on records whose instants were cut off at their
//! timers' horizons (`timers::extrapolate`, what the model checker runs on).

use ao_core::config::{Config, ConfigOverrides, ReactionOverride, ThresholdOverrides};
use ao_core::domain::*;
use ao_core::invariants::{check_step, StepView};
use ao_core::lcm::*;
use ao_core::time::{Duration, Timestamp};
use ao_core::timers;
use ao_core::WireEnum;
use proptest::prelude::*;
use proptest::sample::select;

fn any_wire<T: WireEnum>() -> impl Strategy<Value = T> {
    select(T::ALL)
}

fn handle(text: &str) -> Handle {
    Handle::new(text).expect("non-empty literal")
}

/// Untrusted text with escape sequences and control characters mixed in.
fn nasty_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("ok line\n".to_owned()),
            Just("\u{1b}[31merror\u{1b}[0m\n".to_owned()),
            Just("\u{1b}]0;pwned\u{7}".to_owned()),
            Just("\r\u{8}\u{0}\t".to_owned()),
            Just("\u{9b}2J".to_owned()),
            "[a-z ]{0,12}",
        ],
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

fn pr_facts() -> impl Strategy<Value = PrFacts> {
    (
        any_wire::<PrState>(),
        any::<bool>(),
        any_wire::<CiSummary>(),
        any_wire::<ReviewDecision>(),
        (any::<bool>(), any::<bool>()),
        prop::collection::vec((any::<bool>(), nasty_text()), 0..3),
        prop::option::of(nasty_text()),
    )
        .prop_map(
            |(state, draft, ci, review, (mergeable, conflicts), comments, log)| PrFacts {
                state,
                number: Some(7),
                url: Some("https://example.test/pr/7".into()),
                draft,
                ci,
                review,
                mergeability: Mergeability {
                    mergeable,
                    no_conflicts: !conflicts,
                    ..Mergeability::default()
                },
                comments: comments
                    .into_iter()
                    .map(|(is_bot, body)| ReviewComment {
                        author: if is_bot { "bot\u{1b}[1m" } else { "alice" }.into(),
                        body,
                        is_bot,
                        url: "https://example.test/c/1".into(),
                    })
                    .collect(),
                ci_log_tail: log,
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => (any_wire::<Probe>(), any_wire::<Probe>())
            .prop_map(|(runtime, process)| Event::Runtime(RuntimeObservation { runtime, process })),
        4 => (any_wire::<ActivityState>(), any_wire::<Confidence>(), any_wire::<ActivitySource>())
            .prop_map(|(state, confidence, source)| Event::Activity(ActivitySignal { state, confidence, source })),
        4 => prop_oneof![
            1 => Just(Event::Scm(ScmObservation::FetchFailed)),
            4 => pr_facts().prop_map(|f| Event::Scm(ScmObservation::Fetched(f))),
        ],
        1 => any::<bool>().prop_map(|resume| Event::SpawnCompleted(SpawnHandles {
            workspace_path: handle("/ws/s"),
            runtime_handle: handle("rt-s"),
            runtime_name: "process".into(),
            branch: "feat/x".into(),
            agent_session_id: resume.then(|| "agent-1".into()),
        })),
        1 => any_wire::<KillKind>().prop_map(|kind| Event::KillRequested { kind }),
        1 => Just(Event::Reopened { stopped: None }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(runtime, workspace)| Event::Released { runtime, workspace }),
        1 => any_wire::<ReactionKey>().prop_map(|reaction| Event::DeliveryFailed { reaction }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(rt, ws)| Event::Adopted {
            runtime_handle: rt.then(|| handle("rt-leaked")),
            workspace_path: ws.then(|| handle("/ws/kept")),
        }),
        1 => prop_oneof![Just(""), Just("agent-7")].prop_map(|id| Event::AgentIdentified { agent_session_id: id.to_owned() }),
        3 => Just(Event::Tick),
    ]
}

/// (session index, time advance in seconds, event)
fn script() -> impl Strategy<Value = Vec<(usize, u64, Event)>> {
    prop::collection::vec(
        (
            0..3usize,
            prop_oneof![Just(0u64), 0..90u64, 200..700u64],
            event(),
        ),
        1..80,
    )
}

fn config() -> impl Strategy<Value = Config> {
    (
        (2..5u32, 1..5u32, 0..4u32, prop::option::of(1..40u64)),
        (10..200u64, 30..300u64, 60..900u64),
    )
        .prop_map(
            |((dc, attempts, retries, after), (window, grace, quarantine))| {
                let mut o = ConfigOverrides {
                    thresholds: ThresholdOverrides {
                        death_confirmations: Some(dc),
                        quarantine_max_attempts: Some(attempts),
                        recent_activity_window: Some(Duration::secs(window)),
                        spawn_grace: Some(Duration::secs(grace)),
                        quarantine_max_duration: Some(Duration::secs(quarantine)),
                        ..ThresholdOverrides::default()
                    },
                    ..ConfigOverrides::default()
                };
                o.reactions.insert(
                    ReactionKey::CiFailed,
                    ReactionOverride {
                        retries: Some(retries),
                        escalate_after: after.map(Duration::mins),
                        ..ReactionOverride::default()
                    },
                );
                Config::resolve(&o).expect("generated config is valid")
            },
        )
}

fn sessions() -> Vec<SessionRecord> {
    (0..3)
        .map(|i| {
            let kind = if i == 2 {
                SessionKind::Orchestrator
            } else {
                SessionKind::Worker
            };
            SessionRecord::seeded(
                SessionId(format!("s{i}")),
                ProjectId::from("app"),
                IssueId(format!("{}", 40 + i)),
                kind,
                Timestamp(0),
            )
        })
        .collect()
}

/// Runs a script; returns every decision (or error text) in order, checking
/// every property after every step.
fn run(cfg: &Config, script: &[(usize, u64, Event)]) -> Result<Vec<String>, TestCaseError> {
    let mut records = sessions();
    let mut now = Timestamp(0);
    let mut log = Vec::new();
    for (i, advance, event) in script {
        now = now.plus(Duration::secs(*advance));
        let before = records[*i].clone();
        let input = Input {
            session: before.id.clone(),
            at: now,
            event: event.clone(),
        };
        let decision = match step(&before, &input, cfg) {
            Ok(d) => d,
            Err(e) => {
                // Contract errors are reported, never a panic, never a write.
                let contract = matches!(
                    e,
                    StepError::ReopenLiveSession(_)
                        | StepError::ReopenBesideRuntime { .. }
                        | StepError::SpawnCompletedOnTerminal(_)
                );
                prop_assert!(contract, "unexpected step error: {}", e);
                log.push(format!("error: {e}"));
                continue;
            }
        };
        let mut after = before.clone();
        if let Some(p) = decision.patch() {
            after
                .apply(p)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let view = StepView {
            cfg,
            before: &before,
            input: &input,
            decision: &decision,
            after: &after,
        };
        if let Err(v) = check_step(&view) {
            return Err(TestCaseError::fail(format!(
                "{v}\ninput: {input:?}\nbefore: {before:?}\nafter: {after:?}"
            )));
        }
        // Every state round-trips through serde.
        let json = serde_json::to_string(&after).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: SessionRecord =
            serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &after);
        let input_json =
            serde_json::to_string(&input).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let input_back: Input =
            serde_json::from_str(&input_json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&input_back, &input);
        log.push(
            serde_json::to_string(&decision.effects)
                .map_err(|e| TestCaseError::fail(e.to_string()))?,
        );
        records[*i] = after;
    }
    log.push(serde_json::to_string(&records).map_err(|e| TestCaseError::fail(e.to_string()))?);
    Ok(log)
}

/// The clock of the extrapolated shadow run: far from the script's own times.
const SHADOW_NOW: Timestamp = Timestamp(1 << 40);

/// `rec` with every instant expressed as its age before `now` (the frame the
/// concrete run and the shadow run share).
fn in_ages(rec: &SessionRecord, now: Timestamp) -> SessionRecord {
    let mut rec = rec.clone();
    timers::for_each_instant(&mut rec, |_, at| {
        *at = Timestamp(now.0.saturating_sub(at.0))
    });
    rec
}

/// Runs a script twice: on concrete records at concrete times, and on a
/// shadow whose clock never moves (time passing ages its instants instead)
/// and whose instants are cut off at their horizons after every change, as
/// the model checker's state is. Every decision must be the same: the same
/// error, the same effects but for the patch's absolute instants, and the
/// same record once both are extrapolated and seen as ages.
fn run_extrapolated(cfg: &Config, script: &[(usize, u64, Event)]) -> Result<(), TestCaseError> {
    let mut concrete = sessions();
    let mut shadow = sessions();
    for rec in &mut shadow {
        timers::extrapolate(rec, SHADOW_NOW, cfg);
    }
    let mut now = Timestamp(0);
    for (k, (i, advance, event)) in script.iter().enumerate() {
        let by = Duration::secs(*advance);
        now = now.plus(by);
        for rec in &mut shadow {
            timers::age_by(rec, by);
            timers::extrapolate(rec, SHADOW_NOW, cfg);
        }
        let decide = |rec: &SessionRecord, at: Timestamp| {
            let input = Input {
                session: rec.id.clone(),
                at,
                event: event.clone(),
            };
            step(rec, &input, cfg).map(|d| {
                let mut after = rec.clone();
                if let Some(p) = d.patch() {
                    after.apply(p).expect("a fresh patch applies");
                }
                let effects: Vec<Effect> = d
                    .effects
                    .into_iter()
                    .filter(|e| !matches!(e, Effect::Persist(_)))
                    .collect();
                (after, effects)
            })
        };
        let ctx = || {
            format!(
                "step {k}: {event:?}\nconcrete: {:?}\nshadow: {:?}",
                concrete[*i], shadow[*i]
            )
        };
        match (decide(&concrete[*i], now), decide(&shadow[*i], SHADOW_NOW)) {
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string(), "{}", ctx()),
            (Ok((mut a, ea)), Ok((mut b, eb))) => {
                prop_assert_eq!(&ea, &eb, "{}", ctx());
                timers::extrapolate(&mut a, now, cfg);
                timers::extrapolate(&mut b, SHADOW_NOW, cfg);
                prop_assert_eq!(in_ages(&a, now), in_ages(&b, SHADOW_NOW), "{}", ctx());
                concrete[*i] = a;
                shadow[*i] = b;
            }
            (a, b) => {
                return Err(TestCaseError::fail(format!(
                    "one run failed: {:?} vs {:?}\n{}",
                    a.map(|x| x.1),
                    b.map(|x| x.1),
                    ctx()
                )))
            }
        }
    }
    Ok(())
}

/// Puts every session through spawn completion first, so observations count.
fn with_spawns(mut s: Vec<(usize, u64, Event)>) -> Vec<(usize, u64, Event)> {
    let spawn = |i: usize| {
        (
            i,
            1,
            Event::SpawnCompleted(SpawnHandles {
                workspace_path: handle(&format!("/ws/s{i}")),
                runtime_handle: handle(&format!("rt-s{i}")),
                runtime_name: "process".into(),
                branch: format!("feat/s{i}"),
                agent_session_id: None,
            }),
        )
    };
    let mut full: Vec<_> = (0..3).map(spawn).collect();
    full.append(&mut s);
    full
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_property_holds_after_every_step(cfg in config(), s in script()) {
        run(&cfg, &with_spawns(s))?;
    }

    #[test]
    fn same_inputs_give_identical_outputs(cfg in config(), s in script()) {
        let s = with_spawns(s);
        let first = run(&cfg, &s)?;
        let second = run(&cfg, &s)?;
        prop_assert_eq!(first, second);
    }

    #[test]
    fn extrapolated_records_get_the_same_decisions(cfg in config(), s in script()) {
        run_extrapolated(&cfg, &with_spawns(s))?;
    }
}
