//! The host side of an end-to-end test: a started [`Manager`] over a temporary data
//! directory and plugins folder, serving the `nd-library` demo catalog (users `admin`,
//! `alice`, `bob`) as app data, allowed to reach 127.0.0.1 (and nothing else local), with a
//! [`ManualClock`] so that schedules fire when the test advances time, not after sleeps.
//!
//! Example packages list real hosts in `requiredHosts`; [`Harness::install`] packs a copy
//! whose `http` and `websocket` lists also hold `"127.0.0.1"`, so that the plugins can be
//! pointed at the loopback fakes (Navidrome's `requiredHosts` check applies before the
//! address check that [`LocalAllowance`] relaxes).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nd_host_appdata::provider::Scope;
use nd_host_http::policy::LocalAllowance;
use nd_host_store::clock::ManualClock;
use nd_library::MusicLibrary;
use nd_library::demo::{DemoLibrary, write_demo_library};
use nd_manager::{AppData, LoadedPlugin, Manager};
use nd_manifest::{Package, PackageLimits};
use nd_runtime::Runtime;
use serde_json::Value;
use tempfile::TempDir;

/// The host name added to the example manifests' `requiredHosts` for the fakes.
pub const LOOPBACK: &str = "127.0.0.1";

/// How long [`eventually`] waits.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A manager with the demo catalog and a manual clock (see the module documentation).
#[derive(Debug)]
pub struct Harness {
    /// Everything lives in here: `data/`, `plugins/`, `music/`.
    pub dir: TempDir,
    /// The demo catalog on disk.
    pub demo: DemoLibrary,
    /// The library serving it (the manager's app data).
    pub library: Arc<MusicLibrary>,
    /// The clock of the scheduler, cache and KV store.
    pub clock: Arc<ManualClock>,
    /// The started manager.
    pub manager: Manager,
}

impl Harness {
    /// Writes the demo catalog and starts a manager over an empty plugins folder, on
    /// `runtime` (tests pass `nd_testkit::runtime()`, one per test binary).
    ///
    /// # Panics
    ///
    /// If any of that fails.
    pub fn new(runtime: &Runtime) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
        let demo = write_demo_library(&dir.path().join("music"))
            .unwrap_or_else(|e| panic!("demo library: {e}"));
        let library = Arc::new(
            MusicLibrary::open(demo.config()).unwrap_or_else(|e| panic!("demo library: {e}")),
        );
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).unwrap_or_else(|e| panic!("{}: {e}", plugins.display()));
        let clock = ManualClock::at_fixed_start();
        let manager = Manager::builder(dir.path().join("data"))
            .plugins_dir(&plugins)
            .runtime(runtime.clone())
            .app_data(AppData::from_all(Arc::clone(&library)))
            .local_allowance(
                LocalAllowance::parse(LOOPBACK)
                    .unwrap_or_else(|e| panic!("local allowance {LOOPBACK}: {e}")),
            )
            .clock(clock.clone())
            .unload_grace(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|e| panic!("manager: {e}"));
        manager
            .start()
            .unwrap_or_else(|e| panic!("manager start: {e}"));
        Harness {
            dir,
            demo,
            library,
            clock,
            manager,
        }
    }

    /// Installs the packaged example `name` (`target/examples/<name>.ndp`) as plugin `id`,
    /// with `"127.0.0.1"` added to its `http` and `websocket` `requiredHosts`, and lets the
    /// manager pick it up (disabled, as every new package). Returns the package path.
    ///
    /// # Panics
    ///
    /// If the package is missing (run `cargo xtask test-plugins`) or broken.
    pub fn install(&self, name: &str, id: &str) -> PathBuf {
        let source = crate::example_ndp(name);
        let bytes = std::fs::read(&source).unwrap_or_else(|e| {
            panic!(
                "example package {} missing ({e}); run `cargo xtask test-plugins`",
                source.display()
            )
        });
        let package = Package::from_bytes(name, &bytes, &PackageLimits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        let manifest: Value = serde_json::from_slice(&package.manifest_json)
            .unwrap_or_else(|e| panic!("{}: manifest.json: {e}", source.display()));
        let packed = nd_manifest::pack(
            with_loopback_hosts(&manifest).to_string().as_bytes(),
            &package.wasm,
        )
        .unwrap_or_else(|e| panic!("pack {id}: {e}"));
        let path = self.dir.path().join("plugins").join(format!("{id}.ndp"));
        std::fs::write(&path, packed).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let report = self
            .manager
            .sync()
            .unwrap_or_else(|e| panic!("sync after installing {id}: {e}"));
        assert!(
            report.broken.is_empty(),
            "{id}: broken package: {:?}",
            report.broken
        );
        path
    }

    /// [`Harness::install`], then configure with `config`, allow every user and library,
    /// and enable (which runs `nd_on_init`). Returns the loaded plugin.
    ///
    /// # Panics
    ///
    /// If any step fails.
    pub fn enable(&self, name: &str, id: &str, config: Value) -> Arc<LoadedPlugin> {
        self.install(name, id);
        self.manager
            .set_config(id, config)
            .unwrap_or_else(|e| panic!("configure {id}: {e}"));
        self.manager
            .set_scope(id, Scope::everything())
            .unwrap_or_else(|e| panic!("scope {id}: {e}"));
        self.manager
            .enable(id)
            .unwrap_or_else(|e| panic!("enable {id}: {e}"));
        self.plugin(id)
    }

    /// The loaded plugin `id`.
    ///
    /// # Panics
    ///
    /// If it is not loaded.
    pub fn plugin(&self, id: &str) -> Arc<LoadedPlugin> {
        self.manager
            .plugin(id)
            .unwrap_or_else(|| panic!("plugin {id} is not loaded"))
    }

    /// Advances the manual clock by `secs` seconds.
    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }
}

/// A copy of `manifest` with [`LOOPBACK`] added to the `requiredHosts` of its `http` and
/// `websocket` permissions (those it has; a list holding `"*"` already matches it).
pub fn with_loopback_hosts(manifest: &Value) -> Value {
    let mut manifest = manifest.clone();
    for key in ["http", "websocket"] {
        if let Some(hosts) = manifest
            .pointer_mut(&format!("/permissions/{key}/requiredHosts"))
            .and_then(Value::as_array_mut)
            && !hosts.iter().any(|h| h == LOOPBACK || h == "*")
        {
            hosts.push(Value::from(LOOPBACK));
        }
    }
    manifest
}

/// Waits until `check` holds, polling every 20 ms, and fails the test after [`DEADLINE`].
///
/// # Panics
///
/// After the deadline, naming `what`.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
