//! The GitHub SCM adapter: polls the REST API for the facts of a branch's PR.
//!
//! One `fetch` is a short, fixed sequence of GETs, each under the per-call
//! timeout: the PR list filtered by head branch, the PR itself, then (for an
//! open PR, concurrently) the head's check runs and commit statuses, the
//! reviews, the requested reviewers, the review comments and the head commit,
//! and finally, only when CI fails, the failing job's log. Any failure of any of them (network error,
//! timeout, non-2xx status, malformed JSON) makes the whole observation
//! `FetchFailed`: a half-answered query is never reported as facts, and a
//! failed query is never "no PR".
//!
//! Text (comments, logs) is passed through untouched: the core sanitizes
//! untrusted text before it reaches an agent.
//!
//! Choices the REST API forces (GraphQL would answer some exactly):
//! - Pending review comments: REST does not expose whether a review thread is
//!   resolved. A comment counts as pending when it was written at or after the
//!   head commit's committer date (the agent has not pushed since) and its
//!   author is not the PR's author (the agent's own replies are not requests).
//! - Mergeability follows `mergeable_state`: `clean`/`has_hooks` is mergeable;
//!   `dirty` (or `mergeable: false`) is a conflict; `blocked`, `behind`,
//!   `unstable`, `draft` and `unknown` are not mergeable, each with a blocker.
//! - Merged and closed PRs skip the per-PR sub-requests: only their state counts.

mod ci;

pub use ci::{ci_summary, CheckApp, CheckOutput, CheckRun, CommitStatus};

use crate::error::AdapterError;
use crate::ports::Scm;
use ao_core::domain::PrState;
use ao_core::lcm::{
    CiSummary, Mergeability, PrFacts, ReviewComment, ReviewDecision, ScmObservation,
};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, LINK, USER_AGENT};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The public GitHub API.
pub const DEFAULT_API_BASE: &str = "https://api.github.com";
/// The default limit for one HTTP call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many lines of a failing job's log are kept.
pub const LOG_TAIL_LINES: usize = 120;
/// The REST API version every request asks for.
pub const API_VERSION: &str = "2022-11-28";
/// At most this many bytes of a log are kept while streaming it (the tail is cut from them).
const LOG_TAIL_BYTES: usize = 256 * 1024;
/// At most this many pages of one list are read.
const MAX_PAGES: usize = 10;
/// How to reach GitHub.
#[derive(Clone)]
pub struct GitHubConfig {
    /// API base URL (GitHub Enterprise: `https://HOST/api/v3`; tests: a loopback fake).
    pub api_base: String,
    /// The token sent as `Authorization: Bearer`.
    pub token: String,
    /// The limit for each HTTP call.
    pub timeout: Duration,
}

