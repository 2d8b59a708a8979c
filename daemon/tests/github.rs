//! The GitHub SCM adapter against a fake GitHub on loopback: every PR fact,
//! every failure mode (a failed or hung sub-request is `FetchFailed`, never
//! "no PR"), the request headers, and the no-token startup path.

#[path = "support/fake_github.rs"]
mod fake_github;

use ao_core::domain::PrState;
use ao_core::lcm::{CiSummary, PrFacts, ReviewDecision, ScmObservation};
use ao_daemon::ports::Scm;
use ao_daemon::scm::{GitHub, GitHubConfig};
use fake_github::{FakeCheckRun, FakeComment, FakeGitHub, FakePr, FakeReview, FakeStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REPO: &str = "acme/widgets";
const BRANCH: &str = "ao/issue-7";
const TOKEN: &str = "test-token-123";

fn client(fake: &FakeGitHub, timeout: Duration) -> GitHub {
    GitHub::new(GitHubConfig {
        api_base: fake.base(),
        token: TOKEN.to_owned(),
        timeout,
    })
    .expect("client builds")
}

async fn world_with(pr: FakePr) -> (FakeGitHub, GitHub) {
    let fake = FakeGitHub::start().await;
    fake.add_pr(pr);
    let gh = client(&fake, Duration::from_secs(5));
    (fake, gh)
}

async fn fetched(gh: &GitHub) -> PrFacts {
    match gh.fetch(REPO, BRANCH).await {
        ScmObservation::Fetched(f) => f,
        ScmObservation::FetchFailed => panic!("fetch failed"),
    }
}

fn open_pr() -> FakePr {
    FakePr::open(REPO, 42, BRANCH)
}

#[tokio::test]
async fn no_pr_is_state_none() {
    let fake = FakeGitHub::start().await;
    fake.add_pr(FakePr::open(REPO, 1, "someone-else"));
    fake.add_pr(FakePr::open("acme/other", 2, BRANCH));
    let gh = client(&fake, Duration::from_secs(5));
    let f = fetched(&gh).await;
    assert_eq!(f.state, PrState::None);
    assert_eq!(f.number, None);
    assert_eq!(f.ci, CiSummary::None);
    assert_eq!(fake.request_count(), 1, "only the PR list is asked");
    let req = &fake.requests()[0];
    assert_eq!(req.path, "/repos/acme/widgets/pulls");
    assert!(
        req.query.contains("head=acme%3Aao%2Fissue-7"),
        "{}",
        req.query
    );
    assert!(req.query.contains("state=all"));
}

#[tokio::test]
async fn open_pr_basic_facts() {
    let (_fake, gh) = world_with(open_pr()).await;
    let f = fetched(&gh).await;
    assert_eq!(f.state, PrState::Open);
    assert_eq!(f.number, Some(42));
    assert_eq!(
        f.url.as_deref(),
        Some("https://github.com/acme/widgets/pull/42")
    );
    assert!(!f.draft);
    assert_eq!(f.ci, CiSummary::None);
    assert_eq!(f.review, ReviewDecision::None);
    assert!(f.comments.is_empty());
    assert_eq!(f.ci_log_tail, None);
}

#[tokio::test]
async fn failing_check_reports_the_last_120_log_lines() {
    let mut pr = open_pr();
    pr.check_runs = vec![
        FakeCheckRun::completed(100, "lint", "success"),
        FakeCheckRun::completed(101, "test", "failure"),
        FakeCheckRun::running(102, "slow"),
    ];
    let (fake, gh) = world_with(pr).await;
    let log: String = (1..=500).map(|i| format!("line {i}\n")).collect();
    fake.with(|w| w.job_logs.insert(101, log));
    let f = fetched(&gh).await;
    assert_eq!(f.ci, CiSummary::Failing);
    assert!(!f.mergeability.ci_passing);
    let tail = f.ci_log_tail.expect("a log tail");
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 120);
    assert_eq!(lines[0], "line 381");
    assert_eq!(lines[119], "line 500");
    assert_eq!(fake.count("/repos/acme/widgets/actions/jobs/101/logs"), 1);
    assert_eq!(
        fake.count("/_blobs/job-logs/101"),
        1,
        "the redirect is followed"
    );
}

