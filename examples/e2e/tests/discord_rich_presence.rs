//! End-to-end: the `discord-rich-presence` example (examples/plugins/discord-rich-presence)
//! loaded by the manager from its package (with `127.0.0.1` added to its `websocket` and
//! `http` `requiredHosts`), against a fake Discord gateway and a fake external-assets API on
//! 127.0.0.1. Heartbeats (a recurring `@every 41s` schedule) and the presence clear at track
//! end (a one-time schedule) fire when the test advances the manager's manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use nd_capabilities::ScrobblerError;
use nd_capabilities::types::TrackInfo;
use nd_host_appdata::provider::{ArtworkKind, ArtworkProvider};
use nd_testkit::http_server::{TestResponse, TestServer};
use ndp_examples_e2e::fakes::discord::{Frame, Gateway, op};
use ndp_examples_e2e::fakes::harness::{Harness, eventually};
use serde_json::{Value, json};

const ID: &str = "discord";
const CLIENT_ID: &str = "123456789012345678";
const ASSETS_PATH: &str = "/api/v10/applications/123456789012345678/external-assets";

/// The fakes and the host, with the plugin enabled.
struct Setup {
    gateway: Gateway,
    api: TestServer,
    host: Harness,
}

/// Answers external-assets requests as Discord does: one `external_asset_path` per URL.
fn external_assets_api(status: u16) -> TestServer {
    let counter = Arc::new(AtomicUsize::new(0));
    TestServer::start(move |req| {
        if status != 200 {
            return TestResponse::status(status);
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return TestResponse::status(400);
        };
        let assets: Vec<Value> = body["urls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|url| {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                json!({"url": url, "external_asset_path": format!("external/fake-asset-{n}/cover.png")})
            })
            .collect();
        TestResponse::ok(Value::from(assets).to_string())
            .with_header("Content-Type", "application/json")
    })
}

fn setup(extra_config: Value, api_status: u16) -> Setup {
    let gateway = Gateway::start();
    let api = external_assets_api(api_status);
    let host = Harness::new(nd_testkit::runtime());
    let mut config = json!({
        "clientid": CLIENT_ID,
        "users": [
            {"username": "alice", "token": "alice-token"},
            {"username": "bob", "token": "bob-token"},
        ],
        "gateway": gateway.url(),
        "api": api.url("/api/v10"),
    });
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra_config.as_object()) {
        config.extend(extra.clone());
    }
    host.enable("discord-rich-presence", ID, config);
    Setup { gateway, api, host }
}

impl Setup {
    fn track(&self, title: &str, duration: f32) -> TrackInfo {
        let t = self.host.demo.track(title).expect("demo track");
        TrackInfo {
            id: t.id(),
            title: t.title.into(),
            album: t.album.into(),
            artist: t.artist.into(),
            album_artist: t.album_artist.into(),
            duration,
            track_number: 1,
            disc_number: 1,
            ..TrackInfo::default()
        }
    }

    fn now_playing(
        &self,
        user: &str,
        track: &TrackInfo,
        position: i32,
    ) -> Result<(), ScrobblerError> {
        let plugin = self.host.plugin(ID);
        let scrobbler = plugin.capabilities().scrobbler().expect("a scrobbler");
        scrobbler.now_playing(user, track, position)
    }

    /// The public artwork URL the host gives the plugin for this track.
    fn artwork_url(&self, track: &TrackInfo) -> String {
        self.host
            .library
            .artwork_url(ArtworkKind::Track, &track.id, 300)
            .unwrap()
    }

    fn presences(&self) -> Vec<Frame> {
        self.gateway.frames_with_op(op::PRESENCE_UPDATE)
    }
}

fn activity(presence: &Frame) -> &Value {
    &presence.d()["activities"][0]
}

fn is_clear(frame: &Frame) -> bool {
    frame.op() == op::PRESENCE_UPDATE && frame.d()["activities"] == json!([])
}

