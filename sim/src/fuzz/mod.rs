//! `ao-sim fuzz`: random worlds and schedules, swarm style (the fault
//! probabilities and the mix of step kinds are themselves drawn per seed),
//! every invariant checked on every step. A seed fails only on an invariant
//! violation; it is then shrunk to a minimal run and written as a scenario
//! file that `ao-sim run` replays, and that file is loaded back and replayed
//! to prove it reproduces the violation.

pub mod generate;
pub mod shrink;

use crate::engine::{self, RunOptions, Verdict};
use crate::scenario::{load_file, load_str, Scenario};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration as WallDuration, Instant};

pub use generate::{generate, generate_without, FaultClass};
pub use shrink::{shrink, Shrunk};

/// Arguments of `ao-sim fuzz`.
#[derive(Clone, Debug, clap::Args)]
pub struct FuzzArgs {
    /// How many seeds to run.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// Scripted steps per run.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub steps: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    pub start: u64,
    /// Worker threads (default: the number of cores).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub jobs: Option<u64>,
    /// Where shrunk failing scenarios are written (`fuzz-seed-<seed>.yaml`).
    #[arg(long, default_value = "fuzz-failures")]
    pub out: PathBuf,
    /// Run every seed and shrink every violation (default: stop at the first failing seed).
    #[arg(long)]
    pub keep_going: bool,
    /// Machine-readable output: one JSON object per violation, then a summary.
    #[arg(long)]
    pub json: bool,
    /// Leave out these fault classes (random rates and scripted steps), e.g.
    /// `--without crash` to tell whether a failure needs a daemon crash.
    #[arg(long, value_delimiter = ',', value_name = "CLASS")]
    pub without: Vec<FaultClass>,
    /// At most this many runs to shrink one failure.
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u64).range(1..))]
    pub shrink_budget: u64,
}

/// The property a violation text names: `property §7.N name` (the text
/// before ` violated`), or the text before the first `:` for engine checks.
pub fn property_of(violation: &str) -> &str {
    match violation.find(" violated") {
        Some(i) => &violation[..i],
        None => violation.split(':').next().unwrap_or(violation),
    }
}

/// A violation with its times, numbers and project paths masked, so the
/// same bug found from different seeds groups under one signature.
pub fn signature(violation: &str) -> String {
    let text = violation
        .find(" (at ")
        .map_or(violation, |i| &violation[..i]);
    let mut out = String::with_capacity(text.len());
    let mut digits = false;
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            if !digits {
                out.push('#');
            }
            digits = true;
        } else {
            digits = false;
            out.push(ch);
        }
    }
    // Workspace paths name the project: `/ws/<project>/`.
    let mut masked = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find("/ws/") {
        masked.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        if let Some(j) = rest.find('/') {
            masked.push('*');
            rest = &rest[j..];
        }
    }
    masked.push_str(rest);
    masked
}

/// Runs a scenario; the violation text if an invariant broke, and the core steps taken.
pub fn violation_of(sc: &Scenario) -> (Option<String>, u64) {
    let report = engine::run(sc, &RunOptions::default());
    match report.verdict {
        Verdict::Violation { violation } => (Some(violation), report.steps),
        _ => (None, report.steps),
    }
}

/// Shrinks a scenario that violates `property`, keeping only candidates that
/// violate the same property. Returns the result and the core steps spent.
pub fn shrink_violation(sc: &Scenario, property: &str, budget: usize) -> (Shrunk, u64) {
    let mut steps = 0;
    let shrunk = shrink(sc, budget, |c| {
        let (v, n) = violation_of(c);
        steps += n;
        v.is_some_and(|v| property_of(&v) == property)
    });
    (shrunk, steps)
}

/// The scenario as YAML that [`load_str`] accepts. Unset config overrides
/// are dropped (the config serializes them as `null`, which its strict
/// loader rejects).
pub fn to_yaml(sc: &Scenario) -> Result<String, serde_yaml::Error> {
    let mut value = serde_yaml::to_value(sc)?;
    if let Some(config) = value.get_mut("config") {
        strip_nulls(config);
    }
    serde_yaml::to_string(&value)
}

