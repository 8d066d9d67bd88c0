//! The scheduler service (spec §3.3). Being written.
