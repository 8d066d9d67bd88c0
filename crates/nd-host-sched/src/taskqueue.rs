//! The task queue service (`taskqueue`, spec §3.7): persistent named queues whose tasks the
//! host hands back to the plugin's `nd_task_execute` export, with per-queue concurrency,
//! retries with exponential backoff, a minimum delay between dispatches and retention of
//! finished tasks. One [`TaskQueueService`] per plugin; it stores its queues and tasks in
//! redb at `<data_dir>/plugins/<id>/taskqueue.redb` (Navidrome: SQLite `taskqueue.db`).
//!
//! What it is not: it does not read the manifest (the embedder passes `maxConcurrency` in
//! [`TaskQueueConfig`]) and it cannot interrupt a running plugin call.
//!
//! Behaviour, and where it differs from Navidrome (`plugins/host_taskqueue.go`):
//! - Function names, request and response JSON, defaults, limits and error texts are
//!   Navidrome's. Task IDs are Navidrome's too: 128 random bits as 22 zero-padded base62
//!   characters (`0-9a-zA-Z`).
//! - One dispatcher thread per service (started by the first `task_createqueue`) takes due
//!   tasks in `(next_run_at, created_at)` order while a queue has fewer than `concurrency`
//!   tasks in flight, and runs each in its own thread through [`Plugin::call`] (a fresh
//!   instance per call). It wakes on enqueue, on a finished task, when the clock jumps
//!   (a [`ManualClock`](nd_host_store::clock::ManualClock) advance) and at the next due time,
//!   polling at least every 5 s of clock time; all due times follow the service's clock.
//! - `delayMs` spaces dispatches of a queue by at least that much clock time (Navidrome: a
//!   rate limiter with a burst of 1). A task waiting for that slot stays `pending` here, where
//!   Navidrome has already marked it `running`.
//! - The export's output is the task message: a JSON string is decoded; an empty output is
//!   `""`; any other output is kept as text (lossy UTF-8) and the task still completes, where
//!   Navidrome would fail the attempt with a JSON decoding error.
//! - A failed attempt's message is the call error's text, as Navidrome words it. If retries
//!   remain, the task goes back to `pending`, due `backoffMs * 2^(attempt-1)` ms later (capped
//!   at 1 h), its message unchanged; otherwise it is `failed`.
//! - Finished tasks are deleted once `retentionMs` has passed since their last update, by a
//!   sweep every 5 min of clock time over the queues this instance created.
//! - Beyond Navidrome, a plugin may have at most [`TaskQueueConfig::max_pending_tasks`]
//!   (10,000) pending tasks over all its queues; `task_enqueue` beyond that fails with
//!   `too many pending tasks: a plugin may have at most N`, so a plugin cannot fill the disk.
//! - Shutdown stops dispatching, waits up to [`TaskQueueConfig::shutdown_timeout`] (10 s) for
//!   calls in flight, records those that finish, and puts the others back to `pending` with
//!   their attempt undone (Navidrome cancels the calls and does the same). A call that ends
//!   later is ignored.

mod store;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use nd_host_store::clock::{self, SharedClock, Waker};
use nd_host_store::db;
use nd_runtime::{
    CallErrorKind, GoRequest, HostError, HostImports, HostService, Plugin, RegisterError,
    WeakPlugin, go_quote, json_response,
};
use parking_lot::{Condvar, Mutex, MutexGuard};
use redb::Database;
use serde_json::{Value, json};

use store::{CancelError, Dispatch, Outcome, TaskRecord};

/// The export a plugin with the `taskqueue` permission must provide.
pub const TASK_EXECUTE_EXPORT: &str = "nd_task_execute";

const DEFAULT_CONCURRENCY: i32 = 1;
const DEFAULT_BACKOFF_MS: i64 = 1000;
const DEFAULT_RETENTION_MS: i64 = 3_600_000;
const MIN_RETENTION_MS: i64 = 60_000;
const MAX_RETENTION_MS: i64 = 604_800_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// Longest queue name, in bytes.
pub const MAX_QUEUE_NAME_LEN: usize = 128;
/// Largest task payload, in bytes.
pub const MAX_PAYLOAD_SIZE: usize = 1024 * 1024;
const POLL_INTERVAL_MS: i64 = 5_000;
const CLEANUP_INTERVAL_MS: i64 = 5 * 60 * 1000;

