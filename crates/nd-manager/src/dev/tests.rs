//! Unit tests of the module search of development folders.

#![allow(clippy::unwrap_used)]

use super::*;

fn touch(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"\0asm").unwrap();
}

#[test]
fn plugin_wasm_at_the_root_wins() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("my-plugin");
    touch(&folder.join("plugin.wasm"));
    touch(&folder.join("target/wasm32-wasip1/release/my_plugin.wasm"));
    assert_eq!(
        dev_wasm(&folder, "my-plugin").unwrap(),
        folder.join("plugin.wasm")
    );
}

#[test]
fn the_cargo_output_is_found_by_package_name_or_alone() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("folder");
    let release = folder.join("target/wasm32-wasip1/release");
    touch(&release.join("only.wasm"));
    assert_eq!(dev_wasm(&folder, "x").unwrap(), release.join("only.wasm"));

    touch(&release.join("other.wasm"));
    let err = dev_wasm(&folder, "x").unwrap_err();
    assert!(err.contains("several wasm modules"), "{err}");

    std::fs::write(
        folder.join("Cargo.toml"),
        "[package]\nname = \"my-agent\"\nversion = \"0.1.0\"\n\n[lib]\nname = \"ignored\"\n",
    )
    .unwrap();
    touch(&release.join("my_agent.wasm"));
    assert_eq!(
        dev_wasm(&folder, "x").unwrap(),
        release.join("my_agent.wasm")
    );
}

#[test]
fn a_workspace_target_folder_above_is_searched_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("plugins/wiki");
    std::fs::create_dir_all(&folder).unwrap();
    touch(
        &dir.path()
            .join("plugins/target/wasm32-wasip1/release/unrelated.wasm"),
    );
    let err = dev_wasm(&folder, "wiki").unwrap_err();
    assert!(err.contains("no wasm module found"), "{err}");
    assert!(err.contains("wiki.wasm"), "{err}");
    let built = dir
        .path()
        .join("plugins/target/wasm32-wasip1/release/wiki.wasm");
    touch(&built);
    assert_eq!(dev_wasm(&folder, "wiki").unwrap(), built);
}

#[test]
fn package_names_are_read_from_the_package_table_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Cargo.toml");
    std::fs::write(
        &path,
        "[workspace]\nname = \"no\"\n[package]\n  name = 'yes-it-is'\n",
    )
    .unwrap();
    assert_eq!(cargo_package_name(&path).as_deref(), Some("yes-it-is"));
    assert_eq!(cargo_package_name(&dir.path().join("missing")), None);
}
