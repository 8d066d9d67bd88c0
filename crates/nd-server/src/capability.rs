//! The capability endpoints under `/api/v1`: what a music server calls instead of loading
//! plugins itself.
//!
//! Lookups (metadata, lyrics, sonic similarity) ask the plugins with the capability in id
//! order and answer with the first that found something, as Navidrome chains its agents: a
//! plugin that answers "not found" or fails is skipped (a failure is logged). The optional
//! `plugin` (query string or body field) asks that plugin only. Scrobbler notifications go to
//! every scrobbler whose users scope allows the user and that says the user is authorized, and
//! the answer lists each plugin's outcome.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use nd_capabilities::types::{
    AlbumRequest, ArtistMbidRequest, ArtistRequest, LyricsText, PlaybackReport,
    SimilarArtistsRequest, SimilarSongsByAlbumRequest, SimilarSongsByArtistRequest,
    SimilarSongsByTrackRequest, SongRef, TopSongsRequest, TrackInfo,
};
use nd_capabilities::{
    Capability, CapabilityError, Lyrics, MetadataAgent, PluginCapabilities, ScrobblerError,
    SonicSimilarity,
};
use nd_host_appdata::provider::UserInfo;
use nd_manager::{LoadedPlugin, Manager};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::api::{ApiError, AppState, parse_body, to_json};

/// `?plugin=<id>` (the last one when repeated); other parameters are ignored.
#[derive(Debug, Default)]
pub(crate) struct Pick {
    plugin: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Pick {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
        let plugin = pairs
            .into_iter()
            .rev()
            .find(|(key, _)| key == "plugin")
            .map(|(_, id)| id);
        Ok(Pick { plugin })
    }
}

/// A route that asks the plugins with `$capability` through `$adapter` and `$call`, with a
/// body of type `$request`.
macro_rules! lookup {
    ($request:ty, $capability:expr, $adapter:expr, $call:expr) => {
        post(
            |State(state): State<AppState>, pick: Pick, body: Bytes| async move {
                let (request, plugin) = split_body::<$request>(&body, pick)?;
                ask(state, plugin, $capability, $adapter, $call, request).await
            },
        )
    };
}

macro_rules! metadata {
    ($request:ty, $method:path) => {
        lookup!(
            $request,
            Capability::MetadataAgent,
            PluginCapabilities::metadata_agent,
            |agent: &MetadataAgent, request: &$request| $method(agent, request)
        )
    };
}

/// The `/api/v1` routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/artist/mbid",
            metadata!(ArtistMbidRequest, MetadataAgent::artist_mbid),
        )
        .route(
            "/artist/url",
            metadata!(ArtistRequest, MetadataAgent::artist_url),
        )
        .route(
            "/artist/biography",
            metadata!(ArtistRequest, MetadataAgent::artist_biography),
        )
        .route(
            "/artist/images",
            metadata!(ArtistRequest, MetadataAgent::artist_images),
        )
        .route(
            "/artist/similar",
            metadata!(SimilarArtistsRequest, MetadataAgent::similar_artists),
        )
        .route(
            "/artist/top-songs",
            metadata!(TopSongsRequest, MetadataAgent::artist_top_songs),
        )
        .route(
            "/album/info",
            metadata!(AlbumRequest, MetadataAgent::album_info),
        )
        .route(
            "/album/images",
            metadata!(AlbumRequest, MetadataAgent::album_images),
        )
        .route(
            "/songs/similar/track",
            metadata!(
                SimilarSongsByTrackRequest,
                MetadataAgent::similar_songs_by_track
            ),
        )
        .route(
            "/songs/similar/album",
            metadata!(
                SimilarSongsByAlbumRequest,
                MetadataAgent::similar_songs_by_album
            ),
        )
        .route(
            "/songs/similar/artist",
            metadata!(
                SimilarSongsByArtistRequest,
                MetadataAgent::similar_songs_by_artist
            ),
        )
        .route(
            "/lyrics",
            lookup!(
                LyricsBody,
                Capability::Lyrics,
                PluginCapabilities::lyrics,
                |lyrics: &Lyrics, body: &LyricsBody| lyrics_with_format(lyrics, &body.track)
            ),
        )
        .route(
            "/sonic/similar",
            lookup!(
                SonicSimilarBody,
                Capability::SonicSimilarity,
                PluginCapabilities::sonic_similarity,
                |sonic: &SonicSimilarity, body: &SonicSimilarBody| sonic
                    .similar_tracks(&body.song, body.count)
            ),
        )
        .route(
            "/sonic/path",
            lookup!(
                SonicPathBody,
                Capability::SonicSimilarity,
                PluginCapabilities::sonic_similarity,
                |sonic: &SonicSimilarity, body: &SonicPathBody| sonic.sonic_path(
                    &body.start_song,
                    &body.end_song,
                    body.count
                )
            ),
        )
        .route("/scrobbler/now-playing", post(now_playing))
        .route("/scrobbler/scrobble", post(scrobble))
        .route("/scrobbler/playback-report", post(playback_report))
}

/// `POST /api/v1/lyrics`: `{track}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LyricsBody {
    track: TrackInfo,
}