impl GitHubConfig {
    /// The public API with the default timeout.
    pub fn new(token: impl Into<String>) -> GitHubConfig {
        GitHubConfig {
            api_base: DEFAULT_API_BASE.to_owned(),
            token: token.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for GitHubConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("api_base", &self.api_base)
            .field("token", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The GitHub SCM adapter.
#[derive(Clone, Debug)]
pub struct GitHub {
    client: reqwest::Client,
    base: String,
    timeout: Duration,
}

impl GitHub {
    /// A client for `config`; fails on a malformed base URL or token.
    pub fn new(config: GitHubConfig) -> Result<GitHub, AdapterError> {
        let base = config.api_base.trim().trim_end_matches('/').to_owned();
        let parsed = Url::parse(&base)
            .map_err(|e| AdapterError::failed(format!("GitHub api_base `{base}`"), e))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AdapterError::failed(
                format!("GitHub api_base `{base}`"),
                "must be an http or https URL",
            ));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token.trim()))
            .map_err(|_| AdapterError::failed("GitHub token", "contains invalid characters"))?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(USER_AGENT, HeaderValue::from_static("ao"));
        headers.insert(
            "X-GitHub-Api-Version",
            HeaderValue::from_static(API_VERSION),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| AdapterError::failed("GitHub HTTP client", e))?;
        Ok(GitHub {
            client,
            base,
            timeout: config.timeout,
        })
    }

    /// From the config's token, else `GITHUB_TOKEN`, else `GH_TOKEN`; `Ok(None)`
    /// (with a warning that SCM polling is off) when none is set.
    pub fn from_env_or_config(
        token: Option<&str>,
        api_base: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<Option<GitHub>, AdapterError> {
        Self::from_sources(token, api_base, timeout, |name| std::env::var(name).ok())
    }

    /// Like [`GitHub::from_env_or_config`], reading the environment through `env`.
    pub fn from_sources(
        token: Option<&str>,
        api_base: Option<&str>,
        timeout: Option<Duration>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<GitHub>, AdapterError> {
        let from_config = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| (t.to_owned(), "config github.token"));
        let found = from_config.or_else(|| {
            ["GITHUB_TOKEN", "GH_TOKEN"].into_iter().find_map(|name| {
                env(name)
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .map(|t| (t, name))
            })
        });
        let Some((token, source)) = found else {
            tracing::warn!(
                "GitHub SCM disabled: no token (set github.token in the config, or GITHUB_TOKEN or GH_TOKEN); PRs will not be polled"
            );
            return Ok(None);
        };
        let config = GitHubConfig {
            api_base: api_base
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .unwrap_or(DEFAULT_API_BASE)
                .to_owned(),
            token,
            timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        };
        let github = GitHub::new(config)?;
        tracing::info!(api_base = %github.base, token_from = source, "GitHub SCM enabled");
        Ok(Some(github))
    }

    /// The API base this client talks to.
    pub fn api_base(&self) -> &str {
        &self.base
    }

    /// The facts of `branch`'s PR in `repo`, or why they could not be had.
    pub async fn try_fetch(&self, repo: &str, branch: &str) -> Result<PrFacts, AdapterError> {
        let (owner, name) = split_repo(repo)?;
        if branch.trim().is_empty() {
            return Err(AdapterError::failed("GitHub fetch", "empty branch name"));
        }
        let repo_path = format!("/repos/{owner}/{name}");

        let mut list_url = self.url(&format!("{repo_path}/pulls"))?;
        list_url
            .query_pairs_mut()
            .append_pair("head", &format!("{owner}:{branch}"))
            .append_pair("state", "all")
            .append_pair("per_page", "1");
        let found: Vec<PullSummary> = self.get_json(list_url, "list PRs").await?;
        let Some(summary) = found.into_iter().next() else {
            return Ok(PrFacts::in_state(PrState::None));
        };
        let n = summary.number;
        let pr_path = format!("{repo_path}/pulls/{n}");
        let pull: Pull = self
            .get_json(self.url(&pr_path)?, &format!("PR #{n}"))
            .await?;

        let state = if pull.merged.unwrap_or(false) || pull.merged_at.is_some() {
            PrState::Merged
        } else if pull.state == "closed" {
            PrState::Closed
        } else if pull.state == "open" {
            PrState::Open
        } else {
            return Err(AdapterError::failed(
                format!("PR #{n}"),
                format!("unknown PR state `{}`", pull.state),
            ));
        };
        let mut out = PrFacts::in_state(state);
        out.number = Some(n);
        out.url = Some(pull.html_url.clone());
        out.draft = pull.draft.unwrap_or(false);
        if state != PrState::Open {
            return Ok(out);
        }

        let sha = &pull.head.sha;
        let mut checks_url = self.url(&format!("{repo_path}/commits/{sha}/check-runs"))?;
        checks_url
            .query_pairs_mut()
            .append_pair("filter", "latest")
            .append_pair("per_page", "100");
        let mut reviews_url = self.url(&format!("{pr_path}/reviews"))?;
        reviews_url.query_pairs_mut().append_pair("per_page", "100");
        let mut comments_url = self.url(&format!("{pr_path}/comments"))?;
        comments_url
            .query_pairs_mut()
            .append_pair("per_page", "100");
        let mut status_url = self.url(&format!("{repo_path}/commits/{sha}/status"))?;
        status_url.query_pairs_mut().append_pair("per_page", "100");
        let requested_url = self.url(&format!("{pr_path}/requested_reviewers"))?;
        let commit_url = self.url(&format!("{repo_path}/commits/{sha}"))?;
        let (check_pages, status_pages, review_pages, requested, comment_pages, head) = tokio::try_join!(
            self.get_pages::<ci::CheckRunsPage>(checks_url, "check runs"),
            self.get_pages::<ci::CombinedStatus>(status_url, "commit statuses"),
            self.get_pages::<Vec<Review>>(reviews_url, "reviews"),
            self.get_json::<RequestedReviewers>(requested_url, "requested reviewers"),
            self.get_pages::<Vec<CommentJson>>(comments_url, "review comments"),
            self.get_json::<CommitJson>(commit_url, "head commit"),
        )?;
        let runs: Vec<CheckRun> = check_pages.into_iter().flat_map(|p| p.check_runs).collect();
        let statuses: Vec<CommitStatus> =
            status_pages.into_iter().flat_map(|p| p.statuses).collect();
        let reviews: Vec<Review> = review_pages.into_iter().flatten().collect();
        let comments: Vec<CommentJson> = comment_pages.into_iter().flatten().collect();

        out.ci = ci_summary(&runs, &statuses);
        out.review = review_decision(&reviews, &requested);
        let pr_author = pull.user.as_ref().map(|u| u.login.as_str());
        out.comments = pending_comments(&comments, pr_author, &head)?;
        out.mergeability = mergeability(&pull, out.ci, out.review);
        if out.ci == CiSummary::Failing {
            // A log that cannot be read must not hide a red CI: report the
            // failure without its tail (the agent is told to inspect the checks).
            out.ci_log_tail = match self.failure_log(&repo_path, &runs, &statuses).await {
                Ok(tail) => tail,
                Err(e) => {
                    tracing::warn!(
                        "CI fails on {repo} ({branch}) but its log could not be read: {e}"
                    );
                    None
                }
            };
        }
        Ok(out)
    }

    /// The tail of the first failing check run's log: the Actions job log when
    /// there is one, else the run's own output text, else what the failing
    /// commit statuses say (they carry no log). A log GitHub no longer has
    /// (404/410) falls back to the output; any other failure is reported to
    /// the caller, which keeps the CI verdict and drops the tail.
    async fn failure_log(
        &self,
        repo_path: &str,
        runs: &[CheckRun],
        statuses: &[CommitStatus],
    ) -> Result<Option<String>, AdapterError> {
        let failing: Vec<&CheckRun> = runs.iter().filter(|r| r.is_failing()).collect();
        for run in &failing {
            let Some(job) = run.job_id() else { continue };
            let url = self.url(&format!("{repo_path}/actions/jobs/{job}/logs"))?;
            match self.get_log_tail(url, &format!("log of job {job}")).await? {
                Some(tail) => return Ok(Some(tail)),
                None => return Ok(run.output_text().map(|t| tail_lines(&t, LOG_TAIL_LINES))),
            }
        }
        let reports: Vec<String> = statuses
            .iter()
            .filter(|s| s.is_failing())
            .map(CommitStatus::report)
            .collect();
        let from_statuses = (!reports.is_empty()).then(|| reports.join("\n"));
        Ok(failing
            .iter()
            .find_map(|r| r.output_text())
            .or(from_statuses)
            .map(|t| tail_lines(&t, LOG_TAIL_LINES)))
    }

    fn url(&self, path: &str) -> Result<Url, AdapterError> {
        Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| AdapterError::failed(format!("GitHub URL {path}"), e))
    }

    async fn send(&self, url: Url, what: &str) -> Result<reqwest::Response, AdapterError> {
        tracing::debug!(%url, "GitHub GET ({what})");
        self.client
            .get(url)
            .send()
            .await
            .map_err(|e| self.http_error(what, &e))
    }

    fn http_error(&self, what: &str, e: &reqwest::Error) -> AdapterError {
        if e.is_timeout() {
            AdapterError::Timeout {
                what: format!("GitHub {what}"),
                millis: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            }
        } else if e.is_decode() {
            AdapterError::failed(format!("GitHub {what}"), format!("malformed JSON: {e}"))
        } else {
            AdapterError::failed(format!("GitHub {what}"), e)
        }
    }

    async fn checked(
        &self,
        response: reqwest::Response,
        what: &str,
    ) -> Result<reqwest::Response, AdapterError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let excerpt: String = body.chars().take(200).collect();
        Err(AdapterError::failed(
            format!("GitHub {what}"),
            format!("HTTP {status}: {excerpt}"),
        ))
    }

