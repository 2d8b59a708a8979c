//! Simulator throughput: core steps per second, single-threaded, with every
//! invariant checked after every step and event (as `ao-sim run` does).
//!
//! The workload is a representative synthetic scenario built in code: 8
//! sessions spawned, every observer on (reaper, SCM poller, ticks) for one
//! hour of virtual time, PRs moving through review, a CI failure that is
//! nudged and then fixed, an agent process that dies, and a daemon crash with
//! a restart. Throughput is reported as `Elements(report.steps)`, i.e.
//! simulated core inputs per second. Issue target: ≥ 1 M inputs/s.
//!
//! Run with `cargo bench -p ao-sim --bench sim`.

use ao_sim::engine::{self, RunOptions};
use ao_sim::scenario::{load_str, Scenario};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

const SESSIONS: usize = 8;

/// The synthetic scenario's YAML, generated so it stays readable in a failure.
fn scenario_text() -> String {
    let mut y = String::from(
        "name: bench-eight-sessions-one-hour\n\
         description: 8 sessions, all observers, an hour, a CI failure and a crash.\n\
         seed: 1\n\
         until: 60m\n\
         sessions:\n",
    );
    for i in 0..SESSIONS {
        let _ = writeln!(y, "  - {{id: s{i}, project: app, issue: \"{i}\"}}");
    }
    y.push_str("steps:\n");
    for i in 0..SESSIONS {
        let _ = writeln!(y, "  - {{at: {i}s, spawn: s{i}}}");
    }
    let pr = |s: usize, extra: &str| {
        format!(
            "{{session: s{s}, pr: {{state: open, number: {}{extra}}}}}",
            100 + s
        )
    };
    let steps = [
        // Every session opens a PR with CI running.
        (3, (0..SESSIONS).map(|s| pr(s, ", ci: pending")).collect()),
        // s0: CI fails (nudged with the log), then the agent fixes it.
        (8, vec![pr(0, ", ci: failing, log: \"error: test failed\"")]),
        (15, vec![pr(0, ", ci: passing, review: pending")]),
        // s1: review asks for changes, later approved and mergeable.
        (10, vec![pr(1, ", ci: passing, review: changes_requested")]),
        (
            25,
            vec![pr(1, ", ci: passing, review: approved, mergeable: true")],
        ),
        // s2: conflicts with its base.
        (12, vec![pr(2, ", ci: passing, conflicts: true")]),
        // s3: the agent process dies.
        (18, vec!["{session: s3, process: exit}".to_owned()]),
        // s4: the agent goes idle; s5 asks for input.
        (20, vec!["{session: s4, activity: idle}".to_owned()]),
        (
            22,
            vec!["{session: s5, activity: waiting_input}".to_owned()],
        ),
        // s6: merged.
        (40, vec![pr(6, "").replace("state: open", "state: merged")]),
    ];
    for (minute, changes) in steps {
        for c in changes {
            let _ = writeln!(y, "  - {{at: {minute}m, world: {c}}}");
        }
    }
    // The daemon crashes at half time and restarts.
    y.push_str("  - {at: 30m, crash: {restart_after: 5s}}\n");
    y
}

fn scenario() -> Scenario {
    let text = scenario_text();
    load_str(Path::new("bench.yaml"), &text)
        .unwrap_or_else(|e| panic!("the bench scenario does not load: {e}\n{text}"))
}

fn bench(c: &mut Criterion) {
    let sc = scenario();
    let opts = RunOptions::default();
    let report = engine::run(&sc, &opts);
    assert!(
        report.passed(),
        "the bench scenario must run clean: {:?}",
        report.verdict
    );
    eprintln!(
        "bench scenario: {} core steps, {} trace lines per run",
        report.steps,
        report.trace.len()
    );
    let mut group = c.benchmark_group("sim");
    group.throughput(Throughput::Elements(report.steps));
    group.bench_function("eight_sessions_one_hour", |b| {
        b.iter(|| engine::run(black_box(&sc), black_box(&opts)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
