//! Every `test_data/manifests/*.json` is parsed and rendered next to its `*.txt`; every
//! `test_data/plugins/<name>/manifest.json` next to `<name>/expected.txt`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use expect_test::expect_file;
use nd_manifest::{Manifest, Parsed, schema_problems};
use serde_json::Value;

use crate::test_data;

/// What a case shows: the parse result, warnings, permissions, canonical JSON, and the
/// schema's verdict on the same bytes.
fn render(bytes: &[u8]) -> String {
    let mut out = String::new();
    match Manifest::parse(bytes) {
        Ok(Parsed { manifest, warnings }) => {
            let _ = writeln!(
                out,
                "ok: {} {} by {}",
                manifest.name, manifest.version, manifest.author
            );
            let _ = writeln!(out, "warnings: {}", warnings.len());
            for warning in &warnings {
                let _ = writeln!(out, "  {warning}");
            }
            let _ = writeln!(out, "permissions:");
            for p in manifest.permissions.iter() {
                let details: Vec<String> =
                    p.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let line = format!(
                    "  {} reason={:?} {}",
                    p.key,
                    p.reason.unwrap_or(""),
                    details.join(" ")
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
            let _ = writeln!(out, "canonical json:\n{:#}", manifest.to_json());
            // The canonical form parses back to the same manifest.
            match Manifest::from_value(&manifest.to_json()) {
                Ok(again) => {
                    assert_eq!(again.manifest, manifest, "round trip changed the manifest")
                }
                Err(err) => panic!("canonical json does not parse: {err}"),
            }
        }
        Err(err) => {
            let _ = writeln!(out, "error: {err}");
        }
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => {
            let problems = schema_problems(&value);
            if problems.is_empty() {
                let _ = writeln!(out, "schema: valid");
            } else {
                let plural = if problems.len() == 1 { "" } else { "s" };
                let _ = writeln!(out, "schema: {} problem{plural}", problems.len());
                for p in &problems {
                    let path = if p.path.is_empty() {
                        "(document)"
                    } else {
                        &p.path
                    };
                    let _ = writeln!(out, "  {path}: {}", p.message);
                }
            }
        }
        Err(_) => {
            let _ = writeln!(out, "schema: not json");
        }
    }
    out
}

fn check(input: &Path, expected: &Path) {
    let bytes = fs::read(input).unwrap_or_else(|err| panic!("{}: {err}", input.display()));
    expect_file![expected.to_path_buf()].assert_eq(&render(&bytes));
}

fn sorted_dir(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.map(|e| e.path()).unwrap_or_default())
        .collect();
    paths.sort();
    paths
}

#[test]
fn manifests() {
    let dir = test_data().join("manifests");
    let mut cases = 0;
    for path in sorted_dir(&dir) {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                check(&path, &path.with_extension("txt"));
                cases += 1;
                // The file name says what to expect.
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                let bytes = fs::read(&path).unwrap_or_default();
                assert_eq!(
                    Manifest::parse(&bytes).is_ok(),
                    name.starts_with("ok-"),
                    "{name}"
                );
            }
            Some("txt") => assert!(
                path.with_extension("json").exists(),
                "stale expectation {}",
                path.display()
            ),
            _ => panic!("unexpected file {}", path.display()),
        }
    }
    assert!(cases >= 25, "only {cases} cases");
}

#[test]
fn plugins() {
    let mut cases = 0;
    for dir in sorted_dir(&test_data().join("plugins")) {
        check(&dir.join("manifest.json"), &dir.join("expected.txt"));
        let bytes = fs::read(dir.join("manifest.json")).unwrap_or_default();
        assert!(Manifest::parse(&bytes).is_ok(), "{}", dir.display());
        cases += 1;
    }
    assert!(cases >= 10);
}

#[test]
fn five_problems_are_all_reported_with_paths() {
    let bytes = fs::read(test_data().join("manifests/err-five-problems.json")).unwrap_or_default();
    let err = Manifest::parse(&bytes).expect_err("invalid");
    let problems = err.validation_errors().expect("a list of problems");
    let paths: Vec<&str> = problems.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/name",
            "/version",
            "/permissions/kvstore/maxSize",
            "/permissions/taskqueue/maxConcurrency",
            "/permissions/subsonicapi"
        ]
    );
    // One problem per line, each with its fix.
    let text = err.to_string();
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(
        text.lines().skip(1).all(|line| line.contains("(fix: ")),
        "{text}"
    );
}
