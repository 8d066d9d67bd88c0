//! The plugin-side DTOs of Navidrome's plugin API (`plugins/types`, spec §3.15 and §4.2), with
//! Go `encoding/json`'s wire rules: fields tagged `omitempty` in Go are left out when they
//! hold their zero value, the others are always written; on input every field is optional
//! and `null` reads as the zero value, as Go's decoder does.
//!
//! The shared types ([`ArtistRef`], [`SongRef`], [`TrackInfo`], [`Track`], the metadata
//! requests and answers, ...) serialize byte for byte like the host's
//! (`nd_capabilities::types`, checked by this module's tests); the event types
//! ([`NowPlayingRequest`], [`Task`], [`ScheduledEvent`], ...) are what the exports receive.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::wire::{
    b64, is_false, is_zero_f32, is_zero_i32, is_zero_i64, is_zero_u32, null_default,
};

/// `ArtistRef`: a reference to an artist, carrying matching keys only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ArtistRef {
    /// Navidrome's internal artist id, when known.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub id: String,
    /// The artist name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The MusicBrainz artist id, when known.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbid: String,
    /// The sort name, when known.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub sort_name: String,
    /// The participation role (`artist`, `composer`, ...) in `Track::participants`.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub role: String,
    /// The sub-role within `role` (e.g. an instrument), when known.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub sub_role: String,
}

/// `SongRef`: an abstract recording reference (matching keys only), exchanged both ways.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SongRef {
    /// Navidrome's internal media-file id, when known.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub id: String,
    /// The song title.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The MusicBrainz recording id, when known.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbid: String,
    /// The ISRC, when known.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub isrc: String,
    /// Deprecated in Navidrome: use `artists`.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub artist: String,
    /// Deprecated in Navidrome: use `artists`.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub artist_mbid: String,
    /// The song's artists.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub artists: Vec<ArtistRef>,
    /// The album name.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub album: String,
    /// The MusicBrainz release id.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub album_mbid: String,
    /// Seconds. Deprecated in Navidrome: `duration_ms` supersedes it when non-zero.
    #[serde(skip_serializing_if = "is_zero_f32", deserialize_with = "null_default")]
    pub duration: f32,
    /// Milliseconds; supersedes `duration` when non-zero.
    #[serde(skip_serializing_if = "is_zero_u32", deserialize_with = "null_default")]
    pub duration_ms: u32,
}

impl SongRef {
    /// The duration in milliseconds: `duration_ms`, else `duration` seconds (negative → 0).
    pub fn duration_in_ms(&self) -> u32 {
        if self.duration_ms != 0 {
            self.duration_ms
        } else if self.duration <= 0.0 {
            0
        } else {
            (self.duration * 1000.0) as u32
        }
    }

    /// Sets both duration fields from seconds, as Navidrome does before sending a `SongRef`.
    pub fn set_duration(&mut self, seconds: f32) {
        self.duration = seconds;
        self.duration_ms = if seconds < 0.0 {
            0
        } else {
            (seconds * 1000.0) as u32
        };
    }
}

/// `TrackInfo`: the track sent to scrobblers and lyrics providers (§4.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrackInfo {
    /// Navidrome's internal track id.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// The track title.
    #[serde(deserialize_with = "null_default")]
    pub title: String,
    /// The album name.
    #[serde(deserialize_with = "null_default")]
    pub album: String,
    /// The formatted artist name for display (e.g. `Artist1 • Artist2`).
    #[serde(deserialize_with = "null_default")]
    pub artist: String,
    /// The formatted album artist name for display.
    #[serde(deserialize_with = "null_default")]
    pub album_artist: String,
    /// The track artists (always written, `[]` when empty).
    #[serde(deserialize_with = "null_default")]
    pub artists: Vec<ArtistRef>,
    /// The album artists (always written, `[]` when empty).
    #[serde(deserialize_with = "null_default")]
    pub album_artists: Vec<ArtistRef>,
    /// Seconds.
    #[serde(deserialize_with = "null_default")]
    pub duration: f32,
    /// The track number on the album.
    #[serde(deserialize_with = "null_default")]
    pub track_number: i32,
    /// The disc number.
    #[serde(deserialize_with = "null_default")]
    pub disc_number: i32,
    /// The MusicBrainz recording id.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbz_recording_id: String,
    /// The MusicBrainz album (release) id.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbz_album_id: String,
    /// The MusicBrainz release group id.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbz_release_group_id: String,
    /// The MusicBrainz release track id.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbz_release_track_id: String,
    /// Present only when the plugin has filesystem access to the track's library.
    #[serde(skip_serializing_if = "is_zero_i32", deserialize_with = "null_default")]
    pub library_id: i32,
    /// Relative to the library root; present only with filesystem access.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub path: String,
}

