//! The KV store service (spec §3.5): Navidrome's nine `kvstore_*` host functions over a
//! per-plugin redb file, `<data_dir>/plugins/<plugin id>/kvstore.redb`.
//!
//! Two layers:
//! - [`KvStore`], a plain Rust store (open a file, `get`/`set`/…), usable without any plugin;
//! - [`KvStoreService`], the [`HostService`] named `"kvstore"` that opens the plugin's store at
//!   `register` and exposes it to the plugin as JSON host functions (§2.4 shapes).
//!
//! Behaviour, following Navidrome's `plugins/host_kvstore.go`:
//! - keys are non-empty and at most [`MAX_KEY_LEN`] bytes (checked on writes only, as in Go).
//!   Keys reach the host as JSON strings, so they are always valid UTF-8;
//! - the quota counts value bytes (not keys) of the rows that have not expired; a write is
//!   refused when it would grow that sum beyond `max_size`, the growth being the new value's
//!   size minus the size of the live value it replaces. The message is Go's,
//!   `storage limit exceeded: would use 15 kB of 10 kB allowed`, with go-humanize's SI units;
//! - a TTL is an expiry instant (clock time); expired rows are invisible to reads, `list`,
//!   `getmany` and the quota, but still counted (and removed) by `deletebyprefix` until the
//!   sweep deletes them. See [`KvStore`] for the sweep schedule and the table layout;
//! - every acknowledged write is a durable redb commit (`Durability::Immediate`, redb's
//!   default) before the host function returns.
//!
//! Deliberate differences from Navidrome (whose store is SQLite):
//! - `kvstore_deletebyprefix` with an empty prefix fails with `prefix cannot be empty`, as the
//!   interface documentation says, where Navidrome's snapshot deletes every key;
//! - prefixes match bytes exactly. SQLite's `LIKE` used by Navidrome ignores ASCII case, so
//!   there `list("A")` also returns `a1`; here it does not;
//! - a request field of the wrong JSON type gets Go's `json: cannot unmarshal …` text, but an
//!   invalid base64 value gets the runtime's `invalid base64: …` text.
//!
//! What it is not: it does not parse the manifest's `maxSize` (the caller passes bytes; see
//! `nd_manifest`), and it never deletes a plugin's data (Navidrome keeps it on uninstall).

mod store;
mod wire;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nd_runtime::{HostImports, HostService, RegisterError};
use parking_lot::Mutex;

use crate::clock::{SharedClock, system_clock};
use crate::db;

pub use store::KvStore;

/// The quota when the manifest gives no `maxSize`: 1 MiB, as in Navidrome.
pub const DEFAULT_MAX_SIZE: u64 = 1_048_576;
/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 256;
/// Expired rows are swept at most this often (in clock time), and when a store is opened.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);
/// The store's file name inside the plugin's data folder.
pub const FILE_NAME: &str = "kvstore.redb";

/// Why a KV store operation failed. The `Display` text of the validation variants is
/// Navidrome's, and is what the plugin sees in `{"error": …}`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("key cannot be empty")]
    EmptyKey,
    #[error("key exceeds maximum length of {MAX_KEY_LEN} bytes")]
    KeyTooLong,
    #[error("ttlSeconds must be greater than 0")]
    InvalidTtl,
    #[error("prefix cannot be empty")]
    EmptyPrefix,
    #[error(
        "storage limit exceeded: would use {} of {} allowed",
        humanize_bytes(*would_use),
        humanize_bytes(*max_size)
    )]
    QuotaExceeded { would_use: u64, max_size: u64 },
    #[error("cannot open kvstore {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: db::OpenError,
    },
    #[error("kvstore {} has schema version {found}, this build reads version {expected}", path.display())]
    Schema {
        path: PathBuf,
        found: u64,
        expected: u64,
    },
    /// redb failed; `op` says what was being done (`"storing value"`, `"reading value"`…).
    #[error("{op}: {source}")]
    Storage {
        op: &'static str,
        source: Box<redb::Error>,
    },
}

