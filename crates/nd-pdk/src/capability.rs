//! The capability traits (spec §4.2). A plugin implements one or more on a type that is
//! `Default` (the host makes a fresh instance for every call, so the type holds no state
//! between calls; keep state in the cache or KV store), then exports the methods with the
//! matching registration macro. Only registered methods become exports, and the host
//! detects capabilities from the exports.
//!
//! | trait | macro | exports |
//! |---|---|---|
//! | [`MetadataAgent`] | [`register_metadata_agent!`](crate::register_metadata_agent)`(T, [methods])` | `nd_get_artist_mbid`, `nd_get_artist_url`, `nd_get_artist_biography`, `nd_get_similar_artists`, `nd_get_artist_images`, `nd_get_artist_top_songs`, `nd_get_album_info`, `nd_get_album_images`, `nd_get_similar_songs_by_{track,album,artist}` |
//! | [`Scrobbler`] | [`register_scrobbler!`](crate::register_scrobbler)`(T)` or `(T, playback_report)` | `nd_scrobbler_is_authorized`, `nd_scrobbler_now_playing`, `nd_scrobbler_scrobble` (+ `nd_scrobbler_playback_report`) |
//! | [`Lyrics`] | [`register_lyrics!`](crate::register_lyrics)`(T)` | `nd_lyrics_get_lyrics` |
//! | [`SonicSimilarity`] | [`register_sonic_similarity!`](crate::register_sonic_similarity)`(T, [methods])` | `nd_get_sonic_similar_tracks`, `nd_find_sonic_path` |
//! | [`TaskWorker`] | [`register_task_worker!`](crate::register_task_worker)`(T)` | `nd_task_execute` |
//! | [`Lifecycle`] | [`register_lifecycle!`](crate::register_lifecycle)`(T)` | `nd_on_init` |
//! | [`SchedulerCallback`] | [`register_scheduler_callback!`](crate::register_scheduler_callback)`(T)` | `nd_scheduler_callback` |
//! | [`WebSocketCallback`] | [`register_websocket_callback!`](crate::register_websocket_callback)`(T, [methods])` | `nd_websocket_on_{text_message,binary_message,error,close}` |
//!
//! Outcomes as the host reads them: `Ok` is the answer; an [`Error`] fails the call with
//! its text (the host logs it, retries a metadata lookup later, classifies a scrobbler error
//! by its marker); [`Error::not_implemented`], what the default methods return, makes the
//! export return `-2`, which the host treats like a missing export. For metadata, `Ok(None)`
//! and an empty list mean "not found" (the host caches that), not a failure.

use crate::error::{Error, Result};
use crate::types::{
    AlbumInfo, AlbumRequest, ArtistMbidRequest, ArtistRef, ArtistRequest, BinaryMessage,
    CloseEvent, ErrorEvent, ImageInfo, IsAuthorizedRequest, LyricsRequest, LyricsText,
    NowPlayingRequest, PlaybackReport, ScheduledEvent, ScrobbleRequest, SimilarArtistsRequest,
    SimilarSongsByAlbumRequest, SimilarSongsByArtistRequest, SimilarSongsByTrackRequest, SongRef,
    SonicMatch, SonicPathRequest, SonicSimilarRequest, Task, TextMessage, TopSongsRequest,
};

/// A metadata agent: artist and album information for Navidrome's `Agents` chain. Every
/// method is optional; register the ones you implement.
pub trait MetadataAgent {
    /// `nd_get_artist_mbid`: the artist's MusicBrainz id (`{mbid}`).
    fn artist_mbid(&self, req: ArtistMbidRequest) -> Result<Option<String>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_artist_url`: an external page about the artist (`{url}`).
    fn artist_url(&self, req: ArtistRequest) -> Result<Option<String>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_artist_biography`: the artist's biography (`{biography}`).
    fn artist_biography(&self, req: ArtistRequest) -> Result<Option<String>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_similar_artists`: up to `req.limit` similar artists (`{artists}`).
    fn similar_artists(&self, req: SimilarArtistsRequest) -> Result<Vec<ArtistRef>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_artist_images`: images of the artist (`{images}`).
    fn artist_images(&self, req: ArtistRequest) -> Result<Vec<ImageInfo>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_artist_top_songs`: up to `req.count` top songs (`{songs}`).
    fn artist_top_songs(&self, req: TopSongsRequest) -> Result<Vec<SongRef>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_album_info`: name, MusicBrainz id, description and URL of an album.
    fn album_info(&self, req: AlbumRequest) -> Result<Option<AlbumInfo>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_album_images`: images of the album (`{images}`).
    fn album_images(&self, req: AlbumRequest) -> Result<Vec<ImageInfo>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_similar_songs_by_track`: up to `req.count` songs like a track (`{songs}`).
    fn similar_songs_by_track(&self, req: SimilarSongsByTrackRequest) -> Result<Vec<SongRef>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_similar_songs_by_album`: up to `req.count` songs like an album's.
    fn similar_songs_by_album(&self, req: SimilarSongsByAlbumRequest) -> Result<Vec<SongRef>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_get_similar_songs_by_artist`: up to `req.count` songs like an artist's.
    fn similar_songs_by_artist(&self, req: SimilarSongsByArtistRequest) -> Result<Vec<SongRef>> {
        let _ = req;
        Err(Error::not_implemented())
    }
}

