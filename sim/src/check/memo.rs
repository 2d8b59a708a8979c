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
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Clean world configurations kept per thread before that set starts over.
const CLEAN_CAPACITY: usize = 1 << 20;
/// Entries per generation of a value table (see [`Generations`]).
const GENERATION: usize = 1 << 16;
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

type Keys = HashSet<u64, BuildHasherDefault<Identity>>;
type Map<V> = HashMap<u64, Arc<V>, BuildHasherDefault<Identity>>;

/// A bounded memo that keeps what recurs: lookups see two generations (a
/// hit in the old one is carried into the young one); when the young one
/// fills, it becomes the old one and the previous old one is dropped.
struct Generations<V> {
    young: Map<V>,
    old: Map<V>,
}

impl<V> Default for Generations<V> {
    fn default() -> Self {
        Generations {
            young: Map::default(),
            old: Map::default(),
        }
    }
}

impl<V> Generations<V> {
    fn get(&mut self, key: u64) -> Option<Arc<V>> {
        if let Some(v) = self.young.get(&key) {
            return Some(Arc::clone(v));
        }
        let v = self.old.remove(&key)?;
        self.insert(key, Arc::clone(&v));
        Some(v)
    }

    fn insert(&mut self, key: u64, v: Arc<V>) {
        if self.young.len() >= GENERATION {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, v);
    }
}

type Table<V> = Generations<V>;

thread_local! {
    static CLEAN: RefCell<Keys> = RefCell::new(Keys::default());
    static NEXT: RefCell<Table<Next>> = RefCell::new(Table::default());
    static ADVANCED: RefCell<Table<Advanced>> = RefCell::new(Table::default());
    static FED: RefCell<Table<FedOut>> = RefCell::new(Table::default());
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
    CLEAN.with(|c| c.borrow().contains(&key))
}

/// Remembers that the configuration with digest `key` checked clean.
pub fn remember_clean(key: u64) {
    CLEAN.with(|c| {
        let mut keys = c.borrow_mut();
        if keys.len() >= CLEAN_CAPACITY {
            keys.clear();
        }
        keys.insert(key);
    });
}

/// What feeding an input did to a slot (`key` digests everything it read).
pub fn fed(key: u64, make: impl FnOnce() -> FedOut) -> Arc<FedOut> {
    cached(&FED, key, make)
}
