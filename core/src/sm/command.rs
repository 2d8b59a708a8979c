//! The agent's command line and environment: templates expanded with
//! shell-quoted values, so a prompt (or any id) can never inject shell syntax.
//!
//! Placeholders are `{session_id}`, `{project_id}`, `{issue_id}`, `{prompt}`,
//! `{rules}` and (resume only) `{agent_session_id}`. Each expands to one shell
//! word, already quoted, so templates must not quote them again. `{{` and `}}`
//! write literal braces; a brace that does not open a `{lowercase_name}` is kept
//! as it is (so `${HOME}` and `{a,b}` pass through).

use crate::domain::{IssueId, ProjectId, SessionId};

/// The values a template may refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandVars<'a> {
    /// `{session_id}`.
    pub session_id: &'a SessionId,
    /// `{project_id}`.
    pub project_id: &'a ProjectId,
    /// `{issue_id}`.
    pub issue_id: &'a IssueId,
    /// `{prompt}`.
    pub prompt: &'a str,
    /// `{rules}` (empty when absent).
    pub rules: Option<&'a str>,
    /// `{agent_session_id}`: only a resume knows it.
    pub agent_session_id: Option<&'a str>,
}

/// Why a template cannot be expanded (an unresolvable agent command is a
/// validation error, caught before anything is created).
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum TemplateError {
    /// A `{name}` that is not a known placeholder (likely a typo).
    #[error("unknown placeholder `{{{0}}}` (write `{{{{` and `}}}}` for literal braces)")]
    Unknown(String),
    /// A known placeholder with no value here (`{agent_session_id}` outside a resume).
    #[error("placeholder `{{{0}}}` has no value in this command")]
    Unavailable(String),
}

/// Expands a command template; every substituted value is one shell-quoted word.
pub fn render_command(template: &str, vars: &CommandVars<'_>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + vars.prompt.len() + 16);
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
            continue;
        }
        if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
            continue;
        }
        if let Some(inner) = tail.strip_prefix('{') {
            if let Some(end) = inner.find('}') {
                let name = &inner[..end];
                if is_placeholder_name(name) {
                    out.push_str(&shell_quote(value(name, vars)?));
                    rest = &inner[end + 1..];
                    continue;
                }
            }
        }
        // A lone brace: literal. Braces are ASCII, so slicing one byte is safe.
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn value<'a>(name: &str, vars: &CommandVars<'a>) -> Result<&'a str, TemplateError> {
    match name {
        "session_id" => Ok(vars.session_id.as_str()),
        "project_id" => Ok(vars.project_id.as_str()),
        "issue_id" => Ok(vars.issue_id.as_str()),
        "prompt" => Ok(vars.prompt),
        "rules" => Ok(vars.rules.unwrap_or("")),
        "agent_session_id" => vars
            .agent_session_id
            .ok_or_else(|| TemplateError::Unavailable(name.to_owned())),
        _ => Err(TemplateError::Unknown(name.to_owned())),
    }
}

