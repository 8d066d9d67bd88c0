//! Tests of the cache service through its fixture plugin (`fixtures/plugins/cache`), over the
//! real ABI: the `host` export forwards a request to one `cache_*` import and hands back the
//! raw response, `nd_test_cache` is the port of Navidrome's test-cache-plugin.

use std::sync::Arc;
use std::time::Duration;

use nd_host_store::cache::{CacheLimits, CacheService, CacheStats, DEFAULT_TTL};
use nd_host_store::clock::ManualClock;
use nd_runtime::{Plugin, PluginConfig};
use nd_testkit::{WASI, compiled, fixture_permissions, host_call, load, ok_str, runtime};
use serde_json::{Value, json};

const FIXTURE: &str = "cache";

/// The fixture loaded as plugin `id` with its own cache, on a manual clock.
fn plugin_with(id: &str, limits: CacheLimits) -> (Plugin, Arc<CacheService>, Arc<ManualClock>) {
    let clock = ManualClock::at_fixed_start();
    let cache = Arc::new(CacheService::with_clock(limits, clock.clone()));
    let mut config = PluginConfig::new(id);
    config.services.push(cache.clone());
    (load(FIXTURE, config), cache, clock)
}

fn plugin() -> (Plugin, Arc<CacheService>, Arc<ManualClock>) {
    plugin_with("cache-test", CacheLimits::default())
}

/// Sends `raw` verbatim as the request of `function`; returns the raw response text.
fn raw_call(plugin: &Plugin, function: &str, raw: &str) -> String {
    let input = json!({ "fn": function, "raw": raw }).to_string();
    ok_str(plugin, "host", &input)
}

