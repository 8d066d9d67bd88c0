//! The Artwork service (spec §3.11, permission `artwork`): public, signed URLs of artwork
//! that anyone can fetch without logging in (for example to show in Discord).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ffi::import;
use crate::host::call;
use crate::wire::null_default;

import! {
    fn raw_artist = "artwork_getartisturl";
    fn raw_album = "artwork_getalbumurl";
    fn raw_track = "artwork_gettrackurl";
    fn raw_playlist = "artwork_getplaylisturl";
}

#[derive(Serialize)]
struct Request<'a> {
    id: &'a str,
    size: i32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Answer {
    #[serde(deserialize_with = "null_default")]
    url: String,
}

fn url(
    function: &'static str,
    raw: fn(&[u8]) -> Result<Vec<u8>>,
    id: &str,
    size: i32,
) -> Result<String> {
    let answer: Answer = call(function, raw, &Request { id, size })?;
    Ok(answer.url)
}

/// `artwork_getartisturl {id, size}`: the image URL of artist `id`; `size` in pixels, 0
/// for the original.
pub fn artist_url(id: &str, size: i32) -> Result<String> {
    url("artwork_getartisturl", raw_artist, id, size)
}

/// `artwork_getalbumurl {id, size}`: the cover URL of album `id`.
pub fn album_url(id: &str, size: i32) -> Result<String> {
    url("artwork_getalbumurl", raw_album, id, size)
}

/// `artwork_gettrackurl {id, size}`: the cover URL of track (media file) `id`.
pub fn track_url(id: &str, size: i32) -> Result<String> {
    url("artwork_gettrackurl", raw_track, id, size)
}

/// `artwork_getplaylisturl {id, size}`: the image URL of playlist `id`.
pub fn playlist_url(id: &str, size: i32) -> Result<String> {
    url("artwork_getplaylisturl", raw_playlist, id, size)
}
