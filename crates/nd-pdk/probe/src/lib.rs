//! The nd-pdk probe: a test plugin that calls every host wrapper of nd-pdk against a real
//! host and reports what came back, so that nd-pdk's integration test can check the wire
//! format end to end (the unit tests check it against a stand-in).
//!
//! Export `probe {"service": <name>, "arg": <json>}` runs one scripted sequence and answers
//! a JSON object of outcomes, each `{"ok": value}` or `{"error": text, "message": host text,
//! "host": is-host-error}`. The callbacks record what they receive: fired schedules in the
//! KV store (`fired`), WebSocket events in the cache (`ws:*`), tasks in their message.

use std::collections::BTreeMap;

use nd_pdk::capability::{SchedulerCallback, TaskWorker, WebSocketCallback};
use nd_pdk::host::http::{self, HttpRequest};
use nd_pdk::host::{
    artwork, cache, config, kvstore, library, matcher, scheduler, scrobbleretriever, storage,
    subsonicapi, taskqueue, users, websocket,
};
use nd_pdk::types::{BinaryMessage, CloseEvent, ScheduledEvent, SongRef, Task, TextMessage};
use nd_pdk::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Input {
    service: String,
    #[serde(default)]
    arg: Value,
}

fn outcome<T: Serialize>(result: Result<T>) -> Value {
    match result {
        Ok(value) => json!({ "ok": value }),
        Err(e) => {
            json!({ "error": e.to_string(), "message": e.message(), "host": e.is_host_error() })
        }
    }
}

fn arg_str(arg: &Value) -> String {
    arg.as_str().unwrap_or_default().to_owned()
}

