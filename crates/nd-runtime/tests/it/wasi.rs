//! WASI: no args or env, stdout/stderr to tracing, read-only and read-write mounts that refuse
//! symlink creation and paths leaving the mount (spec §6.6).

use std::fs;

use nd_runtime::{CallErrorKind, Mount, PluginConfig};

use crate::support::*;

fn with_mounts(mounts: Vec<Mount>) -> nd_runtime::Plugin {
    let mut config = PluginConfig::new("wasi");
    config.mounts = mounts;
    load("kernel", WASI, config)
}

fn plugin_error(kind: CallErrorKind) -> String {
    match kind {
        CallErrorKind::PluginError { message, .. } => message,
        other => panic!("expected a plugin error, got {other:?}"),
    }
}

#[test]
fn no_args_and_no_environment() {
    let p = kernel(WASI);
    assert_eq!(ok_str(&p, "env_args", ""), r#"{"args":[],"env":[]}"#);
}

#[test]
fn read_only_mount_reads_but_refuses_writes_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("song.txt"), "la la la").unwrap();
    fs::create_dir(dir.path().join("album")).unwrap();
    let p = with_mounts(vec![Mount {
        guest: "/libraries/1".into(),
        host: dir.path().into(),
        writable: false,
    }]);

    assert_eq!(ok_str(&p, "wasi_read", "/libraries/1/song.txt"), "la la la");
    assert_eq!(ok_str(&p, "wasi_list", "/libraries/1"), "album\nsong.txt");

    let e = plugin_error(err(&p, "wasi_write", b"/libraries/1/new.txt"));
    assert!(!e.is_empty());
    assert!(
        !dir.path().join("new.txt").exists(),
        "a refused write must not create the file ({e})"
    );
    plugin_error(err(&p, "wasi_write", b"/libraries/1/song.txt"));
    assert_eq!(
        fs::read_to_string(dir.path().join("song.txt")).unwrap(),
        "la la la"
    );

    plugin_error(err(&p, "wasi_symlink", b"song.txt|/libraries/1/link"));
    assert!(fs::symlink_metadata(dir.path().join("link")).is_err());
}

#[test]
fn read_write_mount_writes_but_refuses_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let p = with_mounts(vec![Mount {
        guest: "/storage".into(),
        host: dir.path().into(),
        writable: true,
    }]);
    assert_eq!(ok_str(&p, "wasi_write", "/storage/w.txt"), "written");
    assert_eq!(fs::read_to_string(dir.path().join("w.txt")).unwrap(), "x");
    assert_eq!(ok_str(&p, "wasi_read", "/storage/w.txt"), "x");

    for link in [
        "w.txt|/storage/link",
        "/etc/passwd|/storage/abs",
        "../../etc|/storage/up",
    ] {
        plugin_error(err(&p, "wasi_symlink", link.as_bytes()));
    }
    for name in ["link", "abs", "up"] {
        assert!(
            fs::symlink_metadata(dir.path().join(name)).is_err(),
            "symlink {name} was created"
        );
    }
}

#[test]
fn paths_cannot_leave_the_mount() {
    let outer = tempfile::tempdir().unwrap();
    fs::write(outer.path().join("secret.txt"), "secret").unwrap();
    let inner = outer.path().join("lib");
    fs::create_dir(&inner).unwrap();
    let p = with_mounts(vec![Mount {
        guest: "/libraries/1".into(),
        host: inner.clone(),
        writable: true,
    }]);
    for path in [
        "/libraries/1/../secret.txt",
        "/libraries/1/../../secret.txt",
        "/libraries/secret.txt",
        "/etc/passwd",
        "secret.txt",
    ] {
        let e = plugin_error(err(&p, "wasi_read", path.as_bytes()));
        assert!(!e.contains("secret"), "{path}: {e}");
    }
    plugin_error(err(&p, "wasi_write", b"/libraries/1/../escaped.txt"));
    assert!(!outer.path().join("escaped.txt").exists());
}

#[test]
fn existing_symlinks_inside_a_library_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("real.txt"), "real").unwrap();
    std::os::unix::fs::symlink("real.txt", dir.path().join("alias.txt")).unwrap();
    let p = with_mounts(vec![Mount {
        guest: "/libraries/2".into(),
        host: dir.path().into(),
        writable: false,
    }]);
    assert_eq!(ok_str(&p, "wasi_read", "/libraries/2/alias.txt"), "real");
}

#[test]
fn proc_exit_zero_is_success_and_non_zero_is_exit() {
    let p = kernel(WASI);
    assert_eq!(ok(&p, "exit", b"0"), b"");
    assert_eq!(err(&p, "exit", b"3"), CallErrorKind::Exit { code: 3 });
    assert_eq!(ok(&p, "echo", b"alive"), b"alive");
}

#[test]
fn a_mount_point_must_be_absolute_and_local() {
    let dir = tempfile::tempdir().unwrap();
    for guest in ["relative", "/a/../b"] {
        let mut config = PluginConfig::new("badmount");
        config.mounts = vec![Mount {
            guest: guest.into(),
            host: dir.path().into(),
            writable: false,
        }];
        let e = runtime()
            .load(&compiled("kernel", WASI), config)
            .unwrap_err();
        assert!(e.to_string().contains("mount point"), "{e}");
    }
}

#[test]
fn symlinked_directories_inside_a_library_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("real")).unwrap();
    fs::write(dir.path().join("real/track.txt"), "t").unwrap();
    std::os::unix::fs::symlink("real", dir.path().join("linked")).unwrap();
    let p = with_mounts(vec![Mount {
        guest: "/libraries/3".into(),
        host: dir.path().into(),
        writable: false,
    }]);
    assert_eq!(
        ok_str(&p, "wasi_read", "/libraries/3/linked/track.txt"),
        "t"
    );
    assert_eq!(ok_str(&p, "wasi_list", "/libraries/3/linked"), "track.txt");
}

#[test]
fn errors_match_a_host_that_preopens_only_the_mounts() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("a")).unwrap();
    fs::write(dir.path().join("a/f.txt"), "f").unwrap();
    let p = with_mounts(vec![
        Mount {
            guest: "/data".into(),
            host: dir.path().join("a"),
            writable: false,
        },
        Mount {
            guest: "/rw".into(),
            host: dir.path().into(),
            writable: true,
        },
    ]);
    // Outside every mount: no such file (wasix's virtual root is not announced as a preopen).
    for path in ["/etc/hostname", "missing.txt", "/"] {
        let e = plugin_error(err(
            &p,
            if path == "/" {
                "wasi_list"
            } else {
                "wasi_read"
            },
            path.as_bytes(),
        ));
        assert!(e.contains("No such file or directory"), "{path}: {e}");
    }
    // Climbing out of a mount: not permitted, as in Navidrome's jail.
    let e = plugin_error(err(&p, "wasi_read", b"/data/../rw/a/f.txt"));
    assert!(e.contains("Operation not permitted"), "{e}");
    assert_eq!(ok_str(&p, "wasi_read", "/data/./f.txt"), "f");
}
