//! `cargo xtask`: the workspace's automation, in Rust instead of shell scripts or Makefiles
//! (cf. rust-analyzer's xtask). Run through the alias in `.cargo/config.toml`, which builds it
//! in release. Commands:
//!
//! - `build-plugins` (alias `fixtures`): build the fixture plugins in `fixtures/` for both wasm
//!   targets and pack them into `target/fixtures/` (see `fixtures.rs`).
//! - `test [ARGS...]`: `build-plugins`, build and pack the example plugins (and run their own
//!   native tests), `venv`, then `cargo test --release --workspace ARGS...` with
//!   `NDP_EXTISM_PYTHON` set to the venv's interpreter.
//! - `test-plugins`: build the fixtures, the example plugins and nd-pdk's probe plugin, pack
//!   the examples into `target/examples/<name>.ndp`, run the examples' own tests, then the
//!   end-to-end tests (`ndp-examples-e2e`) and nd-pdk's (see `plugins.rs`).
//! - `new-plugin <name> [--dir DIR]`: scaffold a plugin crate on nd-pdk (see `scaffold.rs`).
//! - `package <dir> [--out FILE]`: build a plugin folder for wasm32-wasip1, check it, pack it.
//! - `venv`: make `target/venv` with the official Extism runtime (PyPI `extism`) for the
//!   differential test (see `venv.rs`).
//! - `wasm-info FILE...`: print the imports and exports of wasm modules.
//!
//! It deliberately has no argument-parsing dependency: the commands take few arguments, and every
//! other tool it needs (cargo, rustc) is run as a subprocess.

mod bench;
mod demo;
mod fixtures;
mod ndp;
mod plugins;
mod scaffold;
mod venv;
mod wasm;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  build-plugins        build the fixture plugins for wasm32-wasip1 and wasm32-unknown-unknown
                       into target/fixtures/ (alias: fixtures)
  test [ARGS...]       build-plugins, build the example plugins and run their own tests, venv,
                       then cargo test --release --workspace ARGS...
  test-plugins         build the fixtures and the example plugins, pack the examples into
                       target/examples/<name>.ndp, run their own tests and the end-to-end tests
  new-plugin NAME [--dir DIR]
                       scaffold a plugin on nd-pdk (default dir: examples/plugins/NAME)
  package DIR [--out FILE]
                       build the plugin in DIR for wasm32-wasip1, check it against its
                       manifest.json and pack it (default: target/examples/NAME.ndp for an
                       example, else DIR/target/NAME.ndp)
  venv                 create target/venv with the official Extism runtime (PyPI extism)
  demo [--once]        build the fixtures and ndp, show ndp inspecting and calling them, then
                       start `ndp serve` with the demo library and keep it up until Ctrl-C
                       (--once: stop after driving it)
  bench [--rounds N]   measure ndp against the official Extism runtime, write BENCHMARKS.md
  wasm-info FILE...    print the imports and exports of wasm modules
  help                 print this message";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> anyhow::Result<()> {
    let Some((cmd, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    match cmd.as_str() {
        "build-plugins" | "fixtures" => {
            no_args(cmd, rest)?;
            fixtures::build(&root()).map(drop)
        }
        "test" => {
            fixtures::build(&root())?;
            plugins::build_examples(&root())?;
            plugins::build_probe(&root())?;
            plugins::test_examples(&root())?;
            let python = venv::ensure(&root())?;
            cargo_test(&root(), &python, rest)
        }
        "test-plugins" => {
            no_args(cmd, rest)?;
            test_plugins(&root())
        }
        "new-plugin" => scaffold::run(&root(), rest).map(drop),
        "package" => plugins::package(&root(), rest).map(drop),
        "venv" => {
            no_args(cmd, rest)?;
            let python = venv::ensure(&root())?;
            println!("{}={}", venv::PYTHON_ENV, python.display());
            Ok(())
        }
        "wasm-info" => wasm_info(rest),
        "bench" => bench::run(&root(), rest),
        "demo" => match rest {
            [] => demo::run(&root(), false),
            [once] if once == "--once" => demo::run(&root(), true),
            _ => bail!("usage: cargo xtask demo [--once]"),
        },
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => bail!("unknown command `{cmd}`\n\n{USAGE}"),
    }
}

fn no_args(cmd: &str, rest: &[String]) -> anyhow::Result<()> {
    if let Some(arg) = rest.first() {
        bail!("`cargo xtask {cmd}` takes no arguments, got `{arg}`");
    }
    Ok(())
}

/// The workspace root: the parent of this crate's directory.
fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The cargo that runs us (`cargo run` sets `CARGO`), else the one on `PATH`.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd` and fails, naming it, unless it exits successfully.
pub(crate) fn run_status(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

fn cargo_test(root: &Path, python: &Path, extra: &[String]) -> anyhow::Result<()> {
    let mut cmd = cargo();
    cmd.current_dir(root)
        .env(venv::PYTHON_ENV, python)
        .args(["test", "--release", "--workspace"])
        .args(extra);
    eprintln!(
        "running cargo test --release --workspace {}",
        extra.join(" ")
    );
    run_status(&mut cmd)
}

/// `cargo xtask test-plugins`.
fn test_plugins(root: &Path) -> anyhow::Result<()> {
    fixtures::build(root)?;
    plugins::build_examples(root)?;
    plugins::build_probe(root)?;
    plugins::test_examples(root)?;
    let mut cmd = cargo();
    cmd.current_dir(root).args([
        "test",
        "--release",
        "--no-fail-fast",
        "-p",
        "ndp-examples-e2e",
        "-p",
        "nd-pdk",
    ]);
    eprintln!("running cargo test --release -p ndp-examples-e2e -p nd-pdk");
    run_status(&mut cmd)
}

fn wasm_info(files: &[String]) -> anyhow::Result<()> {
    if files.is_empty() {
        bail!("usage: cargo xtask wasm-info FILE...");
    }
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
        let info = wasm::ModuleInfo::parse(&bytes).with_context(|| format!("parsing {file}"))?;
        println!("{file} ({} bytes)", bytes.len());
        for import in &info.imports {
            println!(
                "  import {}::{} ({})",
                import.module, import.name, import.kind
            );
        }
        for export in &info.exports {
            println!("  export {} ({})", export.name, export.kind);
        }
    }
    Ok(())
}
