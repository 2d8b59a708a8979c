//! `ao-sim check`: the model checker finds every deliberately wrong
//! supervisor, the real core holds within a bound, and a counterexample
//! exported as a scenario fails in the simulator too.

#![allow(clippy::unwrap_used, missing_docs)]

use ao_core::invariants::PropertyId;
use ao_sim::check::model::Profile;
use ao_sim::check::mutant::Mutant;
use ao_sim::check::{check, export, props, CheckOptions, CheckReport};
use ao_sim::engine::{run, RunOptions, Verdict};
use std::path::Path;
use std::time::Duration;

fn opts(mutant: Option<Mutant>, depth: usize) -> CheckOptions {
    CheckOptions {
        sessions: 1,
        restores: 1,
        depth: Some(depth),
        threads: 2,
        bfs: false,
        timeout: Some(Duration::from_secs(240)),
        mutant,
        stop_at_violation: true,
        minimize: true,
        progress: false,
        reliable_store: true,
        paced: false,
        profile: Profile::Small,
    }
}

fn broken(r: &CheckReport) -> Vec<(String, u32)> {
    r.counterexamples
        .iter()
        .map(|cx| {
            let mask = cx
                .path
                .last()
                .and_then(|(s, _)| s.broken.as_ref())
                .map_or(0, |b| b.mask);
            (cx.property.to_owned(), mask)
        })
        .collect()
}

fn catches(m: Mutant, depth: usize, expected: &[PropertyId]) {
    catches_with(m, &opts(Some(m), depth), expected);
}

fn catches_with(m: Mutant, o: &CheckOptions, expected: &[PropertyId]) {
    let depth = o.depth.unwrap_or(0);
    let r = check(o).unwrap();
    let found = broken(&r);
    assert!(
        !found.is_empty(),
        "mutant {} was not caught ({} unique states, depth <= {depth})",
        m.name(),
        r.unique
    );
    let hit = found
        .iter()
        .any(|(_, mask)| expected.iter().any(|p| mask & (1 << (*p as u32)) != 0));
    assert!(
        hit,
        "mutant {} broke {found:?}, expected one of {expected:?}",
        m.name()
    );
    let cx = &r.counterexamples[0];
    assert!(cx.minimal, "the counterexample of {} is minimal", m.name());
    let timeline = export::timeline(&cx.path);
    assert!(timeline.contains("VIOLATED"), "{timeline}");
}

#[test]
fn catches_a_failed_probe_read_as_death() {
    catches(
        Mutant::FailedProbeIsDeath,
        8,
        &[PropertyId::FailedProbeIsNotDeath],
    );
}

#[test]
fn catches_one_dead_probe_terminating() {
    catches(
        Mutant::OneDeadProbeTerminates,
        8,
        &[PropertyId::DeathConfirmed],
    );
}

#[test]
fn catches_a_ci_flap_resetting_the_budget() {
    let o = opts(Some(Mutant::CiFlapResetsBudget), 13);
    catches_with(Mutant::CiFlapResetsBudget, &o, &[PropertyId::Budgets]);
}

#[test]
fn catches_a_dirty_workspace_destroyed() {
    catches(
        Mutant::DirtyWorkspaceDestroyed,
        8,
        &[PropertyId::NoDataLoss],
    );
}

#[test]
fn catches_a_write_applied_against_a_stale_revision() {
    catches(Mutant::StaleWriteApplied, 8, &[PropertyId::Revision]);
}

#[test]
fn catches_a_reaction_dispatched_after_leaving_its_state() {
    catches(Mutant::StaleReaction, 9, &[PropertyId::NoStaleReaction]);
}

#[test]
fn catches_a_restart_forgetting_escalation() {
    catches(
        Mutant::RestartForgetsEscalation,
        13,
        &[PropertyId::Budgets, PropertyId::NoNotificationStorm],
    );
}

#[test]
fn catches_a_restore_left_half_open() {
    catches(Mutant::RestoreHalfOpen, 13, &[PropertyId::NoLeaks]);
}

#[test]
fn catches_a_destroy_of_something_not_ours() {
    catches(Mutant::DestroysForeign, 8, &[PropertyId::OnlyItsOwn]);
}

#[test]
fn catches_a_name_found_taken_adopted_as_our_own() {
    catches(Mutant::AdoptsForeign, 8, &[PropertyId::OnlyItsOwn]);
}

#[test]
fn the_real_core_holds_within_a_bound() {
    let r = check(&CheckOptions {
        stop_at_violation: false,
        ..opts(None, 9)
    })
    .unwrap();
    assert!(r.counterexamples.is_empty(), "{:?}", broken(&r));
    assert!(!r.exhaustive, "a depth-bounded run is not exhaustive");
    assert!(r.unique > 10_000, "only {} unique states", r.unique);
}

