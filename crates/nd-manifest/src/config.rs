//! Plugin configuration values (spec §5.5): flattening the administrator's JSON object
//! into the `map[string]string` that plugins read through `config_get`, and compiling a
//! manifest's `config.schema`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::type_name;
use crate::{Diagnostic, Error};

/// Flattens a configuration object into the string map plugins see.
///
/// Only the top level is flattened: string values are kept as they are, and every other
/// value (number, boolean, `null`, array, object) becomes its compact JSON text, so the
/// array `[{"username":"a"}]` arrives as that exact string.
///
/// Compact JSON text is `serde_json::to_string`. It differs from the Go `json.Marshal`
/// Navidrome uses only in corner cases: Go escapes `<`, `>` and `&` as `\u003c` etc.,
/// prints every number as a float64 (`1.0` becomes `1`, integers beyond 2^53 lose
/// precision), and always sorts object keys (serde_json does too unless some crate in
/// the build enables its `preserve_order` feature).
///
/// # Errors
///
/// [`Error::ConfigNotAnObject`] when `config` is not a JSON object.
///
/// ```
/// use serde_json::json;
/// let flat = nd_manifest::flatten_config(&json!({"a": "x", "n": 5, "list": [1, 2]})).unwrap();
/// assert_eq!(flat["a"], "x");
/// assert_eq!(flat["n"], "5");
/// assert_eq!(flat["list"], "[1,2]");
/// ```
pub fn flatten_config(config: &Value) -> Result<BTreeMap<String, String>, Error> {
    let Value::Object(map) = config else {
        return Err(Error::ConfigNotAnObject {
            found: type_name(config),
        });
    };
    Ok(map
        .iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                // `Value`'s Display is `serde_json::to_string`, which cannot fail for a `Value`.
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect())
}

/// Compiles a JSON Schema (draft from `$schema`, 2020-12 when absent) without ever
/// fetching a remote `$ref`. On failure, the diagnostic's path is the JSON pointer of the
/// problem *inside the schema* (the caller prefixes it).
pub(crate) fn compile_schema(schema: &Value) -> Result<jsonschema::Validator, Diagnostic> {
    jsonschema::options().offline().build(schema).map_err(|err| {
        Diagnostic::new(
            err.instance_path().as_str(),
            format!("config.schema is not a valid JSON Schema: {err}"),
            "fix the schema so that it follows JSON Schema (draft-07 or 2020-12); remote $refs are not fetched",
        )
    })
}

#[cfg(test)]
mod tests;
