//! The Storage service (spec §3.6, permission `storage`): a private read-write folder,
//! mounted through WASI at the path this returns (`/storage`). Use `std::fs` on it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ffi::import;
use crate::host::call;
use crate::wire::null_default;

import! {
    fn raw_path = "storage_getstoragepath";
}

/// `storage_getstoragepath`: where the plugin's storage folder is mounted (`/storage`).
pub fn storage_path() -> Result<String> {
    #[derive(Serialize)]
    struct Request {}
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Answer {
        #[serde(deserialize_with = "null_default")]
        result: String,
    }
    let answer: Answer = call("storage_getstoragepath", raw_path, &Request {})?;
    if answer.result.is_empty() {
        return Err(Error::call(
            "storage_getstoragepath",
            "the host returned no path",
        ));
    }
    Ok(answer.result)
}
