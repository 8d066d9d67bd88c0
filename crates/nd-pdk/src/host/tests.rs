//! Every host wrapper against the stand-in host: the request JSON it sends (spec §3's
//! tables), how it reads the host's answer (Go wire rules, spec §2.4), and that together
//! they cover every host function of the ABI table.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::host::{
    artwork, cache, config, http, kvstore, library, matcher, scheduler, scrobbleretriever, storage,
    subsonicapi, taskqueue, users, websocket,
};
use crate::testing::{self, HostCall};
use crate::types::SongRef;

/// Answers every call with `response`, and returns what `f` returned plus the one call made.
fn exchange<T>(response: Value, f: impl FnOnce() -> T) -> (T, HostCall) {
    testing::reset();
    testing::set_host(move |_, _| response.clone());
    let out = f();
    let mut calls = testing::host_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    (out, calls.remove(0))
}

/// Checks one exchange: the function called, the request sent, and what came back.
#[track_caller]
fn check<T: PartialEq + std::fmt::Debug>(
    covered: &mut BTreeSet<String>,
    function: &str,
    request: Value,
    response: Value,
    f: impl FnOnce() -> T,
    expected: T,
) {
    let (out, call) = exchange(response, f);
    assert_eq!(call.function, function);
    assert_eq!(call.request, request, "request of {function}");
    assert_eq!(out, expected, "answer of {function}");
    covered.insert(function.to_owned());
}