fn run_probe(input: Input) -> Result<Value> {
    let arg = &input.arg;
    Ok(match input.service.as_str() {
        "config" => json!({
            "get": outcome(config::get("apiKey")),
            "missing": outcome(config::get("nope")),
            "int": outcome(config::get_int("limit")),
            "notInt": outcome(config::get_int("apiKey")),
            "keys": outcome(config::keys("")),
            "extism": outcome(config::extism_get("flag")),
        }),
        "cache" => json!({
            "setString": outcome(cache::set_string("s", "text", 0)),
            "setInt": outcome(cache::set_int("i", -7, 60)),
            "setFloat": outcome(cache::set_float("f", 2.5, 60)),
            "setBytes": outcome(cache::set_bytes("b", &[0, 1, 255], 60)),
            "setEmpty": outcome(cache::set_string("empty", "", 60)),
            "getString": outcome(cache::get_string("s")),
            "getEmpty": outcome(cache::get_string("empty")),
            "getInt": outcome(cache::get_int("i")),
            "getFloat": outcome(cache::get_float("f")),
            "getBytes": outcome(cache::get_bytes("b")),
            "wrongType": outcome(cache::get_int("s")),
            "missing": outcome(cache::get_string("nope")),
            "has": outcome(cache::has("s")),
            "remove": outcome(cache::remove("s")),
            "hasAfterRemove": outcome(cache::has("s")),
        }),
        "kvstore" => json!({
            "set": outcome(kvstore::set("a", &[0, 255, 10])),
            "setB": outcome(kvstore::set("b", b"two")),
            "setTtl": outcome(kvstore::set_with_ttl("t/1", b"ttl", 3600)),
            "setTtlZero": outcome(kvstore::set_with_ttl("t/2", b"ttl", 0)),
            "get": outcome(kvstore::get("a")),
            "getMissing": outcome(kvstore::get("nope")),
            "getMany": outcome(kvstore::get_many(&["a", "b", "nope"])),
            "list": outcome(kvstore::list("")),
            "has": outcome(kvstore::has("b")),
            "delete": outcome(kvstore::delete("b")),
            "hasAfterDelete": outcome(kvstore::has("b")),
            "deleteByPrefix": outcome(kvstore::delete_by_prefix("t/")),
            "setJson": outcome(kvstore::set_json("j", &json!({"n": [1, 2]}))),
            "getJson": outcome(kvstore::get_json::<Value>("j")),
            "used": outcome(kvstore::storage_used()),
            "emptyKey": outcome(kvstore::set("", b"x")),
        }),
        "storage" => {
            let written = storage::storage_path().and_then(|path| {
                let file = format!("{path}/probe.txt");
                std::fs::write(&file, arg_str(arg))?;
                Ok((path, std::fs::read_to_string(&file)?))
            });
            json!({ "written": outcome(written) })
        }
        "scheduler" => json!({
            "oneTime": outcome(scheduler::schedule_one_time(30, "p1", "once")),
            "recurring": outcome(scheduler::schedule_recurring("@every 5s", "rec", "")),
            "duplicate": outcome(scheduler::schedule_recurring("@every 5s", "x", "once")),
            "badCron": outcome(scheduler::schedule_recurring("now and then", "x", "bad")),
            "cancelUnknown": outcome(scheduler::cancel_schedule("nope")),
        }),
        "scheduler_cancel" => {
            json!({ "cancel": outcome(scheduler::cancel_schedule(&arg_str(arg))) })
        }
        "fired" => json!({ "fired": outcome(kvstore::get_json::<Value>("fired")) }),
        "taskqueue" => {
            let config = taskqueue::QueueConfig {
                concurrency: 1,
                max_retries: 1,
                backoff_ms: 10,
                ..Default::default()
            };
            json!({
                "create": outcome(taskqueue::create_queue("q", config)),
                "createAgain": outcome(taskqueue::create_queue("q", config)),
                "enqueue": outcome(taskqueue::enqueue("q", arg_str(arg).as_bytes())),
                "enqueueUnknownQueue": outcome(taskqueue::enqueue("nope", b"x")),
                "cancelUnknown": outcome(taskqueue::cancel("nope")),
            })
        }
        "task_get" => json!({ "get": outcome(taskqueue::get(&arg_str(arg))) }),
        "task_clear" => json!({ "clear": outcome(taskqueue::clear_queue("q")) }),
        "http" => {
            let base = arg_str(arg);
            let post = HttpRequest::post(format!("{base}/echo"), "")
                .json(&json!({"hello": "world"}))
                .map(|r| r.header("X-Probe", "1").timeout_ms(5_000));
            let post = post.and_then(|r| http::send(&r)).map(|r| {
                json!({"status": r.status_code, "type": r.header("content-type"), "body": r.text()})
            });
            let missing = http::send(&HttpRequest::get(format!("{base}/missing")))
                .map(|r| json!({"status": r.status_code, "success": r.is_success()}));
            let redirect =
                http::send(&HttpRequest::get(format!("{base}/redirect")).no_follow_redirects())
                    .map(|r| json!({"status": r.status_code, "location": r.header("Location")}));
            let refused = http::send(&HttpRequest::get("http://localhost:1/"));
            json!({
                "post": outcome(post),
                "missing": outcome(missing),
                "redirect": outcome(redirect),
                "refused": outcome(refused.map(|r| r.status_code)),
            })
        }
        "ws_connect" => {
            let headers = BTreeMap::from([("X-Probe".to_owned(), "1".to_owned())]);
            json!({
                "connect": outcome(websocket::connect(&arg_str(arg), &headers, "c1")),
                "duplicate": outcome(websocket::connect(&arg_str(arg), &headers, "c1")),
                "text": outcome(websocket::send_text("c1", "hello")),
                "binary": outcome(websocket::send_binary("c1", &[1, 2, 3])),
                "unknown": outcome(websocket::send_text("nope", "x")),
            })
        }
        "ws_state" => json!({
            "last": outcome(cache::get_string("ws:last")),
            "binary": outcome(cache::get_bytes("ws:binary")),
            "closed": outcome(cache::get_string("ws:closed")),
        }),
        "ws_close" => json!({ "close": outcome(websocket::close("c1", 1000, "bye")) }),
        "library" => json!({
            "all": outcome(library::get_all_libraries()),
            "one": outcome(library::get_library(1)),
            "missing": outcome(library::get_library(99)),
        }),
        "users" => json!({
            "users": outcome(users::get_users()),
            "admins": outcome(users::get_admins()),
        }),
        "artwork" => json!({
            "artist": outcome(artwork::artist_url("ar-1", 0)),
            "album": outcome(artwork::album_url("al-1", 0)),
            "track": outcome(artwork::track_url("mf-1", 300)),
            "playlist": outcome(artwork::playlist_url("pl-1", 0)),
        }),
        "subsonic" => json!({
            "call": outcome(subsonicapi::call("ping?u=alice")),
            "raw": outcome(subsonicapi::call_raw("ping?u=alice").map(|r| {
                json!({"contentType": r.content_type, "text": String::from_utf8_lossy(&r.data)})
            })),
            "noUser": outcome(subsonicapi::call("ping")),
        }),
        "matcher" => {
            let songs = [
                SongRef {
                    name: "Take Off".into(),
                    artist: "The Midnight Owls".into(),
                    ..SongRef::default()
                },
                SongRef {
                    name: "No Such Song Anywhere".into(),
                    ..SongRef::default()
                },
            ];
            let matched = matcher::match_songs(&songs, "alice").map(|tracks| {
                tracks
                    .into_iter()
                    .map(|t| {
                        t.map(
                            |t| json!({"title": t.title, "starred": t.starred, "rating": t.rating}),
                        )
                    })
                    .collect::<Vec<_>>()
            });
            json!({ "matched": outcome(matched) })
        }
        "scrobbles" => json!({
            "first": outcome(scrobbleretriever::first_timestamp("alice")),
            "last": outcome(scrobbleretriever::last_timestamp("alice")),
            "page": outcome(scrobbleretriever::get_scrobbles("alice", &Default::default()).map(|p| {
                json!({"count": p.scrobbles.len(), "next": p.next.is_some()})
            })),
            "count": outcome(scrobbleretriever::scrobble_count("alice", None, None)),
            "unknownUser": outcome(scrobbleretriever::scrobble_count("mallory", None, None)),
        }),
        other => return Err(Error::msg(format!("unknown service {other:?}"))),
    })
}

