//! Rows to records and back. Enum columns hold the core's wire words; a word
//! the core does not know, a negative count or malformed JSON is a
//! [`StoreError::BadValue`] naming table, row, column and value.

use super::error::StoreError;
use ao_core::domain::{
    ActivityRecord, Fingerprint, Handle, Metadata, PrAxis, Quarantine, ReactionPolicy, RuntimeAxis,
    SessionAxis, SessionRecord,
};
use ao_core::domain::{IssueId, Lifecycle, ProjectId, SessionId};
use ao_core::sm::Operation;
use ao_core::time::Timestamp;
use rusqlite::types::Value;
use rusqlite::Row;
use std::str::FromStr;

/// The `sessions` columns, in the order [`SessionRow::read`] expects.
pub const SESSION_COLUMNS: &str = "id, project_id, issue_id, kind, version, revision, \
    created_at, updated_at, session_state, session_reason, pr_state, pr_reason, pr_number, \
    pr_url, pr_draft, runtime_state, runtime_reason, activity_state, activity_at, \
    activity_source, quarantine_attempts, quarantine_started_at, quarantine_fingerprint";

/// One `sessions` row as SQLite types, before any decoding.
#[derive(Debug)]
pub struct SessionRow {
    id: String,
    project_id: String,
    issue_id: String,
    kind: String,
    version: i64,
    revision: i64,
    created_at: i64,
    updated_at: i64,
    session_state: String,
    session_reason: String,
    pr_state: String,
    pr_reason: String,
    pr_number: Option<i64>,
    pr_url: Option<String>,
    pr_draft: i64,
    runtime_state: String,
    runtime_reason: String,
    activity_state: String,
    activity_at: Option<i64>,
    activity_source: String,
    quarantine_attempts: Option<i64>,
    quarantine_started_at: Option<i64>,
    quarantine_fingerprint: Option<String>,
}

impl SessionRow {
    /// Reads a row selected with [`SESSION_COLUMNS`].
    pub fn read(row: &Row<'_>) -> rusqlite::Result<SessionRow> {
        Ok(SessionRow {
            id: row.get(0)?,
            project_id: row.get(1)?,
            issue_id: row.get(2)?,
            kind: row.get(3)?,
            version: row.get(4)?,
            revision: row.get(5)?,
            created_at: row.get(6)?,
            updated_at: row.get(7)?,
            session_state: row.get(8)?,
            session_reason: row.get(9)?,
            pr_state: row.get(10)?,
            pr_reason: row.get(11)?,
            pr_number: row.get(12)?,
            pr_url: row.get(13)?,
            pr_draft: row.get(14)?,
            runtime_state: row.get(15)?,
            runtime_reason: row.get(16)?,
            activity_state: row.get(17)?,
            activity_at: row.get(18)?,
            activity_source: row.get(19)?,
            quarantine_attempts: row.get(20)?,
            quarantine_started_at: row.get(21)?,
            quarantine_fingerprint: row.get(22)?,
        })
    }

    /// The session id (the row key).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Decodes the row; metadata and policy come from their own tables.
    pub fn decode(
        self,
        metadata: Metadata,
        policy: ReactionPolicy,
    ) -> Result<SessionRecord, StoreError> {
        let cx = Cx {
            table: "sessions",
            row: &self.id,
        };
        let detecting = match (
            self.quarantine_attempts,
            self.quarantine_started_at,
            self.quarantine_fingerprint,
        ) {
            (None, None, None) => None,
            (Some(attempts), Some(started_at), Some(fingerprint)) => Some(Quarantine {
                attempts: cx.u32("quarantine_attempts", attempts)?,
                started_at: cx.time("quarantine_started_at", started_at)?,
                evidence_fingerprint: cx.fingerprint("quarantine_fingerprint", &fingerprint)?,
            }),
            (attempts, started_at, fingerprint) => {
                return Err(cx.bad(
                    "quarantine_*",
                    format!("{attempts:?}, {started_at:?}, {fingerprint:?}"),
                    "the quarantine columns must be all set or all null",
                ))
            }
        };
        let pr_draft = match self.pr_draft {
            0 => false,
            1 => true,
            other => return Err(cx.bad("pr_draft", other, "expected 0 or 1")),
        };
        Ok(SessionRecord {
            version: cx.u32("version", self.version)?,
            revision: cx.u64("revision", self.revision)?,
            id: SessionId(self.id.clone()),
            project_id: ProjectId(self.project_id),
            issue_id: IssueId(self.issue_id),
            kind: cx.word("kind", &self.kind)?,
            created_at: cx.time("created_at", self.created_at)?,
            updated_at: cx.time("updated_at", self.updated_at)?,
            lifecycle: Lifecycle {
                session: SessionAxis {
                    state: cx.word("session_state", &self.session_state)?,
                    reason: cx.word("session_reason", &self.session_reason)?,
                },
                pr: PrAxis {
                    state: cx.word("pr_state", &self.pr_state)?,
                    reason: cx.word("pr_reason", &self.pr_reason)?,
                    number: self.pr_number.map(|n| cx.u64("pr_number", n)).transpose()?,
                    url: self.pr_url,
                    draft: pr_draft,
                },
                runtime: RuntimeAxis {
                    state: cx.word("runtime_state", &self.runtime_state)?,
                    reason: cx.word("runtime_reason", &self.runtime_reason)?,
                },
                activity: ActivityRecord {
                    state: cx.word("activity_state", &self.activity_state)?,
                    last_activity_at: self
                        .activity_at
                        .map(|t| cx.time("activity_at", t))
                        .transpose()?,
                    source: cx.word("activity_source", &self.activity_source)?,
                },
                detecting,
            },
            metadata,
            policy,
        })
    }
}

