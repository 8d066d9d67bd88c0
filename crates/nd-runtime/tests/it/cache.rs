//! The on-disk compilation cache: hits, corrupt and foreign entries, eviction.

use std::fs;
use std::path::Path;

use nd_runtime::{PluginConfig, Runtime, RuntimeConfig};

use crate::support::*;

fn runtime_with_cache(dir: &Path, max: Option<u64>) -> Runtime {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(dir.to_owned()),
        cache_max_bytes: max,
    })
    .unwrap()
}

fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ndpc"))
        .collect();
    v.sort();
    v
}

#[test]
fn second_compile_comes_from_the_cache_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = fixture_wasm("kernel", WASI);
    let rt = runtime_with_cache(dir.path(), None);
    assert!(!rt.compile("k", &wasm).unwrap().from_cache());
    assert_eq!(entries(dir.path()).len(), 1);
    // A new runtime (a restart) finds the entry.
    let rt = runtime_with_cache(dir.path(), None);
    let compiled = rt.compile("k", &wasm).unwrap();
    assert!(compiled.from_cache());
    let p = rt.load(&compiled, PluginConfig::new("k")).unwrap();
    assert_eq!(ok(&p, "echo", b"cached"), b"cached");
}

#[test]
fn corrupt_or_truncated_entries_are_recompiled_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = fixture_wasm("kernel", UNKNOWN);
    runtime_with_cache(dir.path(), None)
        .compile("k", &wasm)
        .unwrap();
    let entry = entries(dir.path()).remove(0);
    let good = fs::read(&entry).unwrap();

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55; // one bit pattern in the machine code
    let truncated = good[..good.len() / 3].to_vec();
    for (what, bytes) in [
        ("flipped", flipped),
        ("truncated", truncated),
        ("garbage", b"hello".to_vec()),
        ("empty", vec![]),
    ] {
        fs::write(&entry, &bytes).unwrap();
        let rt = runtime_with_cache(dir.path(), None);
        let compiled = rt.compile("k", &wasm).unwrap();
        assert!(!compiled.from_cache(), "{what} entry was trusted");
        let p = rt.load(&compiled, PluginConfig::new("k")).unwrap();
        assert_eq!(ok(&p, "echo", what.as_bytes()), what.as_bytes());
        // The bad entry was replaced by a good one.
        assert!(
            runtime_with_cache(dir.path(), None)
                .compile("k", &wasm)
                .unwrap()
                .from_cache(),
            "{what}"
        );
    }
}

#[test]
fn an_entry_for_another_module_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let a = fixture_wasm("kernel", UNKNOWN);
    let b = fixture_wasm("ndhost", UNKNOWN);
    let rt = runtime_with_cache(dir.path(), None);
    rt.compile("a", &a).unwrap();
    let entry_a = entries(dir.path()).remove(0);
    rt.compile("b", &b).unwrap();
    let entry_b = entries(dir.path())
        .into_iter()
        .find(|p| *p != entry_a)
        .unwrap();
    // Put a's artifact under b's name: the header names another module.
    fs::copy(&entry_a, &entry_b).unwrap();
    let compiled = runtime_with_cache(dir.path(), None)
        .compile("b", &b)
        .unwrap();
    assert!(!compiled.from_cache());
    assert!(compiled.exports().contains(&"use_cache".to_owned()));
}

#[test]
fn the_cache_is_capped_least_recently_used_first() {
    let dir = tempfile::tempdir().unwrap();
    let modules = [
        fixture_wasm("kernel", UNKNOWN),
        fixture_wasm("hostfns", UNKNOWN),
        fixture_wasm("ndhost", UNKNOWN),
        wat_fixture("errors"),
    ];
    let rt = runtime_with_cache(dir.path(), None);
    let mut size = Vec::new();
    let mut sha = Vec::new();
    for (i, m) in modules.iter().enumerate() {
        sha.push(rt.compile(&i.to_string(), m).unwrap().sha256().to_owned());
        let entry = entries(dir.path())
            .into_iter()
            .find(|p| p.to_string_lossy().contains(&sha[i]))
            .unwrap();
        size.push(fs::metadata(entry).unwrap().len());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Start over with the first three entries, capped so that the fourth evicts exactly one.
    let last = entries(dir.path())
        .into_iter()
        .find(|p| p.to_string_lossy().contains(&sha[3]))
        .unwrap();
    fs::remove_file(last).unwrap();
    let cap = size[0] + size[2] + size[3] + size[1] / 2;
    let rt = runtime_with_cache(dir.path(), Some(cap));
    // A hit refreshes entry 0, so entry 1 becomes the least recently used.
    assert!(rt.compile("0", &modules[0]).unwrap().from_cache());
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(!rt.compile("3", &modules[3]).unwrap().from_cache());
    let names: Vec<String> = entries(dir.path())
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let present = |i: usize| names.iter().any(|n| n.contains(&sha[i]));
    assert!(present(0) && present(2) && present(3), "{names:?}");
    assert!(
        !present(1),
        "the least recently used entry was kept: {names:?}"
    );
    let total: u64 = entries(dir.path())
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= cap);
}

#[test]
fn invalid_wasm_is_a_compile_error_naming_the_plugin() {
    let e = runtime()
        .compile("broken", b"\0asm\x01\0\0\0garbage")
        .unwrap_err()
        .to_string();
    assert!(e.contains("broken") && e.contains("invalid wasm"), "{e}");
    let e = runtime()
        .compile("text", b"not wasm at all")
        .unwrap_err()
        .to_string();
    assert!(e.contains("text"), "{e}");
}
