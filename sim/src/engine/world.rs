//! The world of fakes: runtimes whose agent processes live, exit or hang;
//! workspaces that refuse to lose dirty work; a fake SCM; a store with
//! revision CAS that survives crashes; and what the agent and the human received.

use crate::scenario::{ActionKind, CommentSpec, FaultKind, PrSpec, SessionSpec};
use ao_core::domain::{Handle, Probe, ReactionKey, SessionId, SessionRecord};
use ao_core::lcm::{Mergeability, Notification, PrFacts, ReviewComment};
use ao_core::sm::{OpId, Operation};
use std::collections::BTreeMap;

/// The agent process inside a runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Process {
    /// The runtime exists; the agent has not started yet.
    Starting,
    /// Running.
    Running,
    /// Exited.
    Exited,
    /// Hung: probes time out.
    Hung,
}

/// A runtime (tmux session / process group) in the world.
#[derive(Clone, Debug)]
pub struct Runtime {
    /// The session it was created for.
    pub session: SessionId,
    /// Its agent process.
    pub process: Process,
}

/// A workspace in the world.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The session it was created for.
    pub session: SessionId,
    /// Holds uncommitted or unpushed work.
    pub dirty: bool,
}

/// The fake agent's behaviour for one session.
#[derive(Clone, Debug)]
pub struct Agent {
    /// Declared behaviour.
    pub spec: SessionSpec,
    /// Busy: deliveries fail.
    pub busy: bool,
}

/// Something a session received in its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The reaction that sent it (`None` for a human's message).
    pub reaction: Option<ReactionKey>,
    /// The text.
    pub message: String,
}

/// A scripted fault with a remaining count.
#[derive(Clone, Debug)]
pub struct ScriptedFault {
    /// Kind.
    pub kind: FaultKind,
    /// Session filter.
    pub session: Option<SessionId>,
    /// Action filter.
    pub action: Option<ActionKind>,
    /// Remaining uses.
    pub remaining: u32,
}

/// The store: records with revision CAS, and the write-ahead intents. It survives crashes.
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Records by id.
    pub records: BTreeMap<SessionId, SessionRecord>,
    /// Operation intents by id.
    pub intents: BTreeMap<OpId, Operation>,
    /// Writes rejected for a stale revision.
    pub conflicts: u32,
}

/// Everything outside the daemon.
#[derive(Clone, Debug, Default)]
pub struct World {
    /// Live runtimes by handle.
    pub runtimes: BTreeMap<Handle, Runtime>,
    /// Existing workspaces by path.
    pub workspaces: BTreeMap<Handle, Workspace>,
    /// The fake SCM: each session's PR as it would be reported.
    pub prs: BTreeMap<SessionId, PrSpec>,
    /// The fake agents.
    pub agents: BTreeMap<SessionId, Agent>,
    /// What each agent received.
    pub delivered: BTreeMap<SessionId, Vec<Delivered>>,
    /// What the human was told, per session.
    pub notified: BTreeMap<SessionId, Vec<Notification>>,
    /// Scripted faults still armed.
    pub faults: Vec<ScriptedFault>,
    /// Workspaces deleted while dirty (the fakes refuse, so this stays empty unless a bug forces it).
    pub dirty_deleted: Vec<Handle>,
    /// Runtime names held by something that is not ours (SPEC §7.22), and
    /// the last operation told so (an action on the name answered `Foreign`).
    pub foreign_runtimes: BTreeMap<Handle, Option<OpId>>,
    /// Workspace paths held by something that is not ours, and the last
    /// operation told so.
    pub foreign_workspaces: BTreeMap<Handle, Option<OpId>>,
    /// Names an operation handed its record after being told they are not
    /// ours (SPEC §7.22; stays empty unless the supervisor adopts one).
    pub foreign_adopted: Vec<Handle>,
    /// The store.
    pub store: Store,
}

impl World {
    /// Consumes one armed scripted fault matching the filters, if any.
    pub fn take_fault(
        &mut self,
        kind: FaultKind,
        session: Option<&SessionId>,
        action: Option<ActionKind>,
    ) -> bool {
        let hit = self.faults.iter_mut().find(|f| {
            f.kind == kind
                && f.remaining > 0
                && (f.session.is_none() || f.session.as_ref() == session)
                && (f.action.is_none() || f.action == action)
        });
        match hit {
            Some(f) => {
                f.remaining -= 1;
                true
            }
            None => false,
        }
    }

    /// What the two probes see for a runtime handle (before faults).
    pub fn probe(&self, handle: Option<&Handle>) -> (Probe, Probe) {
        match handle.and_then(|h| self.runtimes.get(h)) {
            None => (Probe::Dead, Probe::Dead),
            Some(rt) => match rt.process {
                Process::Starting | Process::Exited => (Probe::Alive, Probe::Dead),
                Process::Running => (Probe::Alive, Probe::Alive),
                Process::Hung => (Probe::Alive, Probe::Failed),
            },
        }
    }

    /// The runtime handles that belong to a session.
    /// Operation `op` read a `Foreign` answer about `name` (a crash before
    /// it read the answer tells it nothing).
    pub fn tell(&mut self, name: &Handle, op: &OpId) {
        for set in [&mut self.foreign_runtimes, &mut self.foreign_workspaces] {
            if let Some(told) = set.get_mut(name) {
                *told = Some(op.clone());
            }
        }
    }

    /// Whether operation `op` was told that `name` is not ours.
    pub fn told(&self, op: &OpId, name: &Handle) -> bool {
        let told = |set: &BTreeMap<Handle, Option<OpId>>| {
            set.get(name).is_some_and(|t| t.as_ref() == Some(op))
        };
        told(&self.foreign_runtimes) || told(&self.foreign_workspaces)
    }

    /// The runtimes started for `session`.
    pub fn runtimes_of<'a>(
        &'a self,
        session: &'a SessionId,
    ) -> impl Iterator<Item = (&'a Handle, &'a Runtime)> + 'a {
        self.runtimes
            .iter()
            .filter(move |(_, rt)| &rt.session == session)
    }
}

/// The PR facts the fake SCM reports for a PR spec.
pub fn pr_facts(spec: &PrSpec) -> PrFacts {
    PrFacts {
        state: spec.state,
        number: Some(spec.number),
        url: Some(format!("https://scm.test/pr/{}", spec.number)),
        draft: spec.draft,
        ci: spec.ci,
        review: spec.review,
        mergeability: Mergeability {
            mergeable: spec.mergeable,
            ci_passing: spec.ci == ao_core::lcm::CiSummary::Passing,
            approved: spec.review == ao_core::lcm::ReviewDecision::Approved,
            no_conflicts: !spec.conflicts,
            blockers: Vec::new(),
        },
        comments: spec.comments.iter().map(comment).collect(),
        ci_log_tail: spec.log.clone(),
    }
}

fn comment(c: &CommentSpec) -> ReviewComment {
    ReviewComment {
        author: c.author.clone(),
        body: c.body.clone(),
        is_bot: c.bot,
        url: c.url.clone(),
    }
}
