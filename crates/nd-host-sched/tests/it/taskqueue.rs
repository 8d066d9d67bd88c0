//! Tests of the taskqueue service through its fixture plugin (`fixtures/plugins/taskqueue`):
//! the exact wire JSON of the five `task_*` functions, execution through `nd_task_execute`,
//! retries and retention in virtual time (a `ManualClock`), concurrency, persistence across
//! reloads and crashes, and shutdown. Calls take real time, so tests wait for the service to
//! be idle (bounded), never for a fixed time.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nd_host_sched::taskqueue::{TaskQueueConfig, TaskQueueService, TaskStatus};
use nd_host_store::clock::ManualClock;
use nd_runtime::{Plugin, PluginConfig, encode_bytes};
use nd_testkit::{WASI, compiled, fixture_permissions, host_call, load, ok_str, runtime};
use serde_json::{Value, json};

const FIXTURE: &str = "taskqueue";
const PLUGIN_ID: &str = "tq";
const LONG: Duration = Duration::from_secs(60);

fn config(dir: &Path, clock: &Arc<ManualClock>) -> TaskQueueConfig {
    let mut config = TaskQueueConfig::new(dir);
    config.max_concurrency = fixture_permissions(FIXTURE)
        .taskqueue
        .expect("the fixture grants taskqueue")
        .max_concurrency;
    config.clock = clock.clone();
    config
}

fn start(config: TaskQueueConfig) -> (TaskQueueService, Plugin) {
    let service = TaskQueueService::new(config);
    let mut plugin_config = PluginConfig::new(PLUGIN_ID);
    plugin_config.services.push(Arc::new(service.clone()));
    (service, load(FIXTURE, plugin_config))
}

/// One generation of the fixture plugin with its service, on a data dir and a clock that
/// later generations can share.
struct Env {
    dir: Arc<tempfile::TempDir>,
    clock: Arc<ManualClock>,
    service: TaskQueueService,
    plugin: Plugin,
}

fn env() -> Env {
    Env::with(|_| {})
}

impl Env {
    /// A fresh data dir and clock, the fixture's config changed by `adjust`.
    fn with(adjust: impl FnOnce(&mut TaskQueueConfig)) -> Env {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Env::on(dir, ManualClock::at_fixed_start(), adjust)
    }

    /// Another generation of the plugin on the same data dir and clock (a reload, or a
    /// second copy running at the same time).
    fn next_generation(&self, adjust: impl FnOnce(&mut TaskQueueConfig)) -> Env {
        Env::on(Arc::clone(&self.dir), Arc::clone(&self.clock), adjust)
    }

    fn on(
        dir: Arc<tempfile::TempDir>,
        clock: Arc<ManualClock>,
        adjust: impl FnOnce(&mut TaskQueueConfig),
    ) -> Env {
        let mut cfg = config(dir.path(), &clock);
        adjust(&mut cfg);
        let (service, plugin) = start(cfg);
        Env {
            dir,
            clock,
            service,
            plugin,
        }
    }
}

impl Env {
    fn call(&self, function: &str, req: Value) -> Value {
        host_call(&self.plugin, function, req)
    }

    fn create(&self, name: &str, config: Value) -> Value {
        self.call(
            "task_createqueue",
            json!({ "name": name, "config": config }),
        )
    }

    fn enqueue(&self, queue: &str, payload: &str) -> String {
        let out = self.call(
            "task_enqueue",
            json!({ "queueName": queue, "payload": encode_bytes(payload.as_bytes()) }),
        );
        out["result"]
            .as_str()
            .unwrap_or_else(|| panic!("enqueue failed: {out}"))
            .to_owned()
    }

    fn get(&self, id: &str) -> Value {
        self.call("task_get", json!({ "taskId": id }))
    }

    fn idle(&self) {
        assert!(
            self.service.wait_idle(LONG),
            "the task queue never became idle"
        );
    }

    fn advance_ms(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
        self.idle();
    }

