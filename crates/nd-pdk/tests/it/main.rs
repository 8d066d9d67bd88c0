//! The registration macros, natively: every capability registered once in this binary, and
//! each generated export called through `nd_pdk::testing` with the input the host sends
//! (spec §4.2), checking return code, output JSON and error text. `host.rs`: every host
//! wrapper on the real host, through the probe plugin. Which exports a wasm
//! build has is checked end to end by `examples/e2e` (the minimal plugin exports exactly
//! `nd_get_artist_biography`) and by xtask's scaffold test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod host;

use nd_pdk::capability::{
    Lifecycle, Lyrics, MetadataAgent, SchedulerCallback, Scrobbler, SonicSimilarity, TaskWorker,
    WebSocketCallback,
};
use nd_pdk::testing::{self, ExportOutcome, call_export};
use nd_pdk::types::{
    AlbumInfo, AlbumRequest, ArtistRef, ArtistRequest, BinaryMessage, IsAuthorizedRequest,
    LyricsRequest, LyricsText, NowPlayingRequest, ScheduledEvent, ScrobbleRequest,
    SimilarArtistsRequest, SonicMatch, SonicSimilarRequest, Task, TextMessage,
};
use nd_pdk::{Error, Result};
use serde_json::{Value, json};

#[derive(Default)]
struct Agent;

impl MetadataAgent for Agent {
    fn artist_biography(&self, req: ArtistRequest) -> Result<Option<String>> {
        match req.name.as_str() {
            "" => Ok(None),
            "fail" => Err(Error::msg("upstream answered 503")),
            name => Ok(Some(format!("{name} (mbid {:?})", req.mbid))),
        }
    }

    fn similar_artists(&self, req: SimilarArtistsRequest) -> Result<Vec<ArtistRef>> {
        Ok((0..req.limit)
            .map(|i| ArtistRef {
                name: format!("similar {i}"),
                ..ArtistRef::default()
            })
            .collect())
    }

    fn album_info(&self, req: AlbumRequest) -> Result<Option<AlbumInfo>> {
        Ok((req.name == "Homogenic").then(|| AlbumInfo {
            name: req.name,
            description: format!("by {}", req.artist),
            ..AlbumInfo::default()
        }))
    }
}

// artist_mbid is registered but not implemented: it must answer -2.
nd_pdk::register_metadata_agent!(
    Agent,
    [artist_mbid, artist_biography, similar_artists, album_info,]
);

#[derive(Default)]
struct Scrobbles;

impl Scrobbler for Scrobbles {
    fn is_authorized(&self, req: IsAuthorizedRequest) -> Result<bool> {
        Ok(req.username == "alice")
    }

    fn now_playing(&self, req: NowPlayingRequest) -> Result<()> {
        nd_pdk::info!(
            "{} plays {} at {}s",
            req.username,
            req.track.title,
            req.position
        );
        Ok(())
    }

    fn scrobble(&self, req: ScrobbleRequest) -> Result<()> {
        Err(Error::retry_later(format!(
            "service down at {}",
            req.timestamp
        )))
    }
}

nd_pdk::register_scrobbler!(Scrobbles, playback_report);

#[derive(Default)]
struct Words;

impl Lyrics for Words {
    fn get_lyrics(&self, req: LyricsRequest) -> Result<Vec<LyricsText>> {
        Ok(vec![LyricsText {
            lang: String::new(),
            text: format!("[00:01.00]{}", req.track.title),
        }])
    }
}

nd_pdk::register_lyrics!(Words);

#[derive(Default)]
struct Sonic;

impl SonicSimilarity for Sonic {
    fn similar_tracks(&self, req: SonicSimilarRequest) -> Result<Vec<SonicMatch>> {
        Ok(vec![SonicMatch {
            song: req.song,
            similarity: 1.0,
        }])
    }
}

nd_pdk::register_sonic_similarity!(Sonic, [similar_tracks]);

#[derive(Default)]
struct Worker;

impl TaskWorker for Worker {
    fn execute(&self, task: Task) -> Result<String> {
        if task.attempt < 2 {
            return Err(Error::msg("first attempts fail"));
        }
        Ok(format!(
            "{} bytes on attempt {}",
            task.payload.len(),
            task.attempt
        ))
    }
}

nd_pdk::register_task_worker!(Worker);

#[derive(Default)]
struct Plugin;

impl Lifecycle for Plugin {
    fn on_init(&self) -> Result<()> {
        let every = nd_pdk::host::config::get("every")?.unwrap_or_else(|| "1m".to_owned());
        nd_pdk::host::scheduler::schedule_recurring(&format!("@every {every}"), "tick", "tick")?;
        Ok(())
    }
}

impl SchedulerCallback for Plugin {
    fn on_schedule(&self, event: ScheduledEvent) -> Result<()> {
        let n = nd_pdk::host::cache::get_int(&event.schedule_id)?.unwrap_or(0);
        nd_pdk::host::cache::set_int(&event.schedule_id, n + 1, 0)
    }
}

