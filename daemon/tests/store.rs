//! The SQLite store against real files: full-record round trips, revision CAS
//! (also between two `Store`s racing on one file), group commit (a batch's
//! writes each with its own CAS, failures alone or for the whole batch) and
//! the store writer that drives it (each waiter its own outcome, only landed
//! writes journaled, a failed batch failing every waiter with the cause),
//! intents, migrations, id counters, and typed errors for rows the core
//! cannot decode.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use ao_core::config::{AgentSpec, Config, ConfigOverrides, ProjectOverrides};
use ao_core::domain::{
    ActivityRecord, ActivitySource, ActivityState, Fingerprint, Handle, IssueId, KillKind,
    Metadata, PrAxis, PrReason, PrState, ProjectId, Quarantine, ReactionKey, ReactionPolicy,
    RuntimeAxis, RuntimeReason, RuntimeState, SessionAxis, SessionId, SessionKind, SessionReason,
    SessionRecord, SessionState, Tracker,
};
use ao_core::journal::JournalEntry;
use ao_core::lcm::{Event, Input, Patch, QuarantineChange};
use ao_core::sm::{plan_kill, plan_spawn, Next, OpId, Operation, Outcome, SpawnRequest};
use ao_core::time::Timestamp;
use ao_daemon::journal::{read_journal, Journal, Line};
use ao_daemon::store::{Applied, Inserted, Store, StoreError, Write, SCHEMA_VERSION};
use ao_daemon::writer::{StoreWriter, WriteError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;

// ---------------------------------------------------------------- fixtures --

/// A fresh directory under cargo's per-target temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "store-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("data/ao.db")
    }

    fn journal(&self) -> PathBuf {
        self.0.join("data/journal.jsonl")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn h(s: &str) -> Handle {
    Handle::new(s).unwrap()
}

fn seeded(id: &str) -> SessionRecord {
    SessionRecord::seeded(
        id.into(),
        "app".into(),
        IssueId::from("42"),
        SessionKind::Worker,
        Timestamp(1_000),
    )
}

fn policy_with_trackers() -> ReactionPolicy {
    let mut policy = ReactionPolicy::default();
    policy.mapped = Some(ReactionKey::CiFailed);
    *policy.slot(ReactionKey::CiFailed) = Some(Tracker {
        attempts: 3,
        first_attempt_at: Timestamp(5_000),
        escalated: true,
        undelivered: false,
    });
    *policy.slot(ReactionKey::AgentIdle) = Some(Tracker {
        attempts: 1,
        first_attempt_at: Timestamp(6_000),
        escalated: false,
        undelivered: true,
    });
    policy
}

/// Every field set to something other than its default.
fn full_record(id: &str) -> SessionRecord {
    let mut rec = seeded(id);
    rec.version = 1;
    rec.revision = 17;
    rec.kind = SessionKind::Orchestrator;
    rec.issue_id = "gh-7".into();
    rec.created_at = Timestamp(1_000);
    rec.updated_at = Timestamp(99_000);
    let l = &mut rec.lifecycle;
    l.session = SessionAxis {
        state: SessionState::Detecting,
        reason: SessionReason::ProbeFailure,
    };
    l.pr = PrAxis {
        state: PrState::Open,
        reason: PrReason::CiFailing,
        number: Some(4242),
        url: Some("https://example.test/o/r/pull/4242".into()),
        draft: true,
    };
    l.runtime = RuntimeAxis {
        state: RuntimeState::ProbeFailed,
        reason: RuntimeReason::ProbeError,
    };
    l.activity = ActivityRecord {
        state: ActivityState::WaitingInput,
        last_activity_at: Some(Timestamp(42_000)),
        source: ActivitySource::Hook,
    };
    l.detecting = Some(Quarantine {
        attempts: 2,
        started_at: Timestamp(80_000),
        evidence_fingerprint: Fingerprint(0xfedc_ba98_7654_3210),
    });
    rec.metadata = Metadata {
        branch: "ao/app-1".into(),
        workspace_path: Some(h("/ws/app 1")),
        runtime_handle: Some(h("rt-app-1")),
        runtime_name: "tmux".into(),
        agent_session_id: Some("claude-abc".into()),
        spawned_at: Some(Timestamp(2_000)),
        prompt: "Fix issue #42; don't break 'quotes'\nsecond line ✓".into(),
        rules: Some("never push to `main`".into()),
        ci_log_tail: Some("error[E0308]: mismatched types\n  --> src/lib.rs:1:1".into()),
    };
    rec.policy = policy_with_trackers();
    rec
}

fn empty_patch(expected_revision: u64, at: u64) -> Patch {
    Patch {
        expected_revision,
        at: Timestamp(at),
        session: None,
        pr: None,
        runtime: None,
        activity: None,
        detecting: QuarantineChange::Leave,
        metadata: None,
        policy: None,
    }
}

fn working(expected_revision: u64, at: u64) -> Patch {
    Patch {
        session: Some(SessionAxis {
            state: SessionState::Working,
            reason: SessionReason::TaskInProgress,
        }),
        ..empty_patch(expected_revision, at)
    }
}

fn config() -> Config {
    let mut overrides = ConfigOverrides::default();
    overrides.projects.insert(
        "app".into(),
        ProjectOverrides {
            agent: Some(AgentSpec {
                launch: "agent --session {session_id} --prompt {prompt}".into(),
                resume: Some("agent --resume {agent_session_id}".into()),
                relaunch: true,
            }),
            ..ProjectOverrides::default()
        },
    );
    Config::resolve(&overrides).unwrap()
}

fn spawn_op(op: &OpId, id: &SessionId) -> Operation {
    let req = SpawnRequest {
        op: op.clone(),
        id: id.clone(),
        project: "app".into(),
        issue: "42".into(),
        kind: SessionKind::Worker,
        branch: format!("ao/{id}"),
        prompt: "Fix issue #42".into(),
        rules: None,
        workspace_path: h(&format!("/ws/{id}")),
        runtime_handle: h(&format!("rt-{id}")),
        runtime_name: "process".into(),
        at: Timestamp(1_000),
    };
    plan_spawn(req, &config(), |_| false).unwrap()
}

/// A raw connection to poke rows the store would never write.
fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

// ------------------------------------------------------------ round trips --

#[test]
fn a_fully_populated_record_round_trips_through_insert_and_get() {
    let dir = TempDir::new("roundtrip");
    let rec = full_record("app-1");
    {
        let store = Store::open(&dir.db()).unwrap();
        assert_eq!(store.insert(&rec).unwrap(), Inserted::Created);
        assert_eq!(store.get(&rec.id).unwrap().as_ref(), Some(&rec));
        assert_eq!(store.records().unwrap(), vec![rec.clone()]);
    }
    // And after a reopen, from the file.
    let store = Store::open(&dir.db()).unwrap();
    assert_eq!(store.get(&rec.id).unwrap(), Some(rec));
    assert_eq!(store.get(&"app-2".into()).unwrap(), None);
}

#[test]
fn a_seeded_record_round_trips_with_no_metadata_or_policy_rows() {
    let dir = TempDir::new("seeded");
    let store = Store::open(&dir.db()).unwrap();
    let rec = seeded("app-1");
    store.insert(&rec).unwrap();
    assert_eq!(store.get(&rec.id).unwrap(), Some(rec));
    let conn = raw(&dir.db());
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count("session_metadata"), 0);
    assert_eq!(count("reaction_policy"), 0);
}

