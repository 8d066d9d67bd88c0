//! A loaded plugin: the compiled module, its configuration, the resolved import plan, and the
//! pool of instances prepared ahead of calls.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use wasmer::{ExternType, Module, Type};

use crate::egress::{DenyEgress, Egress};
use crate::error::{CallError, CallErrorKind, Error};
use crate::host::{HostFnDef, HostImports, HostService, Signature, ValType};
use crate::instance::{self, Prepared};
use crate::runtime::RuntimeInner;
use crate::wasi::WasiSetup;

/// Guest log level, as Extism numbers it (`get_log_level`: 0 trace … 4 error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
    /// Nothing is logged; `get_log_level` returns `i32::MAX`.
    Off,
}

impl LogLevel {
    /// The value `get_log_level` returns.
    pub fn extism_code(self) -> i32 {
        match self {
            Self::Trace => 0,
            Self::Debug => 1,
            Self::Info => 2,
            Self::Warn => 3,
            Self::Error => 4,
            Self::Off => i32::MAX,
        }
    }

    fn from_filter(filter: tracing::level_filters::LevelFilter) -> Self {
        use tracing::level_filters::LevelFilter as F;
        match filter {
            F::TRACE => Self::Trace,
            F::DEBUG => Self::Debug,
            F::INFO => Self::Info,
            F::WARN => Self::Warn,
            F::ERROR => Self::Error,
            _ => Self::Off,
        }
    }
}

impl std::str::FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "trace" => Self::Trace,
            "debug" => Self::Debug,
            "info" => Self::Info,
            "warn" | "warning" => Self::Warn,
            "error" => Self::Error,
            "off" | "none" => Self::Off,
            other => return Err(format!("unknown log level '{other}'")),
        })
    }
}

/// A host directory made visible to the guest through WASI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Absolute guest path, e.g. `/libraries/1`.
    pub guest: String,
    /// Host directory.
    pub host: PathBuf,
    /// Read-write when true; read-only otherwise. Either way symlink creation and paths that
    /// leave the mount are refused.
    pub writable: bool,
}

/// Tells, for an import this host does not provide, which permission would provide it.
pub type ImportHint = fn(namespace: &str, name: &str) -> Option<String>;

/// Everything that shapes how a plugin runs.
#[derive(Clone)]
pub struct PluginConfig {
    /// Plugin id, used in every message and log line.
    pub id: String,
    /// Extism config, read by `config_get` (and by Navidrome's Config service).
    pub config: BTreeMap<String, String>,
    /// Wall-clock limit of one call (including instantiation when it is not prepared ahead).
    pub timeout: Duration,
    /// Cap of each wasm memory (the plugin's and the kernel's), in bytes.
    pub max_memory_bytes: u64,
    /// Extism var store cap (Extism's estimate: key + value + 48 bytes per var). 0 disables vars.
    pub max_var_bytes: u64,
    /// Largest output a call may return.
    pub max_output_bytes: u64,
    /// Largest `http_request` response body.
    pub max_http_response_bytes: u64,
    /// Guest log level; guest lines below it are dropped.
    pub log_level: LogLevel,
    /// WASI directory mounts.
    pub mounts: Vec<Mount>,
    /// Host services linked into this plugin.
    pub services: Vec<Arc<dyn HostService>>,
    /// Where `http_request` goes. Default: [`DenyEgress`].
    pub egress: Arc<dyn Egress>,
    /// Instances kept ready ahead of calls (0 disables preparation).
    pub prepared_instances: usize,
    /// Used to explain missing imports.
    pub import_hint: Option<ImportHint>,
}

impl fmt::Debug for PluginConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginConfig")
            .field("id", &self.id)
            .field("config_keys", &self.config.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("max_memory_bytes", &self.max_memory_bytes)
            .field("max_var_bytes", &self.max_var_bytes)
            .field("max_output_bytes", &self.max_output_bytes)
            .field("log_level", &self.log_level)
            .field("mounts", &self.mounts)
            .field(
                "services",
                &self.services.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("prepared_instances", &self.prepared_instances)
            .finish_non_exhaustive()
    }
}