    async fn get_json<T: DeserializeOwned>(&self, url: Url, what: &str) -> Result<T, AdapterError> {
        let response = self.send(url, what).await?;
        let response = self.checked(response, what).await?;
        response.json().await.map_err(|e| self.http_error(what, &e))
    }

    /// Every page of a list, following `Link: rel="next"` within the API base.
    async fn get_pages<T: DeserializeOwned>(
        &self,
        url: Url,
        what: &str,
    ) -> Result<Vec<T>, AdapterError> {
        let mut pages = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let response = self.send(url, what).await?;
            let response = self.checked(response, what).await?;
            next = response
                .headers()
                .get(LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .filter(|u| u.starts_with(&self.base))
                .and_then(|u| Url::parse(&u).ok());
            pages.push(
                response
                    .json()
                    .await
                    .map_err(|e| self.http_error(what, &e))?,
            );
            if pages.len() >= MAX_PAGES {
                if next.is_some() {
                    tracing::debug!("GitHub {what}: stopped after {MAX_PAGES} pages");
                }
                break;
            }
        }
        Ok(pages)
    }

    /// The last lines of a log (redirects followed); `None` when GitHub has none (404/410).
    async fn get_log_tail(&self, url: Url, what: &str) -> Result<Option<String>, AdapterError> {
        let response = self.send(url, what).await?;
        if matches!(response.status(), StatusCode::NOT_FOUND | StatusCode::GONE) {
            tracing::debug!(status = %response.status(), "GitHub {what}: not available");
            return Ok(None);
        }
        let mut response = self.checked(response, what).await?;
        let mut kept: Vec<u8> = Vec::new();
        let mut cut = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.http_error(what, &e))?
        {
            kept.extend_from_slice(&chunk);
            if kept.len() > 2 * LOG_TAIL_BYTES {
                kept.drain(..kept.len() - LOG_TAIL_BYTES);
                cut = true;
            }
        }
        let mut text = String::from_utf8_lossy(&kept).into_owned();
        if cut {
            // The first line was cut in the middle: drop it.
            text = text
                .split_once('\n')
                .map(|(_, r)| r.to_owned())
                .unwrap_or_default();
        }
        Ok(Some(tail_lines(&text, LOG_TAIL_LINES)))
    }
}

