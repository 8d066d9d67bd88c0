//! `ndp call`: loads a package as Navidrome would, with the host services its manifest
//! grants (data under `--data-dir`), calls one export in a fresh instance, and maps the
//! outcome to an exit code: see [`exit_code`] and [`crate::EXIT_CODES`]. Given the id of an
//! installed plugin instead of a file, it loads that plugin through the manager, with its
//! stored configuration and scope; the plugin must be enabled, as Navidrome calls only
//! enabled plugins.
//!
//! The process ends when the call returns: schedules the plugin made are dropped (Navidrome
//! keeps none across restarts either), and tasks it enqueued stay in the task queue's store,
//! to run when a later process creates the queue again.

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use nd_manifest::Package;
use nd_manifest::abi::{
    ALWAYS_AVAILABLE, HOST_MODULE, capability_rules, detect_capabilities,
    permission_for_host_function,
};
use nd_runtime::{CallError, CallErrorKind, Compiled, LogLevel, PluginConfig};

use crate::host::{self, HostOptions};
use crate::info::ImportStatus;
use crate::{
    CallArgs, EXIT_ABNORMAL, EXIT_INTERNAL, EXIT_NOT_IMPLEMENTED, EXIT_PLUGIN_ERROR, EXIT_USAGE,
    Failure, Globals, load, output, progress, services,
};

/// The exit code of a failed call.
pub(crate) fn exit_code(kind: &CallErrorKind) -> u8 {
    match kind {
        CallErrorKind::PluginError { .. } => EXIT_PLUGIN_ERROR,
        CallErrorKind::NotImplemented => EXIT_NOT_IMPLEMENTED,
        CallErrorKind::FunctionNotFound => EXIT_USAGE,
        CallErrorKind::Trap { .. }
        | CallErrorKind::HostFunction { .. }
        | CallErrorKind::Timeout { .. }
        | CallErrorKind::OutOfMemory { .. }
        | CallErrorKind::Exit { .. }
        | CallErrorKind::OutputTooLarge { .. }
        | CallErrorKind::Instantiate { .. } => EXIT_ABNORMAL,
        // A class added to nd-runtime later: its own classification decides.
        other if other.is_abnormal() => EXIT_ABNORMAL,
        _ => EXIT_PLUGIN_ERROR,
    }
}

/// Explains, for nd-runtime's link errors, which permission provides a missing
/// `extism:host/user` import.
fn import_hint(module: &str, name: &str) -> Option<String> {
    if module != HOST_MODULE {
        return None;
    }
    Some(match permission_for_host_function(name) {
        Some(ALWAYS_AVAILABLE) => "Navidrome's config service provides it".to_owned(),
        Some(permission) => format!("the '{permission}' permission provides it"),
        None => "no Navidrome host service provides it".to_owned(),
    })
}

/// Reads the call's input: `--input` (`-` = stdin), `--input-file` (`-` = stdin), or empty.
fn read_input(args: &CallArgs) -> Result<Vec<u8>, Failure> {
    let stdin = || {
        let mut input = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut input)
            .map_err(|e| Failure::usage(format!("cannot read the input from stdin: {e}")))?;
        Ok(input)
    };
    match (&args.input, &args.input_file) {
        (Some(text), _) if text == "-" => stdin(),
        (Some(text), _) => Ok(text.clone().into_encoded_bytes()),
        (None, Some(path)) if path.as_os_str() == "-" => stdin(),
        (None, Some(path)) => std::fs::read(path)
            .map_err(|e| Failure::usage(format!("--input-file {}: {e}", path.display()))),
        (None, None) => Ok(Vec::new()),
    }
}

/// A load failure, with a note for every `extism:host/user` import this build cannot
/// provide (nd-runtime's message says which permission provides it; the note says whether
/// the manifest requests it).
fn load_failure(
    error: &nd_runtime::Error,
    package: &Package,
    compiled: &Compiled,
    path: &Path,
) -> Failure {
    let mut failure = Failure::usage(format!("{}: {error}", path.display()));
    if matches!(error, nd_runtime::Error::Link { .. }) {
        for import in compiled.imports() {
            if import.module != HOST_MODULE {
                continue;
            }
            let status = ImportStatus::of(package, &import.module, &import.name, &import.ty);
            if !status.provided() {
                failure = failure.note(format!(
                    "{}::{}: {}",
                    import.module,
                    import.name,
                    status.describe()
                ));
            }
        }
    }
    failure
}

/// The failure for an export that cannot be called, listing the ones that can.
fn missing_export(plugin: &nd_runtime::Plugin, compiled: &Compiled, export: &str) -> Failure {
    let callable: Vec<&str> = plugin.exports().collect();
    let message = if compiled.exports().iter().any(|e| e == export) {
        format!(
            "plugin '{}': export '{export}' cannot be called: an export must have the type () -> i32 or () -> ()",
            plugin.id()
        )
    } else {
        format!("plugin '{}' has no export '{export}'", plugin.id())
    };
    let list = if callable.is_empty() {
        "(none)".to_owned()
    } else {
        callable.join(", ")
    };
    Failure::usage(message).note(format!("callable exports: {list}"))
}

