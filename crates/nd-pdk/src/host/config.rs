//! The Config service (spec §3.1, always available): the plugin's configuration, as the
//! administrator saved it, flattened to strings (spec §5.5: numbers, booleans, arrays and
//! objects arrive as their compact JSON text).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ffi::import;
use crate::host::call;
use crate::wire::null_default;

import! {
    fn raw_get = "config_get";
    fn raw_get_int = "config_getint";
    fn raw_keys = "config_keys";
}

#[derive(Serialize)]
struct KeyRequest<'a> {
    key: &'a str,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StringValue {
    #[serde(deserialize_with = "null_default")]
    value: String,
    #[serde(deserialize_with = "null_default")]
    exists: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IntValue {
    #[serde(deserialize_with = "null_default")]
    value: i64,
    #[serde(deserialize_with = "null_default")]
    exists: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Keys {
    #[serde(deserialize_with = "null_default")]
    keys: Vec<String>,
}

/// `config_get {key}`: the value of `key`, `None` when it is not set.
pub fn get(key: &str) -> Result<Option<String>> {
    let answer: StringValue = call("config_get", raw_get, &KeyRequest { key })?;
    Ok(answer.exists.then_some(answer.value))
}

/// `config_getint {key}`: the value of `key` as a base-10 `i64`; `None` when it is not set
/// or is not an integer.
pub fn get_int(key: &str) -> Result<Option<i64>> {
    let answer: IntValue = call("config_getint", raw_get_int, &KeyRequest { key })?;
    Ok(answer.exists.then_some(answer.value))
}

/// `config_keys {prefix}`: the keys starting with `prefix` (`""` for all), sorted.
pub fn keys(prefix: &str) -> Result<Vec<String>> {
    #[derive(Serialize)]
    struct Request<'a> {
        prefix: &'a str,
    }
    let answer: Keys = call("config_keys", raw_keys, &Request { prefix })?;
    Ok(answer.keys)
}

/// The same configuration through Extism's own lookup (`extism:host/env config_get`, what
/// `extism_pdk::config::get` reads), without a JSON round trip. `None` when `key` is not set
/// or its value is empty.
pub fn extism_get(key: &str) -> Result<Option<String>> {
    crate::ffi::extism_config(key)
}
