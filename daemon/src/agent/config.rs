//! A project's `agent:` in the config file: a built-in agent by name
//! (`agent: claude-code`), the same with extra arguments (`agent: {name:
//! codex, args: [--model, o3]}`), or a custom agent's templates (`agent:
//! {launch: ..., resume: ..., relaunch: ...}`, exactly as before built-in
//! agents existed, so those configs load unchanged).

use super::{custom, AgentKind, PromptStyle};
use ao_core::config::AgentSpec;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::Path;

/// A project's agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentConfig {
    /// A built-in agent: its adapter knows its commands, hooks and prompt.
    Builtin {
        /// Which one.
        kind: AgentKind,
        /// Extra command-line arguments, right after the program.
        args: Vec<String>,
    },
    /// A custom agent: its templates are all ao knows.
    Custom(AgentSpec),
}

impl AgentConfig {
    /// The built-in agent, if it is one.
    pub fn kind(&self) -> Option<AgentKind> {
        match self {
            AgentConfig::Builtin { kind, .. } => Some(*kind),
            AgentConfig::Custom(_) => None,
        }
    }

    /// The templates the session manager renders (hooks call back `ao`).
    pub fn spec(&self, ao: &Path) -> AgentSpec {
        match self {
            AgentConfig::Builtin { kind, args } => kind.spec(args, ao),
            AgentConfig::Custom(spec) => custom::spec(spec),
        }
    }

    /// What its screen shows when it waits at its prompt.
    pub fn prompt(&self) -> &'static PromptStyle {
        match self {
            AgentConfig::Builtin { kind, .. } => kind.prompt(),
            AgentConfig::Custom(_) => &custom::PROMPT,
        }
    }
}

/// The map form, before it is told apart.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentMap {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    args: Option<Vec<String>>,
    #[serde(default)]
    launch: Option<String>,
    #[serde(default)]
    resume: Option<String>,
    #[serde(default)]
    relaunch: Option<bool>,
}

impl AgentMap {
    fn into_config<E: de::Error>(self) -> Result<AgentConfig, E> {
        let custom = self.launch.is_some() || self.resume.is_some() || self.relaunch.is_some();
        match (self.name, custom) {
            (Some(_), true) => Err(E::custom(
                "`name` picks a built-in agent and `launch`/`resume`/`relaunch` configure a custom one: give one or the other",
            )),
            (Some(name), false) => Ok(AgentConfig::Builtin {
                kind: name.parse().map_err(E::custom)?,
                args: self.args.unwrap_or_default(),
            }),
            (None, _) if self.args.is_some() => Err(E::custom(
                "`args` goes with `name` (a built-in agent); a custom agent writes them into `launch`",
            )),
            (None, _) => {
                let launch = self.launch.filter(|l| !l.trim().is_empty()).ok_or_else(|| {
                    E::custom(
                        "an agent needs `name` (a built-in agent) or a non-empty `launch` template",
                    )
                })?;
                Ok(AgentConfig::Custom(AgentSpec {
                    launch,
                    resume: self.resume,
                    relaunch: self.relaunch.unwrap_or(true),
                }))
            }
        }
    }
}

impl<'de> Deserialize<'de> for AgentConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AgentVisitor;
        impl<'de> Visitor<'de> for AgentVisitor {
            type Value = AgentConfig;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "an agent name (claude-code, codex, aider, opencode, gemini) or a map with `name` or `launch`",
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<AgentConfig, E> {
                Ok(AgentConfig::Builtin {
                    kind: v.parse().map_err(E::custom)?,
                    args: Vec::new(),
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AgentConfig, A::Error> {
                AgentMap::deserialize(de::value::MapAccessDeserializer::new(map))?.into_config()
            }
        }
        d.deserialize_any(AgentVisitor)
    }
}

impl Serialize for AgentConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AgentConfig::Builtin { kind, args } if args.is_empty() => s.serialize_str(kind.name()),
            AgentConfig::Builtin { kind, args } => {
                serde_json::json!({"name": kind.name(), "args": args}).serialize(s)
            }
            AgentConfig::Custom(spec) => spec.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(yaml: &str) -> Result<AgentConfig, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn names_maps_and_templates_all_load() {
        assert_eq!(
            parse("claude-code").unwrap(),
            AgentConfig::Builtin {
                kind: AgentKind::ClaudeCode,
                args: vec![]
            }
        );
        assert_eq!(
            parse("{name: codex, args: [--model, o3]}").unwrap().kind(),
            Some(AgentKind::Codex)
        );
        let custom = parse(
            "{launch: \"claude -p {prompt}\", resume: \"claude --resume {agent_session_id}\"}",
        )
        .unwrap();
        assert_eq!(
            custom,
            AgentConfig::Custom(AgentSpec {
                launch: "claude -p {prompt}".into(),
                resume: Some("claude --resume {agent_session_id}".into()),
                relaunch: true,
            })
        );
        for c in [parse("gemini").unwrap(), custom] {
            let text = serde_yaml::to_string(&c).unwrap();
            assert_eq!(parse(&text).unwrap(), c, "{text}");
        }
    }

    #[test]
    fn misuse_says_what_to_write() {
        for (yaml, says) in [
            ("claude", "unknown agent `claude`"),
            ("{name: aider, launch: x}", "one or the other"),
            ("{args: [x]}", "`args` goes with `name`"),
            ("{launch: \"  \"}", "non-empty `launch`"),
            ("{}", "non-empty `launch`"),
            ("{name: codex, model: o3}", "unknown field `model`"),
            ("[1]", "an agent name"),
        ] {
            let e = parse(yaml).unwrap_err();
            assert!(e.contains(says), "{yaml}: {e}");
        }
    }
}
