//! Differential test: every fixture case the official Extism runtime can run is run on it too,
//! and ndp must agree with it: outcome class, output bytes, error text (issue 2, item 5).
//!
//! The reference is the PyPI package `extism` 1.1.1, which loads libextism 1.41 (`extism-sys`,
//! Wasmtime), from the venv `cargo xtask venv` makes (`target/venv`). `extism_ref.py`, beside
//! this file, runs all cases in ONE process: a fresh `Plugin` per case, as ndp makes a fresh
//! instance per call. It reports the C API's raw facts: return code, `extism_plugin_error`,
//! output, and the error's root cause from libextism's error log.
//!
//! ndp follows Navidrome where Navidrome and Extism differ. Those differences are not skipped:
//! [`classify_reference`] translates what Extism reports into what ndp must then report, one
//! documented rule at a time ([`TRANSLATIONS`]), and a few cases carry their own rule
//! ([`Deliberate`]). Every row of the summary lists the rules it needed.
//!
//! Left out, because the official runtime cannot run them or cannot run them comparably:
//! - `hostfns::reenter`: Extism cannot re-enter a plugin from its own host function
//!   ("cannot make reentrant calls"); ndp can (spec §3.8). Both sides provide `call_export`
//!   (returning its argument) only so that `hostfns` links.
//! - `kernel::log_level`: the answer is each host's log configuration, not the ABI.
//! - `wat/init_wrong_type`: libextism refuses to create the plugin ("expected 0 types,
//!   found 1"), because it instantiates the module eagerly as a reactor; Navidrome (and ndp)
//!   treat a wrongly typed `_initialize` as absent.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nd_runtime::{
    CallErrorKind, HostError, HostImports, HostService, Mount, PluginConfig, RegisterError,
    Signature, USER_NAMESPACE, Val, ValType, decode_bytes, encode_bytes,
};
use serde_json::{Value, json};

use crate::support::{TARGETS, WASI, compiled, runtime, workspace_root};

/// The general translation rules: what the official runtime reports → what ndp must report.
/// Ids appear in the summary table. Listed in ARCHITECTURE.md ("Deliberate differences").
const TRANSLATIONS: &[(&str, &str)] = &[
    (
        "not-impl",
        "no error message and rc -2 → NotImplemented. Navidrome's \"not implemented\" \
         convention (navidrome-plugin-abi §2.3 rule 3); Extism has no such class and reports \
         a plain non-zero return code",
    ),
    (
        "rc-text",
        "no error message and rc N ∉ {0, -2} → PluginError \"plugin call exited with code N\" \
         (rc N). Navidrome's wording; Extism's C API gives no text (the Python SDK says \
         \"Error code: N\", the Rust SDK \"Returned non-zero exit code: N\")",
    ),
    (
        "empty-error",
        "an error text that is empty counts as no error. `extism_plugin_error` returns \"\" \
         (not NULL) when `error_set` was given a handle whose length is 0 (extism-abi §1.6 \
         rule 8: an empty message is no error)",
    ),
    (
        "trap",
        "\"error while executing at wasm backtrace\" caused by \"wasm trap: …\" (rc 134) → Trap. \
         Class only: Wasmer and Wasmtime word traps differently",
    ),
    (
        "host-fn",
        "\"error while executing at wasm backtrace\" caused by anything else (rc -1) → \
         HostFunction with the cause as its message (a kernel/host function such as var_set or \
         http_request failed and aborted the call). The message is compared; the function name \
         is ndp's addition",
    ),
    (
        "http-quotes",
        "\"HTTP request to URL is not allowed\" → \"HTTP request to 'URL' is not allowed\": \
         Navidrome's (go-sdk) wording, with quotes (navidrome-plugin-abi §3.16)",
    ),
    (
        "exit",
        "\"error while executing at wasm backtrace\" without a cause and rc N ≠ 0 (WASI \
         proc_exit(N)) → Exit{N}. The code is compared, the texts are not: Extism shows a \
         backtrace, ndp \"exit code N\"",
    ),
    (
        "oom",
        "error \"oom\" (memory limiter) → OutOfMemory; ndp names the limit",
    ),
    (
        "timeout",
        "error \"timeout\" (epoch deadline) → Timeout; ndp's text is Navidrome's \"deadline exceeded\"",
    ),
    (
        "not-found",
        "\"Function not found: NAME\" → FunctionNotFound",
    ),
    (
        "load",
        "plugin creation failed → LoadError. Class only: the link error texts of Wasmtime and \
         ndp differ (ndp reports every missing import at once, with the permission that \
         would provide it)",
    ),
];

