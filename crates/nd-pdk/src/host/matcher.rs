//! The Matcher service (spec §3.10, permission `matcher`, which needs `library`): finds the
//! library tracks behind abstract song references (by id, then MusicBrainz id, then ISRC,
//! then fuzzy title), limited to the plugin's libraries.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ffi::import;
use crate::host::call;
use crate::types::{SongRef, Track};
use crate::wire::null_default;

import! {
    fn raw_match_songs = "matcher_matchsongs";
}

/// `matcher_matchsongs {songs, opts: {username?}}`: one entry per song, in order, `None`
/// where nothing matched. With a `username` (which needs the `users` permission and scope)
/// the match runs as that user, and the tracks carry their stars and ratings; with `""` it
/// runs as an administrator.
pub fn match_songs(songs: &[SongRef], username: &str) -> Result<Vec<Option<Track>>> {
    #[derive(Serialize)]
    struct Options<'a> {
        #[serde(skip_serializing_if = "str::is_empty")]
        username: &'a str,
    }
    #[derive(Serialize)]
    struct Request<'a> {
        songs: &'a [SongRef],
        opts: Options<'a>,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Answer {
        #[serde(deserialize_with = "null_default")]
        results: Vec<Option<Track>>,
    }
    let request = Request {
        songs,
        opts: Options { username },
    };
    let answer: Answer = call("matcher_matchsongs", raw_match_songs, &request)?;
    if answer.results.len() != songs.len() {
        return Err(Error::call(
            "matcher_matchsongs",
            format!("{} results for {} songs", answer.results.len(), songs.len()),
        ));
    }
    Ok(answer.results)
}
