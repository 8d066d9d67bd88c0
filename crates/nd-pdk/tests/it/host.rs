//! Every host wrapper against the real host: the probe plugin (`crates/nd-pdk/probe`, built
//! and packed by `cargo xtask test` or `test-plugins` into `target/nd-pdk-probe/`) calls each
//! one inside a manager over the `nd-library` demo catalog, with a manual clock for the
//! scheduler and loopback HTTP and WebSocket servers, and reports what came back. This is
//! where the wire format (base64, omitted zero values, `error` handling, the `get_many`
//! trap of spec §2.4) is checked against ndp's host services rather than a stand-in.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nd_host_appdata::provider::Scope;
use nd_host_http::policy::LocalAllowance;
use nd_host_store::clock::ManualClock;
use nd_library::MusicLibrary;
use nd_library::demo::write_demo_library;
use nd_manager::{AppData, Manager};
use nd_testkit::http_server::{TestResponse, TestServer};
use serde_json::{Value, json};
use tempfile::TempDir;
use tungstenite::Message;

const ID: &str = "pdk-probe";

fn probe_ndp() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/nd-pdk-probe/pdk-probe.ndp")
}

struct Host {
    dir: TempDir,
    clock: Arc<ManualClock>,
    manager: Manager,
}

impl Host {
    /// A started manager with the probe installed, configured, allowed everything and
    /// enabled.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let demo = write_demo_library(&dir.path().join("music")).unwrap();
        let library = Arc::new(MusicLibrary::open(demo.config()).unwrap());
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        let package = std::fs::read(probe_ndp()).unwrap_or_else(|e| {
            panic!(
                "{} missing ({e}); run `cargo xtask test-plugins`",
                probe_ndp().display()
            )
        });
        std::fs::write(plugins.join(format!("{ID}.ndp")), package).unwrap();
        let clock = ManualClock::at_fixed_start();
        let manager = Manager::builder(dir.path().join("data"))
            .plugins_dir(&plugins)
            .runtime(nd_testkit::runtime().clone())
            .app_data(AppData::from_all(library))
            .local_allowance(LocalAllowance::parse("127.0.0.1").unwrap())
            .clock(clock.clone())
            .unload_grace(Duration::from_secs(10))
            .build()
            .unwrap();
        manager.start().unwrap();
        manager
            .set_config(ID, json!({"apiKey": "k", "limit": 25, "flag": true}))
            .unwrap();
        manager.set_scope(ID, Scope::everything()).unwrap();
        manager.enable(ID).unwrap();
        Host {
            dir,
            clock,
            manager,
        }
    }

    /// Runs the probe's sequence for `service`.
    fn probe(&self, service: &str, arg: Value) -> Value {
        let plugin = self.manager.plugin(ID).expect("the probe is loaded");
        let input = json!({"service": service, "arg": arg}).to_string();
        let out = plugin
            .call("probe", input.as_bytes())
            .unwrap_or_else(|e| panic!("probe {service}: {e}"));
        serde_json::from_slice(&out).unwrap()
    }
}

/// The `ok` value of an outcome, failing on an error.
#[track_caller]
fn ok(outcome: &Value) -> &Value {
    assert!(
        outcome.get("error").is_none(),
        "unexpected error: {outcome}"
    );
    &outcome["ok"]
}

/// The host's message of an outcome that must be a host error.
#[track_caller]
fn host_error(outcome: &Value) -> String {
    assert_eq!(outcome["host"], true, "expected a host error: {outcome}");
    outcome["message"].as_str().unwrap_or_default().to_owned()
}

