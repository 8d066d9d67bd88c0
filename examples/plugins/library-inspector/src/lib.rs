//! Walks every music library the plugin may see, through the read-only WASI mounts at
//! `/libraries/<id>` (permission `library` with `filesystem: true`), and keeps a summary in
//! the KV store: files, folders and bytes per library, counts by file extension, the largest
//! file, and the library's own counts for comparison.
//!
//! - `nd_on_init`: schedules the inspection (`schedule`, default `@every 1m`) and, unless
//!   `inspectOnInit` is false, inspects right away;
//! - `nd_scheduler_callback`: inspects;
//! - `library_summary` (custom export): the latest summary as JSON (empty before the first
//!   inspection), e.g. `ndp call library-inspector.ndp library_summary`.

use std::collections::BTreeMap;
use std::path::Path;

use nd_pdk::capability::{Lifecycle, SchedulerCallback};
use nd_pdk::host::{config, kvstore, library, scheduler};
use nd_pdk::types::ScheduledEvent;
use nd_pdk::{Error, Result};
use serde::{Deserialize, Serialize};

const SCHEDULE_ID: &str = "library-inspector";
const PAYLOAD: &str = "inspect";
const SUMMARY_KEY: &str = "summary";
const DEFAULT_SCHEDULE: &str = "@every 1m";
/// Folders nested deeper than this are not entered (a guard against symlink loops).
const MAX_DEPTH: usize = 64;

/// What an inspection found, as stored under `summary` and returned by `library_summary`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// How many inspections ran, this one included (kept across reloads).
    pub runs: u64,
    /// When this one ran, unix seconds.
    pub last_run_at: u64,
    /// What started it: `init` or `schedule`.
    pub trigger: String,
    /// One entry per library, in the host's order.
    pub libraries: Vec<LibrarySummary>,
}

/// One library's numbers.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LibrarySummary {
    /// The library id.
    pub id: i32,
    /// The library name.
    pub name: String,
    /// Where it was walked (`/libraries/<id>`); empty when not mounted.
    pub mount_point: String,
    /// Regular files found.
    pub files: u64,
    /// Folders found below the root.
    pub directories: u64,
    /// The files' total size in bytes.
    pub total_bytes: u64,
    /// Files per lower-case extension (`""` for none).
    pub extensions: BTreeMap<String, u64>,
    /// The largest file, relative to the library root.
    pub largest_file: Option<LargestFile>,
    /// Entries that could not be read.
    pub errors: u64,
    /// The host's own song count for the library.
    pub reported_songs: i32,
    /// The host's own size for the library, in bytes.
    pub reported_size: i64,
}

/// A file and its size.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LargestFile {
    /// The path relative to the library root, `/`-separated.
    pub path: String,
    /// Bytes.
    pub size: u64,
}

/// The plugin (stateless; built for every call).
#[derive(Default)]
pub struct Inspector;

impl Lifecycle for Inspector {
    fn on_init(&self) -> Result<()> {
        let schedule = config::get("schedule")?
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_SCHEDULE.to_owned());
        // Schedules end with the plugin, but cancel one left by an earlier instance anyway:
        // reusing a live id is an error.
        match scheduler::schedule_recurring(&schedule, PAYLOAD, SCHEDULE_ID) {
            Ok(_) => {}
            Err(e) if e.message().contains("already exists") => {
                scheduler::cancel_schedule(SCHEDULE_ID)?;
                scheduler::schedule_recurring(&schedule, PAYLOAD, SCHEDULE_ID)?;
            }
            Err(e) => return Err(e),
        }
        nd_pdk::info!("library inspection scheduled: {schedule}");
        if config::get("inspectOnInit")?.as_deref() != Some("false") {
            inspect("init")?;
        }
        Ok(())
    }
}

impl SchedulerCallback for Inspector {
    fn on_schedule(&self, event: ScheduledEvent) -> Result<()> {
        if event.payload != PAYLOAD {
            nd_pdk::warn!("ignoring unknown schedule {:?}", event.schedule_id);
            return Ok(());
        }
        inspect("schedule")
    }
}

nd_pdk::register_lifecycle!(Inspector);
nd_pdk::register_scheduler_callback!(Inspector);

