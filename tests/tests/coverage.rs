//! Library coverage: the scenarios in `scenarios/`, run together, must reach
//! every display status a session can show, fire every reaction, and
//! escalate at least once. A failure lists what no scenario reaches yet, so
//! it reads as the to-do list of the scenario library.

use ao_core::domain::{DisplayStatus, ReactionKey};
use ao_core::WireEnum;
use ao_sim::engine::{Coverage, RunOptions, RunReport};
use ao_sim::runner::{discover, load_all, run_all};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Statuses no scenario can reach, and why (checked against `ao-core`'s
/// writers of `SessionState`, all in `core/src/lcm/step.rs`).
///
/// - `done`: the display rule maps `SessionState::Done` to `done`, but nothing
///   in the core ever writes `SessionState::Done` (no decider, reducer
///   transition or session-manager operation produces it; the display rule is
///   the only code that reads it). A merged PR parks the session as `idle`
///   (`merged_waiting_decision`) and shows `merged`.
/// - `terminated`: it is the display of a terminated session whose reason is
///   none of the mapped ones, but the core terminates a session only with
///   `runtime_lost` (confirmed death: `killed`), `manually_killed`
///   (`killed`), `auto_cleanup` (`cleanup`) or `error_in_process`
///   (`errored`), so the fallback word is never shown.
///
/// (`cleanup` is reachable in the core, through `KillRequested { kind:
/// cleanup }` on a live session; the simulator needs a driver that sends it.)
const UNREACHABLE: &[DisplayStatus] = &[DisplayStatus::Done, DisplayStatus::Terminated];

fn scenarios_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
    dir.canonicalize().unwrap_or(dir)
}

/// Runs every scenario (as `ao-sim run scenarios/` does).
fn run_library() -> Vec<RunReport> {
    let files = discover(&[scenarios_dir()]).unwrap_or_else(|e| panic!("{e}"));
    let loaded = load_all(&files).unwrap_or_else(|errors| {
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("invalid scenario files:\n{}", shown.join("\n"))
    });
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let reports = run_all(&loaded, &RunOptions::default(), jobs, &|_, _| {});
    assert_eq!(reports.len(), loaded.len(), "every scenario reports");
    reports
}

/// Every scenario's coverage, merged.
fn library_coverage() -> (usize, Coverage) {
    let reports = run_library();
    let mut total = Coverage::default();
    for r in &reports {
        total.statuses.extend(r.coverage.statuses.iter().copied());
        total.reactions.extend(r.coverage.reactions.iter().copied());
        total
            .escalations
            .extend(r.coverage.escalations.iter().copied());
    }
    (reports.len(), total)
}

fn names<T: WireEnum>(items: impl IntoIterator<Item = T>) -> String {
    let names: Vec<&str> = items.into_iter().map(WireEnum::as_str).collect();
    if names.is_empty() {
        "(none)".to_owned()
    } else {
        names.join(", ")
    }
}

#[test]
fn scenarios_reach_every_status_and_reaction_and_escalate() {
    let (count, got) = library_coverage();
    let missing_statuses: BTreeSet<DisplayStatus> = DisplayStatus::ALL
        .iter()
        .copied()
        .filter(|s| !UNREACHABLE.contains(s) && !got.statuses.contains(s))
        .collect();
    let missing_reactions: BTreeSet<ReactionKey> = ReactionKey::ALL
        .iter()
        .copied()
        .filter(|r| !got.reactions.contains(r))
        .collect();
    let unexpected: BTreeSet<DisplayStatus> = got
        .statuses
        .iter()
        .copied()
        .filter(|s| UNREACHABLE.contains(s))
        .collect();

    let mut problems = Vec::new();
    if !missing_statuses.is_empty() {
        problems.push(format!(
            "display statuses no scenario reaches: {}",
            names(missing_statuses)
        ));
    }
    if !missing_reactions.is_empty() {
        problems.push(format!(
            "reactions no scenario fires: {}",
            names(missing_reactions)
        ));
    }
    if got.escalations.is_empty() {
        problems.push("no scenario escalates a reaction".to_owned());
    }
    if !unexpected.is_empty() {
        problems.push(format!(
            "reached statuses documented as unreachable (update UNREACHABLE and its comment): {}",
            names(unexpected)
        ));
    }
    assert!(
        problems.is_empty(),
        "the {count} scenario(s) in {} do not cover the core:\n  - {}\n\
         reached statuses: {}\nfired reactions: {}\nescalated: {}",
        scenarios_dir().display(),
        problems.join("\n  - "),
        names(got.statuses.iter().copied()),
        names(got.reactions.iter().copied()),
        names(got.escalations.iter().copied()),
    );
}

/// What the timeline itself shows a run reached: the status after each
/// decision, and the reactions in its effects (`send <reaction>`,
/// `notify <reaction> (...)`, `notify reaction.escalated(<reaction>) (...)`).
fn coverage_from_trace(report: &RunReport) -> Coverage {
    let mut c = Coverage::default();
    for line in &report.trace {
        if let Ok(status) = line.status.parse::<DisplayStatus>() {
            c.statuses.insert(status);
        }
        for effect in line.effects.split("; ") {
            let first_word = |s: &str| s.split_whitespace().next().unwrap_or("").to_owned();
            if let Some(rest) = effect.strip_prefix("send ") {
                if let Ok(r) = first_word(rest).parse::<ReactionKey>() {
                    c.reactions.insert(r);
                }
            } else if let Some(rest) = effect.strip_prefix("notify reaction.escalated(") {
                if let Some(Ok(r)) = rest.split(')').next().map(str::parse::<ReactionKey>) {
                    c.escalations.insert(r);
                }
            } else if let Some(rest) = effect.strip_prefix("notify ") {
                if let Ok(r) = first_word(rest).parse::<ReactionKey>() {
                    c.reactions.insert(r);
                }
            }
        }
    }
    c
}

/// The engine's `coverage` must record what the trace shows, or the library
/// check above can neither pass nor be trusted.
#[test]
fn coverage_agrees_with_the_trace() {
    let mut problems = Vec::new();
    for report in run_library() {
        let seen = coverage_from_trace(&report);
        let missing = |what: &str, shown: String| {
            format!("{}: {what} missing from coverage: {shown}", report.name)
        };
        let statuses: Vec<DisplayStatus> = seen
            .statuses
            .difference(&report.coverage.statuses)
            .copied()
            .collect();
        if !statuses.is_empty() {
            problems.push(missing("statuses shown in the trace", names(statuses)));
        }
        let reactions: Vec<ReactionKey> = seen
            .reactions
            .difference(&report.coverage.reactions)
            .copied()
            .collect();
        if !reactions.is_empty() {
            problems.push(missing("reactions fired in the trace", names(reactions)));
        }
        let escalations: Vec<ReactionKey> = seen
            .escalations
            .difference(&report.coverage.escalations)
            .copied()
            .collect();
        if !escalations.is_empty() {
            problems.push(missing("escalations in the trace", names(escalations)));
        }
    }
    assert!(
        problems.is_empty(),
        "RunReport.coverage under-reports what the runs did:\n  - {}",
        problems.join("\n  - ")
    );
}
