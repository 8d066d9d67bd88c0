//! The task queue service (spec §3.7, permission `taskqueue` with `maxConcurrency`; the
//! plugin must then export `nd_task_execute`, see
//! [`register_task_worker!`](crate::register_task_worker)). Queues and tasks persist in the
//! plugin's data directory; the host runs each task by calling `nd_task_execute`, retrying
//! failures with backoff.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ffi::import;
use crate::host::{Empty, call};
use crate::wire::{b64, null_default};

import! {
    fn raw_create_queue = "task_createqueue";
    fn raw_enqueue = "task_enqueue";
    fn raw_get = "task_get";
    fn raw_cancel = "task_cancel";
    fn raw_clear_queue = "task_clearqueue";
}

/// How a queue runs its tasks. Zero fields take the host's defaults: concurrency 1, no
/// retries, backoff 1000 ms (doubled per attempt, at most 1 h), no delay between
/// dispatches, finished tasks kept 1 h (clamped to 1 min … 1 week).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueConfig {
    /// Tasks run at once; the sum over queues is capped by the manifest's `maxConcurrency`.
    pub concurrency: i32,
    /// Retries after a failure.
    pub max_retries: i32,
    /// The first retry's delay in milliseconds.
    pub backoff_ms: i64,
    /// The least time between two dispatches, in milliseconds (a rate limit).
    pub delay_ms: i64,
    /// How long finished tasks stay readable with [`get`], in milliseconds.
    pub retention_ms: i64,
}

/// A task's state, as [`get`] returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskInfo {
    /// `pending`, `running`, `completed`, `failed` or `cancelled`.
    #[serde(deserialize_with = "null_default")]
    pub status: String,
    /// What the last run returned (its message), or its error.
    #[serde(deserialize_with = "null_default")]
    pub message: String,
    /// How many times it ran.
    #[serde(deserialize_with = "null_default")]
    pub attempt: i32,
}

/// `task_createqueue {name, config}`. Creating a queue this plugin instance already created
/// is an error; tasks left `running` by a crash go back to `pending`.
pub fn create_queue(name: &str, config: QueueConfig) -> Result<()> {
    #[derive(Serialize)]
    struct Request<'a> {
        name: &'a str,
        config: QueueConfig,
    }
    let _: Empty = call(
        "task_createqueue",
        raw_create_queue,
        &Request { name, config },
    )?;
    Ok(())
}

/// `task_enqueue {queueName, payload}`: queues a task (payload at most 1 MiB) and returns
/// its id.
pub fn enqueue(queue_name: &str, payload: &[u8]) -> Result<String> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        queue_name: &'a str,
        #[serde(with = "b64")]
        payload: &'a [u8],
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Answer {
        #[serde(deserialize_with = "null_default")]
        result: String,
    }
    let answer: Answer = call(
        "task_enqueue",
        raw_enqueue,
        &Request {
            queue_name,
            payload,
        },
    )?;
    if answer.result.is_empty() {
        return Err(Error::call("task_enqueue", "the host returned no task id"));
    }
    Ok(answer.result)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskId<'a> {
    task_id: &'a str,
}

/// `task_get {taskId}`: a task's status, message and attempt count.
pub fn get(task_id: &str) -> Result<TaskInfo> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Answer {
        result: Option<TaskInfo>,
    }
    let answer: Answer = call("task_get", raw_get, &TaskId { task_id })?;
    answer.result.ok_or_else(|| {
        Error::call(
            "task_get",
            "the host returned neither a result nor an error",
        )
    })
}

/// `task_cancel {taskId}`: cancels a `pending` task (other states are an error).
pub fn cancel(task_id: &str) -> Result<()> {
    let _: Empty = call("task_cancel", raw_cancel, &TaskId { task_id })?;
    Ok(())
}

/// `task_clearqueue {queueName}`: cancels every pending task of the queue and returns how
/// many there were.
pub fn clear_queue(queue_name: &str) -> Result<i64> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        queue_name: &'a str,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Answer {
        #[serde(deserialize_with = "null_default")]
        result: i64,
    }
    let answer: Answer = call("task_clearqueue", raw_clear_queue, &Request { queue_name })?;
    Ok(answer.result)
}
