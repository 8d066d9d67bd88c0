//! The task queue's redb layout and every transaction on it. Not the scheduling policy (which
//! task may run when): that is the service's; this module only moves tasks between states,
//! keeping the indexes in step inside one write transaction each.
//!
//! Tables (Navidrome keeps the same data in two SQLite tables and one index):
//! - `queues`: queue name → JSON queue config, as last created;
//! - `tasks`: task id → JSON [`TaskRecord`] (everything but the payload);
//! - `payloads`: task id → payload bytes;
//! - `pending`: `(queue, next_run_at, created_at, id)` → `()`, the dequeue order;
//! - `running`: `(queue, id)` → `()`, for crash recovery;
//! - `finished`: `(queue, updated_at, id)` → `()`, for retention cleanup.
//!
//! Times are milliseconds since the Unix epoch, read from the service's clock.

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{QueueConfig, TaskStatus};

const QUEUES: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("queues");
const TASKS: TableDefinition<'static, &'static str, &'static [u8]> = TableDefinition::new("tasks");
const PAYLOADS: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("payloads");
type PendingKey<'a> = (&'a str, i64, i64, &'a str);
const PENDING: TableDefinition<'static, PendingKey<'static>, ()> = TableDefinition::new("pending");
const RUNNING: TableDefinition<'static, (&'static str, &'static str), ()> =
    TableDefinition::new("running");
const FINISHED: TableDefinition<'static, (&'static str, i64, &'static str), ()> =
    TableDefinition::new("finished");

/// A storage failure, as text (it ends up in a message to the guest or in a log line).
pub(super) type Result<T> = std::result::Result<T, String>;

fn err(e: impl Into<redb::Error>) -> String {
    e.into().to_string()
}

/// One task as stored (the payload lives in its own table).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TaskRecord {
    pub queue: String,
    pub status: String,
    pub attempt: i32,
    pub max_retries: i32,
    pub next_run_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub message: String,
}

impl TaskRecord {
    pub fn status(&self) -> TaskStatus {
        TaskStatus::parse(&self.status).unwrap_or(TaskStatus::Failed)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredQueue {
    concurrency: i32,
    max_retries: i32,
    backoff_ms: i64,
    delay_ms: i64,
    retention_ms: i64,
}

/// A task taken for execution.
#[derive(Debug, Clone)]
pub(super) struct Dispatch {
    pub id: String,
    pub payload: Vec<u8>,
    pub attempt: i32,
    pub max_retries: i32,
}

/// How an execution ended, as the service decided.
#[derive(Debug)]
pub(super) enum Outcome {
    Completed(String),
    Failed(String),
    Retry {
        next_run_at: i64,
    },
    /// The host stopped before the attempt ended: back to pending, the attempt undone, due
    /// when it was.
    Revert,
}

/// Why a task could not be cancelled.
#[derive(Debug)]
pub(super) enum CancelError {
    NotFound,
    NotPending(String),
    Store(String),
}

fn decode(bytes: &[u8]) -> Result<TaskRecord> {
    serde_json::from_slice(bytes).map_err(|e| format!("corrupt task record: {e}"))
}

fn encode(record: &TaskRecord) -> Result<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| e.to_string())
}

/// Creates the tables so that read transactions find them.
pub(super) fn init(db: &Database) -> Result<()> {
    let txn = db.begin_write().map_err(err)?;
    {
        txn.open_table(QUEUES).map_err(err)?;
        txn.open_table(TASKS).map_err(err)?;
        txn.open_table(PAYLOADS).map_err(err)?;
        txn.open_table(PENDING).map_err(err)?;
        txn.open_table(RUNNING).map_err(err)?;
        txn.open_table(FINISHED).map_err(err)?;
    }
    txn.commit().map_err(err)
}

