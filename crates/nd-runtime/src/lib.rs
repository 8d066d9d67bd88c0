//! The plugin runtime of ndp: runs Extism-ABI WebAssembly plugins (as Navidrome does) on
//! Wasmer 7.
//!
//! It provides the whole `extism:host/env` namespace (the memory half in a small kernel
//! module written for this crate and linked as its own instance, the rest natively), WASI
//! preview 1 with jailed directory mounts, user host functions through [`HostService`], and
//! Navidrome's call semantics: a fresh instance for every call, typed outcomes
//! ([`CallErrorKind`]), wall-clock timeouts, memory caps, and an on-disk compilation cache.
//! Services read their JSON requests with [`GoRequest`], as Navidrome's Go structs would.
//!
//! It is deliberately not a plugin manager: it knows nothing of manifests, `.ndp` packages,
//! permissions or Navidrome's services (see `nd-manifest`, the `nd-host-*` crates and
//! `nd-manager`). It is the only crate of the workspace that names Wasmer.
//!
//! ```no_run
//! use nd_runtime::{PluginConfig, Runtime, RuntimeConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let wasm = std::fs::read("plugin.wasm")?;
//! let mut config = PluginConfig::new("my-plugin");
//! config.config.insert("greeting".into(), "hello".into());
//! let plugin = runtime.load_wasm(&wasm, config)?;
//! let output = plugin.call("count_vowels", b"Hello, World!")?;
//! println!("{}", String::from_utf8_lossy(&output));
//! # Ok(()) }
//! ```

mod cache;
mod egress;
mod error;
mod gojson;
mod host;
mod instance;
mod limits;
mod plugin;
mod runtime;
mod wasi;
mod watchdog;

pub use egress::{DenyEgress, Egress, EgressError, HttpLimits, HttpRequest, HttpResponse};
pub use error::{CallError, CallErrorKind, Error};
pub use gojson::{GoRequest, go_json_kind, go_quote};
pub use host::{
    HostCtx, HostError, HostImports, HostService, RegisterError, Signature, USER_NAMESPACE, Val,
    ValType, decode_bytes, encode_bytes, json_response, random_id,
};
pub use plugin::{
    ENV_NAMESPACE, ImportHint, LogLevel, Mount, Plugin, PluginConfig, PluginInstance, WeakPlugin,
    provides_env_function,
};
pub use runtime::{Compiled, ImportInfo, Runtime, RuntimeConfig};
