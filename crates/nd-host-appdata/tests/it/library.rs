//! `library_getlibrary` and `library_getalllibraries` (spec §3.9), and the libraries' files
//! at `/libraries/<id>` through the jailed WASI mounts (spec §6.6).

use std::fs;

use nd_host_appdata::library::{library_mounts, mount_point};
use nd_host_appdata::provider::Scope;
use nd_testkit::fixture_permissions;
use serde_json::{Value, json};

use crate::support::*;

fn library_json(world: &World, id: i32, filesystem: bool) -> Value {
    let mut lib = match id {
        1 => json!({
            "id": 1, "name": "Music", "lastScanAt": 1_700_000_001,
            "totalSongs": 2, "totalAlbums": 1, "totalArtists": 1,
            "totalSize": 2000, "totalDuration": 360,
        }),
        2 => json!({
            "id": 2, "name": "Audiobooks", "lastScanAt": 1_700_000_002,
            "totalSongs": 1, "totalAlbums": 1, "totalArtists": 1,
            "totalSize": 1000, "totalDuration": 3600.5,
        }),
        _ => unreachable!(),
    };
    if filesystem {
        lib["path"] = json!(world.lib(id).to_string_lossy());
        lib["mountPoint"] = json!(format!("/libraries/{id}"));
    }
    lib
}

#[test]
fn the_fixture_manifest_grants_library_with_filesystem() {
    let perms = fixture_permissions(FIXTURE);
    assert!(perms.library.as_ref().is_some_and(|l| l.filesystem));
    for granted in [
        perms.storage.is_some(),
        perms.users.is_some(),
        perms.subsonicapi.is_some(),
        perms.artwork.is_some(),
        perms.matcher.is_some(),
        perms.scrobble_retriever.is_some(),
    ] {
        assert!(granted);
    }
}

#[test]
fn all_libraries_with_and_without_filesystem() {
    let world = World::new();
    let p = world.load("lib-fs", Scope::everything(), true);
    assert_eq!(
        call(&p, "library_getalllibraries", json!({})),
        json!({"result": [library_json(&world, 1, true), library_json(&world, 2, true)]})
    );
    // An integral float is written as Go writes it.
    let raw = call_raw(&p, "library_getlibrary", r#"{"id":1}"#);
    assert!(
        raw.contains(r#""totalDuration":360"#) && !raw.contains("360.0"),
        "{raw}"
    );

    let p = world.load("lib-meta", Scope::everything(), false);
    assert_eq!(
        call(&p, "library_getalllibraries", json!({})),
        json!({"result": [library_json(&world, 1, false), library_json(&world, 2, false)]})
    );
    assert_eq!(
        call(&p, "library_getlibrary", json!({"id": 2})),
        json!({"result": library_json(&world, 2, false)})
    );
}

#[test]
fn scope_filters_libraries_and_refuses_others_whether_they_exist_or_not() {
    let world = World::new();
    let p = world.load("lib-scoped", libraries_only(&[2]), true);
    assert_eq!(
        call(&p, "library_getalllibraries", json!({})),
        json!({"result": [library_json(&world, 2, true)]})
    );
    assert_eq!(
        call(&p, "library_getlibrary", json!({"id": 2})),
        json!({"result": library_json(&world, 2, true)})
    );
    for id in [1, 99] {
        assert_eq!(
            call(&p, "library_getlibrary", json!({ "id": id })),
            error(&format!(
                "library not accessible: library ID {id} is not in the allowed list"
            ))
        );
    }

    let p = world.load("lib-all", Scope::everything(), false);
    assert_eq!(
        call(&p, "library_getlibrary", json!({"id": 99})),
        error("library not found: data not found")
    );
    assert_eq!(
        call(&p, "library_getlibrary", json!({"id": 1.5})),
        error(
            "json: cannot unmarshal number 1.5 into Go struct field LibraryGetLibraryRequest.id of type int32"
        )
    );
}

#[test]
fn no_library_scope_lists_nothing_and_asks_the_provider_nothing() {
    let world = World::new();
    let p = world.load("lib-none", nothing(), true);
    let before = world
        .app
        .library_lookups
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(call(&p, "library_getalllibraries", json!({})), json!({}));
    assert_eq!(
        call(&p, "library_getlibrary", json!({"id": 1})),
        error("library not accessible: library ID 1 is not in the allowed list")
    );
    assert_eq!(
        world
            .app
            .library_lookups
            .load(std::sync::atomic::Ordering::SeqCst),
        before
    );
    let e = fs_error(
        &p,
        json!({"op": "read_file", "path": "/libraries/1/song.txt"}),
    );
    assert!(e.contains("No such file or directory"), "{e}");
}

#[test]
fn mounts_follow_filesystem_scope_and_write_access() {
    let world = World::new();
    let app = world.app.as_ref();
    assert!(
        library_mounts(app, &Scope::everything(), false)
            .unwrap()
            .is_empty()
    );
    assert!(library_mounts(app, &nothing(), true).unwrap().is_empty());

    let mounts = library_mounts(app, &libraries_only(&[2]), true).unwrap();
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].guest, "/libraries/2");
    assert_eq!(mounts[0].host, world.lib(2));
    assert!(!mounts[0].writable);

    let writable = Scope {
        allow_write_access: true,
        ..Scope::everything()
    };
    let mounts = library_mounts(app, &writable, true).unwrap();
    assert_eq!(
        mounts
            .iter()
            .map(|m| (m.guest.as_str(), m.writable))
            .collect::<Vec<_>>(),
        [("/libraries/1", true), ("/libraries/2", true)]
    );
    assert_eq!(mount_point(7), "/libraries/7");

    // A library folder that vanished is skipped instead of failing the plugin's load.
    fs::remove_dir_all(world.lib(2)).unwrap();
    let mounts = library_mounts(app, &Scope::everything(), true).unwrap();
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].guest, "/libraries/1");
}

