//! `ao-sim check`: exhaustive model checking of the core with stateright,
//! over all of time.
//!
//! The model ([`model::CheckModel`]) holds N interchangeable sessions (their
//! store records, the fakes, the SM operation in flight and the pending
//! delivery of the last step's send) and the daemon's up/down flag. Every
//! fact, fault, command, crash/restart and the passing of time can happen
//! next; `next_state` drives the real core and records every broken SPEC §7
//! property. Each property is its own `always`; the SPEC's reachability list
//! is checked as `sometimes`, so a clean run also shows the model reaches what
//! it should. A violation is re-checked alone with a single-threaded BFS for a
//! minimal path, printed as a timeline and exported as a scenario that
//! `ao-sim run` replays.
//!
//! Time has no horizon. The model's now never moves: a tick ages every stored
//! instant by one unit, and an age past the largest threshold that reads it is
//! cut off (`ao_core::timers::extrapolate`, the clock extrapolation of
//! timed-automata checkers), so time passing reaches a fixpoint and the space
//! is finite. The configuration keeps the defaults' order at small integers
//! ([`fixtures::overrides`]); observations are unpaced (any number inside a
//! unit), so they arrive as often relative to every timer as in the daemon.
//!
//! The default run is a composition ([`check_composed`]): the full product of
//! every observation with every operation, failure, crash and world change
//! does not fit in minutes, so two exhaustive runs split it along the seam
//! between the reducer and the session manager, with the seam checked
//! (assume-guarantee):
//! - `observe`: every probe pair, signal, SCM fact, race, tick and crash, with
//!   the session manager as an environment writing any record event it can
//!   write, at any time ([`model::SmEvent`]);
//! - `manage`: every command, outcome, crash, world change and collision,
//!   with the observations that change what the session manager sees of a
//!   record (the agent starting, a confirmed death).
//!
//! Each run checks the seam it relies on: in `observe`, that observations
//! change the session manager's view only as `manage`'s observations can
//! ([`props::INTERFACE`]); in `manage`, that the session manager's record
//! writes lie in the environment `observe` offers. A property holds when it
//! holds in both; a target is reached when either reaches it. `--profile
//! full` runs the product itself (bounded with `--depth` or `--timeout`).
//!
//! Speed: stateright looks every property up by name on every state, so a run
//! registers one `always` for the SPEC list (when it stops at the first
//! violation; the breaking state names which properties broke) and one
//! `sometimes` for the reachability list (per-target flags keep each verdict).
//! The core's step, operation steps and clean world checks are memoized per
//! thread (`memo`): they are pure, and recur across millions of states.
//! `--reliable-store` excludes record-write failures (a smaller space). With
//! them, a rollback's or a teardown's hand-off that the store fails leaves the
//! operation unchanged, asking again: a stall, checked as such (not a §7.19
//! step), and a self-loop in the state space.

pub mod export;
pub mod fixtures;
mod memo;
pub mod model;
pub mod mutant;
pub mod props;

