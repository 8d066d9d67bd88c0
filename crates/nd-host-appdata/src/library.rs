//! The library service (spec §3.9, permission `library`): `library_getlibrary` and
//! `library_getalllibraries`, plus [`library_mounts`], the WASI mounts that give a plugin with
//! `library.filesystem: true` its libraries' files at `/libraries/<id>` (spec §6.6).
//!
//! Behaviour mirrored from Navidrome's `plugins/host_library.go`:
//! - a `Library` is `{id, name, path?, mountPoint?, lastScanAt, totalSongs, totalAlbums,
//!   totalArtists, totalSize, totalDuration}`; `path` (the host folder) and `mountPoint`
//!   (`/libraries/<id>`) are written only when the plugin has filesystem access;
//! - `library_getalllibraries` lists only the libraries the [`Scope`] allows (`{}` when none),
//!   in the provider's order;
//! - `library_getlibrary {id}` on a library outside the scope fails with
//!   `library not accessible: library ID <id> is not in the allowed list` whether or not it
//!   exists, so a plugin cannot probe ids; an allowed id that does not exist fails with
//!   `library not found: data not found`.
//!
//! Beyond the reference: a library whose folder is not a directory on the host is left out of
//! the mounts (with a warning) instead of failing the plugin's load.

use std::fmt;
use std::sync::Arc;

use nd_runtime::{
    GoRequest, HostError, HostImports, HostService, Mount, RegisterError, json_response,
};
use serde_json::{Map, Value, json};

use crate::provider::{LibraryInfo, LibraryProvider, ProviderError, Scope};
use crate::wire::{go_f64, guest};

/// The guest path a library is mounted at: `/libraries/<id>`.
pub fn mount_point(library_id: i32) -> String {
    format!("/libraries/{library_id}")
}

/// The mounts of a plugin's libraries: each library the scope allows, at `/libraries/<id>`,
/// read-write only with [`Scope::allow_write_access`]. None without `filesystem` or without
/// any library scope (the provider is not even asked then). Libraries whose folder is not a
/// directory are skipped with a warning.
pub fn library_mounts(
    provider: &dyn LibraryProvider,
    scope: &Scope,
    filesystem: bool,
) -> Result<Vec<Mount>, ProviderError> {
    if !filesystem || !scope.has_library_scope() {
        return Ok(Vec::new());
    }
    let mut mounts = Vec::new();
    for library in provider.libraries()? {
        if !scope.allows_library(library.id) {
            continue;
        }
        if !library.path.is_dir() {
            tracing::warn!(
                library = library.id,
                path = %library.path.display(),
                "library folder is not a directory; not mounted"
            );
            continue;
        }
        mounts.push(Mount {
            guest: mount_point(library.id),
            host: library.path,
            writable: scope.allow_write_access,
        });
    }
    Ok(mounts)
}

/// Navidrome's `library` host service for one plugin's scope; see the [module docs](self).
pub struct LibraryService {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Arc<dyn LibraryProvider>,
    scope: Scope,
    filesystem: bool,
}

impl fmt::Debug for LibraryService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LibraryService")
            .field("scope", &self.inner.scope)
            .field("filesystem", &self.inner.filesystem)
            .finish_non_exhaustive()
    }
}

impl LibraryService {
    /// The service over `provider`'s libraries, limited to `scope`; `filesystem` is the
    /// manifest's `library.filesystem` (it decides whether `path` and `mountPoint` are sent).
    pub fn new(provider: Arc<dyn LibraryProvider>, scope: Scope, filesystem: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                provider,
                scope,
                filesystem,
            }),
        }
    }
}

impl HostService for LibraryService {
    fn name(&self) -> &'static str {
        "library"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let inner = Arc::clone(&self.inner);
        imports.json("library_getlibrary", move |_, req| {
            let req = GoRequest::parse(&req, "LibraryGetLibraryRequest")?;
            inner.get(req.int32("id")?)
        });
        let inner = Arc::clone(&self.inner);
        imports.json("library_getalllibraries", move |_, _| inner.all());
        Ok(())
    }
}

impl Inner {
    fn get(&self, id: i32) -> Result<Value, HostError> {
        if !self.scope.allows_library(id) {
            return Err(guest(format_args!(
                "library not accessible: library ID {id} is not in the allowed list"
            )));
        }
        let libraries = self
            .provider
            .libraries()
            .map_err(|e| guest(format_args!("library not found: {e}")))?;
        let library = libraries
            .iter()
            .find(|l| l.id == id)
            .ok_or_else(|| guest("library not found: data not found"))?;
        Ok(json!({ "result": self.library_json(library)? }))
    }

    fn all(&self) -> Result<Value, HostError> {
        if !self.scope.has_library_scope() {
            return Ok(json!({}));
        }
        let libraries = self
            .provider
            .libraries()
            .map_err(|e| guest(format_args!("failed to get libraries: {e}")))?;
        let result = libraries
            .iter()
            .filter(|l| self.scope.allows_library(l.id))
            .map(|l| self.library_json(l))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json_response(json!({ "result": result })))
    }

    /// Navidrome's `host.Library`, fields in its order.
    fn library_json(&self, library: &LibraryInfo) -> Result<Value, HostError> {
        let mut out = Map::new();
        out.insert("id".into(), json!(library.id));
        out.insert("name".into(), json!(library.name));
        if self.filesystem {
            let path = library.path.to_string_lossy();
            if !path.is_empty() {
                out.insert("path".into(), json!(path));
            }
            out.insert("mountPoint".into(), json!(mount_point(library.id)));
        }
        out.insert("lastScanAt".into(), json!(library.last_scan_at));
        out.insert("totalSongs".into(), json!(library.total_songs));
        out.insert("totalAlbums".into(), json!(library.total_albums));
        out.insert("totalArtists".into(), json!(library.total_artists));
        out.insert("totalSize".into(), json!(library.total_size));
        out.insert("totalDuration".into(), go_f64(library.total_duration)?);
        Ok(Value::Object(out))
    }
}
