//! OpenCode (`opencode`).
//!
//! Protocol (opencode.ai/docs/plugins, and its loader in
//! anomalyco/opencode `packages/opencode/src/plugin`): every `*.js`/`*.ts`
//! file in a project's `.opencode/plugins/` (or `plugin/`) is loaded at
//! start; a file plugin default-exports `{id, server}` (versions up to 1.3.3
//! call every export instead, hence the named export too) and `server()`
//! returns hooks, among them `event`, called with every bus event `{type,
//! properties}`. ao's plugin forwards the events that mean something to
//! `ao hook opencode <type>` (the event as JSON on standard input), for the
//! session the user works in: sessions a task spawns (a `parentID`) are
//! left out. OpenCode has no event for exiting: that is the reaper's.
//!
//! Launch `opencode [args] --prompt <prompt>`; resume `opencode [args]
//! --session <id>` with the id of the session its `session.created` reported.

use super::files::WorkspaceFile;
use super::words::resumable;
use super::{custom, AgentError, AgentKind, PromptStyle, Rejected, Report};
use ao_core::config::AgentSpec;
use ao_core::domain::ActivityState;
use serde::Deserialize;
use std::path::Path;

/// The plugin ao writes.
pub const PLUGIN: &str = ".opencode/plugins/ao-hooks.js";

/// The plugin's first line: how ao knows the file is its own.
const MARKER: &str = "// ao-hooks: written by ao";

/// The events the plugin forwards.
const FORWARDED: [&str; 7] = [
    "session.created",
    "session.status",
    "session.idle",
    "permission.updated",
    "permission.asked",
    "permission.replied",
    "question.asked",
];

/// A TUI without a fixed prompt character: the generic markers.
pub const PROMPT: PromptStyle = custom::PROMPT;

pub(super) fn spec(args: &[String]) -> AgentSpec {
    let program = AgentKind::OpenCode.program();
    let resume = ["--session", "{agent_session_id}"];
    resumable(program, args, &["--prompt", "{prompt}"], &resume)
}

/// The plugin, calling back the ao binary at `ao`.
fn plugin(ao: &Path) -> String {
    let ao = serde_json::Value::from(ao.to_string_lossy().as_ref()).to_string();
    let forwarded = serde_json::Value::from(FORWARDED.to_vec()).to_string();
    format!(
        r#"{MARKER} for this session; it deletes this file when it cleans the session up.
// Forwards OpenCode's events to `ao hook opencode <event>` (the event as JSON on stdin).
import {{ spawn }} from "node:child_process";

const AO = {ao};
const FORWARDED = new Set({forwarded});
// The sessions the user works in (a task's own sessions have a parentID).
const roots = new Set();

function forward(event) {{
  try {{
    const child = spawn(AO, ["hook", "opencode", event.type], {{ stdio: ["pipe", "ignore", "ignore"] }});
    child.on("error", () => {{}});
    child.stdin.on("error", () => {{}});
    child.stdin.end(JSON.stringify(event));
  }} catch {{}}
}}

async function server() {{
  return {{
    event: async ({{ event }}) => {{
      if (!event || !FORWARDED.has(event.type)) return;
      const props = event.properties || {{}};
      if (event.type === "session.created") {{
        const info = props.info || {{}};
        if (info.parentID) return;
        roots.add(info.id);
      }} else if (props.sessionID && roots.size > 0 && !roots.has(props.sessionID)) {{
        return;
      }}
      forward(event);
    }},
  }};
}}

export const AoHooks = server;
export default {{ id: "ao-hooks", server }};
"#
    )
}

pub(super) fn install(workspace: &Path, ao: &Path) -> Result<(), AgentError> {
    let file = WorkspaceFile::new(workspace, PLUGIN);
    if let Some(text) = file.read()? {
        if !text.starts_with(MARKER) {
            return Err(AgentError::Unmergeable {
                path: file.path(),
                why: "a plugin of that name that ao did not write is there: ao leaves it alone and installs no hooks".to_owned(),
            });
        }
    }
    file.write(&plugin(ao))
}

