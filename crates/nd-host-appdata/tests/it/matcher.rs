//! `matcher_matchsongs` (spec §3.10): order and `null`s, failing closed without a library
//! scope, user-scoped matches, the plugin's library scope and `path` removal.

use std::sync::Arc;

use nd_host_appdata::matcher::MatcherService;
use nd_host_appdata::provider::{Scope, UserInfo};
use nd_testkit::{WASI, compiled, runtime};
use serde_json::{Value, json};

use crate::support::*;

fn songs() -> Value {
    json!([
        {"name": "nothing like it"},
        {"id": "t2", "name": "whatever"},
        {"name": "SONG ONE", "artists": [{"name": "Artist", "role": "artist"}], "durationMs": 180000},
    ])
}

fn results(out: &Value) -> &Vec<Value> {
    out["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {out}"))
}

#[test]
fn results_keep_input_order_with_null_for_unmatched() {
    let world = World::new();
    let p = world.load("match-order", Scope::everything(), true);
    let out = call(&p, "matcher_matchsongs", json!({ "songs": songs() }));
    let r = results(&out);
    assert_eq!(r.len(), 3);
    assert_eq!(r[0], Value::Null);
    assert_eq!(r[1]["id"], "t2");
    assert_eq!(r[2]["id"], "t1");

    // The whole track, as Go writes it: integral floats as integers, omitempty fields out,
    // and no per-user annotations for a match that is not scoped to a user.
    assert_eq!(
        r[2],
        json!({
            "id": "t1", "libraryId": 1, "libraryName": "Music", "path": "album/track.txt",
            "missing": false, "title": "Song One", "album": "Album", "artist": "Artist",
            "trackNumber": 0, "discNumber": 0, "year": 0, "originalYear": 0, "releaseYear": 0,
            "size": 0, "duration": 180, "bitRate": 0, "sampleRate": 0, "channels": 0,
            "compilation": false, "hasCoverArt": false, "birthTime": 0, "createdAt": 0,
            "updatedAt": 0, "averageRating": 4.5,
        })
    );

    let (sent, query) = world.app.match_calls().pop().unwrap();
    assert_eq!(sent[2].name, "SONG ONE");
    assert_eq!(sent[2].duration_ms, 180000);
    assert_eq!(sent[2].artists[0].role, "artist");
    assert_eq!(sent[1].id, "t2");
    assert_eq!(query.libraries, [1, 2], "every library, listed");
    assert_eq!(query.user, None);
}