/// A translation that only some cases need, with its reason.
struct Deliberate {
    id: &'static str,
    reason: &'static str,
    translate: fn(Outcome) -> Outcome,
}

/// `init_both` exports both `__wasm_call_ctors` and `_initialize`.
static INIT_ORDER: Deliberate = Deliberate {
    id: "init-order",
    reason: "Extism runs `__wasm_call_ctors` and not `_initialize` (output \"c\"); Navidrome \
             (wazero, WASI on) prefers `_initialize`, and so does ndp (output \"i\")",
    translate: init_order,
};

fn init_order(o: Outcome) -> Outcome {
    if o == Outcome::Ok(b"c".to_vec()) {
        Outcome::Ok(b"i".to_vec())
    } else {
        o
    }
}

/// Exports whose wasm type is neither `() -> i32` nor `() -> ()`.
static REFUSED_SHAPE: Deliberate = Deliberate {
    id: "shape",
    reason: "Extism refuses to call an export of another type, each with its own message \
             (\"expected 1 arguments, got 0\", \"has 2 results\", or rc -1 without a text for \
             `() -> i64`); ndp does not list such exports as callable: FunctionNotFound",
    translate: refused_shape,
};

fn refused_shape(o: Outcome) -> Outcome {
    if matches!(o, Outcome::Ok(_)) {
        o
    } else {
        Outcome::FunctionNotFound
    }
}

/// `wasi_symlink` inside a writable mount.
static JAIL_SYMLINK: Deliberate = Deliberate {
    id: "jail-symlink",
    reason: "Extism (wasmtime-wasi) creates a symlink inside a writable preopen (\"created\"); \
             Navidrome's jailed mounts refuse symlink creation with EPERM (navidrome-plugin-abi \
             §6.6), and so does ndp: \"Operation not permitted (os error 63)\"",
    translate: jail_symlink,
};

fn jail_symlink(o: Outcome) -> Outcome {
    if o == Outcome::Ok(b"created".to_vec()) {
        Outcome::PluginError {
            message: "Operation not permitted (os error 63)".into(),
            rc: -1,
        }
    } else {
        o
    }
}

/// `exit` with code 134.
static EXIT_CODE_RANGE: Deliberate = Deliberate {
    id: "exit-range",
    reason: "wasmtime-wasi refuses `proc_exit` codes ≥ 126 (\"exit with invalid exit status \
             outside of [0..126)\", an aborted call with rc -1); wazero (Navidrome) takes any \
             code as the exit code, and so does ndp: Exit{134}",
    translate: exit_code_134,
};

fn exit_code_134(o: Outcome) -> Outcome {
    match &o {
        Outcome::HostFunction { message }
            if message.starts_with("exit with invalid exit status") =>
        {
            Outcome::Exit { code: 134 }
        }
        _ => o,
    }
}

/// One outcome, in ndp's vocabulary.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Ok(Vec<u8>),
    PluginError {
        message: String,
        rc: i32,
    },
    NotImplemented,
    /// Texts are not compared (see the `trap` rule).
    Trap,
    HostFunction {
        message: String,
    },
    Exit {
        code: i32,
    },
    OutOfMemory,
    Timeout,
    FunctionNotFound,
    /// Texts are not compared (see the `load` rule).
    LoadError,
    /// Anything this test has no rule for: never agrees with a classified outcome.
    Unclassified(String),
}

