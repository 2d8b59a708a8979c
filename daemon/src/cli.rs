//! The `ao` command line: `daemon` runs the daemon in the foreground; every
//! other command is a thin client of the HTTP API. Human tables by default,
//! `--json` everywhere.

use crate::api::{OpResponse, SessionView};
use crate::config::DaemonConfig;
use crate::token::read_token;
use clap::{Parser, Subcommand};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(name = "ao", version, about = "Supervise AI coding-agent sessions")]
pub struct Cli {
    /// The daemon's URL.
    #[arg(
        long,
        global = true,
        env = "AO_URL",
        default_value = "http://127.0.0.1:7878"
    )]
    pub url: String,
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
    /// List sessions.
    Ls,
    /// Show one session.
    Status {
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
        /// active, ready, idle, waiting_input, blocked or exited.
        #[arg(long)]
        state: String,
        /// Session (default `$AO_SESSION_ID`).
        #[arg(long, env = "AO_SESSION_ID")]
        session: String,
    },
}

/// Runs a parsed command line.
pub fn main(cli: Cli) -> ExitCode {
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
    let client = Client {
        http: reqwest::Client::new(),
        url: cli.url.trim_end_matches('/').to_owned(),
        token: cli.token.clone().or_else(|| {
            let dir = cli
                .data_dir
                .clone()
                .unwrap_or_else(|| DaemonConfig::default().data_dir());
            read_token(&dir)
        }),
    };
    let result = match &cli.command {
        Command::Daemon { .. } => return ExitCode::SUCCESS,
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
                .call(reqwest::Method::POST, "/sessions", Some(body))
                .await
                .map(|v| op_output(&v, cli.json))
        }
        Command::Ls => client
            .call(reqwest::Method::GET, "/sessions", None)
            .await
            .map(|v| list_output(&v, cli.json)),
        Command::Status { id } => client
            .call(reqwest::Method::GET, &format!("/sessions/{id}"), None)
            .await
            .map(|v| status_output(&v, cli.json)),
        Command::Kill { id } => client
            .call(
                reqwest::Method::POST,
                &format!("/sessions/{id}/kill"),
                Some(Value::Object(Default::default())),
            )
            .await
            .map(|v| op_output(&v, cli.json)),
        Command::Restore { id } => client
            .call(
                reqwest::Method::POST,
                &format!("/sessions/{id}/restore"),
                Some(Value::Object(Default::default())),
            )
            .await
            .map(|v| op_output(&v, cli.json)),
        Command::Cleanup { project } => client
            .call(
                reqwest::Method::POST,
                &format!("/projects/{project}/cleanup"),
                Some(Value::Object(Default::default())),
            )
            .await
            .map(|v| op_output(&v, cli.json)),
        Command::Send { id, message } => client
            .call(
                reqwest::Method::POST,
                &format!("/sessions/{id}/send"),
                Some(serde_json::json!({"message": message})),
            )
            .await
            .map(|v| plain_output(&v, cli.json, "delivered")),
        Command::Hook {
            what: Hook::Activity { state, session },
        } => client
            .call(
                reqwest::Method::POST,
                &format!("/sessions/{session}/activity"),
                Some(serde_json::json!({"state": state, "source": "hook"})),
            )
            .await
            .map(|v| plain_output(&v, cli.json, "recorded")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

struct Client {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Client {
    /// One API call; a non-2xx answer is an error carrying the daemon's message.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .timeout(std::time::Duration::from_secs(120));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("cannot reach the daemon at {}: {e}", self.url))?;
        let status = resp.status();
        let value: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_success() || status == reqwest::StatusCode::UNPROCESSABLE_ENTITY {
            return Ok(value);
        }
        let message = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("request failed");
        Err(format!("{message} (HTTP {})", status.as_u16()))
    }
}

fn op_output(v: &Value, json: bool) -> ExitCode {
    let ok = v.get("ok").and_then(Value::as_bool).unwrap_or(false);
    if json {
        println!("{v}");
    } else if let Ok(op) = serde_json::from_value::<OpResponse>(v.clone()) {
        let who = op.session.as_deref().unwrap_or("-");
        println!(
            "{} {who}: {}",
            if op.ok { "ok" } else { "FAILED" },
            op.summary
        );
    } else {
        println!("{v}");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn plain_output(v: &Value, json: bool, word: &str) -> ExitCode {
    if json {
        println!("{v}");
    } else {
        println!("{word}");
    }
    ExitCode::SUCCESS
}

fn list_output(v: &Value, json: bool) -> ExitCode {
    if json {
        println!("{v}");
        return ExitCode::SUCCESS;
    }
    let sessions: Vec<SessionView> = serde_json::from_value(v.clone()).unwrap_or_default();
    println!(
        "{:<16} {:<10} {:<8} {:<18} {:<8} {:<10} ACTIVITY",
        "ID", "PROJECT", "ISSUE", "STATUS", "PR", "RUNTIME"
    );
    for s in sessions {
        let r = &s.record;
        let pr = r
            .lifecycle
            .pr
            .number
            .map_or_else(|| "-".to_owned(), |n| format!("#{n}"));
        let activity = if s.hooks_reporting {
            r.lifecycle.activity.state.to_string()
        } else {
            "none (hooks silent)".into()
        };
        println!(
            "{:<16} {:<10} {:<8} {:<18} {:<8} {:<10} {}",
            r.id, r.project_id, r.issue_id, s.status, pr, r.lifecycle.runtime.state, activity
        );
    }
    ExitCode::SUCCESS
}

fn status_output(v: &Value, json: bool) -> ExitCode {
    if json {
        println!("{v}");
        return ExitCode::SUCCESS;
    }
    match serde_json::from_value::<SessionView>(v.clone()) {
        Ok(s) => {
            let r = &s.record;
            let l = &r.lifecycle;
            println!(
                "session   {} ({}, project {}, issue {})",
                r.id, r.kind, r.project_id, r.issue_id
            );
            println!("status    {}", s.status);
            println!("lifecycle {}/{}", l.session.state, l.session.reason);
            println!(
                "pr        {}/{}{}",
                l.pr.state,
                l.pr.reason,
                l.pr.number.map(|n| format!(" #{n}")).unwrap_or_default()
            );
            println!("runtime   {}/{}", l.runtime.state, l.runtime.reason);
            println!(
                "activity  {} (source {}){}",
                l.activity.state,
                l.activity.source,
                if s.hooks_reporting {
                    ""
                } else {
                    " — the agent's hooks have not reported"
                }
            );
            if let Some(q) = l.detecting {
                println!(
                    "detecting attempts {} since {} ms",
                    q.attempts, q.started_at.0
                );
            }
            println!(
                "workspace {}",
                r.metadata
                    .workspace_path
                    .as_ref()
                    .map_or("-", |h| h.as_str())
            );
            println!("revision  {}", r.revision);
            ExitCode::SUCCESS
        }
        Err(_) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
    }
}
