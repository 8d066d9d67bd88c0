//! Integration tests of the `ndp` binary: the real executable on the real fixture plugins
//! (built by `cargo xtask build-plugins` into `target/fixtures/`), checking stdout bytes,
//! stderr messages and exit codes. Every test uses its own temporary `--cache-dir` (and,
//! for the plugin-management commands in [`manage`] and `ndp serve` in [`serve`], its own
//! `--data-dir`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod manage;
mod serve;

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nd_manifest::{Package, PackageLimits, pack};
use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file under `target/fixtures/`. Fails the test when fixtures were not built.
fn fixture(relative: &str) -> PathBuf {
    let path = workspace_root().join("target/fixtures").join(relative);
    assert!(
        path.is_file(),
        "fixture {} is missing: run cargo xtask build-plugins",
        path.display()
    );
    path
}

/// The result of one run of `ndp`.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn stdout_str(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    #[track_caller]
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            code,
            "exit code\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        );
        self
    }

    #[track_caller]
    fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    fn stdout_is(&self, expected: &[u8]) -> &Self {
        assert!(
            self.stdout == expected,
            "stdout: {:?}\nexpected: {:?}\nstderr: {}",
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(expected),
            self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).expect("stdout is one JSON value")
    }
}

/// Runs `ndp` with a private compilation cache.
struct Ndp {
    cache: TempDir,
}

impl Ndp {
    fn new() -> Self {
        Self {
            cache: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ndp"));
        command.arg("--cache-dir").arg(self.cache.path()).args(args);
        command
    }

    fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        run(self.command(args), None)
    }

    fn run_stdin<S: AsRef<OsStr>>(&self, args: &[S], stdin: &[u8]) -> Run {
        run(self.command(args), Some(stdin))
    }
}

/// `ndp --data-dir <temp> …` with a private compilation cache.
pub(crate) struct Host {
    ndp: Ndp,
    pub(crate) data: TempDir,
    files: TempDir,
}

impl Host {
    pub(crate) fn new() -> Self {
        Host {
            ndp: Ndp::new(),
            data: tempfile::tempdir().expect("temp dir"),
            files: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub(crate) fn data_dir(&self) -> String {
        self.data.path().display().to_string()
    }

    /// `ndp --data-dir <temp> <args>`, not started.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let data = self.data_dir();
        let mut all = vec!["--data-dir", data.as_str()];
        all.extend_from_slice(args);
        self.ndp.command(&all)
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        run(self.command(args), None)
    }

    /// `--json` run that must succeed; its stdout as JSON.
    #[track_caller]
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let run = self.run(&all);
        run.expect_code(0);
        run.json()
    }

    /// Writes `<id>.ndp` with this manifest and fixture wasm into the temp files folder.
    pub(crate) fn package(&self, id: &str, manifest: &Value, wasm_fixture: &str) -> String {
        write_package(
            self.files.path(),
            id,
            &manifest.to_string(),
            &wasm_of(&format!("wasm32-wasip1/{wasm_fixture}.wasm")),
        )
        .display()
        .to_string()
    }
}

fn run(mut command: Command, stdin: Option<&[u8]>) -> Run {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn ndp");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(bytes).expect("write stdin");
    }
    let output = child.wait_with_output().expect("wait for ndp");
    Run {
        code: output
            .status
            .code()
            .expect("ndp exited with a code, not a signal"),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn kernel() -> String {
    fixture("kernel.ndp").display().to_string()
}

/// `ndp call kernel.ndp <export> <extra...>`.
fn call_kernel(ndp: &Ndp, export: &str, extra: &[&str]) -> Run {
    let kernel = kernel();
    let mut args = vec!["call", kernel.as_str(), export];
    args.extend_from_slice(extra);
    ndp.run(&args)
}

/// Writes a package to `dir/<id>.ndp`.
fn write_package(dir: &Path, id: &str, manifest: &str, wasm: &[u8]) -> PathBuf {
    let path = dir.join(format!("{id}.ndp"));
    let bytes = pack(manifest.as_bytes(), wasm).expect("pack");
    std::fs::write(&path, bytes).expect("write package");
    path
}

fn wasm_of(target_relative: &str) -> Vec<u8> {
    std::fs::read(fixture(target_relative)).expect("read fixture wasm")
}

fn package_of(path: &Path) -> Package {
    let name = path.file_name().and_then(OsStr::to_str).expect("file name");
    let id = name.strip_suffix(".ndp").expect(".ndp");
    let bytes = std::fs::read(path).expect("read package");
    Package::from_bytes(id, &bytes, &PackageLimits::default()).expect("valid package")
}

fn import<'a>(info: &'a Value, module: &str, name: &str) -> &'a Value {
    info["imports"]
        .as_array()
        .expect("imports array")
        .iter()
        .find(|i| i["module"] == module && i["name"] == name)
        .unwrap_or_else(|| panic!("no import {module}::{name} in {info:#}"))
}

