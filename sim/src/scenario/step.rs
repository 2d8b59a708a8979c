//! One scripted step: `at` plus exactly one action. Deserialized by hand so an
//! unknown or doubled action is reported at its own line and column.

use super::refs::{ProjectRef, SessionRef};
use super::{
    ActivityFact, CrashSpec, FaultSpec, KillSpec, ProbeFact, RaceSpec, ScmFact, SendSpec, TickSpec,
    WorldChange,
};
use ao_core::time::Duration;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A step: at a virtual time, one action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// When.
    pub at: Duration,
    /// What.
    pub action: StepAction,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepAction {
    /// The human spawns the session.
    Spawn(SessionRef),
    /// The human kills the session (manual unless a kind is given).
    Kill(KillSpec),
    /// The human restores the session.
    Restore(SessionRef),
    /// The human cleans up a project.
    Cleanup(ProjectRef),
    /// The human sends a message to the agent.
    Send(SendSpec),
    /// A direct activity fact, bypassing the fake agent.
    Activity(ActivityFact),
    /// A direct probe fact, bypassing the reaper.
    Probe(ProbeFact),
    /// A direct SCM fact, bypassing the poller.
    Scm(ScmFact),
    /// A tick for every session.
    Tick(TickSpec),
    /// A change to the fake world, seen by the observers.
    World(WorldChange),
    /// A scripted fault.
    Fault(FaultSpec),
    /// A daemon crash and restart.
    Crash(CrashSpec),
    /// Two writers race on one session.
    Race(RaceSpec),
}

const ACTIONS: &[&str] = &[
    "spawn", "kill", "restore", "cleanup", "send", "activity", "probe", "scm", "tick", "world",
    "fault", "crash", "race",
];

const FIELDS: &[&str] = &[
    "at", "spawn", "kill", "restore", "cleanup", "send", "activity", "probe", "scm", "tick",
    "world", "fault", "crash", "race",
];

impl StepAction {
    /// The action's key in the file.
    pub fn key(&self) -> &'static str {
        match self {
            StepAction::Spawn(_) => "spawn",
            StepAction::Kill(_) => "kill",
            StepAction::Restore(_) => "restore",
            StepAction::Cleanup(_) => "cleanup",
            StepAction::Send(_) => "send",
            StepAction::Activity(_) => "activity",
            StepAction::Probe(_) => "probe",
            StepAction::Scm(_) => "scm",
            StepAction::Tick(_) => "tick",
            StepAction::World(_) => "world",
            StepAction::Fault(_) => "fault",
            StepAction::Crash(_) => "crash",
            StepAction::Race(_) => "race",
        }
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StepVisitor)
    }
}

struct StepVisitor;

impl<'de> Visitor<'de> for StepVisitor {
    type Value = Step;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a step: `at` and one of {}", ACTIONS.join(", "))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
        let mut at = None;
        let mut action: Option<StepAction> = None;
        // The key is checked while the parser still stands on it, so an unknown
        // or second action is reported at the key's own line and column.
        while let Some(key) = map.next_key_seed(KeySeed {
            at_seen: at.is_some(),
            previous: action.as_ref().map(StepAction::key),
        })? {
            if key == "at" {
                at = Some(map.next_value::<Duration>()?);
                continue;
            }
            let next = match key {
                "spawn" => StepAction::Spawn(map.next_value()?),
                "kill" => StepAction::Kill(map.next_value()?),
                "restore" => StepAction::Restore(map.next_value()?),
                "cleanup" => StepAction::Cleanup(map.next_value()?),
                "send" => StepAction::Send(map.next_value()?),
                "activity" => StepAction::Activity(map.next_value()?),
                "probe" => StepAction::Probe(map.next_value()?),
                "scm" => StepAction::Scm(map.next_value()?),
                "tick" => StepAction::Tick(map.next_value()?),
                "world" => StepAction::World(map.next_value()?),
                "fault" => StepAction::Fault(map.next_value()?),
                "crash" => StepAction::Crash(map.next_value()?),
                "race" => StepAction::Race(map.next_value()?),
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            };
            action = Some(next);
        }
        let at = at.ok_or_else(|| de::Error::missing_field("at"))?;
        let action = action.ok_or_else(|| {
            de::Error::custom(format!("a step needs one action: {}", ACTIONS.join(", ")))
        })?;
        Ok(Step { at, action })
    }
}

/// Reads a step's key and rejects an unknown or second action on the spot.
struct KeySeed {
    at_seen: bool,
    previous: Option<&'static str>,
}

impl<'de> de::DeserializeSeed<'de> for KeySeed {
    type Value = &'static str;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = &'static str;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a step key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<&'static str, E> {
        let Some(key) = FIELDS.iter().copied().find(|k| *k == v) else {
            return Err(E::unknown_field(v, FIELDS));
        };
        if key == "at" && self.at_seen {
            return Err(E::duplicate_field("at"));
        }
        if let Some(previous) = self.previous {
            if key != "at" {
                return Err(E::custom(format!(
                    "a step has exactly one action, found `{previous}` and `{key}`"
                )));
            }
        }
        Ok(key)
    }
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("at", &self.at)?;
        let key = self.action.key();
        match &self.action {
            StepAction::Spawn(v) | StepAction::Restore(v) => map.serialize_entry(key, v)?,
            StepAction::Kill(v) => map.serialize_entry(key, v)?,
            StepAction::Cleanup(v) => map.serialize_entry(key, v)?,
            StepAction::Send(v) => map.serialize_entry(key, v)?,
            StepAction::Activity(v) => map.serialize_entry(key, v)?,
            StepAction::Probe(v) => map.serialize_entry(key, v)?,
            StepAction::Scm(v) => map.serialize_entry(key, v)?,
            StepAction::Tick(v) => map.serialize_entry(key, v)?,
            StepAction::World(v) => map.serialize_entry(key, v)?,
            StepAction::Fault(v) => map.serialize_entry(key, v)?,
            StepAction::Crash(v) => map.serialize_entry(key, v)?,
            StepAction::Race(v) => map.serialize_entry(key, v)?,
        }
        map.end()
    }
}