/// Stores `config` for queue `name` and puts the queue's `running` tasks (left by a crash)
/// back to `pending`. Returns how many were reset.
pub(super) fn create_queue(
    db: &Database,
    name: &str,
    config: &QueueConfig,
    now: i64,
) -> Result<u64> {
    let stored = StoredQueue {
        concurrency: config.concurrency,
        max_retries: config.max_retries,
        backoff_ms: config.backoff_ms,
        delay_ms: config.delay_ms,
        retention_ms: config.retention_ms,
    };
    let bytes = serde_json::to_vec(&stored).map_err(|e| e.to_string())?;
    let txn = db.begin_write().map_err(err)?;
    let mut reset = 0;
    {
        txn.open_table(QUEUES)
            .map_err(err)?
            .insert(name, bytes.as_slice())
            .map_err(err)?;
        let mut tasks = txn.open_table(TASKS).map_err(err)?;
        let mut pending = txn.open_table(PENDING).map_err(err)?;
        let mut running = txn.open_table(RUNNING).map_err(err)?;
        let ids: Vec<String> = running
            .range((name, "")..)
            .map_err(err)?
            .map_while(|entry| {
                let (key, _) = entry.ok()?;
                let (queue, id) = key.value();
                (queue == name).then(|| id.to_owned())
            })
            .collect();
        for id in ids {
            running.remove((name, id.as_str())).map_err(err)?;
            let Some(bytes) = tasks
                .get(id.as_str())
                .map_err(err)?
                .map(|g| g.value().to_vec())
            else {
                continue;
            };
            let mut record = decode(&bytes)?;
            if record.status != TaskStatus::Running.as_str() {
                continue;
            }
            record.status = TaskStatus::Pending.as_str().into();
            record.updated_at = now;
            tasks
                .insert(id.as_str(), encode(&record)?.as_slice())
                .map_err(err)?;
            pending
                .insert(
                    (name, record.next_run_at, record.created_at, id.as_str()),
                    (),
                )
                .map_err(err)?;
            reset += 1;
        }
    }
    txn.commit().map_err(err)?;
    Ok(reset)
}

/// Adds a new pending task.
/// Stores a new pending task, unless the plugin already has `max_pending` pending tasks over
/// all its queues: then `Ok(false)` and nothing is written.
pub(super) fn insert(
    db: &Database,
    id: &str,
    record: &TaskRecord,
    payload: &[u8],
    max_pending: u64,
) -> Result<bool> {
    let txn = db.begin_write().map_err(err)?;
    {
        if txn.open_table(PENDING).map_err(err)?.len().map_err(err)? >= max_pending {
            return Ok(false);
        }
        txn.open_table(TASKS)
            .map_err(err)?
            .insert(id, encode(record)?.as_slice())
            .map_err(err)?;
        txn.open_table(PAYLOADS)
            .map_err(err)?
            .insert(id, payload)
            .map_err(err)?;
        txn.open_table(PENDING)
            .map_err(err)?
            .insert(
                (
                    record.queue.as_str(),
                    record.next_run_at,
                    record.created_at,
                    id,
                ),
                (),
            )
            .map_err(err)?;
    }
    txn.commit().map_err(err)?;
    Ok(true)
}

/// The task `id`, if stored.
pub(super) fn get(db: &Database, id: &str) -> Result<Option<TaskRecord>> {
    let txn = db.begin_read().map_err(err)?;
    let table = txn.open_table(TASKS).map_err(err)?;
    let found = table.get(id).map_err(err)?;
    found.map(|g| decode(g.value())).transpose()
}

/// Marks the pending task `id` cancelled.
pub(super) fn cancel(db: &Database, id: &str, now: i64) -> std::result::Result<(), CancelError> {
    let store = CancelError::Store;
    let txn = db.begin_write().map_err(|e| store(err(e)))?;
    {
        let mut tasks = txn.open_table(TASKS).map_err(|e| store(err(e)))?;
        let bytes = match tasks.get(id).map_err(|e| store(err(e)))? {
            Some(g) => g.value().to_vec(),
            None => return Err(CancelError::NotFound),
        };
        let mut record = decode(&bytes).map_err(store)?;
        if record.status != TaskStatus::Pending.as_str() {
            return Err(CancelError::NotPending(record.status));
        }
        let mut pending = txn.open_table(PENDING).map_err(|e| store(err(e)))?;
        let mut finished = txn.open_table(FINISHED).map_err(|e| store(err(e)))?;
        to_cancelled(
            &mut tasks,
            &mut pending,
            &mut finished,
            id,
            &mut record,
            now,
        )
        .map_err(store)?;
    }
    txn.commit().map_err(|e| store(err(e)))
}

fn to_cancelled(
    tasks: &mut redb::Table<'_, &'static str, &'static [u8]>,
    pending: &mut redb::Table<'_, PendingKey<'static>, ()>,
    finished: &mut redb::Table<'_, (&'static str, i64, &'static str), ()>,
    id: &str,
    record: &mut TaskRecord,
    now: i64,
) -> Result<()> {
    pending
        .remove((
            record.queue.as_str(),
            record.next_run_at,
            record.created_at,
            id,
        ))
        .map_err(err)?;
    record.status = TaskStatus::Cancelled.as_str().into();
    record.updated_at = now;
    tasks.insert(id, encode(record)?.as_slice()).map_err(err)?;
    finished
        .insert((record.queue.as_str(), now, id), ())
        .map_err(err)?;
    Ok(())
}

