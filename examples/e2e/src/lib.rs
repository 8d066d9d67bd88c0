//! End-to-end tests of the example plugins (`examples/plugins`, written with nd-pdk): each
//! test binary in `tests/` loads a packaged example through `nd_manager::Manager` and drives
//! it through the typed capability adapters against loopback fakes (127.0.0.1 only).
//!
//! This library holds what the tests share: [`example_ndp`], where `cargo xtask
//! test-plugins` (or `cargo xtask test`) puts the packages, and [`fakes`]: the host harness
//! (a started manager over the `nd-library` demo catalog with a manual clock and a
//! 127.0.0.1 allowance, installing packages with `127.0.0.1` added to their
//! `requiredHosts`) and the WebSocket fakes. It is not a test framework for other plugins,
//! and nothing here reaches the network.
//!
//! ```no_run
//! use ndp_examples_e2e::fakes::harness::Harness;
//! use nd_capabilities::types::ArtistRequest;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let host = Harness::new(&nd_runtime::Runtime::new(Default::default())?);
//! let plugin = host.enable("minimal", "minimal", serde_json::json!({}));
//! let agent = plugin.capabilities().metadata_agent().expect("a metadata agent");
//! let request = ArtistRequest { id: "1".into(), name: "Nina Simone".into(), ..Default::default() };
//! println!("{:?}", agent.artist_biography(&request)?);
//! # Ok(()) }
//! ```

pub mod fakes;

use std::path::PathBuf;

/// The packaged example plugin `name` (`target/examples/<name>.ndp`), built by `cargo xtask
/// test-plugins`.
pub fn example_ndp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../target/examples/{name}.ndp"))
}
