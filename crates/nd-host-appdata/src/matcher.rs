//! The matcher service (spec §3.10, permission `matcher`, which needs `library`):
//! `matcher_matchsongs {songs: [SongRef], opts: {username?}}` → `{results?: [Track|null],
//! error?}`, resolving song references to library tracks through the [`MatchProvider`].
//!
//! Behaviour mirrored from Navidrome's `plugins/host_matcher.go`:
//! - the result has one entry per input song, in order; an unmatched song is `null`; no songs
//!   answer `{}` before any other check;
//! - without any library scope the call fails closed:
//!   `matcher: no libraries configured for this plugin`;
//! - `opts.username` runs the match as that user, resolved against the user scope with the
//!   texts of [`crate`]'s user lookup prefixed by `matcher: ` (with no user scope at all, the
//!   fixed `matcher: plugin is not authorized to scope by user`); without it the match runs
//!   as admin and per-user annotations (`starred`, `starredAt`, `rating`, `playCount`,
//!   `playDate`) are cleared;
//! - a track of a library outside the scope is never returned (that entry becomes `null`),
//!   whatever the provider answered;
//! - `path` is removed unless the plugin has filesystem access.
//!
//! Songs are decoded with Go's rules: field names match ignoring case, `null` is the zero
//! value, and a value of the wrong type fails with Go's text, e.g. `json: cannot unmarshal
//! number into Go struct field SongRef.songs.name of type string`.
//!
//! [`MatchQuery::libraries`] lists the allowed libraries. For a plugin allowed every library
//! the service needs the application's libraries to list them: give it a
//! [`LibraryProvider`] with [`MatcherService::with_libraries`], otherwise such a plugin is
//! refused at load with a message saying so.

use std::fmt;
use std::sync::Arc;

use nd_capabilities::types::{ArtistRef, SongRef, Track};
use nd_runtime::{GoRequest, HostError, HostImports, HostService, RegisterError, json_response};
use serde_json::{Value, json};

use crate::provider::{LibraryProvider, MatchProvider, MatchQuery, Scope, UserProvider};
use crate::wire::{go_numbers, guest, json_kind, resolve_user, type_error};

/// Navidrome's `matcher` host service for one plugin's scope; see the [module docs](self).
pub struct MatcherService {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Arc<dyn MatchProvider>,
    users: Arc<dyn UserProvider>,
    libraries: Option<Arc<dyn LibraryProvider>>,
    scope: Scope,
    filesystem: bool,
}

impl fmt::Debug for MatcherService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MatcherService")
            .field("scope", &self.inner.scope)
            .field("filesystem", &self.inner.filesystem)
            .field("has_libraries", &self.inner.libraries.is_some())
            .finish_non_exhaustive()
    }
}

impl MatcherService {
    /// The service over `provider`, limited to `scope`, resolving `opts.username` in
    /// `users`; `filesystem` is the manifest's `library.filesystem` (it keeps `path`).
    pub fn new(
        provider: Arc<dyn MatchProvider>,
        users: Arc<dyn UserProvider>,
        scope: Scope,
        filesystem: bool,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                provider,
                users,
                libraries: None,
                scope,
                filesystem,
            }),
        }
    }

    /// The application's libraries, used to list every library for a plugin whose scope is
    /// [`Scope::all_libraries`] (required for such a plugin).
    #[must_use]
    pub fn with_libraries(self, libraries: Arc<dyn LibraryProvider>) -> Self {
        let inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                provider: Arc::clone(&shared.provider),
                users: Arc::clone(&shared.users),
                libraries: shared.libraries.clone(),
                scope: shared.scope.clone(),
                filesystem: shared.filesystem,
            },
        };
        Self {
            inner: Arc::new(Inner {
                libraries: Some(libraries),
                ..inner
            }),
        }
    }
}

impl HostService for MatcherService {
    fn name(&self) -> &'static str {
        "matcher"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        if self.inner.scope.all_libraries && self.inner.libraries.is_none() {
            return Err(RegisterError(format!(
                "the matcher of plugin {:?} may see every library, but the service was built \
                 without the application's libraries (MatcherService::with_libraries)",
                imports.plugin_id()
            )));
        }
        let inner = Arc::clone(&self.inner);
        imports.json("matcher_matchsongs", move |_, req| {
            let req = GoRequest::parse(&req, "MatcherMatchSongsRequest")?;
            let songs = decode_songs(&req)?;
            let user_name = req.object("opts", "MatchOptions")?.string("username")?;
            inner.match_songs(&songs, &user_name)
        });
        Ok(())
    }
}

