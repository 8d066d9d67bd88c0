//! `.ndp` packages (spec §5.1): a zip holding `manifest.json` and `plugin.wasm` at its
//! root. [`Package::from_bytes`] reads one from memory with caps against zip bombs;
//! [`pack`] writes one; [`plugin_id_from_file_name`] and [`validate_plugin_id`] apply the
//! plugin-id rules.

use std::io::{Cursor, Read, Write};

use sha2::{Digest, Sha256};
use zip::ZipArchive;
use zip::write::SimpleFileOptions;

use crate::{Diagnostic, Error, Manifest, Parsed};

/// The manifest's name inside a package.
pub const MANIFEST_ENTRY: &str = "manifest.json";
/// The module's name inside a package.
pub const WASM_ENTRY: &str = "plugin.wasm";
/// The extension of package files, with its dot.
pub const PACKAGE_EXTENSION: &str = ".ndp";
/// The longest plugin id accepted, in bytes.
pub const MAX_PLUGIN_ID_LEN: usize = 128;

/// Caps applied while reading a package, against zip bombs and oversized files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageLimits {
    /// Largest `manifest.json`, decompressed. Default 1 MiB.
    pub max_manifest_bytes: u64,
    /// Largest `plugin.wasm`, decompressed. Default 128 MiB.
    pub max_wasm_bytes: u64,
    /// Most entries the zip may have (entries that are not read count too). Default 1000.
    pub max_entries: u64,
}

impl Default for PackageLimits {
    fn default() -> Self {
        Self {
            max_manifest_bytes: 1 << 20,
            max_wasm_bytes: 128 << 20,
            max_entries: 1000,
        }
    }
}

/// A read and validated `.ndp` package.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// The plugin id: the file name without `.ndp`. It names the plugin's configuration and
    /// data directory; the manifest `name` is only for display.
    pub id: String,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// `manifest.json` exactly as stored in the package.
    pub manifest_json: Vec<u8>,
    /// `plugin.wasm` exactly as stored in the package (not checked to be valid wasm:
    /// compiling it is nd-runtime's job).
    pub wasm: Vec<u8>,
    /// SHA-256 of the whole `.ndp` file, which Navidrome uses to detect changes.
    pub sha256: [u8; 32],
    /// SHA-256 of `plugin.wasm`, a natural key for a compilation cache.
    pub wasm_sha256: [u8; 32],
    /// Warnings from the manifest (see [`Parsed::warnings`]).
    pub warnings: Vec<Diagnostic>,
}

impl Package {
    /// Reads a package from the bytes of a `.ndp` file.
    ///
    /// `id` is the plugin id (see [`plugin_id_from_file_name`]). Only the root entries
    /// `manifest.json` and `plugin.wasm` are read; other entries are ignored. Both the size
    /// each entry's header declares and the number of bytes it actually decompresses to are
    /// checked against `limits`, so a zip bomb costs at most the limit in memory.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPluginId`] for a bad `id`; [`Error::NotZip`],
    /// [`Error::TooManyEntries`], [`Error::DuplicateEntries`], [`Error::MissingEntry`]
    /// (text `package missing manifest.json` or `package missing plugin.wasm`),
    /// [`Error::EntryTooLarge`] and [`Error::BadEntry`] for package problems; and
    /// [`Error::Manifest`] wrapping the [`Manifest::parse`] error.
    pub fn from_bytes(id: &str, bytes: &[u8], limits: &PackageLimits) -> Result<Package, Error> {
        validate_plugin_id(id)?;
        let sha256: [u8; 32] = Sha256::digest(bytes).into();

        // The declared entry count is checked before the zip reader allocates a record
        // per central-directory entry.
        let declared_entries = eocd_entry_count(bytes);
        if let Some(count) = declared_entries.filter(|&count| count > limits.max_entries) {
            return Err(Error::TooManyEntries {
                id: id.to_owned(),
                count,
                limit: limits.max_entries,
            });
        }
        let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|err| Error::NotZip {
            id: id.to_owned(),
            reason: err.to_string(),
        })?;
        let count = archive.len() as u64;
        if count > limits.max_entries {
            return Err(Error::TooManyEntries {
                id: id.to_owned(),
                count,
                limit: limits.max_entries,
            });
        }
        // The zip reader keeps the last of several entries with one name; refuse the
        // ambiguity instead of guessing which `manifest.json` the author meant.
        if declared_entries.is_some_and(|declared| declared > count) {
            return Err(Error::DuplicateEntries { id: id.to_owned() });
        }

        let manifest_index = find_entry(&archive, id, MANIFEST_ENTRY)?;
        let wasm_index = find_entry(&archive, id, WASM_ENTRY)?;

