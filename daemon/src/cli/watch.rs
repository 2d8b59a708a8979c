//! `ao watch`: the session table, live. It reads the event stream: the
//! snapshot first, then re-reads each session an event names, and redraws
//! the table in place (on a terminal: from the top of the screen, status
//! words coloured, times moving every second). When stdout is not a
//! terminal it prints the whole table after each change, with no escape
//! codes at all. A lost stream is resumed with `Last-Event-ID`.

use super::client::{CallError, Client};
use super::{segment, show};
use crate::api::SessionView;
use crate::driver::{Clock, SystemClock};
use ao_core::domain::DisplayStatus;
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Statuses that ask a person to act, most urgent first (listed first).
const ATTENTION: [DisplayStatus; 4] = [
    DisplayStatus::NeedsInput,
    DisplayStatus::Stuck,
    DisplayStatus::CiFailed,
    DisplayStatus::Errored,
];

/// One server-sent event.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// `snapshot`, `session`, `gap`, ...
    pub event: String,
    /// Its data lines, joined.
    pub data: String,
    /// Its id, if it has one.
    pub id: Option<String>,
}

/// Splits a stream's text into events as it arrives (an event ends at a blank line).
#[derive(Debug, Default)]
pub struct SseParser {
    buf: String,
    current: SseEvent,
    lines: Vec<String>,
}

impl SseParser {
    /// Feeds text; returns the events it completed.
    pub fn push(&mut self, text: &str) -> Vec<SseEvent> {
        self.buf.push_str(text);
        let mut done = Vec::new();
        while let Some(nl) = self.buf.find('\n') {
            let line: String = self.buf.drain(..=nl).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                // No data: nothing to dispatch (a keep-alive comment).
                if self.lines.is_empty() {
                    self.current = SseEvent::default();
                    continue;
                }
                let mut ev = std::mem::take(&mut self.current);
                ev.data = std::mem::take(&mut self.lines).join("\n");
                if ev.event.is_empty() {
                    ev.event = "message".to_owned();
                }
                done.push(ev);
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.current.event = value.to_owned(),
                "data" => self.lines.push(value.to_owned()),
                "id" => self.current.id = Some(value.to_owned()),
                _ => {}
            }
        }
        done
    }
}

/// The sessions as the table shows them: attention first, then by project and id.
fn ordered(sessions: &BTreeMap<String, SessionView>, all: bool) -> Vec<&SessionView> {
    let mut shown: Vec<&SessionView> = sessions.values().filter(|s| all || !s.cleaned).collect();
    shown.sort_by_key(|s| {
        let rank = ATTENTION
            .iter()
            .position(|a| *a == s.status)
            .unwrap_or(ATTENTION.len());
        (rank, s.record.project_id.clone(), s.record.id.clone())
    });
    shown
}

struct Screen {
    tty: bool,
    colour: bool,
    all: bool,
}

impl Screen {
    fn draw(&self, sessions: &BTreeMap<String, SessionView>, state: &str) {
        let shown = ordered(sessions, self.all);
        let attention = shown
            .iter()
            .filter(|s| ATTENTION.contains(&s.status))
            .count();
        let now = SystemClock.now();
        let mut out = String::new();
        if self.tty {
            // Home, then clear: the table is redrawn in place.
            out.push_str("\x1b[H\x1b[2J");
        }
        out.push_str(&format!(
            "ao watch: {} session(s), {attention} need attention; {state} at {}\n",
            shown.len(),
            super::when::local(now)
        ));
        out.push_str(&show::table(&shown, now, self.colour));
        if !self.tty {
            out.push('\n');
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }
}

/// Runs `ao watch` until interrupted (or the daemon refuses it).
pub async fn run(client: &Client, all: bool, json: bool) -> ExitCode {
    let tty = std::io::stdout().is_terminal();
    let screen = Screen {
        tty,
        colour: tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        all,
    };
    let mut sessions: BTreeMap<String, SessionView> = BTreeMap::new();
    let mut last_id: Option<String> = None;
    let mut connected_once = false;
    loop {
        let mut resp = match client.stream("/events", last_id.as_deref()).await {
            Ok(r) => r,
            Err(CallError::Unreachable(why)) if connected_once => {
                if tty && !json {
                    screen.draw(&sessions, &format!("disconnected ({why}), retrying"));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(e) => return show::error(&e.to_string(), json),
        };
        connected_once = true;
        let mut parser = SseParser::default();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let chunk = tokio::select! {
                c = resp.chunk() => c,
                _ = tick.tick(), if tty && !json => {
                    screen.draw(&sessions, "live");
                    continue;
                }
            };
            let Ok(Some(bytes)) = chunk else { break };
            let mut changed = false;
            for ev in parser.push(&String::from_utf8_lossy(&bytes)) {
                if let Some(id) = &ev.id {
                    last_id = Some(id.clone());
                }
                if json {
                    let data: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
                    println!("{}", serde_json::json!({"event": ev.event, "data": data}));
                    continue;
                }
                changed |= apply(client, &mut sessions, &ev).await;
            }
            if changed && !json {
                screen.draw(&sessions, "live");
            }
        }
    }
}

/// Replaces the whole table with a list of views; whether it was one.
fn replace_all(sessions: &mut BTreeMap<String, SessionView>, list: Value) -> bool {
    match serde_json::from_value::<Vec<SessionView>>(list) {
        Ok(list) => {
            *sessions = list
                .into_iter()
                .map(|v| (v.record.id.to_string(), v))
                .collect();
            true
        }
        Err(_) => false,
    }
}

/// Applies one event to the table; whether it changed.
async fn apply(
    client: &Client,
    sessions: &mut BTreeMap<String, SessionView>,
    ev: &SseEvent,
) -> bool {
    let data: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
    match ev.event.as_str() {
        "snapshot" => replace_all(sessions, data),
        "session" => {
            let named = data
                .get("session")
                .and_then(Value::as_str)
                .filter(|s| *s != "-");
            match named {
                Some(id) => {
                    let path = format!("/sessions/{}", segment(id));
                    match client.call(Method::GET, &path, None).await {
                        Ok(v) => match serde_json::from_value::<SessionView>(v) {
                            Ok(view) => {
                                sessions.insert(id.to_owned(), view);
                            }
                            Err(_) => return false,
                        },
                        Err(_) => {
                            sessions.remove(id);
                        }
                    }
                    true
                }
                // An operation over many sessions (a cleanup): read them all.
                None => match client.call(Method::GET, "/sessions", None).await {
                    Ok(v) => replace_all(sessions, v),
                    Err(_) => false,
                },
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cut_at_blank_lines_across_chunks() {
        let mut p = SseParser::default();
        assert!(p.push("event: snap").is_empty());
        let evs =
            p.push("shot\nid: 1-0\ndata: [1,\ndata: 2]\n\n: keep-alive\n\nevent: session\r\n");
        assert_eq!(
            evs[0],
            SseEvent {
                event: "snapshot".into(),
                data: "[1,\n2]".into(),
                id: Some("1-0".into())
            }
        );
        assert_eq!(evs.len(), 1, "a keep-alive is no event");
        let evs = p.push("data: {}\n\n");
        assert_eq!(evs[0].event, "session");
        assert_eq!(evs[0].data, "{}");
    }
}
