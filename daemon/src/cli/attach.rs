//! `ao attach ID`: this terminal becomes the agent's, through tmux on the
//! daemon's own server (the exact command the daemon reports); a session
//! in the process runtime has no terminal, and the message says what to
//! use instead.

use super::client::Client;
use super::{segment, show};
use crate::api::SessionView;
use reqwest::Method;
use std::process::ExitCode;

/// What attaching to a session comes to.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Run this program with these arguments in place of `ao`.
    Exec(Vec<String>),
    /// Nothing to attach to, and why (with what to do instead).
    Refuse(String),
}

/// How to attach to `view`'s agent.
pub fn plan(view: &SessionView) -> Plan {
    let id = &view.record.id;
    if let Some(argv) = view.attach.clone().filter(|a| !a.is_empty()) {
        return Plan::Exec(argv);
    }
    if view.record.metadata.runtime_handle.is_none() {
        return Plan::Refuse(format!(
            "session `{id}` has no runtime ({}): there is nothing to attach to; `ao restore {id}` starts its agent again",
            view.status
        ));
    }
    let log = view
        .output_log
        .as_deref()
        .map(|l| format!(" (the file {l})"))
        .unwrap_or_default();
    Plan::Refuse(format!(
        "session `{id}` runs in the {} runtime, which has no terminal to attach to: \
         follow its output with `ao logs {id} -f`{log} and talk to it with `ao send {id} MESSAGE` \
         (a project with `runtime: tmux` gets agents you can attach to)",
        if view.record.metadata.runtime_name.is_empty() {
            "process"
        } else {
            &view.record.metadata.runtime_name
        }
    ))
}

/// Runs `ao attach`.
pub async fn run(client: &Client, id: &str, json: bool) -> ExitCode {
    let v = match client
        .call(Method::GET, &format!("/sessions/{}", segment(id)), None)
        .await
    {
        Ok(v) => v,
        Err(e) => return show::error(&e.to_string(), json),
    };
    let view = match serde_json::from_value::<SessionView>(v) {
        Ok(view) => view,
        Err(e) => return show::error(&format!("unexpected answer from the daemon: {e}"), json),
    };
    match plan(&view) {
        Plan::Refuse(why) => show::error(&why, json),
        Plan::Exec(argv) => {
            use std::os::unix::process::CommandExt;
            // Only returns if the program could not be started. Without
            // `TMUX`, tmux also attaches from inside another tmux (nested).
            let e = std::process::Command::new(&argv[0])
                .args(&argv[1..])
                .env_remove("TMUX")
                .exec();
            show::error(&format!("cannot run `{}`: {e}", argv.join(" ")), json)
        }
    }
}
