//! The HTTP API (JSON): sessions, operations, activity ingest, health,
//! Prometheus metrics, a server-sent event stream and a small index page.
//! Every request first passes the door (`crate::guard`): host allowlist,
//! cross-site write rules and a credential on everything but `/` and
//! `/health`.

use crate::config::DEFAULT_PROJECT;
use crate::driver::{DriverError, Metrics, Shared};
use crate::event_log::{EventLog, Resume, Stamped};
use crate::guard::{door, Guard, Principal, COOKIE};
use crate::store::Archived;
use ao_core::domain::*;
use ao_core::journal::JournalEntry;
use ao_core::lcm::{ActivitySignal, Event};
use ao_core::sm::{self, OpId, OpResult};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::watch;

/// What the API's handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The driver's shared state.
    pub shared: Arc<Shared>,
    /// Set to true to stop the daemon.
    pub shutdown: watch::Sender<bool>,
    /// The door every request passes.
    pub guard: Arc<Guard>,
    /// Event ids and the replay buffer of the event stream.
    pub event_log: Arc<EventLog>,
}

/// The router, behind the door (unknown routes included).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/sessions", get(list).post(spawn))
        .route("/sessions/{id}", get(get_one))
        .route("/sessions/{id}/kill", post(kill))
        .route("/sessions/{id}/restore", post(restore))
        .route("/sessions/{id}/send", post(send))
        .route("/sessions/{id}/activity", post(activity))
        .route("/sessions/{id}/archive", post(archive))
        .route("/projects/{project}/cleanup", post(cleanup))
        .route("/events", get(events))
        .route("/shutdown", post(shutdown))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(axum::middleware::from_fn_with_state(
            state.guard.clone(),
            door,
        ))
        .with_state(state)
}

/// A JSON request body whose rejection (bad JSON, unknown field, bad value)
/// is a JSON error carrying the reason, like every other error.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(error(e.status(), e.body_text())),
        }
    }
}

/// `/?token=…` (the link the daemon prints) trades the token for the cookie.
#[derive(Deserialize)]
struct SignIn {
    token: Option<String>,
}

async fn index(
    State(state): State<ApiState>,
    Query(q): Query<SignIn>,
    principal: Option<axum::Extension<Principal>>,
) -> Response {
    let secret = state.guard.secret();
    if let Some(token) = q.token {
        if !secret.is_token(&token) {
            return error(StatusCode::UNAUTHORIZED, "wrong token");
        }
        let cookie = format!(
            "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
            secret.cookie_value()
        );
        return (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/".to_owned()),
                (header::SET_COOKIE, cookie),
            ],
        )
            .into_response();
    }
    let signed_in = matches!(principal, Some(axum::Extension(Principal::User)));
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        index_page(signed_in),
    )
        .into_response()
}

/// The index: what each endpoint is (the dashboard builds on this page).
fn index_page(signed_in: bool) -> String {
    let who = if signed_in {
        "You are signed in: the links below work in this browser."
    } else {
        "You are not signed in: open the link the daemon printed when it started \
         (<code>http://127.0.0.1:PORT/?token=…</code>); the links below need it."
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ao</title></head>\n\
         <body>\n<h1>ao daemon</h1>\n<p>{who}</p>\n<ul>\n\
         <li><a href=\"/sessions\">/sessions</a>: every session with its status (JSON)</li>\n\
         <li><a href=\"/events\">/events</a>: live status changes (server-sent events)</li>\n\
         <li><a href=\"/metrics\">/metrics</a>: counters (Prometheus text format)</li>\n\
         <li><a href=\"/health\">/health</a>: liveness (no sign-in needed)</li>\n\
         </ul>\n</body></html>\n"
    )
}

/// A JSON error body.
#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

/// A JSON error answer: `{"error": message}`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            error: message.into(),
        }),
    )
        .into_response()
}

fn driver_error(e: DriverError) -> Response {
    let status = match e {
        DriverError::UnknownSession(_) => StatusCode::NOT_FOUND,
        DriverError::Rejected(_) => StatusCode::CONFLICT,
        DriverError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        DriverError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
    };
    error(status, e.to_string())
}