#[test]
fn no_songs_answer_nothing_before_any_check() {
    let world = World::new();
    let p = world.load("match-empty", nothing(), false);
    assert_eq!(call_raw(&p, "matcher_matchsongs", r#"{"songs":[]}"#), "{}");
    assert_eq!(call_raw(&p, "matcher_matchsongs", "{}"), "{}");
    assert!(world.app.match_calls().is_empty());
}

#[test]
fn without_library_scope_the_call_fails_closed() {
    let world = World::new();
    let scope = Scope {
        all_users: true,
        ..Scope::default()
    };
    let p = world.load("match-closed", scope, true);
    assert_eq!(
        call(
            &p,
            "matcher_matchsongs",
            json!({ "songs": songs(), "opts": {"username": "alice"} })
        ),
        error("matcher: no libraries configured for this plugin")
    );
    assert!(world.app.match_calls().is_empty());
}

#[test]
fn tracks_outside_the_library_scope_are_never_returned() {
    let world = World::new();
    let p = world.load("match-lib1", libraries_only(&[1]), true);
    let out = call(&p, "matcher_matchsongs", json!({ "songs": songs() }));
    let r = results(&out);
    assert_eq!(r[1], Value::Null, "t2 lives in library 2: {}", r[1]);
    assert_eq!(r[2]["id"], "t1");
    assert_eq!(world.app.match_calls().pop().unwrap().1.libraries, [1]);
}

#[test]
fn path_is_removed_without_filesystem_access() {
    let world = World::new();
    let p = world.load("match-nofs", Scope::everything(), false);
    let out = call(&p, "matcher_matchsongs", json!({ "songs": songs() }));
    for track in results(&out).iter().skip(1) {
        assert!(track.get("path").is_none(), "{track}");
        assert!(track.get("libraryId").is_some());
    }
    let p = world.load("match-fs", Scope::everything(), true);
    let out = call(&p, "matcher_matchsongs", json!({ "songs": songs() }));
    assert_eq!(results(&out)[1]["path"], "book.txt");
}

#[test]
fn username_scopes_the_match_and_keeps_annotations() {
    let world = World::new();
    let p = world.load("match-user", users_only(&["u-alice"]), true);
    let out = call(
        &p,
        "matcher_matchsongs",
        json!({"songs": [{"id": "t1"}], "opts": {"username": "alice"}}),
    );
    let track = &results(&out)[0];
    assert_eq!(track["starred"], true);
    assert_eq!(track["starredAt"], 1_700_000_100);
    assert_eq!(track["rating"], 4);
    assert_eq!(track["playCount"], 3);
    assert_eq!(track["playDate"], 1_700_000_200);
    let (_, query) = world.app.match_calls().pop().unwrap();
    assert_eq!(
        query.user,
        Some(UserInfo {
            id: "u-alice".into(),
            user_name: "alice".into(),
            name: "Alice Liddell".into(),
            is_admin: false,
        })
    );

    let calls = world.app.match_calls().len();
    assert_eq!(
        call(
            &p,
            "matcher_matchsongs",
            json!({"songs": [{"id": "t1"}], "opts": {"username": "bob"}})
        ),
        error(r#"matcher: plugin is not allowed to act as user "bob""#)
    );
    assert_eq!(
        call(
            &p,
            "matcher_matchsongs",
            json!({"songs": [{"id": "t1"}], "opts": {"username": "ghost"}})
        ),
        error(r#"matcher: user "ghost" not found"#)
    );
    assert_eq!(world.app.match_calls().len(), calls);
}

#[test]
fn username_without_user_scope_fails_with_one_fixed_text() {
    let world = World::new();
    let scope = Scope {
        all_libraries: true,
        ..Scope::default()
    };
    let p = world.load("match-nousers", scope, true);
    let lookups = world.app.user_lookups();
    for user in ["alice", "ghost"] {
        assert_eq!(
            call(
                &p,
                "matcher_matchsongs",
                json!({"songs": [{"id": "t1"}], "opts": {"username": user}})
            ),
            error("matcher: plugin is not authorized to scope by user")
        );
    }
    assert_eq!(world.app.user_lookups(), lookups);
    // Without a username the match runs (as admin).
    let out = call(&p, "matcher_matchsongs", json!({"songs": [{"id": "t1"}]}));
    assert_eq!(results(&out)[0]["id"], "t1");
}

#[test]
fn songs_decode_with_go_rules() {
    let world = World::new();
    let p = world.load("match-decode", Scope::everything(), true);
    // Field names match ignoring case, null is the zero value.
    let out = call(
        &p,
        "matcher_matchsongs",
        json!({"Songs": [null, {"NAME": "book two", "MBID": null, "Artists": [null]}]}),
    );
    assert_eq!(results(&out)[0], Value::Null);
    assert_eq!(results(&out)[1]["id"], "t2");
    let (sent, _) = world.app.match_calls().pop().unwrap();
    assert_eq!(sent[1].name, "book two");
    assert_eq!(sent[1].artists.len(), 1);

    for (request, message) in [
        (
            json!({"songs": {}}),
            "json: cannot unmarshal object into Go struct field MatcherMatchSongsRequest.songs of type []types.SongRef",
        ),
        (
            json!({"songs": ["x"]}),
            "json: cannot unmarshal string into Go struct field MatcherMatchSongsRequest.songs of type types.SongRef",
        ),
        (
            json!({"songs": [{"name": 5}]}),
            "json: cannot unmarshal number into Go struct field SongRef.songs.name of type string",
        ),
        (
            json!({"songs": [{"durationMs": -1}]}),
            "json: cannot unmarshal number -1 into Go struct field SongRef.songs.durationMs of type uint32",
        ),
        (
            json!({"songs": [{"duration": "3"}]}),
            "json: cannot unmarshal string into Go struct field SongRef.songs.duration of type float32",
        ),
        (
            json!({"songs": [{"artists": [{"sortName": true}]}]}),
            "json: cannot unmarshal bool into Go struct field ArtistRef.songs.artists.sortName of type string",
        ),
        (
            json!({"songs": [{"id": "t1"}], "opts": {"username": 1}}),
            "json: cannot unmarshal number into Go struct field MatchOptions.opts.username of type string",
        ),
    ] {
        assert_eq!(
            call(&p, "matcher_matchsongs", request.clone()),
            error(message),
            "{request}"
        );
    }
}

#[test]
fn provider_failures_are_errors() {
    let world = World::new();
    let p = world.load("match-fail", Scope::everything(), true);
    assert_eq!(
        call(
            &p,
            "matcher_matchsongs",
            json!({"songs": [{"name": "explode"}]})
        ),
        error("match index is corrupt")
    );
    assert_eq!(
        call(
            &p,
            "matcher_matchsongs",
            json!({"songs": [{"name": "short"}]})
        ),
        error("matcher: the library answered 0 results for 1 songs")
    );
}

#[test]
fn every_library_needs_the_library_provider() {
    let world = World::new();
    let mut config = world.config(
        "match-wiring",
        Scope::everything(),
        true,
        Default::default(),
    );
    let app = world.app.clone();
    config.services.retain(|s| s.name() != "matcher");
    config.services.push(Arc::new(MatcherService::new(
        app.clone(),
        app.clone(),
        Scope::everything(),
        true,
    )));
    let e = runtime()
        .load(&compiled(FIXTURE, WASI), config)
        .expect_err("load must fail");
    assert!(
        e.to_string().contains("MatcherService::with_libraries"),
        "{e}"
    );

    // An explicit list of libraries needs no provider.
    let mut config = world.config("match-list", libraries_only(&[2]), true, Default::default());
    config.services.retain(|s| s.name() != "matcher");
    config.services.push(Arc::new(MatcherService::new(
        app.clone(),
        app,
        libraries_only(&[2]),
        true,
    )));
    let p = runtime().load(&compiled(FIXTURE, WASI), config).unwrap();
    let out = call(&p, "matcher_matchsongs", json!({"songs": [{"id": "t2"}]}));
    assert_eq!(results(&out)[0]["id"], "t2");
}
