//! Unit tests of the ABI tables and the load-time rules.

use super::*;

#[test]
fn every_function_matches_its_service_prefix() {
    for service in HOST_SERVICES {
        assert!(!service.functions.is_empty(), "{}", service.permission);
        for function in service.functions {
            assert!(function.starts_with(service.prefix), "{function}");
            assert_eq!(
                permission_for_host_function(function),
                Some(service.permission),
                "{function}"
            );
            assert!(is_known_host_function(function));
        }
    }
}

#[test]
fn services_cover_the_permissions_that_have_functions() {
    let with_functions: Vec<&str> = HOST_SERVICES
        .iter()
        .map(|s| s.permission)
        .filter(|p| *p != ALWAYS_AVAILABLE)
        .collect();
    for permission in &with_functions {
        assert!(crate::PERMISSION_KEYS.contains(permission), "{permission}");
    }
    assert_eq!(
        with_functions.len(),
        crate::PERMISSION_KEYS.len(),
        "every permission provides host functions"
    );
    let total: usize = HOST_SERVICES.iter().map(|s| s.functions.len()).sum();
    assert_eq!(total, 51);
}

#[test]
fn prefix_lookup() {
    assert_eq!(permission_for_host_function("http_send"), Some("http"));
    assert_eq!(
        permission_for_host_function("task_enqueue"),
        Some("taskqueue")
    );
    assert_eq!(
        permission_for_host_function("cache_somethingnew"),
        Some("cache")
    );
    assert!(!is_known_host_function("cache_somethingnew"));
    assert_eq!(
        permission_for_host_function("storage_getstoragepath"),
        Some("storage")
    );
    assert_eq!(
        permission_for_host_function("config_keys"),
        Some(ALWAYS_AVAILABLE)
    );
    assert_eq!(permission_for_host_function("http_request"), Some("http"));
    assert_eq!(permission_for_host_function("nd_on_init"), None);
    assert_eq!(
        host_functions("users"),
        ["users_getusers", "users_getadmins"]
    );
    assert!(host_functions("teleport").is_empty());
}

#[test]
fn capability_names_round_trip() {
    for capability in Capability::ALL {
        assert_eq!(Capability::from_name(capability.name()), Some(capability));
        assert_eq!(capability.to_string(), capability.name());
        for export in capability.exports() {
            assert_eq!(Capability::for_export(export), Some(capability));
        }
    }
    let total: usize = Capability::ALL.iter().map(|c| c.exports().len()).sum();
    assert_eq!(total, 25);
    assert_eq!(Capability::from_name("metadataagent"), None);
}

#[test]
fn detection_is_by_any_export() {
    assert!(detect_capabilities(["memory", "_start", "nd_manifest"]).is_empty());
    let caps = detect_capabilities([
        "nd_websocket_on_close",
        "nd_scheduler_callback",
        "nd_scrobbler_scrobble",
        "nd_scrobbler_now_playing",
        "nd_find_sonic_path",
        "nd_task_execute",
        "nd_lyrics_get_lyrics",
    ]);
    assert_eq!(
        caps,
        [
            Capability::Scrobbler,
            Capability::Lyrics,
            Capability::SonicSimilarity,
            Capability::TaskWorker,
            Capability::Scheduler,
            Capability::WebSocket,
        ]
    );
}

fn manifest(permissions: &str) -> Manifest {
    let json =
        format!(r#"{{"name": "n", "author": "a", "version": "1", "permissions": {permissions}}}"#);
    match Manifest::parse(json.as_bytes()) {
        Ok(parsed) => parsed.manifest,
        Err(err) => panic!("{err}"),
    }
}

#[test]
fn load_time_rules() {
    let m = manifest(r#"{"scheduler": {}, "taskqueue": {}}"#);
    let exports = ["nd_scrobbler_scrobble"];
    let caps = detect_capabilities(exports);
    let found: Vec<String> = capability_rules(&m, &caps, exports)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "/permissions/users: the plugin exports the Scrobbler capability, which requires the users permission (fix: add \"users\": {\"reason\": \"...\"} to permissions)",
            "/permissions/scheduler: the scheduler permission requires the plugin to export nd_scheduler_callback (fix: export nd_scheduler_callback from the plugin, or remove the scheduler permission)",
            "/permissions/taskqueue: the taskqueue permission requires the plugin to export nd_task_execute (fix: export nd_task_execute from the plugin, or remove the taskqueue permission)",
        ]
    );
    let m = manifest(r#"{"scheduler": {}, "taskqueue": {}, "users": {}}"#);
    let exports = [
        "nd_scrobbler_scrobble",
        "nd_scheduler_callback",
        "nd_task_execute",
    ];
    assert!(capability_rules(&m, &detect_capabilities(exports), exports).is_empty());
}

#[test]
fn imports_need_their_permission() {
    let m = manifest(r#"{"cache": {}}"#);
    let found = import_rules(
        &m,
        [
            "config_get",
            "cache_getstring",
            "kvstore_set",
            "kvstore_get",
            "bogus_fn",
        ],
    );
    let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["/permissions/kvstore", ""]);
    assert!(found[0].message.contains("kvstore_set"));
    assert!(found[1].message.contains("bogus_fn"));
}
