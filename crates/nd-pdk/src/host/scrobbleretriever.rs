//! The ScrobbleRetriever service (spec §3.14, permission `scrobbleRetriever`, which needs
//! `users`): a user's listening history, for users in the plugin's scope.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ffi::import;
use crate::host::call;
use crate::wire::{is_zero_i32, null_default};

import! {
    fn raw_first = "scrobbleretriever_getfirsttimestamp";
    fn raw_last = "scrobbleretriever_getlasttimestamp";
    fn raw_scrobbles = "scrobbleretriever_getscrobbles";
    fn raw_count = "scrobbleretriever_getscrobblecount";
}

/// Which scrobbles [`get_scrobbles`] returns, and the page it continues from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScrobbleOptions {
    /// Only scrobbles at or after this time (unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_timestamp: Option<i64>,
    /// Only scrobbles at or before this time (unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_timestamp: Option<i64>,
    /// Newest first.
    #[serde(deserialize_with = "null_default")]
    pub descending: bool,
    /// The page size: at most 5000, 0 for 5000.
    #[serde(deserialize_with = "null_default")]
    pub max_items: i32,
    /// Scrobbles to skip (the host sets it in `next` for equal timestamps).
    #[serde(skip_serializing_if = "is_zero_i32", deserialize_with = "null_default")]
    pub offset: i32,
}

/// One scrobble.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Scrobble {
    /// The scrobble's id.
    #[serde(deserialize_with = "null_default")]
    pub id: i64,
    /// The media file that was played.
    #[serde(deserialize_with = "null_default")]
    pub media_file_id: String,
    /// When it was played, unix seconds.
    #[serde(deserialize_with = "null_default")]
    pub submission_time: i64,
}

/// One page of [`get_scrobbles`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScrobblePage {
    /// The scrobbles of this page.
    #[serde(deserialize_with = "null_default")]
    pub scrobbles: Vec<Scrobble>,
    /// The options for the next page; `None` on the last page.
    pub next: Option<ScrobbleOptions>,
}

#[derive(Serialize)]
struct User<'a> {
    username: &'a str,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Timestamp {
    result: Option<i64>,
}

/// `scrobbleretriever_getfirsttimestamp {username}`: the user's first scrobble time (unix
/// seconds), `None` without scrobbles.
pub fn first_timestamp(username: &str) -> Result<Option<i64>> {
    let answer: Timestamp = call(
        "scrobbleretriever_getfirsttimestamp",
        raw_first,
        &User { username },
    )?;
    Ok(answer.result)
}

/// `scrobbleretriever_getlasttimestamp {username}`: the user's latest scrobble time.
pub fn last_timestamp(username: &str) -> Result<Option<i64>> {
    let answer: Timestamp = call(
        "scrobbleretriever_getlasttimestamp",
        raw_last,
        &User { username },
    )?;
    Ok(answer.result)
}

/// `scrobbleretriever_getscrobbles {username, options}`: one page of scrobbles; pass
/// [`ScrobblePage::next`] back for the following page.
pub fn get_scrobbles(username: &str, options: &ScrobbleOptions) -> Result<ScrobblePage> {
    #[derive(Serialize)]
    struct Request<'a> {
        username: &'a str,
        options: &'a ScrobbleOptions,
    }
    call(
        "scrobbleretriever_getscrobbles",
        raw_scrobbles,
        &Request { username, options },
    )
}

/// `scrobbleretriever_getscrobblecount {username, options: {fromTimestamp?, toTimestamp?}}`:
/// how many scrobbles the user has in the range (unix seconds, both ends optional).
pub fn scrobble_count(
    username: &str,
    from_timestamp: Option<i64>,
    to_timestamp: Option<i64>,
) -> Result<i64> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Options {
        #[serde(skip_serializing_if = "Option::is_none")]
        from_timestamp: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        to_timestamp: Option<i64>,
    }
    #[derive(Serialize)]
    struct Request<'a> {
        username: &'a str,
        options: Options,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Answer {
        #[serde(deserialize_with = "null_default")]
        result: i64,
    }
    let request = Request {
        username,
        options: Options {
            from_timestamp,
            to_timestamp,
        },
    };
    let answer: Answer = call("scrobbleretriever_getscrobblecount", raw_count, &request)?;
    Ok(answer.result)
}
