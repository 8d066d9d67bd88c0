//! The scheduler service (`scheduler`, spec §3.3): one-time and recurring schedules whose
//! firing calls the plugin's `nd_scheduler_callback` export. One [`SchedulerService`] per
//! plugin; nothing is persisted (Navidrome keeps schedules in memory too; plugins re-create
//! them in `nd_on_init`).
//!
//! What it is not: it does not read the manifest, and it cannot interrupt a running callback
//! (the runtime's call timeout does).
//!
//! Behaviour, and where it differs from Navidrome (`plugins/host_scheduler.go`):
//! - Function names, request and response JSON and error texts are Navidrome's: an empty
//!   `scheduleId` gets 128 random bits as 22 zero-padded base62 characters (`0-9a-zA-Z`);
//!   reusing an active ID fails with `schedule ID "x" already exists`; cancelling an unknown
//!   one with `schedule ID "x" not found`; a bad expression with `failed to schedule task:
//!   <parser message>` ([`crate::cron`]). A negative `delaySeconds` fires at once (a Go timer
//!   does the same).
//! - A one-time entry stays registered until its callback returns, so neither the callback
//!   nor anyone else can reuse its ID meanwhile; cancelling it during the callback removes it.
//! - One driver thread per service (started by the first schedule) keeps a min-heap of
//!   `(due, id)`; cancelling leaves a stale heap item that is skipped (and swept when stale
//!   items outnumber live ones), so scheduling and cancelling cost O(log n). It sleeps until
//!   the earliest due time, or, with a [`ManualClock`](nd_host_store::clock::ManualClock),
//!   until the clock is moved. All times follow the service's clock.
//! - Due callbacks run on a small pool of worker threads (up to
//!   [`SchedulerService::with_workers`], default 4), each through [`Plugin::call`] in a fresh
//!   instance, with `{"scheduleId","payload","isRecurring"}`. Callbacks of one plugin run
//!   concurrently, as Navidrome's goroutines do, and a recurring schedule may overlap itself
//!   when a callback outlasts its period (robfig/cron's default); Navidrome has no pool
//!   limit, so with more long callbacks in flight than workers, later ones start late.
//! - A recurring schedule is re-armed, when it fires, at its next time after the current
//!   clock time: fires missed while the clock jumped are skipped, not replayed (robfig does
//!   the same). A cron expression with no next time stays registered and never fires.
//! - Callback failures (a trap, a timeout, or an `error` in the output) are only logged, at
//!   `warn`, with the plugin id and schedule ID.
//! - Beyond Navidrome, a plugin may have at most [`DEFAULT_MAX_SCHEDULES`] (100,000) active
//!   schedules ([`SchedulerService::with_max_schedules`]); one more fails with `too many active
//!   schedules: a plugin may have at most N`, so a plugin cannot grow the host's memory without
//!   bound.
//! - [`SchedulerService::shutdown`] (run when the plugin unloads) drops every schedule; no
//!   callback starts afterwards, and callbacks in flight finish.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use nd_host_store::clock::{SharedClock, Waker, system_clock};
use nd_runtime::{
    GoRequest, HostError, HostImports, HostService, Plugin, RegisterError, WeakPlugin, go_quote,
    json_response,
};
use parking_lot::{Condvar, Mutex, MutexGuard};
use serde_json::{Value, json};

use crate::cron::{CronError, Schedule};

/// The export a plugin with the `scheduler` permission must provide.
pub const CALLBACK_EXPORT: &str = "nd_scheduler_callback";

/// Worker threads per service unless [`SchedulerService::with_workers`] says otherwise.
pub const DEFAULT_WORKERS: usize = 4;

/// Active schedules one plugin may have unless [`SchedulerService::with_max_schedules`] says
/// otherwise. Navidrome has no bound; without one, a plugin scheduling in a loop grows the
/// host's memory until it fails.
pub const DEFAULT_MAX_SCHEDULES: usize = 100_000;

/// The longest the driver sleeps on the real clock before looking at it again (a system
/// clock that jumps is noticed within this time).
const MAX_REAL_WAIT: Duration = Duration::from_secs(30);

