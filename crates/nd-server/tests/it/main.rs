//! Integration tests of `nd-server` over a real manager with real fixture plugins and the
//! nd-library demo catalog, called with a real HTTP client on 127.0.0.1: the server's life
//! cycle and authentication (`server`), the admin API (`admin`), the capability endpoints
//! (`capabilities`) and the Prometheus exposition (`metrics`). The admin page in a real
//! browser is `tests/browser.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod admin;
mod capabilities;
mod metrics;
mod server;