fn strip_nulls(v: &mut serde_yaml::Value) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            m.retain(|_, x| !x.is_null());
            for (_, x) in m.iter_mut() {
                strip_nulls(x);
            }
        }
        serde_yaml::Value::Sequence(s) => s.iter_mut().for_each(strip_nulls),
        serde_yaml::Value::Tagged(t) => strip_nulls(&mut t.value),
        _ => {}
    }
}

/// Whether a written scenario replays its violation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "replay", content = "detail")]
pub enum Replay {
    /// Loaded back, ran, and violated the same property.
    Reproduced,
    /// The file could not be written.
    NotWritten(String),
    /// The written file does not load.
    DoesNotLoad(String),
    /// It loads but does not violate the same property (what it did instead).
    NotReproduced(String),
}

/// One violating seed, shrunk and written.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Found {
    /// The seed.
    pub seed: u64,
    /// The violated property (`property §7.N name`).
    pub property: String,
    /// The violation as first seen (full run).
    pub violation: String,
    /// The violation of the shrunk run.
    pub shrunk_violation: String,
    /// The shrunk violation with ids, numbers and times masked (groups one bug).
    pub signature: String,
    /// Scripted steps before shrinking.
    pub original_steps: usize,
    /// Scripted steps after shrinking.
    pub shrunk_steps: usize,
    /// Sessions after shrinking.
    pub shrunk_sessions: usize,
    /// Runs the shrink spent.
    pub shrink_runs: usize,
    /// The shrink budget ran out (the result may not be minimal).
    pub shrink_exhausted: bool,
    /// Where the scenario was written.
    pub file: PathBuf,
    /// Whether the written file replays the violation.
    #[serde(flatten)]
    pub replay: Replay,
    /// The shrunk scenario as written.
    #[serde(skip)]
    pub yaml: String,
}

/// What a fuzz campaign did.
#[derive(Clone, Debug, Default)]
pub struct FuzzReport {
    /// Seeds that ran to completion.
    pub seeds_run: u64,
    /// Core steps taken by the seed runs.
    pub core_steps: u64,
    /// Core steps taken while shrinking.
    pub shrink_core_steps: u64,
    /// Violations, by seed.
    pub found: Vec<Found>,
    /// Wall time of the seed runs.
    pub fuzz_time: WallDuration,
    /// Wall time of shrinking and writing.
    pub shrink_time: WallDuration,
}

/// Campaign settings (the parsed, validated arguments).
#[derive(Clone, Debug)]
pub struct Campaign {
    /// First seed.
    pub start: u64,
    /// Number of seeds.
    pub seeds: u64,
    /// Scripted steps per run.
    pub steps: usize,
    /// Worker threads.
    pub jobs: usize,
    /// Output directory.
    pub out: PathBuf,
    /// Run every seed (else stop at the first failing one).
    pub keep_going: bool,
    /// Runs per shrink.
    pub shrink_budget: usize,
    /// Fault classes left out.
    pub without: Vec<FaultClass>,
}

/// Progress events for a front end.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// Seeds done so far, of the total; violations so far.
    Seeds {
        /// Done.
        done: u64,
        /// Total.
        total: u64,
        /// Violations so far.
        violations: u64,
    },
    /// Shrinking started for a seed.
    Shrinking {
        /// The seed.
        seed: u64,
    },
}

