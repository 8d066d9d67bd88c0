//! The manager's own rules: folder sync (spec §6.1), persisted state, enable/disable, load
//! errors, configuration (§5.5), scope gates (§5.4 rule 6), parallel loads, metrics (§6.8),
//! unloading and AutoReload.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use nd_capabilities::Capability;
use nd_capabilities::types::ArtistRequest;
use nd_host_appdata::provider::Scope;
use nd_manager::{FnFactory, LoadContext, ManagerError, ServiceFactory, ServiceParts};
use nd_runtime::{HostImports, HostService, RegisterError};
use serde_json::json;

use crate::env::{Env, eventually, manifest};

fn bio_request(name: &str) -> ArtistRequest {
    ArtistRequest {
        id: "ar-1".into(),
        name: name.into(),
        ..ArtistRequest::default()
    }
}

fn biography(manager: &nd_manager::Manager, id: &str, name: &str) -> Option<String> {
    let plugin = manager.plugin(id).expect("loaded");
    let agent = plugin.capabilities().metadata_agent().expect("agent");
    agent.artist_biography(&bio_request(name)).unwrap()
}

#[test]
fn new_files_are_recorded_disabled_and_enabling_loads_them() {
    let env = Env::new();
    env.put("agent", "agent");
    env.put("second-agent", "agent");
    let manager = env.manager();
    let report = manager.start().unwrap();
    assert_eq!(report.added, ["agent", "second-agent"]);
    let list = manager.list().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|p| !p.enabled && !p.loaded));
    assert_eq!(list[0].name, "fixture-agent");
    assert_eq!(list[0].permissions, ["http"]);
    assert!(manager.plugin("agent").is_none());

    manager.enable("agent").unwrap();
    let status = manager.status("agent").unwrap();
    assert!(status.enabled && status.loaded);
    assert!(status.capabilities.contains(&"MetadataAgent".to_owned()));
    assert_eq!(
        biography(&manager, "agent", "Björk").as_deref(),
        Some("Biography for Björk")
    );
    // The second id is an independent instance of the same package, still disabled.
    assert!(manager.plugin("second-agent").is_none());

    manager.disable("agent").unwrap();
    assert!(manager.plugin("agent").is_none());
    let status = manager.status("agent").unwrap();
    assert!(!status.enabled && !status.loaded);
    assert!(matches!(
        manager.enable("nope"),
        Err(ManagerError::NotFound(id)) if id == "nope"
    ));
}

#[test]
fn a_changed_file_is_unloaded_and_disabled_and_a_removed_one_forgotten() {
    let env = Env::new();
    let path = env.put("agent", "agent");
    env.put("other", "partialagent");
    let manager = env.manager();
    manager.start().unwrap();
    manager.enable("agent").unwrap();
    manager.enable("other").unwrap();
    let old_sha = manager.status("agent").unwrap().sha256;

    // Same id, different package: unloaded, disabled, manifest refreshed.
    std::fs::write(&path, nd_testkit::fixture_ndp("partialagent")).unwrap();
    std::fs::remove_file(env.plugins().join("other.ndp")).unwrap();
    let report = manager.sync().unwrap();
    assert_eq!(report.changed, ["agent"]);
    assert_eq!(report.removed, ["other"]);
    let status = manager.status("agent").unwrap();
    assert!(!status.enabled && !status.loaded);
    assert_ne!(status.sha256, old_sha);
    assert_eq!(status.name, "fixture-partialagent");
    assert!(manager.plugin("other").is_none());
    assert!(matches!(
        manager.status("other"),
        Err(ManagerError::NotFound(_))
    ));

    // An unchanged folder changes nothing.
    assert_eq!(manager.sync().unwrap(), nd_manager::SyncReport::default());
}

