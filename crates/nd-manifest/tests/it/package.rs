//! Reading `.ndp` packages: real zips built with the `zip` crate, and hostile ones built
//! by hand in [`crate::raw_zip`].

use std::io::{Cursor, Write};

use nd_manifest::{Error, Package, PackageLimits, pack};
use zip::write::SimpleFileOptions;

use crate::raw_zip::{RawEntry, build, crc32, deflate_zeros};

const MANIFEST: &[u8] = br#"{"name": "Test", "author": "nd", "version": "1.0.0", "permissions": {"websocket": {"requiredHosts": ["localhost:*", "a.com"]}}}"#;
const WASM: &[u8] = b"\0asm\x01\0\0\0";
const MIB: u64 = 1 << 20;

/// A zip of `(name, data, method)` entries, written by the `zip` crate.
fn zip_of(entries: &[(&str, &[u8], zip::CompressionMethod)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, method) in entries {
        let options = SimpleFileOptions::default().compression_method(*method);
        if name.ends_with('/') {
            writer.add_directory(*name, options).expect("directory");
        } else {
            writer.start_file(*name, options).expect("start");
            writer.write_all(data).expect("write");
        }
    }
    writer.finish().expect("finish").into_inner()
}

fn read(bytes: &[u8]) -> Result<Package, Error> {
    Package::from_bytes("test-plugin", bytes, &PackageLimits::default())
}

fn read_err(bytes: &[u8], limits: &PackageLimits) -> Error {
    match Package::from_bytes("test-plugin", bytes, limits) {
        Ok(package) => panic!(
            "expected an error, read {} bytes of wasm",
            package.wasm.len()
        ),
        Err(err) => err,
    }
}

#[test]
fn a_real_package_is_read_and_other_entries_are_ignored() {
    use zip::CompressionMethod::{Deflated, Stored};
    let bytes = zip_of(&[
        ("README.md", b"hello", Deflated),
        ("assets/", b"", Stored),
        ("assets/icon.png", b"\x89PNG", Stored),
        ("manifest.json", MANIFEST, Deflated),
        ("plugin.wasm", WASM, Stored),
    ]);
    let package = read(&bytes).expect("valid package");
    assert_eq!(package.id, "test-plugin");
    assert_eq!(package.manifest.name, "Test");
    assert_eq!(package.manifest_json, MANIFEST);
    assert_eq!(package.wasm, WASM);
    assert_eq!(package.sha256_hex().len(), 64);
    assert_ne!(package.sha256, package.wasm_sha256);
    // The inert `localhost:*` is a warning carried by the package.
    assert_eq!(package.warnings.len(), 1);
    assert_eq!(
        package.warnings[0].path,
        "/permissions/websocket/requiredHosts/0"
    );
}

