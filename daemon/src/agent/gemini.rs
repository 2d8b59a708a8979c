//! Gemini CLI (`gemini`).
//!
//! Protocol (Gemini CLI's hooks reference, docs/hooks/reference.md in
//! google-gemini/gemini-cli): hooks live in `settings.json` under
//! `hooks.<Event>`, groups `{matcher, hooks: [{type: "command", command,
//! timeout (ms)}]}`, merged from the project's `.gemini/settings.json`, the
//! user's and the system's. A hook gets one JSON object on standard input
//! (`session_id`, `transcript_path`, `cwd`, `hook_event_name`, `timestamp`,
//! and per event `source` for `SessionStart` — startup, resume, clear —,
//! `reason` for `SessionEnd` — exit, clear, logout, prompt_input_exit,
//! other —, `notification_type` for `Notification` — ToolPermission). Its
//! standard output is parsed as JSON, so `ao hook` prints nothing there.
//! Gemini runs project hooks only in a trusted folder (and warns once about
//! new ones), and with environment redaction on it withholds variables
//! whose names look secret, `AO_TOKEN` among them (see the README).
//!
//! Launch `gemini [args] --prompt-interactive <prompt>`; resume `gemini
//! [args] --resume <session_id>` with the id its `SessionStart` reported.

use super::payload;
use super::settings::{Entry, Layout};
use super::words::resumable;
use super::{AgentKind, PromptStyle, Rejected, Report};
use ao_core::config::AgentSpec;
use ao_core::domain::ActivityState;

/// The settings file ao merges its hooks into.
pub const SETTINGS: &str = ".gemini/settings.json";

pub(super) const LAYOUT: Layout = Layout {
    agent: AgentKind::Gemini,
    file: SETTINGS,
    entries: &[
        Entry::on("SessionStart"),
        Entry::on("BeforeAgent"),
        Entry::every_tool("BeforeTool"),
        Entry::every_tool("AfterTool"),
        Entry::on("Notification"),
        Entry::on("AfterAgent"),
        Entry::on("SessionEnd"),
    ],
    // Milliseconds.
    timeout: 30_000,
    // The project's shared settings: whatever else is written there is the user's.
    owns_created_file: false,
};

/// Its idle screen: the input box `> Type your message`.
pub const PROMPT: PromptStyle = PromptStyle {
    starts: &[">"],
    ends: &[],
};

pub(super) fn spec(args: &[String]) -> AgentSpec {
    let program = AgentKind::Gemini.program();
    let launch = ["--prompt-interactive", "{prompt}"];
    resumable(program, args, &launch, &["--resume", "{agent_session_id}"])
}

/// SessionStart (naming the session), a prompt or a tool → active; a
/// permission notification → waiting_input; AfterAgent (the turn's final
/// answer) → ready; SessionEnd → exited, except for `/clear`.
pub(super) fn read_hook(event: &str, text: &str) -> Result<Report, Rejected> {
    let input = payload::parse(event, text)?;
    use ActivityState::{Active, Exited, Ready, WaitingInput};
    Ok(match event {
        "SessionStart" => Report::state(Active).identified(input.session_id),
        "BeforeAgent" | "BeforeTool" | "AfterTool" => Report::state(Active),
        "Notification" => Report::state(WaitingInput),
        "AfterAgent" => Report::state(Ready),
        "SessionEnd" => match input.reason.as_deref() {
            Some("clear") => Report::nothing(),
            _ => Report::state(Exited),
        },
        "BeforeModel" | "AfterModel" | "BeforeToolSelection" | "PreCompress" => Report::nothing(),
        other => return Err(Rejected::UnknownEvent(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn events_map_to_activity() {
        let start = read_hook(
            "SessionStart",
            r#"{"session_id":"g-1","hook_event_name":"SessionStart","source":"startup","timestamp":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(start.state, Some(ActivityState::Active));
        assert_eq!(start.agent_session_id.as_deref(), Some("g-1"));
        let perm = read_hook(
            "Notification",
            r#"{"hook_event_name":"Notification","notification_type":"ToolPermission","message":"m","details":{}}"#,
        )
        .unwrap();
        assert_eq!(perm.state, Some(ActivityState::WaitingInput));
        let end = read_hook(
            "SessionEnd",
            r#"{"hook_event_name":"SessionEnd","reason":"exit"}"#,
        );
        assert_eq!(end.unwrap().state, Some(ActivityState::Exited));
        assert!(read_hook("Stop", "{}").is_err());
    }
}