/// Why a schedule operation failed. The texts are Navidrome's.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The ID belongs to an active schedule.
    #[error("schedule ID {} already exists", go_quote(.0))]
    AlreadyExists(String),
    /// No active schedule has this ID.
    #[error("schedule ID {} not found", go_quote(.0))]
    NotFound(String),
    /// The cron expression was refused.
    #[error("failed to schedule task: {0}")]
    InvalidCron(#[from] CronError),
    /// The service was shut down (its plugin was unloaded).
    #[error("scheduler is shut down")]
    ShutDown,
    /// No random bytes for a generated ID.
    #[error("failed to generate a schedule ID: {0}")]
    Random(String),
    /// The plugin already has the most active schedules it may have (not in Navidrome).
    #[error("too many active schedules: a plugin may have at most {0}")]
    TooMany(usize),
}

/// What an observer learns when a callback starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireEvent {
    /// The schedule ID.
    pub schedule_id: String,
    /// When the schedule was due.
    pub due: SystemTime,
    /// When the callback started (service clock).
    pub started: SystemTime,
    /// True for recurring schedules.
    pub recurring: bool,
}

/// Called when a callback starts, on the worker thread that runs it.
pub type Observer = Arc<dyn Fn(&FireEvent) + Send + Sync>;

/// The scheduler host service of one plugin. Dropping it shuts it down.
pub struct SchedulerService {
    inner: Arc<Inner>,
}

impl fmt::Debug for SchedulerService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.lock();
        f.debug_struct("SchedulerService")
            .field("plugin", &st.plugin_id)
            .field("active", &st.entries.len())
            .field("in_flight", &st.in_flight)
            .field("shut_down", &st.shut)
            .finish_non_exhaustive()
    }
}

impl Default for SchedulerService {
    /// A service on the system clock.
    fn default() -> Self {
        Self::new(system_clock())
    }
}

struct Inner {
    clock: SharedClock,
    state: Mutex<State>,
    /// Wakes the driver: a new schedule, a clock jump, shutdown.
    driver_cv: Condvar,
    /// Wakes idle workers: a job was queued, shutdown.
    work_cv: Condvar,
    /// Wakes [`SchedulerService::wait_idle`]: a callback finished, shutdown.
    idle_cv: Condvar,
    /// Mirrors `State::shut`, read by workers right before a call starts.
    shut: AtomicBool,
    /// Kept alive here; the clock holds it weakly.
    _waker: Arc<Waker>,
}

#[derive(Default)]
struct State {
    plugin_id: String,
    plugin: Option<WeakPlugin>,
    observer: Option<Observer>,
    entries: HashMap<String, Entry>,
    /// `(due, arm token, id)`; an item is live while its entry's `armed` is its token.
    heap: BinaryHeap<Reverse<(SystemTime, u64, String)>>,
    next_token: u64,
    queue: VecDeque<Job>,
    max_workers: usize,
    max_schedules: usize,
    /// Jobs queued or running.
    in_flight: usize,
    workers: usize,
    idle_workers: usize,
    driver: Option<JoinHandle<()>>,
    shut: bool,
}

struct Entry {
    /// Unique per created schedule (a token), so that a one-time callback that ends after
    /// its ID was cancelled and reused does not remove the newcomer.
    serial: u64,
    payload: String,
    schedule: Option<Schedule>,
    armed: Option<u64>,
}

struct Job {
    id: String,
    serial: u64,
    payload: String,
    recurring: bool,
    due: SystemTime,
}

impl State {
    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    fn arm(&mut self, id: &str, due: SystemTime) -> u64 {
        let token = self.token();
        self.heap.push(Reverse((due, token, id.to_owned())));
        token
    }

    fn is_live(&self, token: u64, id: &str) -> bool {
        self.entries
            .get(id)
            .is_some_and(|entry| entry.armed == Some(token))
    }

    /// The earliest live due time, dropping stale items on the way.
    fn earliest(&mut self) -> Option<SystemTime> {
        while let Some(Reverse((due, token, id))) = self.heap.peek() {
            if self.is_live(*token, id) {
                return Some(*due);
            }
            self.heap.pop();
        }
        None
    }

    /// Rebuilds the heap without stale items once they dominate it.
    fn compact(&mut self) {
        if self.heap.len() > 2 * self.entries.len() + 1024 {
            let heap = std::mem::take(&mut self.heap);
            self.heap = heap
                .into_iter()
                .filter(|Reverse((_, token, id))| self.is_live(*token, id))
                .collect();
        }
    }
}

