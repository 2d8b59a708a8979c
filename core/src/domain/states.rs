//! Every lifecycle word of SPEC §2, one wire enum each.

use crate::wire::wire_enum;

wire_enum! {
    /// The session axis: what the agent is doing, as far as the supervisor knows.
    pub enum SessionState ("session state") {
        /// Spawned (or spawning) but not yet acknowledged by the agent.
        NotStarted => "not_started",
        /// The agent is working.
        Working => "working",
        /// The agent is idle.
        Idle => "idle",
        /// The agent waits for a human.
        NeedsInput => "needs_input",
        /// The agent is stuck (blocked, or a quarantine escalated).
        Stuck => "stuck",
        /// Quarantined: liveness evidence is ambiguous.
        Detecting => "detecting",
        /// Finished for good.
        Done => "done",
        /// Ended (killed, died, failed); only Restore reopens it.
        Terminated => "terminated",
    }
}

impl SessionState {
    /// Terminal states are final until an explicit Restore.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Done | Self::Terminated)
    }
}

wire_enum! {
    /// Why the session axis holds its state.
    pub enum SessionReason ("session reason") {
        /// No particular reason.
        None => "",
        /// Spawn was requested; the agent has not acknowledged yet.
        SpawnRequested => "spawn_requested",
        /// The agent acknowledged its task.
        AgentAcknowledged => "agent_acknowledged",
        /// The agent is working on its task.
        TaskInProgress => "task_in_progress",
        /// The agent opened a PR.
        PrCreated => "pr_created",
        /// The agent is fixing CI.
        FixingCi => "fixing_ci",
        /// The agent is addressing review comments.
        ResolvingReviewComments => "resolving_review_comments",
        /// The agent waits for the human.
        AwaitingUserInput => "awaiting_user_input",
        /// The agent waits for an external review.
        AwaitingExternalReview => "awaiting_external_review",
        /// The agent finished its research.
        ResearchComplete => "research_complete",
        /// The PR merged; the human decides what next.
        MergedWaitingDecision => "merged_waiting_decision",
        /// The human killed the session.
        ManuallyKilled => "manually_killed",
        /// Cleaned up after its PR merged.
        PrMerged => "pr_merged",
        /// Reclaimed by cleanup.
        AutoCleanup => "auto_cleanup",
        /// Liveness: the runtime is gone.
        RuntimeLost => "runtime_lost",
        /// Liveness: the agent process exited inside a live runtime.
        AgentProcessExited => "agent_process_exited",
        /// Liveness: the probe itself failed.
        ProbeFailure => "probe_failure",
        /// An operation failed (e.g. a spawn that could not complete).
        ErrorInProcess => "error_in_process",
    }
}

impl SessionReason {
    /// Reasons that only the liveness path writes; a healthy probe may recover them.
    pub const fn is_liveness_owned(self) -> bool {
        matches!(
            self,
            Self::RuntimeLost | Self::AgentProcessExited | Self::ProbeFailure
        )
    }
}

wire_enum! {
    /// The PR axis state.
    pub enum PrState ("PR state") {
        /// No PR yet.
        None => "none",
        /// An open PR.
        Open => "open",
        /// Merged.
        Merged => "merged",
        /// Closed without merging.
        Closed => "closed",
    }
}

wire_enum! {
    /// Why the PR axis holds its state (the result of the SCM ladder).
    pub enum PrReason ("PR reason") {
        /// No PR has been created.
        NotCreated => "not_created",
        /// Open, nothing notable.
        InProgress => "in_progress",
        /// CI fails.
        CiFailing => "ci_failing",
        /// Review requested, not yet given.
        ReviewPending => "review_pending",
        /// A human asked for changes.
        ChangesRequested => "changes_requested",
        /// A bot left review comments.
        BotComments => "bot_comments",
        /// The PR conflicts with its base.
        MergeConflicts => "merge_conflicts",
        /// Approved.
        Approved => "approved",
        /// Every merge gate passes.
        MergeReady => "merge_ready",
        /// Merged.
        Merged => "merged",
        /// Closed without merging.
        ClosedUnmerged => "closed_unmerged",
        /// Reset by a restore.
        ClearedOnRestore => "cleared_on_restore",
    }
}

wire_enum! {
    /// The runtime axis state.
    pub enum RuntimeState ("runtime state") {
        /// Not known (not probed yet, or the probe could not tell).
        Unknown => "unknown",
        /// The runtime is there.
        Alive => "alive",
        /// The runtime is gone.
        Exited => "exited",
        /// The runtime handle is missing.
        Missing => "missing",
        /// The last probe failed.
        ProbeFailed => "probe_failed",
    }
}

