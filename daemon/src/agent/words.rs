//! The words of agent command lines: literal words of a launch template
//! (shell-quoted, braces doubled so the core's template renderer keeps them
//! as they are), and the one command every installed hook runs.

use super::AgentKind;
use ao_core::config::AgentSpec;
use ao_core::sm::shell_quote;
use std::path::Path;

/// One literal word of a command template: one shell word whatever it
/// holds, braces kept literal (`{` would open a placeholder).
pub fn literal(word: &str) -> String {
    shell_quote(word).replace('{', "{{").replace('}', "}}")
}

/// A launch template: the program, the user's extra arguments, then `rest`
/// (template text: literal words and placeholders).
pub fn template(program: &str, args: &[String], rest: &[&str]) -> String {
    let mut words = vec![literal(program)];
    words.extend(args.iter().map(|a| literal(a)));
    words.extend(rest.iter().map(|w| (*w).to_owned()));
    words.join(" ")
}

/// A launch template running `script` with `sh -c` (`$0` is `name`), then
/// `rest` (template text: literal words and placeholders) as its `"$@"`:
/// how an agent's command gets what its shell must work out (a variable
/// set from `$PWD`, a second command after the first).
pub fn sh_script(script: &str, name: &str, rest: &[&str]) -> String {
    let script = literal(script);
    let mut words = vec![script.as_str(), name];
    words.extend(rest);
    template("sh", &["-c".to_owned()], &words)
}

/// An agent that can resume its own sessions: launch `program args
/// launch…`, resume `program args resume…`, a fresh relaunch allowed.
pub fn resumable(program: &str, args: &[String], launch: &[&str], resume: &[&str]) -> AgentSpec {
    AgentSpec {
        launch: template(program, args, launch),
        resume: Some(template(program, args, resume)),
        relaunch: true,
    }
}

/// What an installed hook runs: `<ao> hook <agent> <event>`, the ao binary by
/// absolute path (so the agent's `PATH` does not matter).
pub fn hook_command(ao: &Path, agent: AgentKind, event: &str) -> String {
    format!(
        "{} hook {} {}",
        shell_quote(&ao.to_string_lossy()),
        agent.name(),
        shell_quote(event)
    )
}

/// Whether a hook command line is one ao installed for `agent` (an `ao`
/// binary, wherever it lives, then `hook <agent> <event>`): how uninstall
/// tells ao's hooks from the user's.
pub fn is_hook_command(command: &str, agent: AgentKind) -> bool {
    let Some((program, rest)) = first_word(command.trim_start()) else {
        return false;
    };
    let is_ao = Path::new(&program).file_name().is_some_and(|n| n == "ao");
    let mut words = rest.split_whitespace();
    is_ao
        && words.next() == Some("hook")
        && words.next() == Some(agent.name())
        && words.next().is_some()
        && words.next().is_none()
}

/// The first shell word (bare, or single-quoted pieces as `shell_quote`
/// writes them) and what follows it.
fn first_word(line: &str) -> Option<(String, &str)> {
    let mut word = String::new();
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' => return Some((word, &line[i..])),
            '\'' => loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, q)) => word.push(q),
                    None => return None,
                }
            },
            '\\' => word.push(chars.next()?.1),
            other => word.push(other),
        }
    }
    Some((word, ""))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hook_commands_are_recognised_wherever_ao_lives() {
        let ao = Path::new("/opt/it's here/ao");
        let line = hook_command(ao, AgentKind::ClaudeCode, "Stop");
        assert_eq!(line, "'/opt/it'\\''s here/ao' hook claude-code Stop");
        assert!(is_hook_command(&line, AgentKind::ClaudeCode));
        assert!(!is_hook_command(&line, AgentKind::Gemini));
        assert!(is_hook_command(
            "ao hook gemini AfterAgent",
            AgentKind::Gemini
        ));
        for theirs in [
            "notify-send done",
            "/usr/bin/ao-tool hook claude-code Stop",
            "ao hook claude-code",
            "ao hook claude-code Stop; rm -rf ~",
            "'unterminated",
        ] {
            assert!(!is_hook_command(theirs, AgentKind::ClaudeCode), "{theirs}");
        }
    }

    #[test]
    fn literal_words_survive_the_template_renderer() {
        let t = template("codex", &["--model".into(), "o{3}".into()], &["{prompt}"]);
        assert_eq!(t, "codex --model 'o{{3}}' {prompt}");
    }
}
