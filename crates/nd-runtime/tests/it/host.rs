//! User host functions: JSON (Navidrome wire rules), bytes and raw signatures, custom
//! namespaces, re-entrant calls, and missing imports reported at load time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use nd_runtime::{
    CallErrorKind, HostError, HostImports, HostService, PluginConfig, RegisterError, Signature,
    USER_NAMESPACE, Val, ValType,
};
use serde_json::json;

use crate::support::*;

/// The host functions the `hostfns` fixture imports.
#[derive(Default)]
struct TestHost {
    notified: Arc<AtomicI64>,
    json_mode: &'static str,
}

impl HostService for TestHost {
    fn name(&self) -> &'static str {
        "test"
    }
    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let mode = self.json_mode;
        imports.json("nd_json", move |_, request| match mode {
            "guest-error" => Err(HostError::Guest("lookup failed".into())),
            "empty-error" => Err(HostError::Guest(String::new())),
            "trap" => Err(HostError::Trap("service exploded".into())),
            _ => Ok(nd_runtime::json_response(
                json!({"echo": request.to_string(), "missing": "", "zero": 0, "no": false}),
            )),
        });
        imports.bytes(USER_NAMESPACE, "call_export", |ctx, name| {
            let name = String::from_utf8(name).map_err(|e| HostError::Trap(e.to_string()))?;
            ctx.call_export(&name, b"")
                .map_err(|e| HostError::Trap(e.to_string()))
        });
        imports.raw(
            USER_NAMESPACE,
            "add_i32",
            Signature::new([ValType::I32, ValType::I32], [ValType::I32]),
            |_, args| match args {
                [Val::I32(a), Val::I32(b)] => Ok(vec![Val::I32(a + b)]),
                _ => Err(HostError::Trap("bad args".into())),
            },
        );
        imports.raw(
            USER_NAMESPACE,
            "mul_f64",
            Signature::new([ValType::F64, ValType::F64], [ValType::F64]),
            |_, args| match args {
                [Val::F64(a), Val::F64(b)] => Ok(vec![Val::F64(a * b)]),
                _ => Err(HostError::Trap("bad args".into())),
            },
        );
        let notified = Arc::clone(&self.notified);
        imports.raw(
            USER_NAMESPACE,
            "notify",
            Signature::new([ValType::I64], []),
            move |_, args| {
                if let [Val::I64(v)] = args {
                    notified.store(*v, Ordering::SeqCst);
                }
                Ok(vec![])
            },
        );
        imports.raw(
            USER_NAMESPACE,
            "pair",
            Signature::new([ValType::I64, ValType::I64], [ValType::I64]),
            |ctx, args| {
                let [Val::I64(a), Val::I64(b)] = args else {
                    return Err(HostError::Trap("bad args".into()));
                };
                let mut joined = ctx.read(*a as u64)?;
                joined.extend(ctx.read(*b as u64)?);
                Ok(vec![Val::I64(ctx.write(&joined)? as i64)])
            },
        );
        imports.bytes("ndtest:host", "upper", |_, s| Ok(s.to_ascii_uppercase()));
        Ok(())
    }
}

fn hostfns(target: &str, host: TestHost) -> nd_runtime::Plugin {
    let mut config = PluginConfig::new("hostfns");
    config.services = vec![Arc::new(host)];
    load("hostfns", target, config)
}

