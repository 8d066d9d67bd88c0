//! `cargo xtask build-plugins`: builds the fixture plugins and lays them out for the tests.
//!
//! The fixtures are their own cargo workspace (`fixtures/Cargo.toml`, not a member of the root
//! one) with one crate per plugin, `fixtures/plugins/<name>/`, whose package is
//! `fixture-<name>` and which holds a `manifest.json`. One `cargo build --release` for both wasm
//! targets writes to `target/fixtures-build/`; then, for each fixture, this module writes
//!
//! - `target/fixtures/<target>/<name>.wasm`, after [`wasm::strip_export_prefix`],
//! - `target/fixtures/<name>.ndp` (wasip1 build) and `target/fixtures/<name>-unknown.ndp`
//!   (wasm32-unknown-unknown build).
//!
//! It also compiles the hand-written kernel edge-case modules `fixtures/wat/<name>.wat` to
//! `target/fixtures/wat/<name>.wasm` (target-independent, no manifest), and writes
//! `target/fixtures/index.json`, listing every fixture and every wat module with its files (paths
//! relative to `target/fixtures/`), its exports, its imports and their signatures, read back
//! from the wasm.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::{cargo, ndp, run_status, wasm};

/// The targets every fixture is built for, with the suffix of the matching `.ndp` file name.
pub const TARGETS: [(&str, &str); 2] = [
    ("wasm32-wasip1", ""),
    ("wasm32-unknown-unknown", "-unknown"),
];

/// One built fixture.
#[derive(Debug)]
pub struct Fixture {
    pub name: String,
    /// Per target, in the order of [`TARGETS`].
    pub targets: Vec<BuiltTarget>,
}

#[derive(Debug)]
pub struct BuiltTarget {
    pub target: &'static str,
    pub wasm: PathBuf,
    pub ndp: PathBuf,
    pub info: wasm::ModuleInfo,
    pub size: usize,
}

pub fn build(root: &Path) -> anyhow::Result<Vec<Fixture>> {
    let started = Instant::now();
    let fixtures_dir = root.join("fixtures");
    check_targets(&fixtures_dir)?;
    let names = discover(&fixtures_dir.join("plugins"))?;
    let build_dir = root.join("target").join("fixtures-build");
    let out_dir = root.join("target").join("fixtures");

    let mut cmd = cargo();
    cmd.current_dir(&fixtures_dir)
        .env("CARGO_TARGET_DIR", &build_dir)
        .args(["build", "--release", "--manifest-path"])
        .arg(fixtures_dir.join("Cargo.toml"));
    for (target, _) in TARGETS {
        cmd.args(["--target", target]);
    }
    eprintln!(
        "building {} fixture plugins for {}",
        names.len(),
        target_list()
    );
    run_status(&mut cmd)?;
    let cargo_time = started.elapsed();

    let mut fixtures = Vec::new();
    for name in &names {
        fixtures.push(lay_out(&fixtures_dir, &build_dir, &out_dir, name)?);
    }
    let wat_modules = compile_wat(&fixtures_dir.join("wat"), &out_dir.join("wat"))?;
    let index = out_dir.join("index.json");
    let json = serde_json::to_string_pretty(&index_json(&out_dir, &fixtures, &wat_modules))?;
    std::fs::write(&index, json + "\n").with_context(|| format!("writing {}", index.display()))?;

    println!(
        "built {} fixtures in {:.1}s (cargo {:.1}s) into {}",
        fixtures.len(),
        started.elapsed().as_secs_f64(),
        cargo_time.as_secs_f64(),
        out_dir.display()
    );
    for fixture in &fixtures {
        for t in &fixture.targets {
            println!(
                "  {:<18} {:<24} {:>8} bytes  {:>2} exports  {}",
                fixture.name,
                t.target,
                t.size,
                t.info.function_exports().len(),
                t.ndp.file_name().unwrap_or_default().to_string_lossy(),
            );
        }
    }
    for module in &wat_modules {
        println!(
            "  {:<18} {:<24} {:>8} bytes  {:>2} exports",
            module.name,
            "wat",
            module.size,
            module.info.function_exports().len()
        );
    }
    println!("  index: {}", index.display());
    Ok(fixtures)
}

