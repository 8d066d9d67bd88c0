//! Development folders (`Manager::link_dev`): a plugin read from the folder its author
//! builds it in; a rebuild is picked up by `refresh` (and by a sync) and an enabled plugin
//! stays enabled; the id cannot be taken twice. Also `config_problems`, `load_enabled` and
//! the in-use state database.

use std::path::{Path, PathBuf};

use nd_capabilities::types::ArtistRequest;
use nd_manager::{Manager, ManagerError};
use serde_json::json;

use crate::env::{Env, manifest};

fn biography(manager: &Manager, id: &str) -> Option<String> {
    let plugin = manager.plugin(id).expect("loaded");
    let agent = plugin.capabilities().metadata_agent().expect("agent");
    let request = ArtistRequest {
        id: "ar-1".into(),
        name: "Nina".into(),
        ..ArtistRequest::default()
    };
    agent.artist_biography(&request).unwrap()
}

/// A folder named `name` with the agent manifest and `fixture`'s module as plugin.wasm.
fn dev_folder(env: &Env, name: &str, fixture: &str) -> PathBuf {
    let folder = env.dir.path().join("src").join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("manifest.json"),
        manifest("dev-agent", json!({})).to_string(),
    )
    .unwrap();
    build(&folder, fixture);
    folder
}

/// "Rebuilds" the folder's module.
fn build(folder: &Path, fixture: &str) {
    std::fs::write(
        folder.join("plugin.wasm"),
        nd_testkit::fixture_wasm(fixture, nd_testkit::WASI),
    )
    .unwrap();
}

#[test]
fn a_linked_folder_is_recorded_disabled_and_a_rebuild_is_loaded_on_refresh() {
    let env = Env::new();
    let folder = dev_folder(&env, "my-agent", "agent");
    let manager = env.manager();
    manager.start().unwrap();
    let id = manager.link_dev(&folder, None, None).unwrap();
    assert_eq!(id, "my-agent");
    let status = manager.status(&id).unwrap();
    assert!(!status.enabled && !status.loaded);
    let dev = status.dev.expect("dev link");
    assert_eq!(dev.folder, std::fs::canonicalize(&folder).unwrap());
    assert_eq!(status.path, dev.folder);
    assert_eq!(status.name, "dev-agent");
    // The package is the folder packed.
    let package = manager.package(&id).unwrap();
    assert_eq!(
        package.wasm,
        nd_testkit::fixture_wasm("agent", nd_testkit::WASI)
    );

    manager.enable(&id).unwrap();
    assert_eq!(
        biography(&manager, &id).as_deref(),
        Some("Biography for Nina")
    );
    assert_eq!(
        manager.refresh(&id).unwrap(),
        nd_manager::SyncReport::default()
    );

    build(&folder, "partialagent");
    let report = manager.refresh(&id).unwrap();
    assert_eq!(report.changed, ["my-agent"]);
    let status = manager.status(&id).unwrap();
    assert!(status.enabled && status.loaded, "stays enabled, reloaded");
    assert_eq!(
        biography(&manager, &id).as_deref(),
        Some("Partial agent biography for Nina")
    );

    // A sync picks up a rebuild the same way for a loaded plugin.
    build(&folder, "agent");
    assert_eq!(manager.sync().unwrap().changed, ["my-agent"]);
    assert!(manager.status(&id).unwrap().enabled);
    assert_eq!(
        biography(&manager, &id).as_deref(),
        Some("Biography for Nina")
    );

    // A reload (what an admin page's reload button calls) reads the folder again too.
    build(&folder, "partialagent");
    manager.reload(&id).unwrap();
    assert_eq!(
        biography(&manager, &id).as_deref(),
        Some("Partial agent biography for Nina")
    );
    assert_eq!(manager.status(&id).unwrap().sha256, {
        let package = manager.package(&id).unwrap();
        package.sha256_hex()
    });

    // Removing forgets the link and leaves the folder alone.
    manager.remove(&id).unwrap();
    assert!(folder.join("plugin.wasm").is_file());
    assert!(matches!(
        manager.status(&id),
        Err(ManagerError::NotFound(_))
    ));
}

#[test]
fn a_new_build_of_an_enabled_plugin_loads_at_startup_and_a_broken_one_is_disabled() {
    let env = Env::new();
    let folder = dev_folder(&env, "agent-dev", "agent");
    {
        let manager = env.manager();
        manager.start().unwrap();
        manager.link_dev(&folder, None, None).unwrap();
        manager.enable("agent-dev").unwrap();
        manager.shutdown();
    }
    build(&folder, "partialagent");
    let manager = env.manager();
    let report = manager.start().unwrap();
    assert_eq!(report.changed, ["agent-dev"]);
    assert_eq!(
        biography(&manager, "agent-dev").as_deref(),
        Some("Partial agent biography for Nina")
    );

    // A build in progress (no module) is a broken package: disabled, with the reason.
    std::fs::remove_file(folder.join("plugin.wasm")).unwrap();
    let report = manager.refresh("agent-dev").unwrap();
    assert_eq!(report.broken.len(), 1, "{report:?}");
    let status = manager.status("agent-dev").unwrap();
    assert!(!status.enabled && !status.loaded);
    assert!(
        status.last_error.unwrap().contains("no wasm module found"),
        "the reason is stored"
    );
}

