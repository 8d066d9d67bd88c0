//! Wire shapes of the DTOs: Go `omitempty` on output, `null` and missing fields as zero values
//! on input, and the lyrics format sniffer.

use serde_json::{Value, json};

use super::*;

fn wire(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("serializes")
}

#[test]
fn artist_request_leaves_out_an_empty_mbid_and_keeps_id_and_name() {
    let request = ArtistRequest::default();
    assert_eq!(wire(&request), json!({"id": "", "name": ""}));
    let request = ArtistRequest {
        id: "a1".into(),
        name: "Björk".into(),
        mbid: "87c5dedd".into(),
    };
    assert_eq!(
        serde_json::to_string(&request).expect("serializes"),
        r#"{"id":"a1","name":"Björk","mbid":"87c5dedd"}"#
    );
}

#[test]
fn every_request_writes_its_go_fields_in_go_order() {
    assert_eq!(
        serde_json::to_string(&ArtistMbidRequest::default()).expect("serializes"),
        r#"{"id":"","name":""}"#
    );
    assert_eq!(
        serde_json::to_string(&SimilarArtistsRequest::default()).expect("serializes"),
        r#"{"id":"","name":"","limit":0}"#
    );
    assert_eq!(
        serde_json::to_string(&TopSongsRequest::default()).expect("serializes"),
        r#"{"id":"","name":"","count":0}"#
    );
    assert_eq!(
        serde_json::to_string(&AlbumRequest::default()).expect("serializes"),
        r#"{"name":"","artist":""}"#
    );
    assert_eq!(
        serde_json::to_string(&SimilarSongsByTrackRequest::default()).expect("serializes"),
        r#"{"id":"","name":"","artist":"","count":0}"#
    );
    assert_eq!(
        serde_json::to_string(&SimilarSongsByAlbumRequest {
            mbid: "m".into(),
            count: 3,
            ..Default::default()
        })
        .expect("serializes"),
        r#"{"id":"","name":"","artist":"","mbid":"m","count":3}"#
    );
    assert_eq!(
        serde_json::to_string(&SimilarSongsByArtistRequest::default()).expect("serializes"),
        r#"{"id":"","name":"","count":0}"#
    );
}

#[test]
fn track_info_always_writes_its_lists_and_omits_empty_ids() {
    let track = TrackInfo {
        title: "Hyperballad".into(),
        duration: 321.5,
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_string(&track).expect("serializes"),
        r#"{"id":"","title":"Hyperballad","album":"","artist":"","albumArtist":"","artists":[],"albumArtists":[],"duration":321.5,"trackNumber":0,"discNumber":0}"#
    );
    let track = TrackInfo {
        mbz_recording_id: "rec".into(),
        library_id: 2,
        path: "B/Post/04.flac".into(),
        ..Default::default()
    };
    let value = wire(&track);
    assert_eq!(value["mbzRecordingId"], "rec");
    assert_eq!(value["libraryId"], 2);
    assert_eq!(value["path"], "B/Post/04.flac");
    assert!(value.get("mbzAlbumId").is_none());
}

#[test]
fn song_ref_omits_every_empty_field_but_name() {
    assert_eq!(wire(&SongRef::default()), json!({"name": ""}));
    let song = SongRef {
        name: "Army of Me".into(),
        artists: vec![ArtistRef {
            name: "Björk".into(),
            ..Default::default()
        }],
        duration_ms: 234_000,
        ..Default::default()
    };
    assert_eq!(
        wire(&song),
        json!({"name": "Army of Me", "artists": [{"name": "Björk"}], "durationMs": 234000})
    );
}

#[test]
fn null_and_missing_fields_read_as_zero_values() {
    let song: SongRef = serde_json::from_value(json!({
        "name": null, "artists": null, "duration": null, "unknown": [1, 2]
    }))
    .expect("lenient");
    assert_eq!(song, SongRef::default());
    let image: ImageInfo = serde_json::from_value(json!({"url": "u"})).expect("lenient");
    assert_eq!(
        image,
        ImageInfo {
            url: "u".into(),
            size: 0
        }
    );
    let lyric: LyricsText =
        serde_json::from_value(json!({"text": "la", "lang": null})).expect("lenient");
    assert_eq!(lyric.lang, "");
}

