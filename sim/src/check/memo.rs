//! Per-thread memos of the checker's pure, repeated computations. The same
//! few thousand world configurations and operation steps recur across
//! millions of states:
//! - a slot's world properties depend only on its record, runtimes,
//!   workspace and the number of operations in flight;
//! - an operation's next action, and its advance by an outcome, depend only
//!   on the operation (and the outcome), and operations are large to copy;
//! - feeding an input depends only on the slot's record, ghost counters and
//!   pending send, the clock and the event (the core's step is pure).
//!
//! Keys are 64-bit digests, the same trade-off stateright's own visited set makes.

use super::model::{Advanced, FedOut};
use ao_core::sm::Next;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Entries per generation of a table of values (see [`Generations`]).
const GENERATION: usize = 1 << 16;
/// Entries per generation of the clean-world keys (8 bytes each, so more).
const CLEAN_GENERATION: usize = 1 << 19;

/// A hasher for keys that are already digests.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map<V> = HashMap<u64, V, BuildHasherDefault<Identity>>;

/// A bounded memo that keeps what recurs: lookups see two generations (a
/// hit in the old one is carried into the young one); when the young one
/// fills, it becomes the old one and the previous old one is dropped.
struct Generations<V> {
    young: Map<V>,
    old: Map<V>,
    size: usize,
}

impl<V: Clone> Generations<V> {
    fn new(size: usize) -> Self {
        Generations {
            young: Map::default(),
            old: Map::default(),
            size,
        }
    }

    fn get(&mut self, key: u64) -> Option<V> {
        if let Some(v) = self.young.get(&key) {
            return Some(v.clone());
        }
        let v = self.old.remove(&key)?;
        self.insert(key, v.clone());
        Some(v)
    }

    fn insert(&mut self, key: u64, v: V) {
        if self.young.len() >= self.size {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, v);
    }
}

type Table<V> = Generations<Arc<V>>;

thread_local! {
    static CLEAN: RefCell<Generations<()>> = RefCell::new(Generations::new(CLEAN_GENERATION));
    static NEXT: RefCell<Table<Next>> = RefCell::new(Table::new(GENERATION));
    static ADVANCED: RefCell<Table<Advanced>> = RefCell::new(Table::new(GENERATION));
    static FED: RefCell<Table<FedOut>> = RefCell::new(Table::new(GENERATION));
}

/// The value under `key`, made (outside the borrow, so `make` may use other
/// tables) and kept on a miss.
fn cached<V>(
    table: &'static std::thread::LocalKey<RefCell<Table<V>>>,
    key: u64,
    make: impl FnOnce() -> V,
) -> Arc<V> {
    if let Some(v) = table.with(|t| t.borrow_mut().get(key)) {
        return v;
    }
    let v = Arc::new(make());
    table.with(|t| t.borrow_mut().insert(key, Arc::clone(&v)));
    v
}

/// The next action of the operation with digest `key`.
pub fn next_of(key: u64, make: impl FnOnce() -> Next) -> Arc<Next> {
    cached(&NEXT, key, make)
}

/// An operation advanced by an outcome (`key` digests both).
pub fn advanced(key: u64, make: impl FnOnce() -> Advanced) -> Arc<Advanced> {
    cached(&ADVANCED, key, make)
}

/// Whether the configuration with digest `key` was already checked clean on this thread.
pub fn known_clean(key: u64) -> bool {
    CLEAN.with(|c| c.borrow_mut().get(key).is_some())
}

/// Remembers that the configuration with digest `key` checked clean.
pub fn remember_clean(key: u64) {
    CLEAN.with(|c| c.borrow_mut().insert(key, ()));
}

/// What feeding an input did to a slot (`key` digests everything it read).
pub fn fed(key: u64, make: impl FnOnce() -> FedOut) -> Arc<FedOut> {
    cached(&FED, key, make)
}