#[test]
fn records_are_ordered_by_id_with_their_own_metadata() {
    let store = Store::open_in_memory().unwrap();
    let mut b = full_record("b");
    b.metadata.branch = "ao/b".into();
    let a = seeded("a");
    let mut c = full_record("c");
    c.policy = ReactionPolicy::default();
    for rec in [&b, &c, &a] {
        store.insert(rec).unwrap();
    }
    assert_eq!(store.records().unwrap(), vec![a, b, c]);
}

#[test]
fn inserting_an_existing_id_returns_exists_and_changes_nothing() {
    let store = Store::open_in_memory().unwrap();
    let original = full_record("app-1");
    assert_eq!(store.insert(&original).unwrap(), Inserted::Created);
    let mut other = seeded("app-1");
    other.metadata.branch = "someone-else".into();
    assert_eq!(store.insert(&other).unwrap(), Inserted::Exists);
    assert_eq!(store.records().unwrap(), vec![original]);
}

#[test]
fn the_sessions_table_holds_no_display_status() {
    let dir = TempDir::new("nodisplay");
    Store::open(&dir.db()).unwrap();
    let conn = raw(&dir.db());
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info('sessions')")
        .unwrap();
    let columns: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(columns.contains(&"session_state".to_owned()));
    assert!(
        columns
            .iter()
            .all(|c| !c.contains("status") && !c.contains("display")),
        "{columns:?}"
    );
}

// ---------------------------------------------------------------- CAS --