use model::{Action, CheckModel, State};
use mutant::Mutant;
use stateright::{Checker, Expectation, HasDiscoveries, Model};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Command-line arguments of `ao-sim check`.
#[derive(Clone, Debug, clap::Args)]
pub struct CheckArgs {
    /// Number of interchangeable sessions (1..=3).
    #[arg(long, default_value_t = 1)]
    pub sessions: usize,
    /// Explore paths of at most this many actions (default: unbounded, exhaustive).
    /// A bounded run uses BFS (a depth-bounded DFS would miss states).
    #[arg(long)]
    pub depth: Option<usize>,
    /// Checker threads (default: the number of cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Breadth-first search (shortest paths; no symmetry reduction; more memory).
    #[arg(long, conflicts_with = "dfs")]
    pub bfs: bool,
    /// Depth-first search with symmetry reduction (the default).
    #[arg(long)]
    pub dfs: bool,
    /// Stop after this many seconds (the run is then bounded, not exhaustive).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Write counterexample scenarios (YAML) into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Serve stateright's web explorer on this loopback address (blocks), e.g. 127.0.0.1:3000.
    #[arg(long)]
    pub explore: Option<String>,
    /// Fail unless at least this many unique states were explored (the CI gate).
    #[arg(long)]
    pub min_states: Option<usize>,
    /// Restores per session (0..=2).
    #[arg(long, default_value_t = 1)]
    pub restores: u8,
    /// Check a deliberately wrong supervisor (see `--mutant list`).
    #[arg(long)]
    pub mutant: Option<String>,
    /// What to explore: `composed` (the default: the `observe` and `manage`
    /// runs with their seam checked, which together cover the full product),
    /// `observe` (every observation and crash, the session manager as an
    /// environment writing its record events at any time), `manage` (every
    /// command, outcome, crash, world change and collision, the observations
    /// the session manager can see), `full` (the product itself: bound it with
    /// --depth or --timeout) or `small` (a cut-down product for quick
    /// runs, bounded the same way).
    #[arg(long, default_value = "composed", value_parser = ["composed", "full", "small", "observe", "manage"])]
    pub profile: String,
    /// Record writes never fail (excludes store-write failures from the model).
    #[arg(long)]
    pub reliable_store: bool,
    /// Let each observation source (probe, activity, SCM, racing writer)
    /// report at most once per session per time unit, like pollers on a
    /// fixed interval (by default they may report any number of times).
    #[arg(long)]
    pub paced: bool,
    /// Explore the rest of the space after the first violation.
    #[arg(long)]
    pub keep_going: bool,
    /// Print one machine-readable benchmark line at the end.
    #[arg(long)]
    pub bench: bool,
}

/// What to check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Sessions (1..=3).
    pub sessions: usize,
    /// Restores per session.
    pub restores: u8,
    /// Maximum actions per path.
    pub depth: Option<usize>,
    /// Threads.
    pub threads: usize,
    /// BFS instead of DFS (+ symmetry).
    pub bfs: bool,
    /// Time limit.
    pub timeout: Option<Duration>,
    /// A deliberately wrong supervisor.
    pub mutant: Option<Mutant>,
    /// Stop at the first violation.
    pub stop_at_violation: bool,
    /// Find minimal counterexamples (a BFS per violated property).
    pub minimize: bool,
    /// Print progress to stderr.
    pub progress: bool,
    /// Record writes never fail.
    pub reliable_store: bool,
    /// Each observation source reports at most once per time unit.
    pub paced: bool,
    /// The facts offered.
    pub profile: model::Profile,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            sessions: 1,
            restores: 1,
            depth: None,
            threads: default_threads(),
            bfs: false,
            timeout: None,
            mutant: None,
            stop_at_violation: true,
            minimize: true,
            progress: false,
            reliable_store: false,
            paced: false,
            profile: model::Profile::Full,
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A property's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// An `always` with no counterexample.
    Holds,
    /// An `always` with a counterexample.
    Violated,
    /// A `sometimes` with an example.
    Reached,
    /// A `sometimes` without one.
    NotReached,
}

/// A violated property with its (minimal, when found) path.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// The property's name.
    pub property: &'static str,
    /// The profile whose run found it (its model replays the path).
    pub profile: model::Profile,
    /// The path, action by action.
    pub path: Vec<(State, Option<Action>)>,
    /// The path is the shortest (a single-threaded BFS found it).
    pub minimal: bool,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// States generated (with repeats).
    pub total: usize,
    /// Unique states.
    pub unique: usize,
    /// Longest path explored (in states).
    pub max_depth: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Every reachable state was explored (no depth bound, no timeout, no early stop).
    pub exhaustive: bool,
    /// Each property with its verdict, in model order.
    pub verdicts: Vec<(&'static str, Verdict)>,
    /// Violations.
    pub counterexamples: Vec<Counterexample>,
    /// A scoped run (a profile): some reachability targets are out of its scope.
    pub scoped: bool,
}

