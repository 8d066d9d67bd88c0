//! Navidrome's time-driven host services for the ndp runtime: the **scheduler**
//! (`scheduler_*`, spec §3.3) and the **task queue** (`task_*`, §3.7).
//!
//! What it is not: it does not read manifests or decide permissions.

pub mod cron;
pub mod scheduler;
pub mod taskqueue;