impl Scm for GitHub {
    async fn fetch(&self, repo: &str, branch: &str) -> ScmObservation {
        match self.try_fetch(repo, branch).await {
            Ok(facts) => ScmObservation::Fetched(facts),
            Err(e) => {
                tracing::warn!(repo, branch, error = %e, "GitHub fetch failed");
                ScmObservation::FetchFailed
            }
        }
    }
}

fn split_repo(repo: &str) -> Result<(&str, &str), AdapterError> {
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.split_once('/') {
        Some((owner, name)) if ok(owner) && ok(name) => Ok((owner, name)),
        _ => Err(AdapterError::failed(
            "GitHub fetch",
            format!("repository `{repo}` is not `owner/name`"),
        )),
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let target = target.trim();
        (is_next && target.starts_with('<') && target.ends_with('>'))
            .then(|| target[1..target.len() - 1].to_owned())
    })
}

/// The last `n` lines of `text`, joined by `\n` (no trailing newline).
pub fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The review decision: the latest approving, change-requesting or dismissed
/// review of each reviewer counts (plain comments do not change a verdict).
pub fn review_decision(reviews: &[Review], requested: &RequestedReviewers) -> ReviewDecision {
    let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
    for review in reviews {
        let Some(user) = review.user.as_ref() else {
            continue;
        };
        if matches!(
            review.state.as_str(),
            "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
        ) {
            latest.insert(user.login.as_str(), review.state.as_str());
        }
    }
    if latest.values().any(|s| *s == "CHANGES_REQUESTED") {
        ReviewDecision::ChangesRequested
    } else if latest.values().any(|s| *s == "APPROVED") {
        ReviewDecision::Approved
    } else if !requested.users.is_empty() || !requested.teams.is_empty() {
        ReviewDecision::Pending
    } else {
        ReviewDecision::None
    }
}