fn read_summary(_: serde_json::Value) -> Result<Option<Summary>> {
    kvstore::get_json(SUMMARY_KEY)
}

nd_pdk::register_export!(library_summary, read_summary);

/// Walks every visible library and stores the summary.
fn inspect(trigger: &str) -> Result<()> {
    let runs = kvstore::get_json::<Summary>(SUMMARY_KEY)
        .unwrap_or_else(|e| {
            nd_pdk::warn!("previous summary unreadable, starting over: {e}");
            None
        })
        .map_or(0, |s| s.runs);
    let mut libraries = Vec::new();
    for library in library::get_all_libraries()? {
        let mut summary = LibrarySummary {
            id: library.id,
            name: library.name.clone(),
            mount_point: library.mount_point.clone(),
            reported_songs: library.total_songs,
            reported_size: library.total_size,
            ..LibrarySummary::default()
        };
        if library.mount_point.is_empty() {
            nd_pdk::warn!("library {} ({}) is not mounted", library.id, library.name);
        } else {
            walk(Path::new(&library.mount_point), "", 0, &mut summary);
        }
        nd_pdk::info!(
            "library {} ({}): {} files in {} folders, {} bytes, {} unreadable",
            summary.id,
            summary.name,
            summary.files,
            summary.directories,
            summary.total_bytes,
            summary.errors
        );
        libraries.push(summary);
    }
    let summary = Summary {
        runs: runs + 1,
        last_run_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        trigger: trigger.to_owned(),
        libraries,
    };
    kvstore::set_json(SUMMARY_KEY, &summary)
        .map_err(|e| Error::msg(format!("storing the summary: {e}")))
}

/// Adds everything under `dir` (shown as `relative`) to `summary`.
fn walk(dir: &Path, relative: &str, depth: usize, summary: &mut LibrarySummary) {
    if depth > MAX_DEPTH {
        summary.errors += 1;
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            nd_pdk::warn!("cannot list {}: {e}", dir.display());
            summary.errors += 1;
            return;
        }
    };
    let mut entries: Vec<_> = entries
        .filter_map(|e| {
            if e.is_err() {
                summary.errors += 1;
            }
            e.ok()
        })
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if relative.is_empty() {
            name.clone()
        } else {
            format!("{relative}/{name}")
        };
        // Follows symlinks, as Navidrome's mounts do.
        let metadata = match std::fs::metadata(entry.path()) {
            Ok(m) => m,
            Err(e) => {
                nd_pdk::warn!("cannot read {path}: {e}");
                summary.errors += 1;
                continue;
            }
        };
        if metadata.is_dir() {
            summary.directories += 1;
            walk(&entry.path(), &path, depth + 1, summary);
        } else if metadata.is_file() {
            let size = metadata.len();
            summary.files += 1;
            summary.total_bytes += size;
            let extension = Path::new(&name)
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            *summary.extensions.entry(extension).or_default() += 1;
            if summary.largest_file.as_ref().is_none_or(|l| size > l.size) {
                summary.largest_file = Some(LargestFile { path, size });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use nd_pdk::testing;
    use serde_json::json;

    use super::*;

    #[test]
    fn init_schedules_and_replaces_a_leftover_schedule() {
        testing::reset();
        testing::set_config([("schedule", "@every 5m"), ("inspectOnInit", "false")]);
        let mut first = true;
        testing::set_host(move |function, _| match function {
            "scheduler_schedulerecurring" if std::mem::take(&mut first) => {
                json!({"error": "schedule ID \"library-inspector\" already exists"})
            }
            "scheduler_schedulerecurring" => json!({"newScheduleId": SCHEDULE_ID}),
            "scheduler_cancelschedule" => json!({}),
            other => json!({"error": format!("unexpected {other}")}),
        });
        let out = testing::call_export(nd_on_init, "{}");
        assert_eq!((out.rc, out.error), (0, None));
        let calls: Vec<String> = testing::host_calls()
            .into_iter()
            .map(|c| c.function)
            .filter(|f| f.starts_with("scheduler_"))
            .collect();
        assert_eq!(
            calls,
            [
                "scheduler_schedulerecurring",
                "scheduler_cancelschedule",
                "scheduler_schedulerecurring"
            ]
        );
    }
}
