//! The OpenAPI document against the API it describes: it is the committed
//! snapshot (so an API change shows in review), a running daemon serves it
//! at `/openapi.json`, every route the daemon serves is in it with exactly
//! the methods it answers, every `$ref` resolves, and every example in it
//! deserializes into the Rust type it documents.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/daemon.rs"]
mod support;

use ao_daemon::api::{
    ActivityBody, ArchivedBody, Delivered, ErrorBody, FedBody, Health, OpResponse, Rejected,
    SendBody, SessionView, ShuttingDown, SpawnBody,
};
use ao_daemon::driver::SessionEvent;
use ao_daemon::web::openapi::document;
use ao_daemon::web::timeline::Timeline;
use ao_daemon::web::Output;
use serde_json::Value;
use std::collections::BTreeSet;
use support::{Daemon, TempDir, QUIET};

fn document_json() -> Value {
    serde_json::to_value(document()).unwrap()
}

#[test]
fn the_document_is_openapi_3_1_and_matches_the_committed_snapshot() {
    assert_eq!(document_json()["openapi"], "3.1.0");
    insta::assert_snapshot!("openapi.json", document().to_pretty_json().unwrap());
}

/// Deserializes an example into the type its schema names; `None` for a
/// schema this test does not know (which fails the test).
fn check_example(schema: &str, example: &Value) -> Option<Result<(), String>> {
    fn de<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(v.clone())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    Some(match schema {
        "ActivityBody" => de::<ActivityBody>(example),
        "ArchivedBody" => de::<ArchivedBody>(example),
        "Delivered" => de::<Delivered>(example),
        "ErrorBody" => de::<ErrorBody>(example),
        "FedBody" => de::<FedBody>(example),
        "Rejected" => de::<Rejected>(example),
        "Health" => de::<Health>(example),
        "OpResponse" => de::<OpResponse>(example),
        "Output" => de::<Output>(example),
        "SendBody" => de::<SendBody>(example),
        "SessionEvent" => de::<SessionEvent>(example),
        "SessionView" => de::<SessionView>(example),
        "ShuttingDown" => de::<ShuttingDown>(example),
        "SpawnBody" => de::<SpawnBody>(example),
        "Timeline" => de::<Timeline>(example),
        _ => return None,
    })
}

/// Every `(where, schema name, example)` in the document: schema examples
/// and media-type examples naming a schema by `$ref`.
fn examples(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for ex in schema["examples"].as_array().into_iter().flatten() {
            found.push((
                format!("components.schemas.{name}"),
                name.clone(),
                ex.clone(),
            ));
        }
        if let Some(ex) = schema.get("example") {
            found.push((
                format!("components.schemas.{name}"),
                name.clone(),
                ex.clone(),
            ));
        }
    }
    walk_media(doc, "", &mut |at, media| {
        let Some(name) = media["schema"]["$ref"].as_str().and_then(schema_name) else {
            return;
        };
        if let Some(ex) = media.get("example") {
            found.push((at.to_owned(), name.to_owned(), ex.clone()));
        }
        for ex in media["examples"].as_object().into_iter().flatten() {
            found.push((at.to_owned(), name.to_owned(), ex.1["value"].clone()));
        }
    });
    found
}

fn schema_name(r: &str) -> Option<&str> {
    r.strip_prefix("#/components/schemas/")
}

/// Calls `f` on every media-type object (`content.<type>`) under `v`.
fn walk_media(v: &Value, at: &str, f: &mut dyn FnMut(&str, &Value)) {
    match v {
        Value::Object(map) => {
            if let Some(content) = map.get("content").and_then(Value::as_object) {
                for (ty, media) in content {
                    f(&format!("{at}.content.{ty}"), media);
                }
            }
            for (k, child) in map {
                walk_media(child, &format!("{at}.{k}"), f);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk_media(child, &format!("{at}[{i}]"), f);
            }
        }
        _ => {}
    }
}

#[test]
fn every_documented_example_deserializes_into_its_type() {
    let doc = document_json();
    let found = examples(&doc);
    assert!(
        found.len() >= 14,
        "the request, answer and event types carry examples: {found:?}"
    );
    for (at, schema, example) in &found {
        match check_example(schema, example) {
            Some(Ok(())) => {}
            Some(Err(e)) => panic!("the example at {at} is not a valid {schema}: {e}\n{example}"),
            None => panic!("the example at {at} documents {schema}, which this test cannot check: add it to check_example"),
        }
    }
    // Every request body has an example a client can copy.
    walk_media(&doc["paths"], "paths", &mut |at, media| {
        if at.contains("requestBody") {
            let name = media["schema"]["$ref"].as_str().and_then(schema_name);
            let name = name.unwrap_or_else(|| panic!("{at}: a request body names its type"));
            assert!(
                found.iter().any(|(_, s, _)| s == name),
                "{at}: request body {name} has no example"
            );
        }
    });
}