impl SchedulerService {
    /// A service whose notion of "now" is `clock`.
    pub fn new(clock: SharedClock) -> Self {
        let inner = Arc::new_cyclic(|weak: &std::sync::Weak<Inner>| {
            let weak = weak.clone();
            let waker: Arc<Waker> = Arc::new(move || {
                if let Some(inner) = weak.upgrade() {
                    // Taking the lock orders this wake-up after a driver that read the clock
                    // and is about to wait.
                    let _st = inner.state.lock();
                    inner.driver_cv.notify_all();
                }
            });
            Inner {
                clock,
                state: Mutex::new(State {
                    max_workers: DEFAULT_WORKERS,
                    max_schedules: DEFAULT_MAX_SCHEDULES,
                    ..State::default()
                }),
                driver_cv: Condvar::new(),
                work_cv: Condvar::new(),
                idle_cv: Condvar::new(),
                shut: AtomicBool::new(false),
                _waker: waker,
            }
        });
        inner.clock.subscribe(Arc::downgrade(&inner._waker));
        Self { inner }
    }

    /// Runs at most `workers` callbacks at a time (at least 1; default [`DEFAULT_WORKERS`]).
    #[must_use]
    pub fn with_workers(self, workers: usize) -> Self {
        self.inner.state.lock().max_workers = workers.max(1);
        self
    }

    /// Lets the plugin have at most `max` active schedules (at least 1; default
    /// [`DEFAULT_MAX_SCHEDULES`]); one more is refused with [`Error::TooMany`].
    #[must_use]
    pub fn with_max_schedules(self, max: usize) -> Self {
        self.inner.state.lock().max_schedules = max.max(1);
        self
    }

    /// Calls `observer` whenever a callback starts (for benchmarks and tests).
    pub fn set_observer(&self, observer: Observer) {
        self.inner.state.lock().observer = Some(observer);
    }

    /// Number of active schedules (one-time schedules count until their callback returns).
    pub fn active_count(&self) -> usize {
        self.inner.state.lock().entries.len()
    }

    /// Waits until no callback is queued or running and nothing is due at the clock's current
    /// time; false if that did not happen within `timeout` (real time).
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let inner = &self.inner;
        let mut st = inner.state.lock();
        loop {
            if st.in_flight == 0 {
                let now = inner.clock.now();
                if st.shut || st.earliest().is_none_or(|due| due > now) {
                    return true;
                }
            }
            // Also re-check now and then: a clock that moves by itself changes what is due.
            let wake = deadline.min(Instant::now() + Duration::from_millis(50));
            if inner.idle_cv.wait_until(&mut st, wake).timed_out() && Instant::now() >= deadline {
                let now = inner.clock.now();
                return st.in_flight == 0 && (st.shut || st.earliest().is_none_or(|d| d > now));
            }
        }
    }

    /// Schedules one call of the callback `delay` from now. An empty `id` gets a generated
    /// one; the ID is returned.
    pub fn schedule_once(&self, id: &str, delay: Duration, payload: &str) -> Result<String, Error> {
        self.inner.schedule_once(id, delay, payload)
    }

    /// Schedules calls of the callback at the times `expression` gives ([`crate::cron`]). An
    /// empty `id` gets a generated one; the ID is returned.
    pub fn schedule_recurring(
        &self,
        id: &str,
        expression: &str,
        payload: &str,
    ) -> Result<String, Error> {
        self.inner.schedule_recurring(id, expression, payload)
    }

    /// Cancels a schedule. A callback already running finishes.
    pub fn cancel(&self, id: &str) -> Result<(), Error> {
        self.inner.cancel(id)
    }

    /// Stops the driver and drops every schedule; no callback starts afterwards, callbacks in
    /// flight finish. Safe to call from any thread, including the service's own, and more
    /// than once.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }
}

impl Drop for SchedulerService {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}