/// How a [`TaskQueueService`] is set up.
#[derive(Clone)]
pub struct TaskQueueConfig {
    /// Navidrome's data folder; the store is `<data_dir>/plugins/<id>/taskqueue.redb`.
    pub data_dir: PathBuf,
    /// The manifest's `taskqueue.maxConcurrency`: the sum of the plugin's queue concurrencies.
    pub max_concurrency: u32,
    /// Every "now" of the service: due times, backoffs, delays, retention.
    pub clock: SharedClock,
    /// How long shutdown waits for running tasks (real time). Navidrome: 10 s.
    pub shutdown_timeout: Duration,
    /// The most pending tasks the plugin may have over all its queues (default
    /// [`DEFAULT_MAX_PENDING_TASKS`]); `task_enqueue` beyond it fails. Navidrome has no bound:
    /// tasks are stored on disk with payloads of up to 1 MiB, so a plugin enqueuing in a loop
    /// could fill the disk.
    pub max_pending_tasks: u64,
}

/// Pending tasks per plugin unless [`TaskQueueConfig::max_pending_tasks`] says otherwise.
pub const DEFAULT_MAX_PENDING_TASKS: u64 = 10_000;

impl TaskQueueConfig {
    /// Navidrome's defaults: `maxConcurrency` 1, the system clock, a 10 s shutdown wait.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            max_concurrency: 1,
            clock: clock::system_clock(),
            shutdown_timeout: Duration::from_secs(10),
            max_pending_tasks: DEFAULT_MAX_PENDING_TASKS,
        }
    }
}

impl fmt::Debug for TaskQueueConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskQueueConfig")
            .field("data_dir", &self.data_dir)
            .field("max_concurrency", &self.max_concurrency)
            .field("clock", &self.clock)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("max_pending_tasks", &self.max_pending_tasks)
            .finish()
    }
}

/// A queue's settings after defaults and clamping (the `config` of `task_createqueue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    pub concurrency: i32,
    pub max_retries: i32,
    pub backoff_ms: i64,
    pub delay_ms: i64,
    pub retention_ms: i64,
}

/// The state of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    /// The wire name: `pending`, `running`, `completed`, `failed` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// True for the end states (completed, failed, cancelled).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    pub queue: String,
    pub status: TaskStatus,
    /// The plugin's message (completed), the error text (failed), or `""`.
    pub message: String,
    /// Attempts made so far (1-based once started).
    pub attempt: i32,
    pub max_retries: i32,
    /// When the task is due (pending) or was last due.
    pub next_run_at: SystemTime,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

/// A snapshot of the service, for embedders and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// The queues created in this instance, by name.
    pub queues: Vec<QueueStats>,
    /// Tasks executing right now, over all queues.
    pub running: usize,
}

/// One queue in [`Stats`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    pub name: String,
    pub config: QueueConfig,
    /// Tasks this instance is executing.
    pub running: usize,
    /// Tasks stored as pending (due or not).
    pub pending: u64,
}

/// The `taskqueue` host service of one plugin; see the module documentation.
#[derive(Clone)]
pub struct TaskQueueService {
    inner: Arc<Inner>,
}

impl fmt::Debug for TaskQueueService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskQueueService")
            .field("plugin", &self.inner.bound.get().map(|b| &b.plugin_id))
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

struct Bound {
    plugin_id: String,
    path: PathBuf,
    db: Arc<nd_host_store::db::SharedDatabase>,
}

struct Inner {
    me: Weak<Inner>,
    config: TaskQueueConfig,
    bound: OnceLock<Bound>,
    plugin: Mutex<Option<WeakPlugin>>,
    state: Mutex<State>,
    cond: Condvar,
    /// Subscribed (weakly) to the clock; kept here so that it lives as long as the service.
    waker: Mutex<Option<Arc<Waker>>>,
}

struct QueueState {
    config: QueueConfig,
    running: usize,
    /// No dispatch before this (clock ms): the `delayMs` spacing.
    next_dispatch_at: i64,
}

#[derive(Default)]
struct State {
    queues: BTreeMap<String, QueueState>,
    /// Task id → the attempt being executed, for every call in flight.
    in_flight: HashMap<String, i32>,
    stopping: bool,
    dispatcher: Option<JoinHandle<()>>,
    next_sweep_at: i64,
}

