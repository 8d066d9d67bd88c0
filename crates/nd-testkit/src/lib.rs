//! Test helpers shared by the integration tests of ndp's crates (a dev-dependency only, never
//! shipped): where the fixture plugins built by `cargo xtask build-plugins` live, one
//! [`Runtime`] per test binary, and shorthands for loading fixtures and calling them.
//!
//! Helpers panic instead of returning errors: a failing helper is a failing test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use nd_manifest::{Manifest, Permissions};
use nd_runtime::{CallErrorKind, Compiled, Plugin, PluginConfig, Runtime, RuntimeConfig};

/// The WASI target fixtures are built for.
pub const WASI: &str = "wasm32-wasip1";
/// The bare target fixtures are also built for.
pub const UNKNOWN: &str = "wasm32-unknown-unknown";
/// Both targets, for tests that run on each.
pub const TARGETS: [&str; 2] = [WASI, UNKNOWN];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Bytes of the fixture plugin `name` built for `target`.
pub fn fixture_wasm(name: &str, target: &str) -> Vec<u8> {
    read_fixture(&format!("{target}/{name}.wasm"))
}

/// Bytes of the hand-written fixture `fixtures/wat/<name>.wat`, compiled by xtask.
pub fn wat_fixture(name: &str) -> Vec<u8> {
    read_fixture(&format!("wat/{name}.wasm"))
}

/// Bytes of the packaged fixture `target/fixtures/<name>.ndp` (the wasip1 build).
pub fn fixture_ndp(name: &str) -> Vec<u8> {
    read_fixture(&format!("{name}.ndp"))
}

/// The `manifest.json` of fixture `name`, parsed.
pub fn fixture_manifest(name: &str) -> Manifest {
    let path = workspace_root().join(format!("fixtures/plugins/{name}/manifest.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Manifest::parse(&bytes)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
        .manifest
}

/// The permissions of fixture `name`'s manifest.
pub fn fixture_permissions(name: &str) -> Permissions {
    fixture_manifest(name).permissions
}

fn read_fixture(rel: &str) -> Vec<u8> {
    let path = workspace_root().join("target/fixtures").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "fixture {} missing ({e}); run `cargo xtask build-plugins`",
            path.display()
        )
    })
}

/// One runtime shared by the tests of a binary, without a disk cache.
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new(RuntimeConfig::default()).expect("runtime"))
}

/// Fixture `name` for `target`, compiled once per test binary.
pub fn compiled(name: &str, target: &str) -> Compiled {
    static CACHE: OnceLock<Mutex<HashMap<(String, String), Compiled>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (name.to_owned(), target.to_owned());
    if let Some(c) = cache.lock().unwrap().get(&key) {
        return c.clone();
    }
    let c = runtime()
        .compile(name, &fixture_wasm(name, target))
        .expect("compile fixture");
    cache.lock().unwrap().insert(key, c.clone());
    c
}

/// Loads fixture `name` (wasip1 build) with `config`.
pub fn load(name: &str, config: PluginConfig) -> Plugin {
    load_target(name, WASI, config)
}

/// Loads fixture `name` built for `target` with `config`.
pub fn load_target(name: &str, target: &str, config: PluginConfig) -> Plugin {
    runtime()
        .load(&compiled(name, target), config)
        .unwrap_or_else(|e| panic!("load fixture {name}: {e}"))
}

/// Calls `export` and returns its output; panics on failure.
pub fn ok(plugin: &Plugin, export: &str, input: &[u8]) -> Vec<u8> {
    plugin
        .call(export, input)
        .unwrap_or_else(|e| panic!("{export} failed: {e}"))
}

/// Calls `export` and returns its output as text; panics on failure.
pub fn ok_str(plugin: &Plugin, export: &str, input: &str) -> String {
    String::from_utf8(ok(plugin, export, input.as_bytes())).expect("utf-8 output")
}

/// Calls `export` expecting a failure, and returns its kind.
pub fn err(plugin: &Plugin, export: &str, input: &str) -> CallErrorKind {
    match plugin.call(export, input.as_bytes()) {
        Ok(out) => panic!(
            "{export} succeeded with {:?}",
            String::from_utf8_lossy(&out)
        ),
        Err(e) => e.into_kind(),
    }
}

/// Calls the fixture export `host`, which forwards `request` to the Navidrome host function
/// `function` over the real ABI and returns the raw response JSON, parsed.
pub fn host_call(plugin: &Plugin, function: &str, request: serde_json::Value) -> serde_json::Value {
    let input = serde_json::json!({ "fn": function, "req": request }).to_string();
    let out = ok_str(plugin, "host", &input);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{function}: {e}: {out}"))
}
pub mod bench;
pub mod http_server;
