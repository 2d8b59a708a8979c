//! The HTTP API (JSON): sessions, operations, activity ingest, health,
//! Prometheus metrics, a server-sent event stream, and the dashboard
//! (`crate::web`).
//! Every request first passes the door (`crate::guard`): host allowlist,
//! cross-site write rules and a credential on everything but `/` and
//! `/health`. Each route is registered with its OpenAPI description
//! ([`routes`]), so the router and `/openapi.json` cannot disagree.

use crate::config::DEFAULT_PROJECT;
use crate::driver::{DriverError, Metrics, Shared};
use crate::event_log::{EventLog, Resume, Stamped};
use crate::guard::{door, Guard};
use crate::store::Archived;
use ao_core::domain::*;
use ao_core::journal::JournalEntry;
use ao_core::lcm::{ActivitySignal, Event};
use ao_core::sm::{self, OpId, OpResult};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::watch;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// Every route with its OpenAPI description: the router and the document
/// are both made from this one list, so a route cannot go undocumented.
pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(crate::web::openapi::ApiDoc::openapi())
        .routes(routes!(crate::web::index))
        .routes(routes!(crate::web::assets::asset))
        .routes(routes!(crate::web::openapi::document_json))
        .routes(routes!(health))
        .routes(routes!(metrics))
        .routes(routes!(list, spawn))
        .routes(routes!(get_one))
        .routes(routes!(kill))
        .routes(routes!(restore))
        .routes(routes!(send))
        .routes(routes!(activity))
        .routes(routes!(archive))
        .routes(routes!(crate::web::timeline))
        .routes(routes!(crate::web::output))
        .routes(routes!(cleanup))
        .routes(routes!(events))
        .routes(routes!(shutdown))
}

/// The router, behind the door (unknown routes included).
pub fn router(state: ApiState) -> Router {
    let (routes, _) = routes().split_for_parts();
    routes
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

/// A JSON error body.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
#[schema(examples(json!({"error": "no such session `default-7`"})))]
pub struct ErrorBody {
    /// What went wrong and, where there is one, what to do about it.
    pub error: String,
}

/// `GET /health`'s answer.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
#[schema(examples(json!({"status": "ok", "sessions": 3})))]
pub struct Health {
    /// Always `ok` when the daemon answers.
    pub status: String,
    /// How many sessions the store holds.
    pub sessions: usize,
}

/// `POST /sessions/{id}/archive`'s answer.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
#[schema(examples(json!({"archived": "default-1"})))]
pub struct ArchivedBody {
    /// The session, now out of the store.
    pub archived: SessionId,
}

/// `POST /sessions/{id}/send`'s answer.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
#[schema(examples(json!({"delivered": true})))]
pub struct Delivered {
    /// The message reached the agent's input.
    pub delivered: bool,
}

/// `POST /sessions/{id}/activity`'s answer.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
#[schema(examples(json!({"fed": "written"})))]
pub struct FedBody {
    /// What the signal achieved: a write, or nothing changed.
    pub fed: crate::driver::Fed,
}

/// A payload `ao hook` could not use, counted and logged.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
#[schema(examples(json!({"rejected": true})))]
pub struct Rejected {
    /// Nothing was fed.
    pub rejected: bool,
}

/// `POST /sessions/{id}/activity`'s answer: what a signal achieved, or that
/// the hook's payload was rejected.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
#[serde(untagged)]
pub enum ActivityAnswer {
    /// The signal (and the agent's session id) reached the core.
    Fed(FedBody),
    /// The hook could not use what the agent sent.
    Rejected(Rejected),
}

/// `POST /shutdown`'s answer.
#[derive(Serialize, Deserialize, Debug, ToSchema)]
#[schema(examples(json!({"shutting_down": true})))]
pub struct ShuttingDown {
    /// The daemon is stopping.
    pub shutting_down: bool,
}

/// The `id` path parameter.
const SESSION_ID: &str = "The session id, e.g. `default-1`.";

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
#[derive(Serialize, Deserialize, Clone, Debug, ToSchema)]
#[schema(examples(crate::web::openapi::session_view_example))]
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
    /// The command that attaches a terminal to the agent (tmux runtimes), as
    /// a program and its arguments.
    #[serde(default)]
    pub attach: Option<Vec<String>>,
    /// [`Self::attach`] as one shell line, for people to copy.
    #[serde(default)]
    pub attach_command: Option<String>,
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
            attach: None,
            attach_command: None,
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
            let adapters = &state.shared.adapters;
            let log = adapters.output_log(&r);
            let attach = adapters.attach_argv(&r);
            let attach_command = adapters.attach_command(&r);
            let mut v = SessionView::from(r);
            v.status_since = at;
            v.output_log = log.map(|p| p.display().to_string());
            v.attach = attach;
            v.attach_command = attach_command;
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

#[utoipa::path(get, path = "/health", tag = "meta", security(()),
    responses((status = 200, description = "The daemon is up", body = Health)))]
async fn health(State(state): State<ApiState>) -> Response {
    match records(&state).await {
        Ok(r) => Json(Health {
            status: "ok".to_owned(),
            sessions: r.len(),
        })
        .into_response(),
        Err(e) => e,
    }
}

#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "Prometheus text exposition: operation and send counters, sessions by display status", body = String, content_type = "text/plain; version=0.0.4")))]
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

