//! The SQLite store (WAL): canonical records, their metadata and escalation
//! policy state, the session manager's write-ahead intents, and id counters.
//!
//! Concurrency is revision CAS, not an in-process lock: [`Store::apply`] reads,
//! checks and writes in one `BEGIN IMMEDIATE` transaction, so two `Store`s on
//! one file (two daemons, or a daemon and a CLI) never lose an update; the
//! loser gets [`Applied::Stale`], re-reads and re-decides. Calls are blocking:
//! async code runs them on `spawn_blocking` or a dedicated thread.
//!
//! [`Store::apply_batch`] is the group commit: many writes (each still its own
//! revision CAS) in one transaction and one commit, so the per-commit cost
//! (the WAL append, the lock round trip) is paid once per batch. A write that
//! is stale or fails on its own is rejected alone; a failure that leaves the
//! transaction unusable (I/O, disk full, a rollback) fails the whole batch.
//!
//! The store never holds a display status (SPEC §3): it is derived on read.

mod codec;
mod error;
mod schema;

pub use codec::key as metadata_key;
pub use error::StoreError;
pub use schema::LATEST as SCHEMA_VERSION;

use ao_core::domain::{
    display_status, Metadata, ProjectId, ReactionPolicy, SessionId, SessionRecord,
};
use ao_core::lcm::{Patch, QuarantineChange};
use ao_core::sm::{OpId, Operation};
use ao_core::time::Timestamp;
use codec::{Column, SessionRow, SESSION_COLUMNS};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, ErrorCode, TransactionBehavior};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The database file's name inside the data directory.
pub const DB_FILE_NAME: &str = "ao.db";

/// How long a call waits for another writer's lock before failing with "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What [`Store::insert`] did: an existing record is never overwritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// The record was written.
    Created,
    /// A record with that id already exists; nothing changed.
    Exists,
}

/// What [`Store::archive`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Archived {
    /// The record moved to the archive.
    Done,
    /// No such record.
    Missing,
    /// The record may not be archived (as stored now); nothing changed.
    Refused(Box<SessionRecord>),
}

/// What [`Store::apply`] did with a patch.
// Returned and consumed at once, never stored in bulk: boxing the record
// would only add an allocation per write.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The patch was written; this is the record as stored now.
    Written(SessionRecord),
    /// The stored revision moved on; nothing changed: re-read and re-decide.
    Stale {
        /// The stored revision.
        actual: u64,
    },
    /// No record has that id; nothing changed.
    Missing,
}

/// One write of a [`Store::apply_batch`].
#[derive(Clone, Copy, Debug)]
pub struct Write<'a> {
    /// The session to write.
    pub id: &'a SessionId,
    /// The patch, carrying the revision it was decided against.
    pub patch: &'a Patch,
    /// The record the patch was decided against, when the caller holds it:
    /// the store then writes without re-reading the row. Safe because every
    /// write bumps the revision: a row still at the patch's revision *is* this
    /// record, and one that moved on fails the CAS ([`Applied::Stale`]).
    pub base: Option<&'a SessionRecord>,
}

/// SQLite statements cached per connection: the fixed statements plus the
/// `UPDATE` variants (one per set of touched column groups).
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// The store: one SQLite connection behind a mutex (so `Store: Send + Sync`).
/// Open one per process, or several on one file: they coordinate through
/// SQLite's locks and the revision CAS.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    location: String,
    /// The database file (`None` in memory): a [`Checkpointer`] opens it too.
    path: Option<PathBuf>,
}

/// WAL pages after which a store that has handed checkpoints to a
/// [`Checkpointer`] still checkpoints on its own, inline with a commit: the
/// backstop if the checkpointer falls behind (SQLite's default is 1,000).
pub const BACKSTOP_CHECKPOINT_PAGES: u32 = 16_000;

/// A second connection to a store's file that copies committed WAL pages
/// into the database (a PASSIVE checkpoint), so the writing connection does
/// not pay for checkpoints (page copies and two fsyncs) inside a commit.
#[derive(Debug)]
pub struct Checkpointer {
    conn: Connection,
    location: String,
}