impl TaskQueueService {
    /// A service for one plugin. Storage is opened when the plugin registers.
    pub fn new(config: TaskQueueConfig) -> Self {
        let inner = Arc::new_cyclic(|me| Inner {
            me: me.clone(),
            config,
            bound: OnceLock::new(),
            plugin: Mutex::new(None),
            state: Mutex::new(State::default()),
            cond: Condvar::new(),
            waker: Mutex::new(None),
        });
        let weak: Weak<Inner> = Arc::downgrade(&inner);
        let waker: Arc<Waker> = Arc::new(move || {
            if let Some(inner) = weak.upgrade() {
                let _guard = inner.state.lock();
                inner.cond.notify_all();
            }
        });
        inner.config.clock.subscribe(Arc::downgrade(&waker));
        *inner.waker.lock() = Some(waker);
        Self { inner }
    }

    /// The redb file, once registered.
    pub fn db_path(&self) -> Option<&Path> {
        self.inner.bound.get().map(|b| b.path.as_path())
    }

    /// The task `id`, if stored (whatever queue it belongs to).
    pub fn task(&self, id: &str) -> Option<TaskInfo> {
        let bound = self.inner.bound.get()?;
        let record = store::get(&bound.db, id).ok()??;
        Some(TaskInfo {
            queue: record.queue.clone(),
            status: record.status(),
            message: record.message.clone(),
            attempt: record.attempt,
            max_retries: record.max_retries,
            next_run_at: clock::from_millis(record.next_run_at),
            created_at: clock::from_millis(record.created_at),
            updated_at: clock::from_millis(record.updated_at),
        })
    }

    /// The queues of this instance with their running and pending counts.
    pub fn stats(&self) -> Stats {
        let st = self.inner.state.lock();
        let db = self.inner.bound.get().map(|b| &b.db);
        Stats {
            queues: st
                .queues
                .iter()
                .map(|(name, q)| QueueStats {
                    name: name.clone(),
                    config: q.config,
                    running: q.running,
                    pending: db
                        .and_then(|db| store::counts(db, name).ok())
                        .map_or(0, |(pending, _)| pending),
                })
                .collect(),
            running: st.in_flight.len(),
        }
    }

    /// Waits (real time, at most `timeout`) until the service is idle: no task executing,
    /// none due now, and no cleanup sweep due now. Returns false on timeout. With a
    /// [`ManualClock`](nd_host_store::clock::ManualClock), this is how to wait for the work a
    /// clock advance made due.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.inner.state.lock();
        loop {
            if self.inner.is_idle(&st) {
                return true;
            }
            if self.inner.cond.wait_until(&mut st, deadline).timed_out() {
                return self.inner.is_idle(&st);
            }
        }
    }
}

impl HostService for TaskQueueService {
    fn name(&self) -> &'static str {
        "taskqueue"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let id = imports.plugin_id().to_owned();
        match self.inner.bound.get() {
            Some(bound) if bound.plugin_id != id => {
                return Err(RegisterError(format!(
                    "this taskqueue service belongs to plugin '{}'",
                    bound.plugin_id
                )));
            }
            Some(_) => {}
            None => {
                let dir = db::plugin_data_dir(&self.inner.config.data_dir, &id);
                let path = dir.join("taskqueue.redb");
                let fail = |cause: String| {
                    RegisterError(format!(
                        "cannot open task queue store {}: {cause}",
                        path.display()
                    ))
                };
                let db = db::open_shared(&path).map_err(|e| fail(e.to_string()))?;
                store::init(&db).map_err(fail)?;
                let _ = self.inner.bound.set(Bound {
                    plugin_id: id,
                    path: path.clone(),
                    db,
                });
            }
        }
        let fns: [(&str, HostFn); 5] = [
            ("task_createqueue", Inner::create_queue),
            ("task_enqueue", Inner::enqueue),
            ("task_get", Inner::get),
            ("task_cancel", Inner::cancel),
            ("task_clearqueue", Inner::clear_queue),
        ];
        for (name, f) in fns {
            let inner = Arc::clone(&self.inner);
            imports.json(name, move |_ctx, req| f(&inner, &req));
        }
        Ok(())
    }

    fn on_load(&self, plugin: &Plugin) -> Result<(), RegisterError> {
        if !plugin.has_export(TASK_EXECUTE_EXPORT) {
            return Err(RegisterError(format!(
                "the taskqueue permission requires the {TASK_EXECUTE_EXPORT} export, which \
                 the plugin does not have"
            )));
        }
        *self.inner.plugin.lock() = Some(plugin.downgrade());
        Ok(())
    }

    fn shutdown(&self) {
        self.inner.shutdown();
    }
}

