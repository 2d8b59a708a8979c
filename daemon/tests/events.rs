//! Operational hygiene seen from outside: the event stream starts with a
//! snapshot, numbers its events and resumes from `Last-Event-ID`; `ao send`
//! counts in the metrics; no colour codes reach a log that is not a terminal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/daemon.rs"]
mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;
use support::{spawn_daemon, Daemon, TempDir, QUIET};

/// One server-sent event.
#[derive(Debug, Default, Clone)]
struct Sse {
    id: Option<String>,
    event: String,
    data: String,
}

/// An open event stream (HTTP/1.0, so the body is the raw stream).
struct Stream(BufReader<std::net::TcpStream>);

impl Stream {
    fn open(d: &Daemon, last_event_id: Option<&str>) -> Stream {
        let mut s = std::net::TcpStream::connect(&d.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut req = format!(
            "GET /events HTTP/1.0\r\nHost: {}\r\nAuthorization: Bearer {}\r\n",
            d.addr,
            d.token()
        );
        if let Some(id) = last_event_id {
            req.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut reader = BufReader::new(s);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.contains(" 200 "), "{line}");
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
        }
        Stream(reader)
    }

    /// The next event (keep-alive comments skipped).
    fn next(&mut self) -> Sse {
        let mut e = Sse::default();
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.0.read_line(&mut line).unwrap();
            assert!(n > 0, "the stream ended");
            let l = line.trim_end_matches(['\r', '\n']);
            if l.is_empty() {
                if !e.event.is_empty() || !e.data.is_empty() {
                    return e;
                }
                continue;
            }
            if let Some(v) = l.strip_prefix("id:") {
                e.id = Some(v.trim().to_owned());
            } else if let Some(v) = l.strip_prefix("event:") {
                e.event = v.trim().to_owned();
            } else if let Some(v) = l.strip_prefix("data:") {
                e.data.push_str(v.trim_start());
            }
        }
    }

    /// Events until one whose data contains `what`.
    fn until(&mut self, what: &str) -> Vec<Sse> {
        let mut seen = Vec::new();
        loop {
            let e = self.next();
            let done = e.data.contains(what);
            seen.push(e);
            if done {
                return seen;
            }
        }
    }
}

#[test]
fn the_event_stream_starts_with_a_snapshot_and_resumes_from_last_event_id() {
    let dir = TempDir::new("events");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let first = d.spawn("sleep 30");

    let mut s = Stream::open(&d, None);
    let snap = s.next();
    assert_eq!(snap.event, "snapshot", "{snap:?}");
    let sessions: Value = serde_json::from_str(&snap.data).unwrap();
    assert_eq!(sessions[0]["id"], first.as_str(), "{sessions}");
    assert!(
        snap.id.is_some(),
        "the snapshot says which event it reflects"
    );

    let second = d.spawn("sleep 30");
    let seen = s.until(&format!("\"session\":\"{second}\""));
    let ids: Vec<String> = seen.iter().filter_map(|e| e.id.clone()).collect();
    assert!(
        !ids.is_empty() && seen.iter().all(|e| e.event == "session" && e.id.is_some()),
        "{seen:?}"
    );
    let seq = |id: &str| id.rsplit('-').next().unwrap().parse::<u64>().unwrap();
    assert!(
        ids.windows(2).all(|w| seq(&w[1]) > seq(&w[0])),
        "increasing ids: {ids:?}"
    );
    let last = ids.last().unwrap().clone();
    drop(s);

    // Missed while disconnected: a kill. A resume replays it, no snapshot.
    assert!(d.ao(&["kill", &first]).status.success());
    let mut resumed = Stream::open(&d, Some(&last));
    let missed = resumed.until("\"killed\"");
    assert!(missed.iter().all(|e| e.event == "session"), "{missed:?}");
    assert!(
        seq(missed[0].id.as_ref().unwrap()) == seq(&last) + 1,
        "{missed:?} after {last}"
    );
    drop(resumed);

    // Another daemon's id (or garbage) cannot be replayed: it says so, then a snapshot.
    let mut stale = Stream::open(&d, Some("1-1"));
    let gap = stale.next();
    assert_eq!(gap.event, "gap");
    assert!(gap.data.contains("cannot replay after `1-1`"), "{gap:?}");
    assert_eq!(stale.next().event, "snapshot");
}

#[test]
fn ao_send_counts_in_the_metrics() {
    let dir = TempDir::new("send-metrics");
    let d = Daemon::start(&dir.join("data"), Some(QUIET));
    let inbox = dir.join("inbox");
    let id = d.spawn(&format!("cat > {}", inbox.display()));
    let sends = |d: &Daemon| -> u64 {
        let m = d.authed("GET", "/metrics").send().body;
        m.lines()
            .find_map(|l| l.strip_prefix("ao_sends_total "))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(sends(&d), 0);
    let out = d.ao(&["send", &id, "hello"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(sends(&d), 1);
    assert!(support::wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&inbox).is_ok_and(|t| t.contains("hello"))
    }));
}

#[test]
fn no_colour_codes_reach_a_log_that_is_not_a_terminal() {
    let dir = TempDir::new("colour");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut child = spawn_daemon(&data, None, &[]);
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines.next().unwrap().unwrap();
    assert!(ready.starts_with("ao daemon listening on "), "{ready}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("WARN"), "the log has lines: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "no escape codes in a piped log: {log:?}"
    );
}
