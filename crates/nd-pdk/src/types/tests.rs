//! The plugin-side DTOs against the host-side ones (`nd_capabilities::types`): the same JSON
//! for full values and for zero values (which fields are omitted), and the same reading of
//! `null`s. The event types are checked against the spec's field lists.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;
use nd_capabilities::types as host;

/// Reads `full` (every field set) and `{}` into the host type `H` and the PDK type `P`, and
/// checks that both write the same JSON, and that the full value keeps every key of `full`.
#[track_caller]
fn same<H, P>(full: Value)
where
    H: Serialize + DeserializeOwned + Default,
    P: Serialize + DeserializeOwned + Default,
{
    let name = std::any::type_name::<P>();
    let from = |v: &Value| -> (Value, Value) {
        let h: H =
            serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{name} (host): {e}"));
        let p: P = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        (
            serde_json::to_value(h).unwrap(),
            serde_json::to_value(p).unwrap(),
        )
    };
    let (h, p) = from(&full);
    assert_eq!(p, h, "{name}: full value");
    assert_eq!(p, full, "{name}: every field of the full value survives");
    let (h, p) = from(&json!({}));
    assert_eq!(p, h, "{name}: zero value");
    assert_eq!(
        serde_json::to_value(P::default()).unwrap(),
        serde_json::to_value(H::default()).unwrap(),
        "{name}: Default"
    );
    // Go reads `null` as the zero value: a `null` in every field reads like `{}`.
    if let Value::Object(map) = &full {
        let nulls: Value = map
            .keys()
            .map(|k| (k.clone(), Value::Null))
            .collect::<serde_json::Map<_, _>>()
            .into();
        let h = serde_json::from_value::<H>(nulls.clone())
            .ok()
            .map(|h| serde_json::to_value(h).unwrap());
        let p = serde_json::from_value::<P>(nulls)
            .ok()
            .map(|p| serde_json::to_value(p).unwrap());
        assert_eq!(p, h, "{name}: nulls");
    }
}

fn artist_ref() -> Value {
    json!({"id": "ar-1", "name": "Björk", "mbid": "m-1", "sortName": "Bjork", "role": "artist", "subRole": "vocals"})
}

fn song_ref() -> Value {
    json!({
        "id": "mf-1", "name": "Joga", "mbid": "r-1", "isrc": "GBAAA9700001", "artist": "Björk",
        "artistMbid": "m-1", "artists": [artist_ref()], "album": "Homogenic", "albumMbid": "al-1",
        "duration": 305.5, "durationMs": 305500
    })
}

fn track_info() -> Value {
    json!({
        "id": "mf-1", "title": "Joga", "album": "Homogenic", "artist": "Björk", "albumArtist": "Björk",
        "artists": [artist_ref()], "albumArtists": [artist_ref()], "duration": 305.5,
        "trackNumber": 3, "discNumber": 1, "mbzRecordingId": "r-1", "mbzAlbumId": "al-1",
        "mbzReleaseGroupId": "rg-1", "mbzReleaseTrackId": "rt-1", "libraryId": 2,
        "path": "Björk/Homogenic/03 Joga.flac"
    })
}

fn track() -> Value {
    // In parts: one `json!` this large exceeds the macro recursion limit.
    let mut track = json!({
        "id": "mf-1", "libraryId": 1, "libraryName": "Music", "path": "a/b.flac", "missing": true,
        "title": "Joga", "album": "Homogenic", "artist": "Björk", "albumArtist": "Björk",
        "albumId": "al", "sortTitle": "joga", "sortAlbumName": "homogenic", "sortArtistName": "bjork",
        "trackNumber": 3, "discNumber": 1, "discSubtitle": "one", "year": 1997, "date": "1997-09-22",
        "originalYear": 1997, "originalDate": "1997", "releaseYear": 2002, "releaseDate": "2002"
    });
    let audio = json!({
        "size": 123456, "suffix": "flac", "duration": 305.5, "bitRate": 900, "sampleRate": 44100,
        "bitDepth": 16, "channels": 2, "codec": "FLAC", "genres": ["Electronic"], "comment": "c",
        "bpm": 90, "explicitStatus": "c", "catalogNum": "TPLP71", "compilation": true,
        "hasCoverArt": true, "mbzRecordingId": "r", "mbzReleaseTrackId": "rt", "mbzAlbumId": "a"
    });
    let rest = json!({
        "mbzReleaseGroupId": "rg", "mbzAlbumType": "album", "mbzAlbumComment": "remaster",
        "rgAlbumGain": -7.5, "rgAlbumPeak": 0.98, "rgTrackGain": -6.25, "rgTrackPeak": 0.5,
        "birthTime": 1, "createdAt": 2, "updatedAt": 3, "averageRating": 4.5, "starred": true,
        "starredAt": 4, "rating": 5, "playCount": 6, "playDate": 7,
        "tags": {"genre": ["Electronic"], "mood": ["calm", "cold"]},
        "participants": [artist_ref()]
    });
    for part in [audio, rest] {
        if let (Value::Object(all), Value::Object(part)) = (&mut track, part) {
            all.extend(part);
        }
    }
    track
}