#[test]
fn broken_packages_are_reported_and_bad_names_skipped() {
    let env = Env::new();
    std::fs::create_dir_all(env.plugins()).unwrap();
    std::fs::write(env.plugins().join("junk.ndp"), b"not a zip").unwrap();
    std::fs::write(
        env.plugins().join("trailing. .ndp"),
        nd_testkit::fixture_ndp("agent"),
    )
    .unwrap();
    std::fs::create_dir_all(env.plugins().join("sub.ndp")).unwrap();
    std::fs::write(env.plugins().join("readme.txt"), b"ignored").unwrap();
    let path = env.put("agent", "agent");
    let manager = env.manager();
    let report = manager.start().unwrap();
    assert_eq!(report.added, ["agent"]);
    assert_eq!(report.broken.len(), 1);
    assert_eq!(report.broken[0].0, "junk");
    assert!(report.broken[0].1.contains("zip"), "{:?}", report.broken);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    // A new broken package is not recorded.
    assert_eq!(manager.list().unwrap().len(), 1);

    // A known package that breaks keeps its row, disabled, with the reason.
    manager.enable("agent").unwrap();
    let broken = manifest("", json!({}));
    std::fs::write(
        &path,
        nd_manifest::pack(
            broken.to_string().as_bytes(),
            &nd_testkit::fixture_wasm("agent", nd_testkit::WASI),
        )
        .unwrap(),
    )
    .unwrap();
    let report = manager.sync().unwrap();
    assert_eq!(report.broken.len(), 2);
    let status = manager.status("agent").unwrap();
    assert!(!status.enabled && !status.loaded);
    let error = status.last_error.unwrap();
    assert!(error.contains("name"), "{error}");
}

#[test]
fn state_survives_a_restart_and_startup_clears_last_errors() {
    let env = Env::new();
    env.put("agent", "agent");
    env.pack(
        "needs-callback",
        "agent",
        &manifest("needs-callback", json!({"scheduler": {}})),
    );
    {
        let manager = env.manager();
        manager.start().unwrap();
        manager.enable("agent").unwrap();
        manager
            .set_config("agent", json!({"greeting": "hi"}))
            .unwrap();
        let err = manager.enable("needs-callback").unwrap_err();
        assert!(err.to_string().contains("nd_scheduler_callback"), "{err}");
        let status = manager.status("needs-callback").unwrap();
        assert!(!status.enabled);
        assert!(status.last_error.unwrap().contains("nd_scheduler_callback"));
        manager.shutdown();
    }
    let manager = env.manager();
    let report = manager.start().unwrap();
    assert_eq!(report, nd_manager::SyncReport::default());
    assert!(
        manager.plugin("agent").is_some(),
        "enabled plugins load at startup"
    );
    assert_eq!(
        manager.config("agent").unwrap(),
        Some(json!({"greeting": "hi"}))
    );
    assert_eq!(manager.status("needs-callback").unwrap().last_error, None);
}

#[test]
fn a_permission_without_a_service_fails_the_load_naming_it() {
    let env = Env::new();
    env.put("cache", "cache");
    let manager = env.builder().without_service("cache").build().unwrap();
    manager.start().unwrap();
    let err = manager.enable("cache").unwrap_err().to_string();
    assert!(err.contains("'cache'"), "{err}");
    assert!(!manager.service_keys().contains(&"cache".to_owned()));
    let status = manager.status("cache").unwrap();
    assert_eq!(
        status.last_error.as_deref().map(|e| e.contains("'cache'")),
        Some(true)
    );
}

