//! The MetadataAgent capability (spec §4.2): 11 optional exports answering artist, album and
//! similar-song questions, with Navidrome's "not found" versus failure split (#5953).

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::ExportCaller;
use crate::call::{Reply, decode, invoke};
use crate::error::CapabilityError;
use crate::types::{
    AlbumInfo, AlbumRequest, ArtistMbidRequest, ArtistRef, ArtistRequest, ImageInfo,
    SimilarArtistsRequest, SimilarSongsByAlbumRequest, SimilarSongsByArtistRequest,
    SimilarSongsByTrackRequest, SongRef, TopSongsRequest, null_default,
};

/// `nd_get_artist_mbid`.
pub(crate) const GET_ARTIST_MBID: &str = "nd_get_artist_mbid";
/// `nd_get_artist_url`.
pub(crate) const GET_ARTIST_URL: &str = "nd_get_artist_url";
/// `nd_get_artist_biography`.
pub(crate) const GET_ARTIST_BIOGRAPHY: &str = "nd_get_artist_biography";
/// `nd_get_similar_artists`.
pub(crate) const GET_SIMILAR_ARTISTS: &str = "nd_get_similar_artists";
/// `nd_get_artist_images`.
pub(crate) const GET_ARTIST_IMAGES: &str = "nd_get_artist_images";
/// `nd_get_artist_top_songs`.
pub(crate) const GET_ARTIST_TOP_SONGS: &str = "nd_get_artist_top_songs";
/// `nd_get_album_info`.
pub(crate) const GET_ALBUM_INFO: &str = "nd_get_album_info";
/// `nd_get_album_images`.
pub(crate) const GET_ALBUM_IMAGES: &str = "nd_get_album_images";
/// `nd_get_similar_songs_by_track`.
pub(crate) const GET_SIMILAR_SONGS_BY_TRACK: &str = "nd_get_similar_songs_by_track";
/// `nd_get_similar_songs_by_album`.
pub(crate) const GET_SIMILAR_SONGS_BY_ALBUM: &str = "nd_get_similar_songs_by_album";
/// `nd_get_similar_songs_by_artist`.
pub(crate) const GET_SIMILAR_SONGS_BY_ARTIST: &str = "nd_get_similar_songs_by_artist";

/// The MetadataAgent adapter of one plugin.
///
/// Every method answers `Ok(Some(_))` with data, `Ok(None)` for "not found" (the plugin does
/// not export the method, returned `-2`, returned empty output or `null`, or an empty
/// value or list), and `Err` only for a real failure (a plugin error, a trap, a timeout, an
/// output that is not the expected JSON). Navidrome's agent layer retries failures and
/// caches "not found".
#[derive(Clone)]
pub struct MetadataAgent {
    caller: Arc<dyn ExportCaller>,
}

