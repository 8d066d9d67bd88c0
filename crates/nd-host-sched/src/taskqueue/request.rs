//! Reading `task_*` request JSON the way Go's `encoding/json` fills a struct: field names match
//! case-insensitively (an exact match wins), missing fields and `null` leave the zero value,
//! a value of the wrong type is an error naming the field. Also Go's `%q` quoting for messages.
//! Not a general JSON binding: only the shapes the task queue needs.

use nd_runtime::HostError;
use serde_json::{Map, Value};

/// The request as an object (`null` or an empty request reads as `{}`).
pub(super) fn object<'a>(
    req: &'a Value,
    go_type: &str,
) -> Result<Option<&'a Map<String, Value>>, HostError> {
    match req {
        Value::Object(map) => Ok(Some(map)),
        Value::Null => Ok(None),
        other => Err(HostError::Guest(format!(
            "json: cannot unmarshal {} into Go value of type {go_type}",
            kind(other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Field `name` of `obj`: the exact key, else the first key equal ignoring ASCII case.
pub(super) fn field<'a>(obj: Option<&'a Map<String, Value>>, name: &str) -> Option<&'a Value> {
    let obj = obj?;
    obj.get(name)
        .or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

fn type_error(value: &Value, go_field: &str, go_type: &str) -> HostError {
    HostError::Guest(format!(
        "json: cannot unmarshal {} into Go struct field {go_field} of type {go_type}",
        kind(value)
    ))
}

/// A string field (`""` when absent).
pub(super) fn string(
    obj: Option<&Map<String, Value>>,
    name: &str,
    go_field: &str,
) -> Result<String, HostError> {
    match field(obj, name) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(type_error(other, go_field, "string")),
    }
}

/// An integer field of Go type `int32` or `int64` (0 when absent).
pub(super) fn int(
    obj: Option<&Map<String, Value>>,
    name: &str,
    go_field: &str,
    bits32: bool,
) -> Result<i64, HostError> {
    let go_type = if bits32 { "int32" } else { "int64" };
    let Some(value) = field(obj, name) else {
        return Ok(0);
    };
    let n = match value {
        Value::Number(n) => n,
        other => return Err(type_error(other, go_field, go_type)),
    };
    let in_range = |i: i64| !bits32 || i32::try_from(i).is_ok();
    match n.as_i64() {
        Some(i) if in_range(i) => Ok(i),
        _ => Err(HostError::Guest(format!(
            "json: cannot unmarshal number {n} into Go struct field {go_field} of type {go_type}"
        ))),
    }
}

/// `s` quoted like Go's `%q` (`strconv.Quote`) for the characters that matter in names and
/// IDs: quotes, backslashes and control characters are escaped, everything else is kept.
pub(super) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_match_case_insensitively_and_null_is_zero() {
        let req = json!({"QUEUENAME": "q", "payload": null, "n": 5});
        let obj = object(&req, "T").unwrap();
        assert_eq!(string(obj, "queueName", "T.queueName").unwrap(), "q");
        assert_eq!(string(obj, "payload", "T.payload").unwrap(), "");
        assert_eq!(int(obj, "n", "T.n", true).unwrap(), 5);
        assert_eq!(int(obj, "missing", "T.m", true).unwrap(), 0);
    }

    #[test]
    fn wrong_types_and_overflow_are_go_style_errors() {
        let req = json!({"name": 1, "c": 3_000_000_000i64, "d": 1.5});
        let obj = object(&req, "T").unwrap();
        assert_eq!(
            string(obj, "name", "T.name").unwrap_err(),
            HostError::Guest(
                "json: cannot unmarshal number into Go struct field T.name of type string".into()
            )
        );
        assert!(int(obj, "c", "T.c", true).is_err());
        assert_eq!(int(obj, "c", "T.c", false).unwrap(), 3_000_000_000);
        assert!(int(obj, "d", "T.d", false).is_err());
        assert!(object(&json!([1]), "T").is_err());
    }

    #[test]
    fn quoting_follows_go() {
        assert_eq!(go_quote("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\x01é\"");
    }
}
