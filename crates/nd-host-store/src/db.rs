//! Opening the per-plugin redb files.
//!
//! redb refuses to open a file twice in one process, but a plugin being reloaded has two
//! generations alive at once (the old one finishing its calls, the new one starting), each with
//! its own service. So databases are opened through a process-wide registry: the second opener
//! of a path gets the `Arc` the first one holds, and the file is closed when the last user drops it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::{Condvar, Mutex};

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

/// Open files by canonical path. An entry whose handle is dead means "closing": its
/// [`SharedDatabase`] is being dropped and will remove the entry once the file is closed.
struct Registry {
    open: Mutex<HashMap<PathBuf, Weak<SharedDatabase>>>,
    /// Signalled when a closing entry is removed.
    closed: Condvar,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry {
        open: Mutex::new(HashMap::new()),
        closed: Condvar::new(),
    })
}

/// A redb database shared within the process (see [`open_shared`]); derefs to
/// [`redb::Database`]. The file is closed when the last handle is dropped.
pub struct SharedDatabase {
    /// `Some` until the handle is dropped.
    db: Option<redb::Database>,
    key: PathBuf,
}

impl std::fmt::Debug for SharedDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedDatabase")
            .field("path", &self.key)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for SharedDatabase {
    type Target = redb::Database;

    fn deref(&self) -> &redb::Database {
        self.db
            .as_ref()
            .expect("a SharedDatabase holds its database until it is dropped")
    }
}

impl Drop for SharedDatabase {
    /// Closes the file under the registry lock, so that no one opens it between the last
    /// handle going away and redb releasing its lock on the file (which redb would refuse
    /// with "Database already open").
    fn drop(&mut self) {
        let registry = registry();
        let mut open = registry.open.lock();
        drop(self.db.take());
        if open.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
            open.remove(&self.key);
        }
        registry.closed.notify_all();
    }
}

/// Opens (creating it and its directory if needed) the redb database at `path`, sharing one
/// handle per file within the process. If the last handle of the file is being dropped on
/// another thread, waits for it to close and opens it again.
pub fn open_shared(path: &Path) -> Result<Arc<SharedDatabase>, OpenError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    create_private_dir(parent)?;
    let key = std::fs::canonicalize(parent)
        .map(|p| p.join(path.file_name().unwrap_or_default()))
        .unwrap_or_else(|_| path.to_owned());
    let registry = registry();
    let mut open = registry.open.lock();
    loop {
        match open.get(&key).map(Weak::upgrade) {
            Some(Some(db)) => return Ok(db),
            // Closing on another thread: its drop removes the entry and signals.
            Some(None) => registry.closed.wait(&mut open),
            None => break,
        }
    }
    let db = redb::Database::create(path).map_err(|source| OpenError::Database {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
    let db = Arc::new(SharedDatabase {
        db: Some(db),
        key: key.clone(),
    });
    open.insert(key, Arc::downgrade(&db));
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
