//! The plugin manager behind every command that works on installed plugins: built from the
//! global options (data directory, plugins folder, compilation cache, `--library`,
//! `--allow-local`), and the mapping of its errors to exit codes.
//!
//! Each `ndp` process opens its own manager: nothing stays loaded between two commands, so a
//! command that needs a plugin loaded (`enable`, `call <id>`, `refresh`, `list --load`) loads
//! it itself, and the state database is locked while it runs ([`crate::EXIT_IN_USE`] for a
//! second process).

use std::time::Duration;

use nd_manager::{AppData, Manager, ManagerError};
use nd_runtime::LogLevel;

use crate::{
    EXIT_IN_USE, EXIT_INTERNAL, EXIT_INVALID_CONFIG, EXIT_NOT_FOUND, EXIT_USAGE, Failure, Globals,
    load, services,
};

/// What a command needs of its manager beyond the global options.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostOptions {
    /// Serve the app-data services (the `--library` folder or the demo catalog): needed by
    /// every command that may load a plugin.
    pub(crate) app_data: bool,
    /// Watch the plugins folder (`serve --auto-reload`).
    pub(crate) auto_reload: bool,
    /// The wall-clock limit of every call.
    pub(crate) call_timeout: Option<Duration>,
    /// The cap of each wasm memory, in bytes.
    pub(crate) max_memory_bytes: Option<u64>,
}

impl HostOptions {
    /// Options for a command that may load plugins.
    pub(crate) fn loading() -> Self {
        HostOptions {
            app_data: true,
            ..HostOptions::default()
        }
    }
}

/// A manager, and the compilation cache its runtime uses.
#[derive(Debug)]
pub(crate) struct Host {
    /// The manager.
    pub(crate) manager: Manager,
    /// Where compiled modules are cached; `None` without a cache.
    pub(crate) cache_dir: Option<std::path::PathBuf>,
}

/// Opens the manager over the data directory.
pub(crate) fn manager(globals: &Globals, options: &HostOptions) -> Result<Manager, Failure> {
    open(globals, options).map(|host| host.manager)
}

/// Opens the manager over the data directory, keeping the cache directory.
pub(crate) fn open(globals: &Globals, options: &HostOptions) -> Result<Host, Failure> {
    let data_dir = globals.data_dir.clone().ok_or_else(|| {
        Failure::usage(
            "there is no data directory: pass --data-dir (neither XDG_DATA_HOME nor HOME is set)",
        )
    })?;
    let started = load::runtime(&globals.cache)?;
    let app = if options.app_data {
        services::app_data(globals.library.as_deref(), &data_dir)?
    } else {
        AppData::default()
    };
    let cache_dir = started.cache_dir;
    let mut builder = Manager::builder(&data_dir)
        .runtime(started.runtime)
        .app_data(app)
        .local_allowance(globals.allow_local.clone())
        .auto_reload(options.auto_reload)
        // The stderr subscriber's filter decides which guest log lines are shown.
        .log_level(LogLevel::Trace);
    if let Some(dir) = &globals.plugins_dir {
        builder = builder.plugins_dir(dir);
    }
    if let Some(timeout) = options.call_timeout {
        builder = builder.call_timeout(timeout);
    }
    if let Some(bytes) = options.max_memory_bytes {
        builder = builder.max_memory_bytes(bytes);
    }
    let manager = builder.build().map_err(|e| failure(e, globals))?;
    Ok(Host { manager, cache_dir })
}

/// The exit code and hints of a manager error.
pub(crate) fn failure(error: ManagerError, globals: &Globals) -> Failure {
    let message = error.to_string();
    match error {
        ManagerError::NotFound(id) => Failure::new(EXIT_NOT_FOUND, message)
            .note(format!(
                "`{}` lists the installed plugins",
                globals.hint("list")
            ))
            .note(format!(
                "'{id}' is taken as a plugin id; a package file's path ends in .ndp"
            )),
        ManagerError::State(state) if state.in_use() => Failure::new(EXIT_IN_USE, message)
            .note("is `ndp serve` running on this data directory? Stop it, or use its HTTP API"),
        ManagerError::State(_) | ManagerError::Runtime(_) => Failure::new(EXIT_INTERNAL, message),
        ManagerError::Config { .. } => Failure::new(EXIT_INVALID_CONFIG, message),
        ManagerError::Scope { id, .. } => Failure::usage(message).note(format!(
            "allow users and libraries first, e.g. `{}`",
            globals.hint(&format!("scope {id} --all-users --all-libraries"))
        )),
        ManagerError::Load { id, .. } => Failure::usage(message).note(format!(
            "'{id}' is disabled; the error is stored as its last error (`{}`)",
            globals.hint(&format!("info {id}"))
        )),
        ManagerError::Conflict { .. }
        | ManagerError::Dev { .. }
        | ManagerError::Install(_)
        | ManagerError::Io { .. } => Failure::usage(message),
        // A kind of error added to nd-manager later.
        _ => Failure::new(EXIT_USAGE, message),
    }
}
