//! References to declared sessions and projects, checked while parsing so an
//! unknown id is reported at its own file, line and column.

use serde::{Deserialize, Deserializer, Serialize};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

thread_local! {
    /// The ids declared so far by the file being loaded on this thread.
    static DECLARED: RefCell<Option<Declared>> = const { RefCell::new(None) };
}

#[derive(Default)]
struct Declared {
    sessions: BTreeSet<String>,
    projects: BTreeSet<String>,
}

/// Scopes reference checking to one load on this thread; dropping it ends the scope.
pub(crate) struct CheckScope(());

impl CheckScope {
    /// Starts checking references (nothing is declared yet).
    pub(crate) fn begin() -> CheckScope {
        DECLARED.with(|d| *d.borrow_mut() = Some(Declared::default()));
        CheckScope(())
    }
}

impl Drop for CheckScope {
    fn drop(&mut self) {
        DECLARED.with(|d| *d.borrow_mut() = None);
    }
}

/// Records a declared session (and its project) for the references that follow.
pub(crate) fn declare(session: &str, project: &str) {
    DECLARED.with(|d| {
        if let Some(d) = d.borrow_mut().as_mut() {
            d.sessions.insert(session.to_owned());
            d.projects.insert(project.to_owned());
        }
    });
}

/// Records a project declared in the config.
pub(crate) fn declare_project(project: &str) {
    DECLARED.with(|d| {
        if let Some(d) = d.borrow_mut().as_mut() {
            d.projects.insert(project.to_owned());
        }
    });
}

fn check(kind: &str, id: &str, pick: fn(&Declared) -> &BTreeSet<String>) -> Result<(), String> {
    DECLARED.with(|d| match d.borrow().as_ref() {
        None => Ok(()),
        Some(d) if pick(d).contains(id) => Ok(()),
        Some(d) if pick(d).is_empty() => Err(format!(
            "unknown {kind} `{id}`: declare `sessions` before `steps` and `expect`"
        )),
        Some(d) => Err(format!(
            "unknown {kind} `{id}`, declared: {}",
            pick(d).iter().cloned().collect::<Vec<_>>().join(", ")
        )),
    })
}

macro_rules! reference {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $pick:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a declared {} id", $kind)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        check($kind, v, $pick).map_err(E::custom)?;
                        Ok($name(v.to_owned()))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

reference!(
    /// A session declared in the scenario's `sessions`.
    SessionRef,
    "session",
    |d| &d.sessions
);
reference!(
    /// A project used by a declared session or configured in `config.projects`.
    ProjectRef,
    "project",
    |d| &d.projects
);

/// Deserializes the sessions and declares them (and their projects) for later references.
pub(crate) fn sessions_declaring<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<super::SessionSpec>, D::Error> {
    let sessions = Vec::<super::SessionSpec>::deserialize(d)?;
    let mut seen = BTreeSet::new();
    for s in &sessions {
        if !seen.insert(s.id.as_str()) {
            return Err(serde::de::Error::custom(format!(
                "duplicate session id `{}`",
                s.id
            )));
        }
        if s.id.trim().is_empty() || s.project.trim().is_empty() {
            return Err(serde::de::Error::custom(
                "session and project ids must not be empty",
            ));
        }
        declare(&s.id, &s.project);
    }
    Ok(sessions)
}

/// Deserializes the config overrides and declares their projects.
pub(crate) fn config_declaring<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<ao_core::config::ConfigOverrides, D::Error> {
    let config = ao_core::config::ConfigOverrides::deserialize(d)?;
    for project in config.projects.keys() {
        declare_project(project.as_str());
    }
    Ok(config)
}
