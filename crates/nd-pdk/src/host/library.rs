//! The Library service (spec §3.9, permission `library`, optional `filesystem: true`): the
//! music libraries the administrator allowed this plugin to see. With `filesystem`, each is
//! mounted read-only (unless the administrator allows writes) at its
//! [`Library::mount_point`], `/libraries/<id>`: walk it with `std::fs`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ffi::import;
use crate::host::call;
use crate::wire::null_default;

import! {
    fn raw_get = "library_getlibrary";
    fn raw_get_all = "library_getalllibraries";
}

/// A music library.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Library {
    /// The library id.
    #[serde(deserialize_with = "null_default")]
    pub id: i32,
    /// The library name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The folder on the host; only with `filesystem: true` (empty otherwise).
    #[serde(deserialize_with = "null_default")]
    pub path: String,
    /// Where the plugin sees the folder (`/libraries/<id>`); only with `filesystem: true`.
    #[serde(deserialize_with = "null_default")]
    pub mount_point: String,
    /// The last scan, unix seconds.
    #[serde(deserialize_with = "null_default")]
    pub last_scan_at: i64,
    /// Songs in the library.
    #[serde(deserialize_with = "null_default")]
    pub total_songs: i32,
    /// Albums in the library.
    #[serde(deserialize_with = "null_default")]
    pub total_albums: i32,
    /// Artists in the library.
    #[serde(deserialize_with = "null_default")]
    pub total_artists: i32,
    /// Bytes of audio.
    #[serde(deserialize_with = "null_default")]
    pub total_size: i64,
    /// Seconds of audio.
    #[serde(deserialize_with = "null_default")]
    pub total_duration: f64,
}

/// `library_getlibrary {id}`: one library. A library outside the plugin's scope is an error
/// (`library not accessible: ...`), whether or not it exists.
pub fn get_library(id: i32) -> Result<Library> {
    #[derive(Serialize)]
    struct Request {
        id: i32,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Answer {
        result: Option<Library>,
    }
    let answer: Answer = call("library_getlibrary", raw_get, &Request { id })?;
    answer.result.ok_or_else(|| {
        Error::call(
            "library_getlibrary",
            "the host returned neither a result nor an error",
        )
    })
}

/// `library_getalllibraries`: every library the plugin may see.
pub fn get_all_libraries() -> Result<Vec<Library>> {
    #[derive(Serialize)]
    struct Request {}
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Answer {
        #[serde(deserialize_with = "null_default")]
        result: Vec<Library>,
    }
    let answer: Answer = call("library_getalllibraries", raw_get_all, &Request {})?;
    Ok(answer.result)
}
