//! The callback adapters (TaskWorker, Lifecycle, Scheduler, WebSocket) against the
//! `taskqueue`, `agent`, `scheduler` and `websocket` fixtures, whose host imports are stubbed.

use std::sync::Arc;

use nd_capabilities::{
    CapabilityErrorKind, ExportCaller, Lifecycle, SchedulerCallback, TaskWorker, WebSocketCallback,
};
use nd_runtime::CallErrorKind;
use serde_json::json;

use crate::{load, load_stubbed, recording};

#[test]
fn task_worker_sends_base64_payload_and_returns_the_message() {
    let (plugin, _) = load_stubbed("taskqueue");
    let (record, caller) = recording(plugin);
    let worker = TaskWorker::new(caller);
    assert_eq!(
        worker
            .execute("q1", "t-1", b"ok:hello \"world\"", 1)
            .unwrap(),
        "hello \"world\""
    );
    let call = record.only_call();
    assert_eq!(call.export, "nd_task_execute");
    assert_eq!(
        call.input,
        json!({"queueName": "q1", "taskId": "t-1", "payload": "b2s6aGVsbG8gIndvcmxkIg==", "attempt": 1})
    );
    // Output that is not a JSON string is kept as text.
    assert_eq!(
        worker.execute("q1", "t-2", b"raw:not json", 2).unwrap(),
        "not json"
    );
    // Navidrome's test-taskqueue behaviour for other payloads.
    assert_eq!(
        worker.execute("q1", "t-3", b"anything", 1).unwrap(),
        "completed successfully"
    );
    assert_eq!(
        worker
            .execute("q1", "t-4", b"fail-then-succeed", 2)
            .unwrap(),
        "completed successfully"
    );
}

#[test]
fn task_worker_failures_and_a_missing_export_are_errors() {
    let (plugin, _) = load_stubbed("taskqueue");
    let worker = TaskWorker::new(Arc::new(plugin));
    let error = worker
        .execute("q1", "t-1", b"fail:disk full", 1)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "plugin 'taskqueue': nd_task_execute: plugin call failed: disk full"
    );
    let error = worker
        .execute("q1", "t-1", b"fail-then-succeed", 1)
        .unwrap_err();
    assert_eq!(error.plugin_message(), Some("transient failure"));

    let (record, caller) = recording(load("agent", &[]));
    let error = TaskWorker::new(caller)
        .execute("q1", "t-1", b"x", 1)
        .unwrap_err();
    assert_eq!(error.kind, CapabilityErrorKind::MissingExport);
    assert_eq!(
        error.to_string(),
        "plugin 'agent': nd_task_execute: function not found"
    );
    assert!(record.calls().is_empty());
}

#[test]
fn lifecycle_runs_nd_on_init_once_per_call_and_reports_its_failure() {
    let (record, caller) = recording(load("agent", &[]));
    assert_eq!(Lifecycle::new(caller).on_init(), Ok(true));
    let call = record.only_call();
    assert_eq!(call.export, "nd_on_init");
    assert_eq!(call.input, json!({}));

    let error = Lifecycle::new(Arc::new(load("agent", &[("init_error", "bad api key")])))
        .on_init()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "plugin 'agent': nd_on_init: plugin call failed: bad api key"
    );

    let (record, caller) = recording(load("partialagent", &[]));
    assert_eq!(
        Lifecycle::new(caller).on_init(),
        Ok(false),
        "no nd_on_init: nothing to run"
    );
    assert!(record.calls().is_empty());
}

#[test]
fn scheduler_callback_delivers_the_schedule() {
    let (plugin, events) = load_stubbed("scheduler");
    let (record, caller) = recording(plugin);
    let scheduler = SchedulerCallback::new(caller);
    scheduler
        .scheduler_callback("sched-1", "tick", true)
        .unwrap();
    assert_eq!(
        record.only_call().input,
        json!({"scheduleId": "sched-1", "payload": "tick", "isRecurring": true})
    );
    assert_eq!(
        events.lock().as_slice(),
        [
            json!({"event": "callback", "scheduleId": "sched-1", "payload": "tick", "isRecurring": true})
        ]
    );
    let error = scheduler
        .scheduler_callback("sched-2", "fail", false)
        .unwrap_err();
    assert_eq!(error.plugin_message(), Some("callback failed on purpose"));
    assert_eq!(error.export, "nd_scheduler_callback");

    let (record, caller) = recording(load("agent", &[]));
    SchedulerCallback::new(caller)
        .scheduler_callback("s", "p", false)
        .unwrap();
    assert!(record.calls().is_empty(), "a missing callback is skipped");
}

#[test]
fn websocket_callbacks_deliver_every_event() {
    let (plugin, events) = load_stubbed("websocket");
    let (record, caller) = recording(plugin);
    let ws = WebSocketCallback::new(caller);
    ws.on_text_message("c1", "hi").unwrap();
    ws.on_binary_message("c1", &[0, 1, 2, 250]).unwrap();
    ws.on_error("c1", "connection reset").unwrap();
    ws.on_close("c1", 1001, "going away").unwrap();
    let exports: Vec<String> = record.calls().into_iter().map(|c| c.export).collect();
    assert_eq!(
        exports,
        [
            "nd_websocket_on_text_message",
            "nd_websocket_on_binary_message",
            "nd_websocket_on_error",
            "nd_websocket_on_close",
        ]
    );
    assert_eq!(
        events.lock().as_slice(),
        [
            json!({"event": "text", "connectionId": "c1", "message": "hi"}),
            json!({"event": "binary", "connectionId": "c1", "data": "AAEC+g=="}),
            json!({"event": "error", "connectionId": "c1", "error": "connection reset"}),
            json!({"event": "close", "connectionId": "c1", "code": 1001, "reason": "going away"}),
        ]
    );
    let error = ws.on_text_message("c1", "fail").unwrap_err();
    assert!(
        matches!(error.call_kind(), Some(CallErrorKind::PluginError { .. })),
        "{error:?}"
    );
}

#[test]
fn websocket_events_for_missing_callbacks_are_skipped() {
    let (record, caller) = recording(load("agent", &[]));
    let caller: Arc<dyn ExportCaller> = caller;
    let ws = WebSocketCallback::new(caller);
    ws.on_text_message("c1", "hi").unwrap();
    ws.on_binary_message("c1", b"x").unwrap();
    ws.on_error("c1", "e").unwrap();
    ws.on_close("c1", 1000, "").unwrap();
    assert!(record.calls().is_empty());
}
