//! The plugin-management commands through the real binary, over a temporary data directory:
//! install, list, enable, config, scope, call by id, info, disable, update, remove; the
//! development-folder loop (dev, enable, rebuild, refresh, call); the users/library scope
//! gate; `--json` documents.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Host, Run, fixture, wasm_of, write_package};

/// An agent manifest with a config schema: `output` (the agent fixture's answer shaping),
/// `limit` (integer ≥ 1) and `verbose` (boolean).
fn tuned_manifest(version: &str) -> Value {
    json!({
        "name": "tuned-agent",
        "author": "ndp tests",
        "version": version,
        "description": "the agent fixture with a configuration schema",
        "config": {"schema": {
            "type": "object",
            "properties": {
                "output": {"type": "string"},
                "error": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1},
                "verbose": {"type": "boolean"}
            },
            "additionalProperties": false
        }}
    })
}

fn stdout_has(run: &Run, needle: &str) {
    let out = run.stdout_str();
    assert!(out.contains(needle), "stdout lacks {needle:?}:\n{out}");
}

fn plugin<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .expect("array")
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list:#}"))
}

const BIO: &str = r#"{"id":"ar-1","name":"Björk"}"#;

#[test]
fn install_enable_configure_scope_call_disable_update_remove() {
    let host = Host::new();
    let data = host.data_dir();
    let tuned = host.package("tuned", &tuned_manifest("1.0.0"), "agent");

    // install: recorded disabled, with the command that enables it.
    let installed = host.run(&["install", &tuned]);
    installed.expect_code(0);
    stdout_has(&installed, "installed plugin 'tuned' (tuned-agent 1.0.0)");
    stdout_has(&installed, "it is disabled");
    stdout_has(&installed, &format!("ndp --data-dir {data} enable tuned"));
    assert!(host.data.path().join("plugins/tuned.ndp").is_file());
    host.run(&["install", &tuned])
        .expect_code(64)
        .stderr_has("already installed")
        .stderr_has("update");

    // list: disabled, capabilities detected without loading.
    let list = host.run(&["list"]);
    list.expect_code(0);
    let line = list
        .stdout_str()
        .lines()
        .find(|l| l.starts_with("tuned "))
        .expect("a row for tuned")
        .to_owned();
    for cell in ["tuned-agent", "1.0.0", "file", "no", "MetadataAgent"] {
        assert!(line.contains(cell), "{cell:?} missing from {line:?}");
    }
    let json = host.json(&["list"]);
    let row = plugin(&json, "tuned");
    assert_eq!(row["enabled"], false);
    assert_eq!(row["loaded"], Value::Null);
    assert_eq!(row["version"], "1.0.0");
    assert_eq!(row["capabilities"], json!(["MetadataAgent", "Lifecycle"]));

    // A disabled plugin cannot be called by id.
    host.run(&["call", "tuned", "nd_get_artist_biography", "--input", BIO])
        .expect_code(64)
        .stderr_has("disabled")
        .stderr_has("enable tuned");

    // enable: loads and records it.
    let enabled = host.run(&["enable", "tuned"]);
    enabled.expect_code(0);
    stdout_has(&enabled, "enabled plugin 'tuned'");
    stdout_has(&enabled, "MetadataAgent");
    let json = host.json(&["list", "--load"]);
    let row = plugin(&json, "tuned");
    assert_eq!(row["enabled"], true);
    assert_eq!(row["loaded"], true);
    assert_eq!(row["lastError"], Value::Null);
    let loaded = host.run(&["list", "--load"]).stdout_str();
    let line = loaded
        .lines()
        .find(|l| l.starts_with("tuned "))
        .expect("row");
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells[3..6],
        ["file", "yes", "yes"],
        "enabled and loaded: {line:?}"
    );

    // config set: values typed through the schema, then validated.
    host.run(&["config", "set", "tuned", "limit=3", "verbose=true"])
        .expect_code(0);
    assert_eq!(
        host.json(&["config", "get", "tuned"]),
        json!({"id": "tuned", "config": {"limit": 3, "verbose": true}})
    );
    let invalid = host.run(&["config", "set", "tuned", "limit=0", "verbose=maybe"]);
    invalid
        .expect_code(65)
        .stderr_has("does not satisfy its config.schema (2 problems)")
        .stderr_has("note: /limit: ")
        .stderr_has("note: /verbose: ");
    assert!(invalid.stdout.is_empty());
    host.run(&["config", "set", "tuned", "unknown=1"])
        .expect_code(65)
        .stderr_has("unknown");
    host.run(&["config", "set", "tuned", "--json-value", "[1]"])
        .expect_code(64)
        .stderr_has("JSON object");
    host.run(&["config", "set", "tuned"]).expect_code(64);
    // Nothing invalid was stored.
    let limit = host.run(&["config", "get", "tuned", "limit"]);
    limit.expect_code(0).stdout_is(b"3\n");
    host.run(&["config", "set", "tuned", "--unset", "verbose"])
        .expect_code(0);
    assert_eq!(
        host.json(&["config", "get", "tuned"])["config"],
        json!({"limit": 3})
    );

    // --json-value replaces the whole object; the plugin sees it (output=upper).
    let saved = host.json(&[
        "config",
        "set",
        "tuned",
        "--json-value",
        r#"{"output":"upper"}"#,
    ]);
    assert_eq!(saved["result"], "config-saved");
    assert_eq!(saved["status"]["config"], json!({"output": "upper"}));
    assert_eq!(saved["status"]["enabled"], true);
    host.run(&["config", "get", "tuned", "output"])
        .expect_code(0)
        .stdout_is(b"upper\n");
    host.run(&["config", "get", "tuned", "limit"])
        .expect_code(66)
        .stderr_has("no configuration key 'limit'");
    host.run(&["call", "tuned", "nd_get_artist_biography", "--input", BIO])
        .expect_code(0)
        .stdout_is("{\"BIOGRAPHY\":\"Biography for Björk\"}".as_bytes());
    host.run(&[
        "call",
        "tuned",
        "nd_get_artist_biography",
        "--input",
        BIO,
        "--config",
        "output=null",
    ])
    .expect_code(64)
    .stderr_has("stored configuration");
    host.run(&["call", "tuned", "no_such_export"])
        .expect_code(64)
        .stderr_has("no callable export 'no_such_export'")
        .stderr_has("nd_get_artist_biography");
    // A plugin error by id exits 1, as for a file.
    host.run(&["config", "set", "tuned", "error=it went wrong"])
        .expect_code(0);
    host.run(&["call", "tuned", "nd_get_artist_mbid", "--input", BIO])
        .expect_code(1)
        .stderr_has("it went wrong");

    // scope: names resolved to ids, checked against the demo catalog.
    host.run(&["scope", "tuned"])
        .expect_code(0)
        .stdout_is(b"tuned: users: none; libraries: none; read-only\n");
    let scoped = host.json(&[
        "scope",
        "tuned",
        "--users",
        "alice,u-bob",
        "--libraries",
        "2",
        "--write-access",
    ]);
    assert_eq!(scoped["result"], "scope-saved");
    assert_eq!(
        scoped["status"]["scope"],
        json!({"allUsers": false, "users": ["u-alice", "u-bob"], "allLibraries": false,
               "libraries": [2], "allowWriteAccess": true})
    );
    host.run(&["scope", "tuned", "--users", "mallory"])
        .expect_code(64)
        .stderr_has("no user 'mallory'")
        .stderr_has("alice (u-alice)");
    host.run(&["scope", "tuned", "--libraries", "9"])
        .expect_code(64)
        .stderr_has("no library 9");
    host.run(&["scope", "tuned", "--users", "a", "--all-users"])
        .expect_code(64);
    host.run(&["scope", "tuned", "--all-users", "--read-only"])
        .expect_code(0)
        .stdout_is(
            b"tuned: users: all; libraries: 2; read-only\nthe plugin loads with the new scope\n",
        );

    // info by id: the manager's view, then the package report.
    let info = host.run(&["info", "tuned"]);
    info.expect_code(0);
    for needle in [
        "installed   tuned  (tuned-agent 1.0.0)",
        "enabled     yes",
        "scope       users: all; libraries: 2; read-only",
        "\"output\":\"upper\"",
        "package:",
        "capabilities: MetadataAgent, Lifecycle",
        "runs in this build: yes",
    ] {
        stdout_has(&info, needle);
    }
    let info = host.json(&["info", "tuned"]);
    assert_eq!(info["ndp_info_version"], 1);
    assert_eq!(info["id"], "tuned");
    assert_eq!(info["status"]["enabled"], true);
    assert_eq!(info["status"]["name"], "tuned-agent");
    assert_eq!(info["capabilities"], json!(["MetadataAgent", "Lifecycle"]));
    assert_eq!(info["metrics"], json!([]));
    assert_eq!(info["package_differs_from_recorded"], false);

    // disable.
    let disabled = host.json(&["disable", "tuned"]);
    assert_eq!(disabled["result"], "disabled");
    assert_eq!(disabled["status"]["enabled"], false);
    host.run(&["disable", "tuned"])
        .expect_code(0)
        .stdout_is(b"plugin 'tuned' was already disabled\n");

    // update: a new package of the same id ends up disabled, keeping configuration and scope.
    host.run(&["enable", "tuned"]).expect_code(0);
    let newer = tempfile::tempdir().expect("temp dir");
    let v2 = write_package(
        newer.path(),
        "tuned",
        &tuned_manifest("2.0.0").to_string(),
        &wasm_of("wasm32-wasip1/partialagent.wasm"),
    )
    .display()
    .to_string();
    let updated = host.run(&["update", &v2]);
    updated.expect_code(0);
    stdout_has(
        &updated,
        "updated plugin 'tuned' from tuned-agent 1.0.0 to tuned-agent 2.0.0",
    );
    stdout_has(
        &updated,
        "it is now disabled, as Navidrome disables a changed package",
    );
    let status = host.json(&["list"]);
    let row = plugin(&status, "tuned");
    assert_eq!(row["enabled"], false);
    assert_eq!(row["version"], "2.0.0");
    assert_eq!(
        row["config"],
        json!({"output": "upper", "error": "it went wrong"})
    );
    assert_eq!(row["scope"]["allUsers"], true);
    let same = host.json(&["update", &v2]);
    assert_eq!(same["result"], "unchanged");
    let stranger = host.package("stranger", &tuned_manifest("1.0.0"), "agent");
    host.run(&["update", &stranger])
        .expect_code(66)
        .stderr_has("plugin 'stranger' is not installed");
    // The new build answers once enabled again (the partial agent).
    host.run(&["config", "set", "tuned", "--json-value", "{}"])
        .expect_code(0);
    host.run(&["enable", "tuned"]).expect_code(0);
    host.run(&["call", "tuned", "nd_get_artist_biography", "--input", BIO])
        .expect_code(0)
        .stdout_is("{\"biography\":\"Partial agent biography for Björk\"}".as_bytes());
    host.run(&["call", "tuned", "nd_get_artist_mbid", "--input", BIO])
        .expect_code(2);

    // remove: the package goes, the data directory stays.
    let removed = host.json(&["remove", "tuned"]);
    assert_eq!(
        removed,
        json!({"id": "tuned", "result": "removed", "status": null})
    );
    assert!(!host.data.path().join("plugins/tuned.ndp").exists());
    assert_eq!(host.json(&["list"]), json!([]));
    host.run(&["list"])
        .expect_code(0)
        .stdout_is(format!("no plugins in {data}/plugins; install one with `ndp --data-dir {data} install FILE.ndp`\n").as_bytes());
    for args in [
        vec!["remove", "tuned"],
        vec!["enable", "tuned"],
        vec!["info", "tuned"],
        vec!["config", "get", "tuned"],
        vec!["call", "tuned", "x"],
    ] {
        let run = host.run(&args);
        assert_eq!(run.code, 66, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("no plugin with id 'tuned'"),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
}

/// A plugin with the users permission cannot be enabled until users are allowed; a scope
/// narrowed to nothing disables it again.
#[test]
fn the_users_permission_needs_a_scope() {
    let host = Host::new();
    let scrobbler = fixture("scrobbler.ndp").display().to_string();
    host.run(&["install", &scrobbler]).expect_code(0);
    host.run(&["enable", "scrobbler"])
        .expect_code(64)
        .stderr_has("users permission")
        .stderr_has("scope scrobbler --all-users");
    host.run(&["scope", "scrobbler", "--users", "bob"])
        .expect_code(0);
    host.run(&["enable", "scrobbler"]).expect_code(0);
    let narrowed = host.run(&["scope", "scrobbler", "--users", ""]);
    narrowed.expect_code(0);
    stdout_has(&narrowed, "it is now disabled");
    assert_eq!(plugin(&host.json(&["list"]), "scrobbler")["enabled"], false);
}

/// A plugin that fails to load stays disabled with its error stored, shown by list and info.
#[test]
fn a_load_failure_is_stored_as_the_last_error() {
    let host = Host::new();
    // The ndhost fixture imports cache functions without the cache permission.
    let ndhost = fixture("ndhost.ndp").display().to_string();
    host.run(&["install", &ndhost]).expect_code(0);
    host.run(&["enable", "ndhost"])
        .expect_code(64)
        .stderr_has("failed to load")
        .stderr_has("cache_getstring")
        .stderr_has("stored as its last error");
    let row = plugin(&host.json(&["list"]), "ndhost").clone();
    assert_eq!(row["enabled"], false);
    let error = row["lastError"].as_str().expect("last error").to_owned();
    assert!(error.contains("cache_getstring"), "{error}");
    let info = host.run(&["info", "ndhost"]);
    info.expect_code(0);
    stdout_has(&info, "last error  ");
    stdout_has(&info, "cache_getstring");
}

fn write_manifest(folder: &Path, fixture_name: &str) {
    let manifest = std::fs::read(
        super::workspace_root().join(format!("fixtures/plugins/{fixture_name}/manifest.json")),
    )
    .expect("fixture manifest");
    std::fs::write(folder.join("manifest.json"), manifest).expect("write manifest");
}

/// The plugin author's loop: link a folder, enable, call, rebuild, refresh, call again.
#[test]
fn a_development_folder_is_linked_and_a_rebuild_picked_up_on_refresh() {
    let host = Host::new();
    let root = tempfile::tempdir().expect("temp dir");
    let folder = root.path().join("devagent");
    std::fs::create_dir_all(&folder).expect("mkdir");
    write_manifest(&folder, "agent");
    // A cargo layout: the module is the release build for wasm32-wasip1.
    let release: PathBuf = folder.join("target/wasm32-wasip1/release");
    std::fs::create_dir_all(&release).expect("mkdir");
    std::fs::write(
        release.join("devagent.wasm"),
        wasm_of("wasm32-wasip1/agent.wasm"),
    )
    .expect("write wasm");
    let folder_arg = folder.display().to_string();

    let linked = host.run(&["dev", &folder_arg]);
    linked.expect_code(0);
    stdout_has(&linked, "linked development folder");
    stdout_has(&linked, "as plugin 'devagent' (fixture-agent 0.0.0)");
    stdout_has(&linked, "devagent.wasm");
    stdout_has(&linked, "it is disabled");
    stdout_has(&linked, "refresh devagent");
    let row = plugin(&host.json(&["list"]), "devagent").clone();
    assert_eq!(row["enabled"], false);
    assert_eq!(
        row["dev"]["folder"],
        std::fs::canonicalize(&folder)
            .expect("canonical")
            .display()
            .to_string()
    );
    let list = host.run(&["list"]).stdout_str();
    assert!(
        list.lines()
            .any(|l| l.starts_with("devagent ") && l.contains(" dev ")),
        "{list}"
    );

    host.run(&["enable", "devagent"]).expect_code(0);
    host.run(&[
        "call",
        "devagent",
        "nd_get_artist_biography",
        "--input",
        BIO,
    ])
    .expect_code(0)
    .stdout_is("{\"biography\":\"Biography for Björk\"}".as_bytes());
    host.run(&["refresh", "devagent"])
        .expect_code(0)
        .stdout_is(b"'devagent' is unchanged\n");

    // "Rebuild": another module in the same place.
    std::fs::write(
        release.join("devagent.wasm"),
        wasm_of("wasm32-wasip1/partialagent.wasm"),
    )
    .expect("write wasm");
    let refreshed = host.json(&["refresh", "devagent"]);
    assert_eq!(refreshed["result"], "refreshed");
    assert_eq!(refreshed["status"]["enabled"], true);
    assert_eq!(refreshed["status"]["loaded"], true);
    host.run(&[
        "call",
        "devagent",
        "nd_get_artist_biography",
        "--input",
        BIO,
    ])
    .expect_code(0)
    .stdout_is("{\"biography\":\"Partial agent biography for Björk\"}".as_bytes());

    // plugin.wasm at the folder root wins over the cargo output.
    std::fs::write(
        folder.join("plugin.wasm"),
        wasm_of("wasm32-wasip1/agent.wasm"),
    )
    .expect("write wasm");
    let refreshed = host.run(&["refresh", "devagent"]);
    refreshed.expect_code(0);
    stdout_has(&refreshed, "picked up the new build of 'devagent'");
    stdout_has(&refreshed, "it is loaded and enabled");
    host.run(&[
        "call",
        "devagent",
        "nd_get_artist_biography",
        "--input",
        BIO,
    ])
    .expect_code(0)
    .stdout_is("{\"biography\":\"Biography for Björk\"}".as_bytes());

    // A broken build (no module) disables it, with the reason.
    std::fs::remove_file(folder.join("plugin.wasm")).expect("rm");
    std::fs::remove_file(release.join("devagent.wasm")).expect("rm");
    host.run(&["refresh", "devagent"])
        .expect_code(64)
        .stderr_has("no wasm module found");
    assert_eq!(plugin(&host.json(&["list"]), "devagent")["enabled"], false);

    // The id is taken: installing a package of that id is refused.
    let package = host.package("devagent", &tuned_manifest("1.0.0"), "agent");
    host.run(&["install", &package])
        .expect_code(64)
        .stderr_has("linked to a development folder");

    // Another id for the same folder, with an explicit module.
    let explicit = root.path().join("built.wasm");
    std::fs::write(&explicit, wasm_of("wasm32-wasip1/agent.wasm")).expect("write");
    let relinked = host.json(&[
        "dev",
        &folder_arg,
        "--id",
        "agent-dev",
        "--wasm",
        &explicit.display().to_string(),
    ]);
    assert_eq!(relinked["result"], "linked");
    assert_eq!(relinked["id"], "agent-dev");
    host.run(&["dev", &folder_arg, "--id", "bad/id"])
        .expect_code(64)
        .stderr_has("path separator");
    host.run(&["dev", &root.path().join("missing").display().to_string()])
        .expect_code(64)
        .stderr_has("development folder");

    // remove forgets the link and leaves the folder alone.
    let removed = host.run(&["remove", "devagent"]);
    removed.expect_code(0);
    stdout_has(&removed, "unlinked plugin 'devagent'");
    assert!(folder.join("manifest.json").is_file());
    assert!(
        host.json(&["list"])
            .as_array()
            .is_some_and(|l| l.len() == 1)
    );
}

/// `--plugins-dir` moves the plugins folder, and the printed hints repeat the global options.
#[test]
fn plugins_dir_and_hints_follow_the_global_options() {
    let host = Host::new();
    let plugins = tempfile::tempdir().expect("temp dir");
    let plugins_dir = plugins.path().display().to_string();
    let agent = fixture("agent.ndp").display().to_string();
    let installed = host.run(&["--plugins-dir", &plugins_dir, "install", &agent]);
    installed.expect_code(0);
    stdout_has(
        &installed,
        &format!(
            "ndp --data-dir {} --plugins-dir {plugins_dir} enable agent",
            host.data_dir()
        ),
    );
    assert!(plugins.path().join("agent.ndp").is_file());
    assert!(!host.data.path().join("plugins/agent.ndp").exists());
    let list = host.json(&["--plugins-dir", &plugins_dir, "list"]);
    assert_eq!(
        plugin(&list, "agent")["path"],
        format!("{plugins_dir}/agent.ndp")
    );
}