    fn status(&self, id: &str) -> TaskStatus {
        self.service.task(id).expect("task stored").status
    }
}

fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LONG;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn task_result(status: &str, message: &str, attempt: i32) -> Value {
    json!({ "result": { "status": status, "message": message, "attempt": attempt } })
}

#[test]
fn the_fixture_has_the_exports_the_tests_use() {
    let env = env();
    for export in ["host", "nd_task_execute", "nd_test_taskqueue"] {
        assert!(env.plugin.has_export(export), "{export}");
    }
    // The callback can also be called directly: its output is a JSON string.
    let input = json!({"queueName": "q", "taskId": "t", "attempt": 1,
        "payload": encode_bytes(b"ok:direct")});
    assert_eq!(
        ok_str(&env.plugin, "nd_task_execute", &input.to_string()),
        "\"direct\""
    );
}

#[test]
fn wire_json_of_every_function() {
    let env = env();
    assert_eq!(env.create("q", json!({})), json!({}));
    assert_eq!(
        env.create("q", json!({})),
        json!({"error": "queue \"q\" already exists"})
    );
    assert_eq!(
        env.create("", json!({})),
        json!({"error": "queue name cannot be empty"})
    );

    let enqueued = env.call(
        "task_enqueue",
        json!({"queueName": "q", "payload": encode_bytes(b"ok:hello")}),
    );
    let id = enqueued["result"].as_str().unwrap().to_owned();
    assert_eq!(enqueued, json!({ "result": id }));
    assert_eq!(id.len(), 22, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    env.idle();
    assert_eq!(env.get(&id), task_result("completed", "hello", 1));

    assert_eq!(
        env.call("task_cancel", json!({ "taskId": id })),
        json!({ "error": format!("task \"{id}\" cannot be cancelled (status: completed)") })
    );
    assert_eq!(
        env.call("task_cancel", json!({"taskId": "nope"})),
        json!({"error": "task \"nope\" not found"})
    );
    assert_eq!(env.get("nope"), json!({"error": "task \"nope\" not found"}));
    // Nothing pending: Go's omitempty drops a zero count.
    assert_eq!(
        env.call("task_clearqueue", json!({"queueName": "q"})),
        json!({})
    );
    assert_eq!(
        env.call("task_clearqueue", json!({"queueName": "nope"})),
        json!({"error": "queue \"nope\" does not exist"})
    );
    assert_eq!(
        env.call(
            "task_enqueue",
            json!({"queueName": "nope", "payload": encode_bytes(b"x")})
        ),
        json!({"error": "queue \"nope\" does not exist"})
    );
    // Request decoding is Go's: names match case-insensitively, wrong types are errors.
    let lenient = env.call(
        "task_enqueue",
        json!({"QUEUENAME": "q", "Payload": encode_bytes(b"ok:case")}),
    );
    assert!(lenient["result"].is_string(), "{lenient}");
    assert_eq!(
        env.call("task_get", json!({"taskId": 5})),
        json!({"error": "json: cannot unmarshal number into Go struct field \
            TaskGetRequest.taskId of type string"})
    );
    assert_eq!(
        env.call(
            "task_createqueue",
            json!({"name": "x", "config": {"concurrency": 1.5}})
        ),
        json!({"error": "json: cannot unmarshal number 1.5 into Go struct field \
            QueueConfig.config.concurrency of type int32"})
    );
    assert_eq!(
        env.call("task_createqueue", json!({"name": "x", "config": 1})),
        json!({"error": "json: cannot unmarshal number into Go struct field \
            TaskCreateQueueRequest.config of type host.QueueConfig"})
    );
    let bad = env.call("task_enqueue", json!({"queueName": "q", "payload": "***"}));
    assert!(
        bad["error"].as_str().unwrap().starts_with("invalid base64"),
        "{bad}"
    );
    env.idle();
}

#[test]
fn queue_name_and_payload_limits() {
    let env = env();
    let longest = "n".repeat(128);
    assert_eq!(env.create(&longest, json!({})), json!({}));
    assert_eq!(
        env.create(&"n".repeat(129), json!({})),
        json!({"error": "queue name exceeds maximum length of 128 bytes"})
    );
    // 128 bytes, not characters: 43 three-byte characters are 129 bytes.
    assert_eq!(
        env.create(&"€".repeat(43), json!({})),
        json!({"error": "queue name exceeds maximum length of 128 bytes"})
    );

    let max = vec![b'x'; 1024 * 1024];
    let ok = env.call(
        "task_enqueue",
        json!({"queueName": longest, "payload": encode_bytes(&max)}),
    );
    let id = ok["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{ok}"))
        .to_owned();
    let too_big = vec![b'x'; 1024 * 1024 + 1];
    assert_eq!(
        env.call(
            "task_enqueue",
            json!({"queueName": longest, "payload": encode_bytes(&too_big)})
        ),
        json!({"error": "payload size 1048577 exceeds maximum of 1048576 bytes"})
    );
    env.idle();
    // The whole payload reached the plugin (anything else than the prefixes it knows runs
    // Navidrome's test handler).
    assert_eq!(
        env.get(&id),
        task_result("completed", "completed successfully", 1)
    );
}

