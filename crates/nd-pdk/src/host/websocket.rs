//! The WebSocket service (spec §3.8, permission `websocket` with `requiredHosts`): outgoing
//! WebSocket connections kept by the host. Incoming frames, errors and closes arrive at the
//! plugin's callbacks (see [`register_websocket_callback!`](crate::register_websocket_callback)),
//! each in a fresh instance, in order per connection; keep per-connection state in the
//! cache or KV store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ffi::import;
use crate::host::{Empty, call};
use crate::wire::{b64, null_default};

import! {
    fn raw_connect = "websocket_connect";
    fn raw_send_text = "websocket_sendtext";
    fn raw_send_binary = "websocket_sendbinary";
    fn raw_close = "websocket_closeconnection";
}

/// `websocket_connect {url, headers, connectionId}`: opens a `ws`/`wss` connection (30 s
/// handshake timeout) and returns its id. An empty `connection_id` lets the host generate
/// one; a live duplicate is an error.
pub fn connect(
    url: &str,
    headers: &BTreeMap<String, String>,
    connection_id: &str,
) -> Result<String> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        url: &'a str,
        headers: &'a BTreeMap<String, String>,
        connection_id: &'a str,
    }
    #[derive(Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Answer {
        #[serde(deserialize_with = "null_default")]
        new_connection_id: String,
    }
    let request = Request {
        url,
        headers,
        connection_id,
    };
    let answer: Answer = call("websocket_connect", raw_connect, &request)?;
    if answer.new_connection_id.is_empty() {
        return Err(Error::call(
            "websocket_connect",
            "the host returned no connection id",
        ));
    }
    Ok(answer.new_connection_id)
}

/// `websocket_sendtext {connectionId, message}`: sends a text frame.
pub fn send_text(connection_id: &str, message: &str) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        connection_id: &'a str,
        message: &'a str,
    }
    let _: Empty = call(
        "websocket_sendtext",
        raw_send_text,
        &Request {
            connection_id,
            message,
        },
    )?;
    Ok(())
}

/// `websocket_sendbinary {connectionId, data}`: sends a binary frame.
pub fn send_binary(connection_id: &str, data: &[u8]) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        connection_id: &'a str,
        #[serde(with = "b64")]
        data: &'a [u8],
    }
    let _: Empty = call(
        "websocket_sendbinary",
        raw_send_binary,
        &Request {
            connection_id,
            data,
        },
    )?;
    Ok(())
}

/// `websocket_closeconnection {connectionId, code, reason}`: sends a close frame and forgets
/// the connection. The host calls `nd_websocket_on_close` before this returns (in another
/// instance of the plugin).
pub fn close(connection_id: &str, code: i32, reason: &str) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        connection_id: &'a str,
        code: i32,
        reason: &'a str,
    }
    let request = Request {
        connection_id,
        code,
        reason,
    };
    let _: Empty = call("websocket_closeconnection", raw_close, &request)?;
    Ok(())
}