/// The failure for a call that did not succeed.
fn call_failure(error: &CallError) -> Failure {
    let kind = error.kind();
    let mut failure = Failure::new(exit_code(kind), error.to_string());
    if let CallErrorKind::PluginError { message, rc } = kind
        && *rc != -1
        && *message != format!("plugin call exited with code {rc}")
    {
        failure = failure.note(format!("the export returned {rc}"));
    }
    failure
}

/// Runs `ndp call`: of a package file, or of an installed plugin by id.
pub(crate) fn run(args: &CallArgs, globals: &Globals) -> Result<(), Failure> {
    if load::is_package_path(&args.target) {
        call_file(args, globals)
    } else {
        call_installed(&args.target.to_string_lossy(), args, globals)
    }
}

/// `ndp call <id>`: loads the enabled plugin through the manager, with its stored
/// configuration and scope, and calls the export through it (metered like any call).
fn call_installed(id: &str, args: &CallArgs, globals: &Globals) -> Result<(), Failure> {
    if !args.config.is_empty() {
        return Err(Failure::usage(format!(
            "--config applies to package files; '{id}' is an installed plugin, which runs with \
             its stored configuration"
        ))
        .note(format!(
            "change it with `{}`",
            globals.hint(&format!("config set {id} KEY=VALUE"))
        )));
    }
    let input = read_input(args)?;
    let options = HostOptions {
        call_timeout: Some(Duration::from_millis(args.timeout_ms)),
        max_memory_bytes: Some(args.max_memory_mb.saturating_mul(1024 * 1024)),
        ..HostOptions::loading()
    };
    let manager = host::manager(globals, &options)?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let status = manager.status(id).map_err(|e| host::failure(e, globals))?;
    if !status.enabled {
        let mut failure = Failure::usage(format!(
            "plugin '{id}' is disabled; Navidrome calls only enabled plugins"
        ))
        .note(format!(
            "enable it with `{}`",
            globals.hint(&format!("enable {id}"))
        ));
        if let Some(error) = &status.last_error {
            failure = failure.note(format!("its last error: {error}"));
        }
        return Err(failure);
    }
    progress::spin(&format!("loading {id}"), || manager.reload(id))
        .map_err(|e| host::failure(e, globals))?;
    let plugin = manager.plugin(id).ok_or_else(|| {
        Failure::new(
            EXIT_INTERNAL,
            format!("plugin '{id}' is enabled but was not loaded"),
        )
    })?;
    if !plugin.plugin().has_export(&args.export) {
        let callable: Vec<&str> = plugin.plugin().exports().collect();
        let list = if callable.is_empty() {
            "(none)".to_owned()
        } else {
            callable.join(", ")
        };
        return Err(Failure::usage(format!(
            "plugin '{id}' has no callable export '{}'",
            args.export
        ))
        .note(format!("callable exports: {list}")));
    }
    let result = plugin.call(&args.export, &input);
    drop(plugin);
    // Unload in order (calls done, services closed) before the process exits.
    manager.shutdown();
    match result {
        Ok(out) => output::write_stdout(&out),
        Err(error) => Err(call_failure(&error)),
    }
}

/// `ndp call <file.ndp>`.
fn call_file(args: &CallArgs, globals: &Globals) -> Result<(), Failure> {
    let input = read_input(args)?;
    let package = load::read_package(&args.target)?;
    for warning in &package.warnings {
        tracing::warn!(plugin = %package.id, "manifest.json: {warning}");
    }
    let started = load::runtime(&globals.cache)?;
    let compiled = load::compile(&started.runtime, &package, &args.target)?;
    let exports = compiled.exports();
    let capabilities = detect_capabilities(exports.iter().map(String::as_str));
    for problem in capability_rules(
        &package.manifest,
        &capabilities,
        exports.iter().map(String::as_str),
    ) {
        tracing::warn!(plugin = %package.id, "Navidrome would refuse to load this plugin: {problem}");
    }

    let mut config = PluginConfig::new(package.id.clone());
    config.config = args.config.iter().cloned().collect();
    config.timeout = Duration::from_millis(args.timeout_ms);
    config.max_memory_bytes = args.max_memory_mb.saturating_mul(1024 * 1024);
    // The stderr subscriber's filter decides which guest log lines are shown.
    config.log_level = LogLevel::Trace;
    config.import_hint = Some(import_hint);
    let parts = services::parts(
        &package.id,
        &package.manifest,
        &config.config,
        globals.data_dir.as_deref(),
        &globals.allow_local,
        globals.library.as_deref(),
    )?;
    config.services = parts.services;
    config.mounts = parts.mounts;
    if let Some(egress) = parts.egress {
        config.egress = egress;
    }

    let plugin = started
        .runtime
        .load(&compiled, config)
        .map_err(|e| load_failure(&e, &package, &compiled, &args.target))?;
    if !plugin.has_export(&args.export) {
        return Err(missing_export(&plugin, &compiled, &args.export));
    }
    match plugin.call(&args.export, &input) {
        Ok(out) => output::write_stdout(&out),
        Err(error) => Err(call_failure(&error)),
    }
}

#[cfg(test)]
mod tests;