#[test]
fn configuration_is_validated_flattened_and_reloads_the_plugin() {
    let env = Env::new();
    let mut m = manifest("configured", json!({}));
    m["config"] = json!({
        "schema": {
            "type": "object",
            "properties": {
                "error": {"type": "string"},
                "retries": {"type": "integer", "minimum": 0}
            },
            "additionalProperties": false
        }
    });
    env.pack("configured", "agent", &m);
    let manager = env.manager();
    manager.start().unwrap();
    manager.enable("configured").unwrap();
    assert!(biography(&manager, "configured", "X").is_some());

    for bad in [
        json!({"retries": "three"}),
        json!({"unknown": 1}),
        json!([1]),
    ] {
        let err = manager.set_config("configured", bad.clone()).unwrap_err();
        assert!(matches!(err, ManagerError::Config { .. }), "{bad}: {err}");
    }
    assert_eq!(
        manager.config("configured").unwrap(),
        None,
        "nothing stored"
    );

    // Saving reloads the plugin: the agent now fails with the configured message.
    manager
        .set_config("configured", json!({"error": "agent down", "retries": 2}))
        .unwrap();
    let plugin = manager.plugin("configured").unwrap();
    let agent = plugin.capabilities().metadata_agent().unwrap();
    let err = agent.artist_biography(&bio_request("X")).unwrap_err();
    assert!(err.to_string().contains("agent down"), "{err}");
    // Non-string values arrive as their JSON text (spec §5.5).
    assert_eq!(
        plugin
            .plugin()
            .config()
            .config
            .get("retries")
            .map(String::as_str),
        Some("2")
    );
}

#[test]
fn nd_on_init_runs_after_every_load() {
    let env = Env::new();
    env.put("agent", "agent");
    let manager = env.manager();
    manager.start().unwrap();
    let inits = || {
        manager
            .metrics()
            .for_plugin("agent")
            .iter()
            .find(|s| s.export == "nd_on_init")
            .map_or(0, |s| s.calls())
    };
    assert_eq!(inits(), 0);
    manager.enable("agent").unwrap();
    assert_eq!(inits(), 1);
    manager.set_config("agent", json!({"k": "v"})).unwrap();
    assert_eq!(inits(), 2);
    manager.reload("agent").unwrap();
    assert_eq!(inits(), 3);
    // A failing nd_on_init is only logged: the plugin stays loaded.
    manager
        .set_config("agent", json!({"init_error": "no init today"}))
        .unwrap();
    assert!(manager.plugin("agent").is_some());
    let stats = manager.metrics().for_plugin("agent");
    let init = stats.iter().find(|s| s.export == "nd_on_init").unwrap();
    assert_eq!((init.ok, init.failed), (3, 1));
}

#[test]
fn users_and_library_permissions_need_a_scope() {
    let env = Env::new();
    env.put("scrobbler", "scrobbler");
    let manager = env
        .builder()
        .app_data(crate::env::users_only())
        .build()
        .unwrap();
    manager.start().unwrap();
    let err = manager.enable("scrobbler").unwrap_err();
    assert!(matches!(err, ManagerError::Scope { .. }), "{err}");
    assert!(err.to_string().contains("users"), "{err}");

    manager
        .set_scope(
            "scrobbler",
            Scope {
                users: vec!["u1".into()],
                ..Scope::default()
            },
        )
        .unwrap();
    manager.enable("scrobbler").unwrap();
    assert!(manager.plugin("scrobbler").is_some());
    assert_eq!(manager.status("scrobbler").unwrap().scope.users, ["u1"]);

    // Taking the scope away disables the plugin.
    manager.set_scope("scrobbler", Scope::default()).unwrap();
    assert!(manager.plugin("scrobbler").is_none());
    assert!(!manager.status("scrobbler").unwrap().enabled);
}

/// A service that counts how many of its kind are being created at once, and how many
/// were shut down.
#[derive(Default)]
struct Probe {
    creating: Mutex<usize>,
    changed: Condvar,
    max_creating: AtomicUsize,
    shut_down: AtomicUsize,
}

struct ProbeService(Arc<Probe>);

impl HostService for ProbeService {
    fn name(&self) -> &'static str {
        "probe"
    }
    fn register(&self, _imports: &mut HostImports) -> Result<(), RegisterError> {
        Ok(())
    }
    fn shutdown(&self) {
        self.0.shut_down.fetch_add(1, Ordering::SeqCst);
    }
}

struct ProbeFactory(Arc<Probe>);

