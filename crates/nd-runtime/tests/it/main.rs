//! Integration tests of nd-runtime through its public API, on real fixture plugins built from
//! source with the official extism-pdk (`cargo xtask build-plugins`).

mod support;
mod calls;
