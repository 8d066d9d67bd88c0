//! Navidrome's time-driven host services for the ndp runtime: the **scheduler**
//! (`scheduler_*`, spec §3.3, with robfig/cron-compatible expressions in [`cron`]) and the
//! **task queue** (`task_*`, §3.7, persisted in redb). Both call the plugin back from host
//! threads (`nd_scheduler_callback`, `nd_task_execute`), each call in a fresh instance, and
//! both refuse at load a plugin that lacks its callback export, as Navidrome does.
//!
//! Time comes from an injected [`nd_host_store::clock::Clock`]: with a
//! [`ManualClock`](nd_host_store::clock::ManualClock), schedules, backoffs and retention
//! follow the clock the test moves, so nothing sleeps for real.
//!
//! What it is not: it does not read manifests or decide permissions (the caller passes the
//! task queue's `maxConcurrency`), and it cannot interrupt a running callback (the runtime's
//! call timeout does). One service instance serves one plugin.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use nd_host_sched::scheduler::SchedulerService;
//! use nd_host_sched::taskqueue::{TaskQueueConfig, TaskQueueService};
//! use nd_runtime::{PluginConfig, Runtime, RuntimeConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let compiled = runtime.compile("discord", &std::fs::read("discord.wasm")?)?;
//!
//! let scheduler = Arc::new(SchedulerService::default()); // the system clock
//! let mut tasks = TaskQueueConfig::new("/var/lib/ndp");
//! tasks.max_concurrency = 2; // the manifest's "taskqueue": {"maxConcurrency": 2}
//! let mut config = PluginConfig::new("discord");
//! config.services.push(scheduler.clone());
//! config.services.push(Arc::new(TaskQueueService::new(tasks)));
//!
//! // Fails here if the plugin does not export nd_scheduler_callback and nd_task_execute.
//! let plugin = runtime.load(&compiled, config)?;
//! // Plugins schedule through scheduler_* host functions; Rust can too.
//! scheduler.schedule_recurring("heartbeat", "@every 41s", "beat")?;
//! scheduler.schedule_once("", Duration::from_secs(5), "clear-presence")?;
//! std::thread::sleep(Duration::from_secs(60));
//! plugin.shutdown(); // cancels every schedule, lets running tasks finish
//! # Ok(()) }
//! ```

pub mod cron;
pub mod scheduler;
pub mod taskqueue;
