//! `ndp info`: reads a package, compiles its module (no plugin code runs) and reports the
//! manifest, permissions, detected capabilities, the load-time problems Navidrome would
//! refuse the plugin for, the hashes, and every import with whether this host provides it.
//! For an installed plugin (an id), the manager's state comes first: enabled, last error,
//! configuration, scope, source and call metrics.
//!
//! Gathering lives here ([`Info`], [`ImportStatus`]); rendering as text or JSON lives in
//! [`crate::output`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nd_manifest::abi::{
    self, ALWAYS_AVAILABLE, Capability, HOST_MODULE, capability_rules, detect_capabilities,
    import_rules, is_known_host_function, permission_for_host_function,
};
use nd_manifest::{Diagnostic, Package};

use crate::host::{self, HostOptions};
use crate::{Failure, Globals, InfoArgs, load, output};

/// The WASI module a plugin may import (Navidrome always enables WASI).
pub(crate) const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// The import module of the Extism kernel and runtime functions.
pub(crate) const ENV_MODULE: &str = nd_runtime::ENV_NAMESPACE;

/// The Navidrome host services (by permission key, or [`ALWAYS_AVAILABLE`] for config)
/// that this build of ndp links into plugins: the state services (see [`crate::services`]).
const SERVICES_IN_THIS_BUILD: &[&str] = crate::services::LINKED;

/// Whether this build links the service behind a permission key.
pub(crate) fn service_in_this_build(permission: &str) -> bool {
    SERVICES_IN_THIS_BUILD.contains(&permission)
}

/// Whether this host provides one import, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImportStatus {
    /// An `extism:host/env` function of the Extism kernel or runtime.
    Extism,
    /// A WASI preview 1 function.
    Wasi,
    /// An `extism:host/env` name that Extism does not define.
    UnknownEnvFunction,
    /// A non-function import from `extism:host/env` (such as its memory), which Extism
    /// never exports to plugins.
    EnvNotAFunction,
    /// An `extism:host/user` function of a Navidrome host service.
    Service {
        /// The permission key, or [`ALWAYS_AVAILABLE`].
        permission: &'static str,
        /// Whether the manifest requests the permission (always true for config).
        granted: bool,
        /// Whether the function is one the service is known to have (a newer Navidrome
        /// may have more under the same prefix).
        known_function: bool,
        /// Whether this build links the service.
        available: bool,
    },
    /// An `extism:host/user` function that no Navidrome service provides.
    UnknownUserFunction,
    /// An import from a module this host does not know.
    UnknownModule,
}

impl ImportStatus {
    /// Classifies the import `module::name` of a plugin whose manifest is `package`'s.
    pub(crate) fn of(package: &Package, module: &str, name: &str, ty: &str) -> ImportStatus {
        match module {
            ENV_MODULE if !ty.starts_with('(') => ImportStatus::EnvNotAFunction,
            ENV_MODULE if nd_runtime::provides_env_function(name) => ImportStatus::Extism,
            ENV_MODULE => ImportStatus::UnknownEnvFunction,
            // nd-runtime also accepts the pre-release name of WASI preview 1.
            WASI_MODULE | "wasi_unstable" => ImportStatus::Wasi,
            HOST_MODULE => match permission_for_host_function(name) {
                Some(permission) => {
                    let granted = permission == ALWAYS_AVAILABLE
                        || package.manifest.permissions.has(permission);
                    ImportStatus::Service {
                        permission,
                        granted,
                        known_function: is_known_host_function(name),
                        available: service_in_this_build(permission),
                    }
                }
                None => ImportStatus::UnknownUserFunction,
            },
            _ => ImportStatus::UnknownModule,
        }
    }

    /// Whether loading the plugin here would resolve this import.
    pub(crate) fn provided(&self) -> bool {
        match self {
            ImportStatus::Extism | ImportStatus::Wasi => true,
            ImportStatus::Service {
                granted, available, ..
            } => *granted && *available,
            _ => false,
        }
    }

