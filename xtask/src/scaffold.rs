//! `cargo xtask new-plugin <name> [--dir DIR]`: scaffolds a plugin crate on nd-pdk that
//! builds for `wasm32-wasip1` and passes its own tests out of the box: `Cargo.toml`,
//! `src/lib.rs` (a metadata agent answering artist biographies, with native unit tests on
//! `nd_pdk::testing`), `manifest.json` (no permission, a `greeting` setting) and `README.md`.
//!
//! Without `--dir` the crate goes to `examples/plugins/<name>` and joins that workspace (so
//! `cargo xtask test-plugins` builds and packs it). Anywhere else it is a standalone
//! workspace of its own that depends on this repository's `crates/nd-pdk` by absolute path,
//! with the examples' release profile and, when there is one, a copy of their `Cargo.lock`
//! (the same dependency versions, so builds in the shared `target/plugins-build` reuse them).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::plugins;

/// Where the scaffold was written.
#[derive(Debug)]
pub struct Scaffold {
    pub dir: PathBuf,
    pub name: String,
    /// Whether it is a member of the examples workspace.
    pub in_examples: bool,
}

/// Parses `<name> [--dir DIR]` and writes the scaffold.
pub fn run(root: &Path, args: &[String]) -> anyhow::Result<Scaffold> {
    let (name, dir) = match args {
        [name] => (name, None),
        [name, flag, dir] if flag == "--dir" => (name, Some(PathBuf::from(dir))),
        _ => bail!("usage: cargo xtask new-plugin <name> [--dir DIR]"),
    };
    let scaffold = new_plugin(root, name, dir.as_deref())?;
    println!(
        "created plugin {} in {}",
        scaffold.name,
        scaffold.dir.display()
    );
    println!(
        "  cd {} && cargo test                # its own tests (native)",
        scaffold.dir.display()
    );
    println!(
        "  cargo xtask package {}        # build for wasm32-wasip1 and pack the .ndp",
        scaffold.dir.display()
    );
    if scaffold.in_examples {
        println!(
            "it is a member of the examples workspace: `cargo xtask test-plugins` builds and packs it too"
        );
    }
    Ok(scaffold)
}

/// Writes the scaffold of plugin `name` into `dir` (default `examples/plugins/<name>`).
pub fn new_plugin(root: &Path, name: &str, dir: Option<&Path>) -> anyhow::Result<Scaffold> {
    check_name(name)?;
    let examples = plugins::examples_dir(root);
    let dir = dir.map_or_else(|| examples.join(name), Path::to_path_buf);
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        bail!("{} exists and is not empty", dir.display());
    }
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let dir = std::fs::canonicalize(&dir)?;
    let in_examples =
        std::fs::canonicalize(&examples).is_ok_and(|e| dir.parent() == Some(e.as_path()));
    let nd_pdk = std::fs::canonicalize(root.join("crates").join("nd-pdk"))
        .context("crates/nd-pdk not found")?;

    let cargo_toml = if in_examples {
        MEMBER_CARGO_TOML.to_owned()
    } else {
        let path = nd_pdk.to_string_lossy().replace('\\', "/");
        STANDALONE_CARGO_TOML.replace("__ND_PDK__", &path)
    };
    let type_name = type_name(name);
    let files = [
        ("Cargo.toml", cargo_toml),
        ("src/lib.rs", LIB_RS.to_owned()),
        ("manifest.json", MANIFEST_JSON.to_owned()),
        ("README.md", README_MD.to_owned()),
    ];
    for (file, template) in files {
        let text = template
            .replace("__NAME__", name)
            .replace("__TYPE__", &type_name);
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if !in_examples {
        std::fs::write(dir.join(".gitignore"), "/target\n")?;
        let lock = examples.join("Cargo.lock");
        if lock.is_file() {
            std::fs::copy(&lock, dir.join("Cargo.lock"))
                .with_context(|| format!("copying {}", lock.display()))?;
        }
    }
    Ok(Scaffold {
        dir,
        name: name.to_owned(),
        in_examples,
    })
}

/// A name that is both a plugin id (the `.ndp` file name) and a cargo package name.
fn check_name(name: &str) -> anyhow::Result<()> {
    nd_manifest::validate_plugin_id(name)
        .with_context(|| format!("{name:?} is not a valid plugin id"))?;
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    if !first_ok
        || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        bail!(
            "plugin name {name:?}: use lower-case letters, digits, '-' and '_', starting with a letter \
             (it names the cargo package and the .ndp file)"
        );
    }
    Ok(())
}

/// `demo-check` → `DemoCheck`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

const MEMBER_CARGO_TOML: &str = r#"[package]
name = "__NAME__"
version.workspace = true
edition.workspace = true
license.workspace = true
publish.workspace = true
description = "A Navidrome/ndp plugin written with nd-pdk"