impl Checkpointer {
    /// Copies every WAL page it can without waiting for readers or writers.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(StoreError::from)
    }

    /// The file it checkpoints, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }
}

/// `<data_dir>/ao.db`: where the daemon and the CLI find the shared database.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DB_FILE_NAME)
}

impl Store {
    /// Opens (creating it and its parent directories if needed) the database at
    /// `path`, in WAL mode with a busy timeout and foreign keys, and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        let location = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            location: location.clone(),
            source,
        })?;
        Store::configure(conn, location, Some(path.to_owned()))
    }

    /// A private in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let location = ":memory:".to_owned();
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            location: location.clone(),
            source,
        })?;
        Store::configure(conn, location, None)
    }

    fn configure(
        mut conn: Connection,
        location: String,
        path: Option<PathBuf>,
    ) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            location: location.clone(),
            source,
        };
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;
        if path.is_some() {
            let mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
                .map_err(open_err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(store = %location, %mode, "SQLite refused WAL mode; readers will block writers");
            }
            // NORMAL in WAL mode: every commit survives a daemon crash (the
            // failure the write-ahead intents guard against); only a power loss
            // can drop the last commits, never corrupt the file. FULL would
            // fsync every commit (~4 ms here) and cap the daemon's write rate.
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(open_err)?;
        }
        schema::migrate(&mut conn, &location)?;
        Ok(Store {
            conn: Mutex::new(conn),
            location,
            path,
        })
    }

    /// Hands WAL checkpoints to a second connection (run it off the write
    /// path, e.g. on its own thread); this store then checkpoints by itself
    /// only past [`BACKSTOP_CHECKPOINT_PAGES`]. `None` for an in-memory store.
    pub fn checkpointer(&self) -> Result<Option<Checkpointer>, StoreError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let open_err = |source| StoreError::Open {
            location: self.location.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        self.lock()
            .pragma_update(None, "wal_autocheckpoint", BACKSTOP_CHECKPOINT_PAGES)?;
        Ok(Some(Checkpointer {
            conn,
            location: self.location.clone(),
        }))
    }

    /// The file this store reads (or `:memory:`), for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-call dropped its transaction (rolled back); the connection is fine.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The schema version in the file (equal to [`SCHEMA_VERSION`] once open).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let found = schema::current_version(&self.lock())?;
        u32::try_from(found).map_err(|_| StoreError::TooNew {
            location: self.location.clone(),
            found,
            supported: SCHEMA_VERSION,
        })
    }

    /// Every record, ordered by id, read from one consistent snapshot.
    pub fn records(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let records = load(&tx, None)?;
        tx.commit()?;
        Ok(records)
    }

    /// One record, if the store holds it.
    pub fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let record = load(&tx, Some(id))?.pop();
        tx.commit()?;
        Ok(record)
    }

    /// When each session's display status last changed (its creation, if never).
    pub fn status_since(&self) -> Result<BTreeMap<SessionId, Timestamp>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare_cached("SELECT id, COALESCE(state_changed_at, created_at) FROM sessions")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (id, at) = row?;
            out.insert(SessionId(id), Timestamp(u64::try_from(at).unwrap_or(0)));
        }
        Ok(out)
    }

    /// Moves a record into the archive (and out of every listing), in one
    /// transaction, if `may` allows it for the record as stored.
    pub fn archive(
        &self,
        id: &SessionId,
        at: Timestamp,
        may: impl FnOnce(&SessionRecord) -> bool,
    ) -> Result<Archived, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(rec) = load(&tx, Some(id))?.pop() else {
            return Ok(Archived::Missing);
        };
        if !may(&rec) {
            return Ok(Archived::Refused(Box::new(rec)));
        }
        let body = serde_json::to_string(&rec).map_err(|source| StoreError::Encode {
            what: "archived record",
            source,
        })?;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO archived_sessions (id, archived_at, body) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![id.as_str(), codec::int("archived_at", at.0)?, body])?;
        // Metadata and policy rows go with it (ON DELETE CASCADE).
        tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
            .execute([id.as_str()])?;
        tx.commit()?;
        Ok(Archived::Done)
    }

    /// Inserts a new record; an existing id is left untouched ([`Inserted::Exists`]).
    pub fn insert(&self, rec: &SessionRecord) -> Result<Inserted, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if session_exists(&tx, rec.id.as_str())? {
            return Ok(Inserted::Exists);
        }
        let cols = codec::all_columns(rec)?;
        let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO sessions ({}) VALUES ({})",
            names.join(", "),
            marks.join(", ")
        );
        tx.prepare_cached(&sql)?
            .execute(params_from_iter(cols.into_iter().map(|(_, v)| v)))?;
        write_metadata(
            &tx,
            &rec.id,
            &metadata_changes(&Metadata::default(), &rec.metadata),
        )?;
        if let Some(body) = codec::policy_json(&rec.policy)? {
            write_policy(&tx, &rec.id, Some(&body))?;
        }
        tx.commit()?;
        Ok(Inserted::Created)
    }

    /// Applies a patch with revision CAS in one `BEGIN IMMEDIATE` transaction:
    /// read, check the revision, [`SessionRecord::apply`], and write back only
    /// the columns and rows the patch touches.
    pub fn apply(&self, id: &SessionId, patch: &Patch) -> Result<Applied, StoreError> {
        let write = Write {
            id,
            patch,
            base: None,
        };
        let mut outcomes = self.apply_batch(&[write])?;
        outcomes.pop().unwrap_or(Ok(Applied::Missing))
    }

    /// Group commit: applies every write, in order, each with its own revision
    /// CAS, in one `BEGIN IMMEDIATE` transaction with one commit. The outcome
    /// of each write comes back in its place: a stale, missing or undecodable
    /// write is rejected alone (a multi-statement write runs in a savepoint,
    /// so it lands whole or not at all) and never fails its batch-mates. The
    /// outer error fails every write: the transaction could not start or
    /// commit, or a write hit an I/O-class failure (disk full, I/O error,
    /// corruption, a rollback), after which nothing in the batch is trusted
    /// and nothing of it is committed. Later writes to a session see earlier
    /// ones in the same batch.
    pub fn apply_batch(
        &self,
        writes: &[Write<'_>],
    ) -> Result<Vec<Result<Applied, StoreError>>, StoreError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(writes.len());
        for write in writes {
            // On a batch failure, dropping `tx` rolls back every write.
            outcomes.push(apply_one(&tx, write)?);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// Persists an operation as its write-ahead intent (insert or replace, by op id).
    pub fn put_intent(&self, op: &Operation) -> Result<(), StoreError> {
        let body = codec::operation_json(op)?;
        let now = codec::int("updated_at", wall_clock_millis())?;
        self.lock()
            .prepare_cached(
                "INSERT INTO intents (op_id, kind, session_id, body, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (op_id) DO UPDATE SET kind = excluded.kind,
                    session_id = excluded.session_id, body = excluded.body,
                    updated_at = excluded.updated_at",
            )?
            .execute(params![
                op.id().0,
                op.kind().as_str(),
                op.session().map(SessionId::as_str),
                body,
                now
            ])?;
        Ok(())
    }

    /// Deletes a finished operation's intent (absent is fine).
    pub fn delete_intent(&self, id: &OpId) -> Result<(), StoreError> {
        self.lock()
            .prepare_cached("DELETE FROM intents WHERE op_id = ?1")?
            .execute([&id.0])?;
        Ok(())
    }

    /// Every pending intent, ordered by op id (boot recovery resumes them).
    pub fn intents(&self) -> Result<Vec<Operation>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare_cached("SELECT op_id, kind, body FROM intents ORDER BY op_id")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (op_id, kind, body) = row?;
            out.push(codec::operation_from_row(&op_id, &kind, &body)?);
        }
        Ok(out)
    }

    /// A fresh `<project>-<n>` id: `n` comes from a per-project counter that
    /// never goes back, and an id some record already holds is skipped, so an
    /// id is never reused, even after its record is deleted.
    pub fn next_session_id(&self, project: &ProjectId) -> Result<SessionId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let counter = format!("session:{project}");
        loop {
            let n = bump(&tx, &counter)?;
            let id = format!("{project}-{n}");
            if !session_exists(&tx, &id)? {
                tx.commit()?;
                return Ok(SessionId(id));
            }
        }
    }

    /// A fresh operation id, `op-<n>` with `n` zero-padded to 12 digits so
    /// text order (the order of [`Store::intents`]) is creation order.
    pub fn next_op_id(&self) -> Result<OpId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        loop {
            let n = bump(&tx, "op")?;
            let id = format!("op-{n:012}");
            let taken = tx
                .prepare_cached("SELECT 1 FROM intents WHERE op_id = ?1")?
                .exists([&id])?;
            if !taken {
                tx.commit()?;
                return Ok(OpId(id));
            }
        }
    }
}