#[test]
fn every_property_is_named_once() {
    let all = props::explorer_properties();
    let mut names: Vec<&str> = all.iter().map(|p| p.name).collect();
    // Every SPEC §7 property is checked, in order: a property added to the
    // core but not to the checker would otherwise end paths silently.
    let ids: Vec<PropertyId> = props::ALWAYS.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, <PropertyId as ao_core::WireEnum>::ALL);
    // ... plus the composition's interface, a property of the model.
    let n = ids.len() + 1;
    assert!(names.contains(&props::INTERFACE));
    assert_eq!(all.len(), n + props::REACH.len());
    assert_eq!(props::properties(false).len(), n + 1);
    assert_eq!(props::properties(true).len(), 1 + 1);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), all.len());
}

/// With record-write failures in the model, the real core holds within a
/// bound: a rollback's or a teardown's hand-off that the store fails is asked
/// again (a stall: a self-loop), never given up (SPEC §7.8, §7.19).
#[test]
fn the_real_core_holds_with_a_failing_store() {
    let r = check(&CheckOptions {
        reliable_store: false,
        stop_at_violation: false,
        ..opts(None, 8)
    })
    .unwrap();
    assert!(r.counterexamples.is_empty(), "{:?}", broken(&r));
    assert!(r.unique > 1_000, "only {} unique states", r.unique);
}

/// A counterexample exports as a scenario that the simulator loads and
/// replays. The mutant lives only in the model, so against the real core the
/// same schedule keeps every invariant.
#[test]
fn an_exported_counterexample_replays_in_the_simulator() {
    let r = check(&opts(Some(Mutant::DirtyWorkspaceDestroyed), 8)).unwrap();
    let cx = r
        .counterexamples
        .iter()
        .find(|cx| cx.property == "7.7 no_data_loss")
        .unwrap_or_else(|| panic!("mutant not caught: {:?}", broken(&r)));
    assert!(cx.minimal);
    let model = ao_sim::check::build_model(&opts(None, 8)).unwrap();
    let e = export::scenario(&model, "check-no-data-loss", &cx.path);
    let yaml = export::to_yaml(&e).unwrap();
    let sc = ao_sim::scenario::load_str(Path::new("check-no-data-loss.yaml"), &yaml)
        .unwrap_or_else(|err| panic!("{err}\n{yaml}"));
    let report = run(&sc, &RunOptions::default());
    let trace = || {
        report
            .trace
            .iter()
            .map(|l| l.render())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(report.verdict, Verdict::Pass, "{yaml}\n{}", trace());
    assert!(
        trace().contains("spawn-1 finished"),
        "the replay runs the path's operation:\n{}",
        trace()
    );
}

/// The timer defects planted in the core's own logic: the default,
/// exhaustive run over all of time finds each, with a minimal counterexample
/// that exports as a scenario; replayed in the simulator against a core with
/// the same defect, the scenario shows the same violation (and against the
/// real core it keeps every invariant).
#[test]
fn the_exhaustive_run_finds_every_timer_defect_with_a_replayable_scenario() {
    let timer = [
        (Mutant::IgnoredGrace, "7.20 startup_grace"),
        (Mutant::EpisodeClockReset, "7.16 quarantine_ends"),
        (Mutant::StuckFallsBack, "7.21 escalation_monotone"),
        (Mutant::EscalationLate, "7.18 duration_escalation"),
    ];
    for (m, property) in timer {
        let o = CheckOptions {
            mutant: Some(m),
            depth: None,
            timeout: None,
            reliable_store: false,
            profile: Profile::Observe,
            ..CheckOptions::default()
        };
        let (whole, parts) = ao_sim::check::check_composed(&o).unwrap();
        assert_eq!(parts.len(), 1, "{}: the observe run finds it", m.name());
        let cx = whole
            .counterexamples
            .iter()
            .find(|cx| cx.property == property)
            .unwrap_or_else(|| {
                panic!(
                    "{} not caught as {property}: {:?}",
                    m.name(),
                    broken(&whole)
                )
            });
        assert!(cx.minimal, "{}", m.name());
        let model = ao_sim::check::build_model(&CheckOptions {
            profile: cx.profile,
            ..o.clone()
        })
        .unwrap();
        let e = export::scenario(&model, m.name(), &cx.path);
        let yaml = export::to_yaml(&e).unwrap();
        let sc = ao_sim::scenario::load_str(Path::new("cx.yaml"), &yaml).unwrap();
        let planted = run(
            &sc,
            &RunOptions {
                defect: m.defect(),
                ..RunOptions::default()
            },
        );
        let number = property.split(' ').next().unwrap_or_default();
        match &planted.verdict {
            Verdict::Violation { violation } => assert!(
                violation.contains(&format!("§{number}")),
                "{}: {violation}\n{yaml}",
                m.name()
            ),
            other => panic!("{}: the replay shows {other:?}\n{yaml}", m.name()),
        }
        assert_eq!(
            run(&sc, &RunOptions::default()).verdict,
            Verdict::Pass,
            "{}: the real core passes the same schedule",
            m.name()
        );
    }
}
