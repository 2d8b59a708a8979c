//! One snapshot per scenario in `scenarios/`: the scenario must pass, and its
//! whole timeline (every `TraceLine::render()`, under a header with the seed,
//! step count, end time and fingerprint) is snapshotted, so any change in
//! behaviour shows up in review as a diff of the timeline.
//!
//! This is its own test binary on purpose: `insta::glob!` keeps a
//! process-wide failure tally that could absorb another test's failure.
//!
//! Accept new or changed snapshots with
//! `INSTA_UPDATE=always cargo test -p ao-tests --test scenario_snapshots`
//! (or `cargo insta review`); with `CI=true` a new or changed snapshot fails.

use ao_sim::engine::{self, trace::format_time, RunOptions, RunReport};
use ao_sim::scenario::load_file;
use std::path::Path;

/// The snapshot text: a header, then the timeline, one rendered line each.
fn render(report: &RunReport, file: &str) -> String {
    let mut out = format!(
        "scenario: {}\nfile: {file}\nseed: {}\nsteps: {}\nend: {}\nfingerprint: {}\n---\n",
        report.name,
        report.seed,
        report.steps,
        format_time(report.end),
        report.fingerprint,
    );
    let lines: Vec<String> = report.trace.iter().map(|l| l.render()).collect();
    out.push_str(&lines.join("\n"));
    out
}

/// The file's path under `scenarios/`, with `/` (for subdirectories) as `__`.
fn snapshot_suffix(path: &Path) -> String {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let base = base.canonicalize().unwrap_or(base);
    let relative = path.strip_prefix(&base).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("__")
}

#[test]
fn trace() {
    // Same discovery as `ao-sim run scenarios/`: recursive, *.yaml and *.yml.
    insta::glob!("../../scenarios", "**/*.{yaml,yml}", |path| {
        let name = snapshot_suffix(path);
        let scenario = load_file(path).unwrap_or_else(|e| panic!("{e}"));
        let report = engine::run(&scenario, &RunOptions::default());
        assert!(
            report.passed(),
            "scenario {name} did not pass: {:?}\n{}",
            report.verdict,
            render(&report, &name)
        );
        // glob! names a snapshot after the path below the matches' common
        // prefix, which is the whole path while there is one file (an empty
        // suffix) and the file name once there are two: pin the name to the
        // file so it does not change as the library grows.
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_suffix(name.clone());
        settings.bind(|| insta::assert_snapshot!(render(&report, &name)));
    });
}
