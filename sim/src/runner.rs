//! Running many scenarios: discovery, strict loading (all or nothing), and
//! parallel execution across cores with results in a stable order.

use crate::engine::{self, RunOptions, RunReport};
use crate::scenario::{load_file, LoadError, Scenario};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// A scenario file that loaded.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// Where it came from.
    pub path: PathBuf,
    /// What it says.
    pub scenario: Scenario,
}

/// Why the inputs could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A path that is neither a YAML file nor a directory.
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    /// A directory could not be read.
    #[error("{path}: cannot read directory: {error}")]
    Unreadable {
        /// The directory.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// No scenario file was found.
    #[error("no scenario files (*.yaml, *.yml) under {0}")]
    Empty(String),
}

/// Expands files and directories (recursively) into scenario files, sorted.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files)?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(InputError::Missing(path.clone()));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(InputError::Empty(shown.join(", ")));
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let unreadable = |error| InputError::Unreadable {
        path: dir.to_owned(),
        error,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
    Ok(())
}

/// Loads every file; returns every error (not just the first) if any fails.
pub fn load_all(files: &[PathBuf]) -> Result<Vec<Loaded>, Vec<LoadError>> {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        match load_file(path) {
            Ok(scenario) => loaded.push(Loaded {
                path: path.clone(),
                scenario,
            }),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

/// Runs scenarios on `jobs` threads; reports come back in input order.
/// `progress` is called after each run with (done, total).
pub fn run_all(
    scenarios: &[Loaded],
    opts: &RunOptions,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<RunReport> {
    let total = scenarios.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<RunReport>>> = Mutex::new(vec![None; total]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = scenarios.get(i) else { break };
                let report = engine::run(&item.scenario, opts);
                if let Ok(mut s) = slots.lock() {
                    s[i] = Some(report);
                }
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}
