//! The MetadataAgent adapter against `agent` (a port of Navidrome's test-metadata-agent) and
//! `partialagent` (only the biography implemented, the rest `-2`).

use std::sync::Arc;

use nd_capabilities::types::{
    AlbumInfo, AlbumRequest, ArtistMbidRequest, ArtistRef, ArtistRequest, ImageInfo,
    SimilarArtistsRequest, SimilarSongsByAlbumRequest, SimilarSongsByArtistRequest,
    SimilarSongsByTrackRequest, SongRef, TopSongsRequest,
};
use nd_capabilities::{CapabilityError, CapabilityErrorKind, MetadataAgent};
use nd_runtime::CallErrorKind;
use serde_json::json;

use crate::{load, recording};

const ALL_EXPORTS: [&str; 11] = [
    "nd_get_artist_mbid",
    "nd_get_artist_url",
    "nd_get_artist_biography",
    "nd_get_similar_artists",
    "nd_get_artist_images",
    "nd_get_artist_top_songs",
    "nd_get_album_info",
    "nd_get_album_images",
    "nd_get_similar_songs_by_track",
    "nd_get_similar_songs_by_album",
    "nd_get_similar_songs_by_artist",
];

fn artist(name: &str) -> ArtistRequest {
    ArtistRequest {
        id: format!("ar-{name}"),
        name: name.into(),
        mbid: String::new(),
    }
}

fn album(name: &str, artist: &str) -> AlbumRequest {
    AlbumRequest {
        name: name.into(),
        artist: artist.into(),
        mbid: String::new(),
    }
}

/// The answers of every method, each reduced to "found" (`Some(true)`), "not found"
/// (`Some(false)`) or failed (`None`), in the order of [`ALL_EXPORTS`].
fn outcomes(agent: &MetadataAgent) -> Vec<Result<bool, CapabilityError>> {
    let a = artist("Björk");
    let al = album("Post", "Björk");
    vec![
        agent
            .artist_mbid(&ArtistMbidRequest {
                id: "1".into(),
                name: "Björk".into(),
            })
            .map(|v| v.is_some()),
        agent.artist_url(&a).map(|v| v.is_some()),
        agent.artist_biography(&a).map(|v| v.is_some()),
        agent
            .similar_artists(&SimilarArtistsRequest {
                name: "Björk".into(),
                limit: 2,
                ..Default::default()
            })
            .map(|v| v.is_some()),
        agent.artist_images(&a).map(|v| v.is_some()),
        agent
            .artist_top_songs(&TopSongsRequest {
                name: "Björk".into(),
                count: 2,
                ..Default::default()
            })
            .map(|v| v.is_some()),
        agent.album_info(&al).map(|v| v.is_some()),
        agent.album_images(&al).map(|v| v.is_some()),
        agent
            .similar_songs_by_track(&SimilarSongsByTrackRequest {
                name: "Joga".into(),
                count: 1,
                ..Default::default()
            })
            .map(|v| v.is_some()),
        agent
            .similar_songs_by_album(&SimilarSongsByAlbumRequest {
                name: "Post".into(),
                count: 1,
                ..Default::default()
            })
            .map(|v| v.is_some()),
        agent
            .similar_songs_by_artist(&SimilarSongsByArtistRequest {
                name: "Björk".into(),
                count: 1,
                ..Default::default()
            })
            .map(|v| v.is_some()),
    ]
}

