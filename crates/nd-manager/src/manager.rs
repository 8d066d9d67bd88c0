//! [`Manager`]: the plugins folder, the state database and the loaded plugins, kept in step
//! with Navidrome's rules (spec §6.1).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use nd_capabilities::{Capability, ExportCaller, PluginCapabilities};
use nd_host_appdata::provider::{Scope, UserInfo};
use nd_host_http::policy::LocalAllowance;
use nd_host_store::clock::{Clock, system_clock};
use nd_manifest::{
    Diagnostic, Manifest, Package, PackageLimits, ValidationErrors, flatten_config,
    plugin_id_from_file_name,
};
use nd_runtime::{LogLevel, Plugin, PluginConfig, Runtime, RuntimeConfig};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde_json::Value;

use crate::factory::{AppData, LoadContext, ServiceFactory, ServiceRegistry};
use crate::metrics::{Gate, MeteredPlugin, Metrics};
use crate::state::{DevLink, PluginRecord, StateDb, StateError, now};
use crate::watch::Watcher;

/// Navidrome loads at most this many plugins at once (spec §6.3).
pub const DEFAULT_PARALLEL_LOADS: usize = 3;

/// An error of a manager operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// No plugin with this id is known.
    #[error("no plugin with id '{0}'")]
    NotFound(String),
    /// The state database failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A file or directory could not be used.
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    /// The runtime could not be started.
    #[error("{0}")]
    Runtime(String),
    /// The plugin failed to load; the same text is stored as its last error.
    #[error("plugin '{id}' failed to load: {message}")]
    Load { id: String, message: String },
    /// A configuration value does not satisfy the manifest's `config.schema`.
    #[error("plugin '{id}': invalid configuration: {message}")]
    Config { id: String, message: String },
    /// Enabling needs a users or libraries scope the administrator has not set (§5.4 rule 6).
    #[error("plugin '{id}': {message}")]
    Scope { id: String, message: String },
    /// A package file cannot be installed.
    #[error("{0}")]
    Install(String),
    /// A development folder cannot be linked or read (see [`Manager::link_dev`]).
    #[error("development folder {folder}: {message}")]
    Dev { folder: PathBuf, message: String },
    /// The plugin id is taken by a plugin of the other kind: a `.ndp` package where a
    /// development folder is being linked, or the reverse.
    #[error("plugin '{id}': {message}")]
    Conflict { id: String, message: String },
}

/// What a [`Manager::sync`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// New packages, recorded disabled.
    pub added: Vec<String>,
    /// Packages whose SHA-256 changed: unloaded and disabled.
    pub changed: Vec<String>,
    /// Packages that disappeared: unloaded and forgotten.
    pub removed: Vec<String>,
    /// Packages whose manifest or archive is broken, with the reason (new ones are not
    /// recorded; known ones are disabled with the reason as last error).
    pub broken: Vec<(String, String)>,
    /// Files skipped because their name is not a valid plugin id.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Everything known about one plugin, for listings and admin interfaces.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginStatus {
    /// The plugin id.
    pub id: String,
    /// Manifest `name` (display only).
    pub name: String,
    /// Manifest `version`.
    pub version: String,
    /// Manifest `author`.
    pub author: String,
    /// Manifest `description`.
    pub description: Option<String>,
    /// The package file (the folder, for a development folder).
    pub path: PathBuf,
    /// Whether the administrator enabled it.
    pub enabled: bool,
    /// Whether it is loaded right now.
    pub loaded: bool,
    /// Why it last failed to load.
    pub last_error: Option<String>,
    /// Capabilities detected from the exports (only known while loaded).
    pub capabilities: Vec<String>,
    /// Requested permission keys.
    pub permissions: Vec<String>,
    /// The stored configuration.
    pub config: Option<Value>,
    /// The users and libraries scope.
    pub scope: Scope,
    /// SHA-256 of the package, hex.
    pub sha256: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// The raw manifest.
    pub manifest: Value,
    /// The development folder, when the plugin is linked from one instead of installed.
    pub dev: Option<DevLink>,
}

/// A loaded plugin: the runtime plugin, its typed capabilities, and where it came from.
pub struct LoadedPlugin {
    id: String,
    plugin: Plugin,
    caller: Arc<MeteredPlugin>,
    capabilities: PluginCapabilities,
    manifest: Manifest,
    scope: Scope,
    gate: Arc<Gate>,
}

impl fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.id)
            .field("capabilities", &self.capabilities.detected())
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// The plugin id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The typed capability adapters (calls through them are metered).
    pub fn capabilities(&self) -> &PluginCapabilities {
        &self.capabilities
    }

    /// Whether the plugin has this capability.
    pub fn has(&self, capability: Capability) -> bool {
        self.capabilities.detected().contains(capability)
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The scope it was loaded with.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Calls an export with raw bytes, metered like the typed calls.
    pub fn call(&self, export: &str, input: &[u8]) -> Result<Vec<u8>, nd_runtime::CallError> {
        self.caller.call(export, input)
    }

    /// Calls made through the manager that are running now.
    pub fn calls_in_flight(&self) -> usize {
        self.gate.running()
    }

    /// The runtime plugin, for calls that bypass metrics.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }
}

/// Builds a [`Manager`].
pub struct ManagerBuilder {
    data_dir: PathBuf,
    plugins_dir: Option<PathBuf>,
    cache_dir: Option<Option<PathBuf>>,
    runtime: Option<Runtime>,
    app: AppData,
    changes: Vec<Change>,
    local: LocalAllowance,
    auto_reload: bool,
    parallel_loads: usize,
    call_timeout: Duration,
    unload_grace: Duration,
    debounce: Duration,
    clock: Arc<dyn Clock>,
    log_level: LogLevel,
    max_memory_bytes: Option<u64>,
}