#[test]
fn output_becomes_the_message() {
    let env = env();
    env.create("q", json!({}));
    let json_string = env.enqueue("q", "ok:with \"quotes\" and é");
    let raw = env.enqueue("q", "raw:not json at all");
    let empty = env.enqueue("q", "ok:");
    env.idle();
    assert_eq!(
        env.get(&json_string),
        task_result("completed", "with \"quotes\" and é", 1)
    );
    assert_eq!(
        env.get(&raw),
        task_result("completed", "not json at all", 1)
    );
    assert_eq!(env.get(&empty), task_result("completed", "", 1));
}

#[test]
fn retries_wait_for_the_backoff_in_virtual_time() {
    let env = env();
    env.create("q", json!({"maxRetries": 3, "backoffMs": 1000}));
    let id = env.enqueue("q", "fail-until:3");
    env.idle();
    // The first attempt failed; a retry is due 1 s later, its message still empty.
    assert_eq!(env.get(&id), task_result("pending", "", 1));
    let info = env.service.task(&id).unwrap();
    assert_eq!(
        info.next_run_at,
        info.updated_at + Duration::from_millis(1000)
    );
    env.advance_ms(999);
    assert_eq!(env.get(&id), task_result("pending", "", 1));
    env.advance_ms(1);
    // Second failure: the backoff doubles.
    assert_eq!(env.get(&id), task_result("pending", "", 2));
    env.advance_ms(1999);
    assert_eq!(env.get(&id), task_result("pending", "", 2));
    env.advance_ms(1);
    assert_eq!(
        env.get(&id),
        task_result("completed", "succeeded on attempt 3", 3)
    );
}

#[test]
fn backoff_is_capped_at_one_hour() {
    let env = env();
    env.create("q", json!({"maxRetries": 5, "backoffMs": 3_000_000}));
    let id = env.enqueue("q", "fail-until:3");
    env.idle();
    env.advance_ms(3_000_000);
    assert_eq!(env.service.task(&id).unwrap().attempt, 2);
    // 6,000,000 ms would be the doubled backoff; 1 h is the cap.
    let info = env.service.task(&id).unwrap();
    assert_eq!(
        info.next_run_at,
        info.updated_at + Duration::from_millis(3_600_000)
    );
    env.advance_ms(3_600_000);
    assert_eq!(
        env.get(&id),
        task_result("completed", "succeeded on attempt 3", 3)
    );
}