/// One `task_*` function, before it is bound to its service.
type HostFn = fn(&Inner, &Value) -> Result<Value, HostError>;

fn guest(message: impl Into<String>) -> HostError {
    HostError::Guest(message.into())
}

/// `backoffMs * 2^(attempt-1)`, capped at 1 h (also on overflow).
fn backoff(backoff_ms: i64, attempt: i32) -> i64 {
    let shift = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0);
    if shift >= 62 {
        return MAX_BACKOFF_MS;
    }
    backoff_ms
        .checked_mul(1i64 << shift)
        .filter(|b| *b > 0 && *b <= MAX_BACKOFF_MS)
        .unwrap_or(MAX_BACKOFF_MS)
}

/// A new task ID ([`nd_runtime::random_id`], Navidrome's `id.NewRandom`).
fn new_task_id() -> Result<String, String> {
    nd_runtime::random_id()
}

/// The task message from the export's output (see the module documentation).
fn output_message(output: &[u8]) -> String {
    if output.is_empty() {
        return String::new();
    }
    match serde_json::from_slice::<Value>(output) {
        Ok(Value::String(s)) => s,
        _ => String::from_utf8_lossy(output).into_owned(),
    }
}

/// The error text of a failed `nd_task_execute` call, as Navidrome words it.
fn call_error_message(kind: &CallErrorKind) -> String {
    match kind {
        CallErrorKind::NotImplemented => format!("not implemented: {TASK_EXECUTE_EXPORT}"),
        CallErrorKind::FunctionNotFound => format!("function not found: {TASK_EXECUTE_EXPORT}"),
        other => other.to_string(),
    }
}

impl Inner {
    fn db(&self) -> Result<&Database, HostError> {
        self.bound
            .get()
            .map(|b| &**b.db)
            .ok_or_else(|| guest("task queue store is not open"))
    }

    fn plugin_id(&self) -> &str {
        self.bound.get().map_or("", |b| b.plugin_id.as_str())
    }

    fn now(&self) -> i64 {
        self.config.clock.now_millis()
    }

    fn create_queue(&self, req: &Value) -> Result<Value, HostError> {
        let req = GoRequest::parse(req, "TaskCreateQueueRequest")?;
        let name = req.string("name")?;
        let cfg = req.object("config", "QueueConfig")?;
        let mut config = QueueConfig {
            concurrency: cfg.int32("concurrency")?,
            max_retries: cfg.int32("maxRetries")?,
            backoff_ms: cfg.int64("backoffMs")?,
            delay_ms: cfg.int64("delayMs")?,
            retention_ms: cfg.int64("retentionMs")?,
        };
        if name.is_empty() {
            return Err(guest("queue name cannot be empty"));
        }
        if name.len() > MAX_QUEUE_NAME_LEN {
            return Err(guest(format!(
                "queue name exceeds maximum length of {MAX_QUEUE_NAME_LEN} bytes"
            )));
        }
        if config.concurrency <= 0 {
            config.concurrency = DEFAULT_CONCURRENCY;
        }
        if config.backoff_ms <= 0 {
            config.backoff_ms = DEFAULT_BACKOFF_MS;
        }
        if config.retention_ms <= 0 {
            config.retention_ms = DEFAULT_RETENTION_MS;
        }
        config.retention_ms = config
            .retention_ms
            .clamp(MIN_RETENTION_MS, MAX_RETENTION_MS);

        let db = self.db()?;
        let mut st = self.state.lock();
        if st.stopping {
            return Err(guest("task queue is shut down"));
        }
        let allocated: i64 = st
            .queues
            .values()
            .map(|q| i64::from(q.config.concurrency))
            .sum();
        let max = i64::from(self.config.max_concurrency);
        let available = max - allocated;
        if available <= 0 {
            tracing::warn!(plugin = self.plugin_id(), queue = %name, allocated, max,
                "task queue concurrency budget exhausted");
            return Err(guest(format!(
                "concurrency budget exhausted ({allocated}/{max} allocated)"
            )));
        }
        if i64::from(config.concurrency) > available {
            tracing::warn!(plugin = self.plugin_id(), queue = %name,
                requested = config.concurrency, available, "task queue concurrency clamped");
            config.concurrency = i32::try_from(available).unwrap_or(i32::MAX);
        }
        if st.queues.contains_key(&name) {
            return Err(guest(format!("queue {} already exists", go_quote(&name))));
        }
        let now = self.now();
        let reset = store::create_queue(db, &name, &config, now)
            .map_err(|e| guest(format!("creating queue: {e}")))?;
        if reset > 0 {
            tracing::info!(plugin = self.plugin_id(), queue = %name, reset,
                "task queue: stale running tasks reset to pending");
        }
        st.queues.insert(
            name.clone(),
            QueueState {
                config,
                running: 0,
                next_dispatch_at: i64::MIN,
            },
        );
        if st.dispatcher.is_none() {
            st.next_sweep_at = now.saturating_add(CLEANUP_INTERVAL_MS);
            let inner = self.self_arc()?;
            let handle = thread::Builder::new()
                .name(format!("nd-taskqueue-{}", self.plugin_id()))
                .spawn(move || inner.dispatch_loop())
                .map_err(|e| guest(format!("creating queue: cannot start dispatcher: {e}")))?;
            st.dispatcher = Some(handle);
        }
        tracing::debug!(plugin = self.plugin_id(), queue = %name, ?config, "created task queue");
        self.cond.notify_all();
        Ok(json!({}))
    }

