//! The desktop notifier: a notification on the screen of the machine the
//! daemon runs on, through the system's own tool, chosen at run time:
//! `notify-send` (libnotify) on Linux and the BSDs, `osascript` on macOS.
//! A missing tool is not a failure (a headless server has none): the first
//! notification logs a warning saying what to install, the rest are
//! dropped quietly. The tool gets its text as arguments, never through a
//! shell, so nothing in a message is interpreted.

use super::About;
use crate::error::AdapterError;
use ao_core::domain::Priority;
use ao_core::lcm::Notification;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The longest the tool may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Which tool shows notifications on this system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// libnotify's `notify-send`.
    NotifySend,
    /// macOS's `osascript` (`display notification`).
    Osascript,
}

impl Tool {
    /// The tool for the system the daemon runs on.
    pub fn for_this_system() -> Tool {
        if std::env::consts::OS == "macos" {
            Tool::Osascript
        } else {
            Tool::NotifySend
        }
    }

    /// The program's name.
    pub fn program(self) -> &'static str {
        match self {
            Tool::NotifySend => "notify-send",
            Tool::Osascript => "osascript",
        }
    }

    /// The arguments that show `title` and `body` at `priority`.
    pub fn args(self, title: &str, body: &str, priority: Priority) -> Vec<String> {
        match self {
            Tool::NotifySend => {
                let urgency = match priority {
                    Priority::Urgent => "critical",
                    Priority::Action | Priority::Warning => "normal",
                    Priority::Info => "low",
                };
                vec![
                    "--app-name=ao".to_owned(),
                    format!("--urgency={urgency}"),
                    "--".to_owned(),
                    title.to_owned(),
                    body.to_owned(),
                ]
            }
            // The text arrives as `argv`: nothing in it is AppleScript.
            Tool::Osascript => vec![
                "-e".to_owned(),
                "on run argv".to_owned(),
                "-e".to_owned(),
                "display notification (item 2 of argv) with title (item 1 of argv)".to_owned(),
                "-e".to_owned(),
                "end run".to_owned(),
                title.to_owned(),
                body.to_owned(),
            ],
        }
    }

    /// What to install when it is missing.
    fn advice(self) -> &'static str {
        match self {
            Tool::NotifySend => {
                "install libnotify (Debian and Ubuntu: apt-get install libnotify-bin)"
            }
            Tool::Osascript => "osascript ships with macOS: check PATH",
        }
    }
}

/// Shows notifications on this machine's desktop.
#[derive(Clone, Debug)]
pub struct DesktopNotifier {
    tool: Tool,
    /// Where to look for the tool (`None`: the daemon's `PATH`).
    search_path: Option<OsString>,
    warned: Arc<AtomicBool>,
}

impl Default for DesktopNotifier {
    fn default() -> Self {
        DesktopNotifier::new(Tool::for_this_system())
    }
}

impl DesktopNotifier {
    /// A notifier using `tool`, found on the daemon's `PATH`.
    pub fn new(tool: Tool) -> DesktopNotifier {
        DesktopNotifier {
            tool,
            search_path: None,
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same notifier looking for its tool in `path` (a `PATH`-style list).
    pub fn with_search_path(mut self, path: impl Into<OsString>) -> DesktopNotifier {
        self.search_path = Some(path.into());
        self
    }

    /// The tool's full path, if it is installed.
    fn find(&self) -> Option<PathBuf> {
        let path = self
            .search_path
            .clone()
            .or_else(|| std::env::var_os("PATH"))?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(self.tool.program()))
            .find(|p| p.is_file())
    }

    /// Shows `n` (a missing tool: a warning once, and `Ok`).
    pub async fn notify(&self, n: &Notification, about: &About) -> Result<(), AdapterError> {
        let Some(program) = self.find() else {
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "desktop notifications are off: `{}` is not on PATH ({}); notifications still reach the other channels",
                    self.tool.program(),
                    self.tool.advice()
                );
            }
            return Ok(());
        };
        let title = about.title(n);
        let body = about.body(n);
        let what = format!("desktop notification ({})", self.tool.program());
        let run = tokio::process::Command::new(&program)
            .args(self.tool.args(&title, &body, n.priority))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(TIMEOUT, run)
            .await
            .map_err(|_| AdapterError::Timeout {
                what: what.clone(),
                millis: u64::try_from(TIMEOUT.as_millis()).unwrap_or(u64::MAX),
            })?
            .map_err(|e| AdapterError::failed(&what, e))?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            Err(AdapterError::failed(
                what,
                format!("exited with {}: {err}", out.status),
            ))
        }
    }
}
