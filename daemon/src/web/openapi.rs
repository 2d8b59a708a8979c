//! The HTTP API as an OpenAPI 3.1 document, generated from the handlers'
//! annotations and the wire types themselves (`utoipa`), served at
//! `/openapi.json`. Routes are registered together with their description
//! (`crate::api::routes`), so the document lists exactly what the router
//! serves; the door's refusals, common to every route, are added here.

use crate::api::{routes, ErrorBody};
use crate::driver::SessionEvent;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::schema::{AllOf, Object, OneOf, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, Response as DocResponse, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

/// The document's frame: title, tags, credentials and the door's answers;
/// the paths and schemas come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ao daemon",
        description = "The HTTP API of `ao daemon`: sessions, operations, activity ingest, the event stream, metrics and the dashboard. Every request must name the daemon in `Host`; a present `Origin` must be the daemon's own; every POST must be `application/json`; everything but `/`, `/assets/*` and `/health` needs a credential: `Authorization: Bearer <token>` (the file `token` in the daemon's data directory) or the dashboard's cookie. A session's hook token reaches only that session's `/activity`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    tags(
        (name = "sessions", description = "Reading sessions and talking to their agents"),
        (name = "operations", description = "Spawn, kill, restore, cleanup: each answers what it did and, on failure, what became of every resource"),
        (name = "events", description = "The live stream of session changes"),
        (name = "dashboard", description = "The web page and its files"),
        (name = "meta", description = "Health, metrics, this document, shutdown"),
    ),
    components(schemas(SessionEvent)),
    security(("token" = []), ("cookie" = []))
)]
pub struct ApiDoc;

/// Adds the credential schemes and the door's refusals to every operation
/// (applied to the whole document, once the routes are in).
struct Door;

impl Modify for Door {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The daemon's token: the file `token` in its data directory",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::guard::COOKIE,
                "Set by `/?token=…` for the dashboard",
            ))),
        );
        components.add_security_scheme(
            "hook",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session's hook token: only that session's `/activity`",
                    ))
                    .build(),
            ),
        );
        for item in doc.paths.paths.values_mut() {
            let ops = [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
            ];
            for (method, op) in ops {
                if let Some(op) = op {
                    add_refusals(op, method == HttpMethod::Post);
                }
            }
        }
    }
}

/// The answers an operation can get before its handler runs: the door's
/// refusals, and for a JSON body, the body's rejection.
fn add_refusals(op: &mut Operation, post: bool) {
    let public = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().all(|r| r == &Default::default()));
    let mut refusals = vec![
        ("421", "The `Host` is not one of the daemon's names"),
        ("403", "A cross-origin request"),
    ];
    if !public {
        refusals.push(("401", "A missing or wrong credential"));
    }
    if post {
        refusals.push(("415", "Not `Content-Type: application/json`"));
    }
    if op.request_body.is_some() {
        refusals.push(("400", "The body is not JSON"));
        refusals.push((
            "422",
            "The body does not fit its schema (an unknown, missing or mistyped field); nothing changed",
        ));
    }
    for (code, why) in refusals {
        let answers = &mut op.responses.responses;
        match answers.get_mut(code) {
            None => {
                answers.insert(code.to_owned(), refusal(why));
            }
            Some(RefOr::T(answer)) => or_refusal(answer, why),
            Some(RefOr::Ref(_)) => {}
        }
    }
}

/// The JSON error body as a schema.
fn error_schema() -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(ErrorBody::name()))
}

fn refusal(why: &str) -> RefOr<DocResponse> {
    ResponseBuilder::new()
        .description(why)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(error_schema())).build(),
        )
        .into()
}

/// An answer the handler documents that a refusal can also take the place
/// of (a spawn's 422: rolled back, or a body that does not fit): either body.
fn or_refusal(answer: &mut DocResponse, why: &str) {
    let Some(content) = answer.content.get_mut("application/json") else {
        return;
    };
    match content.schema.take() {
        Some(own) if own != error_schema() => {
            let mut either = OneOf::new();
            either.items = vec![own, error_schema()];
            content.schema = Some(RefOr::T(Schema::OneOf(either)));
            answer.description = format!("{}. Or: {why}", answer.description);
        }
        own => content.schema = own,
    }
}

