//! Development folders: a plugin read straight from the folder its author builds it in,
//! instead of from a `.ndp` file in the plugins folder (`ndp dev`, [`Manager::link_dev`]).
//!
//! The folder holds `manifest.json`; the module is the explicit one recorded at link time,
//! else `plugin.wasm` at the folder root, else the cargo build output for `wasm32-wasip1`
//! (see [`dev_wasm`]). Every read packs the two into a package with
//! [`nd_manifest::pack`], so a dev plugin goes through exactly the checks a `.ndp` file
//! does, and its SHA-256 (of the packed bytes, which `pack` makes deterministic) tells a
//! rebuild from an unchanged module.
//!
//! [`Manager::link_dev`]: crate::Manager::link_dev

use std::path::{Path, PathBuf};

use nd_manifest::{MANIFEST_ENTRY, WASM_ENTRY, pack};

use crate::state::DevLink;

/// The cargo target whose release output a development folder is searched for.
pub const DEV_TARGET: &str = "wasm32-wasip1";

/// Finds the wasm module of a development folder, in this order:
///
/// 1. `plugin.wasm` at the folder root;
/// 2. `target/wasm32-wasip1/release/*.wasm` under the folder: the only one there, or the one
///    named after the cargo package (`name` in the folder's `Cargo.toml`, `-` as `_`) or
///    after `id`;
/// 3. the same file name in `$CARGO_TARGET_DIR/wasm32-wasip1/release/`, then in the
///    `target/wasm32-wasip1/release/` of each parent folder (a cargo workspace builds its
///    members there), named after the package or `id` only.
///
/// # Errors
///
/// A message listing where it looked, when no module is found or several match.
pub fn dev_wasm(folder: &Path, id: &str) -> Result<PathBuf, String> {
    let root = folder.join(WASM_ENTRY);
    if root.is_file() {
        return Ok(root);
    }
    let names = module_names(folder, id);
    let release = |target: &Path| target.join(DEV_TARGET).join("release");
    let own = release(&folder.join("target"));
    let mut looked = vec![root.display().to_string()];
    if own.is_dir() {
        let found: Vec<PathBuf> = std::fs::read_dir(&own)
            .map_err(|e| format!("cannot list {}: {e}", own.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "wasm"))
            .collect();
        if let Some(named) = names.iter().map(|n| own.join(n)).find(|p| p.is_file()) {
            return Ok(named);
        }
        match found.as_slice() {
            [one] => return Ok(one.clone()),
            [] => {}
            many => {
                let mut list: Vec<String> = many.iter().map(|p| p.display().to_string()).collect();
                list.sort();
                return Err(format!(
                    "{} holds several wasm modules ({}) and none is named {}: pass the module \
                     explicitly",
                    own.display(),
                    list.join(", "),
                    names.join(" or ")
                ));
            }
        }
    }
    looked.push(format!("{}/*.wasm", own.display()));
    let mut targets: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        targets.push(if dir.is_absolute() {
            dir
        } else {
            folder.join(dir)
        });
    }
    targets.extend(folder.ancestors().skip(1).map(|a| a.join("target")));
    for target in targets {
        let dir = release(&target);
        for name in &names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
            looked.push(candidate.display().to_string());
        }
    }
    Err(format!(
        "no wasm module found for the development folder {}; build it for {DEV_TARGET} \
         (cargo build --release --target {DEV_TARGET}) or put plugin.wasm in it (looked at: {})",
        folder.display(),
        looked.join(", ")
    ))
}

/// The file names a cargo build of this folder's plugin can have: after the package name
/// in `Cargo.toml`, then after the plugin id (`-` becomes `_` in both).
fn module_names(folder: &Path, id: &str) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(name) = cargo_package_name(&folder.join("Cargo.toml")) {
        names.push(format!("{}.wasm", name.replace('-', "_")));
    }
    let by_id = format!("{}.wasm", id.replace('-', "_"));
    if !names.contains(&by_id) {
        names.push(by_id);
    }
    names
}

/// The `name` of the `[package]` table of a `Cargo.toml`, read line by line (enough for the
/// `name = "..."` form every cargo template writes).
fn cargo_package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() == "name" {
            let value = value.trim().trim_matches('"').trim_matches('\'');
            if !value.is_empty() {
                return Some(value.to_owned());
            }
        }
    }
    None
}

/// Packs the development folder's `manifest.json` and module into `.ndp` bytes.
pub(crate) fn pack_folder(id: &str, link: &DevLink) -> Result<Vec<u8>, String> {
    let manifest_path = link.folder.join(MANIFEST_ENTRY);
    let manifest = std::fs::read(&manifest_path)
        .map_err(|e| format!("cannot read {}: {e}", manifest_path.display()))?;
    let wasm_path = match &link.wasm {
        Some(path) => path.clone(),
        None => dev_wasm(&link.folder, id)?,
    };
    let wasm = std::fs::read(&wasm_path)
        .map_err(|e| format!("cannot read {}: {e}", wasm_path.display()))?;
    pack(&manifest, &wasm).map_err(|e| format!("{}: {e}", link.folder.display()))
}

#[cfg(test)]
mod tests;
