//! Unit tests of the exit-code mapping and the import hint.

use std::time::Duration;

use super::*;

#[test]
fn exit_codes_per_class() {
    use CallErrorKind as K;
    let cases = [
        (
            K::PluginError {
                message: "boom".into(),
                rc: -1,
            },
            1,
        ),
        (K::NotImplemented, 2),
        (
            K::Trap {
                message: "unreachable".into(),
            },
            3,
        ),
        (
            K::HostFunction {
                function: "http_request".into(),
                message: "denied".into(),
            },
            3,
        ),
        (
            K::Timeout {
                limit: Duration::from_millis(1),
            },
            3,
        ),
        (K::OutOfMemory { limit_bytes: 1 }, 3),
        (K::Exit { code: 3 }, 3),
        (K::OutputTooLarge { size: 2, limit: 1 }, 3),
        (
            K::Instantiate {
                message: "x".into(),
            },
            3,
        ),
        (K::FunctionNotFound, 64),
    ];
    for (kind, code) in cases {
        assert_eq!(exit_code(&kind), code, "{kind:?}");
    }
}

#[test]
fn import_hints() {
    assert_eq!(
        import_hint(HOST_MODULE, "cache_getstring").as_deref(),
        Some("the 'cache' permission provides it")
    );
    assert_eq!(
        import_hint(HOST_MODULE, "config_keys").as_deref(),
        Some("Navidrome's config service provides it")
    );
    assert_eq!(
        import_hint(HOST_MODULE, "add_i32").as_deref(),
        Some("no Navidrome host service provides it")
    );
    assert_eq!(import_hint("ndtest:host", "upper"), None);
}
