//! Per-call metrics (spec §6.8): every export call made through the manager records
//! `(plugin, export, ok, duration)`; "not implemented" results are not recorded. Also the
//! gate that lets in-flight calls finish before a plugin is unloaded.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nd_capabilities::ExportCaller;
use nd_runtime::{CallError, CallErrorKind, Plugin};
use parking_lot::{Condvar, Mutex};
use serde::Serialize;

/// Upper bounds (milliseconds) of the latency histogram buckets; a last, unbounded bucket
/// follows.
pub const BUCKETS_MS: [f64; 10] = [
    1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0, 30000.0,
];

/// The statistics of one export of one plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallStats {
    /// Plugin id.
    pub plugin: String,
    /// Export name.
    pub export: String,
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Sum of all durations, milliseconds.
    pub total_ms: f64,
    /// Longest call, milliseconds.
    pub max_ms: f64,
    /// Calls per bucket of [`BUCKETS_MS`] (not cumulative), plus the overflow bucket.
    pub buckets: Vec<u64>,
}

impl CallStats {
    /// All recorded calls.
    pub fn calls(&self) -> u64 {
        self.ok + self.failed
    }

    /// Mean duration in milliseconds (0 without calls).
    pub fn mean_ms(&self) -> f64 {
        if self.calls() == 0 {
            0.0
        } else {
            self.total_ms / self.calls() as f64
        }
    }
}

/// The metrics registry shared by every plugin of a manager.
#[derive(Debug, Default)]
pub struct Metrics {
    stats: Mutex<BTreeMap<(String, String), CallStats>>,
}

impl Metrics {
    /// Records one call.
    pub fn record(&self, plugin: &str, export: &str, ok: bool, duration: Duration) {
        let ms = duration.as_secs_f64() * 1000.0;
        let mut stats = self.stats.lock();
        let entry = stats
            .entry((plugin.to_owned(), export.to_owned()))
            .or_insert_with(|| CallStats {
                plugin: plugin.to_owned(),
                export: export.to_owned(),
                buckets: vec![0; BUCKETS_MS.len() + 1],
                ..CallStats::default()
            });
        if ok {
            entry.ok += 1;
        } else {
            entry.failed += 1;
        }
        entry.total_ms += ms;
        entry.max_ms = entry.max_ms.max(ms);
        let bucket = BUCKETS_MS
            .iter()
            .position(|&b| ms <= b)
            .unwrap_or(BUCKETS_MS.len());
        entry.buckets[bucket] += 1;
    }

    /// Every (plugin, export) with at least one recorded call, ordered by plugin then export.
    pub fn snapshot(&self) -> Vec<CallStats> {
        self.stats.lock().values().cloned().collect()
    }

    /// The statistics of one plugin's exports.
    pub fn for_plugin(&self, plugin: &str) -> Vec<CallStats> {
        self.stats
            .lock()
            .values()
            .filter(|s| s.plugin == plugin)
            .cloned()
            .collect()
    }
}

/// Counts the calls running in one loaded plugin and refuses new ones once it closes.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    closed: AtomicBool,
    running: Mutex<usize>,
    idle: Condvar,
}

impl Gate {
    fn enter(&self) -> bool {
        let mut running = self.running.lock();
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        *running += 1;
        true
    }

    fn leave(&self) {
        let mut running = self.running.lock();
        *running = running.saturating_sub(1);
        if *running == 0 {
            self.idle.notify_all();
        }
    }

    /// Calls running now.
    pub(crate) fn running(&self) -> usize {
        *self.running.lock()
    }

    /// Refuses new calls, then waits up to `grace` for running ones; returns how many were
    /// still running when the wait ended.
    pub(crate) fn close(&self, grace: Duration) -> usize {
        let deadline = Instant::now() + grace;
        let mut running = self.running.lock();
        self.closed.store(true, Ordering::Release);
        while *running > 0 {
            if self.idle.wait_until(&mut running, deadline).timed_out() {
                break;
            }
        }
        *running
    }
}

/// A loaded plugin as the capability adapters see it: calls are counted by the gate and
/// recorded in the metrics.
pub(crate) struct MeteredPlugin {
    pub(crate) plugin: Plugin,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) gate: Arc<Gate>,
}

impl ExportCaller for MeteredPlugin {
    fn plugin_id(&self) -> &str {
        self.plugin.id()
    }

    fn has_export(&self, name: &str) -> bool {
        self.plugin.has_export(name)
    }

    fn call(&self, export: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        if !self.gate.enter() {
            return Err(CallError::from_parts(
                self.plugin.id(),
                export,
                CallErrorKind::Instantiate {
                    message: "the plugin is being unloaded".to_owned(),
                },
            ));
        }
        let started = Instant::now();
        let result = self.plugin.call(export, input);
        let elapsed = started.elapsed();
        self.gate.leave();
        match &result {
            Err(e) if *e.kind() == CallErrorKind::NotImplemented => {}
            other => self
                .metrics
                .record(self.plugin.id(), export, other.is_ok(), elapsed),
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_per_export_with_buckets() {
        let m = Metrics::default();
        m.record("p", "a", true, Duration::from_micros(500));
        m.record("p", "a", false, Duration::from_millis(7));
        m.record("q", "b", true, Duration::from_secs(40));
        let all = m.snapshot();
        assert_eq!(all.len(), 2);
        let a = &all[0];
        assert_eq!((a.plugin.as_str(), a.export.as_str()), ("p", "a"));
        assert_eq!((a.ok, a.failed, a.calls()), (1, 1, 2));
        assert_eq!(a.buckets[0], 1);
        assert_eq!(a.buckets[2], 1);
        assert!((a.max_ms - 7.0).abs() < 1e-9);
        assert_eq!(all[1].buckets[BUCKETS_MS.len()], 1);
        assert_eq!(m.for_plugin("q").len(), 1);
    }

    #[test]
    fn gate_waits_for_running_calls_and_refuses_new_ones() {
        let gate = Arc::new(Gate::default());
        assert!(gate.enter());
        let g = Arc::clone(&gate);
        let leaver = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            g.leave();
        });
        assert_eq!(gate.close(Duration::from_secs(10)), 0);
        assert!(!gate.enter());
        leaver.join().ok();
        let stuck = Gate::default();
        assert!(stuck.enter());
        assert_eq!(stuck.close(Duration::from_millis(10)), 1);
    }
}