        let manifest_json = read_entry(
            &mut archive,
            id,
            manifest_index,
            MANIFEST_ENTRY,
            limits.max_manifest_bytes,
        )?;
        let Parsed { manifest, warnings } =
            Manifest::parse(&manifest_json).map_err(|err| Error::Manifest {
                id: id.to_owned(),
                error: Box::new(err),
            })?;
        let wasm = read_entry(
            &mut archive,
            id,
            wasm_index,
            WASM_ENTRY,
            limits.max_wasm_bytes,
        )?;
        let wasm_sha256: [u8; 32] = Sha256::digest(&wasm).into();

        Ok(Package {
            id: id.to_owned(),
            manifest,
            manifest_json,
            wasm,
            sha256,
            wasm_sha256,
            warnings,
        })
    }

    /// [`Package::sha256`] as lowercase hex.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }

    /// [`Package::wasm_sha256`] as lowercase hex.
    pub fn wasm_sha256_hex(&self) -> String {
        hex(&self.wasm_sha256)
    }
}

/// Lowercase hexadecimal text of `bytes`.
///
/// ```
/// assert_eq!(nd_manifest::hex(&[0x00, 0xab, 0xff]), "00abff");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn find_entry(
    archive: &ZipArchive<Cursor<&[u8]>>,
    id: &str,
    entry: &'static str,
) -> Result<usize, Error> {
    if let Some(index) = archive.index_for_name(entry) {
        return Ok(index);
    }
    let found_elsewhere = archive
        .file_names()
        .find(|name| {
            name.rsplit(['/', '\\'])
                .next()
                .is_some_and(|base| base.eq_ignore_ascii_case(entry))
        })
        .map(str::to_owned);
    Err(Error::MissingEntry {
        id: id.to_owned(),
        entry,
        found_elsewhere,
    })
}

fn read_entry(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    id: &str,
    index: usize,
    entry: &'static str,
    limit: u64,
) -> Result<Vec<u8>, Error> {
    let bad = |reason: String| Error::BadEntry {
        id: id.to_owned(),
        entry,
        reason,
    };
    let file = archive
        .by_index(index)
        .map_err(|err| bad(err.to_string()))?;
    if file.is_dir() {
        return Err(bad("it is a directory".to_owned()));
    }
    let declared = file.size();
    if declared > limit {
        return Err(Error::EntryTooLarge {
            id: id.to_owned(),
            entry,
            size: declared,
            limit,
            declared: true,
        });
    }
    // `declared <= limit` here, and the limit is what the caller agreed to hold in memory.
    let capacity = usize::try_from(declared).unwrap_or(0);
    let mut data = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|err| bad(err.to_string()))?;
    let actual = data.len() as u64;
    if actual > limit {
        return Err(Error::EntryTooLarge {
            id: id.to_owned(),
            entry,
            size: declared,
            limit,
            declared: false,
        });
    }
    if actual != declared {
        return Err(bad(format!(
            "it decompresses to {actual} bytes but its header declares {declared}"
        )));
    }
    Ok(data)
}

/// The number of entries the end-of-central-directory record declares, read without the
/// zip crate, or `None` if the record cannot be found (the zip reader then reports why).
fn eocd_entry_count(bytes: &[u8]) -> Option<u64> {
    const EOCD_SIG: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const ZIP64_LOCATOR_SIG: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const ZIP64_EOCD_SIG: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    const EOCD_LEN: usize = 22;

    // Every offset may come from hostile input: all arithmetic is checked.
    let slice = |at: usize, len: usize| bytes.get(at..at.checked_add(len)?);
    let u16_at = |at: usize| -> Option<u64> {
        let b: [u8; 2] = slice(at, 2)?.try_into().ok()?;
        Some(u64::from(u16::from_le_bytes(b)))
    };
    let u64_at = |at: usize| -> Option<u64> {
        let b: [u8; 8] = slice(at, 8)?.try_into().ok()?;
        Some(u64::from_le_bytes(b))
    };

    // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
    let last = bytes.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    let eocd = (first..=last).rev().find(|&at| {
        slice(at, 4) == Some(&EOCD_SIG[..])
            && u16_at(at + 20)
                .is_some_and(|comment| at + EOCD_LEN + comment as usize == bytes.len())
    })?;
    // Entries on this disk, as the zip crate reads them.
    let count = u16_at(eocd + 8)?;
    if count != 0xFFFF {
        return Some(count);
    }
    let locator = eocd.checked_sub(20)?;
    if slice(locator, 4) != Some(&ZIP64_LOCATOR_SIG[..]) {
        return Some(count);
    }
    let zip64_eocd = usize::try_from(u64_at(locator + 8)?).ok()?;
    if slice(zip64_eocd, 4) != Some(&ZIP64_EOCD_SIG[..]) {
        return None;
    }
    u64_at(zip64_eocd.checked_add(24)?)
}

