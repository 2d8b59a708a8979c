//! Loading a scenario file strictly: every mistake names the file, the line
//! and column (or the path inside the file), and what was expected.

use super::refs::CheckScope;
use super::{RaceSpec, Scenario, StepAction};
use ao_core::config::Config;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a scenario could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line and column, when the YAML parser knows them.
    pub location: Option<(usize, usize)>,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.file.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Reads and validates one scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        file: path.to_owned(),
        location: None,
        message: format!("cannot read: {e}"),
    })?;
    load_str(path, &text)
}

/// Parses and validates scenario text (`file` is used in errors only).
pub fn load_str(file: &Path, text: &str) -> Result<Scenario, LoadError> {
    let error = |location, message: String| LoadError {
        file: file.to_owned(),
        location,
        message,
    };
    let scenario: Scenario = {
        let _scope = CheckScope::begin();
        serde_yaml::from_str(text).map_err(|e| {
            let location = e.location().map(|l| (l.line(), l.column()));
            // The parser's own text repeats the location (or omits it at 1:1); strip it.
            let message = e.to_string();
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_owned(),
                None => message,
            };
            error(location, message)
        })?
    };
    validate(&scenario).map_err(|(path, message)| error(None, format!("{path}: {message}")))?;
    Ok(scenario)
}

/// Checks that need the whole file: one time per expectation, race sessions,
/// SCM facts, and that the config resolves.
fn validate(s: &Scenario) -> Result<(), (String, String)> {
    Config::resolve(&s.config).map_err(|e| (format!("config.{}", e.field()), e.to_string()))?;
    if let Some(until) = s.until {
        let late = |at: ao_core::time::Duration| at > until;
        if let Some(i) = s.steps.iter().position(|st| late(st.at)) {
            return Err((
                format!("steps[{i}].at"),
                format!(
                    "{} is after `until: {until}`: it would never run",
                    s.steps[i].at
                ),
            ));
        }
        if let Some(i) = s.expect.iter().position(|e| e.at.is_some_and(late)) {
            return Err((
                format!("expect[{i}].at"),
                format!("after `until: {until}`: it would never be checked"),
            ));
        }
    }
    for (i, step) in s.steps.iter().enumerate() {
        let path = format!("steps[{i}].{}", step.action.key());
        match &step.action {
            StepAction::Race(RaceSpec { first, second }) if first.session() != second.session() => {
                return Err((
                    path,
                    format!(
                        "both writers must target one session, got `{}` and `{}`",
                        first.session(),
                        second.session()
                    ),
                ));
            }
            StepAction::Scm(f) if f.fetch_failed && f.pr.is_some() => {
                return Err((
                    path,
                    "a failed fetch reports no PR: remove `pr` or `fetch_failed`".into(),
                ));
            }
            StepAction::Fault(f) => {
                use super::FaultKind as K;
                let needs_action = matches!(f.kind, K::ActionFails | K::CrashAfter);
                if needs_action != f.action.is_some() {
                    return Err((
                        path,
                        if needs_action {
                            "this fault kind needs `action` (which session-manager action)".into()
                        } else {
                            "`action` only goes with action_fails or crash_after".into()
                        },
                    ));
                }
                if f.times == 0 {
                    return Err((format!("{path}.times"), "must be at least 1".into()));
                }
            }
            _ => {}
        }
    }
    for (i, e) in s.expect.iter().enumerate() {
        if e.at.is_some() == e.r#final {
            return Err((
                format!("expect[{i}]"),
                "give exactly one of `at: <time>` or `final: true`".into(),
            ));
        }
    }
    let rates = &s.faults;
    for (name, p) in [
        ("probe_fail", rates.probe_fail),
        ("fetch_fail", rates.fetch_fail),
        ("signal_lost", rates.signal_lost),
        ("signal_stale", rates.signal_stale),
        ("delivery_fail", rates.delivery_fail),
        ("notify_fail", rates.notify_fail),
        ("store_fail", rates.store_fail),
        ("action_fail", rates.action_fail),
    ] {
        if !(0.0..=1.0).contains(&p) {
            return Err((
                format!("faults.{name}"),
                format!("a probability between 0 and 1, got {p}"),
            ));
        }
    }
    Ok(())
}
