//! Reads and validates Navidrome `.ndp` plugin packages and their `manifest.json`: the
//! typed [`Manifest`] with every permission of Navidrome's plugin system, validation that
//! reports every problem at once with its JSON path and a fix, `requiredHosts`
//! [`HostPattern`] matching, humanized sizes, configuration flattening, and the [`abi`]
//! tables (host functions per permission, capability exports).
//!
//! This crate is pure: it takes bytes and returns values. It does no file-system or
//! network I/O (hand it the bytes of a `.ndp` file; a `$ref` in a config schema is never
//! fetched), and it knows nothing about wasmer or tokio. Compiling and running plugins is
//! `nd-runtime`'s job; discovering `.ndp` files, enabling plugins and wiring host services
//! is `nd-manager`'s. The reference for everything here is
//! `shared/spec/navidrome-plugin-abi.md` (§3–§5); section numbers in the docs point there.
//!
//! # Example
//!
//! ```
//! use nd_manifest::{Manifest, Package, PackageLimits, pack, plugin_id_from_file_name};
//!
//! let manifest = br#"{
//!     "name": "Wikimedia", "author": "Navidrome", "version": "1.0.0",
//!     "permissions": {
//!         "http": {"reason": "fetch bios", "requiredHosts": ["*.wikipedia.org", "localhost:*"]},
//!         "kvstore": {"maxSize": "10KB"}
//!     }
//! }"#;
//! let ndp = pack(manifest, b"\0asm\x01\0\0\0")?;
//!
//! let id = plugin_id_from_file_name("wikimedia.ndp")?;
//! let package = Package::from_bytes(&id, &ndp, &PackageLimits::default())?;
//! let http = package.manifest.permissions.http.as_ref().expect("http was requested");
//! assert!(http.required_hosts.iter().any(|p| p.matches("en.wikipedia.org")));
//! assert_eq!(package.manifest.permissions.kvstore.as_ref().and_then(|k| k.max_size), Some(10_000));
//! // `localhost:*` never matches (ports are stripped before matching): a warning, not an error.
//! assert_eq!(package.warnings.len(), 1);
//! assert_eq!(package.warnings[0].path, "/permissions/http/requiredHosts/1");
//!
//! // Every problem is reported at once, each with its JSON path.
//! let err = Manifest::parse(br#"{"name": "", "version": 1, "permissions": {"matcher": {}}}"#).unwrap_err();
//! let problems = err.validation_errors().expect("a validation error");
//! assert_eq!(problems.len(), 4);
//! println!("{err}");
//! # Ok::<(), nd_manifest::Error>(())
//! ```

pub mod abi;
mod config;
mod error;
mod host_pattern;
mod manifest;
mod package;
mod schema;
mod size;

pub use config::flatten_config;
pub use error::{Diagnostic, Error, ValidationErrors};
pub use host_pattern::HostPattern;
pub use manifest::{
    BasicPermission, ConfigSpec, DEFAULT_KVSTORE_MAX_SIZE, DEFAULT_TASKQUEUE_MAX_CONCURRENCY,
    HostsPermission, KvStorePermission, LibraryPermission, Manifest, PERMISSION_KEYS, Parsed,
    PermissionSummary, Permissions, TaskQueuePermission,
};
pub use package::{
    MANIFEST_ENTRY, MAX_PLUGIN_ID_LEN, PACKAGE_EXTENSION, Package, PackageLimits, WASM_ENTRY, hex,
    pack, plugin_id_from_file_name, validate_plugin_id,
};
pub use schema::{MANIFEST_SCHEMA, schema_problems};
pub use size::{format_size, parse_size};
