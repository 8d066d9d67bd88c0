//! Tests of the kvstore service through its fixture plugin (`fixtures/plugins/kvstore`, whose
//! manifest grants `kvstore` with `maxSize: "10KB"`): the exact wire JSON of the nine
//! functions, Navidrome's key, TTL and quota rules in virtual time, persistence across reloads,
//! isolation between plugins, and (in `durability`) a kill -9 of a writing process.

mod durability;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nd_host_store::clock::{ManualClock, SharedClock};
use nd_host_store::kvstore::{KvStoreConfig, KvStoreService};
use nd_runtime::{Plugin, PluginConfig};
use nd_testkit::{host_call, ok_str};
use serde_json::{Value, json};

/// The quota the fixture's manifest grants (`"10KB"`, go-humanize SI: 10,000 bytes).
fn manifest_max_size() -> u64 {
    nd_testkit::fixture_permissions("kvstore")
        .kvstore
        .expect("the fixture grants kvstore")
        .max_size_or_default()
}

fn service(data_dir: &Path, clock: SharedClock) -> Arc<KvStoreService> {
    Arc::new(KvStoreService::new(
        KvStoreConfig::new(data_dir)
            .max_size(manifest_max_size())
            .clock(clock),
    ))
}

fn load_with(id: &str, service: &Arc<KvStoreService>) -> Plugin {
    let mut config = PluginConfig::new(id);
    config.services.push(Arc::clone(service) as _);
    nd_testkit::load("kvstore", config)
}

/// A fresh data dir, a virtual clock, and the fixture loaded as `id`.
struct Env {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    plugin: Plugin,
}

fn env(id: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_fixed_start();
    let plugin = load_with(id, &service(dir.path(), clock.clone()));
    Env { dir, clock, plugin }
}

fn b64(bytes: &[u8]) -> String {
    nd_runtime::encode_bytes(bytes)
}

/// Sends the raw text `raw` to `function` and returns the raw response text.
fn raw_call(plugin: &Plugin, function: &str, raw: &str) -> String {
    let input = json!({ "fn": function, "raw": raw }).to_string();
    ok_str(plugin, "host", &input)
}

fn parsed(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|e| panic!("{e}: {raw}"))
}

fn set(plugin: &Plugin, key: &str, value: &[u8]) -> Value {
    host_call(
        plugin,
        "kvstore_set",
        json!({ "key": key, "value": b64(value) }),
    )
}

fn used(plugin: &Plugin) -> Value {
    host_call(plugin, "kvstore_getstorageused", json!({}))
}

#[test]
fn every_function_answers_with_navidromes_exact_wire_json() {
    let Env { plugin: p, .. } = env("kv-wire");
    // Empty store: every zero value is left out.
    assert_eq!(host_call(&p, "kvstore_get", json!({"key": "a"})), json!({}));
    assert_eq!(host_call(&p, "kvstore_has", json!({"key": "a"})), json!({}));
    assert_eq!(
        host_call(&p, "kvstore_list", json!({"prefix": ""})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "kvstore_getmany", json!({"keys": ["a", "b"]})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "kvstore_getmany", json!({"keys": []})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "kvstore_deletebyprefix", json!({"prefix": "a"})),
        json!({})
    );
    assert_eq!(used(&p), json!({}));

    // Writes answer `{}`.
    assert_eq!(set(&p, "user:1", b"hello"), json!({}));
    let binary = [0x00, 0x01, 0x02, 0xFF, 0xFE, 0x00, 0x80, 0x7F];
    assert_eq!(set(&p, "user:2", &binary), json!({}));
    assert_eq!(
        host_call(
            &p,
            "kvstore_setwithttl",
            json!({"key": "cfg", "value": b64(b"dark"), "ttlSeconds": 3600})
        ),
        json!({})
    );
    assert_eq!(set(&p, "empty", b""), json!({}));

    assert_eq!(
        host_call(&p, "kvstore_get", json!({"key": "user:1"})),
        json!({"value": "aGVsbG8=", "exists": true})
    );
    assert_eq!(
        host_call(&p, "kvstore_get", json!({"key": "user:2"})),
        json!({"value": "AAEC//4AgH8=", "exists": true})
    );
    // An empty value exists, and its `value` is the empty string, left out by omitempty.
    assert_eq!(
        host_call(&p, "kvstore_get", json!({"key": "empty"})),
        json!({"exists": true})
    );
    assert_eq!(
        host_call(&p, "kvstore_has", json!({"key": "cfg"})),
        json!({"exists": true})
    );
    assert_eq!(
        host_call(
            &p,
            "kvstore_getmany",
            json!({"keys": ["user:1", "nope", "cfg"]})
        ),
        json!({"values": {"user:1": "aGVsbG8=", "cfg": "ZGFyaw=="}})
    );
    assert_eq!(
        host_call(&p, "kvstore_list", json!({"prefix": ""})),
        json!({"keys": ["cfg", "empty", "user:1", "user:2"]})
    );
    assert_eq!(
        host_call(&p, "kvstore_list", json!({"prefix": "user:"})),
        json!({"keys": ["user:1", "user:2"]})
    );
    // Prefixes are literal: `%` and `_` are not wildcards, case matters.
    assert_eq!(set(&p, "test%key", b"1"), json!({}));
    assert_eq!(set(&p, "test_key", b"2"), json!({}));
    assert_eq!(
        host_call(&p, "kvstore_list", json!({"prefix": "test%"})),
        json!({"keys": ["test%key"]})
    );
    assert_eq!(
        host_call(&p, "kvstore_list", json!({"prefix": "USER:"})),
        json!({})
    );
    assert_eq!(used(&p), json!({"bytes": 5 + 8 + 4 + 2}));

    assert_eq!(
        host_call(&p, "kvstore_delete", json!({"key": "user:1"})),
        json!({})
    );
    // Deleting a missing key is not an error.
    assert_eq!(
        host_call(&p, "kvstore_delete", json!({"key": "user:1"})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "kvstore_get", json!({"key": "user:1"})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "kvstore_deletebyprefix", json!({"prefix": "test"})),
        json!({"deletedCount": 2})
    );
    assert_eq!(
        host_call(&p, "kvstore_list", json!({"prefix": ""})),
        json!({"keys": ["cfg", "empty", "user:2"]})
    );
    assert_eq!(used(&p), json!({"bytes": 12}));
}

