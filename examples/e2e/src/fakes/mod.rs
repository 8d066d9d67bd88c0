//! Loopback fakes of the services the example plugins talk to, and the host harness of
//! their end-to-end tests. Everything binds 127.0.0.1 with a port the OS picks; nothing
//! reaches the network.
//!
//! - [`ws`]: a scripted WebSocket server (tungstenite) that records every frame and lets a
//!   test push frames, close or drop connections and refuse handshakes;
//! - [`price_feed`]: an exchange ticker feed on top of it (crypto-ticker);
//! - [`discord`]: a Discord gateway on top of it: Hello, READY after Identify, heartbeat
//!   ACKs, recorded presence updates (discord-rich-presence);
//! - [`harness`]: a started manager with the demo catalog, a 127.0.0.1 allowance and a
//!   manual clock, and installation of example packages with `127.0.0.1` added to their
//!   `requiredHosts`.
//!
//! HTTP endpoints (webhook receivers, Discord's REST API) are `nd_testkit::http_server`
//! servers created by the tests themselves.
//!
//! Helpers panic instead of returning errors: a failing helper is a failing test.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ndp_examples_e2e::fakes::discord::{Gateway, op};
//! use ndp_examples_e2e::fakes::harness::Harness;
//!
//! let gateway = Gateway::start();
//! let host = Harness::new(&nd_runtime::Runtime::new(Default::default())?);
//! // … enable a plugin configured with `gateway.url()`, call it, then:
//! let identify = gateway.wait_op(op::IDENTIFY, 1);
//! assert_eq!(identify.d()["token"], "alice-token");
//! host.advance(41); // the heartbeat schedule fires
//! gateway.wait_op(op::HEARTBEAT, 1);
//! # Ok(()) }
//! ```

pub mod discord;
pub mod harness;
pub mod price_feed;
pub mod ws;

#[cfg(test)]
mod tests;