/// Polls `check` every 20 ms for up to 20 s.
#[track_caller]
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn config_cache_kvstore_and_storage() {
    let host = Host::new();

    let config = host.probe("config", Value::Null);
    assert_eq!(ok(&config["get"]), "k");
    assert_eq!(ok(&config["missing"]), &Value::Null);
    assert_eq!(ok(&config["int"]), 25);
    assert_eq!(ok(&config["notInt"]), &Value::Null);
    assert_eq!(ok(&config["keys"]), &json!(["apiKey", "flag", "limit"]));
    // Flattened (spec §5.5) and read through Extism's own config_get.
    assert_eq!(ok(&config["extism"]), "true");

    let cache = host.probe("cache", Value::Null);
    for set in [
        "setString",
        "setInt",
        "setFloat",
        "setBytes",
        "setEmpty",
        "remove",
    ] {
        assert_eq!(ok(&cache[set]), &Value::Null, "{set}");
    }
    assert_eq!(ok(&cache["getString"]), "text");
    // Go omits the empty value but says it exists: an empty string, not "missing".
    assert_eq!(ok(&cache["getEmpty"]), "");
    assert_eq!(ok(&cache["getInt"]), -7);
    assert_eq!(ok(&cache["getFloat"]), 2.5);
    assert_eq!(ok(&cache["getBytes"]), &json!([0, 1, 255]));
    assert_eq!(ok(&cache["wrongType"]), &Value::Null);
    assert_eq!(ok(&cache["missing"]), &Value::Null);
    assert_eq!(ok(&cache["has"]), true);
    assert_eq!(ok(&cache["hasAfterRemove"]), false);

    let kv = host.probe("kvstore", Value::Null);
    assert_eq!(ok(&kv["get"]), &json!([0, 255, 10]));
    assert_eq!(ok(&kv["getMissing"]), &Value::Null);
    // The trap of spec §2.4: base64 values in a map, decoded.
    assert_eq!(
        ok(&kv["getMany"]),
        &json!({"a": [0, 255, 10], "b": [116, 119, 111]})
    );
    assert_eq!(ok(&kv["list"]), &json!(["a", "b", "t/1"]));
    assert_eq!(ok(&kv["has"]), true);
    assert_eq!(ok(&kv["hasAfterDelete"]), false);
    assert_eq!(ok(&kv["deleteByPrefix"]), 1);
    assert_eq!(ok(&kv["getJson"]), &json!({"n": [1, 2]}));
    assert!(ok(&kv["used"]).as_i64().unwrap() > 0, "{kv}");
    assert!(!host_error(&kv["setTtlZero"]).is_empty());
    assert!(!host_error(&kv["emptyKey"]).is_empty());

    let storage = host.probe("storage", json!("hello storage"));
    assert_eq!(
        ok(&storage["written"]),
        &json!(["/storage", "hello storage"])
    );
    let on_host = nd_manager::plugin_data_dir(&host.dir.path().join("data"), ID)
        .join("storage")
        .join("probe.txt");
    assert_eq!(std::fs::read_to_string(on_host).unwrap(), "hello storage");
}

#[test]
fn scheduler_and_its_callback() {
    let host = Host::new();
    let scheduled = host.probe("scheduler", Value::Null);
    assert_eq!(ok(&scheduled["oneTime"]), "once");
    let recurring = ok(&scheduled["recurring"]).as_str().unwrap().to_owned();
    assert_eq!(recurring.len(), 22, "a generated id: {recurring}");
    assert!(host_error(&scheduled["duplicate"]).contains("already exists"));
    assert!(!host_error(&scheduled["badCron"]).is_empty());
    assert!(host_error(&scheduled["cancelUnknown"]).contains("not found"));

    let fired = |id: &str| host.probe("fired", Value::Null)["fired"]["ok"][id].clone();
    host.clock.advance(Duration::from_secs(5));
    eventually("the recurring schedule", || fired(&recurring)["count"] == 1);
    assert_eq!(
        fired(&recurring),
        json!({"count": 1, "payload": "rec", "recurring": true})
    );
    host.clock.advance(Duration::from_secs(25));
    eventually("the one-time schedule", || fired("once")["count"] == 1);
    assert_eq!(
        fired("once"),
        json!({"count": 1, "payload": "p1", "recurring": false})
    );

    let cancel = host.probe("scheduler_cancel", json!(recurring));
    assert_eq!(ok(&cancel["cancel"]), &Value::Null);
    let again = host.probe("scheduler_cancel", json!(recurring));
    assert!(host_error(&again["cancel"]).contains("not found"));
}

