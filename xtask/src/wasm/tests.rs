//! Unit tests for `wasm.rs`, on modules encoded by hand.

use super::*;

/// A module with two `() -> i32` functions exported as `nd_export_exit` and `echo`, plus an
/// import `env::f` of type `(i64) -> ()` and the memory, encoded by hand.
fn module(first_export: &str) -> Vec<u8> {
    fn section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
        out.push(id);
        write_u32(out, contents.len() as u32);
        out.extend_from_slice(contents);
    }
    fn name(out: &mut Vec<u8>, s: &str) {
        write_u32(out, s.len() as u32);
        out.extend_from_slice(s.as_bytes());
    }
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    // Types: 0 = () -> i32, 1 = (i64) -> ().
    section(&mut m, 1, &[2, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7e, 0]);
    let mut imports = vec![1];
    name(&mut imports, "env");
    name(&mut imports, "f");
    imports.extend_from_slice(&[0, 1]);
    section(&mut m, 2, &imports);
    section(&mut m, 3, &[2, 0, 0]);
    section(&mut m, 5, &[1, 0, 1]);
    let mut exports = vec![3];
    name(&mut exports, first_export);
    exports.extend_from_slice(&[0, 1]);
    name(&mut exports, "echo");
    exports.extend_from_slice(&[0, 2]);
    name(&mut exports, "memory");
    exports.extend_from_slice(&[2, 0]);
    section(&mut m, 7, &exports);
    section(&mut m, 10, &[2, 4, 0, 0x41, 7, 0x0b, 4, 0, 0x41, 0, 0x0b]);
    m
}

#[test]
fn parses_imports_and_exports_with_signatures() {
    let info = ModuleInfo::parse(&module("exit")).expect("parses");
    let import = Item {
        module: "env".into(),
        name: "f".into(),
        kind: "(i64) -> ()".into(),
    };
    assert_eq!(info.imports, vec![import]);
    let exports: Vec<_> = info
        .exports
        .iter()
        .map(|e| (e.name.as_str(), e.kind.as_str()))
        .collect();
    assert_eq!(
        exports,
        [
            ("exit", "() -> i32"),
            ("echo", "() -> i32"),
            ("memory", "memory")
        ]
    );
    assert_eq!(info.function_exports(), ["echo", "exit"]);
}

#[test]
fn strips_the_rename_prefix() {
    let (patched, renamed) = strip_export_prefix(&module("nd_export_exit")).expect("patches");
    assert_eq!(renamed, ["exit"]);
    // Only the export section changes: the result equals the module built with the final name.
    assert_eq!(patched, module("exit"));
}

#[test]
fn leaves_modules_without_prefix_alone() {
    let m = module("exit");
    let (patched, renamed) = strip_export_prefix(&m).expect("patches");
    assert!(renamed.is_empty());
    assert_eq!(patched, m);
}

#[test]
fn refuses_a_rename_onto_an_existing_export() {
    let err = strip_export_prefix(&module("nd_export_echo")).expect_err("clash");
    assert!(
        err.to_string()
            .contains("cannot rename export `nd_export_echo` to `echo`"),
        "{err}"
    );
}