impl WebSocketCallback for Plugin {
    fn on_text_message(&self, msg: TextMessage) -> Result<()> {
        nd_pdk::host::websocket::send_text(&msg.connection_id, &msg.message.to_uppercase())
    }

    fn on_binary_message(&self, msg: BinaryMessage) -> Result<()> {
        nd_pdk::host::websocket::send_binary(&msg.connection_id, &msg.data)
    }
}

nd_pdk::register_lifecycle!(Plugin);
nd_pdk::register_scheduler_callback!(Plugin);
nd_pdk::register_websocket_callback!(Plugin, [on_text_message, on_binary_message]);

#[derive(serde::Deserialize)]
struct SumInput {
    values: Vec<i64>,
}

fn sum(input: SumInput) -> Result<i64> {
    Ok(input.values.iter().sum())
}

fn nothing(_: Value) -> Result<()> {
    Ok(())
}

fn echo(input: &[u8]) -> Result<Vec<u8>> {
    Ok(input.to_vec())
}

nd_pdk::register_export!(sum_values, sum);
nd_pdk::register_export!(do_nothing, nothing);
nd_pdk::register_raw_export!(echo_bytes, echo);

#[track_caller]
fn success(outcome: &ExportOutcome) -> Value {
    assert_eq!((outcome.rc, &outcome.error), (0, &None), "{outcome:?}");
    outcome.json()
}

