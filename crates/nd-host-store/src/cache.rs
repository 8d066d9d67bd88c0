//! The cache service (spec §3.4): Navidrome's ten `cache_*` host functions, backed by an
//! in-memory, per-plugin, typed TTL cache.
//!
//! One [`CacheService`] serves one plugin, so keys are isolated without prefixing; linking the
//! same instance into a second plugin is refused at registration. Wire shapes follow
//! Navidrome's generated `cache_gen.go` exactly: a missing key reads as `{}`, bytes travel as
//! padded standard base64, ints as JSON integers, floats as JSON numbers, and request field
//! names match case-insensitively as in Go's `encoding/json` (so `ttlSeconds` and `TTLSeconds`
//! both work; `ttl_seconds` does not, as in Navidrome).
//!
//! Behaviour mirrored from Navidrome (`jellydator/ttlcache` with its defaults):
//! - values are typed; a get of another type reads as absent (`{}`);
//! - `ttlSeconds <= 0` means [`DEFAULT_TTL`] (24 h); an entry is expired once the clock is
//!   strictly past its expiry;
//! - a get or `cache_has` that finds a live entry (of any type) restarts its TTL ("touch on
//!   hit");
//! - the cache is cleared when the plugin unloads ([`HostService::shutdown`]).
//!
//! Beyond the reference, the cache is **bounded** ([`CacheLimits`]: entries and key + value
//! bytes, by default 10,000 entries and 16 MiB). A set that does not fit evicts expired entries
//! first, then live ones in least-recently-used order (an `lru::LruCache`; gets and `has` count
//! as use). A single entry larger than the byte bound is refused with an error to the guest
//! and leaves any previous value of the key in place. [`CacheService::stats`] reports sizes and
//! the counts of evictions, expirations, hits and misses.
//!
//! There is no janitor thread: expired entries are dropped when a call touches them, by a
//! sweep before anything live is evicted, and by an amortised sweep that runs at most once
//! every `max(64, entries)` calls and only once something may have expired. All time comes
//! from the injected [`Clock`](crate::clock::Clock), so tests run in virtual time.
//!
//! What it is not: it does not persist anything (that is the KV store, [`crate::kvstore`]),
//! and it does not read manifests (link it only when the manifest grants `cache`).
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use nd_host_store::cache::{CacheLimits, CacheService};
//! use nd_runtime::{PluginConfig, Runtime, RuntimeConfig};
//!
//! # fn main() -> anyhow::Result<()> {
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let compiled = runtime.compile("my-plugin", &std::fs::read("my-plugin.wasm")?)?;
//!
//! // One service per plugin: its cache is that plugin's alone.
//! let cache = Arc::new(CacheService::new(CacheLimits {
//!     max_entries: 1_000,
//!     max_bytes: 4 * 1024 * 1024,
//! }));
//! let mut config = PluginConfig::new("my-plugin");
//! config.services.push(cache.clone());
//! let plugin = runtime.load(&compiled, config)?;
//!
//! plugin.call("nd_on_init", b"{}")?;
//! println!("{:?}", cache.stats());
//! plugin.shutdown(); // clears the cache
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lru::LruCache;
use nd_runtime::{
    GoRequest, HostError, HostImports, HostService, RegisterError, encode_bytes, json_response,
};
use parking_lot::Mutex;
use serde_json::{Map, Value};

use crate::clock::{SharedClock, system_clock};

/// TTL of an entry set with `ttlSeconds <= 0`, as in Navidrome.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// A sweep for expired entries runs at most once every `max(SWEEP_EVERY, entries)` calls.
const SWEEP_EVERY: usize = 64;

/// Bounds of one plugin's cache. `0` disables a bound (with both 0 the cache is unbounded, as
/// in Navidrome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Most entries held at once.
    pub max_entries: usize,
    /// Most bytes held at once, counted as key length plus value length (8 for ints and
    /// floats, the decoded length for bytes). Also the largest single entry.
    pub max_bytes: u64,
}

impl CacheLimits {
    /// No bounds at all: Navidrome's behaviour.
    pub const UNBOUNDED: Self = Self {
        max_entries: 0,
        max_bytes: 0,
    };
}

impl Default for CacheLimits {
    /// 10,000 entries and 16 MiB per plugin: room for the metadata and token caching plugins
    /// do, while a runaway plugin cannot grow the server without limit.
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// A snapshot of one plugin's cache, from [`CacheService::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Live entries.
    pub entries: usize,
    /// Bytes of the live entries (key + value).
    pub bytes: u64,
    /// Live entries dropped to make room (least recently used first).
    pub evictions: u64,
    /// Entries dropped because their TTL ran out.
    pub expired: u64,
    /// Gets and `has` calls that found a live entry of the requested type.
    pub hits: u64,
    /// Gets and `has` calls that found nothing, an expired entry, or another type.
    pub misses: u64,
}

