//! Unit tests for `ndp.rs`: package layout and reproducibility.

use std::io::Read;

use super::*;

fn entries(path: &Path) -> Vec<(String, CompressionMethod, Vec<u8>)> {
    let file = std::fs::File::open(path).expect("open");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read");
            (entry.name().to_string(), entry.compression(), bytes)
        })
        .collect()
}

#[test]
fn packs_manifest_and_wasm_at_the_root_deflated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("p.ndp");
    write(&dest, b"{\"name\":\"p\"}", b"\0asm\x01\0\0\0").expect("write");
    let got = entries(&dest);
    assert_eq!(
        got,
        [
            (
                "manifest.json".to_string(),
                CompressionMethod::Deflated,
                b"{\"name\":\"p\"}".to_vec()
            ),
            (
                "plugin.wasm".to_string(),
                CompressionMethod::Deflated,
                b"\0asm\x01\0\0\0".to_vec()
            ),
        ]
    );
    assert!(!dir.path().join("p.ndp.tmp").exists());
}

#[test]
fn output_is_reproducible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a.ndp"), dir.path().join("b.ndp"));
    write(&a, b"{}", b"wasm").expect("write a");
    write(&b, b"{}", b"wasm").expect("write b");
    assert_eq!(
        std::fs::read(a).expect("read a"),
        std::fs::read(b).expect("read b")
    );
}