#[test]
fn shared_types_serialize_like_the_host() {
    same::<host::ArtistRef, ArtistRef>(artist_ref());
    same::<host::SongRef, SongRef>(song_ref());
    same::<host::TrackInfo, TrackInfo>(track_info());
    same::<host::Track, Track>(track());
    same::<host::ArtistMbidRequest, ArtistMbidRequest>(json!({"id": "1", "name": "n"}));
    same::<host::ArtistRequest, ArtistRequest>(json!({"id": "1", "name": "n", "mbid": "m"}));
    same::<host::SimilarArtistsRequest, SimilarArtistsRequest>(
        json!({"id": "1", "name": "n", "mbid": "m", "limit": 5}),
    );
    same::<host::TopSongsRequest, TopSongsRequest>(
        json!({"id": "1", "name": "n", "mbid": "m", "count": 5}),
    );
    same::<host::AlbumRequest, AlbumRequest>(json!({"name": "a", "artist": "b", "mbid": "m"}));
    same::<host::SimilarSongsByTrackRequest, SimilarSongsByTrackRequest>(
        json!({"id": "1", "name": "n", "artist": "a", "mbid": "m", "count": 5}),
    );
    same::<host::SimilarSongsByAlbumRequest, SimilarSongsByAlbumRequest>(
        json!({"id": "1", "name": "n", "artist": "a", "mbid": "m", "count": 5}),
    );
    same::<host::SimilarSongsByArtistRequest, SimilarSongsByArtistRequest>(
        json!({"id": "1", "name": "n", "mbid": "m", "count": 5}),
    );
    same::<host::ImageInfo, ImageInfo>(json!({"url": "http://i/1.jpg", "size": 300}));
    same::<host::AlbumInfo, AlbumInfo>(
        json!({"name": "a", "mbid": "m", "description": "d", "url": "u"}),
    );
    same::<host::PlaybackReport, PlaybackReport>(json!({
        "username": "alice", "track": track_info(), "state": "paused", "positionMs": 1500,
        "playbackRate": 1.5, "playerId": "p1", "playerName": "Web", "timestamp": 1700000000
    }));
    same::<host::LyricsText, LyricsText>(json!({"lang": "eng", "text": "[00:01.00]la"}));
    same::<host::SonicMatch, SonicMatch>(json!({"song": song_ref(), "similarity": 0.75}));
}

#[test]
fn zero_values_are_omitted_as_go_omits_them() {
    assert_eq!(
        serde_json::to_value(SongRef::default()).unwrap(),
        json!({"name": ""})
    );
    assert_eq!(
        serde_json::to_value(TrackInfo::default()).unwrap(),
        json!({
            "id": "", "title": "", "album": "", "artist": "", "albumArtist": "", "artists": [],
            "albumArtists": [], "duration": 0.0, "trackNumber": 0, "discNumber": 0
        })
    );
}

#[test]
fn event_inputs_read_what_the_host_sends() {
    let track: TrackInfo = serde_json::from_value(track_info()).unwrap();
    let now: NowPlayingRequest =
        serde_json::from_value(json!({"username": "alice", "track": track_info(), "position": 30}))
            .unwrap();
    assert_eq!(
        (now.username.as_str(), now.position, &now.track),
        ("alice", 30, &track)
    );
    let scrobble: ScrobbleRequest = serde_json::from_value(
        json!({"username": "bob", "track": track_info(), "timestamp": 1700000000}),
    )
    .unwrap();
    assert_eq!(scrobble.timestamp, 1_700_000_000);
    let lyrics: LyricsRequest = serde_json::from_value(json!({"track": track_info()})).unwrap();
    assert_eq!(lyrics.track, track);
    let similar: SonicSimilarRequest =
        serde_json::from_value(json!({"song": song_ref(), "count": 4})).unwrap();
    assert_eq!((similar.song.name.as_str(), similar.count), ("Joga", 4));
    let path: SonicPathRequest = serde_json::from_value(
        json!({"startSong": song_ref(), "endSong": {"name": "Bachelorette"}, "count": 9}),
    )
    .unwrap();
    assert_eq!(
        (
            path.start_song.name.as_str(),
            path.end_song.name.as_str(),
            path.count
        ),
        ("Joga", "Bachelorette", 9)
    );
    let task: Task = serde_json::from_value(
        json!({"queueName": "q", "taskId": "t", "payload": "aGk=", "attempt": 2}),
    )
    .unwrap();
    assert_eq!(
        task,
        Task {
            queue_name: "q".into(),
            task_id: "t".into(),
            payload: b"hi".to_vec(),
            attempt: 2
        }
    );
    assert_eq!(serde_json::to_value(&task).unwrap()["payload"], "aGk=");
    let event: ScheduledEvent =
        serde_json::from_value(json!({"scheduleId": "s", "payload": "p", "isRecurring": true}))
            .unwrap();
    assert!(event.is_recurring);
    let binary: BinaryMessage =
        serde_json::from_value(json!({"connectionId": "c", "data": "AAH/"})).unwrap();
    assert_eq!(binary.data, [0, 1, 255]);
    let close: CloseEvent = serde_json::from_value(
        json!({"connectionId": "c", "code": 1001, "reason": "plugin unloaded"}),
    )
    .unwrap();
    assert_eq!(
        (close.code, close.reason.as_str()),
        (1001, "plugin unloaded")
    );
    let error: ErrorEvent =
        serde_json::from_value(json!({"connectionId": "c", "error": "eof"})).unwrap();
    assert_eq!(error.error, "eof");
    let text: TextMessage =
        serde_json::from_value(json!({"connectionId": "c", "message": "hi"})).unwrap();
    assert_eq!(text.message, "hi");
    let auth: IsAuthorizedRequest = serde_json::from_value(json!({"username": null})).unwrap();
    assert_eq!(auth.username, "");
}