/// Navidrome's `cache` host service for one plugin; see the [module docs](self).
pub struct CacheService {
    shared: Arc<Shared>,
}

impl fmt::Debug for CacheService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheService")
            .field("plugin", &*self.shared.plugin.lock())
            .field("limits", &self.shared.limits)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Default for CacheService {
    fn default() -> Self {
        Self::new(CacheLimits::default())
    }
}

impl CacheService {
    /// A cache with `limits`, on the system clock.
    pub fn new(limits: CacheLimits) -> Self {
        Self::with_clock(limits, system_clock())
    }

    /// A cache with `limits` whose TTLs follow `clock` (e.g. a
    /// [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn with_clock(limits: CacheLimits, clock: SharedClock) -> Self {
        Self {
            shared: Arc::new(Shared {
                limits,
                clock,
                plugin: Mutex::new(None),
                state: Mutex::new(State::new()),
            }),
        }
    }

    /// The bounds this cache was built with.
    pub fn limits(&self) -> CacheLimits {
        self.shared.limits
    }

    /// Current size and counters. Expired entries still held are dropped first, so `entries`
    /// and `bytes` count live entries only.
    pub fn stats(&self) -> CacheStats {
        let now = self.shared.clock.now();
        let mut state = self.shared.state.lock();
        if state.sweep_due(now) {
            state.sweep(now);
        }
        state.stats()
    }
}

impl HostService for CacheService {
    fn name(&self) -> &'static str {
        "cache"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let id = imports.plugin_id().to_owned();
        {
            let mut plugin = self.shared.plugin.lock();
            match &*plugin {
                Some(bound) if *bound != id => {
                    return Err(RegisterError(format!(
                        "cache service already serves plugin {bound:?}; \
                         plugin {id:?} needs its own CacheService"
                    )));
                }
                _ => *plugin = Some(id),
            }
        }
        let setters = [
            ("cache_setstring", Kind::String),
            ("cache_setint", Kind::Int),
            ("cache_setfloat", Kind::Float),
            ("cache_setbytes", Kind::Bytes),
        ];
        for (name, kind) in setters {
            let shared = Arc::clone(&self.shared);
            imports.json(name, move |_, req| shared.set(kind, &req));
        }
        let getters = [
            ("cache_getstring", Kind::String),
            ("cache_getint", Kind::Int),
            ("cache_getfloat", Kind::Float),
            ("cache_getbytes", Kind::Bytes),
        ];
        for (name, kind) in getters {
            let shared = Arc::clone(&self.shared);
            imports.json(name, move |_, req| shared.get(Some(kind), &req));
        }
        let shared = Arc::clone(&self.shared);
        imports.json("cache_has", move |_, req| shared.get(None, &req));
        let shared = Arc::clone(&self.shared);
        imports.json("cache_remove", move |_, req| shared.remove(&req));
        Ok(())
    }

    /// Clears the cache (Navidrome clears it on unload). Counters are kept.
    fn shutdown(&self) {
        self.shared.state.lock().clear();
        tracing::debug!(plugin = ?*self.shared.plugin.lock(), "closed plugin cache");
    }
}

/// What the host functions share.
struct Shared {
    limits: CacheLimits,
    clock: SharedClock,
    /// The plugin this service was registered for.
    plugin: Mutex<Option<String>>,
    state: Mutex<State>,
}

impl Shared {
    /// `cache_set*`: `{key, value, ttlSeconds}` → `{}`.
    fn set(&self, kind: Kind, req: &Value) -> Result<Value, HostError> {
        let req = GoRequest::parse(req, kind.set_request())?;
        let key = req.string("key")?;
        let value = match kind {
            Kind::String => Stored::String(req.string("value")?),
            Kind::Int => Stored::Int(req.int64("value")?),
            Kind::Float => Stored::Float(req.float64("value")?),
            Kind::Bytes => Stored::Bytes(req.bytes("value")?),
        };
        let ttl = match req.int64("ttlSeconds")? {
            s if s <= 0 => DEFAULT_TTL,
            s => Duration::from_secs(s.unsigned_abs()),
        };
        let now = self.clock.now();
        let mut state = self.state.lock();
        state.tick(now);
        state.set(key, value, ttl, now, self.limits)?;
        Ok(Value::Object(Map::new()))
    }