/// Milliseconds since the Unix epoch (only for the intents' `updated_at`, a
/// diagnostic; decisions never read this clock).
fn wall_clock_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Whether a write's error means the transaction (and so its whole batch)
/// cannot be trusted: the database itself is failing, not this one write.
fn fails_the_batch(e: &StoreError) -> bool {
    let StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) = e else {
        return false;
    };
    matches!(
        f.code,
        ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
            | ErrorCode::DatabaseCorrupt
            | ErrorCode::NotADatabase
            | ErrorCode::ReadOnly
            | ErrorCode::OutOfMemory
            | ErrorCode::CannotOpen
            | ErrorCode::FileLockingProtocolFailed
            | ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
    )
}

/// One write of a batch, inside the batch's transaction. The outer error
/// fails the batch; the inner result is this write's own outcome.
fn apply_one(
    conn: &Connection,
    write: &Write<'_>,
) -> Result<Result<Applied, StoreError>, StoreError> {
    // The batch goes on after a write's own failure, unless SQLite rolled the
    // transaction back or the database itself is failing.
    let own = |outcome: Result<Applied, StoreError>| match outcome {
        Err(e) if conn.is_autocommit() || fails_the_batch(&e) => Err(e),
        outcome => Ok(outcome),
    };
    let planned = match plan(conn, write) {
        Ok(Plan::Done(applied)) => return Ok(Ok(applied)),
        Ok(Plan::Write(planned)) => planned,
        Err(e) => return own(Err(e)),
    };
    // One statement is atomic on its own; more run in a savepoint so a
    // failure half way leaves nothing of this write behind.
    if planned.metadata.is_empty() && planned.policy.is_none() {
        return own(execute(conn, planned));
    }
    conn.prepare_cached("SAVEPOINT write")?.execute([])?;
    let outcome = execute(conn, planned);
    if outcome.is_err() && !conn.is_autocommit() {
        conn.prepare_cached("ROLLBACK TO write")?.execute([])?;
    }
    if !conn.is_autocommit() {
        conn.prepare_cached("RELEASE write")?.execute([])?;
    }
    own(outcome)
}