/// A record with its derived display status.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct SessionView {
    /// Derived on read, never stored.
    pub status: DisplayStatus,
    /// Hooks have reported at least once (activity source is not `none`).
    pub hooks_reporting: bool,
    /// Finished and reclaimed (terminal, runtime and workspace released):
    /// `ao ls` hides it unless `--all`, and `ao rm` may archive it.
    #[serde(default)]
    pub cleaned: bool,
    /// When the display status last changed (ms since the Unix epoch).
    #[serde(default)]
    pub status_since: Option<ao_core::time::Timestamp>,
    /// The file the agent's output goes to, when its runtime keeps one.
    #[serde(default)]
    pub output_log: Option<String>,
    /// The canonical record.
    #[serde(flatten)]
    pub record: SessionRecord,
}

impl From<SessionRecord> for SessionView {
    fn from(record: SessionRecord) -> Self {
        SessionView {
            status: display_status(&record.lifecycle),
            hooks_reporting: record.lifecycle.activity.source != ActivitySource::None,
            cleaned: is_cleaned(&record),
            status_since: None,
            output_log: None,
            record,
        }
    }
}

/// Terminal with its runtime and workspace released: nothing left but the record.
pub fn is_cleaned(rec: &SessionRecord) -> bool {
    rec.is_terminal()
        && rec.metadata.runtime_handle.is_none()
        && rec.metadata.workspace_path.is_none()
}

/// Records as views, with when each one's status last changed.
async fn views(
    state: &ApiState,
    records: Vec<SessionRecord>,
) -> Result<Vec<SessionView>, Response> {
    let store = state.shared.store.clone();
    let since = blocking(move || store.status_since())
        .await?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(records
        .into_iter()
        .map(|r| {
            let at = since.get(&r.id).copied();
            let log = state.shared.adapters.output_log(&r);
            let mut v = SessionView::from(r);
            v.status_since = at;
            v.output_log = log.map(|p| p.display().to_string());
            v
        })
        .collect())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn records(state: &ApiState) -> Result<Vec<SessionRecord>, Response> {
    let store = state.shared.store.clone();
    blocking(move || store.records())
        .await?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn record(state: &ApiState, id: &SessionId) -> Result<Option<SessionRecord>, Response> {
    let store = state.shared.store.clone();
    let id = id.clone();
    blocking(move || store.get(&id))
        .await?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn next_op(state: &ApiState) -> Result<OpId, Response> {
    let store = state.shared.store.clone();
    blocking(move || store.next_op_id())
        .await?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn health(State(state): State<ApiState>) -> Response {
    match records(&state).await {
        Ok(r) => Json(serde_json::json!({"status": "ok", "sessions": r.len()})).into_response(),
        Err(e) => e,
    }
}

async fn metrics(State(state): State<ApiState>) -> Response {
    let all = match records(&state).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut by_status = std::collections::BTreeMap::<String, u64>::new();
    for r in &all {
        *by_status
            .entry(display_status(&r.lifecycle).to_string())
            .or_default() += 1;
    }
    let rows: Vec<(String, u64)> = by_status.into_iter().collect();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.shared.metrics.render(&rows),
    )
        .into_response()
}

async fn list(State(state): State<ApiState>) -> Response {
    let all = match records(&state).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    match views(&state, all).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e,
    }
}

async fn get_one(State(state): State<ApiState>, Path(id): Path<String>) -> Response {
    let rec = match record(&state, &SessionId(id.clone())).await {
        Ok(Some(r)) => r,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no such session `{id}`")),
        Err(e) => return e,
    };
    match views(&state, vec![rec]).await {
        Ok(mut v) => v.pop().map_or_else(
            || error(StatusCode::NOT_FOUND, format!("no such session `{id}`")),
            |v| Json(v).into_response(),
        ),
        Err(e) => e,
    }
}

/// `ao rm`: archives a cleaned session (refused, with what to do, otherwise).
async fn archive(State(state): State<ApiState>, Path(id): Path<String>) -> Response {
    let shared = state.shared.clone();
    let session = SessionId(id);
    let key = session.clone();
    let at = shared.clock.now();
    let store = shared.store.clone();
    let archived = match blocking(move || store.archive(&key, at, is_cleaned)).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => return e,
    };
    match archived {
        Archived::Done => {
            if let Err(e) = shared.writer.journal(&JournalEntry::Archived {
                session: session.clone(),
            }) {
                tracing::error!("journal append failed: {e}");
            }
            Json(serde_json::json!({"archived": session})).into_response()
        }
        Archived::Missing => error(
            StatusCode::NOT_FOUND,
            format!("no such session `{session}`"),
        ),
        Archived::Refused(rec) => error(StatusCode::CONFLICT, not_cleaned(&rec)),
    }
}

/// Why a session cannot be archived yet, and what to do about it.
fn not_cleaned(rec: &SessionRecord) -> String {
    let (id, project) = (&rec.id, &rec.project_id);
    if !rec.is_terminal() {
        return format!(
            "session `{id}` is {} (not finished): kill it first (`ao kill {id}`), then `ao cleanup {project}`, then `ao rm {id}`",
            display_status(&rec.lifecycle)
        );
    }
    match &rec.metadata.workspace_path {
        Some(ws) => format!(
            "session `{id}` still has its workspace {ws}: run `ao cleanup {project}` (a workspace with uncommitted work is kept until you commit or remove that work), then `ao rm {id}`"
        ),
        None => format!(
            "session `{id}` still has its runtime: run `ao cleanup {project}`, then `ao rm {id}`"
        ),
    }
}

/// A spawn request.
#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct SpawnBody {
    /// Project (default `default`).
    #[serde(default)]
    pub project: Option<String>,
    /// Issue id.
    #[serde(default)]
    pub issue: String,
    /// Worker (default) or orchestrator.
    #[serde(default)]
    pub kind: Option<SessionKind>,
    /// Branch (default `ao/<id>`).
    #[serde(default)]
    pub branch: Option<String>,
    /// What the agent should do.
    pub prompt: String,
    /// Extra rules for the agent.
    #[serde(default)]
    pub rules: Option<String>,
}

