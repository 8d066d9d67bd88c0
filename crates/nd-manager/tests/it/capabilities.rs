//! Every capability of spec §4.2 driven through the manager's typed adapters, as an
//! application would: the Navidrome testdata plugins' behaviours (§8.2) for the metadata
//! agent (full and partial), scrobbler, lyrics and sonic similarity, plus detection of the
//! callback capabilities.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nd_capabilities::types::{AlbumRequest, ArtistRequest, SongRef, TrackInfo};
use nd_capabilities::{Capability, ScrobblerError};
use nd_host_appdata::provider::{Scope, UserInfo};
use nd_host_store::clock::ManualClock;
use nd_manager::{LoadContext, Manager, ServiceFactory, ServiceParts};
use nd_runtime::{HostImports, HostService, RegisterError};
use serde_json::{Value, json};

use crate::env::{Env, users_only};

fn artist(name: &str) -> ArtistRequest {
    ArtistRequest {
        id: "ar-1".into(),
        name: name.into(),
        ..ArtistRequest::default()
    }
}

fn track(title: &str) -> TrackInfo {
    TrackInfo {
        id: "t1".into(),
        title: title.into(),
        artist: "Nina Simone".into(),
        album: "Pastel Blues".into(),
        duration: 240.0,
        ..TrackInfo::default()
    }
}

/// A started manager with these (fixture, id) plugins enabled, with every user allowed.
fn enabled(env: &Env, plugins: &[(&str, &str)]) -> Manager {
    for (fixture, id) in plugins {
        env.put(id, fixture);
    }
    let manager = env
        .builder()
        .app_data(users_only())
        .service(recorder(Arc::default()))
        .build()
        .unwrap();
    manager.start().unwrap();
    for (_, id) in plugins {
        manager.set_scope(id, Scope::everything()).unwrap();
        manager.enable(id).unwrap();
    }
    manager
}

#[test]
fn metadata_agents_answer_and_fail_as_configured() {
    let env = Env::new();
    let manager = enabled(&env, &[("agent", "agent"), ("partialagent", "partial")]);
    let agents = manager.with_capability(Capability::MetadataAgent);
    assert_eq!(
        agents.iter().map(|p| p.id()).collect::<Vec<_>>(),
        ["agent", "partial"],
        "a Go-style partial agent exports every metadata function"
    );
    let full = manager.plugin("agent").unwrap();
    let agent = full.capabilities().metadata_agent().unwrap();
    assert_eq!(
        agent
            .artist_mbid(&nd_capabilities::types::ArtistMbidRequest {
                id: "ar-1".into(),
                name: "Nina".into(),
            })
            .unwrap()
            .as_deref(),
        Some("test-mbid-Nina")
    );
    let info = agent
        .album_info(&AlbumRequest {
            name: "Pastel Blues".into(),
            artist: "Nina Simone".into(),
            ..AlbumRequest::default()
        })
        .unwrap()
        .unwrap();
    assert_eq!(info.mbid, "test-album-mbid-Pastel Blues");

    // The partial agent: biography implemented, everything else "not implemented" (-2),
    // which the adapter reports as not found, not as a failure.
    let partial = manager.plugin("partial").unwrap();
    let agent = partial.capabilities().metadata_agent().unwrap();
    assert!(agent.artist_biography(&artist("Nina")).unwrap().is_some());
    assert_eq!(agent.artist_url(&artist("Nina")).unwrap(), None);
    assert_eq!(agent.artist_images(&artist("Nina")).unwrap(), None);

    // Config error mode: every method fails with the configured message.
    manager
        .set_config("agent", json!({"error": "service unavailable"}))
        .unwrap();
    let full = manager.plugin("agent").unwrap();
    let agent = full.capabilities().metadata_agent().unwrap();
    let err = agent.artist_biography(&artist("Nina")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("agent") && text.contains("nd_get_artist_biography"),
        "{text}"
    );
    assert!(text.contains("service unavailable"), "{text}");
}

#[test]
fn scrobblers_map_error_types_and_see_only_their_users() {
    let env = Env::new();
    let manager = enabled(
        &env,
        &[("scrobbler", "everyone"), ("scrobbler", "only-bob")],
    );
    manager
        .set_scope(
            "only-bob",
            Scope {
                users: vec!["u2".into()],
                ..Scope::default()
            },
        )
        .unwrap();
    let alice = UserInfo {
        id: "u1".into(),
        user_name: "alice".into(),
        ..UserInfo::default()
    };
    let bob = UserInfo {
        id: "u2".into(),
        user_name: "bob".into(),
        ..UserInfo::default()
    };
    let ids = |user: &UserInfo| {
        manager
            .scrobblers_for(user)
            .iter()
            .map(|p| p.id().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&alice), ["everyone"]);
    assert_eq!(ids(&bob), ["everyone", "only-bob"]);

    let plugin = manager.plugin("everyone").unwrap();
    let scrobbler = plugin.capabilities().scrobbler().unwrap();
    assert!(scrobbler.is_authorized("alice"));
    scrobbler
        .now_playing("alice", &track("Sinnerman"), 12)
        .unwrap();
    scrobbler
        .scrobble("alice", &track("Sinnerman"), 1_700_000_000)
        .unwrap();

    for (error_type, expected) in [
        ("not_authorized", "NotAuthorized"),
        ("retry_later", "RetryLater"),
        ("unrecoverable", "Unrecoverable"),
        ("plain", "Unrecoverable"),
    ] {
        manager
            .set_config(
                "everyone",
                json!({"error": "lastfm is down", "error_type": error_type, "authorized": "false"}),
            )
            .unwrap();
        let plugin = manager.plugin("everyone").unwrap();
        let scrobbler = plugin.capabilities().scrobbler().unwrap();
        assert!(!scrobbler.is_authorized("alice"));
        let err = scrobbler
            .scrobble("alice", &track("Sinnerman"), 1_700_000_000)
            .unwrap_err();
        let kind = match &err {
            ScrobblerError::NotAuthorized(_) => "NotAuthorized",
            ScrobblerError::RetryLater(_) => "RetryLater",
            ScrobblerError::Unrecoverable(_) => "Unrecoverable",
        };
        assert_eq!(kind, expected, "{error_type}: {err}");
        assert!(err.error().to_string().contains("lastfm is down"));
    }
}