/// What a write will do, worked out before touching the database.
enum Plan {
    /// Nothing to write: the outcome is known (stale, missing).
    Done(Applied),
    /// The statements to run.
    Write(Planned),
}

/// A write's statements, with every value already encoded.
struct Planned {
    /// The record once written.
    after: SessionRecord,
    /// Which column groups the `UPDATE` sets ([`update_sql`]).
    groups: u8,
    /// The `UPDATE`'s parameters, in [`update_sql`]'s order.
    values: Vec<Value>,
    /// Metadata rows to change.
    metadata: Vec<MetadataChange>,
    /// The policy row to write (`Some(None)` deletes it).
    policy: Option<Option<String>>,
}

/// Works out a write: the revision check against the caller's record or the
/// stored row, and every column, row and JSON body it will write.
fn plan(conn: &Connection, write: &Write<'_>) -> Result<Plan, StoreError> {
    let Write { id, patch, base } = *write;
    // The caller's record if the patch was decided against it; otherwise
    // the row as stored now.
    let loaded;
    let before = match base.filter(|b| b.id == *id && b.revision == patch.expected_revision) {
        Some(b) => b,
        None => match load(conn, Some(id))?.pop() {
            Some(rec) => {
                loaded = rec;
                &loaded
            }
            None => return Ok(Plan::Done(Applied::Missing)),
        },
    };
    let mut after = before.clone();
    if let Err(stale) = after.apply(patch) {
        return Ok(Plan::Done(Applied::Stale {
            actual: stale.actual,
        }));
    }
    let l = &after.lifecycle;
    let mut groups = 0;
    let mut values: Vec<Value> = vec![
        codec::int("revision", after.revision)?,
        codec::int("updated_at", after.updated_at.0)?,
    ];
    let mut touch = |group: u8, cols: Vec<Column>| {
        groups |= group;
        values.extend(cols.into_iter().map(|(_, v)| v));
    };
    if patch.session.is_some() {
        touch(SESSION, codec::session_columns(&l.session));
    }
    if patch.pr.is_some() {
        touch(PR, codec::pr_columns(&l.pr)?);
    }
    if patch.runtime.is_some() {
        touch(RUNTIME, codec::runtime_columns(&l.runtime));
    }
    if patch.activity.is_some() {
        touch(ACTIVITY, codec::activity_columns(&l.activity)?);
    }
    if !matches!(patch.detecting, QuarantineChange::Leave) {
        touch(QUARANTINE, codec::quarantine_columns(l.detecting.as_ref())?);
    }
    // Last, as the last bit: [`update_sql`] sets groups in bit order.
    if display_status(&before.lifecycle) != display_status(l) {
        let since = codec::int("state_changed_at", after.updated_at.0)?;
        touch(STATUS_SINCE, vec![("state_changed_at", since)]);
    }
    values.push(Value::Text(id.as_str().to_owned()));
    values.push(codec::int("revision", before.revision)?);
    let metadata = if patch.metadata.is_some() {
        metadata_changes(&before.metadata, &after.metadata)
    } else {
        Vec::new()
    };
    let policy = match &patch.policy {
        Some(_) if before.policy != after.policy => Some(codec::policy_json(&after.policy)?),
        _ => None,
    };
    Ok(Plan::Write(Planned {
        after,
        groups,
        values,
        metadata,
        policy,
    }))
}

