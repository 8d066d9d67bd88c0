//! Tests of the scheduler service through its fixture plugin (`fixtures/plugins/scheduler`)
//! over the real ABI, in virtual time: a [`ManualClock`] moves, [`SchedulerService::wait_idle`]
//! waits for the callbacks it made due.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nd_host_sched::scheduler::{self, FireEvent, SchedulerService};
use nd_host_store::clock::{Clock, ManualClock, SharedClock};
use nd_runtime::{HostImports, HostService, Plugin, PluginConfig, RegisterError};
use parking_lot::Mutex;
use serde_json::{Value, json};

/// Provides the fixture's test-only `test_record` import: keeps every event it is sent.
struct Recorder {
    events: Arc<Mutex<Vec<Value>>>,
}

impl HostService for Recorder {
    fn name(&self) -> &'static str {
        "test_record"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let events = Arc::clone(&self.events);
        imports.json("test_record", move |_ctx, event| {
            events.lock().push(event);
            Ok(json!({}))
        });
        Ok(())
    }
}

const IDLE: Duration = Duration::from_secs(60);

struct Harness {
    clock: Arc<ManualClock>,
    start: SystemTime,
    sched: Arc<SchedulerService>,
    plugin: Plugin,
    events: Arc<Mutex<Vec<Value>>>,
    fires: Arc<Mutex<Vec<FireEvent>>>,
}

fn harness() -> Harness {
    let clock = ManualClock::at_fixed_start();
    let start = clock.now();
    let shared: SharedClock = clock.clone();
    let sched = Arc::new(SchedulerService::new(shared));
    let fires = Arc::new(Mutex::new(Vec::new()));
    let f = Arc::clone(&fires);
    sched.set_observer(Arc::new(move |event: &FireEvent| {
        f.lock().push(event.clone())
    }));
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut config = PluginConfig::new("scheduler-test");
    config.services = vec![
        sched.clone(),
        Arc::new(Recorder {
            events: Arc::clone(&events),
        }),
    ];
    let plugin = nd_testkit::load("scheduler", config);
    Harness {
        clock,
        start,
        sched,
        plugin,
        events,
        fires,
    }
}

impl Harness {
    fn call(&self, function: &str, req: Value) -> Value {
        nd_testkit::host_call(&self.plugin, function, req)
    }

    fn once(&self, id: &str, delay: i64, payload: &str) -> Value {
        self.call(
            "scheduler_scheduleonetime",
            json!({"delaySeconds": delay, "payload": payload, "scheduleId": id}),
        )
    }

    fn recurring(&self, id: &str, cron: &str, payload: &str) -> Value {
        self.call(
            "scheduler_schedulerecurring",
            json!({"cronExpression": cron, "payload": payload, "scheduleId": id}),
        )
    }

    fn cancel(&self, id: &str) -> Value {
        self.call("scheduler_cancelschedule", json!({ "scheduleId": id }))
    }

    /// Moves the clock and waits until every callback that became due has returned.
    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
        assert!(self.sched.wait_idle(IDLE), "callbacks did not settle");
    }

    /// `(scheduleId, payload, isRecurring)` of every callback so far, in order.
    fn callbacks(&self) -> Vec<(String, String, bool)> {
        self.events
            .lock()
            .iter()
            .filter(|e| e["event"] == "callback")
            .map(|e| {
                (
                    e["scheduleId"].as_str().unwrap().to_owned(),
                    e["payload"].as_str().unwrap().to_owned(),
                    e["isRecurring"].as_bool().unwrap(),
                )
            })
            .collect()
    }

    fn errors(&self) -> Vec<Value> {
        self.events
            .lock()
            .iter()
            .filter(|e| e["event"] == "error")
            .cloned()
            .collect()
    }

    fn fire_count(&self, id: &str) -> usize {
        self.callbacks().iter().filter(|c| c.0 == id).count()
    }

    fn at(&self, secs: u64) -> SystemTime {
        self.start + Duration::from_secs(secs)
    }
}

