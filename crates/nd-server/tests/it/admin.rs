//! The admin API: listing, details, enable/disable, reload, configuration, scope and sync,
//! each checked against the manager's own view.

use nd_host_appdata::provider::Scope;
use serde_json::{Value, json};

use crate::common::{configured_manifest, serve};

#[test]
fn the_list_shows_status_permissions_with_reasons_capabilities_and_calls() {
    let s = serve(|p| {
        p.put("agent", "agent").put("scrobbler", "scrobbler");
    });
    s.enable("agent");
    s.http
        .ok("/api/v1/artist/biography", json!({"name": "Nina"}));

    let reply = s.http.get("/api/admin/plugins");
    assert_eq!(reply.status, 200, "{}", reply.text);
    let list = reply.json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["agent", "scrobbler"]);

    let agent = &list[0];
    assert_eq!(agent["name"], "fixture-agent");
    assert_eq!(agent["enabled"], true);
    assert_eq!(agent["loaded"], true);
    assert_eq!(agent["lastError"], Value::Null);
    let caps: Vec<&str> = agent["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(caps.contains(&"MetadataAgent"), "{caps:?}");
    assert_eq!(agent["permissions"], json!(["http"]));
    let http = &agent["permissionDetails"][0];
    assert_eq!(http["key"], "http");
    assert!(
        http["reason"]
            .as_str()
            .unwrap()
            .contains("legacy allowedURLs"),
        "{http}"
    );
    assert!(http["details"]["allowedURLs"].is_object(), "{http}");
    // Calls: nd_on_init at load, and the biography.
    let calls = &agent["calls"];
    let exports: Vec<&str> = calls["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["export"].as_str().unwrap())
        .collect();
    assert_eq!(exports, ["nd_get_artist_biography", "nd_on_init"]);
    assert_eq!(calls["calls"], 2);
    assert_eq!(calls["failed"], 0);
    let stats = s.manager.metrics().for_plugin("agent");
    let max = stats.iter().map(|s| s.max_ms).fold(0.0, f64::max);
    assert_eq!(calls["maxMs"].as_f64().unwrap(), max);
    assert!(calls["meanMs"].as_f64().unwrap() > 0.0);

    let scrobbler = &list[1];
    assert_eq!(scrobbler["enabled"], false);
    assert_eq!(scrobbler["loaded"], false);
    assert_eq!(
        scrobbler["permissionDetails"],
        json!([{"key": "users", "reason": "scrobblers receive events for the users assigned to them", "details": {}}])
    );
    assert_eq!(scrobbler["calls"]["calls"], 0);

    // One plugin, and an unknown one.
    let one = s.http.get("/api/admin/plugins/scrobbler");
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["id"], "scrobbler");
    let missing = s.http.get("/api/admin/plugins/nope");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json(), json!({"error": "no plugin with id 'nope'"}));
}

#[test]
fn enable_and_disable_change_the_manager() {
    let s = serve(|p| {
        p.put("partial", "partialagent");
    });
    assert!(s.manager.plugin("partial").is_none());

    let reply = s.http.post_empty("/api/admin/plugins/partial/enable");
    assert_eq!(reply.status, 200, "{}", reply.text);
    let view = reply.json();
    assert_eq!(
        (view["enabled"].clone(), view["loaded"].clone()),
        (json!(true), json!(true))
    );
    assert!(s.manager.status("partial").unwrap().enabled);
    assert!(s.manager.plugin("partial").is_some());

    let reply = s.http.post_empty("/api/admin/plugins/partial/disable");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["enabled"], false);
    assert!(!s.manager.status("partial").unwrap().enabled);
    assert!(s.manager.plugin("partial").is_none());

    for action in ["enable", "disable", "reload"] {
        let reply = s
            .http
            .post_empty(&format!("/api/admin/plugins/ghost/{action}"));
        assert_eq!(reply.status, 404, "{action}: {}", reply.text);
        assert_eq!(reply.json()["error"], "no plugin with id 'ghost'");
    }
}

#[test]
fn a_plugin_that_needs_a_scope_is_refused_until_one_is_set() {
    let s = serve(|p| {
        p.put("scrobbler", "scrobbler");
    });
    let reply = s.http.post_empty("/api/admin/plugins/scrobbler/enable");
    assert_eq!(reply.status, 409, "{}", reply.text);
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("users permission"), "{error}");
    assert!(!s.manager.status("scrobbler").unwrap().enabled);

    let scope = json!({"users": ["u-alice"], "allLibraries": true});
    let reply = s.http.put("/api/admin/plugins/scrobbler/scope", scope);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["scope"]["users"], json!(["u-alice"]));
    assert_eq!(
        s.manager.status("scrobbler").unwrap().scope,
        Scope {
            users: vec!["u-alice".into()],
            all_libraries: true,
            ..Scope::default()
        }
    );
    let reply = s.http.post_empty("/api/admin/plugins/scrobbler/enable");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(s.manager.plugin("scrobbler").is_some());

    // Taking every user away disables it, as in Navidrome.
    let reply = s.http.put("/api/admin/plugins/scrobbler/scope", json!({}));
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(s.manager.plugin("scrobbler").is_none());
    assert!(!s.manager.status("scrobbler").unwrap().enabled);

    for bad in ["{", r#"{"users": "u-alice"}"#, "[1]"] {
        let reply = s.http.request(
            "PUT",
            "/api/admin/plugins/scrobbler/scope",
            Some(&format!("Bearer {}", crate::common::TOKEN)),
            Some(bad),
        );
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text);
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid JSON body")
        );
    }
    let reply = s.http.put("/api/admin/plugins/ghost/scope", json!({}));
    assert_eq!(reply.status, 404);
}

