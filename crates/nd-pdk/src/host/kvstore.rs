//! The KV store service (spec §3.5, permission `kvstore`, optional `maxSize`, default 1 MiB):
//! a persistent key-value store per plugin that survives restarts, reloads and
//! reinstallation. Keys are 1 to 256 bytes; the sum of the live values' sizes is capped by
//! `maxSize` (the error then reads `storage limit exceeded: ...`).
//!
//! Unlike Navidrome's own Rust PDK, [`get_many`] decodes the values from base64, which is
//! what the host sends (spec §2.4).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ffi::import;
use crate::host::{Empty, call};
use crate::wire::{b64, b64_map, null_default};

import! {
    fn raw_set = "kvstore_set";
    fn raw_set_with_ttl = "kvstore_setwithttl";
    fn raw_get = "kvstore_get";
    fn raw_get_many = "kvstore_getmany";
    fn raw_has = "kvstore_has";
    fn raw_list = "kvstore_list";
    fn raw_delete = "kvstore_delete";
    fn raw_delete_by_prefix = "kvstore_deletebyprefix";
    fn raw_storage_used = "kvstore_getstorageused";
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Set<'a> {
    key: &'a str,
    #[serde(with = "b64")]
    value: &'a [u8],
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl_seconds: Option<i64>,
}

#[derive(Serialize)]
struct Key<'a> {
    key: &'a str,
}

#[derive(Serialize)]
struct Prefix<'a> {
    prefix: &'a str,
}

/// `kvstore_set {key, value}`: stores `value` under `key` without expiry.
pub fn set(key: &str, value: &[u8]) -> Result<()> {
    let request = Set {
        key,
        value,
        ttl_seconds: None,
    };
    let _: Empty = call("kvstore_set", raw_set, &request)?;
    Ok(())
}

/// `kvstore_setwithttl {key, value, ttlSeconds}`: stores `value` for `ttl_seconds` (> 0).
pub fn set_with_ttl(key: &str, value: &[u8], ttl_seconds: i64) -> Result<()> {
    let request = Set {
        key,
        value,
        ttl_seconds: Some(ttl_seconds),
    };
    let _: Empty = call("kvstore_setwithttl", raw_set_with_ttl, &request)?;
    Ok(())
}

/// `kvstore_get {key}`: the value under `key`, `None` when absent or expired.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Got {
        #[serde(with = "b64")]
        value: Vec<u8>,
        #[serde(deserialize_with = "null_default")]
        exists: bool,
    }
    let got: Got = call("kvstore_get", raw_get, &Key { key })?;
    Ok(got.exists.then_some(got.value))
}

/// `kvstore_getmany {keys}`: the values of those `keys` that exist; missing and expired
/// keys are left out.
pub fn get_many(keys: &[&str]) -> Result<BTreeMap<String, Vec<u8>>> {
    #[derive(Serialize)]
    struct Request<'a> {
        keys: &'a [&'a str],
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Got {
        #[serde(deserialize_with = "b64_map::deserialize")]
        values: BTreeMap<String, Vec<u8>>,
    }
    let got: Got = call("kvstore_getmany", raw_get_many, &Request { keys })?;
    Ok(got.values)
}

/// `kvstore_has {key}`: whether `key` holds a live value.
pub fn has(key: &str) -> Result<bool> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Has {
        #[serde(deserialize_with = "null_default")]
        exists: bool,
    }
    let has: Has = call("kvstore_has", raw_has, &Key { key })?;
    Ok(has.exists)
}

/// `kvstore_list {prefix}`: the live keys starting with `prefix` (`""` for all), sorted.
pub fn list(prefix: &str) -> Result<Vec<String>> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Keys {
        #[serde(deserialize_with = "null_default")]
        keys: Vec<String>,
    }
    let keys: Keys = call("kvstore_list", raw_list, &Prefix { prefix })?;
    Ok(keys.keys)
}

/// `kvstore_delete {key}`; deleting a missing key is not an error.
pub fn delete(key: &str) -> Result<()> {
    let _: Empty = call("kvstore_delete", raw_delete, &Key { key })?;
    Ok(())
}

/// `kvstore_deletebyprefix {prefix}`: deletes every key starting with `prefix` (which must
/// not be empty) and returns how many there were, expired ones included.
pub fn delete_by_prefix(prefix: &str) -> Result<i64> {
    #[derive(Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Deleted {
        #[serde(deserialize_with = "null_default")]
        deleted_count: i64,
    }
    let deleted: Deleted = call(
        "kvstore_deletebyprefix",
        raw_delete_by_prefix,
        &Prefix { prefix },
    )?;
    Ok(deleted.deleted_count)
}

/// `kvstore_getstorageused`: the bytes the live values take, as counted against `maxSize`.
pub fn storage_used() -> Result<i64> {
    #[derive(Serialize)]
    struct Request {}
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Used {
        #[serde(deserialize_with = "null_default")]
        bytes: i64,
    }
    let used: Used = call("kvstore_getstorageused", raw_storage_used, &Request {})?;
    Ok(used.bytes)
}

/// Stores `value` as JSON under `key` (with [`set`]).
pub fn set_json(key: &str, value: &impl Serialize) -> Result<()> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| Error::msg(format!("kvstore key {key:?}: cannot encode the value: {e}")))?;
    set(key, &bytes)
}

/// Reads the JSON value under `key` (with [`get`]); `None` when absent.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    match get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::msg(format!("kvstore key {key:?}: not the expected JSON: {e}"))),
    }
}