/// `Track`: a concrete library media file, as the matcher returns it (`plugins/types/track.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Track {
    // Identity and location.
    /// Navidrome's media-file id.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// The id of the library the file belongs to.
    #[serde(deserialize_with = "null_default")]
    pub library_id: i32,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The library's name.
    pub library_name: String,
    /// Relative to the library root; present only with filesystem access.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub path: String,
    /// True when the file is no longer on disk.
    #[serde(deserialize_with = "null_default")]
    pub missing: bool,
    // Core metadata.
    /// The track title.
    #[serde(deserialize_with = "null_default")]
    pub title: String,
    /// The album name.
    #[serde(deserialize_with = "null_default")]
    pub album: String,
    /// The formatted artist name for display.
    #[serde(deserialize_with = "null_default")]
    pub artist: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The formatted album artist name for display.
    pub album_artist: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// Navidrome's album id.
    pub album_id: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The title for sorting.
    pub sort_title: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The album name for sorting.
    pub sort_album_name: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The artist name for sorting.
    pub sort_artist_name: String,
    // Track, disc, dates.
    /// The track number on its disc.
    #[serde(deserialize_with = "null_default")]
    pub track_number: i32,
    /// The disc number.
    #[serde(deserialize_with = "null_default")]
    pub disc_number: i32,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The disc subtitle.
    pub disc_subtitle: String,
    /// The recording year.
    #[serde(deserialize_with = "null_default")]
    pub year: i32,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The recording date, as tagged.
    pub date: String,
    /// The original release year.
    #[serde(deserialize_with = "null_default")]
    pub original_year: i32,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The original release date, as tagged.
    pub original_date: String,
    /// The release year of this edition.
    #[serde(deserialize_with = "null_default")]
    pub release_year: i32,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The release date of this edition, as tagged.
    pub release_date: String,
    // Audio and file.
    /// The file size in bytes.
    #[serde(deserialize_with = "null_default")]
    pub size: i64,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The file extension, without the dot.
    pub suffix: String,
    /// Seconds.
    #[serde(deserialize_with = "null_default")]
    pub duration: f64,
    /// The bit rate in kbit/s.
    #[serde(deserialize_with = "null_default")]
    pub bit_rate: i32,
    /// The sample rate in Hz.
    #[serde(deserialize_with = "null_default")]
    pub sample_rate: i32,
    /// The bit depth, when the format has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<i32>,
    /// The number of audio channels.
    #[serde(deserialize_with = "null_default")]
    pub channels: i32,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The codec name.
    pub codec: String,
    // Descriptive.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    /// The genres.
    pub genres: Vec<String>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The comment tag.
    pub comment: String,
    /// Beats per minute, when tagged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpm: Option<i32>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The explicit-content status (`c` clean, `e` explicit), when tagged.
    pub explicit_status: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The catalogue number.
    pub catalog_num: String,
    /// True for a compilation album.
    #[serde(deserialize_with = "null_default")]
    pub compilation: bool,
    /// True when the file has embedded cover art.
    #[serde(deserialize_with = "null_default")]
    pub has_cover_art: bool,
    // MusicBrainz.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The MusicBrainz recording id.
    pub mbz_recording_id: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The MusicBrainz release track id.
    pub mbz_release_track_id: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The MusicBrainz release id.
    pub mbz_album_id: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The MusicBrainz release group id.
    pub mbz_release_group_id: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The MusicBrainz release type.
    pub mbz_album_type: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    /// The MusicBrainz release disambiguation comment.
    pub mbz_album_comment: String,
    // ReplayGain: `None` means no data (0 is a measured value).
    /// ReplayGain album gain in dB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rg_album_gain: Option<f64>,
    /// ReplayGain album peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rg_album_peak: Option<f64>,
    /// ReplayGain track gain in dB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rg_track_gain: Option<f64>,
    /// ReplayGain track peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rg_track_peak: Option<f64>,
    // Timestamps, unix seconds.
    /// When the file was first seen, unix seconds.
    #[serde(deserialize_with = "null_default")]
    pub birth_time: i64,
    /// When the record was created, unix seconds.
    #[serde(deserialize_with = "null_default")]
    pub created_at: i64,
    /// When the record was last updated, unix seconds.
    #[serde(deserialize_with = "null_default")]
    pub updated_at: i64,
    /// Mean rating across all users; 0 when unrated.
    #[serde(deserialize_with = "null_default")]
    pub average_rating: f64,
    // Per-user annotations, set only for a user-scoped match.
    /// Whether the user starred the track.
    #[serde(skip_serializing_if = "is_false", deserialize_with = "null_default")]
    pub starred: bool,
    /// When the user starred it, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starred_at: Option<i64>,
    /// The user's rating, 1 to 5; 0 when unrated.
    #[serde(skip_serializing_if = "is_zero_i32", deserialize_with = "null_default")]
    pub rating: i32,
    /// How often the user played it.
    #[serde(skip_serializing_if = "is_zero_i64", deserialize_with = "null_default")]
    pub play_count: i64,
    /// When the user last played it, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub play_date: Option<i64>,
    // Composite.
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_default"
    )]
    /// Every tag, by lower-case name.
    pub tags: BTreeMap<String, Vec<String>>,
    /// The track's artists across all roles, each with its `role`.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub participants: Vec<ArtistRef>,
}

