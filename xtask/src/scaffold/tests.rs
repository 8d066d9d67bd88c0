//! The scaffold builds, passes its own tests, packs, and runs on the host, out of the box:
//! `cargo xtask new-plugin demo-check --dir <tmp> && cargo xtask package <tmp>`.

use std::path::Path;

use nd_runtime::{PluginConfig, Runtime, RuntimeConfig};
use serde_json::{Value, json};

use super::*;
use crate::{root, wasm};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_scaffolded_plugin_builds_packs_passes_its_tests_and_runs() {
    let root = root();
    let tmp = tempfile::tempdir().unwrap();
    // The folder's name does not matter: the package name is the plugin id.
    let dir = tmp.path().join("some-folder");
    let dir_arg = dir.to_string_lossy().into_owned();

    crate::run(args(&["new-plugin", "demo-check", "--dir", &dir_arg])).unwrap();
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "manifest.json",
        "README.md",
        ".gitignore",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    crate::run(args(&["package", &dir_arg])).unwrap();

    let ndp = dir.join("target").join("demo-check.ndp");
    let bytes = std::fs::read(&ndp).unwrap();
    let package =
        nd_manifest::Package::from_bytes("demo-check", &bytes, &Default::default()).unwrap();
    assert_eq!(package.manifest.name, "demo-check");
    let info = wasm::ModuleInfo::parse(&package.wasm).unwrap();
    // Exactly the registered method, and no Navidrome host function (no permission needed).
    assert_eq!(info.function_exports(), ["nd_get_artist_biography"]);
    assert!(
        info.imports.iter().all(|i| i.module != "extism:host/user"),
        "{:?}",
        info.imports
    );

    // Its own tests, natively.
    crate::plugins::cargo_test(&root, &dir.join("Cargo.toml"), false).unwrap();

    // And on the host, with its configuration.
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let mut config = PluginConfig::new("demo-check");
    config.config.insert("greeting".into(), "Hey".into());
    let plugin = runtime.load_wasm(&package.wasm, config).unwrap();
    let out = plugin
        .call(
            "nd_get_artist_biography",
            r#"{"id":"1","name":"Björk"}"#.as_bytes(),
        )
        .unwrap();
    let out: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(out, json!({"biography": "Hey: Björk is in your library."}));

    // `--out` puts the package elsewhere.
    let elsewhere = tmp.path().join("out").join("renamed.ndp");
    crate::run(args(&[
        "package",
        &dir_arg,
        "--out",
        &elsewhere.to_string_lossy(),
    ]))
    .unwrap();
    assert!(elsewhere.is_file());
}

#[test]
fn inside_examples_the_scaffold_joins_the_workspace() {
    // A stand-in repository, so that the real examples workspace is left alone.
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path();
    std::fs::create_dir_all(fake.join("examples/plugins")).unwrap();
    std::fs::create_dir_all(fake.join("crates/nd-pdk")).unwrap();
    let scaffold = new_plugin(fake, "my_agent", None).unwrap();
    assert!(scaffold.in_examples);
    assert_eq!(
        scaffold.dir,
        std::fs::canonicalize(fake.join("examples/plugins/my_agent")).unwrap()
    );
    let cargo_toml = std::fs::read_to_string(scaffold.dir.join("Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains("nd-pdk.workspace = true"),
        "{cargo_toml}"
    );
    assert!(!scaffold.dir.join(".gitignore").exists());
    let lib = std::fs::read_to_string(scaffold.dir.join("src/lib.rs")).unwrap();
    assert!(lib.contains("pub struct MyAgent;"), "{lib}");

    // Outside it, a standalone workspace pointing at crates/nd-pdk.
    let standalone = new_plugin(fake, "solo", Some(&fake.join("elsewhere/solo"))).unwrap();
    assert!(!standalone.in_examples);
    let cargo_toml = std::fs::read_to_string(standalone.dir.join("Cargo.toml")).unwrap();
    let nd_pdk = std::fs::canonicalize(fake.join("crates/nd-pdk")).unwrap();
    assert!(
        cargo_toml.contains(&format!("nd-pdk = {{ path = \"{}\" }}", nd_pdk.display())),
        "{cargo_toml}"
    );
    assert!(cargo_toml.contains("\n[workspace]\n"), "{cargo_toml}");
}

#[test]
fn bad_names_and_occupied_folders_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root();
    for name in ["Demo", "9lives", "a b", "../up", "x.", ""] {
        let err = new_plugin(&root, name, Some(&tmp.path().join("x"))).unwrap_err();
        assert!(format!("{err:#}").contains(name), "{name}: {err:#}");
    }
    let occupied = tmp.path().join("occupied");
    std::fs::create_dir_all(&occupied).unwrap();
    std::fs::write(occupied.join("keep.txt"), "x").unwrap();
    let err = new_plugin(&root, "fine", Some(&occupied)).unwrap_err();
    assert!(err.to_string().contains("is not empty"), "{err}");
    assert_eq!(type_name("demo-check_two"), "DemoCheckTwo");
    assert!(Path::new(&root).join("crates/nd-pdk").is_dir());
}