/// CI systems that report through commit statuses (no check runs) count:
/// a red status fails CI and its description is the tail the agent gets.
#[tokio::test]
async fn a_failing_commit_status_fails_ci_and_reports_itself() {
    let mut pr = open_pr();
    pr.statuses = vec![
        FakeStatus::new("ci/lint", "success", "All good"),
        FakeStatus::new("ci/circleci: test", "failure", "3 tests failed"),
    ];
    let (_fake, gh) = world_with(pr).await;
    let f = fetched(&gh).await;
    assert_eq!(f.ci, CiSummary::Failing);
    assert!(!f.mergeability.ci_passing);
    assert_eq!(
        f.ci_log_tail.as_deref(),
        Some("ci/circleci: test (failure): 3 tests failed\ndetails: https://ci.example/ci/circleci: test")
    );
}

/// Check runs and statuses together: one table of what the verdict is.
#[tokio::test]
async fn statuses_and_check_runs_combine_into_one_ci_verdict() {
    let pass = || FakeCheckRun::completed(1, "build", "success");
    let cases: Vec<(&str, Vec<FakeCheckRun>, Vec<FakeStatus>, CiSummary)> = vec![
        ("neither", vec![], vec![], CiSummary::None),
        (
            "green run, green status",
            vec![pass()],
            vec![FakeStatus::new("ext", "success", "ok")],
            CiSummary::Passing,
        ),
        (
            "green run, pending status",
            vec![pass()],
            vec![FakeStatus::new("ext", "pending", "running")],
            CiSummary::Pending,
        ),
        (
            "green run, errored status",
            vec![pass()],
            vec![FakeStatus::new("ext", "error", "crashed")],
            CiSummary::Failing,
        ),
        (
            "running run, green status",
            vec![FakeCheckRun::running(2, "slow")],
            vec![FakeStatus::new("ext", "success", "ok")],
            CiSummary::Pending,
        ),
        (
            "statuses only, all green",
            vec![],
            vec![
                FakeStatus::new("a", "success", "ok"),
                FakeStatus::new("b", "success", "ok"),
            ],
            CiSummary::Passing,
        ),
        (
            "unknown status state",
            vec![],
            vec![FakeStatus::new("a", "stale", "?")],
            CiSummary::Pending,
        ),
    ];
    for (name, runs, statuses, want) in cases {
        let mut pr = open_pr();
        pr.check_runs = runs;
        pr.statuses = statuses;
        let (_fake, gh) = world_with(pr).await;
        assert_eq!(fetched(&gh).await.ci, want, "{name}");
    }
}

/// A failing check run's log wins over a failing status's description.
#[tokio::test]
async fn a_job_log_is_preferred_to_a_status_description() {
    let mut pr = open_pr();
    pr.check_runs = vec![FakeCheckRun::completed(101, "test", "failure")];
    pr.statuses = vec![FakeStatus::new("ext", "failure", "also red")];
    let (fake, gh) = world_with(pr).await;
    fake.with(|w| w.job_logs.insert(101, "the real log\n".to_owned()));
    assert_eq!(
        fetched(&gh).await.ci_log_tail.as_deref(),
        Some("the real log")
    );
}

#[tokio::test]
async fn a_huge_log_is_streamed_and_only_its_tail_kept() {
    let mut pr = open_pr();
    pr.check_runs = vec![FakeCheckRun::completed(101, "test", "failure")];
    let (fake, gh) = world_with(pr).await;
    let log: String = (1..=100_000)
        .map(|i| format!("2024-01-01T00:00:00.0000000Z step output line {i}\n"))
        .collect();
    assert!(log.len() > 4_000_000);
    fake.with(|w| w.job_logs.insert(101, log));
    let tail = fetched(&gh).await.ci_log_tail.expect("a log tail");
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 120);
    assert!(lines[0].ends_with("line 99881"), "{}", lines[0]);
    assert!(lines[119].ends_with("line 100000"), "{}", lines[119]);
}

#[tokio::test]
async fn failing_external_check_uses_its_output_when_there_is_no_job_log() {
    let mut pr = open_pr();
    let mut run = FakeCheckRun::completed(7, "external-ci", "timed_out");
    run.details_url = Some("https://ci.example.com/builds/7".to_owned());
    run.app_slug = "external-ci".to_owned();
    run.summary = Some("build 7 timed out in step `test`".to_owned());
    pr.check_runs = vec![run];
    let (fake, gh) = world_with(pr).await;
    let f = fetched(&gh).await;
    assert_eq!(f.ci, CiSummary::Failing);
    assert_eq!(
        f.ci_log_tail.as_deref(),
        Some("failed\nbuild 7 timed out in step `test`")
    );
    assert_eq!(fake.count("/repos/acme/widgets/actions/"), 0);
}

