//! Notifiers: the webhook against a local receiver (exact JSON, retries on
//! 5xx/429/timeouts, none on other 4xx, giving up after max attempts), the
//! log notifier, and routing by priority from the config section; Slack
//! against a fake that checks messages as Slack does, and the desktop
//! notifier against fake `notify-send` and `osascript` tools.

#![allow(clippy::unwrap_used)]

use ao_core::domain::{Priority, ProjectId, ReactionKey, SessionId};
use ao_core::lcm::{Notification, NotificationKind};
use ao_daemon::notify::{
    Notifiers, NotifyConfig, NotifyConfigError, WebhookConfig, WebhookNotifier,
};
use ao_daemon::ports::Notifier;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the receiver saw and will answer.
#[derive(Default)]
struct Inbox {
    /// Statuses to answer, in order (then 200); 0 means "hang".
    script: VecDeque<u16>,
    bodies: Vec<Value>,
    headers: Vec<HeaderMap>,
}

struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start(script: &[u16]) -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox {
            script: script.iter().copied().collect(),
            ..Inbox::default()
        }));
        let app = Router::new()
            .route("/hooks/s3cr3t", post(receive))
            .with_state(Arc::clone(&inbox));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serves");
        });
        Receiver {
            url: format!("http://{addr}/hooks/s3cr3t"),
            inbox,
            task,
        }
    }

    fn bodies(&self) -> Vec<Value> {
        self.inbox.lock().expect("inbox").bodies.clone()
    }

    fn headers(&self) -> Vec<HeaderMap> {
        self.inbox.lock().expect("inbox").headers.clone()
    }
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let status = {
        let mut inbox = inbox.lock().expect("inbox");
        inbox
            .bodies
            .push(serde_json::from_str(&body).unwrap_or(Value::String(body)));
        inbox.headers.push(headers);
        inbox.script.pop_front().unwrap_or(200)
    };
    if status == 0 {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    StatusCode::from_u16(status).expect("status")
}

fn note(priority: Priority) -> Notification {
    Notification {
        kind: NotificationKind::Escalated,
        reaction: ReactionKey::CiFailed,
        priority,
        session: SessionId::from("app-7"),
        project: ProjectId::from("app"),
        message: "CI still fails after 2 attempts".to_owned(),
    }
}

fn fast(url: &str) -> WebhookConfig {
    let mut c = WebhookConfig::new(url);
    c.backoff = Some(ao_core::time::Duration(10));
    c.backoff_cap = Some(ao_core::time::Duration(50));
    c.timeout = Some(ao_core::time::Duration(2000));
    c
}

#[tokio::test]
async fn webhook_posts_the_exact_json() {
    let rx = Receiver::start(&[]).await;
    let mut config = fast(&rx.url);
    config
        .headers
        .insert("X-Hook-Token".to_owned(), "tok".to_owned());
    let hook = WebhookNotifier::new(&config).expect("webhook");
    hook.notify(&note(Priority::Urgent))
        .await
        .expect("delivered");
    assert_eq!(
        rx.bodies(),
        vec![json!({
            "type": "reaction.escalated",
            "reaction": "ci-failed",
            "priority": "urgent",
            "session_id": "app-7",
            "project_id": "app",
            "message": "CI still fails after 2 attempts",
        })]
    );
    let headers = &rx.headers()[0];
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-hook-token"], "tok");

    let mut plain = note(Priority::Info);
    plain.kind = NotificationKind::Reaction;
    plain.reaction = ReactionKey::AllComplete;
    hook.notify(&plain).await.expect("delivered");
    assert_eq!(rx.bodies()[1]["type"], "reaction");
    assert_eq!(rx.bodies()[1]["reaction"], "all-complete");
    assert_eq!(rx.bodies()[1]["priority"], "info");
}

