//! The traits an embedding application implements to give plugins its data, and the
//! per-plugin [`Scope`] that filters it (spec §6.7).
//!
//! Every trait is small and object-safe, so an application implements only what it has: a
//! plugin whose manifest asks for a service the application did not provide fails to load
//! with a clear message (the manager's job), exactly as on a Navidrome build without it.
//! Implementations must be cheap to call concurrently: host functions run on the plugin's
//! calling thread, from many plugins at once.

use std::path::PathBuf;

use nd_capabilities::types::{SongRef, Track};
use serde::{Deserialize, Serialize};

/// An error from the application's data layer. Its text reaches the plugin as the `error`
/// of the host function's response, so it must not leak what the plugin may not see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProviderError(pub String);

impl From<String> for ProviderError {
    fn from(s: String) -> Self {
        ProviderError(s)
    }
}

impl From<&str> for ProviderError {
    fn from(s: &str) -> Self {
        ProviderError(s.to_owned())
    }
}

/// A music library (Navidrome's `model.Library`), with the host path of its root folder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LibraryInfo {
    pub id: i32,
    pub name: String,
    /// Root folder on the host; mounted read-only at `/libraries/<id>` for plugins with
    /// `library.filesystem: true`.
    pub path: PathBuf,
    /// Unix seconds.
    pub last_scan_at: i64,
    pub total_songs: i32,
    pub total_albums: i32,
    pub total_artists: i32,
    /// Bytes.
    pub total_size: i64,
    /// Seconds.
    pub total_duration: f64,
}

/// A user account. Only `user_name`, `name` and `is_admin` ever reach a plugin; `id` is what
/// a [`Scope`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub id: String,
    pub user_name: String,
    pub name: String,
    pub is_admin: bool,
}

/// Which users and libraries the administrator allowed a plugin to see (spec §6.7). Stored
/// by the manager per plugin; a plugin is reloaded when it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Scope {
    /// Every user, present and future.
    pub all_users: bool,
    /// User ids (not names), when not `all_users`.
    pub users: Vec<String>,
    /// Every library, present and future.
    pub all_libraries: bool,
    /// Library ids, when not `all_libraries`.
    pub libraries: Vec<i32>,
    /// Mount libraries read-write (Navidrome's `allow_write_access`, CLI `--write-access`).
    pub allow_write_access: bool,
}

impl Scope {
    /// Every user and every library, read-only.
    pub fn everything() -> Self {
        Scope {
            all_users: true,
            all_libraries: true,
            ..Scope::default()
        }
    }

    /// True when some user is allowed (all, or at least one listed).
    pub fn has_user_scope(&self) -> bool {
        self.all_users || !self.users.is_empty()
    }

    /// True when some library is allowed (all, or at least one listed).
    pub fn has_library_scope(&self) -> bool {
        self.all_libraries || !self.libraries.is_empty()
    }

    /// Whether the user with this id is allowed.
    pub fn allows_user(&self, user_id: &str) -> bool {
        self.all_users || self.users.iter().any(|u| u == user_id)
    }

    /// Whether the library with this id is allowed.
    pub fn allows_library(&self, library_id: i32) -> bool {
        self.all_libraries || self.libraries.contains(&library_id)
    }
}

/// The libraries of the application (`library` permission, spec §3.9).
pub trait LibraryProvider: Send + Sync {
    /// Every library; the service filters by [`Scope`].
    fn libraries(&self) -> Result<Vec<LibraryInfo>, ProviderError>;
}

/// The user accounts of the application (`users` permission, spec §3.13; also the user
/// lookup behind subsonicapi, matcher and scrobbleRetriever).
pub trait UserProvider: Send + Sync {
    /// Every user; the service filters by [`Scope`].
    fn users(&self) -> Result<Vec<UserInfo>, ProviderError>;
}

/// The four kinds of artwork URL (`artwork_get<kind>url`, spec §3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtworkKind {
    Artist,
    Album,
    Track,
    Playlist,
}