enum Change {
    Insert(Arc<dyn ServiceFactory>),
    Remove(String),
}

impl fmt::Debug for ManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerBuilder")
            .field("data_dir", &self.data_dir)
            .field("plugins_dir", &self.plugins_dir)
            .field("app", &self.app)
            .field("auto_reload", &self.auto_reload)
            .finish_non_exhaustive()
    }
}

impl ManagerBuilder {
    /// A manager keeping its state, plugin data and (by default) plugins under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ManagerBuilder {
            data_dir: data_dir.into(),
            plugins_dir: None,
            cache_dir: None,
            runtime: None,
            app: AppData::default(),
            changes: Vec::new(),
            local: LocalAllowance::default(),
            auto_reload: false,
            parallel_loads: DEFAULT_PARALLEL_LOADS,
            call_timeout: Duration::from_secs(30),
            unload_grace: Duration::from_secs(5),
            debounce: Duration::from_secs(2),
            clock: system_clock(),
            log_level: LogLevel::Info,
            max_memory_bytes: None,
        }
    }

    /// The plugins folder (default `<data>/plugins`, created 0700).
    pub fn plugins_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugins_dir = Some(dir.into());
        self
    }

    /// The compilation cache directory; `None` disables it (default `<data>/cache`).
    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.cache_dir = Some(dir);
        self
    }

    /// Shares an existing runtime instead of starting one (`cache_dir` is then ignored).
    pub fn runtime(mut self, runtime: Runtime) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// The application's data, which enables the app-data services it provides.
    pub fn app_data(mut self, app: AppData) -> Self {
        self.app = app;
        self
    }

    /// Adds a service factory, replacing any with the same key.
    pub fn service(mut self, factory: Arc<dyn ServiceFactory>) -> Self {
        self.changes.push(Change::Insert(factory));
        self
    }

    /// Leaves a service out: plugins granted its permission then fail to load.
    pub fn without_service(mut self, key: &str) -> Self {
        self.changes.push(Change::Remove(key.to_owned()));
        self
    }

    /// Local network addresses plugins may reach (none by default).
    pub fn local_allowance(mut self, local: LocalAllowance) -> Self {
        self.local = local;
        self
    }

    /// Watch the plugins folder and sync changed files (Navidrome's `AutoReload`).
    pub fn auto_reload(mut self, on: bool) -> Self {
        self.auto_reload = on;
        self
    }

    /// How long AutoReload waits after the last event of a file (default 2 s).
    pub fn reload_debounce(mut self, debounce: Duration) -> Self {
        self.debounce = debounce;
        self
    }

    /// Plugins loaded at once at startup (default 3; at least 1).
    pub fn parallel_loads(mut self, n: usize) -> Self {
        self.parallel_loads = n.max(1);
        self
    }

    /// The wall-clock limit of every call (default 30 s).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// How long unloading waits for calls in flight (default 5 s, Navidrome's grace).
    pub fn unload_grace(mut self, grace: Duration) -> Self {
        self.unload_grace = grace;
        self
    }

    /// The clock of the state services (tests pass a manual one).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The guest log level.
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = level;
        self
    }

    /// The cap of each plugin's wasm memory, in bytes (default: nd-runtime's, 256 MiB).
    pub fn max_memory_bytes(mut self, bytes: u64) -> Self {
        self.max_memory_bytes = Some(bytes);
        self
    }

    /// Opens the state database and creates the folders. Loads nothing: call
    /// [`Manager::start`].
    ///
    /// # Errors
    ///
    /// The folders cannot be created, the database cannot be opened, or the runtime does
    /// not start.
    pub fn build(self) -> Result<Manager, ManagerError> {
        let plugins_dir = self
            .plugins_dir
            .unwrap_or_else(|| self.data_dir.join("plugins"));
        for dir in [&self.data_dir, &plugins_dir] {
            nd_host_store::db::create_private_dir(dir).map_err(|e| ManagerError::Io {
                path: dir.clone(),
                message: e.to_string(),
            })?;
        }
        let runtime = match self.runtime {
            Some(runtime) => runtime,
            None => {
                let cache_dir = self
                    .cache_dir
                    .unwrap_or_else(|| Some(self.data_dir.join("cache")));
                Runtime::new(RuntimeConfig {
                    cache_dir,
                    ..RuntimeConfig::default()
                })
                .map_err(|e| ManagerError::Runtime(e.to_string()))?
            }
        };
        let mut registry = ServiceRegistry::with_defaults(&self.app);
        for change in self.changes {
            match change {
                Change::Insert(f) => registry.insert(f),
                Change::Remove(key) => registry.remove(&key),
            }
        }
        let state = StateDb::open(&self.data_dir.join("plugins.redb"))?;
        Ok(Manager {
            inner: Arc::new(Inner {
                data_dir: self.data_dir,
                plugins_dir,
                runtime,
                registry,
                state,
                app: self.app,
                local: self.local,
                clock: self.clock,
                loaded: RwLock::new(BTreeMap::new()),
                metrics: Arc::new(Metrics::default()),
                ops: Mutex::new(()),
                watcher: Mutex::new(None),
                auto_reload: self.auto_reload,
                debounce: self.debounce,
                parallel_loads: self.parallel_loads,
                call_timeout: self.call_timeout,
                unload_grace: self.unload_grace,
                log_level: self.log_level,
                max_memory_bytes: self.max_memory_bytes,
            }),
        })
    }
}