impl ServiceFactory for ProbeFactory {
    fn key(&self) -> &str {
        "probe"
    }
    fn wanted(&self, _ctx: &LoadContext<'_>) -> bool {
        true
    }
    fn create(&self, _ctx: &LoadContext<'_>) -> Result<ServiceParts, String> {
        // Hold each creation until three run at once (or 3 s pass), then a little longer,
        // so that a fourth concurrent load, if the manager allowed one, would be seen.
        let mut creating = self.0.creating.lock().unwrap();
        *creating += 1;
        self.0.max_creating.fetch_max(*creating, Ordering::SeqCst);
        self.0.changed.notify_all();
        let deadline = Instant::now() + Duration::from_secs(3);
        while *creating < 3 && Instant::now() < deadline {
            creating = self
                .0
                .changed
                .wait_timeout(creating, Duration::from_millis(50))
                .unwrap()
                .0;
        }
        drop(creating);
        std::thread::sleep(Duration::from_millis(100));
        *self.0.creating.lock().unwrap() -= 1;
        Ok(ServiceParts::service(Arc::new(ProbeService(Arc::clone(
            &self.0,
        )))))
    }
}

#[test]
fn startup_loads_at_most_three_plugins_at_once_and_unloading_runs_closers() {
    let env = Env::new();
    for i in 0..7 {
        env.put(&format!("agent{i}"), "agent");
    }
    {
        let manager = env.manager();
        manager.start().unwrap();
        for i in 0..7 {
            manager.enable(&format!("agent{i}")).unwrap();
        }
        manager.shutdown();
    }
    let probe = Arc::new(Probe::default());
    let manager = env
        .builder()
        .service(Arc::new(ProbeFactory(Arc::clone(&probe))))
        .build()
        .unwrap();
    manager.start().unwrap();
    assert_eq!(manager.loaded().len(), 7);
    assert_eq!(probe.max_creating.load(Ordering::SeqCst), 3);
    assert_eq!(probe.shut_down.load(Ordering::SeqCst), 0);

    manager.disable("agent0").unwrap();
    assert_eq!(probe.shut_down.load(Ordering::SeqCst), 1);
    manager.shutdown();
    assert_eq!(probe.shut_down.load(Ordering::SeqCst), 7);
    assert!(manager.loaded().is_empty());
    // The state is kept: every plugin but agent0 is still enabled.
    let enabled = manager.list().unwrap().iter().filter(|p| p.enabled).count();
    assert_eq!(enabled, 6);
}

#[test]
fn a_factory_can_replace_a_builtin_service() {
    let env = Env::new();
    env.put("cache", "cache");
    let created = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&created);
    let manager = env
        .builder()
        .service(Arc::new(FnFactory::new("cache", move |ctx| {
            seen.fetch_add(1, Ordering::SeqCst);
            assert_eq!(ctx.plugin_id, "cache");
            Ok(ServiceParts::service(Arc::new(
                nd_host_store::cache::CacheService::new(Default::default()),
            )))
        })))
        .build()
        .unwrap();
    manager.start().unwrap();
    manager.enable("cache").unwrap();
    assert_eq!(created.load(Ordering::SeqCst), 1);
    let plugin = manager.plugin("cache").unwrap();
    let out = plugin
        .call(
            "host",
            br#"{"fn":"cache_setstring","req":{"key":"k","value":"v","ttlSeconds":60}}"#,
        )
        .unwrap();
    assert_eq!(out, b"{}");
}

#[test]
fn metrics_record_calls_but_not_not_implemented() {
    let env = Env::new();
    env.put("agent", "agent");
    env.put("partial", "partialagent");
    let manager = env.manager();
    manager.start().unwrap();
    manager.enable("agent").unwrap();
    manager.enable("partial").unwrap();
    for plugin in manager.with_capability(Capability::MetadataAgent) {
        let agent = plugin.capabilities().metadata_agent().unwrap();
        let bio = agent.artist_biography(&bio_request("Nina")).unwrap();
        assert!(bio.is_some(), "{}", plugin.id());
        // partialagent answers -2: "not found", and not a recorded call.
        let url = agent.artist_url(&bio_request("Nina")).unwrap();
        assert_eq!(url.is_some(), plugin.id() == "agent");
    }
    let stats = manager.metrics().snapshot();
    let count = |plugin: &str, export: &str| {
        stats
            .iter()
            .find(|s| s.plugin == plugin && s.export == export)
            .map(|s| (s.ok, s.failed))
    };
    assert_eq!(count("agent", "nd_get_artist_biography"), Some((1, 0)));
    assert_eq!(count("agent", "nd_get_artist_url"), Some((1, 0)));
    assert_eq!(count("partial", "nd_get_artist_biography"), Some((1, 0)));
    assert_eq!(count("partial", "nd_get_artist_url"), None);
}

