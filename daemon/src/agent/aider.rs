//! Aider (`aider`).
//!
//! Protocol (aider's options reference and `aider/io.py`): `--notifications
//! --notifications-command CMD` runs `CMD` through the shell, with no
//! payload, whenever aider waits for the user after the model has worked:
//! at its prompt when a reply is done, or at a yes/no question during one
//! (`InputOutput.ring_bell`). aider has no other hook, no session id and no
//! event for starting work or exiting: `active` comes from the terminal
//! observer (a question ends when the screen shows work again), an exit
//! from the reaper, and a restore relaunches (with `--restore-chat-history`).
//!
//! Launch: aider works the prompt as its first message (`--message`), then
//! stays interactive on the same chat (`--restore-chat-history`) so ao can
//! send it more (a failing CI log, review comments), all from one `sh -c`
//! whose positional parameters carry the hook command, the prompt and the
//! user's arguments, each one shell word.

use super::words::{hook_command, literal, sh_script};
use super::{AgentKind, PromptStyle, Rejected, Report};
use ao_core::config::AgentSpec;
use ao_core::domain::ActivityState;
use std::path::Path;

/// The event `ao hook aider` is installed for.
pub const NOTIFICATION: &str = "notification";

/// Its prompt: `> ` (or `ask> `, `architect> `: the edit format first).
pub const PROMPT: PromptStyle = PromptStyle {
    starts: &[">"],
    ends: &[">"],
};

/// `$1` the hook command, `$2` the prompt, the rest the user's arguments.
const SCRIPT: &str = "hook=$1; task=$2; shift 2; \
    aider --notifications --notifications-command \"$hook\" \"$@\" --message \"$task\"; \
    exec aider --notifications --notifications-command \"$hook\" --restore-chat-history \"$@\"";

pub(super) fn spec(args: &[String], ao: &Path) -> AgentSpec {
    let hook = literal(&hook_command(ao, AgentKind::Aider, NOTIFICATION));
    let user: Vec<String> = args.iter().map(|a| literal(a)).collect();
    let mut rest: Vec<&str> = vec![&hook, "{prompt}"];
    rest.extend(user.iter().map(String::as_str));
    AgentSpec {
        launch: sh_script(SCRIPT, AgentKind::Aider.program(), &rest),
        resume: None,
        relaunch: true,
    }
}

/// The notification: aider waits for the user (its prompt or a question).
pub(super) fn read_hook(event: &str) -> Result<Report, Rejected> {
    match event {
        NOTIFICATION => Ok(Report::state(ActivityState::WaitingInput)),
        other => Err(Rejected::UnknownEvent(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_prompt_and_arguments_reach_aider_as_single_words() {
        let s = spec(&["--model".into(), "sonnet".into()], Path::new("/bin/ao"));
        assert!(
            s.launch
                .starts_with("sh -c 'hook=$1; task=$2; shift 2; aider "),
            "{}",
            s.launch
        );
        assert!(
            s.launch
                .ends_with(" aider '/bin/ao hook aider notification' {prompt} --model sonnet"),
            "{}",
            s.launch
        );
        assert_eq!(s.resume, None);
        assert_eq!(
            read_hook(NOTIFICATION).unwrap().state,
            Some(ActivityState::WaitingInput)
        );
        assert!(read_hook("other").is_err());
    }
}