/// The plugin manager. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("data_dir", &self.inner.data_dir)
            .field("plugins_dir", &self.inner.plugins_dir)
            .field("services", &self.inner.registry)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    data_dir: PathBuf,
    plugins_dir: PathBuf,
    runtime: Runtime,
    registry: ServiceRegistry,
    state: StateDb,
    app: AppData,
    local: LocalAllowance,
    clock: Arc<dyn Clock>,
    loaded: RwLock<BTreeMap<String, Arc<LoadedPlugin>>>,
    metrics: Arc<Metrics>,
    /// Serializes every operation that changes state or the set of loaded plugins.
    ops: Mutex<()>,
    watcher: Mutex<Option<Watcher>>,
    auto_reload: bool,
    debounce: Duration,
    parallel_loads: usize,
    call_timeout: Duration,
    unload_grace: Duration,
    log_level: LogLevel,
    max_memory_bytes: Option<u64>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.watcher.get_mut().take();
        let loaded = std::mem::take(self.loaded.get_mut());
        for plugin in loaded.into_values() {
            plugin.gate.close(self.unload_grace);
            plugin.plugin.shutdown();
        }
    }
}

impl Manager {
    /// A builder for a manager storing under `data_dir`.
    pub fn builder(data_dir: impl Into<PathBuf>) -> ManagerBuilder {
        ManagerBuilder::new(data_dir)
    }

    /// Startup, as Navidrome does it: clear every last error, sync the folder, load the
    /// enabled plugins (a few in parallel), then start the watcher if AutoReload is on.
    /// Plugins that fail to load are disabled with their error stored; that is not an
    /// error of `start`.
    ///
    /// # Errors
    ///
    /// The state database or the plugins folder cannot be used.
    pub fn start(&self) -> Result<SyncReport, ManagerError> {
        let report = {
            let _ops = self.inner.ops.lock();
            self.inner.state.clear_errors()?;
            self.inner.sync_and_load_locked()?
        };
        if self.inner.auto_reload {
            let watcher = Watcher::start(
                &self.inner.plugins_dir,
                self.inner.debounce,
                Arc::downgrade(&self.inner),
            )
            .map_err(|message| ManagerError::Io {
                path: self.inner.plugins_dir.clone(),
                message,
            })?;
            *self.inner.watcher.lock() = Some(watcher);
        }
        Ok(report)
    }

    /// What [`Manager::start`] does, less clearing the stored last errors and starting the
    /// watcher: syncs the folder, then loads the enabled plugins that are not loaded yet.
    /// For a program that shows the state of a data directory without changing what
    /// startup would clear (such as `ndp list --load`).
    ///
    /// # Errors
    ///
    /// The state database or the plugins folder cannot be used.
    pub fn load_enabled(&self) -> Result<SyncReport, ManagerError> {
        let _ops = self.inner.ops.lock();
        self.inner.sync_and_load_locked()
    }

    /// Brings the state database in line with the plugins folder (spec §6.1): new files are
    /// recorded disabled, changed files are unloaded and disabled, vanished files are
    /// unloaded and forgotten.
    ///
    /// # Errors
    ///
    /// The state database or the plugins folder cannot be used.
    pub fn sync(&self) -> Result<SyncReport, ManagerError> {
        let _ops = self.inner.ops.lock();
        self.inner.sync_locked()
    }