/// An operation's outcome.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct OpResponse {
    /// The session (for a spawn: the new id).
    pub session: Option<String>,
    /// Completed (true) or rolled back (false).
    pub ok: bool,
    /// What happened, for humans.
    pub summary: String,
    /// The full result.
    pub result: OpResult,
}

fn op_response(session: Option<&SessionId>, result: OpResult) -> Response {
    let status = if result.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = OpResponse {
        session: session.map(ToString::to_string),
        ok: result.is_ok(),
        summary: result.to_string(),
        result,
    };
    (status, Json(body)).into_response()
}

async fn spawn(State(state): State<ApiState>, Body(body): Body<SpawnBody>) -> Response {
    let shared = &state.shared;
    let project = ProjectId(
        body.project
            .clone()
            .unwrap_or_else(|| DEFAULT_PROJECT.to_owned()),
    );
    let store = shared.store.clone();
    let p = project.clone();
    let id = match blocking(move || store.next_session_id(&p)).await {
        Ok(Ok(id)) => id,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => return e,
    };
    let op = match next_op(&state).await {
        Ok(op) => op,
        Err(e) => return e,
    };
    let Some(workspace_path) = Handle::new(
        shared
            .data_dir
            .join("workspaces")
            .join(project.as_str())
            .join(id.as_str())
            .display()
            .to_string(),
    ) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "empty workspace path");
    };
    let Some(runtime_handle) = shared.adapters.runtime_handle(&id, None) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "empty runtime handle");
    };
    let req = sm::SpawnRequest {
        op,
        id: id.clone(),
        project: project.clone(),
        issue: IssueId(body.issue.clone()),
        kind: body.kind.unwrap_or(SessionKind::Worker),
        branch: body.branch.clone().unwrap_or_else(|| format!("ao/{id}")),
        prompt: body.prompt.clone(),
        rules: body.rules.clone(),
        workspace_path,
        runtime_handle,
        runtime_name: shared.adapters.runtime_kind_name(&project).to_owned(),
        at: shared.clock.now(),
    };
    let existing = match records(&state).await {
        Ok(r) => r
            .into_iter()
            .map(|r| r.id)
            .collect::<std::collections::BTreeSet<_>>(),
        Err(e) => return e,
    };
    let op = match sm::plan_spawn(req, &shared.cfg, |s| existing.contains(s)) {
        Ok(op) => op,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    match shared.run_op(op).await {
        Ok(result) => op_response(Some(&id), result),
        Err(e) => driver_error(e),
    }
}

async fn kill(State(state): State<ApiState>, Path(id): Path<String>) -> Response {
    let id = SessionId(id);
    let rec = match record(&state, &id).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    let op = match next_op(&state).await {
        Ok(op) => op,
        Err(e) => return e,
    };
    match sm::plan_kill(op, rec.as_ref(), KillKind::Manual) {
        None => error(
            StatusCode::NOT_FOUND,
            format!("no such session `{id}` (nothing to kill)"),
        ),
        Some(op) => match state.shared.run_op(op).await {
            Ok(result) => op_response(Some(&id), result),
            Err(e) => driver_error(e),
        },
    }
}