    /// `cache_get*` (`kind` given) → `{value?, exists?}`; `cache_has` (`None`) → `{exists?}`.
    fn get(&self, kind: Option<Kind>, req: &Value) -> Result<Value, HostError> {
        let go_type = kind.map_or("CacheHasRequest", Kind::get_request);
        let key = GoRequest::parse(req, go_type)?.string("key")?;
        let now = self.clock.now();
        let mut state = self.state.lock();
        state.tick(now);
        let (response, hit) = match (state.lookup(&key, now), kind) {
            (None, _) => (Map::new(), false),
            (Some(_), None) => (exists(Map::new()), true),
            (Some(stored), Some(kind)) if stored.kind() == kind => {
                let mut response = Map::new();
                response.insert("value".to_owned(), stored.to_json());
                (exists(response), true)
            }
            (Some(stored), Some(kind)) => {
                tracing::debug!(
                    plugin = ?*self.plugin.lock(),
                    key,
                    expected = kind.go_name(),
                    found = stored.kind().go_name(),
                    "cache type mismatch"
                );
                (Map::new(), false)
            }
        };
        if hit {
            state.hits += 1;
        } else {
            state.misses += 1;
        }
        Ok(json_response(Value::Object(response)))
    }

    /// `cache_remove`: `{key}` → `{}`, also when the key is missing.
    fn remove(&self, req: &Value) -> Result<Value, HostError> {
        let key = GoRequest::parse(req, "CacheRemoveRequest")?.string("key")?;
        let now = self.clock.now();
        let mut state = self.state.lock();
        state.tick(now);
        state.remove(&key);
        Ok(Value::Object(Map::new()))
    }
}

fn exists(mut response: Map<String, Value>) -> Map<String, Value> {
    response.insert("exists".to_owned(), Value::Bool(true));
    response
}

/// The four value types of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Int,
    Float,
    Bytes,
}

impl Kind {
    /// Go's name of the type, for messages.
    fn go_name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Int => "int64",
            Self::Float => "float64",
            Self::Bytes => "[]uint8",
        }
    }

    fn set_request(self) -> &'static str {
        match self {
            Self::String => "CacheSetStringRequest",
            Self::Int => "CacheSetIntRequest",
            Self::Float => "CacheSetFloatRequest",
            Self::Bytes => "CacheSetBytesRequest",
        }
    }

    fn get_request(self) -> &'static str {
        match self {
            Self::String => "CacheGetStringRequest",
            Self::Int => "CacheGetIntRequest",
            Self::Float => "CacheGetFloatRequest",
            Self::Bytes => "CacheGetBytesRequest",
        }
    }
}

/// A cached value.
#[derive(Debug, Clone, PartialEq)]
enum Stored {
    String(String),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
}

impl Stored {
    fn kind(&self) -> Kind {
        match self {
            Self::String(_) => Kind::String,
            Self::Int(_) => Kind::Int,
            Self::Float(_) => Kind::Float,
            Self::Bytes(_) => Kind::Bytes,
        }
    }

    /// Bytes counted against [`CacheLimits::max_bytes`].
    fn size(&self) -> u64 {
        let len = match self {
            Self::String(s) => s.len(),
            Self::Int(_) | Self::Float(_) => 8,
            Self::Bytes(b) => b.len(),
        };
        len as u64
    }

    /// The value as Go's `encoding/json` writes it.
    fn to_json(&self) -> Value {
        match self {
            Self::String(s) => Value::String(s.clone()),
            Self::Int(i) => Value::from(*i),
            Self::Float(f) => go_float(*f),
            Self::Bytes(b) => Value::String(encode_bytes(b)),
        }
    }
}

/// A float64 written as Go writes it where it matters: integral values without a fraction
/// (`3`, not `3.0`).
fn go_float(f: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer below is exact
    if f.fract() == 0.0 && f.abs() < EXACT {
        #[allow(clippy::cast_possible_truncation)]
        return Value::from(f as i64);
    }
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// One cache entry.
#[derive(Debug)]
struct Entry {
    value: Stored,
    /// Key + value bytes.
    size: u64,
    ttl: Duration,
    /// `None`: so far ahead that `SystemTime` cannot hold it.
    expires_at: Option<SystemTime>,
}

impl Entry {
    fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|t| now > t)
    }
}