#[test]
fn now_playing_identifies_heartbeats_shows_the_track_and_clears_it_at_the_end() {
    let s = setup(json!({}), 200);
    let plugin = s.host.plugin(ID);
    let caps = s.host.manager.status(ID).unwrap().capabilities;
    for cap in ["Scrobbler", "Scheduler", "WebSocket"] {
        assert!(caps.contains(&cap.to_owned()), "{cap} in {caps:?}");
    }
    let scrobbler = plugin.capabilities().scrobbler().unwrap();
    assert!(scrobbler.is_authorized("alice"));
    assert!(!scrobbler.is_authorized("admin"), "admin has no token");

    let track = s.track("Take Off", 200.0);
    s.now_playing("alice", &track, 0).unwrap();

    // One connection to the configured gateway, identified with alice's token.
    let identify = s.gateway.wait_op(op::IDENTIFY, 1);
    assert_eq!(identify.conn, 0);
    assert_eq!(identify.d()["token"], "alice-token");
    assert_eq!(s.gateway.server().connections(), 1);

    // The presence: the track, and its artwork registered with the external-assets API.
    let presence = s.gateway.wait_op(op::PRESENCE_UPDATE, 1);
    let a = activity(&presence);
    assert_eq!(a["type"], 2, "Listening: {a}");
    assert_eq!(a["details"], track.title, "{a}");
    assert_eq!(a["state"], track.artist, "{a}");
    assert_eq!(a["assets"]["large_text"], track.album, "{a}");
    assert_eq!(a["application_id"], CLIENT_ID, "{a}");
    assert_eq!(
        a["assets"]["large_image"], "mp:external/fake-asset-1/cover.png",
        "{a}"
    );
    let requests = s.api.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, ASSETS_PATH);
    assert_eq!(requests[0].header("authorization"), Some("alice-token"));
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body, json!({"urls": [s.artwork_url(&track)]}));
    let start = a["timestamps"]["start"].as_i64().unwrap();
    assert_eq!(a["timestamps"]["end"].as_i64().unwrap() - start, 200_000);

    // Sequence numbers: the gateway's latest `s` is kept in the cache by one callback and
    // read back by the next, which answers the gateway's heartbeat request with it.
    s.gateway.dispatch(0, 42, "SESSIONS_REPLACE");
    s.gateway.request_heartbeat(0);
    let heartbeat = s.gateway.wait_op(op::HEARTBEAT, 1);
    assert_eq!(heartbeat.d(), &json!(42), "{:?}", heartbeat.json);

    // The recurring schedule sends a heartbeat every 41 s of the host clock.
    s.host.advance(41);
    assert_eq!(s.gateway.wait_op(op::HEARTBEAT, 2).d(), &json!(42));
    s.host.advance(41);
    assert_eq!(s.gateway.wait_op(op::HEARTBEAT, 3).d(), &json!(42));
    assert!(
        s.presences().iter().all(|p| !is_clear(p)),
        "not cleared yet"
    );

    // At the end of the track (200 s after it started) the one-time schedule clears the
    // presence and closes the connection.
    s.host.advance(200 - 82);
    let clear = s.gateway.wait_frame("the presence clear", is_clear, 1);
    assert_eq!(clear.conn, 0);
    assert_eq!(s.gateway.wait_client_close(0).0, Some(1000));
    assert_eq!(s.presences().len(), 2, "the track, then the clear");

    // The next track connects again.
    s.now_playing("alice", &s.track("Slow Tide", 180.0), 0)
        .unwrap();
    let identify = s.gateway.wait_op(op::IDENTIFY, 2);
    assert_eq!(identify.conn, 1);
    let presence = s.gateway.wait_op(op::PRESENCE_UPDATE, 3);
    assert_eq!(activity(&presence)["details"], "Slow Tide");
}