    /// A stable one-word code for JSON.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            ImportStatus::Extism | ImportStatus::Wasi => "provided",
            ImportStatus::Service { granted: false, .. } => "permission_not_granted",
            ImportStatus::Service {
                available: false, ..
            } => "service_not_available",
            ImportStatus::Service { .. } => "provided",
            ImportStatus::UnknownEnvFunction
            | ImportStatus::EnvNotAFunction
            | ImportStatus::UnknownUserFunction
            | ImportStatus::UnknownModule => "unknown",
        }
    }

    /// The permission behind a Navidrome service import.
    pub(crate) fn permission(&self) -> Option<&'static str> {
        match self {
            ImportStatus::Service { permission, .. } => Some(permission),
            _ => None,
        }
    }

    /// The explanation shown to people.
    pub(crate) fn describe(&self) -> String {
        match self {
            ImportStatus::Extism => "provided (Extism runtime)".to_owned(),
            ImportStatus::Wasi => "provided (WASI preview 1)".to_owned(),
            ImportStatus::UnknownEnvFunction => {
                format!("not provided: {ENV_MODULE} has no function of that name")
            }
            ImportStatus::EnvNotAFunction => {
                format!("not provided: {ENV_MODULE} exports only functions to plugins")
            }
            ImportStatus::Service {
                permission,
                granted,
                known_function,
                available,
            } => {
                let mut text = if *permission == ALWAYS_AVAILABLE {
                    "Navidrome config service (always granted)".to_owned()
                } else if *granted {
                    format!("needs permission '{permission}' (granted)")
                } else {
                    format!("needs permission '{permission}' (not granted)")
                };
                if *granted {
                    text.push_str(if *available {
                        " — provided"
                    } else {
                        " — service not available in this build"
                    });
                }
                if !known_function {
                    text.push_str(&format!(
                        "; not a function Navidrome's '{permission}' service is known to have"
                    ));
                }
                text
            }
            ImportStatus::UnknownUserFunction => {
                "unknown to this host: no Navidrome host service provides it".to_owned()
            }
            ImportStatus::UnknownModule => "unknown to this host: unknown import module".to_owned(),
        }
    }
}

/// One import of the module.
#[derive(Debug, Clone)]
pub(crate) struct Import {
    /// The import module, such as `extism:host/env`.
    pub(crate) module: String,
    /// The imported name.
    pub(crate) name: String,
    /// The wasm type, such as `(i64) -> i64`, or `memory`.
    pub(crate) ty: String,
    /// Whether this host provides it.
    pub(crate) status: ImportStatus,
}

/// How the compilation cache was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CacheUse {
    /// No cache directory.
    Disabled,
    /// The artifact came from the cache.
    Hit(PathBuf),
    /// The module was compiled (and stored in the cache).
    Miss(PathBuf),
}

/// Everything `ndp info` reports.
#[derive(Debug)]
pub(crate) struct Info<'a> {
    /// The file as given.
    pub(crate) file: &'a Path,
    /// The package.
    pub(crate) package: &'a Package,
    /// Capabilities detected from the exports.
    pub(crate) capabilities: Vec<Capability>,
    /// Load-time problems Navidrome would refuse the plugin for: capability rules, then
    /// import rules.
    pub(crate) problems: Vec<Diagnostic>,
    /// Function exports, sorted.
    pub(crate) exports: Vec<String>,
    /// Every import, grouped by module: Extism, Navidrome, WASI, others.
    pub(crate) imports: Vec<Import>,
    /// How the compilation cache was used.
    pub(crate) cache: CacheUse,
}

impl Info<'_> {
    /// Whether the plugin loads in this build: every import is provided, and every linked
    /// service that calls the plugin back finds its callback export (the scheduler and the
    /// task queue refuse a plugin without one, as Navidrome does).
    pub(crate) fn runs_in_this_build(&self) -> bool {
        self.imports.iter().all(|i| i.status.provided())
            && crate::services::missing_callbacks(
                &self.package.manifest.permissions,
                self.exports.iter().map(String::as_str),
            )
            .is_empty()
    }
}

/// Gathers the report.
pub(crate) fn gather<'a>(
    file: &'a Path,
    package: &'a Package,
    compiled: &nd_runtime::Compiled,
    cache_dir: Option<&Path>,
) -> Info<'a> {
    let mut exports = compiled.exports();
    exports.sort();
    exports.dedup();
    let capabilities = detect_capabilities(exports.iter().map(String::as_str));
    let mut imports: Vec<Import> = compiled
        .imports()
        .into_iter()
        .map(|import| {
            let ty = import.ty.clone();
            let status = ImportStatus::of(package, &import.module, &import.name, &ty);
            Import {
                module: import.module,
                name: import.name,
                ty,
                status,
            }
        })
        .collect();
    // Grouped by module (stable, so each module keeps the module's own order).
    imports.sort_by_key(|i| match i.module.as_str() {
        ENV_MODULE => 0,
        HOST_MODULE => 1,
        WASI_MODULE => 2,
        _ => 3,
    });
    let mut problems = capability_rules(
        &package.manifest,
        &capabilities,
        exports.iter().map(String::as_str),
    );
    problems.extend(import_rules(
        &package.manifest,
        imports
            .iter()
            .filter(|i| i.module == abi::HOST_MODULE)
            .map(|i| i.name.as_str()),
    ));
    let cache = match cache_dir {
        None => CacheUse::Disabled,
        Some(dir) if compiled.from_cache() => CacheUse::Hit(dir.to_owned()),
        Some(dir) => CacheUse::Miss(dir.to_owned()),
    };
    Info {
        file,
        package,
        capabilities,
        problems,
        exports,
        imports,
        cache,
    }
}

