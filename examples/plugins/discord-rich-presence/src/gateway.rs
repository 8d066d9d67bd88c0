//! The Discord gateway messages the plugin sends and reads (gateway v10, JSON encoding).

use serde::{Deserialize, Serialize};
use serde_json::json;

/// Gateway opcodes.
pub mod op {
    /// An event, with a sequence number.
    pub const DISPATCH: i64 = 0;
    /// A heartbeat (sent by the client, or asked for by the gateway).
    pub const HEARTBEAT: i64 = 1;
    /// Identify (client).
    pub const IDENTIFY: i64 = 2;
    /// Presence Update (client).
    pub const PRESENCE_UPDATE: i64 = 3;
    /// Reconnect (gateway): the client should reconnect.
    pub const RECONNECT: i64 = 7;
    /// Invalid Session (gateway).
    pub const INVALID_SESSION: i64 = 9;
    /// Hello (gateway): carries the heartbeat interval.
    pub const HELLO: i64 = 10;
}

/// The fields of a gateway message the plugin reads.
#[derive(Deserialize)]
pub struct Message {
    pub op: i64,
    #[serde(default)]
    pub s: Option<i64>,
    #[serde(default)]
    pub t: Option<String>,
}

/// Identify (`op 2`) with a user token.
pub fn identify(token: &str) -> String {
    json!({
        "op": op::IDENTIFY,
        "d": {
            "token": token,
            "intents": 0,
            "properties": {"os": "linux", "browser": "ndp", "device": "ndp"},
        },
    })
    .to_string()
}

/// Heartbeat (`op 1`) with the last sequence number, `null` before the first.
pub fn heartbeat(seq: Option<i64>) -> String {
    json!({"op": op::HEARTBEAT, "d": seq}).to_string()
}

/// What the presence shows ("Listening to").
pub struct Activity<'a> {
    pub application_id: &'a str,
    /// The first line: the track title.
    pub details: &'a str,
    /// The second line: the artist.
    pub state: &'a str,
    /// Unix milliseconds.
    pub start: i64,
    /// Unix milliseconds.
    pub end: i64,
    /// An `mp:` media-proxy path or an image URL.
    pub large_image: &'a str,
    /// Shown over the image: the album.
    pub large_text: &'a str,
}

#[derive(Serialize)]
struct ActivityJson<'a> {
    name: &'static str,
    #[serde(rename = "type")]
    kind: i32,
    details: &'a str,
    state: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    application_id: &'a str,
    timestamps: Timestamps,
    assets: Assets<'a>,
}

#[derive(Serialize)]
struct Timestamps {
    start: i64,
    end: i64,
}

#[derive(Serialize)]
struct Assets<'a> {
    large_image: &'a str,
    large_text: &'a str,
}

/// Presence Update (`op 3`) showing `activity`, or clearing the presence with `None`.
pub fn presence(activity: Option<&Activity<'_>>) -> String {
    let activities: Vec<ActivityJson<'_>> = activity
        .map(|a| ActivityJson {
            name: "Navidrome",
            kind: 2,
            details: a.details,
            state: a.state,
            application_id: a.application_id,
            timestamps: Timestamps {
                start: a.start,
                end: a.end,
            },
            assets: Assets {
                large_image: a.large_image,
                large_text: a.large_text,
            },
        })
        .into_iter()
        .collect();
    json!({
        "op": op::PRESENCE_UPDATE,
        "d": {"since": 0, "activities": activities, "status": "online", "afk": false},
    })
    .to_string()
}
