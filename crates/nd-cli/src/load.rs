//! What the commands over package files do first: read a `.ndp` file into a [`Package`]
//! (the plugin id is the file name), start a [`Runtime`] with the per-user compilation
//! cache, and compile the module. Every failure here is the package's or the arguments'
//! fault: [`EXIT_USAGE`](crate::EXIT_USAGE).

use std::env;
use std::path::{Path, PathBuf};

use nd_manifest::{Package, PackageLimits, plugin_id_from_file_name};
use nd_runtime::{Compiled, Runtime, RuntimeConfig};

use crate::{CacheChoice, EXIT_INTERNAL, Failure};

/// Whether a command-line argument names a package file rather than a plugin id: it ends
/// in `.ndp` or holds a path separator (an id can hold neither a separator nor, in
/// practice, that suffix).
pub(crate) fn is_package_path(arg: &Path) -> bool {
    let text = arg.to_string_lossy();
    text.ends_with(".ndp") || text.contains(std::path::MAIN_SEPARATOR) || text.contains('/')
}

/// Reads and validates the package at `path`.
pub(crate) fn read_package(path: &Path) -> Result<Package, Failure> {
    let name = path
        .file_name()
        .ok_or_else(|| Failure::usage(format!("{}: not a file name", path.display())))?;
    let name = name.to_str().ok_or_else(|| {
        Failure::usage(format!(
            "{}: the file name is not valid UTF-8, so it cannot be a plugin id",
            path.display()
        ))
    })?;
    let id = plugin_id_from_file_name(name).map_err(|e| Failure::usage(e.to_string()))?;
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    Package::from_bytes(&id, &bytes, &PackageLimits::default())
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))
}

/// `$<xdg_var>/ndp` if that variable holds an absolute path, else `$HOME/<home_relative>/ndp`
/// (the XDG base-directory rule); `None` when neither is set.
pub(crate) fn xdg_dir(xdg_var: &str, home_relative: &str) -> Option<PathBuf> {
    let xdg = env::var_os(xdg_var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    if let Some(xdg) = xdg {
        return Some(xdg.join("ndp"));
    }
    env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join(home_relative).join("ndp"))
}

/// The default cache directory: `$XDG_CACHE_HOME/ndp`, else `$HOME/.cache/ndp`.
fn default_cache_dir() -> Option<PathBuf> {
    xdg_dir("XDG_CACHE_HOME", ".cache")
}

/// A started runtime and the cache directory it uses, if any.
#[derive(Debug)]
pub(crate) struct Started {
    /// The runtime.
    pub(crate) runtime: Runtime,
    /// Where compiled modules are cached; `None` without a cache.
    pub(crate) cache_dir: Option<PathBuf>,
}

/// Starts the runtime. An explicit `--cache-dir` that cannot be used is an error; the
/// default one only costs a warning, and ndp runs without a cache.
pub(crate) fn runtime(cache: &CacheChoice) -> Result<Started, Failure> {
    let without_cache = || {
        Runtime::new(RuntimeConfig::default())
            .map(|runtime| Started {
                runtime,
                cache_dir: None,
            })
            .map_err(|e| Failure::new(EXIT_INTERNAL, e.to_string()))
    };
    let with_cache = |dir: &Path| {
        let config = RuntimeConfig {
            cache_dir: Some(dir.to_owned()),
            ..RuntimeConfig::default()
        };
        Runtime::new(config).map(|runtime| Started {
            runtime,
            cache_dir: Some(dir.to_owned()),
        })
    };
    if cache.disabled {
        return without_cache();
    }
    if let Some(dir) = &cache.dir {
        return with_cache(dir).map_err(|e| {
            Failure::usage(format!("--cache-dir {}: {e}", dir.display()))
                .note("pass a writable directory, or --no-cache")
        });
    }
    let Some(dir) = default_cache_dir() else {
        tracing::debug!(
            "no cache directory (neither XDG_CACHE_HOME nor HOME is set); compiling without a cache"
        );
        return without_cache();
    };
    with_cache(&dir).or_else(|e| {
        tracing::warn!(error = %e, "compilation cache unavailable; compiling without it");
        without_cache()
    })
}

/// Compiles the package's module; invalid wasm is the package's fault.
pub(crate) fn compile(
    runtime: &Runtime,
    package: &Package,
    path: &Path,
) -> Result<Compiled, Failure> {
    runtime
        .compile(&package.id, &package.wasm)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))
}
