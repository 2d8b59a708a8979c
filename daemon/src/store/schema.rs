//! The versioned schema: an ordered list of migrations, tracked in
//! `PRAGMA user_version`, each applied in its own `BEGIN IMMEDIATE`
//! transaction so two processes opening one file at once migrate it once.
//!
//! Rules: never edit a shipped migration, only append; the store holds the
//! canonical lifecycle only, never a display status; enum columns hold the
//! core's wire words and are checked by the codec, not by SQL, so the
//! vocabulary has one owner (the core).

use super::error::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// Migration `i` brings the schema from version `i` to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this build writes and reads.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// Version 1: sessions with the canonical lifecycle as columns, sparse
/// metadata, escalation policy state, write-ahead intents, id counters.
const V1: &str = "
CREATE TABLE sessions (
    id                     TEXT PRIMARY KEY NOT NULL,
    project_id             TEXT NOT NULL,
    issue_id               TEXT NOT NULL,
    kind                   TEXT NOT NULL,
    version                INTEGER NOT NULL CHECK (version >= 0),
    revision               INTEGER NOT NULL CHECK (revision >= 0),
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    session_state          TEXT NOT NULL,
    session_reason         TEXT NOT NULL,
    pr_state               TEXT NOT NULL,
    pr_reason              TEXT NOT NULL,
    pr_number              INTEGER,
    pr_url                 TEXT,
    pr_draft               INTEGER NOT NULL CHECK (pr_draft IN (0, 1)),
    runtime_state          TEXT NOT NULL,
    runtime_reason         TEXT NOT NULL,
    activity_state         TEXT NOT NULL,
    activity_at            INTEGER,
    activity_source        TEXT NOT NULL,
    quarantine_attempts    INTEGER,
    quarantine_started_at  INTEGER,
    quarantine_fingerprint TEXT,
    CHECK ((quarantine_attempts IS NULL) = (quarantine_started_at IS NULL)
       AND (quarantine_attempts IS NULL) = (quarantine_fingerprint IS NULL))
) STRICT;

CREATE INDEX sessions_by_project ON sessions (project_id);

CREATE TABLE session_metadata (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (session_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE reaction_policy (
    session_id TEXT PRIMARY KEY NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    body       TEXT NOT NULL
) STRICT;

CREATE TABLE intents (
    op_id      TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    session_id TEXT,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) STRICT;
";

/// Version 2: `state_changed_at`, when the derived display last changed
/// (for "time in state"; a time, never the display itself; rows from
/// version 1 start from their last write, the best they know), and the
/// archive of sessions removed by `ao rm`.
const V2: &str = "
ALTER TABLE sessions ADD COLUMN state_changed_at INTEGER;
UPDATE sessions SET state_changed_at = updated_at;

CREATE TABLE archived_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    archived_at INTEGER NOT NULL,
    body        TEXT NOT NULL
) STRICT;
";

/// The schema version stored in the file (0 for a fresh one).
pub fn current_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Brings the schema to [`LATEST`]; refuses a file newer than this build.
pub fn migrate(conn: &mut Connection, location: &str) -> Result<u32, StoreError> {
    let too_new = |found: i64| StoreError::TooNew {
        location: location.to_owned(),
        found,
        supported: LATEST,
    };
    let open_err = |source| StoreError::Open {
        location: location.to_owned(),
        source,
    };
    // Fast path, no write lock: the common case of reopening an up-to-date file.
    let found = current_version(conn).map_err(open_err)?;
    if found == i64::from(LATEST) {
        return Ok(LATEST);
    }
    if found > i64::from(LATEST) || found < 0 {
        return Err(too_new(found));
    }
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(open_err)?;
        // Re-read under the write lock: another process may have migrated meanwhile.
        let found = current_version(&tx).map_err(open_err)?;
        if found > i64::from(LATEST) || found < 0 {
            return Err(too_new(found));
        }
        let Some(sql) = usize::try_from(found).ok().and_then(|i| MIGRATIONS.get(i)) else {
            return Ok(LATEST);
        };
        let version = u32::try_from(found + 1).map_err(|_| too_new(found))?;
        let failed = |source| StoreError::Migration {
            location: location.to_owned(),
            version,
            source,
        };
        tx.execute_batch(sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_fresh_database_reaches_the_latest_version_and_reruns_are_no_ops() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(current_version(&conn).unwrap(), 0);
        assert_eq!(migrate(&mut conn, ":memory:").unwrap(), LATEST);
        assert_eq!(current_version(&conn).unwrap(), i64::from(LATEST));
        assert_eq!(migrate(&mut conn, ":memory:").unwrap(), LATEST);
    }

    #[test]
    fn a_newer_database_is_refused_and_left_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        let err = migrate(&mut conn, "x.db").unwrap_err();
        assert!(
            matches!(err, StoreError::TooNew { found, supported, .. } if found == i64::from(LATEST) + 1 && supported == LATEST),
            "{err}"
        );
        assert_eq!(current_version(&conn).unwrap(), i64::from(LATEST) + 1);
    }

    #[test]
    fn a_failed_migration_rolls_back_its_version_bump() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A table the first migration wants to create already exists.
        conn.execute_batch("CREATE TABLE counters (x INTEGER)")
            .unwrap();
        let err = migrate(&mut conn, ":memory:").unwrap_err();
        assert!(
            matches!(err, StoreError::Migration { version: 1, .. }),
            "{err}"
        );
        assert_eq!(current_version(&conn).unwrap(), 0);
    }
}