#[test]
fn lyrics_and_sonic_similarity() {
    let env = Env::new();
    let manager = enabled(&env, &[("lyrics", "lyrics"), ("sonic", "sonic")]);
    let plugin = manager.plugin("lyrics").unwrap();
    let lyrics = plugin.capabilities().lyrics().unwrap();
    let found = lyrics.get_lyrics(&track("Sinnerman")).unwrap().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].lang, "eng");
    assert_eq!(found[0].text, "Test lyrics for Sinnerman\nBy Nina Simone");

    manager
        .set_config("lyrics", json!({"no_lang": "true"}))
        .unwrap();
    let plugin = manager.plugin("lyrics").unwrap();
    let found = plugin
        .capabilities()
        .lyrics()
        .unwrap()
        .get_lyrics(&track("Sinnerman"))
        .unwrap()
        .unwrap();
    assert_eq!(found[0].lang, "xxx");

    let plugin = manager.plugin("sonic").unwrap();
    let sonic = plugin.capabilities().sonic_similarity().unwrap();
    let song = SongRef {
        id: "s1".into(),
        name: "Sinnerman".into(),
        artist: "Nina Simone".into(),
        ..SongRef::default()
    };
    let matches = sonic.similar_tracks(&song, 3).unwrap().unwrap();
    assert_eq!(matches.len(), 3);
    assert_eq!(matches[0].song.name, "Similar to Sinnerman #1");
    assert!(matches[0].similarity > matches[2].similarity);
    let end = SongRef {
        name: "Feeling Good".into(),
        ..SongRef::default()
    };
    let path = sonic.sonic_path(&song, &end, 2).unwrap().unwrap();
    assert_eq!(path[1].song.name, "Path Sinnerman to Feeling Good #2");
}

#[test]
fn callback_capabilities_are_detected_from_exports() {
    let env = Env::new();
    let manager = enabled(
        &env,
        &[("taskqueue", "taskqueue"), ("websocket", "websocket")],
    );
    let caps = |id: &str| manager.status(id).unwrap().capabilities;
    assert!(
        caps("taskqueue").contains(&"TaskWorker".to_owned()),
        "{:?}",
        caps("taskqueue")
    );
    assert!(caps("websocket").contains(&"WebSocket".to_owned()));
    assert!(
        manager
            .plugin("taskqueue")
            .unwrap()
            .capabilities()
            .task_worker()
            .is_some()
    );
    assert!(
        manager
            .plugin("websocket")
            .unwrap()
            .capabilities()
            .websocket()
            .is_some()
    );
    assert!(
        manager
            .plugin("websocket")
            .unwrap()
            .capabilities()
            .scrobbler()
            .is_none()
    );
}

/// Provides the scheduler fixture's test-only `test_record` import to every plugin: an
/// application-defined service added through the registry.
fn recorder(events: Arc<Mutex<Vec<Value>>>) -> Arc<dyn ServiceFactory> {
    struct Recorder(Arc<Mutex<Vec<Value>>>);
    impl HostService for Recorder {
        fn name(&self) -> &'static str {
            "test_record"
        }
        fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
            let events = Arc::clone(&self.0);
            imports.json("test_record", move |_ctx, event| {
                events.lock().unwrap().push(event);
                Ok(json!({}))
            });
            Ok(())
        }
    }
    struct Factory(Arc<Mutex<Vec<Value>>>);
    impl ServiceFactory for Factory {
        fn key(&self) -> &str {
            "test_record"
        }
        fn wanted(&self, _ctx: &LoadContext<'_>) -> bool {
            true
        }
        fn create(&self, _ctx: &LoadContext<'_>) -> Result<ServiceParts, String> {
            Ok(ServiceParts::service(Arc::new(Recorder(Arc::clone(
                &self.0,
            )))))
        }
    }
    Arc::new(Factory(events))
}

#[test]
fn scheduler_callbacks_run_until_the_plugin_is_disabled() {
    let env = Env::new();
    env.put("scheduler", "scheduler");
    let events = Arc::new(Mutex::new(Vec::new()));
    let clock = ManualClock::at_fixed_start();
    let manager = env
        .builder()
        .service(recorder(Arc::clone(&events)))
        .clock(clock.clone())
        .build()
        .unwrap();
    manager.start().unwrap();
    manager.enable("scheduler").unwrap();
    let plugin = manager.plugin("scheduler").unwrap();
    assert!(plugin.capabilities().scheduler().is_some());
    assert!(
        manager
            .status("scheduler")
            .unwrap()
            .capabilities
            .contains(&"Scheduler".to_owned())
    );
    let out = plugin
        .call(
            "host",
            json!({"fn": "scheduler_schedulerecurring",
                   "req": {"cronExpression": "@every 10s", "payload": "tick", "scheduleId": "r1"}})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out), r#"{"newScheduleId":"r1"}"#);
    let ticks = || {
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["payload"] == "tick")
            .count()
    };
    clock.advance(Duration::from_secs(10));
    crate::env::eventually("the first tick", || ticks() == 1);

    // Disabling runs the scheduler's closer: no schedule fires any more.
    manager.disable("scheduler").unwrap();
    clock.advance(Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ticks(), 1);
}
