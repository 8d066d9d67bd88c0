//! Call semantics: outputs, error mapping, return codes (spec §2.3).

use nd_runtime::CallErrorKind;

use crate::support::*;

#[test]
fn echo_and_count_vowels_on_both_targets() {
    for target in TARGETS {
        let p = kernel(target);
        assert_eq!(ok(&p, "echo", b"hello"), b"hello");
        assert_eq!(ok(&p, "echo", b""), b"");
        assert_eq!(
            ok_str(&p, "count_vowels", "Hello, World!"),
            r#"{"count":3,"total":3,"vowels":"aeiouAEIOU"}"#
        );
    }
}

#[test]
fn plugin_errors_keep_the_exact_message_and_rc() {
    for target in TARGETS {
        let p = kernel(target);
        assert_eq!(
            err(&p, "fail", b"boom"),
            CallErrorKind::PluginError {
                message: "boom".into(),
                rc: -1
            }
        );
        assert_eq!(
            err(&p, "fail_rc", b"bad thing|42"),
            CallErrorKind::PluginError {
                message: "bad thing".into(),
                rc: 42
            }
        );
        assert_eq!(
            err(&p, "fail_chain", b"inner"),
            CallErrorKind::PluginError {
                message: "outer\n\nCaused by:\n    inner".into(),
                rc: -1
            }
        );
        assert_eq!(
            err(&p, "error_rc0", b""),
            CallErrorKind::PluginError {
                message: "error with rc 0".into(),
                rc: 0
            }
        );
        assert_eq!(ok(&p, "error_cleared", b""), b"cleared");
    }
}

#[test]
fn minus_two_is_not_implemented_and_other_codes_are_errors() {
    for target in TARGETS {
        let p = kernel(target);
        assert_eq!(
            err(&p, "not_implemented", b""),
            CallErrorKind::NotImplemented
        );
        assert_eq!(
            err(&p, "rc_only", b""),
            CallErrorKind::PluginError {
                message: "plugin call exited with code 7".into(),
                rc: 7
            }
        );
        assert_eq!(ok(&p, "no_result", b""), b"done");
        assert_eq!(
            err(&p, "no_such_export", b""),
            CallErrorKind::FunctionNotFound
        );
    }
}

#[test]
fn traps_are_reported_and_the_plugin_keeps_working() {
    for target in TARGETS {
        let p = kernel(target);
        for export in ["trap", "panic"] {
            match err(&p, export, b"") {
                CallErrorKind::Trap { message } => {
                    assert!(message.contains("unreachable"), "{message}")
                }
                other => panic!("{export}: expected a trap, got {other:?}"),
            }
        }
        assert_eq!(ok(&p, "echo", b"still alive"), b"still alive");
    }
}