/// Runs a planned write: the CAS `UPDATE`, then its metadata and policy rows.
fn execute(conn: &Connection, planned: Planned) -> Result<Applied, StoreError> {
    let Planned {
        after,
        groups,
        values,
        metadata,
        policy,
    } = planned;
    let changed = conn
        .prepare_cached(update_sql(groups))?
        .execute(params_from_iter(values))?;
    if changed != 1 {
        // The row moved on (or went away) since the caller's record was read.
        return Ok(match stored_revision(conn, &after.id)? {
            Some(actual) => Applied::Stale { actual },
            None => Applied::Missing,
        });
    }
    write_metadata(conn, &after.id, &metadata)?;
    if let Some(body) = &policy {
        write_policy(conn, &after.id, body.as_deref())?;
    }
    Ok(Applied::Written(after))
}

/// Column groups a patch may touch, as bits of [`update_sql`]'s index.
const SESSION: u8 = 1;
const PR: u8 = 2;
const RUNTIME: u8 = 4;
const ACTIVITY: u8 = 8;
const QUARANTINE: u8 = 16;
const STATUS_SINCE: u8 = 32;

/// The CAS `UPDATE` for a set of touched column groups (built once per set):
/// `revision` and `updated_at`, then each touched group's columns in bit
/// order, then `id` and the expected revision.
fn update_sql(groups: u8) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    let all = SQL.get_or_init(|| {
        let columns: [(u8, &[&str]); 6] = [
            (SESSION, &["session_state", "session_reason"]),
            (
                PR,
                &["pr_state", "pr_reason", "pr_number", "pr_url", "pr_draft"],
            ),
            (RUNTIME, &["runtime_state", "runtime_reason"]),
            (
                ACTIVITY,
                &["activity_state", "activity_at", "activity_source"],
            ),
            (
                QUARANTINE,
                &[
                    "quarantine_attempts",
                    "quarantine_started_at",
                    "quarantine_fingerprint",
                ],
            ),
            (STATUS_SINCE, &["state_changed_at"]),
        ];
        (0..64u8)
            .map(|set| {
                let mut names = vec!["revision", "updated_at"];
                for (bit, cols) in columns {
                    if set & bit != 0 {
                        names.extend(cols);
                    }
                }
                let assignments: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| format!("{name} = ?{}", i + 1))
                    .collect();
                format!(
                    "UPDATE sessions SET {} WHERE id = ?{} AND revision = ?{}",
                    assignments.join(", "),
                    names.len() + 1,
                    names.len() + 2
                )
            })
            .collect()
    });
    all.get(usize::from(groups)).map_or("", String::as_str)
}