#[test]
fn a_second_track_reuses_the_connection_and_moves_the_clear() {
    let s = setup(json!({}), 200);
    let first = s.track("Take Off", 200.0);
    s.now_playing("alice", &first, 0).unwrap();
    s.gateway.wait_op(op::PRESENCE_UPDATE, 1);

    // 100 s later a shorter track starts: same connection, a new presence.
    s.host.advance(100);
    let second = s.track("Slow Tide", 90.0);
    s.now_playing("alice", &second, 30).unwrap();
    let presence = s.gateway.wait_op(op::PRESENCE_UPDATE, 2);
    assert_eq!(presence.conn, 0);
    assert_eq!(activity(&presence)["details"], "Slow Tide");
    assert_eq!(s.gateway.server().connections(), 1);
    assert_eq!(s.gateway.frames_with_op(op::IDENTIFY).len(), 1);

    // The clear follows the second track: 60 s later (90 s long, 30 s in), well before the
    // first track's end. It can only be scheduled under the user's clear id if the first
    // track's clear was cancelled first.
    s.host.advance(60);
    let clear = s.gateway.wait_frame("the presence clear", is_clear, 1);
    assert_eq!(clear.conn, 0);
    assert_eq!(s.gateway.wait_client_close(0).0, Some(1000));
    assert_eq!(
        s.presences().iter().filter(|p| is_clear(p)).count(),
        1,
        "one clear"
    );
}

#[test]
fn each_user_has_a_connection_and_unknown_users_are_not_authorized() {
    let s = setup(json!({"resolveImages": false}), 200);
    let take_off = s.track("Take Off", 200.0);
    s.now_playing("alice", &take_off, 0).unwrap();
    s.now_playing("bob", &take_off, 10).unwrap();
    let tokens: Vec<Value> = {
        s.gateway.wait_op(op::IDENTIFY, 2);
        s.gateway
            .frames_with_op(op::IDENTIFY)
            .iter()
            .map(|f| f.d()["token"].clone())
            .collect()
    };
    assert_eq!(tokens, [json!("alice-token"), json!("bob-token")]);
    assert_eq!(s.gateway.server().connections(), 2);

    // Without image registration the presence carries the artwork URL as it is, and the
    // API is never called.
    let presence = s.gateway.wait_op(op::PRESENCE_UPDATE, 2);
    assert_eq!(
        activity(&presence)["assets"]["large_image"],
        s.artwork_url(&take_off)
    );
    assert_eq!(s.api.request_count(), 0);

    let err = s.now_playing("admin", &take_off, 0).unwrap_err();
    assert!(
        matches!(err, ScrobblerError::NotAuthorized(_)),
        "admin has no token: {err}"
    );
    assert_eq!(s.gateway.server().connections(), 2);
}

#[test]
fn a_failing_assets_api_falls_back_to_the_artwork_url() {
    let s = setup(json!({}), 500);
    let track = s.track("Take Off", 200.0);
    s.now_playing("alice", &track, 0).unwrap();
    let presence = s.gateway.wait_op(op::PRESENCE_UPDATE, 1);
    assert_eq!(
        activity(&presence)["assets"]["large_image"],
        s.artwork_url(&track)
    );
    assert_eq!(s.api.request_count(), 1);
}

#[test]
fn gateway_close_cleans_up_and_disable_closes_the_connection() {
    let s = setup(json!({}), 200);
    let track = s.track("Take Off", 200.0);
    s.now_playing("alice", &track, 0).unwrap();
    s.gateway.wait_op(op::PRESENCE_UPDATE, 1);

    // The gateway closes the session: the close callback forgets the connection, so the
    // next now-playing connects and identifies again.
    s.gateway.close(0, 1000, "session ended");
    s.gateway.wait_client_close(0);
    eventually("a new connection for the next track", || {
        s.now_playing("alice", &track, 5).unwrap();
        s.gateway.server().connections() == 2
    });
    let identify = s.gateway.wait_op(op::IDENTIFY, 2);
    assert_eq!(identify.conn, 1);
    assert_eq!(identify.d()["token"], "alice-token");
    let presence = s.gateway.wait_frame(
        "a presence on the new connection",
        |f| f.op() == op::PRESENCE_UPDATE && f.conn == 1,
        1,
    );
    assert_eq!(activity(&presence)["details"], track.title);

    // Disabling unloads the plugin: the host closes the connection with 1001.
    s.host.manager.disable(ID).unwrap();
    assert_eq!(s.gateway.wait_client_close(1).0, Some(1001));
}
