//! The capability endpoints under `/api/v1`, answered by the fixture plugins: every metadata
//! method, the agents chain ("not found" and failures fall through to the next plugin),
//! lyrics, sonic similarity and scrobbler dispatch with its error classes.

use nd_host_appdata::provider::Scope;
use serde_json::{Value, json};

use crate::common::{TOKEN, serve};

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_metadata_endpoint_answers_from_the_agent() {
    let s = serve(|p| {
        p.put("agent", "agent");
    });
    s.enable("agent");
    let h = &s.http;
    let artist = json!({"id": "ar-1", "name": "Nina"});

    let answer = h.ok("/api/v1/artist/biography", artist.clone());
    assert_eq!(
        answer,
        json!({"plugin": "agent", "result": "Biography for Nina"})
    );
    assert_eq!(
        h.ok("/api/v1/artist/mbid", artist.clone())["result"],
        "test-mbid-Nina"
    );
    assert_eq!(
        h.ok("/api/v1/artist/url", artist.clone())["result"],
        "https://test.example.com/artist/Nina"
    );
    assert_eq!(
        h.ok("/api/v1/artist/images", artist.clone())["result"],
        json!([
            {"url": "https://test.example.com/images/Nina/large.jpg", "size": 500},
            {"url": "https://test.example.com/images/Nina/small.jpg", "size": 100}
        ])
    );
    let similar = h.ok(
        "/api/v1/artist/similar",
        json!({"id": "ar-1", "name": "Nina", "limit": 3}),
    );
    assert_eq!(
        names(&similar["result"], "name"),
        ["Nina Similar A", "Nina Similar B", "Nina Similar C"]
    );
    let top = h.ok(
        "/api/v1/artist/top-songs",
        json!({"id": "ar-1", "name": "Nina", "count": 2}),
    );
    assert_eq!(
        names(&top["result"], "name"),
        ["Nina Song 1", "Nina Song 2"]
    );

    let album = json!({"name": "Pastel Blues", "artist": "Nina Simone"});
    assert_eq!(
        h.ok("/api/v1/album/info", album.clone())["result"],
        json!({
            "name": "Pastel Blues",
            "mbid": "test-album-mbid-Pastel Blues",
            "description": "Description for Pastel Blues by Nina Simone",
            "url": "https://test.example.com/album/Pastel Blues"
        })
    );
    assert_eq!(
        h.ok("/api/v1/album/images", album)["result"],
        json!([{"url": "https://test.example.com/albums/Pastel Blues/cover.jpg", "size": 500}])
    );

    let by_track = h.ok(
        "/api/v1/songs/similar/track",
        json!({"id": "t1", "name": "Sinnerman", "artist": "Nina Simone", "count": 2}),
    );
    assert_eq!(
        names(&by_track["result"], "name"),
        ["Similar to Sinnerman #1", "Similar to Sinnerman #2"]
    );
    assert_eq!(by_track["result"][0]["artistMbid"], "artist-mbid-1");
    let by_album = h.ok(
        "/api/v1/songs/similar/album",
        json!({"id": "al1", "name": "Pastel Blues", "artist": "Nina Simone", "count": 1}),
    );
    assert_eq!(by_album["result"][0]["album"], "Pastel Blues");
    let by_artist = h.ok(
        "/api/v1/songs/similar/artist",
        json!({"id": "ar-1", "name": "Nina", "count": 4}),
    );
    assert_eq!(by_artist["result"].as_array().unwrap().len(), 4);
    assert_eq!(by_artist["result"][0]["name"], "Nina Style Song #1");
}

