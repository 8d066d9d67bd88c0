//! Runs the example over a folder holding the fixture agents and checks what it prints.

#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn asks_every_metadata_agent_for_a_biography() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(plugins.join("agent.ndp"), nd_testkit::fixture_ndp("agent")).unwrap();
    std::fs::write(
        plugins.join("partial.ndp"),
        nd_testkit::fixture_ndp("partialagent"),
    )
    .unwrap();
    std::fs::write(plugins.join("cache.ndp"), nd_testkit::fixture_ndp("cache")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ndp-example-embedding"))
        .arg(&plugins)
        .arg(dir.path().join("data"))
        .arg("Björk")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "agent: Biography for Björk",
            "partial: Partial agent biography for Björk"
        ],
        "the cache plugin is not a metadata agent"
    );
}
