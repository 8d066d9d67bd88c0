//! Integration tests of the manager over real fixture packages, mirroring Navidrome's
//! plugin test suite (spec §8.2): folder sync rules, state, enable/disable, configuration,
//! scope, metrics, unloading and AutoReload (`lifecycle`); every capability through the
//! typed adapters (`capabilities`); every app-data service over the `nd-library` demo
//! catalog (`appdata`); development folders (`dev`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod appdata;
mod capabilities;
mod dev;
mod env;
mod lifecycle;