impl Outcome {
    fn class(&self) -> &'static str {
        match self {
            Self::Ok(_) => "ok",
            Self::PluginError { .. } => "plugin-error",
            Self::NotImplemented => "not-implemented",
            Self::Trap => "trap",
            Self::HostFunction { .. } => "host-function",
            Self::Exit { .. } => "exit",
            Self::OutOfMemory => "out-of-memory",
            Self::Timeout => "timeout",
            Self::FunctionNotFound => "not-found",
            Self::LoadError => "load-error",
            Self::Unclassified(_) => "UNCLASSIFIED",
        }
    }

    fn from_ndp(kind: CallErrorKind) -> Self {
        match kind {
            CallErrorKind::PluginError { message, rc } => Self::PluginError { message, rc },
            CallErrorKind::NotImplemented => Self::NotImplemented,
            CallErrorKind::Trap { .. } => Self::Trap,
            CallErrorKind::HostFunction { message, .. } => Self::HostFunction { message },
            CallErrorKind::Exit { code } => Self::Exit { code },
            CallErrorKind::OutOfMemory { .. } => Self::OutOfMemory,
            CallErrorKind::Timeout { .. } => Self::Timeout,
            CallErrorKind::FunctionNotFound => Self::FunctionNotFound,
            other => Self::Unclassified(other.to_string()),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok(bytes) => write!(f, "ok, {} bytes: {:?}", bytes.len(), preview(bytes)),
            Self::PluginError { message, rc } => write!(f, "plugin error rc {rc}: {message:?}"),
            Self::HostFunction { message } => write!(f, "host function: {message:?}"),
            Self::Exit { code } => write!(f, "exit {code}"),
            Self::Unclassified(text) => write!(f, "unclassified: {text:?}"),
            other => f.write_str(other.class()),
        }
    }
}

fn preview(bytes: &[u8]) -> String {
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(96)]).into_owned();
    if bytes.len() > 96 {
        format!("{shown}…")
    } else {
        shown
    }
}

/// What libextism reported for one case (see `extism_ref.py`).
#[derive(Debug)]
struct Reference {
    output: Vec<u8>,
    error: Option<String>,
    rc: Option<i64>,
    cause: Option<String>,
    load_error: Option<String>,
    notified: Vec<i64>,
    host_errors: Vec<String>,
}

/// Applies [`TRANSLATIONS`]: the outcome ndp must give, and the ids of the rules used.
fn classify_reference(r: &Reference) -> (Outcome, Vec<&'static str>) {
    let mut rules = Vec::new();
    if r.load_error.is_some() {
        return (Outcome::LoadError, vec!["load"]);
    }
    let Some(rc) = r.rc.and_then(|rc| i32::try_from(rc).ok()) else {
        return (Outcome::Unclassified(format!("no rc: {r:?}")), rules);
    };
    if r.error.as_deref() == Some("") {
        rules.push("empty-error");
    }
    let outcome = match r.error.as_deref().filter(|e| !e.is_empty()) {
        None if rc == 0 => Outcome::Ok(r.output.clone()),
        None if rc == -2 => {
            rules.push("not-impl");
            Outcome::NotImplemented
        }
        None => {
            rules.push("rc-text");
            Outcome::PluginError {
                message: format!("plugin call exited with code {rc}"),
                rc,
            }
        }
        Some("oom") => {
            rules.push("oom");
            Outcome::OutOfMemory
        }
        Some("timeout") => {
            rules.push("timeout");
            Outcome::Timeout
        }
        Some(e) if e.starts_with("Function not found: ") => {
            rules.push("not-found");
            Outcome::FunctionNotFound
        }
        Some(e) if e.starts_with("error while executing at wasm backtrace") => {
            match r.cause.as_deref() {
                Some(cause) if cause.starts_with("wasm trap: ") => {
                    rules.push("trap");
                    Outcome::Trap
                }
                Some(cause) => {
                    rules.push("host-fn");
                    let message = match cause
                        .strip_prefix("HTTP request to ")
                        .and_then(|rest| rest.strip_suffix(" is not allowed"))
                    {
                        Some(url) => {
                            rules.push("http-quotes");
                            format!("HTTP request to '{url}' is not allowed")
                        }
                        None => cause.to_owned(),
                    };
                    Outcome::HostFunction { message }
                }
                None if rc != 0 && rc != -1 => {
                    rules.push("exit");
                    Outcome::Exit { code: rc }
                }
                None => Outcome::Unclassified(e.to_owned()),
            }
        }
        Some(e) => Outcome::PluginError {
            message: e.to_owned(),
            rc,
        },
    };
    (outcome, rules)
}

