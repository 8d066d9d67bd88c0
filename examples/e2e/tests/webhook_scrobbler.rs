//! End-to-end: the `webhook-scrobbler` example (examples/plugins/webhook-scrobbler) loaded by
//! the manager from its package and driven through the typed Scrobbler adapter, posting to
//! webhook receivers on 127.0.0.1 (`nd_testkit::http_server`).
//!
//! The example's `http.requiredHosts` is `["*"]` (webhook URLs are the administrator's
//! choice); 127.0.0.1 is reachable only because the harness's manager allows it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use nd_capabilities::ScrobblerError;
use nd_capabilities::types::{PlaybackReport, PlaybackState, TrackInfo};
use nd_testkit::http_server::{TestRequest, TestResponse, TestServer};
use ndp_examples_e2e::fakes::harness::Harness;
use serde_json::{Value, json};

const ID: &str = "webhook";

/// "Take Off" from the demo catalog, as the application would describe it.
fn take_off(host: &Harness) -> TrackInfo {
    let t = host.demo.track("Take Off").expect("demo track");
    TrackInfo {
        id: t.id(),
        title: t.title.into(),
        album: t.album.into(),
        artist: t.artist.into(),
        album_artist: t.album_artist.into(),
        duration: 212.5,
        track_number: i32::try_from(t.track_number).unwrap(),
        disc_number: i32::try_from(t.disc_number).unwrap(),
        mbz_recording_id: t.mbz_recording_id.into(),
        mbz_album_id: t.mbz_album_id.into(),
        ..TrackInfo::default()
    }
}

/// The JSON document the plugin documents for a track (README "Payload").
fn track_json(track: &TrackInfo) -> Value {
    json!({
        "id": track.id,
        "title": track.title,
        "artist": track.artist,
        "album": track.album,
        "albumArtist": track.album_artist,
        "duration": track.duration,
        "trackNumber": track.track_number,
        "discNumber": track.disc_number,
        "mbzRecordingId": track.mbz_recording_id,
        "mbzAlbumId": track.mbz_album_id,
    })
}

fn body(request: &TestRequest) -> Value {
    serde_json::from_slice(&request.body).unwrap_or_else(|e| {
        panic!(
            "webhook body is not JSON ({e}): {}",
            String::from_utf8_lossy(&request.body)
        )
    })
}

fn kind(error: &ScrobblerError) -> &'static str {
    match error {
        ScrobblerError::NotAuthorized(_) => "NotAuthorized",
        ScrobblerError::RetryLater(_) => "RetryLater",
        ScrobblerError::Unrecoverable(_) => "Unrecoverable",
    }
}

/// Scrobbles `track` for alice through the loaded plugin.
fn scrobble(host: &Harness, track: &TrackInfo) -> Result<(), ScrobblerError> {
    let plugin = host.plugin(ID);
    let scrobbler = plugin.capabilities().scrobbler().expect("a scrobbler");
    scrobbler.scrobble("alice", track, 1_700_000_000)
}

#[test]
fn a_scrobble_is_posted_as_exactly_the_documented_json_to_every_url() {
    let first = TestServer::start(|_| TestResponse::status(204));
    let second = TestServer::start(|_| TestResponse::ok("thanks"));
    let host = Harness::new(nd_testkit::runtime());
    let plugin = host.enable(
        "webhook-scrobbler",
        ID,
        json!({"urls": [first.url("/hooks/navidrome"), second.url("/collect?source=ndp")]}),
    );
    assert_eq!(
        host.manager.status(ID).unwrap().capabilities,
        ["Scrobbler"],
        "exactly the scrobbler capability"
    );
    let mut exports: Vec<&str> = plugin.plugin().exports().collect();
    exports.sort();
    assert_eq!(
        exports,
        [
            "nd_scrobbler_is_authorized",
            "nd_scrobbler_now_playing",
            "nd_scrobbler_playback_report",
            "nd_scrobbler_scrobble",
        ],
        "the four scrobbler exports and nothing else"
    );
    let scrobbler = plugin.capabilities().scrobbler().expect("a scrobbler");
    assert!(
        scrobbler.is_authorized("alice"),
        "no user list: everyone is authorized"
    );

    let track = take_off(&host);
    scrobbler.scrobble("alice", &track, 1_700_000_000).unwrap();

    let expected = json!({
        "event": "scrobble",
        "username": "alice",
        "timestamp": 1_700_000_000,
        "track": track_json(&track),
    });
    for (server, path) in [
        (&first, "/hooks/navidrome"),
        (&second, "/collect?source=ndp"),
    ] {
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "one request to {path}: {requests:#?}");
        let request = &requests[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, path);
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(body(request), expected, "the body posted to {path}");
    }

    // Now-playing events and playback reports are off by default: nothing is sent.
    scrobbler.now_playing("alice", &track, 12).unwrap();
    scrobbler
        .playback_report(&PlaybackReport {
            username: "alice".into(),
            track: track.clone(),
            state: PlaybackState::Playing,
            ..PlaybackReport::default()
        })
        .unwrap();
    assert_eq!(first.request_count(), 1);
    assert_eq!(second.request_count(), 1);
}

