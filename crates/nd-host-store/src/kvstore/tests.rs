//! Unit tests of the KV store: the go-humanize formatting and the store's bookkeeping, driven
//! directly (the JSON side is tested through the fixture plugin in `tests/it/kvstore.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use super::*;
use crate::clock::ManualClock;

#[test]
fn humanize_matches_go_humanize_bytes() {
    // Expected values from go-humanize's own tests and its algorithm.
    let cases = [
        (0, "0 B"),
        (9, "9 B"),
        (10, "10 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1500, "1.5 kB"),
        (9_999, "10 kB"),
        (10_000, "10 kB"),
        (10_500, "10 kB"),
        (11_500, "12 kB"),
        (15_360, "15 kB"),
        (1_048_576, "1.0 MB"),
        (1_000_000, "1.0 MB"),
        (999_999_999, "1000 MB"),
        (5_500_000_000, "5.5 GB"),
    ];
    for (n, want) in cases {
        assert_eq!(humanize_bytes(n), want, "{n}");
    }
}

fn open(dir: &std::path::Path, max: u64) -> (KvStore, std::sync::Arc<ManualClock>) {
    let clock = ManualClock::at_fixed_start();
    let store = KvStore::open(&dir.join("kv.redb"), max, clock.clone()).unwrap();
    (store, clock)
}

#[test]
fn quota_counts_live_values_and_overwrite_deltas() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = open(dir.path(), 100);
    store.set("a", &[1; 60]).unwrap();
    let err = store.set("b", &[2; 41]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "storage limit exceeded: would use 101 B of 100 B allowed"
    );
    // Overwriting a 60-byte value with 100 bytes grows the total by 40 only.
    store.set("a", &[3; 100]).unwrap();
    assert_eq!(store.storage_used().unwrap(), 100);
    // A key whose TTL passed frees its bytes for the quota before any sweep.
    store.set("a", &[4; 10]).unwrap();
    store.set_with_ttl("t", &[5; 90], 5).unwrap();
    assert!(store.set("c", &[6; 1]).is_err());
    clock.advance(Duration::from_secs(5));
    assert_eq!(store.storage_used().unwrap(), 10);
    store.set("c", &[6; 90]).unwrap();
    assert_eq!(store.storage_used().unwrap(), 100);
    // The expired row was still there (not swept yet): replacing it must not double-count.
    store.set("t", &[7; 0]).unwrap();
    assert_eq!(store.storage_used().unwrap(), 100);
    assert_eq!(store.get("t").unwrap(), Some(vec![]));
}

#[test]
fn sweep_runs_hourly_inside_calls_and_keeps_totals_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = open(dir.path(), 1000);
    store.set_with_ttl("p:1", b"abc", 10).unwrap();
    store.set_with_ttl("p:2", b"de", 7200).unwrap();
    store.set("p:3", b"f").unwrap();
    clock.advance(Duration::from_secs(11));
    // Expired but not swept: invisible, yet deletebyprefix would count it. Check through
    // a fresh sweep count instead of deleting.
    assert_eq!(store.list("p:").unwrap(), ["p:2", "p:3"]);
    assert_eq!(store.storage_used().unwrap(), 3);
    clock.advance(Duration::from_secs(3600));
    // This call is the first one an hour after the open-time sweep: it sweeps "p:1".
    assert_eq!(store.storage_used().unwrap(), 3);
    assert_eq!(store.sweep_expired().unwrap(), 0);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(store.sweep_expired().unwrap(), 1);
    assert_eq!(store.storage_used().unwrap(), 1);
    assert_eq!(store.delete_by_prefix("p:").unwrap(), 1);
    assert_eq!(store.storage_used().unwrap(), 0);
}

#[test]
fn validation_errors_carry_navidromes_texts() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), 1000);
    assert_eq!(
        store.set("", b"v").unwrap_err().to_string(),
        "key cannot be empty"
    );
    assert_eq!(
        store.set(&"k".repeat(257), b"v").unwrap_err().to_string(),
        "key exceeds maximum length of 256 bytes"
    );
    store.set(&"k".repeat(256), b"v").unwrap();
    assert_eq!(
        store.set_with_ttl("k", b"v", 0).unwrap_err().to_string(),
        "ttlSeconds must be greater than 0"
    );
    assert_eq!(
        store.delete_by_prefix("").unwrap_err().to_string(),
        "prefix cannot be empty"
    );
}