fn cb(id: &str, payload: &str, recurring: bool) -> (String, String, bool) {
    (id.to_owned(), payload.to_owned(), recurring)
}

#[test]
fn one_time_fires_once_after_its_delay_and_is_removed() {
    let h = harness();
    assert_eq!(h.once("once", 5, "hello"), json!({"newScheduleId": "once"}));
    assert_eq!(h.sched.active_count(), 1);
    h.advance(4);
    assert!(h.callbacks().is_empty());
    h.advance(1);
    assert_eq!(h.callbacks(), [cb("once", "hello", false)]);
    assert_eq!(h.sched.active_count(), 0);
    h.advance(60);
    assert_eq!(h.callbacks().len(), 1);
    assert_eq!(
        h.cancel("once"),
        json!({"error": "schedule ID \"once\" not found"})
    );
    let fires = h.fires.lock().clone();
    assert_eq!(fires.len(), 1);
    assert_eq!(fires[0].due, h.at(5));
    assert_eq!(fires[0].started, h.at(5));
    assert!(!fires[0].recurring);
}

#[test]
fn negative_and_zero_delays_fire_at_once() {
    let h = harness();
    h.once("neg", -5, "n");
    h.once("zero", 0, "z");
    assert!(h.sched.wait_idle(IDLE));
    let mut got = h.callbacks();
    got.sort();
    assert_eq!(got, [cb("neg", "n", false), cb("zero", "z", false)]);
}

#[test]
fn recurring_every_fires_as_the_clock_advances_and_skips_missed_fires() {
    let h = harness();
    assert_eq!(
        h.recurring("rec", "@every 5s", "tick"),
        json!({"newScheduleId": "rec"})
    );
    for _ in 0..3 {
        h.advance(5);
    }
    assert_eq!(h.callbacks(), vec![cb("rec", "tick", true); 3]);
    // A jump over several periods fires once, then the period restarts from the jump.
    h.advance(12);
    assert_eq!(h.fire_count("rec"), 4);
    h.advance(4);
    assert_eq!(h.fire_count("rec"), 4);
    h.advance(1);
    assert_eq!(h.fire_count("rec"), 5);
    let dues: Vec<SystemTime> = h.fires.lock().iter().map(|f| f.due).collect();
    assert_eq!(dues, [h.at(5), h.at(10), h.at(15), h.at(20), h.at(32)]);
    assert_eq!(h.sched.active_count(), 1);
}

#[test]
fn six_field_cron_with_seconds() {
    let h = harness();
    h.recurring("secs", "*/10 * * * * *", "s");
    h.advance(5);
    assert_eq!(h.fire_count("secs"), 0);
    h.advance(5);
    assert_eq!(h.fire_count("secs"), 1);
    h.advance(10);
    h.advance(10);
    assert_eq!(h.fire_count("secs"), 3);
    let dues: Vec<SystemTime> = h.fires.lock().iter().map(|f| f.due).collect();
    assert_eq!(dues, [h.at(10), h.at(20), h.at(30)]);
}

#[test]
fn tz_prefix_fires_at_local_wall_clock_time() {
    let h = harness();
    // 19:00 in New York (EST, UTC-5) is midnight UTC; 09:00 in Tokyo (UTC+9) too.
    h.recurring("ny", "TZ=America/New_York 0 0 19 * * *", "ny");
    h.recurring("tokyo", "CRON_TZ=Asia/Tokyo 0 9 * * *", "tokyo");
    h.advance(86_399);
    assert!(h.callbacks().is_empty());
    h.advance(1);
    let mut got = h.callbacks();
    got.sort();
    assert_eq!(got, [cb("ny", "ny", true), cb("tokyo", "tokyo", true)]);
    assert!(h.fires.lock().iter().all(|f| f.due == h.at(86_400)));
}

