//! End-to-end: the `wikimedia` example (examples/plugins/wikimedia) against a fake Wikipedia
//! and Wikidata on 127.0.0.1 (`nd_testkit::http_server`), loaded by the manager and called
//! through the typed MetadataAgent adapter.
//!
//! The package lists the real hosts in `requiredHosts`. The harness installs a copy that also
//! lists `127.0.0.1`, and its manager allows 127.0.0.1 as a local service; the settings
//! `apiBase` and `wikidataBase` point the plugin at the fake. One test installs the package
//! unmodified and checks that it cannot reach the fake at all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use nd_capabilities::MetadataAgent;
use nd_capabilities::types::{
    AlbumInfo, AlbumRequest, ArtistMbidRequest, ArtistRequest, ImageInfo,
};
use nd_testkit::http_server::{TestRequest, TestResponse, TestServer};
use ndp_examples_e2e::fakes::harness::Harness;
use serde_json::{Value, json};

const ID: &str = "wikimedia";
const SUMMARY: &str = "/api/rest_v1/page/summary/";

fn summary(title: &str, kind: &str, description: &str, extract: &str) -> Value {
    json!({
        "type": kind,
        "title": title,
        "description": description,
        "extract": extract,
        "wikibase_item": if kind == "standard" { "Q1" } else { "" },
        "content_urls": {"desktop": {"page": format!("https://en.wikipedia.org/wiki/{}", title.replace(' ', "_"))}},
        "originalimage": {"source": "https://upload.example/nina.jpg", "width": 800, "height": 1000},
        "thumbnail": {"source": "https://upload.example/nina-320.jpg", "width": 320, "height": 400},
    })
}

fn json_response(status: u16, body: &Value) -> TestResponse {
    TestResponse::status(status)
        .with_header("Content-Type", "application/json")
        .with_body(body.to_string())
}

/// The fake: a few pages, one Wikidata entity, a failing page, 404 for everything else.
fn fake_wiki(request: &TestRequest) -> TestResponse {
    let page = |title: &str| format!("{SUMMARY}{title}");
    let path = request.path.as_str();
    if path == page("Nina_Simone") {
        json_response(
            200,
            &summary(
                "Nina Simone",
                "standard",
                "American singer",
                "Nina Simone was an American singer.",
            ),
        )
    } else if path == page("Bj%C3%B6rk") {
        let mut s = summary(
            "Björk",
            "standard",
            "Icelandic singer",
            "Björk is an Icelandic singer.",
        );
        s["wikibase_item"] = json!("Q2");
        s.as_object_mut().unwrap().remove("originalimage");
        json_response(200, &s)
    } else if path == page("Genesis") {
        json_response(
            200,
            &summary(
                "Genesis",
                "disambiguation",
                "Topics referred to by the same term",
                "Genesis may refer to:",
            ),
        )
    } else if path == page("Genesis_%28band%29") {
        json_response(
            200,
            &summary(
                "Genesis (band)",
                "standard",
                "English rock band",
                "Genesis were an English rock band.",
            ),
        )
    } else if path == page("Homogenic_%28Bj%C3%B6rk_album%29") {
        json_response(404, &json!({"type": "not_found"}))
    } else if path == page("Homogenic_%28album%29") {
        json_response(
            200,
            &summary(
                "Homogenic",
                "standard",
                "1997 studio album by Björk",
                "Homogenic is the third studio album by Björk.",
            ),
        )
    } else if path == page("Broken") {
        TestResponse::status(503).with_body("try later")
    } else if path == "/wiki/Special:EntityData/Q1.json" {
        json_response(
            200,
            &json!({"entities": {"Q1": {"claims": {"P434": [
                {"mainsnak": {"datavalue": {"value": "1d8d7ec0-0a9a-4a5f-9b44-3c4ed1e6c8c4", "type": "string"}}}
            ]}}}}),
        )
    } else if path == "/wiki/Special:EntityData/Q2.json" {
        json_response(200, &json!({"entities": {"Q2": {"claims": {}}}}))
    } else {
        json_response(
            404,
            &json!({"type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found"}),
        )
    }
}

fn artist(name: &str) -> ArtistRequest {
    ArtistRequest {
        id: "ar-1".into(),
        name: name.into(),
        ..ArtistRequest::default()
    }
}