#[test]
fn now_playing_and_playback_reports_are_posted_when_enabled_and_users_limit_authorization() {
    let server = TestServer::start(|_| TestResponse::status(200));
    let host = Harness::new(nd_testkit::runtime());
    let plugin = host.enable(
        "webhook-scrobbler",
        ID,
        json!({"urls": [server.url("/np")], "nowPlaying": true, "playbackReports": true,
               "users": ["alice"]}),
    );
    let scrobbler = plugin.capabilities().scrobbler().expect("a scrobbler");
    assert!(scrobbler.is_authorized("alice"));
    assert!(!scrobbler.is_authorized("bob"), "bob is not in the list");

    let track = take_off(&host);
    scrobbler.now_playing("alice", &track, 42).unwrap();
    let report = PlaybackReport {
        username: "alice".into(),
        track: track.clone(),
        state: PlaybackState::Paused,
        position_ms: 42_500,
        playback_rate: 1.5,
        player_id: "player-7".into(),
        player_name: "Living room".into(),
        timestamp: 1_700_000_042,
    };
    scrobbler.playback_report(&report).unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(
        body(&requests[0]),
        json!({
            "event": "nowPlaying",
            "username": "alice",
            "position": 42,
            "track": track_json(&track),
        })
    );
    assert_eq!(
        body(&requests[1]),
        json!({
            "event": "playbackReport",
            "username": "alice",
            "state": "paused",
            "positionMs": 42_500,
            "playbackRate": 1.5,
            "playerId": "player-7",
            "playerName": "Living room",
            "timestamp": 1_700_000_042,
            "track": track_json(&track),
        })
    );

    // A user outside the list is refused without a request, as not authorized.
    let err = scrobbler
        .scrobble("bob", &track, 1_700_000_000)
        .unwrap_err();
    assert_eq!(kind(&err), "NotAuthorized", "{err}");
    assert_eq!(server.request_count(), 2);
}

#[test]
fn server_errors_and_timeouts_ask_for_a_retry_client_errors_do_not() {
    let unavailable = TestServer::start(|_| TestResponse::status(503));
    let missing = TestServer::start(|_| TestResponse::status(404));
    let slow = TestServer::start(|_| TestResponse::status(200).with_delay(Duration::from_secs(5)));
    let fine = TestServer::start(|_| TestResponse::status(200));
    // A port nothing listens on: bind, note the port, close.
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let host = Harness::new(nd_testkit::runtime());
    host.enable("webhook-scrobbler", ID, json!({"urls": [fine.url("/")]}));
    let track = take_off(&host);
    scrobble(&host, &track).unwrap();

    let cases: [(&str, Value, &str, &str); 5] = [
        (
            "503",
            json!({"urls": [unavailable.url("/hook")]}),
            "RetryLater",
            "503",
        ),
        (
            "404",
            json!({"urls": [missing.url("/hook")]}),
            "Unrecoverable",
            "404",
        ),
        (
            "timeout",
            json!({"urls": [slow.url("/hook")], "timeoutMs": 300}),
            "RetryLater",
            &slow.url("/hook"),
        ),
        (
            "refused",
            json!({"urls": [format!("http://127.0.0.1:{closed_port}/hook")]}),
            "RetryLater",
            "127.0.0.1",
        ),
        (
            "one of two fails",
            json!({"urls": [fine.url("/"), unavailable.url("/second")]}),
            "RetryLater",
            "503",
        ),
    ];
    for (case, config, expected, mentions) in cases {
        host.manager.set_config(ID, config).unwrap();
        let err = scrobble(&host, &track).unwrap_err();
        assert_eq!(kind(&err), expected, "{case}: {err}");
        let text = err.error().to_string();
        assert!(text.contains(mentions), "{case}: {text}");
    }
    assert!(
        fine.request_count() == 2,
        "the healthy URL got the first scrobble and the mixed case: {}",
        fine.request_count()
    );
    assert_eq!(unavailable.request_count(), 2);
    assert_eq!(missing.request_count(), 1);
}