/// Review comments written since the head commit, by anyone but the PR's author.
fn pending_comments(
    comments: &[CommentJson],
    pr_author: Option<&str>,
    head: &CommitJson,
) -> Result<Vec<ReviewComment>, AdapterError> {
    let head_date = head
        .commit
        .committer
        .as_ref()
        .and_then(|c| c.date.as_deref())
        .or_else(|| head.commit.author.as_ref().and_then(|c| c.date.as_deref()));
    let since = match head_date {
        Some(d) => Some(parse_rfc3339(d).ok_or_else(|| {
            AdapterError::failed("GitHub head commit", format!("malformed date `{d}`"))
        })?),
        None => None,
    };
    let mut out = Vec::new();
    for c in comments {
        let (author, is_bot) = match &c.user {
            Some(u) => (u.login.clone(), u.is_bot()),
            None => ("ghost".to_owned(), false),
        };
        if pr_author == Some(author.as_str()) {
            continue;
        }
        let created = parse_rfc3339(&c.created_at).ok_or_else(|| {
            AdapterError::failed(
                "GitHub review comments",
                format!("malformed date `{}`", c.created_at),
            )
        })?;
        if since.is_some_and(|s| created < s) {
            continue;
        }
        out.push(ReviewComment {
            author,
            body: c.body.clone(),
            is_bot,
            url: c.html_url.clone(),
        });
    }
    Ok(out)
}

/// Mergeability from `mergeable_state`, with the CI and review verdicts beside it.
pub fn mergeability_of(
    mergeable: Option<bool>,
    mergeable_state: Option<&str>,
    draft: bool,
    ci: CiSummary,
    review: ReviewDecision,
) -> Mergeability {
    let state = mergeable_state.unwrap_or("unknown");
    let no_conflicts = state != "dirty" && mergeable != Some(false);
    let mut blockers = Vec::new();
    match ci {
        CiSummary::Failing => blockers.push("CI is failing".to_owned()),
        CiSummary::Pending => blockers.push("CI is still running".to_owned()),
        CiSummary::Passing | CiSummary::None => {}
    }
    if review == ReviewDecision::ChangesRequested {
        blockers.push("changes were requested".to_owned());
    }
    let state_blocker = match state {
        "clean" | "has_hooks" => None,
        "dirty" => Some("merge conflicts with the base branch".to_owned()),
        "blocked" => Some("blocked by branch protection (required reviews or checks)".to_owned()),
        "behind" => Some("the branch is behind its base".to_owned()),
        "unstable" => Some("some checks are not passing".to_owned()),
        "draft" => Some("the PR is a draft".to_owned()),
        "unknown" => Some("GitHub has not computed mergeability yet".to_owned()),
        other => Some(format!("mergeable_state is `{other}`")),
    };
    if !no_conflicts && state != "dirty" {
        blockers.push("merge conflicts with the base branch".to_owned());
    }
    blockers.extend(state_blocker);
    if draft && state != "draft" {
        blockers.push("the PR is a draft".to_owned());
    }
    let mergeable = matches!(state, "clean" | "has_hooks") && no_conflicts && !draft;
    Mergeability {
        mergeable,
        ci_passing: matches!(ci, CiSummary::Passing | CiSummary::None),
        approved: review == ReviewDecision::Approved,
        no_conflicts,
        blockers,
    }
}

fn mergeability(pull: &Pull, ci: CiSummary, review: ReviewDecision) -> Mergeability {
    mergeability_of(
        pull.mergeable,
        pull.mergeable_state.as_deref(),
        pull.draft.unwrap_or(false),
        ci,
        review,
    )
}

/// Seconds since the Unix epoch of an RFC 3339 time (`2024-05-01T12:00:00Z`,
/// fractions and `±HH:MM` offsets accepted).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

#[derive(Deserialize)]
struct PullSummary {
    number: u64,
}