// ---------------------------------------------------------------------------------------------
// Capability requests and answers (spec §4.2; Navidrome `plugins/capabilities/*.go`). Requests
// are written by the host, answers read from the plugin; both derive both directions so that
// a Rust plugin or a test can use the same types.
// ---------------------------------------------------------------------------------------------

/// `ArtistMBIDRequest`, the input of `nd_get_artist_mbid`: `{id, name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ArtistMbidRequest {
    /// Navidrome's internal artist id.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// The artist name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
}

/// `ArtistRequest`, the input of `nd_get_artist_url`, `nd_get_artist_biography` and
/// `nd_get_artist_images`: `{id, name, mbid?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ArtistRequest {
    /// Navidrome's internal artist id.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// The artist name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The MusicBrainz artist id, if known (left out when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbid: String,
}

/// `SimilarArtistsRequest`, the input of `nd_get_similar_artists`: `{id, name, mbid?, limit}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SimilarArtistsRequest {
    /// Navidrome's internal artist id.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// The artist name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The MusicBrainz artist id, if known (left out when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbid: String,
    /// The maximum number of similar artists to return.
    #[serde(deserialize_with = "null_default")]
    pub limit: i32,
}

/// `TopSongsRequest`, the input of `nd_get_artist_top_songs`: `{id, name, mbid?, count}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopSongsRequest {
    /// Navidrome's internal artist id.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// The artist name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The MusicBrainz artist id, if known (left out when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbid: String,
    /// The maximum number of songs to return.
    #[serde(deserialize_with = "null_default")]
    pub count: i32,
}

/// `AlbumRequest`, the input of `nd_get_album_info` and `nd_get_album_images`:
/// `{name, artist, mbid?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlbumRequest {
    /// The album name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The album artist name.
    #[serde(deserialize_with = "null_default")]
    pub artist: String,
    /// The MusicBrainz release id, if known (left out when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbid: String,
}

/// `SimilarSongsByTrackRequest`, the input of `nd_get_similar_songs_by_track`:
/// `{id, name, artist, mbid?, count}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SimilarSongsByTrackRequest {
    /// Navidrome's internal media-file id.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// The track title.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The artist name.
    #[serde(deserialize_with = "null_default")]
    pub artist: String,
    /// The MusicBrainz recording id, if known (left out when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbid: String,
    /// The maximum number of songs to return.
    #[serde(deserialize_with = "null_default")]
    pub count: i32,
}

/// `SimilarSongsByAlbumRequest`, the input of `nd_get_similar_songs_by_album`:
/// `{id, name, artist, mbid?, count}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SimilarSongsByAlbumRequest {
    /// Navidrome's internal album id.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// The album name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The album artist name.
    #[serde(deserialize_with = "null_default")]
    pub artist: String,
    /// The MusicBrainz release id, if known (left out when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbid: String,
    /// The maximum number of songs to return.
    #[serde(deserialize_with = "null_default")]
    pub count: i32,
}