fn is_placeholder_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Quotes one word for a POSIX shell: left bare when it is plainly safe,
/// otherwise single-quoted (a `'` inside becomes `'\''`).
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if safe {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// The environment every agent gets, in this order, so hooks can name their session.
pub fn agent_env(
    session: &SessionId,
    project: &ProjectId,
    issue: &IssueId,
) -> Vec<(String, String)> {
    vec![
        ("AO_SESSION_ID".to_owned(), session.to_string()),
        ("AO_PROJECT_ID".to_owned(), project.to_string()),
        ("AO_ISSUE_ID".to_owned(), issue.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    /// A minimal POSIX word splitter for what `shell_quote` produces (bare
    /// words, `'...'` and `\'`), so quoting is checked without running a shell.
    fn split_words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' => {
                    if let Some(w) = word.take() {
                        words.push(w);
                    }
                }
                '\'' => {
                    let w = word.get_or_insert_with(String::new);
                    for q in chars.by_ref() {
                        if q == '\'' {
                            break;
                        }
                        w.push(q);
                    }
                }
                '\\' => {
                    let w = word.get_or_insert_with(String::new);
                    if let Some(n) = chars.next() {
                        w.push(n);
                    }
                }
                other => word.get_or_insert_with(String::new).push(other),
            }
        }
        words.extend(word);
        words
    }

    fn vars<'a>(
        s: &'a SessionId,
        p: &'a ProjectId,
        i: &'a IssueId,
        prompt: &'a str,
    ) -> CommandVars<'a> {
        CommandVars {
            session_id: s,
            project_id: p,
            issue_id: i,
            prompt,
            rules: None,
            agent_session_id: None,
        }
    }

    #[test]
    fn placeholders_expand_to_single_quoted_words() {
        let (s, p, i) = (
            SessionId::from("s1"),
            ProjectId::from("app"),
            IssueId::from("42"),
        );
        let prompt = "fix it; rm -rf / && echo 'done' $(whoami) `id`";
        let cmd = render_command(
            "agent --session {session_id} --project={project_id} -i {issue_id} -p {prompt}",
            &vars(&s, &p, &i, prompt),
        )
        .unwrap();
        assert_eq!(
            cmd,
            "agent --session s1 --project=app -i 42 -p \
             'fix it; rm -rf / && echo '\\''done'\\'' $(whoami) `id`'"
        );
        let words = split_words(&cmd);
        assert_eq!(words.last().map(String::as_str), Some(prompt));
    }

    #[test]
    fn braces_escape_and_pass_through() {
        let (s, p, i) = (
            SessionId::from("s1"),
            ProjectId::from("app"),
            IssueId::from("7"),
        );
        let v = vars(&s, &p, &i, "");
        let cases = [
            (
                "echo ${HOME} {a,b} {{session_id}} }} {",
                "echo ${HOME} {a,b} {session_id} } {",
            ),
            ("x {prompt} y", "x '' y"),
            ("x {rules}", "x ''"),
            ("unclosed {session_id", "unclosed {session_id"),
        ];
        for (template, want) in cases {
            assert_eq!(render_command(template, &v).unwrap(), want, "{template}");
        }
    }

    #[test]
    fn unknown_or_unavailable_placeholders_are_errors() {
        let (s, p, i) = (
            SessionId::from("s1"),
            ProjectId::from("app"),
            IssueId::from("7"),
        );
        let mut v = vars(&s, &p, &i, "x");
        assert_eq!(
            render_command("a {promt}", &v),
            Err(TemplateError::Unknown("promt".into()))
        );
        assert_eq!(
            render_command("a --resume {agent_session_id}", &v),
            Err(TemplateError::Unavailable("agent_session_id".into()))
        );
        v.agent_session_id = Some("abc 1");
        assert_eq!(
            render_command("a --resume {agent_session_id}", &v).unwrap(),
            "a --resume 'abc 1'"
        );
    }

    #[test]
    fn env_names_the_session_in_order() {
        let env = agent_env(&"s1".into(), &"app".into(), &"42".into());
        let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["AO_SESSION_ID", "AO_PROJECT_ID", "AO_ISSUE_ID"]);
        assert_eq!(env[0].1, "s1");
    }

    proptest! {
        #[test]
        fn quoting_round_trips_any_text(text in any::<String>()) {
            let quoted = shell_quote(&text);
            prop_assert_eq!(split_words(&quoted), vec![text]);
        }

        #[test]
        fn a_prompt_is_always_exactly_one_word(prompt in any::<String>()) {
            let (s, p, i) = (SessionId::from("s1"), ProjectId::from("app"), IssueId::from("7"));
            let cmd = render_command("agent {prompt} --end", &vars(&s, &p, &i, &prompt)).unwrap();
            let words = split_words(&cmd);
            prop_assert_eq!(words, vec!["agent".to_owned(), prompt, "--end".to_owned()]);
        }
    }
}