#[test]
fn metadata_exports_answer_in_navidromes_shapes() {
    testing::reset();
    let bio = call_export(
        nd_get_artist_biography,
        r#"{"id":"1","name":"Björk","mbid":"m-1"}"#,
    );
    assert_eq!(success(&bio), json!({"biography": "Björk (mbid \"m-1\")"}));

    // "Not found" is empty output, not a failure.
    let none = call_export(nd_get_artist_biography, r#"{"id":"1","name":""}"#);
    assert_eq!(success(&none), Value::Null);

    let failed = call_export(nd_get_artist_biography, r#"{"id":"1","name":"fail"}"#);
    assert_eq!(failed.rc, -1);
    assert_eq!(failed.error.as_deref(), Some("upstream answered 503"));
    assert!(failed.output.is_empty());

    // Registered but left to the trait's default: -2 without a message.
    let mbid = call_export(nd_get_artist_mbid, r#"{"id":"1","name":"Björk"}"#);
    assert_eq!(
        mbid,
        ExportOutcome {
            rc: -2,
            output: Vec::new(),
            error: None
        }
    );

    let similar = call_export(nd_get_similar_artists, r#"{"id":"1","name":"x","limit":2}"#);
    assert_eq!(
        success(&similar),
        json!({"artists": [{"name": "similar 0"}, {"name": "similar 1"}]})
    );
    let empty = call_export(nd_get_similar_artists, r#"{"id":"1","name":"x","limit":0}"#);
    assert_eq!(success(&empty), json!({"artists": []}));

    let album = call_export(
        nd_get_album_info,
        r#"{"name":"Homogenic","artist":"Björk"}"#,
    );
    assert_eq!(
        success(&album),
        json!({"name": "Homogenic", "mbid": "", "description": "by Björk", "url": ""})
    );
    assert_eq!(
        success(&call_export(nd_get_album_info, r#"{"name":"x"}"#)),
        Value::Null
    );
}

#[test]
fn bad_input_fails_naming_the_export() {
    testing::reset();
    let out = call_export(nd_get_artist_biography, "not json");
    assert_eq!(out.rc, -1);
    let error = out.error.unwrap_or_default();
    assert!(
        error.starts_with("nd_get_artist_biography: invalid input:"),
        "{error}"
    );
    // Empty input reads as `{}`.
    assert_eq!(
        success(&call_export(nd_get_artist_biography, "")),
        Value::Null
    );
}

#[test]
fn scrobbler_exports() {
    testing::reset();
    assert_eq!(
        success(&call_export(
            nd_scrobbler_is_authorized,
            r#"{"username":"alice"}"#
        )),
        json!(true)
    );
    assert_eq!(
        success(&call_export(
            nd_scrobbler_is_authorized,
            r#"{"username":"bob"}"#
        )),
        json!(false)
    );

    let track = json!({"id": "mf-1", "title": "Joga", "artists": [], "albumArtists": []});
    let now = call_export(
        nd_scrobbler_now_playing,
        json!({"username": "alice", "track": track, "position": 12}).to_string(),
    );
    assert_eq!(success(&now), Value::Null);
    assert_eq!(
        testing::logs(),
        [(
            nd_pdk::log::Level::Info,
            "alice plays Joga at 12s".to_owned()
        )]
    );

    let scrobble = call_export(
        nd_scrobbler_scrobble,
        json!({"username": "alice", "track": track, "timestamp": 1700000000}).to_string(),
    );
    assert_eq!(scrobble.rc, -1);
    assert_eq!(
        scrobble.error.as_deref(),
        Some("scrobbler(retry_later): service down at 1700000000")
    );

    let report = call_export(
        nd_scrobbler_playback_report,
        json!({"username": "alice", "track": track, "state": "paused"}).to_string(),
    );
    assert_eq!((report.rc, report.error), (-2, None));
}

#[test]
fn lyrics_sonic_and_task_exports() {
    testing::reset();
    let lyrics = call_export(
        nd_lyrics_get_lyrics,
        r#"{"track":{"id":"1","title":"Joga"}}"#,
    );
    assert_eq!(
        success(&lyrics),
        json!({"lyrics": [{"text": "[00:01.00]Joga"}]})
    );

    let sonic = call_export(
        nd_get_sonic_similar_tracks,
        r#"{"song":{"name":"Joga"},"count":1}"#,
    );
    assert_eq!(
        success(&sonic),
        json!({"matches": [{"song": {"name": "Joga"}, "similarity": 1.0}]})
    );

    let first = call_export(
        nd_task_execute,
        r#"{"queueName":"q","taskId":"t","payload":"aGk=","attempt":1}"#,
    );
    assert_eq!(
        (first.rc, first.error.as_deref()),
        (-1, Some("first attempts fail"))
    );
    let second = call_export(
        nd_task_execute,
        r#"{"queueName":"q","taskId":"t","payload":"aGk=","attempt":2}"#,
    );
    // The message is a JSON string.
    assert_eq!(second.output, br#""2 bytes on attempt 2""#);
}

#[test]
fn lifecycle_scheduler_and_websocket_exports_use_the_host() {
    testing::reset();
    testing::set_config([("every", "5s")]);
    let cache = std::rc::Rc::new(std::cell::RefCell::new(std::collections::BTreeMap::<
        String,
        Value,
    >::new()));
    let state = cache.clone();
    testing::set_host(move |function, req| match function {
        "scheduler_schedulerecurring" => json!({"newScheduleId": req["scheduleId"]}),
        "cache_getint" => match state.borrow().get(req["key"].as_str().unwrap_or_default()) {
            Some(v) => json!({"value": v, "exists": true}),
            None => json!({}),
        },
        "cache_setint" => {
            state.borrow_mut().insert(
                req["key"].as_str().unwrap_or_default().to_owned(),
                req["value"].clone(),
            );
            json!({})
        }
        "websocket_sendtext" | "websocket_sendbinary" => json!({}),
        other => json!({"error": format!("unexpected {other}")}),
    });

    assert_eq!(success(&call_export(nd_on_init, "{}")), Value::Null);
    let calls = testing::host_calls();
    assert_eq!(
        calls.last().map(|c| &c.request),
        Some(&json!({"cronExpression": "@every 5s", "payload": "tick", "scheduleId": "tick"}))
    );

    for _ in 0..2 {
        let fired = call_export(
            nd_scheduler_callback,
            r#"{"scheduleId":"tick","payload":"tick","isRecurring":true}"#,
        );
        success(&fired);
    }
    assert_eq!(cache.borrow().get("tick"), Some(&json!(2)));

    success(&call_export(
        nd_websocket_on_text_message,
        r#"{"connectionId":"c1","message":"hi"}"#,
    ));
    success(&call_export(
        nd_websocket_on_binary_message,
        r#"{"connectionId":"c1","data":"AAE="}"#,
    ));
    let sent: Vec<(String, Value)> = testing::host_calls()
        .into_iter()
        .filter(|c| c.function.starts_with("websocket_"))
        .map(|c| (c.function, c.request))
        .collect();
    assert_eq!(
        sent,
        [
            (
                "websocket_sendtext".to_owned(),
                json!({"connectionId": "c1", "message": "HI"})
            ),
            (
                "websocket_sendbinary".to_owned(),
                json!({"connectionId": "c1", "data": "AAE="})
            ),
        ]
    );

    // A host error surfaces as the export's error, naming the function.
    testing::set_host(|_, _| json!({"error": "schedule ID \"tick\" already exists"}));
    let again = call_export(nd_on_init, "{}");
    assert_eq!(
        again.error.as_deref(),
        Some("scheduler_schedulerecurring: schedule ID \"tick\" already exists")
    );
}

#[test]
fn custom_exports() {
    testing::reset();
    assert_eq!(
        success(&call_export(sum_values, r#"{"values":[1,2,39]}"#)),
        json!(42)
    );
    assert_eq!(
        call_export(do_nothing, ""),
        ExportOutcome {
            rc: 0,
            output: Vec::new(),
            error: None
        }
    );
    assert_eq!(
        call_export(echo_bytes, [0u8, 159, 146, 150]).output,
        [0, 159, 146, 150]
    );
}
