//! Per-thread memos of the checker's pure, repeated computations. The same
//! few thousand world configurations and operation steps recur across
//! millions of states:
//! - a slot's world properties depend only on its record, runtimes,
//!   workspace and the number of operations in flight;
//! - an operation's next action, and its advance by an outcome, depend only
//!   on the operation (and the outcome), and operations are large to copy.
//!
//! Keys are 64-bit digests, the same trade-off stateright's own visited set makes.

use super::model::Advanced;
use ao_core::sm::Next;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Entries kept per thread before the memo starts over (bounded memory).
const CAPACITY: usize = 1 << 20;

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
type Table<V> = HashMap<u64, Arc<V>, BuildHasherDefault<Identity>>;

thread_local! {
    static CLEAN: RefCell<Keys> = RefCell::new(Keys::default());
    static NEXT: RefCell<Table<Next>> = RefCell::new(Table::default());
    static ADVANCED: RefCell<Table<Advanced>> = RefCell::new(Table::default());
}

/// The value under `key`, made (outside the borrow, so `make` may use other
/// tables) and kept on a miss.
fn cached<V>(
    table: &'static std::thread::LocalKey<RefCell<Table<V>>>,
    key: u64,
    make: impl FnOnce() -> V,
) -> Arc<V> {
    if let Some(v) = table.with(|t| t.borrow().get(&key).cloned()) {
        return v;
    }
    let v = Arc::new(make());
    table.with(|t| {
        let mut t = t.borrow_mut();
        if t.len() >= CAPACITY {
            t.clear();
        }
        t.insert(key, Arc::clone(&v));
    });
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
        if keys.len() >= CAPACITY {
            keys.clear();
        }
        keys.insert(key);
    });
}
