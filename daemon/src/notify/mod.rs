//! Notifiers: how the human is told. Named channels (the built-in `log`,
//! webhooks, Slack incoming webhooks, the desktop) and routes that send each
//! priority to a list of channels.
//!
//! ```yaml
//! notifiers:
//!   channels:
//!     pager: {kind: webhook, url: "https://example.com/hook", timeout: 5s, max_attempts: 4, backoff: 500ms}
//!     team: {kind: slack, url: "https://hooks.slack.com/services/T000/B000/XXXX"}
//!     screen: {kind: desktop}
//!   routes:
//!     urgent: [pager, team, screen, log]
//!     action: [team, log]
//!     # warning and info: [log] by default
//! ```
//!
//! A notification goes to every channel its priority routes to, concurrently;
//! one channel failing does not keep it from the others, and the delivery
//! reports failure if any channel failed.

pub mod desktop;
pub mod log;
pub mod webhook;

pub use self::desktop::DesktopNotifier;
pub use self::log::LogNotifier;
pub use self::webhook::{WebhookConfig, WebhookNotifier};

use crate::error::AdapterError;
use crate::ports::Notifier;
use ao_core::domain::{display_status, DisplayStatus, Priority, SessionRecord};
use ao_core::lcm::Notification;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The name of the built-in log channel (always defined unless a channel of that name replaces it).
pub const LOG_CHANNEL: &str = "log";

/// The `notifiers` section of the config file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Named channels, besides the built-in `log`.
    pub channels: BTreeMap<String, ChannelConfig>,
    /// Which channels each priority goes to.
    pub routes: Routes,
}

/// One channel in the config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelConfig {
    /// The daemon's log (no settings).
    Log {},
    /// A JSON POST.
    Webhook(WebhookConfig),
    /// A Slack incoming webhook (the same settings as a webhook).
    Slack(WebhookConfig),
    /// The desktop of the machine the daemon runs on (`notify-send`, `osascript`).
    Desktop {},
}

/// Channels per priority (each defaults to `[log]`; an empty list silences that priority).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Routes {
    /// For `urgent`.
    pub urgent: Vec<String>,
    /// For `action`.
    pub action: Vec<String>,
    /// For `warning`.
    pub warning: Vec<String>,
    /// For `info`.
    pub info: Vec<String>,
}

impl Default for Routes {
    fn default() -> Self {
        let log = || vec![LOG_CHANNEL.to_owned()];
        Routes {
            urgent: log(),
            action: log(),
            warning: log(),
            info: log(),
        }
    }
}

impl Routes {
    /// The channels `priority` goes to.
    pub fn get(&self, priority: Priority) -> &[String] {
        match priority {
            Priority::Urgent => &self.urgent,
            Priority::Action => &self.action,
            Priority::Warning => &self.warning,
            Priority::Info => &self.info,
        }
    }
}

/// A notifier section that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyConfigError {
    /// A route names a channel that is not defined.
    #[error("notifiers.routes.{route}: no channel named `{name}` (defined: {defined})")]
    UnknownChannel {
        /// The route (priority).
        route: Priority,
        /// The missing name.
        name: String,
        /// The defined names, comma separated.
        defined: String,
    },
    /// A channel's settings are invalid.
    #[error("notifiers.channels.{name}: {error}")]
    InvalidChannel {
        /// The channel.
        name: String,
        /// Why.
        error: AdapterError,
    },
}

impl NotifyConfig {
    /// Checks every channel and route (building the channels, without sending anything).
    pub fn validate(&self) -> Result<(), NotifyConfigError> {
        Notifiers::from_config(self).map(|_| ())
    }
}

/// What a notifier may say about the session besides the notification:
/// its status after the decision and its PR (empty when not known).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct About {
    /// The session's display status.
    pub status: Option<DisplayStatus>,
    /// Its PR's number.
    pub pr_number: Option<u64>,
    /// Its PR's address.
    pub pr_url: Option<String>,
}

/// The longest reason a notification's one line carries.
const REASON_CHARS: usize = 200;

impl About {
    /// What the record says about its session.
    pub fn of(rec: &SessionRecord) -> About {
        About {
            status: Some(display_status(&rec.lifecycle)),
            pr_number: rec.lifecycle.pr.number,
            pr_url: rec.lifecycle.pr.url.clone(),
        }
    }

    /// `ao: <session> <status>` (a title people read at a glance).
    pub fn title(&self, n: &Notification) -> String {
        match self.status {
            Some(status) => format!("ao: {} {status}", n.session),
            None => format!("ao: {}", n.session),
        }
    }

    /// The reason in one line, then the PR's address if there is one.
    pub fn body(&self, n: &Notification) -> String {
        let mut body = reason(n);
        if let Some(pr) = self.pr_label() {
            body.push_str(&format!("\n{pr}"));
        }
        body
    }

    /// `PR #12 https://…`, `PR #12` or the address alone.
    fn pr_label(&self) -> Option<String> {
        match (self.pr_number, &self.pr_url) {
            (Some(n), Some(url)) => Some(format!("PR #{n} {url}")),
            (Some(n), None) => Some(format!("PR #{n}")),
            (None, Some(url)) => Some(url.clone()),
            (None, None) => None,
        }
    }
}