impl Inner {
    /// Schedules one call of the callback `delay` from now. An empty `id` gets a generated
    /// one; the ID is returned.
    fn schedule_once(
        self: &Arc<Self>,
        id: &str,
        delay: Duration,
        payload: &str,
    ) -> Result<String, Error> {
        let (id, mut st) = self.admit(id)?;
        let token = st.arm(&id, self.clock.now() + delay);
        let entry = Entry {
            serial: token,
            payload: payload.to_owned(),
            schedule: None,
            armed: Some(token),
        };
        tracing::debug!(plugin = %st.plugin_id, schedule_id = %id, ?delay, "scheduled one-time task");
        self.register_entry(&mut st, &id, entry);
        Ok(id)
    }

    /// Schedules calls of the callback at the times `expression` gives ([`crate::cron`]). An
    /// empty `id` gets a generated one; the ID is returned.
    fn schedule_recurring(
        self: &Arc<Self>,
        id: &str,
        expression: &str,
        payload: &str,
    ) -> Result<String, Error> {
        let (id, mut st) = self.admit(id)?;
        // Parsed after the ID checks, as Navidrome does: a duplicate ID wins over a bad
        // expression.
        let schedule = Schedule::parse(expression)?;
        let serial = st.token();
        let armed = schedule
            .next_after(self.clock.now())
            .map(|due| st.arm(&id, due));
        let entry = Entry {
            serial,
            payload: payload.to_owned(),
            schedule: Some(schedule),
            armed,
        };
        tracing::debug!(plugin = %st.plugin_id, schedule_id = %id, cron = expression, "scheduled recurring task");
        self.register_entry(&mut st, &id, entry);
        Ok(id)
    }

    /// The checks every new schedule passes, in Navidrome's order: the ID (generated when
    /// empty), the service still running, the ID not active, the plugin under its bound.
    /// Returns the ID and the state lock, held until the entry is registered.
    fn admit(&self, id: &str) -> Result<(String, MutexGuard<'_, State>), Error> {
        let id = if id.is_empty() {
            new_id()?
        } else {
            id.to_owned()
        };
        let st = self.state.lock();
        if st.shut {
            return Err(Error::ShutDown);
        }
        if st.entries.contains_key(&id) {
            return Err(Error::AlreadyExists(id));
        }
        if st.entries.len() >= st.max_schedules {
            return Err(Error::TooMany(st.max_schedules));
        }
        Ok((id, st))
    }

    /// Adds an admitted entry and wakes the driver (starting it for the first schedule).
    fn register_entry(self: &Arc<Self>, st: &mut MutexGuard<'_, State>, id: &str, entry: Entry) {
        st.entries.insert(id.to_owned(), entry);
        self.start_driver(st);
        self.driver_cv.notify_all();
    }

    /// Cancels a schedule. A callback already running finishes.
    fn cancel(&self, id: &str) -> Result<(), Error> {
        let mut st = self.state.lock();
        if st.entries.remove(id).is_none() {
            return Err(Error::NotFound(id.to_owned()));
        }
        st.compact();
        tracing::debug!(plugin = %st.plugin_id, schedule_id = %id, "cancelled schedule");
        Ok(())
    }

    fn start_driver(self: &Arc<Self>, st: &mut MutexGuard<'_, State>) {
        if st.driver.is_some() || st.shut {
            return;
        }
        let inner = Arc::clone(self);
        let name = format!("nd-sched-{}", st.plugin_id);
        match thread::Builder::new()
            .name(name)
            .spawn(move || inner.drive())
        {
            Ok(handle) => st.driver = Some(handle),
            Err(e) => {
                tracing::error!(plugin = %st.plugin_id, error = %e, "cannot start the scheduler thread")
            }
        }
    }

    fn shutdown(&self) {
        let driver = {
            let mut st = self.state.lock();
            if st.shut {
                return;
            }
            st.shut = true;
            self.shut.store(true, Ordering::Release);
            st.entries.clear();
            st.heap.clear();
            let queued = st.queue.len();
            st.queue.clear();
            st.in_flight -= queued;
            st.plugin = None;
            self.driver_cv.notify_all();
            self.work_cv.notify_all();
            self.idle_cv.notify_all();
            st.driver.take()
        };
        if let Some(handle) = driver {
            // The driver never runs plugin code, so it ends promptly; it never calls this,
            // but stay safe if it ever does.
            if handle.thread().id() != thread::current().id() {
                let _ = handle.join();
            }
        }
    }

