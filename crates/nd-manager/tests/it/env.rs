//! A manager over a temporary data directory and plugins folder, filled with fixture
//! packages under chosen plugin ids.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::sync::Arc;

use nd_host_appdata::provider::{ProviderError, UserInfo, UserProvider};
use nd_manager::{AppData, Manager, ManagerBuilder};
use serde_json::Value;
use tempfile::TempDir;

pub struct Env {
    pub dir: TempDir,
}

impl Env {
    pub fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn plugins(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// A builder over this environment, sharing the test binary's runtime.
    pub fn builder(&self) -> ManagerBuilder {
        Manager::builder(self.data())
            .plugins_dir(self.plugins())
            .runtime(nd_testkit::runtime().clone())
            .unload_grace(Duration::from_secs(10))
    }

    pub fn manager(&self) -> Manager {
        self.builder().build().unwrap()
    }

    /// Copies the packaged fixture `fixture` into the plugins folder as `<id>.ndp`.
    pub fn put(&self, id: &str, fixture: &str) -> PathBuf {
        std::fs::create_dir_all(self.plugins()).unwrap();
        let path = self.plugins().join(format!("{id}.ndp"));
        std::fs::write(&path, nd_testkit::fixture_ndp(fixture)).unwrap();
        path
    }

    /// Writes `<id>.ndp` holding the wasm of `fixture` with this manifest.
    pub fn pack(&self, id: &str, fixture: &str, manifest: &Value) -> PathBuf {
        std::fs::create_dir_all(self.plugins()).unwrap();
        let wasm = nd_testkit::fixture_wasm(fixture, nd_testkit::WASI);
        let bytes = nd_manifest::pack(manifest.to_string().as_bytes(), &wasm).unwrap();
        let path = self.plugins().join(format!("{id}.ndp"));
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

/// Waits until `check` holds (polling), failing the test after 20 s.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A minimal manifest with these permissions.
pub fn manifest(name: &str, permissions: Value) -> Value {
    serde_json::json!({
        "name": name,
        "author": "ndp tests",
        "version": "1.0.0",
        "permissions": permissions,
    })
}

/// Users alice (u1) and bob (u2), the only app data.
struct TwoUsers;

impl UserProvider for TwoUsers {
    fn users(&self) -> Result<Vec<UserInfo>, ProviderError> {
        Ok(["alice", "bob"]
            .iter()
            .enumerate()
            .map(|(i, name)| UserInfo {
                id: format!("u{}", i + 1),
                user_name: (*name).to_owned(),
                name: name.to_uppercase(),
                is_admin: false,
            })
            .collect())
    }
}

pub fn users_only() -> AppData {
    AppData {
        users: Some(Arc::new(TwoUsers)),
        ..AppData::default()
    }
}