#[test]
fn agents_chain_in_id_order_and_not_found_falls_through() {
    let s = serve(|p| {
        p.put("a-partial", "partialagent").put("b-agent", "agent");
    });
    s.enable("a-partial");
    let h = &s.http;
    let artist = json!({"id": "ar-1", "name": "Nina"});

    // Only the partial agent: it implements the biography, everything else is -2.
    assert_eq!(
        h.ok("/api/v1/artist/biography", artist.clone()),
        json!({"plugin": "a-partial", "result": "Partial agent biography for Nina"})
    );
    let reply = h.post("/api/v1/artist/url", artist.clone());
    assert_eq!(reply.status, 404, "{}", reply.text);
    assert_eq!(reply.json(), json!({"error": "not found"}));

    // With the full agent after it, the -2 falls through to it.
    s.enable("b-agent");
    assert_eq!(
        h.ok("/api/v1/artist/url", artist.clone()),
        json!({"plugin": "b-agent", "result": "https://test.example.com/artist/Nina"})
    );
    assert_eq!(
        h.ok("/api/v1/artist/biography", artist.clone())["plugin"],
        "a-partial",
        "the first answer wins"
    );

    // Asking one plugin: in the query or in the body.
    assert_eq!(
        h.ok(
            "/api/v1/artist/biography?x=1&plugin=ghost&plugin=b-agent",
            artist.clone()
        ),
        json!({"plugin": "b-agent", "result": "Biography for Nina"})
    );
    assert_eq!(
        h.ok(
            "/api/v1/artist/biography",
            json!({"name": "Nina", "plugin": "b-agent"})
        )["plugin"],
        "b-agent"
    );
    let reply = h.post("/api/v1/artist/url?plugin=a-partial", artist.clone());
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json(), json!({"error": "not found"}));

    // A plugin that does not exist, or lacks the capability.
    let reply = h.post("/api/v1/artist/url?plugin=ghost", artist.clone());
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["error"], "plugin 'ghost' is not loaded");
    let reply = h.post(
        "/api/v1/lyrics?plugin=b-agent",
        json!({"track": {"title": "x"}}),
    );
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.json()["error"],
        "plugin 'b-agent' has no Lyrics capability"
    );

    // Malformed requests.
    for (body, what) in [
        ("{", "invalid JSON body"),
        (r#"{"name": 5}"#, "invalid request"),
        (r#"{"name": "x", "plugin": 5}"#, "'plugin' must be a string"),
    ] {
        let reply = h.request(
            "POST",
            "/api/v1/artist/biography",
            Some(&format!("Bearer {TOKEN}")),
            Some(body),
        );
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        assert!(
            reply.json()["error"].as_str().unwrap().contains(what),
            "{}",
            reply.text
        );
    }
}

#[test]
fn a_failing_agent_is_skipped_and_502_when_nobody_answers() {
    let s = serve(|p| {
        p.put("a-broken", "agent").put("b-agent", "agent");
    });
    s.enable("a-broken");
    s.manager
        .set_config("a-broken", json!({"error": "service down"}))
        .unwrap();
    let h = &s.http;
    let artist = json!({"name": "Nina"});

    let reply = h.post("/api/v1/artist/biography", artist.clone());
    assert_eq!(reply.status, 502, "{}", reply.text);
    let body = reply.json();
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("'a-broken'")
            && error.contains("nd_get_artist_biography")
            && error.contains("service down"),
        "{error}"
    );
    assert_eq!(body["errors"][0]["plugin"], "a-broken");
    assert_eq!(body["errors"][0]["export"], "nd_get_artist_biography");

    s.enable("b-agent");
    assert_eq!(
        h.ok("/api/v1/artist/biography", artist.clone()),
        json!({"plugin": "b-agent", "result": "Biography for Nina"})
    );
    let reply = h.post("/api/v1/album/info?plugin=a-broken", json!({"name": "X"}));
    assert_eq!(reply.status, 502);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("nd_get_album_info")
    );
}

#[test]
fn lyrics_and_sonic_similarity() {
    let s = serve(|p| {
        p.put("lyrics", "lyrics").put("sonic", "sonic");
    });
    s.enable("lyrics");
    s.enable("sonic");
    let h = &s.http;
    let answer = h.ok(
        "/api/v1/lyrics",
        json!({"track": {"id": "t1", "title": "Sinnerman", "artist": "Nina Simone"}}),
    );
    assert_eq!(
        answer,
        json!({"plugin": "lyrics", "result": [{
            "lang": "eng",
            "text": "Test lyrics for Sinnerman\nBy Nina Simone",
            "format": "plain"
        }]})
    );
    s.manager
        .set_config("lyrics", json!({"format": "lrc"}))
        .unwrap();
    let answer = h.ok(
        "/api/v1/lyrics",
        json!({"track": {"title": "Sinnerman", "artist": "Nina Simone"}}),
    );
    assert_eq!(answer["result"][0]["format"], "lrc");
    s.manager
        .set_config("lyrics", json!({"format": "none"}))
        .unwrap();
    let reply = h.post("/api/v1/lyrics", json!({"track": {"title": "x"}}));
    assert_eq!(reply.status, 404);

    let similar = h.ok(
        "/api/v1/sonic/similar",
        json!({"song": {"name": "Sinnerman", "artist": "Nina Simone"}, "count": 2}),
    );
    assert_eq!(similar["plugin"], "sonic");
    assert_eq!(
        similar["result"],
        json!([
            {"song": {"id": "similar-track-1", "name": "Similar to Sinnerman #1", "artist": "Nina Simone"}, "similarity": 1.0},
            {"song": {"id": "similar-track-2", "name": "Similar to Sinnerman #2", "artist": "Nina Simone"}, "similarity": 0.9}
        ])
    );
    let path = h.ok(
        "/api/v1/sonic/path",
        json!({"startSong": {"name": "A", "artist": "X"}, "endSong": {"name": "B"}, "count": 3}),
    );
    assert_eq!(
        names(
            &Value::Array(
                path["result"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["song"].clone())
                    .collect()
            ),
            "name"
        ),
        ["Path A to B #1", "Path A to B #2", "Path A to B #3"]
    );
}

fn calls(s: &crate::common::Served, plugin: &str, export: &str) -> u64 {
    s.manager
        .metrics()
        .for_plugin(plugin)
        .iter()
        .find(|e| e.export == export)
        .map_or(0, |e| e.calls())
}

