//! Claude Code (`claude`).
//!
//! Protocol (Claude Code's hooks reference, code.claude.com/docs/en/hooks):
//! hooks live in settings files under `hooks.<Event>`, a list of groups
//! `{matcher, hooks: [{type: "command", command, timeout}]}`; the project's
//! personal, git-ignored `.claude/settings.local.json` is read along with
//! the user's and the project's settings, and hooks from every file run. A
//! command hook gets the event as one JSON object on standard input:
//! `session_id`, `transcript_path`, `cwd`, `hook_event_name`, and per event
//! `source` (`SessionStart`: startup, resume, clear, compact),
//! `notification_type` and `message` (`Notification`: permission_prompt,
//! idle_prompt, elicitation_dialog, auth_success) or `reason` (`SessionEnd`:
//! clear, logout, prompt_input_exit, other). Whatever a hook prints on
//! standard output may be added to Claude's context, so `ao hook` prints
//! nothing there; exit code 0 lets Claude carry on.
//!
//! Launch `claude [args] <prompt>` (interactive, with the task as the first
//! message); resume `claude [args] --resume <session_id>` with the id its
//! `SessionStart` hook reported; relaunch fresh from the stored prompt.

use super::payload;
use super::settings::{Entry, Layout};
use super::words::resumable;
use super::{AgentKind, PromptStyle, Rejected, Report};
use ao_core::config::AgentSpec;
use ao_core::domain::ActivityState;

/// The settings file ao merges its hooks into.
pub const SETTINGS: &str = ".claude/settings.local.json";

/// Tool events take a matcher (`*`: every tool); the others take none.
pub(super) const LAYOUT: Layout = Layout {
    agent: AgentKind::ClaudeCode,
    file: SETTINGS,
    entries: &[
        Entry::on("SessionStart"),
        Entry::on("UserPromptSubmit"),
        Entry::every_tool("PreToolUse"),
        Entry::every_tool("PostToolUse"),
        Entry::on("Notification"),
        Entry::on("Stop"),
        Entry::on("SessionEnd"),
    ],
    // Seconds.
    timeout: 30,
    // Claude writes the permissions a user grants "for this project" into
    // this file: session state, not work, so a worktree can still be freed.
    owns_created_file: true,
};

/// Its idle screen: the input box (`> `, or `❯ ` in newer versions) above a status line.
pub const PROMPT: PromptStyle = PromptStyle {
    starts: &[">", "❯"],
    ends: &[],
};

pub(super) fn spec(args: &[String]) -> AgentSpec {
    let program = AgentKind::ClaudeCode.program();
    resumable(
        program,
        args,
        &["{prompt}"],
        &["--resume", "{agent_session_id}"],
    )
}

/// SessionStart, a prompt or a tool → active (SessionStart also names the
/// session); Stop → ready; a permission, idle or elicitation notification →
/// waiting_input; SessionEnd → exited, except for `/clear` (a new session
/// starts at once).
pub(super) fn read_hook(event: &str, text: &str) -> Result<Report, Rejected> {
    let input = payload::parse(event, text)?;
    use ActivityState::{Active, Exited, Ready, WaitingInput};
    Ok(match event {
        "SessionStart" => Report::state(Active).identified(input.session_id),
        "UserPromptSubmit" | "PreToolUse" | "PostToolUse" | "PostToolUseFailure" => {
            Report::state(Active)
        }
        "PermissionRequest" => Report::state(WaitingInput),
        "Notification" => match input.notification_type.as_deref() {
            // Before notification types existed every notification was one of these.
            None | Some("permission_prompt" | "idle_prompt" | "elicitation_dialog") => {
                Report::state(WaitingInput)
            }
            Some(_) => Report::nothing(),
        },
        "Stop" => Report::state(Ready),
        "SessionEnd" => match input.reason.as_deref() {
            Some("clear" | "resume") => Report::nothing(),
            _ => Report::state(Exited),
        },
        "SubagentStop" | "PreCompact" => Report::nothing(),
        other => return Err(Rejected::UnknownEvent(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hook(event: &str, extra: &str) -> Result<Report, Rejected> {
        let text = format!(
            r#"{{"session_id":"abc","transcript_path":"/t.jsonl","cwd":"/w","hook_event_name":"{event}"{extra}}}"#
        );
        read_hook(event, &text)
    }

    #[test]
    fn events_map_to_activity() {
        let start = hook("SessionStart", r#","source":"startup""#).unwrap();
        assert_eq!(start.state, Some(ActivityState::Active));
        assert_eq!(start.agent_session_id.as_deref(), Some("abc"));
        assert_eq!(
            hook("PreToolUse", r#","tool_name":"Bash""#).unwrap().state,
            Some(ActivityState::Active)
        );
        assert_eq!(hook("Stop", "").unwrap().state, Some(ActivityState::Ready));
        for t in ["permission_prompt", "idle_prompt", "elicitation_dialog"] {
            let n = hook("Notification", &format!(r#","notification_type":"{t}""#)).unwrap();
            assert_eq!(n.state, Some(ActivityState::WaitingInput), "{t}");
        }
        let auth = hook("Notification", r#","notification_type":"auth_success""#).unwrap();
        assert_eq!(auth, Report::nothing());
        assert_eq!(
            hook("SessionEnd", r#","reason":"clear""#).unwrap(),
            Report::nothing()
        );
        let end = hook("SessionEnd", r#","reason":"prompt_input_exit""#).unwrap();
        assert_eq!(end.state, Some(ActivityState::Exited));
        assert_eq!(
            hook("Bogus", "").unwrap_err(),
            Rejected::UnknownEvent("Bogus".into())
        );
        assert!(matches!(
            read_hook("Stop", "not json"),
            Err(Rejected::Malformed(_))
        ));
    }

    #[test]
    fn the_prompt_is_one_shell_word_and_resume_names_the_session() {
        let s = spec(&["--model".into(), "opus".into()]);
        assert_eq!(s.launch, "claude --model opus {prompt}");
        assert_eq!(
            s.resume.as_deref(),
            Some("claude --model opus --resume {agent_session_id}")
        );
    }
}
