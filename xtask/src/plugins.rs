//! Building and packing plugin crates written with nd-pdk: the example plugins of
//! `examples/plugins` (`cargo xtask test-plugins`, and `cargo xtask test` before the tests)
//! and any plugin folder (`cargo xtask package <dir>`).
//!
//! Every build goes to one shared target directory, `target/plugins-build/`, so that the
//! examples, scaffolded plugins and their dependencies are compiled once. A plugin folder
//! holds a cargo package with a `cdylib` target and a `manifest.json`. Packing checks the
//! manifest with nd-manifest (every problem at once, with JSON paths), checks the module's
//! imports and exports against it (the checks a host makes at load time: a host function
//! without its permission, `scheduler` without `nd_scheduler_callback`, ...), and writes the
//! `.ndp` with [`nd_manifest::pack`]. The plugin id (the `.ndp` file name) is the cargo
//! package name; an example's package is named like its folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use nd_manifest::abi::{HOST_MODULE, capability_rules, detect_capabilities, import_rules};
use nd_manifest::{Manifest, pack, validate_plugin_id};
use serde_json::Value;

use crate::{cargo, run_status, wasm};

/// The one target the plugins are built for (they need WASI).
pub const TARGET: &str = "wasm32-wasip1";

/// The shared cargo target directory of plugin builds.
pub fn build_dir(root: &Path) -> PathBuf {
    root.join("target").join("plugins-build")
}

/// The example plugins' workspace.
pub fn examples_dir(root: &Path) -> PathBuf {
    root.join("examples").join("plugins")
}

/// Where the packed examples go: `target/examples/<name>.ndp`.
pub fn examples_out(root: &Path) -> PathBuf {
    root.join("target").join("examples")
}

/// One cargo package with a `cdylib` target.
#[derive(Debug, Clone)]
pub struct Crate {
    /// The folder holding `Cargo.toml`.
    pub dir: PathBuf,
    /// The cargo package name, which is the plugin id.
    pub package: String,
    /// The `cdylib` target's name (`-` as `_`): the `.wasm` file's stem.
    pub lib: String,
}

impl Crate {
    /// The plugin id (the `.ndp` file name): the cargo package name, which must be a valid
    /// plugin id. For the examples it is also the folder name.
    pub fn id(&self) -> anyhow::Result<String> {
        validate_plugin_id(&self.package).with_context(|| {
            format!(
                "the package name {:?} ({}) is not a valid plugin id",
                self.package,
                self.dir.display()
            )
        })?;
        Ok(self.package.clone())
    }
}

/// A packed plugin.
#[derive(Debug)]
pub struct Packed {
    pub id: String,
    pub ndp: PathBuf,
    pub size: usize,
    pub exports: Vec<String>,
    pub capabilities: Vec<&'static str>,
}

/// The cdylib packages of the workspace or package at `manifest_path`, from `cargo metadata`
/// (workspace members only, sorted by folder).
pub fn crates(manifest_path: &Path) -> anyhow::Result<Vec<Crate>> {
    let out = cargo()
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(manifest_path)
        .output()
        .context("could not run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata --manifest-path {} failed:\n{}",
            manifest_path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let metadata: Value = serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    let mut found = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let Some(lib) = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| {
                t["crate_types"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
            })
        else {
            continue;
        };
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest
            .parent()
            .with_context(|| format!("odd manifest path {}", manifest.display()))?
            .to_path_buf();
        found.push(Crate {
            dir,
            package: package["name"].as_str().unwrap_or_default().to_owned(),
            lib: lib["name"].as_str().unwrap_or_default().replace('-', "_"),
        });
    }
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(found)
}

/// `cargo build --release --target wasm32-wasip1` of `manifest_path`: every member
/// (`-p package` for one package of a workspace), into [`build_dir`].
pub fn cargo_build(root: &Path, manifest_path: &Path, package: Option<&str>) -> anyhow::Result<()> {
    let mut cmd = cargo();
    cmd.env("CARGO_TARGET_DIR", build_dir(root))
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(manifest_path);
    match package {
        Some(package) => cmd.args(["-p", package]),
        None => cmd.arg("--workspace"),
    };
    run_status(&mut cmd)
}

/// Native `cargo test --release` of `manifest_path` (the plugins' own unit tests, which run
/// against `nd_pdk::testing`), into [`build_dir`].
pub fn cargo_test(root: &Path, manifest_path: &Path, workspace: bool) -> anyhow::Result<()> {
    let mut cmd = cargo();
    cmd.env("CARGO_TARGET_DIR", build_dir(root))
        .args(["test", "--release", "--manifest-path"])
        .arg(manifest_path);
    if workspace {
        cmd.arg("--workspace");
    }
    run_status(&mut cmd)
}

