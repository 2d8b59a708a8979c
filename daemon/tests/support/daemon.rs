//! A real `ao daemon` for tests: a temp data dir, an ephemeral loopback
//! port (read from the readiness line), the CLI pointed at it, and a raw
//! HTTP client that sends exactly the headers a test names (a foreign
//! `Host`, an `Origin`, a form content type).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const AO: &str = env!("CARGO_BIN_EXE_ao");

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, unique directory under the system's temp dir.
    pub fn new(name: &str) -> TempDir {
        let unique = format!(
            "ao-test-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// A path inside it.
    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Thresholds under which nothing changes on its own during a test: every
/// change a test sees was made by a request.
pub const QUIET: &str =
    "thresholds:\n  reaper_interval: 1h\n  scm_interval: 1h\n  tick_interval: 1h\n";

/// A running `ao daemon`.
pub struct Daemon {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Every line it printed on stdout so far (the readiness line, the sign-in link).
    pub stdout: std::sync::mpsc::Receiver<String>,
}

/// The `ao daemon` command with `args`, ready to spawn (a test may add to
/// its environment first).
pub fn daemon_command(data_dir: &Path, config: Option<&Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new(AO);
    cmd.arg("daemon").arg("--data-dir").arg(data_dir);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("AO_LOG", "warn")
        .env_remove("AO_TOKEN")
        .env_remove("AO_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts `ao daemon` with `args` and returns the child without waiting.
pub fn spawn_daemon(data_dir: &Path, config: Option<&Path>, args: &[&str]) -> Child {
    daemon_command(data_dir, config, args)
        .spawn()
        .expect("start ao daemon")
}

impl Daemon {
    /// Starts the daemon on `data_dir` with an optional config text and waits
    /// for its readiness line.
    pub fn start(data_dir: &Path, config: Option<&str>) -> Daemon {
        let config_path = config.map(|text| {
            std::fs::create_dir_all(data_dir).unwrap();
            let p = data_dir.with_extension("yaml");
            std::fs::write(&p, text).unwrap();
            p
        });
        let child = spawn_daemon(data_dir, config_path.as_deref(), &[]);
        Daemon::ready(child, data_dir)
    }

    /// Waits for a started daemon's readiness line.
    pub fn ready(mut child: Child, data_dir: &Path) -> Daemon {
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[daemon] {line}");
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("ao daemon listening on ") {
                        break url.to_owned();
                    }
                }
                Err(_) => panic!("the daemon never reported it is listening"),
            }
        };
        let addr = url.trim_start_matches("http://").to_owned();
        Daemon {
            child,
            url,
            addr,
            data_dir: data_dir.to_owned(),
            stdout: rx,
        }
    }

    /// The daemon's process id.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// The user's token, as the daemon stored it (empty if it stored none,
    /// so a test against a daemon without one fails on what it checks).
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("token"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    /// Runs the CLI against this daemon (it finds the token through the data dir).
    pub fn ao(&self, args: &[&str]) -> Output {
        Command::new(AO)
            .args(args)
            .env("AO_URL", &self.url)
            .env("AO_DATA_DIR", &self.data_dir)
            .env_remove("AO_TOKEN")
            .env_remove("AO_SESSION_ID")
            .output()
            .unwrap()
    }

    /// A raw request to this daemon, with the right Host unless the test changes it.
    pub fn request(&self, method: &str, path: &str) -> Request {
        Request {
            addr: self.addr.clone(),
            method: method.to_owned(),
            path: path.to_owned(),
            headers: vec![("Host".to_owned(), self.addr.clone())],
            body: String::new(),
        }
    }

    /// A request carrying the user's token.
    pub fn authed(&self, method: &str, path: &str) -> Request {
        self.request(method, path).bearer(&self.token())
    }

    /// `GET /sessions` with the user's token.
    pub fn sessions(&self) -> serde_json::Value {
        let r = self.authed("GET", "/sessions").send();
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    }

    /// Spawns a session of the default project running `command`; its id.
    pub fn spawn(&self, command: &str) -> String {
        let out = self.ao(&["--json", "spawn", command]);
        assert!(
            out.status.success(),
            "spawn: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["session"].as_str().unwrap().to_owned()
    }

    /// SIGTERM and wait; whether it exited 0.
    pub fn stop(mut self) -> bool {
        let pid = nix::unistd::Pid::from_raw(self.pid());
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// SIGKILL and wait (a crash).
    pub fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 request.
pub struct Request {
    addr: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// What came back.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body (for a stream: what arrived before the read stopped).
    pub body: String,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `error` of a JSON error body.
    pub fn error(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl Request {
    /// Sets (replaces) a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Request {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// A JSON body.
    pub fn json(self, body: &str) -> Request {
        self.body(body, "application/json")
    }

    /// A body of any content type.
    pub fn body(mut self, body: &str, content_type: &str) -> Request {
        self.body = body.to_owned();
        self.header("Content-Type", content_type)
    }

    /// Sends it and reads the whole answer (an event stream: its head).
    pub fn send(self) -> Response {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut text = format!("{} {} HTTP/1.1\r\n", self.method, self.path);
        for (k, v) in &self.headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
            self.body.len(),
            self.body
        ));
        stream.write_all(text.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    raw.extend_from_slice(&buf[..n]);
                    // A stream never ends: its head is the answer.
                    let s = String::from_utf8_lossy(&raw).to_ascii_lowercase();
                    if s.contains("\r\n\r\n") && s.contains("content-type: text/event-stream") {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        let raw = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        Response {
            status,
            headers,
            body,
        }
    }
}

/// Joins a chunked body's chunks (tolerates a cut-off last chunk).
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 {
            break;
        }
        let n = n.min(rest.len());
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Polls `f` every 100 ms until it holds or `within` passes.
pub fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}
