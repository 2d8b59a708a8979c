//! The dashboard: a view of the API the daemon already serves, owning no
//! state and no decisions. `/` is the page (and the browser's sign-in: the
//! printed `/?token=…` link trades the token for a cookie), `/assets/…` its
//! script and style compiled into the binary, and two read routes made for
//! it: a session's timeline (its journal entries) and the last lines of its
//! terminal.

pub mod assets;
pub mod openapi;
pub mod timeline;

use crate::api::{error, ApiState};
use crate::guard::COOKIE;
use ao_core::domain::SessionId;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `/?token=…` (the link the daemon prints) trades the token for the cookie.
#[derive(Deserialize)]
pub struct SignIn {
    token: Option<String>,
}

/// `GET /`: the dashboard, or with `?token=` the sign-in that sets the cookie.
#[utoipa::path(get, path = "/", tag = "dashboard", security(()),
    params(("token" = Option<String>, Query, description = "The daemon's token (the link `ao daemon` prints): traded for a `HttpOnly; SameSite=Strict` cookie")),
    responses(
        (status = 200, description = "The dashboard page", body = String, content_type = "text/html"),
        (status = 303, description = "Signed in: the cookie is set and the browser goes to `/`"),
        (status = 401, description = "Wrong token", body = crate::api::ErrorBody),
    ))]
pub async fn index(State(state): State<ApiState>, Query(q): Query<SignIn>) -> Response {
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
    assets::page()
}

/// How many timeline entries to return.
#[derive(Deserialize, Debug, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// At most this many, newest first (default 200, at most 1000).
    pub limit: Option<usize>,
}

/// `GET /sessions/{id}/timeline`: the session's journal entries, newest first.
#[utoipa::path(get, path = "/sessions/{id}/timeline", tag = "sessions",
    params(("id" = String, Path, description = "The session id, e.g. `default-1`."), TimelineQuery),
    responses(
        (status = 200, description = "The session's journal entries, newest first, in words", body = timeline::Timeline),
        (status = 400, description = "A malformed or unknown query parameter", body = crate::api::ErrorBody),
        (status = 404, description = "No such session", body = crate::api::ErrorBody),
    ))]
pub async fn timeline(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Params(q): Params<TimelineQuery>,
) -> Response {
    let session = SessionId(id);
    if let Err(e) = known(&state, &session).await {
        return e;
    }
    let active = state.shared.data_dir.join("journal.jsonl");
    let limit = q.limit.unwrap_or(200);
    let read = tokio::task::spawn_blocking(move || timeline::read(&active, &session, limit)).await;
    match read {
        Ok(Ok(t)) => Json(t).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// How many lines of output to return.
#[derive(Deserialize, Debug, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutputQuery {
    /// The last this many lines (default 100, at most 5000).
    pub lines: Option<usize>,
}

/// The last lines of a session's agent output.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(examples(json!({
    "session": "default-1",
    "runtime": "process",
    "source": "/home/me/.ao/process/default-1.log",
    "lines": ["Running tests...", "12 passed"]
})))]
pub struct Output {
    /// The session.
    pub session: String,
    /// Its runtime kind (`tmux`, `process`).
    pub runtime: String,
    /// Where the lines were read: the output log, or the tmux attach command.
    pub source: String,
    /// The lines, oldest first.
    pub lines: Vec<String>,
}

/// The most output lines one request returns.
pub const MAX_OUTPUT_LINES: usize = 5000;

/// `GET /sessions/{id}/output`: the last lines of the agent's terminal or output log.
#[utoipa::path(get, path = "/sessions/{id}/output", tag = "sessions",
    params(("id" = String, Path, description = "The session id, e.g. `default-1`."), OutputQuery),
    responses(
        (status = 200, description = "The last lines of the agent's terminal (tmux) or output log (process)", body = Output),
        (status = 400, description = "A malformed or unknown query parameter", body = crate::api::ErrorBody),
        (status = 404, description = "No such session", body = crate::api::ErrorBody),
        (status = 409, description = "The session has no terminal to read (finished, or its runtime is gone)", body = crate::api::ErrorBody),
    ))]
pub async fn output(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Params(q): Params<OutputQuery>,
) -> Response {
    let session = SessionId(id);
    let rec = match known(&state, &session).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    let lines = q.lines.unwrap_or(100).clamp(1, MAX_OUTPUT_LINES);
    match state.shared.adapters.output(&rec, lines).await {
        Ok(out) => Json(Output {
            session: session.to_string(),
            runtime: out.runtime.to_owned(),
            source: out.source,
            lines: out.lines,
        })
        .into_response(),
        Err(e) => error(StatusCode::CONFLICT, e.to_string()),
    }
}

/// Query parameters whose rejection (an unknown or malformed parameter)
/// is a JSON error carrying the reason, like every other error.
pub struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(e) => Err(error(e.status(), e.body_text())),
        }
    }
}

/// The session's record, or a 404 naming it.
async fn known(
    state: &ApiState,
    session: &SessionId,
) -> Result<ao_core::domain::SessionRecord, Response> {
    let store = state.shared.store.clone();
    let key = session.clone();
    match tokio::task::spawn_blocking(move || store.get(&key)).await {
        Ok(Ok(Some(r))) => Ok(r),
        Ok(Ok(None)) => Err(error(
            StatusCode::NOT_FOUND,
            format!("no such session `{session}`"),
        )),
        Ok(Err(e)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}
