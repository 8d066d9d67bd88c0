//! [`KvStore`]: the redb-backed store behind the `kvstore` service, usable on its own. It knows
//! nothing about JSON or plugins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use redb::{
    Durability, ReadableDatabase as _, ReadableTable as _, TableDefinition, WriteTransaction,
};

use super::{Error, MAX_KEY_LEN, SWEEP_INTERVAL};
use crate::clock::SharedClock;
use crate::db;

/// Key → (expiry in Unix milliseconds, or 0 for never; value bytes).
const KV: TableDefinition<'static, &'static str, (i64, &'static [u8])> = TableDefinition::new("kv");
/// (expiry in Unix milliseconds, key) → value size: the rows that have a TTL, by expiry.
const EXPIRY: TableDefinition<'static, (i64, &'static str), u64> =
    TableDefinition::new("kv_expiry");
/// Bookkeeping: [`TOTAL_BYTES`] and [`SCHEMA`].
const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");
/// Sum of the value sizes of every row in [`KV`], expired or not.
const TOTAL_BYTES: &str = "total_value_bytes";
/// Layout version of the file.
const SCHEMA: &str = "schema_version";
const SCHEMA_VERSION: u64 = 1;

fn storage<E: Into<redb::Error>>(op: &'static str) -> impl FnOnce(E) -> Error {
    move |e| Error::Storage {
        op,
        source: Box::new(e.into()),
    }
}

fn is_live(expires_at: i64, now: i64) -> bool {
    expires_at == 0 || expires_at > now
}

fn size_of(value: &[u8]) -> u64 {
    u64::try_from(value.len()).unwrap_or(u64::MAX)
}

/// A persistent key-value store in one redb file, with a byte quota and per-key TTLs.
///
/// Layout: table `kv` maps each key to `(expires_at_ms, value)` (`expires_at_ms` is 0 for keys
/// without a TTL); table `kv_expiry` indexes the keys that have a TTL by `(expires_at_ms, key)`
/// with their value size; table `meta` holds the sum of the value sizes of *all* rows (the
/// running total, updated in the same transaction as every change) and a schema version.
/// Bytes in use = running total − sizes of the rows in `kv_expiry` whose expiry has passed.
/// That subtraction only walks rows that expired since the last sweep, so the quota check
/// stays cheap and is exact whatever the clock says.
///
/// Expired rows are filtered on every read using the injected clock, and deleted by a sweep
/// that runs when the store is opened and then inside the first call made at least
/// [`SWEEP_INTERVAL`] of clock time after the previous sweep (no background thread), or
/// explicitly through [`KvStore::sweep_expired`]. Until swept, expired rows are still
/// counted by [`KvStore::delete_by_prefix`], as in Navidrome.
///
/// Every write is one redb write transaction committed with `Durability::Immediate`: when a
/// method returns `Ok`, the change survives a crash or kill of the process. A refused write
/// changes nothing. Two `KvStore`s on the same path in one process share the database handle
/// (see [`crate::db::open_shared`]), so a reloading plugin's old and new generation can both use it.
#[derive(Debug)]
pub struct KvStore {
    db: Arc<db::SharedDatabase>,
    path: PathBuf,
    max_size: u64,
    clock: SharedClock,
    /// Clock time (ms) of the last sweep.
    last_sweep: Mutex<i64>,
}