#[test]
fn key_rules_follow_navidrome() {
    let Env { plugin: p, .. } = env("kv-keys");
    let empty = json!({"error": "key cannot be empty"});
    let long = json!({"error": "key exceeds maximum length of 256 bytes"});
    assert_eq!(set(&p, "", b"v"), empty);
    assert_eq!(
        host_call(
            &p,
            "kvstore_setwithttl",
            json!({"key": "", "value": "dg==", "ttlSeconds": 60})
        ),
        empty
    );
    // A missing key is an empty one.
    assert_eq!(
        host_call(&p, "kvstore_set", json!({"value": "dg=="})),
        empty
    );
    assert_eq!(set(&p, &"a".repeat(257), b"v"), long);
    assert_eq!(set(&p, &"a".repeat(256), b"v"), json!({}));
    // The limit is in bytes: 128 × "é" is 256 bytes, 129 × "é" is 258.
    assert_eq!(set(&p, &"é".repeat(128), b"v"), json!({}));
    assert_eq!(set(&p, &"é".repeat(129), b"v"), long);
    assert_eq!(
        host_call(
            &p,
            "kvstore_setwithttl",
            json!({"key": "k".repeat(300), "value": "dg==", "ttlSeconds": 60})
        ),
        long
    );
    // Reads do not validate keys, as in Go: an empty or overlong key simply is not there.
    assert_eq!(host_call(&p, "kvstore_get", json!({"key": ""})), json!({}));
    assert_eq!(
        host_call(&p, "kvstore_has", json!({"key": "a".repeat(300)})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "kvstore_delete", json!({"key": ""})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "kvstore_list", json!({"prefix": ""})),
        json!({"keys": ["a".repeat(256), "é".repeat(128)]})
    );
    // Failed writes stored nothing.
    assert_eq!(used(&p), json!({"bytes": 2}));
}

