//! Configuration as a user writes it (SPEC §6): YAML overrides merged field by
//! field over the defaults, globally then per project, and every load error
//! naming its field (YAML errors also carry line and column).

use ao_core::config::{Config, ConfigOverrides, ReactionTable};
use ao_core::domain::{Priority, ProjectId, ReactionAction, ReactionKey};
use ao_core::time::Duration;

/// Where a load failed: in the YAML (parse, with its location) or in validation (resolve).
#[derive(Debug)]
enum LoadError {
    Yaml {
        message: String,
        location: Option<(usize, usize)>,
    },
    Config {
        field: String,
        message: String,
    },
}

fn load(yaml: &str) -> Result<Config, LoadError> {
    let overrides: ConfigOverrides = serde_yaml::from_str(yaml).map_err(|e| LoadError::Yaml {
        message: e.to_string(),
        location: e.location().map(|l| (l.line(), l.column())),
    })?;
    Config::resolve(&overrides).map_err(|e| LoadError::Config {
        field: e.field().to_owned(),
        message: e.to_string(),
    })
}

fn loaded(yaml: &str) -> Config {
    match load(yaml) {
        Ok(cfg) => cfg,
        Err(e) => panic!("{yaml}\nshould load, got {e:?}"),
    }
}

const MERGE: &str = "
thresholds:
  spawn_grace: 3m
reactions:
  ci-failed:
    retries: 3
  agent-idle:
    escalate_after: 1h
    priority: info
projects:
  app:
    reactions:
      ci-failed:
        message: Fix the build.
      agent-stuck:
        enabled: false
  lib: {}
";

