//! The four `artwork_get*url` functions (spec §3.11).

use serde_json::json;

use crate::support::*;

#[test]
fn every_kind_asks_the_provider_with_id_and_size() {
    let world = World::new();
    let p = world.load("artwork", nothing(), false);
    for (function, kind) in [
        ("artwork_getartisturl", "ar"),
        ("artwork_getalbumurl", "al"),
        ("artwork_gettrackurl", "mf"),
        ("artwork_getplaylisturl", "pl"),
    ] {
        assert_eq!(
            call(&p, function, json!({"id": "x1", "size": 300})),
            json!({ "url": format!("http://localhost/share/img/{kind}-x1?size=300") }),
            "{function}"
        );
        assert_eq!(
            call_raw(&p, function, r#"{"id":"x2"}"#),
            format!(r#"{{"url":"http://localhost/share/img/{kind}-x2"}}"#),
            "{function}"
        );
    }
}

#[test]
fn provider_errors_and_bad_requests_are_errors() {
    let world = World::new();
    let p = world.load("artwork-errors", nothing(), false);
    assert_eq!(
        call(&p, "artwork_getalbumurl", json!({"id": "boom", "size": 0})),
        error("no artwork for boom")
    );
    assert_eq!(
        call(
            &p,
            "artwork_getartisturl",
            json!({"id": "a", "size": "big"})
        ),
        error(
            "json: cannot unmarshal string into Go struct field ArtworkGetArtistUrlRequest.size of type int32"
        )
    );
    assert_eq!(
        call(
            &p,
            "artwork_gettrackurl",
            json!({"id": "a", "size": 3_000_000_000_i64})
        ),
        error(
            "json: cannot unmarshal number 3000000000 into Go struct field ArtworkGetTrackUrlRequest.size of type int32"
        )
    );
}
