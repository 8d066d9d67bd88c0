//! Opening the per-plugin redb files.
//!
//! redb refuses to open a file twice in one process, but a plugin being reloaded has two
//! generations alive at once (the old one finishing its calls, the new one starting), each with
//! its own service. So databases are opened through a process-wide registry: the second opener
//! of a path gets the `Arc` the first one holds, and the file is closed when the last user drops it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::Mutex;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {source}")]
    Database {
        path: PathBuf,
        source: Box<redb::DatabaseError>,
    },
}

/// `<data_dir>/plugins/<plugin_id>`, Navidrome's per-plugin data folder. `plugin_id` must be
/// a valid plugin ID (no path separators; see `nd_manifest::validate_plugin_id`).
pub fn plugin_data_dir(data_dir: &Path, plugin_id: &str) -> PathBuf {
    data_dir.join("plugins").join(plugin_id)
}

/// Creates `dir` and its parents, owner-only (0700) on Unix, as Navidrome does.
pub fn create_private_dir(dir: &Path) -> Result<(), OpenError> {
    let err = |source| OpenError::Dir {
        path: dir.to_owned(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(err)
}

fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<redb::Database>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<PathBuf, Weak<redb::Database>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Opens (creating it and its directory if needed) the redb database at `path`, sharing one
/// handle per file within the process.
pub fn open_shared(path: &Path) -> Result<Arc<redb::Database>, OpenError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    create_private_dir(parent)?;
    let key = std::fs::canonicalize(parent)
        .map(|p| p.join(path.file_name().unwrap_or_default()))
        .unwrap_or_else(|_| path.to_owned());
    let mut registry = registry().lock();
    registry.retain(|_, db| db.strong_count() > 0);
    if let Some(db) = registry.get(&key).and_then(Weak::upgrade) {
        return Ok(db);
    }
    let db = redb::Database::create(path).map_err(|source| OpenError::Database {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
    let db = Arc::new(db);
    registry.insert(key, Arc::downgrade(&db));
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_open_shares_the_handle_and_the_file_closes_with_the_last_user() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = plugin_data_dir(dir.path(), "p").join("x.redb");
        let a = open_shared(&path).expect("open");
        let b = open_shared(&path).expect("open again");
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        // Closed: a plain redb open succeeds now, which it would not while the file is open.
        drop(redb::Database::create(&path).expect("reopen after close"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path.parent().expect("parent"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