impl PluginConfig {
    /// Defaults of Navidrome: 30 s calls, 1 MiB vars, 50 MiB HTTP bodies; plus ndp's caps:
    /// 256 MiB per memory and 64 MiB of output.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            config: BTreeMap::new(),
            timeout: Duration::from_secs(30),
            max_memory_bytes: 256 * 1024 * 1024,
            max_var_bytes: 1024 * 1024,
            max_output_bytes: 64 * 1024 * 1024,
            max_http_response_bytes: 50 * 1024 * 1024,
            log_level: LogLevel::Info,
            mounts: Vec::new(),
            services: Vec::new(),
            egress: Arc::new(DenyEgress),
            prepared_instances: 1,
            import_hint: None,
        }
    }
}

/// How an export can be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportKind {
    ReturnsI32,
    ReturnsNothing,
}

pub(crate) enum ImportSource {
    Kernel,
    EnvNative,
    Wasi,
    User(Arc<HostFnDef>),
}

pub(crate) struct ImportPlan {
    pub(crate) module: String,
    pub(crate) name: String,
    pub(crate) source: ImportSource,
}

/// The Extism kernel namespace.
pub const ENV_NAMESPACE: &str = "extism:host/env";

/// True if this host provides `name` in `extism:host/env` (every function of extism-abi §1.2).
pub fn provides_env_function(name: &str) -> bool {
    KERNEL_FUNCTIONS.contains(&name) || NATIVE_FUNCTIONS.contains(&name)
}

/// Functions of `extism:host/env` served by the kernel instance.
const KERNEL_FUNCTIONS: &[&str] = &[
    "alloc",
    "free",
    "length",
    "length_unsafe",
    "load_u8",
    "load_u64",
    "store_u8",
    "store_u64",
    "input_length",
    "input_offset",
    "input_load_u8",
    "input_load_u64",
    "input_set",
    "output_set",
    "output_offset",
    "output_length",
    "error_set",
    "error_get",
    "reset",
    "memory_bytes",
];
/// Functions of `extism:host/env` implemented natively.
const NATIVE_FUNCTIONS: &[&str] = &[
    "config_get",
    "var_get",
    "var_set",
    "http_request",
    "http_status_code",
    "http_headers",
    "log_trace",
    "log_debug",
    "log_info",
    "log_warn",
    "log_error",
    "get_log_level",
];

pub(crate) struct PluginShared {
    pub(crate) id: Arc<str>,
    pub(crate) runtime: Arc<RuntimeInner>,
    pub(crate) module: Module,
    pub(crate) wasm_sha256: String,
    pub(crate) config: PluginConfig,
    pub(crate) imports: Vec<ImportPlan>,
    pub(crate) wasi: Option<WasiSetup>,
    pub(crate) exports: BTreeMap<String, ExportKind>,
    pool: Mutex<Vec<Prepared>>,
    /// Kernel memory recent calls of this plugin needed, in bytes: a high-water mark that
    /// decays by 1/8 per call. Prepared instances are grown to it ahead of time, so plugins
    /// that move large payloads do not page-fault on the call's path, and the others pay
    /// nothing.
    kernel_high_water: AtomicU64,
    refill_pending: AtomicBool,
    closed: AtomicBool,
    /// The user-facing handle, for [`Plugin::from_shared`].
    handle: std::sync::OnceLock<Weak<Handle>>,
}

thread_local! {
    /// The plugin (its `PluginShared` address) whose services this thread is shutting down.
    static SHUTTING_DOWN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Drop for PluginShared {
    /// A plugin dropped without [`Plugin::shutdown`] still stops its services' timers,
    /// connections and workers.
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            for service in &self.config.services {
                service.shutdown();
            }
        }
    }
}