#[test]
fn wrong_types_are_errors_as_in_go() {
    assert!(serde_json::from_value::<ImageInfo>(json!({"url": 1})).is_err());
    assert!(serde_json::from_value::<ImageInfo>(json!({"size": 1.5})).is_err());
    assert!(serde_json::from_value::<ImageInfo>(json!({"size": 3_000_000_000u64})).is_err());
}

#[test]
fn playback_report_uses_go_names_and_lower_case_states() {
    let report = PlaybackReport {
        username: "ana".into(),
        state: PlaybackState::Paused,
        position_ms: 45_000,
        playback_rate: 1.0,
        player_id: "p1".into(),
        player_name: "Web".into(),
        timestamp: 1_703_270_400,
        ..Default::default()
    };
    let value = wire(&report);
    assert_eq!(value["state"], "paused");
    assert_eq!(value["positionMs"], 45_000);
    assert_eq!(value["playbackRate"], 1.0);
    assert_eq!(value["playerId"], "p1");
    assert_eq!(value["playerName"], "Web");
    assert_eq!(value["timestamp"], 1_703_270_400);
    assert_eq!(value["track"]["artists"], json!([]));
    for state in [
        PlaybackState::Starting,
        PlaybackState::Playing,
        PlaybackState::Paused,
        PlaybackState::Stopped,
        PlaybackState::Expired,
    ] {
        assert_eq!(wire(&state), json!(state.as_str()));
    }
}

#[test]
fn lyrics_text_omits_an_empty_lang() {
    let lyric = LyricsText {
        lang: String::new(),
        text: "la".into(),
    };
    assert_eq!(wire(&lyric), json!({"text": "la"}));
}

#[test]
fn sniffs_ttml_with_declaration_comments_and_prefixes() {
    let ttml = "\u{feff}<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<tt:tt xmlns:tt=\"http://www.w3.org/ns/ttml\">\n</tt:tt>";
    assert_eq!(LyricsFormat::sniff(ttml), LyricsFormat::Ttml);
    assert_eq!(LyricsFormat::sniff("  <TT>"), LyricsFormat::Ttml);
    assert_eq!(LyricsFormat::sniff("<tt/>"), LyricsFormat::Ttml);
    assert_eq!(LyricsFormat::sniff("<ttml>"), LyricsFormat::Plain);
    assert_eq!(
        LyricsFormat::sniff("<?xml version=\"1.0\"?><html/>"),
        LyricsFormat::Plain
    );
}

#[test]
fn sniffs_srt_cues() {
    let srt =
        "1\n00:00:01,000 --> 00:00:04,500\nfirst line\n\n2\n00:00:05.1 --> 00:00:06.25 X:1\nsecond";
    assert_eq!(LyricsFormat::sniff(srt), LyricsFormat::Srt);
    assert_eq!(
        LyricsFormat::sniff("00:00:01 --> 00:00:02"),
        LyricsFormat::Plain
    );
}

#[test]
fn sniffs_lyricsfile_yaml_by_its_version_line() {
    let yaml = "\"version\": '1.0'  # lyricsfile\nlines:\n  - text: hi";
    assert_eq!(LyricsFormat::sniff(yaml), LyricsFormat::Yaml);
    assert_eq!(LyricsFormat::sniff("version: 2.0\n"), LyricsFormat::Plain);
}

#[test]
fn sniffs_lrc_time_tags_and_falls_back_to_plain() {
    assert_eq!(
        LyricsFormat::sniff("[ar:Björk]\n[00:12.34]Hello"),
        LyricsFormat::Lrc
    );
    assert_eq!(LyricsFormat::sniff("[1:02]short tag"), LyricsFormat::Lrc);
    assert_eq!(
        LyricsFormat::sniff("[ar:Björk]\n[chorus]"),
        LyricsFormat::Plain
    );
    assert_eq!(
        LyricsFormat::sniff("Test lyrics for X\nBy Y"),
        LyricsFormat::Plain
    );
    assert_eq!(LyricsFormat::sniff(""), LyricsFormat::Plain);
    let text = LyricsText {
        lang: "eng".into(),
        text: "[00:01.00]x".into(),
    };
    assert_eq!(text.format().as_str(), "lrc");
}
