//! Integration tests of nd-host-ws: the fixture plugin over the real ABI, against WebSocket
//! servers the tests start on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod websocket;