#[test]
fn patches_apply_exactly_like_the_core_including_three_way_quarantine() {
    let dir = TempDir::new("patches");
    let store = Store::open(&dir.db()).unwrap();
    let mut expected = seeded("app-1");
    store.insert(&expected).unwrap();

    let mut meta = full_record("x").metadata;
    let patches = vec![
        working(1, 2_000),
        Patch {
            pr: Some(full_record("x").lifecycle.pr),
            runtime: Some(RuntimeAxis {
                state: RuntimeState::Alive,
                reason: RuntimeReason::ProcessRunning,
            }),
            activity: Some(ActivityRecord {
                state: ActivityState::Active,
                last_activity_at: Some(Timestamp(2_500)),
                source: ActivitySource::Native,
            }),
            metadata: Some(Box::new(meta.clone())),
            ..empty_patch(2, 3_000)
        },
        Patch {
            detecting: QuarantineChange::Set(Quarantine {
                attempts: 1,
                started_at: Timestamp(4_000),
                evidence_fingerprint: Fingerprint(7),
            }),
            policy: Some(Box::new(policy_with_trackers())),
            ..empty_patch(3, 4_000)
        },
        // Metadata forgets handles (a release), one key changes, others stay.
        {
            meta.runtime_handle = None;
            meta.workspace_path = None;
            meta.agent_session_id = Some(String::new());
            meta.prompt = "new prompt".into();
            meta.ci_log_tail = None;
            Patch {
                metadata: Some(Box::new(meta.clone())),
                ..empty_patch(4, 5_000)
            }
        },
        Patch {
            detecting: QuarantineChange::Clear,
            policy: Some(Box::new(ReactionPolicy::default())),
            pr: Some(PrAxis {
                state: PrState::Merged,
                reason: PrReason::Merged,
                number: Some(4242),
                url: None,
                draft: false,
            }),
            ..empty_patch(5, 4_500) // an older time never moves updated_at back
        },
        // Stay at the same axes: leave means leave.
        empty_patch(6, 6_000),
    ];
    for patch in &patches {
        expected.apply(patch).unwrap();
        let written = store.apply(&expected.id, patch).unwrap();
        assert_eq!(written, Applied::Written(expected.clone()), "{patch:?}");
        assert_eq!(store.get(&expected.id).unwrap().as_ref(), Some(&expected));
    }
    assert_eq!(expected.revision, 7);
    assert_eq!(expected.updated_at, Timestamp(6_000));
    assert!(expected.lifecycle.detecting.is_none());
    drop(store);
    assert_eq!(
        Store::open(&dir.db()).unwrap().records().unwrap(),
        vec![expected]
    );
}

#[test]
fn a_stale_patch_is_rejected_and_changes_nothing() {
    let store = Store::open_in_memory().unwrap();
    let rec = full_record("app-1");
    store.insert(&rec).unwrap();
    let stale = Patch {
        detecting: QuarantineChange::Clear,
        metadata: Some(Box::default()),
        policy: Some(Box::default()),
        ..working(rec.revision - 1, 200_000)
    };
    assert_eq!(
        store.apply(&rec.id, &stale).unwrap(),
        Applied::Stale {
            actual: rec.revision
        }
    );
    let ahead = working(rec.revision + 1, 200_000);
    assert_eq!(
        store.apply(&rec.id, &ahead).unwrap(),
        Applied::Stale {
            actual: rec.revision
        }
    );
    assert_eq!(store.get(&rec.id).unwrap(), Some(rec.clone()));
    assert_eq!(
        store.apply(&"app-9".into(), &working(1, 1)).unwrap(),
        Applied::Missing
    );
    assert_eq!(store.records().unwrap(), vec![rec]);
}

#[test]
fn two_stores_racing_on_one_file_never_lose_an_update() {
    const ROUNDS: u64 = 25;
    let dir = TempDir::new("race");
    let a = Arc::new(Store::open(&dir.db()).unwrap());
    let b = Arc::new(Store::open(&dir.db()).unwrap());
    let id = SessionId::from("app-1");
    a.insert(&seeded("app-1")).unwrap();

    for round in 0..ROUNDS {
        let revision = 1 + round;
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [
            (a.clone(), SessionReason::TaskInProgress),
            (b.clone(), SessionReason::FixingCi),
        ]
        .into_iter()
        .map(|(store, reason)| {
            let barrier = barrier.clone();
            let id = id.clone();
            std::thread::spawn(move || {
                let patch = Patch {
                    session: Some(SessionAxis {
                        state: SessionState::Working,
                        reason,
                    }),
                    ..empty_patch(revision, 1_000 + revision)
                };
                barrier.wait();
                store.apply(&id, &patch).unwrap()
            })
        })
        .collect();
        let results: Vec<Applied> = racers.into_iter().map(|t| t.join().unwrap()).collect();
        let winners: Vec<&SessionRecord> = results
            .iter()
            .filter_map(|r| match r {
                Applied::Written(rec) => Some(rec),
                _ => None,
            })
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(
            results.contains(&Applied::Stale {
                actual: revision + 1
            }),
            "round {round}: {results:?}"
        );
        // Both stores now see the winner's write, and only it.
        assert_eq!(a.get(&id).unwrap().as_ref(), Some(winners[0]));
        assert_eq!(b.get(&id).unwrap().as_ref(), Some(winners[0]));
    }
    assert_eq!(a.get(&id).unwrap().unwrap().revision, 1 + ROUNDS);
}

// ----------------------------------------------------------- group commit --

/// A write the store reads the row for.
fn write<'a>(id: &'a SessionId, patch: &'a Patch) -> Write<'a> {
    Write {
        id,
        patch,
        base: None,
    }
}

