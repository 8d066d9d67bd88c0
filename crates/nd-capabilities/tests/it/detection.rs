//! Detection from the fixtures' real export sections, `PluginCapabilities`, and the load-time
//! rules against the fixtures' manifests.

use std::sync::Arc;

use nd_capabilities::{
    Capability, CapabilitySet, ExportCaller, PluginCapabilities, Violation, detect, validate,
};
use nd_manifest::Permissions;

use nd_capabilities::Lyrics;
use nd_capabilities::types::TrackInfo;

use crate::{Gated, callbacks_stubbed, load, wait_for};

fn names(plugin: &nd_runtime::Plugin) -> Vec<&'static str> {
    detect(plugin.exports()).names()
}

#[test]
fn fixtures_have_the_capabilities_of_their_exports() {
    // Go PDK style: all 11 metadata exports (10 of them answer -2) is still one capability.
    assert_eq!(names(&load("partialagent", &[])), ["MetadataAgent"]);
    assert_eq!(names(&load("agent", &[])), ["MetadataAgent", "Lifecycle"]);
    // Rust macro style: only what is registered.
    assert_eq!(names(&load("scrobbler", &[])), ["Scrobbler"]);
    assert_eq!(names(&load("lyrics", &[])), ["Lyrics"]);
    assert_eq!(names(&load("sonic", &[])), ["SonicSimilarity"]);
    assert_eq!(names(&callbacks_stubbed("taskqueue")), ["TaskWorker"]);
    assert_eq!(names(&callbacks_stubbed("scheduler")), ["Scheduler"]);
    assert_eq!(names(&callbacks_stubbed("websocket")), ["WebSocket"]);
    // Exports of no capability (`host`, `nd_test_taskqueue`) add nothing.
    assert_eq!(
        detect(["host", "nd_test_taskqueue", "bench"]),
        CapabilitySet::new()
    );
}

#[test]
fn plugin_capabilities_offers_only_detected_adapters() {
    let caps = PluginCapabilities::new(Arc::new(load("agent", &[])));
    assert_eq!(caps.plugin_id(), "agent");
    assert_eq!(
        serde_json::to_string(&caps.detected()).unwrap(),
        r#"["MetadataAgent","Lifecycle"]"#
    );
    assert!(caps.has(Capability::MetadataAgent));
    let agent = caps.metadata_agent().expect("a metadata agent");
    assert_eq!(agent.plugin_id(), "agent");
    assert_eq!(caps.lifecycle().expect("lifecycle").on_init(), Ok(true));
    assert!(caps.scrobbler().is_none());
    assert!(caps.lyrics().is_none());
    assert!(caps.sonic_similarity().is_none());
    assert!(caps.task_worker().is_none());
    assert!(caps.scheduler().is_none());
    assert!(caps.websocket().is_none());

    let caps = PluginCapabilities::new(Arc::new(load("scrobbler", &[])));
    assert!(caps.scrobbler().expect("a scrobbler").is_authorized("ana"));
    assert!(caps.metadata_agent().is_none());

    let caps = PluginCapabilities::new(Arc::new(callbacks_stubbed("websocket")));
    assert!(caps.websocket().is_some());
    let caps = PluginCapabilities::new(Arc::new(callbacks_stubbed("taskqueue")));
    assert!(caps.task_worker().is_some());
    let caps = PluginCapabilities::new(Arc::new(callbacks_stubbed("scheduler")));
    assert!(caps.scheduler().is_some());
    let caps = PluginCapabilities::new(Arc::new(load("sonic", &[])));
    assert!(caps.sonic_similarity().is_some());
}

#[test]
fn lyrics_clones_from_plugin_capabilities_share_one_adapter() {
    let gated = Gated::new(load("lyrics", &[]));
    let caps = PluginCapabilities::new(gated.clone());
    let (a, b) = (caps.lyrics().unwrap(), caps.lyrics().unwrap());
    let separate = Lyrics::new(Arc::clone(caps.caller()));
    let held = std::thread::spawn(move || a.get_lyrics(&TrackInfo::default()));
    // The call held in `a` is seen through `b`, but not through a separately built adapter.
    wait_for("the held call", || b.pending() == 1);
    assert_eq!(separate.pending(), 0);
    gated.open();
    assert!(held.join().unwrap().unwrap().is_some());
    assert_eq!(b.pending(), 0);
}

#[test]
fn fixture_manifests_pass_the_load_time_rules() {
    for (name, plugin) in [
        ("agent", load("agent", &[])),
        ("partialagent", load("partialagent", &[])),
        ("scrobbler", load("scrobbler", &[])),
        ("lyrics", load("lyrics", &[])),
        ("sonic", load("sonic", &[])),
        ("taskqueue", callbacks_stubbed("taskqueue")),
        ("scheduler", callbacks_stubbed("scheduler")),
        ("websocket", callbacks_stubbed("websocket")),
    ] {
        let permissions = nd_testkit::fixture_permissions(name);
        assert_eq!(validate(&permissions, plugin.exports()), Ok(()), "{name}");
    }
    // The legacy `http.allowedURLs` of the agent's manifest parses leniently into a host.
    let manifest = nd_testkit::fixture_manifest("agent");
    let http = manifest.permissions.http.expect("http permission");
    assert_eq!(http.required_hosts.len(), 1);
    assert!(
        http.required_hosts[0]
            .to_string()
            .contains("test.example.com")
    );
}

#[test]
fn broken_rules_are_all_reported() {
    // The scrobbler without its manifest's `users` permission.
    let scrobbler = load("scrobbler", &[]);
    assert_eq!(
        validate(&Permissions::default(), scrobbler.exports()),
        Err(vec![Violation::ScrobblerRequiresUsers])
    );
    // The agent's exports under the task queue and scheduler fixtures' permissions.
    let agent = load("agent", &[]);
    let mut permissions = nd_testkit::fixture_permissions("taskqueue");
    permissions.scheduler = nd_testkit::fixture_permissions("scheduler").scheduler;
    let violations = validate(&permissions, agent.exports()).unwrap_err();
    assert_eq!(
        violations,
        [
            Violation::SchedulerRequiresCallback,
            Violation::TaskQueueRequiresWorker
        ]
    );
    let messages: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "'scheduler' permission requires plugin to export 'nd_scheduler_callback' function",
            "'taskqueue' permission requires plugin to export 'nd_task_execute' function",
        ]
    );
    let caller: Arc<dyn ExportCaller> = Arc::new(agent);
    assert!(!caller.has_export("nd_task_execute"));
}