// ---------------------------------------------------------------------------------------
// ndp info
// ---------------------------------------------------------------------------------------

#[test]
fn info_kernel_human() {
    let ndp = Ndp::new();
    let run = ndp.run(&["info", &kernel()]);
    run.expect_code(0);
    let out = run.stdout_str();
    let package = package_of(&fixture("kernel.ndp"));
    for needle in [
        "plugin      kernel",
        "name        fixture-kernel",
        "version     0.0.0",
        "author      ndp fixtures",
        "description Kernel ABI fixture",
        "permissions (1):",
        "  http: http_get fetches a URL with Extism's built-in http_request",
        "      requiredHosts: 127.0.0.1, localhost",
        "capabilities: none",
        "problems: none",
        "manifest warnings: none",
        &package.sha256_hex(),
        &package.wasm_sha256_hex(),
        "runs in this build: yes",
    ] {
        assert!(out.contains(needle), "{needle:?} missing from:\n{out}");
    }
    let alloc = out
        .lines()
        .find(|l| l.contains("extism:host/env::alloc"))
        .expect("alloc import listed");
    assert!(
        alloc.contains("(i64) -> i64") && alloc.contains("provided"),
        "{alloc}"
    );
    let fd_write = out
        .lines()
        .find(|l| l.contains("wasi_snapshot_preview1::fd_write"))
        .expect("fd_write import listed");
    assert!(fd_write.contains("provided (WASI preview 1)"), "{fd_write}");
}

#[test]
fn info_kernel_json() {
    let ndp = Ndp::new();
    let run = ndp.run(&["info", "--json", &kernel()]);
    run.expect_code(0);
    let info = run.json();
    let package = package_of(&fixture("kernel.ndp"));
    assert_eq!(info["ndp_info_version"], 1);
    assert_eq!(info["id"], "kernel");
    assert_eq!(info["manifest"]["name"], "fixture-kernel");
    assert_eq!(info["manifest"]["author"], "ndp fixtures");
    assert_eq!(info["manifest"]["version"], "0.0.0");
    assert_eq!(info["sha256"], package.sha256_hex());
    assert_eq!(info["wasm_sha256"], package.wasm_sha256_hex());
    assert_eq!(info["wasm_size"], package.wasm.len());
    assert_eq!(info["warnings"], serde_json::json!([]));
    assert_eq!(info["problems"], serde_json::json!([]));
    assert_eq!(info["capabilities"], serde_json::json!([]));
    assert_eq!(info["compile_cache"], "miss");
    assert_eq!(info["runs_in_this_build"], true);
    let permissions = info["permissions"].as_array().expect("permissions");
    assert_eq!(permissions.len(), 1);
    assert_eq!(permissions[0]["key"], "http");
    assert_eq!(
        permissions[0]["reason"],
        "http_get fetches a URL with Extism's built-in http_request"
    );
    assert_eq!(
        permissions[0]["details"]["requiredHosts"],
        "127.0.0.1, localhost"
    );
    let exports = info["exports"].as_array().expect("exports");
    for name in ["echo", "payload", "exit", "not_implemented"] {
        assert!(
            exports.iter().any(|e| e == name),
            "{name} not in {exports:?}"
        );
    }
    let imports = info["imports"].as_array().expect("imports");
    assert!(imports.len() > 20);
    assert!(
        imports
            .iter()
            .all(|i| i["provided"] == true && i["status"] == "provided")
    );
    let alloc = import(&info, "extism:host/env", "alloc");
    assert_eq!(alloc["type"], "(i64) -> i64");
    assert_eq!(alloc["permission"], Value::Null);
}

#[test]
fn info_hostfns_reports_unknown_user_functions() {
    let ndp = Ndp::new();
    let path = fixture("hostfns.ndp").display().to_string();
    let human = ndp.run(&["info", &path]);
    human.expect_code(0);
    let out = human.stdout_str();
    let line = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} missing from:\n{out}"))
            .to_owned()
    };
    assert!(line("extism:host/user::nd_json").contains("unknown to this host"));
    assert!(line("extism:host/user::add_i32").contains("(i32, i32) -> i32"));
    assert!(line("ndtest:host::upper").contains("unknown import module"));
    assert!(
        out.contains("runs in this build: no (7 imports not provided)"),
        "{out}"
    );

    let info = ndp.run(&["info", "--json", &path]).json();
    let nd_json = import(&info, "extism:host/user", "nd_json");
    assert_eq!(nd_json["provided"], false);
    assert_eq!(nd_json["status"], "unknown");
    assert_eq!(import(&info, "ndtest:host", "upper")["status"], "unknown");
    assert_eq!(import(&info, "extism:host/env", "alloc")["provided"], true);
    assert_eq!(info["runs_in_this_build"], false);
    // Navidrome refuses user imports no service provides.
    let problems = info["problems"].as_array().expect("problems");
    assert!(
        problems
            .iter()
            .any(|p| p["message"].as_str().is_some_and(|m| m.contains("nd_json")))
    );
}