    /// An owning handle on this `Inner` (host functions only hold `&Inner`).
    fn self_arc(&self) -> Result<Arc<Inner>, HostError> {
        self.me
            .upgrade()
            .ok_or_else(|| guest("task queue is shut down"))
    }

    fn queue_exists(&self, name: &str) -> Result<QueueConfig, HostError> {
        let st = self.state.lock();
        st.queues
            .get(name)
            .map(|q| q.config)
            .ok_or_else(|| guest(format!("queue {} does not exist", go_quote(name))))
    }

    fn enqueue(&self, req: &Value) -> Result<Value, HostError> {
        let req = GoRequest::parse(req, "TaskEnqueueRequest")?;
        let queue = req.string("queueName")?;
        let payload = req.bytes("payload")?;
        let config = self.queue_exists(&queue)?;
        if payload.len() > MAX_PAYLOAD_SIZE {
            return Err(guest(format!(
                "payload size {} exceeds maximum of {MAX_PAYLOAD_SIZE} bytes",
                payload.len()
            )));
        }
        let id = new_task_id().map_err(|e| guest(format!("enqueuing task: {e}")))?;
        let now = self.now();
        let record = TaskRecord {
            queue,
            status: TaskStatus::Pending.as_str().into(),
            attempt: 0,
            max_retries: config.max_retries,
            next_run_at: now,
            created_at: now,
            updated_at: now,
            message: String::new(),
        };
        let max = self.config.max_pending_tasks;
        let stored = store::insert(self.db()?, &id, &record, &payload, max)
            .map_err(|e| guest(format!("enqueuing task: {e}")))?;
        if !stored {
            return Err(guest(format!(
                "too many pending tasks: a plugin may have at most {max}"
            )));
        }
        tracing::trace!(plugin = self.plugin_id(), queue = %record.queue, task = %id, "enqueued task");
        let _guard = self.state.lock();
        self.cond.notify_all();
        Ok(json!({ "result": id }))
    }

    fn task_id(req: &Value, go_type: &str) -> Result<String, HostError> {
        GoRequest::parse(req, go_type)?.string("taskId")
    }

    fn get(&self, req: &Value) -> Result<Value, HostError> {
        let id = Self::task_id(req, "TaskGetRequest")?;
        let record = store::get(self.db()?, &id)
            .map_err(|e| guest(format!("getting task info: {e}")))?
            .ok_or_else(|| guest(format!("task {} not found", go_quote(&id))))?;
        Ok(json!({ "result": {
            "status": record.status,
            "message": record.message,
            "attempt": record.attempt,
        }}))
    }

    fn cancel(&self, req: &Value) -> Result<Value, HostError> {
        let id = Self::task_id(req, "TaskCancelRequest")?;
        match store::cancel(self.db()?, &id, self.now()) {
            Ok(()) => Ok(json!({})),
            Err(CancelError::NotFound) => Err(guest(format!("task {} not found", go_quote(&id)))),
            Err(CancelError::NotPending(status)) => Err(guest(format!(
                "task {} cannot be cancelled (status: {status})",
                go_quote(&id)
            ))),
            Err(CancelError::Store(e)) => Err(guest(format!("cancelling task: {e}"))),
        }
    }

