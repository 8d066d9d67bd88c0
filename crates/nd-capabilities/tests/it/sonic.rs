//! The SonicSimilarity adapter against `sonic` (a port of Navidrome's test-sonic-similarity).

use std::sync::Arc;

use nd_capabilities::types::{SongRef, SonicMatch};
use nd_capabilities::{CapabilityErrorKind, SonicSimilarity};
use serde_json::json;

use crate::{load, recording};

fn song(name: &str) -> SongRef {
    SongRef {
        id: format!("mf-{name}"),
        name: name.into(),
        artist: "Björk".into(),
        duration_ms: 200_000,
        ..Default::default()
    }
}

fn matched(id: &str, name: &str, similarity: f64) -> SonicMatch {
    SonicMatch {
        song: SongRef {
            id: id.into(),
            name: name.into(),
            artist: "Björk".into(),
            ..Default::default()
        },
        similarity,
    }
}

#[test]
fn similar_tracks_and_paths_answer_as_the_test_plugin() {
    let (record, caller) = recording(load("sonic", &[]));
    let sonic = SonicSimilarity::new(caller);
    assert_eq!(
        sonic.similar_tracks(&song("Joga"), 2).unwrap(),
        Some(vec![
            matched("similar-track-1", "Similar to Joga #1", 1.0),
            matched("similar-track-2", "Similar to Joga #2", 1.0 - 0.1),
        ])
    );
    let path = sonic
        .sonic_path(&song("Joga"), &song("Bachelorette"), 0)
        .unwrap()
        .unwrap();
    assert_eq!(path.len(), 5, "count 0 is the plugin's default of 5");
    assert_eq!(
        path[3],
        matched(
            "path-track-4",
            "Path Joga to Bachelorette #4",
            1.0 - 3.0 * 0.05
        )
    );
    let calls = record.calls();
    assert_eq!(calls[0].export, "nd_get_sonic_similar_tracks");
    assert_eq!(
        calls[0].input,
        json!({"song": {"id": "mf-Joga", "name": "Joga", "artist": "Björk", "durationMs": 200000}, "count": 2})
    );
    assert_eq!(calls[1].export, "nd_find_sonic_path");
    assert_eq!(calls[1].input["startSong"]["name"], "Joga");
    assert_eq!(calls[1].input["endSong"]["name"], "Bachelorette");
    assert_eq!(calls[1].input["count"], 0);
}

#[test]
fn no_matches_is_none_and_failures_are_errors() {
    for mode in ["empty", "null", "zero"] {
        let sonic = SonicSimilarity::new(Arc::new(load("sonic", &[("output", mode)])));
        assert_eq!(sonic.similar_tracks(&song("Joga"), 3), Ok(None), "{mode}");
        assert_eq!(
            sonic.sonic_path(&song("a"), &song("b"), 3),
            Ok(None),
            "{mode}"
        );
    }
    let sonic = SonicSimilarity::new(Arc::new(load("sonic", &[("error", "index not ready")])));
    let error = sonic.similar_tracks(&song("Joga"), 3).unwrap_err();
    assert_eq!(
        error.to_string(),
        "plugin 'sonic': nd_get_sonic_similar_tracks: plugin call failed: index not ready"
    );
    let error = sonic.sonic_path(&song("a"), &song("b"), 3).unwrap_err();
    assert_eq!(error.export, "nd_find_sonic_path");
    let sonic = SonicSimilarity::new(Arc::new(load("sonic", &[("output", "malformed")])));
    let error = sonic.sonic_path(&song("a"), &song("b"), 3).unwrap_err();
    assert!(
        matches!(error.kind, CapabilityErrorKind::MalformedOutput(_)),
        "{error:?}"
    );
    // Without the exports: not found, and nothing called.
    let (record, caller) = recording(load("lyrics", &[]));
    let sonic = SonicSimilarity::new(caller);
    assert_eq!(sonic.similar_tracks(&song("Joga"), 3), Ok(None));
    assert_eq!(sonic.sonic_path(&song("a"), &song("b"), 3), Ok(None));
    assert!(record.calls().is_empty());
}