#[test]
fn info_ndhost_needs_cache_permission() {
    let ndp = Ndp::new();
    let path = fixture("ndhost.ndp").display().to_string();
    let human = ndp.run(&["info", &path]);
    human.expect_code(0);
    let out = human.stdout_str();
    let line = out
        .lines()
        .find(|l| l.contains("extism:host/user::cache_getstring"))
        .unwrap_or_else(|| panic!("cache_getstring missing from:\n{out}"));
    assert!(
        line.contains("needs permission 'cache' (not granted)"),
        "{line}"
    );
    assert!(out.contains("permissions: none"), "{out}");
    assert!(
        out.contains("runs in this build: no (1 import not provided)"),
        "{out}"
    );

    let info = ndp.run(&["info", "--json", &path]).json();
    let cache = import(&info, "extism:host/user", "cache_getstring");
    assert_eq!(cache["provided"], false);
    assert_eq!(cache["status"], "permission_not_granted");
    assert_eq!(cache["permission"], "cache");
    assert_eq!(cache["granted"], false);
    assert_eq!(info["problems"][0]["path"], "/permissions/cache");
    assert_eq!(info["runs_in_this_build"], false);
}

#[test]
fn info_reports_a_granted_app_data_service_as_provided() {
    let ndp = Ndp::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let granted = r#"{"name": "granted", "author": "a", "version": "1",
        "permissions": {"library": {"reason": "list the music"}}}"#;
    let wasm = wasm_of("wat/library_import.wasm");
    let path = write_package(dir.path(), "granted", granted, &wasm);
    let path = path.display().to_string();
    let out = ndp.run(&["info", &path]);
    out.expect_code(0);
    let text = out.stdout_str();
    assert!(text.contains("  library: list the music"), "{text}");
    let info = ndp.run(&["info", "--json", &path]).json();
    let libs = import(&info, "extism:host/user", "library_getalllibraries");
    assert_eq!(libs["status"], "provided");
    assert_eq!(libs["granted"], true);
    assert_eq!(info["runs_in_this_build"], true);

    let refused = r#"{"name": "refused", "author": "a", "version": "1"}"#;
    let path = write_package(dir.path(), "refused", refused, &wasm);
    let info = ndp
        .run(&["info", "--json", &path.display().to_string()])
        .json();
    let libs = import(&info, "extism:host/user", "library_getalllibraries");
    assert_eq!(libs["status"], "permission_not_granted");
    assert_eq!(info["runs_in_this_build"], false);
}

