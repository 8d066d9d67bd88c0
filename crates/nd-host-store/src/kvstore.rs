//! The KV store service (spec §3.5). Being written.
