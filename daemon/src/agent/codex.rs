//! Codex CLI (`codex`).
//!
//! Protocol: Codex reads hooks from `hooks.json` files or inline `[hooks]`
//! tables of its config layers, with the shape Claude Code uses
//! (`hooks.<Event> = [{matcher, hooks = [{type = "command", command,
//! timeout}]}]`, the event as JSON on standard input: `session_id`,
//! `hook_event_name`, `cwd`, ...; Codex's config-advanced and hooks docs).
//! A project's own `.codex/` layer is read only when the project is trusted,
//! which a fresh linked worktree is not, so ao passes its hooks on the
//! command line instead (`-c key=value`, a TOML value, the highest-priority
//! layer), together with the legacy `notify` program: Codex runs it after
//! every turn with one JSON argument, `{"type": "agent-turn-complete",
//! "thread-id", "turn-id", "cwd", "input-messages",
//! "last-assistant-message"}` (Codex's config docs, "notify"). Hooks need
//! `features.codex_hooks` on older builds (an alias of `features.hooks` on
//! newer ones, where they are on by default). Newer builds run a hook only
//! after the user reviewed and trusted it (`/hooks`; developers.openai.com/
//! codex/hooks): the definitions ao passes are the same for every session,
//! so trusting them once holds; `notify` needs no trust. Newer builds also
//! have `SessionEnd`, which older ones may not accept, so
//! ao passes none: an exit is the reaper's to see.
//!
//! Launch `codex [-c ...] [args] <prompt>`; resume `codex [-c ...] [args]
//! resume <session_id>` with the thread id its hooks reported.

use super::payload;
use super::words::{hook_command, resumable};
use super::{AgentKind, PromptStyle, Rejected, Report};
use ao_core::config::AgentSpec;
use ao_core::domain::ActivityState;
use serde::Deserialize;
use std::path::Path;

/// The event name `ao hook codex` gets from the `notify` program.
pub const NOTIFY: &str = "notify";

/// The hook events ao passes (no matcher: every tool).
const EVENTS: [&str; 6] = [
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PermissionRequest",
    "Stop",
];

/// Seconds a hook may take.
const TIMEOUT: u64 = 30;

/// Its idle screen: the composer's `›` prompt.
pub const PROMPT: PromptStyle = PromptStyle {
    starts: &["›", ">"],
    ends: &[],
};

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `-c` overrides that wire Codex to ao (command-line words, unquoted).
fn overrides(ao: &Path) -> Vec<String> {
    let ao_text = ao.to_string_lossy();
    let notify = [ao_text.as_ref(), "hook", AgentKind::Codex.name(), NOTIFY]
        .map(toml_string)
        .join(",");
    let mut values = vec![
        format!("notify=[{notify}]"),
        "features.codex_hooks=true".to_owned(),
    ];
    for event in EVENTS {
        let command = toml_string(&hook_command(ao, AgentKind::Codex, event));
        values.push(format!(
            "hooks.{event}=[{{hooks=[{{type=\"command\",command={command},timeout={TIMEOUT}}}]}}]"
        ));
    }
    values
        .iter()
        .flat_map(|v| ["-c".to_owned(), v.clone()])
        .collect()
}

pub(super) fn spec(args: &[String], ao: &Path) -> AgentSpec {
    let mut all = overrides(ao);
    all.extend(args.iter().cloned());
    let program = AgentKind::Codex.program();
    resumable(
        program,
        &all,
        &["{prompt}"],
        &["resume", "{agent_session_id}"],
    )
}

/// The notify program's argument (only what the mapping reads).
#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, rename = "thread-id")]
    thread_id: Option<String>,
}

/// `notify` agent-turn-complete → ready (naming the thread); hooks:
/// SessionStart (naming the session), a prompt or a tool → active; a
/// permission request → waiting_input; Stop → ready.
pub(super) fn read_hook(event: &str, text: &str) -> Result<Report, Rejected> {
    use ActivityState::{Active, Ready, WaitingInput};
    if event == NOTIFY {
        let n: Notification = serde_json::from_str(text)
            .map_err(|e| Rejected::Malformed(format!("`notify`: {e}")))?;
        return match n.kind.as_str() {
            "agent-turn-complete" => Ok(Report::state(Ready).identified(n.thread_id)),
            other => Err(Rejected::UnknownEvent(format!("notify type `{other}`"))),
        };
    }
    let input = payload::parse(event, text)?;
    Ok(match event {
        "SessionStart" => Report::state(Active).identified(input.session_id),
        "UserPromptSubmit" | "PreToolUse" | "PostToolUse" => Report::state(Active),
        "PermissionRequest" => Report::state(WaitingInput),
        "Stop" => Report::state(Ready),
        other => return Err(Rejected::UnknownEvent(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn notify_names_the_thread_and_hooks_map_to_activity() {
        let n = read_hook(
            NOTIFY,
            r#"{"type":"agent-turn-complete","thread-id":"t-9","turn-id":"1","cwd":"/w","input-messages":["x"],"last-assistant-message":"done"}"#,
        )
        .unwrap();
        assert_eq!(n.state, Some(ActivityState::Ready));
        assert_eq!(n.agent_session_id.as_deref(), Some("t-9"));
        assert!(matches!(
            read_hook(NOTIFY, r#"{"type":"approval-requested"}"#),
            Err(Rejected::UnknownEvent(_))
        ));
        assert!(matches!(
            read_hook(NOTIFY, "{"),
            Err(Rejected::Malformed(_))
        ));
        let perm = read_hook(
            "PermissionRequest",
            r#"{"hook_event_name":"PermissionRequest"}"#,
        );
        assert_eq!(perm.unwrap().state, Some(ActivityState::WaitingInput));
    }

    #[test]
    fn the_overrides_are_toml_in_one_shell_word_each() {
        let s = spec(&[], Path::new("/x y/ao"));
        assert!(
            s.launch.starts_with(
                "codex -c 'notify=[\"/x y/ao\",\"hook\",\"codex\",\"notify\"]' -c features.codex_hooks=true -c "
            ),
            "{}",
            s.launch
        );
        assert!(
            s.launch.contains(
                "'hooks.Stop=[{{hooks=[{{type=\"command\",command=\"'\\''/x y/ao'\\'' hook codex Stop\",timeout=30}}]}}]'"
            ),
            "{}",
            s.launch
        );
        assert!(s.launch.ends_with(" {prompt}"));
        assert!(s.resume.unwrap().ends_with(" resume {agent_session_id}"));
    }
}