/// `POST /api/v1/sonic/similar`: `{song, count}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SonicSimilarBody {
    song: SongRef,
    count: i32,
}

/// `POST /api/v1/sonic/path`: `{startSong, endSong, count}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SonicPathBody {
    start_song: SongRef,
    end_song: SongRef,
    count: i32,
}

/// One lyrics entry with its sniffed format (`plain`, `lrc`, `srt`, `ttml`, `yaml`).
#[derive(Debug, Serialize)]
struct LyricsView {
    #[serde(flatten)]
    lyrics: LyricsText,
    format: &'static str,
}

fn lyrics_with_format(
    lyrics: &Lyrics,
    track: &TrackInfo,
) -> Result<Option<Vec<LyricsView>>, CapabilityError> {
    Ok(lyrics.get_lyrics(track)?.map(|entries| {
        entries
            .into_iter()
            .map(|lyrics| LyricsView {
                format: lyrics.format().as_str(),
                lyrics,
            })
            .collect()
    }))
}

/// The request of type `R` in `body`, and the plugin asked for in the query or the body.
fn split_body<R: DeserializeOwned>(
    body: &Bytes,
    pick: Pick,
) -> Result<(R, Option<String>), ApiError> {
    let value: Value = parse_body(body)?;
    let from_body = match value.get("plugin") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(ApiError::bad_request("'plugin' must be a string")),
    };
    let request = serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))?;
    Ok((request, pick.plugin.or(from_body)))
}

/// The loaded plugins with `capability`, or only `pick` (which must be loaded and have it).
fn candidates(
    manager: &Manager,
    capability: Capability,
    pick: Option<&str>,
) -> Result<Vec<Arc<LoadedPlugin>>, ApiError> {
    let Some(id) = pick else {
        return Ok(manager.with_capability(capability));
    };
    match manager.plugin(id) {
        Some(plugin) if plugin.has(capability) => Ok(vec![plugin]),
        Some(_) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("plugin '{id}' has no {} capability", capability.name()),
        )),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("plugin '{id}' is not loaded"),
        )),
    }
}

/// Asks the candidates in id order; the first answer wins.
async fn ask<R, T, A, F>(
    state: AppState,
    pick: Option<String>,
    capability: Capability,
    adapter: fn(&PluginCapabilities) -> Option<A>,
    call: F,
    request: R,
) -> Result<Json<Value>, ApiError>
where
    R: Send + 'static,
    T: Serialize,
    A: 'static,
    F: Fn(&A, &R) -> Result<Option<T>, CapabilityError> + Send + 'static,
{
    state
        .blocking(move |manager| {
            let mut failures = Vec::new();
            for plugin in candidates(manager, capability, pick.as_deref())? {
                let Some(adapter) = adapter(plugin.capabilities()) else {
                    continue;
                };
                match call(&adapter, &request) {
                    Ok(Some(result)) => {
                        return Ok(Json(json!({
                            "plugin": plugin.id(),
                            "result": to_json(&result)?,
                        })));
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(%error, "capability call failed; asking the next plugin");
                        failures.push(error);
                    }
                }
            }
            match failures.first() {
                None => Err(ApiError::new(StatusCode::NOT_FOUND, "not found")),
                Some(first) => {
                    let errors: Vec<Value> = failures.iter().map(failure_json).collect();
                    Err(ApiError::new(StatusCode::BAD_GATEWAY, first.to_string())
                        .with("errors", Value::Array(errors)))
                }
            }
        })
        .await
}

fn failure_json(error: &CapabilityError) -> Value {
    json!({"plugin": error.plugin, "export": error.export, "error": error.to_string()})
}

/// `user: {id, userName}` or `username` in a scrobbler request body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct UserRef {
    id: String,
    #[serde(alias = "username")]
    user_name: String,
}

/// The user a scrobbler request is about. With `user.id` and `user.userName` both given,
/// they are taken as they are; otherwise the missing half is looked up in the application's
/// users (without a users provider, a lone name is also the id).
fn resolve_user(manager: &Manager, body: &Value) -> Result<UserInfo, ApiError> {
    let given: UserRef = match (body.get("user"), body.get("username")) {
        (Some(user), _) if !user.is_null() => serde_json::from_value(user.clone())
            .map_err(|e| ApiError::bad_request(format!("invalid 'user': {e}")))?,
        (_, Some(Value::String(name))) => UserRef {
            id: String::new(),
            user_name: name.clone(),
        },
        _ => {
            return Err(ApiError::bad_request(
                "the request needs 'user': {\"id\", \"userName\"} or 'username'",
            ));
        }
    };
    if !given.id.is_empty() && !given.user_name.is_empty() {
        return Ok(UserInfo {
            id: given.id,
            user_name: given.user_name,
            ..UserInfo::default()
        });
    }
    if given.id.is_empty() && given.user_name.is_empty() {
        return Err(ApiError::bad_request("the user's id and name are empty"));
    }
    let Some(users) = &manager.app_data().users else {
        if given.user_name.is_empty() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "this server has no user directory: give 'user.userName' too",
            ));
        }
        return Ok(UserInfo {
            id: given.user_name.clone(),
            user_name: given.user_name,
            ..UserInfo::default()
        });
    };
    let all = users
        .users()
        .map_err(|e| ApiError::internal(format!("cannot list users: {}", e.0)))?;
    all.into_iter()
        .find(|u| {
            if given.id.is_empty() {
                u.user_name == given.user_name
            } else {
                u.id == given.id
            }
        })
        .ok_or_else(|| {
            let who = if given.id.is_empty() {
                format!("no user named '{}'", given.user_name)
            } else {
                format!("no user with id '{}'", given.id)
            };
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, who)
        })
}

