//! Per-driver score of a cargo-mutants run (issue 16): which part of the
//! harness killed each mutant of the core, read from `mutants.out`.
//!
//! `cargo run -p ao-tests --example mutants_report -- [MUTANTS_OUT] [--json]`
//!
//! Every test binary the run's `cargo test` ran belongs to one driver: the
//! core's unit, property and snapshot tests; the scenario library (replays,
//! snapshot tables, determinism); the bounded fuzz campaign; the model
//! checker. A mutant is killed by every driver with a failing test in its
//! log, so a run with `-- --no-fail-fast` credits every driver that sees it
//! and a fail-fast run credits the first. Prints a table (or, with `--json`,
//! a machine-readable summary) and exits 1 when a mutant was missed.

#![allow(missing_docs)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The harness's drivers, in the order the table shows them.
const DRIVERS: [&str; 4] = ["unit", "scenarios", "fuzz", "checker"];

/// The driver a failing test belongs to (binary stem, test name).
fn driver_of(binary: &str, test: &str) -> &'static str {
    match binary {
        "harness" if test.contains("fuzz") => "fuzz",
        "harness" | "check" => "checker",
        "scenario_snapshots" | "coverage" | "determinism" | "replay" => "scenarios",
        _ => "unit",
    }
}

/// The stem of a test binary in a `Running` line: `Running tests/x.rs
/// (target/debug/deps/NAME-HASH)`, or with `--verbose` (as cargo-mutants
/// runs it) ``Running `target/debug/deps/NAME-HASH` ``.
fn binary_of(line: &str) -> Option<String> {
    let last = line.split_whitespace().last()?;
    let inner = last.trim_matches(|c| matches!(c, '(' | ')' | '`'));
    let file = Path::new(inner).file_name()?.to_str()?;
    Some(
        file.rsplit_once('-')
            .map_or(file, |(stem, _)| stem)
            .to_owned(),
    )
}

/// The drivers with a failing test in a mutant's test log.
fn killers(log: &str) -> Vec<&'static str> {
    let mut binary = String::new();
    let mut found = Vec::new();
    for line in log.lines() {
        let l = line.trim();
        if l.starts_with("Running ") {
            binary = binary_of(l).unwrap_or_default();
        } else if let Some(rest) = l.strip_prefix("test ") {
            if let Some(name) = rest.strip_suffix(" ... FAILED") {
                let d = driver_of(&binary, name);
                if !found.contains(&d) {
                    found.push(d);
                }
            }
        }
    }
    found.sort_by_key(|d| DRIVERS.iter().position(|x| x == d));
    found
}

struct Row {
    name: String,
    file: String,
    summary: String,
    killers: Vec<&'static str>,
}

fn load(out: &Path) -> Result<Vec<Row>, String> {
    let path = out.join("outcomes.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let outcomes = v["outcomes"]
        .as_array()
        .ok_or_else(|| format!("{}: no `outcomes` list", path.display()))?;
    let mut rows = Vec::new();
    for o in outcomes {
        let Some(m) = o["scenario"].get("Mutant") else {
            continue; // the baseline
        };
        let log = o["log_path"]
            .as_str()
            .map(|p| std::fs::read_to_string(out.join(p)).unwrap_or_default())
            .unwrap_or_default();
        let summary = o["summary"].as_str().unwrap_or("?").to_owned();
        rows.push(Row {
            name: m["name"].as_str().unwrap_or("?").to_owned(),
            file: m["file"].as_str().unwrap_or("?").to_owned(),
            killers: if summary == "CaughtMutant" {
                killers(&log)
            } else {
                Vec::new()
            },
            summary,
        });
    }
    Ok(rows)
}

fn main() -> ExitCode {
    let mut out = PathBuf::from("mutants.out");
    let mut json = false;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--json" => json = true,
            "-h" | "--help" => {
                println!("usage: mutants_report [MUTANTS_OUT] [--json]");
                return ExitCode::SUCCESS;
            }
            s if s.starts_with('-') => {
                eprintln!("unknown option {s}\nusage: mutants_report [MUTANTS_OUT] [--json]");
                return ExitCode::from(2);
            }
            s => out = PathBuf::from(s),
        }
    }
    let rows = match load(&out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mutants_report: {e}");
            return ExitCode::FAILURE;
        }
    };
    let count = |s: &str| rows.iter().filter(|r| r.summary == s).count();
    let (caught, missed, timeout, unviable) = (
        count("CaughtMutant"),
        count("MissedMutant"),
        count("Timeout"),
        count("Unviable"),
    );
    let viable = caught + missed + timeout;
    let by_driver: BTreeMap<&str, usize> = DRIVERS
        .iter()
        .map(|d| (*d, rows.iter().filter(|r| r.killers.contains(d)).count()))
        .collect();
    let only: BTreeMap<&str, usize> = DRIVERS
        .iter()
        .map(|d| (*d, rows.iter().filter(|r| r.killers == [*d]).count()))
        .collect();
    let missed_names: Vec<&str> = rows
        .iter()
        .filter(|r| r.summary == "MissedMutant")
        .map(|r| r.name.as_str())
        .collect();
    if json {
        let per_file: BTreeMap<&str, (usize, usize)> =
            rows.iter().fold(BTreeMap::new(), |mut m, r| {
                let e = m.entry(r.file.as_str()).or_insert((0, 0));
                if r.summary != "Unviable" {
                    e.1 += 1;
                    if r.summary != "MissedMutant" {
                        e.0 += 1;
                    }
                }
                m
            });
        let v = serde_json::json!({
            "viable": viable, "caught": caught, "timeout": timeout,
            "missed": missed, "unviable": unviable,
            "killed_by": by_driver, "killed_only_by": only,
            "per_file_killed_of_viable": per_file,
            "missed_mutants": missed_names,
        });
        println!("{v:#}");
    } else {
        let pct = |n: usize| {
            if viable == 0 {
                0.0
            } else {
                100.0 * n as f64 / viable as f64
            }
        };
        println!(
            "{viable} viable mutants ({unviable} unviable): {} killed ({:.1}%: {caught} caught, {timeout} timed out), {missed} missed\n",
            caught + timeout,
            pct(caught + timeout)
        );
        println!("| driver | kills | % of viable | only this driver |");
        println!("|---|---|---|---|");
        for d in DRIVERS {
            println!(
                "| {d} | {} | {:.1}% | {} |",
                by_driver[d],
                pct(by_driver[d]),
                only[d]
            );
        }
        if !missed_names.is_empty() {
            println!("\nmissed:");
            for n in &missed_names {
                println!("  {n}");
            }
        }
    }
    if missed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_tests_are_credited_to_their_drivers() {
        let log = "\
     Running unittests src/lib.rs (target/debug/deps/ao_core-0123abcd)
test decide::x ... ok
     Running tests/harness.rs (target/debug/deps/harness-99aa)
test a_bounded_fuzz_campaign_finds_no_violation ... FAILED
test the_manage_space_closes_with_every_property_holding ... FAILED
     Running tests/scenario_snapshots.rs (target/debug/deps/scenario_snapshots-77)
test every_scenario ... FAILED
";
        assert_eq!(killers(log), vec!["scenarios", "fuzz", "checker"]);
        let verbose = "\
     Running `/w/target/debug/deps/tables-d157ee779e4ba190`
test activity_step ... FAILED
     Running `/w/target/debug/deps/harness-c914d0478c7e8190`
test the_manage_space_closes_with_every_property_holding ... FAILED
";
        assert_eq!(killers(verbose), vec!["unit", "checker"]);
        assert_eq!(killers("test x ... ok\n"), Vec::<&str>::new());
    }
}