/// Limits given to both sides in the same terms.
#[derive(Debug, Clone, Copy, Default)]
struct Limits {
    /// ndp: `max_memory_bytes` = pages × 64 KiB (per memory); Extism: `memory.max_pages`
    /// (growth after instantiation, all memories together). Same class of outcome either way.
    max_pages: Option<u32>,
    /// ndp: `timeout`; Extism: `timeout_ms`.
    timeout_ms: Option<u64>,
}

/// A WASI directory mount: ndp `Mount`, Extism `allowed_paths` (`ro:` prefix when read-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MountKind {
    /// [`Dirs::ro`], shared by both sides.
    ReadOnly,
    /// [`Dirs::rw_ndp`] for ndp, [`Dirs::rw_extism`] for Extism: the two run at the same time.
    ReadWrite,
}

/// Host directories behind the mounts.
struct Dirs {
    _tmp: tempfile::TempDir,
    ro: PathBuf,
    rw_ndp: PathBuf,
    rw_extism: PathBuf,
}

impl Dirs {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let base = tmp.path().canonicalize().expect("canonical temp dir");
        let (ro, rw_ndp, rw_extism) =
            (base.join("ro"), base.join("rw-ndp"), base.join("rw-extism"));
        let write =
            |path: PathBuf, text: &str| std::fs::write(path, text).expect("writing a mount file");
        std::fs::create_dir_all(ro.join("sub")).expect("mkdir");
        write(ro.join("a.txt"), "hello from a read-only mount\n");
        write(ro.join("b.txt"), "b");
        write(ro.join("sub/c.txt"), "c");
        for rw in [&rw_ndp, &rw_extism] {
            std::fs::create_dir_all(rw).expect("mkdir");
            write(rw.join("r.txt"), "rw");
        }
        Self {
            _tmp: tmp,
            ro,
            rw_ndp,
            rw_extism,
        }
    }

    fn host(&self, kind: MountKind, ndp: bool) -> &Path {
        match (kind, ndp) {
            (MountKind::ReadOnly, _) => &self.ro,
            (MountKind::ReadWrite, true) => &self.rw_ndp,
            (MountKind::ReadWrite, false) => &self.rw_extism,
        }
    }
}

/// The mounts of the `wasi_*` cases that have any.
const MOUNTS: &[(&str, MountKind)] = &[
    ("/data", MountKind::ReadOnly),
    ("/rw", MountKind::ReadWrite),
];

struct Case {
    fixture: &'static str,
    /// A [`TARGETS`] entry, or `"wat"` for `target/fixtures/wat/`.
    target: &'static str,
    export: &'static str,
    label: String,
    input: Vec<u8>,
    config: Vec<(&'static str, &'static str)>,
    mounts: &'static [(&'static str, MountKind)],
    limits: Limits,
    deliberate: Option<&'static Deliberate>,
}

impl Case {
    fn new(
        fixture: &'static str,
        target: &'static str,
        export: &'static str,
        label: impl Into<String>,
        input: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            fixture,
            target,
            export,
            label: label.into(),
            input: input.into(),
            config: Vec::new(),
            mounts: &[],
            limits: Limits::default(),
            deliberate: None,
        }
    }

    /// Input given as text; the label is the text itself.
    fn text(
        fixture: &'static str,
        target: &'static str,
        export: &'static str,
        input: &str,
    ) -> Self {
        let label = if input.chars().count() > 24 {
            format!("{}…", input.chars().take(24).collect::<String>())
        } else {
            input.to_owned()
        };
        Self::new(fixture, target, export, format!("{label:?}"), input)
    }

    fn name(&self) -> String {
        let mounts = if self.mounts.is_empty() {
            ""
        } else {
            " +mounts"
        };
        format!("{}::{}({}){mounts}", self.fixture, self.export, self.label)
    }

    fn id(&self) -> String {
        format!("{}@{}", self.name(), self.target)
    }

    fn wasi(&self) -> bool {
        self.target == WASI
    }

    fn host_functions(&self) -> bool {
        self.fixture == "hostfns"
    }

    fn wasm_path(&self) -> PathBuf {
        let path = workspace_root()
            .join("target/fixtures")
            .join(self.target)
            .join(format!("{}.wasm", self.fixture));
        path.canonicalize().unwrap_or_else(|e| {
            panic!(
                "fixture {} missing ({e}); run `cargo xtask build-plugins`",
                path.display()
            )
        })
    }

    fn reference_json(&self, dirs: &Dirs) -> Value {
        let allowed_paths: serde_json::Map<String, Value> = self
            .mounts
            .iter()
            .map(|&(guest, kind)| {
                let host = dirs.host(kind, false).display().to_string();
                let host = if kind == MountKind::ReadOnly {
                    format!("ro:{host}")
                } else {
                    host
                };
                (host, json!(guest))
            })
            .collect();
        json!({
            "name": self.id(),
            "wasm": self.wasm_path(),
            "export": self.export,
            "input_b64": encode_bytes(&self.input),
            "config": self.config.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "wasi": self.wasi(),
            "host_functions": self.host_functions(),
            "max_pages": self.limits.max_pages,
            "timeout_ms": self.limits.timeout_ms,
            "allowed_paths": allowed_paths,
        })
    }
}