impl Inner {
    fn match_songs(&self, songs: &[SongRef], user_name: &str) -> Result<Value, HostError> {
        if songs.is_empty() {
            return Ok(json!({}));
        }
        if !self.scope.has_library_scope() {
            return Err(guest("matcher: no libraries configured for this plugin"));
        }
        let user = if user_name.is_empty() {
            None
        } else {
            Some(
                resolve_user(self.users.as_ref(), &self.scope, user_name)
                    .map_err(|e| guest(format_args!("matcher: {e}")))?,
            )
        };
        let libraries = match (&self.libraries, self.scope.all_libraries) {
            (Some(provider), true) => provider
                .libraries()
                .map_err(|e| guest(format_args!("matcher: {e}")))?
                .into_iter()
                .map(|l| l.id)
                .collect(),
            _ => self.scope.libraries.clone(),
        };
        if libraries.is_empty() {
            // Every library allowed, but the application has none: nothing can match.
            return Ok(json!({ "results": vec![Value::Null; songs.len()] }));
        }
        let scoped = user.is_some();
        let query = MatchQuery { libraries, user };
        let matched = self.provider.match_songs(songs, &query).map_err(guest)?;
        if matched.len() != songs.len() {
            return Err(guest(format_args!(
                "matcher: the library answered {} results for {} songs",
                matched.len(),
                songs.len()
            )));
        }
        let results = matched
            .into_iter()
            .map(|track| match track {
                Some(track) if self.scope.allows_library(track.library_id) => {
                    self.project(track, scoped)
                }
                _ => Ok(Value::Null),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json_response(json!({ "results": results })))
    }

    /// What the plugin may see of a track.
    fn project(&self, mut track: Track, scoped: bool) -> Result<Value, HostError> {
        if !self.filesystem {
            track.path.clear();
        }
        if !scoped {
            track.starred = false;
            track.starred_at = None;
            track.rating = 0;
            track.play_count = 0;
            track.play_date = None;
        }
        let value = serde_json::to_value(&track)
            .map_err(|e| guest(format_args!("matcher: cannot encode a track: {e}")))?;
        Ok(go_numbers(value))
    }
}

/// `songs` of `MatcherMatchSongsRequest`: a Go `[]types.SongRef`.
fn decode_songs(req: &GoRequest<'_>) -> Result<Vec<SongRef>, HostError> {
    match req.field("songs") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(decode_song).collect(),
        Some(other) => Err(type_error(
            json_kind(other),
            "MatcherMatchSongsRequest",
            "songs",
            "[]types.SongRef",
        )),
    }
}

/// Moves an error of a field of `strukt` (decoded as a root struct) under JSON path `path`,
/// as Go names it: `SongRef.name` → `SongRef.songs.name`.
fn under(strukt: &'static str, path: &'static str) -> impl Fn(HostError) -> HostError {
    move |e| match e {
        HostError::Guest(m) => HostError::Guest(m.replacen(
            &format!("Go struct field {strukt}."),
            &format!("Go struct field {strukt}.{path}"),
            1,
        )),
        trap => trap,
    }
}

fn decode_song(value: &Value) -> Result<SongRef, HostError> {
    match value {
        Value::Null => return Ok(SongRef::default()),
        Value::Object(_) => {}
        other => {
            return Err(type_error(
                json_kind(other),
                "MatcherMatchSongsRequest",
                "songs",
                "types.SongRef",
            ));
        }
    }
    let fix = under("SongRef", "songs.");
    let r = GoRequest::parse(value, "SongRef").map_err(&fix)?;
    let s = |name: &str| r.string(name).map_err(&fix);
    let duration = match r.field("duration") {
        None => 0.0,
        Some(Value::Number(n)) => n.as_f64().unwrap_or_default() as f32,
        Some(other) => {
            return Err(type_error(
                json_kind(other),
                "SongRef",
                "songs.duration",
                "float32",
            ));
        }
    };
    let duration_ms = match r.field("durationMs") {
        None => 0,
        Some(Value::Number(n)) => {
            n.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    type_error(
                        format_args!("number {n}"),
                        "SongRef",
                        "songs.durationMs",
                        "uint32",
                    )
                })?
        }
        Some(other) => {
            return Err(type_error(
                json_kind(other),
                "SongRef",
                "songs.durationMs",
                "uint32",
            ));
        }
    };
    let artists = match r.field("artists") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(decode_artist).collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(type_error(
                json_kind(other),
                "SongRef",
                "songs.artists",
                "[]types.ArtistRef",
            ));
        }
    };
    Ok(SongRef {
        id: s("id")?,
        name: s("name")?,
        mbid: s("mbid")?,
        isrc: s("isrc")?,
        artist: s("artist")?,
        artist_mbid: s("artistMbid")?,
        artists,
        album: s("album")?,
        album_mbid: s("albumMbid")?,
        duration,
        duration_ms,
    })
}

fn decode_artist(value: &Value) -> Result<ArtistRef, HostError> {
    match value {
        Value::Null => return Ok(ArtistRef::default()),
        Value::Object(_) => {}
        other => {
            return Err(type_error(
                json_kind(other),
                "SongRef",
                "songs.artists",
                "types.ArtistRef",
            ));
        }
    }
    let fix = under("ArtistRef", "songs.artists.");
    let r = GoRequest::parse(value, "ArtistRef").map_err(&fix)?;
    let s = |name: &str| r.string(name).map_err(&fix);
    Ok(ArtistRef {
        id: s("id")?,
        name: s("name")?,
        mbid: s("mbid")?,
        sort_name: s("sortName")?,
        role: s("role")?,
        sub_role: s("subRole")?,
    })
}