impl fmt::Debug for MetadataAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataAgent")
            .field("plugin", &self.caller.plugin_id())
            .finish()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MbidAnswer {
    #[serde(deserialize_with = "null_default")]
    mbid: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UrlAnswer {
    #[serde(deserialize_with = "null_default")]
    url: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BiographyAnswer {
    #[serde(deserialize_with = "null_default")]
    biography: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArtistsAnswer {
    #[serde(deserialize_with = "null_default")]
    artists: Vec<ArtistRef>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ImagesAnswer {
    #[serde(deserialize_with = "null_default")]
    images: Vec<ImageInfo>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SongsAnswer {
    #[serde(deserialize_with = "null_default")]
    songs: Vec<SongRef>,
}

/// `Some(v)` unless `v` is its type's "nothing" (an empty string or list).
fn non_empty<T: IsEmpty>(value: T) -> Option<T> {
    (!value.is_empty()).then_some(value)
}

trait IsEmpty {
    fn is_empty(&self) -> bool;
}

impl IsEmpty for String {
    fn is_empty(&self) -> bool {
        str::is_empty(self)
    }
}

impl<T> IsEmpty for Vec<T> {
    fn is_empty(&self) -> bool {
        <[T]>::is_empty(self)
    }
}

impl MetadataAgent {
    /// The adapter for the plugin behind `caller`. It works whatever the plugin exports:
    /// methods it lacks answer "not found".
    pub fn new(caller: Arc<dyn ExportCaller>) -> Self {
        Self { caller }
    }

    /// The plugin id.
    pub fn plugin_id(&self) -> &str {
        self.caller.plugin_id()
    }

    /// Whether the plugin exports `export` (one of this module's constants). A Go PDK plugin
    /// exports all 11 and answers `-2` for those it did not register.
    pub fn exports(&self, export: &str) -> bool {
        self.caller.has_export(export)
    }

    /// Calls `export` and decodes its answer as Go's nil-able `*Answer`.
    fn ask<A: DeserializeOwned>(
        &self,
        export: &str,
        request: &impl serde::Serialize,
    ) -> Result<Option<A>, CapabilityError> {
        match invoke(&*self.caller, export, request)? {
            Reply::Missing | Reply::NotImplemented => Ok(None),
            Reply::Output(output) => decode(&*self.caller, export, &output),
        }
    }

    /// `nd_get_artist_mbid`: the MusicBrainz id of an artist; an empty `mbid` is "not found".
    pub fn artist_mbid(
        &self,
        request: &ArtistMbidRequest,
    ) -> Result<Option<String>, CapabilityError> {
        Ok(self
            .ask::<MbidAnswer>(GET_ARTIST_MBID, request)?
            .and_then(|a| non_empty(a.mbid)))
    }

    /// `nd_get_artist_url`: an external URL of the artist; an empty `url` is "not found".
    pub fn artist_url(&self, request: &ArtistRequest) -> Result<Option<String>, CapabilityError> {
        Ok(self
            .ask::<UrlAnswer>(GET_ARTIST_URL, request)?
            .and_then(|a| non_empty(a.url)))
    }

    /// `nd_get_artist_biography`: the artist's biography; an empty one is "not found".
    pub fn artist_biography(
        &self,
        request: &ArtistRequest,
    ) -> Result<Option<String>, CapabilityError> {
        Ok(self
            .ask::<BiographyAnswer>(GET_ARTIST_BIOGRAPHY, request)?
            .and_then(|a| non_empty(a.biography)))
    }

    /// `nd_get_similar_artists`: artists similar to this one; an empty list is "not found".
    pub fn similar_artists(
        &self,
        request: &SimilarArtistsRequest,
    ) -> Result<Option<Vec<ArtistRef>>, CapabilityError> {
        Ok(self
            .ask::<ArtistsAnswer>(GET_SIMILAR_ARTISTS, request)?
            .and_then(|a| non_empty(a.artists)))
    }

    /// `nd_get_artist_images`: images of the artist; an empty list is "not found".
    pub fn artist_images(
        &self,
        request: &ArtistRequest,
    ) -> Result<Option<Vec<ImageInfo>>, CapabilityError> {
        Ok(self
            .ask::<ImagesAnswer>(GET_ARTIST_IMAGES, request)?
            .and_then(|a| non_empty(a.images)))
    }

    /// `nd_get_artist_top_songs`: the artist's top songs; an empty list is "not found".
    pub fn artist_top_songs(
        &self,
        request: &TopSongsRequest,
    ) -> Result<Option<Vec<SongRef>>, CapabilityError> {
        Ok(self
            .ask::<SongsAnswer>(GET_ARTIST_TOP_SONGS, request)?
            .and_then(|a| non_empty(a.songs)))
    }

    /// `nd_get_album_info`: name, MBID, description and URL of an album. Only a `null` (or
    /// empty) answer is "not found": as in Navidrome, an object with empty fields is data.
    pub fn album_info(&self, request: &AlbumRequest) -> Result<Option<AlbumInfo>, CapabilityError> {
        self.ask::<AlbumInfo>(GET_ALBUM_INFO, request)
    }

    /// `nd_get_album_images`: images of the album; an empty list is "not found".
    pub fn album_images(
        &self,
        request: &AlbumRequest,
    ) -> Result<Option<Vec<ImageInfo>>, CapabilityError> {
        Ok(self
            .ask::<ImagesAnswer>(GET_ALBUM_IMAGES, request)?
            .and_then(|a| non_empty(a.images)))
    }

    /// `nd_get_similar_songs_by_track`: songs similar to a track; an empty list is "not found".
    pub fn similar_songs_by_track(
        &self,
        request: &SimilarSongsByTrackRequest,
    ) -> Result<Option<Vec<SongRef>>, CapabilityError> {
        Ok(self
            .ask::<SongsAnswer>(GET_SIMILAR_SONGS_BY_TRACK, request)?
            .and_then(|a| non_empty(a.songs)))
    }

    /// `nd_get_similar_songs_by_album`: songs similar to an album's; an empty list is "not
    /// found".
    pub fn similar_songs_by_album(
        &self,
        request: &SimilarSongsByAlbumRequest,
    ) -> Result<Option<Vec<SongRef>>, CapabilityError> {
        Ok(self
            .ask::<SongsAnswer>(GET_SIMILAR_SONGS_BY_ALBUM, request)?
            .and_then(|a| non_empty(a.songs)))
    }

    /// `nd_get_similar_songs_by_artist`: songs similar to an artist's catalogue; an empty list
    /// is "not found".
    pub fn similar_songs_by_artist(
        &self,
        request: &SimilarSongsByArtistRequest,
    ) -> Result<Option<Vec<SongRef>>, CapabilityError> {
        Ok(self
            .ask::<SongsAnswer>(GET_SIMILAR_SONGS_BY_ARTIST, request)?
            .and_then(|a| non_empty(a.songs)))
    }
}
