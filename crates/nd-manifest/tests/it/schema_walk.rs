//! Every file named `manifest.json` in the repository must satisfy the shipped schema and
//! `Manifest::parse`: the fixtures under `fixtures/plugins/*/` as well as this crate's own
//! `test_data/plugins/*/`. Directories named `target`, `.git` or `node_modules` are
//! skipped, and so is any path with a component containing `invalid` (the place for
//! deliberately broken fixtures).

use std::fs;
use std::path::{Path, PathBuf};

use nd_manifest::{MANIFEST_SCHEMA, Manifest};
use serde_json::Value;

use crate::test_data;

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            if !matches!(name.as_ref(), "target" | ".git" | "node_modules")
                && !name.contains("invalid")
            {
                walk(&entry.path(), found);
            }
        } else if kind.is_file() && name == "manifest.json" {
            found.push(entry.path());
        }
    }
}

#[test]
fn every_manifest_in_the_repository_is_valid() {
    let schema: Value = serde_json::from_str(MANIFEST_SCHEMA).expect("the schema is json");
    let validator = jsonschema::options()
        .offline()
        .build(&schema)
        .expect("the schema compiles");

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut found = Vec::new();
    walk(&root, &mut found);
    found.sort();

    let mut failures = Vec::new();
    for path in &found {
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                failures.push(format!("{shown}: {err}"));
                continue;
            }
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(value) => {
                for err in validator.iter_errors(&value) {
                    failures.push(format!("{shown}: schema: {}: {err}", err.instance_path()));
                }
            }
            Err(err) => failures.push(format!("{shown}: not json: {err}")),
        }
        if let Err(err) = Manifest::parse(&bytes) {
            failures.push(format!("{shown}: {err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // At least our own test data was found (fixtures may not exist yet).
    let own = fs::read_dir(test_data().join("plugins"))
        .expect("test_data/plugins")
        .count();
    let found_own = found
        .iter()
        .filter(|p| {
            p.to_string_lossy()
                .contains("nd-manifest/test_data/plugins/")
        })
        .count();
    assert!(own >= 10, "test_data/plugins has {own} entries");
    assert_eq!(
        found_own, own,
        "walk found {found_own} of our {own} manifests: {found:#?}"
    );
}

#[test]
fn the_schema_is_a_valid_2020_12_schema() {
    let schema: Value = serde_json::from_str(MANIFEST_SCHEMA).expect("json");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(jsonschema::draft202012::meta::is_valid(&schema));
}