    /// The plugins folder.
    pub fn plugins_dir(&self) -> &Path {
        &self.inner.plugins_dir
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The runtime plugins run on.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The keys of the registered service factories.
    pub fn service_keys(&self) -> Vec<String> {
        self.inner.registry.keys().map(str::to_owned).collect()
    }

    /// The application data the manager was built with.
    pub fn app_data(&self) -> &AppData {
        &self.inner.app
    }

    /// Every known plugin, ordered by id.
    ///
    /// # Errors
    ///
    /// The state database cannot be read.
    pub fn list(&self) -> Result<Vec<PluginStatus>, ManagerError> {
        let records = self.inner.state.all()?;
        Ok(records.iter().map(|r| self.inner.status(r)).collect())
    }

    /// One plugin's status.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`], or the state database cannot be read.
    pub fn status(&self, id: &str) -> Result<PluginStatus, ManagerError> {
        let record = self.inner.record(id)?;
        Ok(self.inner.status(&record))
    }

    /// Copies a `.ndp` file into the plugins folder (under its own file name, which is the
    /// plugin id) and syncs it: a new plugin is recorded disabled; replacing an existing one
    /// unloads and disables it, as any change does. Returns the plugin id.
    ///
    /// # Errors
    ///
    /// The file name is not a valid plugin id, the package is unreadable or broken (it is
    /// then not copied), or the copy fails.
    pub fn install(&self, package: &Path) -> Result<String, ManagerError> {
        let name = package
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| ManagerError::Install(format!("{}: not a file", package.display())))?;
        let id =
            plugin_id_from_file_name(name).map_err(|e| ManagerError::Install(e.to_string()))?;
        let bytes = std::fs::read(package).map_err(|e| ManagerError::Io {
            path: package.to_owned(),
            message: e.to_string(),
        })?;
        Package::from_bytes(&id, &bytes, &PackageLimits::default())
            .map_err(|e| ManagerError::Install(format!("{}: {e}", package.display())))?;
        let _ops = self.inner.ops.lock();
        if let Some(record) = self.inner.state.get(&id)?
            && let Some(dev) = &record.dev
        {
            return Err(ManagerError::Conflict {
                id,
                message: format!(
                    "the id is linked to the development folder {}; remove the link first",
                    dev.folder.display()
                ),
            });
        }
        let dest = self.inner.plugins_dir.join(name);
        let tmp = self.inner.plugins_dir.join(format!(".{name}.tmp"));
        let io = |path: &Path, e: std::io::Error| ManagerError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        };
        std::fs::write(&tmp, &bytes).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &dest).map_err(|e| io(&dest, e))?;
        self.inner
            .sync_one_locked(&id, &mut SyncReport::default())?;
        Ok(id)
    }

    /// Unloads a plugin, deletes its package and forgets its state. Its data directory
    /// (`<data>/plugins/<id>`) is kept, as Navidrome keeps it. For a development folder only
    /// the link is forgotten: the folder is left alone.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`], or the file cannot be deleted.
    pub fn remove(&self, id: &str) -> Result<(), ManagerError> {
        let _ops = self.inner.ops.lock();
        let record = self.inner.record(id)?;
        self.inner.unload(id);
        if record.dev.is_some() {
            self.inner.state.remove(id)?;
            return Ok(());
        }
        match std::fs::remove_file(&record.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ManagerError::Io {
                    path: record.path,
                    message: e.to_string(),
                });
            }
        }
        self.inner.state.remove(id)?;
        Ok(())
    }

    /// Enables and loads a plugin. A plugin that fails to load stays disabled, with the
    /// error stored as its last error and returned.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`], [`ManagerError::Scope`] when the manifest asks for users
    /// or libraries and the scope allows none, [`ManagerError::Load`].
    pub fn enable(&self, id: &str) -> Result<(), ManagerError> {
        let _ops = self.inner.ops.lock();
        self.inner.load_now(id)
    }

    /// Unloads and disables a plugin.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`], or the state cannot be written.
    pub fn disable(&self, id: &str) -> Result<(), ManagerError> {
        let _ops = self.inner.ops.lock();
        self.inner.record(id)?;
        self.inner.unload(id);
        self.inner.state.update(id, |r| r.enabled = false)?;
        Ok(())
    }

    /// Unloads and loads an enabled plugin again (so `nd_on_init` runs again). A plugin
    /// linked from a development folder is read again first ([`Manager::refresh`]), so a
    /// reload picks up a new build.
    ///
    /// # Errors
    ///
    /// As [`Manager::enable`]; nothing happens for a disabled plugin. For a development
    /// folder that cannot be read, [`ManagerError::Load`] with the reason (the plugin is
    /// then disabled).
    pub fn reload(&self, id: &str) -> Result<(), ManagerError> {
        let record = self.inner.record(id)?;
        if record.dev.is_some() {
            let report = self.refresh(id)?;
            if let Some((_, message)) = report.broken.into_iter().find(|(b, _)| b == id) {
                return Err(ManagerError::Load {
                    id: id.to_owned(),
                    message,
                });
            }
            if report.changed.iter().any(|c| c == id) {
                // The refresh loaded the new build if the plugin is enabled.
                return Ok(());
            }
        }
        let record = self.inner.record(id)?;
        if record.enabled {
            self.enable(id)
        } else {
            Ok(())
        }
    }

    /// The stored configuration (a JSON object) of a plugin.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`].
    pub fn config(&self, id: &str) -> Result<Option<Value>, ManagerError> {
        Ok(self.inner.record(id)?.config)
    }

    /// Validates `config` against the manifest's `config.schema`, stores it, and reloads
    /// the plugin if it is enabled. Values reach the plugin flattened (spec §5.5).
    ///
    /// # Errors
    ///
    /// [`ManagerError::Config`] when the value is not an object or violates the schema
    /// (nothing is stored), or a reload failure.
    pub fn set_config(&self, id: &str, config: Value) -> Result<(), ManagerError> {
        {
            let _ops = self.inner.ops.lock();
            let record = self.inner.record(id)?;
            let problems = config_problems(&record, &config)?;
            if !problems.is_empty() {
                return Err(ManagerError::Config {
                    id: id.to_owned(),
                    message: nd_manifest::Error::ConfigInvalid(ValidationErrors(problems))
                        .to_string(),
                });
            }
            self.inner.state.update(id, |r| r.config = Some(config))?;
        }
        self.reload(id)
    }

    /// Sets the users and libraries a plugin may see, and reloads it if it is enabled. A
    /// scope that no longer satisfies the manifest (users or library permission with
    /// nothing allowed) disables the plugin, as Navidrome does.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`], or a reload failure.
    pub fn set_scope(&self, id: &str, scope: Scope) -> Result<(), ManagerError> {
        {
            let _ops = self.inner.ops.lock();
            let record = self
                .inner
                .state
                .update(id, |r| r.scope = scope)?
                .ok_or_else(|| ManagerError::NotFound(id.to_owned()))?;
            if record.enabled && self.inner.check_scope(&record).is_err() {
                self.inner.unload(id);
                self.inner.state.update(id, |r| r.enabled = false)?;
                return Ok(());
            }
        }
        self.reload(id)
    }

    /// Checks a configuration value against the plugin's `config.schema` without storing
    /// it: every violation with its JSON path inside `config` (empty when it is valid, or
    /// when the manifest has no schema). [`Manager::set_config`] refuses exactly these.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`]; [`ManagerError::Config`] when `config` is not an object
    /// or the stored manifest is unreadable.
    pub fn config_problems(
        &self,
        id: &str,
        config: &Value,
    ) -> Result<Vec<Diagnostic>, ManagerError> {
        let record = self.inner.record(id)?;
        config_problems(&record, config)
    }

    /// The package of a plugin as it is now on disk: its `.ndp` file, or the development
    /// folder packed (see [`Manager::link_dev`]). It may differ from what is loaded, until
    /// the next sync or [`Manager::refresh`].
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`]; [`ManagerError::Install`] when the package cannot be read
    /// or is broken.
    pub fn package(&self, id: &str) -> Result<Package, ManagerError> {
        let record = self.inner.record(id)?;
        read_package(&record)
            .map(|(package, _)| package)
            .map_err(ManagerError::Install)
    }

    /// Links a development folder as plugin `id` (default: the folder's name): the manager
    /// reads `manifest.json` from the folder and the module found by [`dev_wasm`](crate::dev_wasm)
    /// (or `wasm`, when given), packs them, and treats the result as the plugin's package.
    /// A new link is recorded disabled, like a new file; linking the same id again points it
    /// at this folder and refreshes it ([`Manager::refresh`]). Returns the plugin id.
    ///
    /// # Errors
    ///
    /// [`ManagerError::Dev`] when the folder, its manifest or its module cannot be read or
    /// packed, or the id is invalid; [`ManagerError::Conflict`] when the id is an installed
    /// package (or a `.ndp` file of that name is in the plugins folder).
    pub fn link_dev(
        &self,
        folder: &Path,
        id: Option<&str>,
        wasm: Option<&Path>,
    ) -> Result<String, ManagerError> {
        let dev_err = |message: String| ManagerError::Dev {
            folder: folder.to_owned(),
            message,
        };
        let folder = std::fs::canonicalize(folder).map_err(|e| dev_err(e.to_string()))?;
        if !folder.is_dir() {
            return Err(dev_err("not a directory".to_owned()));
        }
        let id = match id {
            Some(id) => id.to_owned(),
            None => folder
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
                .ok_or_else(|| {
                    dev_err("the folder name is not valid UTF-8: pass an id".to_owned())
                })?,
        };
        nd_manifest::validate_plugin_id(&id).map_err(|e| dev_err(e.to_string()))?;
        let wasm = wasm
            .map(|w| std::fs::canonicalize(w).map_err(|e| dev_err(format!("{}: {e}", w.display()))))
            .transpose()?;
        let link = DevLink {
            folder: folder.clone(),
            wasm,
        };
        let bytes = crate::dev::pack_folder(&id, &link).map_err(|m| ManagerError::Dev {
            folder: folder.clone(),
            message: m,
        })?;
        let package = Package::from_bytes(&id, &bytes, &PackageLimits::default()).map_err(|e| {
            ManagerError::Dev {
                folder: folder.clone(),
                message: e.to_string(),
            }
        })?;
        let _ops = self.inner.ops.lock();
        let file = self.inner.plugins_dir.join(format!("{id}.ndp"));
        match self.inner.state.get(&id)? {
            Some(record) if record.dev.is_none() => {
                return Err(ManagerError::Conflict {
                    id,
                    message: format!(
                        "an installed package ({}) has this id; remove it first, or link the                          folder under another id",
                        record.path.display()
                    ),
                });
            }
            Some(_) => {
                self.inner.state.update(&id, |r| {
                    r.dev = Some(link);
                    r.path = folder;
                })?;
                self.inner
                    .sync_one_locked(&id, &mut SyncReport::default())?;
            }
            None if file.exists() => {
                return Err(ManagerError::Conflict {
                    id,
                    message: format!(
                        "the package {} has this id; remove it first, or link the folder                          under another id",
                        file.display()
                    ),
                });
            }
            None => {
                let manifest: Value =
                    serde_json::from_slice(&package.manifest_json).unwrap_or(Value::Null);
                self.inner.state.put(&PluginRecord {
                    id: id.clone(),
                    path: folder,
                    manifest,
                    sha256: package.sha256_hex(),
                    created_at: now(),
                    dev: Some(link),
                    ..PluginRecord::default()
                })?;
            }
        }
        Ok(id)
    }

    /// Reads one plugin again. For a development folder: a new build replaces the recorded
    /// one and, when the plugin is enabled, is loaded right away (the development loop:
    /// build, refresh, call). For a `.ndp` file the sync rules apply (spec §6.1): a changed
    /// file is unloaded and disabled, a vanished one forgotten, a new one recorded disabled.
    ///
    /// # Errors
    ///
    /// [`ManagerError::NotFound`] when the id is neither recorded nor a file in the plugins
    /// folder; [`ManagerError::Load`] (or [`ManagerError::Scope`]) when an enabled
    /// development plugin's new build fails to load: it is then disabled with the error
    /// stored, as [`Manager::enable`] does.
    pub fn refresh(&self, id: &str) -> Result<SyncReport, ManagerError> {
        let _ops = self.inner.ops.lock();
        let before = self.inner.state.get(id)?;
        let file = self.inner.plugins_dir.join(format!("{id}.ndp"));
        if before.is_none() && !file.exists() {
            return Err(ManagerError::NotFound(id.to_owned()));
        }
        let mut report = SyncReport::default();
        self.inner.sync_one_locked(id, &mut report)?;
        let Some(before) = before else {
            return Ok(report);
        };
        if before.dev.is_some() && report.changed.iter().any(|c| c == id) {
            let after = self.inner.record(id)?;
            if after.enabled && !self.inner.loaded.read().contains_key(id) {
                self.inner.load_now(id)?;
            } else if !after.enabled && before.enabled {
                // The reload inside the sync failed and disabled it.
                return Err(ManagerError::Load {
                    id: id.to_owned(),
                    message: after.last_error.unwrap_or_default(),
                });
            }
        }
        Ok(report)
    }

    /// A loaded plugin.
    pub fn plugin(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        self.inner.loaded.read().get(id).cloned()
    }

    /// Every loaded plugin, ordered by id.
    pub fn loaded(&self) -> Vec<Arc<LoadedPlugin>> {
        self.inner.loaded.read().values().cloned().collect()
    }

    /// The loaded plugins with a capability, ordered by id.
    pub fn with_capability(&self, capability: Capability) -> Vec<Arc<LoadedPlugin>> {
        self.loaded()
            .into_iter()
            .filter(|p| p.has(capability))
            .collect()
    }

    /// The scrobbler plugins that may receive this user's events (spec §6.7: scrobblers
    /// only see the users their scope allows).
    pub fn scrobblers_for(&self, user: &UserInfo) -> Vec<Arc<LoadedPlugin>> {
        self.with_capability(Capability::Scrobbler)
            .into_iter()
            .filter(|p| p.scope.allows_user(&user.id))
            .collect()
    }

    /// The call metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Stops the watcher, then unloads every plugin, letting calls in flight finish (up to
    /// the unload grace) and running every service's closer. The state is kept; a later
    /// [`Manager::start`] loads the enabled plugins again.
    pub fn shutdown(&self) {
        self.inner.watcher.lock().take();
        let _ops = self.inner.ops.lock();
        let ids: Vec<String> = self.inner.loaded.read().keys().cloned().collect();
        for id in ids {
            self.inner.unload(&id);
        }
    }
}

impl Inner {
    fn record(&self, id: &str) -> Result<PluginRecord, ManagerError> {
        self.state
            .get(id)?
            .ok_or_else(|| ManagerError::NotFound(id.to_owned()))
    }

    fn status(&self, record: &PluginRecord) -> PluginStatus {
        let text = |key: &str| {
            record
                .manifest
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let loaded = self.loaded.read().get(&record.id).cloned();
        let permissions = Manifest::from_value(&record.manifest)
            .map(|p| {
                p.manifest
                    .permissions
                    .iter()
                    .map(|s| s.key.to_owned())
                    .collect()
            })
            .unwrap_or_default();
        PluginStatus {
            id: record.id.clone(),
            name: text("name"),
            version: text("version"),
            author: text("author"),
            description: record
                .manifest
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            path: record.path.clone(),
            enabled: record.enabled,
            loaded: loaded.is_some(),
            last_error: record.last_error.clone(),
            capabilities: loaded
                .map(|l| {
                    l.capabilities
                        .detected()
                        .names()
                        .into_iter()
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            permissions,
            config: record.config.clone(),
            scope: record.scope.clone(),
            sha256: record.sha256.clone(),
            created_at: record.created_at,
            updated_at: record.updated_at,
            manifest: record.manifest.clone(),
            dev: record.dev.clone(),
        }
    }

    /// Enables and loads one plugin, under the ops lock: the body of [`Manager::enable`].
    fn load_now(&self, id: &str) -> Result<(), ManagerError> {
        let record = self.record(id)?;
        self.check_scope(&record)?;
        self.unload(id);
        match self.load(&record) {
            Ok(loaded) => {
                self.loaded.write().insert(id.to_owned(), loaded);
                self.state.update(id, |r| {
                    r.enabled = true;
                    r.last_error = None;
                })?;
                Ok(())
            }
            Err(message) => {
                self.state.update(id, |r| {
                    r.enabled = false;
                    r.last_error = Some(message.clone());
                })?;
                Err(ManagerError::Load {
                    id: id.to_owned(),
                    message,
                })
            }
        }
    }

    /// Syncs the folder, then loads the enabled plugins that are not loaded.
    fn sync_and_load_locked(&self) -> Result<SyncReport, ManagerError> {
        let report = self.sync_locked()?;
        let enabled: Vec<PluginRecord> = self
            .state
            .all()?
            .into_iter()
            .filter(|r| r.enabled && !self.loaded.read().contains_key(&r.id))
            .collect();
        self.load_many(enabled);
        Ok(report)
    }

    /// §5.4 rule 6: a manifest with `users` needs some user allowed, one with `library`
    /// some library.
    fn check_scope(&self, record: &PluginRecord) -> Result<(), ManagerError> {
        let perms = record.manifest.get("permissions");
        let asks = |key: &str| perms.and_then(|p| p.get(key)).is_some();
        let err = |message: &str| ManagerError::Scope {
            id: record.id.clone(),
            message: message.to_owned(),
        };
        if asks("users") && !record.scope.has_user_scope() {
            return Err(err(
                "the plugin needs the users permission: allow all users or select at least one \
                 before enabling it",
            ));
        }
        if asks("library") && !record.scope.has_library_scope() {
            return Err(err(
                "the plugin needs the library permission: allow all libraries or select at \
                 least one before enabling it",
            ));
        }
        Ok(())
    }

    fn sync_locked(&self) -> Result<SyncReport, ManagerError> {
        let mut report = SyncReport::default();
        let mut on_disk = BTreeMap::new();
        let entries = std::fs::read_dir(&self.plugins_dir).map_err(|e| ManagerError::Io {
            path: self.plugins_dir.clone(),
            message: e.to_string(),
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            // Regular files directly in the folder only (symlinks to files count as files).
            if !path.is_file() {
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !name.ends_with(".ndp") {
                continue;
            }
            match plugin_id_from_file_name(name) {
                Ok(id) => {
                    on_disk.insert(id, path);
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "skipping plugin file");
                    report.skipped.push((path, e.to_string()));
                }
            }
        }
        let records = self.state.all()?;
        for record in &records {
            if let (Some(dev), Some(path)) = (&record.dev, on_disk.get(&record.id)) {
                let message = format!(
                    "the id is linked to the development folder {}; the file is ignored",
                    dev.folder.display()
                );
                tracing::warn!(file = %path.display(), "{message}");
                report.skipped.push((path.clone(), message));
            }
        }
        let known: Vec<String> = records.into_iter().map(|r| r.id).collect();
        for id in on_disk.keys().chain(known.iter()) {
            if report.added.contains(id)
                || report.changed.contains(id)
                || report.removed.contains(id)
            {
                continue;
            }
            self.sync_one_locked(id, &mut report)?;
        }
        report.broken.sort();
        report.broken.dedup();
        Ok(report)
    }

    /// The sync rules for one plugin id.
    pub(crate) fn sync_one_locked(
        &self,
        id: &str,
        report: &mut SyncReport,
    ) -> Result<(), ManagerError> {
        let path = self.plugins_dir.join(format!("{id}.ndp"));
        let existing = self.state.get(id)?;
        if let Some(record) = existing.as_ref().filter(|r| r.dev.is_some()) {
            return self.sync_dev_locked(record.clone(), report);
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(_) if !path.exists() => {
                if existing.is_some() {
                    self.unload(id);
                    self.state.remove(id)?;
                    report.removed.push(id.to_owned());
                }
                return Ok(());
            }
            Err(e) => {
                let message = format!("cannot read {}: {e}", path.display());
                return self.broken(id, existing, message, report);
            }
        };
        let package = match Package::from_bytes(id, &bytes, &PackageLimits::default()) {
            Ok(package) => package,
            Err(e) => return self.broken(id, existing, e.to_string(), report),
        };
        let sha = package.sha256_hex();
        let manifest: Value = serde_json::from_slice(&package.manifest_json).unwrap_or(Value::Null);
        match existing {
            None => {
                let now = now();
                self.state.put(&PluginRecord {
                    id: id.to_owned(),
                    path,
                    manifest,
                    sha256: sha,
                    created_at: now,
                    ..PluginRecord::default()
                })?;
                report.added.push(id.to_owned());
            }
            Some(record) if record.sha256 != sha => {
                self.unload(id);
                self.state.update(id, |r| {
                    r.manifest = manifest;
                    r.sha256 = sha;
                    r.path = path;
                    r.enabled = false;
                    r.last_error = None;
                })?;
                report.changed.push(id.to_owned());
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// The sync rule of a development folder: a new build replaces the recorded one and
    /// keeps the plugin enabled; if it was loaded, the new build is loaded at once. An
    /// unreadable folder or module is a broken package (disabled, with the reason).
    fn sync_dev_locked(
        &self,
        record: PluginRecord,
        report: &mut SyncReport,
    ) -> Result<(), ManagerError> {
        let id = record.id.clone();
        let package = match read_package(&record) {
            Ok((package, _)) => package,
            Err(message) => return self.broken(&id, Some(record), message, report),
        };
        let sha = package.sha256_hex();
        if sha == record.sha256 {
            return Ok(());
        }
        let manifest: Value = serde_json::from_slice(&package.manifest_json).unwrap_or(Value::Null);
        let was_loaded = self.unload(&id);
        self.state.update(&id, |r| {
            r.manifest = manifest;
            r.sha256 = sha;
            r.last_error = None;
        })?;
        report.changed.push(id.clone());
        if was_loaded
            && record.enabled
            && let Err(e) = self.load_now(&id)
        {
            tracing::warn!(plugin = %id, error = %e, "the new build failed to load");
        }
        Ok(())
    }

    fn broken(
        &self,
        id: &str,
        existing: Option<PluginRecord>,
        message: String,
        report: &mut SyncReport,
    ) -> Result<(), ManagerError> {
        tracing::warn!(plugin = id, error = %message, "broken plugin package");
        if existing.is_some() {
            self.unload(id);
            self.state.update(id, |r| {
                r.enabled = false;
                r.last_error = Some(message.clone());
            })?;
        }
        report.broken.push((id.to_owned(), message));
        Ok(())
    }

    /// Loads these records, a few at a time; failures disable the plugin with its error.
    fn load_many(&self, records: Vec<PluginRecord>) {
        let queue = Mutex::new(records);
        let workers = self.parallel_loads.min(queue.lock().len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let Some(record) = queue.lock().pop() else {
                            return;
                        };
                        let result = self
                            .check_scope(&record)
                            .map_err(|e| e.to_string())
                            .and_then(|()| self.load(&record));
                        match result {
                            Ok(loaded) => {
                                self.loaded.write().insert(record.id.clone(), loaded);
                            }
                            Err(message) => {
                                tracing::warn!(plugin = %record.id, error = %message, "plugin failed to load");
                                let stored = self.state.update(&record.id, |r| {
                                    r.enabled = false;
                                    r.last_error = Some(message.clone());
                                });
                                if let Err(e) = stored {
                                    tracing::error!(error = %e, "cannot store a load error");
                                }
                            }
                        }
                    }
                });
            }
        });
    }

    /// Reads, checks, compiles and loads one plugin, then runs `nd_on_init`.
    fn load(&self, record: &PluginRecord) -> Result<Arc<LoadedPlugin>, String> {
        let id = record.id.as_str();
        let (package, sha) = read_package(record)?;
        if sha != record.sha256 {
            return Err(if record.dev.is_some() {
                format!(
                    "the development folder {} changed since it was last read; refresh the \
                     plugin, then enable it again",
                    record.path.display()
                )
            } else {
                format!(
                    "{} changed since it was recorded; sync the plugins folder, then enable it \
                     again",
                    record.path.display()
                )
            });
        }
        let compiled = self
            .runtime
            .compile(id, &package.wasm)
            .map_err(|e| e.to_string())?;
        let exports = compiled.exports();
        nd_capabilities::validate(
            &package.manifest.permissions,
            exports.iter().map(String::as_str),
        )
        .map_err(|violations| {
            violations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let config = match &record.config {
            Some(config) => flatten_config(config).map_err(|e| e.to_string())?,
            None => BTreeMap::new(),
        };
        let ctx = LoadContext {
            plugin_id: id,
            manifest: &package.manifest,
            data_dir: &self.data_dir,
            scope: &record.scope,
            config: &config,
            local: &self.local,
            clock: &self.clock,
        };
        let parts = self.registry.parts_for(&ctx)?;
        let mut plugin_config = PluginConfig::new(id);
        plugin_config.config = config;
        plugin_config.timeout = self.call_timeout;
        plugin_config.log_level = self.log_level;
        if let Some(bytes) = self.max_memory_bytes {
            plugin_config.max_memory_bytes = bytes;
        }
        plugin_config.services = parts.services;
        plugin_config.mounts = parts.mounts;
        if let Some(egress) = parts.egress {
            plugin_config.egress = egress;
        }
        plugin_config.import_hint = Some(import_hint);
        let plugin = self
            .runtime
            .load(&compiled, plugin_config)
            .map_err(|e| e.to_string())?;
        let gate = Arc::new(Gate::default());
        let caller = Arc::new(MeteredPlugin {
            plugin: plugin.clone(),
            metrics: Arc::clone(&self.metrics),
            gate: Arc::clone(&gate),
        });
        let capabilities = PluginCapabilities::new(caller.clone() as Arc<dyn ExportCaller>);
        let loaded = Arc::new(LoadedPlugin {
            id: id.to_owned(),
            plugin,
            caller,
            capabilities,
            manifest: package.manifest,
            scope: record.scope.clone(),
            gate,
        });
        if let Some(lifecycle) = loaded.capabilities.lifecycle()
            && let Err(e) = lifecycle.on_init()
        {
            // Navidrome only logs nd_on_init failures.
            tracing::warn!(plugin = id, error = %e, "nd_on_init failed");
        }
        tracing::info!(plugin = id, "plugin loaded");
        Ok(loaded)
    }

    /// Unloads a plugin if it is loaded: refuses new calls, lets running ones finish (up to
    /// the grace), then runs every service's closer. Returns whether it was loaded.
    fn unload(&self, id: &str) -> bool {
        let Some(loaded) = self.loaded.write().remove(id) else {
            return false;
        };
        let still_running = loaded.gate.close(self.unload_grace);
        if still_running > 0 {
            tracing::warn!(
                plugin = id,
                calls = still_running,
                "unloading with calls still running after the grace period"
            );
        }
        loaded.plugin.shutdown();
        tracing::info!(plugin = id, "plugin unloaded");
        true
    }

    /// AutoReload: one file changed (debounced).
    pub(crate) fn file_event(&self, id: &str) {
        let _ops = self.ops.lock();
        let mut report = SyncReport::default();
        if let Err(e) = self.sync_one_locked(id, &mut report) {
            tracing::warn!(plugin = id, error = %e, "auto-reload sync failed");
        } else {
            tracing::info!(plugin = id, ?report, "auto-reload");
        }
    }
}

/// The package of a record as it is on disk (the `.ndp` file, or the development folder
/// packed), with the SHA-256 of its bytes.
fn read_package(record: &PluginRecord) -> Result<(Package, String), String> {
    let id = record.id.as_str();
    let bytes = match &record.dev {
        Some(link) => crate::dev::pack_folder(id, link)?,
        None => std::fs::read(&record.path)
            .map_err(|e| format!("cannot read {}: {e}", record.path.display()))?,
    };
    let package = Package::from_bytes(id, &bytes, &PackageLimits::default()).map_err(|e| {
        match &record.dev {
            Some(link) => format!("development folder {}: {e}", link.folder.display()),
            None => e.to_string(),
        }
    })?;
    let sha = package.sha256_hex();
    Ok((package, sha))
}

/// The violations of `config` against the record's `config.schema`.
fn config_problems(record: &PluginRecord, config: &Value) -> Result<Vec<Diagnostic>, ManagerError> {
    let invalid = |message: String| ManagerError::Config {
        id: record.id.clone(),
        message,
    };
    flatten_config(config).map_err(|e| invalid(e.to_string()))?;
    let manifest = Manifest::from_value(&record.manifest)
        .map_err(|e| invalid(format!("the stored manifest is unreadable: {e}")))?
        .manifest;
    let Some(spec) = &manifest.config else {
        return Ok(Vec::new());
    };
    match spec.validate_config(config) {
        Ok(()) => Ok(Vec::new()),
        Err(e) => match e.validation_errors() {
            Some(errors) => Ok(errors.iter().cloned().collect()),
            None => Err(invalid(e.to_string())),
        },
    }
}

/// Explains which permission provides a missing `extism:host/user` import.
fn import_hint(module: &str, name: &str) -> Option<String> {
    use nd_manifest::abi::{ALWAYS_AVAILABLE, HOST_MODULE, permission_for_host_function};
    if module != HOST_MODULE {
        return None;
    }
    Some(match permission_for_host_function(name) {
        Some(ALWAYS_AVAILABLE) => "Navidrome's config service provides it".to_owned(),
        Some(permission) => format!(
            "the '{permission}' permission provides it; add it to the manifest's permissions"
        ),
        None => "no Navidrome host service provides it".to_owned(),
    })
}

pub(crate) type WeakInner = Weak<Inner>;
