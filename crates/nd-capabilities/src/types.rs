//! The shared DTOs of Navidrome's plugin API (`plugins/types`, spec §3.15 and §4.2), with
//! Go `encoding/json`'s wire rules: fields tagged `omitempty` in Go are left out when they
//! hold their zero value, the others are always written; on input every field is optional
//! and `null` reads as the zero value, as Go's decoder does.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// `null` reads as the type's default (Go decodes `null` into a zero value).
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

pub(crate) fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}
pub(crate) fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}
pub(crate) fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}
pub(crate) fn is_zero_f32(v: &f32) -> bool {
    *v == 0.0
}
pub(crate) fn is_false(v: &bool) -> bool {
    !*v
}

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
/// be plain, LRC, SRT, TTML or YAML (see [`LyricsText::format`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LyricsText {
    /// The language code. The [`crate::Lyrics`] adapter replaces an empty one with `xxx`.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_default"
    )]
    pub lang: String,
    /// The lyrics, in any of the formats of [`LyricsFormat`].
    #[serde(deserialize_with = "null_default")]
    pub text: String,
}

impl LyricsText {
    /// The format of [`LyricsText::text`], sniffed from its content.
    pub fn format(&self) -> LyricsFormat {
        LyricsFormat::sniff(&self.text)
    }
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

/// The format of a lyrics text, decided from its content the way Navidrome sniffs plugin
/// lyrics (`model.ParseLyrics` with no suffix): TTML, then SRT, then a Lyricsfile (YAML),
/// then LRC, with plain text as the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LyricsFormat {
    /// Unsynchronised text.
    Plain,
    /// LRC: lines led by `[mm:ss.xx]` time tags.
    Lrc,
    /// SubRip: `hh:mm:ss,mmm --> hh:mm:ss,mmm` cues.
    Srt,
    /// TTML: an XML document whose root element is `tt`.
    Ttml,
    /// A Lyricsfile: YAML with a `version: 1.0` line.
    Yaml,
}

impl LyricsFormat {
    /// Sniffs `text`; never fails (anything unrecognised is [`LyricsFormat::Plain`]).
    ///
    /// ```
    /// use nd_capabilities::types::LyricsFormat;
    /// assert_eq!(LyricsFormat::sniff("[00:12.34]hello"), LyricsFormat::Lrc);
    /// assert_eq!(LyricsFormat::sniff("<tt xmlns=\"http://www.w3.org/ns/ttml\"/>"), LyricsFormat::Ttml);
    /// assert_eq!(LyricsFormat::sniff("just words"), LyricsFormat::Plain);
    /// ```
    pub fn sniff(text: &str) -> LyricsFormat {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if sniff::is_ttml(text) {
            LyricsFormat::Ttml
        } else if sniff::is_srt(text) {
            LyricsFormat::Srt
        } else if sniff::is_lyricsfile(text) {
            LyricsFormat::Yaml
        } else if sniff::is_lrc(text) {
            LyricsFormat::Lrc
        } else {
            LyricsFormat::Plain
        }
    }

    /// A short lower-case name: `plain`, `lrc`, `srt`, `ttml` or `yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Lrc => "lrc",
            Self::Srt => "srt",
            Self::Ttml => "ttml",
            Self::Yaml => "yaml",
        }
    }
}

/// The content checks behind [`LyricsFormat::sniff`], hand-written equivalents of Navidrome's
/// claim regular expressions (`model/lyrics.go`).
mod sniff {
    /// `(?is)^\s*(<\?xml ...?>\s*)?(<!--...-->\s*)*<(prefix:)?tt(\s|/?>)`.
    pub(super) fn is_ttml(text: &str) -> bool {
        let mut rest = text.trim_start();
        if starts_with_ignore_case(rest, "<?xml") {
            match rest.find("?>") {
                Some(end) => rest = rest[end + 2..].trim_start(),
                None => return false,
            }
        }
        while let Some(comment) = rest.strip_prefix("<!--") {
            match comment.find("-->") {
                Some(end) => rest = comment[end + 3..].trim_start(),
                None => return false,
            }
        }
        let Some(tag) = rest.strip_prefix('<') else {
            return false;
        };
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .unwrap_or(tag.len());
        let (name, after) = tag.split_at(name_end);
        let local = match name.split_once(':') {
            Some((prefix, local)) if valid_prefix(prefix) => local,
            Some(_) => return false,
            None => name,
        };
        local.eq_ignore_ascii_case("tt")
            && (after.starts_with(|c: char| c.is_whitespace())
                || after.starts_with('>')
                || after.starts_with("/>"))
    }

    fn valid_prefix(prefix: &str) -> bool {
        let mut chars = prefix.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    }

    fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
        text.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    }

    /// A line `h?h:mm:ss[,.]m{1,3} --> h?h:mm:ss[,.]m{1,3}` (optionally after a cue number).
    pub(super) fn is_srt(text: &str) -> bool {
        text.lines().any(|line| {
            let Some((start, end)) = line.split_once("-->") else {
                return false;
            };
            is_srt_time(start.trim()) && {
                let end = end.trim_start();
                let stamp = end.split_whitespace().next().unwrap_or("");
                is_srt_time(stamp)
            }
        })
    }

    fn is_srt_time(stamp: &str) -> bool {
        let Some((hms, millis)) = stamp.split_once([',', '.']) else {
            return false;
        };
        let parts: Vec<&str> = hms.split(':').collect();
        let digits = |s: &str, min: usize, max: usize| {
            (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        parts.len() == 3
            && digits(parts[0], 1, 2)
            && digits(parts[1], 2, 2)
            && digits(parts[2], 2, 2)
            && digits(millis, 1, 3)
    }

    /// A line `version: 1.0`, key and value optionally quoted, case-insensitive.
    pub(super) fn is_lyricsfile(text: &str) -> bool {
        text.lines().any(|line| {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                return false;
            };
            let unquote = |s: &str| s.trim().trim_matches(|c| c == '"' || c == '\'').to_owned();
            unquote(key).eq_ignore_ascii_case("version") && unquote(value) == "1.0"
        })
    }

    /// A line that starts with a `[mm:ss]` or `[mm:ss.xx]` time tag.
    pub(super) fn is_lrc(text: &str) -> bool {
        text.lines().any(|line| {
            let Some(tag) = line.trim_start().strip_prefix('[') else {
                return false;
            };
            let Some((stamp, _)) = tag.split_once(']') else {
                return false;
            };
            let Some((minutes, seconds)) = stamp.split_once(':') else {
                return false;
            };
            let seconds = seconds.split_once(['.', ':']).map_or(seconds, |(s, _)| s);
            !minutes.is_empty()
                && minutes.bytes().all(|b| b.is_ascii_digit())
                && seconds.len() == 2
                && seconds.bytes().all(|b| b.is_ascii_digit())
        })
    }
}

#[cfg(test)]
mod tests;
