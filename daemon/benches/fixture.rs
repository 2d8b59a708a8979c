//! The daemon the bench and the journal-growth example drive: the real
//! driver, store, store writer and journal in a temp data dir, with
//! `sessions` seeded as spawned ten minutes before `clock`'s now.

#![allow(dead_code)]

use ao_core::domain::*;
use ao_core::time::Timestamp;
use ao_daemon::config::DaemonConfig;
use ao_daemon::driver::{Adapters, Clock, Shared};
use ao_daemon::journal::Journal;
use ao_daemon::store::Store;
use std::path::PathBuf;
use std::sync::Arc;

/// The daemon under test, its sessions, and where its files live.
pub struct Fixture {
    /// The daemon's shared state (feed it inputs).
    pub shared: Arc<Shared>,
    /// The seeded sessions.
    pub ids: Vec<SessionId>,
    /// Its data dir (the caller removes it).
    pub dir: PathBuf,
}

impl Fixture {
    /// Starts a daemon in a fresh `ao-<name>-<pid>` temp data dir.
    pub fn start(name: &str, sessions: usize, clock: Arc<dyn Clock>) -> Fixture {
        let dir = std::env::temp_dir().join(format!("ao-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("data dir");
        let config = DaemonConfig {
            data_dir: Some(dir.clone()),
            ..DaemonConfig::default()
        };
        let cfg = config.core().expect("default config resolves");
        let store = Arc::new(Store::open(&dir.join("ao.db")).expect("store"));
        let journal = Journal::open(&dir.join("journal.jsonl")).expect("journal");
        let adapters = Adapters::from_config(&config, &dir).expect("adapters");
        let now = clock.now().0;
        let ids: Vec<SessionId> = (0..sessions)
            .map(|i| SessionId(format!("s{i:04}")))
            .collect();
        for id in &ids {
            let mut rec = SessionRecord::seeded(
                id.clone(),
                ProjectId::from("default"),
                IssueId::from("1"),
                SessionKind::Worker,
                Timestamp(now),
            );
            rec.metadata.runtime_handle = Handle::new(format!("ao-{id}"));
            rec.metadata.workspace_path = Handle::new(format!("/ws/{id}"));
            rec.metadata.runtime_name = "fake".into();
            rec.metadata.spawned_at = Some(Timestamp(now.saturating_sub(600_000)));
            store.insert(&rec).expect("seed");
        }
        let shared = Shared::new(
            cfg,
            config,
            dir.clone(),
            store,
            journal,
            adapters,
            clock,
            "http://127.0.0.1:0".into(),
            ao_daemon::token::Secret::random().expect("random"),
        )
        .expect("the store writer starts");
        Fixture { shared, ids, dir }
    }
}