/// A write decided against `rec`, which the caller hands over.
fn based<'a>(rec: &'a SessionRecord, patch: &'a Patch) -> Write<'a> {
    Write {
        id: &rec.id,
        patch,
        base: Some(rec),
    }
}

/// A store in `dir` holding a seeded record per id.
fn seeded_store(dir: &TempDir, ids: &[&str]) -> (Store, Vec<SessionRecord>) {
    let store = Store::open(&dir.db()).unwrap();
    let recs: Vec<SessionRecord> = ids.iter().map(|id| seeded(id)).collect();
    for rec in &recs {
        store.insert(rec).unwrap();
    }
    (store, recs)
}

fn written(outcome: &Result<Applied, StoreError>) -> &SessionRecord {
    match outcome {
        Ok(Applied::Written(rec)) => rec,
        other => panic!("expected a write, got {other:?}"),
    }
}

#[test]
fn a_batch_rejects_a_stale_write_alone_and_lands_the_good_one() {
    let dir = TempDir::new("batchstale");
    let (store, recs) = seeded_store(&dir, &["a", "b", "c"]);
    let [a, b, c] = <[SessionRecord; 3]>::try_from(recs).unwrap();
    // `c` moves on behind the back of a caller still holding revision 1.
    store.apply(&c.id, &working(1, 1_500)).unwrap();

    let stale = working(0, 2_000);
    let good = working(1, 2_000);
    let behind = working(1, 2_000);
    let unknown_id = SessionId::from("zz");
    let unknown = working(1, 2_000);
    let outcomes = store
        .apply_batch(&[
            write(&a.id, &stale),
            write(&b.id, &good),
            // The caller's record says revision 1; the row is at 2.
            based(&c, &behind),
            Write {
                id: &unknown_id,
                patch: &unknown,
                base: Some(&c),
            },
        ])
        .unwrap();
    let mut expected_b = b.clone();
    expected_b.apply(&good).unwrap();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(outcomes[0].as_ref().unwrap(), &Applied::Stale { actual: 1 });
    assert_eq!(written(&outcomes[1]), &expected_b);
    assert_eq!(outcomes[2].as_ref().unwrap(), &Applied::Stale { actual: 2 });
    assert_eq!(outcomes[3].as_ref().unwrap(), &Applied::Missing);
    assert_eq!(store.get(&a.id).unwrap(), Some(a));
    assert_eq!(store.get(&b.id).unwrap(), Some(expected_b));
    assert_eq!(store.get(&c.id).unwrap().unwrap().revision, 2);
}

#[test]
fn a_write_with_the_callers_record_lands_exactly_like_one_the_store_reads() {
    let dir = TempDir::new("batchbase");
    let store = Store::open(&dir.db()).unwrap();
    let rec = full_record("app-1");
    store.insert(&rec).unwrap();
    let mut meta = rec.metadata.clone();
    meta.runtime_handle = None;
    meta.prompt = "changed".into();
    let patch = Patch {
        metadata: Some(Box::new(meta)),
        policy: Some(Box::default()),
        detecting: QuarantineChange::Clear,
        ..working(rec.revision, 200_000)
    };
    let mut expected = rec.clone();
    expected.apply(&patch).unwrap();
    let outcomes = store.apply_batch(&[based(&rec, &patch)]).unwrap();
    assert_eq!(written(&outcomes[0]), &expected);
    drop(store);
    let store = Store::open(&dir.db()).unwrap();
    assert_eq!(store.get(&rec.id).unwrap(), Some(expected));
}

#[test]
fn two_writes_to_one_session_in_a_batch_land_in_order() {
    let dir = TempDir::new("batchorder");
    let store = Store::open(&dir.db()).unwrap();
    let rec = seeded("app-1");
    store.insert(&rec).unwrap();
    let first = working(1, 2_000);
    let second = Patch {
        runtime: Some(RuntimeAxis {
            state: RuntimeState::Alive,
            reason: RuntimeReason::ProcessRunning,
        }),
        session: Some(SessionAxis {
            state: SessionState::Idle,
            reason: SessionReason::AwaitingUserInput,
        }),
        ..empty_patch(2, 3_000)
    };
    // The first write comes with the caller's record; the second was decided
    // against the first's result, which only the batch holds so far.
    let outcomes = store
        .apply_batch(&[based(&rec, &first), write(&rec.id, &second)])
        .unwrap();
    let mut expected = rec.clone();
    expected.apply(&first).unwrap();
    assert_eq!(written(&outcomes[0]), &expected);
    expected.apply(&second).unwrap();
    assert_eq!(written(&outcomes[1]), &expected);
    assert_eq!(expected.revision, 3);
    assert_eq!(store.get(&rec.id).unwrap(), Some(expected.clone()));

    // Out of order, the later decision is stale and the earlier one lands.
    let third = working(3, 4_000);
    let fourth = empty_patch(4, 5_000);
    let outcomes = store
        .apply_batch(&[write(&rec.id, &fourth), write(&rec.id, &third)])
        .unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap(), &Applied::Stale { actual: 3 });
    expected.apply(&third).unwrap();
    assert_eq!(written(&outcomes[1]), &expected);
}

