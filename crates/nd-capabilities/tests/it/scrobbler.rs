//! The Scrobbler adapter against `scrobbler` (a port of Navidrome's test-scrobbler).

use std::sync::Arc;

use nd_capabilities::types::{ArtistRef, PlaybackReport, PlaybackState, TrackInfo};
use nd_capabilities::{CapabilityErrorKind, Scrobbler, ScrobblerError};
use nd_runtime::CallErrorKind;
use serde_json::{Value, json};

use crate::{load, recording};

fn track() -> TrackInfo {
    TrackInfo {
        id: "tr-1".into(),
        title: "Hyperballad".into(),
        album: "Post".into(),
        artist: "Björk".into(),
        album_artist: "Björk".into(),
        artists: vec![ArtistRef {
            id: "ar-1".into(),
            name: "Björk".into(),
            mbid: "87c5dedd".into(),
            ..Default::default()
        }],
        duration: 321.5,
        track_number: 4,
        disc_number: 1,
        mbz_recording_id: "rec-1".into(),
        ..Default::default()
    }
}

fn scrobbler(config: &[(&str, &str)]) -> Scrobbler {
    Scrobbler::new(Arc::new(load("scrobbler", config)))
}

#[test]
fn is_authorized_follows_the_authorized_config() {
    assert!(scrobbler(&[]).is_authorized("ana"), "authorized by default");
    assert!(!scrobbler(&[("authorized", "false")]).is_authorized("ana"));
    assert!(!scrobbler(&[("authorized", "0")]).is_authorized("ana"));
    assert!(scrobbler(&[("authorized", "TRUE")]).is_authorized("ana"));
    assert!(
        scrobbler(&[("authorized", "maybe")]).is_authorized("ana"),
        "unparsable means true"
    );
    let (record, caller) = recording(load("scrobbler", &[]));
    assert!(Scrobbler::new(caller).is_authorized("ana"));
    let call = record.only_call();
    assert_eq!(call.export, "nd_scrobbler_is_authorized");
    assert_eq!(call.input, json!({"username": "ana"}));
}

#[test]
fn is_authorized_is_false_on_any_error_or_odd_answer() {
    assert!(!scrobbler(&[("authorized_error", "token expired")]).is_authorized("ana"));
    for raw in ["\"true\"", "1", "{\"authorized\":true}", "tru", "null"] {
        assert!(
            !scrobbler(&[("authorized_output", raw)]).is_authorized("ana"),
            "{raw}"
        );
    }
    // A plugin without the export is never called and never authorizes.
    let (record, caller) = recording(load("lyrics", &[]));
    assert!(!Scrobbler::new(caller).is_authorized("ana"));
    assert!(record.calls().is_empty());
}

#[test]
fn now_playing_and_scrobble_send_the_track_as_navidrome_does() {
    let (record, caller) = recording(load("scrobbler", &[]));
    let adapter = Scrobbler::new(caller);
    adapter.now_playing("ana", &track(), 42).unwrap();
    adapter.scrobble("ana", &track(), 1_703_270_400).unwrap();
    let calls = record.calls();
    assert_eq!(calls[0].export, "nd_scrobbler_now_playing");
    assert_eq!(calls[1].export, "nd_scrobbler_scrobble");
    let expected_track = json!({
        "id": "tr-1", "title": "Hyperballad", "album": "Post", "artist": "Björk",
        "albumArtist": "Björk",
        "artists": [{"id": "ar-1", "name": "Björk", "mbid": "87c5dedd"}],
        "albumArtists": [],
        "duration": 321.5, "trackNumber": 4, "discNumber": 1, "mbzRecordingId": "rec-1",
    });
    assert_eq!(
        calls[0].input,
        json!({"username": "ana", "track": expected_track, "position": 42})
    );
    assert_eq!(
        calls[1].input,
        json!({"username": "ana", "track": expected_track, "timestamp": 1_703_270_400})
    );
    // The plugin decoded what it was sent: it echoes its input as `{"received": ...}`.
    for call in &calls {
        let echoed: Value = serde_json::from_str(call.output.as_deref().unwrap()).unwrap();
        assert_eq!(echoed["received"], call.input);
    }
}

