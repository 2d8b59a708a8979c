//! The API's door, passed by every request before routing: the `Host` must
//! be one of the daemon's own names (a DNS-rebinding page names its own
//! domain), a present `Origin` must be one of the daemon's own origins, every
//! POST must be `application/json` (no browser "simple" request — a form, a
//! `text/plain` beacon — can reach a write), and then a credential: the
//! user's token, the browser cookie, or a session's hook token, which
//! reaches only that session's hook endpoint. No CORS header is ever sent.

use crate::api::error;
use crate::config::ApiConfig;
use crate::token::Secret;
use ao_core::domain::SessionId;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The cookie a browser holds after opening the daemon's sign-in link.
pub const COOKIE: &str = "ao_session";

/// Who is calling, once their credential checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The user (token or browser cookie): every endpoint.
    User,
    /// An agent's hook: its own session's hook endpoint only.
    Hook(SessionId),
}

/// What the door checks requests against.
pub struct Guard {
    secret: Secret,
    configured: Option<String>,
    allowed_hosts: Vec<Authority>,
    bound: SocketAddr,
}

/// A host (lowercase; an IPv6 literal keeps its brackets) and a port.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Authority {
    host: String,
    port: Option<u16>,
}

impl Authority {
    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port`.
    fn parse(text: &str) -> Option<Authority> {
        let text = text.trim();
        let (host, port) = if text.starts_with('[') {
            let end = text.find(']')?;
            let (host, rest) = text.split_at(end + 1);
            match rest {
                "" => (host, None),
                _ => (host, Some(rest.strip_prefix(':')?.parse().ok()?)),
            }
        } else {
            match text.rsplit_once(':') {
                Some((host, port)) => (host, Some(port.parse().ok()?)),
                None => (text, None),
            }
        };
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._[]:".contains(c));
        valid.then(|| Authority {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    fn ip(&self) -> Option<IpAddr> {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    }
}

impl Guard {
    /// The door for a daemon bound to `bound` with this API config.
    pub fn new(secret: Secret, api: &ApiConfig, bound: SocketAddr) -> Guard {
        Guard {
            secret,
            configured: api
                .token
                .clone()
                .filter(|t| !t.trim().is_empty())
                .map(|t| t.trim().to_owned()),
            allowed_hosts: api
                .allowed_hosts
                .iter()
                .filter_map(|h| Authority::parse(h))
                .collect(),
            bound,
        }
    }

    /// The secret the daemon's credentials derive from.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Whether a `Host` (or an `Origin`'s authority) names this daemon.
    fn is_ours(&self, a: &Authority, default_port: u16) -> bool {
        let port = a.port.unwrap_or(default_port);
        let listed = self
            .allowed_hosts
            .iter()
            .any(|h| h.host == a.host && h.port.is_none_or(|p| p == port));
        if listed {
            return true;
        }
        if port != self.bound.port() {
            return false;
        }
        if matches!(a.host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return true;
        }
        // Off loopback the bound address itself; bound to every interface,
        // any address literal (a rebinding page always names a domain).
        match a.ip() {
            Some(ip) if self.bound.ip().is_unspecified() => !ip.is_unspecified(),
            Some(ip) => ip == self.bound.ip(),
            None => false,
        }
    }

    /// The caller, `Ok(None)` when they sent no credential, `Err` for a wrong one.
    fn principal(&self, headers: &HeaderMap) -> Result<Option<Principal>, ()> {
        if let Some(auth) = headers.get(header::AUTHORIZATION) {
            let given = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or(())?;
            if self.secret.is_token(given) || self.configured.as_deref() == Some(given) {
                return Ok(Some(Principal::User));
            }
            return self
                .secret
                .hook_session(given)
                .map(Principal::Hook)
                .map(Some)
                .ok_or(());
        }
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .any(|(name, value)| name == COOKIE && self.secret.is_cookie(value));
        Ok(cookie.then_some(Principal::User))
    }

    /// Checks one request; the principal on success (`None` on public routes).
    fn check(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Principal>, Refusal> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(Authority::parse);
        if !host.is_some_and(|h| self.is_ours(&h, 80)) {
            return Err(Refusal::Host);
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            if !origin.to_str().is_ok_and(|o| self.is_our_origin(o)) {
                return Err(Refusal::Origin);
            }
        }
        if method == Method::POST && !is_json(headers) {
            return Err(Refusal::NotJson);
        }
        let principal = self.principal(headers);
        if method == Method::GET && is_public(path) {
            return Ok(principal.ok().flatten());
        }
        match principal {
            Ok(Some(Principal::Hook(session)))
                if method != Method::POST || hook_path_session(path).as_ref() != Some(&session) =>
            {
                Err(Refusal::NotItsHook(session))
            }
            Ok(Some(p)) => Ok(Some(p)),
            Ok(None) => Err(Refusal::NoCredential),
            Err(()) => Err(Refusal::WrongCredential),
        }
    }

    fn is_our_origin(&self, origin: &str) -> bool {
        let (rest, default_port) = if let Some(r) = origin.strip_prefix("http://") {
            (r, 80)
        } else if let Some(r) = origin.strip_prefix("https://") {
            (r, 443)
        } else {
            return false;
        };
        !rest.contains('/')
            && Authority::parse(rest).is_some_and(|a| self.is_ours(&a, default_port))
    }
}

/// Why the door refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    /// The `Host` is not one of the daemon's names.
    Host,
    /// The `Origin` is not one of the daemon's origins.
    Origin,
    /// A POST that is not `application/json`.
    NotJson,
    /// No credential on a route that needs one.
    NoCredential,
    /// A credential that is not ours.
    WrongCredential,
    /// A hook token outside its own session's hook endpoint.
    NotItsHook(SessionId),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Host => error(
                StatusCode::MISDIRECTED_REQUEST,
                "this daemon answers only to its own host names (localhost, 127.0.0.1, [::1] with its port, or api.allowed_hosts)",
            ),
            Refusal::Origin => error(StatusCode::FORBIDDEN, "cross-origin requests are refused"),
            Refusal::NotJson => error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "a POST must carry Content-Type: application/json",
            ),
            Refusal::NoCredential => {
                let mut r = error(
                    StatusCode::UNAUTHORIZED,
                    "missing credential: send `Authorization: Bearer <token>` (the token is the file `token` in the daemon's data directory)",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
                r
            }
            Refusal::WrongCredential => error(StatusCode::UNAUTHORIZED, "wrong token"),
            Refusal::NotItsHook(session) => error(
                StatusCode::FORBIDDEN,
                format!("this token only reaches session `{session}`'s hook endpoint"),
            ),
        }
    }
}

/// The session named by a hook endpoint's path (`/sessions/{id}/activity`).
fn hook_path_session(path: &str) -> Option<SessionId> {
    let id = path.strip_prefix("/sessions/")?.strip_suffix("/activity")?;
    let id = percent_encoding::percent_decode_str(id)
        .decode_utf8()
        .ok()?;
    (!id.contains('/')).then(|| SessionId(id.into_owned()))
}

/// What anyone who reaches the daemon may read: liveness, and the
/// dashboard's page and files (they hold no data; the API behind them does).
fn is_public(path: &str) -> bool {
    matches!(path, "/" | "/health") || path.starts_with("/assets/")
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The middleware: refuses what the door refuses, else hands the principal to the handler.
pub async fn door(State(guard): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    match guard.check(req.method(), req.uri().path(), req.headers()) {
        Ok(principal) => {
            if let Some(p) = principal {
                req.extensions_mut().insert(p);
            }
            next.run(req).await
        }
        Err(refused) => refused.into_response(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn guard(listen: &str, allowed: &[&str]) -> Guard {
        let api = ApiConfig {
            allowed_hosts: allowed.iter().map(|s| (*s).to_owned()).collect(),
            ..ApiConfig::default()
        };
        Guard::new(Secret::random().unwrap(), &api, listen.parse().unwrap())
    }

    fn host_ok(g: &Guard, host: &str) -> bool {
        Authority::parse(host).is_some_and(|a| g.is_ours(&a, 80))
    }

    #[test]
    fn loopback_names_with_the_port_and_listed_names_pass() {
        let g = guard("127.0.0.1:7878", &["ao.internal", "proxy:9000"]);
        for ok in [
            "localhost:7878",
            "127.0.0.1:7878",
            "[::1]:7878",
            "LOCALHOST:7878",
            "ao.internal",
            "ao.internal:1",
            "proxy:9000",
        ] {
            assert!(host_ok(&g, ok), "{ok}");
        }
        for no in [
            "evil.example:7878",
            "localhost",
            "localhost:7879",
            "127.0.0.2:7878",
            "10.0.0.1:7878",
            "proxy:9001",
            "",
            "a b:7878",
            "localhost.evil.example:7878",
        ] {
            assert!(!host_ok(&g, no), "{no}");
        }
        assert!(g.is_our_origin("http://localhost:7878"));
        assert!(!g.is_our_origin("http://evil.example:7878"));
        assert!(!g.is_our_origin("null"));
        assert!(!g.is_our_origin("file://"));
    }

    #[test]
    fn off_loopback_the_bound_address_passes() {
        let g = guard("10.1.2.3:7878", &[]);
        assert!(host_ok(&g, "10.1.2.3:7878"));
        assert!(!host_ok(&g, "10.1.2.4:7878"));
        let any = guard("0.0.0.0:7878", &[]);
        assert!(host_ok(&any, "10.1.2.4:7878"));
        assert!(!host_ok(&any, "0.0.0.0:7878"));
        assert!(!host_ok(&any, "evil.example:7878"));
    }

    #[test]
    fn a_hook_path_names_one_session() {
        assert_eq!(
            hook_path_session("/sessions/app-1/activity"),
            Some(SessionId::from("app-1"))
        );
        assert_eq!(
            hook_path_session("/sessions/a%20b/activity"),
            Some(SessionId::from("a b"))
        );
        assert_eq!(hook_path_session("/sessions/a/b/activity"), None);
        assert_eq!(hook_path_session("/sessions/app-1/kill"), None);
    }
}
