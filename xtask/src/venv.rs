//! `cargo xtask venv`: the Python venv with the official Extism runtime, for the differential
//! test (`crates/nd-runtime/tests/it/differential.rs`) and the benchmarks.
//!
//! It lives in `target/venv` and holds the PyPI package `extism` ([`EXTISM_VERSION`]), whose
//! dependency `extism-sys` ships libextism (Extism 1.41, Wasmtime), the runtime ndp is compared
//! with. [`ensure`] is idempotent: it creates the venv when it is missing and runs pip only when
//! the pinned version cannot be imported. `cargo xtask test` calls it and passes the
//! interpreter's absolute path to the tests in [`PYTHON_ENV`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::run_status;

/// The pinned PyPI version of the Extism Python SDK (pulls `extism-sys` 1.41.0).
pub const EXTISM_VERSION: &str = "1.1.1";

/// The environment variable that tells the tests which Python has `extism`.
pub const PYTHON_ENV: &str = "NDP_EXTISM_PYTHON";

/// Makes sure `target/venv` exists with `extism==EXTISM_VERSION`; returns the absolute path of
/// its interpreter.
pub fn ensure(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join("target").join("venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        eprintln!("creating {}", venv.display());
        run_status(Command::new("python3").arg("-m").arg("venv").arg(&venv))
            .context("creating the Python venv (is python3 with the venv module installed?)")?;
    }
    // Not canonicalized: `bin/python` is a symlink to the base interpreter, and Python finds its
    // venv from the path it was started with. `root` is absolute already.
    if !python.exists() {
        bail!("{} missing after creating the venv", python.display());
    }
    if has_extism(&python) {
        return Ok(python);
    }
    eprintln!(
        "installing extism=={EXTISM_VERSION} into {}",
        venv.display()
    );
    let pip = venv.join("bin").join("pip");
    run_status(
        Command::new(&pip)
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("extism=={EXTISM_VERSION}")),
    )
    .context("installing the official Extism runtime from PyPI")?;
    if !has_extism(&python) {
        bail!(
            "{} still cannot import extism {EXTISM_VERSION} after pip install",
            python.display()
        );
    }
    Ok(python)
}

/// True if `python` imports `extism` at the pinned version.
fn has_extism(python: &Path) -> bool {
    let check = format!(
        "import importlib.metadata as m, extism; raise SystemExit(m.version('extism') != '{EXTISM_VERSION}')"
    );
    Command::new(python)
        .args(["-c", &check])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
