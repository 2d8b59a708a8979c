//! Gemini CLI (`gemini`).
//!
//! Protocol (Gemini CLI's hooks reference, docs/hooks/reference.md in
//! google-gemini/gemini-cli): hooks live in settings files under
//! `hooks.<Event>`, groups `{matcher, hooks: [{type: "command", command,
//! timeout (ms)}]}`. A hook gets one JSON object on standard input
//! (`session_id`, `transcript_path`, `cwd`, `hook_event_name`, `timestamp`,
//! and per event `source` for `SessionStart` — startup, resume, clear —,
//! `reason` for `SessionEnd` — exit, clear, logout, prompt_input_exit,
//! other —, `notification_type` for `Notification` — ToolPermission). Its
//! standard output is parsed as JSON, so `ao hook` prints nothing there.
//! With environment redaction on, Gemini withholds variables whose names
//! look secret (`AO_TOKEN` among them) from hooks: `ao hook` then finds the
//! daemon's token through `AO_DATA_DIR`.
//!
//! Where ao puts its hooks: not in the project's `.gemini/settings.json`
//! (often a tracked file, which an agent committing with `-a` would commit
//! with ao's hooks in it, and read only in a folder the user trusted), but
//! in the **system settings** layer, whose file Gemini reads from
//! `GEMINI_CLI_SYSTEM_SETTINGS_PATH` when that is set (its configuration
//! reference; other supervisors use it the same way). That layer is read
//! in every folder and its `hooks.<Event>` lists are concatenated with the
//! user's and the project's (`MergeStrategy.CONCAT` in Gemini's settings
//! schema), so theirs still run. ao's file, `.ao/gemini-settings.json` in
//! the workspace (daemon-written, never work), starts as a copy of the
//! machine's own system settings (Gemini would no longer read those), with
//! ao's hooks added.
//!
//! Launch `gemini [args] --prompt-interactive <prompt>`; resume `gemini
//! [args] --resume <session_id>` with the id its `SessionStart` reported;
//! each through `sh -c` setting the settings path from the workspace.

use super::files::{self, WorkspaceFile};
use super::payload;
use super::settings::{Entry, Layout};
use super::words::{literal, sh_script};
use super::{AgentError, AgentKind, PromptStyle, Rejected, Report};
use ao_core::config::AgentSpec;
use ao_core::domain::ActivityState;
use std::path::{Path, PathBuf};

/// The settings file ao writes, Gemini's system settings for this session.
pub const SETTINGS: &str = ".ao/gemini-settings.json";

/// Where Gemini looks for its system settings file when this is set.
const SYSTEM_SETTINGS_VAR: &str = "GEMINI_CLI_SYSTEM_SETTINGS_PATH";

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
    owns_created_file: true,
};

/// Its idle screen: the input box `> Type your message`.
pub const PROMPT: PromptStyle = PromptStyle {
    starts: &[">"],
    ends: &[],
};

/// `$0` is the program's name; the user's arguments and the mode follow.
const SCRIPT: &str =
    "GEMINI_CLI_SYSTEM_SETTINGS_PATH=\"$PWD/.ao/gemini-settings.json\" exec gemini \"$@\"";

/// `sh -c SCRIPT gemini [args] rest…`.
fn through_script(args: &[String], rest: &[&str]) -> String {
    let user: Vec<String> = args.iter().map(|a| literal(a)).collect();
    let mut words: Vec<&str> = user.iter().map(String::as_str).collect();
    words.extend(rest);
    sh_script(SCRIPT, AgentKind::Gemini.program(), &words)
}

pub(super) fn spec(args: &[String]) -> AgentSpec {
    AgentSpec {
        launch: through_script(args, &["--prompt-interactive", "{prompt}"]),
        resume: Some(through_script(args, &["--resume", "{agent_session_id}"])),
        relaunch: true,
    }
}