#[test]
fn pack_round_trips_large_modules() {
    let wasm: Vec<u8> = (0..3_000_000_u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let bytes = pack(MANIFEST, &wasm).expect("pack");
    let package = read(&bytes).expect("read");
    assert_eq!(package.wasm, wasm);
    assert_eq!(package.manifest_json, MANIFEST);
}

#[test]
fn missing_entries() {
    use zip::CompressionMethod::Deflated;
    let only_wasm = zip_of(&[("plugin.wasm", WASM, Deflated)]);
    assert_eq!(
        read_err(&only_wasm, &PackageLimits::default()).to_string(),
        "plugin 'test-plugin': package missing manifest.json"
    );
    let only_manifest = zip_of(&[("manifest.json", MANIFEST, Deflated)]);
    assert_eq!(
        read_err(&only_manifest, &PackageLimits::default()).to_string(),
        "plugin 'test-plugin': package missing plugin.wasm"
    );
    let empty = zip_of(&[]);
    assert!(
        read_err(&empty, &PackageLimits::default())
            .to_string()
            .contains("package missing manifest.json")
    );
    // Near misses do not count.
    let near = zip_of(&[
        ("Manifest.json", MANIFEST, Deflated),
        ("./plugin.wasm", WASM, Deflated),
        ("/manifest.json", MANIFEST, Deflated),
    ]);
    assert!(
        read_err(&near, &PackageLimits::default())
            .to_string()
            .contains("package missing manifest.json")
    );
    // A directory with the right name is not the file.
    let dir = zip_of(&[
        ("manifest.json/", b"", zip::CompressionMethod::Stored),
        ("plugin.wasm", WASM, Deflated),
    ]);
    assert!(
        read_err(&dir, &PackageLimits::default())
            .to_string()
            .contains("package missing manifest.json")
    );
}

#[test]
fn entries_in_a_sub_folder_only() {
    use zip::CompressionMethod::Deflated;
    let bytes = zip_of(&[
        ("my-plugin/manifest.json", MANIFEST, Deflated),
        ("my-plugin/plugin.wasm", WASM, Deflated),
    ]);
    let err = read_err(&bytes, &PackageLimits::default());
    assert_eq!(
        err.to_string(),
        "plugin 'test-plugin': package missing manifest.json (found \"my-plugin/manifest.json\"; both files must be at the zip root)"
    );
    assert!(matches!(
        err,
        Error::MissingEntry {
            entry: "manifest.json",
            ..
        }
    ));
}

#[test]
fn garbage_is_not_a_zip() {
    for bytes in [
        &b""[..],
        b"not a zip at all",
        &[0u8; 4096],
        b"PK\x05\x06",
        b"PK\x03\x04garbage",
    ] {
        match read_err(bytes, &PackageLimits::default()) {
            Error::NotZip { id, reason } => {
                assert_eq!(id, "test-plugin");
                assert!(!reason.is_empty());
            }
            other => panic!("{bytes:?}: {other}"),
        }
    }
}

#[test]
fn corrupted_packages_never_panic() {
    let good = pack(MANIFEST, &[7u8; 5000]).expect("pack");
    // Truncations.
    for len in (0..good.len()).step_by(7) {
        let _ = read(&good[..len]);
    }
    // Single-byte corruptions everywhere, with several values.
    for at in 0..good.len() {
        for value in [0x00, 0xff, good[at] ^ 0x01, good[at].wrapping_add(0x80)] {
            let mut bad = good.clone();
            bad[at] = value;
            let _ = read(&bad);
        }
    }
}

#[test]
fn corrupt_deflate_data_is_a_bad_entry() {
    let manifest = RawEntry::stored("manifest.json", MANIFEST);
    let broken = RawEntry {
        name: "plugin.wasm".into(),
        method: 8,
        crc32: crc32(WASM),
        data: vec![0xff; 16], // BTYPE 11 is reserved: invalid deflate
        declared_size: WASM.len() as u32,
    };
    let err = read_err(&build(&[manifest, broken]), &PackageLimits::default());
    assert!(
        matches!(
            err,
            Error::BadEntry {
                entry: "plugin.wasm",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("plugin 'test-plugin': cannot read plugin.wasm: "),
        "{err}"
    );
}

#[test]
fn crc_mismatch_is_a_bad_entry() {
    let manifest = RawEntry::stored("manifest.json", MANIFEST);
    let mut wasm = RawEntry::stored("plugin.wasm", WASM);
    wasm.crc32 ^= 1;
    let err = read_err(&build(&[manifest, wasm]), &PackageLimits::default());
    assert!(
        matches!(
            err,
            Error::BadEntry {
                entry: "plugin.wasm",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn unsupported_compression_is_a_bad_entry() {
    let manifest = RawEntry::stored("manifest.json", MANIFEST);
    let mut wasm = RawEntry::stored("plugin.wasm", WASM);
    wasm.method = 12; // bzip2, not built in
    let err = read_err(&build(&[manifest, wasm]), &PackageLimits::default());
    assert!(
        matches!(
            err,
            Error::BadEntry {
                entry: "plugin.wasm",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn duplicate_names_are_refused() {
    let entries = [
        RawEntry::stored("manifest.json", MANIFEST),
        RawEntry::stored("plugin.wasm", WASM),
        RawEntry::stored(
            "manifest.json",
            br#"{"name": "evil twin", "author": "x", "version": "1"}"#,
        ),
    ];
    let err = read_err(&build(&entries), &PackageLimits::default());
    assert_eq!(
        err.to_string(),
        "plugin 'test-plugin': package has duplicate entry names"
    );
}

#[test]
fn too_many_entries() {
    let mut entries: Vec<RawEntry> = (0..1001)
        .map(|i| RawEntry::stored(&format!("junk/{i}"), b""))
        .collect();
    entries.push(RawEntry::stored("manifest.json", MANIFEST));
    entries.push(RawEntry::stored("plugin.wasm", WASM));
    let bytes = build(&entries);
    let err = read_err(&bytes, &PackageLimits::default());
    assert_eq!(
        err.to_string(),
        "plugin 'test-plugin': package has 1003 entries, more than the limit of 1000"
    );
    // The same package is fine with a higher limit.
    let limits = PackageLimits {
        max_entries: 1003,
        ..PackageLimits::default()
    };
    assert!(Package::from_bytes("test-plugin", &bytes, &limits).is_ok());
}

#[test]
fn too_many_entries_in_a_zip64_archive() {
    // More than 65535 entries forces the zip64 end record, whose count is read too.
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..65_536 {
        writer.start_file(format!("{i}"), options).expect("start");
    }
    let bytes = writer.finish().expect("finish").into_inner();
    match read_err(&bytes, &PackageLimits::default()) {
        Error::TooManyEntries { count, limit, .. } => assert_eq!((count, limit), (65_536, 1000)),
        other => panic!("{other}"),
    }
}

#[test]
fn the_zeros_stream_is_valid_deflate() {
    // Prove the hand-made stream inflates to what it claims, with a correct CRC.
    for len in [1, 258, 259, 1000, MIB] {
        let zeros = vec![0u8; len as usize];
        let wasm = RawEntry {
            name: "plugin.wasm".into(),
            method: 8,
            crc32: crc32(&zeros),
            data: deflate_zeros(len),
            declared_size: len as u32,
        };
        let package =
            read(&build(&[RawEntry::stored("manifest.json", MANIFEST), wasm])).expect("valid");
        assert_eq!(package.wasm, zeros);
    }
}

/// 200 MiB of zeros, deflated to about 1.3 MB, declared honestly.
#[test]
fn honest_zip_bomb_is_refused_by_its_declared_size() {
    let size = 200 * MIB;
    let bomb = RawEntry {
        name: "plugin.wasm".into(),
        method: 8,
        crc32: 0,
        data: deflate_zeros(size),
        declared_size: size as u32,
    };
    let bytes = build(&[RawEntry::stored("manifest.json", MANIFEST), bomb]);
    assert!(bytes.len() < 2 * MIB as usize);
    let err = read_err(&bytes, &PackageLimits::default());
    assert_eq!(
        err.to_string(),
        "plugin 'test-plugin': plugin.wasm is larger than the limit of 134217728 bytes (its header declares 209715200 bytes)"
    );
    assert!(matches!(err, Error::EntryTooLarge { declared: true, .. }));
    // The same check protects manifest.json.
    let bomb = RawEntry {
        name: "manifest.json".into(),
        method: 8,
        crc32: 0,
        data: deflate_zeros(size),
        declared_size: size as u32,
    };
    let err = read_err(
        &build(&[bomb, RawEntry::stored("plugin.wasm", WASM)]),
        &PackageLimits::default(),
    );
    assert!(
        matches!(
            err,
            Error::EntryTooLarge {
                entry: "manifest.json",
                declared: true,
                ..
            }
        ),
        "{err}"
    );
}

/// 200 MiB of zeros whose headers claim 1000 bytes: reading stops one byte past the limit.
#[test]
fn lying_zip_bomb_is_stopped_while_decompressing() {
    let size = 200 * MIB;
    let limits = PackageLimits {
        max_wasm_bytes: MIB,
        ..PackageLimits::default()
    };
    let liar = RawEntry {
        name: "plugin.wasm".into(),
        method: 8,
        crc32: 0,
        data: deflate_zeros(size),
        declared_size: 1000,
    };
    let err = read_err(
        &build(&[RawEntry::stored("manifest.json", MANIFEST), liar]),
        &limits,
    );
    assert_eq!(
        err.to_string(),
        "plugin 'test-plugin': plugin.wasm is larger than the limit of 1048576 bytes (it decompresses to more than 1048576 bytes although its header declares 1000)"
    );
    assert!(matches!(
        err,
        Error::EntryTooLarge {
            declared: false,
            size: 1000,
            ..
        }
    ));

    // The manifest, with its default 1 MiB limit.
    let liar = RawEntry {
        name: "manifest.json".into(),
        method: 8,
        crc32: 0,
        data: deflate_zeros(size),
        declared_size: 100,
    };
    let err = read_err(
        &build(&[liar, RawEntry::stored("plugin.wasm", WASM)]),
        &PackageLimits::default(),
    );
    assert!(
        matches!(
            err,
            Error::EntryTooLarge {
                entry: "manifest.json",
                declared: false,
                ..
            }
        ),
        "{err}"
    );
}

/// A real zip whose size fields were patched after writing.
#[test]
fn patched_size_fields_are_caught() {
    let wasm = vec![0u8; 10_000];
    let mut bytes = zip_of(&[
        ("manifest.json", MANIFEST, zip::CompressionMethod::Deflated),
        ("plugin.wasm", &wasm, zip::CompressionMethod::Deflated),
    ]);
    // Patch every header of plugin.wasm to declare 100 bytes instead of 10,000: the local
    // header (signature PK\3\4, size at +22) and the central header (PK\1\2, size at +24).
    let mut patched = 0;
    for at in 0..bytes.len().saturating_sub(46) {
        let local =
            bytes[at..].starts_with(b"PK\x03\x04") && bytes[at + 30..].starts_with(b"plugin.wasm");
        let central =
            bytes[at..].starts_with(b"PK\x01\x02") && bytes[at + 46..].starts_with(b"plugin.wasm");
        let offset = if local {
            22
        } else if central {
            24
        } else {
            continue;
        };
        assert_eq!(
            u32::from_le_bytes(
                bytes[at + offset..at + offset + 4]
                    .try_into()
                    .expect("4 bytes")
            ),
            10_000
        );
        bytes[at + offset..at + offset + 4].copy_from_slice(&100_u32.to_le_bytes());
        patched += 1;
    }
    assert_eq!(patched, 2);
    // Within the limit, the mismatch is reported as such.
    let err = read_err(&bytes, &PackageLimits::default());
    assert_eq!(
        err.to_string(),
        "plugin 'test-plugin': cannot read plugin.wasm: it decompresses to 10000 bytes but its header declares 100"
    );
    // Over the limit, it is a zip bomb.
    let limits = PackageLimits {
        max_wasm_bytes: 5_000,
        ..PackageLimits::default()
    };
    assert!(matches!(
        read_err(&bytes, &limits),
        Error::EntryTooLarge {
            declared: false,
            ..
        }
    ));
}

#[test]
fn manifest_problems_are_wrapped_with_the_plugin_id() {
    let bytes = pack(br#"{"name": "", "permissions": {"matcher": {}}}"#, WASM).expect("pack");
    let err = read_err(&bytes, &PackageLimits::default());
    assert!(
        err.to_string().starts_with(
            "plugin 'test-plugin': manifest.json: invalid manifest (4 problems):\n  /name:"
        ),
        "{err}"
    );
    assert_eq!(err.validation_errors().map(|e| e.len()), Some(4));

    let bytes = pack(b"not json", WASM).expect("pack");
    let err = read_err(&bytes, &PackageLimits::default());
    assert!(
        err.to_string()
            .starts_with("plugin 'test-plugin': manifest.json: manifest is not valid json: "),
        "{err}"
    );
}

#[test]
fn the_id_is_checked_first() {
    let bytes = pack(MANIFEST, WASM).expect("pack");
    for id in ["", "..", "a/b", "C:", "x."] {
        assert!(
            matches!(
                Package::from_bytes(id, &bytes, &PackageLimits::default()),
                Err(Error::InvalidPluginId { .. })
            ),
            "{id:?}"
        );
    }
}
