//! Typed adapters for the capabilities of Navidrome plugins (spec §4): the exports a plugin
//! offers to its host, called with the right JSON and read back with Navidrome's rules.
//!
//! - [`detect`] and [`validate`]: which capabilities a module has, from its export names, and
//!   the load-time rules that tie them to the manifest (spec §4.1).
//! - One adapter per capability: [`MetadataAgent`], [`Scrobbler`], [`Lyrics`],
//!   [`SonicSimilarity`], [`TaskWorker`], [`Lifecycle`], [`SchedulerCallback`],
//!   [`WebSocketCallback`]; [`PluginCapabilities`] detects them for one plugin and hands out
//!   only those it has.
//! - [`types`]: the wire DTOs (`TrackInfo`, `SongRef`, requests and answers), written and
//!   read with Go `encoding/json`'s rules (`omitempty`, `null` as zero, keys matched
//!   case-insensitively).
//!
//! Adapters call through [`ExportCaller`], implemented for [`nd_runtime::Plugin`]; an
//! application can wrap a plugin (to record metrics, say) and hand the wrapper in. An adapter
//! never calls an export the plugin does not have.
//!
//! How outcomes are reported (spec §2.3, §4.2, and #5953's "not found" versus failure):
//!
//! | Plugin does | Metadata, lyrics, sonic | Scrobbler notification | Task worker | Other callbacks |
//! |---|---|---|---|---|
//! | lacks the export | `Ok(None)` | unrecoverable (`playback_report`: `Ok`) | `Err` | `Ok` (skipped) |
//! | returns `-2` | `Ok(None)` | unrecoverable (`playback_report`: `Ok`) | `Err` | `Ok` (skipped) |
//! | empty output, `null`, empty value or list | `Ok(None)` | `Ok` | `Ok("")` | `Ok` |
//! | fails (error, trap, timeout) | `Err` | classified [`ScrobblerError`] | `Err` | `Err` |
//! | answers malformed JSON | `Err` | `Ok` (output ignored) | `Ok` (text kept) | `Ok` |
//!
//! [`Scrobbler::is_authorized`] is `true` only for a JSON `true` answer; anything else,
//! failures included, is `false`.
//!
//! It is not a plugin manager: loading plugins, granting host services, choosing which users
//! a scrobbler serves, retrying failures and buffering scrobbles belong to the application
//! (see `nd-manager`). It does no I/O of its own apart from the calls.
//!
//! ```no_run
//! use std::sync::Arc;
//! use nd_capabilities::{ExportCaller, PluginCapabilities, types::ArtistRequest};
//! use nd_runtime::{PluginConfig, Runtime, RuntimeConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let plugin = runtime.load_wasm(&std::fs::read("lastfm.wasm")?, PluginConfig::new("lastfm"))?;
//! let capabilities = PluginCapabilities::new(Arc::new(plugin) as Arc<dyn ExportCaller>);
//! println!("{} has {}", capabilities.plugin_id(), capabilities.detected());
//! if let Some(agent) = capabilities.metadata_agent() {
//!     let request = ArtistRequest { id: "ar-1".into(), name: "Björk".into(), ..Default::default() };
//!     match agent.artist_biography(&request)? {
//!         Some(biography) => println!("{biography}"),
//!         None => println!("no biography"),
//!     }
//! }
//! # Ok(()) }
//! ```

mod call;
mod callbacks;
mod detect;
mod error;
mod lyrics;
mod metadata;
mod plugin;
mod scrobbler;
mod sonic;
pub mod types;

pub use callbacks::{Lifecycle, SchedulerCallback, TaskWorker, WebSocketCallback};
pub use detect::{
    Capability, CapabilitySet, SCHEDULER_CALLBACK, TASK_EXECUTE, Violation, detect, validate,
};
pub use error::{
    CapabilityError, CapabilityErrorKind, NOT_AUTHORIZED_MARKER, RETRY_LATER_MARKER,
    ScrobblerError, UNRECOVERABLE_MARKER,
};
pub use lyrics::{Lyrics, MAX_CONCURRENT_LYRICS_CALLS, UNKNOWN_LANGUAGE};
pub use metadata::MetadataAgent;
pub use plugin::PluginCapabilities;
pub use scrobbler::Scrobbler;
pub use sonic::SonicSimilarity;

/// What adapters call exports through: a loaded plugin, or a wrapper around one.
///
/// Implementations must be callable from several threads at once (Navidrome calls exports
/// concurrently, each in a fresh instance).
pub trait ExportCaller: Send + Sync {
    /// The plugin id, for messages and errors.
    fn plugin_id(&self) -> &str;
    /// Whether the plugin has a callable export named `name`.
    fn has_export(&self, name: &str) -> bool;
    /// Calls `export` with `input` and returns its output.
    fn call(&self, export: &str, input: &[u8]) -> Result<Vec<u8>, nd_runtime::CallError>;
}

impl ExportCaller for nd_runtime::Plugin {
    fn plugin_id(&self) -> &str {
        self.id()
    }

    fn has_export(&self, name: &str) -> bool {
        nd_runtime::Plugin::has_export(self, name)
    }

    fn call(&self, export: &str, input: &[u8]) -> Result<Vec<u8>, nd_runtime::CallError> {
        nd_runtime::Plugin::call(self, export, input)
    }
}