/// Public artwork URLs (`artwork` permission, spec §3.11).
pub trait ArtworkProvider: Send + Sync {
    /// The public URL of the artwork of this entity; `size` 0 means the original size.
    fn artwork_url(&self, kind: ArtworkKind, id: &str, size: i32) -> Result<String, ProviderError>;
}

/// One Subsonic API request, already checked against the plugin's user scope.
#[derive(Debug, Clone, PartialEq)]
pub struct SubsonicRequest {
    /// The user the request acts as (the `u` parameter).
    pub user: UserInfo,
    /// The endpoint: the last path segment of the URI, e.g. `getAlbumList2` (a `.view`
    /// suffix is kept as given; providers should accept both).
    pub endpoint: String,
    /// Every query parameter in order, with `c=<plugin id>`, `v=1.16.1` (and `f=json` for
    /// `subsonicapi_call`) forced by the service.
    pub params: Vec<(String, String)>,
}

/// A Subsonic API response: the body as the router would send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsonicResponse {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// The application's Subsonic API, dispatched in-process (`subsonicapi`, spec §3.12).
/// Subsonic-level errors belong in the response body (`status: "failed"`), not in `Err`.
pub trait SubsonicProvider: Send + Sync {
    fn call(&self, request: &SubsonicRequest) -> Result<SubsonicResponse, ProviderError>;
}

/// What a match runs against (`matcher_matchsongs`, spec §3.10).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchQuery {
    /// Only tracks of these libraries may match (never empty: the service fails closed).
    /// For a plugin allowed every library, the ids of all the application's libraries. The
    /// service also drops any returned track outside the plugin's scope.
    pub libraries: Vec<i32>,
    /// Match as this user (annotations on the returned tracks, tie-breaks); admin otherwise.
    pub user: Option<UserInfo>,
}

/// Resolves song references to library tracks (`matcher`, spec §3.10).
pub trait MatchProvider: Send + Sync {
    /// One entry per input song, in order; `None` when nothing matched. Matching order: id,
    /// then MBID, then ISRC, then fuzzy title. Returned tracks carry their `path` relative to
    /// the library root; the service removes it when the plugin has no filesystem access.
    fn match_songs(
        &self,
        songs: &[SongRef],
        query: &MatchQuery,
    ) -> Result<Vec<Option<Track>>, ProviderError>;
}

/// One scrobble of a user's history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrobbleEntry {
    pub id: i64,
    pub media_file_id: String,
    /// Unix seconds.
    pub submission_time: i64,
}

/// A window of a user's scrobble history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrobbleQuery {
    /// Inclusive lower bound, unix seconds.
    pub from: Option<i64>,
    /// Inclusive upper bound, unix seconds.
    pub to: Option<i64>,
    /// Newest first when true.
    pub descending: bool,
    /// At most this many entries. The service passes 2..=5001: one more than the page it
    /// serves, to learn whether another page follows, so an implementation must not cap it
    /// at 5000.
    pub limit: usize,
    /// Entries skipped after the bounds are applied.
    pub offset: usize,
}

/// A user's listening history (`scrobbleRetriever`, spec §3.14).
pub trait ScrobbleProvider: Send + Sync {
    /// The submission time of the user's first scrobble; `None` when there is none.
    fn first_timestamp(&self, user: &UserInfo) -> Result<Option<i64>, ProviderError>;
    /// The submission time of the user's last scrobble; `None` when there is none.
    fn last_timestamp(&self, user: &UserInfo) -> Result<Option<i64>, ProviderError>;
    /// The scrobbles in the window, ordered by (submission time, id), ascending or descending.
    fn scrobbles(
        &self,
        user: &UserInfo,
        query: &ScrobbleQuery,
    ) -> Result<Vec<ScrobbleEntry>, ProviderError>;
    /// How many scrobbles fall in `[from, to]`.
    fn count(
        &self,
        user: &UserInfo,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<i64, ProviderError>;
}
