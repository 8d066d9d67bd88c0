//! Writes `.ndp` plugin packages: a zip with `manifest.json` and `plugin.wasm` at its root, both
//! deflated (navidrome-plugin-abi.md §5.1). The output is reproducible: fixed timestamps and
//! permissions, fixed entry order. Validating the manifest is nd-manifest's job, not this one's.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Packs `manifest` and `wasm` into the zip at `dest`, written to `dest.tmp` first and then
/// renamed so that a reader never sees half a package.
pub fn write(dest: &Path, manifest: &[u8], wasm: &[u8]) -> anyhow::Result<()> {
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = Path::new(&tmp);
    let file = std::fs::File::create(tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut zip = ZipWriter::new(std::io::BufWriter::new(file));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in [("manifest.json", manifest), ("plugin.wasm", wasm)] {
        zip.start_file(name, options)?;
        zip.write_all(bytes)?;
    }
    let mut out = zip.finish()?;
    out.flush()?;
    drop(out);
    std::fs::rename(tmp, dest).with_context(|| format!("renaming to {}", dest.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests;
