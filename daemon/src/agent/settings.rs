//! Hooks in a JSON settings file, the shape Claude Code and Gemini CLI
//! share:
//!
//! ```json
//! {"hooks": {"Stop": [{"matcher": "*", "hooks": [{"type": "command", "command": "...", "timeout": 30}]}]}}
//! ```
//!
//! ao's hooks are merged into whatever the file holds (every other key and
//! every hook of the user's stays), recognised again by their command
//! (`<ao> hook <agent> <event>`, see [`is_hook_command`]), so installing
//! twice leaves one set and uninstalling takes out exactly ao's.

use super::files::WorkspaceFile;
use super::words::{hook_command, is_hook_command};
use super::{AgentError, AgentKind};
use serde_json::{Map, Value};
use std::path::Path;

/// One hook ao installs: on `event` (tool events: for every tool), run ao.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The agent's event name.
    pub event: &'static str,
    /// The group's matcher (`None`: the event takes none).
    pub matcher: Option<&'static str>,
}

impl Entry {
    /// A hook on `event`, which takes no matcher.
    pub const fn on(event: &'static str) -> Entry {
        Entry {
            event,
            matcher: None,
        }
    }

    /// A hook on a tool event, for every tool.
    pub const fn every_tool(event: &'static str) -> Entry {
        Entry {
            event,
            matcher: Some("*"),
        }
    }
}

/// How an agent's settings file is laid out for ao's hooks.
pub struct Layout {
    /// The agent.
    pub agent: AgentKind,
    /// The file, relative to the workspace.
    pub file: &'static str,
    /// The hooks.
    pub entries: &'static [Entry],
    /// Each hook's `timeout`, in the unit the agent reads it in.
    pub timeout: u64,
    /// Whether a file ao created is ao's alone, deleted on uninstall even if
    /// the agent wrote more into it (Claude Code's local settings: the
    /// permissions it remembers for that one worktree).
    pub owns_created_file: bool,
}

impl Layout {
    /// Merges ao's hooks into the workspace's settings file.
    pub fn install(&self, workspace: &Path, ao: &Path) -> Result<(), AgentError> {
        let file = WorkspaceFile::new(workspace, self.file);
        let current = file.read()?;
        let mut root = match &current {
            Some(text) => self.parse(&file.path(), text)?,
            None => Map::new(),
        };
        let had_ours = self.strip(&mut root);
        self.add(&file.path(), &mut root, ao)?;
        if let (Some(text), false) = (&current, had_ours) {
            // The user's own file, untouched by ao so far.
            file.keep_original(text)?;
        }
        file.write(&pretty(&root))
    }

    /// Writes the workspace's settings file as ao's own: the settings of
    /// `base` (another file's path and text, e.g. the machine's system
    /// settings the agent would otherwise read) with ao's hooks added.
    pub fn write_over(
        &self,
        workspace: &Path,
        base: Option<(&Path, &str)>,
        ao: &Path,
    ) -> Result<(), AgentError> {
        let file = WorkspaceFile::new(workspace, self.file);
        let mut root = match base {
            Some((path, text)) => self.parse(path, text)?,
            None => Map::new(),
        };
        self.strip(&mut root);
        self.add(&file.path(), &mut root, ao)?;
        file.write(&pretty(&root))
    }

    /// Adds one group per entry, running `<ao> hook <agent> <event>`, to
    /// the settings object read from `path`.
    fn add(&self, path: &Path, root: &mut Map<String, Value>, ao: &Path) -> Result<(), AgentError> {
        let hooks = object_at(root, "hooks")
            .ok_or_else(|| self.unmergeable(path, "`hooks` is not an object"))?;
        for e in self.entries {
            let groups = array_at(hooks, e.event).ok_or_else(|| {
                self.unmergeable(path, &format!("`hooks.{}` is not a list", e.event))
            })?;
            let mut group = Map::new();
            if let Some(m) = e.matcher {
                group.insert("matcher".into(), Value::from(m));
            }
            let hook = serde_json::json!({
                "type": "command",
                "command": hook_command(ao, self.agent, e.event),
                "timeout": self.timeout,
            });
            group.insert("hooks".into(), Value::Array(vec![hook]));
            groups.push(Value::Object(group));
        }
        Ok(())
    }

    /// Takes ao's hooks out again; see [`super::files`] for what becomes of the file.
    pub fn uninstall(&self, workspace: &Path) -> Result<(), AgentError> {
        let file = WorkspaceFile::new(workspace, self.file);
        let original = file.original()?;
        let Some(text) = file.read()? else {
            return file.remove();
        };
        let Ok(mut root) = self.parse(&file.path(), &text) else {
            // Not JSON any more: whoever changed it owns it now.
            return file.forget_original();
        };
        self.strip(&mut root);
        match original {
            Some(original) => {
                let unchanged = serde_json::from_str::<Value>(&original)
                    .is_ok_and(|v| v == Value::Object(root.clone()));
                let text = if unchanged { original } else { pretty(&root) };
                file.write(&text)?;
                file.forget_original()
            }
            None if root.is_empty() || self.owns_created_file => file.remove(),
            None => file.write(&pretty(&root)),
        }
    }

    fn parse(&self, path: &Path, text: &str) -> Result<Map<String, Value>, AgentError> {
        if text.trim().is_empty() {
            return Ok(Map::new());
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(self.unmergeable(path, "not a JSON object")),
            Err(e) => Err(self.unmergeable(path, &format!("not valid JSON: {e}"))),
        }
    }

