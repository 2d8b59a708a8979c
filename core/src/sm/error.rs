//! Why an operation could not be planned. Planning is pure validation before
//! any I/O, so every one of these errors means nothing was created.

use super::branch::BranchRule;
use super::command::TemplateError;
use crate::domain::{ProjectId, SessionId};

/// A rejected spawn, restore or kill request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmError {
    /// The project is not configured.
    #[error("unknown project `{0}`")]
    UnknownProject(ProjectId),
    /// The project has no agent to launch (none configured, or an empty launch command).
    #[error("project `{0}` has no agent launch command configured")]
    NoAgent(ProjectId),
    /// The agent's command template cannot be expanded.
    #[error("the agent command of project `{project}` is invalid: {error}")]
    BadCommand {
        /// The project.
        project: ProjectId,
        /// What is wrong with the template.
        error: TemplateError,
    },
    /// The branch name breaks git's ref-format rules.
    #[error("invalid branch name {branch:?}: {rule}")]
    InvalidBranch {
        /// The name given.
        branch: String,
        /// The rule it breaks.
        rule: BranchRule,
    },
    /// A record with this id exists; a spawn never reuses or overwrites one.
    #[error("session id `{0}` is already in use")]
    IdInUse(SessionId),
    /// No such session.
    #[error("no session `{0}`")]
    NotFound(SessionId),
    /// Only a terminal session can be restored: restoring a live one would start a second agent.
    #[error("session `{0}` is not terminal: restoring it would start a second agent")]
    NotTerminal(SessionId),
    /// The agent can neither resume this session nor relaunch it from a stored prompt.
    #[error("session `{session}` is not resumable: {why}")]
    NotResumable {
        /// The session.
        session: SessionId,
        /// What is missing.
        why: String,
    },
}
