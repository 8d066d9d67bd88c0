//! `config_get`, `config_getint` and `config_keys` (spec §3.1) over the plugin's own map.

use std::collections::BTreeMap;

use nd_testkit::{TARGETS, load_target};
use serde_json::json;

use crate::support::*;

fn config() -> BTreeMap<String, String> {
    [
        ("a.one", "1"),
        ("a.two", "two"),
        ("a.zero", "0"),
        ("b", "-42"),
        ("big", "9223372036854775808"),
        ("empty", ""),
        ("plus", "+7"),
        ("spaced", " 5"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[test]
fn get_answers_value_and_exists_with_omitempty() {
    let world = World::new();
    for target in TARGETS {
        let p = load_target(
            FIXTURE,
            target,
            world.config("config-get", nothing(), false, config()),
        );
        assert_eq!(
            call(&p, "config_get", json!({"key": "a.two"})),
            json!({"value": "two", "exists": true}),
            "{target}"
        );
        assert_eq!(call(&p, "config_get", json!({"key": "missing"})), json!({}));
        assert_eq!(
            call(&p, "config_get", json!({"key": "empty"})),
            json!({"exists": true}),
            "an empty value is omitted, exists is not"
        );
        assert_eq!(
            call(&p, "config_get", json!({"Key": "b"})),
            json!({"value": "-42", "exists": true}),
            "field names match ignoring case, as in Go"
        );
    }
}

#[test]
fn getint_parses_base_10_int64_and_otherwise_reads_as_absent() {
    let world = World::new();
    let p = world.load_with("config-int", nothing(), false, config());
    let get = |key: &str| call(&p, "config_getint", json!({ "key": key }));
    assert_eq!(get("a.one"), json!({"value": 1, "exists": true}));
    assert_eq!(get("b"), json!({"value": -42, "exists": true}));
    assert_eq!(get("plus"), json!({"value": 7, "exists": true}));
    assert_eq!(get("a.zero"), json!({"exists": true}), "0 is omitted");
    for key in ["a.two", "big", "empty", "spaced", "missing"] {
        assert_eq!(get(key), json!({}), "{key}");
    }
}

#[test]
fn keys_filter_by_prefix_sorted() {
    let world = World::new();
    let p = world.load_with("config-keys", nothing(), false, config());
    assert_eq!(
        call(&p, "config_keys", json!({"prefix": "a."})),
        json!({"keys": ["a.one", "a.two", "a.zero"]})
    );
    assert_eq!(
        call(&p, "config_keys", json!({"prefix": ""})),
        json!({"keys": ["a.one", "a.two", "a.zero", "b", "big", "empty", "plus", "spaced"]})
    );
    assert_eq!(
        call(&p, "config_keys", json!({})),
        call(&p, "config_keys", json!({"prefix": ""}))
    );
    assert_eq!(call(&p, "config_keys", json!({"prefix": "zzz"})), json!({}));
}

#[test]
fn each_plugin_reads_its_own_map_and_bad_requests_get_go_errors() {
    let world = World::new();
    let mut other = BTreeMap::new();
    other.insert("a.one".to_owned(), "other".to_owned());
    let p1 = world.load_with("config-one", nothing(), false, config());
    let p2 = world.load_with("config-two", nothing(), false, other);
    assert_eq!(
        call(&p2, "config_get", json!({"key": "a.one"})),
        json!({"value": "other", "exists": true})
    );
    assert_eq!(call(&p2, "config_get", json!({"key": "b"})), json!({}));
    assert_eq!(
        call(&p1, "config_get", json!({"key": "a.one"})),
        json!({"value": "1", "exists": true})
    );

    assert_eq!(
        call_raw(&p1, "config_get", r#"{"key": 5}"#),
        r#"{"error":"json: cannot unmarshal number into Go struct field ConfigGetRequest.key of type string"}"#
    );
    assert_eq!(
        call(&p1, "config_keys", json!({"prefix": ["a"]})),
        error(
            "json: cannot unmarshal array into Go struct field ConfigKeysRequest.prefix of type string"
        )
    );
    let bad = call_raw(&p1, "config_getint", "{not json");
    assert!(bad.starts_with(r#"{"error":"invalid request: "#), "{bad}");
}