/// Runs `ndp info`: the package report of a file, or the manager's view of an installed
/// plugin followed by the report of its package.
pub(crate) fn run(args: &InfoArgs, globals: &Globals) -> Result<(), Failure> {
    if !load::is_package_path(&args.target) {
        return installed(&args.target.to_string_lossy(), globals);
    }
    let package = load::read_package(&args.target)?;
    let started = load::runtime(&globals.cache)?;
    let compiled = load::compile(&started.runtime, &package, &args.target)?;
    let info = gather(
        &args.target,
        &package,
        &compiled,
        started.cache_dir.as_deref(),
    );
    if globals.json {
        output::print_info_json(&info)
    } else {
        output::print_info_human(&info)
    }
}

/// Unix seconds as an RFC 3339 UTC time.
fn timestamp(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).map_or_else(
        || secs.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// `ndp info <id>`.
fn installed(id: &str, globals: &Globals) -> Result<(), Failure> {
    let host = host::open(globals, &HostOptions::default())?;
    let manager = &host.manager;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let status = manager.status(id).map_err(|e| host::failure(e, globals))?;
    let metrics = manager.metrics().for_plugin(id);
    let package = manager.package(id);
    let compiled = package.as_ref().map_err(ToString::to_string).and_then(|p| {
        manager
            .runtime()
            .compile(id, &p.wasm)
            .map_err(|e| e.to_string())
    });
    let report = match (&package, &compiled) {
        (Ok(package), Ok(compiled)) => Ok(gather(
            &status.path,
            package,
            compiled,
            host.cache_dir.as_deref(),
        )),
        (Err(e), _) => Err(e.to_string()),
        (_, Err(e)) => Err(e.clone()),
    };
    let stale = package
        .as_ref()
        .is_ok_and(|p| p.sha256_hex() != status.sha256);
    if globals.json {
        let mut value = match &report {
            Ok(info) => output::info_json(info),
            Err(e) => serde_json::json!({
                "ndp_info_version": output::INFO_JSON_VERSION,
                "id": id,
                "package_error": e,
            }),
        };
        value["status"] = serde_json::to_value(&status).unwrap_or_default();
        value["metrics"] = serde_json::to_value(&metrics).unwrap_or_default();
        value["package_differs_from_recorded"] = stale.into();
        return output::print_json(&value);
    }
    let mut out = String::new();
    let field = |out: &mut String, name: &str, value: &str| {
        let _ = writeln!(out, "{name:<12}{value}");
    };
    field(
        &mut out,
        "installed",
        &format!("{id}  ({} {})", status.name, status.version),
    );
    let source = match &status.dev {
        Some(dev) => format!(
            "development folder {} (module: {})",
            dev.folder.display(),
            dev.wasm.as_ref().map_or_else(
                || nd_manager::dev_wasm(&dev.folder, id)
                    .map_or_else(|e| e, |p| p.display().to_string()),
                |w| w.display().to_string()
            )
        ),
        None => format!("package {}", status.path.display()),
    };
    field(&mut out, "source", &source);
    field(
        &mut out,
        "enabled",
        if status.enabled { "yes" } else { "no" },
    );
    field(
        &mut out,
        "last error",
        status.last_error.as_deref().unwrap_or("-"),
    );
    field(
        &mut out,
        "config",
        &status
            .config
            .as_ref()
            .map_or_else(|| "none".to_owned(), ToString::to_string),
    );
    field(
        &mut out,
        "scope",
        &crate::manage::describe_scope(&status.scope),
    );
    field(
        &mut out,
        "recorded",
        &format!(
            "{} (updated {})",
            timestamp(status.created_at),
            timestamp(status.updated_at)
        ),
    );
    if metrics.is_empty() {
        field(
            &mut out,
            "calls",
            "none in this process (`ndp serve` reports call counts and latencies)",
        );
    } else {
        for (i, m) in metrics.iter().enumerate() {
            field(
                &mut out,
                if i == 0 { "calls" } else { "" },
                &format!(
                    "{}: {} ok, {} failed, mean {:.1} ms, max {:.1} ms",
                    m.export,
                    m.ok,
                    m.failed,
                    m.mean_ms(),
                    m.max_ms
                ),
            );
        }
    }
    if stale {
        let _ = writeln!(
            out,
            "\nnote: the package on disk differs from the recorded one; `{}` reads it again",
            globals.hint(&format!("refresh {id}"))
        );
    }
    match &report {
        Ok(info) => {
            let _ = writeln!(out, "\npackage:");
            out.push_str(&output::info_human(info));
        }
        Err(e) => {
            let _ = writeln!(out, "\npackage: cannot be read: {e}");
        }
    }
    output::print_text(&out)
}

#[cfg(test)]
mod tests;