/// A harness with the plugin enabled and pointed at `wiki`.
fn setup(wiki: &TestServer) -> (Harness, MetadataAgent) {
    let host = Harness::new(nd_testkit::runtime());
    let base = wiki.url("");
    let plugin = host.enable(
        "wikimedia",
        ID,
        json!({"apiBase": base, "wikidataBase": base, "timeoutMs": 5000}),
    );
    let agent = plugin
        .capabilities()
        .metadata_agent()
        .expect("a metadata agent");
    (host, agent)
}

fn paths(wiki: &TestServer) -> Vec<String> {
    wiki.requests().into_iter().map(|r| r.path).collect()
}

#[test]
fn artist_biography_url_images_and_mbid() {
    let wiki = TestServer::start(fake_wiki);
    let (host, agent) = setup(&wiki);
    let plugin = host.plugin(ID);
    assert_eq!(plugin.capabilities().detected().names(), ["MetadataAgent"]);
    for (export, exported) in [
        ("nd_get_artist_biography", true),
        ("nd_get_artist_url", true),
        ("nd_get_artist_images", true),
        ("nd_get_artist_mbid", true),
        ("nd_get_album_info", true),
        ("nd_get_similar_artists", false),
        ("nd_get_artist_top_songs", false),
    ] {
        assert_eq!(agent.exports(export), exported, "{export}");
    }

    assert_eq!(
        agent
            .artist_biography(&artist("Nina Simone"))
            .unwrap()
            .as_deref(),
        Some("Nina Simone was an American singer.")
    );
    assert_eq!(
        agent.artist_url(&artist("Nina Simone")).unwrap().as_deref(),
        Some("https://en.wikipedia.org/wiki/Nina_Simone")
    );
    assert_eq!(
        agent.artist_images(&artist("Nina Simone")).unwrap(),
        Some(vec![
            ImageInfo {
                url: "https://upload.example/nina.jpg".into(),
                size: 1000
            },
            ImageInfo {
                url: "https://upload.example/nina-320.jpg".into(),
                size: 400
            },
        ])
    );
    let mbid_request = ArtistMbidRequest {
        id: "ar-1".into(),
        name: "Nina Simone".into(),
    };
    assert_eq!(
        agent.artist_mbid(&mbid_request).unwrap().as_deref(),
        Some("1d8d7ec0-0a9a-4a5f-9b44-3c4ed1e6c8c4")
    );
    assert_eq!(
        paths(&wiki),
        [
            format!("{SUMMARY}Nina_Simone"),
            format!("{SUMMARY}Nina_Simone"),
            format!("{SUMMARY}Nina_Simone"),
            format!("{SUMMARY}Nina_Simone"),
            "/wiki/Special:EntityData/Q1.json".to_owned(),
        ]
    );
    for request in wiki.requests() {
        assert_eq!(request.method, "GET");
        let agent = request.header("User-Agent").unwrap_or_default();
        assert!(
            agent.starts_with("ndp-wikimedia-example/"),
            "User-Agent {agent:?}"
        );
        assert_eq!(request.header("Accept"), Some("application/json"));
    }
}

#[test]
fn names_are_encoded_and_disambiguation_pages_skipped() {
    let wiki = TestServer::start(fake_wiki);
    let (_host, agent) = setup(&wiki);

    // UTF-8 titles are percent-encoded; a page without an original image has one image; an
    // item without a MusicBrainz id is "not found".
    assert_eq!(
        agent.artist_biography(&artist("Björk")).unwrap().as_deref(),
        Some("Björk is an Icelandic singer.")
    );
    assert_eq!(
        agent
            .artist_images(&artist("Björk"))
            .unwrap()
            .map(|i| i.len()),
        Some(1)
    );
    let bjork = ArtistMbidRequest {
        id: "ar-2".into(),
        name: "Björk".into(),
    };
    assert_eq!(agent.artist_mbid(&bjork).unwrap(), None);

    // "Genesis" is a disambiguation page: the band's page is used.
    assert_eq!(
        agent
            .artist_biography(&artist("Genesis"))
            .unwrap()
            .as_deref(),
        Some("Genesis were an English rock band.")
    );
    let tail: Vec<String> = paths(&wiki).into_iter().rev().take(2).collect();
    assert_eq!(
        tail,
        [
            format!("{SUMMARY}Genesis_%28band%29"),
            format!("{SUMMARY}Genesis")
        ]
    );
}

