//! End-to-end: the `minimal` example (examples/plugins/minimal) loaded by the manager from
//! its package and called through the typed MetadataAgent adapter. It exports exactly
//! `nd_get_artist_biography`, so the host detects a metadata agent and answers "not found"
//! for every other method without calling the plugin.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use nd_capabilities::Capability;
use nd_capabilities::types::{AlbumRequest, ArtistRequest};
use ndp_examples_e2e::fakes::harness::Harness;
use serde_json::json;

const ID: &str = "minimal";

/// The eleven metadata exports of spec §4.2.
const METADATA_EXPORTS: [&str; 11] = [
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
        id: "ar-1".into(),
        name: name.into(),
        ..ArtistRequest::default()
    }
}

#[test]
fn answers_biographies_and_exports_nothing_else() {
    let host = Harness::new(nd_testkit::runtime());
    let plugin = host.enable("minimal", ID, json!({}));
    assert!(
        plugin.manifest().permissions.is_empty(),
        "minimal needs no permission"
    );
    assert_eq!(plugin.capabilities().detected().names(), ["MetadataAgent"]);
    assert!(plugin.has(Capability::MetadataAgent));

    let agent = plugin
        .capabilities()
        .metadata_agent()
        .expect("a metadata agent");
    for export in METADATA_EXPORTS {
        assert_eq!(
            agent.exports(export),
            export == "nd_get_artist_biography",
            "{export}"
        );
    }

    let bio = agent
        .artist_biography(&artist("The Midnight Owls"))
        .unwrap();
    assert_eq!(
        bio.as_deref(),
        Some(
            "This biography comes from the minimal example plugin: The Midnight Owls is an artist in your library."
        )
    );
    // An empty name is "not found", not a failure.
    assert_eq!(agent.artist_biography(&artist("  ")).unwrap(), None);
    // Methods it does not export are "not found" without a call.
    assert_eq!(
        agent.artist_url(&artist("The Midnight Owls")).unwrap(),
        None
    );
    let album = AlbumRequest {
        name: "Night Flight".into(),
        artist: "The Midnight Owls".into(),
        ..AlbumRequest::default()
    };
    assert_eq!(agent.album_info(&album).unwrap(), None);

    let calls: Vec<(String, u64)> = host
        .manager
        .metrics()
        .for_plugin(ID)
        .into_iter()
        .map(|s| (s.export.clone(), s.calls()))
        .collect();
    assert_eq!(calls, [("nd_get_artist_biography".to_owned(), 2)]);
}

#[test]
fn the_greeting_setting_reaches_the_plugin() {
    let host = Harness::new(nd_testkit::runtime());
    host.enable(
        "minimal",
        ID,
        json!({"greeting": "Straight from the config"}),
    );
    let agent = host.plugin(ID).capabilities().metadata_agent().unwrap();
    assert_eq!(
        agent.artist_biography(&artist("Björk")).unwrap().as_deref(),
        Some("Straight from the config: Björk is an artist in your library.")
    );

    // A value the schema refuses is not stored, and the plugin keeps its settings.
    assert!(
        host.manager
            .set_config(ID, json!({"greeting": 42}))
            .is_err()
    );
    host.manager
        .set_config(ID, json!({"greeting": "Changed"}))
        .unwrap();
    let agent = host.plugin(ID).capabilities().metadata_agent().unwrap();
    assert_eq!(
        agent.artist_biography(&artist("Björk")).unwrap().as_deref(),
        Some("Changed: Björk is an artist in your library.")
    );
}