/// The stored revision of a session, if it exists.
fn stored_revision(conn: &Connection, id: &SessionId) -> Result<Option<u64>, StoreError> {
    use rusqlite::OptionalExtension;
    let revision: Option<i64> = conn
        .prepare_cached("SELECT revision FROM sessions WHERE id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?;
    revision
        .map(|r| {
            u64::try_from(r).map_err(|_| StoreError::BadValue {
                table: "sessions",
                row: id.to_string(),
                column: "revision".into(),
                value: r.to_string(),
                reason: "expected a non-negative integer".into(),
            })
        })
        .transpose()
}

fn session_exists(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sessions WHERE id = ?1")?
        .exists([id])?)
}

/// Increments a counter (starting at 1) and returns its new value.
fn bump(conn: &Connection, name: &str) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO counters (name, value) VALUES (?1, 1)
             ON CONFLICT (name) DO UPDATE SET value = value + 1
             RETURNING value",
        )?
        .query_row([name], |row| row.get(0))?)
}

/// Reads records (all, or the one with `only`'s id) with metadata and policy.
fn load(conn: &Connection, only: Option<&SessionId>) -> Result<Vec<SessionRecord>, StoreError> {
    let filter = if only.is_some() {
        "WHERE session_id = ?1"
    } else {
        "WHERE ?1 IS NULL"
    };
    let key = only.map(SessionId::as_str);

    let mut metadata: BTreeMap<String, Metadata> = BTreeMap::new();
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT session_id, key, value FROM session_metadata {filter}"
        ))?;
        let rows = stmt.query_map([key], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (session, k, value) = row?;
            let m = metadata.entry(session.clone()).or_default();
            codec::metadata_set(m, &session, &k, value)?;
        }
    }

    let mut policies: BTreeMap<String, ReactionPolicy> = BTreeMap::new();
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT session_id, body FROM reaction_policy {filter}"
        ))?;
        let rows = stmt.query_map([key], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (session, body) = row?;
            let policy = codec::policy_from_json(&session, &body)?;
            policies.insert(session, policy);
        }
    }

    let session_filter = if only.is_some() {
        "WHERE id = ?1"
    } else {
        "WHERE ?1 IS NULL"
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions {session_filter} ORDER BY id"
    ))?;
    let rows = stmt.query_map([key], SessionRow::read)?;
    let mut out = Vec::new();
    for row in rows {
        let row = row?;
        let m = metadata.remove(row.id()).unwrap_or_default();
        let p = policies.remove(row.id()).unwrap_or_default();
        out.push(row.decode(m, p)?);
    }
    Ok(out)
}