/// Deterministic random-looking bytes (xorshift64), not UTF-8 in general.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for target in TARGETS {
        let k = |export, label: &str, input: Vec<u8>| {
            Case::new("kernel", target, export, label.to_owned(), input)
        };
        let kt = |export, input: &str| Case::text("kernel", target, export, input);
        for len in [0usize, 1, 7, 8, 64 * 1024, 1024 * 1024] {
            cases.push(k("echo", &format!("{len} B"), noise(len, len as u64 + 1)));
        }
        cases.push(kt("count_vowels", "Hello, World!"));
        cases.push(kt("count_vowels", ""));
        cases.push(kt("count_vowels", "Ünïcödé: AEIOU and aeiou"));
        cases.push(k("count_vowels", "invalid utf-8", vec![0xff, b'a']));
        cases.push(kt("consume", ""));
        cases.push(k("consume", "1 MiB", noise(1024 * 1024, 99)));
        for n in ["0", "1", "7", "8", "65536", "1048576", "8388608", "abc", ""] {
            cases.push(kt("payload", n));
        }
        for key in ["greeting", "missing", "empty"] {
            let mut c = kt("config", key);
            c.config = vec![("greeting", "hello"), ("empty", "")];
            cases.push(c);
        }
        cases.push(kt("vars", ""));
        cases.push(kt("var_roundtrip", "hello"));
        cases.push(kt("var_roundtrip", ""));
        // Extism's estimate: key "big" (3) + value + 48 ≤ 1 MiB, so 1048525 fits and 1048526 does not.
        for n in ["16", "1048525", "1048526", "2097152"] {
            cases.push(kt("var_fill", n));
        }
        cases.push(kt("log_all", "hello"));
        cases.push(kt("fail", "boom"));
        cases.push(kt("fail", ""));
        cases.push(kt("fail_chain", "inner"));
        for input in ["bad thing|42", "a|b|-7", "no pipe", "x|-2", "|5", "|-2"] {
            cases.push(kt("fail_rc", input));
        }
        for export in [
            "rc_only",
            "not_implemented",
            "no_result",
            "error_rc0",
            "error_cleared",
            "output_interior",
            "trap",
            "panic",
        ] {
            cases.push(kt(export, ""));
        }
        for input in ["0123456789", "", "abc"] {
            cases.push(kt("kernel_edges", input));
        }
        cases.push(kt("http_get", "http://127.0.0.1:9/x"));
        cases.push(kt("no_such_export", ""));
        let mut bomb = kt("memory_bomb", "");
        bomb.limits.max_pages = Some(1024); // 64 MiB
        cases.push(bomb);
        let mut spin = kt("infinite_loop", "");
        spin.limits.timeout_ms = Some(300);
        cases.push(spin);
        if target == WASI {
            for code in ["0", "3", "x", "125"] {
                cases.push(kt("exit", code));
            }
            cases.push(Case {
                deliberate: Some(&EXIT_CODE_RANGE),
                ..kt("exit", "134")
            });
            cases.push(kt("env_args", ""));
            cases.push(kt("stdio", "hello"));
            // No directory is mounted: wasi-libc finds no preopen, on both hosts.
            cases.push(kt("wasi_read", "/etc/hostname"));
            cases.push(kt("wasi_read", "missing.txt"));
            cases.push(kt("wasi_write", "/data/w.txt"));
            cases.push(kt("wasi_list", "/"));
            cases.push(kt("wasi_symlink", "w.txt|/data/link"));
            // With a read-only mount at /data and a writable one at /rw.
            let mounted = |export, input: &str| Case {
                mounts: MOUNTS,
                ..kt(export, input)
            };
            for path in [
                "/data/a.txt",
                "/data/sub/c.txt",
                "/data/missing.txt",
                "/rw/r.txt",
                "/etc/hostname",
                "/data/../rw/r.txt",
                "/data/sub/../b.txt",
            ] {
                cases.push(mounted("wasi_read", path));
            }
            for dir in ["/data", "/data/sub", "/rw", "/"] {
                cases.push(mounted("wasi_list", dir));
            }
            cases.push(mounted("wasi_write", "/rw/w.txt"));
            cases.push(mounted("wasi_write", "/data/w.txt"));
            cases.push(Case {
                deliberate: Some(&JAIL_SYMLINK),
                ..mounted("wasi_symlink", "r.txt|/rw/link")
            });
        }
        let h = |export, input: &str| Case::text("hostfns", target, export, input);
        cases.push(h("call_json", "hello"));
        cases.push(h("call_json", r#"{"a":[1,2],"b":"ü"}"#));
        cases.push(h("call_raw", ""));
        cases.push(h("call_ns", "abc"));
        cases.push(h("call_ns", "MiXeD ü 123"));
        cases.push(h("host_roundtrip", "100"));
        cases.push(h("empty_arg", ""));
        cases.push(h("ping", ""));
        // Imports a Navidrome host function nobody provides here: both refuse to load it.
        cases.push(Case::text("ndhost", target, "use_cache", "key"));
    }
    let w = |fixture, export| Case::text(fixture, "wat", export, "");
    for export in [
        "error_interior",
        "error_reset",
        "output_twice",
        "output_cleared",
    ] {
        cases.push(w("errors", export));
    }
    for export in ["ok_i32", "ok_unit", "not_a_function"] {
        cases.push(w("export_shapes", export));
    }
    for export in ["with_param", "two_results", "returns_i64"] {
        let mut c = w("export_shapes", export);
        c.deliberate = Some(&REFUSED_SHAPE);
        cases.push(c);
    }
    cases.push(w("init_reactor", "init_log"));
    cases.push(w("init_hs", "init_log"));
    let mut both = w("init_both", "init_log");
    both.deliberate = Some(&INIT_ORDER);
    cases.push(both);
    cases.push(w("env_memory_import", "ok_i32"));
    cases.push(w("env_unknown_import", "ok_i32"));
    cases
}

