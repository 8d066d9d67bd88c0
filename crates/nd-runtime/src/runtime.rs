//! The [`Runtime`]: one Wasmer engine, the kernel module, the compilation cache, the WASI
//! runtime, the watchdog and the preparer thread, shared by every plugin loaded through it.

use std::fmt;
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Instant;

use sha2::Digest as _;
use wasmer::sys::{Cranelift, EngineBuilder, NativeEngineExt};
use wasmer::{Engine, Module};
use wasmer_wasix::runtime::task_manager::tokio::TokioTaskManager;
use wasmer_wasix::{PluggableRuntime, UnsupportedVirtualNetworking};

use crate::cache::{DiskCache, Lookup};
use crate::error::Error;
use crate::instance::Prepared;
use crate::limits::LimitingTunables;
use crate::plugin::{Plugin, PluginConfig, PluginShared, describe_extern};
use crate::watchdog::Watchdog;

const KERNEL_WAT: &str = include_str!("kernel/kernel.wat");

/// Settings of a [`Runtime`].
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// Directory of the on-disk compilation cache; `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// Size cap of the cache directory (default 200 MB, as Navidrome's `Plugins.CacheSize`).
    pub cache_max_bytes: Option<u64>,
}

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    pub(crate) kernel: Module,
    pub(crate) tokio: tokio::runtime::Runtime,
    pub(crate) wasi_runtime: Arc<dyn wasmer_wasix::Runtime + Send + Sync>,
    pub(crate) watchdog: Watchdog,
    cache: Option<DiskCache>,
    preparer: Sender<Weak<PluginShared>>,
    reaper: SyncSender<Prepared>,
}

/// Used instances waiting to be dropped off the calling thread.
const REAPER_QUEUE: usize = 64;

impl RuntimeInner {
    pub(crate) fn request_prepare(&self, plugin: Weak<PluginShared>) {
        let _ = self.preparer.send(plugin);
    }

    /// Drops a used instance on the reaper thread (unmapping its memories takes tens of
    /// microseconds), or right here when the reaper is behind.
    pub(crate) fn retire(&self, prepared: Prepared) {
        if let Err(TrySendError::Full(p) | TrySendError::Disconnected(p)) =
            self.reaper.try_send(prepared)
        {
            drop(p);
        }
    }
}

/// Compiles and loads plugins. Create one per process and share it (it is cheap to clone).
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field(
                "cache_dir",
                &self.inner.cache.as_ref().map(|c| c.dir().to_owned()),
            )
            .finish_non_exhaustive()
    }
}

/// A compiled module and what is known about it without running it.
#[derive(Clone)]
pub struct Compiled {
    pub(crate) module: Module,
    sha256: String,
    from_cache: bool,
}

impl fmt::Debug for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compiled")
            .field("sha256", &self.sha256)
            .field("from_cache", &self.from_cache)
            .finish()
    }
}

/// One import of a module: namespace, name and type as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportInfo {
    pub module: String,
    pub name: String,
    /// `(i64, i32) -> i64` or `(i64) -> ()` for functions; `memory`, `global`, `table` or
    /// `tag` otherwise.
    pub ty: String,
}

impl Compiled {
    /// Hex SHA-256 of the wasm bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    /// True when the artifact came from the on-disk cache.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }
    /// The module's imports.
    pub fn imports(&self) -> Vec<ImportInfo> {
        self.module
            .imports()
            .map(|i| ImportInfo {
                module: i.module().to_owned(),
                name: i.name().to_owned(),
                ty: describe_extern(i.ty()),
            })
            .collect()
    }
    /// Names of the module's function exports.
    pub fn exports(&self) -> Vec<String> {
        self.module
            .exports()
            .filter(|e| matches!(e.ty(), wasmer::ExternType::Function(_)))
            .map(|e| e.name().to_owned())
            .collect()
    }
}

