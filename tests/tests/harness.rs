//! The harness's quick gates as tests, so `cargo test` (and mutation testing,
//! which runs `cargo test` against each changed core) runs every driver: a
//! bounded fuzz campaign and exhaustive or depth-bounded model checks of the
//! real core. The long runs are in `.ci/run`; these finish in seconds.

#![allow(clippy::unwrap_used, missing_docs)]

use ao_sim::check::model::Profile;
use ao_sim::check::{check, CheckOptions, CheckReport};
use ao_sim::fuzz::{campaign, Campaign};
use std::time::Duration;

fn holds(r: &CheckReport) {
    let broken: Vec<_> = r.counterexamples.iter().map(|cx| cx.property).collect();
    assert!(broken.is_empty(), "the real core breaks {broken:?}");
}

fn opts(profile: Profile, depth: Option<usize>) -> CheckOptions {
    CheckOptions {
        sessions: 1,
        restores: 1,
        depth,
        threads: 2,
        bfs: depth.is_some(),
        timeout: Some(Duration::from_secs(300)),
        mutant: None,
        stop_at_violation: true,
        minimize: false,
        progress: false,
        reliable_store: false,
        paced: false,
        profile,
    }
}

/// Seeds no CI fuzz run uses, so this campaign adds coverage of its own.
const FUZZ_START: u64 = 7_000_000;

#[test]
fn a_bounded_fuzz_campaign_finds_no_violation() {
    let out = std::env::temp_dir().join(format!("ao-harness-fuzz-{}", std::process::id()));
    let report = campaign(
        &Campaign {
            start: FUZZ_START,
            seeds: 400,
            steps: 200,
            jobs: 2,
            out: out.clone(),
            keep_going: false,
            shrink_budget: 200,
            without: Vec::new(),
        },
        &|_| {},
    );
    let _ = std::fs::remove_dir_all(&out);
    assert_eq!(report.seeds_run, 400);
    let found: Vec<String> = report
        .found
        .iter()
        .map(|f| format!("seed {}: {}", f.seed, f.violation))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}

/// The session manager's whole space closes (every command, outcome, store
/// failure, crash, world change and collision over all of time).
#[test]
fn the_manage_space_closes_with_every_property_holding() {
    let r = check(&opts(Profile::Manage, None)).unwrap();
    holds(&r);
    assert!(r.exhaustive, "the manage space did not close");
    assert!(r.unique > 400_000, "only {} unique states", r.unique);
}

/// Every observation, racing write, tick and crash, with the session
/// manager's record events, to a fixed depth.
#[test]
fn observations_hold_every_property_to_a_depth() {
    let r = check(&opts(Profile::Observe, Some(9))).unwrap();
    holds(&r);
    assert!(r.unique > 50_000, "only {} unique states", r.unique);
}