nd_pdk::register_export!(probe, run_probe);

/// The plugin's callbacks.
#[derive(Default)]
pub struct Probe;

impl SchedulerCallback for Probe {
    fn on_schedule(&self, event: ScheduledEvent) -> Result<()> {
        let mut fired: BTreeMap<String, Value> = kvstore::get_json("fired")?.unwrap_or_default();
        let count = fired
            .get(&event.schedule_id)
            .and_then(|v| v["count"].as_u64())
            .unwrap_or(0);
        fired.insert(
            event.schedule_id,
            json!({"count": count + 1, "payload": event.payload, "recurring": event.is_recurring}),
        );
        kvstore::set_json("fired", &fired)
    }
}

impl TaskWorker for Probe {
    fn execute(&self, task: Task) -> Result<String> {
        let payload = String::from_utf8_lossy(&task.payload).into_owned();
        if payload == "fail" {
            return Err(Error::msg(format!("failing on attempt {}", task.attempt)));
        }
        Ok(format!(
            "done: {payload} ({} on attempt {})",
            task.queue_name, task.attempt
        ))
    }
}

impl WebSocketCallback for Probe {
    fn on_text_message(&self, msg: TextMessage) -> Result<()> {
        cache::set_string(
            "ws:last",
            &format!("{}: {}", msg.connection_id, msg.message),
            0,
        )
    }

    fn on_binary_message(&self, msg: BinaryMessage) -> Result<()> {
        cache::set_bytes("ws:binary", &msg.data, 0)
    }

    fn on_close(&self, event: CloseEvent) -> Result<()> {
        cache::set_string(
            "ws:closed",
            &format!("{} {} {}", event.connection_id, event.code, event.reason),
            0,
        )
    }
}

nd_pdk::register_scheduler_callback!(Probe);
nd_pdk::register_task_worker!(Probe);
nd_pdk::register_websocket_callback!(Probe, [on_text_message, on_binary_message, on_close]);