    /// The driver: moves due schedules to the job queue and sleeps until the next due time.
    fn drive(self: Arc<Self>) {
        let mut st = self.state.lock();
        while !st.shut {
            let now = self.clock.now();
            while let Some(due) = st.earliest() {
                if due > now {
                    break;
                }
                let Some(Reverse((due, _, id))) = st.heap.pop() else {
                    break;
                };
                let Some(entry) = st.entries.get(&id) else {
                    continue;
                };
                let (serial, payload) = (entry.serial, entry.payload.clone());
                // Recurring: re-armed from now, so fires missed in a clock jump are skipped.
                let next = entry.schedule.as_ref().map(|s| s.next_after(now));
                let recurring = next.is_some();
                let armed = next.flatten().map(|next_due| st.arm(&id, next_due));
                if let Some(entry) = st.entries.get_mut(&id) {
                    entry.armed = armed;
                }
                st.queue.push_back(Job {
                    id,
                    serial,
                    payload,
                    recurring,
                    due,
                });
                st.in_flight += 1;
            }
            if !st.queue.is_empty() {
                self.start_workers(&mut st);
                self.work_cv.notify_all();
            }
            match st.earliest() {
                Some(due) if !self.clock.is_manual() => {
                    let wait = due
                        .duration_since(self.clock.now())
                        .unwrap_or(Duration::ZERO)
                        .min(MAX_REAL_WAIT);
                    self.driver_cv.wait_for(&mut st, wait);
                }
                // Nothing armed, or a manual clock: its waker wakes us when it moves.
                _ => self.driver_cv.wait(&mut st),
            }
        }
    }

    fn start_workers(self: &Arc<Self>, st: &mut MutexGuard<'_, State>) {
        let wanted = st.queue.len().saturating_sub(st.idle_workers);
        for _ in 0..wanted {
            if st.workers >= st.max_workers {
                break;
            }
            let inner = Arc::clone(self);
            let name = format!("nd-sched-{}-w", st.plugin_id);
            match thread::Builder::new()
                .name(name)
                .spawn(move || inner.work())
            {
                Ok(_) => st.workers += 1,
                Err(e) => {
                    tracing::error!(plugin = %st.plugin_id, error = %e, "cannot start a scheduler worker");
                    break;
                }
            }
        }
    }

    /// A worker: runs queued callbacks until shutdown.
    fn work(self: Arc<Self>) {
        let mut st = self.state.lock();
        while !st.shut {
            let Some(job) = st.queue.pop_front() else {
                st.idle_workers += 1;
                self.work_cv.wait(&mut st);
                st.idle_workers -= 1;
                continue;
            };
            let plugin = st.plugin.clone();
            let observer = st.observer.clone();
            let plugin_id = st.plugin_id.clone();
            MutexGuard::unlocked(&mut st, || {
                self.run(&job, plugin, observer, &plugin_id);
            });
            st.in_flight -= 1;
            if !job.recurring
                && st
                    .entries
                    .get(&job.id)
                    .is_some_and(|e| e.serial == job.serial)
            {
                st.entries.remove(&job.id);
            }
            self.idle_cv.notify_all();
        }
        st.workers -= 1;
    }

    fn run(
        &self,
        job: &Job,
        plugin: Option<WeakPlugin>,
        observer: Option<Observer>,
        plugin_id: &str,
    ) {
        if self.shut.load(Ordering::Acquire) {
            return;
        }
        let Some(plugin) = plugin.and_then(|p| p.upgrade()) else {
            tracing::debug!(plugin = %plugin_id, schedule_id = %job.id, "plugin gone; callback skipped");
            return;
        };
        if let Some(observer) = observer {
            observer(&FireEvent {
                schedule_id: job.id.clone(),
                due: job.due,
                started: self.clock.now(),
                recurring: job.recurring,
            });
        }
        let input = json!({
            "scheduleId": job.id,
            "payload": job.payload,
            "isRecurring": job.recurring,
        })
        .to_string();
        match plugin.call(CALLBACK_EXPORT, input.as_bytes()) {
            Err(e) => {
                tracing::warn!(plugin = %plugin_id, schedule_id = %job.id, error = %e, "scheduler callback failed")
            }
            Ok(output) => {
                let error = serde_json::from_slice::<Value>(&output)
                    .ok()
                    .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                    .filter(|e| !e.is_empty());
                if let Some(error) = error {
                    tracing::warn!(plugin = %plugin_id, schedule_id = %job.id, %error, "scheduler callback reported an error");
                }
            }
        }
        // If this was the last handle, dropping it unloads the plugin and runs `shutdown`
        // here, on a worker: fine, shutdown never joins workers.
        drop(plugin);
    }
}

