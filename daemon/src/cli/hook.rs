//! `ao hook`: what agents' hooks run. `ao hook activity --state S` reports
//! a state directly; `ao hook <agent> <event>` reads the agent's own
//! payload (standard input, or the last argument for Codex's `notify`),
//! maps it with the agent's adapter ([`crate::agent`]) and reports the
//! result. When no daemon answers, the signal is spooled with its
//! observation time (see [`crate::spool`]).
//!
//! An agent hook must never break its agent: `ao hook <agent> <event>`
//! always exits 0 and never prints on standard output (Claude Code adds a
//! hook's output to the model's context, Gemini CLI parses it as JSON). A
//! payload it cannot use (an unknown event, malformed JSON) changes
//! nothing: it is reported to the daemon, which counts it
//! (`ao_hook_rejects_total`) and logs it, and noted on standard error.

use super::client::{CallError, Client};
use super::{segment, show};
use crate::agent::{AgentKind, PayloadSource, Rejected, Report};
use crate::driver::{Clock, SystemClock};
use crate::spool::Spooled;
use ao_core::domain::{ActivitySource, ActivityState, SessionId};
use reqwest::Method;
use serde_json::Value;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// `ao hook <agent> <event> [ARGS...]`.
#[derive(clap::Args, Debug)]
pub struct AgentHookArgs {
    /// The agent's event (e.g. `SessionStart`, `notify`, `session.idle`).
    pub event: String,
    /// The agent's arguments (Codex's `notify` passes its JSON last).
    #[arg(allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// Session (default `$AO_SESSION_ID`, which ao gives every agent).
    #[arg(long, env = "AO_SESSION_ID")]
    pub session: Option<String>,
}

/// The most a payload may hold (tool outputs can be large).
const MAX_PAYLOAD: u64 = 16 * 1024 * 1024;

/// How long to wait for a payload on standard input.
const STDIN_WAIT: Duration = Duration::from_secs(5);

/// The longest a hook in the rejected-payload report may say.
const MAX_REASON: usize = 300;

/// Reports an agent's activity; when no daemon answers, spools it (with
/// its observation time) for the daemon's next start and still succeeds.
pub async fn activity(
    client: &Client,
    data_dir: &Path,
    session: &str,
    state: &str,
    json: bool,
) -> ExitCode {
    let observed = SystemClock.now();
    let body = serde_json::json!({"state": state, "source": "hook"});
    match post(client, session, body).await {
        Ok(v) => show::done(&v, json, "recorded"),
        Err(CallError::Unreachable(why)) => {
            let Ok(state) = state.parse::<ActivityState>() else {
                return show::error(&format!("unknown activity state `{state}`"), json);
            };
            let entry = Spooled {
                session: SessionId(session.to_owned()),
                at: observed,
                state,
                source: ActivitySource::Hook,
                agent_session_id: None,
            };
            match spool(data_dir, &entry, &why) {
                Ok(path) => {
                    let spooled = serde_json::json!({"spooled": path});
                    show::done(&spooled, json, "spooled")
                }
                Err(e) => show::error(&e, json),
            }
        }
        Err(e) => show::error(&e.to_string(), json),
    }
}

/// Runs one agent hook: read, map, report. Always exit 0.
pub async fn agent(
    client: &Client,
    data_dir: &Path,
    kind: AgentKind,
    hook: &AgentHookArgs,
) -> ExitCode {
    let observed = SystemClock.now();
    let what = format!("ao hook {kind} {}", hook.event);
    let payload = match kind.payload_source(&hook.event) {
        PayloadSource::Stdin => read_stdin(),
        PayloadSource::LastArgument => Ok(hook.args.last().cloned().unwrap_or_default()),
        PayloadSource::None => Ok(String::new()),
    };
    let Some(session) = hook.session.as_deref().filter(|s| !s.is_empty()) else {
        eprintln!("{what}: no session (AO_SESSION_ID is not set): nothing reported");
        return ExitCode::SUCCESS;
    };
    let mapped = payload
        .map_err(Rejected::Malformed)
        .and_then(|text| kind.read_hook(&hook.event, &text));
    let report = match mapped {
        Ok(report) => report,
        Err(rejected) => {
            let why = reason(&format!("{kind} `{}`: {rejected}", hook.event));
            eprintln!("{what}: {rejected} (ignored)");
            if let Err(e) = post(client, session, serde_json::json!({"rejected": why})).await {
                eprintln!("{what}: the daemon was not told: {e}");
            }
            return ExitCode::SUCCESS;
        }
    };
    if report == Report::nothing() {
        return ExitCode::SUCCESS;
    }
    let body = serde_json::json!({
        "state": report.state,
        "source": "hook",
        "agent_session_id": report.agent_session_id,
    });
    match post(client, session, body).await {
        Ok(_) => {}
        Err(CallError::Unreachable(why)) => match report.state {
            Some(state) => {
                let entry = Spooled {
                    session: SessionId(session.to_owned()),
                    at: observed,
                    state,
                    source: ActivitySource::Hook,
                    agent_session_id: report.agent_session_id,
                };
                if let Err(e) = spool(data_dir, &entry, &why) {
                    eprintln!("{what}: {e}");
                }
            }
            None => eprintln!("{what}: {why}; the agent's session id was not recorded"),
        },
        Err(e) => eprintln!("{what}: {e}"),
    }
    ExitCode::SUCCESS
}

async fn post(client: &Client, session: &str, body: Value) -> Result<Value, CallError> {
    let path = format!("/sessions/{}/activity", segment(session));
    client.call(Method::POST, &path, Some(body)).await
}

/// Spools a signal no daemon took; where it went, or why it could not.
fn spool(data_dir: &Path, entry: &Spooled, why: &str) -> Result<String, String> {
    match crate::spool::append(data_dir, entry) {
        Ok(path) => {
            eprintln!(
                "warning: {why}\nwarning: the signal is spooled in {} and is delivered when the daemon starts",
                path.display()
            );
            Ok(path.display().to_string())
        }
        Err(e) => Err(format!("{why}; and spooling the signal failed: {e}")),
    }
}

/// The payload on standard input: nothing from a terminal (a person
/// trying the command), at most [`MAX_PAYLOAD`] bytes, within
/// [`STDIN_WAIT`]. What is over the limit is read and dropped, so the
/// agent writing it never blocks or breaks its pipe.
fn read_stdin() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        return Ok(String::new());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut bytes = Vec::new();
        let read = (&mut stdin).take(MAX_PAYLOAD + 1).read_to_end(&mut bytes);
        let over = bytes.len() as u64 > MAX_PAYLOAD;
        if over {
            let _ = std::io::copy(&mut stdin, &mut std::io::sink());
        }
        let result = match read {
            Err(e) => Err(format!("cannot read standard input: {e}")),
            Ok(_) if over => Err(format!("the payload is over {MAX_PAYLOAD} bytes")),
            Ok(_) => String::from_utf8(bytes).map_err(|_| "the payload is not UTF-8".to_owned()),
        };
        let _ = tx.send(result);
    });
    rx.recv_timeout(STDIN_WAIT).unwrap_or_else(|_| {
        Err(format!(
            "no payload on standard input within {STDIN_WAIT:?}"
        ))
    })
}

/// A rejection's reason as the daemon may log it: one line, bounded.
fn reason(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_REASON)
        .collect()
}