#[test]
fn a_write_that_fails_on_its_own_leaves_nothing_behind_and_its_batch_mates_land() {
    let dir = TempDir::new("batchown");
    let (store, recs) = seeded_store(&dir, &["bad", "refused", "good"]);
    let [bad, refused, good] = <[SessionRecord; 3]>::try_from(recs).unwrap();
    let conn = raw(&dir.db());
    // A row the core cannot decode, and a metadata row SQLite refuses after
    // the write's own UPDATE already ran (its savepoint must undo that).
    conn.execute(
        "UPDATE sessions SET session_state = 'zombie' WHERE id = 'bad'",
        [],
    )
    .unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON session_metadata
         WHEN NEW.session_id = 'refused'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
    )
    .unwrap();
    let plain = working(1, 2_000);
    let meta = Metadata {
        prompt: "go".into(),
        ..Metadata::default()
    };
    let with_metadata = Patch {
        metadata: Some(Box::new(meta)),
        ..working(1, 2_000)
    };
    let outcomes = store
        .apply_batch(&[
            write(&bad.id, &plain),
            based(&refused, &with_metadata),
            write(&good.id, &with_metadata),
        ])
        .unwrap();
    let err = outcomes[0].as_ref().unwrap_err();
    assert!(
        matches!(err, StoreError::BadValue { row, column, .. } if row == "bad" && column == "session_state"),
        "{err}"
    );
    let err = outcomes[1].as_ref().unwrap_err();
    assert!(err.to_string().contains("refused by the test"), "{err}");
    let mut expected = good.clone();
    expected.apply(&with_metadata).unwrap();
    assert_eq!(written(&outcomes[2]), &expected);

    assert_eq!(store.get(&refused.id).unwrap(), Some(refused));
    assert_eq!(store.get(&good.id).unwrap(), Some(expected));
}

#[test]
fn a_failure_that_ends_the_transaction_fails_the_whole_batch_with_its_cause() {
    let dir = TempDir::new("batchrollback");
    let (store, recs) = seeded_store(&dir, &["a", "doomed", "c"]);
    let [a, doomed, c] = <[SessionRecord; 3]>::try_from(recs).unwrap();
    raw(&dir.db())
        .execute_batch(
            "CREATE TRIGGER lose BEFORE UPDATE ON sessions WHEN OLD.id = 'doomed'
             BEGIN SELECT RAISE(ROLLBACK, 'the transaction was lost'); END;",
        )
        .unwrap();
    let patch = working(1, 2_000);
    let err = store
        .apply_batch(&[
            write(&a.id, &patch),
            write(&doomed.id, &patch),
            write(&c.id, &patch),
        ])
        .unwrap_err();
    assert!(
        err.to_string().contains("the transaction was lost"),
        "{err}"
    );
    // Nothing of the batch landed, not even the write before the failure.
    assert_eq!(store.records().unwrap(), vec![a.clone(), c, doomed]);
    // And the store goes on working.
    assert!(matches!(
        store.apply(&a.id, &patch).unwrap(),
        Applied::Written(_)
    ));
}

/// Set in the child process of the I/O failure test: the database to write.
const IO_FAILURE_CHILD: &str = "AO_STORE_TEST_IO_FAILURE_DB";

#[test]
fn an_io_failure_at_commit_fails_the_whole_batch_with_its_cause() {
    if let Some(db) = std::env::var_os(IO_FAILURE_CHILD) {
        return io_failure_child(Path::new(&db));
    }
    let dir = TempDir::new("batchio");
    let (store, recs) = seeded_store(&dir, &["a", "b"]);
    drop(store);
    // Re-run this test alone in a child whose files may not grow past 256 KB
    // (`ulimit -f` counts 512-byte blocks in POSIX sh; SIGXFSZ ignored, so a
    // write past the limit fails with EFBIG: a real I/O error in SQLite).
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 512 && exec "$0" "$@""#)
        .arg(exe)
        .args([
            "--exact",
            "an_io_failure_at_commit_fails_the_whole_batch_with_its_cause",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(IO_FAILURE_CHILD, dir.db())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the child failed:\n{log}");
    assert!(log.contains("batch failed as a whole: "), "{log}");
    // Neither write landed.
    let store = Store::open(&dir.db()).unwrap();
    assert_eq!(store.records().unwrap(), recs);
}

/// The child: a good write and a 1 MB one (fits SQLite's page cache, so the
/// failure comes when the commit writes the WAL) in one batch.
fn io_failure_child(db: &Path) {
    let store = Store::open(db).unwrap();
    let good = working(1, 2_000);
    let meta = Metadata {
        prompt: "x".repeat(1 << 20),
        ..Metadata::default()
    };
    let big = Patch {
        metadata: Some(Box::new(meta)),
        ..working(1, 2_000)
    };
    let (a, b) = (SessionId::from("a"), SessionId::from("b"));
    let err = store
        .apply_batch(&[write(&a, &good), write(&b, &big)])
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, rusqlite::ErrorCode::SystemIoFailure | rusqlite::ErrorCode::DiskFull)),
        "{err:?}"
    );
    println!("batch failed as a whole: {err}");
}