    fn clear_queue(&self, req: &Value) -> Result<Value, HostError> {
        let req = GoRequest::parse(req, "TaskClearQueueRequest")?;
        let queue = req.string("queueName")?;
        self.queue_exists(&queue)?;
        let cleared = store::clear(self.db()?, &queue, self.now())
            .map_err(|e| guest(format!("clearing queue: {e}")))?;
        if cleared > 0 {
            tracing::debug!(plugin = self.plugin_id(), queue = %queue, cleared,
                "cleared pending tasks from queue");
        }
        Ok(json_response(json!({ "result": cleared })))
    }

    /// A queue that may start a task at `now`, with the due time of its first pending task.
    fn first_due(&self, q: &QueueState, name: &str) -> Option<i64> {
        if q.running >= usize::try_from(q.config.concurrency).unwrap_or(0) {
            return None;
        }
        let db = &self.bound.get()?.db;
        let at = store::next_pending_at(db, name).ok()??;
        Some(at.max(q.next_dispatch_at))
    }

    fn is_idle(&self, st: &State) -> bool {
        if !st.in_flight.is_empty() {
            return false;
        }
        if st.stopping || st.dispatcher.is_none() {
            return true;
        }
        let now = self.now();
        now < st.next_sweep_at
            && st
                .queues
                .iter()
                .all(|(name, q)| self.first_due(q, name).is_none_or(|at| at > now))
    }