#[tokio::test]
async fn webhook_retries_503_twice_then_delivers_in_three_attempts() {
    let rx = Receiver::start(&[503, 503]).await;
    let hook = WebhookNotifier::new(&fast(&rx.url)).expect("webhook");
    let attempts = hook
        .deliver(&note(Priority::Action))
        .await
        .expect("delivered");
    assert_eq!(attempts, 3);
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "same body every time"
    );
}

#[tokio::test]
async fn webhook_retries_429_and_500() {
    let rx = Receiver::start(&[429, 500]).await;
    let hook = WebhookNotifier::new(&fast(&rx.url)).expect("webhook");
    assert_eq!(hook.deliver(&note(Priority::Action)).await, Ok(3));
}

#[tokio::test]
async fn webhook_does_not_retry_a_400() {
    let rx = Receiver::start(&[400]).await;
    let hook = WebhookNotifier::new(&fast(&rx.url)).expect("webhook");
    let err = hook
        .notify(&note(Priority::Urgent))
        .await
        .expect_err("rejected");
    let text = err.to_string();
    assert!(text.contains("400"), "{text}");
    assert!(
        !text.contains("s3cr3t"),
        "the URL path stays out of errors: {text}"
    );
    assert_eq!(rx.bodies().len(), 1);
}

#[tokio::test]
async fn webhook_gives_up_after_max_attempts_of_5xx() {
    let rx = Receiver::start(&[502, 502, 502, 502, 502]).await;
    let mut config = fast(&rx.url);
    config.max_attempts = Some(3);
    let hook = WebhookNotifier::new(&config).expect("webhook");
    let err = hook
        .notify(&note(Priority::Urgent))
        .await
        .expect_err("gave up");
    assert!(
        err.to_string().contains("gave up after 3 attempts"),
        "{err}"
    );
    assert_eq!(rx.bodies().len(), 3);
}

#[tokio::test]
async fn webhook_to_an_unreachable_host_fails_after_max_attempts() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let url = format!("http://{addr}/hooks/s3cr3t");
    let hook = WebhookNotifier::new(&fast(&url)).expect("webhook");
    let started = Instant::now();
    let err = hook
        .notify(&note(Priority::Urgent))
        .await
        .expect_err("unreachable");
    assert!(
        err.to_string().contains("gave up after 4 attempts"),
        "{err}"
    );
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn webhook_retries_a_timeout() {
    let rx = Receiver::start(&[0]).await;
    let mut config = fast(&rx.url);
    config.timeout = Some(ao_core::time::Duration(300));
    let hook = WebhookNotifier::new(&config).expect("webhook");
    assert_eq!(hook.deliver(&note(Priority::Urgent)).await, Ok(2));

    let rx = Receiver::start(&[0, 0]).await;
    let mut config = fast(&rx.url);
    config.timeout = Some(ao_core::time::Duration(300));
    config.max_attempts = Some(2);
    let hook = WebhookNotifier::new(&config).expect("webhook");
    let err = hook
        .deliver(&note(Priority::Urgent))
        .await
        .expect_err("timeouts");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(rx.bodies().len(), 2);
}

#[test]
fn webhook_backoff_is_exponential_and_capped() {
    let hook = WebhookNotifier::new(&WebhookConfig::new("https://example.com/h")).expect("hook");
    let delays: Vec<u128> = (1..=8).map(|a| hook.backoff_after(a).as_millis()).collect();
    assert_eq!(
        delays,
        vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]
    );
}

#[test]
fn webhook_config_is_checked() {
    assert!(WebhookNotifier::new(&WebhookConfig::new("not a url")).is_err());
    assert!(WebhookNotifier::new(&WebhookConfig::new("ftp://example.com/x")).is_err());
    let mut zero = WebhookConfig::new("https://example.com/h");
    zero.max_attempts = Some(0);
    assert!(WebhookNotifier::new(&zero).is_err());
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn take(&self) -> String {
        let mut buf = self.0.lock().expect("capture");
        let text = String::from_utf8_lossy(&buf).into_owned();
        buf.clear();
        text
    }
}

/// Captures this thread's log (the tests run on a current-thread runtime).
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let out = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(out.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (out, guard)
}