#[test]
fn artist_methods_answer_as_the_test_plugin() {
    let (record, caller) = recording(load("agent", &[]));
    let agent = MetadataAgent::new(caller);
    let request = ArtistMbidRequest {
        id: "ar-1".into(),
        name: "Björk".into(),
    };
    assert_eq!(
        agent.artist_mbid(&request).unwrap().as_deref(),
        Some("test-mbid-Björk")
    );
    assert_eq!(
        agent.artist_url(&artist("Björk")).unwrap().as_deref(),
        Some("https://test.example.com/artist/Björk")
    );
    assert_eq!(
        agent.artist_biography(&artist("Björk")).unwrap().as_deref(),
        Some("Biography for Björk")
    );
    assert_eq!(
        agent.artist_images(&artist("Björk")).unwrap(),
        Some(vec![
            ImageInfo {
                url: "https://test.example.com/images/Björk/large.jpg".into(),
                size: 500
            },
            ImageInfo {
                url: "https://test.example.com/images/Björk/small.jpg".into(),
                size: 100
            },
        ])
    );
    let similar = agent
        .similar_artists(&SimilarArtistsRequest {
            id: "ar-1".into(),
            name: "Björk".into(),
            mbid: String::new(),
            limit: 3,
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        similar,
        vec![
            ArtistRef {
                id: "similar-artist-id-1".into(),
                name: "Björk Similar A".into(),
                mbid: "similar-mbid-1".into(),
                ..Default::default()
            },
            ArtistRef {
                id: "similar-artist-id-2".into(),
                name: "Björk Similar B".into(),
                mbid: "similar-mbid-2".into(),
                ..Default::default()
            },
            ArtistRef {
                id: "similar-artist-id-3".into(),
                name: "Björk Similar C".into(),
                mbid: "similar-mbid-3".into(),
                ..Default::default()
            },
        ]
    );
    let top = agent
        .artist_top_songs(&TopSongsRequest {
            id: "ar-1".into(),
            name: "Björk".into(),
            mbid: "mb-1".into(),
            count: 0,
        })
        .unwrap()
        .unwrap();
    assert_eq!(top.len(), 5, "count 0 means the plugin's default of 5");
    assert_eq!(
        top[4],
        SongRef {
            id: "song-id-5".into(),
            name: "Björk Song 5".into(),
            mbid: "song-mbid-5".into(),
            ..Default::default()
        }
    );
    // What went over the wire: Go field names, `mbid` only when known.
    let calls = record.calls();
    let inputs: Vec<_> = calls
        .iter()
        .map(|c| (c.export.as_str(), c.input.clone()))
        .collect();
    assert_eq!(
        inputs,
        [
            ("nd_get_artist_mbid", json!({"id": "ar-1", "name": "Björk"})),
            (
                "nd_get_artist_url",
                json!({"id": "ar-Björk", "name": "Björk"})
            ),
            (
                "nd_get_artist_biography",
                json!({"id": "ar-Björk", "name": "Björk"})
            ),
            (
                "nd_get_artist_images",
                json!({"id": "ar-Björk", "name": "Björk"})
            ),
            (
                "nd_get_similar_artists",
                json!({"id": "ar-1", "name": "Björk", "limit": 3})
            ),
            (
                "nd_get_artist_top_songs",
                json!({"id": "ar-1", "name": "Björk", "mbid": "mb-1", "count": 0})
            ),
        ]
    );
}

#[test]
fn album_and_similar_song_methods_answer_as_the_test_plugin() {
    let (record, caller) = recording(load("agent", &[]));
    let agent = MetadataAgent::new(caller);
    let mut request = album("Post", "Björk");
    request.mbid = "rel-1".into();
    assert_eq!(
        agent.album_info(&request).unwrap(),
        Some(AlbumInfo {
            name: "Post".into(),
            mbid: "test-album-mbid-Post".into(),
            description: "Description for Post by Björk".into(),
            url: "https://test.example.com/album/Post".into(),
        })
    );
    assert_eq!(
        agent.album_images(&album("Post", "Björk")).unwrap(),
        Some(vec![ImageInfo {
            url: "https://test.example.com/albums/Post/cover.jpg".into(),
            size: 500
        }])
    );
    let by_track = agent
        .similar_songs_by_track(&SimilarSongsByTrackRequest {
            id: "tr-1".into(),
            name: "Joga".into(),
            artist: "Björk".into(),
            mbid: String::new(),
            count: 2,
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        by_track[1],
        SongRef {
            id: "similar-track-id-2".into(),
            name: "Similar to Joga #2".into(),
            mbid: "similar-mbid-2".into(),
            artist: "Björk".into(),
            artist_mbid: "artist-mbid-2".into(),
            ..Default::default()
        }
    );
    let by_album = agent
        .similar_songs_by_album(&SimilarSongsByAlbumRequest {
            id: "al-1".into(),
            name: "Post".into(),
            artist: "Björk".into(),
            mbid: String::new(),
            count: 1,
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        by_album,
        [SongRef {
            id: "album-similar-id-1".into(),
            name: "Album Similar #1".into(),
            artist: "Björk".into(),
            album: "Post".into(),
            ..Default::default()
        }]
    );
    let by_artist = agent
        .similar_songs_by_artist(&SimilarSongsByArtistRequest {
            id: "ar-1".into(),
            name: "Björk".into(),
            mbid: String::new(),
            count: 1,
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        by_artist,
        [SongRef {
            id: "artist-similar-id-1".into(),
            name: "Björk Style Song #1".into(),
            artist: "Björk Similar Artist".into(),
            ..Default::default()
        }]
    );
    let inputs: Vec<_> = record.calls().into_iter().map(|c| c.input).collect();
    assert_eq!(
        inputs,
        [
            json!({"name": "Post", "artist": "Björk", "mbid": "rel-1"}),
            json!({"name": "Post", "artist": "Björk"}),
            json!({"id": "tr-1", "name": "Joga", "artist": "Björk", "count": 2}),
            json!({"id": "al-1", "name": "Post", "artist": "Björk", "count": 1}),
            json!({"id": "ar-1", "name": "Björk", "count": 1}),
        ]
    );
}

#[test]
fn the_error_config_makes_every_method_fail_naming_plugin_and_export() {
    let agent = MetadataAgent::new(Arc::new(load("agent", &[("error", "service down")])));
    for (export, outcome) in ALL_EXPORTS.iter().zip(outcomes(&agent)) {
        let error = outcome.expect_err(export);
        assert_eq!(error.plugin, "agent");
        assert_eq!(error.export, *export);
        assert_eq!(
            error.call_kind(),
            Some(&CallErrorKind::PluginError {
                message: "service down".into(),
                rc: -1
            })
        );
        assert_eq!(error.plugin_message(), Some("service down"));
        assert_eq!(
            error.to_string(),
            format!("plugin 'agent': {export}: plugin call failed: service down")
        );
    }
}

#[test]
fn not_implemented_methods_are_not_found_and_the_implemented_one_answers() {
    let (record, caller) = recording(load("partialagent", &[]));
    let agent = MetadataAgent::new(caller);
    for export in ALL_EXPORTS {
        assert!(agent.exports(export), "a Go-style plugin exports {export}");
    }
    let found: Vec<bool> = outcomes(&agent).into_iter().map(|o| o.unwrap()).collect();
    let expected: Vec<bool> = ALL_EXPORTS
        .iter()
        .map(|e| *e == "nd_get_artist_biography")
        .collect();
    assert_eq!(found, expected);
    // Every export was called: "not implemented" is learned from the -2, not guessed.
    assert_eq!(record.calls().len(), 11);
    assert_eq!(
        agent
            .artist_biography(&artist("Sugarcubes"))
            .unwrap()
            .as_deref(),
        Some("Partial agent biography for Sugarcubes")
    );
}

#[test]
fn missing_exports_are_not_found_without_a_call() {
    // The sonic fixture exports no metadata function at all.
    let (record, caller) = recording(load("sonic", &[]));
    let agent = MetadataAgent::new(caller);
    for (export, outcome) in ALL_EXPORTS.iter().zip(outcomes(&agent)) {
        assert!(!agent.exports(export));
        assert_eq!(outcome, Ok(false), "{export}");
    }
    assert!(record.calls().is_empty(), "{:?}", record.calls());
}

#[test]
fn empty_output_null_and_zero_values_are_not_found() {
    for mode in ["empty", "null"] {
        let agent = MetadataAgent::new(Arc::new(load("agent", &[("output", mode)])));
        let found: Vec<bool> = outcomes(&agent).into_iter().map(|o| o.unwrap()).collect();
        assert_eq!(found, [false; 11], "output={mode}");
    }
    // Zero-valued answers: empty mbid/url/biography, `null` and `[]` lists, all "not found";
    // an album info object with empty fields is data, as in Navidrome.
    let agent = MetadataAgent::new(Arc::new(load("agent", &[("output", "zero")])));
    let found: Vec<bool> = outcomes(&agent).into_iter().map(|o| o.unwrap()).collect();
    let expected: Vec<bool> = ALL_EXPORTS
        .iter()
        .map(|e| *e == "nd_get_album_info")
        .collect();
    assert_eq!(found, expected);
    assert_eq!(
        agent.album_info(&album("Post", "Björk")).unwrap(),
        Some(AlbumInfo::default())
    );
}

#[test]
fn malformed_and_ill_typed_output_is_a_failure_naming_the_export() {
    for (mode, cause) in [
        ("malformed", "malformed output: EOF while parsing"),
        ("wrongtype", "malformed output: invalid type: integer `42`"),
    ] {
        let agent = MetadataAgent::new(Arc::new(load("agent", &[("output", mode)])));
        for (export, outcome) in ALL_EXPORTS.iter().zip(outcomes(&agent)) {
            let error = outcome.expect_err(export);
            assert!(
                matches!(error.kind, CapabilityErrorKind::MalformedOutput(_)),
                "{error:?}"
            );
            let prefix = format!("plugin 'agent': {export}: {cause}");
            assert!(
                error.to_string().starts_with(&prefix),
                "{error} vs {prefix}"
            );
        }
    }
}

#[test]
fn answer_keys_match_case_insensitively() {
    let agent = MetadataAgent::new(Arc::new(load("agent", &[("output", "upper")])));
    let found: Vec<bool> = outcomes(&agent).into_iter().map(|o| o.unwrap()).collect();
    assert_eq!(found, [true; 11]);
    let images = agent.artist_images(&artist("Björk")).unwrap().unwrap();
    assert_eq!(images[1].size, 100);
    let songs = agent
        .similar_songs_by_track(&SimilarSongsByTrackRequest {
            name: "Joga".into(),
            artist: "Björk".into(),
            count: 1,
            ..Default::default()
        })
        .unwrap()
        .unwrap();
    assert_eq!(songs[0].artist_mbid, "artist-mbid-1");
}

#[test]
fn a_trap_is_a_failure() {
    let agent = MetadataAgent::new(Arc::new(load("agent", &[("output", "trap")])));
    let error = agent.artist_url(&artist("Björk")).unwrap_err();
    assert!(
        matches!(error.call_kind(), Some(CallErrorKind::Trap { .. })),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("plugin 'agent': nd_get_artist_url: plugin call failed: wasm trap"),
        "{error}"
    );
}
