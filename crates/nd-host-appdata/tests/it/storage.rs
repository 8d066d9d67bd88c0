//! `storage_getstoragepath` and the private read-write `/storage` mount (spec §3.6).

use std::fs;

use nd_host_appdata::provider::Scope;
use nd_host_appdata::storage::{STORAGE_MOUNT_POINT, storage_dir, storage_mount};
use serde_json::json;

use crate::support::*;

#[test]
fn the_storage_path_is_the_mount_point() {
    let world = World::new();
    let p = world.load("storage-path", nothing(), false);
    assert_eq!(
        call_raw(&p, "storage_getstoragepath", "{}"),
        r#"{"result":"/storage"}"#
    );
    assert_eq!(STORAGE_MOUNT_POINT, "/storage");
}

#[test]
fn the_directory_is_created_private_under_the_data_folder() {
    let world = World::new();
    let mount = storage_mount(&world.data(), "my-plugin").unwrap();
    let dir = world.data().join("plugins/my-plugin/storage");
    assert_eq!(mount.host, dir);
    assert_eq!(storage_dir(&world.data(), "my-plugin"), dir);
    assert_eq!(mount.guest, "/storage");
    assert!(mount.writable);
    assert!(dir.is_dir());
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    // Idempotent: files already there survive.
    fs::write(dir.join("kept.txt"), "kept").unwrap();
    storage_mount(&world.data(), "my-plugin").unwrap();
    assert_eq!(fs::read_to_string(dir.join("kept.txt")).unwrap(), "kept");

    for bad in ["", ".", "..", "a/b", "a\\b"] {
        let e = storage_mount(&world.data(), bad).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
    }
    assert!(!world.data().join("plugins/a").exists());
}

#[test]
fn plugins_read_and_write_their_storage() {
    let world = World::new();
    let p = world.load("storage-rw", nothing(), false);
    assert_eq!(
        fs_op(
            &p,
            json!({"op": "write_file", "path": "/storage/state.json", "data": "{\"n\":1}"})
        ),
        json!({"written": 7})
    );
    let dir = world.data().join("plugins/storage-rw/storage");
    assert_eq!(
        fs::read_to_string(dir.join("state.json")).unwrap(),
        "{\"n\":1}"
    );
    assert_eq!(
        fs_op(
            &p,
            json!({"op": "read_file", "path": "/storage/state.json"})
        ),
        json!({"data": "{\"n\":1}"})
    );
    fs::create_dir(dir.join("sub")).unwrap();
    assert_eq!(
        fs_op(
            &p,
            json!({"op": "write_file", "path": "/storage/sub/x", "data": "y"})
        ),
        json!({"written": 1})
    );
    assert_eq!(
        fs_op(&p, json!({"op": "list_dir", "path": "/storage"})),
        json!({"entries": ["state.json", "sub"]})
    );
    assert_eq!(
        fs_op(&p, json!({"op": "remove", "path": "/storage/sub/x"})),
        json!({"removed": true})
    );
    assert!(!dir.join("sub/x").exists());
}

#[test]
fn two_ids_of_the_same_wasm_never_see_each_other() {
    let world = World::new();
    let one = world.load("storage-one", nothing(), false);
    let two = world.load("storage-two", nothing(), false);
    fs_op(
        &one,
        json!({"op": "write_file", "path": "/storage/secret.txt", "data": "one's"}),
    );
    let e = fs_error(
        &two,
        json!({"op": "read_file", "path": "/storage/secret.txt"}),
    );
    assert!(e.contains("No such file or directory"), "{e}");
    assert_eq!(
        fs_op(&two, json!({"op": "list_dir", "path": "/storage"})),
        json!({"entries": []})
    );
    fs_op(
        &two,
        json!({"op": "write_file", "path": "/storage/secret.txt", "data": "two's"}),
    );
    assert_eq!(
        fs_op(
            &one,
            json!({"op": "read_file", "path": "/storage/secret.txt"})
        ),
        json!({"data": "one's"})
    );
    let base = world.data().join("plugins");
    assert_eq!(
        fs::read_to_string(base.join("storage-one/storage/secret.txt")).unwrap(),
        "one's"
    );
    assert_eq!(
        fs::read_to_string(base.join("storage-two/storage/secret.txt")).unwrap(),
        "two's"
    );

    // Climbing out of /storage towards the other plugin's folder is refused.
    for path in [
        "/storage/../../storage-one/storage/secret.txt",
        "/storage/../storage/../../storage-one/storage/secret.txt",
    ] {
        let e = fs_error(&two, json!({"op": "read_file", "path": path}));
        assert!(!e.contains("one's"), "{path}: {e}");
    }
    fs_error(
        &two,
        json!({"op": "write_file", "path": "/storage/../escaped.txt", "data": "x"}),
    );
    assert!(!base.join("storage-two/escaped.txt").exists());
}

#[test]
fn storage_refuses_symlinks() {
    let world = World::new();
    let p = world.load("storage-links", Scope::everything(), true);
    fs_op(
        &p,
        json!({"op": "write_file", "path": "/storage/real.txt", "data": "r"}),
    );
    for (link, target) in [
        ("/storage/link", "real.txt"),
        ("/storage/lib", "/libraries/1/song.txt"),
        ("/storage/up", "../../.."),
    ] {
        let e = fs_error(&p, json!({"op": "symlink", "path": link, "target": target}));
        assert!(e.contains("Operation not permitted"), "{link}: {e}");
    }
    let dir = world.data().join("plugins/storage-links/storage");
    for name in ["link", "lib", "up"] {
        assert!(
            fs::symlink_metadata(dir.join(name)).is_err(),
            "{name} was created"
        );
    }
}