/// One metadata row to change: `None` deletes the key.
type MetadataChange = (&'static str, Option<String>);

/// The metadata rows that differ between `old` and `new`.
fn metadata_changes(old: &Metadata, new: &Metadata) -> Vec<MetadataChange> {
    if old == new {
        return Vec::new();
    }
    let old = codec::metadata_pairs(old);
    let new = codec::metadata_pairs(new);
    let mut changes: Vec<MetadataChange> = old
        .iter()
        .filter(|(k, _)| !new.iter().any(|(nk, _)| nk == k))
        .map(|(k, _)| (*k, None))
        .collect();
    changes.extend(
        new.into_iter()
            .filter(|(k, v)| !old.iter().any(|(ok, ov)| ok == k && ov == v))
            .map(|(k, v)| (k, Some(v))),
    );
    changes
}

/// Writes metadata changes (upserts and deletes).
fn write_metadata(
    conn: &Connection,
    id: &SessionId,
    changes: &[MetadataChange],
) -> Result<(), StoreError> {
    for (k, v) in changes {
        match v {
            None => conn
                .prepare_cached("DELETE FROM session_metadata WHERE session_id = ?1 AND key = ?2")?
                .execute(params![id.as_str(), k])?,
            Some(v) => conn
                .prepare_cached(
                    "INSERT INTO session_metadata (session_id, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![id.as_str(), k, v])?,
        };
    }
    Ok(())
}

/// Writes the policy row: its JSON, or `None` (the empty policy) to delete it.
fn write_policy(conn: &Connection, id: &SessionId, body: Option<&str>) -> Result<(), StoreError> {
    match body {
        None => {
            conn.prepare_cached("DELETE FROM reaction_policy WHERE session_id = ?1")?
                .execute([id.as_str()])?;
        }
        Some(body) => {
            conn.prepare_cached(
                "INSERT INTO reaction_policy (session_id, body) VALUES (?1, ?2)
                 ON CONFLICT (session_id) DO UPDATE SET body = excluded.body",
            )?
            .execute(params![id.as_str(), body])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ao_core::domain::{IssueId, SessionKind, SessionState};
    use ao_core::time::Timestamp;

    fn seeded(id: &str) -> SessionRecord {
        SessionRecord::seeded(
            id.into(),
            "app".into(),
            IssueId::from("42"),
            SessionKind::Worker,
            Timestamp(1_000),
        )
    }

    fn store_is_send_and_sync<T: Send + Sync>() {}

    #[test]
    fn the_store_can_be_shared_across_threads() {
        store_is_send_and_sync::<Store>();
    }

    #[test]
    fn an_empty_patch_still_bumps_the_revision_like_the_core_does() {
        let store = Store::open_in_memory().unwrap();
        let rec = seeded("app-1");
        store.insert(&rec).unwrap();
        let patch = Patch {
            expected_revision: 1,
            at: Timestamp(2_000),
            session: None,
            pr: None,
            runtime: None,
            activity: None,
            detecting: QuarantineChange::Leave,
            metadata: None,
            policy: None,
        };
        let mut expected = rec.clone();
        expected.apply(&patch).unwrap();
        assert_eq!(
            store.apply(&rec.id, &patch).unwrap(),
            Applied::Written(expected.clone())
        );
        assert_eq!(store.get(&rec.id).unwrap(), Some(expected));
    }

    #[test]
    fn a_patch_for_an_unknown_session_is_missing() {
        let store = Store::open_in_memory().unwrap();
        let patch = Patch {
            expected_revision: 1,
            at: Timestamp(2_000),
            session: Some(ao_core::domain::SessionAxis {
                state: SessionState::Working,
                reason: ao_core::domain::SessionReason::TaskInProgress,
            }),
            pr: None,
            runtime: None,
            activity: None,
            detecting: QuarantineChange::Leave,
            metadata: None,
            policy: None,
        };
        assert_eq!(
            store.apply(&"nope".into(), &patch).unwrap(),
            Applied::Missing
        );
        assert!(store.records().unwrap().is_empty());
    }

    #[test]
    fn op_ids_sort_in_creation_order() {
        let store = Store::open_in_memory().unwrap();
        let ids: Vec<OpId> = (0..12).map(|_| store.next_op_id().unwrap()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(ids[0].0, "op-000000000001");
    }

    #[test]
    fn the_data_directory_path_is_stable() {
        assert_eq!(db_path(Path::new("/d")), PathBuf::from("/d/ao.db"));
    }
}