#[tokio::test]
async fn expired_job_log_falls_back_to_the_run_output() {
    let mut pr = open_pr();
    let mut run = FakeCheckRun::completed(9, "test", "failure");
    run.summary = Some("3 tests failed".to_owned());
    pr.check_runs = vec![run];
    let (fake, gh) = world_with(pr).await;
    fake.respond("/repos/acme/widgets/actions/jobs/9/logs", 410, "{}");
    let f = fetched(&gh).await;
    assert_eq!(f.ci, CiSummary::Failing);
    assert_eq!(f.ci_log_tail.as_deref(), Some("failed\n3 tests failed"));
}

#[tokio::test]
async fn ci_pending_passing_and_none() {
    let (fake, gh) = world_with(open_pr()).await;
    assert_eq!(fetched(&gh).await.ci, CiSummary::None);

    fake.pr(42, |p| {
        p.check_runs = vec![
            FakeCheckRun::completed(1, "lint", "success"),
            FakeCheckRun::running(2, "test"),
        ]
    });
    let f = fetched(&gh).await;
    assert_eq!(f.ci, CiSummary::Pending);
    assert_eq!(f.ci_log_tail, None);
    assert!(!f.mergeability.ci_passing);

    fake.pr(42, |p| {
        p.check_runs = vec![
            FakeCheckRun::completed(1, "lint", "success"),
            FakeCheckRun::completed(2, "test", "neutral"),
            FakeCheckRun::completed(3, "docs", "skipped"),
        ]
    });
    let f = fetched(&gh).await;
    assert_eq!(f.ci, CiSummary::Passing);
    assert!(f.mergeability.ci_passing);
    assert_eq!(f.ci_log_tail, None);

    for conclusion in ["cancelled", "action_required", "timed_out"] {
        fake.pr(42, |p| {
            p.check_runs = vec![
                FakeCheckRun::running(1, "lint"),
                FakeCheckRun::completed(2, "test", conclusion),
            ]
        });
        assert_eq!(fetched(&gh).await.ci, CiSummary::Failing, "{conclusion}");
    }
}

#[tokio::test]
async fn draft_pr() {
    let mut pr = open_pr();
    pr.draft = true;
    pr.mergeable_state = "draft".to_owned();
    let (_fake, gh) = world_with(pr).await;
    let f = fetched(&gh).await;
    assert_eq!(f.state, PrState::Open);
    assert!(f.draft);
    assert!(!f.mergeability.mergeable);
    assert_eq!(f.mergeability.blockers, vec!["the PR is a draft"]);
}

#[tokio::test]
async fn review_decision_latest_review_per_user_wins() {
    let (fake, gh) = world_with(open_pr()).await;
    let set = |reviews: Vec<FakeReview>, requested: Vec<&str>| {
        fake.pr(42, |p| {
            p.reviews = reviews;
            p.requested_reviewers = requested.into_iter().map(str::to_owned).collect();
        })
    };

    set(vec![], vec![]);
    assert_eq!(fetched(&gh).await.review, ReviewDecision::None);

    set(vec![], vec!["carol"]);
    assert_eq!(fetched(&gh).await.review, ReviewDecision::Pending);

    set(
        vec![
            FakeReview::new("alice", "CHANGES_REQUESTED"),
            FakeReview::new("alice", "APPROVED"),
        ],
        vec![],
    );
    let f = fetched(&gh).await;
    assert_eq!(f.review, ReviewDecision::Approved);
    assert!(f.mergeability.approved);

    set(
        vec![
            FakeReview::new("alice", "APPROVED"),
            FakeReview::new("bob", "APPROVED"),
            FakeReview::new("bob", "CHANGES_REQUESTED"),
        ],
        vec![],
    );
    let f = fetched(&gh).await;
    assert_eq!(f.review, ReviewDecision::ChangesRequested);
    assert!(!f.mergeability.approved);

    // A plain comment does not withdraw an approval; a dismissal does.
    set(
        vec![
            FakeReview::new("alice", "APPROVED"),
            FakeReview::new("alice", "COMMENTED"),
        ],
        vec![],
    );
    assert_eq!(fetched(&gh).await.review, ReviewDecision::Approved);
    set(
        vec![
            FakeReview::new("alice", "CHANGES_REQUESTED"),
            FakeReview::new("alice", "DISMISSED"),
        ],
        vec!["alice"],
    );
    assert_eq!(fetched(&gh).await.review, ReviewDecision::Pending);
}