impl Runtime {
    /// Creates the engine (Cranelift, memory caps in its tunables), the kernel, the WASI
    /// runtime (no networking), the watchdog and the preparer thread.
    pub fn new(config: RuntimeConfig) -> Result<Self, Error> {
        let setup = |e: &dyn fmt::Display| Error::Setup(e.to_string());
        let mut engine = Engine::from(EngineBuilder::new(Cranelift::default()));
        engine.set_tunables(LimitingTunables::default());
        let kernel = Module::new(&engine, KERNEL_WAT).map_err(|e| setup(&e))?;
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ndp-wasi-io")
            .enable_all()
            .build()
            .map_err(|e| setup(&e))?;
        let wasi_runtime = {
            let _guard = tokio.enter();
            let mut rt =
                PluggableRuntime::new(Arc::new(TokioTaskManager::new(tokio.handle().clone())));
            rt.set_engine(engine.clone());
            rt.set_networking_implementation(UnsupportedVirtualNetworking::default());
            Arc::new(rt) as Arc<dyn wasmer_wasix::Runtime + Send + Sync>
        };
        let cache = match &config.cache_dir {
            Some(dir) => Some(
                DiskCache::open(
                    dir,
                    config.cache_max_bytes.unwrap_or(200_000_000),
                    fingerprint(&engine),
                )
                .map_err(|e| Error::Setup(format!("cache directory {}: {e}", dir.display())))?,
            ),
            None => None,
        };
        let watchdog = Watchdog::start().map_err(|e| setup(&e))?;
        let (preparer, jobs) = mpsc::channel::<Weak<PluginShared>>();
        thread::Builder::new()
            .name("ndp-preparer".into())
            .spawn(move || {
                for plugin in jobs {
                    if let Some(plugin) = plugin.upgrade() {
                        plugin.refill();
                    }
                }
            })
            .map_err(|e| setup(&e))?;
        let (reaper, retired) = mpsc::sync_channel::<Prepared>(REAPER_QUEUE);
        thread::Builder::new()
            .name("ndp-reaper".into())
            .spawn(move || retired.into_iter().for_each(drop))
            .map_err(|e| setup(&e))?;
        let inner = Arc::new(RuntimeInner {
            engine,
            kernel,
            tokio,
            wasi_runtime,
            watchdog,
            cache,
            preparer,
            reaper,
        });
        Ok(Self { inner })
    }

    /// Compiles `wasm` (or loads it from the cache). `plugin` names the module in errors.
    /// WebAssembly text (WAT) is accepted too.
    pub fn compile(&self, plugin: &str, wasm: &[u8]) -> Result<Compiled, Error> {
        let sha256 = hex(&sha2::Sha256::digest(wasm));
        let compile_error = |message: String| Error::Compile {
            plugin: plugin.to_owned(),
            message,
        };
        if let Some(cache) = &self.inner.cache {
            match cache.get(&sha256) {
                Lookup::Hit(mut bytes) => {
                    // The entry is laid out so the artifact is 64-byte aligned when the file
                    // buffer is; if the allocator gave less, copy into a fresh buffer.
                    if bytes.as_ptr().align_offset(16) != 0 {
                        bytes = bytes::Bytes::copy_from_slice(&bytes);
                    }
                    // SAFETY: the entry's header matched this module's hash and this engine's
                    // fingerprint, and its artifact matched the BLAKE3 hash written with it,
                    // so these are the bytes this process's engine serialized.
                    match unsafe { Module::deserialize(&self.inner.engine, bytes) } {
                        Ok(module) => {
                            return Ok(Compiled {
                                module,
                                sha256,
                                from_cache: true,
                            });
                        }
                        Err(e) => {
                            tracing::warn!(plugin, error = %e, "cached artifact rejected; recompiling")
                        }
                    }
                }
                Lookup::Rejected(why) => {
                    tracing::warn!(
                        plugin,
                        why,
                        "corrupt compilation cache entry removed; recompiling"
                    );
                }
                Lookup::Miss => {}
            }
        }
        let started = Instant::now();
        let module =
            Module::new(&self.inner.engine, wasm).map_err(|e| compile_error(e.to_string()))?;
        tracing::debug!(
            plugin,
            ms = started.elapsed().as_millis() as u64,
            "compiled"
        );
        if let Some(cache) = &self.inner.cache {
            match module.serialize() {
                Ok(artifact) => {
                    if let Err(e) = cache.put(&sha256, &artifact) {
                        tracing::warn!(plugin, error = %e, "could not write the compilation cache");
                    }
                }
                Err(e) => tracing::warn!(plugin, error = %e, "could not serialize the module"),
            }
        }
        Ok(Compiled {
            module,
            sha256,
            from_cache: false,
        })
    }

    /// Loads a compiled module as a plugin: resolves its imports against `config.services`,
    /// the Extism kernel and WASI, and creates (and initialises) its first instance.
    pub fn load(&self, compiled: &Compiled, config: PluginConfig) -> Result<Plugin, Error> {
        if config.timeout.is_zero() {
            return Err(Error::Config("timeout must be greater than zero".into()));
        }
        if config.max_memory_bytes < 65536 {
            return Err(Error::Config(
                "max_memory_bytes must be at least one page (65536)".into(),
            ));
        }
        Plugin::load(
            Arc::clone(&self.inner),
            compiled.module.clone(),
            compiled.sha256.clone(),
            config,
        )
    }

    /// [`Runtime::compile`] then [`Runtime::load`].
    pub fn load_wasm(&self, wasm: &[u8], config: PluginConfig) -> Result<Plugin, Error> {
        let compiled = self.compile(&config.id, wasm)?;
        self.load(&compiled, config)
    }
}

fn fingerprint(engine: &Engine) -> String {
    let target = engine.target();
    format!(
        "wasmer-7.4.2;cranelift;{};{:?};nd-runtime-{};kernel-{}",
        target.triple(),
        target.cpu_features(),
        env!("CARGO_PKG_VERSION"),
        hex(&sha2::Sha256::digest(KERNEL_WAT.as_bytes()))
    )
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
