//! Integration tests of nd-host-store: real fixture plugins over the real ABI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cache;
mod kvstore;
