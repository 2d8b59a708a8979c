//! A custom agent: `agent: {launch, resume, relaunch}` templates, exactly
//! as configured (every existing config keeps working). ao installs no hooks
//! for it: its commands call `ao hook activity --state ...` themselves, or
//! the terminal observer stands in.

use super::PromptStyle;
use ao_core::config::AgentSpec;

/// A generic prompt: an agent's `>`/`❯`/`›`, or a shell's `$`, `#`, `%`.
pub const PROMPT: PromptStyle = PromptStyle {
    starts: &[">", "❯", "›"],
    ends: &["$", "#", "%", ">"],
};

pub(super) fn spec(templates: &AgentSpec) -> AgentSpec {
    templates.clone()
}