fn notify_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("ao::notify")).collect()
}

#[tokio::test]
async fn log_notifier_level_follows_priority() {
    let (out, _guard) = capture();
    let log = ao_daemon::notify::LogNotifier;
    for (p, level) in [
        (Priority::Urgent, "WARN"),
        (Priority::Action, "WARN"),
        (Priority::Warning, "WARN"),
        (Priority::Info, "INFO"),
    ] {
        log.notify(&note(p)).await.expect("logged");
        let text = out.take();
        let lines = notify_lines(&text);
        assert_eq!(lines.len(), 1, "{text}");
        assert!(lines[0].contains(level), "{p}: {text}");
        assert!(!lines[0].contains("ERROR"), "never ERROR: {text}");
        for needle in [
            "CI still fails after 2 attempts",
            "session_id=\"app-7\"",
            "project_id=\"app\"",
            "reaction=\"ci-failed\"",
            "kind=\"reaction.escalated\"",
        ] {
            assert!(lines[0].contains(needle), "{needle} in {text}");
        }
    }
}

const ROUTED: &str = r#"
channels:
  hook: {kind: webhook, url: "URL", backoff: 10ms, backoff_cap: 50ms, timeout: 2s}
routes:
  urgent: [hook, log]
  info: [log]
"#;

fn routed_config(url: &str) -> NotifyConfig {
    serde_yaml::from_str(&ROUTED.replace("URL", url)).expect("config parses")
}

#[tokio::test]
async fn routing_sends_urgent_to_webhook_and_log_and_info_to_log_only() {
    let rx = Receiver::start(&[]).await;
    let notifiers = Notifiers::from_config(&routed_config(&rx.url)).expect("valid");
    assert_eq!(notifiers.routed(Priority::Urgent), ["hook", "log"]);
    assert_eq!(notifiers.routed(Priority::Action), ["log"], "default route");
    let (out, _guard) = capture();

    notifiers
        .notify(&note(Priority::Urgent))
        .await
        .expect("delivered");
    assert_eq!(rx.bodies().len(), 1);
    assert_eq!(rx.bodies()[0]["priority"], "urgent");
    assert_eq!(notify_lines(&out.take()).len(), 1);

    notifiers
        .notify(&note(Priority::Info))
        .await
        .expect("delivered");
    assert_eq!(rx.bodies().len(), 1, "info does not reach the webhook");
    assert_eq!(notify_lines(&out.take()).len(), 1);
}

#[tokio::test]
async fn a_failing_channel_fails_the_delivery_but_the_others_still_get_it() {
    let rx = Receiver::start(&[400]).await;
    let notifiers = Notifiers::from_config(&routed_config(&rx.url)).expect("valid");
    let (out, _guard) = capture();
    let err = notifiers
        .notify(&note(Priority::Urgent))
        .await
        .expect_err("the webhook failed");
    assert!(err.to_string().contains("`hook`"), "{err}");
    assert_eq!(notify_lines(&out.take()).len(), 1, "the log still got it");
    assert_eq!(rx.bodies().len(), 1);
}

#[tokio::test]
async fn default_notifiers_log_everything() {
    let config: NotifyConfig = serde_yaml::from_str("{}").expect("empty section");
    let notifiers = Notifiers::from_config(&config).expect("valid");
    let (out, _guard) = capture();
    for p in [
        Priority::Urgent,
        Priority::Action,
        Priority::Warning,
        Priority::Info,
    ] {
        assert_eq!(notifiers.routed(p), ["log"]);
        notifiers.notify(&note(p)).await.expect("logged");
    }
    assert_eq!(notify_lines(&out.take()).len(), 4);
    let silent: NotifyConfig = serde_yaml::from_str("routes: {info: []}").expect("parses");
    let notifiers = Notifiers::from_config(&silent).expect("valid");
    notifiers
        .notify(&note(Priority::Info))
        .await
        .expect("nothing to do");
    assert!(notify_lines(&out.take()).is_empty());
}