fn target_list() -> String {
    TARGETS
        .iter()
        .map(|(t, _)| *t)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Fails with the `rustup` command to run when a wasm target's standard library is missing.
fn check_targets(fixtures_dir: &Path) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    for (target, _) in TARGETS {
        // Run where cargo will run, so that a toolchain override there applies to both.
        let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
            .current_dir(fixtures_dir)
            .args(["--print", "target-libdir", "--target", target])
            .output()
            .context("could not run rustc")?;
        let libdir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || libdir.is_empty() || !Path::new(&libdir).is_dir() {
            missing.push(target);
        }
    }
    if !missing.is_empty() {
        bail!(
            "the wasm target(s) {} are not installed; run `rustup target add {}`",
            missing.join(", "),
            target_list().replace(" and ", " ")
        );
    }
    Ok(())
}

/// The fixture names: directories under `fixtures/plugins/` that hold a `Cargo.toml`, sorted.
fn discover(plugins_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let entries = std::fs::read_dir(plugins_dir)
        .with_context(|| format!("listing {}", plugins_dir.display()))?;
    for entry in entries {
        let entry = entry?;
        if entry.path().join("Cargo.toml").is_file() {
            let name = entry
                .file_name()
                .into_string()
                .map_err(|n| anyhow::anyhow!("fixture directory name {n:?} is not UTF-8"))?;
            names.push(name);
        }
    }
    if names.is_empty() {
        bail!("no fixture crates in {}", plugins_dir.display());
    }
    names.sort();
    Ok(names)
}

/// Copies (and patches) one fixture's two builds into `out_dir` and packs them.
fn lay_out(
    fixtures_dir: &Path,
    build_dir: &Path,
    out_dir: &Path,
    name: &str,
) -> anyhow::Result<Fixture> {
    let manifest_path = fixtures_dir
        .join("plugins")
        .join(name)
        .join("manifest.json");
    let manifest = std::fs::read(&manifest_path)
        .with_context(|| format!("fixture `{name}` needs {}", manifest_path.display()))?;
    check_manifest(&manifest).with_context(|| format!("in {}", manifest_path.display()))?;

    let artifact = format!("fixture_{}.wasm", name.replace('-', "_"));
    let mut targets = Vec::new();
    for (target, suffix) in TARGETS {
        let built = build_dir.join(target).join("release").join(&artifact);
        let module = std::fs::read(&built).with_context(|| {
            format!(
                "reading {} (the package in fixtures/plugins/{name} must be named fixture-{name})",
                built.display()
            )
        })?;
        let (module, _renamed) = wasm::strip_export_prefix(&module)
            .with_context(|| format!("patching the exports of {}", built.display()))?;
        let info = wasm::ModuleInfo::parse(&module)
            .with_context(|| format!("parsing {}", built.display()))?;

        let wasm_path = out_dir.join(target).join(format!("{name}.wasm"));
        std::fs::create_dir_all(out_dir.join(target))?;
        std::fs::write(&wasm_path, &module)
            .with_context(|| format!("writing {}", wasm_path.display()))?;
        let ndp_path = out_dir.join(format!("{name}{suffix}.ndp"));
        ndp::write(&ndp_path, &manifest, &module)
            .with_context(|| format!("packing {}", ndp_path.display()))?;
        targets.push(BuiltTarget {
            target,
            wasm: wasm_path,
            ndp: ndp_path,
            info,
            size: module.len(),
        });
    }
    Ok(Fixture {
        name: name.to_string(),
        targets,
    })
}

/// A compiled `fixtures/wat/<name>.wat`.
#[derive(Debug)]
pub struct WatModule {
    pub name: String,
    pub wasm: PathBuf,
    pub info: wasm::ModuleInfo,
    pub size: usize,
}

