//! The storage service (spec §3.6, permission `storage`): a private read-write directory,
//! `<data>/plugins/<id>/storage` (0700 on Unix), mounted at `/storage` through WASI, and the
//! `storage_getstoragepath` function that names that mount point.
//!
//! The directory and its mount come from [`storage_mount`], called by whoever builds the
//! plugin's [`PluginConfig`](nd_runtime::PluginConfig); the service only answers
//! `storage_getstoragepath {}` with `{"result":"/storage"}`. The mount has the same jail as
//! every mount (spec §6.6): no symlink creation, no path leaving it. As in Navidrome there is
//! no quota, and the directory is kept when the plugin is uninstalled. Two plugin ids never
//! share a directory, even when they run the same wasm.

use std::io;
use std::path::{Path, PathBuf};

use nd_host_store::db::{OpenError, create_private_dir, plugin_data_dir};
use nd_runtime::{HostImports, HostService, Mount, RegisterError};
use serde_json::json;

/// Where the storage directory is mounted in the guest.
pub const STORAGE_MOUNT_POINT: &str = "/storage";

/// `<data_dir>/plugins/<plugin_id>/storage`.
pub fn storage_dir(data_dir: &Path, plugin_id: &str) -> PathBuf {
    plugin_data_dir(data_dir, plugin_id).join("storage")
}

/// Creates the plugin's storage directory (and its parents, 0700 on Unix) if needed and
/// returns its read-write mount at `/storage`. A plugin id that is empty, `.`, `..` or holds
/// a path separator is refused (`InvalidInput`), so a directory can never be shared.
pub fn storage_mount(data_dir: &Path, plugin_id: &str) -> io::Result<Mount> {
    if plugin_id.is_empty()
        || plugin_id == "."
        || plugin_id == ".."
        || plugin_id.contains(['/', '\\', '\0'])
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid plugin id {plugin_id:?} for a storage directory"),
        ));
    }
    let dir = storage_dir(data_dir, plugin_id);
    create_private_dir(&dir).map_err(|e| match e {
        OpenError::Dir { ref source, .. } => io::Error::new(source.kind(), e.to_string()),
        other => io::Error::other(other.to_string()),
    })?;
    Ok(Mount {
        guest: STORAGE_MOUNT_POINT.to_owned(),
        host: dir,
        writable: true,
    })
}

/// Navidrome's `storage` host service; see the [module docs](self). Stateless.
#[derive(Debug, Clone, Copy, Default)]
pub struct StorageService;

impl StorageService {
    /// The service (same as `StorageService::default()`).
    pub fn new() -> Self {
        Self
    }
}

impl HostService for StorageService {
    fn name(&self) -> &'static str {
        "storage"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        imports.json("storage_getstoragepath", |_, _| {
            Ok(json!({ "result": STORAGE_MOUNT_POINT }))
        });
        Ok(())
    }
}
