use serde_json::json;

use super::*;

fn guest(message: &str) -> HostError {
    HostError::Guest(message.into())
}

/// Go's text for a value of the wrong type in field `field` of struct `T`.
fn err(field: &str, found: &str, go: &str) -> HostError {
    guest(&format!(
        "json: cannot unmarshal {found} into Go struct field T.{field} of type {go}"
    ))
}

#[test]
fn names_match_exactly_else_ignoring_ascii_case() {
    let v = json!({"KEY": "upper", "TtlSeconds": 5, "other": "ignored"});
    let req = GoRequest::parse(&v, "T").unwrap();
    assert_eq!(req.string("key").unwrap(), "upper");
    assert_eq!(req.int64("ttlSeconds").unwrap(), 5);
    let v = json!({"Key": "folded", "key": "exact", "kEY": "folded too"});
    let req = GoRequest::parse(&v, "T").unwrap();
    assert_eq!(req.string("key").unwrap(), "exact");
    assert_eq!(req.field("kéy"), None, "only ASCII case is folded");
}

#[test]
fn missing_and_null_are_zero_values() {
    let v = json!({"s": null, "i": null, "f": null, "b": null, "y": null, "l": null, "o": null});
    for v in [v, json!({}), Value::Null] {
        let req = GoRequest::parse(&v, "T").unwrap();
        assert_eq!(req.field("s"), None);
        assert_eq!(req.string("s").unwrap(), "");
        assert_eq!(req.int64("i").unwrap(), 0);
        assert_eq!(req.int32("i").unwrap(), 0);
        assert_eq!(req.float64("f").unwrap(), 0.0);
        assert!(!req.bool("b").unwrap());
        assert_eq!(req.bytes("y").unwrap(), b"");
        assert_eq!(req.strings("l").unwrap(), Vec::<String>::new());
        assert_eq!(req.object("o", "O").unwrap().int32("n").unwrap(), 0);
    }
}

#[test]
fn values_of_the_right_type_are_read() {
    let v = json!({
        "s": "text", "i": -9_007_199_254_740_993i64, "n": 7, "f": 2.5, "g": 3,
        "b": true, "y": "AAEC", "l": ["a", null, "c"], "o": {"N": 4},
    });
    let req = GoRequest::parse(&v, "T").unwrap();
    assert_eq!(req.string("s").unwrap(), "text");
    assert_eq!(req.int64("i").unwrap(), -9_007_199_254_740_993);
    assert_eq!(req.int32("n").unwrap(), 7);
    assert_eq!(req.float64("f").unwrap(), 2.5);
    assert_eq!(req.float64("g").unwrap(), 3.0);
    assert!(req.bool("b").unwrap());
    assert_eq!(req.bytes("y").unwrap(), [0, 1, 2]);
    assert_eq!(req.strings("l").unwrap(), ["a", "", "c"]);
    assert_eq!(req.object("o", "O").unwrap().int32("n").unwrap(), 4);
}

#[test]
fn a_request_that_is_not_an_object_names_the_go_type() {
    for (v, kind) in [
        (json!([1]), "array"),
        (json!("x"), "string"),
        (json!(1), "number"),
        (json!(true), "bool"),
    ] {
        assert_eq!(
            GoRequest::parse(&v, "CacheHasRequest").unwrap_err(),
            guest(&format!(
                "json: cannot unmarshal {kind} into Go value of type host.CacheHasRequest"
            ))
        );
    }
}

#[test]
fn wrong_types_give_go_texts() {
    let v = json!({"s": 1, "i": "2", "f": "x", "b": 0, "y": [1], "l": "a", "m": [1], "o": 5});
    let req = GoRequest::parse(&v, "T").unwrap();
    assert_eq!(req.string("s").unwrap_err(), err("s", "number", "string"));
    assert_eq!(req.int64("i").unwrap_err(), err("i", "string", "int64"));
    assert_eq!(req.int32("i").unwrap_err(), err("i", "string", "int32"));
    assert_eq!(req.float64("f").unwrap_err(), err("f", "string", "float64"));
    assert_eq!(req.bool("b").unwrap_err(), err("b", "number", "bool"));
    assert_eq!(req.bytes("y").unwrap_err(), err("y", "array", "[]uint8"));
    assert_eq!(
        req.strings("l").unwrap_err(),
        err("l", "string", "[]string")
    );
    assert_eq!(req.strings("m").unwrap_err(), err("m", "number", "string"));
    assert_eq!(
        req.object("o", "QueueConfig").unwrap_err(),
        err("o", "number", "host.QueueConfig")
    );
    // The name in the message is the one asked for, whatever the key's case.
    let v = json!({"KEY": 1});
    let req = GoRequest::parse(&v, "T").unwrap();
    assert_eq!(
        req.string("key").unwrap_err(),
        err("key", "number", "string")
    );
}

