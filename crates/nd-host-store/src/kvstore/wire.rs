//! The JSON side of the `kvstore` service: decoding the nine requests the way Go's
//! `encoding/json` decodes Navidrome's request structs ([`GoRequest`]), and encoding the
//! responses with `omitempty` (spec §2.4, §3.5). No storage logic here.

use std::sync::Arc;

use nd_runtime::{GoRequest, HostError, HostImports, encode_bytes, json_response};
use serde_json::{Map, Value, json};

use super::{Error, KvStore};

/// Adds the nine `kvstore_*` functions, all backed by `store`.
pub(super) fn register(imports: &mut HostImports, store: &Arc<KvStore>) {
    let s = Arc::clone(store);
    imports.json("kvstore_set", move |_, req| {
        let req = GoRequest::parse(&req, "KVStoreSetRequest")?;
        let (key, value) = (req.string("key")?, req.bytes("value")?);
        s.set(&key, &value).map_err(guest)?;
        Ok(json!({}))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_setwithttl", move |_, req| {
        let req = GoRequest::parse(&req, "KVStoreSetWithTTLRequest")?;
        let (key, value) = (req.string("key")?, req.bytes("value")?);
        let ttl = req.int64("ttlSeconds")?;
        s.set_with_ttl(&key, &value, ttl).map_err(guest)?;
        Ok(json!({}))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_get", move |_, req| {
        let req = GoRequest::parse(&req, "KVStoreGetRequest")?;
        let value = s.get(&req.string("key")?).map_err(guest)?;
        Ok(json_response(match value {
            Some(v) => json!({ "value": encode_bytes(&v), "exists": true }),
            None => json!({}),
        }))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_getmany", move |_, req| {
        let req = GoRequest::parse(&req, "KVStoreGetManyRequest")?;
        let values = s.get_many(req.strings("keys")?.as_slice()).map_err(guest)?;
        let values: Map<String, Value> = values
            .into_iter()
            .map(|(k, v)| (k, Value::String(encode_bytes(&v))))
            .collect();
        Ok(json_response(json!({ "values": values })))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_has", move |_, req| {
        let req = GoRequest::parse(&req, "KVStoreHasRequest")?;
        let exists = s.has(&req.string("key")?).map_err(guest)?;
        Ok(json_response(json!({ "exists": exists })))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_list", move |_, req| {
        let req = GoRequest::parse(&req, "KVStoreListRequest")?;
        let keys = s.list(&req.string("prefix")?).map_err(guest)?;
        Ok(json_response(json!({ "keys": keys })))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_delete", move |_, req| {
        let req = GoRequest::parse(&req, "KVStoreDeleteRequest")?;
        s.delete(&req.string("key")?).map_err(guest)?;
        Ok(json!({}))
    });
    let s = Arc::clone(store);
    imports.json("kvstore_deletebyprefix", move |_, req| {
        let req = GoRequest::parse(&req, "KVStoreDeleteByPrefixRequest")?;
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