[lib]
crate-type = ["cdylib"]

[dependencies]
nd-pdk.workspace = true
"#;

const STANDALONE_CARGO_TOML: &str = r#"[package]
name = "__NAME__"
version = "0.1.0"
edition = "2024"
publish = false
description = "A Navidrome/ndp plugin written with nd-pdk"

[lib]
crate-type = ["cdylib"]

[dependencies]
nd-pdk = { path = "__ND_PDK__" }

# A workspace of its own, so that an enclosing folder's workspace does not claim it.
[workspace]

# Small and quick to build; `panic = "abort"` because a wasm plugin cannot unwind anyway.
[profile.release]
opt-level = "s"
lto = false
codegen-units = 16
panic = "abort"
strip = "debuginfo"
"#;

const LIB_RS: &str = r##"//! __NAME__: a Navidrome/ndp plugin written with nd-pdk.
//!
//! A metadata agent that answers artist biographies (`nd_get_artist_biography`). Change
//! `artist_biography`, register more `MetadataAgent` methods, or implement other
//! capabilities (`nd_pdk::capability`); call host services with `nd_pdk::host::*` after
//! adding their permission to `manifest.json`.

use nd_pdk::capability::MetadataAgent;
use nd_pdk::types::ArtistRequest;

/// The plugin. The host builds a fresh one for every call, so it keeps no state: use the
/// cache or the KV store for that.
#[derive(Default)]
pub struct __TYPE__;

impl MetadataAgent for __TYPE__ {
    fn artist_biography(&self, req: ArtistRequest) -> nd_pdk::Result<Option<String>> {
        if req.name.trim().is_empty() {
            // "Not found": the host asks the next agent.
            return Ok(None);
        }
        // The `greeting` setting of manifest.json's config schema.
        let greeting = nd_pdk::host::config::extism_get("greeting")?
            .unwrap_or_else(|| "Hello from __NAME__".to_owned());
        nd_pdk::info!("biography requested for {}", req.name);
        Ok(Some(format!("{greeting}: {} is in your library.", req.name)))
    }
}

// Exports exactly `nd_get_artist_biography`.
nd_pdk::register_metadata_agent!(__TYPE__, [artist_biography]);

#[cfg(test)]
mod tests {
    use nd_pdk::testing;

    use super::*;

    #[test]
    fn answers_a_biography() {
        testing::reset();
        testing::set_config([("greeting", "Hi")]);
        let out = testing::call_export(nd_get_artist_biography, r#"{"id":"1","name":"Nina Simone"}"#);
        assert_eq!(out.rc, 0, "{:?}", out.error);
        assert_eq!(out.json()["biography"], "Hi: Nina Simone is in your library.");
    }

    #[test]
    fn an_empty_name_is_not_found() {
        testing::reset();
        let out = testing::call_export(nd_get_artist_biography, r#"{"id":"1","name":""}"#);
        assert_eq!((out.rc, out.output.is_empty(), out.error), (0, true, None));
    }
}
"##;

const MANIFEST_JSON: &str = r#"{
  "name": "__NAME__",
  "author": "Your Name",
  "version": "0.1.0",
  "description": "A metadata agent written with nd-pdk",
  "permissions": {},
  "config": {
    "schema": {
      "type": "object",
      "properties": {
        "greeting": {
          "type": "string",
          "title": "Greeting",
          "default": "Hello from __NAME__"
        }
      },
      "additionalProperties": false
    }
  }
}
"#;

const README_MD: &str = r#"# __NAME__

A Navidrome/ndp plugin written with nd-pdk (`crates/nd-pdk` in the ndp repository): a metadata agent that
answers artist biographies. The plugin id is the `.ndp` file name, `__NAME__`.

```sh
cargo test                                     # the plugin's own tests, natively (nd_pdk::testing)
cargo build --release --target wasm32-wasip1   # the module (rustup target add wasm32-wasip1)
cargo xtask package <this folder>              # from the ndp repository: build, check, pack __NAME__.ndp
ndp call __NAME__.ndp nd_get_artist_biography --input '{"id":"1","name":"Nina Simone"}'
ndp dev <this folder>                          # link it into ndp's data directory while you work
```

`cargo xtask package` checks `manifest.json` and that every host function the module imports
has its permission there, then writes `target/examples/__NAME__.ndp` for a folder of
`examples/plugins`, else `target/__NAME__.ndp` in this folder.

Settings (`manifest.json` `config.schema`): `greeting`, the start of every biography.
Permissions: none. Add one per host service you call (`nd_pdk::host::*`), with a `reason`.
"#;

#[cfg(test)]
mod tests;
