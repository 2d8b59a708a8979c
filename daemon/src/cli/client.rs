//! The CLI's HTTP client: one call, one answer or one error carrying the
//! daemon's own message, and "no daemon answered" told apart from "the
//! daemon said no" (a hook spools in the first case, never in the second).

use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// Why a call gave nothing to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No daemon answered (connection refused, timed out).
    Unreachable(String),
    /// The daemon answered with an error (its message and the status).
    Refused(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Unreachable(m) | CallError::Refused(m) => f.write_str(m),
        }
    }
}

/// A client of one daemon.
pub struct Client {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    timeout: Duration,
}

impl Client {
    /// A client of the daemon at `url`, sending `token` when there is one.
    pub fn new(url: &str, token: Option<String>, timeout: Duration) -> Client {
        Client {
            http: reqwest::Client::new(),
            url: url.trim_end_matches('/').to_owned(),
            token,
            timeout,
        }
    }

    /// One API call. A 2xx answer, or a 422 that reports a finished
    /// operation (it rolled back: the caller shows it and exits 1), is an
    /// answer; anything else is an error with the daemon's message.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, CallError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .timeout(self.timeout);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let finished_op = status == StatusCode::UNPROCESSABLE_ENTITY
            && value.get("ok").is_some_and(Value::is_boolean);
        if status.is_success() || finished_op {
            return Ok(value);
        }
        Err(refusal(status, &value, &text))
    }

    /// Opens a long answer (the event stream): no time limit once it answers;
    /// `last_event_id` resumes after that event.
    pub async fn stream(
        &self,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Result<reqwest::Response, CallError> {
        let mut req = self
            .http
            .get(format!("{}{path}", self.url))
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let resp = tokio::time::timeout(self.timeout, req.send())
            .await
            .map_err(|_| CallError::Unreachable(format!("{} did not answer in time", self.url)))?
            .map_err(|e| self.unreachable(&e))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Err(refusal(status, &value, &text))
    }

    /// A request that got no answer: a bad URL is the caller's mistake;
    /// anything else (refused, reset, timed out) means no daemon answered.
    fn unreachable(&self, e: &reqwest::Error) -> CallError {
        let mut cause = String::new();
        let mut source: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = source {
            cause = s.to_string();
            source = s.source();
        }
        if e.is_builder() {
            return CallError::Refused(format!("invalid daemon URL {}: {cause}", self.url));
        }
        CallError::Unreachable(format!(
            "cannot reach the daemon at {} ({cause}): start it with `ao daemon` \
             (add --data-dir DIR for another data dir), or point --url / AO_URL at a running one",
            self.url
        ))
    }
}

/// The daemon's "no" as an error: its own message, the status, and for a
/// missing or wrong token where the CLI looks for one.
fn refusal(status: StatusCode, value: &Value, text: &str) -> CallError {
    let message = value
        .get("error")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| text.trim().to_owned());
    let mut message = format!("{message} (HTTP {})", status.as_u16());
    if status == StatusCode::UNAUTHORIZED {
        message.push_str(
            "; the CLI reads the token from <data dir>/token: pass --data-dir (or AO_DATA_DIR) \
             for a daemon with another data dir, or --token",
        );
    }
    CallError::Refused(message)
}
