//! The webhook notifier: POSTs one JSON object per notification, retrying
//! network errors, timeouts, 429 and 5xx with capped exponential backoff.
//! Other 4xx answers are final (the receiver rejected the request; sending
//! it again cannot help).
//!
//! The body is `{"type", "reaction", "priority", "session_id", "project_id",
//! "message"}`, all strings, `type` being `reaction` or `reaction.escalated`.
//! A Slack channel posts what Slack's incoming webhooks take instead: a
//! `text` (what the phone shows) and `blocks` (a `section` naming the
//! session, its status and the one-line reason; a `context` with the
//! priority, the reaction and the PR link), in Slack's `mrkdwn` with `&`,
//! `<` and `>` escaped as Slack asks. Slack answers `200 ok`, or a 4xx with
//! the error's name (`invalid_payload`, `no_text`, ...), which is final.
//! The URL often embeds a secret, so logs and errors show only its origin.

use super::About;
use crate::error::AdapterError;
use crate::ports::Notifier;
use ao_core::lcm::Notification;
use ao_core::time::Duration as Span;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Default limit for one POST.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of attempts (the first one included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// Default delay before the first retry (doubled for each further one).
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
/// Default upper bound of one delay.
pub const DEFAULT_BACKOFF_CAP: Duration = Duration::from_secs(30);

/// A webhook in the config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST (`http` or `https`).
    pub url: String,
    /// Limit for one POST (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    /// Attempts before giving up, the first included (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Delay before the first retry, doubled for each further one (default 500ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Span>,
    /// Upper bound of one delay (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_cap: Option<Span>,
    /// Extra request headers (e.g. an authorization for the receiver).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl WebhookConfig {
    /// A webhook to `url` with every default.
    pub fn new(url: impl Into<String>) -> WebhookConfig {
        WebhookConfig {
            url: url.into(),
            timeout: None,
            max_attempts: None,
            backoff: None,
            backoff_cap: None,
            headers: BTreeMap::new(),
        }
    }
}

/// What a webhook's body looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The daemon's own JSON object.
    Ao,
    /// A Slack incoming-webhook message.
    Slack,
}

/// POSTs notifications to one URL.
#[derive(Clone, Debug)]
pub struct WebhookNotifier {
    format: Format,
    client: reqwest::Client,
    url: Url,
    shown: String,
    timeout: Duration,
    max_attempts: u32,
    backoff: Duration,
    backoff_cap: Duration,
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    Retry(AdapterError, Option<Duration>),
    Final(AdapterError),
}

impl WebhookNotifier {
    /// A notifier for `config`; fails on a malformed URL, header or zero attempts.
    pub fn new(config: &WebhookConfig) -> Result<WebhookNotifier, AdapterError> {
        WebhookNotifier::with_format(config, Format::Ao)
    }

    /// A Slack incoming webhook at `config`'s URL.
    pub fn slack(config: &WebhookConfig) -> Result<WebhookNotifier, AdapterError> {
        WebhookNotifier::with_format(config, Format::Slack)
    }