    fn unmergeable(&self, path: &Path, why: &str) -> AgentError {
        AgentError::Unmergeable {
            path: path.to_owned(),
            why: format!(
                "{why}: ao cannot add {}'s hooks without clobbering it (fix the file, or remove it)",
                self.agent
            ),
        }
    }

    /// Removes ao's hooks (and the groups, events and `hooks` key they
    /// leave empty); whether there were any.
    fn strip(&self, root: &mut Map<String, Value>) -> bool {
        let Some(Value::Object(hooks)) = root.get_mut("hooks") else {
            return false;
        };
        let mut found = false;
        for groups in hooks.values_mut() {
            let Value::Array(list) = groups else { continue };
            list.retain_mut(|group| {
                let Some(Value::Array(inner)) = group.get_mut("hooks") else {
                    return true;
                };
                let before = inner.len();
                inner.retain(|h| !self.is_ours(h));
                found |= inner.len() != before;
                !(inner.is_empty() && before > 0)
            });
        }
        hooks.retain(|_, v| !matches!(v, Value::Array(a) if a.is_empty()));
        if hooks.is_empty() {
            root.remove("hooks");
        }
        found
    }

    fn is_ours(&self, hook: &Value) -> bool {
        hook.get("command")
            .and_then(Value::as_str)
            .is_some_and(|c| is_hook_command(c, self.agent))
    }
}

/// The object under `key`, created when absent (`None`: something else is there).
fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    match map.entry(key).or_insert_with(|| Value::Object(Map::new())) {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// The list under `key`, created when absent (`None`: something else is there).
fn array_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Vec<Value>> {
    match map.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(a) => Some(a),
        _ => None,
    }
}

fn pretty(root: &Map<String, Value>) -> String {
    let mut text = serde_json::to_string_pretty(root).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const LAYOUT: Layout = Layout {
        agent: AgentKind::ClaudeCode,
        file: ".claude/settings.local.json",
        entries: &[Entry::on("Stop"), Entry::every_tool("PreToolUse")],
        timeout: 30,
        owns_created_file: false,
    };

    fn workspace(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ao-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn hooks_of(ws: &Path) -> Value {
        let text = std::fs::read_to_string(ws.join(LAYOUT.file)).unwrap();
        serde_json::from_str::<Value>(&text).unwrap()["hooks"].clone()
    }

    #[test]
    fn install_merges_twice_into_one_set_and_uninstall_restores_the_exact_bytes() {
        let ws = workspace("merge");
        let ao = Path::new("/bin/ao");
        let users = "{\n  \"permissions\": {\"allow\": [\"Bash(ls)\"]},\n  \"hooks\": {\"Stop\": [{\"hooks\": [{\"type\": \"command\", \"command\": \"notify-send done\"}]}]}\n}";
        std::fs::create_dir_all(ws.join(".claude")).unwrap();
        std::fs::write(ws.join(LAYOUT.file), users).unwrap();
        LAYOUT.install(&ws, ao).unwrap();
        LAYOUT.install(&ws, ao).unwrap();
        let hooks = hooks_of(&ws);
        let stop = hooks["Stop"].as_array().unwrap();
        assert_eq!(stop.len(), 2, "the user's hook and one of ao's: {hooks}");
        assert_eq!(stop[0]["hooks"][0]["command"], "notify-send done");
        assert_eq!(
            stop[1]["hooks"][0]["command"],
            "/bin/ao hook claude-code Stop"
        );
        assert_eq!(hooks["PreToolUse"][0]["matcher"], "*");
        LAYOUT.uninstall(&ws).unwrap();
        assert_eq!(
            std::fs::read_to_string(ws.join(LAYOUT.file)).unwrap(),
            users
        );
        assert!(!ws.join(".ao").exists());
        let _ = std::fs::remove_dir_all(&ws);
    }

    #[test]
    fn a_file_ao_created_goes_and_a_changed_one_keeps_the_change() {
        let ws = workspace("created");
        LAYOUT.install(&ws, Path::new("ao")).unwrap();
        LAYOUT.uninstall(&ws).unwrap();
        assert!(!ws.join(".claude").exists(), "nothing of ao's is left");
        // Someone adds a key after the install: it survives, ao's hooks do not.
        LAYOUT.install(&ws, Path::new("ao")).unwrap();
        let path = ws.join(LAYOUT.file);
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        v["model"] = Value::from("opus");
        std::fs::write(&path, v.to_string()).unwrap();
        LAYOUT.uninstall(&ws).unwrap();
        let left: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(left, serde_json::json!({"model": "opus"}));
        let _ = std::fs::remove_dir_all(&ws);
    }

    #[test]
    fn a_file_that_is_not_a_settings_object_is_refused_and_left_alone() {
        let ws = workspace("bad");
        std::fs::create_dir_all(ws.join(".claude")).unwrap();
        for bad in [
            "[1, 2]",
            "{\"hooks\": [] }",
            "{\"hooks\": {\"Stop\": 3}}",
            "{oops",
        ] {
            std::fs::write(ws.join(LAYOUT.file), bad).unwrap();
            let e = LAYOUT.install(&ws, Path::new("ao")).unwrap_err();
            assert!(e.to_string().contains("without clobbering"), "{e}");
            assert_eq!(std::fs::read_to_string(ws.join(LAYOUT.file)).unwrap(), bad);
            assert!(
                !ws.join(".ao").exists(),
                "nothing kept for a refused install"
            );
        }
        let _ = std::fs::remove_dir_all(&ws);
    }
}