wire_enum! {
    /// Why the runtime axis holds its state.
    pub enum RuntimeReason ("runtime reason") {
        /// No particular reason.
        None => "",
        /// Spawn has not created the runtime yet.
        SpawnIncomplete => "spawn_incomplete",
        /// The process runs.
        ProcessRunning => "process_running",
        /// The process is missing.
        ProcessMissing => "process_missing",
        /// The tmux session (or process group) is missing.
        TmuxMissing => "tmux_missing",
        /// The human asked for a kill.
        ManualKillRequested => "manual_kill_requested",
        /// Cleaned up after a merge.
        PrMergedCleanup => "pr_merged_cleanup",
        /// Reclaimed by cleanup.
        AutoCleanup => "auto_cleanup",
        /// The probe errored.
        ProbeError => "probe_error",
    }
}

wire_enum! {
    /// What the agent last said it was doing.
    pub enum ActivityState ("activity state") {
        /// Busy.
        Active => "active",
        /// Finished a turn, ready for more.
        Ready => "ready",
        /// Idle.
        Idle => "idle",
        /// Waiting for the human (sticky).
        WaitingInput => "waiting_input",
        /// Blocked (sticky).
        Blocked => "blocked",
        /// The agent says it exited (not a death verdict).
        Exited => "exited",
    }
}

impl ActivityState {
    /// Sticky states are never aged out by time alone (SPEC §7.13).
    pub const fn is_sticky(self) -> bool {
        matches!(self, Self::WaitingInput | Self::Blocked)
    }
}

wire_enum! {
    /// Where an activity record came from.
    pub enum ActivitySource ("activity source") {
        /// The agent's own session log.
        Native => "native",
        /// Terminal output inspection.
        Terminal => "terminal",
        /// An agent hook (`ao hook activity`).
        Hook => "hook",
        /// The runtime.
        Runtime => "runtime",
        /// Nothing reported yet (hooks may be broken).
        None => "none",
    }
}

wire_enum! {
    /// How much an activity signal can be trusted; only `valid` changes anything.
    pub enum Confidence ("activity confidence") {
        /// A fresh, trustworthy signal.
        Valid => "valid",
        /// Old news.
        Stale => "stale",
        /// No signal.
        Null => "null",
        /// The source is unavailable.
        Unavailable => "unavailable",
        /// The source's probe failed.
        ProbeFailure => "probe_failure",
    }
}

wire_enum! {
    /// Worker sessions do issues; orchestrators coordinate and are idle by nature.
    pub enum SessionKind ("session kind") {
        /// Works one issue into a PR.
        Worker => "worker",
        /// Coordinates workers.
        Orchestrator => "orchestrator",
    }
}

wire_enum! {
    /// The derived display status (SPEC §3); computed on read, never stored.
    pub enum DisplayStatus ("display status") {
        /// Spawned, not acknowledged.
        Spawning => "spawning",
        /// Working.
        Working => "working",
        /// Quarantined.
        Detecting => "detecting",
        /// An open PR, nothing notable.
        PrOpen => "pr_open",
        /// CI fails.
        CiFailed => "ci_failed",
        /// Waiting for review.
        ReviewPending => "review_pending",
        /// Changes requested (by a human or a bot).
        ChangesRequested => "changes_requested",
        /// Approved.
        Approved => "approved",
        /// Ready to merge.
        Mergeable => "mergeable",
        /// Merged.
        Merged => "merged",
        /// Cleaned up.
        Cleanup => "cleanup",
        /// Waits for the human.
        NeedsInput => "needs_input",
        /// Stuck.
        Stuck => "stuck",
        /// Ended by an error.
        Errored => "errored",
        /// Killed (by a human or by confirmed death).
        Killed => "killed",
        /// Idle.
        Idle => "idle",
        /// Done.
        Done => "done",
        /// Terminated for another reason.
        Terminated => "terminated",
    }
}

wire_enum! {
    /// A probe's answer. `failed` = the probe call errored or timed out;
    /// `indeterminate` = it ran but could not tell.
    pub enum Probe ("probe result") {
        /// Definitely there.
        Alive => "alive",
        /// Definitely gone ("no such session", "no such process").
        Dead => "dead",
        /// Ran, could not tell.
        Indeterminate => "indeterminate",
        /// Errored or timed out.
        Failed => "failed",
    }
}

wire_enum! {
    /// Kinds of explicit kill (SPEC §4.5).
    pub enum KillKind ("kill kind") {
        /// The human asked.
        Manual => "manual",
        /// Cleanup reclaimed it.
        Cleanup => "cleanup",
        /// An operation failed (e.g. spawn rollback).
        Error => "error",
    }
}
