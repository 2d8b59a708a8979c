//! CI on a PR's head commit, which GitHub reports two ways: check runs (GitHub
//! Actions and other apps) and commit statuses (the older API that many
//! external CI systems still use). Both count: a red status fails CI as much
//! as a red check run, so an agent whose CI reports by statuses still gets
//! told, and its PR is never shown mergeable over it.

use ao_core::lcm::CiSummary;
use serde::Deserialize;

/// Conclusions of a completed check run that mean CI failed.
const FAILING: &[&str] = &[
    "failure",
    "timed_out",
    "cancelled",
    "action_required",
    "startup_failure",
];
/// Conclusions of a completed check run that mean it passed.
const PASSING: &[&str] = &["success", "neutral", "skipped"];

/// The CI verdict of the head commit: failing when any check run or status
/// fails, passing when every one passed, none when there are neither, and
/// pending otherwise (running, queued, or an unknown state, e.g. `stale`).
pub fn ci_summary(runs: &[CheckRun], statuses: &[CommitStatus]) -> CiSummary {
    if runs.is_empty() && statuses.is_empty() {
        CiSummary::None
    } else if runs.iter().any(CheckRun::is_failing) || statuses.iter().any(CommitStatus::is_failing)
    {
        CiSummary::Failing
    } else if runs.iter().all(CheckRun::passed) && statuses.iter().all(|s| s.state == "success") {
        CiSummary::Passing
    } else {
        CiSummary::Pending
    }
}

/// One page of a commit's check runs.
#[derive(Deserialize)]
pub(super) struct CheckRunsPage {
    #[serde(default)]
    pub(super) check_runs: Vec<CheckRun>,
}

/// One check run as the API shows it.
#[derive(Clone, Debug, Deserialize)]
pub struct CheckRun {
    /// Its id (for GitHub Actions, the job id).
    pub id: u64,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    /// Set once completed: `success`, `failure`, ...
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Where it is shown (for Actions: `.../actions/runs/R/job/J`).
    #[serde(default)]
    pub details_url: Option<String>,
    /// The app that made it.
    #[serde(default)]
    pub app: Option<CheckApp>,
    /// Its summary text.
    #[serde(default)]
    pub output: Option<CheckOutput>,
}

/// The app behind a check run.
#[derive(Clone, Debug, Deserialize)]
pub struct CheckApp {
    /// e.g. `github-actions`.
    #[serde(default)]
    pub slug: Option<String>,
}

/// A check run's own report.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CheckOutput {
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Summary (markdown).
    #[serde(default)]
    pub summary: Option<String>,
    /// Details (markdown).
    #[serde(default)]
    pub text: Option<String>,
}

impl CheckRun {
    /// Completed with a failing conclusion.
    pub fn is_failing(&self) -> bool {
        self.concluded(FAILING)
    }

    /// Completed with a passing conclusion.
    pub fn passed(&self) -> bool {
        self.concluded(PASSING)
    }

    /// Completed with one of `conclusions`.
    fn concluded(&self, conclusions: &[&str]) -> bool {
        self.status == "completed"
            && self
                .conclusion
                .as_deref()
                .is_some_and(|c| conclusions.contains(&c))
    }

    /// The Actions job id: from `details_url` (`/job/N`), else the run id of a `github-actions` run.
    pub fn job_id(&self) -> Option<u64> {
        let from_url = self.details_url.as_deref().and_then(|u| {
            let (_, rest) = u.rsplit_once("/job/")?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        });
        let actions = self.app.as_ref().and_then(|a| a.slug.as_deref()) == Some("github-actions");
        from_url.or(actions.then_some(self.id))
    }

    /// The run's own report (title, summary, details), when it wrote one.
    pub(super) fn output_text(&self) -> Option<String> {
        let o = self.output.as_ref()?;
        let parts: Vec<&str> = [&o.title, &o.summary, &o.text]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .filter(|p| !p.trim().is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n"))
    }
}

/// A commit's combined status: the latest status of each context.
#[derive(Deserialize)]
pub(super) struct CombinedStatus {
    #[serde(default)]
    pub(super) statuses: Vec<CommitStatus>,
}

/// One commit status as the API shows it.
#[derive(Clone, Debug, Deserialize)]
pub struct CommitStatus {
    /// `error`, `failure`, `pending` or `success`.
    pub state: String,
    /// The CI system's name for it (e.g. `ci/circleci: test`).
    #[serde(default)]
    pub context: String,
    /// Its one-line description.
    #[serde(default)]
    pub description: Option<String>,
    /// Where the CI system shows the details.
    #[serde(default)]
    pub target_url: Option<String>,
}

impl CommitStatus {
    /// A failure or an error (GitHub's two red states).
    pub fn is_failing(&self) -> bool {
        matches!(self.state.as_str(), "failure" | "error")
    }

    /// The only text a status carries (the statuses API has no log): its
    /// context, state and description, then the link to the details.
    pub fn report(&self) -> String {
        let mut text = format!("{} ({})", self.context, self.state);
        if let Some(d) = self.description.as_deref().filter(|d| !d.trim().is_empty()) {
            text.push_str(": ");
            text.push_str(d);
        }
        if let Some(url) = self.target_url.as_deref().filter(|u| !u.trim().is_empty()) {
            text.push_str("\ndetails: ");
            text.push_str(url);
        }
        text
    }
}
