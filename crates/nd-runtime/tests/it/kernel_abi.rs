//! The ten rules of extism-abi.md §1.6, observed from inside real PDK plugins, plus payload
//! sizes across the kernel boundary in both directions.

use crate::support::*;

/// Verified against the official `extism-runtime.wasm` (see fixtures/README.md).
const KERNEL_EDGES: &str = concat!(
    r#"{"alloc_zero":0,"length_zero":0,"length_unsafe_zero":0,"free_zero_ok":true,"alloc_nonzero":true,"#,
    r#""length_block":16,"length_unsafe_block":16,"length_interior":0,"load_u8_first":8,"#,
    r#""load_u64_unaligned_ok":true,"store_u8_low_bits":255,"length_after_free":0,"#,
    r#""length_unsafe_after_free":0,"load_after_free_ok":true,"double_free_ok":true,"load_u8_huge":0,"#,
    r#""load_u64_huge":0,"load_u64_near_4g":0,"load_u8_huge_after_store":0,"load_u64_huge_after_store":0,"#,
    r#""input_length":10,"input_offset_length_ok":true,"input_load_u64_first":3978425819141910832,"#,
    r#""input_load_u64_last_full":4123106164818064178,"input_load_u64_tail":0,"input_load_u64_at_len":0,"#,
    r#""input_load_u8_last":57,"input_load_u8_at_len":0,"allocs_disjoint":true,"no_immediate_reuse":true}"#
);

#[test]
fn kernel_edge_cases_match_the_official_kernel() {
    for target in TARGETS {
        let p = kernel(target);
        assert_eq!(
            ok_str(&p, "kernel_edges", "0123456789"),
            KERNEL_EDGES,
            "{target}"
        );
    }
}

#[test]
fn empty_input_has_no_input_block() {
    let p = kernel(UNKNOWN);
    let out: serde_json::Value = serde_json::from_slice(&ok(&p, "kernel_edges", b"")).unwrap();
    assert_eq!(out["input_length"], 0);
    assert_eq!(out["input_offset_length_ok"], true);
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

#[test]
fn payloads_of_every_size_cross_the_boundary_intact() {
    for target in TARGETS {
        let p = kernel(target);
        for n in [0usize, 1, 7, 8, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024] {
            assert_eq!(
                ok(&p, "payload", n.to_string().as_bytes()),
                pattern(n),
                "payload {n} on {target}"
            );
            let input: Vec<u8> = pattern(n).into_iter().rev().collect();
            assert_eq!(ok(&p, "echo", &input), input, "echo {n} on {target}");
            assert_eq!(
                ok_str(&p, "consume", std::str::from_utf8(&[b'x'; 9]).unwrap()),
                "9"
            );
        }
    }
}

#[test]
fn output_set_rules() {
    let p = kernel(UNKNOWN);
    assert_eq!(ok(&p, "output_interior", b""), b"234");
    let errors = runtime()
        .load_wasm(
            &wat_fixture("errors"),
            nd_runtime::PluginConfig::new("errors"),
        )
        .unwrap();
    assert_eq!(ok(&errors, "output_twice", b""), b"oo");
    assert_eq!(
        ok(&errors, "output_cleared", b""),
        b"oops",
        "output_set(0,0) is ignored, as in Extism"
    );
    assert_eq!(ok(&errors, "error_reset", b""), b"");
    // error_set on an interior pointer: length() is 0, so there is no message; rc 1 decides.
    assert_eq!(
        err(&errors, "error_interior", b""),
        nd_runtime::CallErrorKind::PluginError {
            message: "plugin call exited with code 1".into(),
            rc: 1
        }
    );
}

#[test]
fn config_is_read_through_config_get() {
    for target in TARGETS {
        let mut config = nd_runtime::PluginConfig::new("cfg");
        config.config.insert("greeting".into(), "hello".into());
        config.config.insert("empty".into(), String::new());
        let p = load("kernel", target, config);
        assert_eq!(
            ok_str(&p, "config", "greeting"),
            r#"{"key":"greeting","value":"hello"}"#
        );
        assert_eq!(
            ok_str(&p, "config", "absent"),
            r#"{"key":"absent","value":null}"#
        );
        // Empty data maps to handle 0, which the PDK reads as absent (extism-abi §1.1).
        assert_eq!(
            ok_str(&p, "config", "empty"),
            r#"{"key":"empty","value":null}"#
        );
    }
}

#[test]
fn vars_live_for_one_instance_only() {
    for target in TARGETS {
        let p = kernel(target);
        assert_eq!(ok_str(&p, "vars", ""), "1");
        assert_eq!(
            ok_str(&p, "vars", ""),
            "1",
            "a fresh instance per call: vars never persist"
        );
        assert_eq!(
            ok_str(&p, "var_roundtrip", "v"),
            r#"{"first":"v","after_remove":null}"#
        );
        // A long-lived instance keeps its vars, like Extism's Plugin.
        let mut inst = p.instance().unwrap();
        assert_eq!(inst.call("vars", b"").unwrap(), b"1");
        assert_eq!(inst.call("vars", b"").unwrap(), b"2");
    }
}

/// A plugin written against the raw kernel ABI: out-of-heap handles given to `output_set`,
/// `error_set` and `input_set` are ignored, as the official kernel does.
const OUT_OF_HEAP: &str = r#"(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "extism:host/env" "input_set" (func $input_set (param i64 i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (memory (export "memory") 1)
  (func (export "beyond_pos") (result i32) (local $h i64)
    (local.set $h (call $alloc (i64.const 4)))
    (call $store_u8 (local.get $h) (i32.const 111))
    (call $output_set (local.get $h) (i64.const 1))
    ;; past the end of the heap, near and far: ignored, the earlier output stays
    (call $output_set (i64.add (local.get $h) (i64.const 1000)) (i64.const 4))
    (call $output_set (i64.const 0x10000000000) (i64.const 4))
    (call $error_set (i64.const 0x10000000000))
    (call $input_set (i64.const 0x10000000000) (i64.const 5))
    (if (i64.ne (call $input_length) (i64.const 0)) (then (return (i32.const 9))))
    (i32.const 0)))"#;

#[test]
fn out_of_heap_handles_are_ignored() {
    let p = runtime()
        .load_wasm(OUT_OF_HEAP.as_bytes(), nd_runtime::PluginConfig::new("raw"))
        .unwrap();
    assert_eq!(ok(&p, "beyond_pos", b""), b"o");
}

#[test]
fn instances_prepared_after_large_calls_behave_the_same() {
    // After large payloads the runtime grows the kernel memory of prepared instances ahead of
    // time; nothing the plugin can observe may change.
    let p = kernel(UNKNOWN);
    let big = pattern(8 * 1024 * 1024);
    for _ in 0..3 {
        assert_eq!(ok(&p, "echo", &big), big);
        std::thread::sleep(std::time::Duration::from_millis(50)); // let the preparer run
        assert_eq!(ok_str(&p, "kernel_edges", "0123456789"), KERNEL_EDGES);
        assert_eq!(ok(&p, "echo", b"small"), b"small");
    }
}