#[test]
fn every_reference_in_the_document_resolves() {
    fn refs(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    out.insert(r.to_owned());
                }
                m.values().for_each(|c| refs(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
            _ => {}
        }
    }
    let doc = document_json();
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    assert!(all.contains("#/components/schemas/SessionView"), "{all:?}");
    for r in &all {
        let name = schema_name(r).unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} names no schema"
        );
    }
}

/// `{id}`-style parameters filled with a harmless value.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                "no-such-thing"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_daemon_serves_exactly_the_documented_routes_and_methods() {
    let dir = TempDir::new("openapi-routes");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let api = d.api();

    // It serves this document, behind the token like the rest of the API.
    let served = api.authed("GET", "/openapi.json").send();
    assert_eq!(served.status, 200, "{}", served.body);
    assert_eq!(served.header("content-type"), Some("application/json"));
    let served: Value = serde_json::from_str(&served.body).unwrap();
    assert_eq!(served, document_json());
    assert_eq!(api.request("GET", "/openapi.json").send().status, 401);

    // For each documented path, a method no route uses gets the router's
    // 405 with the methods the path really answers: they must be exactly
    // the documented ones (a missing path would get the fallback's 404).
    let paths = served["paths"].as_object().unwrap();
    assert!(paths.len() >= 17, "{:?}", paths.keys());
    for (path, item) in paths {
        let documented: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str()))
            .map(|k| k.to_uppercase())
            .collect();
        let r = api.authed("PATCH", &concrete(path)).send();
        assert_eq!(r.status, 405, "PATCH {path}: {} {}", r.status, r.body);
        let allowed: BTreeSet<String> = r
            .header("allow")
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty() && m != "HEAD")
            .collect();
        assert_eq!(allowed, documented, "{path}: served vs documented methods");
    }

    // An undocumented path is the fallback's 404, not a route.
    let r = api.authed("PATCH", "/not-documented").send();
    assert_eq!((r.status, r.error()), (404, "no such endpoint".to_owned()));
    assert!(d.stop());
}

/// The router is built only from `routes()` (each route with its
/// description): no bare axum route can slip past the document.
#[test]
fn the_router_registers_routes_only_with_their_description() {
    let src = include_str!("../src/api.rs");
    for bare in [".route(", ".route_service(", ".nest(", ".merge("] {
        assert!(
            !src.contains(bare),
            "api.rs registers a route with `{bare}`, outside the OpenAPI document"
        );
    }
    assert!(src.contains("split_for_parts()"));
}

/// Checks one real answer against the document: its status must be
/// documented for that operation, and a JSON body must fit the schema.
struct Conformance {
    api: support::Api,
    doc: Value,
    checked: Vec<String>,
}

impl Conformance {
    /// An authenticated GET, checked.
    fn get(&mut self, template: &str, path: &str) {
        let r = self.api.authed("GET", path).send();
        self.check("GET", template, &r);
    }

    /// An authenticated JSON POST, checked.
    fn post(&mut self, template: &str, path: &str, body: &str) {
        let r = self.api.authed("POST", path).json(body).send();
        self.check("POST", template, &r);
    }

    fn check(&mut self, method: &str, template: &str, r: &support::Response) {
        let op = &self.doc["paths"][template][method.to_lowercase()];
        assert!(op.is_object(), "{method} {template} is not documented");
        let status = r.status.to_string();
        let answer = &op["responses"][&status];
        assert!(
            answer.is_object(),
            "{method} {template} answered {status}, which is not documented: {}",
            r.body
        );
        let ty = r.header("content-type").unwrap_or_default();
        if ty.starts_with("application/json") {
            let schema = &answer["content"]["application/json"]["schema"];
            assert!(
                schema.is_object(),
                "{method} {template} {status}: JSON answer without a schema"
            );
            let body: Value = serde_json::from_str(&r.body).unwrap();
            let errors = misfits(&self.doc, schema, &body);
            assert!(
                errors.is_empty(),
                "{method} {template} {status} does not fit the document: {errors:?}\n{body:#}"
            );
        } else {
            assert!(
                answer["content"]
                    .as_object()
                    .is_none_or(|c| c.keys().any(|k| ty.starts_with(k.as_str()))),
                "{method} {template} {status}: answered {ty}, documented {}",
                answer["content"]
            );
        }
        self.checked.push(format!("{method} {template} {status}"));
    }
}

