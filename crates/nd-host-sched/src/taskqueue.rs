//! The task queue service (spec §3.7). Being written.