/// `ndp call` serves the app-data services from the demo catalog (written under the data
/// directory) or from the music folder of `--library`, as the administrator.
#[test]
fn call_serves_app_data_from_the_demo_catalog_or_a_music_folder() {
    let ndp = Ndp::new();
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().display().to_string();
    let appdata = fixture("appdata.ndp").display().to_string();
    let libraries = r#"{"fn":"library_getalllibraries"}"#;
    let out = ndp
        .run(&[
            "--data-dir",
            &data_dir,
            "call",
            &appdata,
            "host",
            "--input",
            libraries,
        ])
        .expect_code(0)
        .json();
    let names: Vec<&str> = out["result"]
        .as_array()
        .expect("libraries")
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(names, ["Music", "Extra"]);
    assert!(data.path().join("demo-library/music").is_dir());
    let users = r#"{"fn":"users_getadmins"}"#;
    ndp.run(&[
        "--data-dir",
        &data_dir,
        "call",
        &appdata,
        "host",
        "--input",
        users,
    ])
    .expect_code(0)
    .stdout_is(br#"{"result":[{"isAdmin":true,"name":"Admin","userName":"admin"}]}"#);

    // A real folder as library 1, readable through /libraries/1.
    let music = tempfile::tempdir().expect("temp dir");
    std::fs::write(music.path().join("notes.txt"), "liner notes").expect("write");
    let library = music.path().display().to_string();
    let read = r#"{"op":"read_file","path":"/libraries/1/notes.txt"}"#;
    ndp.run(&[
        "--data-dir",
        &data_dir,
        "call",
        &appdata,
        "fs",
        "--library",
        &library,
        "--input",
        read,
    ])
    .expect_code(0)
    .stdout_is(br#"{"data":"liner notes"}"#);
}

#[test]
fn info_and_call_link_a_granted_state_service() {
    let ndp = Ndp::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = r#"{"name": "granted", "author": "a", "version": "1",
        "permissions": {"cache": {"reason": "remember things"}}}"#;
    let path = write_package(
        dir.path(),
        "granted",
        manifest,
        &wasm_of("wasm32-wasip1/ndhost.wasm"),
    );
    let path = path.display().to_string();
    let info = ndp.run(&["info", "--json", &path]).json();
    let cache = import(&info, "extism:host/user", "cache_getstring");
    assert_eq!(cache["status"], "provided");
    assert_eq!(cache["provided"], true);
    // A fresh process has an empty cache: Navidrome's answer for a missing key is `{}`.
    ndp.run(&["call", &path, "use_cache", "--input", "k"])
        .expect_code(0)
        .stdout_is(b"{}");
}

/// `--data-dir` holds the KV store, so a value set by one process is read by the next one;
/// another data directory does not see it.
#[test]
fn call_kvstore_persists_between_processes_in_the_data_dir() {
    let ndp = Ndp::new();
    let data = tempfile::tempdir().expect("temp dir");
    let other = tempfile::tempdir().expect("temp dir");
    let kvstore = fixture("kvstore.ndp").display().to_string();
    let data_dir = data.path().display().to_string();
    let set = r#"{"fn":"kvstore_set","req":{"key":"greeting","value":"aGVsbG8="}}"#;
    let get = r#"{"fn":"kvstore_get","req":{"key":"greeting"}}"#;
    ndp.run(&[
        "--data-dir",
        &data_dir,
        "call",
        &kvstore,
        "host",
        "--input",
        set,
    ])
    .expect_code(0)
    .stdout_is(b"{}");
    assert!(data.path().join("plugins/kvstore/kvstore.redb").is_file());
    let got = ndp.run(&[
        "call",
        &kvstore,
        "host",
        "--input",
        get,
        "--data-dir",
        &data_dir,
    ]);
    got.expect_code(0);
    // Go writes the fields in struct order; ndp's JSON objects are sorted by key. Both PDKs
    // decode by name, so the order is not part of the contract.
    assert_eq!(
        got.json(),
        serde_json::json!({"value": "aGVsbG8=", "exists": true})
    );
    let elsewhere = other.path().display().to_string();
    ndp.run(&[
        "--data-dir",
        &elsewhere,
        "call",
        &kvstore,
        "host",
        "--input",
        get,
    ])
    .expect_code(0)
    .stdout_is(b"{}");
}

/// Without `--data-dir`, the store lives in `$XDG_DATA_HOME/ndp`.
#[test]
fn call_default_data_dir_follows_xdg_data_home() {
    let ndp = Ndp::new();
    let xdg = tempfile::tempdir().expect("temp dir");
    let kvstore = fixture("kvstore.ndp").display().to_string();
    let set = r#"{"fn":"kvstore_set","req":{"key":"k","value":"AA=="}}"#;
    let mut command = ndp.command(&["call", &kvstore, "host", "--input", set]);
    command.env("XDG_DATA_HOME", xdg.path());
    run(command, None).expect_code(0).stdout_is(b"{}");
    assert!(
        xdg.path()
            .join("ndp/plugins/kvstore/kvstore.redb")
            .is_file()
    );
}

#[test]
fn info_capabilities_problems_and_warnings() {
    let ndp = Ndp::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = r#"{"name": "caps", "author": "a", "version": "1",
        "permissions": {"scheduler": {}, "http": {"requiredHosts": ["localhost:*"]}}}"#;
    // nd-runtime accepts WAT text as well as binary wasm.
    let wat = br#"(module
        (func (export "nd_on_init") (result i32) i32.const 0)
        (func (export "nd_scrobbler_scrobble") (result i32) i32.const 0))"#;
    let path = write_package(dir.path(), "caps", manifest, wat)
        .display()
        .to_string();
    let info = ndp.run(&["info", "--json", &path]);
    info.expect_code(0);
    let info = info.json();
    assert_eq!(
        info["capabilities"],
        serde_json::json!(["Scrobbler", "Lifecycle"])
    );
    let paths: Vec<&str> = info["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p["path"].as_str())
        .collect();
    assert_eq!(paths, ["/permissions/users", "/permissions/scheduler"]);
    assert_eq!(
        info["warnings"][0]["path"],
        "/permissions/http/requiredHosts/0"
    );
    assert_eq!(info["imports"], serde_json::json!([]));
    // The scheduler service refuses a plugin without nd_scheduler_callback, as Navidrome does.
    assert_eq!(info["runs_in_this_build"], false);

    let human = ndp.run(&["info", &path]).stdout_str();
    assert!(
        human.contains("capabilities: Scrobbler, Lifecycle"),
        "{human}"
    );
    assert!(
        human.contains("problems (2), for which Navidrome would refuse to load the plugin:"),
        "{human}"
    );
    assert!(human.contains("manifest warnings (1):"), "{human}");
    assert!(human.contains("  scheduler: (no reason given)"), "{human}");

    // ndp call warns about every problem, then fails to load it for the one a linked
    // service enforces.
    let call = ndp.run(&["call", &path, "nd_on_init"]);
    call.expect_code(64)
        .stderr_has("Navidrome would refuse to load this plugin: /permissions/users")
        .stderr_has(
            "host service 'scheduler': plugin caps has the scheduler permission but does not export nd_scheduler_callback",
        );

    // Without the scheduler permission, ndp call runs it, with the remaining problem as a
    // warning on stderr.
    let manifest = r#"{"name": "caps", "author": "a", "version": "1"}"#;
    let path = write_package(dir.path(), "caps", manifest, wat)
        .display()
        .to_string();
    let call = ndp.run(&["call", &path, "nd_on_init"]);
    call.expect_code(0).stdout_is(b"");
    call.stderr_has("Navidrome would refuse to load this plugin: /permissions/users");
}