    fn dispatch_loop(self: Arc<Self>) {
        let mut st = self.state.lock();
        loop {
            if st.stopping {
                break;
            }
            let now = self.now();
            if now >= st.next_sweep_at {
                self.sweep(&st, now);
                st.next_sweep_at = now.saturating_add(CLEANUP_INTERVAL_MS);
                self.cond.notify_all();
            }
            let mut failed = false;
            let names: Vec<String> = st.queues.keys().cloned().collect();
            for name in names {
                while let Some(q) = st.queues.get(&name) {
                    if self.first_due(q, &name).is_none_or(|at| at > now) {
                        break;
                    }
                    let Ok(db) = self.db() else { break };
                    match store::take_next(db, &name, now) {
                        Ok(Some(task)) => {
                            if !self.start(&mut st, &name, task, now) {
                                failed = true;
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::error!(plugin = self.plugin_id(), queue = %name, error = %e,
                                "failed to dequeue task");
                            failed = true;
                            break;
                        }
                    }
                }
            }
            let mut wake_at = now.saturating_add(POLL_INTERVAL_MS).min(st.next_sweep_at);
            for (name, q) in &st.queues {
                if let Some(at) = self.first_due(q, name) {
                    wake_at = wake_at.min(at);
                }
            }
            let wait = if failed || wake_at <= now {
                // A store error, or work due that could not be taken: retry soon, not in a spin.
                Duration::from_millis(if failed { 1000 } else { 10 })
            } else if self.config.clock.is_manual() {
                // The clock moves only through advances, and every advance wakes us.
                Duration::from_secs(3600)
            } else {
                Duration::from_millis(u64::try_from(wake_at - now).unwrap_or(0).clamp(1, 5000))
            };
            self.cond.wait_for(&mut st, wait);
        }
    }

    /// Records `task` as in flight and starts its execution thread; false (task put back)
    /// if the thread cannot be started.
    fn start(&self, st: &mut MutexGuard<'_, State>, queue: &str, task: Dispatch, now: i64) -> bool {
        let Some(q) = st.queues.get_mut(queue) else {
            return false;
        };
        q.running += 1;
        if q.config.delay_ms > 0 {
            q.next_dispatch_at = now.saturating_add(q.config.delay_ms);
        }
        st.in_flight.insert(task.id.clone(), task.attempt);
        let Ok(inner) = self.self_arc() else {
            return false;
        };
        let plugin = self.plugin.lock().clone();
        let queue_name = queue.to_owned();
        let (id, attempt) = (task.id.clone(), task.attempt);
        let spawned = thread::Builder::new()
            .name(format!("nd-task-{}", self.plugin_id()))
            .spawn(move || inner.run(plugin, queue_name, task));
        if let Err(e) = spawned {
            tracing::error!(plugin = self.plugin_id(), error = %e, "cannot start a task thread");
            st.in_flight.remove(&id);
            if let Some(q) = st.queues.get_mut(queue) {
                q.running = q.running.saturating_sub(1);
            }
            if let Ok(db) = self.db() {
                let _ = store::revert(db, &id, attempt, now);
            }
            return false;
        }
        true
    }

    /// Executes one task on its own thread.
    fn run(self: Arc<Self>, plugin: Option<WeakPlugin>, queue: String, task: Dispatch) {
        let plugin = plugin.and_then(|p| p.upgrade());
        tracing::debug!(plugin = self.plugin_id(), queue = %queue, task = %task.id,
            attempt = task.attempt, "executing task");
        let result = match &plugin {
            None => Err(format!("plugin {} not loaded", self.plugin_id())),
            Some(p) => {
                let input = json!({
                    "queueName": queue,
                    "taskId": task.id,
                    "payload": nd_runtime::encode_bytes(&task.payload),
                    "attempt": task.attempt,
                });
                p.call(TASK_EXECUTE_EXPORT, input.to_string().as_bytes())
                    .map(|out| output_message(&out))
                    .map_err(|e| call_error_message(e.kind()))
            }
        };
        self.finish(&queue, &task, result);
        // Dropping what may be the last handle to the plugin shuts this service down, on
        // this thread: `finish` already took this task off the in-flight list.
        drop(plugin);
    }

    fn finish(&self, queue: &str, task: &Dispatch, result: Result<String, String>) {
        let now = self.now();
        let mut st = self.state.lock();
        if st.in_flight.remove(&task.id).is_none() {
            // Shutdown gave up on this call and put the task back to pending.
            return;
        }
        let backoff_ms = st
            .queues
            .get(queue)
            .map_or(DEFAULT_BACKOFF_MS, |q| q.config.backoff_ms);
        if let Some(q) = st.queues.get_mut(queue) {
            q.running = q.running.saturating_sub(1);
        }
        let outcome = match result {
            Ok(message) => {
                tracing::debug!(plugin = self.plugin_id(), queue, task = %task.id, "task completed");
                Outcome::Completed(message)
            }
            Err(message) => {
                tracing::warn!(plugin = self.plugin_id(), queue, task = %task.id,
                    attempt = task.attempt, max_retries = task.max_retries, error = %message,
                    "task execution failed");
                if task.attempt > task.max_retries {
                    Outcome::Failed(message)
                } else {
                    Outcome::Retry {
                        next_run_at: now.saturating_add(backoff(backoff_ms, task.attempt)),
                    }
                }
            }
        };
        if let Ok(db) = self.db()
            && let Err(e) = store::finish(db, &task.id, task.attempt, outcome, now)
        {
            tracing::error!(plugin = self.plugin_id(), task = %task.id, error = %e,
                "failed to record the task result");
        }
        self.cond.notify_all();
    }

    fn sweep(&self, st: &State, now: i64) {
        let Ok(db) = self.db() else { return };
        for (name, q) in &st.queues {
            match store::sweep(db, name, now.saturating_sub(q.config.retention_ms)) {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(plugin = self.plugin_id(), queue = %name, deleted,
                    "cleaned up finished tasks"),
                Err(e) => tracing::error!(plugin = self.plugin_id(), queue = %name, error = %e,
                    "failed to clean up tasks"),
            }
        }
    }

    fn shutdown(&self) {
        let deadline = Instant::now() + self.config.shutdown_timeout;
        let mut st = self.state.lock();
        st.stopping = true;
        self.cond.notify_all();
        while !st.in_flight.is_empty() {
            if self.cond.wait_until(&mut st, deadline).timed_out() {
                break;
            }
        }
        if !st.in_flight.is_empty() {
            tracing::warn!(
                plugin = self.plugin_id(),
                running = st.in_flight.len(),
                "task queue shutdown timed out; running tasks go back to pending"
            );
        }
        let now = self.now();
        for (id, attempt) in std::mem::take(&mut st.in_flight) {
            if let Ok(db) = self.db()
                && let Err(e) = store::revert(db, &id, attempt, now)
            {
                tracing::error!(plugin = self.plugin_id(), task = %id, error = %e,
                    "failed to reset a running task");
            }
        }
        for q in st.queues.values_mut() {
            q.running = 0;
        }
        let dispatcher = st.dispatcher.take();
        drop(st);
        if let Some(handle) = dispatcher
            && handle.thread().id() != thread::current().id()
        {
            let _ = handle.join();
        }
    }
}
