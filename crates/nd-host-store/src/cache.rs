//! The cache service (spec §3.4). Being written.
