//! What the CLI prints: operation outcomes, the session table, one
//! session's status, and errors (as JSON with `--json`).

use crate::api::{OpResponse, SessionView};
use serde_json::Value;
use std::process::ExitCode;

/// An operation's outcome; exit 1 when it rolled back.
pub fn op(v: &Value, json: bool) -> ExitCode {
    let ok = v.get("ok").and_then(Value::as_bool).unwrap_or(false);
    if json {
        println!("{v}");
    } else if let Ok(op) = serde_json::from_value::<OpResponse>(v.clone()) {
        let who = op.session.as_deref().unwrap_or("-");
        println!(
            "{} {who}: {}",
            if op.ok { "ok" } else { "FAILED" },
            op.summary
        );
    } else {
        println!("{v}");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A plain acknowledgement.
pub fn done(v: &Value, json: bool, word: &str) -> ExitCode {
    if json {
        println!("{v}");
    } else {
        println!("{word}");
    }
    ExitCode::SUCCESS
}

/// The session table.
pub fn list(v: &Value, json: bool) -> ExitCode {
    if json {
        println!("{v}");
        return ExitCode::SUCCESS;
    }
    let sessions: Vec<SessionView> = serde_json::from_value(v.clone()).unwrap_or_default();
    println!(
        "{:<16} {:<10} {:<8} {:<18} {:<8} {:<10} ACTIVITY",
        "ID", "PROJECT", "ISSUE", "STATUS", "PR", "RUNTIME"
    );
    for s in sessions {
        let r = &s.record;
        let pr = r
            .lifecycle
            .pr
            .number
            .map_or_else(|| "-".to_owned(), |n| format!("#{n}"));
        let activity = if s.hooks_reporting {
            r.lifecycle.activity.state.to_string()
        } else {
            "none (hooks silent)".into()
        };
        println!(
            "{:<16} {:<10} {:<8} {:<18} {:<8} {:<10} {}",
            r.id, r.project_id, r.issue_id, s.status, pr, r.lifecycle.runtime.state, activity
        );
    }
    ExitCode::SUCCESS
}

/// One session.
pub fn status(v: &Value, json: bool) -> ExitCode {
    if json {
        println!("{v}");
        return ExitCode::SUCCESS;
    }
    match serde_json::from_value::<SessionView>(v.clone()) {
        Ok(s) => {
            let r = &s.record;
            let l = &r.lifecycle;
            println!(
                "session   {} ({}, project {}, issue {})",
                r.id, r.kind, r.project_id, r.issue_id
            );
            println!("status    {}", s.status);
            println!("lifecycle {}/{}", l.session.state, l.session.reason);
            println!(
                "pr        {}/{}{}",
                l.pr.state,
                l.pr.reason,
                l.pr.number.map(|n| format!(" #{n}")).unwrap_or_default()
            );
            println!("runtime   {}/{}", l.runtime.state, l.runtime.reason);
            println!(
                "activity  {} (source {}){}",
                l.activity.state,
                l.activity.source,
                if s.hooks_reporting {
                    ""
                } else {
                    " — the agent's hooks have not reported"
                }
            );
            if let Some(q) = l.detecting {
                println!(
                    "detecting attempts {} since {} ms",
                    q.attempts, q.started_at.0
                );
            }
            println!(
                "workspace {}",
                r.metadata
                    .workspace_path
                    .as_ref()
                    .map_or("-", |h| h.as_str())
            );
            println!("revision  {}", r.revision);
            ExitCode::SUCCESS
        }
        Err(_) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
    }
}

/// An error: on stderr, or as `{"error": ...}` on stdout with `--json`; exit 1.
pub fn error(message: &str, json: bool) -> ExitCode {
    if json {
        println!("{}", serde_json::json!({ "error": message }));
    } else {
        eprintln!("error: {message}");
    }
    ExitCode::from(1)
}
