//! Integration tests of nd-manifest: data-driven manifest cases (`test_data/`, checked with
//! expect-test; refresh with `UPDATE_EXPECT=1`), `.ndp` reading against real and hostile
//! zips, and the repository-wide check of every `manifest.json` against the schema.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod data_driven;
mod package;
mod raw_zip;
mod schema_walk;

use std::path::{Path, PathBuf};

/// `crates/nd-manifest/test_data`.
fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data")
}
