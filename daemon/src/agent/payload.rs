//! The payload Claude Code, Gemini CLI and Codex hooks pass on standard
//! input: one JSON object with `hook_event_name`, `session_id`,
//! `transcript_path`, `cwd` and per-event fields. Only what the mapping
//! reads is parsed; anything else in it (tool inputs and outputs can be
//! large) is skipped.

use super::Rejected;
use serde::Deserialize;

/// The fields of a hook payload the mapping reads.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HookInput {
    /// The event that fired (must match the one the hook was installed for).
    #[serde(default)]
    pub hook_event_name: Option<String>,
    /// The agent's own session id.
    #[serde(default)]
    pub session_id: Option<String>,
    /// `Notification`: what kind (`permission_prompt`, `idle_prompt`, ...).
    #[serde(default)]
    pub notification_type: Option<String>,
    /// `SessionEnd`: why (`clear`, `logout`, `prompt_input_exit`, `other`, ...).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Parses a stdin payload for `event`: a JSON object whose
/// `hook_event_name`, when present, names `event`.
pub fn parse(event: &str, payload: &str) -> Result<HookInput, Rejected> {
    if payload.trim().is_empty() {
        return Err(Rejected::Malformed(format!(
            "no payload for `{event}` on standard input"
        )));
    }
    let input: HookInput = serde_json::from_str(payload)
        .map_err(|e| Rejected::Malformed(format!("`{event}`: not a JSON object: {e}")))?;
    match input.hook_event_name.as_deref() {
        Some(named) if named != event => Err(Rejected::Malformed(format!(
            "the hook for `{event}` received a `{named}` payload"
        ))),
        _ => Ok(input),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn payloads_must_be_objects_for_the_hooks_event() {
        let ok = parse(
            "Stop",
            r#"{"hook_event_name":"Stop","session_id":"s","x":[1,2]}"#,
        );
        assert_eq!(ok.unwrap().session_id.as_deref(), Some("s"));
        for bad in ["", "  ", "[1]", "{", r#"{"hook_event_name":"SessionEnd"}"#] {
            assert!(
                matches!(parse("Stop", bad), Err(Rejected::Malformed(_))),
                "{bad:?}"
            );
        }
    }
}
