//! Starting and stopping the daemon: load config, open the store and the
//! journal, bind the API (a failed start exits non-zero at once with the
//! reason), reconcile (finish or roll back interrupted operations, re-probe
//! live sessions, reclaim terminal runtimes), serve, and shut down within a
//! bounded time on SIGTERM, SIGINT or `POST /shutdown`.

use crate::api::{router, ApiState};
use crate::config::DaemonConfig;
use crate::driver::{timers, Adapters, Shared, SystemClock};
use crate::event_log::EventLog;
use crate::guard::Guard;
use crate::journal::Journal;
use crate::lock::DaemonLock;
use crate::store::Store;
use crate::token::Secret;
use ao_core::journal::JournalEntry;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How `ao daemon` was invoked.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Config file.
    pub config: Option<PathBuf>,
    /// Data directory override.
    pub data_dir: Option<PathBuf>,
    /// Listen address override.
    pub listen: Option<SocketAddr>,
    /// Only validate the config.
    pub check_config: bool,
}

/// The longest a graceful shutdown may take before the daemon exits anyway.
pub const SHUTDOWN_LIMIT: Duration = Duration::from_secs(4);

/// Runs `ao daemon`; returns the process exit code.
pub async fn main(opts: Options) -> ExitCode {
    init_logging();
    let config = match &opts.config {
        Some(path) => match DaemonConfig::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => DaemonConfig::default(),
    };
    let problems = crate::preflight::check(&config, std::env::var("PATH").ok().as_deref());
    let file = opts.config.as_ref().map_or_else(
        || "(built-in defaults)".to_owned(),
        |p| p.display().to_string(),
    );
    if opts.check_config {
        for p in &problems {
            eprintln!("error: {file}: {p}");
        }
        if !problems.is_empty() {
            eprintln!("{} problem(s): a spawn would fail", problems.len());
            return ExitCode::from(2);
        }
        println!("config ok");
        return ExitCode::SUCCESS;
    }
    for p in &problems {
        tracing::warn!("{file}: {p} (a spawn will fail)");
    }
    match run(config, opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a person at a terminal (never in a log file or pipe).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {error}")]
    DataDir {
        /// Where.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The store did not open.
    #[error("cannot open the store: {0}")]
    Store(String),
    /// The journal did not open.
    #[error("cannot open the journal: {0}")]
    Journal(String),
    /// Another daemon runs on this data directory (or its lock failed).
    #[error("{0}")]
    Lock(#[from] crate::lock::LockError),
    /// The token file could not be created or read.
    #[error("cannot use the token file: {0}")]
    Token(#[from] crate::token::TokenError),
    /// The config did not resolve.
    #[error("invalid config: {0}")]
    Config(String),
    /// An adapter could not be set up.
    #[error("cannot set up adapters: {0}")]
    Adapters(String),
    /// The API address could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why (e.g. address in use).
        error: std::io::Error,
    },
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Starts, serves until asked to stop, then shuts down.
pub async fn run(mut config: DaemonConfig, opts: Options) -> Result<(), StartError> {
    if let Some(d) = opts.data_dir {
        config.data_dir = Some(d);
    }
    if let Some(l) = opts.listen {
        config.api.listen = l;
    }
    if !config.api.listen.ip().is_loopback() && config.api.token.is_none() {
        return Err(StartError::Config(format!(
            "binding {} (not loopback) requires api.token",
            config.api.listen
        )));
    }
    let data_dir = config.data_dir();
    std::fs::create_dir_all(&data_dir).map_err(|error| StartError::DataDir {
        path: data_dir.clone(),
        error,
    })?;
    // Before anything reads or writes the data: one daemon per data dir.
    let mut lock = DaemonLock::acquire(&data_dir)?;
    let secret = Secret::load_or_create(&data_dir)?;
    let cfg = config
        .core()
        .map_err(|e| StartError::Config(e.to_string()))?;
    // Bind first: a port in use must fail the start at once, before anything runs.
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .map_err(|error| StartError::Bind {
            addr: config.api.listen,
            error,
        })?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let store = Arc::new(
        Store::open(&data_dir.join("ao.db")).map_err(|e| StartError::Store(e.to_string()))?,
    );
    let mut journal = Journal::open(&data_dir.join("journal.jsonl"))
        .map_err(|e| StartError::Journal(e.to_string()))?;
    let overrides = config.core_overrides();
    journal
        .append(&JournalEntry::Config { overrides })
        .map_err(|e| StartError::Journal(e.to_string()))?;
    let adapters = Adapters::from_config(&config, &data_dir).map_err(StartError::Adapters)?;
    let guard = Arc::new(Guard::new(secret.clone(), &config.api, addr));
    let url = format!("http://{}", local_addr(addr));
    if let Err(e) = lock.record_url(&url) {
        tracing::warn!("cannot record the URL in the lock file (clients need --url): {e}");
    }
    let shared = Shared::new(
        cfg,
        config,
        data_dir,
        store,
        journal,
        adapters,
        Arc::new(SystemClock),
        url.clone(),
        secret.clone(),
    )
    .map_err(|e| StartError::Store(format!("cannot start the store writer: {e}")))?;
    tracing::info!("listening on {url}");

    // Stamped from the first change on, so ids cover everything a client can miss.
    let event_log = EventLog::start(&shared, shared.clock.now().0);

    // Boot reconcile: finish or roll back interrupted operations, then probe.
    recover(&shared).await;
    // Hook signals spooled while no daemon answered, at their observed times.
    crate::spool::ingest(&shared).await;
    timers::reaper_pass(&shared).await;

    let (stop_tx, stop_rx) = watch::channel(false);
    let timer_task = tokio::spawn(timers::run(shared.clone(), stop_rx.clone()));
    let app = router(ApiState {
        shared: shared.clone(),
        shutdown: stop_tx.clone(),
        guard,
        event_log,
    });
    let mut api_stop = stop_rx.clone();
    // Installed before the readiness line: a SIGTERM right after it is a graceful stop.
    let signals = tokio::spawn(wait_for_signal(stop_tx.clone(), install_signals()));
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = api_stop.wait_for(|s| *s).await;
    });
    // The readiness line tests and scripts wait for, then the browser's sign-in link.
    println!("ao daemon listening on {url}");
    println!("open in a browser: {url}/?token={}", secret.token());
    let served = serve.await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let drain = async {
        let _ = timer_task.await;
        shared.drain().await;
        shared.writer.stop().await;
    };
    if tokio::time::timeout(SHUTDOWN_LIMIT, drain).await.is_err() {
        tracing::warn!("shutdown: in-flight work did not finish in {SHUTDOWN_LIMIT:?}; its intents will be recovered at the next start");
    }
    signals.abort();
    served.map_err(StartError::Serve)
}

/// Where this machine reaches the daemon: the bound address, or loopback
/// when bound to every interface (agents and the sign-in link use it).
fn local_addr(bound: SocketAddr) -> SocketAddr {
    match bound.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, bound.port()))
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, bound.port()))
        }
        _ => bound,
    }
}

/// Finishes or rolls back every operation interrupted by a crash.
async fn recover(shared: &Arc<Shared>) {
    let store = shared.store.clone();
    let intents = match tokio::task::spawn_blocking(move || store.intents()).await {
        Ok(Ok(i)) => i,
        Ok(Err(e)) => {
            tracing::error!("cannot read intents: {e}");
            return;
        }
        Err(e) => {
            tracing::error!("store task failed: {e}");
            return;
        }
    };
    for op in intents {
        let op = op.recover();
        tracing::info!("recovering interrupted operation {}", op.id());
        match shared.run_op(op).await {
            Ok(result) => tracing::info!("recovered: {result}"),
            Err(e) => tracing::error!("recovery failed: {e}"),
        }
    }
}

/// SIGTERM and SIGINT handlers (none, with an error logged, if they cannot be installed).
fn install_signals() -> Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)> {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => Some((term, int)),
        _ => {
            tracing::error!("cannot install signal handlers");
            None
        }
    }
}

async fn wait_for_signal(
    stop: watch::Sender<bool>,
    handlers: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
) {
    let Some((mut term, mut int)) = handlers else {
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = int.recv() => tracing::info!("SIGINT"),
    }
    let _ = stop.send(true);
}
