//! A small, real music library for ndp and for applications that embed it: it scans music
//! folders on disk, reads their tags with [lofty], and implements every app-data provider
//! trait of `nd-host-appdata` ([`LibraryProvider`], [`UserProvider`], [`ArtworkProvider`],
//! [`MatchProvider`], [`ScrobbleProvider`] and [`SubsonicProvider`]) over what it found. The
//! [`demo`] module writes a small deterministic catalog of genuine FLAC and WAV files, which
//! the `ndp` CLI, the demo and the manager's integration tests serve.
//!
//! What it is not: it is not a Navidrome database and reads none. It keeps the catalog in
//! memory (a rescan rebuilds it), keeps users and their annotations (stars, ratings) in the
//! [`LibraryConfig`] it was opened with, and persists only the scrobble history, and only
//! when [`LibraryConfig::scrobble_log`] names a file. It does not stream or transcode audio,
//! serve images or speak HTTP: its Subsonic API is a read-only subset dispatched in-process
//! (see [`SubsonicProvider`] on [`MusicLibrary`]). Per-plugin scoping of users and libraries
//! is the host services' job (`nd-host-appdata`), not this crate's.
//!
//! Identifiers are stable across rescans and restarts: a track's id is derived from its
//! library id and path relative to the library root ([`track_id`]); albums and artists are
//! keyed by their normalized names.
//!
//! ```no_run
//! use nd_host_appdata::provider::{LibraryProvider, MatchProvider, MatchQuery};
//! use nd_capabilities::types::SongRef;
//! use nd_library::{LibraryConfig, LibraryRoot, MusicLibrary};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let library = MusicLibrary::open(LibraryConfig {
//!     roots: vec![LibraryRoot { id: 1, name: "Music".into(), path: "/srv/music".into() }],
//!     ..LibraryConfig::default()
//! })?;
//! for lib in library.libraries()? {
//!     println!("{}: {} songs, {} albums", lib.name, lib.total_songs, lib.total_albums);
//! }
//! let song = SongRef { name: "Take Off".into(), artist: "The Midnight Owls".into(), ..SongRef::default() };
//! let query = MatchQuery { libraries: vec![1], user: None };
//! if let Some(track) = &library.match_songs(&[song], &query)?[0] {
//!     println!("matched {} at {}", track.id, track.path);
//! }
//! # Ok(()) }
//! ```
//!
//! [`LibraryProvider`]: nd_host_appdata::provider::LibraryProvider
//! [`UserProvider`]: nd_host_appdata::provider::UserProvider
//! [`ArtworkProvider`]: nd_host_appdata::provider::ArtworkProvider
//! [`MatchProvider`]: nd_host_appdata::provider::MatchProvider
//! [`ScrobbleProvider`]: nd_host_appdata::provider::ScrobbleProvider
//! [`SubsonicProvider`]: nd_host_appdata::provider::SubsonicProvider

mod artwork;
mod catalog;
pub mod demo;
mod library;
mod matcher;
mod providers;
mod scan;
mod scrobble;
mod subsonic;
mod text;
mod time;

use std::path::PathBuf;

use nd_host_appdata::provider::UserInfo;

pub use catalog::{AlbumInfo, ArtistInfo};
pub use library::MusicLibrary;
pub use scan::track_id;

/// One music folder: a library of Navidrome's (`model.Library`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryRoot {
    /// Navidrome's library id; unique and non-zero.
    pub id: i32,
    pub name: String,
    /// The folder scanned recursively (symbolic links are followed).
    pub path: PathBuf,
}

/// How public artwork URLs are built and signed (spec §3.11).
#[derive(Clone, PartialEq, Eq)]
pub struct ArtworkConfig {
    /// Scheme, host and optional base path the URLs start with (Navidrome's `ShareURL`, or
    /// `BaseScheme://BaseHost` + `BasePath`). Default `http://localhost`, as in Navidrome.
    pub base_url: String,
    /// The HMAC-SHA256 key of the JWTs. Empty means a random key per [`MusicLibrary::open`],
    /// so URLs change on restart; set it to keep them stable.
    pub secret: Vec<u8>,
}

impl Default for ArtworkConfig {
    fn default() -> Self {
        ArtworkConfig {
            base_url: "http://localhost".to_owned(),
            secret: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ArtworkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtworkConfig")
            .field("base_url", &self.base_url)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .finish()
    }
}

/// A user's annotation of one track (Navidrome's `annotation` table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotation {
    pub starred: bool,
    /// Unix seconds.
    pub starred_at: Option<i64>,
    /// 0 (unrated) to 5.
    pub rating: i32,
    /// Plays before the scrobble history; recorded scrobbles are added on top.
    pub play_count: i64,
    /// Unix seconds of the last play before the scrobble history.
    pub play_date: Option<i64>,
}

/// An [`Annotation`] set in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAnnotation {
    /// The user's id or user name.
    pub user: String,
    /// The track's id ([`track_id`]).
    pub media_file_id: String,
    pub annotation: Annotation,
}

/// Everything [`MusicLibrary::open`] needs.
#[derive(Debug, Clone, Default)]
pub struct LibraryConfig {
    pub roots: Vec<LibraryRoot>,
    /// The accounts (ids and user names unique; user names compare case-insensitively).
    pub users: Vec<UserInfo>,
    /// Stars and ratings to start with. An entry naming an unknown user fails
    /// [`MusicLibrary::open`]; one naming a track that is not (or no longer) there is kept
    /// and simply never shown.
    pub annotations: Vec<UserAnnotation>,
    pub artwork: ArtworkConfig,
    /// When set, scrobbles are appended to this JSON-lines file and read back on open.
    pub scrobble_log: Option<PathBuf>,
}

/// Why the library could not be opened, rescanned or updated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LibraryError {
    #[error("invalid library configuration: {0}")]
    InvalidConfig(String),
    #[error("cannot read library root {path}: {source}")]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("scrobble log {path}: {message}")]
    ScrobbleLog { path: PathBuf, message: String },
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    #[error("unknown media file {0:?}")]
    UnknownMediaFile(String),
}

/// What the last scan found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanReport {
    /// Unix seconds when the scan finished.
    pub scanned_at: i64,
    /// Tracks read, across every library.
    pub tracks: usize,
    /// Audio files that could not be read (each also logged as a warning).
    pub skipped: Vec<SkippedFile>,
}

/// An audio file the scan skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    pub path: PathBuf,
    pub reason: String,
}
