//! Many concurrent calls of one plugin from many threads; statelessness between them.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use nd_runtime::{CallErrorKind, PluginConfig};

use crate::support::*;

#[test]
fn many_threads_call_one_plugin_concurrently() {
    for target in TARGETS {
        let mut config = PluginConfig::new("busy");
        config.prepared_instances = 4;
        let p = Arc::new(load("kernel", target, config));
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let p = Arc::clone(&p);
                thread::spawn(move || {
                    for i in 0..50 {
                        let input = format!("thread {t} call {i} aeiou");
                        assert_eq!(p.call("echo", input.as_bytes()).unwrap(), input.as_bytes());
                        assert_eq!(p.call("vars", b"").unwrap(), b"1");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}

#[test]
fn a_runaway_call_does_not_block_other_calls_or_plugins() {
    let mut config = PluginConfig::new("runaway");
    config.timeout = Duration::from_millis(1500);
    let slow = load("kernel", UNKNOWN, config);
    let other = kernel(WASI);
    let runaway = thread::spawn(move || slow.call("infinite_loop", b"").unwrap_err().into_kind());
    thread::sleep(Duration::from_millis(100));
    for i in 0..20 {
        assert_eq!(
            ok(&other, "echo", format!("{i}").as_bytes()),
            format!("{i}").as_bytes()
        );
    }
    assert!(matches!(
        runaway.join().unwrap(),
        CallErrorKind::Timeout { .. }
    ));
}

#[test]
fn timeouts_fire_independently_in_parallel_calls() {
    let mut config = PluginConfig::new("parallel-timeouts");
    config.timeout = Duration::from_millis(300);
    let p = Arc::new(load("kernel", UNKNOWN, config));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let p = Arc::clone(&p);
            thread::spawn(move || p.call("infinite_loop", b"").unwrap_err().into_kind())
        })
        .collect();
    for h in handles {
        assert!(matches!(h.join().unwrap(), CallErrorKind::Timeout { .. }));
    }
}

#[test]
fn shutdown_refuses_later_calls() {
    let p = kernel(UNKNOWN);
    assert_eq!(ok(&p, "echo", b"x"), b"x");
    p.shutdown();
    assert!(matches!(
        err(&p, "echo", b"x"),
        CallErrorKind::Instantiate { .. }
    ));
}