#[test]
fn numbers_that_do_not_fit_an_integer_show_their_value() {
    let v = json!({"f": 2.5, "big": 3_000_000_000i64, "huge": u64::MAX, "neg": -2_147_483_649i64});
    let req = GoRequest::parse(&v, "T").unwrap();
    let err = |field: &str, n: &str, go: &str| err(field, &format!("number {n}"), go);
    assert_eq!(req.int64("f").unwrap_err(), err("f", "2.5", "int64"));
    assert_eq!(req.int32("f").unwrap_err(), err("f", "2.5", "int32"));
    assert_eq!(req.int64("big").unwrap(), 3_000_000_000);
    assert_eq!(
        req.int32("big").unwrap_err(),
        err("big", "3000000000", "int32")
    );
    assert_eq!(
        req.int64("huge").unwrap_err(),
        err("huge", "18446744073709551615", "int64")
    );
    assert_eq!(
        req.int32("neg").unwrap_err(),
        err("neg", "-2147483649", "int32")
    );
    let v = json!({"n": i32::MIN, "m": i32::MAX});
    let req = GoRequest::parse(&v, "T").unwrap();
    assert_eq!(req.int32("n").unwrap(), i32::MIN);
    assert_eq!(req.int32("m").unwrap(), i32::MAX);
}

#[test]
fn nested_fields_name_the_inner_struct_and_the_full_path() {
    let v = json!({"CONFIG": {"concurrency": 1.5, "inner": {"flag": "yes"}}});
    let req = GoRequest::parse(&v, "TaskCreateQueueRequest").unwrap();
    let config = req.object("config", "QueueConfig").unwrap();
    assert_eq!(
        config.int32("concurrency").unwrap_err(),
        guest(
            "json: cannot unmarshal number 1.5 into Go struct field \
             QueueConfig.config.concurrency of type int32"
        )
    );
    let inner = config.object("inner", "Inner").unwrap();
    assert_eq!(
        inner.bool("flag").unwrap_err(),
        guest(
            "json: cannot unmarshal string into Go struct field \
             Inner.config.inner.flag of type bool"
        )
    );
}

#[test]
fn invalid_base64_is_the_runtime_error() {
    let v = json!({"y": "***"});
    let req = GoRequest::parse(&v, "T").unwrap();
    let message = req.bytes("y").unwrap_err().to_string();
    assert!(message.starts_with("invalid base64: "), "{message}");
}

#[test]
fn quoting_follows_go() {
    assert_eq!(go_quote(""), "\"\"");
    assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    assert_eq!(go_quote("\u{1}é"), "\"\\x01é\"");
    assert_eq!(
        go_quote("\u{7}\u{8}\u{c}\r\t\u{b}\u{7f}\u{85}"),
        "\"\\a\\b\\f\\r\\t\\v\\x7f\\u0085\""
    );
    assert_eq!(go_quote("日本 ✓"), "\"日本 ✓\"");
}

#[test]
fn string_maps_decode_with_go_errors() {
    let v = json!({"headers": {"a": "1", "b": null}});
    let req = GoRequest::parse(&v, "WebSocketConnectRequest").unwrap();
    assert_eq!(
        req.string_map("headers").unwrap(),
        [
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), String::new())
        ]
    );
    assert_eq!(req.string_map("missing").unwrap(), []);
    let v = json!({"headers": [1]});
    let req = GoRequest::parse(&v, "WebSocketConnectRequest").unwrap();
    assert_eq!(
        req.string_map("headers").unwrap_err().to_string(),
        "json: cannot unmarshal array into Go struct field WebSocketConnectRequest.headers of type map[string]string"
    );
    let v = json!({"headers": {"a": 1}});
    let req = GoRequest::parse(&v, "WebSocketConnectRequest").unwrap();
    assert_eq!(
        req.string_map("headers").unwrap_err().to_string(),
        "json: cannot unmarshal number into Go struct field WebSocketConnectRequest.headers of type string"
    );
}
