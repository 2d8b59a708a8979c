//! Tearing down a session's resources, shared by kill, cleanup and rollbacks:
//! the runtime first (stop the agent), then the workspace, then, if asked, tell
//! the record what was freed. A workspace is never deleted while its runtime
//! may still run, and a dirty one is never forced. Destroys are best effort;
//! the hand-off to the record (`Released`) is not given up when the store
//! fails (it stalls and is asked again, like a rollback's record writes), so
//! the record never keeps naming what no longer exists because of a store
//! hiccup; only a refusal (the record is gone) settles without it.

use super::action::{Action, Outcome, Progress};
use super::result::Fate;
use crate::domain::{Handle, SessionId};
use crate::lcm::Event;
use serde::{Deserialize, Serialize};

/// The teardown of one session's runtime and workspace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Teardown {
    session: SessionId,
    workspace: Option<Handle>,
    /// Report `Released` to the record at the end (kill, cleanup; not rollbacks,
    /// whose spawn never reported the handles).
    release: bool,
    stage: Stage,
    runtime_fate: Fate,
    workspace_fate: Fate,
    release_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Stage {
    DestroyRuntime(Handle),
    DestroyWorkspace(Handle),
    Release,
    Finished,
}

impl Teardown {
    /// Plans the teardown; only handles that exist can ever reach a destroy.
    pub(crate) fn new(
        session: SessionId,
        runtime: Option<Handle>,
        workspace: Option<Handle>,
        release: bool,
    ) -> Teardown {
        let mut t = Teardown {
            session,
            workspace,
            release,
            stage: Stage::Finished,
            runtime_fate: Fate::Absent,
            workspace_fate: Fate::Absent,
            release_error: None,
        };
        match runtime {
            Some(handle) => t.stage = Stage::DestroyRuntime(handle),
            None => t.after_runtime(),
        }
        t
    }

    /// The next action, or `None` once finished.
    pub(crate) fn next(&self) -> Option<Action> {
        let session = self.session.clone();
        match &self.stage {
            Stage::DestroyRuntime(handle) => Some(Action::DestroyRuntime {
                session,
                handle: handle.clone(),
            }),
            Stage::DestroyWorkspace(path) => Some(Action::DestroyWorkspace {
                session,
                path: path.clone(),
            }),
            Stage::Release => Some(Action::Reduce {
                session,
                event: Event::Released {
                    runtime: self.runtime_fate.is_released(),
                    workspace: self.workspace_fate.is_released(),
                },
            }),
            Stage::Finished => None,
        }
    }

    /// Records the outcome of the action `next` returned.
    pub(crate) fn advance(&mut self, outcome: Outcome) -> Progress {
        match std::mem::replace(&mut self.stage, Stage::Finished) {
            Stage::DestroyRuntime(handle) => {
                self.runtime_fate = match outcome {
                    Outcome::Ok => Fate::Freed(handle),
                    Outcome::Foreign(reason) => Fate::Foreign { handle, reason },
                    Outcome::Failed(reason) | Outcome::Refused(reason) => {
                        Fate::Leaked { handle, reason }
                    }
                };
                self.after_runtime();
            }
            Stage::DestroyWorkspace(handle) => {
                self.workspace_fate = match outcome {
                    Outcome::Ok => Fate::Freed(handle),
                    Outcome::Refused(reason) => Fate::Kept { handle, reason },
                    Outcome::Foreign(reason) => Fate::Foreign { handle, reason },
                    Outcome::Failed(reason) => Fate::Leaked { handle, reason },
                };
                self.after_workspace();
            }
            Stage::Release => match outcome {
                Outcome::Ok => {}
                Outcome::Refused(_) | Outcome::Foreign(_) => {
                    self.release_error = Some(outcome.to_string());
                }
                Outcome::Failed(_) => {
                    // The store wrote nothing: ask for the same write again.
                    self.stage = Stage::Release;
                    return Progress::Stalled;
                }
            },
            Stage::Finished => return Progress::Stalled,
        }
        Progress::Advanced
    }

    fn after_runtime(&mut self) {
        match (self.workspace.clone(), self.runtime_fate.reason()) {
            (Some(handle), Some(why)) => {
                // The agent may still be writing into it: deleting it could lose work.
                self.workspace_fate = Fate::Kept {
                    handle,
                    reason: format!("its runtime may still be running ({why})"),
                };
                self.after_workspace();
            }
            (Some(handle), None) => self.stage = Stage::DestroyWorkspace(handle),
            (None, _) => self.after_workspace(),
        }
    }