async fn restore(State(state): State<ApiState>, Path(id): Path<String>) -> Response {
    let shared = &state.shared;
    let id = SessionId(id);
    let rec = match record(&state, &id).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    let op = match next_op(&state).await {
        Ok(op) => op,
        Err(e) => return e,
    };
    let project = rec.as_ref().map_or_else(
        || ProjectId::from(DEFAULT_PROJECT),
        |r| r.project_id.clone(),
    );
    let (Some(handle), Some(workspace)) = (
        shared.adapters.runtime_handle(&id, Some(&op)),
        Handle::new(
            shared
                .data_dir
                .join("workspaces")
                .join(project.as_str())
                .join(id.as_str())
                .display()
                .to_string(),
        ),
    ) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "empty handle");
    };
    let op = match sm::plan_restore(op, &id, rec.as_ref(), &shared.cfg, handle, workspace) {
        Ok(op) => op,
        Err(e @ sm::SmError::NotFound { .. }) => {
            return error(StatusCode::NOT_FOUND, e.to_string())
        }
        Err(e @ sm::SmError::NotTerminal { .. }) => {
            let gone = rec.as_ref().is_some_and(|r| {
                r.metadata.runtime_handle.is_none()
                    || matches!(
                        r.lifecycle.runtime.state,
                        RuntimeState::Exited | RuntimeState::Missing
                    )
            });
            let advice = if gone {
                format!(": its runtime is gone but the session is not finished; kill it first (`ao kill {id}`), then `ao restore {id}`")
            } else {
                format!(": it is still running; `ao kill {id}` first if you want to restart it")
            };
            return error(StatusCode::CONFLICT, format!("{e}{advice}"));
        }
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    match shared.run_op(op).await {
        Ok(result) => op_response(Some(&id), result),
        Err(e) => driver_error(e),
    }
}

async fn cleanup(State(state): State<ApiState>, Path(project): Path<String>) -> Response {
    let all = match records(&state).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    let project = ProjectId(project);
    let known = state.shared.cfg.projects.contains_key(&project)
        || all.iter().any(|r| r.project_id == project);
    if !known {
        return error(
            StatusCode::BAD_REQUEST,
            sm::SmError::UnknownProject(project).to_string(),
        );
    }
    let op = match next_op(&state).await {
        Ok(op) => op,
        Err(e) => return e,
    };
    let op = sm::plan_cleanup(op, &project, &all);
    match state.shared.run_op(op).await {
        Ok(result) => op_response(None, result),
        Err(e) => driver_error(e),
    }
}

/// A message from the human to the agent.
#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// The text.
    pub message: String,
}

async fn send(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Body(body): Body<SendBody>,
) -> Response {
    let id = SessionId(id);
    let rec = match record(&state, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no such session `{id}`")),
        Err(e) => return e,
    };
    match state.shared.adapters.send(&rec, &body.message).await {
        Ok(()) => {
            Metrics::inc(&state.shared.metrics.sends);
            Json(serde_json::json!({"delivered": true})).into_response()
        }
        Err(e) => {
            Metrics::inc(&state.shared.metrics.send_failures);
            error(StatusCode::BAD_GATEWAY, e.to_string())
        }
    }
}

/// An activity signal from an agent's hook: a state, the agent's own
/// session id, or both; or a payload the hook could not use (`rejected`:
/// counted and logged, nothing fed).
#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ActivityBody {
    /// What the agent is doing.
    #[serde(default)]
    pub state: Option<ActivityState>,
    /// Default `valid`.
    #[serde(default)]
    pub confidence: Option<Confidence>,
    /// Default `hook`.
    #[serde(default)]
    pub source: Option<ActivitySource>,
    /// The agent's own session id (a later restore resumes it).
    #[serde(default)]
    pub agent_session_id: Option<String>,
    /// Why `ao hook` could not use what the agent sent.
    #[serde(default)]
    pub rejected: Option<String>,
}

