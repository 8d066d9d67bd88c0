//! Reads a host-function request the way Go's `encoding/json` fills Navidrome's request
//! struct, so that a plugin sees the same leniency and the same error texts as on Navidrome:
//!
//! - a field name matches a JSON key exactly, or else ignoring ASCII case (when several keys
//!   match only that way, the first in sorted order wins; Go takes the last in the document);
//! - unknown keys are ignored, and a missing key or `null` leaves the zero value;
//! - a value of the wrong type fails with Go's `UnmarshalTypeError` text: `json: cannot
//!   unmarshal <kind> into Go struct field <Struct>.<path> of type <go type>`, where `<kind>`
//!   is `string`, `number`, `bool`, `array` or `object`, or `number <literal>` for a number
//!   that does not fit the Go integer type; a request that is not an object (nor `null`)
//!   fails with `json: cannot unmarshal <kind> into Go value of type host.<Type>`.
//!   As in Go, `<Struct>` is the struct that holds the field and `<path>` the JSON path from
//!   the request root, so a nested field reads `QueueConfig.config.concurrency`.
//!
//! It is not a general serde binding: the caller reads each field it knows, by name and Go
//! type, from a [`serde_json::Value`] that [`HostImports::json`](crate::HostImports::json)
//! already parsed. `[]byte` fields use [`decode_bytes`], whose error text is the runtime's
//! `invalid base64: …`, not Go's.
//!
//! ```
//! use nd_runtime::GoRequest;
//! # fn main() -> Result<(), nd_runtime::HostError> {
//! let value = serde_json::json!({"Key": "k", "ttlSeconds": null});
//! let req = GoRequest::parse(&value, "CacheSetStringRequest")?;
//! assert_eq!(req.string("key")?, "k");
//! assert_eq!(req.int64("ttlSeconds")?, 0);
//! # Ok(()) }
//! ```

use std::fmt::Display;

use serde_json::{Map, Value};

use crate::{HostError, decode_bytes};

#[cfg(test)]
mod tests;

/// A request object (or one of its nested struct fields), read field by field with Go's rules.
#[derive(Debug, Clone)]
pub struct GoRequest<'a> {
    /// `None` for `null` or a missing nested struct: every field is then its zero value.
    fields: Option<&'a Map<String, Value>>,
    /// Go name (without package) of the struct that holds these fields.
    go_type: &'a str,
    /// JSON path from the request root to this struct, ending in `.`; empty at the root.
    path: String,
}

impl<'a> GoRequest<'a> {
    /// Reads `request` as the Go struct `host.<go_type>` (give the name without `host.`). An
    /// object or `null` is accepted; anything else is Go's `cannot unmarshal` error.
    pub fn parse(request: &'a Value, go_type: &'a str) -> Result<Self, HostError> {
        let fields = match request {
            Value::Object(map) => Some(map),
            Value::Null => None,
            other => {
                return Err(HostError::Guest(format!(
                    "json: cannot unmarshal {} into Go value of type host.{go_type}",
                    go_json_kind(other)
                )));
            }
        };
        Ok(Self {
            fields,
            go_type,
            path: String::new(),
        })
    }