#[test]
fn quota_is_the_manifest_max_size_with_overwrite_deltas() {
    assert_eq!(manifest_max_size(), 10_000);
    let Env { plugin: p, .. } = env("kv-quota");
    // Navidrome's own check: 15 KiB into a 10 KB store.
    assert_eq!(
        set(&p, "too_big", &vec![0; 15 * 1024]),
        json!({"error": "storage limit exceeded: would use 15 kB of 10 kB allowed"})
    );
    assert_eq!(set(&p, "a", &vec![1; 6_000]), json!({}));
    assert_eq!(set(&p, "b", &vec![2; 4_000]), json!({}));
    assert_eq!(used(&p), json!({"bytes": 10_000}));
    // Full: one more byte is refused (10,001 bytes humanizes to 10 kB).
    assert_eq!(
        set(&p, "c", b"x"),
        json!({"error": "storage limit exceeded: would use 10 kB of 10 kB allowed"})
    );
    // Overwrites count the difference only: same size passes, one byte more does not.
    assert_eq!(set(&p, "a", &vec![3; 6_000]), json!({}));
    assert_eq!(
        set(&p, "a", &vec![4; 6_001]),
        json!({"error": "storage limit exceeded: would use 10 kB of 10 kB allowed"})
    );
    // The refused overwrite left the old value in place.
    assert_eq!(
        host_call(&p, "kvstore_get", json!({"key": "a"})),
        json!({"value": b64(&[3; 6_000]), "exists": true})
    );
    // Shrinking is always allowed and frees room.
    assert_eq!(set(&p, "a", &vec![5; 5_000]), json!({}));
    assert_eq!(used(&p), json!({"bytes": 9_000}));
    assert_eq!(set(&p, "c", &vec![6; 1_000]), json!({}));
    assert_eq!(used(&p), json!({"bytes": 10_000}));
    // setwithttl is held to the same quota.
    assert_eq!(
        host_call(
            &p,
            "kvstore_setwithttl",
            json!({"key": "d", "value": "eA==", "ttlSeconds": 60})
        ),
        json!({"error": "storage limit exceeded: would use 10 kB of 10 kB allowed"})
    );
    // Deleting frees room.
    assert_eq!(
        host_call(&p, "kvstore_delete", json!({"key": "b"})),
        json!({})
    );
    assert_eq!(used(&p), json!({"bytes": 6_000}));
    assert_eq!(set(&p, "b", &vec![7; 4_000]), json!({}));
    // Keys do not count.
    assert_eq!(
        host_call(&p, "kvstore_deletebyprefix", json!({"prefix": "c"})),
        json!({"deletedCount": 1})
    );
    assert_eq!(set(&p, &"k".repeat(256), &vec![8; 1_000]), json!({}));
    assert_eq!(used(&p), json!({"bytes": 10_000}));
}

#[test]
fn ttl_expires_in_virtual_time() {
    let Env {
        plugin: p, clock, ..
    } = env("kv-ttl");
    for ttl in [json!(0), json!(-5)] {
        assert_eq!(
            host_call(
                &p,
                "kvstore_setwithttl",
                json!({"key": "t", "value": "dg==", "ttlSeconds": ttl})
            ),
            json!({"error": "ttlSeconds must be greater than 0"})
        );
    }
    // Without ttlSeconds at all it is 0, hence refused.
    assert_eq!(
        host_call(
            &p,
            "kvstore_setwithttl",
            json!({"key": "t", "value": "dg=="})
        ),
        json!({"error": "ttlSeconds must be greater than 0"})
    );
    let setttl = |key: &str, value: &[u8], ttl: i64| {
        host_call(
            &p,
            "kvstore_setwithttl",
            json!({"key": key, "value": b64(value), "ttlSeconds": ttl}),
        )
    };
    assert_eq!(setttl("s:short", b"12345", 60), json!({}));
    assert_eq!(setttl("s:long", b"678", 600), json!({}));
    assert_eq!(set(&p, "s:plain", b"90"), json!({}));
    // A plain set on a key with a TTL removes the TTL.
    assert_eq!(setttl("s:cleared", b"x", 60), json!({}));
    assert_eq!(set(&p, "s:cleared", b"y"), json!({}));

    clock.advance(Duration::from_secs(59));
    assert_eq!(
        host_call(&p, "kvstore_get", json!({"key": "s:short"})),
        json!({"value": b64(b"12345"), "exists": true})
    );
    assert_eq!(used(&p), json!({"bytes": 11}));

    // Expired at exactly 60 s.
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        host_call(&p, "kvstore_get", json!({"key": "s:short"})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "kvstore_has", json!({"key": "s:short"})),
        json!({})
    );
    assert_eq!(
        host_call(&p, "kvstore_list", json!({"prefix": "s:"})),
        json!({"keys": ["s:cleared", "s:long", "s:plain"]})
    );
    assert_eq!(
        host_call(
            &p,
            "kvstore_getmany",
            json!({"keys": ["s:short", "s:long"]})
        ),
        json!({"values": {"s:long": b64(b"678")}})
    );
    assert_eq!(used(&p), json!({"bytes": 6}));

    // A new TTL on an existing key replaces the old one.
    assert_eq!(setttl("s:long", b"678", 30), json!({}));
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        host_call(&p, "kvstore_has", json!({"key": "s:long"})),
        json!({})
    );
    assert_eq!(used(&p), json!({"bytes": 3}));

    // Not swept yet (less than an hour since the store was opened): deletebyprefix still
    // finds and counts the two expired keys, as Navidrome's does.
    assert_eq!(
        host_call(&p, "kvstore_deletebyprefix", json!({"prefix": "s:"})),
        json!({"deletedCount": 4})
    );
    assert_eq!(used(&p), json!({}));

    // After the hourly sweep, an expired key is gone for deletebyprefix too.
    assert_eq!(setttl("g:1", b"a", 10), json!({}));
    assert_eq!(setttl("g:2", b"b", 10_000), json!({}));
    clock.advance(Duration::from_secs(3600));
    assert_eq!(used(&p), json!({"bytes": 1}));
    assert_eq!(
        host_call(&p, "kvstore_deletebyprefix", json!({"prefix": "g:"})),
        json!({"deletedCount": 1})
    );
}

