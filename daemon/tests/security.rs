//! The API's defences against the real daemon binary: DNS rebinding (a
//! foreign `Host`), cross-site writes (forms, `text/plain`, foreign
//! `Origin`), missing, wrong and scoped credentials, the token file, and the
//! browser's sign-in link. Every refused write is checked to have changed
//! nothing in the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/daemon.rs"]
mod support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use support::{wait_until, Daemon, Response, TempDir, AO, QUIET};

/// What a session looks like to an attacker's target: id, revision, status.
fn snapshot(d: &Daemon) -> Vec<(String, u64, String)> {
    d.sessions()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["revision"].as_u64().unwrap(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every read route, with a session id to name.
fn reads(id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GET", "/metrics".into()),
        ("GET", "/sessions".into()),
        ("GET", format!("/sessions/{id}")),
        ("GET", "/events".into()),
    ]
}

/// Every state-changing route with a body it would accept.
fn writes(id: &str, pwned: &std::path::Path) -> Vec<(&'static str, String, String)> {
    let prompt = serde_json::json!({"prompt": format!("touch {}", pwned.display())});
    vec![
        ("POST", "/sessions".into(), prompt.to_string()),
        ("POST", format!("/sessions/{id}/kill"), "{}".into()),
        ("POST", format!("/sessions/{id}/restore"), "{}".into()),
        (
            "POST",
            format!("/sessions/{id}/send"),
            r#"{"message":"rm -rf ."}"#.into(),
        ),
        (
            "POST",
            format!("/sessions/{id}/activity"),
            r#"{"state":"blocked"}"#.into(),
        ),
        ("POST", format!("/sessions/{id}/archive"), "{}".into()),
        ("POST", "/projects/default/cleanup".into(), "{}".into()),
        ("POST", "/shutdown".into(), "{}".into()),
    ]
}

fn no_cors(r: &Response) {
    assert!(
        !r.headers
            .iter()
            .any(|(k, _)| k.starts_with("access-control-")),
        "no CORS header is ever sent: {:?}",
        r.headers
    );
}

/// A daemon with one live session (`default-1`, a sleeping shell).
fn daemon_with_a_session(dir: &TempDir) -> (Daemon, String) {
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let id = d.spawn("sleep 30");
    (d, id)
}

/// The store and the world are as they were: same sessions, nothing ran, daemon up.
fn unchanged(d: &Daemon, before: &[(String, u64, String)], pwned: &std::path::Path) {
    assert_eq!(snapshot(d), before, "a refused request changed the store");
    assert!(!pwned.exists(), "a refused spawn ran its prompt");
    assert_eq!(d.request("GET", "/health").send().status, 200);
}

#[test]
fn a_foreign_host_is_refused_on_every_route_sse_included() {
    let dir = TempDir::new("host");
    let (d, id) = daemon_with_a_session(&dir);
    let pwned = dir.join("pwned");
    let before = snapshot(&d);
    let port = d.addr.rsplit(':').next().unwrap().to_owned();
    let foreign = [
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        "localhost:1".to_owned(),
        format!("127.0.0.2:{port}"),
    ];
    for host in &foreign {
        let mut routes: Vec<(&str, String, String)> = reads(&id)
            .into_iter()
            .map(|(m, p)| (m, p, String::new()))
            .collect();
        routes.push(("GET", "/".into(), String::new()));
        routes.push(("GET", "/health".into(), String::new()));
        routes.push(("GET", "/no-such-route".into(), String::new()));
        routes.extend(writes(&id, &pwned));
        for (method, path, body) in routes {
            let mut req = d.authed(method, &path).header("Host", host);
            if method == "POST" {
                req = req.json(&body);
            }
            let r = req.send();
            assert_eq!(r.status, 421, "{method} {path} with Host {host}: {r:?}");
            assert!(r.error().contains("host"), "{r:?}");
            no_cors(&r);
        }
    }
    let missing = d.authed("GET", "/sessions").header("Host", "").send();
    assert_eq!(missing.status, 421, "{missing:?}");
    unchanged(&d, &before, &pwned);
}

#[test]
fn cross_site_form_and_text_posts_change_nothing() {
    let dir = TempDir::new("csrf");
    let (d, id) = daemon_with_a_session(&dir);
    let pwned = dir.join("pwned");
    let before = snapshot(&d);
    let cookie = sign_in(&d);
    let origin = format!("http://{}", d.addr);
    for (method, path, body) in writes(&id, &pwned) {
        for (content_type, body) in [
            ("application/x-www-form-urlencoded", "prompt=x".to_owned()),
            ("multipart/form-data; boundary=x", "--x--".to_owned()),
            ("text/plain", body.clone()),
            ("text/plain;charset=UTF-8", body.clone()),
        ] {
            // A form or a beacon from another site, whatever credential rides along.
            for credential in ["token", "cookie"] {
                let req = match credential {
                    "token" => d.authed(method, &path),
                    _ => d.request(method, &path).header("Cookie", &cookie),
                };
                let r = req
                    .header("Origin", "http://evil.example")
                    .body(&body, content_type)
                    .send();
                assert!(
                    r.status == 403 || r.status == 415,
                    "{method} {path} as {content_type} with a {credential}: {r:?}"
                );
                let same_origin = match credential {
                    "token" => d.authed(method, &path),
                    _ => d.request(method, &path).header("Cookie", &cookie),
                }
                .header("Origin", &origin)
                .body(&body, content_type)
                .send();
                assert_eq!(same_origin.status, 415, "{method} {path} as {content_type}");
                no_cors(&r);
            }
        }
        let bare = d.authed(method, &path).send();
        assert_eq!(bare.status, 415, "{method} {path} without a body: {bare:?}");
        for bad_origin in [
            "http://evil.example",
            "null",
            &format!("http://{}.evil.example", d.addr),
        ] {
            let r = d
                .request(method, &path)
                .header("Cookie", &cookie)
                .header("Origin", bad_origin)
                .json(&body)
                .send();
            assert_eq!(r.status, 403, "{method} {path} from {bad_origin}: {r:?}");
        }
    }
    unchanged(&d, &before, &pwned);
}

#[test]
fn credentials_reach_exactly_the_routes_they_may() {
    let dir = TempDir::new("creds");
    let (d, id) = daemon_with_a_session(&dir);
    let pwned = dir.join("pwned");
    let before = snapshot(&d);
    for path in ["/", "/health"] {
        let r = d.request("GET", path).send();
        assert_eq!(r.status, 200, "{path} needs no sign-in: {r:?}");
    }
    let wrong = "0".repeat(64);
    let forged = format!("ao-hook.{id}.{}", "0".repeat(64));
    for (method, path) in reads(&id) {
        let r = d.request(method, &path).send();
        assert_eq!(r.status, 401, "{path} without a token: {r:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        for bad in [&wrong, &forged] {
            let r = d.request(method, &path).bearer(bad).send();
            assert_eq!(r.status, 401, "{path} with {bad}: {r:?}");
        }
        assert_eq!(
            d.authed(method, &path).send().status,
            200,
            "{path} with the token"
        );
    }
    for (method, path, body) in writes(&id, &pwned) {
        let r = d.request(method, &path).json(&body).send();
        assert_eq!(r.status, 401, "{path} without a token: {r:?}");
        let r = d.request(method, &path).bearer(&wrong).json(&body).send();
        assert_eq!(r.status, 401, "{path} with a wrong token: {r:?}");
        let r = d.request(method, &path).bearer(&forged).json(&body).send();
        assert_eq!(r.status, 401, "{path} with a forged hook token: {r:?}");
    }
    unchanged(&d, &before, &pwned);
}

#[test]
fn an_agents_token_reaches_only_its_own_hook_endpoint() {
    let dir = TempDir::new("scoped");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    // The agent reports through the real CLI with nothing but its environment.
    let env_file = dir.join("agent-env");
    let agent = format!(
        "env > {env}; \"{AO}\" hook activity --state active; sleep 30",
        env = env_file.display()
    );
    let mine = d.spawn(&agent);
    let other = d.spawn("sleep 30");
    assert!(
        wait_until(Duration::from_secs(15), || {
            d.authed("GET", &format!("/sessions/{mine}"))
                .send()
                .body
                .contains("\"working\"")
        }),
        "the agent's own hook worked with no setup: {}",
        d.authed("GET", &format!("/sessions/{mine}")).send().body
    );
    let env = std::fs::read_to_string(&env_file).unwrap();
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in the agent's env: {env}"))
            .to_owned()
    };
    let token = var("AO_TOKEN");
    assert_ne!(token, d.token(), "the agent does not get the user's token");
    assert_eq!(var("AO_DATA_DIR"), d.data_dir.display().to_string());
    assert_eq!(var("AO_SESSION_ID"), mine);

    let pwned = dir.join("pwned");
    let before = snapshot(&d);
    for (method, path) in reads(&other).into_iter().chain(reads(&mine)) {
        let r = d.request(method, &path).bearer(&token).send();
        assert_eq!(r.status, 403, "{method} {path} with a hook token: {r:?}");
    }
    for target in [&other, &mine] {
        for (method, path, body) in writes(target, &pwned) {
            if path == format!("/sessions/{mine}/activity") {
                continue;
            }
            let r = d.request(method, &path).bearer(&token).json(&body).send();
            assert_eq!(
                r.status, 403,
                "{method} {path} with {mine}'s hook token: {r:?}"
            );
            assert!(r.error().contains(&mine), "{r:?}");
        }
    }
    unchanged(&d, &before, &pwned);
    let own = d
        .request("POST", &format!("/sessions/{mine}/activity"))
        .bearer(&token)
        .json(r#"{"state":"waiting_input"}"#)
        .send();
    assert_eq!(own.status, 200, "its own hook endpoint: {own:?}");
    let rec: Value =
        serde_json::from_str(&d.authed("GET", &format!("/sessions/{mine}")).send().body).unwrap();
    assert_eq!(rec["lifecycle"]["activity"]["state"], "waiting_input");
}

#[test]
fn the_token_file_is_private_reused_across_restarts_and_found_by_the_cli() {
    let dir = TempDir::new("token");
    let data = dir.join("data");
    let d = Daemon::start(&data, Some(QUIET));
    let file = data.join("token");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the token file is the owner's alone");
    let token = d.token();
    assert_eq!(token.len(), 64);
    let link = d.stdout.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(link, format!("open in a browser: {}/?token={token}", d.url));
    let out = d.ao(&["ls"]);
    assert!(
        out.status.success(),
        "the CLI finds the token by itself: {out:?}"
    );
    let explicit = std::process::Command::new(AO)
        .args(["--token", "not-the-token", "ls"])
        .env("AO_URL", &d.url)
        .env("AO_DATA_DIR", &d.data_dir)
        .output()
        .unwrap();
    assert_eq!(explicit.status.code(), Some(1), "an explicit --token wins");
    assert!(String::from_utf8_lossy(&explicit.stderr).contains("wrong token"));
    assert!(d.stop());

    let d = Daemon::start(&data, Some(QUIET));
    assert_eq!(d.token(), token, "a restart keeps the token");
    assert!(d.stop());

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = std::process::Command::new(AO)
        .args(["daemon", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a token others can read is refused"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("readable by other users") && err.contains("chmod 600"),
        "{err}"
    );
}

/// Opens the sign-in link; the cookie header a browser would send back.
fn sign_in(d: &Daemon) -> String {
    let r = d.request("GET", &format!("/?token={}", d.token())).send();
    assert_eq!(r.status, 303, "{r:?}");
    let set = r.header("set-cookie").unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

#[test]
fn the_sign_in_link_sets_a_strict_cookie_that_works_only_from_our_origin() {
    let dir = TempDir::new("cookie");
    let (d, id) = daemon_with_a_session(&dir);
    let r = d.request("GET", &format!("/?token={}", d.token())).send();
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/"),
        "the token leaves the address bar"
    );
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(
        !set.contains(&d.token()),
        "the cookie is not the token itself"
    );
    let cookie = set.split(';').next().unwrap().to_owned();

    let wrong = d.request("GET", "/?token=nope").send();
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());

    let page = d.request("GET", "/").header("Cookie", &cookie).send();
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("/assets/app.js"),
        "the dashboard: {}",
        page.body
    );
    let origin = format!("http://{}", d.addr);
    let get = d
        .request("GET", "/sessions")
        .header("Cookie", &cookie)
        .send();
    assert_eq!(get.status, 200, "{get:?}");
    let get = d
        .request("GET", "/sessions")
        .header("Cookie", &cookie)
        .header("Origin", &origin)
        .send();
    assert_eq!(get.status, 200, "{get:?}");
    let foreign = d
        .request("GET", "/sessions")
        .header("Cookie", &cookie)
        .header("Origin", "http://localhost:9")
        .send();
    assert_eq!(
        foreign.status, 403,
        "another local origin cannot read: {foreign:?}"
    );
    let kill = |origin: &str| {
        d.request("POST", &format!("/sessions/{id}/kill"))
            .header("Cookie", &cookie)
            .header("Origin", origin)
            .json("{}")
            .send()
    };
    let refused = kill("http://evil.example");
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_ne!(d.sessions()[0]["status"], "killed");
    let done = kill(&origin);
    assert_eq!(
        done.status, 200,
        "a same-origin JSON POST with the cookie works: {done:?}"
    );
    assert_eq!(d.sessions()[0]["status"], "killed");

    let preflight = d
        .request("OPTIONS", "/sessions")
        .header("Origin", "http://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send();
    assert_ne!(preflight.status / 100, 2, "{preflight:?}");
    no_cors(&preflight);
}
