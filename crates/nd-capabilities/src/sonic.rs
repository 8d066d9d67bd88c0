//! The SonicSimilarity capability (spec §4.2, v0.62+): audio-similarity lookups.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ExportCaller;
use crate::call::{Reply, decode, invoke};
use crate::error::CapabilityError;
use crate::types::{SongRef, SonicMatch, null_default};

pub(crate) const GET_SONIC_SIMILAR_TRACKS: &str = "nd_get_sonic_similar_tracks";
pub(crate) const FIND_SONIC_PATH: &str = "nd_find_sonic_path";

/// The SonicSimilarity adapter of one plugin. Both methods answer `Ok(None)` when the plugin
/// lacks the export, answers `-2`, empty output, `null` or no matches, and `Err` for a failed
/// call or malformed output.
#[derive(Clone)]
pub struct SonicSimilarity {
    caller: Arc<dyn ExportCaller>,
}

impl fmt::Debug for SonicSimilarity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SonicSimilarity")
            .field("plugin", &self.caller.plugin_id())
            .finish()
    }
}

#[derive(Serialize)]
struct SimilarTracksRequest<'a> {
    song: &'a SongRef,
    count: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SonicPathRequest<'a> {
    start_song: &'a SongRef,
    end_song: &'a SongRef,
    count: i32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MatchesAnswer {
    #[serde(deserialize_with = "null_default")]
    matches: Vec<SonicMatch>,
}

impl SonicSimilarity {
    /// The adapter for the plugin behind `caller`.
    pub fn new(caller: Arc<dyn ExportCaller>) -> Self {
        Self { caller }
    }

    /// The plugin id.
    pub fn plugin_id(&self) -> &str {
        self.caller.plugin_id()
    }

    /// `nd_get_sonic_similar_tracks {song, count}`: up to `count` tracks that sound like `song`.
    pub fn similar_tracks(
        &self,
        song: &SongRef,
        count: i32,
    ) -> Result<Option<Vec<SonicMatch>>, CapabilityError> {
        self.ask(
            GET_SONIC_SIMILAR_TRACKS,
            &SimilarTracksRequest { song, count },
        )
    }

    /// `nd_find_sonic_path {startSong, endSong, count}`: up to `count` tracks leading from
    /// `start` to `end`.
    pub fn sonic_path(
        &self,
        start: &SongRef,
        end: &SongRef,
        count: i32,
    ) -> Result<Option<Vec<SonicMatch>>, CapabilityError> {
        let request = SonicPathRequest {
            start_song: start,
            end_song: end,
            count,
        };
        self.ask(FIND_SONIC_PATH, &request)
    }

    fn ask(
        &self,
        export: &str,
        request: &impl Serialize,
    ) -> Result<Option<Vec<SonicMatch>>, CapabilityError> {
        let answer = match invoke(&*self.caller, export, request)? {
            Reply::Missing | Reply::NotImplemented => return Ok(None),
            Reply::Output(output) => decode::<MatchesAnswer>(&*self.caller, export, &output)?,
        };
        Ok(answer.map(|a| a.matches).filter(|m| !m.is_empty()))
    }
}