#[test]
fn a_route_to_an_undefined_channel_is_an_error_naming_the_route() {
    let config: NotifyConfig =
        serde_yaml::from_str("routes: {urgent: [log], action: [pager]}").expect("parses");
    let err = Notifiers::from_config(&config).expect_err("pager is undefined");
    assert_eq!(
        err,
        NotifyConfigError::UnknownChannel {
            route: Priority::Action,
            name: "pager".to_owned(),
            defined: "log".to_owned(),
        }
    );
    assert_eq!(
        err.to_string(),
        "notifiers.routes.action: no channel named `pager` (defined: log)"
    );
    assert!(config.validate().is_err());
}

#[test]
fn the_notifier_section_rejects_unknown_fields_and_kinds() {
    for bad in [
        "channel: {}",
        "routes: {loud: [log]}",
        "channels: {h: {kind: webhook, url: 'http://x', retries: 3}}",
        "channels: {h: {kind: carrier-pigeon}}",
        "channels: {h: {kind: log, level: debug}}",
        "channels: {h: {kind: webhook, url: 'http://x', timeout: fast}}",
        "channels: {h: {url: 'http://x'}}",
    ] {
        assert!(
            serde_yaml::from_str::<NotifyConfig>(bad).is_err(),
            "accepted: {bad}"
        );
    }
    let quiet: NotifyConfig =
        serde_yaml::from_str("channels: {quiet: {kind: log}}\nroutes: {info: [quiet]}")
            .expect("a log channel needs no settings");
    quiet.validate().expect("valid");
    let bad_url: NotifyConfig =
        serde_yaml::from_str("channels: {h: {kind: webhook, url: 'nope'}}").expect("parses");
    let err = bad_url.validate().expect_err("bad url");
    assert!(
        matches!(&err, NotifyConfigError::InvalidChannel { name, .. } if name == "h"),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("notifiers.channels.h: "),
        "{err}"
    );
}

// ---------------------------------------------------------------- Slack and desktop

#[path = "support/slack.rs"]
mod slack;

use ao_core::domain::DisplayStatus;
use ao_daemon::notify::desktop::{DesktopNotifier, Tool};
use ao_daemon::notify::About;

fn about_pr() -> About {
    About {
        status: Some(DisplayStatus::CiFailed),
        pr_number: Some(12),
        pr_url: Some("https://github.com/me/app/pull/12".to_owned()),
    }
}

#[tokio::test]
async fn slack_gets_a_message_slack_accepts_with_session_status_pr_link_and_reason() {
    let fake = slack::FakeSlack::start();
    let hook = WebhookNotifier::slack(&fast(&fake.url)).expect("valid");
    let mut n = note(Priority::Urgent);
    n.message = "CI fails: <error> & more\nthe full log follows".to_owned();
    let attempts = hook
        .deliver_about(&n, &about_pr())
        .await
        .expect("delivered");
    assert_eq!(attempts, 1);
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    let (status, answer, body) = &seen[0];
    assert_eq!((*status, answer.as_str()), (200, "ok"), "{body}");
    assert_eq!(
        body["text"], "ao: app-7 ci_failed: CI fails: &lt;error&gt; &amp; more",
        "the one-line reason, escaped as Slack asks"
    );
    assert_eq!(
        body["blocks"][0]["text"]["text"],
        "*app-7* (project app) is *ci_failed*\nCI fails: &lt;error&gt; &amp; more"
    );
    assert_eq!(
        body["blocks"][1]["elements"][0]["text"],
        "urgent · ci-failed (escalated) · <https://github.com/me/app/pull/12|PR #12>"
    );
}