/// Writes a `.ndp` package holding `manifest_json` as `manifest.json` and `wasm` as
/// `plugin.wasm`, both deflated, at the zip root.
///
/// The output is deterministic (fixed 1980-01-01 timestamps, mode 0644), so packing the
/// same inputs twice gives the same SHA-256. The manifest is *not* validated here; call
/// [`Manifest::parse`] first when that matters.
///
/// # Errors
///
/// [`Error::Pack`] if the zip writer fails (inputs larger than 4 GiB are written as
/// zip64, so in practice only on allocation failure).
pub fn pack(manifest_json: &[u8], wasm: &[u8]) -> Result<Vec<u8>, Error> {
    let fail = |err: &dyn std::fmt::Display| Error::Pack {
        reason: err.to_string(),
    };
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in [(MANIFEST_ENTRY, manifest_json), (WASM_ENTRY, wasm)] {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644)
            .large_file(data.len() as u64 >= u64::from(u32::MAX));
        writer.start_file(name, options).map_err(|e| fail(&e))?;
        writer.write_all(data).map_err(|e| fail(&e))?;
    }
    let cursor = writer.finish().map_err(|e| fail(&e))?;
    Ok(cursor.into_inner())
}

/// The plugin id for a package file name: the name without its `.ndp` extension, checked
/// with [`validate_plugin_id`]. Takes a file *name*, not a path.
///
/// # Errors
///
/// [`Error::NotNdpFileName`] if `name` does not end in `.ndp` (case-sensitive, as in
/// Navidrome), and [`Error::InvalidPluginId`] if what is left is not a valid id.
///
/// ```
/// use nd_manifest::plugin_id_from_file_name;
/// assert_eq!(plugin_id_from_file_name("wikimedia.ndp").unwrap(), "wikimedia");
/// assert!(plugin_id_from_file_name("wikimedia.zip").is_err());
/// assert!(plugin_id_from_file_name("../evil.ndp").is_err());
/// ```
pub fn plugin_id_from_file_name(name: &str) -> Result<String, Error> {
    let id = name
        .strip_suffix(PACKAGE_EXTENSION)
        .ok_or_else(|| Error::NotNdpFileName {
            name: name.to_owned(),
        })?;
    validate_plugin_id(id)?;
    Ok(id.to_owned())
}

/// Checks that `id` can name a directory on any platform (spec §5.1, Go's
/// `filepath.IsLocal` on both Unix and Windows).
///
/// Refused: the empty string, `.` and `..`, more than [`MAX_PLUGIN_ID_LEN`] bytes, `/`
/// and `\`, NUL and other control characters, a trailing dot or space, `:` (drive
/// letters such as `C:`, and NTFS streams), the other characters Windows forbids in file
/// names (`< > " | ? *`), and Windows device names such as `CON`, `nul.txt` or `COM1`.
///
/// # Errors
///
/// [`Error::InvalidPluginId`] naming the rule that failed.
pub fn validate_plugin_id(id: &str) -> Result<(), Error> {
    let fail = |reason| {
        Err(Error::InvalidPluginId {
            id: id.to_owned(),
            reason,
        })
    };
    if id.is_empty() {
        return fail("it is empty");
    }
    if id == "." || id == ".." {
        return fail("it is a relative directory name");
    }
    if id.len() > MAX_PLUGIN_ID_LEN {
        return fail("it is longer than 128 bytes");
    }
    if id.contains(['/', '\\']) {
        return fail("it contains a path separator");
    }
    if id.chars().any(char::is_control) {
        return fail("it contains a control character");
    }
    if id.ends_with(['.', ' ']) {
        return fail("it ends with a dot or a space");
    }
    if id.contains(':') {
        return fail("it contains ':', which would be a drive letter or stream name on Windows");
    }
    if id.contains(['<', '>', '"', '|', '?', '*']) {
        return fail("it contains a character that Windows forbids in file names");
    }
    if is_windows_device_name(id) {
        return fail("it is a reserved device name on Windows");
    }
    Ok(())
}

fn is_windows_device_name(id: &str) -> bool {
    // Windows ignores everything from the first dot, and trailing spaces before it.
    let stem = id.split('.').next().unwrap_or(id).trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let (Some(prefix), Some(digit)) = (upper.get(..3), upper.get(3..)) else {
                return false;
            };
            matches!(prefix, "COM" | "LPT")
                && matches!(
                    digit,
                    "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"
                )
        }
    }
}

#[cfg(test)]
mod tests;
