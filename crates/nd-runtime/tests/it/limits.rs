//! Limits: wall-clock timeout, memory cap, var store, output cap.

use std::time::{Duration, Instant};

use nd_runtime::{CallErrorKind, PluginConfig};

use crate::support::*;

#[test]
fn infinite_loop_times_out_with_deadline_exceeded() {
    for target in TARGETS {
        let mut config = PluginConfig::new("looper");
        config.timeout = Duration::from_millis(200);
        let p = load("kernel", target, config);
        let started = Instant::now();
        let e = p.call("infinite_loop", b"").unwrap_err();
        assert_eq!(
            e.kind(),
            &CallErrorKind::Timeout {
                limit: Duration::from_millis(200)
            }
        );
        assert!(e.to_string().contains("deadline exceeded"), "{e}");
        assert!(started.elapsed() >= Duration::from_millis(200));
        // The plugin still serves calls afterwards.
        assert_eq!(ok(&p, "echo", b"after"), b"after");
    }
}

#[test]
fn memory_bomb_is_reported_as_out_of_memory() {
    for target in TARGETS {
        let mut config = PluginConfig::new("bomb");
        config.max_memory_bytes = 32 * 1024 * 1024;
        let p = load("kernel", target, config);
        let e = p.call("memory_bomb", b"").unwrap_err();
        assert_eq!(
            e.kind(),
            &CallErrorKind::OutOfMemory {
                limit_bytes: 32 * 1024 * 1024
            }
        );
        assert!(e.to_string().contains("out of memory"), "{e}");
        assert_eq!(ok(&p, "echo", b"after"), b"after");
    }
}

#[test]
fn a_plain_trap_is_not_mistaken_for_out_of_memory() {
    let mut config = PluginConfig::new("trapper");
    config.max_memory_bytes = 32 * 1024 * 1024;
    let p = load("kernel", UNKNOWN, config);
    assert!(matches!(
        err(&p, "memory_bomb", b""),
        CallErrorKind::OutOfMemory { .. }
    ));
    assert!(matches!(err(&p, "trap", b""), CallErrorKind::Trap { .. }));
}

#[test]
fn input_larger_than_the_memory_cap_fails_cleanly() {
    let mut config = PluginConfig::new("small");
    config.max_memory_bytes = 2 * 1024 * 1024;
    let p = load("kernel", UNKNOWN, config);
    let big = vec![b'a'; 4 * 1024 * 1024];
    assert!(matches!(
        err(&p, "echo", &big),
        CallErrorKind::OutOfMemory { .. }
    ));
    assert_eq!(ok(&p, "echo", b"small"), b"small");
}

#[test]
fn var_store_is_capped_at_one_mebibyte() {
    for target in TARGETS {
        let p = kernel(target);
        assert_eq!(ok_str(&p, "var_fill", "1000"), "ok");
        match err(&p, "var_fill", (2 * 1024 * 1024).to_string().as_bytes()) {
            CallErrorKind::HostFunction { function, message } => {
                assert_eq!(function, "var_set");
                assert_eq!(message, "Variable store is full");
            }
            other => panic!("expected a var_set failure, got {other:?}"),
        }
    }
}

#[test]
fn vars_can_be_disabled() {
    let mut config = PluginConfig::new("novars");
    config.max_var_bytes = 0;
    let p = load("kernel", UNKNOWN, config);
    assert_eq!(
        err(&p, "vars", b""),
        CallErrorKind::HostFunction {
            function: "var_set".into(),
            message: "Vars are disabled by this host".into()
        }
    );
}

#[test]
fn output_is_capped() {
    let mut config = PluginConfig::new("capped");
    config.max_output_bytes = 1000;
    let p = load("kernel", UNKNOWN, config);
    assert_eq!(ok(&p, "payload", b"1000").len(), 1000);
    assert_eq!(
        err(&p, "payload", b"1001"),
        CallErrorKind::OutputTooLarge {
            size: 1001,
            limit: 1000
        }
    );
}

#[test]
fn a_deadline_fires_after_the_watchdog_went_idle() {
    // A runtime of its own, so that no other test keeps its watchdog busy: after a quiet
    // spell the watchdog parks, and arming a deadline must wake it.
    let rt = nd_runtime::Runtime::new(nd_runtime::RuntimeConfig::default()).unwrap();
    let mut config = PluginConfig::new("idle");
    config.timeout = Duration::from_millis(200);
    let p = rt.load(&compiled("kernel", UNKNOWN), config).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert!(matches!(
        p.call("infinite_loop", b"").unwrap_err().kind(),
        CallErrorKind::Timeout { .. }
    ));
}