#[test]
fn configuration_round_trips_and_schema_violations_are_422() {
    let s = serve(|p| {
        p.pack("configured", "agent", &configured_manifest());
    });
    s.enable("configured");

    let reply = s.http.get("/api/admin/plugins/configured/config");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"config": null}));
    let view = s.http.get("/api/admin/plugins/configured").json();
    assert_eq!(view["configSchema"]["properties"]["retries"]["minimum"], 0);
    assert_eq!(view["uiSchema"]["type"], "VerticalLayout");

    let good = json!({"greeting": "hi", "retries": 3, "mode": "fast", "tags": ["a", "b"]});
    let reply = s
        .http
        .put("/api/admin/plugins/configured/config", good.clone());
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["config"], good);
    assert_eq!(s.manager.config("configured").unwrap(), Some(good.clone()));
    assert_eq!(
        s.http.get("/api/admin/plugins/configured/config").json(),
        json!({"config": good})
    );

    for bad in [
        json!({"retries": -1}),
        json!({"retries": "three"}),
        json!({"unknown": true}),
        json!({"mode": "warp"}),
        json!([1, 2]),
    ] {
        let reply = s
            .http
            .put("/api/admin/plugins/configured/config", bad.clone());
        assert_eq!(reply.status, 422, "{bad}: {}", reply.text);
        let error = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains("invalid configuration"), "{bad}: {error}");
        assert_eq!(
            s.manager.config("configured").unwrap(),
            Some(good.clone()),
            "{bad} changed nothing"
        );
    }
    let reply = s.http.put(
        "/api/admin/plugins/configured/config",
        json!({"retries": -1}),
    );
    assert!(
        reply.json()["error"].as_str().unwrap().contains("retries"),
        "{}",
        reply.text
    );

    // The saved configuration reaches the plugin: it now fails as configured.
    let reply = s.http.put(
        "/api/admin/plugins/configured/config",
        json!({"error": "agent is down"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = s
        .http
        .post("/api/v1/artist/biography", json!({"name": "Nina"}));
    assert_eq!(reply.status, 502, "{}", reply.text);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("agent is down")
    );

    let reply = s.http.put("/api/admin/plugins/ghost/config", json!({}));
    assert_eq!(reply.status, 404);
    let reply = s.http.get("/api/admin/plugins/ghost/config");
    assert_eq!(reply.status, 404);
}

#[test]
fn a_load_failure_is_422_with_the_message_and_stored_as_last_error() {
    let mut manifest = configured_manifest();
    // The scheduler permission needs nd_scheduler_callback, which the agent lacks.
    manifest["permissions"] = json!({"scheduler": {"reason": "timers"}});
    let s = serve(|p| {
        p.pack("broken", "agent", &manifest);
    });
    let reply = s.http.post_empty("/api/admin/plugins/broken/enable");
    assert_eq!(reply.status, 422, "{}", reply.text);
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("failed to load") && error.contains("nd_scheduler_callback"),
        "{error}"
    );
    let view = s.http.get("/api/admin/plugins/broken").json();
    assert_eq!(view["enabled"], false);
    assert!(
        view["lastError"]
            .as_str()
            .unwrap()
            .contains("nd_scheduler_callback"),
        "{view}"
    );
    assert_eq!(view["permissionDetails"][0]["reason"], "timers");
}

#[test]
fn reload_runs_nd_on_init_again_and_sync_picks_up_new_files() {
    let s = serve(|p| {
        p.put("agent", "agent");
    });
    s.enable("agent");
    let inits = || {
        s.manager
            .metrics()
            .for_plugin("agent")
            .iter()
            .find(|e| e.export == "nd_on_init")
            .map_or(0, |e| e.calls())
    };
    assert_eq!(inits(), 1);
    let reply = s.http.post_empty("/api/admin/plugins/agent/reload");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(inits(), 2);

    std::fs::write(
        s.manager.plugins_dir().join("late.ndp"),
        nd_testkit::fixture_ndp("lyrics"),
    )
    .unwrap();
    std::fs::remove_file(s.manager.plugins_dir().join("agent.ndp")).unwrap();
    let reply = s.http.post_empty("/api/admin/sync");
    assert_eq!(reply.status, 200, "{}", reply.text);
    let report = reply.json();
    assert_eq!(report["added"], json!(["late"]));
    assert_eq!(report["removed"], json!(["agent"]));
    let ids: Vec<String> = s
        .manager
        .list()
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["late"]);
    assert!(s.manager.plugin("agent").is_none());
}