    fn with_format(
        config: &WebhookConfig,
        format: Format,
    ) -> Result<WebhookNotifier, AdapterError> {
        let url =
            Url::parse(config.url.trim()).map_err(|e| AdapterError::failed("webhook url", e))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(AdapterError::failed(
                "webhook url",
                "must be an http or https URL with a host",
            ));
        }
        let max_attempts = config.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if max_attempts == 0 {
            return Err(AdapterError::failed(
                "webhook max_attempts",
                "must be at least 1",
            ));
        }
        let millis = |s: Option<Span>, d: Duration| s.map_or(d, |s| Duration::from_millis(s.0));
        let timeout = millis(config.timeout, DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(AdapterError::failed("webhook timeout", "must be positive"));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| AdapterError::failed(format!("webhook header `{name}`"), e))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|e| AdapterError::failed(format!("webhook header `{name}`"), e))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent("ao")
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| AdapterError::failed("webhook HTTP client", e))?;
        let kind = match format {
            Format::Ao => "webhook",
            Format::Slack => "slack",
        };
        let shown = format!("{kind} {}", url.origin().ascii_serialization());
        Ok(WebhookNotifier {
            format,
            client,
            url,
            shown,
            timeout,
            max_attempts,
            backoff: millis(config.backoff, DEFAULT_BACKOFF),
            backoff_cap: millis(config.backoff_cap, DEFAULT_BACKOFF_CAP),
        })
    }

    /// The JSON body sent for `n`.
    pub fn payload(n: &Notification) -> serde_json::Value {
        serde_json::json!({
            "type": n.kind.as_str(),
            "reaction": n.reaction.as_str(),
            "priority": n.priority.as_str(),
            "session_id": n.session.as_str(),
            "project_id": n.project.as_str(),
            "message": n.message,
        })
    }

    /// Slack's message for `n`: a notification text, a section and a context.
    pub fn slack_payload(n: &Notification, about: &About) -> serde_json::Value {
        let reason = escape(&super::reason(n));
        let status = about
            .status
            .map(|s| format!(" is *{s}*"))
            .unwrap_or_default();
        let mut context = format!("{} · {}", n.priority.as_str(), n.reaction.as_str());
        if n.kind == ao_core::lcm::NotificationKind::Escalated {
            context.push_str(" (escalated)");
        }
        match (about.pr_number, about.pr_url.as_deref()) {
            (Some(number), Some(url)) if !url.contains(['|', '<', '>']) => {
                context.push_str(&format!(" · <{url}|PR #{number}>"));
            }
            (Some(number), _) => context.push_str(&format!(" · PR #{number}")),
            (None, Some(url)) => context.push_str(&format!(" · {}", escape(url))),
            (None, None) => {}
        }
        let session = escape(n.session.as_str());
        serde_json::json!({
            "text": format!("{}: {}", escape(&about.title(n)), reason),
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": format!("*{session}* (project {}){status}\n{reason}", escape(n.project.as_str())),
                    }
                },
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": context}]
                }
            ]
        })
    }

    /// The delay after failed attempt `attempt` (1-based): base·2^(attempt-1), capped.
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(20);
        self.backoff.saturating_mul(factor).min(self.backoff_cap)
    }

    /// Delivers `n`, retrying as configured; the number of attempts it took.
    pub async fn deliver(&self, n: &Notification) -> Result<u32, AdapterError> {
        self.deliver_about(n, &About::default()).await
    }

    /// [`Self::deliver`], with what is known of the session (Slack shows it).
    pub async fn deliver_about(
        &self,
        n: &Notification,
        about: &About,
    ) -> Result<u32, AdapterError> {
        let body = match self.format {
            Format::Ao => Self::payload(n),
            Format::Slack => Self::slack_payload(n, about),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (error, hint) = match self.attempt(&body).await {
                Attempt::Delivered => {
                    tracing::debug!(attempt, "{}: delivered", self.shown);
                    return Ok(attempt);
                }
                Attempt::Final(e) => {
                    tracing::warn!(attempt, error = %e, "{}: rejected, not retrying", self.shown);
                    return Err(e);
                }
                Attempt::Retry(e, hint) => (e, hint),
            };
            if attempt >= self.max_attempts {
                tracing::warn!(attempt, error = %error, "{}: giving up", self.shown);
                return Err(AdapterError::failed(
                    format!("POST {}", self.shown),
                    format!("gave up after {attempt} attempts; last: {error}"),
                ));
            }
            let base = self.backoff_after(attempt);
            let delay = hint.map_or(base, |h| h.min(self.backoff_cap).max(base));
            tracing::debug!(attempt, error = %error, ?delay, "{}: retrying", self.shown);
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, body: &serde_json::Value) -> Attempt {
        let what = || format!("POST {}", self.shown);
        let response = match self.client.post(self.url.clone()).json(body).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                let millis = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
                return Attempt::Retry(
                    AdapterError::Timeout {
                        what: what(),
                        millis,
                    },
                    None,
                );
            }
            // Strip the URL: it may carry a secret.
            Err(e) => return Attempt::Retry(AdapterError::failed(what(), e.without_url()), None),
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Delivered;
        }
        let hint = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let error = AdapterError::failed(what(), format!("HTTP {status}"));
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Attempt::Retry(error, hint)
        } else {
            Attempt::Final(error)
        }
    }
}

impl Notifier for WebhookNotifier {
    async fn notify(&self, n: &Notification) -> Result<(), AdapterError> {
        self.deliver(n).await.map(|_| ())
    }
}

/// Text for Slack's `mrkdwn`: the three characters it reserves, escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