/// `SimilarSongsByArtistRequest`, the input of `nd_get_similar_songs_by_artist`:
/// `{id, name, mbid?, count}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SimilarSongsByArtistRequest {
    /// Navidrome's internal artist id.
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    /// The artist name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The MusicBrainz artist id, if known (left out when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub mbid: String,
    /// The maximum number of songs to return.
    #[serde(deserialize_with = "null_default")]
    pub count: i32,
}

/// `ImageInfo`: an artist or album image, `{url, size}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ImageInfo {
    /// The image URL.
    #[serde(deserialize_with = "null_default")]
    pub url: String,
    /// The image size in pixels (width or height).
    #[serde(deserialize_with = "null_default")]
    pub size: i32,
}

/// `AlbumInfoResponse`, the answer of `nd_get_album_info`: `{name, mbid, description, url}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlbumInfo {
    /// The album name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// The MusicBrainz release id.
    #[serde(deserialize_with = "null_default")]
    pub mbid: String,
    /// The album description or notes.
    #[serde(deserialize_with = "null_default")]
    pub description: String,
    /// The album's external URL.
    #[serde(deserialize_with = "null_default")]
    pub url: String,
}

/// The playback state of a [`PlaybackReport`], written in lower case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaybackState {
    /// Playback is about to start.
    #[default]
    Starting,
    /// Playing.
    Playing,
    /// Paused by the user.
    Paused,
    /// Stopped by the user.
    Stopped,
    /// The session expired without a report from the player.
    Expired,
}

impl PlaybackState {
    /// The wire text: `starting`, `playing`, `paused`, `stopped` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Playing => "playing",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
            Self::Expired => "expired",
        }
    }
}

/// `PlaybackReportRequest`, the input of `nd_scrobbler_playback_report` (v0.62+):
/// `{username, track, state, positionMs, playbackRate, playerId, playerName, timestamp}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlaybackReport {
    /// The user the report is about.
    #[serde(deserialize_with = "null_default")]
    pub username: String,
    /// The track being played.
    #[serde(deserialize_with = "null_default")]
    pub track: TrackInfo,
    /// The playback state.
    pub state: PlaybackState,
    /// The playback position in milliseconds.
    #[serde(deserialize_with = "null_default")]
    pub position_ms: i64,
    /// The playback speed (1.0 is normal).
    #[serde(deserialize_with = "null_default")]
    pub playback_rate: f64,
    /// The player's unique client id.
    #[serde(deserialize_with = "null_default")]
    pub player_id: String,
    /// The player's human-readable name.
    #[serde(deserialize_with = "null_default")]
    pub player_name: String,
    /// Unix seconds when the report was generated.
    #[serde(deserialize_with = "null_default")]
    pub timestamp: i64,
}

/// `LyricsText`, one entry of `nd_lyrics_get_lyrics`'s answer: `{lang?, text}`. The text may
/// be plain, LRC, SRT, TTML or YAML.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LyricsText {
    /// The language code. The host replaces an empty one with `xxx`.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub lang: String,
    /// The lyrics (plain, LRC, SRT, TTML or YAML; the host sniffs which).
    #[serde(deserialize_with = "null_default")]
    pub text: String,
}

/// `SonicMatch`, one entry of a sonic-similarity answer: `{song, similarity}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SonicMatch {
    /// The matched song.
    #[serde(deserialize_with = "null_default")]
    pub song: SongRef,
    /// How similar it is, from 0 to 1 as the plugin scores it.
    #[serde(deserialize_with = "null_default")]
    pub similarity: f64,
}

// ---------------------------------------------------------------------------------------------
// What the other exports receive (spec §4.2). The host writes these; a plugin reads them.
// ---------------------------------------------------------------------------------------------

/// The input of `nd_scrobbler_is_authorized`: `{username}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IsAuthorizedRequest {
    /// The Navidrome user name.
    #[serde(deserialize_with = "null_default")]
    pub username: String,
}