#[test]
fn data_survives_reload_and_overlapping_generations_share_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_fixed_start();
    let first_service = service(dir.path(), clock.clone());
    let first = load_with("kv-reload", &first_service);
    assert_eq!(set(&first, "kept", b"across reloads"), json!({}));
    assert_eq!(
        host_call(
            &first,
            "kvstore_setwithttl",
            json!({"key": "ttl", "value": b64(b"t"), "ttlSeconds": 7200})
        ),
        json!({})
    );

    // A reload: the new generation loads while the old one is still alive.
    let second_service = service(dir.path(), clock.clone());
    let second = load_with("kv-reload", &second_service);
    assert_eq!(
        host_call(&second, "kvstore_get", json!({"key": "kept"})),
        json!({"value": b64(b"across reloads"), "exists": true})
    );
    assert_eq!(set(&second, "from-second", b"2"), json!({}));
    assert_eq!(set(&first, "from-first", b"1"), json!({}));
    assert_eq!(
        host_call(&first, "kvstore_list", json!({"prefix": "from-"})),
        json!({"keys": ["from-first", "from-second"]})
    );
    // The old generation goes away; the new one keeps working.
    first.shutdown();
    drop(first);
    drop(first_service);
    assert_eq!(set(&second, "after", b"3"), json!({}));
    second.shutdown();
    drop(second);
    drop(second_service);

    // A restart: everything, TTL included, is still there.
    let third_service = service(dir.path(), clock.clone());
    let third = load_with("kv-reload", &third_service);
    assert_eq!(
        host_call(&third, "kvstore_list", json!({"prefix": ""})),
        json!({"keys": ["after", "from-first", "from-second", "kept", "ttl"]})
    );
    assert_eq!(used(&third), json!({"bytes": 14 + 1 + 1 + 1 + 1}));
    clock.advance(Duration::from_secs(7200));
    assert_eq!(
        host_call(&third, "kvstore_has", json!({"key": "ttl"})),
        json!({})
    );
    assert!(dir.path().join("plugins/kv-reload/kvstore.redb").is_file());
}

#[test]
fn plugins_are_isolated_from_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_fixed_start();
    let a = load_with("kv-iso-a", &service(dir.path(), clock.clone()));
    let b = load_with("kv-iso-b", &service(dir.path(), clock.clone()));
    assert_eq!(set(&a, "shared", b"value1"), json!({}));
    assert_eq!(set(&b, "shared", b"value2"), json!({}));
    assert_eq!(set(&a, "only-a", b"x"), json!({}));
    assert_eq!(
        host_call(&a, "kvstore_get", json!({"key": "shared"})),
        json!({"value": b64(b"value1"), "exists": true})
    );
    assert_eq!(
        host_call(&b, "kvstore_get", json!({"key": "shared"})),
        json!({"value": b64(b"value2"), "exists": true})
    );
    assert_eq!(
        host_call(&b, "kvstore_list", json!({"prefix": ""})),
        json!({"keys": ["shared"]})
    );
    assert_eq!(used(&a), json!({"bytes": 7}));
    assert_eq!(used(&b), json!({"bytes": 6}));
    assert_eq!(
        host_call(&b, "kvstore_deletebyprefix", json!({"prefix": "s"})),
        json!({"deletedCount": 1})
    );
    assert_eq!(
        host_call(&a, "kvstore_has", json!({"key": "shared"})),
        json!({"exists": true})
    );
    for id in ["kv-iso-a", "kv-iso-b"] {
        let file = dir.path().join("plugins").join(id).join("kvstore.redb");
        assert!(file.is_file(), "{}", file.display());
    }
}