impl PluginShared {
    /// Shuts the plugin down once: no more calls, prepared instances dropped, services stopped.
    fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        // Taken out first: dropping instances must not happen under the pool lock.
        let pool = std::mem::take(&mut *self.pool.lock());
        drop(pool);
        // A service's shutdown may still call the plugin on this thread (the WebSocket
        // service calls `nd_websocket_on_close` for each connection it closes, §3.8); calls
        // from every other thread are refused from now on.
        let previous = SHUTTING_DOWN.replace(self as *const Self as usize);
        for service in &self.config.services {
            service.shutdown();
        }
        SHUTTING_DOWN.set(previous);
    }

    /// True once the plugin is shut down, except on the thread running its services'
    /// shutdown, where their last callbacks may still run.
    fn refuses_calls(&self) -> bool {
        self.closed.load(Ordering::Acquire) && SHUTTING_DOWN.get() != self as *const Self as usize
    }

    pub(crate) fn memory_limit_pages(&self) -> u32 {
        (self.config.max_memory_bytes / 65536).clamp(1, 65536) as u32
    }

    /// The stricter of the plugin's level and what the process's tracing subscriber keeps.
    pub(crate) fn effective_log_level(&self) -> LogLevel {
        let global = LogLevel::from_filter(tracing::level_filters::LevelFilter::current());
        self.config.log_level.max(global)
    }

    /// Called by the preparer thread: tops the pool up.
    pub(crate) fn refill(self: &Arc<Self>) {
        self.refill_pending.store(false, Ordering::Release);
        while !self.closed.load(Ordering::Acquire)
            && self.pool.lock().len() < self.config.prepared_instances
        {
            match instance::instantiate(self) {
                Ok(mut prepared) => {
                    prepared.presize_kernel(self.kernel_high_water.load(Ordering::Relaxed));
                    let mut pool = self.pool.lock();
                    // Checked under the lock `close` empties the pool with: an instance
                    // pushed after closing would keep the plugin alive forever.
                    if self.closed.load(Ordering::Acquire) {
                        drop(pool);
                        self.runtime.retire(prepared);
                        return;
                    }
                    pool.push(prepared);
                }
                Err(e) => {
                    tracing::warn!(plugin = %self.id, error = %e, "preparing an instance failed");
                    return;
                }
            }
        }
    }

    fn request_refill(self: &Arc<Self>) {
        if self.config.prepared_instances == 0 || self.closed.load(Ordering::Acquire) {
            return;
        }
        if !self.refill_pending.swap(true, Ordering::AcqRel) {
            self.runtime.request_prepare(Arc::downgrade(self));
        }
    }

    fn take_instance(self: &Arc<Self>) -> Result<Prepared, CallErrorKind> {
        let ready = self.pool.lock().pop();
        self.request_refill();
        match ready {
            Some(prepared) => Ok(prepared),
            None => instance::instantiate(self),
        }
    }
}

/// A loaded plugin. Cheap to clone; every clone refers to the same plugin.
///
/// Each [`Plugin::call`] runs in a brand-new instance (Navidrome's contract: no guest state
/// survives between calls), so calls may run concurrently from any number of threads.
#[derive(Clone)]
pub struct Plugin {
    shared: Arc<PluginShared>,
    handle: Arc<Handle>,
}

/// What the user-facing handles share. Instances (prepared ones in the pool included) point
/// at [`PluginShared`], never at this, so when the last [`Plugin`] goes away the plugin is
/// shut down (its services stopped, its pool emptied, which breaks the instance → plugin
/// cycle) even if nobody called [`Plugin::shutdown`].
struct Handle {
    shared: Arc<PluginShared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.shared.id)
            .finish_non_exhaustive()
    }
}

/// A weak handle to a plugin, for host services that call back into it later.
#[derive(Clone, Debug)]
pub struct WeakPlugin(Weak<Handle>);

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("id", &self.shared.id)
            .finish()
    }
}