#[test]
fn a_task_fails_after_its_retries_with_the_error_as_message() {
    let env = env();
    env.create("once", json!({}));
    env.create("twice", json!({"maxRetries": 1, "backoffMs": 10}));
    let once = env.enqueue("once", "fail:boom");
    let twice = env.enqueue("twice", "fail:bang");
    env.idle();
    assert_eq!(env.get(&once), task_result("failed", "boom", 1));
    assert_eq!(env.get(&twice), task_result("pending", "", 1));
    env.advance_ms(10);
    assert_eq!(env.get(&twice), task_result("failed", "bang", 2));
}

#[test]
fn only_pending_tasks_can_be_cancelled_and_clearqueue_cancels_them_all() {
    let env = env();
    // A 1 h delay between dispatches: the first task runs, the others wait.
    env.create("held", json!({"delayMs": 3_600_000}));
    let first = env.enqueue("held", "ok:first");
    env.idle();
    let [b, c, d] = ["ok:b", "ok:c", "ok:d"].map(|p| env.enqueue("held", p));
    env.idle();
    assert_eq!(env.get(&first), task_result("completed", "first", 1));
    assert_eq!(env.get(&b), task_result("pending", "", 0));

    assert_eq!(env.call("task_cancel", json!({ "taskId": b })), json!({}));
    assert_eq!(env.get(&b), task_result("cancelled", "", 0));
    assert_eq!(
        env.call("task_cancel", json!({ "taskId": b })),
        json!({ "error": format!("task \"{b}\" cannot be cancelled (status: cancelled)") })
    );
    assert_eq!(
        env.call("task_clearqueue", json!({"queueName": "held"})),
        json!({"result": 2})
    );
    for id in [&c, &d] {
        assert_eq!(env.get(id), task_result("cancelled", "", 0));
    }
    assert_eq!(
        env.call("task_clearqueue", json!({"queueName": "held"})),
        json!({})
    );
    // Cancelled tasks never run, even once the delay has passed.
    env.advance_ms(3_600_000);
    assert_eq!(env.get(&c), task_result("cancelled", "", 0));

    // A running task cannot be cancelled, nor cleared.
    env.create("slow", json!({}));
    let slow = env.enqueue("slow", "slow:1000");
    until("the slow task to run", || {
        env.status(&slow) == TaskStatus::Running
    });
    assert_eq!(
        env.call("task_cancel", json!({ "taskId": slow })),
        json!({ "error": format!("task \"{slow}\" cannot be cancelled (status: running)") })
    );
    assert_eq!(
        env.call("task_clearqueue", json!({"queueName": "slow"})),
        json!({})
    );
    env.idle();
    assert_eq!(env.status(&slow), TaskStatus::Completed);
}

#[test]
fn delay_spaces_dispatches_in_virtual_time() {
    let env = env();
    env.create("paced", json!({"delayMs": 1000, "concurrency": 2}));
    let ids: Vec<String> = (0..3)
        .map(|i| env.enqueue("paced", &format!("ok:{i}")))
        .collect();
    env.idle();
    let done = |env: &Env| {
        ids.iter()
            .filter(|id| env.status(id) == TaskStatus::Completed)
            .count()
    };
    assert_eq!(done(&env), 1);
    env.advance_ms(999);
    assert_eq!(done(&env), 1);
    env.advance_ms(1);
    assert_eq!(done(&env), 2);
    env.advance_ms(1000);
    assert_eq!(done(&env), 3);
}

/// `(start, end)` in microseconds from the message of a `slow:` task.
fn interval(message: &str) -> (u128, u128) {
    let mut parts = message.split(' ').map(|p| {
        p.split_once('=')
            .and_then(|(_, v)| v.parse::<u128>().ok())
            .unwrap_or_else(|| panic!("bad slow message {message:?}"))
    });
    (parts.next().unwrap(), parts.next().unwrap())
}