/// One operation of `nd_test_cache`, output parsed.
fn test_op(plugin: &Plugin, input: Value) -> Value {
    let out = ok_str(plugin, "nd_test_cache", &input.to_string());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn set(plugin: &Plugin, function: &str, key: &str, value: Value, ttl: i64) -> Value {
    host_call(
        plugin,
        function,
        json!({ "key": key, "value": value, "ttlSeconds": ttl }),
    )
}

fn has(plugin: &Plugin, key: &str) -> bool {
    match host_call(plugin, "cache_has", json!({ "key": key })) {
        v if v == json!({}) => false,
        v if v == json!({ "exists": true }) => true,
        other => panic!("cache_has answered {other}"),
    }
}

#[test]
fn the_fixture_manifest_grants_cache() {
    assert!(fixture_permissions(FIXTURE).cache.is_some());
}

#[test]
fn every_function_speaks_navidromes_wire_json() {
    let (p, _, _) = plugin();
    // Setters answer `{}`.
    assert_eq!(
        set(&p, "cache_setstring", "s", json!("hello"), 0),
        json!({})
    );
    assert_eq!(set(&p, "cache_setint", "i", json!(-42), 60), json!({}));
    assert_eq!(set(&p, "cache_setfloat", "f", json!(2.5), 60), json!({}));
    assert_eq!(set(&p, "cache_setfloat", "f3", json!(3), 60), json!({}));
    assert_eq!(
        set(&p, "cache_setbytes", "b", json!("AAEC/w=="), 60),
        json!({})
    );
    // Getters of present keys.
    let get = |f: &str, k: &str| host_call(&p, f, json!({ "key": k }));
    assert_eq!(
        get("cache_getstring", "s"),
        json!({"value": "hello", "exists": true})
    );
    assert_eq!(
        get("cache_getint", "i"),
        json!({"value": -42, "exists": true})
    );
    assert_eq!(
        get("cache_getfloat", "f"),
        json!({"value": 2.5, "exists": true})
    );
    // An integral float is written the way Go writes it: `3`, not `3.0`.
    let text = raw_call(&p, "cache_getfloat", r#"{"key":"f3"}"#);
    assert!(
        text.contains(r#""value":3"#) && !text.contains("3.0"),
        "{text}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"value": 3, "exists": true})
    );
    assert_eq!(
        get("cache_getbytes", "b"),
        json!({"value": "AAEC/w==", "exists": true})
    );
    // Missing keys: `{}`, never `{"exists":false}`.
    for f in [
        "cache_getstring",
        "cache_getint",
        "cache_getfloat",
        "cache_getbytes",
        "cache_has",
    ] {
        assert_eq!(raw_call(&p, f, r#"{"key":"nope"}"#), "{}", "{f}");
    }
    // Typed values: a get of another type reads as absent.
    assert_eq!(get("cache_getint", "s"), json!({}));
    assert_eq!(get("cache_getstring", "i"), json!({}));
    assert_eq!(get("cache_getint", "f"), json!({}));
    assert_eq!(get("cache_getstring", "b"), json!({}));
    assert_eq!(get("cache_getbytes", "s"), json!({}));
    assert_eq!(get("cache_getfloat", "i"), json!({}));
    // `has` sees every type.
    for k in ["s", "i", "f", "b"] {
        assert!(has(&p, k), "{k}");
    }
    // Remove, also of a missing key, answers `{}`.
    assert_eq!(raw_call(&p, "cache_remove", r#"{"key":"s"}"#), "{}");
    assert_eq!(raw_call(&p, "cache_remove", r#"{"key":"s"}"#), "{}");
    assert_eq!(raw_call(&p, "cache_remove", r#"{"key":"never"}"#), "{}");
    assert!(!has(&p, "s"));
    assert_eq!(get("cache_getstring", "s"), json!({}));
}

#[test]
fn zero_values_are_present_but_omitted_like_go_omitempty() {
    let (p, _, _) = plugin();
    set(&p, "cache_setstring", "s", json!(""), 0);
    set(&p, "cache_setint", "i", json!(0), 0);
    set(&p, "cache_setfloat", "f", json!(0.0), 0);
    set(&p, "cache_setbytes", "b", json!(""), 0);
    set(&p, "cache_setbytes", "n", Value::Null, 0);
    for (f, k) in [
        ("cache_getstring", "s"),
        ("cache_getint", "i"),
        ("cache_getfloat", "f"),
        ("cache_getbytes", "b"),
        ("cache_getbytes", "n"),
    ] {
        assert_eq!(
            raw_call(&p, f, &json!({ "key": k }).to_string()),
            r#"{"exists":true}"#,
            "{f}"
        );
    }
    // A set without a value stores the zero value, as Go decodes a missing field.
    assert_eq!(
        host_call(&p, "cache_setint", json!({"key": "z"})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "cache_getint", json!({"key": "z"})),
        json!({"exists": true})
    );
    // The empty key is a key like any other.
    set(&p, "cache_setstring", "", json!("empty key"), 0);
    assert_eq!(
        host_call(&p, "cache_getstring", json!({"key": ""})),
        json!({"value": "empty key", "exists": true})
    );
    // Large int64 values survive exactly.
    set(&p, "cache_setint", "max", json!(i64::MAX), 0);
    set(&p, "cache_setint", "min", json!(i64::MIN), 0);
    assert_eq!(
        host_call(&p, "cache_getint", json!({"key": "max"})),
        json!({"value": i64::MAX, "exists": true})
    );
    assert_eq!(
        host_call(&p, "cache_getint", json!({"key": "min"})),
        json!({"value": i64::MIN, "exists": true})
    );
}

#[test]
fn field_names_match_case_insensitively_like_go() {
    let (p, _, clock) = plugin();
    assert_eq!(
        host_call(
            &p,
            "cache_setstring",
            json!({"Key": "k", "VALUE": "v", "TTLSeconds": 5, "unknown": [1, 2]})
        ),
        json!({})
    );
    assert_eq!(
        host_call(&p, "cache_getstring", json!({"KEY": "k"})),
        json!({"value": "v", "exists": true})
    );
    clock.advance(Duration::from_secs(6));
    assert!(!has(&p, "k"), "TTLSeconds was read as ttlSeconds");
    // `ttl_seconds` is not `ttlSeconds` for Go either: the default TTL applies.
    host_call(
        &p,
        "cache_setstring",
        json!({"key": "k", "value": "v", "ttl_seconds": 5}),
    );
    clock.advance(Duration::from_secs(3600));
    assert!(has(&p, "k"));
}

#[test]
fn malformed_requests_get_an_error_and_change_nothing() {
    let (p, cache, _) = plugin();
    set(&p, "cache_setint", "k", json!(1), 0);
    let error = |text: &str| -> String {
        let v: Value = serde_json::from_str(text).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 1, "{text}");
        obj["error"].as_str().unwrap().to_owned()
    };
    let e = error(&raw_call(&p, "cache_setint", "{not json"));
    assert!(e.starts_with("invalid request"), "{e}");
    let e = error(&raw_call(&p, "cache_getstring", "[1,2]"));
    assert_eq!(
        e,
        "json: cannot unmarshal array into Go value of type host.CacheGetStringRequest"
    );
    let e = error(&raw_call(&p, "cache_setint", r#"{"key":"k","value":"2"}"#));
    assert_eq!(
        e,
        "json: cannot unmarshal string into Go struct field CacheSetIntRequest.value of type int64"
    );
    let e = error(&raw_call(&p, "cache_setint", r#"{"key":"k","value":2.5}"#));
    assert_eq!(
        e,
        "json: cannot unmarshal number 2.5 into Go struct field CacheSetIntRequest.value of type int64"
    );
    let e = error(&raw_call(
        &p,
        "cache_setstring",
        r#"{"key":"k","value":"v","ttlSeconds":"60"}"#,
    ));
    assert!(
        e.contains("CacheSetStringRequest.ttlSeconds of type int64"),
        "{e}"
    );
    let e = error(&raw_call(&p, "cache_has", r#"{"key":7}"#));
    assert!(e.contains("CacheHasRequest.key of type string"), "{e}");
    let e = error(&raw_call(
        &p,
        "cache_setbytes",
        r#"{"key":"k","value":"***"}"#,
    ));
    assert!(e.contains("base64"), "{e}");
    let e = error(&raw_call(
        &p,
        "cache_setbytes",
        r#"{"key":"k","value":[1,2]}"#,
    ));
    assert!(e.contains("of type []uint8"), "{e}");
    // Nothing above touched the stored value.
    assert_eq!(
        host_call(&p, "cache_getint", json!({"key": "k"})),
        json!({"value": 1, "exists": true})
    );
    assert_eq!(cache.stats().entries, 1);
    // An empty request block reads as `{}`: the empty key, absent.
    assert_eq!(raw_call(&p, "cache_getstring", ""), "{}");
}

#[test]
fn entries_expire_on_the_injected_clock() {
    let (p, cache, clock) = plugin();
    set(&p, "cache_setstring", "short", json!("v"), 10);
    set(&p, "cache_setstring", "default", json!("v"), 0);
    set(&p, "cache_setstring", "negative", json!("v"), -5);
    clock.advance(Duration::from_secs(10));
    // At exactly its expiry an entry is still there (ttlcache expires strictly after).
    assert_eq!(
        host_call(&p, "cache_getstring", json!({"key": "short"})),
        json!({"value": "v", "exists": true})
    );
    // That read restarted its TTL (touch on hit, as in Navidrome): 10 s from now.
    clock.advance(Duration::from_secs(10) + Duration::from_millis(1));
    assert!(!has(&p, "short"));
    assert_eq!(
        host_call(&p, "cache_getstring", json!({"key": "short"})),
        json!({})
    );
    // ttlSeconds <= 0 is the 24 h default.
    clock.advance(DEFAULT_TTL - Duration::from_secs(21));
    assert!(has(&p, "default"));
    assert!(has(&p, "negative"));
    clock.advance(DEFAULT_TTL + Duration::from_secs(1));
    assert!(!has(&p, "default"));
    assert!(!has(&p, "negative"));
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.bytes, stats.expired), (0, 0, 3));
    assert_eq!(stats.evictions, 0);
}

#[test]
fn an_untouched_entry_expires_after_exactly_its_ttl() {
    let (p, cache, clock) = plugin();
    set(&p, "cache_setbytes", "k", json!("AQID"), 30);
    set(&p, "cache_setint", "day", json!(1), 0);
    clock.advance(Duration::from_secs(31));
    assert_eq!(
        host_call(&p, "cache_getbytes", json!({"key": "k"})),
        json!({})
    );
    // `stats` drops what has expired, so it counts live entries only.
    assert_eq!(cache.stats().entries, 1);
    clock.advance(DEFAULT_TTL);
    assert_eq!(cache.stats().entries, 0);
    assert_eq!(cache.stats().expired, 2);
}

#[test]
fn each_plugin_has_its_own_cache() {
    let (a, cache_a, _) = plugin_with("plugin-a", CacheLimits::default());
    let (b, cache_b, _) = plugin_with("plugin-b", CacheLimits::default());
    set(&a, "cache_setstring", "shared-name", json!("from a"), 0);
    set(&b, "cache_setstring", "shared-name", json!("from b"), 0);
    set(&a, "cache_setint", "only-a", json!(1), 0);
    assert_eq!(
        host_call(&a, "cache_getstring", json!({"key": "shared-name"})),
        json!({"value": "from a", "exists": true})
    );
    assert_eq!(
        host_call(&b, "cache_getstring", json!({"key": "shared-name"})),
        json!({"value": "from b", "exists": true})
    );
    assert!(!has(&b, "only-a"));
    host_call(&a, "cache_remove", json!({"key": "shared-name"}));
    assert!(has(&b, "shared-name"));
    assert_eq!(cache_a.stats().entries, 1);
    assert_eq!(cache_b.stats().entries, 1);
}

#[test]
fn one_service_cannot_serve_two_plugins() {
    let (first, cache, _) = plugin_with("first", CacheLimits::default());
    set(&first, "cache_setstring", "k", json!("v"), 0);
    let mut config = PluginConfig::new("second");
    config.services.push(cache.clone());
    let Err(err) = runtime().load(&compiled(FIXTURE, WASI), config) else {
        panic!("a shared cache must be refused");
    };
    let message = err.to_string();
    assert!(message.contains("needs its own CacheService"), "{message}");
    // The refusal left the first plugin's cache alone.
    assert!(has(&first, "k"));
}

#[test]
fn the_least_recently_used_entry_is_evicted_at_the_entry_bound() {
    let (p, cache, _) = plugin_with(
        "lru-entries",
        CacheLimits {
            max_entries: 3,
            max_bytes: 0,
        },
    );
    for k in ["a", "b", "c"] {
        set(&p, "cache_setint", k, json!(1), 0);
    }
    // A get, even of another type, and `has` count as use: `b` becomes the oldest.
    host_call(&p, "cache_getstring", json!({"key": "a"}));
    set(&p, "cache_setint", "d", json!(1), 0);
    assert!(!has(&p, "b"));
    assert!(has(&p, "c"));
    set(&p, "cache_setint", "e", json!(1), 0);
    assert!(!has(&p, "a"));
    assert!(has(&p, "c") && has(&p, "d") && has(&p, "e"));
    // Overwriting a key does not evict anything.
    set(&p, "cache_setint", "e", json!(2), 0);
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.evictions, stats.expired), (3, 2, 0));
}

#[test]
fn the_least_recently_used_entries_are_evicted_at_the_byte_bound() {
    let (p, cache, _) = plugin_with(
        "lru-bytes",
        CacheLimits {
            max_entries: 0,
            max_bytes: 30,
        },
    );
    // Key + value: 1 + 9 = 10 bytes each.
    for k in ["a", "b", "c"] {
        set(&p, "cache_setstring", k, json!("123456789"), 0);
    }
    assert_eq!(cache.stats().bytes, 30);
    assert!(has(&p, "a"));
    // 1 + 19 = 20 bytes: `b` and `c` (least recently used) must go.
    set(&p, "cache_setstring", "d", json!("1234567890123456789"), 0);
    assert!(has(&p, "a") && has(&p, "d"));
    assert!(!has(&p, "b") && !has(&p, "c"));
    // Ints count 8 bytes: 1 + 8 = 9, which evicts `a` (10 bytes).
    set(&p, "cache_setint", "i", json!(7), 0);
    assert!(!has(&p, "a"));
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.bytes, stats.evictions), (2, 29, 3));
}

#[test]
fn a_value_larger_than_the_whole_cache_is_refused_and_keeps_the_old_one() {
    let (p, cache, _) = plugin_with(
        "oversized",
        CacheLimits {
            max_entries: 0,
            max_bytes: 16,
        },
    );
    set(&p, "cache_setstring", "k", json!("small"), 0);
    set(&p, "cache_setstring", "other", json!("x"), 0);
    let answer = set(
        &p,
        "cache_setstring",
        "k",
        json!("far too large a value"),
        0,
    );
    let message = answer["error"].as_str().expect("an error").to_owned();
    assert_eq!(
        message,
        "cache entry too large: key and value take 22 bytes, the plugin's cache holds at most 16"
    );
    assert_eq!(
        host_call(&p, "cache_getstring", json!({"key": "k"})),
        json!({"value": "small", "exists": true})
    );
    assert!(has(&p, "other"));
    // Exactly at the bound is fine (and evicts the rest).
    assert_eq!(
        set(&p, "cache_setbytes", "b", json!("AAAAAAAAAAAAAAAAAAAA"), 0),
        json!({})
    );
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.bytes, stats.evictions), (1, 16, 2));
    // Through the PDK-style export the error reaches the plugin as a failure.
    let out = test_op(
        &p,
        json!({"operation": "set_bytes", "key": "big", "bytes_val": "AAAAAAAAAAAAAAAAAAAAAAAA"}),
    );
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .starts_with("cache entry too large")
    );
}

#[test]
fn hits_and_misses_are_counted() {
    let (p, cache, _) = plugin();
    set(&p, "cache_setstring", "s", json!("v"), 0);
    host_call(&p, "cache_getstring", json!({"key": "s"})); // hit
    host_call(&p, "cache_getint", json!({"key": "s"})); // miss: another type
    host_call(&p, "cache_has", json!({"key": "s"})); // hit
    host_call(&p, "cache_has", json!({"key": "x"})); // miss
    host_call(&p, "cache_remove", json!({"key": "s"})); // neither
    let stats = cache.stats();
    assert_eq!(
        stats,
        CacheStats {
            entries: 0,
            bytes: 0,
            evictions: 0,
            expired: 0,
            hits: 2,
            misses: 2,
        }
    );
}

#[test]
fn concurrent_calls_of_one_plugin_share_one_consistent_cache() {
    let (p, cache, _) = plugin();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let p = p.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let key = format!("t{t}-{i}");
                    assert_eq!(set(&p, "cache_setint", &key, json!(i), 0), json!({}));
                    assert_eq!(
                        host_call(&p, "cache_getint", json!({ "key": key })),
                        if i == 0 {
                            json!({"exists": true})
                        } else {
                            json!({"value": i, "exists": true})
                        }
                    );
                    set(&p, "cache_setint", "common", json!(t), 0);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = cache.stats();
    assert_eq!(stats.entries, 4 * 25 + 1);
    // Every key is 4 to 6 bytes long plus an 8-byte int.
    let expected: u64 = (0..4)
        .flat_map(|t| (0..25).map(move |i| format!("t{t}-{i}").len() as u64 + 8))
        .sum::<u64>()
        + "common".len() as u64
        + 8;
    assert_eq!(stats.bytes, expected);
    let common = host_call(&p, "cache_getint", json!({"key": "common"}));
    assert_eq!(common["exists"], json!(true), "{common}");
    let last = common.get("value").and_then(Value::as_i64).unwrap_or(0);
    assert!((0..4).contains(&last), "{common}");
}

#[test]
fn shutdown_clears_the_cache() {
    let (p, cache, _) = plugin();
    set(&p, "cache_setstring", "k", json!("v"), 0);
    set(&p, "cache_setbytes", "b", json!("AQID"), 0);
    assert_eq!(cache.stats().entries, 2);
    p.shutdown();
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.bytes), (0, 0));
    // The same plugin id loaded again with the same service starts empty.
    let mut config = PluginConfig::new("cache-test");
    config.services.push(cache.clone());
    let again = load(FIXTURE, config);
    assert!(!has(&again, "k"));
}

#[test]
fn nd_test_cache_covers_every_operation_like_navidromes_test_plugin() {
    let (p, _, clock) = plugin();
    let ok = json!({});
    let op = |input: Value| test_op(&p, input);
    assert_eq!(
        op(json!({"operation": "set_string", "key": "s", "string_val": "hi", "ttl_seconds": 5})),
        ok
    );
    assert_eq!(
        op(json!({"operation": "get_string", "key": "s"})),
        json!({"string_val": "hi", "exists": true})
    );
    assert_eq!(
        op(json!({"operation": "set_int", "key": "i", "int_val": 42})),
        ok
    );
    assert_eq!(
        op(json!({"operation": "get_int", "key": "i"})),
        json!({"int_val": 42, "exists": true})
    );
    assert_eq!(
        op(json!({"operation": "set_float", "key": "f", "float_val": 1.25})),
        ok
    );
    assert_eq!(
        op(json!({"operation": "get_float", "key": "f"})),
        json!({"float_val": 1.25, "exists": true})
    );
    assert_eq!(
        op(json!({"operation": "set_bytes", "key": "b", "bytes_val": "aGVsbG8="})),
        ok
    );
    assert_eq!(
        op(json!({"operation": "get_bytes", "key": "b"})),
        json!({"bytes_val": "aGVsbG8=", "exists": true})
    );
    assert_eq!(
        op(json!({"operation": "has", "key": "b"})),
        json!({"exists": true})
    );
    assert_eq!(op(json!({"operation": "remove", "key": "b"})), ok);
    assert_eq!(op(json!({"operation": "has", "key": "b"})), ok);
    assert_eq!(op(json!({"operation": "get_bytes", "key": "b"})), ok);
    assert_eq!(op(json!({"operation": "get_int", "key": "s"})), ok);
    clock.advance(Duration::from_secs(6));
    assert_eq!(op(json!({"operation": "get_string", "key": "s"})), ok);
    assert_eq!(
        op(json!({"operation": "explode"})),
        json!({"error": "unknown operation: explode"})
    );
    let bad = op(json!({"operation": "set_int", "key": "i", "int_val": "x"}));
    assert_eq!(
        bad,
        json!({"error": "json: cannot unmarshal string into Go struct field CacheSetIntRequest.value of type int64"})
    );
}

/// The benchmark loop reads back every value it sets, so it doubles as a test of many
/// round trips in one call.
#[test]
fn bench_export_round_trips_every_pair() {
    let (plugin, cache, _clock) = plugin();
    assert_eq!(ok_str(&plugin, "bench", "250"), "ok");
    let stats = cache.stats();
    assert_eq!(stats.entries, 100, "{stats:?}");
    assert_eq!(stats.hits, 250, "{stats:?}");
    assert!(matches!(
        nd_testkit::err(&plugin, "bench", "many"),
        nd_runtime::CallErrorKind::PluginError { .. }
    ));
}