#[test]
fn an_id_is_either_a_package_or_a_development_folder() {
    let env = Env::new();
    env.put("agent", "agent");
    let folder = dev_folder(&env, "agent", "agent");
    let manager = env.manager();
    manager.start().unwrap();
    let err = manager.link_dev(&folder, None, None).unwrap_err();
    assert!(matches!(err, ManagerError::Conflict { .. }), "{err}");

    let id = manager.link_dev(&folder, Some("agent-dev"), None).unwrap();
    assert_eq!(id, "agent-dev");
    let package = env.dir.path().join("agent-dev.ndp");
    std::fs::write(&package, nd_testkit::fixture_ndp("agent")).unwrap();
    let err = manager.install(&package).unwrap_err();
    assert!(matches!(err, ManagerError::Conflict { .. }), "{err}");

    // A file of that id dropped into the plugins folder is skipped, the link kept.
    std::fs::copy(&package, env.plugins().join("agent-dev.ndp")).unwrap();
    let report = manager.sync().unwrap();
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    assert!(manager.status("agent-dev").unwrap().dev.is_some());

    // Relinking points the id at another folder; an explicit module wins.
    let other = dev_folder(&env, "elsewhere", "agent");
    let module = env.dir.path().join("built.wasm");
    std::fs::write(
        &module,
        nd_testkit::fixture_wasm("partialagent", nd_testkit::WASI),
    )
    .unwrap();
    manager
        .link_dev(&other, Some("agent-dev"), Some(&module))
        .unwrap();
    let status = manager.status("agent-dev").unwrap();
    let dev = status.dev.unwrap();
    assert_eq!(dev.folder, std::fs::canonicalize(&other).unwrap());
    assert_eq!(dev.wasm, Some(std::fs::canonicalize(&module).unwrap()));
    assert_eq!(
        manager.package("agent-dev").unwrap().wasm,
        nd_testkit::fixture_wasm("partialagent", nd_testkit::WASI)
    );

    for (folder, id) in [
        (env.dir.path().join("missing"), None),
        (folder.clone(), Some("bad/id")),
    ] {
        let err = manager.link_dev(&folder, id, None).unwrap_err();
        assert!(matches!(err, ManagerError::Dev { .. }), "{err}");
    }
    assert!(matches!(
        manager.refresh("nope"),
        Err(ManagerError::NotFound(_))
    ));
}

#[test]
fn config_problems_name_each_path_and_load_enabled_keeps_errors() {
    let env = Env::new();
    let mut m = manifest("configured", json!({}));
    m["config"] = json!({"schema": {
        "type": "object",
        "properties": {"retries": {"type": "integer", "minimum": 0}, "name": {"type": "string"}},
        "additionalProperties": false
    }});
    env.pack("configured", "agent", &m);
    env.pack(
        "needs-callback",
        "agent",
        &manifest("needs-callback", json!({"scheduler": {}})),
    );
    let manager = env.manager();
    manager.start().unwrap();
    let problems = manager
        .config_problems("configured", &json!({"retries": -1, "name": 3}))
        .unwrap();
    let mut paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/name", "/retries"]);
    assert!(
        manager
            .config_problems("configured", &json!({"retries": 1}))
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        manager.config_problems("configured", &json!([1])),
        Err(ManagerError::Config { .. })
    ));
    let err = manager
        .set_config("configured", json!({"retries": -1}))
        .unwrap_err();
    assert!(err.to_string().contains("/retries"), "{err}");

    manager.enable("needs-callback").unwrap_err();
    manager.enable("configured").unwrap();
    manager.shutdown();
    let report = manager.load_enabled().unwrap();
    assert_eq!(report, nd_manager::SyncReport::default());
    assert!(manager.plugin("configured").is_some());
    assert!(
        manager
            .status("needs-callback")
            .unwrap()
            .last_error
            .is_some(),
        "load_enabled keeps the stored errors"
    );
}

#[test]
fn a_second_manager_on_the_same_data_directory_is_refused_as_in_use() {
    let env = Env::new();
    let _first = env.manager();
    let err = env.builder().build().unwrap_err();
    match err {
        ManagerError::State(state) => assert!(state.in_use(), "{state}"),
        other => panic!("expected a state error, got {other}"),
    }
}