impl WeakPlugin {
    /// The plugin, if some [`Plugin`] handle to it still exists.
    pub fn upgrade(&self) -> Option<Plugin> {
        self.0.upgrade().map(|handle| Plugin {
            shared: Arc::clone(&handle.shared),
            handle,
        })
    }
}

impl Plugin {
    /// The handle of a plugin seen from inside one of its calls. Normally the handle its
    /// users hold; if they all dropped it while the call ran, a new one (of a plugin already
    /// shut down, so later calls fail).
    pub(crate) fn from_shared(shared: Arc<PluginShared>) -> Self {
        let existing = shared.handle.get().and_then(Weak::upgrade);
        let handle = existing.unwrap_or_else(|| {
            Arc::new(Handle {
                shared: Arc::clone(&shared),
            })
        });
        Self { shared, handle }
    }

    /// Resolves the imports of `module` for `config` and prepares the first instance, so that
    /// a plugin that cannot be instantiated fails here, not on its first call.
    pub(crate) fn load(
        runtime: Arc<RuntimeInner>,
        module: Module,
        wasm_sha256: String,
        config: PluginConfig,
    ) -> Result<Self, Error> {
        let id = config.id.clone();
        let mut registry = HostImports::new(&id);
        for service in &config.services {
            registry.begin_service(service.name());
            service
                .register(&mut registry)
                .map_err(|e| Error::Register {
                    plugin: id.clone(),
                    service: service.name().to_owned(),
                    message: e.0,
                })?;
            if let Some(dup) = registry.take_duplicate() {
                return Err(Error::Register {
                    plugin: id.clone(),
                    service: service.name().to_owned(),
                    message: dup,
                });
            }
        }
        let defs: BTreeMap<(String, String), Arc<HostFnDef>> = registry
            .defs
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect();
        let (imports, needs_wasi) = plan_imports(&id, &module, &defs, config.import_hint)?;
        let wasi = if needs_wasi {
            Some(WasiSetup::new(&runtime, &config.mounts).map_err(|message| {
                Error::Instantiate {
                    plugin: id.clone(),
                    message,
                }
            })?)
        } else {
            None
        };
        let mut exports = BTreeMap::new();
        for export in module.exports() {
            if let ExternType::Function(ty) = export.ty() {
                let kind = match (ty.params(), ty.results()) {
                    ([], [Type::I32]) => ExportKind::ReturnsI32,
                    ([], []) => ExportKind::ReturnsNothing,
                    _ => continue,
                };
                exports.insert(export.name().to_owned(), kind);
            }
        }
        let shared = Arc::new(PluginShared {
            id: id.clone().into(),
            runtime,
            module,
            wasm_sha256,
            config,
            imports,
            wasi,
            exports,
            pool: Mutex::new(Vec::new()),
            kernel_high_water: AtomicU64::new(0),
            refill_pending: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            handle: std::sync::OnceLock::new(),
        });
        let first = instance::instantiate(&shared).map_err(|kind| Error::Instantiate {
            plugin: id.clone(),
            message: kind.to_string(),
        })?;
        // The instance that proved the plugin loads serves the first call.
        shared.pool.lock().push(first);
        let handle = Arc::new(Handle {
            shared: Arc::clone(&shared),
        });
        let _ = shared.handle.set(Arc::downgrade(&handle));
        let plugin = Self { shared, handle };
        for service in &plugin.shared.config.services {
            if let Err(e) = service.on_load(&plugin) {
                plugin.shutdown();
                return Err(Error::ServiceRejected {
                    plugin: id,
                    service: service.name().to_owned(),
                    message: e.0,
                });
            }
        }
        Ok(plugin)
    }

    /// The plugin id.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// Hex SHA-256 of the wasm module.
    pub fn wasm_sha256(&self) -> &str {
        &self.shared.wasm_sha256
    }

    /// The configuration the plugin was loaded with.
    pub fn config(&self) -> &PluginConfig {
        &self.shared.config
    }

    /// Names of the callable exports (`() -> i32` or `() -> ()`), sorted.
    pub fn exports(&self) -> impl Iterator<Item = &str> {
        self.shared.exports.keys().map(String::as_str)
    }