#[tokio::test]
async fn human_and_bot_comments_since_the_head_commit() {
    let mut pr = open_pr();
    pr.head_date = "2024-03-01T12:00:00Z".to_owned();
    pr.comments = vec![
        FakeComment::new(1, "alice", "User", "old, addressed", "2024-03-01T11:59:59Z"),
        FakeComment::new(2, "alice", "User", "rename this", "2024-03-01T12:30:00Z"),
        FakeComment::new(
            3,
            "coderabbit",
            "Bot",
            "possible nil",
            "2024-03-02T00:00:00Z",
        ),
        FakeComment::new(
            4,
            "lint[bot]",
            "User",
            "unused import",
            "2024-03-02T00:00:00Z",
        ),
        FakeComment::new(5, "agent", "User", "done", "2024-03-02T01:00:00Z"),
    ];
    let (_fake, gh) = world_with(pr).await;
    let f = fetched(&gh).await;
    let shown: Vec<(&str, &str, bool)> = f
        .comments
        .iter()
        .map(|c| (c.author.as_str(), c.body.as_str(), c.is_bot))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("alice", "rename this", false),
            ("coderabbit", "possible nil", true),
            ("lint[bot]", "unused import", true),
        ]
    );
    assert_eq!(
        f.comments[0].url,
        "https://github.com/acme/widgets/pull/42#discussion_r2"
    );
}

#[tokio::test]
async fn reply_in_a_thread_after_the_push_is_pending() {
    let mut pr = open_pr();
    let mut reply = FakeComment::new(8, "alice", "User", "still wrong", "2024-01-05T00:00:00Z");
    reply.in_reply_to_id = Some(1);
    pr.comments = vec![
        FakeComment::new(1, "alice", "User", "fix this", "2023-12-31T00:00:00Z"),
        reply,
    ];
    let (_fake, gh) = world_with(pr).await;
    let f = fetched(&gh).await;
    assert_eq!(f.comments.len(), 1);
    assert_eq!(f.comments[0].body, "still wrong");
}

#[tokio::test]
async fn comments_are_read_across_pages() {
    let mut pr = open_pr();
    pr.comments = (1..=5)
        .map(|i| FakeComment::new(i, "alice", "User", &format!("c{i}"), "2024-02-01T00:00:00Z"))
        .collect();
    let (fake, gh) = world_with(pr).await;
    fake.with(|w| w.comment_page_size = Some(2));
    let f = fetched(&gh).await;
    let bodies: Vec<&str> = f.comments.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(bodies, vec!["c1", "c2", "c3", "c4", "c5"]);
    assert_eq!(fake.count("/repos/acme/widgets/pulls/42/comments"), 3);
}

#[tokio::test]
async fn conflicts_when_mergeable_state_is_dirty() {
    let mut pr = open_pr();
    pr.mergeable = Some(false);
    pr.mergeable_state = "dirty".to_owned();
    let (_fake, gh) = world_with(pr).await;
    let m = fetched(&gh).await.mergeability;
    assert!(!m.no_conflicts);
    assert!(!m.mergeable);
    assert_eq!(m.blockers, vec!["merge conflicts with the base branch"]);
}

#[tokio::test]
async fn mergeable_when_clean_and_blocked_otherwise() {
    let mut pr = open_pr();
    pr.check_runs = vec![FakeCheckRun::completed(1, "test", "success")];
    pr.reviews = vec![FakeReview::new("alice", "APPROVED")];
    let (fake, gh) = world_with(pr).await;
    let m = fetched(&gh).await.mergeability;
    assert!(m.mergeable && m.no_conflicts && m.ci_passing && m.approved);
    assert!(m.blockers.is_empty(), "{:?}", m.blockers);

    for (state, blocker) in [
        (
            "blocked",
            "blocked by branch protection (required reviews or checks)",
        ),
        ("behind", "the branch is behind its base"),
        ("unstable", "some checks are not passing"),
        ("unknown", "GitHub has not computed mergeability yet"),
    ] {
        fake.pr(42, |p| p.mergeable_state = state.to_owned());
        let m = fetched(&gh).await.mergeability;
        assert!(!m.mergeable, "{state}");
        assert!(m.no_conflicts, "{state}");
        assert_eq!(m.blockers, vec![blocker], "{state}");
    }
}