/// Runs a campaign: every seed in parallel, then shrinks and writes every
/// violation kept (all with `keep_going`, else the lowest failing seed).
pub fn campaign(c: &Campaign, progress: &(dyn Fn(Progress) + Sync)) -> FuzzReport {
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let limit = AtomicU64::new(u64::MAX);
    let done = AtomicU64::new(0);
    let core_steps = AtomicU64::new(0);
    let failures: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());
    let jobs = c
        .jobs
        .clamp(1, usize::try_from(c.seeds).unwrap_or(usize::MAX));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= c.seeds || i > limit.load(Ordering::Relaxed) {
                    break;
                }
                let seed = c.start + i;
                let (violation, steps) = violation_of(&generate_without(seed, c.steps, &c.without));
                core_steps.fetch_add(steps, Ordering::Relaxed);
                let mut violations = 0;
                if let Some(v) = violation {
                    if !c.keep_going {
                        limit.fetch_min(i, Ordering::Relaxed);
                    }
                    if let Ok(mut f) = failures.lock() {
                        f.push((seed, v));
                        violations = f.len() as u64;
                    }
                } else if let Ok(f) = failures.lock() {
                    violations = f.len() as u64;
                }
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(Progress::Seeds {
                    done: d,
                    total: c.seeds,
                    violations,
                });
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_default();
    failures.sort();
    if !c.keep_going {
        failures.truncate(1);
    }
    let fuzz_time = started.elapsed();

    let shrinking = Instant::now();
    let shrink_steps = AtomicU64::new(0);
    let next = AtomicU64::new(0);
    let slots: Mutex<Vec<Option<Found>>> = Mutex::new(vec![None; failures.len()]);
    if !failures.is_empty() {
        // A failure here is reported per violation (its write fails too).
        let _ = std::fs::create_dir_all(&c.out);
        std::thread::scope(|scope| {
            for _ in 0..jobs.min(failures.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some((seed, violation)) = failures.get(i) else {
                        break;
                    };
                    progress(Progress::Shrinking { seed: *seed });
                    let (found, steps) = shrink_and_write(c, *seed, violation);
                    shrink_steps.fetch_add(steps, Ordering::Relaxed);
                    if let Ok(mut s) = slots.lock() {
                        s[i] = Some(found);
                    }
                });
            }
        });
    }
    FuzzReport {
        seeds_run: done.into_inner(),
        core_steps: core_steps.into_inner(),
        shrink_core_steps: shrink_steps.into_inner(),
        found: slots
            .into_inner()
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect(),
        fuzz_time,
        shrink_time: shrinking.elapsed(),
    }
}

/// Shrinks one violating seed, writes the scenario and replays the file.
fn shrink_and_write(c: &Campaign, seed: u64, violation: &str) -> (Found, u64) {
    let original = generate_without(seed, c.steps, &c.without);
    let property = property_of(violation).to_owned();
    let (shrunk, mut steps) = shrink_violation(&original, &property, c.shrink_budget);
    let mut sc = shrunk.scenario;
    let (now, n) = violation_of(&sc);
    steps += n;
    let shrunk_violation = now.unwrap_or_else(|| violation.to_owned());
    sc.name = format!("fuzz-seed-{seed}");
    sc.description = format!(
        "Found by `ao-sim fuzz --steps {}{}` at seed {seed}, shrunk from {} to {} steps. \
         Replaying it must show: {shrunk_violation}",
        c.steps,
        without_flag(&c.without),
        original.steps.len(),
        sc.steps.len()
    );
    let file = c.out.join(format!("fuzz-seed-{seed}.yaml"));
    let (yaml, replay) = write_and_replay(&sc, &file, &property);
    let found = Found {
        seed,
        property,
        violation: violation.to_owned(),
        signature: signature(&shrunk_violation),
        shrunk_violation,
        original_steps: original.steps.len(),
        shrunk_steps: sc.steps.len(),
        shrunk_sessions: sc.sessions.len(),
        shrink_runs: shrunk.runs,
        shrink_exhausted: shrunk.exhausted,
        file,
        replay,
        yaml,
    };
    (found, steps)
}

/// Writes the scenario, loads the file back strictly and runs it: it must
/// violate `property` again.
pub fn write_and_replay(sc: &Scenario, file: &Path, property: &str) -> (String, Replay) {
    let yaml = match to_yaml(sc) {
        Ok(y) => format!("# Replay: ao-sim run {} --trace\n{y}", file.display()),
        Err(e) => return (String::new(), Replay::NotWritten(e.to_string())),
    };
    if let Err(e) = std::fs::write(file, &yaml) {
        // Still check the text, so a format problem is not hidden by an I/O one.
        let replay = match load_str(file, &yaml) {
            Ok(_) => Replay::NotWritten(format!("{}: {e}", file.display())),
            Err(le) => Replay::DoesNotLoad(le.to_string()),
        };
        return (yaml, replay);
    }
    let loaded = match load_file(file) {
        Ok(s) => s,
        Err(e) => return (yaml, Replay::DoesNotLoad(e.to_string())),
    };
    let report = engine::run(&loaded, &RunOptions::default());
    let replay = match report.verdict {
        Verdict::Violation { violation } if property_of(&violation) == property => {
            Replay::Reproduced
        }
        Verdict::Violation { violation } => {
            Replay::NotReproduced(format!("a different violation: {violation}"))
        }
        Verdict::Pass => Replay::NotReproduced("the replay passed".into()),
        Verdict::Failed { failures } => {
            Replay::NotReproduced(format!("expectations failed: {}", failures.join("; ")))
        }
    };
    (yaml, replay)
}

