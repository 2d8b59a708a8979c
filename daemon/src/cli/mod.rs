//! The `ao` command line: `daemon` runs the daemon in the foreground; every
//! other command is a thin client of the HTTP API. Human tables by default,
//! `--json` everywhere.

mod attach;
mod client;
mod hook;
mod logs;
mod show;
mod watch;
mod when;

use crate::config::DaemonConfig;
use crate::driver::{Clock, SystemClock};
use crate::token::read_token;
use ao_core::domain::ActivityState;
use clap::builder::PossibleValuesParser;
use clap::{Parser, Subcommand};
use client::Client;
use reqwest::Method;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(name = "ao", version, about = "Supervise AI coding-agent sessions")]
pub struct Cli {
    /// The daemon's URL (default: the one the data dir's daemon recorded, else http://127.0.0.1:7878).
    #[arg(long, global = true, env = "AO_URL")]
    pub url: Option<String>,
    /// Bearer token for the API (default: the one in the data directory).
    #[arg(long, global = true, env = "AO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The daemon's data directory (default `~/.ao`): where the CLI finds its token.
    #[arg(long, global = true, env = "AO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon in the foreground.
    Daemon {
        /// Config file (YAML).
        #[arg(long, short = 'c', env = "AO_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on (overrides the config).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Validate the config and exit.
        #[arg(long)]
        check_config: bool,
    },
    /// Spawn a session.
    Spawn {
        /// Project (default `default`).
        #[arg(long, short = 'p')]
        project: Option<String>,
        /// Issue id.
        #[arg(long, short = 'i', default_value = "")]
        issue: String,
        /// Branch (default `ao/<id>`).
        #[arg(long)]
        branch: Option<String>,
        /// Spawn an orchestrator instead of a worker.
        #[arg(long)]
        orchestrator: bool,
        /// The task (for the default project: a shell command line).
        prompt: String,
    },
    /// List sessions (cleaned ones only with --all).
    Ls {
        /// Also list cleaned sessions (finished, runtime and workspace released).
        #[arg(long)]
        all: bool,
    },
    /// Show one session.
    Status {
        /// Session id.
        id: String,
    },
    /// Archive a cleaned session (finished, runtime and workspace released).
    Rm {
        /// Session id.
        id: String,
    },
    /// Kill a session (its dirty work is kept).
    Kill {
        /// Session id.
        id: String,
    },
    /// Restore a terminal session.
    Restore {
        /// Session id.
        id: String,
    },
    /// Reclaim a project's terminal sessions (dirty workspaces are skipped).
    Cleanup {
        /// Project id.
        project: String,
    },
    /// Send a message to an agent.
    Send {
        /// Session id.
        id: String,
        /// The message.
        message: String,
    },
    /// Attach this terminal to a session's agent (tmux runtimes).
    Attach {
        /// Session id.
        id: String,
    },
    /// Print a session's agent output (tmux pane history, or the process
    /// runtime's captured output).
    Logs {
        /// Session id.
        id: String,
        /// Keep printing new output as it comes (Ctrl-C stops).
        #[arg(long, short = 'f')]
        follow: bool,
        /// How many of the last lines to print first.
        #[arg(long, short = 'n', default_value_t = 100)]
        lines: usize,
    },
    /// A live table of the sessions, redrawn as they change (Ctrl-C stops).
    Watch {
        /// Also show cleaned sessions.
        #[arg(long)]
        all: bool,
    },
    /// Runs an agent's output writer (started by the process runtime).
    #[command(name = "capture-output", hide = true)]
    CaptureOutput {
        /// Bound of one output file in bytes.
        #[arg(long)]
        max_bytes: u64,
        /// The output file.
        file: PathBuf,
    },
    /// Called by an agent's hooks.
    Hook {
        /// What the hook reports.
        #[command(subcommand)]
        what: Hook,
    },
}

/// Hook subcommands.
#[derive(Subcommand, Debug)]
pub enum Hook {
    /// Report activity for `$AO_SESSION_ID`.
    Activity {
        /// What the agent is doing.
        #[arg(long, value_parser = PossibleValuesParser::new(ActivityState::NAMES))]
        state: String,
        /// Session (default `$AO_SESSION_ID`).
        #[arg(long, env = "AO_SESSION_ID")]
        session: String,
    },
    /// Claude Code's hooks (the event's JSON on stdin).
    #[command(name = "claude-code")]
    ClaudeCode(hook::AgentHookArgs),
    /// Codex's hooks (JSON on stdin), or its `notify` program (JSON last).
    Codex(hook::AgentHookArgs),
    /// Aider's notifications command (`ao hook aider notification`).
    Aider(hook::AgentHookArgs),
    /// OpenCode's ao-hooks plugin (the event's JSON on stdin).
    #[command(name = "opencode")]
    OpenCode(hook::AgentHookArgs),
    /// Gemini CLI's hooks (the event's JSON on stdin).
    Gemini(hook::AgentHookArgs),
}