/// Cancels every pending task of `queue`; returns how many.
pub(super) fn clear(db: &Database, queue: &str, now: i64) -> Result<i64> {
    let txn = db.begin_write().map_err(err)?;
    let mut cleared = 0;
    {
        let mut tasks = txn.open_table(TASKS).map_err(err)?;
        let mut pending = txn.open_table(PENDING).map_err(err)?;
        let mut finished = txn.open_table(FINISHED).map_err(err)?;
        let ids: Vec<String> = pending
            .range((queue, i64::MIN, i64::MIN, "")..)
            .map_err(err)?
            .map_while(|entry| {
                let (key, _) = entry.ok()?;
                let (q, _, _, id) = key.value();
                (q == queue).then(|| id.to_owned())
            })
            .collect();
        for id in ids {
            let Some(bytes) = tasks
                .get(id.as_str())
                .map_err(err)?
                .map(|g| g.value().to_vec())
            else {
                continue;
            };
            let mut record = decode(&bytes)?;
            if record.status != TaskStatus::Pending.as_str() {
                continue;
            }
            to_cancelled(
                &mut tasks,
                &mut pending,
                &mut finished,
                &id,
                &mut record,
                now,
            )?;
            cleared += 1;
        }
    }
    txn.commit().map_err(err)?;
    Ok(cleared)
}

/// `next_run_at` of the first pending task of `queue` in dequeue order.
pub(super) fn next_pending_at(db: &Database, queue: &str) -> Result<Option<i64>> {
    let txn = db.begin_read().map_err(err)?;
    let pending = txn.open_table(PENDING).map_err(err)?;
    let mut range = pending
        .range((queue, i64::MIN, i64::MIN, "")..)
        .map_err(err)?;
    match range.next() {
        Some(entry) => {
            let (key, _) = entry.map_err(err)?;
            let (q, at, _, _) = key.value();
            Ok((q == queue).then_some(at))
        }
        None => Ok(None),
    }
}

/// Counts pending and running tasks of `queue`.
pub(super) fn counts(db: &Database, queue: &str) -> Result<(u64, u64)> {
    let txn = db.begin_read().map_err(err)?;
    let pending = txn
        .open_table(PENDING)
        .map_err(err)?
        .range((queue, i64::MIN, i64::MIN, "")..)
        .map_err(err)?
        .take_while(|e| e.as_ref().is_ok_and(|(k, _)| k.value().0 == queue))
        .count();
    let running = txn
        .open_table(RUNNING)
        .map_err(err)?
        .range((queue, "")..)
        .map_err(err)?
        .take_while(|e| e.as_ref().is_ok_and(|(k, _)| k.value().0 == queue))
        .count();
    Ok((pending as u64, running as u64))
}

/// Takes the first pending task of `queue` due at `now`: marks it running with its attempt
/// counter incremented, and returns it with its payload.
pub(super) fn take_next(db: &Database, queue: &str, now: i64) -> Result<Option<Dispatch>> {
    let txn = db.begin_write().map_err(err)?;
    let dispatch = {
        let mut tasks = txn.open_table(TASKS).map_err(err)?;
        let mut pending = txn.open_table(PENDING).map_err(err)?;
        let mut running = txn.open_table(RUNNING).map_err(err)?;
        let payloads = txn.open_table(PAYLOADS).map_err(err)?;
        loop {
            let first = pending
                .range((queue, i64::MIN, i64::MIN, "")..)
                .map_err(err)?
                .next()
                .transpose()
                .map_err(err)?
                .map(|(k, _)| {
                    let (q, at, created, id) = k.value();
                    (q == queue, at, created, id.to_owned())
                });
            let Some((true, at, created, id)) = first else {
                break None;
            };
            if at > now {
                break None;
            }
            pending
                .remove((queue, at, created, id.as_str()))
                .map_err(err)?;
            let Some(bytes) = tasks
                .get(id.as_str())
                .map_err(err)?
                .map(|g| g.value().to_vec())
            else {
                continue; // A stale index entry: drop it and look further.
            };
            let mut record = decode(&bytes)?;
            if record.status != TaskStatus::Pending.as_str() {
                continue;
            }
            record.status = TaskStatus::Running.as_str().into();
            record.attempt = record.attempt.saturating_add(1);
            record.updated_at = now;
            tasks
                .insert(id.as_str(), encode(&record)?.as_slice())
                .map_err(err)?;
            running.insert((queue, id.as_str()), ()).map_err(err)?;
            let payload = payloads
                .get(id.as_str())
                .map_err(err)?
                .map(|g| g.value().to_vec())
                .unwrap_or_default();
            break Some(Dispatch {
                id,
                payload,
                attempt: record.attempt,
                max_retries: record.max_retries,
            });
        }
    };
    txn.commit().map_err(err)?;
    Ok(dispatch)
}