/// A generated schedule ID ([`nd_runtime::random_id`]).
fn new_id() -> Result<String, Error> {
    nd_runtime::random_id().map_err(Error::Random)
}

fn guest(e: Error) -> HostError {
    HostError::Guest(e.to_string())
}

impl HostService for SchedulerService {
    fn name(&self) -> &'static str {
        "scheduler"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        {
            let st = &mut *self.inner.state.lock();
            RegisterError::claim("scheduler", &mut st.plugin_id, st.shut, imports.plugin_id())?;
        }
        let service = Arc::clone(&self.inner);
        imports.json("scheduler_scheduleonetime", move |_ctx, req| {
            let req = GoRequest::parse(&req, "SchedulerScheduleOneTimeRequest")?;
            let delay = req.int32("delaySeconds")?;
            let payload = req.string("payload")?;
            let id = req.string("scheduleId")?;
            let delay = Duration::from_secs(u64::try_from(delay).unwrap_or(0));
            let id = service.schedule_once(&id, delay, &payload);
            Ok(json_response(
                json!({ "newScheduleId": id.map_err(guest)? }),
            ))
        });
        let service = Arc::clone(&self.inner);
        imports.json("scheduler_schedulerecurring", move |_ctx, req| {
            let req = GoRequest::parse(&req, "SchedulerScheduleRecurringRequest")?;
            let expression = req.string("cronExpression")?;
            let payload = req.string("payload")?;
            let id = req.string("scheduleId")?;
            let id = service.schedule_recurring(&id, &expression, &payload);
            Ok(json_response(
                json!({ "newScheduleId": id.map_err(guest)? }),
            ))
        });
        let service = Arc::clone(&self.inner);
        imports.json("scheduler_cancelschedule", move |_ctx, req| {
            let id =
                GoRequest::parse(&req, "SchedulerCancelScheduleRequest")?.string("scheduleId")?;
            service.cancel(&id).map_err(guest)?;
            Ok(json!({}))
        });
        Ok(())
    }

    fn on_load(&self, plugin: &Plugin) -> Result<(), RegisterError> {
        if !plugin.has_export(CALLBACK_EXPORT) {
            return Err(RegisterError(format!(
                "plugin {} has the scheduler permission but does not export {CALLBACK_EXPORT}",
                plugin.id()
            )));
        }
        let mut st = self.inner.state.lock();
        st.plugin_id = plugin.id().to_owned();
        st.plugin = Some(plugin.downgrade());
        Ok(())
    }

    fn shutdown(&self) {
        self.inner.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_thousand_schedules_and_lazy_cancels_keep_the_heap_small() {
        let clock = nd_host_store::clock::ManualClock::at_fixed_start();
        let sched = SchedulerService::new(clock.clone()).with_workers(1);
        for i in 0..10_000 {
            let delay = Duration::from_secs(3600 + i % 7);
            sched.schedule_once(&format!("o{i}"), delay, "").unwrap();
        }
        for i in 0..9_000 {
            sched.cancel(&format!("o{i}")).unwrap();
        }
        assert_eq!(sched.active_count(), 1_000);
        let heap = sched.inner.state.lock().heap.len();
        assert!(
            heap <= 2 * 1_000 + 1024 + 1,
            "stale items kept: heap of {heap}"
        );
        // Without a plugin, due schedules are dropped unheard, and the service goes idle.
        clock.advance(Duration::from_secs(3600 + 7));
        assert!(sched.wait_idle(Duration::from_secs(60)));
        assert_eq!(sched.active_count(), 0);
        sched.shutdown();
    }

    #[test]
    fn errors_quote_like_go() {
        assert_eq!(
            Error::AlreadyExists("x".into()).to_string(),
            "schedule ID \"x\" already exists"
        );
        assert_eq!(
            Error::NotFound("a\"b".into()).to_string(),
            "schedule ID \"a\\\"b\" not found"
        );
    }
}