#[utoipa::path(get, path = "/sessions", tag = "sessions",
    responses((status = 200, description = "Every session (finished ones included), each with its display status", body = Vec<SessionView>)))]
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

#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = SESSION_ID)),
    responses(
        (status = 200, description = "The session", body = SessionView),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
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
#[utoipa::path(post, path = "/sessions/{id}/archive", tag = "sessions",
    params(("id" = String, Path, description = SESSION_ID)),
    responses(
        (status = 200, description = "Archived: the record left the store", body = ArchivedBody),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "Not cleaned yet; the message says what to run first", body = ErrorBody),
    ))]
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
            Json(ArchivedBody { archived: session }).into_response()
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
#[derive(Deserialize, Serialize, Debug, Clone, ToSchema)]
#[schema(examples(json!({"project": "default", "issue": "42", "prompt": "Fix the flaky login test"})))]
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
#[derive(Serialize, Deserialize, Debug, Clone, ToSchema)]
#[schema(examples(json!({"session": "default-1", "ok": true, "summary": "spawned default-1", "result": {"spawned": {"session": "default-1"}}})))]
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

#[utoipa::path(post, path = "/sessions", tag = "operations", request_body = SpawnBody,
    responses(
        (status = 200, description = "Spawned", body = OpResponse),
        (status = 400, description = "A bad request (unknown field, unknown project, ...); nothing changed", body = ErrorBody),
        (status = 422, description = "Failed and rolled back; `result` says what became of each resource", body = OpResponse),
        (status = 503, description = "The daemon is shutting down", body = ErrorBody),
    ))]
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

#[utoipa::path(post, path = "/sessions/{id}/kill", tag = "operations",
    params(("id" = String, Path, description = SESSION_ID)),
    responses(
        (status = 200, description = "Killed; `result` says what was freed", body = OpResponse),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 422, description = "Failed and rolled back", body = OpResponse),
    ))]
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

#[utoipa::path(post, path = "/sessions/{id}/restore", tag = "operations",
    params(("id" = String, Path, description = SESSION_ID)),
    responses(
        (status = 200, description = "Restored (resumed or relaunched)", body = OpResponse),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "Not finished; the message says what to do", body = ErrorBody),
        (status = 422, description = "Failed and rolled back", body = OpResponse),
    ))]
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

#[utoipa::path(post, path = "/projects/{project}/cleanup", tag = "operations",
    params(("project" = String, Path, description = "The project id, e.g. `default`.")),
    responses(
        (status = 200, description = "Cleaned; `result` lists what was reclaimed and what was left, with why", body = OpResponse),
        (status = 400, description = "Unknown project", body = ErrorBody),
    ))]
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
#[derive(Deserialize, Serialize, Debug, Clone, ToSchema)]
#[schema(examples(json!({"message": "Please rebase on main"})))]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// The text.
    pub message: String,
}

#[utoipa::path(post, path = "/sessions/{id}/send", tag = "sessions", request_body = SendBody,
    params(("id" = String, Path, description = SESSION_ID)),
    responses(
        (status = 200, description = "Delivered to the agent's input", body = Delivered),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 502, description = "The runtime refused the message", body = ErrorBody),
    ))]
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
            Json(Delivered { delivered: true }).into_response()
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
#[derive(Deserialize, Serialize, Debug, Clone, ToSchema)]
#[schema(examples(json!({"state": "waiting_input"})))]
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

#[utoipa::path(post, path = "/sessions/{id}/activity", tag = "sessions", request_body = ActivityBody,
    params(("id" = String, Path, description = SESSION_ID)),
    responses(
        (status = 200, description = "Fed to the session's core (`fed`), or a hook payload that was counted and logged (`rejected`)", body = ActivityAnswer),
        (status = 400, description = "Neither a state nor an agent session id, or `rejected` with either", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ),
    security(("token" = []), ("cookie" = []), ("hook" = [])))]
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
        return Json(ActivityAnswer::Rejected(Rejected { rejected: true })).into_response();
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
    let mut events = signal.into_iter().chain(identified);
    let Some(first) = events.next() else {
        return error(
            StatusCode::BAD_REQUEST,
            "give `state`, `agent_session_id` or both",
        );
    };
    let mut fed = match shared.feed(&id, first).await {
        Ok(f) => f,
        Err(e) => return driver_error(e),
    };
    for event in events {
        match shared.feed(&id, event).await {
            Ok(f) => fed = f,
            Err(e) => return driver_error(e),
        }
    }
    Json(ActivityAnswer::Fed(FedBody { fed })).into_response()
}

/// The event stream: a snapshot of every session first (or, with
/// `Last-Event-ID`, the events missed since — or a `gap` event saying why
/// not, then the snapshot), then each change as it happens, each with its id.
#[utoipa::path(get, path = "/events", tag = "events",
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id: the missed events, or a `gap` event and a fresh snapshot")),
    responses((status = 200, description = "Server-sent events. `snapshot`: every session (a JSON array of `SessionView`), first and after a gap; `session`: one change (a `SessionEvent`); `gap`: events were missed (an `ErrorBody` saying why), a snapshot follows", body = String, content_type = "text/event-stream")))]
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

#[utoipa::path(post, path = "/shutdown", tag = "meta",
    responses((status = 200, description = "The daemon stops", body = ShuttingDown)))]
async fn shutdown(State(state): State<ApiState>) -> Response {
    let _ = state.shutdown.send(true);
    Json(ShuttingDown {
        shutting_down: true,
    })
    .into_response()
}
