//! State-service side of `cargo xtask bench`: what a plugin pays for Navidrome's state services,
//! printed as one JSON object like `benches/ndp.rs` of nd-runtime:
//! `{"runtime":"ndp","cases":{"<case>":{"p50_us":..,"p99_us":..,"iters":N}}}`.
//!
//! - `cache_set_get`: one `cache_setstring` + one `cache_getstring` from inside the `cache`
//!   fixture (its `bench` export loops N times; the case is the time per pair);
//! - `kvstore_set_get`: one `kvstore_set` (a durable redb commit) + one `kvstore_get` of a
//!   100-byte value, from inside the `kvstore` fixture, per pair;
//! - `kvstore_set_get_direct`: the same pair through `KvStore`'s Rust API, no plugin: the
//!   floor the plugin path is compared against;
//! - `scheduler_lateness`: 10,000 active schedules on one plugin (8,000 recurring that do not
//!   fire during the run, 2,000 one-time spread over 4 s); the time from each one-time
//!   schedule's due instant to the start of its `nd_scheduler_callback` (p50 and p99).
//!
//! Usage: `cargo bench -p nd-host-sched --bench state -- --fixtures DIR [--rounds N]`, where DIR
//! is `target/fixtures/wasm32-wasip1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use nd_host_sched::scheduler::{FireEvent, SchedulerService};
use nd_host_store::cache::{CacheLimits, CacheService};
use nd_host_store::clock::system_clock;
use nd_host_store::kvstore::{KvStore, KvStoreConfig, KvStoreService};
use nd_runtime::{Plugin, PluginConfig, Runtime};
use nd_testkit::bench::{BenchArgs, IgnoreRecords, percentiles, report};
use parking_lot::Mutex;

/// Times `rounds` calls of `export` with input `n` and returns µs per loop iteration.
fn per_op(plugin: &Plugin, export: &str, n: usize, rounds: usize) -> serde_json::Value {
    let input = n.to_string();
    plugin.call(export, input.as_bytes()).expect("warm-up call");
    let samples = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            plugin.call(export, input.as_bytes()).expect("bench call");
            start.elapsed().as_secs_f64() * 1e6 / n as f64
        })
        .collect();
    percentiles(samples)
}

fn scheduler_lateness(runtime: &Runtime, wasm: &[u8]) -> serde_json::Value {
    let scheduler = Arc::new(SchedulerService::new(system_clock()));
    let mut config = PluginConfig::new("bench-scheduler");
    config.services = vec![scheduler.clone(), Arc::new(IgnoreRecords)];
    let plugin = runtime.load_wasm(wasm, config).expect("load scheduler");
    let lateness = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lateness);
    scheduler.set_observer(Arc::new(move |event: &FireEvent| {
        if !event.recurring {
            let late = event
                .started
                .duration_since(event.due)
                .unwrap_or(Duration::ZERO);
            sink.lock().push(late.as_secs_f64() * 1e6);
        }
    }));
    for i in 0..8_000 {
        // Midnight on January 1st: never during the run.
        scheduler
            .schedule_recurring(&format!("idle-{i}"), "0 0 1 1 *", "idle")
            .expect("recurring");
    }
    let spread = Duration::from_secs(4);
    for i in 0..2_000u32 {
        let delay = Duration::from_millis(200) + spread * i / 2_000;
        scheduler
            .schedule_once(&format!("once-{i}"), delay, "bench")
            .expect("once");
    }
    assert_eq!(scheduler.active_count(), 10_000);
    let deadline = Instant::now() + Duration::from_secs(60);
    while lateness.lock().len() < 2_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    scheduler.wait_idle(Duration::from_secs(10));
    plugin.shutdown();
    let samples = std::mem::take(&mut *lateness.lock());
    assert_eq!(samples.len(), 2_000, "every one-time schedule fired");
    percentiles(samples)
}

fn main() {
    let args = BenchArgs::parse();
    let rounds = args.rounds;
    let runtime = Runtime::new(Default::default()).expect("runtime");
    let data = tempfile::tempdir().expect("temp dir");
    let mut cases = serde_json::Map::new();

    let mut config = PluginConfig::new("bench-cache");
    config.services = vec![Arc::new(CacheService::new(CacheLimits::default()))];
    let cache = runtime
        .load_wasm(&args.wasm("cache"), config)
        .expect("cache");
    cases.insert(
        "cache_set_get".into(),
        per_op(&cache, "bench", 1_000, 30 * rounds),
    );

    let mut config = PluginConfig::new("bench-kvstore");
    config.services = vec![Arc::new(KvStoreService::new(
        KvStoreConfig::new(data.path()).max_size(64 << 20),
    ))];
    let kv = runtime
        .load_wasm(&args.wasm("kvstore"), config)
        .expect("kvstore");
    cases.insert(
        "kvstore_set_get".into(),
        per_op(&kv, "bench", 50, 10 * rounds),
    );

    let store = KvStore::open(&data.path().join("direct.redb"), 64 << 20, system_clock())
        .expect("open store");
    let value = vec![b'v'; 100];
    let samples = (0..500 * rounds)
        .map(|i| {
            let key = format!("k{}", i % 50);
            let start = Instant::now();
            store.set(&key, &value).expect("set");
            let got = store.get(&key).expect("get");
            let elapsed = start.elapsed().as_secs_f64() * 1e6;
            assert!(got.is_some());
            elapsed
        })
        .collect();
    cases.insert("kvstore_set_get_direct".into(), percentiles(samples));

    cases.insert(
        "scheduler_lateness".into(),
        scheduler_lateness(&runtime, &args.wasm("scheduler")),
    );
    report(cases);
}