fn ok<T>(r: crate::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

#[test]
fn every_host_function_sends_and_reads_the_wire_format() {
    let mut c = BTreeSet::new();
    let c = &mut c;

    // config (answered from the configuration map, as a real host does).
    testing::reset();
    testing::set_config([
        ("apiKey", "k"),
        ("limit", "25"),
        ("bad", "x1"),
        ("empty", ""),
    ]);
    assert_eq!(ok(config::get("apiKey")), Some("k".to_owned()));
    assert_eq!(ok(config::get("empty")), Some(String::new()));
    assert_eq!(ok(config::get("missing")), None);
    assert_eq!(ok(config::get_int("limit")), Some(25));
    assert_eq!(ok(config::get_int("bad")), None);
    assert_eq!(ok(config::keys("")), ["apiKey", "bad", "empty", "limit"]);
    assert_eq!(ok(config::extism_get("empty")), None);
    let calls = testing::host_calls();
    assert_eq!(calls[0].request, json!({"key": "apiKey"}));
    assert_eq!(calls[5].request, json!({"prefix": ""}));
    c.extend(calls.into_iter().map(|call| call.function));

    // http
    check(
        c,
        "http_send",
        json!({"request": {"method": "POST", "url": "https://x.example/a", "headers": {"Content-Type": "application/json"}, "body": "eyJhIjoxfQ==", "timeoutMs": 500}}),
        json!({"result": {"statusCode": 404, "headers": {"Content-Type": "text/plain"}, "body": "bm9wZQ=="}}),
        || {
            let req = ok(http::HttpRequest::post("https://x.example/a", "").json(&json!({"a": 1})));
            let resp = ok(http::send(&req.timeout_ms(500)));
            (
                resp.status_code,
                resp.header("content-type").map(str::to_owned),
                resp.text(),
                resp.is_success(),
            )
        },
        (404, Some("text/plain".to_owned()), "nope".to_owned(), false),
    );
    check(
        c,
        "http_send",
        json!({"request": {"method": "GET", "url": "http://h/", "noFollowRedirects": true}}),
        json!({"result": {"statusCode": 302}}),
        || {
            ok(http::send(
                &http::HttpRequest::get("http://h/").no_follow_redirects(),
            ))
            .status_code
        },
        302,
    );

    // scheduler
    check(
        c,
        "scheduler_scheduleonetime",
        json!({"delaySeconds": 5, "payload": "p", "scheduleId": ""}),
        json!({"newScheduleId": "generated"}),
        || ok(scheduler::schedule_one_time(5, "p", "")),
        "generated".to_owned(),
    );
    check(
        c,
        "scheduler_schedulerecurring",
        json!({"cronExpression": "@every 1m", "payload": "", "scheduleId": "tick"}),
        json!({"newScheduleId": "tick"}),
        || ok(scheduler::schedule_recurring("@every 1m", "", "tick")),
        "tick".to_owned(),
    );
    check(
        c,
        "scheduler_cancelschedule",
        json!({"scheduleId": "tick"}),
        json!({}),
        || ok(scheduler::cancel_schedule("tick")),
        (),
    );

    // cache
    for (function, value, setter) in [
        ("cache_setstring", json!("v"), 0),
        ("cache_setint", json!(-3), 1),
        ("cache_setfloat", json!(1.5), 2),
        ("cache_setbytes", json!("AAE="), 3),
    ] {
        check(
            c,
            function,
            json!({"key": "k", "value": value, "ttlSeconds": 60}),
            json!({}),
            || match setter {
                0 => ok(cache::set_string("k", "v", 60)),
                1 => ok(cache::set_int("k", -3, 60)),
                2 => ok(cache::set_float("k", 1.5, 60)),
                _ => ok(cache::set_bytes("k", &[0, 1], 60)),
            },
            (),
        );
    }
    let key = json!({"key": "k"});
    check(
        c,
        "cache_getstring",
        key.clone(),
        json!({"value": "v", "exists": true}),
        || ok(cache::get_string("k")),
        Some("v".to_owned()),
    );
    check(
        c,
        "cache_getstring",
        key.clone(),
        json!({}),
        || ok(cache::get_string("k")),
        None,
    );
    // A stored empty string: Go omits the zero value but says it exists.
    check(
        c,
        "cache_getstring",
        key.clone(),
        json!({"exists": true}),
        || ok(cache::get_string("k")),
        Some(String::new()),
    );
    check(
        c,
        "cache_getint",
        key.clone(),
        json!({"value": 7, "exists": true}),
        || ok(cache::get_int("k")),
        Some(7),
    );
    check(
        c,
        "cache_getfloat",
        key.clone(),
        json!({"value": 2.5, "exists": true}),
        || ok(cache::get_float("k")),
        Some(2.5),
    );
    check(
        c,
        "cache_getbytes",
        key.clone(),
        json!({"value": "AAE=", "exists": true}),
        || ok(cache::get_bytes("k")),
        Some(vec![0, 1]),
    );
    check(
        c,
        "cache_has",
        key.clone(),
        json!({"exists": true}),
        || ok(cache::has("k")),
        true,
    );
    check(
        c,
        "cache_has",
        key.clone(),
        json!({}),
        || ok(cache::has("k")),
        false,
    );
    check(
        c,
        "cache_remove",
        key.clone(),
        json!({}),
        || ok(cache::remove("k")),
        (),
    );

    // kvstore
    check(
        c,
        "kvstore_set",
        json!({"key": "k", "value": "aGk="}),
        json!({}),
        || ok(kvstore::set("k", b"hi")),
        (),
    );
    check(
        c,
        "kvstore_setwithttl",
        json!({"key": "k", "value": "aGk=", "ttlSeconds": 9}),
        json!({}),
        || ok(kvstore::set_with_ttl("k", b"hi", 9)),
        (),
    );
    check(
        c,
        "kvstore_get",
        key.clone(),
        json!({"value": "aGk=", "exists": true}),
        || ok(kvstore::get("k")),
        Some(b"hi".to_vec()),
    );
    check(
        c,
        "kvstore_get",
        key.clone(),
        json!({}),
        || ok(kvstore::get("k")),
        None,
    );
    // The trap of spec §2.4: Go sends the map's values as base64.
    check(
        c,
        "kvstore_getmany",
        json!({"keys": ["a", "b", "c"]}),
        json!({"values": {"a": "aGk=", "b": ""}}),
        || ok(kvstore::get_many(&["a", "b", "c"])),
        BTreeMap::from([
            ("a".to_owned(), b"hi".to_vec()),
            ("b".to_owned(), Vec::new()),
        ]),
    );
    check(
        c,
        "kvstore_getmany",
        json!({"keys": []}),
        json!({}),
        || ok(kvstore::get_many(&[])),
        BTreeMap::new(),
    );
    check(
        c,
        "kvstore_has",
        key.clone(),
        json!({"exists": true}),
        || ok(kvstore::has("k")),
        true,
    );
    check(
        c,
        "kvstore_list",
        json!({"prefix": "p/"}),
        json!({"keys": ["p/a", "p/b"]}),
        || ok(kvstore::list("p/")),
        vec!["p/a".to_owned(), "p/b".to_owned()],
    );
    check(
        c,
        "kvstore_list",
        json!({"prefix": ""}),
        json!({"keys": null}),
        || ok(kvstore::list("")),
        Vec::<String>::new(),
    );
    check(
        c,
        "kvstore_delete",
        key.clone(),
        json!({}),
        || ok(kvstore::delete("k")),
        (),
    );
    check(
        c,
        "kvstore_deletebyprefix",
        json!({"prefix": "p/"}),
        json!({"deletedCount": 2}),
        || ok(kvstore::delete_by_prefix("p/")),
        2,
    );
    check(
        c,
        "kvstore_getstorageused",
        json!({}),
        json!({"bytes": 1234}),
        || ok(kvstore::storage_used()),
        1234,
    );
    check(
        c,
        "kvstore_get",
        key.clone(),
        json!({"value": "eyJuIjozfQ==", "exists": true}),
        || ok(kvstore::get_json::<Value>("k")),
        Some(json!({"n": 3})),
    );

    // storage
    check(
        c,
        "storage_getstoragepath",
        json!({}),
        json!({"result": "/storage"}),
        || ok(storage::storage_path()),
        "/storage".to_owned(),
    );

    // taskqueue
    check(
        c,
        "task_createqueue",
        json!({"name": "q", "config": {"concurrency": 2, "maxRetries": 3, "backoffMs": 100, "delayMs": 0, "retentionMs": 0}}),
        json!({}),
        || {
            ok(taskqueue::create_queue(
                "q",
                taskqueue::QueueConfig {
                    concurrency: 2,
                    max_retries: 3,
                    backoff_ms: 100,
                    ..Default::default()
                },
            ))
        },
        (),
    );
    check(
        c,
        "task_enqueue",
        json!({"queueName": "q", "payload": "AQI="}),
        json!({"result": "t1"}),
        || ok(taskqueue::enqueue("q", &[1, 2])),
        "t1".to_owned(),
    );
    check(
        c,
        "task_get",
        json!({"taskId": "t1"}),
        json!({"result": {"status": "completed", "message": "done", "attempt": 1}}),
        || ok(taskqueue::get("t1")),
        taskqueue::TaskInfo {
            status: "completed".into(),
            message: "done".into(),
            attempt: 1,
        },
    );
    check(
        c,
        "task_cancel",
        json!({"taskId": "t1"}),
        json!({}),
        || ok(taskqueue::cancel("t1")),
        (),
    );
    check(
        c,
        "task_clearqueue",
        json!({"queueName": "q"}),
        json!({"result": 4}),
        || ok(taskqueue::clear_queue("q")),
        4,
    );

    // websocket
    let headers = BTreeMap::from([("Authorization".to_owned(), "Bot x".to_owned())]);
    check(
        c,
        "websocket_connect",
        json!({"url": "wss://g/", "headers": {"Authorization": "Bot x"}, "connectionId": "alice"}),
        json!({"newConnectionId": "alice"}),
        || ok(websocket::connect("wss://g/", &headers, "alice")),
        "alice".to_owned(),
    );
    check(
        c,
        "websocket_sendtext",
        json!({"connectionId": "alice", "message": "{}"}),
        json!({}),
        || ok(websocket::send_text("alice", "{}")),
        (),
    );
    check(
        c,
        "websocket_sendbinary",
        json!({"connectionId": "alice", "data": "/w=="}),
        json!({}),
        || ok(websocket::send_binary("alice", &[255])),
        (),
    );
    check(
        c,
        "websocket_closeconnection",
        json!({"connectionId": "alice", "code": 1000, "reason": "bye"}),
        json!({}),
        || ok(websocket::close("alice", 1000, "bye")),
        (),
    );

    // library
    let lib = json!({"id": 1, "name": "Music", "path": "/srv/music", "mountPoint": "/libraries/1", "lastScanAt": 1700000000, "totalSongs": 3, "totalAlbums": 1, "totalArtists": 1, "totalSize": 999, "totalDuration": 12.5});
    let expected = library::Library {
        id: 1,
        name: "Music".into(),
        path: "/srv/music".into(),
        mount_point: "/libraries/1".into(),
        last_scan_at: 1_700_000_000,
        total_songs: 3,
        total_albums: 1,
        total_artists: 1,
        total_size: 999,
        total_duration: 12.5,
    };
    check(
        c,
        "library_getlibrary",
        json!({"id": 1}),
        json!({"result": lib}),
        || ok(library::get_library(1)),
        expected.clone(),
    );
    check(
        c,
        "library_getalllibraries",
        json!({}),
        json!({"result": [lib]}),
        || ok(library::get_all_libraries()),
        vec![expected],
    );
    check(
        c,
        "library_getalllibraries",
        json!({}),
        json!({}),
        || ok(library::get_all_libraries()),
        vec![],
    );

    // matcher
    let song = SongRef {
        name: "Take Off".into(),
        artist: "The Midnight Owls".into(),
        ..SongRef::default()
    };
    check(
        c,
        "matcher_matchsongs",
        json!({"songs": [{"name": "Take Off", "artist": "The Midnight Owls"}, {"name": ""}], "opts": {}}),
        json!({"results": [{"id": "mf-1", "libraryId": 1, "title": "Take Off", "starred": true}, null]}),
        || {
            let results = ok(matcher::match_songs(
                &[song.clone(), SongRef::default()],
                "",
            ));
            results
                .iter()
                .map(|t| t.as_ref().map(|t| (t.id.clone(), t.starred)))
                .collect::<Vec<_>>()
        },
        vec![Some(("mf-1".to_owned(), true)), None],
    );
    check(
        c,
        "matcher_matchsongs",
        json!({"songs": [], "opts": {"username": "alice"}}),
        json!({"results": null}),
        || ok(matcher::match_songs(&[], "alice")).len(),
        0,
    );

    // artwork
    for (function, which) in [
        ("artwork_getartisturl", 0),
        ("artwork_getalbumurl", 1),
        ("artwork_gettrackurl", 2),
        ("artwork_getplaylisturl", 3),
    ] {
        check(
            c,
            function,
            json!({"id": "x", "size": 300}),
            json!({"url": "http://h/share/img/jwt?size=300"}),
            || match which {
                0 => ok(artwork::artist_url("x", 300)),
                1 => ok(artwork::album_url("x", 300)),
                2 => ok(artwork::track_url("x", 300)),
                _ => ok(artwork::playlist_url("x", 300)),
            },
            "http://h/share/img/jwt?size=300".to_owned(),
        );
    }

    // subsonicapi
    check(
        c,
        "subsonicapi_call",
        json!({"uri": "ping?u=alice"}),
        json!({"responseJson": "{\"subsonic-response\":{}}"}),
        || ok(subsonicapi::call("ping?u=alice")),
        "{\"subsonic-response\":{}}".to_owned(),
    );
    check(
        c,
        "subsonicapi_callraw",
        json!({"uri": "getCoverArt?id=1&u=alice"}),
        json!({"contentType": "image/png", "data": "iVBO"}),
        || ok(subsonicapi::call_raw("getCoverArt?id=1&u=alice")),
        subsonicapi::RawResponse {
            content_type: "image/png".into(),
            data: vec![0x89, 0x50, 0x4e],
        },
    );

    // users
    let alice = json!({"userName": "alice", "name": "Alice"});
    let expected = users::User {
        user_name: "alice".into(),
        name: "Alice".into(),
        is_admin: false,
    };
    check(
        c,
        "users_getusers",
        json!({}),
        json!({"result": [alice]}),
        || ok(users::get_users()),
        vec![expected],
    );
    check(
        c,
        "users_getadmins",
        json!({}),
        json!({}),
        || ok(users::get_admins()),
        vec![],
    );

    // scrobbleretriever
    let user = json!({"username": "alice"});
    check(
        c,
        "scrobbleretriever_getfirsttimestamp",
        user.clone(),
        json!({"result": 100}),
        || ok(scrobbleretriever::first_timestamp("alice")),
        Some(100),
    );
    check(
        c,
        "scrobbleretriever_getlasttimestamp",
        user.clone(),
        json!({}),
        || ok(scrobbleretriever::last_timestamp("alice")),
        None,
    );
    check(
        c,
        "scrobbleretriever_getscrobbles",
        json!({"username": "alice", "options": {"fromTimestamp": 5, "descending": true, "maxItems": 2}}),
        json!({"scrobbles": [{"id": 1, "mediaFileId": "mf", "submissionTime": 9}], "next": {"fromTimestamp": 5, "toTimestamp": 9, "descending": true, "maxItems": 2, "offset": 1}}),
        || {
            let options = scrobbleretriever::ScrobbleOptions {
                from_timestamp: Some(5),
                descending: true,
                max_items: 2,
                ..Default::default()
            };
            ok(scrobbleretriever::get_scrobbles("alice", &options))
        },
        scrobbleretriever::ScrobblePage {
            scrobbles: vec![scrobbleretriever::Scrobble {
                id: 1,
                media_file_id: "mf".into(),
                submission_time: 9,
            }],
            next: Some(scrobbleretriever::ScrobbleOptions {
                from_timestamp: Some(5),
                to_timestamp: Some(9),
                descending: true,
                max_items: 2,
                offset: 1,
            }),
        },
    );
    check(
        c,
        "scrobbleretriever_getscrobblecount",
        json!({"username": "alice", "options": {"toTimestamp": 50}}),
        json!({"result": 12}),
        || ok(scrobbleretriever::scrobble_count("alice", None, Some(50))),
        12,
    );

    let all: BTreeSet<String> = nd_manifest::abi::HOST_SERVICES
        .iter()
        .flat_map(|s| s.functions.iter().map(|f| (*f).to_owned()))
        .collect();
    let missing: Vec<&String> = all.difference(c).collect();
    assert!(
        missing.is_empty(),
        "host functions without a wrapper test: {missing:?}"
    );
    let unknown: Vec<&String> = c.difference(&all).collect();
    assert!(
        unknown.is_empty(),
        "wrappers for functions the ABI lacks: {unknown:?}"
    );
}

#[test]
fn only_a_non_empty_error_is_a_failure() {
    let (result, _) = exchange(json!({"error": "schedule ID \"x\" already exists"}), || {
        scheduler::schedule_recurring("@every 1m", "", "x")
    });
    let error = result.expect_err("a host error");
    assert!(error.is_host_error());
    assert_eq!(error.message(), "schedule ID \"x\" already exists");
    assert_eq!(error.host_function(), Some("scheduler_schedulerecurring"));
    assert_eq!(
        error.to_string(),
        "scheduler_schedulerecurring: schedule ID \"x\" already exists"
    );

    // `"error": ""` and `"error": null` are not failures (Navidrome's own Rust PDK gets the
    // first one wrong; spec §2.4).
    for response in [
        json!({"error": "", "newScheduleId": "a"}),
        json!({"error": null, "newScheduleId": "a"}),
    ] {
        let (result, _) = exchange(response, || scheduler::schedule_one_time(1, "", ""));
        assert_eq!(ok(result), "a");
    }
    // An empty or `null` response reads as `{}`.
    testing::reset();
    testing::set_host(|_, _| Value::Null);
    assert_eq!(ok(kvstore::get("k")), None);
    let empty: crate::Result<crate::host::Empty> = crate::host::decode("kvstore_delete", b"");
    assert!(empty.is_ok());
}

#[test]
fn unreadable_answers_are_errors_naming_the_function() {
    let (result, _) = exchange(json!({"value": "not base64!", "exists": true}), || {
        kvstore::get("k")
    });
    let error = result.expect_err("bad base64");
    assert!(!error.is_host_error());
    assert!(
        error
            .to_string()
            .starts_with("kvstore_get: unexpected response"),
        "{error}"
    );

    let (result, _) = exchange(json!({"values": {"a": "%%"}}), || kvstore::get_many(&["a"]));
    assert!(
        result
            .expect_err("bad map")
            .to_string()
            .contains("value of \"a\"")
    );

    let (result, _) = exchange(json!({}), || {
        http::send(&http::HttpRequest::get("http://h/"))
    });
    assert_eq!(
        result.expect_err("no result").to_string(),
        "http_send: the host returned neither a result nor an error"
    );

    let (result, _) = exchange(json!({"results": [null]}), || matcher::match_songs(&[], ""));
    assert_eq!(
        result.expect_err("length").to_string(),
        "matcher_matchsongs: 1 results for 0 songs"
    );

    testing::reset();
    let error = kvstore::has("k").expect_err("no host installed");
    assert!(
        error.to_string().contains("nd_pdk::testing::set_host"),
        "{error}"
    );
}
