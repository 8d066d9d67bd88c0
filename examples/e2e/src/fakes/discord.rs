//! A fake Discord gateway: the part of the gateway protocol (v10, JSON encoding) a rich
//! presence client uses, on 127.0.0.1.
//!
//! - On connect it sends Hello (`op 10`, `heartbeat_interval` 41250 ms).
//! - It answers Identify (`op 2`) with a READY dispatch (`op 0`, sequence 1).
//! - It answers every Heartbeat (`op 1`) with a Heartbeat ACK (`op 11`).
//! - It records everything, in particular Presence Updates (`op 3`).
//!
//! A test can also push dispatches with other sequence numbers ([`Gateway::dispatch`]), ask
//! for an immediate heartbeat as the real gateway may ([`Gateway::request_heartbeat`]), and
//! close or drop a connection.

use serde_json::{Value, json};

use crate::fakes::ws::{Script, WsEvent, WsServer};

/// The heartbeat interval the fake announces in Hello, in milliseconds.
pub const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

/// Gateway opcodes (Discord's names).
pub mod op {
    /// Dispatch (server → client), carries a sequence number.
    pub const DISPATCH: i64 = 0;
    /// Heartbeat (both directions: a client heartbeat, or the server asking for one).
    pub const HEARTBEAT: i64 = 1;
    /// Identify (client → server).
    pub const IDENTIFY: i64 = 2;
    /// Presence Update (client → server).
    pub const PRESENCE_UPDATE: i64 = 3;
    /// Hello (server → client).
    pub const HELLO: i64 = 10;
    /// Heartbeat ACK (server → client).
    pub const HEARTBEAT_ACK: i64 = 11;
}

struct GatewayScript;

impl Script for GatewayScript {
    fn on_connect(&self, _conn: usize) -> Vec<String> {
        vec![
            json!({"op": op::HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS},
                   "s": null, "t": null})
            .to_string(),
        ]
    }

    fn on_text(&self, conn: usize, text: &str) -> Vec<String> {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            return Vec::new();
        };
        match frame["op"].as_i64() {
            Some(op::IDENTIFY) => vec![
                json!({"op": op::DISPATCH, "t": "READY", "s": 1, "d": {
                    "v": 10,
                    "session_id": format!("fake-session-{conn}"),
                    "user": {"id": "80351110224678912", "username": "fake"},
                }})
                .to_string(),
            ],
            Some(op::HEARTBEAT) => {
                vec![json!({"op": op::HEARTBEAT_ACK, "d": null, "s": null, "t": null}).to_string()]
            }
            _ => Vec::new(),
        }
    }
}

/// A client frame, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The connection it arrived on.
    pub conn: usize,
    /// The whole JSON frame.
    pub json: Value,
}

impl Frame {
    /// The frame's opcode (`-1` when it has none).
    pub fn op(&self) -> i64 {
        self.json["op"].as_i64().unwrap_or(-1)
    }

    /// The frame's data (`d`).
    pub fn d(&self) -> &Value {
        &self.json["d"]
    }
}

/// A running fake gateway.
#[derive(Debug)]
pub struct Gateway {
    server: WsServer,
}

impl Gateway {
    /// Starts the fake on 127.0.0.1 with a port the OS picks.
    pub fn start() -> Self {
        Gateway {
            server: WsServer::start(GatewayScript),
        }
    }

    /// The URL clients connect to, as Discord spells it: `ws://127.0.0.1:<port>/?v=10&encoding=json`.
    pub fn url(&self) -> String {
        self.server.url("/?v=10&encoding=json")
    }

    /// The underlying server (events, connection count, refusals).
    pub fn server(&self) -> &WsServer {
        &self.server
    }

    /// Every client frame that was JSON, in order (other text is ignored).
    pub fn frames(&self) -> Vec<Frame> {
        frames(&self.server.events())
    }

    /// The client frames with opcode `op`.
    pub fn frames_with_op(&self, op: i64) -> Vec<Frame> {
        self.frames().into_iter().filter(|f| f.op() == op).collect()
    }

    /// Waits for the `n`-th (from 1) client frame with opcode `op` and returns it.
    ///
    /// # Panics
    ///
    /// After [`crate::fakes::ws::WAIT`].
    pub fn wait_op(&self, op: i64, n: usize) -> Frame {
        self.wait_frame(
            &format!("client frame #{n} with op {op}"),
            |f| f.op() == op,
            n,
        )
    }

    /// Waits for the `n`-th (from 1) client frame for which `matches` holds.
    ///
    /// # Panics
    ///
    /// After [`crate::fakes::ws::WAIT`], naming `what`.
    pub fn wait_frame(&self, what: &str, matches: impl Fn(&Frame) -> bool, n: usize) -> Frame {
        self.server.wait_for(what, |events| {
            frames(events)
                .into_iter()
                .filter(|f| matches(f))
                .nth(n.saturating_sub(1))
        })
    }

    /// Waits until the client closes `conn` (or the connection ends without a close frame)
    /// and returns the close code (`None` without one) and reason.
    ///
    /// # Panics
    ///
    /// After [`crate::fakes::ws::WAIT`].
    pub fn wait_client_close(&self, conn: usize) -> (Option<u16>, String) {
        self.server.wait_for(
            &format!("the client to close connection {conn}"),
            |events| {
                events.iter().find_map(|e| match e {
                    WsEvent::ClientClosed {
                        conn: c,
                        code,
                        reason,
                    } if *c == conn => Some((*code, reason.clone())),
                    WsEvent::Gone { conn: c, error } if *c == conn => {
                        Some((None, format!("gone: {error}")))
                    }
                    _ => None,
                })
            },
        )
    }

    /// Sends a dispatch event `t` with sequence number `seq` on `conn`.
    pub fn dispatch(&self, conn: usize, seq: i64, t: &str) {
        self.server.send_text(
            conn,
            &json!({"op": op::DISPATCH, "t": t, "s": seq, "d": {}}).to_string(),
        );
    }

    /// Asks the client on `conn` for an immediate heartbeat (`op 1` from the server).
    pub fn request_heartbeat(&self, conn: usize) {
        self.server.send_text(
            conn,
            &json!({"op": op::HEARTBEAT, "d": null, "s": null, "t": null}).to_string(),
        );
    }

    /// Closes `conn` from the gateway side.
    pub fn close(&self, conn: usize, code: u16, reason: &str) {
        self.server.close(conn, code, reason);
    }
}

fn frames(events: &[WsEvent]) -> Vec<Frame> {
    events
        .iter()
        .filter_map(|e| match e {
            WsEvent::Text { conn, text } => serde_json::from_str(text)
                .ok()
                .map(|json| Frame { conn: *conn, json }),
            _ => None,
        })
        .collect()
}
