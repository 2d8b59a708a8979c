//! Notifiers: how the human is told. Named channels (the built-in `log`, and
//! webhooks) and routes that send each priority to a list of channels.
//!
//! ```yaml
//! notifiers:
//!   channels:
//!     pager: {kind: webhook, url: "https://example.com/hook", timeout: 5s, max_attempts: 4, backoff: 500ms}
//!   routes:
//!     urgent: [pager, log]
//!     action: [pager, log]
//!     # warning and info: [log] by default
//! ```
//!
//! A notification goes to every channel its priority routes to, concurrently;
//! one channel failing does not keep it from the others, and the delivery
//! reports failure if any channel failed.

pub mod log;
pub mod webhook;

pub use self::log::LogNotifier;
pub use self::webhook::{WebhookConfig, WebhookNotifier};

use crate::error::AdapterError;
use crate::ports::Notifier;
use ao_core::domain::Priority;
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

/// One configured channel.
#[derive(Clone, Debug)]
pub enum Channel {
    /// The daemon's log.
    Log(LogNotifier),
    /// A webhook.
    Webhook(WebhookNotifier),
}

impl Notifier for Channel {
    async fn notify(&self, n: &Notification) -> Result<(), AdapterError> {
        match self {
            Channel::Log(c) => c.notify(n).await,
            Channel::Webhook(c) => c.notify(n).await,
        }
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
            let built = match channel {
                ChannelConfig::Log {} => Channel::Log(LogNotifier),
                ChannelConfig::Webhook(w) => {
                    Channel::Webhook(WebhookNotifier::new(w).map_err(|error| {
                        NotifyConfigError::InvalidChannel {
                            name: name.clone(),
                            error,
                        }
                    })?)
                }
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
            tasks.spawn(async move { (i, channel.notify(&n).await) });
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