/// The whole document: the frame and every route.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = routes().split_for_parts();
    Door.modify(&mut doc);
    if let Some(components) = doc.components.as_mut() {
        merge_flattened(&mut components.schemas);
    }
    doc
}

/// A struct with a `#[serde(flatten)]` field (a session view around its
/// record) is generated as `allOf: [the record, the view's own fields]`;
/// the record forbids unknown fields, so no value could satisfy both. Each
/// such schema becomes one object holding every field.
fn merge_flattened(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    let flattened: Vec<(String, AllOf)> = schemas
        .iter()
        .filter_map(|(name, s)| match s {
            RefOr::T(Schema::AllOf(all)) => Some((name.clone(), all.clone())),
            _ => None,
        })
        .collect();
    'schema: for (name, all) in flattened {
        let mut merged = Object::with_type(Type::Object);
        for part in &all.items {
            let object = match part {
                RefOr::T(Schema::Object(o)) => o,
                RefOr::Ref(r) => match r
                    .ref_location
                    .strip_prefix("#/components/schemas/")
                    .and_then(|n| schemas.get(n))
                {
                    Some(RefOr::T(Schema::Object(o))) => o,
                    _ => continue 'schema,
                },
                _ => continue 'schema,
            };
            merged.properties.extend(object.properties.clone());
            merged.required.extend(object.required.iter().cloned());
        }
        merged.description = all.description;
        merged.examples = all.examples;
        schemas.insert(name, RefOr::T(Schema::Object(merged)));
    }
}

/// The document as served (built once), or why it cannot be.
static DOCUMENT: LazyLock<Result<String, String>> =
    LazyLock::new(|| document().to_pretty_json().map_err(|e| e.to_string()));

/// `GET /openapi.json`: this API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object, content_type = "application/json")))]
pub async fn document_json() -> Response {
    match &*DOCUMENT {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            text.as_str(),
        )
            .into_response(),
        Err(e) => crate::api::error(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the OpenAPI document: {e}"),
        ),
    }
}

/// A session as `GET /sessions/{id}` shows it: the documented example.
pub fn session_view_example() -> serde_json::Value {
    serde_json::json!({
        "status": "ci_failed",
        "hooks_reporting": true,
        "cleaned": false,
        "status_since": 1_764_866_400_000_u64,
        "output_log": null,
        "attach": ["tmux", "-S", "/home/me/.ao/tmux.sock", "attach-session", "-t", "=ao-default-1"],
        "attach_command": "tmux -S /home/me/.ao/tmux.sock attach-session -t =ao-default-1",
        "version": 1,
        "revision": 9,
        "id": "default-1",
        "project_id": "default",
        "issue_id": "42",
        "kind": "worker",
        "created_at": 1_764_866_100_000_u64,
        "updated_at": 1_764_866_400_000_u64,
        "lifecycle": {
            "session": {"state": "working", "reason": "fixing_ci"},
            "pr": {
                "state": "open",
                "reason": "ci_failing",
                "number": 17,
                "url": "https://github.com/acme/app/pull/17",
                "draft": false
            },
            "runtime": {"state": "alive", "reason": "process_running"},
            "activity": {"state": "active", "last_activity_at": 1_764_866_390_000_u64, "source": "hook"},
            "detecting": null
        },
        "metadata": {
            "branch": "ao/default-1",
            "workspace_path": "/home/me/.ao/workspaces/default/default-1",
            "runtime_handle": "ao-default-1",
            "runtime_name": "tmux",
            "agent_session_id": null,
            "spawned_at": 1_764_866_100_000_u64,
            "prompt": "Fix the flaky login test"
        },
        "policy": {"mapped": "ci-failed", "trackers": {}}
    })
}