#[test]
fn unloading_lets_a_running_call_finish_and_refuses_new_ones() {
    let env = Env::new();
    env.put("lyrics", "lyrics");
    let manager = env.manager();
    manager.start().unwrap();
    manager
        .set_config("lyrics", json!({"delay_ms": "700"}))
        .unwrap();
    manager.enable("lyrics").unwrap();
    let plugin = manager.plugin("lyrics").unwrap();
    let lyrics = plugin.capabilities().lyrics().unwrap();
    let running = std::thread::spawn(move || {
        lyrics.get_lyrics(&nd_capabilities::types::TrackInfo {
            title: "Song".into(),
            ..Default::default()
        })
    });
    // Wait until the call is running inside the plugin, then unload.
    eventually("the lyrics call to start", || plugin.calls_in_flight() == 1);
    manager.shutdown();
    let answer = running.join().unwrap();
    assert!(
        matches!(answer, Ok(Some(ref l)) if !l.is_empty()),
        "the call in flight completes: {answer:?}"
    );
    let lyrics = plugin.capabilities().lyrics().unwrap();
    let err = lyrics
        .get_lyrics(&nd_capabilities::types::TrackInfo::default())
        .unwrap_err();
    assert!(err.to_string().contains("unloaded"), "{err}");
}

#[test]
fn install_copies_the_package_and_remove_deletes_it() {
    let env = Env::new();
    let manager = env.manager();
    manager.start().unwrap();
    let source = env.dir.path().join("my-agent.ndp");
    std::fs::write(&source, nd_testkit::fixture_ndp("agent")).unwrap();
    assert_eq!(manager.install(&source).unwrap(), "my-agent");
    assert!(env.plugins().join("my-agent.ndp").is_file());
    assert!(!manager.status("my-agent").unwrap().enabled);
    manager.enable("my-agent").unwrap();

    let junk = env.dir.path().join("junk.ndp");
    std::fs::write(&junk, b"PK nope").unwrap();
    assert!(matches!(
        manager.install(&junk),
        Err(ManagerError::Install(_))
    ));
    assert!(
        !env.plugins().join("junk.ndp").exists(),
        "a broken package is not copied"
    );

    manager.remove("my-agent").unwrap();
    assert!(!env.plugins().join("my-agent.ndp").exists());
    assert!(manager.plugin("my-agent").is_none());
    assert!(manager.list().unwrap().is_empty());
}

#[test]
fn auto_reload_syncs_added_changed_and_removed_files() {
    let env = Env::new();
    let manager = env
        .builder()
        .auto_reload(true)
        .reload_debounce(Duration::from_millis(100))
        .build()
        .unwrap();
    manager.start().unwrap();
    let path = env.put("agent", "agent");
    eventually("the new file to be recorded", || {
        manager.status("agent").is_ok()
    });
    manager.enable("agent").unwrap();
    std::fs::write(&path, nd_testkit::fixture_ndp("partialagent")).unwrap();
    eventually("the changed file to be disabled", || {
        manager
            .status("agent")
            .is_ok_and(|s| !s.enabled && s.name == "fixture-partialagent")
    });
    assert!(manager.plugin("agent").is_none());
    std::fs::remove_file(&path).unwrap();
    eventually("the removed file to be forgotten", || {
        manager.status("agent").is_err()
    });
    manager.shutdown();
}
