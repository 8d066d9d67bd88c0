//! Integration tests of nd-host-appdata: the `appdata` fixture plugin over the real ABI, with
//! an in-memory application behind the provider traits ([`support`]).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod artwork;
mod config;
mod library;
mod matcher;
mod scrobbles;
mod storage;
mod subsonic;
mod support;
mod users;
