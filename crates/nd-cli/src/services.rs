//! Which Navidrome host services `ndp` links into a plugin: every service of the workspace,
//! through the same [`ServiceRegistry`] the plugin manager uses, each only when the manifest
//! grants its permission (as Navidrome does: an import without the permission fails to
//! load). KV stores, task queues and `/storage` keep their data under `--data-dir` so that
//! they persist between invocations; network access goes through one egress policy, with
//! loopback and private addresses refused unless `--allow-local` names them. The app-data
//! services (library, users, artwork, subsonicapi, matcher, scrobbleRetriever) are served by
//! an `nd-library` catalog: the music folder of `--library`, or else the demo catalog,
//! written under the data directory on first use. A one-off call acts as the administrator:
//! the plugin may see every user and every library.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nd_host_appdata::provider::Scope;
use nd_host_http::policy::LocalAllowance;
use nd_host_store::clock::system_clock;
use nd_library::{LibraryConfig, LibraryRoot, MusicLibrary, demo};
use nd_manager::{AppData, LoadContext, ServiceParts, ServiceRegistry};
use nd_manifest::{Manifest, Permissions};

use crate::Failure;

/// The keys of the services this build links: `config` (always) and the permission keys.
pub(crate) const LINKED: &[&str] = &[
    "config",
    "cache",
    "kvstore",
    "scheduler",
    "taskqueue",
    "http",
    "websocket",
    "library",
    "users",
    "subsonicapi",
    "artwork",
    "matcher",
    "storage",
    "scrobbleRetriever",
];

/// The permissions served by the app-data catalog.
const APP_DATA: &[&str] = &[
    "library",
    "users",
    "subsonicapi",
    "artwork",
    "matcher",
    "scrobbleRetriever",
];

/// `--allow-local`: the operator's allowance for local services (none by default).
pub(crate) fn parse_allowance(text: &str) -> Result<LocalAllowance, String> {
    LocalAllowance::parse(text).map_err(|e| e.to_string())
}

/// `--data-dir`, or the per-user default: `$XDG_DATA_HOME/ndp`, else `~/.local/share/ndp`;
/// `None` when there is no default (neither variable set). Nothing is created here: a
/// service that stores data creates its own directory under it.
pub(crate) fn data_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit.or_else(|| crate::load::xdg_dir("XDG_DATA_HOME", ".local/share"))
}

/// The music catalog behind the app-data services: `library` as library 1, or the demo
/// catalog under `<data>/demo-library`, with the demo users (admin, alice, bob).
fn catalog(library: Option<&Path>, data_dir: &Path) -> Result<MusicLibrary, Failure> {
    let config = match library {
        Some(path) => LibraryConfig {
            roots: vec![LibraryRoot {
                id: 1,
                name: "Music".into(),
                path: path.to_owned(),
            }],
            users: demo::demo_users(),
            ..LibraryConfig::default()
        },
        None => {
            let dir = data_dir.join("demo-library");
            demo::write_demo_library(&dir)
                .map_err(|e| {
                    Failure::usage(format!(
                        "cannot write the demo library to {}: {e}",
                        dir.display()
                    ))
                })?
                .config()
        }
    };
    MusicLibrary::open(config).map_err(|e| Failure::usage(format!("--library: {e}")))
}

/// The application data every command serves to plugins: the catalog of `library` (or the
/// demo catalog under `<data>/demo-library`) behind all the app-data services. `ndp call`
/// of a package file and the plugin manager of the other commands both use it.
pub(crate) fn app_data(library: Option<&Path>, data_dir: &Path) -> Result<AppData, Failure> {
    Ok(AppData::from_all(Arc::new(catalog(library, data_dir)?)))
}

/// The services, mounts and `http_request` egress for a one-off load of a plugin with this
/// manifest and configuration.
pub(crate) fn parts(
    id: &str,
    manifest: &Manifest,
    config: &BTreeMap<String, String>,
    data_dir: Option<&Path>,
    local: &LocalAllowance,
    library: Option<&Path>,
) -> Result<ServiceParts, Failure> {
    let permissions = &manifest.permissions;
    let app_data = APP_DATA.iter().any(|key| permissions.has(key));
    let stores = permissions.kvstore.is_some()
        || permissions.taskqueue.is_some()
        || permissions.storage.is_some()
        || (app_data && library.is_none());
    let data_dir = match data_dir {
        Some(dir) => dir,
        None if stores => {
            return Err(Failure::usage(
                "the plugin stores data (kvstore, taskqueue or storage permission, or the demo \
                 library) but there is no data directory: pass --data-dir (neither \
                 XDG_DATA_HOME nor HOME is set)",
            ));
        }
        None => Path::new(""),
    };
    let app = if app_data {
        self::app_data(library, data_dir)?
    } else {
        AppData::default()
    };
    let registry = ServiceRegistry::with_defaults(&app);
    let clock = system_clock();
    let ctx = LoadContext {
        plugin_id: id,
        manifest,
        data_dir,
        scope: &Scope::everything(),
        config,
        local,
        clock: &clock,
    };
    registry
        .parts_for(&ctx)
        .map_err(|e| Failure::usage(format!("plugin '{id}': {e}")))
}

/// The callback exports that granted services of this build need and the plugin lacks, as
/// `(permission, export)`: a plugin with any of them fails to load.
pub(crate) fn missing_callbacks<'a>(
    permissions: &Permissions,
    exports: impl Iterator<Item = &'a str> + Clone,
) -> Vec<(&'static str, &'static str)> {
    let needs = [
        (
            permissions.scheduler.is_some(),
            "scheduler",
            nd_host_sched::scheduler::CALLBACK_EXPORT,
        ),
        (
            permissions.taskqueue.is_some(),
            "taskqueue",
            nd_host_sched::taskqueue::TASK_EXECUTE_EXPORT,
        ),
    ];
    needs
        .into_iter()
        .filter(|(granted, _, export)| *granted && !exports.clone().any(|e| e == *export))
        .map(|(_, permission, export)| (permission, export))
        .collect()
}
