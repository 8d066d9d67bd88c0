//! Every app-data service through the manager, over the real `nd-library` demo catalog
//! (tagged audio files on disk), mirroring Navidrome's testdata suite (spec §8.2):
//! test-library (listing, file reads, refused write and symlink in a read-only mount),
//! test-storage-plugin (isolation between two ids of one package), test-users,
//! test-artwork, test-subsonicapi-plugin (scoped by user), test-matcher,
//! test-scrobble-retriever and test-config.

use std::sync::Arc;

use nd_host_appdata::provider::Scope;
use nd_library::MusicLibrary;
use nd_library::demo::{DemoLibrary, write_demo_library};
use nd_manager::{AppData, Manager};
use serde_json::{Value, json};

use crate::env::Env;

struct Demo {
    env: Env,
    demo: DemoLibrary,
    library: Arc<MusicLibrary>,
    manager: Manager,
}

/// The demo catalog, a manager serving it, and the `appdata` fixture installed under each
/// of `ids` with `scope`, enabled.
fn demo(ids: &[&str], scope: Scope) -> Demo {
    let env = Env::new();
    let demo = write_demo_library(&env.dir.path().join("music")).unwrap();
    let library = Arc::new(MusicLibrary::open(demo.config()).unwrap());
    for id in ids {
        env.put(id, "appdata");
    }
    let manager = env
        .builder()
        .app_data(AppData::from_all(Arc::clone(&library)))
        .build()
        .unwrap();
    manager.start().unwrap();
    for id in ids {
        manager.set_scope(id, scope.clone()).unwrap();
        manager.enable(id).unwrap();
    }
    Demo {
        env,
        demo,
        library,
        manager,
    }
}

