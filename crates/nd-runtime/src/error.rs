//! Error types: [`Error`] for everything that happens before a call (compiling, caching,
//! linking, instantiating) and [`CallError`] for the outcome of one export call.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong outside of an export call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The wasm bytes are not a valid module (or use features the engine does not support).
    #[error("plugin '{plugin}': invalid wasm module: {message}")]
    Compile { plugin: String, message: String },
    /// The module imports something this host does not provide, or with the wrong type.
    #[error("plugin '{plugin}': {message}")]
    Link { plugin: String, message: String },
    /// Creating an instance (or running its initialiser) failed.
    #[error("plugin '{plugin}': instantiation failed: {message}")]
    Instantiate { plugin: String, message: String },
    /// A host service refused to register its functions.
    #[error("plugin '{plugin}': host service '{service}' failed to register: {message}")]
    Register {
        plugin: String,
        service: String,
        message: String,
    },
    /// A host service refused the loaded plugin (see [`crate::HostService::on_load`]), e.g.
    /// the scheduler when the plugin does not export `nd_scheduler_callback`.
    #[error("plugin '{plugin}': host service '{service}': {message}")]
    ServiceRejected {
        plugin: String,
        service: String,
        message: String,
    },
    /// The runtime itself could not be set up (tokio, WASI, cache directory).
    #[error("runtime setup failed: {0}")]
    Setup(String),
    /// A configuration value is out of range.
    #[error("invalid plugin configuration: {0}")]
    Config(String),
}

/// The outcome class of a failed export call, with its details.
///
/// The classes follow Navidrome's call semantics (navidrome-plugin-abi.md §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallErrorKind {
    /// The export returned `-2` without an error message: "not implemented".
    NotImplemented,
    /// The plugin reported an error: the `error_set` message (whatever the return code),
    /// or `plugin call exited with code N` for a non-zero code without a message.
    PluginError { message: String, rc: i32 },
    /// The guest trapped (`unreachable`, out-of-bounds access, stack overflow, ...).
    Trap { message: String },
    /// A host function failed in a way that aborts the call (a refused `http_request`,
    /// a full var store, a host service that returned a trap).
    HostFunction { function: String, message: String },
    /// The call ran past its wall-clock limit and was interrupted.
    Timeout { limit: Duration },
    /// A wasm memory (the plugin's or the kernel's) hit the memory cap.
    OutOfMemory { limit_bytes: u64 },
    /// The guest called WASI `proc_exit` with a non-zero code.
    Exit { code: i32 },
    /// The output is larger than the configured cap.
    OutputTooLarge { size: u64, limit: u64 },
    /// The module has no callable export with that name.
    FunctionNotFound,
    /// A fresh instance could not be created for this call.
    Instantiate { message: String },
}

impl CallErrorKind {
    /// True for the classes that mean the plugin misbehaved or was stopped
    /// (trap, timeout, out of memory, non-zero exit, host abort, oversized output),
    /// as opposed to a plugin-reported error or "not implemented".
    pub fn is_abnormal(&self) -> bool {
        !matches!(
            self,
            Self::NotImplemented | Self::PluginError { .. } | Self::FunctionNotFound
        )
    }
}

impl fmt::Display for CallErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotImplemented => f.write_str("not implemented"),
            Self::PluginError { message, .. } => f.write_str(message),
            Self::Trap { message } => write!(f, "plugin call failed: wasm trap: {message}"),
            Self::HostFunction { function, message } => {
                write!(f, "plugin call failed: host function {function}: {message}")
            }
            Self::Timeout { limit } => write!(
                f,
                "plugin call failed: module closed with context deadline exceeded (limit {} ms)",
                limit.as_millis()
            ),
            Self::OutOfMemory { limit_bytes } => write!(
                f,
                "plugin call failed: out of memory (limit {} MiB)",
                limit_bytes / (1024 * 1024)
            ),
            Self::Exit { code } => write!(f, "plugin call failed: exit code {code}"),
            Self::OutputTooLarge { size, limit } => write!(
                f,
                "plugin call failed: output of {size} bytes exceeds the limit of {limit} bytes"
            ),
            Self::FunctionNotFound => f.write_str("function not found"),
            Self::Instantiate { message } => write!(f, "instantiation failed: {message}"),
        }
    }
}

/// A failed export call: which plugin, which export, and what happened.
#[derive(Debug, Clone)]
pub struct CallError {
    plugin: Arc<str>,
    export: String,
    kind: CallErrorKind,
}

impl CallError {
    pub(crate) fn new(plugin: Arc<str>, export: &str, kind: CallErrorKind) -> Self {
        Self {
            plugin,
            export: export.to_owned(),
            kind,
        }
    }
    /// An error for a call that a layer above the runtime refused or failed on the
    /// plugin's behalf (e.g. a manager refusing calls to a plugin being unloaded).
    pub fn from_parts(plugin: &str, export: &str, kind: CallErrorKind) -> Self {
        Self::new(Arc::from(plugin), export, kind)
    }
    /// The plugin id.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }
    /// The export that was called.
    pub fn export(&self) -> &str {
        &self.export
    }
    /// What happened.
    pub fn kind(&self) -> &CallErrorKind {
        &self.kind
    }
    /// Consumes the error, returning what happened.
    pub fn into_kind(self) -> CallErrorKind {
        self.kind
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "plugin '{}' export '{}': {}",
            self.plugin, self.export, self.kind
        )
    }
}

impl std::error::Error for CallError {}