    /// True if `name` is a callable export.
    pub fn has_export(&self, name: &str) -> bool {
        self.shared.exports.contains_key(name)
    }

    /// A weak handle for host services that call back later.
    pub fn downgrade(&self) -> WeakPlugin {
        WeakPlugin(Arc::downgrade(&self.handle))
    }

    fn error(&self, export: &str, kind: CallErrorKind) -> CallError {
        CallError::new(Arc::clone(&self.shared.id), export, kind)
    }

    /// Calls `export` with `input` in a fresh instance and returns its output.
    pub fn call(&self, export: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        let _span = tracing::debug_span!("plugin_call", plugin = %self.shared.id, export).entered();
        if self.shared.refuses_calls() {
            return Err(self.error(
                export,
                CallErrorKind::Instantiate {
                    message: "plugin is shut down".into(),
                },
            ));
        }
        let Some(&kind) = self.shared.exports.get(export) else {
            return Err(self.error(export, CallErrorKind::FunctionNotFound));
        };
        let mut prepared = self
            .shared
            .take_instance()
            .map_err(|k| self.error(export, k))?;
        let result = prepared
            .call(export, kind, input)
            .map_err(|k| self.error(export, k));
        let used = prepared.kernel_used();
        let _ = self.shared.kernel_high_water.fetch_update(
            Ordering::Relaxed,
            Ordering::Relaxed,
            |old| Some(used.max(old - old / 8)),
        );
        self.shared.runtime.retire(prepared);
        if let Err(e) = &result {
            tracing::debug!(error = %e, "plugin call failed");
        }
        result
    }

    /// A dedicated instance that keeps its state between calls (Extism's `Plugin` semantics:
    /// Extism memory is reset before each call, guest globals and vars persist). Not what
    /// Navidrome does; useful for embedders that want warm calls, and for benchmarks.
    pub fn instance(&self) -> Result<PluginInstance, CallError> {
        let prepared = self.shared.take_instance().map_err(|k| self.error("", k))?;
        Ok(PluginInstance {
            plugin: self.clone(),
            prepared,
        })
    }

    /// Stops preparing instances, drops the prepared ones and shuts the host services down.
    /// Calls already running finish; later calls fail.
    pub fn shutdown(&self) {
        self.shared.close();
    }
}

/// A long-lived instance of a plugin; see [`Plugin::instance`].
pub struct PluginInstance {
    plugin: Plugin,
    prepared: Prepared,
}

impl fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginInstance")
            .field("plugin", &self.plugin.id())
            .finish_non_exhaustive()
    }
}

impl PluginInstance {
    /// Calls `export` in this instance.
    pub fn call(&mut self, export: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        let Some(&kind) = self.plugin.shared.exports.get(export) else {
            return Err(self.plugin.error(export, CallErrorKind::FunctionNotFound));
        };
        self.prepared
            .call(export, kind, input)
            .map_err(|k| self.plugin.error(export, k))
    }
}

pub(crate) fn describe_extern(ty: &ExternType) -> String {
    match ty {
        ExternType::Function(f) => match signature_of(f) {
            Some(sig) => sig.to_string(),
            None => format!("{f}"),
        },
        ExternType::Memory(_) => "memory".into(),
        ExternType::Global(_) => "global".into(),
        ExternType::Table(_) => "table".into(),
        ExternType::Tag(_) => "tag".into(),
    }
}

fn signature_of(ty: &wasmer::FunctionType) -> Option<Signature> {
    let conv = |t: &Type| match t {
        Type::I32 => Some(ValType::I32),
        Type::I64 => Some(ValType::I64),
        Type::F32 => Some(ValType::F32),
        Type::F64 => Some(ValType::F64),
        _ => None,
    };
    Some(Signature {
        params: ty.params().iter().map(conv).collect::<Option<_>>()?,
        results: ty.results().iter().map(conv).collect::<Option<_>>()?,
    })
}

