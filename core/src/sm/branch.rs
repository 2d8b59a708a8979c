//! Git branch-name validation (the `git check-ref-format --branch` rules), so a
//! spawn with a name git would reject fails before anything is created.

use std::fmt;

/// The git ref-format rule a branch name breaks (SPEC §5: a valid branch name is
/// part of spawn validation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BranchRule {
    /// The name is empty.
    Empty,
    /// The name is the single character `@`.
    BareAt,
    /// The name starts with `-` (it would read as an option).
    LeadingDash,
    /// The name starts or ends with `/`.
    EdgeSlash,
    /// The name contains `//` (an empty path component).
    EmptyComponent,
    /// The name contains `..`.
    DoubleDot,
    /// The name contains `@{` (reflog syntax).
    AtBrace,
    /// The name ends with `.`.
    TrailingDot,
    /// A path component starts with `.`.
    DotComponent,
    /// A path component ends with `.lock`.
    LockComponent,
    /// The name contains an ASCII control character, a space, or one of `~^:?*[\`.
    ForbiddenChar(char),
}

impl fmt::Display for BranchRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BranchRule::Empty => f.write_str("it is empty"),
            BranchRule::BareAt => f.write_str("it is `@`"),
            BranchRule::LeadingDash => f.write_str("it starts with `-`"),
            BranchRule::EdgeSlash => f.write_str("it starts or ends with `/`"),
            BranchRule::EmptyComponent => f.write_str("it contains `//`"),
            BranchRule::DoubleDot => f.write_str("it contains `..`"),
            BranchRule::AtBrace => f.write_str("it contains `@{`"),
            BranchRule::TrailingDot => f.write_str("it ends with `.`"),
            BranchRule::DotComponent => f.write_str("a path component starts with `.`"),
            BranchRule::LockComponent => f.write_str("a path component ends with `.lock`"),
            BranchRule::ForbiddenChar(c) => write!(f, "it contains the forbidden character {c:?}"),
        }
    }
}

/// Checks a branch name against git's ref-format rules; the first broken rule is returned.
pub fn validate_branch(name: &str) -> Result<(), BranchRule> {
    if name.is_empty() {
        return Err(BranchRule::Empty);
    }
    if name == "@" {
        return Err(BranchRule::BareAt);
    }
    if let Some(c) = name.chars().find(|c| is_forbidden(*c)) {
        return Err(BranchRule::ForbiddenChar(c));
    }
    if name.starts_with('-') {
        return Err(BranchRule::LeadingDash);
    }
    if name.starts_with('/') || name.ends_with('/') {
        return Err(BranchRule::EdgeSlash);
    }
    if name.contains("//") {
        return Err(BranchRule::EmptyComponent);
    }
    if name.contains("..") {
        return Err(BranchRule::DoubleDot);
    }
    if name.contains("@{") {
        return Err(BranchRule::AtBrace);
    }
    if name.ends_with('.') {
        return Err(BranchRule::TrailingDot);
    }
    for component in name.split('/') {
        if component.starts_with('.') {
            return Err(BranchRule::DotComponent);
        }
        if component.ends_with(".lock") {
            return Err(BranchRule::LockComponent);
        }
    }
    Ok(())
}

fn is_forbidden(c: char) -> bool {
    c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for name in [
            "main",
            "feat/add-login",
            "ao/s1-issue-42",
            "fix_123",
            "release-1.2",
            "a.b/c.d",
            "user@host",
            "ünïcode/ok",
            "x.locked",
        ] {
            assert_eq!(validate_branch(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn every_rule_is_enforced() {
        let cases: &[(&str, BranchRule)] = &[
            ("", BranchRule::Empty),
            ("@", BranchRule::BareAt),
            ("-x", BranchRule::LeadingDash),
            ("/x", BranchRule::EdgeSlash),
            ("x/", BranchRule::EdgeSlash),
            ("a//b", BranchRule::EmptyComponent),
            ("a..b", BranchRule::DoubleDot),
            ("a@{1}", BranchRule::AtBrace),
            ("a.", BranchRule::TrailingDot),
            ("a/.b", BranchRule::DotComponent),
            (".a", BranchRule::DotComponent),
            ("a.lock", BranchRule::LockComponent),
            ("a.lock/b", BranchRule::LockComponent),
            ("a b", BranchRule::ForbiddenChar(' ')),
            ("a~1", BranchRule::ForbiddenChar('~')),
            ("a^", BranchRule::ForbiddenChar('^')),
            ("a:b", BranchRule::ForbiddenChar(':')),
            ("a?", BranchRule::ForbiddenChar('?')),
            ("a*", BranchRule::ForbiddenChar('*')),
            ("a[b", BranchRule::ForbiddenChar('[')),
            ("a\\b", BranchRule::ForbiddenChar('\\')),
            ("a\tb", BranchRule::ForbiddenChar('\t')),
            ("a\u{7f}", BranchRule::ForbiddenChar('\u{7f}')),
            ("a\nb", BranchRule::ForbiddenChar('\n')),
        ];
        for (name, rule) in cases {
            assert_eq!(validate_branch(name), Err(*rule), "{name:?}");
            assert!(!rule.to_string().is_empty());
        }
    }
}
