//! Unit tests of configuration flattening and schema compilation.

use serde_json::json;

use super::*;

#[test]
fn strings_are_kept_and_everything_else_is_compact_json() {
    let flat = flatten_config(&json!({
        "s": "plain \"text\"",
        "empty": "",
        "n": 5,
        "neg": -2,
        "f": 1.5,
        "t": true,
        "null": null,
        "users": [{"username": "alice", "token": "x"}],
        "obj": {"b": 1, "a": [true, null]}
    }))
    .expect("object");
    let expected: BTreeMap<String, String> = [
        ("s", "plain \"text\""),
        ("empty", ""),
        ("n", "5"),
        ("neg", "-2"),
        ("f", "1.5"),
        ("t", "true"),
        ("null", "null"),
        ("users", r#"[{"token":"x","username":"alice"}]"#),
        ("obj", r#"{"a":[true,null],"b":1}"#),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(flat, expected);
}

#[test]
fn empty_object_gives_empty_map() {
    assert!(flatten_config(&json!({})).expect("object").is_empty());
}

#[test]
fn non_objects_are_refused() {
    for (value, found) in [
        (json!([]), "an array"),
        (json!("x"), "a string"),
        (json!(null), "null"),
        (json!(1), "a number"),
    ] {
        let err = flatten_config(&value).expect_err("not an object");
        assert_eq!(
            err.to_string(),
            format!("plugin configuration must be a json object, found {found}")
        );
    }
}

#[test]
fn schemas_compile_offline() {
    assert!(compile_schema(&json!({"type": "object"})).is_ok());
    assert!(
        compile_schema(
            &json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"})
        )
        .is_ok()
    );
    assert!(
        compile_schema(&json!({"$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a"})).is_ok()
    );
    let Err(err) = compile_schema(&json!({"type": 12})) else {
        panic!("a numeric type must not compile");
    };
    assert_eq!(err.path, "/type");
    assert!(compile_schema(&json!({"$ref": "https://example.com/s.json"})).is_err());
    assert!(compile_schema(&json!({"$ref": "#/$defs/missing"})).is_err());
}
