//! Cron expressions (spec §3.3). Being written.