fn env_signature(name: &str) -> Signature {
    use ValType::{I32, I64};
    let (p, r): (&[ValType], &[ValType]) = match name {
        "alloc" | "length" | "length_unsafe" | "load_u64" | "input_load_u64" | "config_get"
        | "var_get" => (&[I64], &[I64]),
        "free" | "error_set" | "log_trace" | "log_debug" | "log_info" | "log_warn"
        | "log_error" => (&[I64], &[]),
        "load_u8" | "input_load_u8" => (&[I64], &[I32]),
        "store_u8" => (&[I64, I32], &[]),
        "store_u64" | "input_set" | "output_set" | "var_set" => (&[I64, I64], &[]),
        "http_request" => (&[I64, I64], &[I64]),
        "input_length" | "input_offset" | "output_offset" | "output_length" | "error_get"
        | "memory_bytes" | "http_headers" => (&[], &[I64]),
        "http_status_code" | "get_log_level" => (&[], &[I32]),
        _ => (&[], &[]), // "reset"
    };
    Signature::new(p, r)
}

/// Resolves every import of `module`; reports all problems at once.
fn plan_imports(
    id: &str,
    module: &Module,
    defs: &BTreeMap<(String, String), Arc<HostFnDef>>,
    hint: Option<ImportHint>,
) -> Result<(Vec<ImportPlan>, bool), Error> {
    let mut plan = Vec::new();
    let mut problems = Vec::new();
    let mut needs_wasi = false;
    for import in module.imports() {
        let (ns, name) = (import.module(), import.name());
        let ty = import.ty();
        let source = match ns {
            "extism:host/env" => {
                let ExternType::Function(f) = ty else {
                    problems.push(format!(
                        "import {ns}::{name}: linked modules cannot access non-function exports of extism kernel"
                    ));
                    continue;
                };
                let source = if KERNEL_FUNCTIONS.contains(&name) {
                    ImportSource::Kernel
                } else if NATIVE_FUNCTIONS.contains(&name) {
                    ImportSource::EnvNative
                } else {
                    problems.push(format!(
                        "Invalid function import from extism:host/env: {name}"
                    ));
                    continue;
                };
                let expected = env_signature(name);
                if signature_of(f).as_ref() != Some(&expected) {
                    problems.push(format!(
                        "import {ns}::{name} has type {f}, but the host provides {expected}"
                    ));
                    continue;
                }
                source
            }
            "wasi_snapshot_preview1" | "wasi_unstable" => {
                needs_wasi = true;
                ImportSource::Wasi
            }
            ns if ns.starts_with("wasix") => {
                problems.push(format!(
                    "import {ns}::{name}: WASIX modules are not supported (plugins use WASI preview 1)"
                ));
                continue;
            }
            _ => match defs.get(&(ns.to_owned(), name.to_owned())) {
                Some(def) => {
                    let expected = def.kind.signature();
                    let actual = match ty {
                        ExternType::Function(f) => signature_of(f),
                        _ => None,
                    };
                    if actual.as_ref() != Some(&expected) {
                        problems.push(format!(
                            "import {ns}::{name} has type {}, but host service '{}' provides {expected}",
                            describe_extern(ty),
                            def.service
                        ));
                        continue;
                    }
                    ImportSource::User(Arc::clone(def))
                }
                None => {
                    let mut msg = format!("\"{name}\" is not exported in module \"{ns}\"");
                    if let Some(h) = hint.and_then(|h| h(ns, name)) {
                        msg.push_str(&format!(" ({h})"));
                    }
                    problems.push(msg);
                    continue;
                }
            },
        };
        plan.push(ImportPlan {
            module: ns.to_owned(),
            name: name.to_owned(),
            source,
        });
    }
    if problems.is_empty() {
        Ok((plan, needs_wasi))
    } else {
        Err(Error::Link {
            plugin: id.to_owned(),
            message: format!("missing or invalid imports: {}", problems.join("; ")),
        })
    }
}
