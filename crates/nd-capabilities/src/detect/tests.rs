//! Detection from export lists, the set type, and the load-time rules.

use nd_manifest::{BasicPermission, TaskQueuePermission};

use super::*;

#[test]
fn one_export_is_enough_for_a_capability() {
    assert_eq!(
        detect(["nd_get_artist_biography"]).names(),
        ["MetadataAgent"]
    );
    assert_eq!(detect(["nd_websocket_on_close"]).names(), ["WebSocket"]);
    assert_eq!(
        detect(["memory", "_initialize", "nd_test_cache", "nd_scrobbler"]),
        CapabilitySet::new()
    );
}

#[test]
fn go_style_and_rust_macro_style_exports_give_the_same_capabilities() {
    // A Go PDK metadata plugin exports all 11 functions; the Rust macros only those registered.
    let go = detect(Capability::MetadataAgent.exports().iter().copied());
    let rust = detect(["nd_get_artist_url", "nd_get_album_info"]);
    assert_eq!(go, rust);
    // `register_scrobbler!` exports all four; an old plugin has three.
    let old = detect([
        "nd_scrobbler_is_authorized",
        "nd_scrobbler_now_playing",
        "nd_scrobbler_scrobble",
    ]);
    assert_eq!(old.names(), ["Scrobbler"]);
}

#[test]
fn every_capability_is_detected_by_each_of_its_exports() {
    for capability in Capability::ALL {
        for export in capability.exports() {
            let set = detect([*export]);
            assert_eq!(set.iter().collect::<Vec<_>>(), [capability], "{export}");
        }
    }
}

#[test]
fn sets_iterate_in_registry_order_and_serialize_as_names() {
    let mut set = CapabilitySet::new();
    assert!(set.insert(Capability::WebSocket));
    assert!(set.insert(Capability::MetadataAgent));
    assert!(!set.insert(Capability::MetadataAgent));
    assert_eq!(set.len(), 2);
    assert_eq!(
        serde_json::to_string(&set).expect("serializes"),
        r#"["MetadataAgent","WebSocket"]"#
    );
    assert_eq!(set.to_string(), "MetadataAgent, WebSocket");
    assert_eq!(format!("{set:?}"), "{MetadataAgent, WebSocket}");
    let back: CapabilitySet =
        serde_json::from_str(r#"["WebSocket","MetadataAgent"]"#).expect("names");
    assert_eq!(back, set);
    assert!(set.remove(Capability::WebSocket));
    assert!(!set.contains(Capability::WebSocket));
    let all: CapabilitySet = Capability::ALL.into_iter().collect();
    assert_eq!(all.len(), Capability::ALL.len());
    assert_eq!(
        serde_json::from_str::<CapabilitySet>("null").ok(),
        Some(CapabilitySet::new())
    );
    let unknown = serde_json::from_str::<CapabilitySet>(r#"["Telepathy"]"#).expect_err("unknown");
    assert!(
        unknown
            .to_string()
            .contains("unknown capability \"Telepathy\""),
        "{unknown}"
    );
}

fn with_users() -> Permissions {
    Permissions {
        users: Some(BasicPermission::default()),
        ..Default::default()
    }
}

#[test]
fn scrobbler_requires_users() {
    let scrobbler = ["nd_scrobbler_scrobble", "nd_scrobbler_now_playing"];
    assert_eq!(
        validate(&Permissions::default(), scrobbler),
        Err(vec![Violation::ScrobblerRequiresUsers])
    );
    assert_eq!(validate(&with_users(), scrobbler), Ok(()));
    assert_eq!(
        Violation::ScrobblerRequiresUsers.to_string(),
        "scrobbler capability requires 'users' permission to be declared in manifest"
    );
}

#[test]
fn scheduler_and_taskqueue_permissions_require_their_callbacks() {
    let permissions = Permissions {
        scheduler: Some(BasicPermission::default()),
        taskqueue: Some(TaskQueuePermission::default()),
        ..Default::default()
    };
    assert_eq!(
        validate(&permissions, ["nd_scrobbler_scrobble"]),
        Err(vec![
            Violation::ScrobblerRequiresUsers,
            Violation::SchedulerRequiresCallback,
            Violation::TaskQueueRequiresWorker,
        ])
    );
    assert_eq!(
        validate(&permissions, ["nd_scheduler_callback", "nd_task_execute"]),
        Ok(())
    );
    assert_eq!(
        Violation::SchedulerRequiresCallback.to_string(),
        "'scheduler' permission requires plugin to export 'nd_scheduler_callback' function"
    );
    assert_eq!(
        Violation::TaskQueueRequiresWorker.to_string(),
        "'taskqueue' permission requires plugin to export 'nd_task_execute' function"
    );
    assert_eq!(
        Violation::TaskQueueRequiresWorker.rule(),
        "taskqueue => nd_task_execute"
    );
}

#[test]
fn callbacks_without_their_permission_are_fine() {
    assert_eq!(
        validate(
            &Permissions::default(),
            ["nd_scheduler_callback", "nd_task_execute"]
        ),
        Ok(())
    );
}