impl CheckReport {
    /// Unique states per second.
    pub fn rate(&self) -> f64 {
        self.unique as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Every `always` held and (when exhaustive) every `sometimes` was reached.
    pub fn passed(&self) -> bool {
        self.counterexamples.is_empty()
            && (!self.exhaustive || self.verdicts.iter().all(|(_, v)| *v != Verdict::NotReached))
    }
}

/// The profiles the default run composes, in the order they run.
pub const COMPOSITION: [model::Profile; 2] = [model::Profile::Observe, model::Profile::Manage];

/// The default check: the runs of [`COMPOSITION`] (see the module docs), one
/// after the other, and one report: a property holds when it holds in every
/// part, a target is reached when some part reaches it, and the whole is
/// exhaustive when every part is. Each part's own report comes with it.
pub fn check_composed(
    opts: &CheckOptions,
) -> Result<(CheckReport, Vec<(model::Profile, CheckReport)>), model::ModelError> {
    let mut parts = Vec::new();
    for profile in COMPOSITION {
        let report = check(&CheckOptions {
            profile,
            ..opts.clone()
        })?;
        let stop = opts.stop_at_violation && !report.counterexamples.is_empty();
        parts.push((profile, report));
        if stop {
            break;
        }
    }
    let all_ran = parts.len() == COMPOSITION.len();
    let mut whole = CheckReport {
        total: parts.iter().map(|(_, r)| r.total).sum(),
        unique: parts.iter().map(|(_, r)| r.unique).sum(),
        max_depth: parts.iter().map(|(_, r)| r.max_depth).max().unwrap_or(0),
        elapsed: parts.iter().map(|(_, r)| r.elapsed).sum(),
        exhaustive: all_ran && parts.iter().all(|(_, r)| r.exhaustive),
        verdicts: Vec::new(),
        counterexamples: parts
            .iter()
            .flat_map(|(_, r)| r.counterexamples.iter().cloned())
            .collect(),
        scoped: false,
    };
    if let Some((_, first)) = parts.first() {
        for (k, (name, _)) in first.verdicts.iter().enumerate() {
            let all: Vec<Verdict> = parts.iter().map(|(_, r)| r.verdicts[k].1).collect();
            let verdict = if all.contains(&Verdict::Violated) {
                Verdict::Violated
            } else if all.contains(&Verdict::Reached) {
                Verdict::Reached
            } else {
                all[0]
            };
            whole.verdicts.push((*name, verdict));
        }
    }
    Ok((whole, parts))
}

/// Builds the model for `opts`.
pub fn build_model(opts: &CheckOptions) -> Result<CheckModel, model::ModelError> {
    let mut m = CheckModel::new(opts.sessions, opts.restores, opts.mutant)?;
    m.reliable_store = opts.reliable_store;
    m.paced = opts.paced;
    m.alphabet = model::Alphabet::new(opts.profile);
    m.memo_feeds = opts.profile != model::Profile::Observe;
    m.merge_always = opts.stop_at_violation;
    m.fresh_run();
    Ok(m)
}

fn spawn(
    model: CheckModel,
    opts: &CheckOptions,
    finish: HasDiscoveries,
    bfs: bool,
    threads: usize,
) -> Box<dyn Checker<CheckModel> + Send + Sync> {
    let mut b = model.checker().threads(threads).finish_when(finish);
    if let Some(d) = opts.depth {
        // stateright checks paths of at most `target_max_depth - 2` actions.
        b = b.target_max_depth(d + 2);
    }
    if let Some(t) = opts.timeout {
        b = b.timeout(t);
    }
    if bfs {
        Box::new(b.spawn_bfs())
    } else if opts.sessions > 1 {
        Box::new(b.symmetry().spawn_dfs())
    } else {
        // One session has no symmetry to reduce; canonicalizing would only copy each state.
        Box::new(b.spawn_dfs())
    }
}

fn wait(c: &dyn Checker<CheckModel>, start: Instant, progress: bool) {
    let mut last = Instant::now();
    while !c.is_done() {
        std::thread::sleep(Duration::from_millis(50));
        if progress && last.elapsed() >= Duration::from_secs(2) {
            last = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "  ... {:>6.0}s  {:>12} states  {:>11} unique  depth {:>3}  {:>9.0} unique/s",
                secs,
                c.state_count(),
                c.unique_state_count(),
                c.max_depth(),
                c.unique_state_count() as f64 / secs.max(1e-9)
            );
        }
    }
}

