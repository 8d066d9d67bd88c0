//! Navidrome's state host services for the ndp runtime: the in-memory **cache** (`cache_*`,
//! spec §3.4) and the persistent **KV store** (`kvstore_*`, §3.5, on redb). Each is an
//! [`nd_runtime::HostService`] any Rust program can link into a plugin on its own.
//!
//! Also home of two things the scheduler and task queue (`nd-host-sched`) build on: the
//! injectable [`clock`] and the per-process registry of open redb files ([`db`]).
//!
//! What it is not: it does not read manifests or decide permissions (the caller links a
//! service only when the manifest grants it), and it does not manage plugins.

pub mod cache;
pub mod clock;
pub mod db;
pub mod kvstore;