#[test]
fn json_functions_follow_the_navidrome_wire_rules() {
    for target in TARGETS {
        let p = hostfns(target, TestHost::default());
        // Zero values are omitted (json_response), the request arrives parsed.
        assert_eq!(
            ok_str(&p, "call_json", r#"{"key":"k"}"#),
            r#"{"echo":"{\"key\":\"k\"}"}"#
        );
        // An unparsable request is answered with an error object, not a trap.
        let out: serde_json::Value =
            serde_json::from_str(&ok_str(&p, "call_json", "not json")).unwrap();
        assert!(
            out["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid request"),
            "{out}"
        );
        // Handle 0 (empty string) reads as an empty request, i.e. `{}`.
        assert_eq!(ok_str(&p, "empty_arg", ""), r#"{"echo":"{}"}"#);
    }
}

#[test]
fn guest_errors_become_error_objects_and_never_empty_ones() {
    let p = hostfns(
        WASI,
        TestHost {
            json_mode: "guest-error",
            ..Default::default()
        },
    );
    assert_eq!(
        ok_str(&p, "call_json", "{}"),
        r#"{"error":"lookup failed"}"#
    );
    let p = hostfns(
        WASI,
        TestHost {
            json_mode: "empty-error",
            ..Default::default()
        },
    );
    assert_eq!(
        ok_str(&p, "call_json", "{}"),
        r#"{"error":"unknown error"}"#
    );
}

#[test]
fn a_trapping_host_function_fails_the_call_with_its_name() {
    let p = hostfns(
        UNKNOWN,
        TestHost {
            json_mode: "trap",
            ..Default::default()
        },
    );
    assert_eq!(
        err(&p, "call_json", b"{}"),
        CallErrorKind::HostFunction {
            function: "nd_json".into(),
            message: "service exploded".into()
        }
    );
}

#[test]
fn raw_signatures_and_custom_namespaces() {
    for target in TARGETS {
        let host = TestHost::default();
        let notified = Arc::clone(&host.notified);
        let p = hostfns(target, host);
        assert_eq!(
            ok_str(&p, "call_raw", ""),
            r#"{"add_i32":5,"mul_f64":6.0,"notify":"called","pair":"abcd"}"#
        );
        assert_eq!(notified.load(Ordering::SeqCst), 42);
        assert_eq!(ok_str(&p, "call_ns", "abc"), "ABC");
        assert_eq!(ok_str(&p, "host_roundtrip", "100"), "ok");
    }
}

#[test]
fn a_host_function_can_call_back_into_the_same_plugin() {
    for target in TARGETS {
        let p = hostfns(target, TestHost::default());
        assert_eq!(ok_str(&p, "reenter", "ping"), "pong");
        // Nested twice: reenter -> call_export("reenter") with empty input fails inside.
        match err(&p, "reenter", b"reenter") {
            CallErrorKind::HostFunction { function, .. } => assert_eq!(function, "call_export"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn missing_imports_fail_at_load_naming_function_namespace_and_permission() {
    fn hint(_ns: &str, name: &str) -> Option<String> {
        (name == "cache_getstring")
            .then(|| "provided by permission 'cache', not granted".to_owned())
    }
    let mut config = PluginConfig::new("ndhost");
    config.import_hint = Some(hint);
    let e = runtime()
        .load(&compiled("ndhost", WASI), config)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ndhost"), "{e}");
    assert!(
        e.contains("\"cache_getstring\" is not exported in module \"extism:host/user\""),
        "{e}"
    );
    assert!(e.contains("permission 'cache'"), "{e}");

    // hostfns without its host functions: every missing one is listed at once.
    let e = runtime()
        .load(&compiled("hostfns", WASI), PluginConfig::new("bare"))
        .unwrap_err()
        .to_string();
    for name in [
        "nd_json",
        "add_i32",
        "mul_f64",
        "notify",
        "pair",
        "call_export",
        "upper",
    ] {
        assert!(
            e.contains(&format!("\"{name}\"")),
            "{name} missing from: {e}"
        );
    }
}

#[test]
fn a_signature_mismatch_is_a_load_error() {
    struct Wrong;
    impl HostService for Wrong {
        fn name(&self) -> &'static str {
            "wrong"
        }
        fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
            TestHost::default().register(imports)?;
            imports.raw(
                USER_NAMESPACE,
                "add_i32",
                Signature::new([ValType::I64], [ValType::I64]),
                |_, _| Ok(vec![]),
            );
            Ok(())
        }
    }
    let mut config = PluginConfig::new("mismatch");
    config.services = vec![Arc::new(Wrong)];
    let e = runtime()
        .load(&compiled("hostfns", UNKNOWN), config)
        .unwrap_err()
        .to_string();
    assert!(e.contains("add_i32") && e.contains("wrong"), "{e}");
}

#[test]
fn duplicate_and_failing_services_are_load_errors() {
    struct Failing;
    impl HostService for Failing {
        fn name(&self) -> &'static str {
            "failing"
        }
        fn register(&self, _: &mut HostImports) -> Result<(), RegisterError> {
            Err(RegisterError("database is locked".into()))
        }
    }
    let mut config = PluginConfig::new("svc");
    config.services = vec![Arc::new(Failing)];
    let e = runtime()
        .load(&compiled("kernel", UNKNOWN), config)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("failing") && e.contains("database is locked"),
        "{e}"
    );

    let mut config = PluginConfig::new("dup");
    config.services = vec![Arc::new(TestHost::default()), Arc::new(TestHost::default())];
    let e = runtime()
        .load(&compiled("hostfns", UNKNOWN), config)
        .unwrap_err()
        .to_string();
    assert!(e.contains("registered twice"), "{e}");
}

#[test]
fn env_imports_are_checked() {
    let e = runtime()
        .load_wasm(&wat_fixture("env_memory_import"), PluginConfig::new("m"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("non-function exports of extism kernel"), "{e}");
    let e = runtime()
        .load_wasm(&wat_fixture("env_unknown_import"), PluginConfig::new("u"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Invalid function import from extism:host/env: nonexistent"),
        "{e}"
    );
}

#[test]
fn only_nullary_exports_are_callable() {
    let p = runtime()
        .load_wasm(&wat_fixture("export_shapes"), PluginConfig::new("shapes"))
        .unwrap();
    assert_eq!(ok(&p, "ok_i32", b""), b"");
    assert_eq!(ok(&p, "ok_unit", b""), b"");
    for export in ["with_param", "two_results", "returns_i64", "not_a_function"] {
        assert_eq!(
            err(&p, export, b""),
            CallErrorKind::FunctionNotFound,
            "{export}"
        );
    }
    let mut names: Vec<&str> = p.exports().collect();
    names.sort();
    assert_eq!(names, ["ok_i32", "ok_unit"]);
}

#[test]
fn initialisers_run_in_navidrome_order_once_per_instance() {
    for (module, expected) in [
        ("init_reactor", "i"),
        ("init_both", "i"),
        ("init_wrong_type", ""),
        ("init_hs", "ih"),
    ] {
        let p = runtime()
            .load_wasm(&wat_fixture(module), PluginConfig::new(module))
            .unwrap();
        assert_eq!(ok_str(&p, "init_log", ""), expected, "{module}");
        assert_eq!(
            ok_str(&p, "init_log", ""),
            expected,
            "{module}, second call (fresh instance)"
        );
    }
}

/// Counts the lifecycle hooks it sees; refuses the plugin at `on_load` when told to.
#[derive(Default)]
struct Lifecycle {
    refuse: bool,
    loads: AtomicI64,
    shutdowns: AtomicI64,
    weak: std::sync::Mutex<Option<nd_runtime::WeakPlugin>>,
}

impl HostService for Lifecycle {
    fn name(&self) -> &'static str {
        "lifecycle"
    }
    fn register(&self, _: &mut HostImports) -> Result<(), RegisterError> {
        Ok(())
    }
    fn on_load(&self, plugin: &nd_runtime::Plugin) -> Result<(), RegisterError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        *self.weak.lock().unwrap() = Some(plugin.downgrade());
        if self.refuse {
            return Err(RegisterError(format!(
                "plugin exports {} functions, wants nd_scheduler_callback",
                plugin.exports().count()
            )));
        }
        Ok(())
    }
    fn shutdown(&self) {
        self.shutdowns.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn on_load_can_refuse_a_plugin_and_every_service_is_shut_down() {
    let refusing = Arc::new(Lifecycle {
        refuse: true,
        ..Default::default()
    });
    let other = Arc::new(Lifecycle::default());
    let mut config = PluginConfig::new("refused");
    config.services = vec![other.clone(), refusing.clone()];
    let e = runtime()
        .load(&compiled("kernel", WASI), config)
        .unwrap_err();
    assert!(
        matches!(e, nd_runtime::Error::ServiceRejected { ref service, .. } if service == "lifecycle"),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with("plugin 'refused': host service 'lifecycle': plugin exports")
            && text.contains("wants nd_scheduler_callback"),
        "{text}"
    );
    assert_eq!(refusing.loads.load(Ordering::SeqCst), 1);
    assert_eq!(other.shutdowns.load(Ordering::SeqCst), 1);
    assert_eq!(refusing.shutdowns.load(Ordering::SeqCst), 1);
}

/// A plugin whose last handle is dropped without `shutdown` still shuts its services down
/// (the prepared instances in its pool must not keep it alive), exactly once, and weak
/// handles stop upgrading.
#[test]
fn dropping_the_last_handle_shuts_the_services_down() {
    let service = Arc::new(Lifecycle::default());
    let mut config = PluginConfig::new("dropped");
    config.services = vec![service.clone()];
    config.prepared_instances = 2;
    let plugin = runtime().load(&compiled("kernel", WASI), config).unwrap();
    assert_eq!(ok_str(&plugin, "echo", "x"), "x");
    let weak = service.weak.lock().unwrap().clone().unwrap();
    let again = weak.upgrade().expect("alive while a handle exists");
    drop(plugin);
    assert_eq!(
        service.shutdowns.load(Ordering::SeqCst),
        0,
        "a handle remains"
    );
    assert_eq!(ok_str(&again, "echo", "y"), "y");
    drop(again);
    assert_eq!(service.shutdowns.load(Ordering::SeqCst), 1);
    assert!(weak.upgrade().is_none());

    let service = Arc::new(Lifecycle::default());
    let mut config = PluginConfig::new("shut");
    config.services = vec![service.clone()];
    let plugin = runtime().load(&compiled("kernel", WASI), config).unwrap();
    plugin.shutdown();
    drop(plugin);
    assert_eq!(
        service.shutdowns.load(Ordering::SeqCst),
        1,
        "once, not twice"
    );
}

/// A service whose shutdown makes one last call on its own thread (as the WebSocket service
/// calls `on_close`), and tries one from another thread.
#[derive(Default)]
struct LastWords {
    weak: std::sync::Mutex<Option<nd_runtime::WeakPlugin>>,
    same_thread: std::sync::Mutex<Option<Result<Vec<u8>, String>>>,
    other_thread: std::sync::Mutex<Option<Result<Vec<u8>, String>>>,
}

impl HostService for LastWords {
    fn name(&self) -> &'static str {
        "last-words"
    }
    fn register(&self, _: &mut HostImports) -> Result<(), RegisterError> {
        Ok(())
    }
    fn on_load(&self, plugin: &nd_runtime::Plugin) -> Result<(), RegisterError> {
        *self.weak.lock().unwrap() = Some(plugin.downgrade());
        Ok(())
    }
    fn shutdown(&self) {
        let Some(plugin) = self.weak.lock().unwrap().as_ref().and_then(|w| w.upgrade()) else {
            return;
        };
        let call = |p: &nd_runtime::Plugin| p.call("echo", b"bye").map_err(|e| e.to_string());
        *self.same_thread.lock().unwrap() = Some(call(&plugin));
        let other = plugin.clone();
        let result = std::thread::spawn(move || call(&other)).join().unwrap();
        *self.other_thread.lock().unwrap() = Some(result);
    }
}

#[test]
fn a_service_can_still_call_the_plugin_from_its_own_shutdown_but_no_one_else_can() {
    let service = Arc::new(LastWords::default());
    let mut config = PluginConfig::new("last-words");
    config.services = vec![service.clone()];
    let plugin = runtime().load(&compiled("kernel", WASI), config).unwrap();
    plugin.shutdown();
    assert_eq!(
        service.same_thread.lock().unwrap().clone(),
        Some(Ok(b"bye".to_vec()))
    );
    let other = service.other_thread.lock().unwrap().clone().unwrap();
    assert!(
        other
            .as_ref()
            .is_err_and(|e| e.contains("plugin is shut down")),
        "{other:?}"
    );
    // And after shutdown returned, not even this thread.
    assert!(plugin.call("echo", b"late").is_err());
}