#[tokio::test]
async fn merged_and_closed() {
    let mut pr = open_pr();
    pr.state = "closed".to_owned();
    pr.merged = true;
    let (fake, gh) = world_with(pr).await;
    let f = fetched(&gh).await;
    assert_eq!(f.state, PrState::Merged);
    assert_eq!(f.number, Some(42));
    assert_eq!(fake.request_count(), 2, "a merged PR needs no sub-requests");

    fake.pr(42, |p| p.merged = false);
    assert_eq!(fetched(&gh).await.state, PrState::Closed);
}

#[tokio::test]
async fn newest_pr_of_the_branch_counts() {
    let mut old = open_pr();
    old.state = "closed".to_owned();
    let (fake, gh) = world_with(old).await;
    fake.add_pr(FakePr::open(REPO, 43, BRANCH));
    let f = fetched(&gh).await;
    assert_eq!((f.state, f.number), (PrState::Open, Some(43)));
}

#[tokio::test]
async fn a_500_on_any_sub_request_fails_the_whole_fetch() {
    let mut pr = open_pr();
    pr.check_runs = vec![FakeCheckRun::completed(5, "test", "failure")];
    let (fake, gh) = world_with(pr).await;
    fake.with(|w| w.job_logs.insert(5, "boom\n".to_owned()));
    let sha = format!("{:040x}", 42);
    let paths = [
        "/repos/acme/widgets/pulls".to_owned(),
        "/repos/acme/widgets/pulls/42".to_owned(),
        "/repos/acme/widgets/pulls/42/reviews".to_owned(),
        "/repos/acme/widgets/pulls/42/requested_reviewers".to_owned(),
        "/repos/acme/widgets/pulls/42/comments".to_owned(),
        format!("/repos/acme/widgets/commits/{sha}/check-runs"),
        format!("/repos/acme/widgets/commits/{sha}/status"),
        format!("/repos/acme/widgets/commits/{sha}"),
    ];
    // The log is the exception: an unreadable log must not hide a red CI.
    let log_paths = [
        "/repos/acme/widgets/actions/jobs/5/logs",
        "/_blobs/job-logs/5",
    ];
    // Every path is really asked when nothing fails.
    let f = fetched(&gh).await;
    assert_eq!(f.ci_log_tail.as_deref(), Some("boom"));
    for path in &paths {
        assert!(fake.count(path) > 0, "{path} was not requested");
    }
    for path in &paths {
        fake.fail(path, 500);
        assert_eq!(
            gh.fetch(REPO, BRANCH).await,
            ScmObservation::FetchFailed,
            "500 on {path}"
        );
        fake.heal(path);
    }
    for path in log_paths {
        assert!(fake.count(path) > 0, "{path} was not requested");
        fake.fail(path, 500);
        let f = fetched(&gh).await;
        assert_eq!(
            (f.ci, f.ci_log_tail.as_deref()),
            (CiSummary::Failing, None),
            "500 on {path}"
        );
        fake.heal(path);
    }
    // Other failures: an auth error on the list is not "no PR"; malformed JSON.
    fake.fail("/repos/acme/widgets/pulls", 401);
    assert_eq!(gh.fetch(REPO, BRANCH).await, ScmObservation::FetchFailed);
    fake.heal("/repos/acme/widgets/pulls");
    fake.respond("/repos/acme/widgets/pulls/42", 200, "{not json");
    assert_eq!(gh.fetch(REPO, BRANCH).await, ScmObservation::FetchFailed);
    fake.respond("/repos/acme/widgets/pulls/42", 200, r#"{"number": 42}"#);
    assert_eq!(gh.fetch(REPO, BRANCH).await, ScmObservation::FetchFailed);
    fake.heal("/repos/acme/widgets/pulls/42");
    assert!(matches!(
        gh.fetch(REPO, BRANCH).await,
        ScmObservation::Fetched(_)
    ));
}

#[tokio::test]
async fn a_hanging_endpoint_fails_within_the_timeout() {
    let fake = FakeGitHub::start().await;
    fake.add_pr(open_pr());
    let gh = client(&fake, Duration::from_millis(300));
    for path in [
        "/repos/acme/widgets/pulls",
        "/repos/acme/widgets/pulls/42/reviews",
    ] {
        fake.hang(path);
        let started = Instant::now();
        assert_eq!(gh.fetch(REPO, BRANCH).await, ScmObservation::FetchFailed);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{path}: {:?}",
            started.elapsed()
        );
        fake.heal(path);
    }
    fake.hang("/repos/acme/widgets/pulls/42");
    let e = gh.try_fetch(REPO, BRANCH).await.expect_err("hangs");
    assert!(
        matches!(
            e,
            ao_daemon::error::AdapterError::Timeout { millis: 300, .. }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn unreachable_api_is_fetch_failed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let gh = GitHub::new(GitHubConfig {
        api_base: format!("http://{addr}"),
        token: TOKEN.to_owned(),
        timeout: Duration::from_secs(2),
    })
    .expect("client");
    assert_eq!(gh.fetch(REPO, BRANCH).await, ScmObservation::FetchFailed);
}

#[tokio::test]
async fn bad_repo_name_is_fetch_failed_without_a_request() {
    let (fake, gh) = world_with(open_pr()).await;
    assert_eq!(
        gh.fetch("not-a-repo", BRANCH).await,
        ScmObservation::FetchFailed
    );
    assert_eq!(gh.fetch("a/b/c", BRANCH).await, ScmObservation::FetchFailed);
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn every_request_carries_auth_and_api_headers() {
    let mut pr = open_pr();
    pr.check_runs = vec![FakeCheckRun::completed(5, "test", "failure")];
    let (fake, gh) = world_with(pr).await;
    fake.with(|w| w.job_logs.insert(5, "x\n".to_owned()));
    let _ = fetched(&gh).await;
    let requests = fake.requests();
    assert!(requests.len() >= 8, "{}", requests.len());
    for r in &requests {
        let h = |name: &str| {
            r.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(h("authorization"), format!("Bearer {TOKEN}"), "{}", r.path);
        assert_eq!(h("accept"), "application/vnd.github+json", "{}", r.path);
        assert_eq!(h("user-agent"), "ao", "{}", r.path);
        assert_eq!(h("x-github-api-version"), "2022-11-28", "{}", r.path);
        assert_eq!(r.method, "GET");
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
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
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("capture lock")).into_owned()
    }
}

fn logged<R>(f: impl FnOnce() -> R) -> (R, String) {
    let out = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(out.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let r = tracing::subscriber::with_default(subscriber, f);
    (r, out.text())
}

#[test]
fn no_token_disables_github_with_a_clear_log_line() {
    let (gh, log) = logged(|| GitHub::from_sources(None, None, None, |_| None));
    assert!(gh.expect("no config error").is_none());
    assert!(log.contains("WARN"), "{log}");
    assert!(log.contains("GitHub SCM disabled: no token"), "{log}");
    assert!(log.contains("GITHUB_TOKEN"), "{log}");

    let (gh, _) = logged(|| GitHub::from_sources(Some("  "), None, None, |_| Some(String::new())));
    assert!(
        gh.expect("no config error").is_none(),
        "blank tokens are no tokens"
    );
}

#[tokio::test]
async fn token_precedence_config_then_github_token_then_gh_token() {
    let fake = FakeGitHub::start().await;
    let base = fake.base();
    let auth_used = |token: Option<&str>, env: &[(&str, &str)]| {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (gh, log) = logged(|| {
            GitHub::from_sources(token, Some(&base), Some(Duration::from_secs(5)), |name| {
                env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            })
        });
        assert!(log.contains("GitHub SCM enabled"), "{log}");
        assert!(!log.contains("secret"), "the token is never logged: {log}");
        gh.expect("valid").expect("enabled")
    };
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Option<&str>, Env, &str); 3] = [
        (
            Some("secret-config"),
            &[("GITHUB_TOKEN", "secret-env"), ("GH_TOKEN", "secret-gh")],
            "secret-config",
        ),
        (
            None,
            &[("GITHUB_TOKEN", "secret-env"), ("GH_TOKEN", "secret-gh")],
            "secret-env",
        ),
        (None, &[("GH_TOKEN", "secret-gh")], "secret-gh"),
    ];
    for (token, env, expected) in cases {
        let gh = auth_used(token, env);
        assert_eq!(gh.api_base(), base);
        let _ = gh.fetch(REPO, BRANCH).await;
        let last = fake.requests().pop().expect("a request");
        assert_eq!(
            last.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some(format!("Bearer {expected}").as_str())
        );
    }
}

#[test]
fn bad_api_base_is_a_config_error() {
    let r = GitHub::from_sources(Some("t"), Some("not a url"), None, |_| None);
    assert!(r.is_err());
    let r = GitHub::from_sources(Some("t"), Some("ftp://example.com"), None, |_| None);
    assert!(r.is_err());
}

#[test]
fn config_debug_hides_the_token() {
    let shown = format!("{:?}", GitHubConfig::new("very-secret"));
    assert!(!shown.contains("very-secret"), "{shown}");
}