/// The host functions of `hostfns`, with the same behaviour as HOST FUNCTIONS in
/// `extism_ref.py`.
struct DiffHost {
    notified: Arc<Mutex<Vec<i64>>>,
}

fn bad_args(name: &str, args: &[Val]) -> HostError {
    HostError::Trap(format!("{name}: unexpected arguments {args:?}"))
}

impl HostService for DiffHost {
    fn name(&self) -> &'static str {
        "differential"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        use ValType::{F64, I32, I64};
        imports.bytes(USER_NAMESPACE, "nd_json", |_, request| {
            Ok([&b"nd_json("[..], &request, b")"].concat())
        });
        imports.bytes(USER_NAMESPACE, "call_export", |_, name| Ok(name));
        imports.raw(
            USER_NAMESPACE,
            "add_i32",
            Signature::new([I32, I32], [I32]),
            |_, args| match args {
                [Val::I32(a), Val::I32(b)] => Ok(vec![Val::I32(a.wrapping_add(*b))]),
                _ => Err(bad_args("add_i32", args)),
            },
        );
        imports.raw(
            USER_NAMESPACE,
            "mul_f64",
            Signature::new([F64, F64], [F64]),
            |_, args| match args {
                [Val::F64(a), Val::F64(b)] => Ok(vec![Val::F64(a * b)]),
                _ => Err(bad_args("mul_f64", args)),
            },
        );
        let notified = Arc::clone(&self.notified);
        imports.raw(
            USER_NAMESPACE,
            "notify",
            Signature::new([I64], []),
            move |_, args| match args {
                [Val::I64(v)] => {
                    notified.lock().expect("notify log").push(*v);
                    Ok(Vec::new())
                }
                _ => Err(bad_args("notify", args)),
            },
        );
        imports.raw(
            USER_NAMESPACE,
            "pair",
            Signature::new([I64, I64], [I64]),
            |ctx, args| match args {
                [Val::I64(a), Val::I64(b)] => {
                    let mut bytes = ctx.read(*a as u64)?;
                    bytes.extend(ctx.read(*b as u64)?);
                    Ok(vec![Val::I64(ctx.write(&bytes)? as i64)])
                }
                _ => Err(bad_args("pair", args)),
            },
        );
        imports.bytes("ndtest:host", "upper", |_, text| {
            Ok(text.to_ascii_uppercase())
        });
        Ok(())
    }
}