/// Checks and packs the built module of `krate` into `dest`.
pub fn pack_crate(root: &Path, krate: &Crate, dest: &Path) -> anyhow::Result<Packed> {
    let id = krate.id()?;
    let manifest_path = krate.dir.join("manifest.json");
    let manifest_json = std::fs::read(&manifest_path)
        .with_context(|| format!("plugin {id} needs {}", manifest_path.display()))?;
    let manifest = Manifest::parse(&manifest_json)
        .with_context(|| format!("invalid {}", manifest_path.display()))?;
    for warning in &manifest.warnings {
        eprintln!("warning: {}: {warning}", manifest_path.display());
    }
    let wasm_path = build_dir(root)
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", krate.lib));
    let module = std::fs::read(&wasm_path).with_context(|| {
        format!(
            "reading {} (built from {})",
            wasm_path.display(),
            krate.dir.display()
        )
    })?;
    let info = wasm::ModuleInfo::parse(&module)
        .with_context(|| format!("parsing {}", wasm_path.display()))?;
    let exports: Vec<String> = info
        .function_exports()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let imports = info
        .imports
        .iter()
        .filter(|i| i.module == HOST_MODULE)
        .map(|i| i.name.as_str());
    let capabilities = detect_capabilities(exports.iter().map(String::as_str));
    let mut problems = import_rules(&manifest.manifest, imports);
    problems.extend(capability_rules(
        &manifest.manifest,
        &capabilities,
        exports.iter().map(String::as_str),
    ));
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        bail!(
            "plugin {id} would not load ({}):\n{}",
            manifest_path.display(),
            list.join("\n")
        );
    }
    if capabilities.is_empty() {
        eprintln!("warning: plugin {id} exports no capability (exports: {exports:?})");
    }
    let bytes = pack(&manifest_json, &module).with_context(|| format!("packing {id}"))?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(dest, &bytes).with_context(|| format!("writing {}", dest.display()))?;
    Ok(Packed {
        id,
        ndp: dest.to_path_buf(),
        size: bytes.len(),
        exports,
        capabilities: capabilities.iter().map(|c| c.name()).collect(),
    })
}

/// Builds every example plugin, packs each into `target/examples/<name>.ndp`, and prints
/// a table.
pub fn build_examples(root: &Path) -> anyhow::Result<Vec<Packed>> {
    let workspace = examples_dir(root).join("Cargo.toml");
    let crates = crates(&workspace)?;
    if crates.is_empty() {
        bail!("no plugin crates in {}", examples_dir(root).display());
    }
    eprintln!("building {} example plugins for {TARGET}", crates.len());
    cargo_build(root, &workspace, None)?;
    let out = examples_out(root);
    let mut packed = Vec::new();
    for krate in &crates {
        let id = krate.id()?;
        if krate.dir.file_name().and_then(|n| n.to_str()) != Some(id.as_str()) {
            bail!(
                "the example in {} must be a package named like its folder (it is {id:?})",
                krate.dir.display()
            );
        }
        packed.push(pack_crate(root, krate, &out.join(format!("{id}.ndp")))?);
    }
    print_table(&packed);
    Ok(packed)
}

/// The nd-pdk probe (`crates/nd-pdk/probe`), a test plugin that calls every host wrapper.
pub fn probe_dir(root: &Path) -> PathBuf {
    root.join("crates").join("nd-pdk").join("probe")
}

/// Where nd-pdk's integration test finds the packed probe.
pub fn probe_ndp(root: &Path) -> PathBuf {
    root.join("target")
        .join("nd-pdk-probe")
        .join("pdk-probe.ndp")
}

/// Builds and packs the nd-pdk probe into [`probe_ndp`].
pub fn build_probe(root: &Path) -> anyhow::Result<Packed> {
    let manifest_path = probe_dir(root).join("Cargo.toml");
    let krate = crates(&manifest_path)?
        .into_iter()
        .next()
        .with_context(|| format!("{} is not a cdylib crate", manifest_path.display()))?;
    eprintln!("building the nd-pdk probe for {TARGET}");
    cargo_build(root, &manifest_path, Some(&krate.package))?;
    let packed = pack_crate(root, &krate, &probe_ndp(root))?;
    print_table(std::slice::from_ref(&packed));
    Ok(packed)
}

/// Native unit tests of the example plugins.
pub fn test_examples(root: &Path) -> anyhow::Result<()> {
    eprintln!("running the example plugins' own tests (native)");
    cargo_test(root, &examples_dir(root).join("Cargo.toml"), true)
}

fn print_table(packed: &[Packed]) {
    for p in packed {
        println!(
            "  {:<24} {:>8} bytes  {:>2} exports  {:<32} {}",
            p.id,
            p.size,
            p.exports.len(),
            p.capabilities.join(","),
            p.ndp.display()
        );
    }
}

/// `cargo xtask package <dir> [--out FILE]`: builds the plugin crate in `dir` and packs it
/// into `FILE`, by default `target/examples/<id>.ndp` for a folder of `examples/plugins`,
/// else `<dir>/target/<id>.ndp` (`<id>`: the package name).
pub fn package(root: &Path, args: &[String]) -> anyhow::Result<Packed> {
    let (dir, out) = match args {
        [dir] => (dir, None),
        [dir, flag, out] if flag == "--out" => (dir, Some(PathBuf::from(out))),
        _ => bail!("usage: cargo xtask package <dir> [--out FILE.ndp]"),
    };
    let dir = std::fs::canonicalize(dir).with_context(|| format!("plugin folder {dir}"))?;
    let manifest_path = dir.join("Cargo.toml");
    if !manifest_path.is_file() {
        bail!("{} has no Cargo.toml", dir.display());
    }
    let krate = crates(&manifest_path)?
        .into_iter()
        .find(|c| c.dir == dir)
        .with_context(|| format!("{} is not a cdylib crate", dir.display()))?;
    let id = krate.id()?;
    let examples = std::fs::canonicalize(examples_dir(root)).unwrap_or_else(|_| examples_dir(root));
    let dest = match out {
        Some(out) => out,
        None if dir.parent() == Some(examples.as_path()) => {
            examples_out(root).join(format!("{id}.ndp"))
        }
        None => dir.join("target").join(format!("{id}.ndp")),
    };
    eprintln!("building {} for {TARGET}", dir.display());
    cargo_build(root, &manifest_path, Some(&krate.package))?;
    let packed = pack_crate(root, &krate, &dest)?;
    print_table(std::slice::from_ref(&packed));
    Ok(packed)
}
