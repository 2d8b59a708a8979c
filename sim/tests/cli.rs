//! The `ao-sim` binary as a user meets it: exit codes (0 pass, 1 an
//! expectation or invariant failed, 2 invalid input), the summary table, the
//! failure report, `--json` and `--seed`, and a precise
//! `file:line:column: message` for every kind of broken scenario, with
//! nothing run when any file is invalid.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

// ------------------------------------------------------------------ helpers

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("ao-sim-cli-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Writes `text` to `name` in the directory and returns its path.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write scenario");
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn ao_sim<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_ao-sim"))
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .output()
        .expect("run ao-sim");
    Run {
        code: status.code().expect("exited normally"),
        stdout: String::from_utf8(stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(stderr).expect("utf-8 stderr"),
    }
}

/// `ao-sim run <paths...> <extra...>`.
fn run_paths(paths: &[&Path], extra: &[&str]) -> Run {
    let mut args: Vec<std::ffi::OsString> = vec!["run".into()];
    args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    args.extend(extra.iter().map(Into::into));
    ao_sim(args)
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            return (i + 1, line[..byte].chars().count() + 1);
        }
    }
    panic!("`{needle}` is not in the scenario text")
}

const PASSING: &str = "\
name: cli-pass
description: spawns one session and sees it working.
seed: 7
sessions:
  - {id: s1, project: app, issue: \"1\"}
steps:
  - {at: 0s, spawn: s1}
expect:
  - {at: 1m, status: {s1: working}}
";

const FAILING: &str = "\
name: cli-fail
seed: 3
sessions:
  - {id: s1, project: app, issue: \"1\"}
steps:
  - {at: 0s, spawn: s1}
expect:
  - {at: 1m, status: {s1: merged}}
";

/// The header every broken scenario below starts from (valid on its own).
const HEAD: &str = "\
name: broken
sessions:
  - {id: s1, project: app}
";

/// Asserts the run refused its input: exit 2, nothing run, no table.
fn assert_refused(run: &Run, invalid_files: usize) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty(), "nothing may be run: {run:?}");
    assert!(
        run.stderr.contains(&format!(
            "{invalid_files} invalid scenario file(s); nothing was run"
        )),
        "{run:?}"
    );
}

/// Loads `text` as a scenario file and asserts exit 2 with exactly
/// `error: <file>:<line>:<column>: ...message...`, the position being that of
/// `at` (the first occurrence of that text in the file).
fn assert_located(case: &str, text: &str, at: &str, message: &str) {
    let dir = TempDir::new(case);
    let file = dir.file(&format!("{case}.yaml"), text);
    let run = run_paths(&[&file], &[]);
    assert_refused(&run, 1);
    let (line, column) = position(text, at);
    let prefix = format!("error: {}:{line}:{column}: ", file.display());
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {run:?}"));
    assert!(
        error.starts_with(&prefix),
        "{case}: expected the error at {line}:{column} (at `{at}`), got:\n{error}"
    );
    assert!(
        error.contains(message),
        "{case}: expected the message to contain {message:?}, got:\n{error}"
    );
}

// ------------------------------------------------------------ passing runs