#[test]
fn generated_ids_are_22_base62_chars_and_unique() {
    let h = harness();
    let mut ids = HashSet::new();
    for i in 0..25 {
        let once = h.once("", 60, &format!("o{i}"));
        let rec = h.recurring("", "@hourly", &format!("r{i}"));
        for response in [once, rec] {
            let id = response["newScheduleId"].as_str().unwrap().to_owned();
            assert_eq!(id.len(), 22, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
            assert!(ids.insert(id));
        }
    }
    assert_eq!(h.sched.active_count(), 50);
    // The Rust API generates them the same way.
    let id = h
        .sched
        .schedule_once("", Duration::from_secs(1), "x")
        .unwrap();
    assert_eq!(id.len(), 22);
    assert!(!ids.contains(&id));
}

#[test]
fn an_active_id_cannot_be_reused() {
    let h = harness();
    assert_eq!(h.once("dup", 60, "a"), json!({"newScheduleId": "dup"}));
    let exists = json!({"error": "schedule ID \"dup\" already exists"});
    assert_eq!(h.once("dup", 60, "b"), exists);
    assert_eq!(h.recurring("dup", "@every 1s", "b"), exists);
    assert_eq!(
        h.recurring("rdup", "@daily", "a"),
        json!({"newScheduleId": "rdup"})
    );
    assert_eq!(
        h.once("rdup", 1, "b"),
        json!({"error": "schedule ID \"rdup\" already exists"})
    );
    assert_eq!(h.sched.active_count(), 2);
    // Once cancelled, the ID is free again.
    assert_eq!(h.cancel("dup"), json!({}));
    assert_eq!(h.once("dup", 1, "c"), json!({"newScheduleId": "dup"}));
    h.advance(1);
    assert_eq!(h.callbacks(), [cb("dup", "c", false)]);
}

#[test]
fn cancel_of_an_unknown_id_fails_with_navidromes_text() {
    let h = harness();
    assert_eq!(
        h.cancel("nope"),
        json!({"error": "schedule ID \"nope\" not found"})
    );
    assert_eq!(
        h.cancel("a\"b"),
        json!({"error": "schedule ID \"a\\\"b\" not found"})
    );
}

#[test]
fn cancel_stops_future_fires() {
    let h = harness();
    h.recurring("r", "@every 5s", "p");
    h.once("o", 7, "p");
    h.advance(5);
    assert_eq!(h.fire_count("r"), 1);
    assert_eq!(h.cancel("r"), json!({}));
    assert_eq!(h.cancel("o"), json!({}));
    assert_eq!(h.sched.active_count(), 0);
    h.advance(30);
    assert_eq!(h.callbacks(), [cb("r", "p", true)]);
}

#[test]
fn a_callback_schedules_a_follow_up_with_another_id() {
    let h = harness();
    h.once("starter", 1, "schedule-followup");
    h.advance(1);
    assert_eq!(h.callbacks(), [cb("starter", "schedule-followup", false)]);
    // The starter is gone once its callback returned; the follow-up waits its second.
    assert_eq!(h.sched.active_count(), 1);
    h.advance(1);
    assert_eq!(
        h.callbacks(),
        [
            cb("starter", "schedule-followup", false),
            cb("followup-id", "followup-created", false)
        ]
    );
    assert_eq!(h.sched.active_count(), 0);
    assert!(h.errors().is_empty());
}

#[test]
fn a_callback_schedules_a_recurring_task() {
    let h = harness();
    h.once("boot", 0, "schedule-recurring");
    assert!(h.sched.wait_idle(IDLE));
    h.advance(1);
    h.advance(1);
    assert_eq!(h.fire_count("recurring-from-plugin"), 2);
    assert!(
        h.callbacks()
            .contains(&cb("recurring-from-plugin", "recurring-created", true))
    );
}

#[test]
fn a_duplicate_from_a_callback_sees_the_active_id_error() {
    let h = harness();
    h.once("victim", 100, "v");
    h.once("dupper", 1, "schedule-duplicate:victim");
    // A one-time entry is still registered while its own callback runs.
    h.once("self", 1, "schedule-duplicate:self");
    h.advance(1);
    let mut errors = h.errors();
    errors.sort_by_key(|e| e["scheduleId"].as_str().unwrap().to_owned());
    assert_eq!(
        errors,
        [
            json!({"event": "error", "scheduleId": "dupper",
                   "error": "schedule ID \"victim\" already exists"}),
            json!({"event": "error", "scheduleId": "self",
                   "error": "schedule ID \"self\" already exists"}),
        ]
    );
    assert_eq!(h.sched.active_count(), 1, "only the victim is left");
}

#[test]
fn a_callback_can_cancel_a_schedule_even_its_own() {
    let h = harness();
    h.recurring("loop", "@every 2s", "cancel:loop");
    h.advance(2);
    h.advance(2);
    assert_eq!(h.fire_count("loop"), 1);
    assert_eq!(h.sched.active_count(), 0);
    assert!(h.errors().is_empty());
}

#[test]
fn a_failing_callback_does_not_stop_a_recurring_schedule() {
    let h = harness();
    h.recurring("failing", "@every 5s", "fail");
    for _ in 0..3 {
        h.advance(5);
    }
    assert_eq!(h.fire_count("failing"), 3);
    assert_eq!(h.sched.active_count(), 1);
}

#[test]
fn shutdown_stops_everything() {
    let h = harness();
    h.recurring("r", "@every 1s", "r");
    h.once("o", 5, "o");
    h.advance(1);
    assert_eq!(h.callbacks().len(), 1);
    h.plugin.shutdown();
    assert_eq!(h.sched.active_count(), 0);
    h.advance(100);
    assert_eq!(h.callbacks().len(), 1);
    assert_eq!(h.fires.lock().len(), 1);
    assert!(matches!(
        h.sched.schedule_once("late", Duration::ZERO, ""),
        Err(scheduler::Error::ShutDown)
    ));
    h.sched.shutdown(); // twice is fine
}

#[test]
fn dropping_the_plugin_shuts_the_service_down() {
    let clock = ManualClock::at_fixed_start();
    let sched = Arc::new(SchedulerService::new(clock.clone()));
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut config = PluginConfig::new("scheduler-drop");
    config.services = vec![
        sched.clone(),
        Arc::new(Recorder {
            events: Arc::clone(&events),
        }),
    ];
    // Without prepared instances: a parked instance refers to its plugin, which keeps a
    // dropped plugin alive (see the report on nd-runtime).
    config.prepared_instances = 0;
    let plugin = nd_testkit::load("scheduler", config);
    nd_testkit::host_call(
        &plugin,
        "scheduler_schedulerecurring",
        json!({"cronExpression": "@every 1s", "payload": "", "scheduleId": "r"}),
    );
    drop(plugin);
    // The last handle may be an instance the runtime retires on its own thread: the service
    // shuts down when that one goes.
    let deadline = std::time::Instant::now() + IDLE;
    while sched.active_count() != 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(sched.active_count(), 0);
    clock.advance(Duration::from_secs(10));
    assert!(sched.wait_idle(IDLE));
    assert!(events.lock().is_empty());
}

#[test]
fn a_direct_shutdown_of_the_service_stops_callbacks() {
    let h = harness();
    h.recurring("r", "@every 1s", "r");
    h.sched.shutdown();
    h.advance(10);
    assert!(h.callbacks().is_empty());
    assert_eq!(
        h.once("x", 1, ""),
        json!({"error": "scheduler is shut down"})
    );
}

#[test]
fn loading_without_the_callback_export_fails_clearly() {
    let wasm = std::fs::read(
        nd_testkit::workspace_root().join("target/fixtures/wat/scheduler_no_callback.wasm"),
    )
    .expect("run `cargo xtask build-plugins`");
    let mut config = PluginConfig::new("no-callback");
    config.services = vec![Arc::new(SchedulerService::new(
        ManualClock::at_fixed_start(),
    ))];
    let err = nd_testkit::runtime()
        .load_wasm(&wasm, config)
        .expect_err("a scheduler plugin without nd_scheduler_callback must not load");
    let message = err.to_string();
    assert!(
        message.contains(
            "plugin no-callback has the scheduler permission but does not export nd_scheduler_callback"
        ),
        "{message}"
    );
}

#[test]
fn invalid_cron_expressions_are_refused_with_the_parser_message() {
    let h = harness();
    let cases = [
        (
            "* * *",
            "failed to schedule task: expected 5 to 6 fields, found 3: [* * *]",
        ),
        ("", "failed to schedule task: empty spec string"),
        (
            "61 * * * *",
            "failed to schedule task: end of range (61) above maximum (59): 61",
        ),
        (
            "@sometimes",
            "failed to schedule task: unrecognized descriptor: @sometimes",
        ),
    ];
    for (expr, message) in cases {
        assert_eq!(
            h.recurring("bad", expr, ""),
            json!({ "error": message }),
            "{expr}"
        );
    }
    assert_eq!(h.sched.active_count(), 0);
    // Navidrome's extensions are accepted.
    assert_eq!(h.recurring("d", "5m", ""), json!({"newScheduleId": "d"}));
    assert_eq!(
        h.recurring("t", "0~59 * * * *", ""),
        json!({"newScheduleId": "t"})
    );
}

#[test]
fn malformed_requests_get_an_error_not_a_trap() {
    let h = harness();
    // Wrong types get Go's `encoding/json` texts, as on Navidrome.
    assert_eq!(
        h.call("scheduler_scheduleonetime", json!({"delaySeconds": "soon"})),
        json!({"error": "json: cannot unmarshal string into Go struct field \
            SchedulerScheduleOneTimeRequest.delaySeconds of type int32"})
    );
    assert_eq!(
        h.call(
            "scheduler_scheduleonetime",
            json!({"delaySeconds": 3_000_000_000i64})
        ),
        json!({"error": "json: cannot unmarshal number 3000000000 into Go struct field \
            SchedulerScheduleOneTimeRequest.delaySeconds of type int32"})
    );
    assert_eq!(
        h.call("scheduler_cancelschedule", json!([1, 2])),
        json!({"error": "json: cannot unmarshal array into Go value of type \
            host.SchedulerCancelScheduleRequest"})
    );
    // Field names match case-insensitively, as in Go.
    assert_eq!(
        h.call(
            "scheduler_scheduleonetime",
            json!({"DelaySeconds": 1, "PAYLOAD": "p", "scheduleid": "ci"})
        ),
        json!({"newScheduleId": "ci"})
    );
    h.advance(1);
    assert_eq!(h.callbacks(), [cb("ci", "p", false)]);
}

#[test]
fn the_fixture_exports_behave_as_documented() {
    let h = harness();
    // `host` refuses functions that are not the scheduler's.
    let err = nd_testkit::err(&h.plugin, "host", r#"{"fn":"cache_get","req":{}}"#);
    assert!(err.to_string().contains("unknown function"), "{err}");
    // The callback export, called directly, acts on its payload like a fired schedule.
    let input =
        json!({"scheduleId": "direct", "payload": "schedule-followup", "isRecurring": false});
    let out = nd_testkit::ok_str(&h.plugin, "nd_scheduler_callback", &input.to_string());
    assert_eq!(out, "");
    assert_eq!(h.callbacks(), [cb("direct", "schedule-followup", false)]);
    assert_eq!(h.sched.active_count(), 1);
}

#[test]
fn a_thousand_schedules_fire_correctly() {
    let h = harness();
    for i in 0..1000u64 {
        let id = h
            .sched
            .schedule_once(
                &format!("s{i}"),
                Duration::from_secs(1 + i % 10),
                &format!("p{i}"),
            )
            .unwrap();
        assert_eq!(id, format!("s{i}"));
    }
    // Some recurring ones too, half of them cancelled.
    for i in 0..100 {
        h.sched
            .schedule_recurring(&format!("r{i}"), "@every 5s", "r")
            .unwrap();
        if i % 2 == 0 {
            h.sched.cancel(&format!("r{i}")).unwrap();
        }
    }
    assert_eq!(h.sched.active_count(), 1050);
    h.advance(5);
    assert_eq!(h.callbacks().len(), 500 + 50);
    h.advance(5);
    let callbacks = h.callbacks();
    assert_eq!(callbacks.len(), 1000 + 100);
    let once: HashSet<(String, String)> = callbacks
        .iter()
        .filter(|c| !c.2)
        .map(|c| (c.0.clone(), c.1.clone()))
        .collect();
    let want: HashSet<(String, String)> = (0..1000)
        .map(|i| (format!("s{i}"), format!("p{i}")))
        .collect();
    assert_eq!(once, want);
    assert_eq!(h.sched.active_count(), 50);
    // Each one-time schedule started at its due time, in virtual time.
    for fire in h.fires.lock().iter().filter(|f| !f.recurring) {
        let i: u64 = fire.schedule_id[1..].parse().unwrap();
        let due = h.at(1 + i % 10);
        assert_eq!(fire.due, due, "{}", fire.schedule_id);
    }
}

#[test]
fn the_real_clock_drives_schedules_too() {
    let sched = Arc::new(SchedulerService::default());
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut config = PluginConfig::new("scheduler-real-clock");
    config.services = vec![
        sched.clone(),
        Arc::new(Recorder {
            events: Arc::clone(&events),
        }),
    ];
    let plugin = nd_testkit::load("scheduler", config);
    let r = nd_testkit::host_call(
        &plugin,
        "scheduler_scheduleonetime",
        json!({"delaySeconds": 0, "payload": "now", "scheduleId": "rt"}),
    );
    assert_eq!(r, json!({"newScheduleId": "rt"}));
    let deadline = std::time::Instant::now() + IDLE;
    while events.lock().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(sched.wait_idle(IDLE));
    assert_eq!(events.lock().len(), 1);
    assert_eq!(events.lock()[0]["payload"], "now");
    assert_eq!(sched.active_count(), 0);
    plugin.shutdown();
}

/// Beyond Navidrome: a plugin's active schedules are bounded, so a plugin scheduling in a loop
/// gets an error instead of growing the host's memory. A slot frees when a schedule ends.
#[test]
fn active_schedules_are_bounded_per_plugin() {
    let clock = ManualClock::at_fixed_start();
    let sched = Arc::new(SchedulerService::new(clock.clone()).with_max_schedules(2));
    let mut config = PluginConfig::new("scheduler-bounded");
    config.services = vec![
        sched.clone(),
        Arc::new(Recorder {
            events: Arc::new(Mutex::new(Vec::new())),
        }),
    ];
    let plugin = nd_testkit::load("scheduler", config);
    let once = |id: &str| {
        nd_testkit::host_call(
            &plugin,
            "scheduler_scheduleonetime",
            json!({"delaySeconds": 5, "payload": "p", "scheduleId": id}),
        )
    };
    assert_eq!(once("a"), json!({"newScheduleId": "a"}));
    let recurring = nd_testkit::host_call(
        &plugin,
        "scheduler_schedulerecurring",
        json!({"cronExpression": "@every 1h", "payload": "p", "scheduleId": "b"}),
    );
    assert_eq!(recurring, json!({"newScheduleId": "b"}));
    assert_eq!(
        once("c"),
        json!({"error": "too many active schedules: a plugin may have at most 2"})
    );
    assert_eq!(sched.active_count(), 2);
    // `a` fires and is removed, which frees a slot.
    clock.advance(Duration::from_secs(5));
    assert!(sched.wait_idle(Duration::from_secs(10)));
    assert_eq!(sched.active_count(), 1);
    assert_eq!(once("c"), json!({"newScheduleId": "c"}));
    plugin.shutdown();
}