struct NdpResult {
    outcome: Outcome,
    notified: Vec<i64>,
}

fn run_ndp(case: &Case, dirs: &Dirs) -> NdpResult {
    let notified = Arc::new(Mutex::new(Vec::new()));
    let mut config = PluginConfig::new(format!("diff-{}", case.fixture));
    config.config = case
        .config
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    config.mounts = case
        .mounts
        .iter()
        .map(|&(guest, kind)| Mount {
            guest: guest.to_owned(),
            host: dirs.host(kind, true).to_owned(),
            writable: kind == MountKind::ReadWrite,
        })
        .collect();
    if let Some(pages) = case.limits.max_pages {
        config.max_memory_bytes = u64::from(pages) * 65536;
    }
    if let Some(ms) = case.limits.timeout_ms {
        config.timeout = Duration::from_millis(ms);
    }
    if case.host_functions() {
        config.services = vec![Arc::new(DiffHost {
            notified: Arc::clone(&notified),
        })];
    }
    let outcome = match runtime().load(&compiled(case.fixture, case.target), config) {
        Err(_) => Outcome::LoadError,
        Ok(plugin) => {
            let outcome = match plugin.call(case.export, &case.input) {
                Ok(output) => Outcome::Ok(output),
                Err(e) => Outcome::from_ndp(e.into_kind()),
            };
            plugin.shutdown();
            outcome
        }
    };
    let notified = notified.lock().expect("notify log").clone();
    NdpResult { outcome, notified }
}