fn max_overlap(env: &Env, ids: &[String]) -> usize {
    let intervals: Vec<(u128, u128)> = ids
        .iter()
        .map(|id| {
            let info = env.service.task(id).unwrap();
            assert_eq!(info.status, TaskStatus::Completed, "{}", info.message);
            interval(&info.message)
        })
        .collect();
    intervals
        .iter()
        .map(|&(start, _)| {
            intervals
                .iter()
                .filter(|&&(s, e)| s <= start && start < e)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn a_queue_runs_at_most_concurrency_tasks_at_once() {
    let env = env();
    env.create("wide", json!({"concurrency": 3}));
    env.create("narrow", json!({}));
    let wide: Vec<String> = (0..6).map(|_| env.enqueue("wide", "slow:300")).collect();
    let narrow: Vec<String> = (0..3).map(|_| env.enqueue("narrow", "slow:100")).collect();
    let mut seen = 0;
    while !env.service.wait_idle(Duration::from_millis(20)) {
        let stats = env.service.stats();
        for q in &stats.queues {
            assert!(q.running <= q.config.concurrency as usize, "{stats:?}");
            if q.name == "wide" {
                seen = seen.max(q.running);
            }
        }
    }
    assert!(seen >= 2, "the wide queue never ran tasks in parallel");
    let overlap = max_overlap(&env, &wide);
    assert!((2..=3).contains(&overlap), "overlap {overlap}");
    assert_eq!(max_overlap(&env, &narrow), 1);
}

#[test]
fn the_manifest_max_concurrency_is_a_budget_over_all_queues() {
    let env = env();
    assert_eq!(env.create("a", json!({"concurrency": 8})), json!({}));
    // Asks for 5, gets the remaining 2.
    assert_eq!(env.create("b", json!({"concurrency": 5})), json!({}));
    let stats = env.service.stats();
    let concurrency: Vec<(String, i32)> = stats
        .queues
        .iter()
        .map(|q| (q.name.clone(), q.config.concurrency))
        .collect();
    assert_eq!(concurrency, [("a".into(), 8), ("b".into(), 2)]);
    assert_eq!(
        env.create("c", json!({})),
        json!({"error": "concurrency budget exhausted (10/10 allocated)"})
    );
    // As in Navidrome, the budget is checked before the name.
    assert_eq!(
        env.create("a", json!({})),
        json!({"error": "concurrency budget exhausted (10/10 allocated)"})
    );
}

#[test]
fn defaults_and_clamps_of_the_queue_config() {
    let env = env();
    env.create("defaults", json!({}));
    env.create(
        "clamped",
        json!({"retentionMs": 1, "backoffMs": -5, "concurrency": -1}),
    );
    env.create("long", json!({"retentionMs": 10_000_000_000i64}));
    let stats = env.service.stats();
    let config = |name: &str| stats.queues.iter().find(|q| q.name == name).unwrap().config;
    let d = config("defaults");
    assert_eq!(
        (
            d.concurrency,
            d.max_retries,
            d.backoff_ms,
            d.delay_ms,
            d.retention_ms
        ),
        (1, 0, 1000, 0, 3_600_000)
    );
    let c = config("clamped");
    assert_eq!(
        (c.concurrency, c.backoff_ms, c.retention_ms),
        (1, 1000, 60_000)
    );
    assert_eq!(config("long").retention_ms, 604_800_000);
}

#[test]
fn finished_tasks_are_deleted_after_their_retention_in_virtual_time() {
    let env = env();
    env.create("short", json!({"retentionMs": 60_000}));
    env.create("long", json!({}));
    let short = env.enqueue("short", "ok:s");
    let long = env.enqueue("long", "ok:l");
    env.idle();
    // Expired after 1 min, but the sweep runs every 5 min.
    env.advance_ms(120_000);
    assert_eq!(env.get(&short), task_result("completed", "s", 1));
    env.advance_ms(180_000);
    assert_eq!(
        env.get(&short),
        json!({ "error": format!("task \"{short}\" not found") })
    );
    assert_eq!(env.get(&long), task_result("completed", "l", 1));
    env.advance_ms(3_600_000);
    assert!(env.service.task(&long).is_none());
}

#[test]
fn tasks_survive_a_reload() {
    let env = env();
    env.create("q", json!({"maxRetries": 1, "backoffMs": 60_000}));
    let retried = env.enqueue("q", "fail-until:2");
    let done = env.enqueue("q", "ok:before");
    env.idle();
    assert_eq!(env.get(&retried), task_result("pending", "", 1));
    env.plugin.shutdown();
    let env = env.next_generation(|_| {});
    assert!(
        env.service
            .db_path()
            .unwrap()
            .ends_with("plugins/tq/taskqueue.redb")
    );
    assert_eq!(env.get(&done), task_result("completed", "before", 1));
    assert_eq!(env.get(&retried), task_result("pending", "", 1));
    // Nothing runs before the queue is created in this generation.
    env.advance_ms(60_000);
    assert_eq!(env.get(&retried), task_result("pending", "", 1));
    assert_eq!(env.create("q", json!({"maxRetries": 1})), json!({}));
    env.idle();
    assert_eq!(
        env.get(&retried),
        task_result("completed", "succeeded on attempt 2", 2)
    );
}

#[test]
fn running_tasks_left_by_a_crash_run_again_when_the_queue_is_created() {
    // Generation A starts a task that takes 20 s on its first attempt, and "crashes": it is
    // never shut down while the task runs, so the store keeps saying `running`.
    let crashed = Env::with(|c| c.shutdown_timeout = Duration::from_millis(50));
    crashed.create("q", json!({}));
    let id = crashed.enqueue("q", "slow-first:20000");
    until("the task to run", || {
        crashed.status(&id) == TaskStatus::Running
    });

    // Generation B shares the store.
    let env = crashed.next_generation(|_| {});
    assert_eq!(env.get(&id), task_result("running", "", 1));
    assert_eq!(env.create("q", json!({})), json!({}));
    env.idle();
    assert_eq!(
        env.get(&id),
        task_result("completed", "done on attempt 2", 2)
    );
    // A's shutdown gives up on its call, and must not undo B's result.
    crashed.plugin.shutdown();
    assert_eq!(
        env.get(&id),
        task_result("completed", "done on attempt 2", 2)
    );
}

#[test]
fn shutdown_waits_for_running_tasks_then_puts_them_back_to_pending() {
    let env = env();
    env.create("q", json!({}));
    let quick = env.enqueue("q", "slow:200");
    until("the quick task to run", || {
        env.status(&quick) == TaskStatus::Running
    });
    env.plugin.shutdown();
    // The shutdown waited for it (up to 10 s).
    assert_eq!(env.status(&quick), TaskStatus::Completed);

    let impatient = Env::with(|c| c.shutdown_timeout = Duration::from_millis(100));
    impatient.create("q", json!({}));
    let id = impatient.enqueue("q", "slow:1500");
    until("the slow task to run", || {
        impatient.status(&id) == TaskStatus::Running
    });
    let service = &impatient.service;
    impatient.plugin.shutdown();
    let info = service.task(&id).unwrap();
    assert_eq!((info.status, info.attempt), (TaskStatus::Pending, 0));
    // The call ends later; its result is dropped, the task stays pending for the next run.
    std::thread::sleep(Duration::from_millis(2000));
    let info = service.task(&id).unwrap();
    assert_eq!((info.status, info.attempt), (TaskStatus::Pending, 0));
    // Nothing is left running or due.
    assert!(service.wait_idle(Duration::ZERO));
    assert_eq!(service.stats().running, 0);
}

#[test]
fn navidrome_test_plugin_operations() {
    let env = env();
    let op = |input: Value| -> Value {
        serde_json::from_str(&ok_str(
            &env.plugin,
            "nd_test_taskqueue",
            &input.to_string(),
        ))
        .unwrap()
    };
    assert_eq!(
        op(json!({"operation": "create_queue", "queueName": "nd",
            "config": {"maxRetries": 1, "backoffMs": 1000}})),
        json!({})
    );
    let flaky = op(json!({"operation": "enqueue", "queueName": "nd",
        "payload": encode_bytes(b"fail-then-succeed")}))["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let failing = op(json!({"operation": "enqueue", "queueName": "nd",
        "payload": encode_bytes(b"fail")}))["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    env.idle();
    assert_eq!(
        op(json!({"operation": "get_task_status", "taskId": flaky})),
        json!({"status": "pending", "attempt": 1})
    );
    env.advance_ms(1000);
    assert_eq!(
        op(json!({"operation": "get_task_status", "taskId": flaky})),
        json!({"status": "completed", "message": "completed successfully", "attempt": 2})
    );
    assert_eq!(
        op(json!({"operation": "get_task_status", "taskId": failing})),
        json!({"status": "failed", "message": "task failed as instructed", "attempt": 2})
    );
    assert_eq!(
        op(json!({"operation": "cancel_task", "taskId": failing})),
        json!({"error": format!("task \"{failing}\" cannot be cancelled (status: failed)")})
    );
    assert_eq!(
        op(json!({"operation": "create_queue", "queueName": "held",
            "config": {"delayMs": 60_000}})),
        json!({})
    );
    for _ in 0..3 {
        op(json!({"operation": "enqueue", "queueName": "held", "payload": encode_bytes(b"x")}));
    }
    env.idle();
    assert_eq!(
        op(json!({"operation": "clear_queue", "queueName": "held"})),
        json!({"cleared": 2})
    );
    assert_eq!(
        op(json!({"operation": "bogus"})),
        json!({"error": "unknown operation: bogus"})
    );
}

#[test]
fn a_plugin_without_nd_task_execute_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_fixed_start();
    let mut plugin_config = PluginConfig::new(PLUGIN_ID);
    plugin_config
        .services
        .push(Arc::new(TaskQueueService::new(config(dir.path(), &clock))));
    let err = runtime()
        .load(&compiled("kernel", WASI), plugin_config)
        .expect_err("must not load");
    let text = err.to_string();
    assert!(
        text.contains("taskqueue") && text.contains("nd_task_execute"),
        "{text}"
    );
}

#[test]
fn an_unusable_data_dir_fails_registration_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let clock = ManualClock::at_fixed_start();
    let mut plugin_config = PluginConfig::new(PLUGIN_ID);
    plugin_config
        .services
        .push(Arc::new(TaskQueueService::new(config(&file, &clock))));
    let err = runtime()
        .load(&compiled(FIXTURE, WASI), plugin_config)
        .expect_err("must not load");
    let text = err.to_string();
    assert!(
        text.contains("taskqueue") && text.contains("not-a-dir/plugins/tq/taskqueue.redb"),
        "{text}"
    );
}

/// Beyond Navidrome: the pending tasks of a plugin are bounded (they are stored on disk with
/// payloads of up to 1 MiB), and a slot frees when a task is dispatched.
#[test]
fn pending_tasks_are_bounded_per_plugin() {
    let env = Env::with(|c| c.max_pending_tasks = 2);
    // One dispatch per hour: the first task runs at once, the next ones wait, pending.
    assert_eq!(
        env.create("q", json!({"concurrency": 1, "delayMs": 3_600_000})),
        json!({})
    );
    let first = env.enqueue("q", "ok:one");
    assert!(env.service.wait_idle(LONG));
    assert_eq!(env.get(&first)["result"]["status"], "completed");
    env.enqueue("q", "ok:two");
    env.enqueue("q", "ok:three");
    let refused = env.call(
        "task_enqueue",
        json!({"queueName": "q", "payload": encode_bytes(b"ok:four")}),
    );
    assert_eq!(
        refused,
        json!({"error": "too many pending tasks: a plugin may have at most 2"})
    );
    env.clock.advance(Duration::from_secs(3_600));
    assert!(env.service.wait_idle(LONG));
    env.enqueue("q", "ok:four");
    env.plugin.shutdown();
}
