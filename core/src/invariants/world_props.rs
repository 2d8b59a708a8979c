//! Properties of a whole world: records plus what really exists outside them.

use super::{PropertyId, Violation};
use crate::domain::{Handle, SessionId, SessionRecord, SessionState};
use crate::lcm::Event;
use std::collections::BTreeMap;

/// A runtime that is alive in the world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRuntime {
    /// The session it was started for.
    pub session: SessionId,
    /// Its handle.
    pub handle: Handle,
}

/// A workspace that exists in the world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceView {
    /// The session it was created for.
    pub session: SessionId,
    /// Its path.
    pub path: Handle,
}

/// Progress of one session-manager operation in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpProgress {
    /// Steps taken so far (recovery included).
    pub steps: usize,
    /// The operation's own bound.
    pub bound: usize,
}

/// A snapshot of the world, assembled by whoever drives the core.
#[derive(Clone, Debug, Default)]
pub struct WorldView<'a> {
    /// Every stored record.
    pub records: Vec<&'a SessionRecord>,
    /// Live runtimes.
    pub runtimes: Vec<LiveRuntime>,
    /// Existing workspaces.
    pub workspaces: Vec<WorkspaceView>,
    /// Workspaces deleted while they held uncommitted or unpushed work.
    pub dirty_deleted: Vec<Handle>,
    /// Operations in flight.
    pub ops: Vec<OpProgress>,
    /// Names an operation handed to its record (see [`handed_to_record`])
    /// after being told, in that same operation, that they hold something
    /// that is not ours (an action on them answered `Foreign`).
    pub foreign_adopted: Vec<Handle>,
    /// Foreign runtimes or workspaces that were destroyed (the fakes leave
    /// them alone, so this stays empty unless a bug forces it).
    pub foreign_destroyed: Vec<Handle>,
}

type Check = fn(&WorldView<'_>) -> Result<(), String>;

/// Every world property with its predicate, in SPEC order.
pub const WORLD_PROPERTIES: &[(PropertyId, Check)] = &[
    (PropertyId::NoDataLoss, no_data_loss),
    (PropertyId::NoLeaks, no_leaks),
    (PropertyId::OneAgentPerSession, one_agent_per_session),
    (PropertyId::OperationsFinish, operations_finish),
    (PropertyId::OnlyItsOwn, only_its_own),
];

/// Checks every world property; the first violation wins.
pub fn check_world(w: &WorldView<'_>) -> Result<(), Violation> {
    for (property, check) in WORLD_PROPERTIES {
        check(w).map_err(|detail| Violation {
            property: *property,
            detail,
        })?;
    }
    Ok(())
}

fn no_data_loss(w: &WorldView<'_>) -> Result<(), String> {
    match w.dirty_deleted.first() {
        Some(path) => Err(format!("dirty workspace {path} was deleted")),
        None => Ok(()),
    }
}

/// Once nothing is in flight: every live runtime and workspace is tracked by
/// its session's record (a terminal record still holding a runtime handle is
/// tracked: the reaper reclaims it), and no record is stuck spawning.
fn no_leaks(w: &WorldView<'_>) -> Result<(), String> {
    if !w.ops.is_empty() {
        return Ok(());
    }
    let by_id: BTreeMap<&SessionId, &SessionRecord> =
        w.records.iter().map(|r| (&r.id, *r)).collect();
    for rt in &w.runtimes {
        let tracked = by_id
            .get(&rt.session)
            .is_some_and(|r| r.metadata.runtime_handle.as_ref() == Some(&rt.handle));
        if !tracked {
            return Err(format!(
                "runtime {} of {} is not tracked by a record",
                rt.handle, rt.session
            ));
        }
    }
    for ws in &w.workspaces {
        let tracked = by_id
            .get(&ws.session)
            .is_some_and(|r| r.metadata.workspace_path.as_ref() == Some(&ws.path));
        if !tracked {
            return Err(format!(
                "workspace {} of {} is not tracked by a record",
                ws.path, ws.session
            ));
        }
    }
    for r in &w.records {
        if r.lifecycle.session.state == SessionState::NotStarted && r.metadata.spawned_at.is_none()
        {
            return Err(format!(
                "{} is left spawning (or half-open) with no operation in flight",
                r.id
            ));
        }
    }
    Ok(())
}

fn one_agent_per_session(w: &WorldView<'_>) -> Result<(), String> {
    let mut seen: BTreeMap<&SessionId, &Handle> = BTreeMap::new();
    for rt in &w.runtimes {
        if let Some(other) = seen.insert(&rt.session, &rt.handle) {
            return Err(format!(
                "{} has two live runtimes: {other} and {}",
                rt.session, rt.handle
            ));
        }
    }
    Ok(())
}

fn operations_finish(w: &WorldView<'_>) -> Result<(), String> {
    match w.ops.iter().find(|op| op.steps > op.bound) {
        Some(op) => Err(format!(
            "an operation took {} steps, over its bound {}",
            op.steps, op.bound
        )),
        None => Ok(()),
    }
}

/// SPEC §7.22: nothing foreign was destroyed, and no operation handed its
/// record a name it was told holds something that is not ours.
///
/// A name the session manager could not verify may still be handed over (a
/// rollback keeps tracking what a failed destroy may have left): every
/// destroy re-checks the session's tag, so tracking a name is not adopting
/// it. Adopting is taking a name after being told it is someone else's.
fn only_its_own(w: &WorldView<'_>) -> Result<(), String> {
    if let Some(h) = w.foreign_destroyed.first() {
        return Err(format!("{h}, which is not ours, was destroyed"));
    }
    match w.foreign_adopted.first() {
        Some(h) => Err(format!("{h} was adopted after it was found not ours")),
        None => Ok(()),
    }
}

/// The names a session-manager event hands to the record, which a driver
/// compares with what the operation was told is not ours (SPEC §7.22).
pub fn handed_to_record(event: &Event) -> Vec<&Handle> {
    match event {
        Event::SpawnCompleted(h) => vec![&h.runtime_handle, &h.workspace_path],
        Event::Adopted {
            runtime_handle,
            workspace_path,
        } => runtime_handle.iter().chain(workspace_path).collect(),
        _ => Vec::new(),
    }
}