    /// The value of field `name`: the exact key, else the first key equal ignoring ASCII
    /// case. `None` when it is missing or `null`.
    pub fn field(&self, name: &str) -> Option<&'a Value> {
        let fields = self.fields?;
        fields
            .get(name)
            .or_else(|| {
                fields
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value)
            })
            .filter(|value| !value.is_null())
    }

    /// A Go `string` field (`""` when missing).
    pub fn string(&self, name: &str) -> Result<String, HostError> {
        match self.field(name) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.mismatch(name, go_json_kind(other), "string")),
        }
    }

    /// A Go `int64` field (0 when missing).
    pub fn int64(&self, name: &str) -> Result<i64, HostError> {
        self.int(name, "int64", Some)
    }

    /// A Go `int32` field (0 when missing); a number out of range is an error, as in Go.
    pub fn int32(&self, name: &str) -> Result<i32, HostError> {
        self.int(name, "int32", |n| i32::try_from(n).ok())
    }

    fn int<T: Default>(
        &self,
        name: &str,
        go: &str,
        narrow: impl Fn(i64) -> Option<T>,
    ) -> Result<T, HostError> {
        match self.field(name) {
            None => Ok(T::default()),
            Some(Value::Number(n)) => n
                .as_i64()
                .and_then(narrow)
                .ok_or_else(|| self.mismatch(name, format_args!("number {n}"), go)),
            Some(other) => Err(self.mismatch(name, go_json_kind(other), go)),
        }
    }

    /// A Go `float64` field (0 when missing).
    pub fn float64(&self, name: &str) -> Result<f64, HostError> {
        match self.field(name) {
            None => Ok(0.0),
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| self.mismatch(name, format_args!("number {n}"), "float64")),
            Some(other) => Err(self.mismatch(name, go_json_kind(other), "float64")),
        }
    }

    /// A Go `bool` field (`false` when missing).
    pub fn bool(&self, name: &str) -> Result<bool, HostError> {
        match self.field(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.mismatch(name, go_json_kind(other), "bool")),
        }
    }

    /// A Go `[]byte` field: a standard base64 string (empty when missing).
    pub fn bytes(&self, name: &str) -> Result<Vec<u8>, HostError> {
        match self.field(name) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => decode_bytes(s),
            Some(other) => Err(self.mismatch(name, go_json_kind(other), "[]uint8")),
        }
    }

    /// A Go `[]string` field (empty when missing); a `null` item is `""`, and an item of
    /// another type is an error naming the field with type `string`, as in Go.
    pub fn strings(&self, name: &str) -> Result<Vec<String>, HostError> {
        match self.field(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Null => Ok(String::new()),
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.mismatch(name, go_json_kind(other), "string")),
                })
                .collect(),
            Some(other) => Err(self.mismatch(name, go_json_kind(other), "[]string")),
        }
    }

    /// A Go `map[string]string` field (empty when missing), in key order; a `null` value is
    /// `""`, a value of another type an error with type `string`, as in Go.
    pub fn string_map(&self, name: &str) -> Result<Vec<(String, String)>, HostError> {
        match self.field(name) {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(key, value)| match value {
                    Value::Null => Ok((key.clone(), String::new())),
                    Value::String(s) => Ok((key.clone(), s.clone())),
                    other => Err(self.mismatch(name, go_json_kind(other), "string")),
                })
                .collect(),
            Some(other) => Err(self.mismatch(name, go_json_kind(other), "map[string]string")),
        }
    }

    /// A nested struct field of Go type `host.<go_type>` (all zero values when missing). Its
    /// fields' errors name `<go_type>.<path from the root>`, as Go's do.
    pub fn object(&self, name: &str, go_type: &'a str) -> Result<GoRequest<'a>, HostError> {
        let fields = match self.field(name) {
            None => None,
            Some(Value::Object(map)) => Some(map),
            Some(other) => {
                return Err(self.mismatch(
                    name,
                    go_json_kind(other),
                    format_args!("host.{go_type}"),
                ));
            }
        };
        Ok(GoRequest {
            fields,
            go_type,
            path: format!("{}{name}.", self.path),
        })
    }

    fn mismatch(&self, name: &str, found: impl Display, go: impl Display) -> HostError {
        HostError::Guest(format!(
            "json: cannot unmarshal {found} into Go struct field {}.{}{name} of type {go}",
            self.go_type, self.path
        ))
    }
}

/// How Go's `UnmarshalTypeError` names a JSON value (`string`, `number`, `object`, ...), for
/// services that decode nested values themselves.
pub fn go_json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `s` quoted as Go's `%q` (`strconv.Quote`) writes it for the texts that reach error
/// messages: quotes, backslashes and control characters are escaped (`\n`, `\x01`,
/// `\u0085`), everything else is kept as it is.
pub fn go_quote(s: &str) -> String {
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
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            // The other control characters are U+0080..U+009F.
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
