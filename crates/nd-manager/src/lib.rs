//! The ndp plugin manager: the composition root that turns the runtime, the host services
//! and the capability adapters into the plugin system an application embeds.
//!
//! A [`Manager`] owns a plugins folder of `.ndp` files and a data directory. It keeps one
//! row per plugin in an embedded redb database (enabled, configuration, SHA-256, last error,
//! users/libraries scope, timestamps) and follows Navidrome's rules (spec §6.1): a new file
//! is recorded **disabled**, a changed file is unloaded and disabled, a vanished file is
//! forgotten; enabling loads, disabling unloads; saving configuration validates it against
//! the manifest's `config.schema` and reloads. Host services come from a registry of
//! [`ServiceFactory`]s, one per permission, linked only into plugins granted that permission;
//! an application adds, replaces or leaves out any of them on the [`ManagerBuilder`], and
//! gives its data to the app-data services through [`AppData`]. Calls made through the
//! manager are metered ([`Metrics`]) and drained before unloading.
//!
//! Besides `.ndp` files, a plugin can come from a plugin author's development folder
//! ([`Manager::link_dev`]): its `manifest.json` and built module (see [`dev_wasm`]) are
//! packed on every read, and [`Manager::refresh`] (or a reload) picks up a rebuild, keeping
//! an enabled plugin enabled.
//!
//! What it is not: it has no network server or UI (that is `ndp serve`), no music library of
//! its own (an application passes one; `nd-library` is a ready-made one), and it does not
//! decide *when* to call capabilities: the application asks
//! [`Manager::with_capability`] or [`Manager::scrobblers_for`] and calls the typed adapters
//! of `nd-capabilities`.
//!
//! ```no_run
//! use nd_capabilities::Capability;
//! use nd_capabilities::types::ArtistRequest;
//! use nd_manager::Manager;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = Manager::builder("/var/lib/myapp/plugins-data").build()?;
//! manager.start()?; // sync the folder, load the enabled plugins
//! manager.enable("wikimedia")?; // new packages are recorded disabled
//! let request = ArtistRequest { id: "a1".into(), name: "Nina Simone".into(), ..Default::default() };
//! for plugin in manager.with_capability(Capability::MetadataAgent) {
//!     if let Some(agent) = plugin.capabilities().metadata_agent()
//!         && let Some(bio) = agent.artist_biography(&request)?
//!     {
//!         println!("{}: {bio}", plugin.id());
//!     }
//! }
//! manager.shutdown();
//! # Ok(()) }
//! ```

mod dev;
mod factory;
mod manager;
mod metrics;
mod state;
mod watch;

pub use dev::{DEV_TARGET, dev_wasm};
pub use factory::{
    AppData, FnFactory, LoadContext, ServiceFactory, ServiceParts, ServiceRegistry, plugin_data_dir,
};
pub use manager::{
    DEFAULT_PARALLEL_LOADS, LoadedPlugin, Manager, ManagerBuilder, ManagerError, PluginStatus,
    SyncReport,
};
pub use metrics::{BUCKETS_MS, CallStats, Metrics};
pub use state::{DevLink, PluginRecord, StateError};