impl Demo {
    /// Calls host function `function` through plugin `id`'s `host` export.
    fn host(&self, id: &str, function: &str, req: Value) -> Value {
        let plugin = self.manager.plugin(id).expect("loaded");
        let out = plugin
            .call(
                "host",
                json!({"fn": function, "req": req}).to_string().as_bytes(),
            )
            .unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    /// One file-system operation through plugin `id`'s `fs` export.
    fn fs(&self, id: &str, request: Value) -> Value {
        let plugin = self.manager.plugin(id).expect("loaded");
        let out = plugin.call("fs", request.to_string().as_bytes()).unwrap();
        serde_json::from_slice(&out).unwrap()
    }
}

fn all_users_libraries() -> Scope {
    Scope::everything()
}

const TAKE_OFF: &str = "The Midnight Owls/Night Flight/01 - Take Off.flac";

#[test]
fn library_listing_and_file_reads_through_the_mount() {
    let d = demo(&["appdata"], all_users_libraries());
    let all = d.host("appdata", "library_getalllibraries", json!({}));
    let libraries = all["result"].as_array().unwrap();
    assert_eq!(libraries.len(), 2);
    assert_eq!(libraries[0]["id"], 1);
    assert_eq!(libraries[0]["name"], "Music");
    assert_eq!(libraries[0]["mountPoint"], "/libraries/1");
    assert!(libraries[0]["totalSongs"].as_i64().unwrap() > 0);

    let listing = d.fs("appdata", json!({"op": "list_dir", "path": "/libraries/1"}));
    let entries = listing["entries"].as_array().unwrap();
    assert!(entries.contains(&json!("The Midnight Owls")), "{listing}");

    let path = format!("/libraries/1/{TAKE_OFF}");
    let stat = d.fs("appdata", json!({"op": "stat", "path": path}));
    let on_disk = std::fs::metadata(d.demo.roots[0].path.join(TAKE_OFF)).unwrap();
    assert_eq!(stat["len"], on_disk.len(), "{stat}");
    let read = d.fs("appdata", json!({"op": "read_file", "path": path}));
    assert!(
        read["data"].as_str().unwrap().starts_with("fLaC"),
        "a real FLAC file"
    );
}

#[test]
fn a_read_only_mount_refuses_writes_and_symlinks() {
    let d = demo(&["appdata"], all_users_libraries());
    let write = d.fs(
        "appdata",
        json!({"op": "write_file", "path": "/libraries/1/new.txt", "data": "x"}),
    );
    assert!(write["error"].is_string(), "{write}");
    assert!(!d.demo.roots[0].path.join("new.txt").exists());
    let link = d.fs(
        "appdata",
        json!({"op": "symlink", "path": "/libraries/1/link", "target": "/etc/passwd"}),
    );
    assert!(link["error"].is_string(), "{link}");
    let escape = d.fs(
        "appdata",
        json!({"op": "read_file", "path": "/libraries/1/../../etc/passwd"}),
    );
    assert!(escape["error"].is_string(), "{escape}");

    // With write access granted, writes land in the library; symlinks stay refused.
    d.manager
        .set_scope(
            "appdata",
            Scope {
                allow_write_access: true,
                ..Scope::everything()
            },
        )
        .unwrap();
    let write = d.fs(
        "appdata",
        json!({"op": "write_file", "path": "/libraries/1/new.txt", "data": "x"}),
    );
    assert_eq!(write["written"], 1, "{write}");
    assert!(d.demo.roots[0].path.join("new.txt").is_file());
    let link = d.fs(
        "appdata",
        json!({"op": "symlink", "path": "/libraries/1/link", "target": "new.txt"}),
    );
    assert!(link["error"].is_string(), "{link}");
}

#[test]
fn the_library_scope_limits_listing_and_mounts() {
    let d = demo(
        &["appdata"],
        Scope {
            all_users: true,
            libraries: vec![2],
            ..Scope::default()
        },
    );
    let all = d.host("appdata", "library_getalllibraries", json!({}));
    let ids: Vec<&Value> = all["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["id"])
        .collect();
    assert_eq!(ids, [&json!(2)]);
    let one = d.host("appdata", "library_getlibrary", json!({"id": 1}));
    assert!(
        one["error"].as_str().unwrap().contains("not accessible"),
        "{one}"
    );
    let hidden = d.fs("appdata", json!({"op": "list_dir", "path": "/libraries/1"}));
    assert!(hidden["error"].is_string(), "{hidden}");
    let visible = d.fs("appdata", json!({"op": "list_dir", "path": "/libraries/2"}));
    assert!(visible["entries"].is_array(), "{visible}");
}

#[test]
fn storage_is_isolated_between_two_ids_of_one_package() {
    let d = demo(&["notes", "notes-copy"], all_users_libraries());
    assert_eq!(
        d.host("notes", "storage_getstoragepath", json!({})),
        json!({"result": "/storage"})
    );
    let write = d.fs(
        "notes",
        json!({"op": "write_file", "path": "/storage/note.txt", "data": "mine"}),
    );
    assert_eq!(write["written"], 4, "{write}");
    let mine = d.fs(
        "notes",
        json!({"op": "read_file", "path": "/storage/note.txt"}),
    );
    assert_eq!(mine["data"], "mine");
    let theirs = d.fs(
        "notes-copy",
        json!({"op": "read_file", "path": "/storage/note.txt"}),
    );
    assert!(theirs["error"].is_string(), "{theirs}");
    let on_disk = d.env.data().join("plugins/notes/storage/note.txt");
    assert_eq!(std::fs::read_to_string(on_disk).unwrap(), "mine");
    let link = d.fs(
        "notes",
        json!({"op": "symlink", "path": "/storage/l", "target": "note.txt"}),
    );
    assert!(link["error"].is_string(), "{link}");
}

#[test]
fn users_and_admins_within_the_scope() {
    let d = demo(
        &["appdata"],
        Scope {
            users: vec!["u-alice".into(), "u-admin".into()],
            all_libraries: true,
            ..Scope::default()
        },
    );
    let users = d.host("appdata", "users_getusers", json!({}));
    let names: Vec<&str> = users["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "alice"]);
    assert!(
        users["result"][0].get("id").is_none(),
        "ids are never exposed"
    );
    let admins = d.host("appdata", "users_getadmins", json!({}));
    assert_eq!(
        admins,
        json!({"result": [{"userName": "admin", "name": "Admin", "isAdmin": true}]})
    );
}

#[test]
fn artwork_urls_are_signed() {
    let d = demo(&["appdata"], all_users_libraries());
    let track = d.demo.track("Take Off").unwrap().id();
    let answer = d.host(
        "appdata",
        "artwork_gettrackurl",
        json!({"id": track, "size": 300}),
    );
    let url = answer["url"].as_str().unwrap();
    let token = url
        .strip_prefix("http://localhost/share/img/")
        .and_then(|rest| rest.strip_suffix("?size=300"))
        .unwrap_or_else(|| panic!("{url}"));
    let claim = d.library.verify_artwork_token(token).unwrap();
    assert!(claim.contains(&track), "{claim}");
}

#[test]
fn subsonic_api_calls_run_as_an_allowed_user_only() {
    let d = demo(
        &["appdata"],
        Scope {
            users: vec!["u-alice".into()],
            all_libraries: true,
            ..Scope::default()
        },
    );
    let ok = d.host(
        "appdata",
        "subsonicapi_call",
        json!({"uri": "getAlbumList2?type=alphabeticalByName&size=10&u=alice"}),
    );
    let body: Value = serde_json::from_str(ok["responseJson"].as_str().unwrap()).unwrap();
    assert_eq!(body["subsonic-response"]["status"], "ok");
    let albums = body["subsonic-response"]["albumList2"]["album"]
        .as_array()
        .unwrap();
    assert!(albums.iter().any(|a| a["name"] == "Night Flight"), "{body}");

    let bob = d.host(
        "appdata",
        "subsonicapi_call",
        json!({"uri": "getAlbumList2?type=random&u=bob"}),
    );
    assert!(bob["error"].is_string(), "{bob}");
    assert!(bob.get("responseJson").is_none());
    let nobody = d.host("appdata", "subsonicapi_call", json!({"uri": "ping"}));
    assert!(nobody["error"].is_string(), "{nobody}");
}

#[test]
fn matcher_resolves_songs_in_order_with_null_for_misses() {
    let d = demo(&["appdata"], all_users_libraries());
    let answer = d.host(
        "appdata",
        "matcher_matchsongs",
        json!({"songs": [
            {"name": "take off", "artist": "The Midnight Owls"},
            {"name": "No Such Song"},
        ], "opts": {"username": "alice"}}),
    );
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{answer}");
    assert_eq!(results[0]["title"], "Take Off");
    assert_eq!(
        results[0]["path"], TAKE_OFF,
        "filesystem permission: path included"
    );
    assert_eq!(results[0]["starred"], true, "alice starred it");
    assert!(results[1].is_null());
}

#[test]
fn scrobble_retriever_reads_the_users_history() {
    let d = demo(&["appdata"], all_users_libraries());
    let track = d.demo.track("Take Off").unwrap().id();
    for t in [1_700_000_100, 1_700_000_200, 1_700_000_300] {
        d.library.record_scrobble("alice", &track, t).unwrap();
    }
    let first = d.host(
        "appdata",
        "scrobbleretriever_getfirsttimestamp",
        json!({"username": "alice"}),
    );
    assert_eq!(first, json!({"result": 1_700_000_100}));
    let none = d.host(
        "appdata",
        "scrobbleretriever_getlasttimestamp",
        json!({"username": "bob"}),
    );
    assert_eq!(none, json!({}));
    let page = d.host(
        "appdata",
        "scrobbleretriever_getscrobbles",
        json!({"username": "alice", "options": {"descending": true, "maxItems": 2}}),
    );
    let scrobbles = page["scrobbles"].as_array().unwrap();
    assert_eq!(scrobbles.len(), 2, "{page}");
    assert_eq!(scrobbles[0]["submissionTime"], 1_700_000_300);
    assert_eq!(scrobbles[0]["mediaFileId"], track);
    assert!(page["next"].is_object(), "a third scrobble remains: {page}");
    let count = d.host(
        "appdata",
        "scrobbleretriever_getscrobblecount",
        json!({"username": "alice", "options": {"fromTimestamp": 1_700_000_150}}),
    );
    assert_eq!(count, json!({"result": 2}));
}

#[test]
fn config_values_reach_the_config_service_flattened() {
    let d = demo(&["appdata"], all_users_libraries());
    d.manager
        .set_config(
            "appdata",
            json!({"name": "ndp", "retries": 3, "hosts": ["a", "b"], "ratio": 0.5}),
        )
        .unwrap();
    assert_eq!(
        d.host("appdata", "config_get", json!({"key": "name"})),
        json!({"value": "ndp", "exists": true})
    );
    assert_eq!(
        d.host("appdata", "config_getint", json!({"key": "retries"})),
        json!({"value": 3, "exists": true})
    );
    assert_eq!(
        d.host("appdata", "config_get", json!({"key": "hosts"})),
        json!({"value": "[\"a\",\"b\"]", "exists": true})
    );
    assert_eq!(
        d.host("appdata", "config_getint", json!({"key": "ratio"})),
        json!({})
    );
    assert_eq!(
        d.host("appdata", "config_keys", json!({"prefix": "r"})),
        json!({"keys": ["ratio", "retries"]})
    );
}
