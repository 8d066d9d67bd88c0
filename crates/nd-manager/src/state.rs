//! The manager's persistent state: one row per known plugin in an embedded redb database
//! (`<data>/plugins.redb`), the equivalent of Navidrome's `plugin` table (spec §6.1).
//!
//! Rows are JSON values in one table keyed by plugin id, so adding a field later needs no
//! migration (missing fields read as their default). Every change is one durable redb
//! transaction.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nd_host_appdata::provider::Scope;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use serde_json::Value;

const PLUGINS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("plugins");

/// One plugin's stored state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginRecord {
    /// The plugin id (the file name without `.ndp`).
    pub id: String,
    /// The package file.
    pub path: PathBuf,
    /// The manifest as last read (the raw `manifest.json` value).
    pub manifest: Value,
    /// The administrator's configuration (a JSON object), validated against the manifest's
    /// `config.schema` when saved; `None` until first set.
    pub config: Option<Value>,
    /// The users and libraries the plugin may see.
    pub scope: Scope,
    /// Whether the plugin should be loaded.
    pub enabled: bool,
    /// Why the plugin last failed to load (or why its package is unreadable).
    pub last_error: Option<String>,
    /// SHA-256 of the `.ndp` file, hex.
    pub sha256: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Set when the plugin comes from a development folder instead of a `.ndp` file in the
    /// plugins folder (see [`Manager::link_dev`](crate::Manager::link_dev)); `path` is then
    /// the folder. Rows written before this field existed read as `None`.
    pub dev: Option<DevLink>,
}

/// A plugin linked from a development folder: the manager packs its `manifest.json` and its
/// built wasm module into a package whenever it reads the plugin (sync, refresh, load).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DevLink {
    /// The folder holding `manifest.json` (absolute).
    pub folder: PathBuf,
    /// The wasm module, when given explicitly; otherwise it is looked for on every read
    /// (see [`dev_wasm`](crate::dev_wasm)).
    pub wasm: Option<PathBuf>,
}

/// An error of the state database.
#[derive(Debug, thiserror::Error)]
#[error("plugin state database {path}: {message}")]
pub struct StateError {
    path: PathBuf,
    message: String,
    in_use: bool,
}

impl StateError {
    /// Whether the database could not be opened because another process (or another
    /// manager in this process) has it open: redb allows one writer per file.
    pub fn in_use(&self) -> bool {
        self.in_use
    }
}

/// The open state database.
#[derive(Debug)]
pub(crate) struct StateDb {
    db: Database,
    path: PathBuf,
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl StateDb {
    pub(crate) fn open(path: &Path) -> Result<StateDb, StateError> {
        let db = Database::create(path).map_err(|e| {
            let in_use = matches!(e, redb::DatabaseError::DatabaseAlreadyOpen);
            StateError {
                path: path.to_owned(),
                message: if in_use {
                    "the database is in use by another process (or another manager of this \
                     process); only one may open a data directory at a time"
                        .to_owned()
                } else {
                    e.to_string()
                },
                in_use,
            }
        })?;
        let state = StateDb {
            db,
            path: path.to_owned(),
        };
        // Create the table so that reads of an empty database work.
        state.write(|_| Ok(()))?;
        Ok(state)
    }

    fn error(&self, message: impl ToString) -> StateError {
        StateError {
            path: self.path.clone(),
            message: message.to_string(),
            in_use: false,
        }
    }

    /// Every record, ordered by id.
    pub(crate) fn all(&self) -> Result<Vec<PluginRecord>, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.error(e))?;
        let table = tx.open_table(PLUGINS).map_err(|e| self.error(e))?;
        let mut out = Vec::new();
        for row in table.iter().map_err(|e| self.error(e))? {
            let (key, value) = row.map_err(|e| self.error(e))?;
            out.push(self.decode(key.value(), value.value())?);
        }
        Ok(out)
    }

    pub(crate) fn get(&self, id: &str) -> Result<Option<PluginRecord>, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.error(e))?;
        let table = tx.open_table(PLUGINS).map_err(|e| self.error(e))?;
        let row = table.get(id).map_err(|e| self.error(e))?;
        row.map(|v| self.decode(id, v.value())).transpose()
    }

    fn decode(&self, id: &str, bytes: &[u8]) -> Result<PluginRecord, StateError> {
        serde_json::from_slice(bytes)
            .map_err(|e| self.error(format!("row '{id}' is not a plugin record: {e}")))
    }

    /// Inserts or replaces a record (stamping `updated_at`).
    pub(crate) fn put(&self, record: &PluginRecord) -> Result<(), StateError> {
        let mut record = record.clone();
        record.updated_at = now();
        let bytes = serde_json::to_vec(&record).map_err(|e| self.error(e))?;
        self.write(|table| {
            table.insert(record.id.as_str(), bytes.as_slice())?;
            Ok(())
        })
    }

    /// Changes a record in place; `Ok(None)` when there is no such record.
    pub(crate) fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut PluginRecord),
    ) -> Result<Option<PluginRecord>, StateError> {
        let Some(mut record) = self.get(id)? else {
            return Ok(None);
        };
        change(&mut record);
        self.put(&record)?;
        Ok(Some(record))
    }

    pub(crate) fn remove(&self, id: &str) -> Result<(), StateError> {
        self.write(|table| {
            table.remove(id)?;
            Ok(())
        })
    }

    /// Clears every `last_error` (startup, as Navidrome does).
    pub(crate) fn clear_errors(&self) -> Result<(), StateError> {
        for record in self.all()? {
            if record.last_error.is_some() {
                self.update(&record.id, |r| r.last_error = None)?;
            }
        }
        Ok(())
    }

    fn write(
        &self,
        f: impl FnOnce(&mut redb::Table<'_, &str, &[u8]>) -> Result<(), redb::StorageError>,
    ) -> Result<(), StateError> {
        let tx = self.db.begin_write().map_err(|e| self.error(e))?;
        {
            let mut table = tx.open_table(PLUGINS).map_err(|e| self.error(e))?;
            f(&mut table).map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("plugins.redb");
        {
            let db = StateDb::open(&path)?;
            assert!(db.all()?.is_empty());
            let record = PluginRecord {
                id: "a".into(),
                enabled: true,
                config: Some(serde_json::json!({"k": 1})),
                sha256: "00".into(),
                ..PluginRecord::default()
            };
            db.put(&record)?;
            db.update("a", |r| r.last_error = Some("boom".into()))?;
            assert!(db.update("missing", |_| {})?.is_none());
        }
        let db = StateDb::open(&path)?;
        let all = db.all()?;
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].last_error.as_deref(), Some("boom"));
        assert_eq!(all[0].config, Some(serde_json::json!({"k": 1})));
        db.clear_errors()?;
        assert_eq!(db.get("a")?.and_then(|r| r.last_error), None);
        db.remove("a")?;
        assert!(db.get("a")?.is_none());
        Ok(())
    }
}
