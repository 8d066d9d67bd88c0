//! Navidrome's state host services for the ndp runtime: the in-memory **cache** (`cache_*`,
//! spec §3.4) and the persistent **KV store** (`kvstore_*`, §3.5, on redb). Each is an
//! [`nd_runtime::HostService`] any Rust program can link into a plugin on its own, and the KV
//! store is also a plain Rust API ([`kvstore::KvStore`]) usable without any plugin.
//!
//! Also home of two things the scheduler and task queue (`nd-host-sched`) build on: the
//! injectable [`clock`] (tests move a [`clock::ManualClock`] instead of sleeping) and the
//! per-process registry of open redb files ([`db`]), which lets two generations of a reloading
//! plugin share one file.
//!
//! What it is not: it does not read manifests or decide permissions (the caller links a
//! service only when the manifest grants it, and passes `maxSize` in bytes), and it does not
//! manage plugins (that is `nd-manager`). One service instance serves one plugin.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use nd_host_store::cache::{CacheLimits, CacheService};
//! use nd_host_store::kvstore::{KvStoreConfig, KvStoreService};
//! use nd_runtime::{PluginConfig, Runtime, RuntimeConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let compiled = runtime.compile("lastfm", &std::fs::read("lastfm.wasm")?)?;
//!
//! let mut config = PluginConfig::new("lastfm");
//! // What the manifest grants: "cache": {}, "kvstore": {"maxSize": "1MB"}.
//! config.services.push(Arc::new(CacheService::new(CacheLimits::default())));
//! let kv = Arc::new(KvStoreService::new(
//!     KvStoreConfig::new("/var/lib/ndp").max_size(1_000_000),
//! ));
//! config.services.push(kv.clone());
//!
//! let plugin = runtime.load(&compiled, config)?; // opens /var/lib/ndp/plugins/lastfm/kvstore.redb
//! plugin.call("nd_on_init", b"{}")?;
//! if let Some(store) = kv.store() {
//!     println!("the plugin stores {} bytes", store.storage_used()?);
//! }
//! plugin.shutdown(); // clears the cache; the KV store stays on disk
//! # Ok(()) }
//! ```

pub mod cache;
pub mod clock;
pub mod db;
pub mod kvstore;
