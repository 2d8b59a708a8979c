//! The event stream's memory: every session change gets an id
//! (`<boot>-<n>`, so ids from an earlier daemon are never mistaken for
//! ours) and the last [`KEPT`] are kept, so a client that reconnects with
//! `Last-Event-ID` gets what it missed — or is told it cannot, and starts
//! again from a snapshot.

use crate::driver::{SessionEvent, Shared};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::broadcast;

/// How many events are kept for replay.
pub const KEPT: usize = 1024;

/// One event with its id.
#[derive(Clone, Debug)]
pub struct Stamped {
    /// Its sequence number in this daemon's life (from 1).
    pub seq: u64,
    /// What happened.
    pub event: SessionEvent,
}

/// Where a (re)connecting client starts.
#[derive(Debug)]
pub enum Resume {
    /// From a snapshot of now; `seq` is the last event it already reflects.
    Snapshot {
        /// The last event before the snapshot.
        seq: u64,
    },
    /// The events it missed, in order.
    Replay(Vec<Stamped>),
    /// It asked for what is no longer kept (or another daemon's ids): a
    /// snapshot follows the reason.
    Gap {
        /// Why no replay.
        reason: String,
        /// The last event before the snapshot.
        seq: u64,
    },
}

struct Kept {
    last: u64,
    ring: VecDeque<Stamped>,
}

/// Ids and the replay buffer.
pub struct EventLog {
    boot: u64,
    kept: Mutex<Kept>,
    live: broadcast::Sender<Stamped>,
}

impl EventLog {
    /// Starts stamping the driver's session events (`boot` tells this
    /// daemon's ids apart from an earlier one's).
    pub fn start(shared: &Arc<Shared>, boot: u64) -> Arc<EventLog> {
        let (live, _) = broadcast::channel(KEPT);
        let log = Arc::new(EventLog {
            boot,
            kept: Mutex::new(Kept {
                last: 0,
                ring: VecDeque::with_capacity(KEPT),
            }),
            live,
        });
        let mut rx = shared.events.subscribe();
        let pump = log.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(event) => pump.stamp(event),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("event stream: {n} session events were not stamped");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        log
    }

    fn stamp(&self, event: SessionEvent) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.last += 1;
        let stamped = Stamped {
            seq: kept.last,
            event,
        };
        if kept.ring.len() == KEPT {
            kept.ring.pop_front();
        }
        kept.ring.push_back(stamped.clone());
        // Sent under the lock: a client resuming now sees each event once.
        let _ = self.live.send(stamped);
    }

    /// An event's id on the wire.
    pub fn id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.boot)
    }

    /// Where a client with this `Last-Event-ID` starts, and the live events after that.
    pub fn resume(&self, last_event_id: Option<&str>) -> (Resume, broadcast::Receiver<Stamped>) {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let rx = self.live.subscribe();
        let Some(given) = last_event_id else {
            return (Resume::Snapshot { seq: kept.last }, rx);
        };
        let gap = |reason: String| Resume::Gap {
            reason,
            seq: kept.last,
        };
        let seq = given
            .split_once('-')
            .filter(|(boot, _)| *boot == self.boot.to_string())
            .and_then(|(_, n)| n.parse::<u64>().ok());
        let resume = match seq {
            None => gap(format!(
                "cannot replay after `{given}`: not an event of this daemon (it restarted?)"
            )),
            Some(n) if n > kept.last => {
                gap(format!("cannot replay after `{given}`: no such event yet"))
            }
            Some(n)
                if n < kept
                    .ring
                    .front()
                    .map_or(kept.last, |e| e.seq.saturating_sub(1)) =>
            {
                gap(format!(
                    "cannot replay after `{given}`: only the last {KEPT} events are kept"
                ))
            }
            Some(n) => Resume::Replay(kept.ring.iter().filter(|e| e.seq > n).cloned().collect()),
        };
        (resume, rx)
    }
}