/// What happened at one scrobbler.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Outcome {
    plugin: String,
    /// `ok`, `skipped` (the plugin says the user has not authorized it) or `error`.
    status: &'static str,
    /// `notAuthorized`, `retryLater` or `unrecoverable` (Navidrome's scrobbler error classes).
    #[serde(skip_serializing_if = "Option::is_none")]
    error_class: Option<&'static str>,
    /// Whether the caller should buffer the event and retry (`retryLater`).
    #[serde(skip_serializing_if = "Option::is_none")]
    retryable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Sends one notification to every scrobbler that may receive it for `user`.
fn dispatch(
    manager: &Manager,
    user: &UserInfo,
    pick: Option<&str>,
    send: impl Fn(&nd_capabilities::Scrobbler) -> Result<(), ScrobblerError>,
) -> Result<Json<Value>, ApiError> {
    let mut plugins = manager.scrobblers_for(user);
    if let Some(id) = pick {
        plugins.retain(|p| p.id() == id);
        if plugins.is_empty() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "plugin '{id}' is not a loaded scrobbler for user '{}'",
                    user.user_name
                ),
            ));
        }
    }
    let mut results = Vec::new();
    for plugin in plugins {
        let Some(scrobbler) = plugin.capabilities().scrobbler() else {
            continue;
        };
        let mut outcome = Outcome {
            plugin: plugin.id().to_owned(),
            status: "ok",
            error_class: None,
            retryable: None,
            error: None,
        };
        if !scrobbler.is_authorized(&user.user_name) {
            outcome.status = "skipped";
            outcome.error = Some(format!(
                "user '{}' has not authorized this scrobbler",
                user.user_name
            ));
        } else if let Err(error) = send(&scrobbler) {
            tracing::warn!(%error, "scrobbler notification failed");
            outcome.status = "error";
            outcome.error_class = Some(match &error {
                ScrobblerError::NotAuthorized(_) => "notAuthorized",
                ScrobblerError::RetryLater(_) => "retryLater",
                ScrobblerError::Unrecoverable(_) => "unrecoverable",
            });
            outcome.retryable = Some(error.is_retryable());
            outcome.error = Some(error.error().to_string());
        }
        results.push(outcome);
    }
    Ok(Json(json!({
        "user": {"id": user.id, "userName": user.user_name},
        "results": to_json(&results)?,
    })))
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NowPlayingBody {
    track: TrackInfo,
    position: i32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ScrobbleBody {
    track: TrackInfo,
    timestamp: i64,
}

/// `POST /api/v1/scrobbler/now-playing`: `{user | username, track, position}`.
async fn now_playing(
    State(state): State<AppState>,
    pick: Pick,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let value: Value = parse_body(&body)?;
    let (request, plugin) = split_body::<NowPlayingBody>(&body, pick)?;
    state
        .blocking(move |manager| {
            let user = resolve_user(manager, &value)?;
            dispatch(manager, &user, plugin.as_deref(), |scrobbler| {
                scrobbler.now_playing(&user.user_name, &request.track, request.position)
            })
        })
        .await
}

/// `POST /api/v1/scrobbler/scrobble`: `{user | username, track, timestamp}` (`timestamp`
/// defaults to now).
async fn scrobble(
    State(state): State<AppState>,
    pick: Pick,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let value: Value = parse_body(&body)?;
    let (request, plugin) = split_body::<ScrobbleBody>(&body, pick)?;
    let timestamp = if request.timestamp == 0 {
        now_unix()
    } else {
        request.timestamp
    };
    state
        .blocking(move |manager| {
            let user = resolve_user(manager, &value)?;
            dispatch(manager, &user, plugin.as_deref(), |scrobbler| {
                scrobbler.scrobble(&user.user_name, &request.track, timestamp)
            })
        })
        .await
}

/// `POST /api/v1/scrobbler/playback-report`: a playback report (`username` or `user`,
/// `track`, `state`, `positionMs`, …; `timestamp` defaults to now).
async fn playback_report(
    State(state): State<AppState>,
    pick: Pick,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let value: Value = parse_body(&body)?;
    let (mut report, plugin) = split_body::<PlaybackReport>(&body, pick)?;
    if report.timestamp == 0 {
        report.timestamp = now_unix();
    }
    state
        .blocking(move |manager| {
            let user = resolve_user(manager, &value)?;
            report.username = user.user_name.clone();
            dispatch(manager, &user, plugin.as_deref(), |scrobbler| {
                scrobbler.playback_report(&report)
            })
        })
        .await
}