/// Runs the checker.
pub fn check(opts: &CheckOptions) -> Result<CheckReport, model::ModelError> {
    let model = build_model(opts)?;
    let properties = model.properties();
    let finish = if opts.stop_at_violation {
        HasDiscoveries::AnyFailures
    } else {
        HasDiscoveries::All
    };
    let start = Instant::now();
    // A depth-bounded DFS is incomplete (a state first met at the bound is
    // never expanded, even when a shorter path reaches it later): bound with BFS.
    let bfs = opts.bfs || opts.depth.is_some();
    let mut checker = spawn(model.clone(), opts, finish, bfs, opts.threads.max(1));
    wait(checker.as_ref(), start, opts.progress);
    for h in checker.handles() {
        let _ = h.join();
    }
    let elapsed = start.elapsed();
    let discoveries = checker.discoveries();
    let timed_out = opts
        .timeout
        .is_some_and(|t| elapsed + Duration::from_millis(200) >= t);
    let violated = properties
        .iter()
        .any(|p| p.expectation == Expectation::Always && discoveries.contains_key(p.name));
    let exhaustive = opts.depth.is_none() && !timed_out && !(violated && opts.stop_at_violation);
    let mut verdicts = Vec::new();
    let mut counterexamples = Vec::new();
    // A merged run's one `always` stands for every SPEC property: the state
    // its path ends in names the properties that broke there.
    let merged = discoveries.get(props::SPEC_ALL);
    let merged_mask = merged
        .as_ref()
        .and_then(|path| path.last_state().broken.as_ref())
        .map_or(0, |b| b.mask);
    for (bit, name) in props::always_bits() {
        let broke_in_merged = merged_mask & bit != 0;
        let found = discoveries
            .get(name)
            .or_else(|| merged.filter(|_| broke_in_merged));
        let Some(path) = found else {
            verdicts.push((name, Verdict::Holds));
            continue;
        };
        verdicts.push((name, Verdict::Violated));
        let (path, minimal) = match opts.minimize.then(|| minimal_path(&model, name, opts)) {
            Some(Some(short)) => (short, true),
            _ => (path.clone().into_vec(), false),
        };
        counterexamples.push(Counterexample {
            property: name,
            profile: opts.profile,
            path,
            minimal,
        });
    }
    for (i, (name, _)) in props::REACH.iter().enumerate() {
        let reached = model.reached.as_ref().is_some_and(|r| r.reached(i));
        let verdict = if reached {
            Verdict::Reached
        } else {
            Verdict::NotReached
        };
        verdicts.push((*name, verdict));
    }
    Ok(CheckReport {
        total: checker.state_count(),
        unique: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        elapsed,
        exhaustive,
        verdicts,
        counterexamples,
        scoped: opts.profile != model::Profile::Full,
    })
}