#[test]
fn album_info_from_the_album_page() {
    let wiki = TestServer::start(fake_wiki);
    let (_host, agent) = setup(&wiki);
    let request = AlbumRequest {
        name: "Homogenic".into(),
        artist: "Björk".into(),
        mbid: "al-1".into(),
    };
    assert_eq!(
        agent.album_info(&request).unwrap(),
        Some(AlbumInfo {
            name: "Homogenic".into(),
            mbid: "al-1".into(),
            description: "Homogenic is the third studio album by Björk.".into(),
            url: "https://en.wikipedia.org/wiki/Homogenic".into(),
        })
    );
    assert_eq!(
        paths(&wiki),
        [
            format!("{SUMMARY}Homogenic_%28Bj%C3%B6rk_album%29"),
            format!("{SUMMARY}Homogenic_%28album%29"),
        ]
    );
}

#[test]
fn a_missing_page_is_not_found_and_a_server_error_fails() {
    let wiki = TestServer::start(fake_wiki);
    let (_host, agent) = setup(&wiki);

    assert_eq!(
        agent.artist_biography(&artist("Nobody Atall")).unwrap(),
        None
    );
    assert_eq!(
        paths(&wiki),
        [
            format!("{SUMMARY}Nobody_Atall"),
            format!("{SUMMARY}Nobody_Atall_%28band%29"),
            format!("{SUMMARY}Nobody_Atall_%28musician%29"),
            format!("{SUMMARY}Nobody_Atall_%28singer%29"),
        ]
    );

    // A failure, not "not found": Navidrome retries it later.
    let error = agent.artist_biography(&artist("Broken")).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("HTTP 503"), "{text}");
    assert!(
        text.contains(&format!("{}{SUMMARY}Broken", wiki.url(""))),
        "{text}"
    );
}

#[test]
fn the_unmodified_package_cannot_reach_the_fake() {
    let wiki = TestServer::start(fake_wiki);
    let host = Harness::new(nd_testkit::runtime());
    // The package as built: requiredHosts lists only the real Wikimedia hosts.
    let package = std::fs::read(ndp_examples_e2e::example_ndp("wikimedia"))
        .expect("target/examples/wikimedia.ndp: run `cargo xtask test-plugins`");
    std::fs::write(host.dir.path().join("plugins/strict.ndp"), package).unwrap();
    host.manager.sync().unwrap();
    let base = wiki.url("");
    host.manager
        .set_config("strict", json!({"apiBase": base, "wikidataBase": base}))
        .unwrap();
    host.manager.enable("strict").unwrap();
    let plugin = host.plugin("strict");
    let http = plugin
        .manifest()
        .permissions
        .http
        .as_ref()
        .expect("http permission");
    let hosts: Vec<String> = http.required_hosts.iter().map(|h| h.to_string()).collect();
    assert_eq!(
        hosts,
        ["en.wikipedia.org", "*.wikipedia.org", "www.wikidata.org"]
    );

    let agent = plugin.capabilities().metadata_agent().unwrap();
    let error = agent.artist_biography(&artist("Nina Simone")).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("http_send"), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
    assert_eq!(
        wiki.request_count(),
        0,
        "the refused request never left the host"
    );
}

#[test]
fn settings_default_to_the_real_wikipedia() {
    let package = std::fs::read(ndp_examples_e2e::example_ndp("wikimedia"))
        .expect("target/examples/wikimedia.ndp: run `cargo xtask test-plugins`");
    let package =
        nd_manifest::Package::from_bytes("wikimedia", &package, &Default::default()).unwrap();
    let schema = &package
        .manifest
        .config
        .as_ref()
        .expect("a config schema")
        .schema;
    assert_eq!(
        schema["properties"]["apiBase"]["default"],
        "https://en.wikipedia.org"
    );
    assert_eq!(
        schema["properties"]["wikidataBase"]["default"],
        "https://www.wikidata.org"
    );
    assert!(package.manifest.permissions.has("http"));
}