#[test]
fn scrobbler_events_reach_the_users_scrobblers_with_error_classes() {
    let s = serve(|p| {
        p.put("everyone", "scrobbler").put("only-bob", "scrobbler");
    });
    s.enable("everyone");
    s.enable("only-bob");
    s.manager
        .set_scope(
            "only-bob",
            Scope {
                users: vec!["u-bob".into()],
                ..Scope::default()
            },
        )
        .unwrap();
    let h = &s.http;
    let track =
        json!({"id": "t1", "title": "Take Off", "artist": "The Midnight Owls", "duration": 200.0});

    // By user name, looked up in the demo users.
    let answer = h.ok(
        "/api/v1/scrobbler/now-playing",
        json!({"username": "alice", "track": track, "position": 12}),
    );
    assert_eq!(
        answer,
        json!({
            "user": {"id": "u-alice", "userName": "alice"},
            "results": [{"plugin": "everyone", "status": "ok"}]
        })
    );
    assert_eq!(calls(&s, "everyone", "nd_scrobbler_now_playing"), 1);
    assert_eq!(calls(&s, "only-bob", "nd_scrobbler_now_playing"), 0);

    // By {id, userName}: bob sees both.
    let answer = h.ok(
        "/api/v1/scrobbler/scrobble",
        json!({"user": {"id": "u-bob", "userName": "bob"}, "track": track, "timestamp": 1_700_000_000}),
    );
    assert_eq!(
        names(&answer["results"], "plugin"),
        ["everyone", "only-bob"]
    );
    assert_eq!(calls(&s, "only-bob", "nd_scrobbler_scrobble"), 1);
    // By id alone; and one plugin only.
    let answer = h.ok(
        "/api/v1/scrobbler/playback-report?plugin=only-bob",
        json!({"user": {"id": "u-bob"}, "track": track, "state": "playing", "positionMs": 5000}),
    );
    assert_eq!(
        answer["results"],
        json!([{"plugin": "only-bob", "status": "ok"}])
    );
    assert_eq!(answer["user"]["userName"], "bob");
    assert_eq!(calls(&s, "only-bob", "nd_scrobbler_playback_report"), 1);

    // The error classes, from the fixture's error_type.
    for (error_type, class, retryable) in [
        ("not_authorized", "notAuthorized", false),
        ("retry_later", "retryLater", true),
        ("unrecoverable", "unrecoverable", false),
        ("plain", "unrecoverable", false),
    ] {
        s.manager
            .set_config(
                "everyone",
                json!({"error": "lastfm is down", "error_type": error_type}),
            )
            .unwrap();
        let answer = h.ok(
            "/api/v1/scrobbler/scrobble",
            json!({"username": "alice", "track": track}),
        );
        let result = &answer["results"][0];
        assert_eq!(result["status"], "error", "{answer}");
        assert_eq!(result["errorClass"], class, "{error_type}: {answer}");
        assert_eq!(result["retryable"], retryable, "{error_type}");
        let error = result["error"].as_str().unwrap();
        assert!(
            error.contains("lastfm is down") && error.contains("nd_scrobbler_scrobble"),
            "{error}"
        );
    }

    // A user who has not authorized the scrobbler is skipped.
    s.manager
        .set_config(
            "everyone",
            json!({"authorized": "false", "error": "never called"}),
        )
        .unwrap();
    let answer = h.ok(
        "/api/v1/scrobbler/now-playing",
        json!({"username": "alice", "track": track}),
    );
    assert_eq!(answer["results"][0]["status"], "skipped", "{answer}");
    // A pre-v0.62 scrobbler without playback reports is fine.
    s.manager
        .set_config("everyone", json!({"playback": "unimplemented"}))
        .unwrap();
    let answer = h.ok(
        "/api/v1/scrobbler/playback-report",
        json!({"username": "alice", "track": track, "state": "paused"}),
    );
    assert_eq!(
        answer["results"],
        json!([{"plugin": "everyone", "status": "ok"}])
    );

    // Who the request is about must be known.
    let reply = h.post(
        "/api/v1/scrobbler/now-playing",
        json!({"username": "mallory", "track": track}),
    );
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["error"], "no user named 'mallory'");
    let reply = h.post("/api/v1/scrobbler/now-playing", json!({"track": track}));
    assert_eq!(reply.status, 400);
    let reply = h.post(
        "/api/v1/scrobbler/scrobble?plugin=only-bob",
        json!({"username": "alice", "track": track}),
    );
    assert_eq!(reply.status, 404, "{}", reply.text);
    // Alice with no scrobbler in scope: delivered to nobody.
    s.manager.disable("everyone").unwrap();
    let answer = h.ok(
        "/api/v1/scrobbler/now-playing",
        json!({"username": "alice", "track": track}),
    );
    assert_eq!(answer["results"], json!([]));
}