/// Records how the execution `attempt` of the running task `id` ended. Does nothing (and
/// returns false) if the task is no longer running that attempt, e.g. because shutdown or
/// another generation of the plugin reset it meanwhile.
pub(super) fn finish(
    db: &Database,
    id: &str,
    attempt: i32,
    outcome: Outcome,
    now: i64,
) -> Result<bool> {
    let txn = db.begin_write().map_err(err)?;
    {
        let mut tasks = txn.open_table(TASKS).map_err(err)?;
        let Some(bytes) = tasks.get(id).map_err(err)?.map(|g| g.value().to_vec()) else {
            return Ok(false);
        };
        let mut record = decode(&bytes)?;
        if record.status != TaskStatus::Running.as_str() || record.attempt != attempt {
            return Ok(false);
        }
        let queue = record.queue.clone();
        txn.open_table(RUNNING)
            .map_err(err)?
            .remove((queue.as_str(), id))
            .map_err(err)?;
        record.updated_at = now;
        let (status, message) = match outcome {
            Outcome::Completed(message) => (TaskStatus::Completed, Some(message)),
            Outcome::Failed(message) => (TaskStatus::Failed, Some(message)),
            Outcome::Retry { next_run_at } => {
                record.next_run_at = next_run_at;
                (TaskStatus::Pending, None)
            }
            Outcome::Revert => {
                record.attempt = (record.attempt - 1).max(0);
                (TaskStatus::Pending, None)
            }
        };
        record.status = status.as_str().into();
        if let Some(message) = message {
            record.message = message;
        }
        if status == TaskStatus::Pending {
            txn.open_table(PENDING)
                .map_err(err)?
                .insert(
                    (queue.as_str(), record.next_run_at, record.created_at, id),
                    (),
                )
                .map_err(err)?;
        } else {
            txn.open_table(FINISHED)
                .map_err(err)?
                .insert((queue.as_str(), now, id), ())
                .map_err(err)?;
        }
        tasks.insert(id, encode(&record)?.as_slice()).map_err(err)?;
    }
    txn.commit().map_err(err)?;
    Ok(true)
}

/// Puts the running task `id` back to pending, undoing its `attempt` (the host stopped before
/// the attempt ended). Does nothing if the task is no longer running that attempt.
pub(super) fn revert(db: &Database, id: &str, attempt: i32, now: i64) -> Result<bool> {
    finish(db, id, attempt, Outcome::Revert, now)
}

/// Deletes the finished (completed, failed, cancelled) tasks of `queue` last updated before
/// `cutoff`; returns how many.
pub(super) fn sweep(db: &Database, queue: &str, cutoff: i64) -> Result<u64> {
    let txn = db.begin_write().map_err(err)?;
    let mut deleted = 0;
    {
        let mut finished = txn.open_table(FINISHED).map_err(err)?;
        let mut tasks = txn.open_table(TASKS).map_err(err)?;
        let mut payloads = txn.open_table(PAYLOADS).map_err(err)?;
        let keys: Vec<(i64, String)> = finished
            .range((queue, i64::MIN, "")..(queue, cutoff, ""))
            .map_err(err)?
            .filter_map(|entry| {
                let (key, _) = entry.ok()?;
                let (_, at, id) = key.value();
                Some((at, id.to_owned()))
            })
            .collect();
        for (at, id) in keys {
            finished.remove((queue, at, id.as_str())).map_err(err)?;
            // The index may be stale (a task finished, then re-run by another generation).
            let record = tasks
                .get(id.as_str())
                .map_err(err)?
                .map(|g| decode(g.value()))
                .transpose()?;
            if record.is_some_and(|r| r.status().is_finished() && r.updated_at == at) {
                tasks.remove(id.as_str()).map_err(err)?;
                payloads.remove(id.as_str()).map_err(err)?;
                deleted += 1;
            }
        }
    }
    txn.commit().map_err(err)?;
    Ok(deleted)
}
