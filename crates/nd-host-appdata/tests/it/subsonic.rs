//! `subsonicapi_call` and `subsonicapi_callraw` (spec §3.12): the `u` user checked against
//! the scope, the endpoint taken from the last path segment, `c`, `v` (and `f`) forced.

use base64::Engine as _;
use nd_host_appdata::provider::{Scope, SubsonicRequest};
use nd_host_appdata::subsonic::{SUBSONIC_API_VERSION, SubsonicApiService};
use nd_testkit::{WASI, compiled, runtime};
use serde_json::{Value, json};

use crate::support::*;

fn params(request: &SubsonicRequest) -> Vec<(&str, &str)> {
    request
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[test]
fn call_dispatches_as_the_user_with_forced_parameters() {
    let world = World::new();
    let p = world.load("sub-plugin", Scope::everything(), false);
    let out = call(
        &p,
        "subsonicapi_call",
        json!({"uri": "getAlbumList2?type=random&size=10&u=alice&c=spoofed&v=0.1&f=xml"}),
    );
    let body: Value = serde_json::from_str(out["responseJson"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"subsonic-response": {"status": "ok", "endpoint": "getAlbumList2", "user": "alice"}})
    );
    assert_eq!(out.as_object().unwrap().len(), 1, "{out}");

    let calls = world.app.subsonic_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].endpoint, "getAlbumList2");
    assert_eq!(calls[0].user.id, "u-alice");
    assert_eq!(
        params(&calls[0]),
        [
            ("c", "sub-plugin"),
            ("f", "json"),
            ("size", "10"),
            ("type", "random"),
            ("u", "alice"),
            ("v", "1.16.1"),
        ]
    );
    assert_eq!(SUBSONIC_API_VERSION, "1.16.1");
}

#[test]
fn only_the_last_path_segment_is_the_endpoint() {
    let world = World::new();
    let p = world.load("sub-paths", Scope::everything(), false);
    for (uri, endpoint) in [
        ("/rest/ping.view?u=bob", "ping.view"),
        (
            "http://evil.example:9999/rest/getArtists?u=bob",
            "getArtists",
        ),
        ("../../admin/deleteUser?u=bob&username=alice", "deleteUser"),
        ("/rest/search3/?u=bob&query=a+b%26c", "search3"),
    ] {
        let out = call(&p, "subsonicapi_call", json!({ "uri": uri }));
        assert!(out.get("responseJson").is_some(), "{uri}: {out}");
        let last = world.app.subsonic_calls().pop().unwrap();
        assert_eq!(last.endpoint, endpoint, "{uri}");
        assert_eq!(last.user.user_name, "bob");
    }
    let last = world.app.subsonic_calls().pop().unwrap();
    assert!(
        params(&last).contains(&("query", "a b&c")),
        "{:?}",
        last.params
    );
}

#[test]
fn callraw_returns_content_type_and_base64_without_forcing_json() {
    let world = World::new();
    let p = world.load("sub-raw", Scope::everything(), false);
    let out = call(
        &p,
        "subsonicapi_callraw",
        json!({"uri": "getCoverArt?id=al-1&size=64&u=admin"}),
    );
    assert_eq!(out, json!({"contentType": "image/png", "data": "iVBORwD/"}));
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(out["data"].as_str().unwrap())
            .unwrap(),
        [0x89, b'P', b'N', b'G', 0x00, 0xff]
    );
    let last = world.app.subsonic_calls().pop().unwrap();
    assert_eq!(
        params(&last),
        [
            ("c", "sub-raw"),
            ("id", "al-1"),
            ("size", "64"),
            ("u", "admin"),
            ("v", "1.16.1"),
        ]
    );

    // `call` hands the body over as text; bytes that are not UTF-8 become U+FFFD, as Go's
    // encoder writes them.
    let out = call(&p, "subsonicapi_call", json!({"uri": "latin1?u=admin"}));
    assert_eq!(out, json!({"responseJson": "a\u{fffd}b"}));
}

#[test]
fn user_scope_decides_who_a_call_may_act_as() {
    let world = World::new();
    let p = world.load("sub-scoped", users_only(&["u-bob"]), false);
    assert!(
        call(&p, "subsonicapi_call", json!({"uri": "ping?u=bob"}))
            .get("responseJson")
            .is_some()
    );
    assert!(
        call(&p, "subsonicapi_call", json!({"uri": "ping?u=BOB"}))
            .get("responseJson")
            .is_some(),
        "names match ignoring case"
    );
    let calls_before = world.app.subsonic_calls().len();
    for function in ["subsonicapi_call", "subsonicapi_callraw"] {
        assert_eq!(
            call(&p, function, json!({"uri": "ping?u=alice"})),
            error("user alice is not authorized for this plugin")
        );
        assert_eq!(
            call(&p, function, json!({"uri": "ping?u=ghost"})),
            error("username ghost not found")
        );
        assert_eq!(
            call(&p, function, json!({"uri": "ping?p=secret"})),
            error("missing required parameter 'u' (username)")
        );
        assert_eq!(
            call(&p, function, json!({"uri": "ping?u="})),
            error("missing required parameter 'u' (username)")
        );
    }
    assert_eq!(
        world.app.subsonic_calls().len(),
        calls_before,
        "a refused call reached the provider"
    );
}

#[test]
fn no_user_scope_refuses_every_name_with_one_text() {
    let world = World::new();
    let p = world.load("sub-none", nothing(), false);
    let lookups = world.app.user_lookups();
    for user in ["alice", "admin", "ghost"] {
        assert_eq!(
            call(
                &p,
                "subsonicapi_call",
                json!({ "uri": format!("ping?u={user}") })
            ),
            error("no users configured for plugin sub-none")
        );
    }
    assert_eq!(world.app.user_lookups(), lookups, "users were looked up");
    assert!(world.app.subsonic_calls().is_empty());
}

#[test]
fn malformed_uris_and_provider_errors() {
    let world = World::new();
    let p = world.load("sub-errors", Scope::everything(), false);
    assert_eq!(
        call(&p, "subsonicapi_call", json!({"uri": "://invalid-url"})),
        error(r#"invalid URL format: parse "://invalid-url": missing protocol scheme"#)
    );
    assert_eq!(
        call(&p, "subsonicapi_call", json!({"uri": "/rest/%zz?u=alice"})),
        error(r#"invalid URL format: parse "/rest/%zz?u=alice": invalid URL escape "%zz""#)
    );
    assert_eq!(
        call(&p, "subsonicapi_call", json!({"uri": "fail?u=alice"})),
        error("subsonic router exploded")
    );
    assert_eq!(
        call(&p, "subsonicapi_call", json!({"uri": 42})),
        error(
            "json: cannot unmarshal number into Go struct field SubsonicAPICallRequest.uri of type string"
        )
    );
    assert_eq!(
        call(&p, "subsonicapi_callraw", json!({})),
        error("missing required parameter 'u' (username)")
    );
}

#[test]
fn a_service_serves_only_the_plugin_it_was_made_for() {
    let world = World::new();
    let mut config = world.config("sub-owner", Scope::everything(), false, Default::default());
    config.id = "someone-else".into();
    let e = runtime()
        .load(&compiled(FIXTURE, WASI), config)
        .expect_err("load must fail");
    assert!(
        e.to_string().contains("made for plugin \"sub-owner\""),
        "{e}"
    );

    // Constructed standalone, the service names its plugin in Debug output.
    let service = SubsonicApiService::new(world.app.clone(), world.app.clone(), nothing(), "x");
    assert!(format!("{service:?}").contains("\"x\""));
}