#[test]
fn info_broken_packages_exit_64() {
    let ndp = Ndp::new();
    let dir = tempfile::tempdir().expect("temp dir");

    let garbage = dir.path().join("garbage.ndp");
    std::fs::write(&garbage, b"this is not a zip file at all").expect("write");
    let run = ndp.run(&["info", garbage.to_str().expect("utf-8 path")]);
    run.expect_code(64).stdout_is(b"");
    run.stderr_has("error: ")
        .stderr_has("plugin 'garbage'")
        .stderr_has("not a readable zip archive");

    let no_wasm = dir.path().join("nowasm.ndp");
    {
        let file = std::fs::File::create(&no_wasm).expect("create");
        let mut zip = zip::ZipWriter::new(file);
        zip.start_file("manifest.json", zip::write::SimpleFileOptions::default())
            .expect("start entry");
        zip.write_all(br#"{"name":"n","author":"a","version":"1"}"#)
            .expect("write entry");
        zip.finish().expect("finish zip");
    }
    let run = ndp.run(&["info", no_wasm.to_str().expect("utf-8 path")]);
    run.expect_code(64)
        .stdout_is(b"")
        .stderr_has("package missing plugin.wasm");
    // `call` reads packages the same way.
    let run = ndp.run(&["call", no_wasm.to_str().expect("utf-8 path"), "echo"]);
    run.expect_code(64)
        .stderr_has("package missing plugin.wasm");

    let bad_wasm = write_package(
        dir.path(),
        "badwasm",
        r#"{"name":"n","author":"a","version":"1"}"#,
        b"\0asm\x01\0\0\0garbage",
    );
    let run = ndp.run(&["info", "--json", bad_wasm.to_str().expect("utf-8 path")]);
    run.expect_code(64)
        .stdout_is(b"")
        .stderr_has("invalid wasm module");

    let bad_manifest = write_package(dir.path(), "badmanifest", r#"{"name": ""}"#, b"");
    let run = ndp.run(&["info", bad_manifest.to_str().expect("utf-8 path")]);
    run.expect_code(64)
        .stderr_has("manifest.json")
        .stderr_has("/author");

    let not_ndp = dir.path().join("plugin.zip");
    std::fs::write(&not_ndp, b"").expect("write");
    let run = ndp.run(&["info", not_ndp.to_str().expect("utf-8 path")]);
    run.expect_code(64).stderr_has("must end in .ndp");
}

#[test]
fn info_uses_the_cache_directory() {
    let ndp = Ndp::new();
    ndp.run(&["info", &kernel()]).expect_code(0);
    let entries: Vec<_> = std::fs::read_dir(ndp.cache.path())
        .expect("cache dir exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "ndpc"))
        .collect();
    assert_eq!(entries.len(), 1, "one compiled artifact in the cache");
    // The second run loads the artifact instead of compiling.
    let info = ndp.run(&["info", "--json", &kernel()]);
    info.expect_code(0);
    assert_eq!(info.json()["compile_cache"], "hit", "{}", info.stderr);
    assert!(!info.stderr.contains("rejected"), "{}", info.stderr);
    let human = ndp.run(&["info", &kernel()]).stdout_str();
    assert!(
        human.contains("loaded from the compilation cache"),
        "{human}"
    );

    let mut command = Command::new(env!("CARGO_BIN_EXE_ndp"));
    command.args(["--no-cache", "info", "--json", &kernel()]);
    let disabled = run(command, None);
    disabled.expect_code(0);
    assert_eq!(disabled.json()["compile_cache"], "disabled");
}

#[test]
fn default_cache_dir_follows_xdg_cache_home() {
    let home = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ndp"));
    command
        .args(["info", "--json", &kernel()])
        .env("XDG_CACHE_HOME", home.path().join("xdg"))
        .env("HOME", home.path());
    let run = run(command, None);
    run.expect_code(0);
    let dir = home.path().join("xdg/ndp");
    assert!(dir.is_dir(), "{} was not created", dir.display());
    assert!(!home.path().join(".cache").exists());
}

// ---------------------------------------------------------------------------------------
// ndp call: success
// ---------------------------------------------------------------------------------------

#[test]
fn call_echo_input_text() {
    let ndp = Ndp::new();
    call_kernel(&ndp, "echo", &["--input", "hello, world"])
        .expect_code(0)
        .stdout_is(b"hello, world");
    // Values that look like flags are input too.
    call_kernel(&ndp, "echo", &["--input", "-x"])
        .expect_code(0)
        .stdout_is(b"-x");
    // No input is empty input.
    call_kernel(&ndp, "echo", &[]).expect_code(0).stdout_is(b"");
}

#[test]
fn call_echo_input_file_is_byte_exact() {
    let ndp = Ndp::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let input: Vec<u8> = (0..=255u8).chain(*b"\n\r\n").collect();
    let file = dir.path().join("input.bin");
    std::fs::write(&file, &input).expect("write input");
    call_kernel(
        &ndp,
        "echo",
        &["--input-file", file.to_str().expect("utf-8 path")],
    )
    .expect_code(0)
    .stdout_is(&input);
    let missing = dir.path().join("missing.bin");
    call_kernel(
        &ndp,
        "echo",
        &["--input-file", missing.to_str().expect("utf-8 path")],
    )
    .expect_code(64)
    .stderr_has("--input-file");
}

#[test]
fn call_echo_stdin() {
    let ndp = Ndp::new();
    let kernel = kernel();
    ndp.run_stdin(
        &["call", &kernel, "echo", "--input", "-"],
        b"from stdin\n\x00\xff",
    )
    .expect_code(0)
    .stdout_is(b"from stdin\n\x00\xff");
    ndp.run_stdin(
        &["call", &kernel, "echo", "--input-file", "-"],
        b"also stdin",
    )
    .expect_code(0)
    .stdout_is(b"also stdin");
}

#[test]
fn call_with_config() {
    let ndp = Ndp::new();
    let config = ["--config", "greeting=hello=world", "--config", "other=x"];
    let mut args = vec!["--input", "greeting"];
    args.extend(config);
    call_kernel(&ndp, "config", &args)
        .expect_code(0)
        .stdout_is(br#"{"key":"greeting","value":"hello=world"}"#);
    let mut args = vec!["--input", "absent"];
    args.extend(config);
    call_kernel(&ndp, "config", &args)
        .expect_code(0)
        .stdout_is(br#"{"key":"absent","value":null}"#);
    call_kernel(
        &ndp,
        "config",
        &["--input", "k", "--config", "k=1", "--config", "k=2"],
    )
    .expect_code(0)
    .stdout_is(br#"{"key":"k","value":"2"}"#);
    call_kernel(
        &ndp,
        "config",
        &["--input", "k", "--config", "no-equals-sign"],
    )
    .expect_code(64)
    .stderr_has("KEY=VALUE");
}

#[test]
fn call_payload_one_mebibyte() {
    let ndp = Ndp::new();
    let run = call_kernel(&ndp, "payload", &["--input", "1048576"]);
    run.expect_code(0);
    assert_eq!(run.stdout.len(), 1 << 20);
    let expected: Vec<u8> = (0..1usize << 20)
        .map(|i| ((i * 31 + 7) % 251) as u8)
        .collect();
    assert!(
        run.stdout == expected,
        "payload bytes differ from (i*31+7)%251"
    );
}

#[test]
fn call_unknown_target_package() {
    let ndp = Ndp::new();
    let path = fixture("kernel-unknown.ndp").display().to_string();
    ndp.run(&["call", &path, "count_vowels", "--input", "Hello, World!"])
        .expect_code(0)
        .stdout_is(br#"{"count":3,"total":3,"vowels":"aeiouAEIOU"}"#);
}

#[test]
fn call_exit_zero_is_success() {
    let ndp = Ndp::new();
    call_kernel(&ndp, "exit", &["--input", "0"])
        .expect_code(0)
        .stdout_is(b"");
}

#[test]
fn guest_logs_follow_log_level() {
    let ndp = Ndp::new();
    let run = call_kernel(
        &ndp,
        "log_all",
        &["--input", "guest-line", "--log-level", "info"],
    );
    run.expect_code(0).stdout_is(b"ok");
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("guest-line"))
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "info, warn and error lines expected:\n{}",
        run.stderr
    );
    assert!(lines.iter().all(|l| l.contains("nd::plugin")), "{lines:?}");

    let quiet = call_kernel(
        &ndp,
        "log_all",
        &["--input", "guest-line", "--log-level", "off"],
    );
    quiet.expect_code(0).stdout_is(b"ok");
    assert!(!quiet.stderr.contains("guest-line"), "{}", quiet.stderr);

    let plugin_only = call_kernel(
        &ndp,
        "log_all",
        &[
            "--input",
            "guest-line",
            "--log-level",
            "off,nd::plugin=trace",
        ],
    );
    let count = plugin_only
        .stderr
        .lines()
        .filter(|l| l.contains("guest-line"))
        .count();
    assert_eq!(count, 5, "{}", plugin_only.stderr);
}

// ---------------------------------------------------------------------------------------
// ndp call: every failure class and its exit code
// ---------------------------------------------------------------------------------------

#[test]
fn call_plugin_error_exits_1() {
    let ndp = Ndp::new();
    call_kernel(&ndp, "fail", &["--input", "boom: the plugin said so"])
        .expect_code(1)
        .stdout_is(b"")
        .stderr_has("boom: the plugin said so");
    call_kernel(&ndp, "fail_rc", &["--input", "bad thing|42"])
        .expect_code(1)
        .stderr_has("bad thing")
        .stderr_has("42");
    call_kernel(&ndp, "rc_only", &[])
        .expect_code(1)
        .stderr_has("plugin call exited with code 7");
}

#[test]
fn call_not_implemented_exits_2() {
    let ndp = Ndp::new();
    call_kernel(&ndp, "not_implemented", &[])
        .expect_code(2)
        .stdout_is(b"")
        .stderr_has("not implemented");
}

#[test]
fn call_trap_exits_3() {
    let ndp = Ndp::new();
    call_kernel(&ndp, "trap", &[])
        .expect_code(3)
        .stdout_is(b"")
        .stderr_has("trap");
    call_kernel(&ndp, "panic", &[])
        .expect_code(3)
        .stderr_has("trap");
}

#[test]
fn call_timeout_exits_3() {
    let ndp = Ndp::new();
    let started = Instant::now();
    call_kernel(&ndp, "infinite_loop", &["--timeout-ms", "300"])
        .expect_code(3)
        .stdout_is(b"")
        .stderr_has("deadline exceeded");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn call_out_of_memory_exits_3() {
    let ndp = Ndp::new();
    call_kernel(&ndp, "memory_bomb", &["--max-memory-mb", "32"])
        .expect_code(3)
        .stdout_is(b"")
        .stderr_has("out of memory");
}

#[test]
fn call_nonzero_wasi_exit_exits_3() {
    let ndp = Ndp::new();
    call_kernel(&ndp, "exit", &["--input", "3"])
        .expect_code(3)
        .stdout_is(b"")
        .stderr_has("exit code 3");
}

#[test]
fn call_host_function_abort_exits_3() {
    let ndp = Ndp::new();
    // http_request is denied by default (no egress in this build).
    call_kernel(&ndp, "http_get", &["--input", "http://127.0.0.1:9/"])
        .expect_code(3)
        .stderr_has("http_request");
}

#[test]
fn call_output_too_large_exits_3() {
    let ndp = Ndp::new();
    // Just over the 64 MiB output cap of nd-runtime's defaults.
    call_kernel(&ndp, "payload", &["--input", "67108865"])
        .expect_code(3)
        .stdout_is(b"")
        .stderr_has("exceeds the limit");
}

#[test]
fn call_missing_or_uncallable_export_exits_64() {
    let ndp = Ndp::new();
    call_kernel(&ndp, "no_such_export", &[])
        .expect_code(64)
        .stdout_is(b"")
        .stderr_has("no export 'no_such_export'")
        .stderr_has("callable exports: ")
        .stderr_has("echo");

    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_package(
        dir.path(),
        "shapes",
        r#"{"name":"n","author":"a","version":"1"}"#,
        &wasm_of("wat/export_shapes.wasm"),
    );
    let path = path.display().to_string();
    ndp.run(&["call", &path, "with_param"])
        .expect_code(64)
        .stderr_has("cannot be called")
        .stderr_has("ok_i32");
    ndp.run(&["call", &path, "ok_i32"])
        .expect_code(0)
        .stdout_is(b"");
}

#[test]
fn call_nonexistent_file_exits_64() {
    let ndp = Ndp::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.ndp");
    ndp.run(&["call", missing.to_str().expect("utf-8 path"), "echo"])
        .expect_code(64)
        .stdout_is(b"")
        .stderr_has("cannot read")
        .stderr_has("missing.ndp");
}

#[test]
fn call_ndhost_without_cache_permission_exits_64() {
    let ndp = Ndp::new();
    let path = fixture("ndhost.ndp").display().to_string();
    ndp.run(&["call", &path, "use_cache", "--input", "key"])
        .expect_code(64)
        .stdout_is(b"")
        .stderr_has("cache_getstring")
        .stderr_has("extism:host/user")
        .stderr_has("'cache'")
        .stderr_has("not granted");
}

#[test]
fn bad_arguments_exit_64() {
    let ndp = Ndp::new();
    let kernel = kernel();
    for args in [
        vec!["call", kernel.as_str(), "echo", "--bogus"],
        vec!["call", kernel.as_str()],
        vec![
            "call",
            kernel.as_str(),
            "echo",
            "--input",
            "a",
            "--input-file",
            "b",
        ],
        vec!["call", kernel.as_str(), "echo", "--timeout-ms", "0"],
        vec!["call", kernel.as_str(), "echo", "--timeout-ms", "soon"],
        vec!["call", kernel.as_str(), "echo", "--max-memory-mb", "0"],
        vec!["--log-level", "nd::plugin=loud", "info", kernel.as_str()],
        vec!["info"],
        vec!["frobnicate"],
        vec![],
    ] {
        let run = ndp.run(&args);
        assert_eq!(run.code, 64, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
    let mut conflicting = Command::new(env!("CARGO_BIN_EXE_ndp"));
    conflicting.arg("--cache-dir").arg(ndp.cache.path()).args([
        "--no-cache",
        "info",
        kernel.as_str(),
    ]);
    let run = run(conflicting, None);
    run.expect_code(64).stderr_has("cannot be used with");
}

#[test]
fn unusable_cache_dir_exits_64() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").expect("write");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ndp"));
    command
        .arg("--cache-dir")
        .arg(file.join("sub"))
        .args(["info", &kernel()]);
    let run = run(command, None);
    run.expect_code(64).stderr_has("--cache-dir");
}

#[test]
fn help_and_version_exit_0() {
    let ndp = Ndp::new();
    let help = ndp.run(&["--help"]);
    help.expect_code(0);
    let text = help.stdout_str();
    assert!(text.contains("Exit codes:"), "{text}");
    for code in ["  0  ", "  1  ", "  2  ", "  3  ", " 64  ", " 70  "] {
        assert!(text.contains(code), "{code:?} missing from:\n{text}");
    }
    let call_help = ndp.run(&["call", "--help"]);
    call_help.expect_code(0);
    let text = call_help.stdout_str();
    for needle in [
        "--input <TEXT>",
        "--input-file <PATH>",
        "--config <KEY=VALUE>",
        "--timeout-ms <N>",
        "--max-memory-mb <N>",
        "Exit codes:",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let info_help = ndp.run(&["info", "--help"]);
    info_help.expect_code(0);
    assert!(info_help.stdout_str().contains("--json"));
    let version = ndp.run(&["--version"]);
    version.expect_code(0);
    assert!(version.stdout_str().starts_with("ndp "));
}

/// `http_send` and Extism's `http_request` go through one egress policy: a loopback server
/// is refused (naming the rule) until the operator allows it with `--allow-local`, and the
/// refused request never reaches the server.
#[test]
fn call_http_reaches_loopback_only_with_allow_local() {
    use nd_testkit::http_server::{TestResponse, TestServer};
    let ndp = Ndp::new();
    let server = TestServer::start(|_| TestResponse::ok("hi"));
    let http = fixture("http.ndp").display().to_string();
    let send = serde_json::json!({"fn": "http_send",
        "req": {"request": {"method": "GET", "url": server.url("/x")}}})
    .to_string();
    let refused = ndp.run(&["call", &http, "host", "--input", &send]);
    refused.expect_code(0);
    let error = refused.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("loopback address"), "{error}");
    assert_eq!(server.request_count(), 0);

    let allowed = ndp.run(&[
        "call",
        &http,
        "host",
        "--input",
        &send,
        "--allow-local",
        "127.0.0.1",
    ]);
    allowed.expect_code(0);
    assert_eq!(allowed.json()["result"]["statusCode"], 200);
    assert_eq!(allowed.json()["result"]["body"], "aGk=");
    assert_eq!(server.request_count(), 1);

    // Extism's http_request (the PDK's http::request) follows the same policy, and a refusal
    // fails the call (exit 3).
    let pdk = serde_json::json!({"url": server.url("/y")}).to_string();
    ndp.run(&["call", &http, "pdk_request", "--input", &pdk])
        .expect_code(3)
        .stderr_has("loopback address");
    assert_eq!(server.request_count(), 1);
    let ok = ndp.run(&[
        "call",
        &http,
        "pdk_request",
        "--input",
        &pdk,
        "--allow-local",
        "127.0.0.1/32",
    ]);
    ok.expect_code(0);
    assert_eq!(ok.json()["status"], 200);
    assert_eq!(server.request_count(), 2);
}