/// The `ao-sim fuzz` command: exit 0 when no seed violates an invariant, 1
/// on any violation, 2 on bad arguments.
pub fn cli(args: &FuzzArgs) -> ExitCode {
    let Some(last) = args.start.checked_add(args.seeds - 1) else {
        eprintln!(
            "error: --start {} with --seeds {} runs past the last seed ({})",
            args.start,
            args.seeds,
            u64::MAX
        );
        return ExitCode::from(2);
    };
    let jobs = args
        .jobs
        .and_then(|j| usize::try_from(j).ok())
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    let c = Campaign {
        start: args.start,
        seeds: args.seeds,
        steps: usize::try_from(args.steps).unwrap_or(usize::MAX),
        jobs,
        out: args.out.clone(),
        keep_going: args.keep_going,
        shrink_budget: usize::try_from(args.shrink_budget).unwrap_or(usize::MAX),
        without: args.without.clone(),
    };
    let tty = std::io::stderr().is_terminal() && !args.json;
    let every = (args.seeds / 200).max(1);
    let progress = |p: Progress| {
        if !tty {
            return;
        }
        match p {
            Progress::Seeds {
                done,
                total,
                violations,
            } if done % every == 0 || done == total => {
                let width = 30;
                let filled = (done * width / total.max(1)) as usize;
                eprint!(
                    "\r[{}{}] {done}/{total} seeds, {violations} violation(s)",
                    "#".repeat(filled),
                    "-".repeat(width as usize - filled)
                );
                let _ = std::io::stderr().flush();
            }
            Progress::Seeds { .. } => {}
            Progress::Shrinking { seed } => {
                eprint!("\r{}\rshrinking seed {seed}...", " ".repeat(70));
                let _ = std::io::stderr().flush();
            }
        }
    };
    if tty {
        eprintln!(
            "fuzz: seeds {}..={last}, {} steps each, {jobs} job(s)",
            args.start, args.steps
        );
    }
    let report = campaign(&c, &progress);
    if tty {
        eprint!("\r{}\r", " ".repeat(70));
    }
    if args.json {
        print_json(&report, &c);
    } else {
        print_human(&report, &c, last);
    }
    let unreproduced = report
        .found
        .iter()
        .filter(|f| f.replay != Replay::Reproduced)
        .count();
    if unreproduced > 0 {
        eprintln!(
            "error: {unreproduced} written scenario(s) do NOT replay their violation; \
             the fuzz run and `ao-sim run` disagree (see above)"
        );
    }
    if report.found.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// ` --without a,b` (empty when nothing is left out).
fn without_flag(without: &[FaultClass]) -> String {
    use clap::ValueEnum;
    let names: Vec<String> = without
        .iter()
        .filter_map(|c| c.to_possible_value().map(|v| v.get_name().to_owned()))
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" --without {}", names.join(","))
    }
}

fn per_sec(n: u64, t: WallDuration) -> f64 {
    n as f64 / t.as_secs_f64().max(1e-9)
}

fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn print_human(r: &FuzzReport, c: &Campaign, last: u64) {
    let mut out = String::new();
    let compact = r.found.len() > 10;
    if compact {
        out.push('\n');
    }
    for f in r.found.iter().filter(|_| compact) {
        let replay = match &f.replay {
            Replay::Reproduced => "replays",
            Replay::NotWritten(_) => "NOT WRITTEN",
            Replay::DoesNotLoad(_) => "DOES NOT LOAD",
            Replay::NotReproduced(_) => "DOES NOT REPRODUCE",
        };
        out.push_str(&format!(
            "VIOLATION seed {:<6} {} -> {} step(s)  {} ({replay})\n   {}\n",
            f.seed,
            f.original_steps,
            f.shrunk_steps,
            f.file.display(),
            f.shrunk_violation
        ));
    }
    for f in r.found.iter().filter(|_| !compact) {
        out.push_str(&format!("\nVIOLATION at seed {}: {}\n", f.seed, f.property));
        out.push_str(&format!("   first seen: {}\n", f.violation));
        out.push_str(&format!(
            "   shrunk:     {} -> {} step(s), {} session(s), in {} run(s){}\n",
            f.original_steps,
            f.shrunk_steps,
            f.shrunk_sessions,
            f.shrink_runs,
            if f.shrink_exhausted {
                " (budget exhausted: may not be minimal)"
            } else {
                ""
            }
        ));
        out.push_str(&format!("   shrunk run: {}\n", f.shrunk_violation));
        match &f.replay {
            Replay::Reproduced => out.push_str(&format!(
                "   written:    {} (replays the violation)\n   replay:     ao-sim run {} --trace\n",
                f.file.display(),
                f.file.display()
            )),
            Replay::NotWritten(e) => {
                out.push_str(&format!("   NOT WRITTEN: {e}\n"));
            }
            Replay::DoesNotLoad(e) => out.push_str(&format!(
                "   WRITTEN BUT DOES NOT LOAD ({}): {e}\n",
                f.file.display()
            )),
            Replay::NotReproduced(e) => out.push_str(&format!(
                "   WRITTEN BUT DOES NOT REPRODUCE ({}): {e}\n",
                f.file.display()
            )),
        }
    }
    let mut groups: std::collections::BTreeMap<&str, Vec<&Found>> = Default::default();
    for f in &r.found {
        groups.entry(f.signature.as_str()).or_default().push(f);
    }
    let mut groups: Vec<(&str, Vec<&Found>)> = groups.into_iter().collect();
    groups.sort_by_key(|(_, fs)| std::cmp::Reverse(fs.len()));
    if !groups.is_empty() {
        out.push_str("\ndistinct failures (shrunk violation; ids, numbers and times masked):\n");
    }
    for (sig, fs) in &groups {
        let smallest = fs.iter().min_by_key(|f| (f.shrunk_steps, f.seed));
        out.push_str(&format!("{:>6}  {sig}\n", fs.len()));
        if let Some(f) = smallest {
            out.push_str(&format!(
                "        smallest: {} ({} step(s), {} session(s))\n",
                f.file.display(),
                f.shrunk_steps,
                f.shrunk_sessions
            ));
        }
    }
    let mut properties: Vec<&str> = r.found.iter().map(|f| f.property.as_str()).collect();
    properties.sort_unstable();
    properties.dedup();
    out.push_str(&format!(
        "\nseeds run    {} of {} ({}..={last}), {} steps each, {} job(s){}{}\n",
        grouped(r.seeds_run),
        grouped(c.seeds),
        c.start,
        c.steps,
        c.jobs,
        without_flag(&c.without).replace(" --without ", ", without "),
        if c.keep_going || r.found.is_empty() {
            ""
        } else {
            "; stopped at the first violation (--keep-going runs them all)"
        }
    ));
    out.push_str(&format!(
        "violations   {}{}\n",
        r.found.len(),
        if properties.is_empty() {
            String::new()
        } else {
            format!(" ({})", properties.join(", "))
        }
    ));
    out.push_str(&format!(
        "core steps   {} fuzzing, {} shrinking\n",
        grouped(r.core_steps),
        grouped(r.shrink_core_steps)
    ));
    out.push_str(&format!(
        "wall time    {:.2}s ({:.2}s fuzzing, {:.2}s shrinking)\n",
        (r.fuzz_time + r.shrink_time).as_secs_f64(),
        r.fuzz_time.as_secs_f64(),
        r.shrink_time.as_secs_f64()
    ));
    out.push_str(&format!(
        "speed        {:.0} seeds/s, {} core steps/s\n",
        per_sec(r.seeds_run, r.fuzz_time),
        grouped(per_sec(r.core_steps, r.fuzz_time) as u64)
    ));
    print!("{out}");
}

