//! Untrusted text (CI logs, review comments) is stripped of control and escape
//! sequences and capped before it can reach an agent's terminal (SPEC §6, §7.15).

/// Longest CI log tail sent to an agent, in lines.
pub const MAX_LOG_LINES: usize = 120;
/// Longest CI log tail sent to an agent, in characters.
pub const MAX_LOG_CHARS: usize = 8_000;
/// Longest single review comment body, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;
/// Longest whole message sent to an agent, in characters.
pub const MAX_MESSAGE_CHARS: usize = 16_000;

/// Terminal-safe: no control character but newline (so no escape sequence can survive).
pub fn is_terminal_safe(text: &str) -> bool {
    text.chars().all(|c| c == '\n' || !c.is_control())
}

/// Removes ANSI/VT escape sequences (CSI, OSC, DCS/SOS/PM/APC, two-byte
/// escapes, C1 controls) and every other control character but newline; tabs
/// become spaces and carriage returns disappear.
pub fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi_body(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string_body(&mut chars),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next() {
        Some('[') => skip_csi_body(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string_body(chars),
        // Two-byte escapes (ESC 7, ESC c, ...); intermediates (ESC ( B) take one more.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

/// CSI: parameter and intermediate bytes, then one final byte in `@`..=`~`.
fn skip_csi_body(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) || c.is_control() {
            return;
        }
    }
}

/// OSC/DCS/...: everything up to BEL, ST (`ESC \`) or the C1 ST.
fn skip_string_body(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

/// Keeps the last `max_lines` lines and at most `max_chars` characters of the end.
pub fn cap_tail(text: &str, max_lines: usize, max_chars: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    let joined = lines[start..].join("\n");
    let count = joined.chars().count();
    if count <= max_chars && start == 0 {
        return joined;
    }
    let kept: String = joined
        .chars()
        .skip(count.saturating_sub(max_chars))
        .collect();
    format!("[... earlier output truncated ...]\n{kept}")
}

/// Keeps at most `max_chars` characters of the start.
pub fn cap_head(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max_chars).collect();
    format!("{kept}\n[... truncated ...]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_removed() {
        let cases = [
            ("plain\nline", "plain\nline"),
            ("\u{1b}[31mred\u{1b}[0m", "red"),
            ("\u{1b}]0;title\u{7}after", "after"),
            ("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\", "link"),
            ("a\rb\u{8}c\u{0}d", "abcd"),
            ("tab\there", "tab here"),
            ("\u{9b}2Jcleared", "cleared"),
            ("\u{1b}Pdcs payload\u{1b}\\ok", "ok"),
            ("\u{1b}(Bcharset", "charset"),
            ("trailing escape \u{1b}", "trailing escape "),
            ("del\u{7f}ete", "delete"),
        ];
        for (input, want) in cases {
            let got = strip_controls(input);
            assert_eq!(got, want, "input {input:?}");
            assert!(is_terminal_safe(&got));
        }
    }

    #[test]
    fn caps_keep_the_interesting_end() {
        let log: String = (0..500).map(|i| format!("line {i}\n")).collect();
        let tail = cap_tail(&log, 120, 100_000);
        assert!(tail.ends_with("line 499"));
        assert!(!tail.contains("line 379\n"));
        assert!(tail.contains("line 380"));
        assert!(cap_tail("short", 120, 100) == "short");
        let head = cap_head(&"x".repeat(50), 10);
        assert!(head.starts_with("xxxxxxxxxx\n"));
    }
}