/// Where `body` breaks `schema` (JSON Schema 2020-12, references resolved
/// in the document's components).
fn misfits(doc: &Value, schema: &Value, body: &Value) -> Vec<String> {
    let root = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    let validator = jsonschema::draft202012::new(&root).unwrap();
    validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_daemons_real_answers_fit_the_documented_schemas() {
    let dir = TempDir::new("openapi-answers");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let api = d.api();
    let mut c = Conformance {
        api: api.clone(),
        doc: document_json(),
        checked: Vec::new(),
    };

    c.check("GET", "/health", &api.request("GET", "/health").send());
    c.check("GET", "/", &api.request("GET", "/").send());
    c.check("GET", "/", &api.request("GET", "/?token=wrong").send());
    let sign_in = format!("/?token={}", api.token);
    c.check("GET", "/", &api.request("GET", &sign_in).send());
    c.check(
        "GET",
        "/assets/{name}",
        &api.request("GET", "/assets/app.js").send(),
    );
    c.check(
        "GET",
        "/assets/{name}",
        &api.request("GET", "/assets/nope.js").send(),
    );
    c.get("/metrics", "/metrics");
    c.get("/openapi.json", "/openapi.json");

    // The door's refusals.
    c.check("GET", "/sessions", &api.request("GET", "/sessions").send());
    let r = api.authed("GET", "/sessions").header("Host", "evil.test");
    c.check("GET", "/sessions", &r.send());
    let r = api.authed("POST", "/sessions").json(r#"{"prompt": "x"}"#);
    c.check(
        "POST",
        "/sessions",
        &r.header("Origin", "http://evil.test").send(),
    );
    let r = api
        .authed("POST", "/sessions")
        .body(r#"{"prompt": "x"}"#, "text/plain");
    c.check("POST", "/sessions", &r.send());

    // A session's life.
    let spawned = api
        .authed("POST", "/sessions")
        .json(r#"{"issue": "42", "prompt": "echo agent-up; sleep 30"}"#)
        .send();
    c.check("POST", "/sessions", &spawned);
    let id = serde_json::from_str::<Value>(&spawned.body).unwrap()["session"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = |rest: &str| format!("/sessions/{id}{rest}");
    c.post("/sessions", "/sessions", r#"{"prompt": "x", "colour": 1}"#);
    c.post("/sessions", "/sessions", "{");
    c.post(
        "/sessions",
        "/sessions",
        r#"{"project": "nope", "prompt": "x"}"#,
    );
    c.get("/sessions", "/sessions");
    c.get("/sessions/{id}", &at(""));
    c.get("/sessions/{id}", "/sessions/nope-9");
    let activity = "/sessions/{id}/activity";
    c.post(activity, &at("/activity"), r#"{"state": "waiting_input"}"#);
    c.post(activity, &at("/activity"), r#"{"state": "dreaming"}"#);
    c.post(
        activity,
        "/sessions/nope-9/activity",
        r#"{"state": "active"}"#,
    );
    let view = api.authed("GET", &at("")).send().body;
    c.post(
        "/sessions/{id}/send",
        &at("/send"),
        r#"{"message": "hello"}"#,
    );
    c.post(
        "/sessions/{id}/send",
        "/sessions/nope-9/send",
        r#"{"message": "hello"}"#,
    );
    assert!(support::wait_until(
        std::time::Duration::from_secs(10),
        || {
            api.authed("GET", &at("/output"))
                .send()
                .body
                .contains("agent-up")
        }
    ));
    c.get("/sessions/{id}/output", &at("/output?lines=5"));
    c.get("/sessions/{id}/output", &at("/output?lines=many"));
    c.get("/sessions/{id}/timeline", &at("/timeline"));
    c.get("/sessions/{id}/timeline", &at("/timeline?colour=1"));
    c.get("/sessions/{id}/timeline", "/sessions/nope-9/timeline");
    c.post("/sessions/{id}/archive", &at("/archive"), "");
    c.post("/sessions/{id}/restore", &at("/restore"), "");
    c.post("/sessions/{id}/kill", &at("/kill"), "");
    c.post("/sessions/{id}/kill", "/sessions/nope-9/kill", "");
    c.get("/sessions/{id}/output", &at("/output"));
    c.post(
        "/projects/{project}/cleanup",
        "/projects/default/cleanup",
        "",
    );
    c.post("/projects/{project}/cleanup", "/projects/nope/cleanup", "");
    c.post("/sessions/{id}/archive", &at("/archive"), "");
    c.post("/sessions/{id}/restore", "/sessions/nope-9/restore", "");

    // The check can fail: a session whose status is not a display word does not fit.
    let mut bad: Value = serde_json::from_str(&view).unwrap();
    assert!(misfits(
        &c.doc,
        &serde_json::json!({"$ref": "#/components/schemas/SessionView"}),
        &bad
    )
    .is_empty());
    bad["status"] = "napping".into();
    bad["lifecycle"]["pr"]["number"] = "seventeen".into();
    assert_eq!(
        misfits(
            &c.doc,
            &serde_json::json!({"$ref": "#/components/schemas/SessionView"}),
            &bad
        )
        .len(),
        2
    );
    c.post("/shutdown", "/shutdown", "");

    let statuses: BTreeSet<&str> = c
        .checked
        .iter()
        .filter_map(|s| s.rsplit(' ').next())
        .collect();
    for expected in [
        "200", "303", "400", "401", "403", "404", "409", "415", "421", "422",
    ] {
        assert!(
            statuses.contains(expected),
            "no {expected} among {:?}",
            c.checked
        );
    }
    assert!(d.stop());
}
