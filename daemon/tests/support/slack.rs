//! A fake Slack incoming webhook on a loopback port: it checks a message as
//! Slack documents it (a JSON body whose `text` is the notification text;
//! `blocks` of type `section` with a `text` object, or `context` with 1 to
//! 10 `elements`, each text object `mrkdwn` or `plain_text` with 1 to 3000
//! characters) and answers as Slack does: `200 ok`, or `400` with the
//! error's name (`invalid_payload`, `no_text`, `invalid_blocks`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

/// What the fake saw: each message with the answer it gave.
pub struct FakeSlack {
    /// `http://127.0.0.1:PORT/services/T000/B000/XXXX`.
    pub url: String,
    seen: Arc<Mutex<Vec<(u16, String, Value)>>>,
}

impl FakeSlack {
    /// Starts listening.
    pub fn start() -> FakeSlack {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/services/T000/B000/XXXX",
            listener.local_addr().unwrap()
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (status, answer, body) = answer(stream);
                log.lock().unwrap().push((status, answer, body));
            }
        });
        FakeSlack { url, seen }
    }

    /// Every message so far: (status answered, answer text, body).
    pub fn seen(&self) -> Vec<(u16, String, Value)> {
        self.seen.lock().unwrap().clone()
    }
}

/// Reads one request, judges it, answers; what it answered and the body.
fn answer(mut stream: std::net::TcpStream) -> (u16, String, Value) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0;
    let mut json = false;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        let l = line.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if let Some(v) = l.strip_prefix("content-type:") {
            json = v.trim().starts_with("application/json");
        }
        line.clear();
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let verdict = if !json || value.is_null() {
        Err("invalid_payload")
    } else {
        judge(&value)
    };
    let (status, text) = match verdict {
        Ok(()) => (200, "ok"),
        Err(e) => (400, e),
    };
    let reason = if status == 200 { "OK" } else { "Bad Request" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    (status, text.to_owned(), value)
}

fn text_object(v: &Value) -> bool {
    let kind_ok = matches!(v["type"].as_str(), Some("mrkdwn" | "plain_text"));
    let len = v["text"].as_str().map_or(0, |t| t.chars().count());
    kind_ok && (1..=3000).contains(&len)
}

/// Slack's rules for a message's `text` and `blocks`.
fn judge(v: &Value) -> Result<(), &'static str> {
    if v["text"].as_str().is_none_or(str::is_empty) {
        return Err("no_text");
    }
    let Some(blocks) = v.get("blocks") else {
        return Ok(());
    };
    let ok = blocks.as_array().is_some_and(|bs| {
        bs.len() <= 50
            && bs.iter().all(|b| match b["type"].as_str() {
                Some("section") => text_object(&b["text"]),
                Some("context") => b["elements"]
                    .as_array()
                    .is_some_and(|es| (1..=10).contains(&es.len()) && es.iter().all(text_object)),
                _ => false,
            })
    });
    if ok {
        Ok(())
    } else {
        Err("invalid_blocks")
    }
}
