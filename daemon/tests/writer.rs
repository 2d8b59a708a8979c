//! The store writer (group commit) against a real SQLite file and journal:
//! concurrent waiters each get their own write's outcome, only committed
//! writes are journaled, and a batch that fails as a whole fails every one of
//! its waiters with the cause while the writer goes on.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use ao_core::domain::{Fingerprint, IssueId, SessionAxis, SessionKind, SessionReason};
use ao_core::domain::{SessionId, SessionRecord, SessionState};
use ao_core::journal::JournalEntry;
use ao_core::lcm::{Event, Input, Patch, QuarantineChange};
use ao_core::time::Timestamp;
use ao_daemon::journal::{read_journal, Journal, Line};
use ao_daemon::store::{Applied, Store};
use ao_daemon::writer::{StoreWriter, WriteError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A fresh directory under cargo's per-target temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "writer-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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

fn working(expected_revision: u64, at: u64) -> Patch {
    Patch {
        expected_revision,
        at: Timestamp(at),
        session: Some(SessionAxis {
            state: SessionState::Working,
            reason: SessionReason::TaskInProgress,
        }),
        pr: None,
        runtime: None,
        activity: None,
        detecting: QuarantineChange::Leave,
        metadata: None,
        policy: None,
    }
}

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

struct Setup {
    dir: TempDir,
    store: Arc<Store>,
    writer: Arc<StoreWriter>,
}

fn setup(tag: &str, sessions: &[&str]) -> Setup {
    let dir = TempDir::new(tag);
    let store = Arc::new(Store::open(&dir.0.join("ao.db")).unwrap());
    for id in sessions {
        store.insert(&seeded(id)).unwrap();
    }
    let journal = Journal::open(&dir.0.join("journal.jsonl")).unwrap();
    let writer = Arc::new(StoreWriter::start(store.clone(), journal).unwrap());
    Setup { dir, store, writer }
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
    let s = setup("concurrent", &refs);
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
    let mut journaled = tags(&s.dir.0.join("journal.jsonl"));
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
    let s = setup("batchfail", &["first", "a", "doomed", "c"]);
    let db = s.dir.0.join("ao.db");
    let blocker = rusqlite::Connection::open(&db).unwrap();
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
    assert_eq!(tags(&s.dir.0.join("journal.jsonl")), vec![1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_commits_what_was_handed_over_then_refuses_writes() {
    let s = setup("stop", &["a", "b"]);
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