#[test]
fn passing_scenario_exits_0_with_a_summary_table() {
    let dir = TempDir::new("pass");
    let file = dir.file("pass.yaml", PASSING);
    let run = run_paths(&[&file], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let header = run
        .stdout
        .lines()
        .find(|l| l.starts_with("scenario "))
        .unwrap_or_else(|| panic!("no table header: {run:?}"));
    for column in ["result", "steps", "virtual time", "fingerprint"] {
        assert!(header.contains(column), "header lacks {column}: {run:?}");
    }
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("cli-pass "))
        .unwrap_or_else(|| panic!("no row for the scenario: {run:?}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], "pass", "{row}");
    assert!(cells[2].parse::<u64>().is_ok_and(|n| n > 0), "steps: {row}");
    assert_eq!(
        cells[3], "10m00.000s",
        "the run ends 10 minutes after the last step: {row}"
    );
    assert!(
        cells[4].len() == 16 && cells[4].chars().all(|c| c.is_ascii_hexdigit()),
        "fingerprint: {row}"
    );
    assert!(run.stdout.contains("1 passed, 0 failed"), "{run:?}");
    // A passing run prints no timeline unless asked.
    assert!(!run.stdout.contains("spawn requested"), "{run:?}");
}

#[test]
fn a_directory_is_searched_recursively_in_file_order() {
    let dir = TempDir::new("dir");
    dir.file("b.yaml", &PASSING.replace("cli-pass", "second"));
    std::fs::create_dir(dir.path().join("nested")).expect("mkdir");
    dir.file("nested/c.yml", &PASSING.replace("cli-pass", "third"));
    dir.file("a.yaml", &PASSING.replace("cli-pass", "first"));
    dir.file("notes.txt", "not a scenario");
    let run = run_paths(&[dir.path()], &["--jobs", "2"]);
    assert_eq!(run.code, 0, "{run:?}");
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| ["first", "second", "third"].contains(w))
        .collect();
    assert_eq!(rows, ["first", "second", "third"], "{run:?}");
    assert!(run.stdout.contains("3 passed, 0 failed"), "{run:?}");
}

#[test]
fn trace_prints_the_timeline_with_the_seed() {
    let dir = TempDir::new("trace");
    let file = dir.file("pass.yaml", PASSING);
    let run = run_paths(&[&file], &["--trace"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("── cli-pass ({}, seed 7) ──", file.display())),
        "{run:?}"
    );
    assert!(run.stdout.contains("spawn requested"), "{run:?}");
    assert!(run.stdout.contains("=> working"), "{run:?}");
}

// ------------------------------------------------------------ failing runs

#[test]
fn failing_expectation_exits_1_and_prints_the_failure() {
    let dir = TempDir::new("fail");
    let file = dir.file("fail.yaml", FAILING);
    let run = run_paths(&[&file], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("── cli-fail ({}, seed 3) ──", file.display())),
        "the failing run's timeline is shown: {run:?}"
    );
    assert!(
        run.stdout
            .contains("expectation failed: at 1m: s1 status: expected merged, got working"),
        "{run:?}"
    );
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("cli-fail "))
        .unwrap_or_else(|| panic!("no row: {run:?}"));
    assert_eq!(row.split_whitespace().nth(1), Some("FAIL"), "{row}");
    assert!(run.stdout.contains("0 passed, 1 failed"), "{run:?}");
}

#[test]
fn one_failure_among_passes_exits_1() {
    let dir = TempDir::new("mixed");
    dir.file("a.yaml", PASSING);
    dir.file("b.yaml", FAILING);
    let run = run_paths(&[dir.path()], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("1 passed, 1 failed"), "{run:?}");
}

// ------------------------------------------------------------ --json, --seed

fn json_lines(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{run:?}"))
        })
        .collect()
}

