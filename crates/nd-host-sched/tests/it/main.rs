//! Integration tests of nd-host-sched: real fixture plugins over the real ABI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod scheduler;
mod taskqueue;