#[test]
fn files_are_listed_and_read_through_the_mounts() {
    let world = World::new();
    let p = world.load("lib-read", Scope::everything(), true);
    assert_eq!(
        fs_op(&p, json!({"op": "list_dir", "path": "/libraries/1"})),
        json!({"entries": ["album", "song.txt"]})
    );
    assert_eq!(
        fs_op(
            &p,
            json!({"op": "read_file", "path": "/libraries/1/album/track.txt"})
        ),
        json!({"data": "track one"})
    );
    assert_eq!(
        fs_op(
            &p,
            json!({"op": "read_file", "path": "/libraries/2/book.txt"})
        ),
        json!({"data": "chapter one"})
    );
    assert_eq!(
        fs_op(&p, json!({"op": "stat", "path": "/libraries/1/album"})),
        json!({"isDir": true, "isFile": false, "isSymlink": false, "len": fs::metadata(world.lib(1).join("album")).unwrap().len()})
    );

    // Only the allowed libraries are mounted.
    let p = world.load("lib-read-scoped", libraries_only(&[1]), true);
    let e = fs_error(
        &p,
        json!({"op": "read_file", "path": "/libraries/2/book.txt"}),
    );
    assert!(e.contains("No such file or directory"), "{e}");
    // Without filesystem access nothing is mounted.
    let p = world.load("lib-read-meta", Scope::everything(), false);
    let e = fs_error(&p, json!({"op": "list_dir", "path": "/libraries/1"}));
    assert!(e.contains("No such file or directory"), "{e}");
}

#[test]
fn read_only_mounts_refuse_writes_symlinks_and_removal() {
    let world = World::new();
    let p = world.load("lib-ro", Scope::everything(), true);
    for path in ["/libraries/1/new.txt", "/libraries/1/song.txt"] {
        fs_error(
            &p,
            json!({"op": "write_file", "path": path, "data": "overwritten"}),
        );
    }
    assert!(!world.lib(1).join("new.txt").exists());
    assert_eq!(
        fs::read_to_string(world.lib(1).join("song.txt")).unwrap(),
        "la la la"
    );

    fs_error(
        &p,
        json!({"op": "symlink", "path": "/libraries/1/link", "target": "song.txt"}),
    );
    assert!(fs::symlink_metadata(world.lib(1).join("link")).is_err());

    fs_error(&p, json!({"op": "remove", "path": "/libraries/1/song.txt"}));
    assert!(world.lib(1).join("song.txt").exists());
}

#[test]
fn writable_mounts_write_but_still_refuse_symlinks() {
    let world = World::new();
    let scope = Scope {
        allow_write_access: true,
        ..Scope::everything()
    };
    let p = world.load("lib-rw", scope, true);
    assert_eq!(
        fs_op(
            &p,
            json!({"op": "write_file", "path": "/libraries/1/tags.txt", "data": "retagged"})
        ),
        json!({"written": 8})
    );
    assert_eq!(
        fs::read_to_string(world.lib(1).join("tags.txt")).unwrap(),
        "retagged"
    );
    assert_eq!(
        fs_op(&p, json!({"op": "remove", "path": "/libraries/1/tags.txt"})),
        json!({"removed": true})
    );
    assert!(!world.lib(1).join("tags.txt").exists());

    for (link, target) in [
        ("/libraries/1/link", "song.txt"),
        ("/libraries/1/abs", "/etc/passwd"),
        ("/libraries/1/up", "../secret.txt"),
    ] {
        let e = fs_error(&p, json!({"op": "symlink", "path": link, "target": target}));
        assert!(e.contains("Operation not permitted"), "{link}: {e}");
    }
    for name in ["link", "abs", "up"] {
        assert!(
            fs::symlink_metadata(world.lib(1).join(name)).is_err(),
            "{name} was created"
        );
    }
}

#[test]
fn paths_cannot_climb_out_of_a_library() {
    let world = World::new();
    let scope = Scope {
        allow_write_access: true,
        ..Scope::everything()
    };
    let p = world.load("lib-escape", scope, true);
    for path in [
        "/libraries/1/../../secret.txt",
        "/libraries/1/../secret.txt",
        "/libraries/../secret.txt",
        "/secret.txt",
    ] {
        let e = fs_error(&p, json!({"op": "read_file", "path": path}));
        assert!(!e.contains("top secret"), "{path}: {e}");
    }
    let e = fs_error(
        &p,
        json!({"op": "read_file", "path": "/libraries/1/../2/book.txt"}),
    );
    assert!(e.contains("Operation not permitted"), "{e}");
    fs_error(
        &p,
        json!({"op": "write_file", "path": "/libraries/1/../../escaped.txt", "data": "x"}),
    );
    assert!(!world.root.path().join("escaped.txt").exists());
    assert!(!world.root.path().join("lib1/../escaped.txt").exists());
}

#[test]
fn existing_symlinks_inside_a_library_are_followed() {
    let world = World::new();
    std::os::unix::fs::symlink("song.txt", world.lib(1).join("alias.txt")).unwrap();
    let p = world.load("lib-links", Scope::everything(), true);
    assert_eq!(
        fs_op(
            &p,
            json!({"op": "read_file", "path": "/libraries/1/alias.txt"})
        ),
        json!({"data": "la la la"})
    );
    assert_eq!(
        fs_op(&p, json!({"op": "stat", "path": "/libraries/1/alias.txt"}))["isFile"],
        json!(true)
    );
}