#[test]
fn json_prints_one_object_per_scenario_then_a_summary() {
    let dir = TempDir::new("json");
    let pass = dir.file("a.yaml", PASSING);
    dir.file("b.yaml", FAILING);
    let run = run_paths(&[dir.path()], &["--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let lines = json_lines(&run);
    assert_eq!(lines.len(), 3, "two scenarios and a summary: {run:?}");
    let (first, second, summary) = (&lines[0], &lines[1], &lines[2]);
    assert_eq!(first["name"], "cli-pass");
    assert_eq!(first["result"], "pass");
    assert_eq!(first["seed"], 7);
    assert_eq!(first["file"], pass.display().to_string());
    assert_eq!(first["virtual_time_ms"], 600_000);
    assert!(first["steps"].as_u64().is_some_and(|n| n > 0), "{first}");
    assert!(first["fingerprint"].is_string(), "{first}");
    assert!(first["coverage"].is_object(), "{first}");
    assert_eq!(second["name"], "cli-fail");
    assert_eq!(second["result"], "failed");
    assert_eq!(
        second["failures"][0],
        "at 1m: s1 status: expected merged, got working"
    );
    assert_eq!(
        summary,
        &serde_json::json!({"summary": {"scenarios": 2, "passed": 1, "failed": 1}})
    );
}

#[test]
fn seed_override_changes_the_reported_seed() {
    let dir = TempDir::new("seed");
    let file = dir.file("pass.yaml", PASSING);
    let own = json_lines(&run_paths(&[&file], &["--json"]));
    assert_eq!(own[0]["seed"], 7, "the scenario's own seed");
    let run = run_paths(&[&file], &["--json", "--seed", "4242"]);
    assert_eq!(run.code, 0, "{run:?}");
    let overridden = json_lines(&run);
    assert_eq!(overridden[0]["seed"], 4242, "{run:?}");
    // No random faults: the seed is never drawn, the run is the same.
    assert_eq!(overridden[0]["fingerprint"], own[0]["fingerprint"]);
    let traced = run_paths(&[&file], &["--trace", "--seed", "4242"]);
    assert!(traced.stdout.contains("seed 4242) ──"), "{traced:?}");
}

#[test]
fn bad_seed_value_exits_2() {
    let dir = TempDir::new("badseed");
    let file = dir.file("pass.yaml", PASSING);
    let run = run_paths(&[&file], &["--seed", "seven"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--seed"), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
}

// ------------------------------------------------------------ bad invocations

#[test]
fn run_without_paths_prints_usage_and_exits_2() {
    let run = ao_sim(["run"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("Usage: ao-sim run"), "{run:?}");
    assert!(run.stderr.contains("<PATHS>"), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
}

#[test]
fn no_subcommand_prints_usage_and_exits_2() {
    let run = ao_sim(Vec::<String>::new());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("Usage: ao-sim"), "{run:?}");
}

#[test]
fn missing_path_exits_2() {
    let dir = TempDir::new("missing");
    let ghost = dir.path().join("no-such-scenario.yaml");
    let run = run_paths(&[&ghost], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "error: {}: no such file or directory",
            ghost.display()
        )),
        "{run:?}"
    );
    assert!(run.stdout.is_empty(), "{run:?}");
}

#[test]
fn missing_path_next_to_a_valid_one_runs_nothing() {
    let dir = TempDir::new("missing2");
    let file = dir.file("pass.yaml", PASSING);
    let ghost = dir.path().join("ghost.yaml");
    let run = run_paths(&[&file, &ghost], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
}

#[test]
fn directory_without_scenarios_exits_2() {
    let dir = TempDir::new("empty");
    dir.file("README.md", "no scenarios here");
    let run = run_paths(&[dir.path()], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no scenario files"), "{run:?}");
}

// ------------------------------------------------------------ broken scenarios

#[test]
fn unknown_top_level_field() {
    let text = format!("{HEAD}bogus: 1\n");
    assert_located(
        "unknown-top-level-field",
        &text,
        "bogus",
        "unknown field `bogus`, expected one of",
    );
}

#[test]
fn unknown_field_inside_a_step() {
    let text = format!("{HEAD}steps:\n  - at: 0s\n    spawn: s1\n    colour: red\n");
    assert_located(
        "unknown-step-field",
        &text,
        "colour",
        "unknown field `colour`",
    );
}

#[test]
fn unknown_field_inside_a_step_action() {
    let text = format!("{HEAD}steps:\n  - at: 0s\n    activity: {{session: s1, stat: idle}}\n");
    assert_located(
        "unknown-action-field",
        &text,
        "stat:",
        "unknown field `stat`",
    );
}

#[test]
fn unknown_step_action() {
    let text = format!("{HEAD}steps:\n  - at: 0s\n    explode: s1\n");
    assert_located(
        "unknown-step-action",
        &text,
        "explode",
        "`explode`, expected one of `at`, `spawn`",
    );
}

#[test]
fn two_actions_in_one_step() {
    let text = format!("{HEAD}steps:\n  - at: 0s\n    spawn: s1\n    kill: s1\n");
    assert_located(
        "two-actions",
        &text,
        "kill",
        "a step has exactly one action, found `spawn` and `kill`",
    );
}

#[test]
fn bad_duration() {
    let text = format!("{HEAD}steps:\n  - {{at: 5 minutes, spawn: s1}}\n");
    assert_located(
        "bad-duration",
        &text,
        "5 minutes",
        "invalid duration `5 minutes`",
    );
}

#[test]
fn unknown_session_in_a_step() {
    let text = format!("{HEAD}steps:\n  - {{at: 0s, spawn: s2}}\n");
    assert_located(
        "unknown-session",
        &text,
        "s2",
        "unknown session `s2`, declared: s1",
    );
}

#[test]
fn unknown_enum_word() {
    let text =
        format!("{HEAD}steps:\n  - {{at: 0s, activity: {{session: s1, state: sleeping}}}}\n");
    assert_located(
        "unknown-enum-word",
        &text,
        "sleeping",
        "unknown activity state `sleeping`, expected one of",
    );
}

#[test]
fn unknown_reaction_in_config() {
    let text = format!("{HEAD}config:\n  reactions:\n    ci-exploded: {{retries: 1}}\n");
    assert_located(
        "unknown-reaction",
        &text,
        "ci-exploded",
        "unknown reaction `ci-exploded`, expected one of",
    );
}

#[test]
fn empty_send_to_agent_message_in_config() {
    let text = format!("{HEAD}config:\n  reactions:\n    ci-failed: {{message: \"\"}}\n");
    assert_located(
        "empty-message",
        &text,
        "\"\"",
        "config.reactions.ci-failed.message: the reaction message must not be empty",
    );
}

#[test]
fn one_invalid_file_among_valid_ones_runs_nothing() {
    let dir = TempDir::new("some-invalid");
    dir.file("a-pass.yaml", PASSING);
    dir.file("b-fail.yaml", FAILING);
    let broken = dir.file("c-broken.yaml", &format!("{HEAD}bogus: 1\n"));
    let run = run_paths(&[dir.path()], &[]);
    assert_refused(&run, 1);
    assert!(
        run.stderr
            .contains(&format!("error: {}:4:1: ", broken.display())),
        "{run:?}"
    );
    assert!(!run.stdout.contains("passed"), "no summary table: {run:?}");
    // --json prints nothing either: no summary object.
    let json = run_paths(&[dir.path()], &["--json"]);
    assert_refused(&json, 1);
}

#[test]
fn every_invalid_file_is_reported() {
    let dir = TempDir::new("all-invalid");
    let a = dir.file("a.yaml", &format!("{HEAD}bogus: 1\n"));
    let b = dir.file(
        "b.yaml",
        &format!("{HEAD}steps:\n  - {{at: 0s, spawn: s2}}\n"),
    );
    dir.file("c.yaml", PASSING);
    let run = run_paths(&[dir.path()], &[]);
    assert_refused(&run, 2);
    assert!(
        run.stderr
            .contains(&format!("error: {}:4:1: ", a.display())),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(&format!("error: {}:5:", b.display())),
        "{run:?}"
    );
}

#[test]
fn whole_file_checks_name_the_file_and_the_path() {
    // Checks that need the whole file run after parsing; today they report a
    // path inside the file (`expect[0]`) rather than a line and column.
    let text = format!("{HEAD}expect:\n  - {{at: 1m, final: true}}\n");
    let dir = TempDir::new("whole-file");
    let file = dir.file("whole.yaml", &text);
    let run = run_paths(&[&file], &[]);
    assert_refused(&run, 1);
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {run:?}"));
    assert!(
        error.starts_with(&format!("error: {}:", file.display())),
        "{error}"
    );
    assert!(
        error.contains("expect[0]: give exactly one of `at: <time>` or `final: true`"),
        "{error}"
    );
}