/// The machine's system settings file, where Gemini would read it (the
/// daemon's environment is the agent's).
fn system_settings() -> PathBuf {
    if let Some(path) = std::env::var_os(SYSTEM_SETTINGS_VAR).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/GeminiCli/settings.json")
    } else {
        PathBuf::from("/etc/gemini-cli/settings.json")
    }
}

pub(super) fn install(workspace: &Path, ao: &Path) -> Result<(), AgentError> {
    install_over(workspace, &system_settings(), ao)
}

/// Writes ao's settings file: `system`'s settings, if there is such a file,
/// with ao's hooks added.
/// (ao hooks already in it, e.g. when the daemon runs inside another ao's
/// session, are left out).
fn install_over(workspace: &Path, system: &Path, ao: &Path) -> Result<(), AgentError> {
    let text = files::read(system)?;
    LAYOUT.write_over(workspace, text.as_deref().map(|t| (system, t)), ao)
}

pub(super) fn uninstall(workspace: &Path) -> Result<(), AgentError> {
    WorkspaceFile::new(workspace, SETTINGS).remove()
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
    fn the_machines_system_settings_are_kept_and_nothing_goes_into_the_project() {
        let root = std::env::temp_dir().join(format!("ao-gemini-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let ws = root.join("ws");
        std::fs::create_dir_all(ws.join(".gemini")).unwrap();
        let project = r#"{"hooks": {"AfterAgent": [{"hooks": [{"type": "command", "command": "notify-send"}]}]}}"#;
        std::fs::write(ws.join(".gemini/settings.json"), project).unwrap();
        let system = root.join("system-settings.json");
        let admin = r#"{"security": {"auth": {"enforcedType": "oauth-personal"}}, "hooks": {"AfterAgent": [{"hooks": [{"type": "command", "command": "audit"}]}]}}"#;
        std::fs::write(&system, admin).unwrap();
        install_over(&ws, &system, Path::new("/bin/ao")).unwrap();
        install_over(&ws, &system, Path::new("/bin/ao")).unwrap();
        let text = std::fs::read_to_string(ws.join(SETTINGS)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["security"]["auth"]["enforcedType"], "oauth-personal");
        let after = v["hooks"]["AfterAgent"].as_array().unwrap();
        assert_eq!(after.len(), 2, "the admin's hook and one of ao's: {text}");
        assert_eq!(after[0]["hooks"][0]["command"], "audit");
        assert_eq!(
            after[1]["hooks"][0]["command"],
            "/bin/ao hook gemini AfterAgent"
        );
        assert_eq!(
            std::fs::read_to_string(ws.join(".gemini/settings.json")).unwrap(),
            project,
            "the project's settings are not ao's to touch"
        );
        uninstall(&ws).unwrap();
        assert!(!ws.join(".ao").exists(), "nothing of ao's is left");
        assert_eq!(std::fs::read_to_string(&system).unwrap(), admin);
        // No system settings on the machine: ao's hooks alone.
        install_over(&ws, &root.join("absent.json"), Path::new("/bin/ao")).unwrap();
        let text = std::fs::read_to_string(ws.join(SETTINGS)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 1, "{text}");
        // A system file that is not settings is an error naming it.
        std::fs::write(&system, "{oops").unwrap();
        let e = install_over(&ws, &system, Path::new("/bin/ao")).unwrap_err();
        assert!(e.to_string().contains("system-settings.json"), "{e}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn the_settings_path_is_set_from_the_workspace_and_the_prompt_is_one_word() {
        let s = spec(&["--model".into(), "pro".into()]);
        assert_eq!(
            s.launch,
            "sh -c 'GEMINI_CLI_SYSTEM_SETTINGS_PATH=\"$PWD/.ao/gemini-settings.json\" exec gemini \"$@\"' gemini --model pro --prompt-interactive {prompt}"
        );
        assert!(s
            .resume
            .unwrap()
            .ends_with(" gemini --model pro --resume {agent_session_id}"));
    }

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