/// The input of `nd_scrobbler_now_playing`: `{username, track, position}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NowPlayingRequest {
    /// The Navidrome user name.
    #[serde(deserialize_with = "null_default")]
    pub username: String,
    /// The track being played.
    #[serde(deserialize_with = "null_default")]
    pub track: TrackInfo,
    /// The playback position in seconds.
    #[serde(deserialize_with = "null_default")]
    pub position: i32,
}

/// The input of `nd_scrobbler_scrobble`: `{username, track, timestamp}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScrobbleRequest {
    /// The Navidrome user name.
    #[serde(deserialize_with = "null_default")]
    pub username: String,
    /// The track that was played.
    #[serde(deserialize_with = "null_default")]
    pub track: TrackInfo,
    /// When the track started playing, unix seconds.
    #[serde(deserialize_with = "null_default")]
    pub timestamp: i64,
}

/// The input of `nd_lyrics_get_lyrics`: `{track}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LyricsRequest {
    /// The track whose lyrics are wanted.
    #[serde(deserialize_with = "null_default")]
    pub track: TrackInfo,
}

/// The input of `nd_get_sonic_similar_tracks`: `{song, count}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SonicSimilarRequest {
    /// The song to find neighbours of.
    #[serde(deserialize_with = "null_default")]
    pub song: SongRef,
    /// The maximum number of matches to return.
    #[serde(deserialize_with = "null_default")]
    pub count: i32,
}

/// The input of `nd_find_sonic_path`: `{startSong, endSong, count}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SonicPathRequest {
    /// Where the path starts.
    #[serde(deserialize_with = "null_default")]
    pub start_song: SongRef,
    /// Where the path ends.
    #[serde(deserialize_with = "null_default")]
    pub end_song: SongRef,
    /// The maximum number of songs on the path.
    #[serde(deserialize_with = "null_default")]
    pub count: i32,
}

/// The input of `nd_task_execute`: `{queueName, taskId, payload, attempt}`, with the
/// payload already decoded from base64.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Task {
    /// The queue the task was enqueued on.
    #[serde(deserialize_with = "null_default")]
    pub queue_name: String,
    /// The task id [`host::taskqueue::enqueue`](crate::host::taskqueue::enqueue) returned.
    #[serde(deserialize_with = "null_default")]
    pub task_id: String,
    /// The payload given to `enqueue`.
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
    /// 1 on the first run, 2 on the first retry, ...
    #[serde(deserialize_with = "null_default")]
    pub attempt: i32,
}

/// The input of `nd_scheduler_callback`: `{scheduleId, payload, isRecurring}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScheduledEvent {
    /// The schedule's id (given or generated when it was scheduled).
    #[serde(deserialize_with = "null_default")]
    pub schedule_id: String,
    /// The payload given when it was scheduled.
    #[serde(deserialize_with = "null_default")]
    pub payload: String,
    /// Whether it is a recurring schedule (it fires again).
    #[serde(deserialize_with = "null_default")]
    pub is_recurring: bool,
}

/// The input of `nd_websocket_on_text_message`: `{connectionId, message}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TextMessage {
    /// The connection the frame arrived on.
    #[serde(deserialize_with = "null_default")]
    pub connection_id: String,
    /// The text frame.
    #[serde(deserialize_with = "null_default")]
    pub message: String,
}

/// The input of `nd_websocket_on_binary_message`: `{connectionId, data}`, with the data
/// decoded from base64.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BinaryMessage {
    /// The connection the frame arrived on.
    #[serde(deserialize_with = "null_default")]
    pub connection_id: String,
    /// The binary frame.
    #[serde(with = "b64")]
    pub data: Vec<u8>,
}

/// The input of `nd_websocket_on_error`: `{connectionId, error}`. The connection is gone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrorEvent {
    /// The connection that failed.
    #[serde(deserialize_with = "null_default")]
    pub connection_id: String,
    /// What went wrong.
    #[serde(deserialize_with = "null_default")]
    pub error: String,
}

/// The input of `nd_websocket_on_close`: `{connectionId, code, reason}`. The connection is
/// gone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CloseEvent {
    /// The connection that closed.
    #[serde(deserialize_with = "null_default")]
    pub connection_id: String,
    /// The close code (1000 normal, 1001 going away, ...).
    #[serde(deserialize_with = "null_default")]
    pub code: i32,
    /// The close reason.
    #[serde(deserialize_with = "null_default")]
    pub reason: String,
}

#[cfg(test)]
mod tests;
