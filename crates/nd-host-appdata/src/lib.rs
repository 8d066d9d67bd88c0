//! Navidrome's app-data host services for the ndp plugin runtime: the `extism:host/user`
//! functions through which a plugin reads its configuration and the application's data
//! (spec §3.1, §3.6, §3.9–§3.14), each one an [`nd_runtime::HostService`]:
//!
//! | Module | Service | Permission | Functions |
//! |---|---|---|---|
//! | [`config`] | [`ConfigService`](config::ConfigService) | none (always) | `config_get`, `config_getint`, `config_keys` |
//! | [`library`] | [`LibraryService`](library::LibraryService) + [`library_mounts`](library::library_mounts) | `library` | `library_getlibrary`, `library_getalllibraries` |
//! | [`storage`] | [`StorageService`](storage::StorageService) + [`storage_mount`](storage::storage_mount) | `storage` | `storage_getstoragepath` |
//! | [`artwork`] | [`ArtworkService`](artwork::ArtworkService) | `artwork` | `artwork_get{artist,album,track,playlist}url` |
//! | [`users`] | [`UsersService`](users::UsersService) | `users` | `users_getusers`, `users_getadmins` |
//! | [`subsonic`] | [`SubsonicApiService`](subsonic::SubsonicApiService) | `subsonicapi` | `subsonicapi_call`, `subsonicapi_callraw` |
//! | [`matcher`] | [`MatcherService`](matcher::MatcherService) | `matcher` | `matcher_matchsongs` |
//! | [`scrobbles`] | [`ScrobbleRetrieverService`](scrobbles::ScrobbleRetrieverService) | `scrobbleRetriever` | the four `scrobbleretriever_*` |
//!
//! The data comes from the traits of [`provider`], which an application implements; every
//! service filters it by the plugin's [`Scope`](provider::Scope) (the users and libraries the
//! administrator allowed, spec §6.7) and speaks Navidrome's wire format: Go `encoding/json`
//! request decoding with Go's error texts, `omitempty` responses that never carry an empty
//! `error`, and Navidrome's own error texts. A scope that allows nothing never tells a plugin
//! which accounts or libraries exist.
//!
//! What it is not: it holds no data and reads no music folder (the concrete library is
//! `nd-library`), and it does not read manifests or decide which services a plugin gets: that
//! is the manager's job (`nd-manager`), which links a service only when the manifest grants
//! its permission and adds the WASI mounts from [`library::library_mounts`] and
//! [`storage::storage_mount`] to the plugin's [`PluginConfig`](nd_runtime::PluginConfig).
//!
//! # Example
//!
//! ```no_run
//! use std::path::Path;
//! use std::sync::Arc;
//!
//! use nd_host_appdata::provider::{LibraryInfo, LibraryProvider, ProviderError, Scope};
//! use nd_host_appdata::{config::ConfigService, library, storage};
//! use nd_runtime::{PluginConfig, Runtime, RuntimeConfig};
//!
//! struct OneFolder;
//!
//! impl LibraryProvider for OneFolder {
//!     fn libraries(&self) -> Result<Vec<LibraryInfo>, ProviderError> {
//!         Ok(vec![LibraryInfo {
//!             id: 1,
//!             name: "Music".into(),
//!             path: "/srv/music".into(),
//!             ..LibraryInfo::default()
//!         }])
//!     }
//! }
//!
//! # fn main() -> anyhow::Result<()> {
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let compiled = runtime.compile("my-plugin", &std::fs::read("my-plugin.wasm")?)?;
//! let libraries: Arc<dyn LibraryProvider> = Arc::new(OneFolder);
//! let scope = Scope::everything();
//!
//! let mut config = PluginConfig::new("my-plugin");
//! config.services.push(Arc::new(ConfigService::new()));
//! // `library` with `filesystem: true`: metadata, plus the files at /libraries/1 (read-only).
//! config.services.push(Arc::new(library::LibraryService::new(
//!     Arc::clone(&libraries),
//!     scope.clone(),
//!     true,
//! )));
//! config.mounts = library::library_mounts(libraries.as_ref(), &scope, true)?;
//! // `storage`: a private read-write /storage under the data folder.
//! config.services.push(Arc::new(storage::StorageService::new()));
//! config
//!     .mounts
//!     .push(storage::storage_mount(Path::new("/var/lib/ndp"), "my-plugin")?);
//!
//! let plugin = runtime.load(&compiled, config)?;
//! plugin.call("nd_on_init", b"{}")?;
//! # Ok(())
//! # }
//! ```

pub mod artwork;
pub mod config;
pub mod library;
pub mod matcher;
pub mod provider;
pub mod scrobbles;
pub mod storage;
pub mod subsonic;
pub mod users;
mod wire;