/// A shortest path to a violation of `property` (single-threaded BFS on that
/// property alone), within two minutes.
fn minimal_path(
    model: &CheckModel,
    property: &'static str,
    opts: &CheckOptions,
) -> Option<Vec<(State, Option<Action>)>> {
    let mut m = model.clone();
    m.only = Some(property);
    let o = CheckOptions {
        timeout: Some(Duration::from_secs(120)),
        ..opts.clone()
    };
    let mut c = spawn(m, &o, HasDiscoveries::AnyFailures, true, 1);
    wait(c.as_ref(), Instant::now(), false);
    for h in c.handles() {
        let _ = h.join();
    }
    c.discovery(property).map(|p| p.into_vec())
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// `ao-sim check`: exit 0 if every `always` holds and (when exhaustive) every
/// `sometimes` was reached, 1 on a violation or a failed gate, 2 on bad arguments.
pub fn cli(args: &CheckArgs) -> ExitCode {
    let mutant = match args.mutant.as_deref() {
        None => None,
        Some("list") => {
            for m in Mutant::ALL {
                println!("{}", m.name());
            }
            return ExitCode::SUCCESS;
        }
        Some(name) => match Mutant::parse(name) {
            Some(m) => Some(m),
            None => {
                eprintln!("error: unknown mutant `{name}` (see `--mutant list`)");
                return ExitCode::from(2);
            }
        },
    };
    if args.threads == Some(0) {
        eprintln!("error: --threads must be at least 1");
        return ExitCode::from(2);
    }
    let opts = CheckOptions {
        sessions: args.sessions,
        restores: args.restores,
        depth: args.depth,
        threads: args.threads.unwrap_or_else(default_threads),
        bfs: args.bfs,
        timeout: args.timeout.map(Duration::from_secs),
        mutant,
        stop_at_violation: !args.keep_going,
        minimize: true,
        progress: true,
        reliable_store: args.reliable_store,
        paced: args.paced,
        profile: match args.profile.as_str() {
            "small" => model::Profile::Small,
            "observe" | "composed" => model::Profile::Observe,
            "manage" => model::Profile::Manage,
            _ => model::Profile::Full,
        },
    };
    let model = match build_model(&opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(addr) = &args.explore {
        let mut model = model;
        model.reached = None;
        return explore(model, addr, opts.threads);
    }
    if let Some(dir) = &args.out {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("error: cannot create {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let composed = args.profile == "composed";
    println!(
        "ao-sim check: {} session(s), all of time ({}), {} restore(s) per session, {} profile, {}, {} thread(s){}{}{}{}",
        opts.sessions,
        if opts.paced { "paced observations" } else { "unpaced observations" },
        opts.restores,
        if composed { "composed (observe + manage)".to_owned() } else { format!("{:?}", opts.profile) },
        if opts.bfs || opts.depth.is_some() {
            "BFS"
        } else {
            "DFS + symmetry"
        },
        opts.threads,
        opts.depth
            .map(|d| format!(", depth <= {d} actions"))
            .unwrap_or_default(),
        opts.timeout
            .map(|t| format!(", timeout {}s", t.as_secs()))
            .unwrap_or_default(),
        mutant
            .map(|m| format!(", MUTANT {}", m.name()))
            .unwrap_or_default(),
        if opts.reliable_store {
            ", reliable store"
        } else {
            ""
        },
    );
    let run = if composed {
        check_composed(&opts)
    } else {
        check(&opts).map(|r| (r, Vec::new()))
    };
    let (report, parts) = match run {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for (profile, r) in &parts {
        println!(
            "part {profile:?}: {} unique states ({} total) in {:.2}s, max depth {}, {}",
            r.unique,
            r.total,
            r.elapsed.as_secs_f64(),
            r.max_depth,
            if r.exhaustive {
                "exhaustive"
            } else {
                "NOT exhaustive"
            }
        );
    }
    let code = print_report(&opts, &report, args);
    let _ = std::io::stdout().flush();
    code
}

fn print_report(opts: &CheckOptions, r: &CheckReport, args: &CheckArgs) -> ExitCode {
    let mut out = String::new();
    let secs = r.elapsed.as_secs_f64();
    out.push_str(&format!(
        "\nexplored {} states ({} unique) in {:.2}s: {:.0} unique states/s, {:.0} states/s, max depth {}\n",
        r.total,
        r.unique,
        secs,
        r.rate(),
        r.total as f64 / secs.max(1e-9),
        r.max_depth
    ));
    if let Some(mib) = peak_rss_mib() {
        out.push_str(&format!("peak memory {mib:.0} MiB\n"));
    }
    if !r.exhaustive {
        out.push_str(
            "\n!!! BOUNDED RUN: not every reachable state was explored (depth bound, timeout or \
             stop at the first violation).\n!!! `holds` means no counterexample was found within \
             the bound; unreached `sometimes` are not failures.\n",
        );
    }
    out.push_str("\nproperties:\n");
    for (name, v) in &r.verdicts {
        let word = match (v, r.exhaustive) {
            (Verdict::Holds, true) => "holds",
            (Verdict::Holds, false) => "holds (within the bound)",
            (Verdict::Violated, _) => "VIOLATED",
            (Verdict::Reached, _) => "reached",
            (Verdict::NotReached, true) if r.scoped => "not reached (outside this scope)",
            (Verdict::NotReached, true) => "NOT reached",
            (Verdict::NotReached, false) => "not reached (bounded run)",
        };
        out.push_str(&format!("  {name:<45} {word}\n"));
    }
    for (status, why) in props::UNREACHABLE_BY_DESIGN {
        out.push_str(&format!(
            "  {:<45} not checked: {why}\n",
            format!("reach status {status}")
        ));
    }
    for (k, cx) in r.counterexamples.iter().enumerate() {
        out.push_str(&format!(
            "\ncounterexample for {} ({} action(s){}):\n",
            cx.property,
            cx.path.len().saturating_sub(1),
            if cx.minimal { ", minimal" } else { "" }
        ));
        out.push_str(&export::timeline(&cx.path));
        if let Some(dir) = &args.out {
            let slug: String = cx
                .property
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let name = format!("check-{}-{}", k + 1, slug.trim_matches('-'));
            let model = build_model(&CheckOptions {
                profile: cx.profile,
                ..opts.clone()
            });
            let Ok(model) = model else {
                continue;
            };
            let e = export::scenario(&model, &name, &cx.path);
            let file = dir.join(format!("{name}.yaml"));
            match export::to_yaml(&e).map(|y| std::fs::write(&file, y)) {
                Ok(Ok(())) => out.push_str(&format!(
                    "  scenario: {} ({})\n",
                    file.display(),
                    if e.gaps.is_empty() {
                        "exact replay".to_owned()
                    } else {
                        format!("approximate: {}", e.gaps.join("; "))
                    }
                )),
                Ok(Err(err)) => {
                    out.push_str(&format!("  cannot write {}: {err}\n", file.display()))
                }
                Err(err) => out.push_str(&format!("  cannot export: {err}\n")),
            }
        }
    }
    let reached_all = r.verdicts.iter().all(|(_, v)| *v != Verdict::NotReached);
    let gate = args.min_states.is_none_or(|min| r.unique >= min);
    if !gate {
        out.push_str(&format!(
            "\nGATE FAILED: {} unique states explored, at least {} required\n",
            r.unique,
            args.min_states.unwrap_or(0)
        ));
    }
    let reached_all = reached_all || r.scoped;
    let ok = r.counterexamples.is_empty() && (!r.exhaustive || reached_all) && gate;
    out.push_str(&format!(
        "\n{}\n",
        if !r.counterexamples.is_empty() {
            format!("FAILED: {} property violation(s)", r.counterexamples.len())
        } else if r.exhaustive && !reached_all {
            "FAILED: some reachability properties were not reached".to_owned()
        } else if !gate {
            "FAILED: too few states".to_owned()
        } else if r.exhaustive && r.scoped {
            let out_of_scope = r
                .verdicts
                .iter()
                .filter(|(_, v)| *v == Verdict::NotReached)
                .count();
            format!(
                "OK: every property holds (exhaustive); {out_of_scope} reachability target(s) lie outside this scope"
            )
        } else if r.exhaustive {
            "OK: every property holds and every reachability target was reached (exhaustive)"
                .to_owned()
        } else {
            "OK within the bound (NOT exhaustive)".to_owned()
        }
    ));
    if args.bench {
        out.push_str(&format!(
            "bench: sessions={} paced={} restores={} depth={} threads={} unique={} total={} secs={:.2} unique_per_sec={:.0} states_per_sec={:.0} max_depth={} peak_rss_mib={:.0} exhaustive={}\n",
            args.sessions,
            args.paced,
            args.restores,
            args.depth.map_or_else(|| "none".to_owned(), |d| d.to_string()),
            args.threads.unwrap_or_else(default_threads),
            r.unique,
            r.total,
            secs,
            r.rate(),
            r.total as f64 / secs.max(1e-9),
            r.max_depth,
            peak_rss_mib().unwrap_or(0.0),
            r.exhaustive
        ));
    }
    print!("{out}");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn explore(model: CheckModel, addr: &str, threads: usize) -> ExitCode {
    let loopback = addr
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|a| a.ip().is_loopback());
    if !loopback {
        eprintln!("error: --explore takes a loopback address such as 127.0.0.1:3000");
        return ExitCode::from(2);
    }
    println!("serving the stateright explorer on http://{addr}/ (Ctrl-C to stop)");
    let _ = std::io::stdout().flush();
    let _checker = model.checker().threads(threads).serve(addr);
    ExitCode::SUCCESS
}
