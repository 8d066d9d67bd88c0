//! What the registration macros expand to: one generic entry point per export, which reads
//! the input JSON, calls the plugin's method on a fresh `T::default()`, and writes the answer
//! in Navidrome's shape (spec §4.2). Not public API: use the macros.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;

use crate::capability::{
    Lifecycle, Lyrics, MetadataAgent, SchedulerCallback, Scrobbler, SonicSimilarity, TaskWorker,
    WebSocketCallback,
};
use crate::error::Result;
use crate::ffi::{decode_input, encode_output, run_export};

/// Runs export `export`: decode the input as `I`, call `f`, encode what it returns with
/// `answer` (which may return empty output).
fn json_call<I: DeserializeOwned, O>(
    export: &'static str,
    f: impl FnOnce(I) -> Result<O>,
    answer: impl FnOnce(O) -> Result<Vec<u8>>,
) -> i32 {
    run_export(|input| {
        let request: I = decode_input(export, input)?;
        answer(f(request)?)
    })
}

/// Serializes as `{"<.0>": .1}`.
struct Field<T>(&'static str, T);

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(self.0, &self.1)?;
        map.end()
    }
}

/// `Some(x)` → `{"<field>": x}`; `None` → empty output (the host's "not found").
fn optional<T: Serialize>(
    export: &'static str,
    field: &'static str,
) -> impl FnOnce(Option<T>) -> Result<Vec<u8>> {
    move |value| match value {
        Some(value) => encode_output(export, &Field(field, value)),
        None => Ok(Vec::new()),
    }
}

/// `x` → `{"<field>": x}`.
fn wrapped<T: Serialize>(
    export: &'static str,
    field: &'static str,
) -> impl FnOnce(T) -> Result<Vec<u8>> {
    move |value| encode_output(export, &Field(field, value))
}

/// No output.
fn nothing(_: ()) -> Result<Vec<u8>> {
    Ok(Vec::new())
}

/// A custom export taking and returning JSON: the output is `O` as JSON, or empty when it
/// encodes as `null` (`()`, `None`).
pub fn json_export<I: DeserializeOwned, O: Serialize>(
    export: &'static str,
    f: fn(I) -> Result<O>,
) -> i32 {
    json_call(export, f, |output| {
        let bytes = encode_output(export, &output)?;
        Ok(if bytes == b"null" { Vec::new() } else { bytes })
    })
}

/// A custom export taking and returning bytes.
pub fn raw_export(f: fn(&[u8]) -> Result<Vec<u8>>) -> i32 {
    run_export(f)
}

macro_rules! metadata {
    ($($fn:ident: $export:literal => $answer:ident($field:literal);)+) => {$(
        #[doc = concat!("`", $export, "`.")]
        pub fn $fn<T: MetadataAgent + Default>() -> i32 {
            json_call($export, |req| T::default().$fn(req), $answer($export, $field))
        }
    )+};
}

metadata! {
    artist_mbid: "nd_get_artist_mbid" => optional("mbid");
    artist_url: "nd_get_artist_url" => optional("url");
    artist_biography: "nd_get_artist_biography" => optional("biography");
    similar_artists: "nd_get_similar_artists" => wrapped("artists");
    artist_images: "nd_get_artist_images" => wrapped("images");
    artist_top_songs: "nd_get_artist_top_songs" => wrapped("songs");
    album_images: "nd_get_album_images" => wrapped("images");
    similar_songs_by_track: "nd_get_similar_songs_by_track" => wrapped("songs");
    similar_songs_by_album: "nd_get_similar_songs_by_album" => wrapped("songs");
    similar_songs_by_artist: "nd_get_similar_songs_by_artist" => wrapped("songs");
}

/// `nd_get_album_info`: the `AlbumInfo` object itself, or empty output for `None`.
pub fn album_info<T: MetadataAgent + Default>() -> i32 {
    const EXPORT: &str = "nd_get_album_info";
    json_call(
        EXPORT,
        |req| T::default().album_info(req),
        |info| match info {
            Some(info) => encode_output(EXPORT, &info),
            None => Ok(Vec::new()),
        },
    )
}