#[test]
fn task_queue_and_its_worker() {
    let host = Host::new();
    let queued = host.probe("taskqueue", json!("payload 1"));
    assert_eq!(ok(&queued["create"]), &Value::Null);
    assert!(!host_error(&queued["createAgain"]).is_empty());
    assert!(!host_error(&queued["enqueueUnknownQueue"]).is_empty());
    assert!(!host_error(&queued["cancelUnknown"]).is_empty());
    let task = ok(&queued["enqueue"]).as_str().unwrap().to_owned();

    let state = || host.probe("task_get", json!(task))["get"]["ok"].clone();
    eventually("the task to complete", || state()["status"] == "completed");
    assert_eq!(
        state(),
        json!({"status": "completed", "message": "done: payload 1 (q on attempt 1)", "attempt": 1})
    );
    let cleared = host.probe("task_clear", Value::Null);
    assert_eq!(ok(&cleared["clear"]), 0);
}

#[test]
fn http_send() {
    let server = TestServer::start(|request| match request.path.as_str() {
        "/echo" => TestResponse::status(201)
            .with_header("Content-Type", "application/json")
            .with_body(format!(
                r#"{{"got":{}}}"#,
                String::from_utf8_lossy(&request.body)
            )),
        "/redirect" => TestResponse::redirect(302, "/elsewhere"),
        _ => TestResponse::status(404).with_body("no"),
    });
    let host = Host::new();
    let result = host.probe("http", json!(server.url("")));

    let post = ok(&result["post"]);
    assert_eq!(post["status"], 201);
    assert_eq!(post["type"], "application/json");
    assert_eq!(post["body"], r#"{"got":{"hello":"world"}}"#);
    assert_eq!(
        ok(&result["missing"]),
        &json!({"status": 404, "success": false})
    );
    assert_eq!(
        ok(&result["redirect"]),
        &json!({"status": 302, "location": "/elsewhere"})
    );
    // localhost is not in requiredHosts: refused by the host, never sent.
    assert!(!host_error(&result["refused"]).is_empty());

    let requests = server.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    let post = &requests[0];
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", "/echo")
    );
    assert_eq!(post.header("X-Probe"), Some("1"));
    assert_eq!(post.header("Content-Type"), Some("application/json"));
    assert_eq!(post.body, br#"{"hello":"world"}"#);
}

/// A WebSocket server on 127.0.0.1 that echoes text and binary frames and records the
/// handshake's `X-Probe` header.
fn echo_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let headers = Arc::clone(&record);
        // The signature is tungstenite's (its error type is a whole HTTP response).
        #[allow(clippy::result_large_err)]
        let callback = move |request: &tungstenite::handshake::server::Request, response| {
            let probe = request
                .headers()
                .get("X-Probe")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            headers.lock().unwrap().push(format!("X-Probe: {probe}"));
            Ok(response)
        };
        let Ok(mut socket) = tungstenite::accept_hdr(stream, callback) else {
            return;
        };
        loop {
            match socket.read() {
                Ok(Message::Text(text)) => {
                    record.lock().unwrap().push(format!("text {text}"));
                    let _ = socket.send(Message::Text(text));
                }
                Ok(Message::Binary(data)) => {
                    record
                        .lock()
                        .unwrap()
                        .push(format!("binary {:?}", data.as_ref()));
                    let _ = socket.send(Message::Binary(data));
                }
                Ok(Message::Close(frame)) => {
                    let frame = frame.map(|f| format!("{} {}", u16::from(f.code), f.reason));
                    record
                        .lock()
                        .unwrap()
                        .push(format!("close {}", frame.unwrap_or_default()));
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    });
    (url, seen)
}

#[test]
fn websocket_and_its_callbacks() {
    let (url, seen) = echo_server();
    let host = Host::new();
    let connected = host.probe("ws_connect", json!(url));
    assert_eq!(ok(&connected["connect"]), "c1");
    assert!(!host_error(&connected["duplicate"]).is_empty());
    assert_eq!(ok(&connected["text"]), &Value::Null);
    assert_eq!(ok(&connected["binary"]), &Value::Null);
    assert!(!host_error(&connected["unknown"]).is_empty());

    // The echoes come back through nd_websocket_on_text_message / _binary_message.
    let state = || host.probe("ws_state", Value::Null);
    eventually("the text echo", || state()["last"]["ok"] == "c1: hello");
    eventually("the binary echo", || {
        state()["binary"]["ok"] == json!([1, 2, 3])
    });
    assert_eq!(
        seen.lock().unwrap()[..3],
        ["X-Probe: 1", "text hello", "binary [1, 2, 3]"]
    );

    // Closing calls nd_websocket_on_close before websocket_closeconnection returns.
    let closed = host.probe("ws_close", Value::Null);
    assert_eq!(ok(&closed["close"]), &Value::Null);
    assert_eq!(ok(&state()["closed"]), "c1 1000 bye");
    eventually("the server to see the close", || {
        seen.lock().unwrap().iter().any(|e| e == "close 1000 bye")
    });
}

#[test]
fn library_users_artwork_subsonic_matcher_and_scrobbles() {
    let host = Host::new();

    let library = host.probe("library", Value::Null);
    let all = ok(&library["all"]).as_array().unwrap();
    let ids: Vec<(i64, &str)> = all
        .iter()
        .map(|l| (l["id"].as_i64().unwrap(), l["mountPoint"].as_str().unwrap()))
        .collect();
    assert_eq!(ids, [(1, "/libraries/1"), (2, "/libraries/2")]);
    assert!(all[0]["totalSongs"].as_i64().unwrap() > 0, "{all:?}");
    assert_eq!(ok(&library["one"])["name"], all[0]["name"]);
    assert!(!host_error(&library["missing"]).is_empty());

    let users = host.probe("users", Value::Null);
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| u["userName"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(ok(&users["users"])), ["admin", "alice", "bob"]);
    assert_eq!(names(ok(&users["admins"])), ["admin"]);
    assert_eq!(ok(&users["admins"])[0]["isAdmin"], true);

    let artwork = host.probe("artwork", Value::Null);
    let track = ok(&artwork["track"]).as_str().unwrap();
    assert!(
        track.contains("/share/img/") && track.ends_with("size=300"),
        "{track}"
    );
    for kind in ["artist", "album", "playlist"] {
        assert!(
            ok(&artwork[kind]).as_str().unwrap().contains("/share/img/"),
            "{artwork}"
        );
    }

    let subsonic = host.probe("subsonic", Value::Null);
    let response: Value = serde_json::from_str(ok(&subsonic["call"]).as_str().unwrap()).unwrap();
    assert_eq!(response["subsonic-response"]["status"], "ok");
    let raw = ok(&subsonic["raw"]);
    assert!(!raw["contentType"].as_str().unwrap().is_empty(), "{raw}");
    assert!(raw["text"].as_str().unwrap().contains("ok"), "{raw}");
    assert!(!host_error(&subsonic["noUser"]).is_empty());

    // Alice starred "Take Off" and rated it 5 (the demo's annotations).
    let matched = host.probe("matcher", Value::Null);
    assert_eq!(
        ok(&matched["matched"]),
        &json!([{"title": "Take Off", "starred": true, "rating": 5}, null])
    );

    let scrobbles = host.probe("scrobbles", Value::Null);
    assert_eq!(ok(&scrobbles["first"]), &Value::Null);
    assert_eq!(ok(&scrobbles["last"]), &Value::Null);
    assert_eq!(ok(&scrobbles["page"]), &json!({"count": 0, "next": false}));
    assert_eq!(ok(&scrobbles["count"]), 0);
    assert!(host_error(&scrobbles["unknownUser"]).contains("mallory"));
}
