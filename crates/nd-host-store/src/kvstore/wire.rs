//! The JSON side of the `kvstore` service: decoding the nine requests the way Go's
//! `encoding/json` decodes Navidrome's request structs, and encoding the responses with
//! `omitempty` (spec §2.4, §3.5). No storage logic here.

use std::sync::Arc;

use nd_runtime::{HostError, HostImports, decode_bytes, encode_bytes, json_response};
use serde_json::{Map, Value, json};

use super::{Error, KvStore};

/// Adds the nine `kvstore_*` functions, all backed by `store`.
pub(super) fn register(imports: &mut HostImports, store: &Arc<KvStore>) {
    let s = Arc::clone(store);
    imports.json("kvstore_set", move |_, req| {
        let req = Request::new(&req, "KVStoreSetRequest")?;
        let (key, value) = (req.string("key")?, req.bytes("value")?);
        s.set(&key, &value).map_err(guest)?;
        Ok(json!({}))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_setwithttl", move |_, req| {
        let req = Request::new(&req, "KVStoreSetWithTTLRequest")?;
        let (key, value) = (req.string("key")?, req.bytes("value")?);
        let ttl = req.int64("ttlSeconds")?;
        s.set_with_ttl(&key, &value, ttl).map_err(guest)?;
        Ok(json!({}))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_get", move |_, req| {
        let req = Request::new(&req, "KVStoreGetRequest")?;
        let value = s.get(&req.string("key")?).map_err(guest)?;
        Ok(json_response(match value {
            Some(v) => json!({ "value": encode_bytes(&v), "exists": true }),
            None => json!({}),
        }))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_getmany", move |_, req| {
        let req = Request::new(&req, "KVStoreGetManyRequest")?;
        let values = s.get_many(req.strings("keys")?.as_slice()).map_err(guest)?;
        let values: Map<String, Value> = values
            .into_iter()
            .map(|(k, v)| (k, Value::String(encode_bytes(&v))))
            .collect();
        Ok(json_response(json!({ "values": values })))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_has", move |_, req| {
        let req = Request::new(&req, "KVStoreHasRequest")?;
        let exists = s.has(&req.string("key")?).map_err(guest)?;
        Ok(json_response(json!({ "exists": exists })))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_list", move |_, req| {
        let req = Request::new(&req, "KVStoreListRequest")?;
        let keys = s.list(&req.string("prefix")?).map_err(guest)?;
        Ok(json_response(json!({ "keys": keys })))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_delete", move |_, req| {
        let req = Request::new(&req, "KVStoreDeleteRequest")?;
        s.delete(&req.string("key")?).map_err(guest)?;
        Ok(json!({}))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_deletebyprefix", move |_, req| {
        let req = Request::new(&req, "KVStoreDeleteByPrefixRequest")?;
        let count = s.delete_by_prefix(&req.string("prefix")?).map_err(guest)?;
        Ok(json_response(json!({ "deletedCount": count })))
    });
    let s = Arc::clone(store);
    // Like Navidrome, the request of `getstorageused` is not read.
    imports.json("kvstore_getstorageused", move |_, _| {
        let bytes = s.storage_used().map_err(guest)?;
        Ok(json_response(json!({ "bytes": bytes })))
    });
}

fn guest(e: Error) -> HostError {
    HostError::Guest(e.to_string())
}

/// A decoded request object, read with Go's rules: field names match exactly or else
/// case-insensitively, unknown fields are ignored, a missing field or `null` is the zero value,
/// and a value of the wrong type fails with Go's `json: cannot unmarshal …` message.
struct Request<'a> {
    fields: Option<&'a Map<String, Value>>,
    go_type: &'static str,
}

impl<'a> Request<'a> {
    fn new(value: &'a Value, go_type: &'static str) -> Result<Self, HostError> {
        let fields = match value {
            Value::Object(map) => Some(map),
            Value::Null => None,
            other => {
                return Err(HostError::Guest(format!(
                    "json: cannot unmarshal {} into Go value of type host.{go_type}",
                    kind(other)
                )));
            }
        };
        Ok(Self { fields, go_type })
    }

    fn field(&self, name: &str) -> Option<&'a Value> {
        let fields = self.fields?;
        fields.get(name).or_else(|| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }

    fn mismatch(&self, value: &Value, name: &str, go_field_type: &str) -> HostError {
        HostError::Guest(format!(
            "json: cannot unmarshal {} into Go struct field {}.{name} of type {go_field_type}",
            kind(value),
            self.go_type
        ))
    }

    fn string(&self, name: &str) -> Result<String, HostError> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.mismatch(other, name, "string")),
        }
    }

    fn bytes(&self, name: &str) -> Result<Vec<u8>, HostError> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => decode_bytes(s),
            Some(other) => Err(self.mismatch(other, name, "[]uint8")),
        }
    }

    fn int64(&self, name: &str) -> Result<i64, HostError> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
                HostError::Guest(format!(
                    "json: cannot unmarshal number {n} into Go struct field {}.{name} of type int64",
                    self.go_type
                ))
            }),
            Some(other) => Err(self.mismatch(other, name, "int64")),
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, HostError> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Null => Ok(String::new()),
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.mismatch(other, name, "string")),
                })
                .collect(),
            Some(other) => Err(self.mismatch(other, name, "[]string")),
        }
    }
}

/// How Go's `UnmarshalTypeError` names a JSON value.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