#[derive(Deserialize)]
struct Pull {
    html_url: String,
    state: String,
    #[serde(default)]
    draft: Option<bool>,
    #[serde(default)]
    merged: Option<bool>,
    #[serde(default)]
    merged_at: Option<String>,
    #[serde(default)]
    mergeable: Option<bool>,
    #[serde(default)]
    mergeable_state: Option<String>,
    head: Head,
    #[serde(default)]
    user: Option<User>,
}

#[derive(Deserialize)]
struct Head {
    sha: String,
}

/// A GitHub user as the API shows it.
#[derive(Clone, Debug, Deserialize)]
pub struct User {
    /// The login.
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

impl User {
    /// A bot account (`type: Bot`, or a `[bot]` login).
    pub fn is_bot(&self) -> bool {
        self.kind.as_deref() == Some("Bot") || self.login.ends_with("[bot]")
    }
}

/// One review as the API shows it.
#[derive(Clone, Debug, Deserialize)]
pub struct Review {
    /// Its author (absent for deleted accounts).
    #[serde(default)]
    pub user: Option<User>,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
}

/// The reviewers asked for and not yet heard from.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RequestedReviewers {
    /// Users.
    #[serde(default)]
    pub users: Vec<serde_json::Value>,
    /// Teams.
    #[serde(default)]
    pub teams: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct CommentJson {
    #[serde(default)]
    user: Option<User>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    html_url: String,
    created_at: String,
}

#[derive(Deserialize)]
struct CommitJson {
    commit: CommitInner,
}

#[derive(Deserialize)]
struct CommitInner {
    #[serde(default)]
    author: Option<GitActor>,
    #[serde(default)]
    committer: Option<GitActor>,
}

#[derive(Deserialize)]
struct GitActor {
    #[serde(default)]
    date: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_utc_fractions_and_offsets() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2024-03-01T00:00:00Z"), Some(1_709_251_200));
        assert_eq!(
            parse_rfc3339("2024-03-01T00:00:00.123Z"),
            Some(1_709_251_200)
        );
        assert_eq!(
            parse_rfc3339("2024-03-01T02:00:00+02:00"),
            Some(1_709_251_200)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T23:00:00-01:00"),
            Some(1_709_251_200)
        );
        assert_eq!(parse_rfc3339("2024-03-01"), None);
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2024-03-01T00:00:00"), None);
    }

    #[test]
    fn link_header_next() {
        let h = r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/x?page=2")
        );
        assert_eq!(
            next_link(r#"<https://api.github.com/x?page=1>; rel="prev""#),
            None
        );
    }

    #[test]
    fn repo_names_are_checked() {
        assert!(split_repo("o/r").is_ok());
        assert!(split_repo("o/r/x").is_err());
        assert!(split_repo("o").is_err());
        assert!(split_repo("../r").is_err());
        assert!(split_repo("o/r?x").is_err());
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
        assert_eq!(tail_lines("", 5), "");
    }

    #[test]
    fn mergeability_mapping() {
        use CiSummary as C;
        use ReviewDecision as R;
        let m = mergeability_of(Some(true), Some("clean"), false, C::Passing, R::Approved);
        assert!(m.mergeable && m.no_conflicts && m.ci_passing && m.approved);
        assert!(m.blockers.is_empty());
        let m = mergeability_of(Some(false), Some("dirty"), false, C::Passing, R::None);
        assert!(!m.mergeable && !m.no_conflicts);
        assert_eq!(m.blockers, vec!["merge conflicts with the base branch"]);
        for state in ["blocked", "behind", "unstable", "unknown", "draft"] {
            let m = mergeability_of(Some(true), Some(state), false, C::Passing, R::None);
            assert!(!m.mergeable && m.no_conflicts, "{state}");
            assert_eq!(m.blockers.len(), 1, "{state}");
        }
        let m = mergeability_of(None, None, false, C::Pending, R::None);
        assert!(!m.mergeable && m.no_conflicts && !m.ci_passing);
        let m = mergeability_of(Some(true), Some("clean"), true, C::Passing, R::None);
        assert!(!m.mergeable);
    }
}
