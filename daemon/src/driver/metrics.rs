//! Counters exported at `/metrics` in the Prometheus text format.

use std::sync::atomic::{AtomicU64, Ordering};

/// Monotonic counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Inputs fed to the core.
    pub inputs: AtomicU64,
    /// Writes committed.
    pub writes: AtomicU64,
    /// Writes rejected as stale (then re-decided).
    pub conflicts: AtomicU64,
    /// Observations about sessions the store does not hold.
    pub stray_observations: AtomicU64,
    /// Messages delivered to agents.
    pub sends: AtomicU64,
    /// Deliveries that failed.
    pub send_failures: AtomicU64,
    /// Notifications delivered.
    pub notifications: AtomicU64,
    /// Notifications that failed.
    pub notification_failures: AtomicU64,
    /// Session-manager operations finished.
    pub operations: AtomicU64,
    /// Agent hook payloads `ao hook` could not use (unknown event, malformed).
    pub hook_rejects: AtomicU64,
}

impl Metrics {
    /// Adds one to a counter.
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, sessions_by_status: &[(String, u64)]) -> String {
        let mut out = String::new();
        let counters = [
            ("ao_inputs_total", "Inputs fed to the core.", &self.inputs),
            ("ao_writes_total", "Writes committed.", &self.writes),
            (
                "ao_conflicts_total",
                "Stale writes re-decided.",
                &self.conflicts,
            ),
            (
                "ao_stray_observations_total",
                "Observations about unknown sessions.",
                &self.stray_observations,
            ),
            (
                "ao_sends_total",
                "Messages delivered to agents.",
                &self.sends,
            ),
            (
                "ao_send_failures_total",
                "Deliveries that failed.",
                &self.send_failures,
            ),
            (
                "ao_notifications_total",
                "Notifications delivered.",
                &self.notifications,
            ),
            (
                "ao_notification_failures_total",
                "Notifications that failed.",
                &self.notification_failures,
            ),
            (
                "ao_operations_total",
                "Session-manager operations finished.",
                &self.operations,
            ),
            (
                "ao_hook_rejects_total",
                "Agent hook payloads that named an unknown event or were malformed.",
                &self.hook_rejects,
            ),
        ];
        for (name, help, c) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                c.load(Ordering::Relaxed)
            ));
        }
        out.push_str("# HELP ao_sessions Sessions by display status.\n# TYPE ao_sessions gauge\n");
        for (status, n) in sessions_by_status {
            out.push_str(&format!("ao_sessions{{status=\"{status}\"}} {n}\n"));
        }
        out
    }
}