/// Decoding context: which table and row a bad value came from.
struct Cx<'a> {
    table: &'static str,
    row: &'a str,
}

impl Cx<'_> {
    fn bad(&self, column: &str, value: impl ToString, reason: impl ToString) -> StoreError {
        StoreError::BadValue {
            table: self.table,
            row: self.row.to_owned(),
            column: column.to_owned(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    fn word<T: FromStr>(&self, column: &str, value: &str) -> Result<T, StoreError>
    where
        T::Err: ToString,
    {
        value
            .parse()
            .map_err(|e: T::Err| self.bad(column, value, e))
    }

    fn u64(&self, column: &str, value: i64) -> Result<u64, StoreError> {
        u64::try_from(value).map_err(|_| self.bad(column, value, "expected a non-negative integer"))
    }

    fn u32(&self, column: &str, value: i64) -> Result<u32, StoreError> {
        u32::try_from(value)
            .map_err(|_| self.bad(column, value, "expected an integer in 0..=4294967295"))
    }

    fn time(&self, column: &str, value: i64) -> Result<Timestamp, StoreError> {
        self.u64(column, value).map(Timestamp)
    }

    fn fingerprint(&self, column: &str, value: &str) -> Result<Fingerprint, StoreError> {
        serde_json::from_value(serde_json::Value::String(value.to_owned()))
            .map_err(|e| self.bad(column, value, e))
    }

    fn handle(&self, column: &str, value: &str) -> Result<Handle, StoreError> {
        Handle::new(value).ok_or_else(|| self.bad(column, value, "a handle must not be blank"))
    }
}

/// A `u64` as an SQLite integer, or [`StoreError::TooLarge`].
pub fn int(column: &'static str, value: u64) -> Result<Value, StoreError> {
    i64::try_from(value)
        .map(Value::Integer)
        .map_err(|_| StoreError::TooLarge { column, value })
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// One column assignment.
pub type Column = (&'static str, Value);

/// Identity, version, revision and times (everything but the lifecycle).
pub fn identity_columns(rec: &SessionRecord) -> Result<Vec<Column>, StoreError> {
    Ok(vec![
        ("id", text(rec.id.as_str())),
        ("project_id", text(rec.project_id.as_str())),
        ("issue_id", text(rec.issue_id.as_str())),
        ("kind", text(rec.kind.as_str())),
        ("version", Value::Integer(i64::from(rec.version))),
        ("revision", int("revision", rec.revision)?),
        ("created_at", int("created_at", rec.created_at.0)?),
        ("updated_at", int("updated_at", rec.updated_at.0)?),
    ])
}

/// The session axis.
pub fn session_columns(axis: &SessionAxis) -> Vec<Column> {
    vec![
        ("session_state", text(axis.state.as_str())),
        ("session_reason", text(axis.reason.as_str())),
    ]
}

/// The PR axis.
pub fn pr_columns(axis: &PrAxis) -> Result<Vec<Column>, StoreError> {
    Ok(vec![
        ("pr_state", text(axis.state.as_str())),
        ("pr_reason", text(axis.reason.as_str())),
        (
            "pr_number",
            axis.number
                .map(|n| int("pr_number", n))
                .transpose()?
                .unwrap_or(Value::Null),
        ),
        ("pr_url", axis.url.as_deref().map_or(Value::Null, text)),
        ("pr_draft", Value::Integer(i64::from(axis.draft))),
    ])
}

/// The runtime axis.
pub fn runtime_columns(axis: &RuntimeAxis) -> Vec<Column> {
    vec![
        ("runtime_state", text(axis.state.as_str())),
        ("runtime_reason", text(axis.reason.as_str())),
    ]
}

/// The activity record.
pub fn activity_columns(a: &ActivityRecord) -> Result<Vec<Column>, StoreError> {
    Ok(vec![
        ("activity_state", text(a.state.as_str())),
        (
            "activity_at",
            a.last_activity_at
                .map(|t| int("activity_at", t.0))
                .transpose()?
                .unwrap_or(Value::Null),
        ),
        ("activity_source", text(a.source.as_str())),
    ])
}

/// The quarantine memory (all null when absent).
pub fn quarantine_columns(q: Option<&Quarantine>) -> Result<Vec<Column>, StoreError> {
    Ok(match q {
        None => vec![
            ("quarantine_attempts", Value::Null),
            ("quarantine_started_at", Value::Null),
            ("quarantine_fingerprint", Value::Null),
        ],
        Some(q) => vec![
            ("quarantine_attempts", Value::Integer(i64::from(q.attempts))),
            (
                "quarantine_started_at",
                int("quarantine_started_at", q.started_at.0)?,
            ),
            (
                "quarantine_fingerprint",
                Value::Text(q.evidence_fingerprint.to_string()),
            ),
        ],
    })
}

/// Every `sessions` column of a record.
pub fn all_columns(rec: &SessionRecord) -> Result<Vec<Column>, StoreError> {
    let l = &rec.lifecycle;
    let mut cols = identity_columns(rec)?;
    cols.extend(session_columns(&l.session));
    cols.extend(pr_columns(&l.pr)?);
    cols.extend(runtime_columns(&l.runtime));
    cols.extend(activity_columns(&l.activity)?);
    cols.extend(quarantine_columns(l.detecting.as_ref())?);
    Ok(cols)
}

/// Metadata keys, as stored in `session_metadata.key`.
pub mod key {
    /// Git branch (row present iff non-empty).
    pub const BRANCH: &str = "branch";
    /// Workspace path (row present iff set).
    pub const WORKSPACE_PATH: &str = "workspace_path";
    /// Runtime handle (row present iff set).
    pub const RUNTIME_HANDLE: &str = "runtime_handle";
    /// Runtime kind name (row present iff non-empty).
    pub const RUNTIME_NAME: &str = "runtime_name";
    /// The agent's own session id (row present iff set, even when empty).
    pub const AGENT_SESSION_ID: &str = "agent_session_id";
    /// When spawn completed, in decimal milliseconds (row present iff set).
    pub const SPAWNED_AT: &str = "spawned_at";
    /// The launch prompt (row present iff non-empty).
    pub const PROMPT: &str = "prompt";
    /// The launch rules (row present iff set, even when empty).
    pub const RULES: &str = "rules";
    /// The last failing CI log tail (row present iff set, even when empty).
    pub const CI_LOG_TAIL: &str = "ci_log_tail";
}

/// Metadata as sparse key/value rows, in key order of the list above.
pub fn metadata_pairs(m: &Metadata) -> Vec<(&'static str, String)> {
    // Exhaustive on purpose: a new metadata field does not compile until it has a key.
    let Metadata {
        branch,
        workspace_path,
        runtime_handle,
        runtime_name,
        agent_session_id,
        spawned_at,
        prompt,
        rules,
        ci_log_tail,
    } = m;
    let mut out = Vec::new();
    if !branch.is_empty() {
        out.push((key::BRANCH, branch.clone()));
    }
    if let Some(h) = workspace_path {
        out.push((key::WORKSPACE_PATH, h.as_str().to_owned()));
    }
    if let Some(h) = runtime_handle {
        out.push((key::RUNTIME_HANDLE, h.as_str().to_owned()));
    }
    if !runtime_name.is_empty() {
        out.push((key::RUNTIME_NAME, runtime_name.clone()));
    }
    if let Some(a) = agent_session_id {
        out.push((key::AGENT_SESSION_ID, a.clone()));
    }
    if let Some(t) = spawned_at {
        out.push((key::SPAWNED_AT, t.0.to_string()));
    }
    if !prompt.is_empty() {
        out.push((key::PROMPT, prompt.clone()));
    }
    if let Some(r) = rules {
        out.push((key::RULES, r.clone()));
    }
    if let Some(tail) = ci_log_tail {
        out.push((key::CI_LOG_TAIL, tail.clone()));
    }
    out
}

/// Folds one `session_metadata` row into `m`.
pub fn metadata_set(
    m: &mut Metadata,
    session: &str,
    k: &str,
    value: String,
) -> Result<(), StoreError> {
    let cx = Cx {
        table: "session_metadata",
        row: session,
    };
    match k {
        key::BRANCH => m.branch = value,
        key::WORKSPACE_PATH => m.workspace_path = Some(cx.handle(k, &value)?),
        key::RUNTIME_HANDLE => m.runtime_handle = Some(cx.handle(k, &value)?),
        key::RUNTIME_NAME => m.runtime_name = value,
        key::AGENT_SESSION_ID => m.agent_session_id = Some(value),
        key::SPAWNED_AT => {
            let ms = value.parse::<u64>().map_err(|e| cx.bad(k, &value, e))?;
            m.spawned_at = Some(Timestamp(ms));
        }
        key::PROMPT => m.prompt = value,
        key::RULES => m.rules = Some(value),
        key::CI_LOG_TAIL => m.ci_log_tail = Some(value),
        other => return Err(cx.bad("key", other, "unknown metadata key")),
    }
    Ok(())
}

/// The policy's JSON, or `None` for the empty policy (which has no row).
pub fn policy_json(p: &ReactionPolicy) -> Result<Option<String>, StoreError> {
    if p.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(p)
        .map(Some)
        .map_err(|source| StoreError::Encode {
            what: "the reaction policy",
            source,
        })
}

/// Decodes a `reaction_policy.body`.
pub fn policy_from_json(session: &str, body: &str) -> Result<ReactionPolicy, StoreError> {
    serde_json::from_str(body).map_err(|e| {
        Cx {
            table: "reaction_policy",
            row: session,
        }
        .bad("body", body, e)
    })
}

/// An operation's JSON (the intent body).
pub fn operation_json(op: &Operation) -> Result<String, StoreError> {
    serde_json::to_string(op).map_err(|source| StoreError::Encode {
        what: "an operation intent",
        source,
    })
}

/// Decodes an `intents` row, checking the body agrees with its key columns.
pub fn operation_from_row(op_id: &str, kind: &str, body: &str) -> Result<Operation, StoreError> {
    let cx = Cx {
        table: "intents",
        row: op_id,
    };
    let op: Operation = serde_json::from_str(body).map_err(|e| cx.bad("body", body, e))?;
    if op.id().0 != op_id {
        return Err(cx.bad("body", body, format!("the body's op id is `{}`", op.id())));
    }
    if op.kind().as_str() != kind {
        return Err(cx.bad(
            "kind",
            kind,
            format!("the body is a {} operation", op.kind()),
        ));
    }
    Ok(op)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn metadata_pairs_round_trip_including_an_empty_agent_session_id() {
        let m = Metadata {
            branch: "ao/x".into(),
            workspace_path: Handle::new("/ws/x"),
            runtime_handle: Handle::new("rt-x"),
            runtime_name: "tmux".into(),
            agent_session_id: Some(String::new()),
            spawned_at: Some(Timestamp(42)),
            prompt: "go".into(),
            rules: Some("never push to main".into()),
            ci_log_tail: Some(String::new()),
        };
        let mut back = Metadata::default();
        for (k, v) in metadata_pairs(&m) {
            metadata_set(&mut back, "s", k, v).unwrap();
        }
        assert_eq!(back, m);
        assert!(metadata_pairs(&Metadata::default()).is_empty());
    }

    #[test]
    fn bad_metadata_is_a_typed_error() {
        let mut m = Metadata::default();
        let err = metadata_set(&mut m, "s1", "colour", "red".into()).unwrap_err();
        assert!(
            matches!(&err, StoreError::BadValue { column, value, .. } if column == "key" && value == "colour"),
            "{err}"
        );
        let err = metadata_set(&mut m, "s1", key::SPAWNED_AT, "soon".into()).unwrap_err();
        assert!(
            matches!(&err, StoreError::BadValue { column, .. } if column == "spawned_at"),
            "{err}"
        );
        let err = metadata_set(&mut m, "s1", key::RUNTIME_HANDLE, " ".into()).unwrap_err();
        assert!(
            matches!(&err, StoreError::BadValue { column, .. } if column == "runtime_handle"),
            "{err}"
        );
    }

    #[test]
    fn numbers_beyond_i64_are_refused_not_wrapped() {
        let err = int("revision", u64::MAX).unwrap_err();
        assert!(matches!(
            err,
            StoreError::TooLarge {
                column: "revision",
                value: u64::MAX
            }
        ));
        assert_eq!(int("revision", 7).unwrap(), Value::Integer(7));
    }

    #[test]
    fn the_empty_policy_has_no_row() {
        assert_eq!(policy_json(&ReactionPolicy::default()).unwrap(), None);
    }
}
