//! What the CLI prints: operation outcomes, the session table, one
//! session's status, and errors (as JSON with `--json`).

use super::when;
use crate::api::{OpResponse, SessionView};
use ao_core::domain::DisplayStatus;
use ao_core::time::Timestamp;
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

/// The session table: cleaned sessions hidden unless `all`.
pub fn list(v: &Value, json: bool, all: bool, now: Timestamp) -> ExitCode {
    let sessions: Vec<SessionView> = match serde_json::from_value(v.clone()) {
        Ok(s) => s,
        Err(e) => return error(&format!("unexpected answer from the daemon: {e}"), json),
    };
    let shown: Vec<&SessionView> = sessions.iter().filter(|s| all || !s.cleaned).collect();
    if json {
        println!("{}", serde_json::to_value(&shown).unwrap_or(Value::Null));
        return ExitCode::SUCCESS;
    }
    print!("{}", table(&shown, now, false));
    let hidden = sessions.len() - shown.len();
    if hidden > 0 {
        println!("({hidden} cleaned session(s) hidden: `ao ls --all` shows them)");
    }
    ExitCode::SUCCESS
}

/// The session table (`ao ls`, `ao watch`): a header and one line per
/// session; with `colour`, the status word is coloured by what it asks of a
/// person (red: act now; yellow: look; green: fine; dim: finished).
pub fn table(shown: &[&SessionView], now: Timestamp, colour: bool) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "{:<16} {:<10} {:<8} {:<18} {:<8} {:<8} {:<20} {:<8} {:<10} ACTIVITY\n",
        "ID", "PROJECT", "ISSUE", "STATUS", "FOR", "AGE", "BRANCH", "PR", "RUNTIME"
    );
    for s in shown {
        let r = &s.record;
        let pr = r
            .lifecycle
            .pr
            .number
            .map_or_else(|| "-".to_owned(), |n| format!("#{n}"));
        let since = s
            .status_since
            .map_or_else(|| "-".to_owned(), |t| when::ago(now, t));
        let status = format!("{:<18}", s.status.as_str());
        let status = match colour.then(|| status_colour(s.status)).flatten() {
            Some(code) => format!("\x1b[{code}m{status}\x1b[0m"),
            None => status,
        };
        let _ = writeln!(
            out,
            "{:<16} {:<10} {:<8} {status} {:<8} {:<8} {:<20} {:<8} {:<10} {}",
            r.id,
            r.project_id,
            r.issue_id,
            since,
            when::ago(now, r.created_at),
            if r.metadata.branch.is_empty() {
                "-"
            } else {
                &r.metadata.branch
            },
            pr,
            r.lifecycle.runtime.state,
            activity(s, now, false)
        );
    }
    out
}

/// The ANSI colour of a status word (`None`: the terminal's own).
fn status_colour(status: DisplayStatus) -> Option<&'static str> {
    use DisplayStatus as D;
    match status {
        D::NeedsInput | D::Stuck | D::CiFailed | D::Errored => Some("1;31"),
        D::ChangesRequested | D::Detecting => Some("33"),
        D::Working | D::Approved | D::Mergeable => Some("32"),
        D::PrOpen | D::ReviewPending | D::Spawning => Some("34"),
        D::Merged => Some("35"),
        D::Idle | D::Killed | D::Done | D::Cleanup | D::Terminated => Some("2"),
    }
}

/// What the agent last reported, worded the same in `ao ls` and `ao status`:
/// silent hooks said so; a finished session's last report is history, not current.
fn activity(s: &SessionView, now: Timestamp, long: bool) -> String {
    let a = &s.record.lifecycle.activity;
    let at = a
        .last_activity_at
        .map(|t| (when::ago(now, t), when::local(t)));
    if s.record.is_terminal() {
        return match (long, at) {
            (true, _) if !s.hooks_reporting => "- (finished; its hooks never reported)".into(),
            (true, Some((ago, local))) => format!(
                "- (finished; its last report was {} at {local}, {ago} ago)",
                a.state
            ),
            _ => "- (finished)".into(),
        };
    }
    if !s.hooks_reporting {
        return "none (hooks silent)".into();
    }
    match (long, at) {
        (true, Some((ago, local))) => {
            format!(
                "{} (reported by {} at {local}, {ago} ago)",
                a.state, a.source
            )
        }
        _ => a.state.to_string(),
    }
}

/// One session.
pub fn status(v: &Value, json: bool, now: Timestamp) -> ExitCode {
    if json {
        println!("{v}");
        return ExitCode::SUCCESS;
    }
    let s = match serde_json::from_value::<SessionView>(v.clone()) {
        Ok(s) => s,
        Err(e) => return error(&format!("unexpected answer from the daemon: {e}"), json),
    };
    let r = &s.record;
    let l = &r.lifecycle;
    let m = &r.metadata;
    println!(
        "session   {} ({}, project {}, issue {})",
        r.id, r.kind, r.project_id, r.issue_id
    );
    let mut status = s.status.to_string();
    if let Some(q) = l.detecting {
        status.push_str(&format!(
            " (detecting, {} attempt{})",
            q.attempts,
            if q.attempts == 1 { "" } else { "s" }
        ));
    }
    if let Some(since) = s.status_since {
        status.push_str(&format!(
            ", for {} (since {})",
            when::ago(now, since),
            when::local(since)
        ));
    }
    println!("status    {status}");
    println!("lifecycle {}/{}", l.session.state, l.session.reason);
    println!(
        "created   {} ({} ago)",
        when::local(r.created_at),
        when::ago(now, r.created_at)
    );
    println!(
        "pr        {}/{}{}",
        l.pr.state,
        l.pr.reason,
        l.pr.number.map(|n| format!(" #{n}")).unwrap_or_default()
    );
    println!(
        "runtime   {} {} ({}/{})",
        if m.runtime_name.is_empty() {
            "-"
        } else {
            &m.runtime_name
        },
        m.runtime_handle
            .as_ref()
            .map_or("(released)", |h| h.as_str()),
        l.runtime.state,
        l.runtime.reason
    );
    if let Some(log) = &s.output_log {
        println!("output    {log}");
    }
    if let Some(line) = &s.attach_command {
        println!("attach    {line}   (or: ao attach {})", r.id);
    }
    println!("activity  {}", activity(&s, now, true));
    if let Some(q) = l.detecting {
        println!(
            "detecting {} attempt{}, for {} (since {})",
            q.attempts,
            if q.attempts == 1 { "" } else { "s" },
            when::ago(now, q.started_at),
            when::local(q.started_at)
        );
    }
    println!(
        "branch    {}",
        if m.branch.is_empty() { "-" } else { &m.branch }
    );
    println!(
        "workspace {}",
        m.workspace_path
            .as_ref()
            .map_or("(released)", |h| h.as_str())
    );
    println!("revision  {}", r.revision);
    ExitCode::SUCCESS
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