pub(super) fn uninstall(workspace: &Path) -> Result<(), AgentError> {
    let file = WorkspaceFile::new(workspace, PLUGIN);
    match file.read()? {
        Some(text) if text.starts_with(MARKER) => file.remove(),
        _ => Ok(()),
    }
}

/// One bus event, as the plugin forwards it (only what the mapping reads).
#[derive(Deserialize)]
struct BusEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    properties: Properties,
}

#[derive(Default, Deserialize)]
struct Properties {
    #[serde(default)]
    info: Option<SessionInfo>,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Deserialize)]
struct SessionInfo {
    id: String,
}

#[derive(Deserialize)]
struct Status {
    #[serde(rename = "type")]
    kind: String,
}

/// session.created (naming the session) → active; session.status busy or
/// retry → active, idle → ready; session.idle → ready; a permission asked →
/// waiting_input, answered → active.
pub(super) fn read_hook(event: &str, text: &str) -> Result<Report, Rejected> {
    use ActivityState::{Active, Ready, WaitingInput};
    let bus: BusEvent =
        serde_json::from_str(text).map_err(|e| Rejected::Malformed(format!("`{event}`: {e}")))?;
    if bus.kind != event {
        return Err(Rejected::Malformed(format!(
            "the hook for `{event}` received a `{}` event",
            bus.kind
        )));
    }
    let p = bus.properties;
    Ok(match event {
        "session.created" => Report::state(Active).identified(p.info.map(|i| i.id)),
        "session.status" => match p.status.map(|s| s.kind).as_deref() {
            Some("busy" | "retry") => Report::state(Active),
            Some("idle") => Report::state(Ready),
            other => {
                return Err(Rejected::Malformed(format!(
                    "`session.status` without a known status: {other:?}"
                )))
            }
        },
        "session.idle" => Report::state(Ready),
        "permission.updated" | "permission.asked" | "question.asked" => Report::state(WaitingInput),
        "permission.replied" => Report::state(Active),
        other => return Err(Rejected::UnknownEvent(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn events_map_to_activity() {
        let created = read_hook(
            "session.created",
            r#"{"type":"session.created","properties":{"info":{"id":"ses_1","title":"t"}}}"#,
        )
        .unwrap();
        assert_eq!(created.agent_session_id.as_deref(), Some("ses_1"));
        let busy = r#"{"type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"busy"}}}"#;
        assert_eq!(
            read_hook("session.status", busy).unwrap().state,
            Some(ActivityState::Active)
        );
        let idle = r#"{"type":"session.idle","properties":{"sessionID":"ses_1"}}"#;
        assert_eq!(
            read_hook("session.idle", idle).unwrap().state,
            Some(ActivityState::Ready)
        );
        assert!(matches!(
            read_hook("session.idle", busy),
            Err(Rejected::Malformed(_))
        ));
        let odd = r#"{"type":"file.edited","properties":{}}"#;
        assert!(matches!(
            read_hook("file.edited", odd),
            Err(Rejected::UnknownEvent(_))
        ));
    }

    #[test]
    fn the_plugin_is_replaced_but_never_someone_elses() {
        let ws = std::env::temp_dir().join(format!("ao-opencode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&ws);
        std::fs::create_dir_all(&ws).unwrap();
        install(&ws, Path::new("/bin/ao")).unwrap();
        install(&ws, Path::new("/bin/ao")).unwrap();
        let text = std::fs::read_to_string(ws.join(PLUGIN)).unwrap();
        assert!(text.contains("const AO = \"/bin/ao\";"), "{text}");
        uninstall(&ws).unwrap();
        assert!(!ws.join(".opencode").exists());
        std::fs::create_dir_all(ws.join(".opencode/plugins")).unwrap();
        std::fs::write(ws.join(PLUGIN), "export default {}").unwrap();
        assert!(install(&ws, Path::new("/bin/ao")).is_err());
        uninstall(&ws).unwrap();
        assert!(ws.join(PLUGIN).exists(), "a file ao did not write stays");
        let _ = std::fs::remove_dir_all(&ws);
    }
}
