//! On-disk compilation cache.
//!
//! An entry is the serialized Wasmer artifact of one module, stored as
//! `<dir>/<key>.ndpc` where the key is the hex SHA-256 of the wasm bytes plus an engine
//! fingerprint (Wasmer version, compiler, target triple and CPU features, ndp cache format).
//! Wasmer's deserializer does not validate its input (it loads machine code), so a file is
//! never trusted as it is: each entry starts with a header holding the full key and the BLAKE3
//! hash of the artifact, and an entry whose header, key or hash does not match is deleted and
//! the module recompiled. A corrupt or foreign file is therefore a cache miss, never a crash.
//!
//! The directory is capped in bytes; after every insert the oldest entries (by modification
//! time; a hit refreshes it) are removed until the total fits.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const MAGIC: &[u8; 8] = b"NDPCACH2";
const EXT: &str = "ndpc";
/// Alignment of the artifact inside an entry.
const ALIGN: usize = 64;

/// The on-disk cache; cheap to share behind the runtime.
#[derive(Debug)]
pub(crate) struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    fingerprint: String,
}

/// What a lookup found.
pub(crate) enum Lookup {
    Hit(bytes::Bytes),
    Miss,
    /// An entry existed but failed verification; it has been removed.
    Rejected(String),
}

impl DiskCache {
    pub(crate) fn open(dir: &Path, max_bytes: u64, fingerprint: String) -> std::io::Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            max_bytes,
            fingerprint,
        })
    }

    fn key(&self, wasm_sha256: &str) -> String {
        let mut h = blake3::Hasher::new();
        h.update(self.fingerprint.as_bytes());
        h.update(b"\0");
        h.update(wasm_sha256.as_bytes());
        let engine = h.finalize().to_hex();
        format!("{wasm_sha256}-{}", &engine[..16])
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.{EXT}"))
    }

    fn header(&self, key: &str, artifact: &[u8]) -> Vec<u8> {
        let mut header = Vec::with_capacity(256);
        header.extend_from_slice(MAGIC);
        let text = format!("{key}\n{}\n", self.fingerprint);
        header.extend_from_slice(&(text.len() as u32).to_le_bytes());
        header.extend_from_slice(text.as_bytes());
        header.extend_from_slice(blake3::hash(artifact).as_bytes());
        header.extend_from_slice(&(artifact.len() as u64).to_le_bytes());
        // Wasmer's deserializer needs the artifact aligned; pad the header so that the
        // artifact starts at a multiple of ALIGN in the (malloc-aligned) file buffer.
        header.resize(header.len().next_multiple_of(ALIGN), 0);
        header
    }

    /// Looks up the artifact of `wasm_sha256`, verifying the entry before returning it.
    pub(crate) fn get(&self, wasm_sha256: &str) -> Lookup {
        let key = self.key(wasm_sha256);
        let path = self.path(&key);
        let data = match fs::read(&path) {
            Ok(data) => data,
            Err(_) => return Lookup::Miss,
        };
        match self.verify(&key, &data) {
            Ok(start) => {
                // Refresh the mtime so eviction is least-recently-used.
                if let Ok(file) = fs::File::options().append(true).open(&path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                let bytes = bytes::Bytes::from(data);
                Lookup::Hit(bytes.slice(start..))
            }
            Err(why) => {
                let _ = fs::remove_file(&path);
                Lookup::Rejected(why)
            }
        }
    }

    fn verify(&self, key: &str, data: &[u8]) -> Result<usize, String> {
        let rest = data.strip_prefix(MAGIC.as_slice()).ok_or("bad magic")?;
        let (len, rest) = rest.split_first_chunk::<4>().ok_or("truncated header")?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len + 32 + 8 {
            return Err("truncated header".into());
        }
        let (text, rest) = rest.split_at(len);
        let expected = format!("{key}\n{}\n", self.fingerprint);
        if text != expected.as_bytes() {
            return Err("entry belongs to another module or engine".into());
        }
        let (hash, rest) = rest.split_at(32);
        let (size, _) = rest.split_at(8);
        let mut size_bytes = [0u8; 8];
        size_bytes.copy_from_slice(size);
        let start = (MAGIC.len() + 4 + len + 32 + 8).next_multiple_of(ALIGN);
        let artifact = data.get(start..).ok_or("truncated header")?;
        if u64::from_le_bytes(size_bytes) != artifact.len() as u64 {
            return Err("artifact length mismatch".into());
        }
        if blake3::hash(artifact).as_bytes() != hash {
            return Err("artifact hash mismatch".into());
        }
        Ok(start)
    }

    /// Stores an artifact (atomically: write to a temporary file, then rename) and evicts.
    pub(crate) fn put(&self, wasm_sha256: &str, artifact: &[u8]) -> std::io::Result<()> {
        let key = self.key(wasm_sha256);
        let path = self.path(&key);
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(&self.header(&key, artifact))?;
            file.write_all(artifact)?;
            file.sync_data()?;
        }
        fs::rename(&tmp, &path)?;
        self.evict()
    }

    /// Removes the oldest entries until the directory fits in `max_bytes`.
    pub(crate) fn evict(&self) -> std::io::Result<()> {
        let mut entries = Vec::new();
        let mut total = 0u64;
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some(EXT) {
                continue;
            }
            let meta = entry.metadata()?;
            total += meta.len();
            entries.push((
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                meta.len(),
                path,
            ));
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
        Ok(())
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}