/// The earlier of two expiries (`None` is never).
fn earliest(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The guest-visible error of an entry larger than the whole byte bound.
#[derive(Debug)]
struct TooLarge {
    size: u64,
    max: u64,
}

impl From<TooLarge> for HostError {
    fn from(e: TooLarge) -> Self {
        HostError::Guest(format!(
            "cache entry too large: key and value take {} bytes, the plugin's cache holds at most {}",
            e.size, e.max
        ))
    }
}

/// The cache proper, behind the service's mutex.
struct State {
    entries: LruCache<String, Entry>,
    bytes: u64,
    /// No entry expires before this (a lower bound; `None`: nothing can expire).
    next_expiry: Option<SystemTime>,
    calls_since_sweep: usize,
    evictions: u64,
    expired: u64,
    hits: u64,
    misses: u64,
}

impl State {
    fn new() -> Self {
        Self {
            entries: LruCache::unbounded(),
            bytes: 0,
            next_expiry: None,
            calls_since_sweep: 0,
            evictions: 0,
            expired: 0,
            hits: 0,
            misses: 0,
        }
    }

    fn stats(&self) -> CacheStats {
        CacheStats {
            entries: self.entries.len(),
            bytes: self.bytes,
            evictions: self.evictions,
            expired: self.expired,
            hits: self.hits,
            misses: self.misses,
        }
    }

    /// True if some entry may have expired by `now`.
    fn sweep_due(&self, now: SystemTime) -> bool {
        self.next_expiry.is_some_and(|t| now > t)
    }

    /// Counts a call and sweeps when that is both due and amortised.
    fn tick(&mut self, now: SystemTime) {
        self.calls_since_sweep = self.calls_since_sweep.saturating_add(1);
        if self.calls_since_sweep >= SWEEP_EVERY.max(self.entries.len()) && self.sweep_due(now) {
            self.sweep(now);
        }
    }

    /// Drops every expired entry and recomputes [`Self::next_expiry`].
    fn sweep(&mut self, now: SystemTime) {
        let (mut freed, mut dropped, mut next) = (0, 0, None);
        self.entries.retain(|_, entry| {
            if entry.is_expired(now) {
                freed += entry.size;
                dropped += 1;
                false
            } else {
                next = earliest(next, entry.expires_at);
                true
            }
        });
        self.bytes -= freed;
        self.expired += dropped;
        self.next_expiry = next;
        self.calls_since_sweep = 0;
    }

    fn set(
        &mut self,
        key: String,
        value: Stored,
        ttl: Duration,
        now: SystemTime,
        limits: CacheLimits,
    ) -> Result<(), TooLarge> {
        let size = (key.len() as u64).saturating_add(value.size());
        if limits.max_bytes > 0 && size > limits.max_bytes {
            return Err(TooLarge {
                size,
                max: limits.max_bytes,
            });
        }
        self.remove(&key);
        let full = |s: &Self| {
            (limits.max_entries > 0 && s.entries.len() >= limits.max_entries)
                || (limits.max_bytes > 0 && s.bytes + size > limits.max_bytes)
        };
        if full(self) && self.sweep_due(now) {
            self.sweep(now);
        }
        while full(self) {
            let Some((_, old)) = self.entries.pop_lru() else {
                break;
            };
            self.bytes -= old.size;
            if old.is_expired(now) {
                self.expired += 1;
            } else {
                self.evictions += 1;
            }
        }
        let expires_at = now.checked_add(ttl);
        self.next_expiry = earliest(self.next_expiry, expires_at);
        self.bytes += size;
        self.entries.push(
            key,
            Entry {
                value,
                size,
                ttl,
                expires_at,
            },
        );
        Ok(())
    }

    /// The live value of `key`, marked as used and with its TTL restarted; an expired entry
    /// is dropped and reads as `None`.
    fn lookup(&mut self, key: &str, now: SystemTime) -> Option<&Stored> {
        if self.entries.peek(key)?.is_expired(now) {
            self.remove(key);
            self.expired += 1;
            return None;
        }
        let entry = self.entries.get_mut(key)?;
        entry.expires_at = now.checked_add(entry.ttl);
        Some(&entry.value)
    }

    fn remove(&mut self, key: &str) {
        if let Some(old) = self.entries.pop(key) {
            self.bytes -= old.size;
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.next_expiry = None;
        self.calls_since_sweep = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use serde_json::json;

    fn service(limits: CacheLimits) -> (CacheService, Arc<ManualClock>) {
        let clock = ManualClock::at_fixed_start();
        (CacheService::with_clock(limits, clock.clone()), clock)
    }

    fn set(s: &CacheService, kind: Kind, req: Value) -> Result<Value, HostError> {
        s.shared.set(kind, &req)
    }

    fn get(s: &CacheService, kind: Option<Kind>, key: &str) -> Value {
        s.shared.get(kind, &json!({ "key": key })).unwrap()
    }

    #[test]
    fn go_floats_drop_an_integral_fraction() {
        assert_eq!(go_float(3.0).to_string(), "3");
        assert_eq!(go_float(-2.0).to_string(), "-2");
        assert_eq!(go_float(2.5).to_string(), "2.5");
        assert_eq!(go_float(1e300).to_string(), "1e+300");
    }

    #[test]
    fn requests_are_read_as_go_reads_them() {
        let (s, _) = service(CacheLimits::default());
        set(
            &s,
            Kind::Int,
            json!({"KEY": "k", "Value": 5, "ttl": "ignored"}),
        )
        .unwrap();
        assert_eq!(
            get(&s, Some(Kind::Int), "k"),
            json!({"value": 5, "exists": true})
        );
        assert_eq!(
            set(&s, Kind::Int, json!({"key": "k", "value": 1.5})).unwrap_err(),
            HostError::Guest(
                "json: cannot unmarshal number 1.5 into Go struct field \
                 CacheSetIntRequest.value of type int64"
                    .into()
            )
        );
        assert_eq!(
            s.shared.get(None, &json!([1])).unwrap_err(),
            HostError::Guest(
                "json: cannot unmarshal array into Go value of type host.CacheHasRequest".into()
            )
        );
    }

    #[test]
    fn replacing_a_key_keeps_byte_accounting_exact() {
        let (s, _) = service(CacheLimits::default());
        set(&s, Kind::String, json!({"key": "k", "value": "abc"})).unwrap();
        set(&s, Kind::Bytes, json!({"key": "k", "value": "AAAAAA=="})).unwrap();
        let stats = s.stats();
        assert_eq!((stats.entries, stats.bytes), (1, 1 + 4));
        s.shared.remove(&json!({"key": "k"})).unwrap();
        assert_eq!(s.stats().bytes, 0);
    }

    #[test]
    fn touch_on_hit_restarts_the_ttl() {
        let (s, clock) = service(CacheLimits::default());
        set(
            &s,
            Kind::Int,
            json!({"key": "k", "value": 7, "ttlSeconds": 10}),
        )
        .unwrap();
        clock.advance(Duration::from_secs(8));
        assert_eq!(get(&s, None, "k"), json!({"exists": true}));
        clock.advance(Duration::from_secs(8));
        assert_eq!(
            get(&s, Some(Kind::Int), "k"),
            json!({"value": 7, "exists": true})
        );
        clock.advance(Duration::from_secs(11));
        assert_eq!(get(&s, Some(Kind::Int), "k"), json!({}));
        assert_eq!(s.stats().expired, 1);
    }

    #[test]
    fn eviction_sweeps_expired_entries_before_live_ones() {
        let (s, clock) = service(CacheLimits {
            max_entries: 2,
            max_bytes: 0,
        });
        set(
            &s,
            Kind::Int,
            json!({"key": "old", "value": 1, "ttlSeconds": 100}),
        )
        .unwrap();
        set(
            &s,
            Kind::Int,
            json!({"key": "short", "value": 1, "ttlSeconds": 1}),
        )
        .unwrap();
        clock.advance(Duration::from_secs(2));
        set(&s, Kind::Int, json!({"key": "new", "value": 1})).unwrap();
        assert_eq!(get(&s, None, "old"), json!({"exists": true}));
        let stats = s.stats();
        assert_eq!((stats.evictions, stats.expired, stats.entries), (0, 1, 2));
    }

    #[test]
    fn the_amortised_sweep_frees_expired_entries_nobody_reads() {
        let (s, clock) = service(CacheLimits::UNBOUNDED);
        for i in 0..10 {
            set(
                &s,
                Kind::Int,
                json!({"key": format!("k{i}"), "value": i, "ttlSeconds": 1}),
            )
            .unwrap();
        }
        clock.advance(Duration::from_secs(2));
        for _ in 0..SWEEP_EVERY {
            get(&s, None, "other");
        }
        // Read the state directly: `stats()` would sweep by itself.
        let state = s.shared.state.lock();
        assert_eq!(
            (state.entries.len(), state.bytes, state.expired),
            (0, 0, 10)
        );
        assert_eq!(state.next_expiry, None);
    }

    #[test]
    fn a_huge_ttl_never_expires_instead_of_overflowing() {
        let (s, clock) = service(CacheLimits::default());
        set(
            &s,
            Kind::String,
            json!({"key": "k", "value": "v", "ttlSeconds": i64::MAX}),
        )
        .unwrap();
        clock.advance(Duration::from_secs(1 << 40));
        assert_eq!(
            get(&s, Some(Kind::String), "k"),
            json!({"value": "v", "exists": true})
        );
    }
}