impl KvStore {
    /// Opens (creating it and its directory if needed) the store at `path`, with a quota of
    /// `max_size` value bytes, and sweeps expired rows.
    pub fn open(path: &Path, max_size: u64, clock: SharedClock) -> Result<Self, Error> {
        let db = db::open_shared(path).map_err(|source| Error::Open {
            path: path.to_owned(),
            source,
        })?;
        let now = clock.now_millis();
        let store = Self {
            db,
            path: path.to_owned(),
            max_size,
            clock,
            last_sweep: Mutex::new(now),
        };
        let txn = store.begin_write("opening store")?;
        {
            let mut meta = txn.open_table(META).map_err(storage("opening store"))?;
            let found = meta
                .get(SCHEMA)
                .map_err(storage("opening store"))?
                .map(|g| g.value());
            match found {
                None => {
                    meta.insert(SCHEMA, SCHEMA_VERSION)
                        .map_err(storage("opening store"))?;
                }
                Some(SCHEMA_VERSION) => {}
                Some(found) => {
                    return Err(Error::Schema {
                        path: path.to_owned(),
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            txn.open_table(KV).map_err(storage("opening store"))?;
            txn.open_table(EXPIRY).map_err(storage("opening store"))?;
        }
        let swept = sweep_in(&txn, now)?;
        txn.commit().map_err(storage("opening store"))?;
        tracing::debug!(path = %path.display(), max_size, swept, "kvstore opened");
        Ok(store)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The quota in value bytes.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// Stores `value` under `key`, without expiry (removing any TTL the key had).
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.put(key, value, None)
    }

    /// Stores `value` under `key`, expiring `ttl_seconds` (> 0) from now.
    pub fn set_with_ttl(&self, key: &str, value: &[u8], ttl_seconds: i64) -> Result<(), Error> {
        if ttl_seconds <= 0 {
            return Err(Error::InvalidTtl);
        }
        let now = self.clock.now_millis();
        let expires_at = now.saturating_add(ttl_seconds.saturating_mul(1000));
        self.put(key, value, Some(expires_at))
    }

    fn put(&self, key: &str, value: &[u8], expires_at: Option<i64>) -> Result<(), Error> {
        const OP: &str = "storing value";
        if key.is_empty() {
            return Err(Error::EmptyKey);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(Error::KeyTooLong);
        }
        let now = self.maybe_sweep();
        let new_size = size_of(value);
        let txn = self.begin_write(OP)?;
        {
            let mut kv = txn.open_table(KV).map_err(storage(OP))?;
            let mut expiry = txn.open_table(EXPIRY).map_err(storage(OP))?;
            let mut meta = txn.open_table(META).map_err(storage(OP))?;
            let total = read_total(&meta, OP)?;
            let old = kv.get(key).map_err(storage(OP))?.map(|g| {
                let (e, v) = g.value();
                (e, size_of(v))
            });
            let used = total.saturating_sub(expired_bytes(&expiry, now, OP)?);
            let old_live = match old {
                Some((e, size)) if is_live(e, now) => size,
                _ => 0,
            };
            if new_size > old_live {
                let would_use = used.saturating_add(new_size - old_live);
                if would_use > self.max_size {
                    drop((kv, expiry, meta));
                    // Nothing was written; an abort failure leaves nothing to undo either.
                    let _ = txn.abort();
                    return Err(Error::QuotaExceeded {
                        would_use,
                        max_size: self.max_size,
                    });
                }
            }
            let mut total = total;
            if let Some((e, size)) = old {
                if e != 0 {
                    expiry.remove((e, key)).map_err(storage(OP))?;
                }
                total = total.saturating_sub(size);
            }
            kv.insert(key, (expires_at.unwrap_or(0), value))
                .map_err(storage(OP))?;
            if let Some(e) = expires_at {
                expiry.insert((e, key), new_size).map_err(storage(OP))?;
            }
            meta.insert(TOTAL_BYTES, total.saturating_add(new_size))
                .map_err(storage(OP))?;
        }
        txn.commit().map_err(storage(OP))
    }

    /// The value of `key`, if it exists and has not expired.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        const OP: &str = "reading value";
        let now = self.maybe_sweep();
        let txn = self.db.begin_read().map_err(storage(OP))?;
        let kv = txn.open_table(KV).map_err(storage(OP))?;
        let found = kv.get(key).map_err(storage(OP))?;
        Ok(found.and_then(|g| {
            let (e, v) = g.value();
            is_live(e, now).then(|| v.to_vec())
        }))
    }

    /// The values of those `keys` that exist and have not expired.
    pub fn get_many<S: AsRef<str>>(&self, keys: &[S]) -> Result<BTreeMap<String, Vec<u8>>, Error> {
        const OP: &str = "querying values";
        let now = self.maybe_sweep();
        let mut out = BTreeMap::new();
        if keys.is_empty() {
            return Ok(out);
        }
        let txn = self.db.begin_read().map_err(storage(OP))?;
        let kv = txn.open_table(KV).map_err(storage(OP))?;
        for key in keys {
            let key = key.as_ref();
            if let Some(g) = kv.get(key).map_err(storage(OP))? {
                let (e, v) = g.value();
                if is_live(e, now) {
                    out.insert(key.to_owned(), v.to_vec());
                }
            }
        }
        Ok(out)
    }

    /// Whether `key` exists and has not expired.
    pub fn has(&self, key: &str) -> Result<bool, Error> {
        const OP: &str = "checking key";
        let now = self.maybe_sweep();
        let txn = self.db.begin_read().map_err(storage(OP))?;
        let kv = txn.open_table(KV).map_err(storage(OP))?;
        let found = kv.get(key).map_err(storage(OP))?;
        Ok(found.is_some_and(|g| is_live(g.value().0, now)))
    }

    /// The keys starting with `prefix` (all keys for `""`) that have not expired, sorted by
    /// bytes.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        const OP: &str = "listing keys";
        let now = self.maybe_sweep();
        let txn = self.db.begin_read().map_err(storage(OP))?;
        let kv = txn.open_table(KV).map_err(storage(OP))?;
        let mut keys = Vec::new();
        for entry in kv.range(prefix..).map_err(storage(OP))? {
            let (k, v) = entry.map_err(storage(OP))?;
            let key = k.value();
            if !key.starts_with(prefix) {
                break;
            }
            if is_live(v.value().0, now) {
                keys.push(key.to_owned());
            }
        }
        Ok(keys)
    }

    /// Removes `key`; removing a missing key is not an error.
    pub fn delete(&self, key: &str) -> Result<(), Error> {
        const OP: &str = "deleting value";
        self.maybe_sweep();
        let txn = self.begin_write(OP)?;
        {
            let mut kv = txn.open_table(KV).map_err(storage(OP))?;
            let mut expiry = txn.open_table(EXPIRY).map_err(storage(OP))?;
            let mut meta = txn.open_table(META).map_err(storage(OP))?;
            let removed = kv.remove(key).map_err(storage(OP))?.map(|g| {
                let (e, v) = g.value();
                (e, size_of(v))
            });
            if let Some((e, size)) = removed {
                if e != 0 {
                    expiry.remove((e, key)).map_err(storage(OP))?;
                }
                let total = read_total(&meta, OP)?;
                meta.insert(TOTAL_BYTES, total.saturating_sub(size))
                    .map_err(storage(OP))?;
            }
        }
        txn.commit().map_err(storage(OP))
    }

    /// Removes every key starting with `prefix` (which must not be empty), expired ones
    /// included, and returns how many were removed.
    pub fn delete_by_prefix(&self, prefix: &str) -> Result<u64, Error> {
        const OP: &str = "deleting keys";
        if prefix.is_empty() {
            return Err(Error::EmptyPrefix);
        }
        self.maybe_sweep();
        let txn = self.begin_write(OP)?;
        let count;
        {
            let mut kv = txn.open_table(KV).map_err(storage(OP))?;
            let mut expiry = txn.open_table(EXPIRY).map_err(storage(OP))?;
            let mut meta = txn.open_table(META).map_err(storage(OP))?;
            let mut doomed = Vec::new();
            for entry in kv.range(prefix..).map_err(storage(OP))? {
                let (k, v) = entry.map_err(storage(OP))?;
                let key = k.value();
                if !key.starts_with(prefix) {
                    break;
                }
                let (e, value) = v.value();
                doomed.push((key.to_owned(), e, size_of(value)));
            }
            let mut total = read_total(&meta, OP)?;
            for (key, e, size) in &doomed {
                kv.remove(key.as_str()).map_err(storage(OP))?;
                if *e != 0 {
                    expiry.remove((*e, key.as_str())).map_err(storage(OP))?;
                }
                total = total.saturating_sub(*size);
            }
            meta.insert(TOTAL_BYTES, total).map_err(storage(OP))?;
            count = u64::try_from(doomed.len()).unwrap_or(u64::MAX);
        }
        txn.commit().map_err(storage(OP))?;
        Ok(count)
    }

    /// Value bytes held by keys that have not expired.
    pub fn storage_used(&self) -> Result<u64, Error> {
        const OP: &str = "calculating storage used";
        let now = self.maybe_sweep();
        let txn = self.db.begin_read().map_err(storage(OP))?;
        let meta = txn.open_table(META).map_err(storage(OP))?;
        let expiry = txn.open_table(EXPIRY).map_err(storage(OP))?;
        let total = read_total(&meta, OP)?;
        Ok(total.saturating_sub(expired_bytes(&expiry, now, OP)?))
    }

    /// Deletes every expired row now, whatever the schedule, and returns how many.
    pub fn sweep_expired(&self) -> Result<u64, Error> {
        let now = self.clock.now_millis();
        *self.last_sweep.lock() = now;
        self.sweep(now)
    }

    /// Runs the sweep if [`SWEEP_INTERVAL`] has passed since the last one; returns the current
    /// clock time. A failed sweep is logged and retried at the next interval: the call that
    /// triggered it goes on, since expired rows are filtered anyway.
    fn maybe_sweep(&self) -> i64 {
        let now = self.clock.now_millis();
        let interval = i64::try_from(SWEEP_INTERVAL.as_millis()).unwrap_or(i64::MAX);
        let due = {
            let mut last = self.last_sweep.lock();
            let due = now.saturating_sub(*last) >= interval;
            if due {
                *last = now;
            }
            due
        };
        if due && let Err(error) = self.sweep(now) {
            tracing::warn!(path = %self.path.display(), %error, "kvstore: sweep failed");
        }
        now
    }

    fn sweep(&self, now: i64) -> Result<u64, Error> {
        let txn = self.begin_write("sweeping expired keys")?;
        let swept = sweep_in(&txn, now)?;
        txn.commit().map_err(storage("sweeping expired keys"))?;
        if swept > 0 {
            tracing::debug!(path = %self.path.display(), swept, "kvstore: expired keys swept");
        }
        Ok(swept)
    }

    fn begin_write(&self, op: &'static str) -> Result<WriteTransaction, Error> {
        let mut txn = self.db.begin_write().map_err(storage(op))?;
        // redb's default, spelled out: `commit` returns once the data is on disk.
        txn.set_durability(Durability::Immediate)
            .map_err(storage(op))?;
        Ok(txn)
    }
}

fn read_total(
    meta: &impl redb::ReadableTable<&'static str, u64>,
    op: &'static str,
) -> Result<u64, Error> {
    Ok(meta
        .get(TOTAL_BYTES)
        .map_err(storage(op))?
        .map(|g| g.value())
        .unwrap_or(0))
}

/// Sum of the sizes of the rows whose expiry is at or before `now`.
fn expired_bytes(
    expiry: &impl redb::ReadableTable<(i64, &'static str), u64>,
    now: i64,
    op: &'static str,
) -> Result<u64, Error> {
    let mut sum = 0u64;
    for entry in expiry
        .range(..(now.saturating_add(1), ""))
        .map_err(storage(op))?
    {
        let (_, size) = entry.map_err(storage(op))?;
        sum = sum.saturating_add(size.value());
    }
    Ok(sum)
}

/// Deletes the rows that expired at or before `now`, inside `txn`.
fn sweep_in(txn: &WriteTransaction, now: i64) -> Result<u64, Error> {
    const OP: &str = "sweeping expired keys";
    let mut kv = txn.open_table(KV).map_err(storage(OP))?;
    let mut expiry = txn.open_table(EXPIRY).map_err(storage(OP))?;
    let mut meta = txn.open_table(META).map_err(storage(OP))?;
    let mut doomed = Vec::new();
    for entry in expiry
        .range(..(now.saturating_add(1), ""))
        .map_err(storage(OP))?
    {
        let (k, _) = entry.map_err(storage(OP))?;
        let (e, key) = k.value();
        doomed.push((e, key.to_owned()));
    }
    if doomed.is_empty() {
        return Ok(0);
    }
    let mut total = read_total(&meta, OP)?;
    for (e, key) in &doomed {
        expiry.remove((*e, key.as_str())).map_err(storage(OP))?;
        // The index and the row are always changed together; check anyway that the row is the
        // one indexed before removing it.
        let row = kv
            .get(key.as_str())
            .map_err(storage(OP))?
            .map(|g| (g.value().0, size_of(g.value().1)));
        if let Some((row_e, size)) = row
            && row_e == *e
        {
            kv.remove(key.as_str()).map_err(storage(OP))?;
            total = total.saturating_sub(size);
        }
    }
    meta.insert(TOTAL_BYTES, total).map_err(storage(OP))?;
    Ok(u64::try_from(doomed.len()).unwrap_or(u64::MAX))
}
