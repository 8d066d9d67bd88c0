//! The SubsonicAPI service (spec §3.12, permission `subsonicapi`, which needs `users`): the
//! server's Subsonic API, called in-process as a user. The `u=` query parameter is required
//! and names that user, who must be in the plugin's users scope. Subsonic errors come back
//! inside the response, not as errors.
//!
//! ```no_run
//! # fn main() -> nd_pdk::Result<()> {
//! let json = nd_pdk::host::subsonicapi::call("getAlbumList2?type=random&size=5&u=alice")?;
//! let albums: serde_json::Value = serde_json::from_str(&json)?;
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ffi::import;
use crate::host::call as call_host;
use crate::wire::{b64, null_default};

import! {
    fn raw_call = "subsonicapi_call";
    fn raw_call_raw = "subsonicapi_callraw";
}

#[derive(Serialize)]
struct Request<'a> {
    uri: &'a str,
}

/// `subsonicapi_call {uri}`: the JSON text of the `subsonic-response` (`f=json` is forced).
pub fn call(uri: &str) -> Result<String> {
    #[derive(Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Answer {
        #[serde(deserialize_with = "null_default")]
        response_json: String,
    }
    let answer: Answer = call_host("subsonicapi_call", raw_call, &Request { uri })?;
    Ok(answer.response_json)
}

/// What [`call_raw`] returns: the endpoint's bytes and their content type (cover art,
/// streams, XML).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawResponse {
    /// The `Content-Type` of the answer.
    #[serde(deserialize_with = "null_default")]
    pub content_type: String,
    /// The answer's bytes.
    #[serde(with = "b64")]
    pub data: Vec<u8>,
}

/// `subsonicapi_callraw {uri}`: the endpoint's raw answer.
pub fn call_raw(uri: &str) -> Result<RawResponse> {
    call_host("subsonicapi_callraw", raw_call_raw, &Request { uri })
}