async fn activity(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Body(body): Body<ActivityBody>,
) -> Response {
    let shared = &state.shared;
    let id = SessionId(id);
    if let Some(why) = &body.rejected {
        if body.state.is_some() || body.agent_session_id.is_some() {
            return error(StatusCode::BAD_REQUEST, "`rejected` comes alone");
        }
        Metrics::inc(&shared.metrics.hook_rejects);
        let why: String = why.chars().filter(|c| !c.is_control()).take(300).collect();
        tracing::warn!(session = %id, "an agent hook's payload was rejected: {why}");
        return Json(serde_json::json!({"rejected": true})).into_response();
    }
    let identified = body
        .agent_session_id
        .filter(|a| !a.trim().is_empty())
        .map(|agent_session_id| Event::AgentIdentified { agent_session_id });
    let signal = body.state.map(|s| {
        Event::Activity(ActivitySignal {
            state: s,
            confidence: body.confidence.unwrap_or(Confidence::Valid),
            source: body.source.unwrap_or(ActivitySource::Hook),
        })
    });
    if signal.is_none() && identified.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "give `state`, `agent_session_id` or both",
        );
    }
    let mut fed = None;
    for event in signal.into_iter().chain(identified) {
        match shared.feed(&id, event).await {
            Ok(f) => fed = Some(f),
            Err(e) => return driver_error(e),
        }
    }
    Json(serde_json::json!({"fed": fed})).into_response()
}

/// The event stream: a snapshot of every session first (or, with
/// `Last-Event-ID`, the events missed since — or a `gap` event saying why
/// not, then the snapshot), then each change as it happens, each with its id.
async fn events(State(state): State<ApiState>, headers: axum::http::HeaderMap) -> Response {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (resume, mut rx) = state.event_log.resume(last.as_deref());
    let stream = async_stream(move |tx| async move {
        let log = state.event_log.clone();
        let send = |e: SseEvent| {
            let tx = tx.clone();
            async move { tx.send(Ok::<_, std::convert::Infallible>(e)).await.is_ok() }
        };
        let first = match resume {
            Resume::Snapshot { seq } => vec![snapshot(&state, &log.id(seq)).await],
            Resume::Replay(missed) => missed.iter().map(|e| stamped(&log, e)).collect(),
            Resume::Gap { reason, seq } => vec![
                SseEvent::default()
                    .event("gap")
                    .data(serde_json::json!({ "error": reason }).to_string()),
                snapshot(&state, &log.id(seq)).await,
            ],
        };
        for e in first {
            if !send(e).await {
                return;
            }
        }
        loop {
            let next = match rx.recv().await {
                Ok(e) => stamped(&log, &e),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    let gap = SseEvent::default().event("gap").data(
                        serde_json::json!({ "error": format!("{n} events were dropped: this client read too slowly") })
                            .to_string(),
                    );
                    if !send(gap).await {
                        return;
                    }
                    snapshot(&state, "").await
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if !send(next).await {
                return;
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// One session change as an SSE event with its id.
fn stamped(log: &EventLog, e: &Stamped) -> SseEvent {
    SseEvent::default()
        .event("session")
        .id(log.id(e.seq))
        .data(serde_json::to_string(&e.event).unwrap_or_default())
}

/// Every session as it is now (`id`: the last event it reflects, if any).
async fn snapshot(state: &ApiState, id: &str) -> SseEvent {
    let all = match records(state).await {
        Ok(r) => views(state, r).await.ok(),
        Err(_) => None,
    };
    let event = SseEvent::default().event("snapshot");
    let event = if id.is_empty() { event } else { event.id(id) };
    match all {
        Some(v) => event.data(serde_json::to_string(&v).unwrap_or_default()),
        None => SseEvent::default().event("gap").data(
            serde_json::json!({ "error": "cannot read the sessions for a snapshot" }).to_string(),
        ),
    }
}

/// A stream fed by a task through a channel (no extra stream crate needed).
fn async_stream<T: Send + 'static, F, Fut>(body: F) -> tokio_stream_lite::ReceiverStream<T>
where
    F: FnOnce(tokio::sync::mpsc::Sender<T>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(body(tx));
    tokio_stream_lite::ReceiverStream(rx)
}

/// The smallest `Stream` over an mpsc receiver.
mod tokio_stream_lite {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A receiver as a stream.
    pub struct ReceiverStream<T>(pub tokio::sync::mpsc::Receiver<T>);

    impl<T> futures_core::Stream for ReceiverStream<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }
}

async fn shutdown(State(state): State<ApiState>) -> Response {
    let _ = state.shutdown.send(true);
    Json(serde_json::json!({"shutting_down": true})).into_response()
}
