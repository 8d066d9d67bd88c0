//! Typed wrappers for every Navidrome host service (spec §3), one module per service. Each
//! function sends the request JSON the host expects and reads its response with Go's wire
//! rules (spec §2.4): bytes as standard base64, zero values omitted by the host, `null` read
//! as the zero value, and a failure only when the response has a non-empty `error` (then
//! [`Error::message`](crate::Error::message) is the host's text exactly).
//!
//! A service works only when the manifest grants its permission (the module docs name it);
//! otherwise the plugin does not even load, because it imports a function the host did not
//! provide. Only the functions a plugin calls are imported.
//!
//! | module | permission | functions |
//! |---|---|---|
//! | [`config`] | none (always) | `config_get`, `config_getint`, `config_keys` |
//! | [`http`] | `http` | `http_send` |
//! | [`scheduler`] | `scheduler` | `scheduler_scheduleonetime`, `_schedulerecurring`, `_cancelschedule` |
//! | [`cache`] | `cache` | `cache_{set,get}{string,int,float,bytes}`, `cache_has`, `cache_remove` |
//! | [`kvstore`] | `kvstore` | `kvstore_set`, `_setwithttl`, `_get`, `_getmany`, `_has`, `_list`, `_delete`, `_deletebyprefix`, `_getstorageused` |
//! | [`storage`] | `storage` | `storage_getstoragepath` |
//! | [`taskqueue`] | `taskqueue` | `task_createqueue`, `task_enqueue`, `task_get`, `task_cancel`, `task_clearqueue` |
//! | [`websocket`] | `websocket` | `websocket_connect`, `_sendtext`, `_sendbinary`, `_closeconnection` |
//! | [`library`] | `library` | `library_getlibrary`, `library_getalllibraries` |
//! | [`matcher`] | `matcher` (+ `library`) | `matcher_matchsongs` |
//! | [`artwork`] | `artwork` | `artwork_get{artist,album,track,playlist}url` |
//! | [`subsonicapi`] | `subsonicapi` (+ `users`) | `subsonicapi_call`, `subsonicapi_callraw` |
//! | [`users`] | `users` | `users_getusers`, `users_getadmins` |
//! | [`scrobbleretriever`] | `scrobbleRetriever` (+ `users`) | `scrobbleretriever_get{first,last}timestamp`, `_getscrobbles`, `_getscrobblecount` |

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

pub mod artwork;
pub mod cache;
pub mod config;
pub mod http;
pub mod kvstore;
pub mod library;
pub mod matcher;
pub mod scheduler;
pub mod scrobbleretriever;
pub mod storage;
pub mod subsonicapi;
pub mod taskqueue;
pub mod users;
pub mod websocket;

/// Calls host function `function` through its import `raw` with `request` as JSON, and
/// decodes the response into `R` (a response struct whose every field has a default).
pub(crate) fn call<R: DeserializeOwned>(
    function: &'static str,
    raw: fn(&[u8]) -> Result<Vec<u8>>,
    request: &impl Serialize,
) -> Result<R> {
    let body = serde_json::to_vec(request)
        .map_err(|e| Error::call(function, format!("cannot encode the request: {e}")))?;
    let response = raw(&body)?;
    decode(function, &response)
}

/// Reads a response: `{}` when empty or `null` (Go decodes `null` into a zero struct), an
/// error for a non-empty `error`, else `R`.
pub(crate) fn decode<R: DeserializeOwned>(function: &'static str, response: &[u8]) -> Result<R> {
    let value: Value = if response.is_empty() || response == b"null" {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(response).map_err(|e| {
            Error::call(
                function,
                format!(
                    "the response is not JSON ({e}): {}",
                    String::from_utf8_lossy(&response[..response.len().min(200)])
                ),
            )
        })?
    };
    if let Some(message) = value.get("error").and_then(Value::as_str)
        && !message.is_empty()
    {
        return Err(Error::host(function, message));
    }
    serde_json::from_value(value)
        .map_err(|e| Error::call(function, format!("unexpected response: {e}")))
}

/// A response without fields (`{}` or `{"error": ...}`).
#[derive(serde::Deserialize, Default)]
pub(crate) struct Empty {}

#[cfg(test)]
mod tests;