#[tokio::test]
async fn slack_and_desktop_channels_come_from_the_config_and_are_routed() {
    let fake = slack::FakeSlack::start();
    let yaml = format!(
        "channels:\n  team: {{kind: slack, url: \"{}\"}}\n  screen: {{kind: desktop}}\nroutes:\n  urgent: [team, screen]\n  info: []\n",
        fake.url
    );
    let config: NotifyConfig = serde_yaml::from_str(&yaml).expect("parses");
    let notifiers = Notifiers::from_config(&config).expect("valid");
    assert_eq!(notifiers.routed(Priority::Urgent), ["team", "screen"]);
    notifiers
        .notify_about(&note(Priority::Urgent), &about_pr())
        .await
        .expect("delivered (a desktop without its tool is no failure)");
    notifiers
        .notify_about(&note(Priority::Info), &about_pr())
        .await
        .expect("nothing routed");
    assert_eq!(fake.seen().len(), 1, "info is not routed to Slack");
    let bad = serde_yaml::from_str::<NotifyConfig>(
        "channels:\n  team: {kind: slack, url: \"not a url\"}\n",
    )
    .expect("parses");
    let err = Notifiers::from_config(&bad).expect_err("a bad URL is refused");
    assert!(err.to_string().contains("notifiers.channels.team"), "{err}");
}

/// A fake tool on a PATH of its own that records its argv, one argument per
/// NUL-terminated record, and exits with `code`.
fn fake_tool(dir: &std::path::Path, name: &str, code: i32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let argv = dir.join(format!("{name}.argv"));
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done >> '{}'\necho 'no display' >&2\nexit {code}\n",
        argv.display()
    );
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    argv
}

fn recorded(argv: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(argv)
        .unwrap_or_default()
        .split('\0')
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

fn temp(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("ao-notify-{name}-{}-{nanos}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[tokio::test]
async fn the_desktop_notifier_runs_notify_send_with_the_title_body_and_urgency() {
    let dir = temp("desktop");
    let argv = fake_tool(&dir, "notify-send", 0);
    let desk = DesktopNotifier::new(Tool::NotifySend).with_search_path(&dir);
    desk.notify(&note(Priority::Urgent), &about_pr())
        .await
        .expect("shown");
    assert_eq!(
        recorded(&argv),
        [
            "--app-name=ao",
            "--urgency=critical",
            "--",
            "ao: app-7 ci_failed",
            "CI still fails after 2 attempts\nPR #12 https://github.com/me/app/pull/12",
        ]
    );
    std::fs::remove_file(&argv).unwrap();
    desk.notify(&note(Priority::Info), &About::default())
        .await
        .expect("shown");
    let args = recorded(&argv);
    assert_eq!(args[1], "--urgency=low");
    assert_eq!(args[3..], ["ao: app-7", "CI still fails after 2 attempts"]);

    // macOS: the text goes to osascript as arguments, never as script.
    let argv = fake_tool(&dir, "osascript", 0);
    DesktopNotifier::new(Tool::Osascript)
        .with_search_path(&dir)
        .notify(&note(Priority::Urgent), &About::default())
        .await
        .expect("shown");
    let args = recorded(&argv);
    assert_eq!(
        args[..6],
        [
            "-e",
            "on run argv",
            "-e",
            "display notification (item 2 of argv) with title (item 1 of argv)",
            "-e",
            "end run"
        ]
    );
    assert_eq!(args[6..], ["ao: app-7", "CI still fails after 2 attempts"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_missing_desktop_tool_is_a_warning_once_and_a_failing_one_an_error() {
    let dir = temp("desktop-missing");
    std::fs::create_dir_all(&dir).unwrap();
    let desk = DesktopNotifier::new(Tool::NotifySend).with_search_path(&dir);
    let (out, _guard) = capture();
    for _ in 0..3 {
        desk.notify(&note(Priority::Urgent), &About::default())
            .await
            .expect("a missing tool is no failure");
    }
    let log = out.take();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains("notify-send") && warnings[0].contains("libnotify-bin"),
        "{log}"
    );

    fake_tool(&dir, "notify-send", 1);
    let err = desk
        .notify(&note(Priority::Urgent), &About::default())
        .await
        .expect_err("a tool that fails");
    assert!(err.to_string().contains("no display"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
