//! The dashboard's files, compiled into the binary (no CDN, no build step):
//! the page, its script and its style. They hold no data, so they are
//! served without a credential; everything they show comes from the API,
//! which needs one. A strict content security policy allows only these
//! files' own script and style, and requests to this daemon only.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The page.
const INDEX: &str = include_str!("static/index.html");
/// Its script.
const APP_JS: &str = include_str!("static/app.js");
/// Its style.
const APP_CSS: &str = include_str!("static/app.css");

/// Only this daemon's own files and API; no inline script, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

/// The asset names the dashboard serves under `/assets/`.
pub const NAMES: [&str; 2] = ["app.js", "app.css"];

fn file(content_type: &'static str, body: &'static str) -> Response {
    let mut r = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    r
}

/// The dashboard page.
pub fn page() -> Response {
    let mut r = file("text/html; charset=utf-8", INDEX);
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

/// `GET /assets/{name}`: the page's script or style.
#[utoipa::path(get, path = "/assets/{name}", tag = "dashboard", security(()),
    params(("name" = String, Path, description = "`app.js` or `app.css`")),
    responses(
        (status = 200, description = "The file (text/javascript or text/css)", body = String, content_type = "text/javascript"),
        (status = 404, description = "No such asset", body = crate::api::ErrorBody),
    ))]
pub async fn asset(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "app.js" => file("text/javascript; charset=utf-8", APP_JS),
        "app.css" => file("text/css; charset=utf-8", APP_CSS),
        _ => crate::api::error(StatusCode::NOT_FOUND, format!("no asset `{name}`")),
    }
}