#[test]
fn errors_are_classified_by_their_marker() {
    let cases = [
        ("not_authorized", "not authorized"),
        ("retry_later", "retry later"),
        ("unrecoverable", "unrecoverable"),
        ("something_else", "unrecoverable"),
        ("plain", "unrecoverable"),
    ];
    for (error_type, class) in cases {
        let adapter = scrobbler(&[("error", "boom"), ("error_type", error_type)]);
        for result in [
            adapter.now_playing("ana", &track(), 1),
            adapter.scrobble("ana", &track(), 2),
            adapter.playback_report(&PlaybackReport::default()),
        ] {
            let error = result.expect_err(error_type);
            let matches_class = match class {
                "not authorized" => matches!(error, ScrobblerError::NotAuthorized(_)),
                "retry later" => matches!(error, ScrobblerError::RetryLater(_)),
                _ => matches!(error, ScrobblerError::Unrecoverable(_)),
            };
            assert!(matches_class, "{error_type}: {error}");
            assert_eq!(error.is_retryable(), class == "retry later");
            let message = error.error().plugin_message().unwrap();
            let expected = match error_type {
                "plain" => "boom".to_owned(),
                "not_authorized" | "retry_later" => format!("scrobbler({error_type}): boom"),
                _ => "scrobbler(unrecoverable): boom".to_owned(),
            };
            assert_eq!(message, expected);
            assert!(
                error.to_string().starts_with(&format!(
                    "scrobbler error ({class}): plugin 'scrobbler': nd_scrobbler_"
                )),
                "{error}"
            );
        }
    }
}

#[test]
fn playback_report_is_sent_with_go_names_and_ignored_when_unimplemented() {
    let (record, caller) = recording(load("scrobbler", &[]));
    let report = PlaybackReport {
        username: "ana".into(),
        track: track(),
        state: PlaybackState::Playing,
        position_ms: 45_000,
        playback_rate: 1.25,
        player_id: "p-1".into(),
        player_name: "Web Player".into(),
        timestamp: 1_703_270_400,
    };
    Scrobbler::new(caller).playback_report(&report).unwrap();
    let call = record.only_call();
    assert_eq!(call.export, "nd_scrobbler_playback_report");
    assert_eq!(call.input["state"], "playing");
    assert_eq!(call.input["positionMs"], 45_000);
    assert_eq!(call.input["playbackRate"], 1.25);
    assert_eq!(call.input["playerId"], "p-1");
    assert_eq!(call.input["playerName"], "Web Player");
    let echoed: Value = serde_json::from_str(call.output.as_deref().unwrap()).unwrap();
    assert_eq!(echoed["received"]["track"]["title"], "Hyperballad");

    // `-2` (a pre-v0.62 Go PDK scrobbler) is ignored, even with an error configured.
    let (record, caller) = recording(load(
        "scrobbler",
        &[("playback", "unimplemented"), ("error", "boom")],
    ));
    Scrobbler::new(caller).playback_report(&report).unwrap();
    assert_eq!(record.calls().len(), 1, "it was called and answered -2");
    // A plugin without the export is not called at all.
    let (record, caller) = recording(load("agent", &[]));
    Scrobbler::new(caller).playback_report(&report).unwrap();
    assert!(record.calls().is_empty());
}

#[test]
fn a_missing_notification_export_is_unrecoverable_without_a_call() {
    let (record, caller) = recording(load("agent", &[]));
    let adapter = Scrobbler::new(caller);
    for result in [
        adapter.now_playing("ana", &track(), 1),
        adapter.scrobble("ana", &track(), 1),
    ] {
        let ScrobblerError::Unrecoverable(error) = result.unwrap_err() else {
            panic!("not unrecoverable");
        };
        assert_eq!(error.kind, CapabilityErrorKind::MissingExport);
        assert!(
            error.to_string().ends_with(": function not found"),
            "{error}"
        );
    }
    assert!(record.calls().is_empty());
}

#[test]
fn a_failed_call_keeps_the_runtime_outcome() {
    let adapter = scrobbler(&[("error", "quota"), ("error_type", "retry_later")]);
    let error = adapter
        .scrobble("ana", &track(), 3)
        .unwrap_err()
        .into_error();
    assert_eq!(
        error.call_kind(),
        Some(&CallErrorKind::PluginError {
            message: "scrobbler(retry_later): quota".into(),
            rc: -1
        })
    );
    assert_eq!(
        error.cause(),
        "plugin call failed: scrobbler(retry_later): quota"
    );
}
