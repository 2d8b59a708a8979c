//! `ao logs ID [-f]`: a session's agent output, read through the API (the
//! tmux pane's history, or the process runtime's captured output). Following
//! re-reads the last lines every second and prints what is new: the window
//! read before is found again at the start of the new one, and a line is
//! printed once another follows it (the last one may still be growing).

use super::client::Client;
use super::{segment, show};
use crate::web::Output;
use reqwest::Method;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// How many lines a follow re-reads each time.
const FOLLOW_WINDOW: usize = 2000;

/// How often a follow re-reads.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

async fn read(client: &Client, id: &str, lines: usize) -> Result<Output, String> {
    let v = client
        .call(
            Method::GET,
            &format!("/sessions/{}/output?lines={lines}", segment(id)),
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_value(v).map_err(|e| format!("unexpected answer from the daemon: {e}"))
}

/// Runs `ao logs`.
pub async fn run(client: &Client, id: &str, lines: usize, follow: bool, json: bool) -> ExitCode {
    let first = match read(client, id, lines.max(1)).await {
        Ok(o) => o,
        Err(e) => return show::error(&e, json),
    };
    let mut shown = first.lines.clone();
    let held = usize::from(follow && !shown.is_empty());
    let now = &first.lines[..first.lines.len() - held];
    emit(now, false, json);
    if !follow {
        return ExitCode::SUCCESS;
    }
    loop {
        tokio::time::sleep(FOLLOW_EVERY).await;
        let next = match read(client, id, FOLLOW_WINDOW.max(lines)).await {
            Ok(o) => o.lines,
            Err(e) => return show::error(&e, json),
        };
        let (skipped, new) = fresh(complete(&shown), complete(&next));
        emit(new, skipped, json);
        shown = next;
    }
}

/// The lines of a window that are complete (all but the last).
fn complete(window: &[String]) -> &[String] {
    &window[..window.len().saturating_sub(1)]
}

fn emit(lines: &[String], skipped: bool, json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        if !lines.is_empty() || skipped {
            let v = serde_json::json!({ "lines": lines, "skipped": skipped });
            let _ = writeln!(out, "{v}");
        }
    } else {
        if skipped {
            let _ = writeln!(
                out,
                "[ao logs: output came faster than it was read; some lines were skipped]"
            );
        }
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
    }
    let _ = out.flush();
}

/// What `now` adds to `before` (two windows of the same output's last
/// lines; `now` may reach further back): the lines after the last place in
/// `now` where `before` ends (its end, or all of it, matches there). The
/// last place means the least new output is assumed, so a line is never
/// printed twice. No such place means more came than one window holds
/// (`true`: some were skipped).
pub fn fresh<'a>(before: &[String], now: &'a [String]) -> (bool, &'a [String]) {
    if before.is_empty() {
        return (false, now);
    }
    for p in (1..=now.len()).rev() {
        let k = before.len().min(p);
        if now[p - k..p] == before[before.len() - k..] {
            return (false, &now[p..]);
        }
    }
    (!now.is_empty(), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn only_new_lines_are_printed() {
        let before = v(&["a", "b", "c"]);
        assert_eq!(fresh(&before, &v(&["a", "b", "c"])), (false, &v(&[])[..]));
        assert_eq!(
            fresh(&before, &v(&["b", "c", "d"])),
            (false, &v(&["d"])[..])
        );
        assert_eq!(
            fresh(&before, &v(&["c", "d", "e"])),
            (false, &v(&["d", "e"])[..])
        );
        assert_eq!(fresh(&before, &v(&["x", "y"])), (true, &v(&["x", "y"])[..]));
        assert_eq!(fresh(&[], &v(&["x"])), (false, &v(&["x"])[..]));
        // A wider window that reaches further back.
        assert_eq!(
            fresh(&v(&["b"]), &v(&["a", "b", "c"])),
            (false, &v(&["c"])[..])
        );
        // Repeated lines: the least new output is assumed, never a repeat.
        let rep = v(&["x", "a", "a"]);
        assert_eq!(fresh(&rep, &v(&["a", "a", "a"])), (false, &v(&["a"])[..]));
        assert_eq!(fresh(&rep, &v(&["x", "a", "a"])), (false, &v(&[])[..]));
        assert_eq!(
            fresh(&rep, &v(&["x", "a", "a", "a"])),
            (false, &v(&["a"])[..])
        );
    }
}
