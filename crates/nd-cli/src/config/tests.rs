//! Unit tests of the typing of `KEY=VALUE` through the config schema.

use serde_json::json;

use super::*;

#[test]
fn values_are_typed_through_the_schema() {
    let schema = json!({"type": "object", "properties": {
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "on": {"type": "boolean"},
        "tags": {"type": "array"},
        "extra": {"type": "object"},
        "name": {"type": "string"},
        "either": {"type": ["integer", "null"]},
        "loose": {"type": ["string", "integer"]},
    }});
    let s = Some(&schema);
    assert_eq!(typed_value(s, "count", "5"), json!(5));
    assert_eq!(typed_value(s, "ratio", "5"), json!(5));
    assert_eq!(typed_value(s, "ratio", "0.5"), json!(0.5));
    assert_eq!(typed_value(s, "on", "true"), json!(true));
    assert_eq!(typed_value(s, "on", "false"), json!(false));
    assert_eq!(typed_value(s, "tags", r#"["a",1]"#), json!(["a", 1]));
    assert_eq!(typed_value(s, "extra", r#"{"k":1}"#), json!({"k": 1}));
    assert_eq!(typed_value(s, "name", "5"), json!("5"));
    assert_eq!(typed_value(s, "either", "null"), json!(null));
    assert_eq!(typed_value(s, "either", "7"), json!(7));
    // A string is allowed, so the text stays a string.
    assert_eq!(typed_value(s, "loose", "7"), json!("7"));
    // Unparsable values stay strings: the schema validation names them.
    assert_eq!(typed_value(s, "count", "many"), json!("many"));
    assert_eq!(typed_value(s, "on", "yes"), json!("yes"));
    assert_eq!(typed_value(s, "tags", "{}"), json!("{}"));
    // Keys the schema does not declare, and no schema at all: strings.
    assert_eq!(typed_value(s, "other", "5"), json!("5"));
    assert_eq!(typed_value(None, "count", "5"), json!("5"));
}
