//! The one way adapters call an export (Navidrome's `callPluginFunction`, spec §2.3): check
//! that the export exists, encode the request, call, and sort the outcome into "missing",
//! "not implemented", an output, or a real failure; then decode outputs the way Go's
//! `encoding/json` would.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ExportCaller;
use crate::error::{CapabilityError, CapabilityErrorKind};
use nd_runtime::CallErrorKind;

/// The outcome of a call that did not fail.
#[derive(Debug)]
pub(crate) enum Reply {
    /// The plugin does not export the function; it was not called.
    Missing,
    /// The export returned `-2` without an error message.
    NotImplemented,
    /// The export succeeded with this output (possibly empty).
    Output(Vec<u8>),
}

/// Calls `export` with `request` encoded as JSON, unless the plugin does not export it.
pub(crate) fn invoke(
    caller: &dyn ExportCaller,
    export: &str,
    request: &impl Serialize,
) -> Result<Reply, CapabilityError> {
    if !caller.has_export(export) {
        tracing::trace!(plugin = caller.plugin_id(), export, "export not present");
        return Ok(Reply::Missing);
    }
    let input = serde_json::to_vec(request).map_err(|e| {
        CapabilityError::new(
            caller.plugin_id(),
            export,
            CapabilityErrorKind::Encode(e.to_string()),
        )
    })?;
    match caller.call(export, &input) {
        Ok(output) => Ok(Reply::Output(output)),
        Err(error) => match error.kind() {
            CallErrorKind::NotImplemented => {
                tracing::trace!(plugin = caller.plugin_id(), export, "not implemented");
                Ok(Reply::NotImplemented)
            }
            // The export vanished between the check and the call (a wrapper that knows
            // better than `has_export`): the same as not exporting it.
            CallErrorKind::FunctionNotFound => Ok(Reply::Missing),
            _ => {
                tracing::debug!(plugin = caller.plugin_id(), export, error = %error, "capability call failed");
                Err(error.into())
            }
        },
    }
}

/// Decodes an export's output as Go would decode it into a pointer to `T`: empty output and
/// JSON `null` are `None` (the nil pointer), object keys match field names case-insensitively,
/// unknown keys are ignored, and a non-object or ill-typed answer is
/// [`CapabilityErrorKind::MalformedOutput`].
pub(crate) fn decode<T: DeserializeOwned>(
    caller: &dyn ExportCaller,
    export: &str,
    output: &[u8],
) -> Result<Option<T>, CapabilityError> {
    let malformed = |message: String| {
        CapabilityError::new(
            caller.plugin_id(),
            export,
            CapabilityErrorKind::MalformedOutput(message),
        )
    };
    if output.is_empty() {
        return Ok(None);
    }
    let mut value: Value = serde_json::from_slice(output).map_err(|e| malformed(e.to_string()))?;
    match value {
        Value::Null => return Ok(None),
        Value::Object(_) => {}
        ref other => {
            return Err(malformed(format!(
                "expected a JSON object, found {}",
                json_kind(other)
            )));
        }
    }
    fold_keys(&mut value);
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| malformed(e.to_string()))
}

/// A JSON value's kind, for messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Every field name of the answers adapters decode (`types.rs`), in their wire spelling.
const FIELD_NAMES: &[&str] = &[
    "album",
    "albumMbid",
    "artist",
    "artistMbid",
    "artists",
    "biography",
    "description",
    "duration",
    "durationMs",
    "id",
    "images",
    "isrc",
    "lang",
    "lyrics",
    "matches",
    "mbid",
    "name",
    "role",
    "size",
    "similarity",
    "song",
    "songs",
    "sortName",
    "subRole",
    "text",
    "url",
];

/// Renames object keys that match a known field name only case-insensitively (`"MBID"` →
/// `"mbid"`), recursively, as Go's decoder matches them. An exact key wins over a folded one.
fn fold_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let folded: Vec<(String, &'static str)> = map
                .keys()
                .filter(|key| !FIELD_NAMES.contains(&key.as_str()))
                .filter_map(|key| {
                    FIELD_NAMES
                        .iter()
                        .find(|name| name.eq_ignore_ascii_case(key))
                        .map(|name| (key.clone(), *name))
                })
                .collect();
            for (key, name) in folded {
                if let Some(v) = map.remove(&key) {
                    map.entry(name).or_insert(v);
                }
            }
            map.values_mut().for_each(fold_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(fold_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
