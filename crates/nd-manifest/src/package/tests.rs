//! Unit tests of plugin ids, hex, packing and the end-record reader. Hostile zips are
//! in `tests/it/package.rs`.

use super::*;

#[test]
fn good_ids() {
    for id in [
        "wikimedia",
        "test-metadata-agent",
        "my plugin",
        "a.b",
        "ünïcödé",
        ".hidden",
        "x".repeat(128).as_str(),
        "COM0",
        "COMMA",
        "console",
    ] {
        assert!(
            validate_plugin_id(id).is_ok(),
            "{id:?}: {:?}",
            validate_plugin_id(id)
        );
    }
}

#[test]
fn bad_ids() {
    for (id, why) in [
        ("", "empty"),
        (".", "relative"),
        ("..", "relative"),
        ("a/b", "separator"),
        ("..\\x", "separator"),
        ("/abs", "separator"),
        ("nul\0byte", "control"),
        ("tab\there", "control"),
        ("trailing.", "dot or a space"),
        ("trailing ", "dot or a space"),
        ("C:", "':'"),
        ("c:evil", "':'"),
        ("a<b", "Windows forbids"),
        ("what?", "Windows forbids"),
        ("star*", "Windows forbids"),
        ("CON", "device"),
        ("nul.txt", "device"),
        ("Com1", "device"),
        ("lpt9.x", "device"),
        ("aux .x", "device"),
        (&"x".repeat(129), "128 bytes"),
    ] {
        match validate_plugin_id(id) {
            Ok(()) => panic!("{id:?} was accepted"),
            Err(err) => assert!(err.to_string().contains(why), "{id:?}: {err}"),
        }
    }
}

#[test]
fn ids_from_file_names() {
    assert_eq!(
        plugin_id_from_file_name("a.b.ndp").ok().as_deref(),
        Some("a.b")
    );
    assert!(matches!(
        plugin_id_from_file_name("a.NDP"),
        Err(Error::NotNdpFileName { .. })
    ));
    assert!(matches!(
        plugin_id_from_file_name("a.ndp.tmp"),
        Err(Error::NotNdpFileName { .. })
    ));
    assert!(matches!(
        plugin_id_from_file_name(".ndp"),
        Err(Error::InvalidPluginId { .. })
    ));
    assert!(matches!(
        plugin_id_from_file_name("...ndp"),
        Err(Error::InvalidPluginId { .. })
    ));
    assert!(matches!(
        plugin_id_from_file_name("dir/x.ndp"),
        Err(Error::InvalidPluginId { .. })
    ));
}

#[test]
fn hex_is_lowercase() {
    assert_eq!(hex(&[]), "");
    assert_eq!(
        hex(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]),
        "0123456789abcdef"
    );
}

#[test]
fn pack_is_deterministic_and_readable() {
    let manifest = br#"{"name":"n","author":"a","version":"1"}"#;
    let first = pack(manifest, b"\0asm\x01\0\0\0").expect("pack");
    let second = pack(manifest, b"\0asm\x01\0\0\0").expect("pack");
    assert_eq!(first, second);
    assert_eq!(eocd_entry_count(&first), Some(2));
    let package = Package::from_bytes("p", &first, &PackageLimits::default()).expect("reads back");
    assert_eq!(package.manifest_json, manifest);
    assert_eq!(package.wasm, b"\0asm\x01\0\0\0");
    let sha: [u8; 32] = Sha256::digest(&first).into();
    assert_eq!(package.sha256, sha);
    assert_eq!(package.sha256_hex(), hex(&sha));
    assert_eq!(
        package.wasm_sha256_hex(),
        "93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476"
    );
}

#[test]
fn eocd_count_handles_comments_and_garbage() {
    assert_eq!(eocd_entry_count(b""), None);
    assert_eq!(eocd_entry_count(&[0u8; 100]), None);
    let mut with_comment = pack(b"{}", b"").expect("pack");
    // Set a 5-byte archive comment: patch the comment length and append it.
    let len = with_comment.len();
    with_comment[len - 2..].copy_from_slice(&5u16.to_le_bytes());
    with_comment.extend_from_slice(b"PK\x05\x06!");
    assert_eq!(eocd_entry_count(&with_comment), Some(2));
}

#[test]
fn eocd_count_survives_hostile_zip64_locators() {
    for offset in [u64::MAX, u64::MAX - 3, u64::MAX - 23, 0, 1 << 40] {
        let mut bytes = Vec::new();
        // Zip64 end-of-central-directory locator pointing at `offset`.
        bytes.extend_from_slice(b"PK\x06\x07");
        bytes.extend_from_slice(&0_u32.to_le_bytes());
        bytes.extend_from_slice(&offset.to_le_bytes());
        bytes.extend_from_slice(&1_u32.to_le_bytes());
        // End record whose 0xFFFF counts defer to zip64.
        bytes.extend_from_slice(b"PK\x05\x06");
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&0xFFFF_u16.to_le_bytes());
        bytes.extend_from_slice(&0xFFFF_u16.to_le_bytes());
        bytes.extend_from_slice(&[0xff; 8]);
        bytes.extend_from_slice(&0_u16.to_le_bytes());
        assert_eq!(eocd_entry_count(&bytes), None, "offset {offset}");
        assert!(Package::from_bytes("p", &bytes, &PackageLimits::default()).is_err());
    }
}