#[test]
fn malformed_requests_are_answered_with_errors_and_change_nothing() {
    let Env { plugin: p, .. } = env("kv-malformed");
    assert_eq!(set(&p, "k", b"v"), json!({}));
    let error = |raw: &str| -> String {
        let v: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{raw}");
        v["error"].as_str().unwrap().to_owned()
    };
    let not_json = error(&raw_call(&p, "kvstore_set", "not json"));
    assert!(not_json.starts_with("invalid request: "), "{not_json}");
    assert_eq!(
        error(&raw_call(
            &p,
            "kvstore_set",
            r#"{"key": 5, "value": "dg=="}"#
        )),
        "json: cannot unmarshal number into Go struct field KVStoreSetRequest.key of type string"
    );
    assert_eq!(
        error(&raw_call(
            &p,
            "kvstore_set",
            r#"{"key": "k", "value": [1, 2]}"#
        )),
        "json: cannot unmarshal array into Go struct field KVStoreSetRequest.value of type []uint8"
    );
    assert_eq!(
        error(&raw_call(&p, "kvstore_get", "[1]")),
        "json: cannot unmarshal array into Go value of type host.KVStoreGetRequest"
    );
    assert_eq!(
        error(&raw_call(
            &p,
            "kvstore_setwithttl",
            r#"{"key": "k", "value": "dg==", "ttlSeconds": 1.5}"#
        )),
        "json: cannot unmarshal number 1.5 into Go struct field KVStoreSetWithTTLRequest.ttlSeconds of type int64"
    );
    assert_eq!(
        error(&raw_call(
            &p,
            "kvstore_setwithttl",
            r#"{"key": "k", "value": "dg==", "ttlSeconds": "60"}"#
        )),
        "json: cannot unmarshal string into Go struct field KVStoreSetWithTTLRequest.ttlSeconds of type int64"
    );
    assert_eq!(
        error(&raw_call(&p, "kvstore_getmany", r#"{"keys": "k"}"#)),
        "json: cannot unmarshal string into Go struct field KVStoreGetManyRequest.keys of type []string"
    );
    assert_eq!(
        error(&raw_call(&p, "kvstore_getmany", r#"{"keys": ["k", 1]}"#)),
        "json: cannot unmarshal number into Go struct field KVStoreGetManyRequest.keys of type string"
    );
    assert_eq!(
        error(&raw_call(&p, "kvstore_list", r#"{"prefix": true}"#)),
        "json: cannot unmarshal bool into Go struct field KVStoreListRequest.prefix of type string"
    );
    let bad_b64 = error(&raw_call(
        &p,
        "kvstore_set",
        r#"{"key": "k", "value": "***"}"#,
    ));
    assert!(bad_b64.starts_with("invalid base64"), "{bad_b64}");
    assert_eq!(
        error(&raw_call(&p, "kvstore_deletebyprefix", r#"{"prefix": ""}"#)),
        "prefix cannot be empty"
    );
    assert_eq!(
        error(&raw_call(&p, "kvstore_deletebyprefix", "{}")),
        "prefix cannot be empty"
    );
    // Nothing above changed the store.
    assert_eq!(
        parsed(&raw_call(&p, "kvstore_get", r#"{"key": "k"}"#)),
        json!({"value": "dg==", "exists": true})
    );
    // Go's leniency: field names match case-insensitively, unknown fields are ignored, null is
    // the zero value, and getstorageused does not read its request.
    assert_eq!(
        raw_call(
            &p,
            "kvstore_set",
            r#"{"KEY": "k2", "Value": "dw==", "extra": 1}"#
        ),
        "{}"
    );
    assert_eq!(
        parsed(&raw_call(&p, "kvstore_get", r#"{"Key": "k2"}"#)),
        json!({"value": "dw==", "exists": true})
    );
    assert_eq!(
        raw_call(&p, "kvstore_set", r#"{"key": "k3", "value": null}"#),
        "{}"
    );
    assert_eq!(raw_call(&p, "kvstore_getmany", r#"{"keys": null}"#), "{}");
    assert_eq!(
        raw_call(&p, "kvstore_getstorageused", "[]"),
        r#"{"bytes":2}"#
    );
}

#[test]
fn nd_test_kvstore_export_behaves_like_navidromes_test_plugin() {
    let Env { plugin: p, .. } = env("kv-ndtest");
    let op = |input: Value| -> Value {
        serde_json::from_str(&ok_str(&p, "nd_test_kvstore", &input.to_string())).unwrap()
    };
    let hello = b64(b"hello kvstore");
    assert_eq!(
        op(json!({"operation": "set", "key": "test_key", "value": hello})),
        json!({})
    );
    assert_eq!(
        op(json!({"operation": "get", "key": "test_key"})),
        json!({"value": hello, "exists": true})
    );
    assert_eq!(op(json!({"operation": "get", "key": "nope"})), json!({}));
    assert_eq!(
        op(json!({"operation": "has", "key": "test_key"})),
        json!({"exists": true})
    );
    assert_eq!(op(json!({"operation": "has", "key": "nope"})), json!({}));
    for key in ["prefix:1", "prefix:2", "other:1"] {
        assert_eq!(
            op(json!({"operation": "set", "key": key, "value": b64(b"value")})),
            json!({})
        );
    }
    assert_eq!(
        op(json!({"operation": "list", "prefix": "prefix:"})),
        json!({"keys": ["prefix:1", "prefix:2"]})
    );
    assert_eq!(
        op(json!({"operation": "get_many", "keys": ["prefix:1", "other:1", "missing"]})),
        json!({"values": {"prefix:1": b64(b"value"), "other:1": b64(b"value")}})
    );
    assert_eq!(
        op(json!({"operation": "get_storage_used"})),
        json!({"storage_used": 13 + 15})
    );
    assert_eq!(
        op(
            json!({"operation": "set_with_ttl", "key": "ttl_key", "value": b64(b"tmp"),
                  "ttl_seconds": 1})
        ),
        json!({})
    );
    assert_eq!(
        op(json!({"operation": "set_with_ttl", "key": "ttl_key", "value": b64(b"tmp")})),
        json!({"error": "ttlSeconds must be greater than 0"})
    );
    assert_eq!(
        op(json!({"operation": "delete_by_prefix", "prefix": "prefix:"})),
        json!({"deleted_count": 2})
    );
    assert_eq!(
        op(json!({"operation": "delete", "key": "test_key"})),
        json!({})
    );
    assert_eq!(
        op(json!({"operation": "has", "key": "test_key"})),
        json!({})
    );
    assert_eq!(
        op(json!({"operation": "set", "key": "too_big", "value": b64(&vec![0; 15 * 1024])})),
        json!({"error": "storage limit exceeded: would use 15 kB of 10 kB allowed"})
    );
    assert_eq!(
        op(json!({"operation": "frobnicate"})),
        json!({"error": "unknown operation: frobnicate"})
    );
}

#[test]
fn a_store_that_cannot_be_opened_fails_the_load_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    // The data dir is a file, so `<data>/plugins/<id>` cannot be created.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let svc = service(&blocker, ManualClock::at_fixed_start());
    let mut config = PluginConfig::new("kv-broken");
    config.services.push(svc.clone() as _);
    let err = nd_testkit::runtime()
        .load(&nd_testkit::compiled("kvstore", nd_testkit::WASI), config)
        .expect_err("the load must fail")
        .to_string();
    assert!(err.contains("kv-broken"), "{err}");
    assert!(err.contains(&blocker.display().to_string()), "{err}");
    assert!(svc.store().is_none());
}

#[test]
fn the_service_exposes_its_store_to_rust_code() {
    let e = env("kv-rust");
    let svc = service(e.dir.path(), e.clock.clone());
    let plugin = load_with("kv-rust-2", &svc);
    let store = svc.store().expect("opened at register");
    store.set("from-rust", b"r").unwrap();
    assert_eq!(
        host_call(&plugin, "kvstore_get", json!({"key": "from-rust"})),
        json!({"value": b64(b"r"), "exists": true})
    );
    assert_eq!(store.max_size(), 10_000);
    assert!(store.path().ends_with("plugins/kv-rust-2/kvstore.redb"));
    plugin.shutdown();
    assert!(svc.store().is_none());
}

/// The benchmark loop checks every answer, so it doubles as a test of many durable round trips
/// in one call; with the fixture's 10 KB quota its ten 100-byte keys fit.
#[test]
fn bench_export_round_trips_every_pair() {
    let env = env("kv-bench");
    assert_eq!(ok_str(&env.plugin, "bench", "25"), "ok");
    assert_eq!(used(&env.plugin), json!({"bytes": 1000}));
    assert!(matches!(
        nd_testkit::err(&env.plugin, "bench", "x"),
        nd_runtime::CallErrorKind::PluginError { .. }
    ));
}
