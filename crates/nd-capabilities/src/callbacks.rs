//! The callback capabilities the host invokes on its own schedule (spec §4.2): TaskWorker
//! (`nd_task_execute`), Lifecycle (`nd_on_init`), Scheduler (`nd_scheduler_callback`) and
//! WebSocket (`nd_websocket_on_*`).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::ExportCaller;
use crate::call::{Reply, invoke};
use crate::detect::{SCHEDULER_CALLBACK, TASK_EXECUTE};
use crate::error::{CapabilityError, CapabilityErrorKind};
use nd_runtime::CallErrorKind;

pub(crate) const ON_INIT: &str = "nd_on_init";
pub(crate) const ON_TEXT_MESSAGE: &str = "nd_websocket_on_text_message";
pub(crate) const ON_BINARY_MESSAGE: &str = "nd_websocket_on_binary_message";
pub(crate) const ON_ERROR: &str = "nd_websocket_on_error";
pub(crate) const ON_CLOSE: &str = "nd_websocket_on_close";

macro_rules! adapter {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            caller: Arc<dyn ExportCaller>,
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("plugin", &self.caller.plugin_id())
                    .finish()
            }
        }

        impl $name {
            /// The adapter for the plugin behind `caller`.
            pub fn new(caller: Arc<dyn ExportCaller>) -> Self {
                Self { caller }
            }

            /// The plugin id.
            pub fn plugin_id(&self) -> &str {
                self.caller.plugin_id()
            }
        }
    };
}

adapter!(
    /// The TaskWorker adapter of one plugin: runs one queued task.
    TaskWorker
);
adapter!(
    /// The Lifecycle adapter of one plugin: `nd_on_init`, called once after every load.
    Lifecycle
);
adapter!(
    /// The Scheduler adapter of one plugin: delivers a fired schedule.
    SchedulerCallback
);
adapter!(
    /// The WebSocket adapter of one plugin: delivers connection events. A plugin may export
    /// any subset of the four callbacks; events for a missing one are skipped.
    WebSocketCallback
);

/// Calls an export whose output is ignored; a missing export or `-2` is `Ok(false)` (not
/// delivered), success `Ok(true)`.
fn deliver(
    caller: &dyn ExportCaller,
    export: &str,
    request: &impl Serialize,
) -> Result<bool, CapabilityError> {
    Ok(match invoke(caller, export, request)? {
        Reply::Missing | Reply::NotImplemented => false,
        Reply::Output(_) => true,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskExecuteRequest<'a> {
    queue_name: &'a str,
    task_id: &'a str,
    payload: String,
    attempt: i32,
}

impl TaskWorker {
    /// `nd_task_execute {queueName, taskId, payload, attempt}`: runs one task (`payload` goes
    /// as standard base64, `attempt` is 1-based) and returns its message.
    ///
    /// The export answers a JSON string, which becomes the message; an output that is not a
    /// JSON string is kept as text, and empty output is an empty message. Every failure is an
    /// `Err`, including a missing export ([`CapabilityErrorKind::MissingExport`], not called)
    /// and `-2`, since the task did not run: the task queue retries or fails the task.
    pub fn execute(
        &self,
        queue_name: &str,
        task_id: &str,
        payload: &[u8],
        attempt: i32,
    ) -> Result<String, CapabilityError> {
        let request = TaskExecuteRequest {
            queue_name,
            task_id,
            payload: nd_runtime::encode_bytes(payload),
            attempt,
        };
        let error = |kind| CapabilityError::new(self.plugin_id(), TASK_EXECUTE, kind);
        match invoke(&*self.caller, TASK_EXECUTE, &request)? {
            Reply::Missing => Err(error(CapabilityErrorKind::MissingExport)),
            Reply::NotImplemented => Err(error(CapabilityErrorKind::Call(
                CallErrorKind::NotImplemented,
            ))),
            Reply::Output(output) => Ok(task_message(&output)),
        }
    }
}

/// The task message from `nd_task_execute`'s output: a JSON string's value, else the text.
pub(crate) fn task_message(output: &[u8]) -> String {
    if output.is_empty() {
        return String::new();
    }
    match serde_json::from_slice::<serde_json::Value>(output) {
        Ok(serde_json::Value::String(message)) => message,
        _ => String::from_utf8_lossy(output).into_owned(),
    }
}

#[derive(Serialize)]
struct Empty {}

impl Lifecycle {
    /// `nd_on_init {}`: `Ok(true)` if the plugin ran its initialiser, `Ok(false)` if it does
    /// not export one (or answered `-2`). Navidrome only logs an `Err`; the plugin stays
    /// loaded.
    pub fn on_init(&self) -> Result<bool, CapabilityError> {
        deliver(&*self.caller, ON_INIT, &Empty {})
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SchedulerCallbackRequest<'a> {
    schedule_id: &'a str,
    payload: &'a str,
    is_recurring: bool,
}

impl SchedulerCallback {
    /// `nd_scheduler_callback {scheduleId, payload, isRecurring}`. A missing export or `-2`
    /// is skipped (`Ok`); the load-time rules already refuse a plugin with the `scheduler`
    /// permission and no callback. Navidrome only logs an `Err`.
    pub fn scheduler_callback(
        &self,
        schedule_id: &str,
        payload: &str,
        is_recurring: bool,
    ) -> Result<(), CapabilityError> {
        let request = SchedulerCallbackRequest {
            schedule_id,
            payload,
            is_recurring,
        };
        deliver(&*self.caller, SCHEDULER_CALLBACK, &request).map(drop)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TextMessage<'a> {
    connection_id: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BinaryMessage<'a> {
    connection_id: &'a str,
    data: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorEvent<'a> {
    connection_id: &'a str,
    error: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CloseEvent<'a> {
    connection_id: &'a str,
    code: i32,
    reason: &'a str,
}

impl WebSocketCallback {
    /// `nd_websocket_on_text_message {connectionId, message}`; skipped (`Ok`) when missing.
    pub fn on_text_message(
        &self,
        connection_id: &str,
        message: &str,
    ) -> Result<(), CapabilityError> {
        let request = TextMessage {
            connection_id,
            message,
        };
        deliver(&*self.caller, ON_TEXT_MESSAGE, &request).map(drop)
    }

    /// `nd_websocket_on_binary_message {connectionId, data}` with `data` as standard base64;
    /// skipped (`Ok`) when missing.
    pub fn on_binary_message(
        &self,
        connection_id: &str,
        data: &[u8],
    ) -> Result<(), CapabilityError> {
        let request = BinaryMessage {
            connection_id,
            data: nd_runtime::encode_bytes(data),
        };
        deliver(&*self.caller, ON_BINARY_MESSAGE, &request).map(drop)
    }

    /// `nd_websocket_on_error {connectionId, error}`; skipped (`Ok`) when missing.
    pub fn on_error(&self, connection_id: &str, error: &str) -> Result<(), CapabilityError> {
        let request = ErrorEvent {
            connection_id,
            error,
        };
        deliver(&*self.caller, ON_ERROR, &request).map(drop)
    }

    /// `nd_websocket_on_close {connectionId, code, reason}`; skipped (`Ok`) when missing.
    pub fn on_close(
        &self,
        connection_id: &str,
        code: i32,
        reason: &str,
    ) -> Result<(), CapabilityError> {
        let request = CloseEvent {
            connection_id,
            code,
            reason,
        };
        deliver(&*self.caller, ON_CLOSE, &request).map(drop)
    }
}

#[cfg(test)]
mod tests;
