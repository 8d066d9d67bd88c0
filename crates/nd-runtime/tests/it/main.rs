//! Integration tests of nd-runtime through its public API, on real fixture plugins built from
//! source with the official extism-pdk (`cargo xtask build-plugins`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod cache;
mod calls;
mod concurrency;
mod coverage;
mod differential;
mod host;
mod http;
mod kernel_abi;
mod limits;
mod logs;
mod support;
mod wasi;
