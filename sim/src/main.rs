//! `ao-sim`: run YAML scenarios in the seeded deterministic simulator.
//!
//! Exit codes: 0 every scenario passed; 1 an expectation or invariant failed;
//! 2 invalid input (bad arguments, unreadable or invalid scenario files).

use ao_sim::engine::{trace::format_time, RunOptions, RunReport, Verdict};
use ao_sim::runner::{discover, load_all, run_all};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The model checker allocates and frees millions of small states a second
/// (glibc's allocator spent half the checker's time doing it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ao-sim",
    version,
    about = "Deterministic simulator for the ao supervisor core"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario files or directories of them (every invariant checked on every step).
    Run {
        /// Scenario files or directories (searched recursively for *.yaml, *.yml).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Override every scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Print each scenario's timeline (time, input, decision, effects, status).
        #[arg(long)]
        trace: bool,
        /// Machine-readable output: one JSON object per scenario, then a summary.
        #[arg(long)]
        json: bool,
        /// Worker threads (default: the number of cores).
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
    },
    /// Fuzz: random worlds and schedules (swarm-style fault rates), shrink any
    /// invariant violation to a minimal scenario file that `ao-sim run` replays.
    Fuzz(ao_sim::fuzz::FuzzArgs),
    /// Model-check the core exhaustively (stateright): every core/SPEC.md §7 property,
    /// the reachability list, counterexamples exported as scenarios.
    Check(ao_sim::check::CheckArgs),
    /// Replay a daemon's journal through the core; every decision must match.
    Replay(ao_sim::replay::ReplayArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Run {
            paths,
            seed,
            trace,
            json,
            jobs,
        } => run(&paths, seed, trace, json, jobs),
        Command::Fuzz(args) => ao_sim::fuzz::cli(&args),
        Command::Check(args) => ao_sim::check::cli(&args),
        Command::Replay(args) => ao_sim::replay::cli(&args),
    }
}

fn run(
    paths: &[PathBuf],
    seed: Option<u64>,
    trace: bool,
    json: bool,
    jobs: Option<usize>,
) -> ExitCode {
    let files = match discover(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let loaded = match load_all(&files) {
        Ok(l) => l,
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!("{} invalid scenario file(s); nothing was run", errors.len());
            return ExitCode::from(2);
        }
    };
    let jobs = jobs
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    let tty = std::io::stderr().is_terminal() && !json;
    let progress = |done: usize, total: usize| {
        if tty {
            let width = 30;
            let filled = done * width / total.max(1);
            eprint!(
                "\r[{}{}] {done}/{total}",
                "#".repeat(filled),
                "-".repeat(width - filled)
            );
            let _ = std::io::stderr().flush();
        }
    };
    let opts = RunOptions { seed, defect: None };
    let reports = run_all(&loaded, &opts, jobs, &progress);
    if tty {
        eprint!("\r{}\r", " ".repeat(50));
    }
    let failed = reports.iter().filter(|r| !r.passed()).count();
    if json {
        print_json(&reports, &loaded);
    } else {
        print_human(&reports, &loaded, trace);
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_json(reports: &[RunReport], loaded: &[ao_sim::runner::Loaded]) {
    for (r, l) in reports.iter().zip(loaded) {
        let mut v = serde_json::to_value(r).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("file".into(), l.path.display().to_string().into());
            obj.insert("virtual_time_ms".into(), r.end.0.into());
        }
        println!("{v}");
    }
    let passed = reports.iter().filter(|r| r.passed()).count();
    println!(
        "{}",
        serde_json::json!({"summary": {"scenarios": reports.len(), "passed": passed, "failed": reports.len() - passed}})
    );
}

fn print_human(reports: &[RunReport], loaded: &[ao_sim::runner::Loaded], trace: bool) {
    let name_width = reports
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = String::new();
    for (r, l) in reports.iter().zip(loaded) {
        if trace || !r.passed() {
            out.push_str(&format!(
                "\n── {} ({}, seed {}) ──\n",
                r.name,
                l.path.display(),
                r.seed
            ));
            let lines = if trace {
                &r.trace[..]
            } else {
                &r.trace[r.trace.len().saturating_sub(40)..]
            };
            if !trace && lines.len() < r.trace.len() {
                out.push_str(&format!(
                    "   ... {} earlier line(s); run with --trace for all\n",
                    r.trace.len() - lines.len()
                ));
            }
            for line in lines {
                out.push_str(&line.render());
                out.push('\n');
            }
            match &r.verdict {
                Verdict::Pass => {}
                Verdict::Failed { failures } => {
                    for f in failures {
                        out.push_str(&format!("   expectation failed: {f}\n"));
                    }
                }
                Verdict::Violation { violation } => out.push_str(&format!("   {violation}\n")),
            }
        }
    }
    out.push_str(&format!(
        "\n{:<name_width$}  {:<9}  {:>6}  {:>12}  {}\n",
        "scenario", "result", "steps", "virtual time", "fingerprint"
    ));
    for r in reports {
        let result = match r.verdict {
            Verdict::Pass => "pass",
            Verdict::Failed { .. } => "FAIL",
            Verdict::Violation { .. } => "VIOLATION",
        };
        out.push_str(&format!(
            "{:<name_width$}  {:<9}  {:>6}  {:>12}  {}\n",
            r.name,
            result,
            r.steps,
            format_time(r.end),
            r.fingerprint
        ));
    }
    let passed = reports.iter().filter(|r| r.passed()).count();
    out.push_str(&format!(
        "\n{passed} passed, {} failed\n",
        reports.len() - passed
    ));
    print!("{out}");
}