/// How a [`KvStoreService`] stores data.
#[derive(Debug, Clone)]
pub struct KvStoreConfig {
    /// Navidrome's `DataFolder`; stores live in `<data_dir>/plugins/<id>/kvstore.redb`.
    pub data_dir: PathBuf,
    /// The quota in bytes of value data ([`DEFAULT_MAX_SIZE`] unless the manifest says).
    pub max_size: u64,
    /// Decides TTL expiry and the sweep schedule.
    pub clock: SharedClock,
}

impl KvStoreConfig {
    /// Stores under `data_dir`, with the default quota and the system clock.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            max_size: DEFAULT_MAX_SIZE,
            clock: system_clock(),
        }
    }

    /// Sets the quota in bytes (the manifest's `kvstore.maxSize`).
    #[must_use]
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// Sets the clock.
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

/// The `kvstore` host service for one plugin. Its store is opened at `register` (failing the
/// load if it cannot be) and swept of expired rows at `shutdown`.
#[derive(Debug)]
pub struct KvStoreService {
    config: KvStoreConfig,
    store: Mutex<Option<Arc<KvStore>>>,
}

impl KvStoreService {
    /// A service that will open its plugin's store under `config.data_dir`.
    pub fn new(config: KvStoreConfig) -> Self {
        Self {
            config,
            store: Mutex::new(None),
        }
    }

    /// The store opened by the last `register`, until `shutdown`.
    pub fn store(&self) -> Option<Arc<KvStore>> {
        self.store.lock().clone()
    }
}

impl HostService for KvStoreService {
    fn name(&self) -> &'static str {
        "kvstore"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let id = imports.plugin_id().to_owned();
        if id.is_empty() || id == "." || id == ".." || id.contains(['/', '\\']) {
            return Err(RegisterError(format!(
                "kvstore: plugin id {id:?} cannot name a data folder"
            )));
        }
        let path = db::plugin_data_dir(&self.config.data_dir, &id).join(FILE_NAME);
        let store = KvStore::open(&path, self.config.max_size, self.config.clock.clone())
            .map_err(|e| RegisterError(format!("kvstore for plugin {id}: {e}")))?;
        let store = Arc::new(store);
        *self.store.lock() = Some(Arc::clone(&store));
        wire::register(imports, &store);
        Ok(())
    }

    fn shutdown(&self) {
        let Some(store) = self.store.lock().take() else {
            return;
        };
        if let Err(error) = store.sweep_expired() {
            tracing::warn!(path = %store.path().display(), %error, "kvstore: sweep at shutdown failed");
        }
    }
}

/// Formats a byte count like go-humanize's `Bytes`: SI units (`B`, `kB`, `MB`…), one decimal
/// below 10 (`1.5 kB`), none from 10 on (`15 kB`), values under 10 bytes as `7 B`.
pub fn humanize_bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 10 {
        return format!("{n} B");
    }
    // Go takes floor(log(n)/log(1000)) in floating point; integer steps give the same exponent
    // without the rounding hazard at exact powers of 1000.
    let mut exp = 0usize;
    let mut unit = 1u64;
    while exp + 1 < UNITS.len() && n / unit >= 1000 {
        unit *= 1000;
        exp += 1;
    }
    let val = ((n as f64 / unit as f64) * 10.0 + 0.5).floor() / 10.0;
    let suffix = UNITS[exp];
    if val < 10.0 {
        format!("{val:.1} {suffix}")
    } else {
        format!("{} {suffix}", round_half_even(val))
    }
}

/// `val` (a multiple of 0.1) rounded to an integer the way Go's `%.0f` does: ties to even.
fn round_half_even(val: f64) -> u64 {
    let floor = val.floor();
    let diff = val - floor;
    let floor_int = floor as u64;
    if (diff - 0.5).abs() < 1e-9 {
        if floor_int.is_multiple_of(2) {
            floor_int
        } else {
            floor_int + 1
        }
    } else if diff > 0.5 {
        floor_int + 1
    } else {
        floor_int
    }
}