fn print_json(r: &FuzzReport, c: &Campaign) {
    for f in &r.found {
        println!("{}", serde_json::to_value(f).unwrap_or_default());
    }
    println!(
        "{}",
        serde_json::json!({"summary": {
            "start": c.start,
            "seeds": c.seeds,
            "seeds_run": r.seeds_run,
            "steps": c.steps,
            "without": without_flag(&c.without).trim_start_matches(" --without "),
            "jobs": c.jobs,
            "violations": r.found.len(),
            "core_steps": r.core_steps,
            "shrink_core_steps": r.shrink_core_steps,
            "fuzz_seconds": r.fuzz_time.as_secs_f64(),
            "shrink_seconds": r.shrink_time.as_secs_f64(),
            "seeds_per_second": per_sec(r.seeds_run, r.fuzz_time),
            "core_steps_per_second": per_sec(r.core_steps, r.fuzz_time),
        }})
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_mask_ids_numbers_times_and_projects() {
        assert_eq!(
            signature("property §7.8 no_leaks violated: workspace /ws/lib/s2 of s2 is not tracked by a record (at 1m03.438s)"),
            "property §#.# no_leaks violated: workspace /ws/*/s# of s# is not tracked by a record"
        );
        assert_eq!(
            signature("property §7.8 no_leaks violated: runtime rt-s1-47 of s1 x"),
            signature("property §7.8 no_leaks violated: runtime rt-s3-1 of s3 x")
        );
    }

    #[test]
    fn property_prefix() {
        assert_eq!(
            property_of("property §7.8 no_leaks violated: a runtime (at 1m)"),
            "property §7.8 no_leaks"
        );
        assert_eq!(
            property_of("a fresh patch did not apply to the record: stale"),
            "a fresh patch did not apply to the record"
        );
    }

    #[test]
    fn generated_scenarios_round_trip_through_yaml_and_replay_identically() {
        for seed in 0..60 {
            let sc = generate(seed, 120);
            let yaml = to_yaml(&sc).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            let back = load_str(Path::new("fuzz.yaml"), &yaml)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{yaml}"));
            assert_eq!(back, sc, "seed {seed} changed in the round trip");
            let a = engine::run(&sc, &RunOptions::default());
            let b = engine::run(&back, &RunOptions::default());
            assert_eq!(a.fingerprint, b.fingerprint, "seed {seed}");
            assert_eq!(a.verdict, b.verdict, "seed {seed}");
        }
    }

    #[test]
    fn runs_are_deterministic() {
        for seed in 0..10 {
            let sc = generate(seed, 100);
            let a = engine::run(&sc, &RunOptions::default());
            let b = engine::run(&sc, &RunOptions::default());
            assert_eq!(a.fingerprint, b.fingerprint);
        }
    }

    #[test]
    fn untrusted_text_survives_the_round_trip() {
        let sc = (0..200)
            .map(|s| generate(s, 200))
            .find(|sc| to_yaml(sc).is_ok_and(|y| y.contains("\\e") || y.contains("\\x1B")))
            .unwrap_or_else(|| panic!("no seed generated an escape sequence"));
        let yaml = to_yaml(&sc).unwrap_or_default();
        let back = load_str(Path::new("fuzz.yaml"), &yaml).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, sc);
    }

    #[test]
    fn a_written_violation_replays() {
        // A campaign over a few seeds either finds nothing or writes files that replay.
        let dir = std::env::temp_dir().join(format!("ao-sim-fuzz-test-{}", std::process::id()));
        let c = Campaign {
            start: 0,
            seeds: 40,
            steps: 60,
            jobs: 2,
            out: dir.clone(),
            keep_going: true,
            shrink_budget: 300,
            without: Vec::new(),
        };
        let r = campaign(&c, &|_| {});
        assert_eq!(r.seeds_run, 40);
        for f in &r.found {
            assert_eq!(f.replay, Replay::Reproduced, "{f:?}\n{}", f.yaml);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
