//! The Scheduler service (spec §3.3, permission `scheduler`; the plugin must then export
//! `nd_scheduler_callback`, see [`register_scheduler_callback!`](crate::register_scheduler_callback)).
//! When a schedule fires, the host calls the callback with its id and payload in a fresh
//! instance. Schedules are not persisted: re-create them in `nd_on_init`.
//!
//! Reusing the id of a live schedule is an error (`schedule ID "x" already exists`), not a
//! replacement: cancel first. A one-time schedule stays registered until its callback
//! returns, so it cannot re-arm itself under the same id.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ffi::import;
use crate::host::{Empty, call};
use crate::wire::null_default;

import! {
    fn raw_one_time = "scheduler_scheduleonetime";
    fn raw_recurring = "scheduler_schedulerecurring";
    fn raw_cancel = "scheduler_cancelschedule";
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Scheduled {
    #[serde(deserialize_with = "null_default")]
    new_schedule_id: String,
}

fn scheduled(function: &'static str, answer: Scheduled) -> Result<String> {
    if answer.new_schedule_id.is_empty() {
        return Err(Error::call(function, "the host returned no schedule id"));
    }
    Ok(answer.new_schedule_id)
}

/// `scheduler_scheduleonetime {delaySeconds, payload, scheduleId}`: calls back once after
/// `delay_seconds`. An empty `schedule_id` lets the host generate one. Returns the id.
pub fn schedule_one_time(delay_seconds: i32, payload: &str, schedule_id: &str) -> Result<String> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        delay_seconds: i32,
        payload: &'a str,
        schedule_id: &'a str,
    }
    let request = Request {
        delay_seconds,
        payload,
        schedule_id,
    };
    let answer = call("scheduler_scheduleonetime", raw_one_time, &request)?;
    scheduled("scheduler_scheduleonetime", answer)
}

/// `scheduler_schedulerecurring {cronExpression, payload, scheduleId}`: calls back on every
/// tick of `cron_expression` (5 or 6 fields, `@every 1m`, `@hourly`, a bare duration such as
/// `5m`, `TZ=Europe/Paris` prefixes). An empty `schedule_id` lets the host generate one.
/// Returns the id.
pub fn schedule_recurring(
    cron_expression: &str,
    payload: &str,
    schedule_id: &str,
) -> Result<String> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        cron_expression: &'a str,
        payload: &'a str,
        schedule_id: &'a str,
    }
    let request = Request {
        cron_expression,
        payload,
        schedule_id,
    };
    let answer = call("scheduler_schedulerecurring", raw_recurring, &request)?;
    scheduled("scheduler_schedulerecurring", answer)
}

/// `scheduler_cancelschedule {scheduleId}`. An unknown id is an error
/// (`schedule ID "x" not found`).
pub fn cancel_schedule(schedule_id: &str) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        schedule_id: &'a str,
    }
    let _: Empty = call(
        "scheduler_cancelschedule",
        raw_cancel,
        &Request { schedule_id },
    )?;
    Ok(())
}