#[test]
fn overrides_merge_field_by_field() {
    let cfg = loaded(MERGE);
    let defaults = ReactionTable::default();
    let ci_default = defaults.get(ReactionKey::CiFailed);

    // Global: `ci-failed: {retries: 3}` keeps the default action, message, priority.
    let ci = cfg.reactions.get(ReactionKey::CiFailed);
    assert_eq!(ci.retries, Some(3));
    assert_eq!(ci.action, ReactionAction::SendToAgent);
    assert_eq!(ci.message, ci_default.message);
    assert_eq!(ci.priority, ci_default.priority);
    let idle = cfg.reactions.get(ReactionKey::AgentIdle);
    assert_eq!(idle.escalate_after, Some(Duration::mins(60)));
    assert_eq!(idle.priority, Priority::Info);
    assert_eq!(idle.retries, Some(2), "unnamed fields keep their default");

    // Project over global: the project's message on top of the global retries.
    let app = cfg.reactions_for(&ProjectId::from("app"));
    let app_ci = app.get(ReactionKey::CiFailed);
    assert_eq!(app_ci.retries, Some(3));
    assert_eq!(app_ci.message, "Fix the build.");
    assert_eq!(app_ci.action, ReactionAction::SendToAgent);
    assert!(!app.get(ReactionKey::AgentStuck).enabled);
    assert_eq!(
        app.get(ReactionKey::AgentIdle),
        idle,
        "global overrides reach projects"
    );

    // A project without overrides, and an unknown project, see the global table.
    assert_eq!(cfg.reactions_for(&ProjectId::from("lib")), &cfg.reactions);
    assert_eq!(cfg.reactions_for(&ProjectId::from("nope")), &cfg.reactions);

    assert_eq!(cfg.thresholds.spawn_grace, Duration::mins(3));
    assert_eq!(cfg.thresholds.death_confirmations, 2);

    // The empty file is the default configuration.
    assert_eq!(loaded("{}"), Config::default());

    // Only the named fields differ from the defaults, in every scope.
    let mut rows = vec![format!(
        "{:<6} | {:<18} | {:<14} | value",
        "scope", "reaction", "field"
    )];
    let scopes = [("global", &cfg.reactions), ("app", app)];
    for (scope, table) in scopes {
        for (key, r) in table.iter() {
            let d = defaults.get(key);
            let fields = [
                ("action", d.action != r.action, r.action.to_string()),
                ("message", d.message != r.message, r.message.clone()),
                ("retries", d.retries != r.retries, opt(r.retries)),
                (
                    "escalate_after",
                    d.escalate_after != r.escalate_after,
                    opt(r.escalate_after),
                ),
                ("priority", d.priority != r.priority, r.priority.to_string()),
                ("enabled", d.enabled != r.enabled, r.enabled.to_string()),
            ];
            for (field, changed, value) in fields {
                if changed {
                    rows.push(format!(
                        "{scope:<6} | {:<18} | {field:<14} | {value}",
                        key.as_str()
                    ));
                }
            }
        }
    }
    insta::assert_snapshot!("merged_changes", rows.join("\n"));
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// Each bad file and what its error must name: the offending word for a parse
/// error, the dotted field path (exactly `ConfigError::field`) for a validation error.
const ERRORS: &[(&str, &str, &str)] = &[
    (
        "unknown reaction name",
        "reactions:\n  ci-fail:\n    retries: 3\n",
        "ci-fail",
    ),
    (
        "unknown reaction name in a project",
        "projects:\n  app:\n    reactions:\n      agent-sleepy: {}\n",
        "agent-sleepy",
    ),
    (
        "unknown reaction field",
        "reactions:\n  ci-failed:\n    retry: 3\n",
        "retry",
    ),
    (
        "unknown top-level field (at line 1 column 1)",
        "reaction:\n  ci-failed:\n    retries: 3\n",
        "reaction",
    ),
    (
        "unknown top-level field (after a valid one)",
        "thresholds: {}\nreaction: {}\n",
        "reaction",
    ),
    (
        "unknown threshold field",
        "thresholds:\n  death_confirmation: 3\n",
        "death_confirmation",
    ),
    (
        "unknown project field",
        "projects:\n  app:\n    agnet:\n      launch: claude\n",
        "agnet",
    ),
    (
        "unknown action",
        "reactions:\n  ci-failed:\n    action: page\n",
        "page",
    ),
    (
        "malformed duration (reaction)",
        "reactions:\n  changes-requested:\n    escalate_after: 30 minutes\n",
        "30 minutes",
    ),
    (
        "malformed duration (threshold)",
        "thresholds:\n  spawn_grace: 2x\n",
        "2x",
    ),
    (
        "duration without unit",
        "thresholds:\n  reaper_interval: 30\n",
        "duration",
    ),
    (
        "empty send-to-agent message",
        "reactions:\n  agent-idle:\n    message: \"\"\n",
        "reactions.agent-idle.message",
    ),
    (
        "blank message on a reaction switched to send-to-agent",
        "reactions:\n  agent-stuck:\n    action: send-to-agent\n    message: \"  \"\n",
        "reactions.agent-stuck.message",
    ),
    (
        "empty send-to-agent message in a project",
        "projects:\n  app:\n    reactions:\n      ci-failed:\n        message: \"\"\n",
        "projects.app.reactions.ci-failed.message",
    ),
    (
        "death_confirmations 1",
        "thresholds:\n  death_confirmations: 1\n",
        "thresholds.death_confirmations",
    ),
    (
        "death_confirmations 0",
        "thresholds:\n  death_confirmations: 0\n",
        "thresholds.death_confirmations",
    ),
    (
        "zero quarantine_max_attempts",
        "thresholds:\n  quarantine_max_attempts: 0\n",
        "thresholds.quarantine_max_attempts",
    ),
    (
        "zero quarantine_max_duration",
        "thresholds:\n  quarantine_max_duration: 0s\n",
        "thresholds.quarantine_max_duration",
    ),
    (
        "zero reaper_interval",
        "thresholds:\n  reaper_interval: 0s\n",
        "thresholds.reaper_interval",
    ),
    (
        "zero scm_interval",
        "thresholds:\n  scm_interval: 0ms\n",
        "thresholds.scm_interval",
    ),
    (
        "zero tick_interval",
        "thresholds:\n  tick_interval: 0m\n",
        "thresholds.tick_interval",
    ),
    (
        "zero recent_activity_window",
        "thresholds:\n  recent_activity_window: 0s\n",
        "thresholds.recent_activity_window",
    ),
    (
        "zero escalate_after",
        "reactions:\n  merge-conflicts:\n    escalate_after: 0s\n",
        "reactions.merge-conflicts.escalate_after",
    ),
    (
        "zero escalate_after in a project",
        "projects:\n  app:\n    reactions:\n      merge-conflicts:\n        escalate_after: 0s\n",
        "projects.app.reactions.merge-conflicts.escalate_after",
    ),
    (
        "empty agent launch",
        "projects:\n  app:\n    agent:\n      launch: \"  \"\n",
        "projects.app.agent.launch",
    ),
];

/// Every bad file fails to load, and its error names the field (or the bad
/// word at that field). A parse error has a location: note that `yaml_serde`'s
/// `Display` leaves out "at line 1 column 1", so a loader must print
/// `Error::location()` itself (the table prints it for every parse error).
#[test]
fn every_config_error_names_its_field() {
    let mut rows = Vec::new();
    for (case, yaml, names) in ERRORS {
        let (kind, message) = match load(yaml) {
            Ok(_) => panic!("{case}: {yaml}\nmust not load"),
            Err(LoadError::Yaml { message, location }) => {
                let Some((line, column)) = location else {
                    panic!("{case}: a parse error carries line and column: {message}")
                };
                (format!("yaml {line}:{column}"), message)
            }
            Err(LoadError::Config { field, message }) => {
                assert_eq!(field, *names, "{case}");
                ("config".to_owned(), message)
            }
        };
        assert!(
            message.contains(names),
            "{case}: `{message}` must name `{names}`"
        );
        rows.push(format!("{case:<53} | {kind:<9} | {message}"));
    }
    insta::assert_snapshot!("errors", rows.join("\n"));
}
