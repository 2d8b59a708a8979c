//! Ends the process-runtime agents a test's daemon left running (agents are
//! detached so that they outlive a daemon, by design).

use std::path::Path;

/// Kills every process group recorded in `<data_dir>/runtimes/*.pid` whose
/// leader still has the recorded start time (so a reused pid is never hit).
pub fn stop(data_dir: &Path) {
    let Ok(files) = std::fs::read_dir(data_dir.join("runtimes")) else {
        return;
    };
    for file in files.flatten() {
        if file.path().extension().is_none_or(|e| e != "pid") {
            continue;
        }
        let text = std::fs::read_to_string(file.path()).unwrap_or_default();
        let mut words = text.split_whitespace();
        let (Some(pid), Some(start)) = (words.next().and_then(|p| p.parse().ok()), words.next())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let started = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(19));
        if pid > 1 && started == Some(start) {
            let group = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        }
    }
}
