//! The OpenAPI document against the API it describes: it is the committed
//! snapshot (so an API change shows in review), a running daemon serves it
//! at `/openapi.json`, every route the daemon serves is in it with exactly
//! the methods it answers, every `$ref` resolves, and every example in it
//! deserializes into the Rust type it documents.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/daemon.rs"]
mod support;

use ao_daemon::api::{
    ActivityBody, ArchivedBody, Delivered, ErrorBody, FedBody, Health, OpResponse, SendBody,
    SessionView, ShuttingDown, SpawnBody,
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
