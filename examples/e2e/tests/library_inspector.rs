//! End-to-end: the `library-inspector` example (examples/plugins/library-inspector) over the
//! `nd-library` demo catalog: `nd_on_init` inspects and schedules, the scheduler (driven by
//! the harness's manual clock) inspects again, and the summary the plugin keeps in its KV
//! store, read back through its `library_summary` export, matches a walk of the same
//! folders made here with `std::fs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use nd_capabilities::Capability;
use nd_host_appdata::provider::{LibraryProvider, Scope};
use ndp_examples_e2e::fakes::harness::{Harness, eventually};
use serde_json::{Value, json};

const ID: &str = "library-inspector";

/// The plugin's latest summary (`Value::Null` before the first inspection).
fn summary(host: &Harness) -> Value {
    let out = host
        .plugin(ID)
        .call("library_summary", b"{}")
        .expect("library_summary");
    if out.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(&out).expect("summary JSON")
}

/// What a walk of `root` finds, in the summary's terms.
#[derive(Debug, Default)]
struct Walk {
    files: u64,
    directories: u64,
    bytes: u64,
    extensions: BTreeMap<String, u64>,
    largest: u64,
}

fn walk(dir: &Path, out: &mut Walk) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let metadata = std::fs::metadata(&path).unwrap();
        if metadata.is_dir() {
            out.directories += 1;
            walk(&path, out);
        } else if metadata.is_file() {
            out.files += 1;
            out.bytes += metadata.len();
            out.largest = out.largest.max(metadata.len());
            let extension = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            *out.extensions.entry(extension).or_default() += 1;
        }
    }
}

/// Checks the summary of each listed library against the folders on disk and the
/// library's own numbers.
#[track_caller]
fn check_libraries(host: &Harness, summary: &Value, ids: &[i32]) {
    let libraries = summary["libraries"].as_array().expect("libraries");
    let found: Vec<i64> = libraries
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(found, ids.iter().map(|i| i64::from(*i)).collect::<Vec<_>>());
    let infos = host.library.libraries().unwrap();
    for library in libraries {
        let id = library["id"].as_i64().unwrap();
        let root = host
            .demo
            .roots
            .iter()
            .find(|r| i64::from(r.id) == id)
            .expect("demo root");
        let info = infos
            .iter()
            .find(|l| i64::from(l.id) == id)
            .expect("library info");
        let mut expected = Walk::default();
        walk(&root.path, &mut expected);
        assert!(expected.files > 0, "the demo library {id} has files");
        assert_eq!(library["name"], root.name);
        assert_eq!(library["mountPoint"], format!("/libraries/{id}"));
        assert_eq!(library["files"], expected.files, "library {id}");
        assert_eq!(library["directories"], expected.directories, "library {id}");
        assert_eq!(library["totalBytes"], expected.bytes, "library {id}");
        assert_eq!(library["errors"], 0, "library {id}");
        assert_eq!(
            library["extensions"],
            json!(expected.extensions),
            "library {id}"
        );
        assert_eq!(
            library["largestFile"]["size"], expected.largest,
            "library {id}"
        );
        let largest = root
            .path
            .join(library["largestFile"]["path"].as_str().unwrap());
        assert_eq!(std::fs::metadata(&largest).unwrap().len(), expected.largest);
        assert_eq!(library["reportedSongs"], info.total_songs);
        assert_eq!(library["reportedSize"], info.total_size);
    }
}

#[test]
fn inspects_when_loaded_and_on_schedule() {
    let host = Harness::new(nd_testkit::runtime());
    let plugin = host.enable("library-inspector", ID, json!({}));
    assert_eq!(
        plugin.capabilities().detected().names(),
        ["Lifecycle", "Scheduler"]
    );
    assert!(plugin.has(Capability::Scheduler));
    assert!(
        plugin
            .manifest()
            .permissions
            .library
            .as_ref()
            .is_some_and(|l| l.filesystem)
    );

    let first = summary(&host);
    assert_eq!(first["runs"], 1);
    assert_eq!(first["trigger"], "init");
    assert!(
        first["lastRunAt"].as_u64().unwrap() > 1_600_000_000,
        "{first}"
    );
    check_libraries(&host, &first, &[1, 2]);

    // The default schedule is `@every 1m`.
    host.advance(59);
    host.advance(1);
    eventually("the scheduled inspection", || summary(&host)["runs"] == 2);
    let second = summary(&host);
    assert_eq!(second["trigger"], "schedule");
    check_libraries(&host, &second, &[1, 2]);
}

#[test]
fn the_libraries_scope_limits_what_is_walked() {
    let host = Harness::new(nd_testkit::runtime());
    host.enable("library-inspector", ID, json!({}));
    assert_eq!(summary(&host)["runs"], 1);

    // Only library 2: the reload runs nd_on_init again, which sees (and mounts) only it. The
    // KV store outlives the reload, so the count goes on.
    let scope = Scope {
        libraries: vec![2],
        ..Scope::default()
    };
    host.manager.set_scope(ID, scope).unwrap();
    let after = summary(&host);
    assert_eq!(after["runs"], 2);
    check_libraries(&host, &after, &[2]);
}

#[test]
fn settings_choose_the_schedule_and_skip_the_first_inspection() {
    let host = Harness::new(nd_testkit::runtime());
    host.enable(
        "library-inspector",
        ID,
        json!({"schedule": "@every 10s", "inspectOnInit": false}),
    );
    assert_eq!(
        summary(&host),
        Value::Null,
        "no inspection before the schedule fires"
    );

    host.advance(10);
    eventually("the first scheduled inspection", || {
        summary(&host) != Value::Null
    });
    let first = summary(&host);
    assert_eq!(
        (first["runs"].as_u64(), first["trigger"].as_str()),
        (Some(1), Some("schedule"))
    );
    check_libraries(&host, &first, &[1, 2]);

    // A schedule the host cannot parse fails nd_on_init, which the host only logs: the
    // plugin stays loaded, without a schedule.
    host.manager
        .set_config(ID, json!({"schedule": "every now and then"}))
        .unwrap();
    assert!(host.manager.plugin(ID).is_some());
}