    fn after_workspace(&mut self) {
        let freed = self.runtime_fate.is_released() || self.workspace_fate.is_released();
        self.stage = if self.release && freed {
            Stage::Release
        } else {
            Stage::Finished
        };
    }

    /// An upper bound on the actions still to come.
    pub(crate) fn remaining(&self) -> usize {
        let release = usize::from(self.release);
        match self.stage {
            Stage::DestroyRuntime(_) => 1 + usize::from(self.workspace.is_some()) + release,
            Stage::DestroyWorkspace(_) => 1 + release,
            Stage::Release => 1,
            Stage::Finished => 0,
        }
    }

    /// Nothing left to do.
    pub(crate) fn is_finished(&self) -> bool {
        self.stage == Stage::Finished
    }

    /// The session torn down.
    pub(crate) fn session(&self) -> &SessionId {
        &self.session
    }

    /// What became of the runtime.
    pub(crate) fn runtime_fate(&self) -> &Fate {
        &self.runtime_fate
    }

    /// What became of the workspace.
    pub(crate) fn workspace_fate(&self) -> &Fate {
        &self.workspace_fate
    }

    /// Why the record could not be told, if it could not.
    pub(crate) fn release_error(&self) -> Option<&String> {
        self.release_error.as_ref()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn h(s: &str) -> Handle {
        Handle::new(s).unwrap()
    }

    fn run(mut t: Teardown, outcomes: &[Outcome]) -> (Teardown, Vec<String>) {
        let mut log = Vec::new();
        let mut outcomes = outcomes.iter().cloned();
        while let Some(action) = t.next() {
            let before = t.clone();
            log.push(action.to_string());
            match t.advance(outcomes.next().unwrap_or(Outcome::Ok)) {
                Progress::Advanced => {
                    assert!(
                        t.remaining() < before.remaining(),
                        "teardown must make progress"
                    );
                }
                Progress::Stalled => assert_eq!(t, before, "a stall changes nothing"),
            }
        }
        (t, log)
    }

    #[test]
    fn nothing_to_destroy_means_no_action() {
        let t = Teardown::new("s1".into(), None, None, true);
        assert!(t.is_finished());
        assert_eq!(t.next(), None);
    }

    #[test]
    fn runtime_then_workspace_then_release() {
        let t = Teardown::new("s1".into(), Some(h("rt")), Some(h("/ws")), true);
        let (t, log) = run(t, &[]);
        assert_eq!(
            log,
            [
                "destroy_runtime s1 rt",
                "destroy_workspace s1 /ws",
                "reduce s1 released(runtime: true, workspace: true)"
            ]
        );
        assert!(t.runtime_fate().is_freed() && t.workspace_fate().is_freed());
    }

    #[test]
    fn a_failed_runtime_destroy_keeps_the_workspace() {
        let t = Teardown::new("s1".into(), Some(h("rt")), Some(h("/ws")), true);
        let (t, log) = run(t, &[Outcome::Failed("tmux timeout".into())]);
        assert_eq!(log, ["destroy_runtime s1 rt"]);
        assert!(matches!(t.runtime_fate(), Fate::Leaked { .. }));
        assert!(matches!(t.workspace_fate(), Fate::Kept { .. }));
    }

    #[test]
    fn a_failed_release_is_asked_again_and_a_refused_one_settles() {
        let t = Teardown::new("s1".into(), Some(h("rt")), None, true);
        let failed = Outcome::Failed("disk full".into());
        let (t, log) = run(t, &[Outcome::Ok, failed.clone(), failed, Outcome::Ok]);
        assert_eq!(log.len(), 4, "{log:?}");
        assert_eq!(log[1], log[3], "the same write, asked again");
        assert!(t.is_finished() && t.release_error().is_none());

        let t = Teardown::new("s1".into(), Some(h("rt")), None, true);
        let (t, _) = run(t, &[Outcome::Ok, Outcome::Refused("no record".into())]);
        assert!(t.is_finished());
        assert_eq!(
            t.release_error().map(String::as_str),
            Some("refused: no record")
        );
    }

    #[test]
    fn a_dirty_workspace_is_kept_and_only_the_runtime_released() {
        let t = Teardown::new("s1".into(), Some(h("rt")), Some(h("/ws")), true);
        let (t, log) = run(t, &[Outcome::Ok, Outcome::Refused("dirty".into())]);
        assert_eq!(
            log[2],
            "reduce s1 released(runtime: true, workspace: false)"
        );
        assert_eq!(t.workspace_fate().reason(), Some("dirty"));
    }
}
