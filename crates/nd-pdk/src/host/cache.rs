//! The Cache service (spec §3.4, permission `cache`): a typed in-memory TTL cache, one per
//! plugin, emptied when the plugin is unloaded (reload, configuration change, disable) and
//! on restart. Values are typed: reading a key with another type's getter finds nothing.
//! A `ttl_seconds` of 0 or less means the default of 24 hours.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ffi::import;
use crate::host::{Empty, call};
use crate::wire::{b64, null_default};

import! {
    fn raw_set_string = "cache_setstring";
    fn raw_get_string = "cache_getstring";
    fn raw_set_int = "cache_setint";
    fn raw_get_int = "cache_getint";
    fn raw_set_float = "cache_setfloat";
    fn raw_get_float = "cache_getfloat";
    fn raw_set_bytes = "cache_setbytes";
    fn raw_get_bytes = "cache_getbytes";
    fn raw_has = "cache_has";
    fn raw_remove = "cache_remove";
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Set<'a, T: Serialize> {
    key: &'a str,
    value: T,
    ttl_seconds: i64,
}

#[derive(Serialize)]
struct Key<'a> {
    key: &'a str,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "T: Default + Deserialize<'de>"))]
struct Got<T: Default> {
    #[serde(deserialize_with = "null_default")]
    value: T,
    #[serde(deserialize_with = "null_default")]
    exists: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GotBytes {
    #[serde(with = "b64")]
    value: Vec<u8>,
    #[serde(deserialize_with = "null_default")]
    exists: bool,
}

#[derive(Serialize)]
struct Bytes<'a>(#[serde(with = "b64")] &'a [u8]);

/// `cache_setstring {key, value, ttlSeconds}`.
pub fn set_string(key: &str, value: &str, ttl_seconds: i64) -> Result<()> {
    let _: Empty = call(
        "cache_setstring",
        raw_set_string,
        &Set {
            key,
            value,
            ttl_seconds,
        },
    )?;
    Ok(())
}

/// `cache_getstring {key}`: the string stored under `key`, if any.
pub fn get_string(key: &str) -> Result<Option<String>> {
    let got: Got<String> = call("cache_getstring", raw_get_string, &Key { key })?;
    Ok(got.exists.then_some(got.value))
}

/// `cache_setint {key, value, ttlSeconds}`.
pub fn set_int(key: &str, value: i64, ttl_seconds: i64) -> Result<()> {
    let _: Empty = call(
        "cache_setint",
        raw_set_int,
        &Set {
            key,
            value,
            ttl_seconds,
        },
    )?;
    Ok(())
}

/// `cache_getint {key}`: the integer stored under `key`, if any.
pub fn get_int(key: &str) -> Result<Option<i64>> {
    let got: Got<i64> = call("cache_getint", raw_get_int, &Key { key })?;
    Ok(got.exists.then_some(got.value))
}

/// `cache_setfloat {key, value, ttlSeconds}`.
pub fn set_float(key: &str, value: f64, ttl_seconds: i64) -> Result<()> {
    let _: Empty = call(
        "cache_setfloat",
        raw_set_float,
        &Set {
            key,
            value,
            ttl_seconds,
        },
    )?;
    Ok(())
}

/// `cache_getfloat {key}`: the float stored under `key`, if any.
pub fn get_float(key: &str) -> Result<Option<f64>> {
    let got: Got<f64> = call("cache_getfloat", raw_get_float, &Key { key })?;
    Ok(got.exists.then_some(got.value))
}

/// `cache_setbytes {key, value (base64), ttlSeconds}`.
pub fn set_bytes(key: &str, value: &[u8], ttl_seconds: i64) -> Result<()> {
    let request = Set {
        key,
        value: Bytes(value),
        ttl_seconds,
    };
    let _: Empty = call("cache_setbytes", raw_set_bytes, &request)?;
    Ok(())
}

/// `cache_getbytes {key}`: the bytes stored under `key`, if any.
pub fn get_bytes(key: &str) -> Result<Option<Vec<u8>>> {
    let got: GotBytes = call("cache_getbytes", raw_get_bytes, &Key { key })?;
    Ok(got.exists.then_some(got.value))
}

/// `cache_has {key}`: whether `key` holds a live value of any type.
pub fn has(key: &str) -> Result<bool> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Has {
        #[serde(deserialize_with = "null_default")]
        exists: bool,
    }
    let has: Has = call("cache_has", raw_has, &Key { key })?;
    Ok(has.exists)
}

/// `cache_remove {key}`; removing a missing key is not an error.
pub fn remove(key: &str) -> Result<()> {
    let _: Empty = call("cache_remove", raw_remove, &Key { key })?;
    Ok(())
}