/// A scrobbler: forwards plays to an external service. The host calls it only for users in
/// the plugin's users scope (the manifest needs the `users` permission). Fail with
/// [`Error::not_authorized`], [`Error::retry_later`] (the host buffers and retries) or
/// [`Error::unrecoverable`]; any other error counts as unrecoverable.
pub trait Scrobbler {
    /// `nd_scrobbler_is_authorized`: whether the user linked the service. An error reads
    /// as `false`.
    fn is_authorized(&self, req: IsAuthorizedRequest) -> Result<bool>;

    /// `nd_scrobbler_now_playing`: the user started (or is still) playing a track.
    fn now_playing(&self, req: NowPlayingRequest) -> Result<()>;

    /// `nd_scrobbler_scrobble`: the user played a track long enough to count.
    fn scrobble(&self, req: ScrobbleRequest) -> Result<()>;

    /// `nd_scrobbler_playback_report` (Navidrome v0.62+): a player's state changed.
    /// Exported only with `register_scrobbler!(T, playback_report)`.
    fn playback_report(&self, req: PlaybackReport) -> Result<()> {
        let _ = req;
        Err(Error::not_implemented())
    }
}

/// A lyrics provider (`LyricsPriority`); the host runs at most 2 lookups per plugin at once.
pub trait Lyrics {
    /// `nd_lyrics_get_lyrics`: the lyrics of a track, each plain text, LRC, SRT, TTML or
    /// YAML (the host sniffs the format); an empty list when there are none.
    fn get_lyrics(&self, req: LyricsRequest) -> Result<Vec<LyricsText>>;
}

/// An audio-similarity provider (the `sonicSimilarity` extension, v0.62+).
pub trait SonicSimilarity {
    /// `nd_get_sonic_similar_tracks`: up to `req.count` tracks that sound like `req.song`.
    fn similar_tracks(&self, req: SonicSimilarRequest) -> Result<Vec<SonicMatch>> {
        let _ = req;
        Err(Error::not_implemented())
    }

    /// `nd_find_sonic_path`: up to `req.count` tracks leading from one song to another.
    fn sonic_path(&self, req: SonicPathRequest) -> Result<Vec<SonicMatch>> {
        let _ = req;
        Err(Error::not_implemented())
    }
}

/// Runs the tasks of the plugin's task queues (required by the `taskqueue` permission).
pub trait TaskWorker {
    /// `nd_task_execute`: runs one task and returns its message (kept with the task). An
    /// error retries the task with backoff, or fails it after the last retry.
    fn execute(&self, task: Task) -> Result<String>;
}

/// Startup work (`nd_on_init`): runs once after every load (startup, enable, reload after a
/// configuration change). The place to create schedules and queues. Errors are only logged.
pub trait Lifecycle {
    /// `nd_on_init`.
    fn on_init(&self) -> Result<()>;
}

/// Receives fired schedules (required by the `scheduler` permission).
pub trait SchedulerCallback {
    /// `nd_scheduler_callback`: schedule `event.schedule_id` fired. Errors are only logged.
    fn on_schedule(&self, event: ScheduledEvent) -> Result<()>;
}

/// Receives WebSocket events. Every method is optional; register the ones you implement.
pub trait WebSocketCallback {
    /// `nd_websocket_on_text_message`: a text frame arrived.
    fn on_text_message(&self, msg: TextMessage) -> Result<()> {
        let _ = msg;
        Err(Error::not_implemented())
    }

    /// `nd_websocket_on_binary_message`: a binary frame arrived.
    fn on_binary_message(&self, msg: BinaryMessage) -> Result<()> {
        let _ = msg;
        Err(Error::not_implemented())
    }

    /// `nd_websocket_on_error`: the connection failed and is gone.
    fn on_error(&self, event: ErrorEvent) -> Result<()> {
        let _ = event;
        Err(Error::not_implemented())
    }

    /// `nd_websocket_on_close`: the connection closed (by the server, by
    /// [`websocket::close`](crate::host::websocket::close), or on unload).
    fn on_close(&self, event: CloseEvent) -> Result<()> {
        let _ = event;
        Err(Error::not_implemented())
    }
}
