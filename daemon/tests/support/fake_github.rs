//! A fake GitHub REST API for tests: an axum server on 127.0.0.1 (a free
//! port) serving the few endpoints the SCM adapter reads, from a [`World`]
//! the test mutates at will. It records every request (with headers), and can
//! be told to answer a path with any status and body, or to hang on it.
//!
//! Include it with `#[path = "support/fake_github.rs"] mod fake_github;`.

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A check run on a head commit.
#[derive(Clone, Debug)]
pub struct FakeCheckRun {
    /// Id (for GitHub Actions, the job id).
    pub id: u64,
    /// Name.
    pub name: String,
    /// `queued`, `in_progress`, `completed`.
    pub status: String,
    /// `success`, `failure`, ... once completed.
    pub conclusion: Option<String>,
    /// Link to the job (Actions: `.../actions/runs/R/job/J`).
    pub details_url: Option<String>,
    /// The app's slug (`github-actions` by default).
    pub app_slug: String,
    /// The run's own output summary.
    pub summary: Option<String>,
}

impl FakeCheckRun {
    /// A completed Actions job with `conclusion`.
    pub fn completed(id: u64, name: &str, conclusion: &str) -> FakeCheckRun {
        FakeCheckRun {
            id,
            name: name.to_owned(),
            status: "completed".to_owned(),
            conclusion: Some(conclusion.to_owned()),
            details_url: Some(format!(
                "https://github.com/o/r/actions/runs/{}/job/{id}",
                id + 1000
            )),
            app_slug: "github-actions".to_owned(),
            summary: None,
        }
    }

    /// A running Actions job.
    pub fn running(id: u64, name: &str) -> FakeCheckRun {
        FakeCheckRun {
            status: "in_progress".to_owned(),
            conclusion: None,
            ..FakeCheckRun::completed(id, name, "success")
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "head_sha": "ignored",
            "status": self.status,
            "conclusion": self.conclusion,
            "details_url": self.details_url,
            "html_url": self.details_url,
            "app": {"id": 15368, "slug": self.app_slug, "name": self.app_slug},
            "output": {"title": self.summary.as_ref().map(|_| "failed"), "summary": self.summary, "text": null},
        })
    }
}

/// A commit status (the statuses API external CI systems report through).
#[derive(Clone, Debug)]
pub struct FakeStatus {
    /// `error`, `failure`, `pending` or `success`.
    pub state: String,
    /// The reporting context (e.g. `ci/circleci: test`).
    pub context: String,
    /// One-line description.
    pub description: Option<String>,
    /// Link to the details.
    pub target_url: Option<String>,
}

impl FakeStatus {
    /// A status of `context` in `state`, described as `description`.
    pub fn new(context: &str, state: &str, description: &str) -> FakeStatus {
        FakeStatus {
            state: state.to_owned(),
            context: context.to_owned(),
            description: Some(description.to_owned()),
            target_url: Some(format!("https://ci.example/{context}")),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "state": self.state,
            "context": self.context,
            "description": self.description,
            "target_url": self.target_url,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        })
    }
}