/// `$NDP_EXTISM_PYTHON`, else the venv of `cargo xtask venv`. Never skips: without the
/// reference the test fails.
fn reference_python() -> PathBuf {
    if let Some(python) = std::env::var_os("NDP_EXTISM_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = workspace_root().join("target/venv/bin/python");
    assert!(
        venv.exists(),
        "the official Extism runtime is needed for the differential test: NDP_EXTISM_PYTHON is not \
         set and {} does not exist; run `cargo xtask venv` (or `cargo xtask test`)",
        venv.display()
    );
    venv
}

fn parse_reference(value: &Value) -> Reference {
    let text = |key: &str| value[key].as_str().map(str::to_owned);
    let ints = |key: &str| {
        value[key]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default()
    };
    Reference {
        output: decode_bytes(value["output_b64"].as_str().unwrap_or(""))
            .expect("output_b64 is base64"),
        error: text("error"),
        rc: value["rc"].as_i64(),
        cause: text("cause"),
        load_error: text("load_error"),
        notified: ints("notified"),
        host_errors: value["host_errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[test]
fn ndp_agrees_with_the_official_extism_runtime() {
    let cases = cases();
    let mut ids = std::collections::BTreeSet::new();
    for case in &cases {
        assert!(ids.insert(case.id()), "duplicate case {}", case.id());
    }

    // The reference runs in the background while ndp runs here.
    let started = Instant::now();
    let python = reference_python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/extism_ref.py");
    let dirs = Dirs::new();
    let request = serde_json::to_vec(
        &cases
            .iter()
            .map(|c| c.reference_json(&dirs))
            .collect::<Vec<_>>(),
    )
    .expect("cases as JSON");
    let mut child = Command::new(&python)
        .arg(&script)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .env_remove("EXTISM_ENABLE_WASI_OUTPUT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "could not start {} ({e}); run `cargo xtask venv`",
                python.display()
            )
        });
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&request));

    let ndp: Vec<NdpResult> = cases.iter().map(|c| run_ndp(c, &dirs)).collect();
    let ndp_time = started.elapsed();

    writer
        .join()
        .expect("writer thread")
        .expect("sending the cases to extism_ref.py");
    let output = child.wait_with_output().expect("waiting for extism_ref.py");
    assert!(
        output.status.success(),
        "{} {} failed ({}); is the venv complete? `cargo xtask venv`",
        python.display(),
        script.display(),
        output.status
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "extism_ref.py printed no JSON list ({e}): {}",
            preview(&output.stdout)
        )
    });
    assert_eq!(
        results.len(),
        cases.len(),
        "extism_ref.py answered a different number of cases"
    );
    let total_time = started.elapsed();

    let mut rows = Vec::new();
    let mut disagreements = Vec::new();
    let mut rules_used: BTreeMap<&str, usize> = BTreeMap::new();
    for ((case, ndp), result) in cases.iter().zip(&ndp).zip(&results) {
        assert_eq!(
            result["name"].as_str(),
            Some(case.id().as_str()),
            "results out of order"
        );
        let reference = parse_reference(result);
        let (mut expected, mut rules) = classify_reference(&reference);
        if let Some(d) = case.deliberate {
            let translated = (d.translate)(expected.clone());
            if translated != expected {
                rules.push(d.id);
            }
            expected = translated;
        }
        for rule in &rules {
            *rules_used.entry(*rule).or_default() += 1;
        }
        let mut problems = Vec::new();
        if ndp.outcome != expected {
            problems.push(format!("ndp: {}\n    extism → {}", ndp.outcome, expected));
        }
        if ndp.notified != reference.notified {
            problems.push(format!(
                "notify calls: ndp {:?}, extism {:?}",
                ndp.notified, reference.notified
            ));
        }
        if !reference.host_errors.is_empty() {
            problems.push(format!(
                "reference host functions failed: {:?}",
                reference.host_errors
            ));
        }
        if matches!(expected, Outcome::Unclassified(_)) {
            problems.push("no translation rule covers the reference's outcome".into());
        }
        let agree = problems.is_empty();
        rows.push([
            case.name(),
            case.target.to_owned(),
            ndp.outcome.class().to_owned(),
            expected.class().to_owned(),
            if agree { "yes" } else { "NO" }.to_owned(),
            rules.join(","),
        ]);
        if !agree {
            disagreements.push(format!(
                "{}:\n    {}\n    raw extism: rc {:?}, error {:?}, cause {:?}, load error {:?}",
                case.id(),
                problems.join("\n    "),
                reference.rc,
                reference
                    .error
                    .as_deref()
                    .map(|e| e.lines().next().unwrap_or("")),
                reference.cause,
                reference.load_error,
            ));
        }
    }

    // What the writes left in the two writable mounts must be the same too.
    let regular_files = |dir: &Path| -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .expect("listing a writable mount")
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap_or_default(),
                )
            })
            .collect()
    };
    let (rw_ndp, rw_extism) = (regular_files(&dirs.rw_ndp), regular_files(&dirs.rw_extism));
    if rw_ndp != rw_extism {
        disagreements.push(format!(
            "writable mount contents: ndp {rw_ndp:?}, extism {rw_extism:?}"
        ));
    }

    let headers = ["case", "target", "ndp", "extism", "agree", "translations"];
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut table = String::new();
    table.push_str(&line(&headers.map(str::to_owned)));
    table.push('\n');
    for row in &rows {
        table.push_str(&line(row));
        table.push('\n');
    }
    eprintln!(
        "differential test against libextism (extism 1.1.1 / extism-sys 1.41): {} cases, \
         ndp {:.1} s, total {:.1} s\n{table}",
        cases.len(),
        ndp_time.as_secs_f64(),
        total_time.as_secs_f64()
    );
    eprintln!("translation rules used:");
    for (id, text) in TRANSLATIONS {
        eprintln!(
            "  {id} ({}×): {text}",
            rules_used.get(id).copied().unwrap_or(0)
        );
    }
    for d in [&INIT_ORDER, &REFUSED_SHAPE, &JAIL_SYMLINK, &EXIT_CODE_RANGE] {
        eprintln!(
            "  {} ({}×): {}",
            d.id,
            rules_used.get(d.id).copied().unwrap_or(0),
            d.reason
        );
    }

    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree with the official Extism runtime:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}
