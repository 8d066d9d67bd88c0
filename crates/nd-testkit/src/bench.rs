//! Shared pieces of the service benchmarks (`benches/*.rs`, run by `cargo xtask bench`): the
//! command line every one takes, percentiles in the JSON shape xtask reads, and a no-op
//! `test_record` service for fixtures that report through it.

use std::path::PathBuf;

use nd_runtime::{HostImports, HostService, RegisterError};

/// `--fixtures DIR [--rounds N]`.
#[derive(Debug, Clone)]
pub struct BenchArgs {
    /// `target/fixtures/wasm32-wasip1`.
    pub fixtures: PathBuf,
    /// Multiplies iteration counts (at least 1).
    pub rounds: usize,
}

impl BenchArgs {
    /// Reads the process's arguments; panics (failing the bench) when `--fixtures` is missing.
    pub fn parse() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let arg = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        Self {
            fixtures: PathBuf::from(arg("--fixtures").expect("--fixtures DIR")),
            rounds: arg("--rounds")
                .map_or(1, |r| r.parse().expect("--rounds N"))
                .max(1),
        }
    }

    /// Bytes of the fixture `name`.
    pub fn wasm(&self, name: &str) -> Vec<u8> {
        let path = self.fixtures.join(format!("{name}.wasm"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// `{"p50_us", "p99_us", "iters"}` of samples in microseconds.
pub fn percentiles(mut samples: Vec<f64>) -> serde_json::Value {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    serde_json::json!({"p50_us": at(0.5), "p99_us": at(0.99), "iters": samples.len()})
}

/// Prints each case on stderr and the report line xtask reads on stdout.
pub fn report(cases: serde_json::Map<String, serde_json::Value>) {
    for (name, s) in &cases {
        eprintln!(
            "{name:<24} p50 {:>10.2} µs  p99 {:>10.2} µs  ({} samples)",
            s["p50_us"].as_f64().unwrap_or(f64::NAN),
            s["p99_us"].as_f64().unwrap_or(f64::NAN),
            s["iters"]
        );
    }
    println!("{}", serde_json::json!({"runtime": "ndp", "cases": cases}));
}

/// Provides `test_record` (which the scheduler and websocket fixtures import) and ignores
/// what it is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct IgnoreRecords;

impl HostService for IgnoreRecords {
    fn name(&self) -> &'static str {
        "test_record"
    }
    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        imports.json("test_record", |_, _| Ok(serde_json::json!({})));
        Ok(())
    }
}
