//! The in-memory catalog one scan produces: media files, albums, artists and library totals.
//! A catalog is immutable; a rescan builds a new one and swaps it in.

use std::collections::HashMap;
use std::path::PathBuf;

use nd_capabilities::types::Track;
use nd_host_appdata::provider::LibraryInfo;

use crate::ScanReport;

/// An album as the library groups it: one per (library, album artist, album name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlbumInfo {
    pub id: String,
    pub name: String,
    /// The album artist (`Various Artists` for a compilation without one).
    pub artist: String,
    pub artist_id: String,
    pub library_id: i32,
    /// The earliest non-zero year of its tracks; 0 when none has one.
    pub year: i32,
    pub genres: Vec<String>,
    pub song_count: i32,
    /// Seconds.
    pub duration: f64,
    /// Bytes.
    pub size: i64,
    pub compilation: bool,
    pub mbz_album_id: String,
    pub mbz_release_group_id: String,
    /// Unix seconds: the earliest `created_at` of its tracks.
    pub created_at: i64,
    /// A track with embedded cover art, if any.
    pub cover_track_id: Option<String>,
    /// Track ids by disc, track number and title.
    pub track_ids: Vec<String>,
}

/// An artist: anyone credited as a track artist or an album artist, across libraries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArtistInfo {
    pub id: String,
    pub name: String,
    /// The name without a leading article (`Midnight Owls` for `The Midnight Owls`).
    pub sort_name: String,
    pub mbz_artist_id: String,
    /// Albums this artist is the album artist of.
    pub album_ids: Vec<String>,
    /// Tracks this artist performs on.
    pub song_count: i32,
}

/// A scanned file: the public [`Track`] (path relative to its library root, no per-user
/// annotations) plus what matching and the Subsonic API need.
#[derive(Debug, Clone, Default)]
pub(crate) struct MediaFile {
    pub track: Track,
    pub abs_path: PathBuf,
    pub content_type: &'static str,
    pub artist_id: String,
    pub album_artist_id: String,
    /// Track artists (at least one), in tag order.
    pub artists: Vec<(String, String)>,
    pub artist_mbid: String,
    pub isrcs: Vec<String>,
    pub norm_title: String,
    pub norm_album: String,
    /// Normalized (article-free) names of every artist credited: track artists, album artist.
    pub norm_artists: Vec<String>,
}

/// One scan's result.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    pub libraries: Vec<LibraryInfo>,
    /// Sorted by (library id, relative path).
    pub files: Vec<MediaFile>,
    pub file_index: HashMap<String, usize>,
    /// Sorted by album artist sort name, then album name.
    pub albums: Vec<AlbumInfo>,
    pub album_index: HashMap<String, usize>,
    /// Sorted by sort name.
    pub artists: Vec<ArtistInfo>,
    pub artist_index: HashMap<String, usize>,
    pub report: ScanReport,
}

impl Catalog {
    pub(crate) fn file(&self, id: &str) -> Option<&MediaFile> {
        self.file_index.get(id).map(|&i| &self.files[i])
    }

    pub(crate) fn album(&self, id: &str) -> Option<&AlbumInfo> {
        self.album_index.get(id).map(|&i| &self.albums[i])
    }

    pub(crate) fn artist(&self, id: &str) -> Option<&ArtistInfo> {
        self.artist_index.get(id).map(|&i| &self.artists[i])
    }
}
