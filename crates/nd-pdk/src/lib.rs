//! A Rust PDK for Navidrome plugins (and ndp): write a plugin as plain Rust types and
//! functions, compile it to `wasm32-wasip1`, and it runs on Navidrome's plugin host or on
//! ndp unchanged. Built on [extism-pdk](https://docs.rs/extism-pdk) 1.4, which it uses for
//! Extism's memory, input/output, error and log functions.
//!
//! - [`host`]: typed wrappers for every Navidrome host service (config, http, scheduler,
//!   cache, kvstore, storage, taskqueue, websocket, library, matcher, artwork, subsonicapi,
//!   users, scrobbleretriever), following Go's wire rules: bytes as base64, zero values
//!   omitted, a failure only for a non-empty `error` (spec §2.4 of
//!   `navidrome-plugin-abi.md`). Only the functions a plugin calls are imported, so a plugin
//!   loads with exactly the permissions it uses.
//! - [`capability`]: one trait per capability (metadata agent, scrobbler, lyrics, sonic
//!   similarity, task worker, lifecycle, scheduler and WebSocket callbacks), with the
//!   registration macros ([`register_metadata_agent!`] and friends) that export exactly the
//!   methods named, in Navidrome's input and output JSON (spec §4.2).
//! - [`types`]: the shared DTOs (`TrackInfo`, `SongRef`, the requests), serialized exactly
//!   like the host's.
//! - [`log`] and the [`info!`] family: the host's log.
//! - `testing` (native builds only): a stand-in host for unit tests of a plugin's logic,
//!   calling its exports without wasm.
//!
//! What it is not: a host (that is ndp's `nd-runtime` and `nd-manager`), nor a wrapper for
//! Extism's built-in `http_request` (Navidrome v0.64 turned it off; use [`host::http`]).
//! It does not write `manifest.json` for you: declare there the permissions the host
//! services you call need (the [`host`] table names them), and the reason for each.
//!
//! A plugin is a `cdylib` crate depending on `nd-pdk` (and `serde` for its own types),
//! built with `cargo build --release --target wasm32-wasip1` and packed with its
//! `manifest.json` into a `.ndp`. In the ndp repository, `cargo xtask new-plugin <name>`
//! scaffolds one and `cargo xtask package <dir>` builds, checks and packs it; the examples
//! in `examples/plugins` show every capability. `API.md` next to this crate lists the API.
//!
//! # Example: a minimal metadata agent
//!
//! ```
//! use nd_pdk::capability::MetadataAgent;
//! use nd_pdk::types::ArtistRequest;
//!
//! #[derive(Default)]
//! struct Hello;
//!
//! impl MetadataAgent for Hello {
//!     fn artist_biography(&self, req: ArtistRequest) -> nd_pdk::Result<Option<String>> {
//!         nd_pdk::info!("biography of {}", req.name);
//!         if req.name.is_empty() {
//!             return Ok(None); // "not found": the host asks the next agent
//!         }
//!         Ok(Some(format!("{} makes music.", req.name)))
//!     }
//! }
//!
//! // Exports `nd_get_artist_biography` and nothing else: the host sees a metadata agent
//! // with one method.
//! nd_pdk::register_metadata_agent!(Hello, [artist_biography]);
//!
//! // Natively, the export can be called through the stand-in host:
//! # #[cfg(not(target_family = "wasm"))] {
//! let out = nd_pdk::testing::call_export(nd_get_artist_biography, r#"{"id":"1","name":"Nina Simone"}"#);
//! assert_eq!(out.output, br#"{"biography":"Nina Simone makes music."}"#);
//! # }
//! ```
//!
//! Host services are plain functions:
//!
//! ```no_run
//! use nd_pdk::host::{cache, kvstore, scheduler};
//!
//! # fn main() -> nd_pdk::Result<()> {
//! kvstore::set("token", b"secret")?;
//! let hits = cache::get_int("hits")?.unwrap_or(0);
//! cache::set_int("hits", hits + 1, 3600)?;
//! match scheduler::schedule_recurring("@every 1m", "poll", "poller") {
//!     Ok(id) => nd_pdk::info!("scheduled {id}"),
//!     Err(e) if e.message().contains("already exists") => {}
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```

#[doc(hidden)]
#[path = "export.rs"]
pub mod __private;
pub mod capability;
mod error;
mod ffi;
pub mod host;
pub mod log;
mod macros;
#[cfg(not(target_family = "wasm"))]
pub mod testing;
pub mod types;
mod wire;

pub use error::{Error, NOT_AUTHORIZED_MARKER, RETRY_LATER_MARKER, Result, UNRECOVERABLE_MARKER};
