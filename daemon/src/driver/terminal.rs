//! The terminal observer (issue 14): the fallback for agents whose hooks
//! are silent. It reads each live tmux agent's screen (only a session that
//! carries the session's owner tag) every `terminal_observer.interval`: a
//! screen that changed means the agent works (`active`); one unchanged for
//! `idle_after` while it shows the agent's prompt means it stopped (`idle`).
//! It reports what it sees when that changes, and a still-changing screen
//! again once per `recent_activity_window` (so a busy agent whose hooks
//! went quiet stays recent), always with source `terminal`: the core never
//! lets that outrank a recent signal of the agent's own hooks, nor a
//! question they reported with anything but work on screen (core/SPEC.md
//! §4.3), and for agents whose hooks say when work goes on the observer
//! does not send that either ([`hooks_hold`]). What it saw lives in
//! memory only: after a restart it starts looking afresh.

use super::Shared;
use crate::agent::{AgentKind, PromptStyle};
use ao_core::domain::{ActivityRecord, ActivitySource, ActivityState, Confidence, SessionId};
use ao_core::lcm::{ActivitySignal, Event};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the observer last saw of one agent.
struct Seen {
    /// The screen, trailing blanks trimmed.
    screen: String,
    /// When it last changed.
    changed: Instant,
    /// What was last reported, and when.
    reported: Option<(ActivityState, Instant)>,
}

/// The observer's memory across passes.
pub struct Observer {
    seen: BTreeMap<SessionId, Seen>,
    idle_after: Duration,
    refresh: Duration,
}

impl Observer {
    /// An observer calling a screen idle after `idle_after` unchanged at
    /// the prompt, repeating `active` every `refresh` while it changes.
    pub fn new(idle_after: Duration, refresh: Duration) -> Observer {
        Observer {
            seen: BTreeMap::new(),
            idle_after,
            refresh,
        }
    }

    /// One pass over every live session with a runtime.
    pub async fn pass(&mut self, shared: &Arc<Shared>) {
        let live: Vec<_> = super::timers::records(shared)
            .await
            .into_iter()
            .filter(|r| !r.is_terminal() && r.metadata.spawned_at.is_some())
            .collect();
        self.seen.retain(|id, _| live.iter().any(|r| &r.id == id));
        for rec in live {
            let Some(screen) = shared.adapters.screen(&rec).await else {
                self.seen.remove(&rec.id);
                continue;
            };
            let prompt = shared.adapters.prompt_of(&rec.project_id);
            let seen = self.observe(&rec.id, &screen, prompt, Instant::now());
            let kind = shared.adapters.agent_kind(&rec.project_id);
            if let Some(state) = seen.filter(|s| !hooks_hold(*s, &rec.lifecycle.activity, kind)) {
                let signal = ActivitySignal {
                    state,
                    confidence: Confidence::Valid,
                    source: ActivitySource::Terminal,
                };
                shared.post(&rec.id, Event::Activity(signal)).await;
            }
        }
    }

    /// Takes in one look at a session's screen; what to report, if anything.
    fn observe(
        &mut self,
        id: &SessionId,
        screen: &str,
        prompt: &PromptStyle,
        now: Instant,
    ) -> Option<ActivityState> {
        let screen = trimmed(screen);
        let Some(seen) = self.seen.get_mut(id) else {
            self.seen.insert(
                id.clone(),
                Seen {
                    screen,
                    changed: now,
                    reported: None,
                },
            );
            return None;
        };
        let report = if seen.screen != screen {
            seen.screen = screen;
            seen.changed = now;
            let fresh = seen.reported.is_some_and(|(state, at)| {
                state == ActivityState::Active && now.duration_since(at) < self.refresh
            });
            (!fresh).then_some(ActivityState::Active)
        } else {
            let quiet = now.duration_since(seen.changed) >= self.idle_after;
            let told = seen
                .reported
                .is_some_and(|(state, _)| state == ActivityState::Idle);
            (quiet && !told && prompt.at_prompt(&seen.screen)).then_some(ActivityState::Idle)
        };
        if let Some(state) = report {
            seen.reported = Some((state, now));
        }
        report
    }
}

/// Whether a question the agent's own hook reported is the hook's to end:
/// then the screen's `active` is not sent (a dialog that animates is not
/// the answer; the hook says when work goes on). Agents whose hooks never
/// say so (aider, custom ones) leave it to the core's rule (SPEC §4.3).
fn hooks_hold(seen: ActivityState, on_record: &ActivityRecord, kind: Option<AgentKind>) -> bool {
    seen == ActivityState::Active
        && on_record.state.is_sticky()
        && on_record.source == ActivitySource::Hook
        && kind.is_some_and(AgentKind::hooks_report_work)
}

/// The screen without trailing blanks on each line and at the end.
fn trimmed(screen: &str) -> String {
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    lines[..end].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_a_hook_asked_is_ended_by_the_screen_only_for_agents_whose_hooks_cannot() {
        use ActivityState::{Active, Idle, WaitingInput};
        let asked = |source| ActivityRecord {
            state: WaitingInput,
            last_activity_at: None,
            source,
        };
        let hook = asked(ActivitySource::Hook);
        assert!(hooks_hold(Active, &hook, Some(AgentKind::ClaudeCode)));
        assert!(hooks_hold(Active, &hook, Some(AgentKind::OpenCode)));
        assert!(!hooks_hold(Active, &hook, Some(AgentKind::Aider)));
        assert!(!hooks_hold(Active, &hook, None), "a custom agent's");
        assert!(
            !hooks_hold(Idle, &hook, Some(AgentKind::Codex)),
            "the core's to judge"
        );
        let working = ActivityRecord {
            state: Active,
            ..hook
        };
        assert!(!hooks_hold(Active, &working, Some(AgentKind::Gemini)));
        let screen = asked(ActivitySource::Terminal);
        assert!(!hooks_hold(Active, &screen, Some(AgentKind::ClaudeCode)));
    }

    #[test]
    fn change_is_work_and_a_quiet_prompt_is_idle_each_told_once() {
        let mut o = Observer::new(Duration::from_secs(30), Duration::from_secs(60));
        let id = SessionId::from("app-1");
        let prompt = AgentKind::Aider.prompt();
        let t0 = Instant::now();
        // (second, screen, what is reported, why)
        let looks = [
            (0, "$ aider\n", None, "a first look tells nothing"),
            (
                5,
                "working 1\n",
                Some(ActivityState::Active),
                "a change is work",
            ),
            (10, "working 2\n", None, "told already"),
            (50, "working 2\n", None, "quiet, but not at the prompt"),
            (
                70,
                "working 3\n",
                Some(ActivityState::Active),
                "told again after a minute",
            ),
            (80, "done\n> \n", None, "a change, told recently"),
            (109, "done\n>   \n\n", None, "not quiet long enough"),
            (
                110,
                "done\n>\n",
                Some(ActivityState::Idle),
                "quiet at the prompt",
            ),
            (200, "done\n>\n", None, "told once"),
            (205, "next\n", Some(ActivityState::Active), "work again"),
        ];
        for (second, screen, want, why) in looks {
            let now = t0 + Duration::from_secs(second);
            assert_eq!(
                o.observe(&id, screen, prompt, now),
                want,
                "{second}s: {why}"
            );
        }
    }
}