/// Compiles every `*.wat` in `wat_dir` (if it exists) into `out_dir`, sorted by name.
fn compile_wat(wat_dir: &Path, out_dir: &Path) -> anyhow::Result<Vec<WatModule>> {
    let mut sources = Vec::new();
    if wat_dir.is_dir() {
        for entry in std::fs::read_dir(wat_dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "wat") {
                sources.push(path);
            }
        }
    }
    sources.sort();
    let mut modules = Vec::new();
    for source in sources {
        let name = source
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let module =
            wat::parse_file(&source).with_context(|| format!("compiling {}", source.display()))?;
        let info = wasm::ModuleInfo::parse(&module)
            .with_context(|| format!("parsing the module compiled from {}", source.display()))?;
        std::fs::create_dir_all(out_dir)?;
        let wasm_path = out_dir.join(format!("{name}.wasm"));
        std::fs::write(&wasm_path, &module)
            .with_context(|| format!("writing {}", wasm_path.display()))?;
        modules.push(WatModule {
            name,
            wasm: wasm_path,
            info,
            size: module.len(),
        });
    }
    Ok(modules)
}

/// The few manifest rules Navidrome applies when decoding (navidrome-plugin-abi.md §5.4, item
/// 1): a JSON object with non-empty string `name`, `author` and `version`. Full validation is
/// nd-manifest's job; this only catches a broken fixture early.
fn check_manifest(bytes: &[u8]) -> anyhow::Result<()> {
    let value: Value = serde_json::from_slice(bytes).context("manifest is not JSON")?;
    for field in ["name", "author", "version"] {
        match value.get(field).and_then(Value::as_str) {
            Some(s) if !s.is_empty() => {}
            _ => bail!("manifest needs a non-empty string `{field}`"),
        }
    }
    Ok(())
}

fn index_json(out_dir: &Path, fixtures: &[Fixture], wat_modules: &[WatModule]) -> Value {
    let relative = |p: &Path| {
        p.strip_prefix(out_dir)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let fixtures: Vec<Value> = fixtures
        .iter()
        .map(|f| {
            let targets: BTreeMap<&str, Value> = f
                .targets
                .iter()
                .map(|t| {
                    let mut value = module_json(&t.info, t.size);
                    value["wasm"] = relative(&t.wasm).into();
                    value["ndp"] = relative(&t.ndp).into();
                    (t.target, value)
                })
                .collect();
            json!({ "name": f.name, "package": format!("fixture-{}", f.name), "targets": targets })
        })
        .collect();
    let wat: Vec<Value> = wat_modules
        .iter()
        .map(|m| {
            let mut value = module_json(&m.info, m.size);
            value["name"] = m.name.clone().into();
            value["source"] = format!("fixtures/wat/{}.wat", m.name).into();
            value["wasm"] = relative(&m.wasm).into();
            value
        })
        .collect();
    json!({
        "comment": "generated by `cargo xtask build-plugins`; the contract of each export is in fixtures/README.md",
        "fixtures": fixtures,
        "wat": wat,
    })
}

/// Size, sorted function exports, sorted imports (`module::name`) and the signature of each.
fn module_json(info: &wasm::ModuleInfo, size: usize) -> Value {
    let mut imports: Vec<String> = info
        .imports
        .iter()
        .map(|i| format!("{}::{}", i.module, i.name))
        .collect();
    imports.sort();
    let signatures: BTreeMap<String, &str> = info
        .imports
        .iter()
        .map(|i| (format!("{}::{}", i.module, i.name), i.kind.as_str()))
        .chain(
            info.exports
                .iter()
                .map(|e| (e.name.clone(), e.kind.as_str())),
        )
        .collect();
    json!({
        "size": size,
        "exports": info.function_exports(),
        "imports": imports,
        "signatures": signatures,
    })
}
