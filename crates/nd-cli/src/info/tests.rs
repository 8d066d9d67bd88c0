//! Unit tests of import classification.

use nd_manifest::{Package, PackageLimits, pack};

use super::*;

fn package(manifest: &str) -> Package {
    let bytes = pack(manifest.as_bytes(), b"\0asm\x01\0\0\0").expect("pack");
    Package::from_bytes("p", &bytes, &PackageLimits::default()).expect("package")
}

#[test]
fn import_statuses() {
    let p = package(
        r#"{"name":"n","author":"a","version":"1","permissions":{"cache":{"reason":"r"},"library":{"reason":"r"}}}"#,
    );
    let f = "(i64) -> i64";
    assert_eq!(
        ImportStatus::of(&p, ENV_MODULE, "alloc", f),
        ImportStatus::Extism
    );
    assert_eq!(
        ImportStatus::of(&p, ENV_MODULE, "memory", "memory"),
        ImportStatus::EnvNotAFunction
    );
    assert_eq!(
        ImportStatus::of(&p, ENV_MODULE, "nonexistent", f),
        ImportStatus::UnknownEnvFunction
    );
    assert_eq!(
        ImportStatus::of(&p, WASI_MODULE, "fd_write", f),
        ImportStatus::Wasi
    );
    assert_eq!(
        ImportStatus::of(&p, "ndtest:host", "upper", f),
        ImportStatus::UnknownModule
    );
    assert_eq!(
        ImportStatus::of(&p, HOST_MODULE, "add_i32", f),
        ImportStatus::UnknownUserFunction
    );

    let linked = ImportStatus::of(&p, HOST_MODULE, "cache_getstring", f);
    assert!(linked.provided());
    assert_eq!(linked.code(), "provided");
    assert_eq!(linked.permission(), Some("cache"));

    let granted = ImportStatus::of(&p, HOST_MODULE, "library_getalllibraries", f);
    assert!(granted.provided());
    assert_eq!(granted.permission(), Some("library"));
    // A service this build lacks (every one is linked today; the status remains for builds
    // that leave some out).
    let lacking = ImportStatus::Service {
        permission: "library",
        granted: true,
        known_function: true,
        available: false,
    };
    assert!(!lacking.provided());
    assert_eq!(lacking.code(), "service_not_available");
    assert_eq!(
        lacking.describe(),
        "needs permission 'library' (granted) — service not available in this build"
    );

    let denied = ImportStatus::of(&p, HOST_MODULE, "kvstore_get", f);
    assert_eq!(denied.code(), "permission_not_granted");
    assert_eq!(
        denied.describe(),
        "needs permission 'kvstore' (not granted)"
    );

    let config = ImportStatus::of(&p, HOST_MODULE, "config_get", f);
    assert_eq!(config.code(), "provided");
    assert!(
        config
            .describe()
            .starts_with("Navidrome config service (always granted)"),
        "{}",
        config.describe()
    );

    let newer = ImportStatus::of(&p, HOST_MODULE, "cache_flush", f);
    assert!(
        newer
            .describe()
            .ends_with("not a function Navidrome's 'cache' service is known to have")
    );
}