/// `nd_scrobbler_is_authorized`: JSON `true` or `false`.
pub fn is_authorized<T: Scrobbler + Default>() -> i32 {
    const EXPORT: &str = "nd_scrobbler_is_authorized";
    json_call(
        EXPORT,
        |req| T::default().is_authorized(req),
        |yes| encode_output(EXPORT, &yes),
    )
}

/// `nd_scrobbler_now_playing`.
pub fn now_playing<T: Scrobbler + Default>() -> i32 {
    json_call(
        "nd_scrobbler_now_playing",
        |req| T::default().now_playing(req),
        nothing,
    )
}

/// `nd_scrobbler_scrobble`.
pub fn scrobble<T: Scrobbler + Default>() -> i32 {
    json_call(
        "nd_scrobbler_scrobble",
        |req| T::default().scrobble(req),
        nothing,
    )
}

/// `nd_scrobbler_playback_report`.
pub fn playback_report<T: Scrobbler + Default>() -> i32 {
    json_call(
        "nd_scrobbler_playback_report",
        |req| T::default().playback_report(req),
        nothing,
    )
}

/// `nd_lyrics_get_lyrics`: `{lyrics}`.
pub fn get_lyrics<T: Lyrics + Default>() -> i32 {
    const EXPORT: &str = "nd_lyrics_get_lyrics";
    json_call(
        EXPORT,
        |req| T::default().get_lyrics(req),
        wrapped(EXPORT, "lyrics"),
    )
}

/// `nd_get_sonic_similar_tracks`: `{matches}`.
pub fn similar_tracks<T: SonicSimilarity + Default>() -> i32 {
    const EXPORT: &str = "nd_get_sonic_similar_tracks";
    json_call(
        EXPORT,
        |req| T::default().similar_tracks(req),
        wrapped(EXPORT, "matches"),
    )
}

/// `nd_find_sonic_path`: `{matches}`.
pub fn sonic_path<T: SonicSimilarity + Default>() -> i32 {
    const EXPORT: &str = "nd_find_sonic_path";
    json_call(
        EXPORT,
        |req| T::default().sonic_path(req),
        wrapped(EXPORT, "matches"),
    )
}

/// `nd_task_execute`: the message as a JSON string.
pub fn execute<T: TaskWorker + Default>() -> i32 {
    const EXPORT: &str = "nd_task_execute";
    json_call(
        EXPORT,
        |task| T::default().execute(task),
        |message| encode_output(EXPORT, &message),
    )
}

/// `nd_on_init`.
pub fn on_init<T: Lifecycle + Default>() -> i32 {
    json_call(
        "nd_on_init",
        |_: serde_json::Value| T::default().on_init(),
        nothing,
    )
}

/// `nd_scheduler_callback`.
pub fn on_schedule<T: SchedulerCallback + Default>() -> i32 {
    json_call(
        "nd_scheduler_callback",
        |event| T::default().on_schedule(event),
        nothing,
    )
}

/// `nd_websocket_on_text_message`.
pub fn on_text_message<T: WebSocketCallback + Default>() -> i32 {
    json_call(
        "nd_websocket_on_text_message",
        |m| T::default().on_text_message(m),
        nothing,
    )
}

/// `nd_websocket_on_binary_message`.
pub fn on_binary_message<T: WebSocketCallback + Default>() -> i32 {
    json_call(
        "nd_websocket_on_binary_message",
        |m| T::default().on_binary_message(m),
        nothing,
    )
}

/// `nd_websocket_on_error`.
pub fn on_error<T: WebSocketCallback + Default>() -> i32 {
    json_call(
        "nd_websocket_on_error",
        |e| T::default().on_error(e),
        nothing,
    )
}

/// `nd_websocket_on_close`.
pub fn on_close<T: WebSocketCallback + Default>() -> i32 {
    json_call(
        "nd_websocket_on_close",
        |e| T::default().on_close(e),
        nothing,
    )
}