impl Hook {
    /// Runs the hook (an agent's own hook always exits 0).
    async fn run(&self, client: &Client, data_dir: &std::path::Path, json: bool) -> ExitCode {
        use crate::agent::AgentKind as K;
        let (kind, args) = match self {
            Hook::Activity { state, session } => {
                return hook::activity(client, data_dir, session, state, json).await
            }
            Hook::ClaudeCode(a) => (K::ClaudeCode, a),
            Hook::Codex(a) => (K::Codex, a),
            Hook::Aider(a) => (K::Aider, a),
            Hook::OpenCode(a) => (K::OpenCode, a),
            Hook::Gemini(a) => (K::Gemini, a),
        };
        hook::agent(client, data_dir, kind, args).await
    }
}

/// Runs a parsed command line.
pub fn main(cli: Cli) -> ExitCode {
    if let Command::CaptureOutput { max_bytes, file } = &cli.command {
        return match crate::runtime::output::capture(file, *max_bytes, std::io::stdin().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: reading the agent's output: {e}");
                ExitCode::from(1)
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    if let Command::Daemon {
        config,
        listen,
        check_config,
    } = &cli.command
    {
        return crate::server::main(crate::server::Options {
            config: config.clone(),
            data_dir: cli.data_dir.clone(),
            listen: *listen,
            check_config: *check_config,
        })
        .await;
    }
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(|| DaemonConfig::default().data_dir());
    let token = cli.token.clone().or_else(|| read_token(&data_dir));
    let url = cli
        .url
        .clone()
        .or_else(|| crate::lock::recorded(&data_dir, "url"))
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let client_token = token.clone();
    let client = Client::new(&url, token, CALL_TIMEOUT);
    let json = cli.json;
    let empty = || Some(Value::Object(serde_json::Map::new()));
    let result = match &cli.command {
        Command::Daemon { .. } | Command::CaptureOutput { .. } => return ExitCode::SUCCESS,
        Command::Attach { id } => return attach::run(&client, id, json).await,
        Command::Logs { id, follow, lines } => {
            return logs::run(&client, id, *lines, *follow, json).await
        }
        Command::Watch { all } => return watch::run(&client, *all, json).await,
        Command::Spawn {
            project,
            issue,
            branch,
            orchestrator,
            prompt,
        } => {
            let body = serde_json::json!({
                "project": project, "issue": issue, "branch": branch, "prompt": prompt,
                "kind": if *orchestrator { "orchestrator" } else { "worker" },
            });
            client
                .call(Method::POST, "/sessions", Some(body))
                .await
                .map(|v| show::op(&v, json))
        }
        Command::Ls { all } => client
            .call(Method::GET, "/sessions", None)
            .await
            .map(|v| show::list(&v, json, *all, SystemClock.now())),
        Command::Status { id } => client
            .call(Method::GET, &format!("/sessions/{}", segment(id)), None)
            .await
            .map(|v| show::status(&v, json, SystemClock.now())),
        Command::Rm { id } => client
            .call(
                Method::POST,
                &format!("/sessions/{}/archive", segment(id)),
                empty(),
            )
            .await
            .map(|v| show::done(&v, json, &format!("archived {id}"))),
        Command::Kill { id } => client
            .call(
                Method::POST,
                &format!("/sessions/{}/kill", segment(id)),
                empty(),
            )
            .await
            .map(|v| show::op(&v, json)),
        Command::Restore { id } => client
            .call(
                Method::POST,
                &format!("/sessions/{}/restore", segment(id)),
                empty(),
            )
            .await
            .map(|v| show::op(&v, json)),
        Command::Cleanup { project } => client
            .call(
                Method::POST,
                &format!("/projects/{}/cleanup", segment(project)),
                empty(),
            )
            .await
            .map(|v| show::op(&v, json)),
        Command::Send { id, message } => client
            .call(
                Method::POST,
                &format!("/sessions/{}/send", segment(id)),
                Some(serde_json::json!({"message": message})),
            )
            .await
            .map(|v| show::done(&v, json, "delivered")),
        Command::Hook { what } => {
            let client = Client::new(&url, client_token, HOOK_TIMEOUT);
            return what.run(&client, &data_dir, json).await;
        }
    };
    result.unwrap_or_else(|e| show::error(&e.to_string(), json))
}

/// The longest a hook waits before it spools its signal instead.
const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the CLI looks for the daemon when neither `--url`, `AO_URL` nor
/// the data directory's lock file says.
pub const DEFAULT_URL: &str = "http://127.0.0.1:7878";

/// The longest the CLI waits for one answer (a spawn runs the whole operation).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// An id as one URL path segment (a `/` or `?` in it cannot change the route).
fn segment(id: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'/')
        .add(b'?')
        .add(b'#')
        .add(b'%');
    percent_encoding::utf8_percent_encode(id, RESERVED).to_string()
}