// ------------------------------------------------------------ store writer --

/// A journal entry that names its write (by `tag`).
fn entry(id: &str, tag: u64) -> JournalEntry {
    JournalEntry::Input {
        input: Input {
            session: id.into(),
            at: Timestamp(tag),
            event: Event::Tick,
        },
        effects: Fingerprint(tag),
    }
}

/// A store writer over a seeded store, with its journal beside the database.
struct Setup {
    dir: TempDir,
    store: Arc<Store>,
    writer: Arc<StoreWriter>,
}

impl Setup {
    fn new(tag: &str, sessions: &[&str]) -> Setup {
        let dir = TempDir::new(tag);
        let store = Arc::new(seeded_store(&dir, sessions).0);
        let journal = Journal::open(&dir.journal()).unwrap();
        let writer = Arc::new(StoreWriter::start(store.clone(), journal).unwrap());
        Setup { dir, store, writer }
    }
}

fn tags(journal: &Path) -> Vec<u64> {
    read_journal(journal)
        .unwrap()
        .into_iter()
        .map(|e| match e {
            JournalEntry::Input { effects, .. } => effects.0,
            other => panic!("unexpected entry {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_waiters_get_their_own_outcomes_and_only_landed_writes_are_journaled() {
    const N: u64 = 200;
    let ids: Vec<String> = (0..N).map(|i| format!("s{i:03}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let s = Setup::new("concurrent", &refs);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        let writer = s.writer.clone();
        let id = SessionId::from(id.as_str());
        let tag = i as u64 + 1;
        // Every tenth write was decided against a revision that never was.
        let expected = if i % 10 == 0 { 7 } else { 1 };
        let base = (i % 2 == 0).then(|| seeded(id.as_str()));
        tasks.spawn(async move {
            let line = Line::encode(&entry(id.as_str(), tag)).unwrap();
            let outcome = writer
                .apply(id.clone(), working(expected, 2_000), base, Some(line))
                .await
                .unwrap();
            (id, tag, expected, outcome)
        });
    }
    let mut landed = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (id, tag, expected, outcome) = r.unwrap();
        if expected == 1 {
            let Applied::Written(rec) = outcome else {
                panic!("{id}: {outcome:?}")
            };
            assert_eq!((rec.id, rec.revision), (id, 2));
            landed.push(tag);
        } else {
            assert_eq!(outcome, Applied::Stale { actual: 1 }, "{id}");
        }
    }
    assert_eq!(landed.len(), 180);
    let mut journaled = tags(&s.dir.journal());
    journaled.sort_unstable();
    landed.sort_unstable();
    assert_eq!(
        journaled, landed,
        "exactly the committed writes are journaled"
    );
    let stored = s.store.records().unwrap();
    assert_eq!(stored.iter().filter(|r| r.revision == 2).count(), 180);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_fails_as_a_whole_fails_every_waiter_with_the_cause() {
    let s = Setup::new("batchfail", &["first", "a", "doomed", "c"]);
    let blocker = raw(&s.dir.db());
    blocker
        .execute_batch(
            "CREATE TRIGGER lose BEFORE UPDATE ON sessions WHEN OLD.id = 'doomed'
             BEGIN SELECT RAISE(ROLLBACK, 'the transaction was lost'); END;
             BEGIN IMMEDIATE;",
        )
        .unwrap();
    // The first write's batch waits for the lock this connection holds, so
    // the next three queue up and are committed as one batch.
    let send = |id: &'static str, tag: u64| {
        let writer = s.writer.clone();
        tokio::spawn(async move {
            let line = Line::encode(&entry(id, tag)).unwrap();
            writer
                .apply(id.into(), working(1, 2_000), None, Some(line))
                .await
        })
    };
    let first = send("first", 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rest = [send("a", 2), send("doomed", 3), send("c", 4)];
    tokio::time::sleep(Duration::from_millis(200)).await;
    blocker.execute_batch("COMMIT").unwrap();

    assert!(matches!(first.await.unwrap(), Ok(Applied::Written(_))));
    for waiter in rest {
        let err = waiter.await.unwrap().unwrap_err();
        assert!(matches!(err, WriteError::Store(_)), "{err:?}");
        assert!(
            err.to_string().contains("the transaction was lost"),
            "{err}"
        );
    }
    // Nothing of the failed batch landed or was journaled; the writer goes on.
    let revisions: Vec<u64> = s
        .store
        .records()
        .unwrap()
        .iter()
        .map(|r| r.revision)
        .collect();
    assert_eq!(revisions, vec![1, 1, 1, 2], "a, c, doomed, first");
    let after = s
        .writer
        .apply("a".into(), working(1, 3_000), None, None)
        .await
        .unwrap();
    assert!(matches!(after, Applied::Written(_)), "{after:?}");
    assert_eq!(tags(&s.dir.journal()), vec![1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_commits_what_was_handed_over_then_refuses_writes() {
    let s = Setup::new("stop", &["a", "b"]);
    let writer = s.writer.clone();
    let pending = tokio::spawn(async move {
        writer
            .apply("a".into(), working(1, 2_000), None, None)
            .await
    });
    tokio::task::yield_now().await;
    s.writer.stop().await;
    // Handed over before the stop (or refused as stopped if it came after):
    // never lost half way.
    match pending.await.unwrap() {
        Ok(Applied::Written(rec)) => assert_eq!(rec.revision, 2),
        Err(WriteError::Stopped) => {
            assert_eq!(s.store.get(&"a".into()).unwrap().unwrap().revision, 1)
        }
        other => panic!("{other:?}"),
    }
    let err = s
        .writer
        .apply("b".into(), working(1, 3_000), None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, WriteError::Stopped), "{err:?}");
    assert_eq!(s.store.get(&"b".into()).unwrap().unwrap().revision, 1);
    // A second stop is harmless.
    s.writer.stop().await;
}

// ---------------------------------------------------------------- intents --

#[test]
fn intents_upsert_list_and_delete_real_operations() {
    let dir = TempDir::new("intents");
    let store = Store::open(&dir.db()).unwrap();
    assert!(store.intents().unwrap().is_empty());

    let first = store.next_op_id().unwrap();
    let session = store.next_session_id(&"app".into()).unwrap();
    let mut spawn = spawn_op(&first, &session);
    store.put_intent(&spawn).unwrap();
    assert_eq!(store.intents().unwrap(), vec![spawn.clone()]);

    // The driver advances the operation and persists it again: an upsert.
    let Next::Act(_) = spawn.next() else {
        panic!("a fresh spawn acts first")
    };
    spawn.advance(Outcome::Ok);
    store.put_intent(&spawn).unwrap();
    assert_eq!(store.intents().unwrap(), vec![spawn.clone()]);

    // A second operation, of another kind, listed after the first.
    let second = store.next_op_id().unwrap();
    let mut rec = seeded(session.as_str());
    rec.metadata.runtime_handle = Some(h("rt-x"));
    let kill = plan_kill(second.clone(), Some(&rec), KillKind::Manual).unwrap();
    store.put_intent(&kill).unwrap();
    drop(store);

    // Intents survive a restart; recovery resumes them in op-id order.
    let store = Store::open(&dir.db()).unwrap();
    assert_eq!(store.intents().unwrap(), vec![spawn.clone(), kill.clone()]);
    store.delete_intent(&first).unwrap();
    store.delete_intent(&first).unwrap(); // absent is fine
    assert_eq!(store.intents().unwrap(), vec![kill]);
    store.delete_intent(&second).unwrap();
    assert!(store.intents().unwrap().is_empty());
}

#[test]
fn an_intent_row_that_does_not_decode_is_a_typed_error() {
    let dir = TempDir::new("badintent");
    let store = Store::open(&dir.db()).unwrap();
    let op = spawn_op(&"op-1".into(), &"app-1".into());
    store.put_intent(&op).unwrap();
    raw(&dir.db())
        .execute("UPDATE intents SET kind = 'kill'", [])
        .unwrap();
    let err = store.intents().unwrap_err();
    assert!(
        matches!(&err, StoreError::BadValue { table: "intents", column, value, .. } if column == "kind" && value == "kill"),
        "{err}"
    );
    raw(&dir.db())
        .execute("UPDATE intents SET body = '{\"spawn\": 3}'", [])
        .unwrap();
    let err = store.intents().unwrap_err();
    assert!(
        matches!(&err, StoreError::BadValue { table: "intents", row, column, .. } if row == "op-1" && column == "body"),
        "{err}"
    );
}

// ------------------------------------------------------------- migrations --

#[test]
fn a_fresh_file_is_migrated_to_the_latest_version_and_reopening_is_idempotent() {
    let dir = TempDir::new("migrate");
    assert!(!dir.db().parent().unwrap().exists());
    let store = Store::open(&dir.db()).unwrap();
    assert!(dir.db().exists(), "parent directories are created");
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    store.insert(&full_record("app-1")).unwrap();
    drop(store);
    for _ in 0..3 {
        let store = Store::open(&dir.db()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.records().unwrap(), vec![full_record("app-1")]);
    }
    let mode: String = raw(&dir.db())
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_database_from_a_newer_build_is_refused_with_a_clear_error() {
    let dir = TempDir::new("toonew");
    Store::open(&dir.db()).unwrap();
    raw(&dir.db())
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = Store::open(&dir.db()).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, supported, .. } if found == i64::from(SCHEMA_VERSION) + 1 && supported == SCHEMA_VERSION),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("ao.db") && msg.contains("newer"), "{msg}");
    // Refusing touched nothing.
    let version: i64 = raw(&dir.db())
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, i64::from(SCHEMA_VERSION) + 1);
}

#[test]
fn an_unopenable_path_is_a_clear_error() {
    let dir = TempDir::new("blocked");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = Store::open(&file.join("ao.db")).unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

// ------------------------------------------------------------------- ids --

#[test]
fn session_ids_are_per_project_and_never_reused() {
    let dir = TempDir::new("ids");
    let store = Store::open(&dir.db()).unwrap();
    let app = ProjectId::from("app");
    assert_eq!(store.next_session_id(&app).unwrap().as_str(), "app-1");
    assert_eq!(store.next_session_id(&app).unwrap().as_str(), "app-2");
    assert_eq!(
        store.next_session_id(&"web".into()).unwrap().as_str(),
        "web-1"
    );
    // An id some record already holds (inserted by hand) is skipped.
    store.insert(&seeded("app-3")).unwrap();
    assert_eq!(store.next_session_id(&app).unwrap().as_str(), "app-4");
    // A deleted record's id is not handed out again, not even after a restart.
    raw(&dir.db())
        .execute("DELETE FROM sessions WHERE id = 'app-3'", [])
        .unwrap();
    drop(store);
    let store = Store::open(&dir.db()).unwrap();
    assert_eq!(store.next_session_id(&app).unwrap().as_str(), "app-5");
}

#[test]
fn two_stores_never_hand_out_the_same_id() {
    let dir = TempDir::new("ids2");
    let a = Arc::new(Store::open(&dir.db()).unwrap());
    let b = Arc::new(Store::open(&dir.db()).unwrap());
    let threads: Vec<_> = [a, b]
        .into_iter()
        .map(|store| {
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for _ in 0..20 {
                    ids.push(store.next_session_id(&"app".into()).unwrap().0);
                    ids.push(store.next_op_id().unwrap().0);
                }
                ids
            })
        })
        .collect();
    let mut all: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "duplicate ids handed out");
}

// ------------------------------------------------------------ bad rows --

#[test]
fn an_unknown_enum_word_in_a_row_is_a_typed_error_naming_column_and_value() {
    let dir = TempDir::new("badword");
    let store = Store::open(&dir.db()).unwrap();
    store.insert(&full_record("app-1")).unwrap();
    raw(&dir.db())
        .execute(
            "UPDATE sessions SET session_state = 'zombie' WHERE id = 'app-1'",
            [],
        )
        .unwrap();
    let check = |err: StoreError| {
        assert!(
            matches!(&err, StoreError::BadValue { table: "sessions", row, column, value, .. }
                if row == "app-1" && column == "session_state" && value == "zombie"),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("session_state") && msg.contains("zombie"),
            "{msg}"
        );
    };
    check(store.get(&"app-1".into()).unwrap_err());
    check(store.records().unwrap_err());
    check(store.apply(&"app-1".into(), &working(17, 1)).unwrap_err());
}

#[test]
fn other_undecodable_values_are_typed_errors_too() {
    let dir = TempDir::new("badvalues");
    let store = Store::open(&dir.db()).unwrap();
    let conn = raw(&dir.db());
    // (A negative revision or a half-set quarantine is refused by CHECK constraints.)
    let cases = [
        ("UPDATE sessions SET pr_reason = 'ci_flaky' WHERE id = ?1", "pr_reason"),
        ("UPDATE sessions SET activity_at = -5 WHERE id = ?1", "activity_at"),
        (
            "UPDATE sessions SET quarantine_attempts = 4294967296 WHERE id = ?1",
            "quarantine_attempts",
        ),
        (
            "UPDATE sessions SET quarantine_fingerprint = 'xyz' WHERE id = ?1",
            "quarantine_fingerprint",
        ),
        (
            "UPDATE session_metadata SET value = 'later' WHERE session_id = ?1 AND key = 'spawned_at'",
            "spawned_at",
        ),
        (
            "UPDATE reaction_policy SET body = '{\"mapped\": \"nap\"}' WHERE session_id = ?1",
            "body",
        ),
    ];
    let healthy = full_record("healthy");
    store.insert(&healthy).unwrap();
    for (i, (sql, column)) in cases.into_iter().enumerate() {
        let id = format!("bad-{i}");
        store.insert(&full_record(&id)).unwrap();
        assert_eq!(conn.execute(sql, [&id]).unwrap(), 1, "{sql}");
        let err = store.get(&id.as_str().into()).unwrap_err();
        assert!(
            matches!(&err, StoreError::BadValue { row, column: c, .. } if *row == id && c == column),
            "{sql}: {err}"
        );
    }
    // A bad row never poisons the good ones read one by one.
    assert_eq!(store.get(&healthy.id).unwrap(), Some(healthy));
}