/// A notification's reason on one line: its first non-empty line, cut short.
pub fn reason(n: &Notification) -> String {
    let line = n
        .message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(n.reaction.as_str());
    if line.chars().count() > REASON_CHARS {
        let cut: String = line.chars().take(REASON_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

/// One configured channel.
#[derive(Clone, Debug)]
pub enum Channel {
    /// The daemon's log.
    Log(LogNotifier),
    /// A webhook (the daemon's JSON, or Slack's).
    Webhook(WebhookNotifier),
    /// The desktop.
    Desktop(DesktopNotifier),
}

impl Channel {
    /// Delivers `n` about a session described by `about`.
    pub async fn notify_about(&self, n: &Notification, about: &About) -> Result<(), AdapterError> {
        match self {
            Channel::Log(c) => c.notify(n).await,
            Channel::Webhook(c) => c.deliver_about(n, about).await.map(|_| ()),
            Channel::Desktop(c) => c.notify(n, about).await,
        }
    }
}

impl Notifier for Channel {
    async fn notify(&self, n: &Notification) -> Result<(), AdapterError> {
        self.notify_about(n, &About::default()).await
    }
}

/// Routes each notification to the channels of its priority.
#[derive(Clone, Debug)]
pub struct Notifiers {
    channels: BTreeMap<String, Arc<Channel>>,
    routes: Routes,
}

impl Default for Notifiers {
    /// Everything to the log.
    fn default() -> Self {
        let mut channels = BTreeMap::new();
        channels.insert(LOG_CHANNEL.to_owned(), Arc::new(Channel::Log(LogNotifier)));
        Notifiers {
            channels,
            routes: Routes::default(),
        }
    }
}

impl Notifiers {
    /// Builds the channels and checks the routes of a config section.
    pub fn from_config(config: &NotifyConfig) -> Result<Notifiers, NotifyConfigError> {
        let mut channels = BTreeMap::new();
        for (name, channel) in &config.channels {
            let invalid = |error| NotifyConfigError::InvalidChannel {
                name: name.clone(),
                error,
            };
            let built = match channel {
                ChannelConfig::Log {} => Channel::Log(LogNotifier),
                ChannelConfig::Webhook(w) => {
                    Channel::Webhook(WebhookNotifier::new(w).map_err(invalid)?)
                }
                ChannelConfig::Slack(w) => {
                    Channel::Webhook(WebhookNotifier::slack(w).map_err(invalid)?)
                }
                ChannelConfig::Desktop {} => Channel::Desktop(DesktopNotifier::default()),
            };
            channels.insert(name.clone(), built);
        }
        Notifiers::new(channels, config.routes.clone())
    }

    /// From built channels (the built-in `log` is added unless one of that name is given).
    pub fn new(
        channels: BTreeMap<String, Channel>,
        routes: Routes,
    ) -> Result<Notifiers, NotifyConfigError> {
        let mut channels: BTreeMap<String, Arc<Channel>> = channels
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect();
        channels
            .entry(LOG_CHANNEL.to_owned())
            .or_insert_with(|| Arc::new(Channel::Log(LogNotifier)));
        for route in [
            Priority::Urgent,
            Priority::Action,
            Priority::Warning,
            Priority::Info,
        ] {
            if let Some(name) = routes
                .get(route)
                .iter()
                .find(|n| !channels.contains_key(n.as_str()))
            {
                return Err(NotifyConfigError::UnknownChannel {
                    route,
                    name: name.clone(),
                    defined: channels.keys().cloned().collect::<Vec<_>>().join(", "),
                });
            }
        }
        Ok(Notifiers { channels, routes })
    }

    /// The channels `priority` is routed to.
    pub fn routed(&self, priority: Priority) -> &[String] {
        self.routes.get(priority)
    }
}

impl Notifier for Notifiers {
    async fn notify(&self, n: &Notification) -> Result<(), AdapterError> {
        self.notify_about(n, &About::default()).await
    }
}

impl Notifiers {
    /// Delivers `n` to every channel its priority routes to, concurrently,
    /// telling them what `about` says of the session.
    pub async fn notify_about(&self, n: &Notification, about: &About) -> Result<(), AdapterError> {
        let mut names: Vec<&String> = Vec::new();
        for name in self.routes.get(n.priority) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.is_empty() {
            tracing::debug!(priority = n.priority.as_str(), "no channel routed: dropped");
            return Ok(());
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (i, name) in names.iter().enumerate() {
            let Some(channel) = self.channels.get(name.as_str()) else {
                continue; // cannot happen: routes are checked at construction
            };
            let channel = Arc::clone(channel);
            let n = n.clone();
            let about = about.clone();
            tasks.spawn(async move { (i, channel.notify_about(&n, &about).await) });
        }
        let mut failures: Vec<(usize, String)> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((_, Ok(()))) => {}
                Ok((i, Err(e))) => failures.push((i, format!("`{}`: {e}", names[i]))),
                Err(e) => failures.push((usize::MAX, format!("a channel task failed: {e}"))),
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        failures.sort();
        let detail: Vec<String> = failures.into_iter().map(|(_, d)| d).collect();
        Err(AdapterError::failed(
            format!(
                "notify {} ({}, session {})",
                n.kind.as_str(),
                n.priority.as_str(),
                n.session
            ),
            detail.join("; "),
        ))
    }
}