/// A submitted review.
#[derive(Clone, Debug)]
pub struct FakeReview {
    /// Reviewer login.
    pub user: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`.
    pub state: String,
}

impl FakeReview {
    /// A review by `user` in `state`.
    pub fn new(user: &str, state: &str) -> FakeReview {
        FakeReview {
            user: user.to_owned(),
            state: state.to_owned(),
        }
    }
}

/// An inline review comment.
#[derive(Clone, Debug)]
pub struct FakeComment {
    /// Id.
    pub id: u64,
    /// Author login.
    pub user: String,
    /// `User` or `Bot`.
    pub user_type: String,
    /// Text.
    pub body: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// The comment it answers (a reply in a thread).
    pub in_reply_to_id: Option<u64>,
}

impl FakeComment {
    /// A top-level comment by `user` (`user_type` `User` or `Bot`) at `created_at`.
    pub fn new(id: u64, user: &str, user_type: &str, body: &str, created_at: &str) -> FakeComment {
        FakeComment {
            id,
            user: user.to_owned(),
            user_type: user_type.to_owned(),
            body: body.to_owned(),
            created_at: created_at.to_owned(),
            in_reply_to_id: None,
        }
    }
}

/// A pull request and everything hanging off it.
#[derive(Clone, Debug)]
pub struct FakePr {
    /// `owner/name`.
    pub repo: String,
    /// Number.
    pub number: u64,
    /// Head branch (in the same repository).
    pub branch: String,
    /// `open` or `closed`.
    pub state: String,
    /// Merged (then `state` is `closed`).
    pub merged: bool,
    /// Draft.
    pub draft: bool,
    /// The PR author's login.
    pub author: String,
    /// Head commit.
    pub head_sha: String,
    /// Head commit's committer date (RFC 3339).
    pub head_date: String,
    /// `mergeable` (null while GitHub computes it).
    pub mergeable: Option<bool>,
    /// `clean`, `dirty`, `blocked`, `behind`, `unstable`, `draft`, `unknown`.
    pub mergeable_state: String,
    /// Check runs of the head commit.
    pub check_runs: Vec<FakeCheckRun>,
    /// Commit statuses of the head commit (the latest per context).
    pub statuses: Vec<FakeStatus>,
    /// Reviews, oldest first.
    pub reviews: Vec<FakeReview>,
    /// Requested reviewer logins.
    pub requested_reviewers: Vec<String>,
    /// Inline review comments, oldest first.
    pub comments: Vec<FakeComment>,
}

impl FakePr {
    /// An open, clean PR with nothing on it, authored by `agent`, head committed 2024-01-01.
    pub fn open(repo: &str, number: u64, branch: &str) -> FakePr {
        FakePr {
            repo: repo.to_owned(),
            number,
            branch: branch.to_owned(),
            state: "open".to_owned(),
            merged: false,
            draft: false,
            author: "agent".to_owned(),
            head_sha: format!("{number:040x}"),
            head_date: "2024-01-01T00:00:00Z".to_owned(),
            mergeable: Some(true),
            mergeable_state: "clean".to_owned(),
            check_runs: Vec::new(),
            statuses: Vec::new(),
            reviews: Vec::new(),
            requested_reviewers: Vec::new(),
            comments: Vec::new(),
        }
    }

    fn html_url(&self) -> String {
        format!("https://github.com/{}/pull/{}", self.repo, self.number)
    }

    fn summary_json(&self) -> Value {
        json!({
            "number": self.number,
            "html_url": self.html_url(),
            "state": self.state,
            "draft": self.draft,
            "merged_at": self.merged.then_some("2024-02-01T00:00:00Z"),
            "head": {"ref": self.branch, "sha": self.head_sha},
            "user": {"login": self.author, "type": "User"},
        })
    }

    fn pull_json(&self) -> Value {
        let mut v = self.summary_json();
        v["merged"] = json!(self.merged);
        v["mergeable"] = json!(self.mergeable);
        v["mergeable_state"] = json!(self.mergeable_state);
        v
    }
}

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Method.
    pub method: Method,
    /// Path, without the query.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Request headers.
    pub headers: HeaderMap,
}

/// What the fake serves; mutate it through [`FakeGitHub::with`].
#[derive(Debug, Default)]
pub struct World {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Every PR, of every repository.
    pub prs: Vec<FakePr>,
    /// Actions job logs by job id (served through a redirect, as GitHub does).
    pub job_logs: BTreeMap<u64, String>,
    /// Paths answered with this status and body instead.
    pub overrides: BTreeMap<String, (u16, String)>,
    /// Paths that never answer.
    pub hang: BTreeSet<String>,
    /// Paginate review comments by this many per page (with `Link: rel="next"`).
    pub comment_page_size: Option<usize>,
    /// Every request, in arrival order.
    pub requests: Vec<Recorded>,
}

/// The running fake; stops when dropped.
pub struct FakeGitHub {
    base: String,
    world: Arc<Mutex<World>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeGitHub {
    /// Starts it on a free loopback port.
    pub async fn start() -> FakeGitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let base = format!("http://{addr}");
        let world = Arc::new(Mutex::new(World {
            base: base.clone(),
            ..World::default()
        }));
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&world));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake GitHub serves");
        });
        FakeGitHub { base, world, task }
    }

    /// The API base to configure the client with.
    pub fn base(&self) -> String {
        self.base.clone()
    }

    /// Runs `f` on the world.
    pub fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut lock(&self.world))
    }

    /// Adds a PR.
    pub fn add_pr(&self, pr: FakePr) {
        self.with(|w| w.prs.push(pr));
    }

    /// Changes PR `number`.
    pub fn pr(&self, number: u64, f: impl FnOnce(&mut FakePr)) {
        self.with(|w| {
            let pr = w
                .prs
                .iter_mut()
                .find(|p| p.number == number)
                .expect("no such fake PR");
            f(pr);
        });
    }

    /// Answers `path` with `status` and a JSON error body.
    pub fn fail(&self, path: &str, status: u16) {
        self.respond(path, status, r#"{"message":"fake failure"}"#);
    }

    /// Answers `path` with `status` and `body`.
    pub fn respond(&self, path: &str, status: u16, body: &str) {
        self.with(|w| {
            w.overrides
                .insert(path.to_owned(), (status, body.to_owned()))
        });
    }

    /// Never answers `path`.
    pub fn hang(&self, path: &str) {
        self.with(|w| w.hang.insert(path.to_owned()));
    }

    /// Serves `path` normally again.
    pub fn heal(&self, path: &str) {
        self.with(|w| {
            w.overrides.remove(path);
            w.hang.remove(path);
        });
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|w| w.requests.clone())
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.with(|w| w.requests.len())
    }

    /// How many requests arrived for paths starting with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.with(|w| {
            w.requests
                .iter()
                .filter(|r| r.path.starts_with(prefix))
                .count()
        })
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(world: &Mutex<World>) -> MutexGuard<'_, World> {
    world
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn reply(status: u16, content_type: &str, body: String) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("valid status"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("valid response")
}

fn json_reply(v: &Value) -> Response {
    reply(200, "application/json; charset=utf-8", v.to_string())
}

fn not_found() -> Response {
    reply(
        404,
        "application/json",
        r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#.to_owned(),
    )
}

fn query_param(query: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://x/?{query}")).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn handle(State(world): State<Arc<Mutex<World>>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let hang = {
        let mut w = lock(&world);
        w.requests.push(Recorded {
            method: req.method().clone(),
            path: path.clone(),
            query: query.clone(),
            headers: req.headers().clone(),
        });
        w.hang.contains(&path)
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let w = lock(&world);
    if let Some((status, body)) = w.overrides.get(&path) {
        return reply(*status, "application/json", body.clone());
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let pr_of = |repo: String, n: &str| -> Option<FakePr> {
        let n: u64 = n.parse().ok()?;
        w.prs
            .iter()
            .find(|p| p.repo == repo && p.number == n)
            .cloned()
    };
    let by_sha = |repo: String, sha: &str| -> Option<FakePr> {
        w.prs
            .iter()
            .find(|p| p.repo == repo && p.head_sha == sha)
            .cloned()
    };
    match segments.as_slice() {
        ["repos", o, r, "pulls"] => {
            let repo = format!("{o}/{r}");
            let head = query_param(&query, "head").unwrap_or_default();
            let per_page: usize = query_param(&query, "per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(30);
            let mut found: Vec<&FakePr> = w
                .prs
                .iter()
                .filter(|p| p.repo == repo && format!("{o}:{}", p.branch) == head)
                .collect();
            found.sort_by_key(|p| std::cmp::Reverse(p.number));
            let list: Vec<Value> = found
                .into_iter()
                .take(per_page)
                .map(FakePr::summary_json)
                .collect();
            json_reply(&Value::Array(list))
        }
        ["repos", o, r, "pulls", n] => match pr_of(format!("{o}/{r}"), n) {
            Some(pr) => json_reply(&pr.pull_json()),
            None => not_found(),
        },
        ["repos", o, r, "pulls", n, "reviews"] => match pr_of(format!("{o}/{r}"), n) {
            Some(pr) => {
                let list: Vec<Value> = pr
                    .reviews
                    .iter()
                    .enumerate()
                    .map(|(i, rv)| {
                        json!({
                            "id": i + 1,
                            "user": {"login": rv.user, "type": "User"},
                            "state": rv.state,
                            "body": "",
                            "submitted_at": "2024-01-02T00:00:00Z",
                        })
                    })
                    .collect();
                json_reply(&Value::Array(list))
            }
            None => not_found(),
        },
        ["repos", o, r, "pulls", n, "requested_reviewers"] => match pr_of(format!("{o}/{r}"), n) {
            Some(pr) => {
                let users: Vec<Value> = pr
                    .requested_reviewers
                    .iter()
                    .map(|u| json!({"login": u, "type": "User"}))
                    .collect();
                json_reply(&json!({"users": users, "teams": []}))
            }
            None => not_found(),
        },
        ["repos", o, r, "pulls", n, "comments"] => match pr_of(format!("{o}/{r}"), n) {
            Some(pr) => {
                let all: Vec<Value> = pr
                    .comments
                    .iter()
                    .map(|c| {
                        json!({
                            "id": c.id,
                            "user": {"login": c.user, "type": c.user_type},
                            "body": c.body,
                            "html_url": format!("{}#discussion_r{}", pr.html_url(), c.id),
                            "created_at": c.created_at,
                            "updated_at": c.created_at,
                            "in_reply_to_id": c.in_reply_to_id,
                            "path": "src/lib.rs",
                        })
                    })
                    .collect();
                let Some(size) = w.comment_page_size else {
                    return json_reply(&Value::Array(all));
                };
                let page: usize = query_param(&query, "page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                let start = (page - 1) * size;
                let chunk: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
                let mut response = json_reply(&Value::Array(chunk));
                if start + size < all.len() {
                    let next = format!(
                        "<{}{path}?per_page=100&page={}>; rel=\"next\"",
                        w.base,
                        page + 1
                    );
                    response
                        .headers_mut()
                        .insert(header::LINK, next.parse().expect("valid link header"));
                }
                response
            }
            None => not_found(),
        },
        ["repos", o, r, "commits", sha, "check-runs"] => {
            let runs: Vec<Value> = by_sha(format!("{o}/{r}"), sha)
                .map(|pr| pr.check_runs.iter().map(FakeCheckRun::to_json).collect())
                .unwrap_or_default();
            json_reply(&json!({"total_count": runs.len(), "check_runs": runs}))
        }
        ["repos", o, r, "commits", sha, "status"] => {
            let statuses: Vec<FakeStatus> = by_sha(format!("{o}/{r}"), sha)
                .map(|pr| pr.statuses)
                .unwrap_or_default();
            let any = |states: &[&str]| statuses.iter().any(|s| states.contains(&s.state.as_str()));
            let combined = if any(&["failure", "error"]) {
                "failure"
            } else if statuses.is_empty() || any(&["pending"]) {
                "pending"
            } else {
                "success"
            };
            let list: Vec<Value> = statuses.iter().map(FakeStatus::to_json).collect();
            json_reply(&json!({
                "state": combined,
                "sha": sha,
                "total_count": list.len(),
                "statuses": list,
            }))
        }
        ["repos", o, r, "commits", sha] => match by_sha(format!("{o}/{r}"), sha) {
            Some(pr) => json_reply(&json!({
                "sha": pr.head_sha,
                "commit": {
                    "author": {"name": pr.author, "date": pr.head_date},
                    "committer": {"name": pr.author, "date": pr.head_date},
                    "message": "work",
                },
            })),
            None => not_found(),
        },
        ["repos", _, _, "actions", "jobs", id, "logs"] => {
            match id
                .parse::<u64>()
                .ok()
                .filter(|id| w.job_logs.contains_key(id))
            {
                Some(id) => Response::builder()
                    .status(StatusCode::FOUND)
                    .header(header::LOCATION, format!("{}/_blobs/job-logs/{id}", w.base))
                    .body(Body::empty())
                    .expect("valid redirect"),
                None => not_found(),
            }
        }
        ["_blobs", "job-logs", id] => {
            match id.parse::<u64>().ok().and_then(|id| w.job_logs.get(&id)) {
                Some(log) => reply(200, "text/plain", log.clone()),
                None => not_found(),
            }
        }
        _ => not_found(),
    }
}
