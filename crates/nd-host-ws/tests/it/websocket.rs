//! Tests of the WebSocket service through its fixture plugin (`fixtures/plugins/websocket`)
//! against tungstenite servers started on 127.0.0.1 by each test. Waits are bounded waits for a
//! condition, never sleeps.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nd_host_http::policy::{EgressPolicy, LocalAllowance, Resolve};
use nd_host_ws::{CallbackEvent, ON_CLOSE, ON_TEXT_MESSAGE, Outcome, WebSocketService};
use nd_runtime::{HostImports, HostService, Plugin, PluginConfig, RegisterError, encode_bytes};
use parking_lot::{Condvar, Mutex};
use serde_json::{Value, json};
use tungstenite::handshake::server::{Request, Response};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

const WAIT: Duration = Duration::from_secs(30);

/// Events and a condition variable to wait on them.
#[derive(Default)]
struct Log {
    events: Mutex<Vec<Value>>,
    changed: Condvar,
}

impl Log {
    fn push(&self, event: Value) {
        self.events.lock().push(event);
        self.changed.notify_all();
    }

    fn snapshot(&self) -> Vec<Value> {
        self.events.lock().clone()
    }

    /// Waits until `done` holds for the events; panics after [`WAIT`].
    fn wait(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        let mut events = self.events.lock();
        while !done(&events) {
            if self.changed.wait_until(&mut events, deadline).timed_out() && !done(&events) {
                panic!("timed out waiting for {what}; events: {:#?}", *events);
            }
        }
        events.clone()
    }

    fn of(&self, kind: &str) -> Vec<Value> {
        self.snapshot()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }
}

/// Provides the fixture's test-only `test_record` import.
struct Recorder(Arc<Log>);

impl HostService for Recorder {
    fn name(&self) -> &'static str {
        "test_record"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let log = Arc::clone(&self.0);
        imports.json("test_record", move |_ctx, event| {
            log.push(event);
            Ok(json!({}))
        });
        Ok(())
    }
}

/// Resolves one name to one address (tests' stand-in for DNS).
#[derive(Debug)]
struct FixedResolver {
    name: &'static str,
    ip: IpAddr,
}

impl Resolve for FixedResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        if host.eq_ignore_ascii_case(self.name) {
            Ok(vec![SocketAddr::new(self.ip, port)])
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "unknown test host"))
        }
    }
}

fn loopback_allowed() -> LocalAllowance {
    LocalAllowance::parse("127.0.0.1").unwrap()
}

fn policy(local: LocalAllowance) -> EgressPolicy {
    let hosts = nd_testkit::fixture_permissions("websocket")
        .websocket
        .expect("websocket permission")
        .required_hosts;
    EgressPolicy::websocket(hosts, local).with_resolver(Arc::new(FixedResolver {
        name: "ws.example.com",
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    }))
}

struct Harness {
    ws: Arc<WebSocketService>,
    plugin: Plugin,
    log: Arc<Log>,
    callbacks: Arc<Mutex<Vec<CallbackEvent>>>,
}

fn harness_with(local: LocalAllowance) -> Harness {
    let ws = Arc::new(WebSocketService::new(policy(local)));
    let callbacks = Arc::new(Mutex::new(Vec::new()));
    let c = Arc::clone(&callbacks);
    ws.set_observer(Arc::new(move |e: &CallbackEvent| c.lock().push(e.clone())));
    let log = Arc::new(Log::default());
    let mut config = PluginConfig::new("websocket-test");
    config.services = vec![ws.clone(), Arc::new(Recorder(Arc::clone(&log)))];
    let plugin = nd_testkit::load("websocket", config);
    Harness {
        ws,
        plugin,
        log,
        callbacks,
    }
}

fn harness() -> Harness {
    harness_with(loopback_allowed())
}

impl Harness {
    fn call(&self, function: &str, req: Value) -> Value {
        nd_testkit::host_call(&self.plugin, function, req)
    }

    fn connect(&self, url: &str, id: &str) -> Value {
        self.call(
            "websocket_connect",
            json!({"url": url, "headers": {}, "connectionId": id}),
        )
    }

    fn send_text(&self, id: &str, message: &str) -> Value {
        self.call(
            "websocket_sendtext",
            json!({"connectionId": id, "message": message}),
        )
    }

    /// Waits until every reader thread has ended.
    fn wait_readers_gone(&self) {
        let deadline = Instant::now() + WAIT;
        while self.ws.reader_count() > 0 {
            assert!(Instant::now() < deadline, "reader threads did not end");
            thread::yield_now();
        }
    }
}

/// What the server saw of the handshake.
#[derive(Debug, Default, Clone)]
struct Seen {
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A server-side script run on one accepted connection.
type Script = Box<dyn FnOnce(&mut WebSocket<TcpStream>) + Send>;

/// Starts a WebSocket server on 127.0.0.1 that accepts one connection and runs `script`
/// on it.
fn serve<R: Send + 'static>(
    script: impl FnOnce(&mut WebSocket<TcpStream>, Seen) -> R + Send + 'static,
) -> (u16, JoinHandle<R>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let s = Arc::clone(&seen);
        #[allow(clippy::result_large_err)] // tungstenite's callback signature
        let mut ws = tungstenite::accept_hdr(stream, move |req: &Request, resp: Response| {
            s.lock().headers = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                .collect();
            Ok(resp)
        })
        .unwrap();
        let seen = seen.lock().clone();
        script(&mut ws, seen)
    });
    (port, handle)
}

/// Reads until a data or close message (pings and pongs are skipped).
fn next(ws: &mut WebSocket<TcpStream>) -> Message {
    loop {
        match ws.read().unwrap() {
            Message::Ping(_) | Message::Pong(_) => {}
            other => return other,
        }
    }
}

/// Reads until the client's close frame and returns it.
fn read_close(ws: &mut WebSocket<TcpStream>) -> Option<(u16, String)> {
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => {
                return frame.map(|f| (u16::from(f.code), f.reason.as_str().to_owned()));
            }
            Ok(_) => {}
            Err(e) => panic!("no close frame: {e}"),
        }
    }
}

/// Closes from the server side and lets the handshake finish.
fn close_with(ws: &mut WebSocket<TcpStream>, code: u16, reason: &str) {
    ws.close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
    .unwrap();
    while ws.read().is_ok() {}
}

fn url(port: u16) -> String {
    format!("ws://127.0.0.1:{port}/feed")
}

#[test]
fn connect_with_headers_and_exchange_text_and_binary_both_ways() {
    let h = harness();
    let (port, server) = serve(|ws, seen| {
        ws.send(Message::text("hello")).unwrap();
        ws.send(Message::binary(vec![0u8, 1, 2, 255])).unwrap();
        let got = vec![next(ws), next(ws)];
        ws.send(Message::text("echo:pong")).unwrap();
        let echoed = next(ws);
        ws.send(Message::text("binary:AQID")).unwrap();
        let binary = next(ws);
        close_with(ws, 1000, "done");
        (seen, got, echoed, binary)
    });
    let response = h.call(
        "websocket_connect",
        json!({"url": url(port), "connectionId": "c1",
               "headers": {"X-Test-Token": "abc", "user-agent": "ndp-test"}}),
    );
    assert_eq!(response, json!({"newConnectionId": "c1"}));
    assert_eq!(h.ws.connection_count(), 1);
    assert_eq!(h.ws.connection_ids(), ["c1"]);
    h.log.wait("text and binary", |e| {
        e.iter().any(|e| e["event"] == "binary")
    });
    assert_eq!(
        h.log.of("text"),
        [json!({"event": "text", "connectionId": "c1", "message": "hello"})]
    );
    assert_eq!(
        h.log.of("binary"),
        [json!({"event": "binary", "connectionId": "c1", "data": encode_bytes(&[0, 1, 2, 255])})]
    );
    assert_eq!(h.send_text("c1", "from plugin"), json!({}));
    assert_eq!(
        h.call(
            "websocket_sendbinary",
            json!({"connectionId": "c1", "data": encode_bytes(&[9, 8, 7])})
        ),
        json!({})
    );
    let events = h
        .log
        .wait("close", |e| e.iter().any(|e| e["event"] == "close"));
    let (seen, got, echoed, binary) = server.join().unwrap();
    assert_eq!(seen.header("x-test-token"), Some("abc"));
    assert_eq!(seen.header("user-agent"), Some("ndp-test"));
    assert_eq!(
        seen.header("host"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    assert_eq!(
        got,
        [
            Message::text("from plugin"),
            Message::binary(vec![9u8, 8, 7])
        ]
    );
    assert_eq!(echoed, Message::text("pong"));
    assert_eq!(binary, Message::binary(vec![1u8, 2, 3]));
    let close: Vec<&Value> = events.iter().filter(|e| e["event"] == "close").collect();
    assert_eq!(
        close,
        [&json!({"event": "close", "connectionId": "c1", "code": 1000, "reason": "done"})]
    );
    h.wait_readers_gone();
    assert_eq!(h.ws.connection_count(), 0);
    assert_eq!(h.log.of("close").len(), 1);
    assert!(h.log.of("error").is_empty());
    assert_eq!(
        h.send_text("c1", "late"),
        json!({"error": "connection ID \"c1\" not found"})
    );
}

#[test]
fn a_thousand_server_messages_reach_the_callbacks_in_order() {
    const N: usize = 1_000;
    let h = harness();
    let (port, server) = serve(|ws, _| {
        for i in 0..N {
            let message = if i % 10 == 9 {
                Message::binary(i.to_be_bytes().to_vec())
            } else {
                Message::text(format!("m{i}"))
            };
            ws.write(message).unwrap();
        }
        ws.flush().unwrap();
        close_with(ws, 1001, "going away");
    });
    assert_eq!(
        h.connect(&url(port), "bulk"),
        json!({"newConnectionId": "bulk"})
    );
    let events = h
        .log
        .wait("the close", |e| e.iter().any(|e| e["event"] == "close"));
    server.join().unwrap();
    let got: Vec<Value> = events
        .iter()
        .filter(|e| e["event"] == "text" || e["event"] == "binary")
        .map(|e| e.get("message").or(e.get("data")).cloned().unwrap())
        .collect();
    let want: Vec<Value> = (0..N)
        .map(|i| {
            if i % 10 == 9 {
                json!(encode_bytes(&i.to_be_bytes()))
            } else {
                json!(format!("m{i}"))
            }
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        events.last().unwrap(),
        &json!({"event": "close", "connectionId": "bulk", "code": 1001, "reason": "going away"})
    );
    // The observer saw every callback, in order, each after its frame was read (it runs
    // after the call returns, so wait for the reader to end first).
    h.wait_readers_gone();
    let callbacks = h.callbacks.lock().clone();
    assert_eq!(callbacks.len(), N + 1);
    assert!(callbacks.iter().all(|c| c.outcome == Outcome::Returned));
    assert!(
        callbacks
            .iter()
            .all(|c| c.received <= c.started && c.started <= c.finished)
    );
    assert!(callbacks.windows(2).all(|w| w[0].finished <= w[1].started));
    assert_eq!(callbacks.last().unwrap().export, ON_CLOSE);
}

#[test]
fn server_closes_and_drops_map_to_on_close_or_on_error_like_navidrome() {
    let h = harness();
    let cases: [(&str, Script, Value); 4] = [
        (
            "normal",
            Box::new(|ws| close_with(ws, 1000, "bye")),
            json!({"event": "close", "connectionId": "normal", "code": 1000, "reason": "bye"}),
        ),
        (
            "nostatus",
            Box::new(|ws| {
                ws.close(None).unwrap();
                while ws.read().is_ok() {}
            }),
            json!({"event": "close", "connectionId": "nostatus", "code": 1005, "reason": ""}),
        ),
        (
            "failing",
            Box::new(|ws| close_with(ws, 1011, "boom")),
            json!({"event": "error", "connectionId": "failing",
                   "error": "websocket: close 1011 (internal server error): boom"}),
        ),
        (
            "dropped",
            Box::new(|ws| ws.get_ref().shutdown(std::net::Shutdown::Both).unwrap()),
            json!({"event": "error", "connectionId": "dropped",
                   "error": "websocket: close 1006 (abnormal closure): unexpected EOF"}),
        ),
    ];
    for (id, script, want) in cases {
        let (port, server) = serve(move |ws, _| {
            ws.send(Message::text("before")).unwrap();
            script(ws);
        });
        assert_eq!(h.connect(&url(port), id), json!({"newConnectionId": id}));
        let events = h.log.wait(id, |e| {
            e.iter().any(|e| {
                e["connectionId"] == id && (e["event"] == "close" || e["event"] == "error")
            })
        });
        server.join().unwrap();
        let mine: Vec<&Value> = events.iter().filter(|e| e["connectionId"] == id).collect();
        assert_eq!(
            mine,
            [
                &json!({"event": "text", "connectionId": id, "message": "before"}),
                &want
            ],
            "{id}"
        );
    }
    h.wait_readers_gone();
    assert_eq!(h.ws.connection_count(), 0);
}

#[test]
fn closeconnection_calls_on_close_before_the_host_function_returns() {
    let h = harness();
    let (port, server) = serve(|ws, _| read_close(ws));
    assert_eq!(h.connect(&url(port), "c"), json!({"newConnectionId": "c"}));
    let response = h.call(
        "websocket_closeconnection",
        json!({"connectionId": "c", "code": 4000, "reason": "bye"}),
    );
    assert_eq!(response, json!({}));
    // No waiting: on_close ran inside the host function, before `host` recorded its return.
    let events: Vec<Value> = h
        .log
        .snapshot()
        .into_iter()
        .filter(|e| e["fn"] != "websocket_connect")
        .collect();
    assert_eq!(
        events,
        [
            json!({"event": "close", "connectionId": "c", "code": 4000, "reason": "bye"}),
            json!({"event": "returned", "fn": "websocket_closeconnection", "response": "{}"}),
        ]
    );
    assert_eq!(h.ws.connection_count(), 0);
    assert_eq!(server.join().unwrap(), Some((4000, "bye".to_owned())));
    // The reader ends without a second on_close.
    h.wait_readers_gone();
    assert_eq!(h.log.of("close").len(), 1);
    assert!(h.log.of("error").is_empty());
    assert_eq!(
        h.call(
            "websocket_closeconnection",
            json!({"connectionId": "c", "code": 1000, "reason": ""})
        ),
        json!({"error": "connection ID \"c\" not found"})
    );
}

#[test]
fn closeconnection_from_inside_a_callback_is_reentrant() {
    let h = harness();
    let (port, server) = serve(|ws, _| {
        ws.send(Message::text("close-me")).unwrap();
        read_close(ws)
    });
    assert_eq!(
        h.connect(&url(port), "self"),
        json!({"newConnectionId": "self"})
    );
    let events = h
        .log
        .wait("the action", |e| e.iter().any(|e| e["event"] == "action"));
    assert_eq!(
        server.join().unwrap(),
        Some((1000, "closed by plugin".to_owned()))
    );
    let events: Vec<&Value> = events.iter().filter(|e| e["event"] != "returned").collect();
    assert_eq!(
        events,
        [
            &json!({"event": "text", "connectionId": "self", "message": "close-me"}),
            &json!({"event": "close", "connectionId": "self", "code": 1000, "reason": "closed by plugin"}),
            &json!({"event": "action", "fn": "websocket_closeconnection", "response": "{}"}),
        ]
    );
    h.wait_readers_gone();
    assert_eq!(h.log.of("close").len(), 1);
    assert_eq!(h.ws.connection_count(), 0);
}

#[test]
fn duplicate_ids_fail_and_empty_ids_are_generated() {
    let h = harness();
    let (port, server) = serve(|ws, _| read_close(ws));
    assert_eq!(
        h.connect(&url(port), "dup"),
        json!({"newConnectionId": "dup"})
    );
    assert_eq!(
        h.connect(&url(port), "dup"),
        json!({"error": "connection ID \"dup\" already exists"})
    );
    assert_eq!(h.ws.connection_count(), 1);
    assert_eq!(
        h.call(
            "websocket_closeconnection",
            json!({"connectionId": "dup", "code": 1000, "reason": ""})
        ),
        json!({})
    );
    assert_eq!(server.join().unwrap(), Some((1000, String::new())));

    let (port, server) = serve(|ws, _| read_close(ws));
    let response = h.connect(&url(port), "");
    let id = response["newConnectionId"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 22);
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(h.ws.connection_ids(), std::slice::from_ref(&id));
    // Code 1005 sends an empty close frame, as gorilla does.
    h.call(
        "websocket_closeconnection",
        json!({"connectionId": id, "code": 1005, "reason": "ignored"}),
    );
    assert_eq!(server.join().unwrap(), None);
}

#[test]
fn unknown_connection_ids_are_errors() {
    let h = harness();
    let not_found = json!({"error": "connection ID \"nope\" not found"});
    assert_eq!(h.send_text("nope", "x"), not_found);
    assert_eq!(
        h.call(
            "websocket_sendbinary",
            json!({"connectionId": "nope", "data": "AA=="})
        ),
        not_found
    );
    assert_eq!(
        h.call(
            "websocket_closeconnection",
            json!({"connectionId": "nope", "code": 1000, "reason": ""})
        ),
        not_found
    );
    assert!(h.log.of("close").is_empty());
    // Malformed requests get Go's decoding errors.
    assert_eq!(
        h.call(
            "websocket_connect",
            json!({"url": "ws://127.0.0.1/", "headers": ["x"]})
        ),
        json!({"error": "json: cannot unmarshal array into Go struct field WebSocketConnectRequest.headers of type map[string]string"})
    );
    assert_eq!(
        h.call(
            "websocket_closeconnection",
            json!({"connectionId": "x", "code": "1000"})
        ),
        json!({"error": "json: cannot unmarshal string into Go struct field WebSocketCloseConnectionRequest.code of type int32"})
    );
}

#[test]
fn hosts_outside_required_hosts_and_other_schemes_are_refused_with_the_rule() {
    let h = harness();
    let error = h.connect("ws://other.org/feed", "x")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("\"other.org\""), "{error}");
    assert!(error.contains("requiredHosts"), "{error}");
    // `*.example.com` does not match the bare domain.
    let error = h.connect("wss://example.com/", "x")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("requiredHosts"), "{error}");
    let error = h.connect("http://127.0.0.1/", "x")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("scheme \"http\""), "{error}");
    assert_eq!(h.ws.connection_count(), 0);
}

#[test]
fn an_empty_required_hosts_list_allows_nothing() {
    let ws = WebSocketService::new(EgressPolicy::websocket(Vec::new(), loopback_allowed()));
    let err = ws
        .connect("ws://127.0.0.1:1/", &BTreeMap::new(), "x")
        .unwrap_err();
    assert!(err.to_string().contains("lists no requiredHosts"), "{err}");
}

/// A listener that must never see a connection: the refusal happens before any connect.
fn untouched_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn assert_untouched(listener: &TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("the refused connect reached the listener: {other:?}"),
    }
}

#[test]
fn loopback_is_refused_without_the_operator_allowance() {
    let h = harness_with(LocalAllowance::default());
    let (listener, port) = untouched_listener();
    let error = h.connect(&url(port), "x")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("\"127.0.0.1\""), "{error}");
    assert!(error.contains("loopback"), "{error}");
    assert!(error.contains("local allowance"), "{error}");
    assert_untouched(&listener);
    assert_eq!(h.ws.connection_count(), 0);
}

#[test]
fn a_name_resolving_to_loopback_is_refused_without_the_allowance_and_allowed_with_it() {
    let h = harness_with(LocalAllowance::default());
    let (listener, port) = untouched_listener();
    let error = h.connect(&format!("ws://ws.example.com:{port}/"), "x")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("\"ws.example.com\" resolves to 127.0.0.1"),
        "{error}"
    );
    assert!(error.contains("loopback"), "{error}");
    assert_untouched(&listener);

    // With the allowance the same name reaches the test server, which sees the name.
    let h = harness();
    let (port, server) = serve(|ws, seen| {
        read_close(ws);
        seen
    });
    let target = format!("ws://ws.example.com:{port}/");
    assert_eq!(
        h.connect(&target, "named"),
        json!({"newConnectionId": "named"})
    );
    h.call(
        "websocket_closeconnection",
        json!({"connectionId": "named", "code": 1000, "reason": ""}),
    );
    let seen = server.join().unwrap();
    assert_eq!(
        seen.header("host"),
        Some(format!("ws.example.com:{port}").as_str())
    );
}

#[test]
fn unloading_the_plugin_closes_every_connection_with_1001() {
    let h = harness();
    let servers: Vec<_> = (0..2)
        .map(|i| {
            let (port, server) = serve(|ws, _| read_close(ws));
            assert_eq!(
                h.connect(&url(port), &format!("u{i}")),
                json!({"newConnectionId": format!("u{i}")})
            );
            server
        })
        .collect();
    assert_eq!(h.ws.connection_count(), 2);
    h.plugin.shutdown();
    for server in servers {
        assert_eq!(
            server.join().unwrap(),
            Some((1001, "plugin unloaded".to_owned()))
        );
    }
    assert_eq!(h.ws.connection_count(), 0);
    h.wait_readers_gone();
    // As in Navidrome, unloading calls on_close for each connection (§3.8): the runtime lets
    // a service's shutdown still call the plugin on its own thread.
    let mut closed = h.log.of("close");
    closed.sort_by_key(|e| e["connectionId"].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        closed,
        [
            json!({"event": "close", "connectionId": "u0", "code": 1001, "reason": "plugin unloaded"}),
            json!({"event": "close", "connectionId": "u1", "code": 1001, "reason": "plugin unloaded"}),
        ]
    );
    let ws = WebSocketService::new(policy(loopback_allowed()));
    ws.shutdown();
    let err = ws.connect("ws://127.0.0.1:1/", &BTreeMap::new(), "late");
    assert_eq!(
        err.unwrap_err().to_string(),
        "websocket service is shut down"
    );
    assert!(
        h.ws.connect("ws://127.0.0.1:1/", &BTreeMap::new(), "x")
            .is_err()
    );
}

#[test]
fn service_shutdown_while_the_plugin_is_loaded_calls_on_close() {
    let h = harness();
    let (port, server) = serve(|ws, _| read_close(ws));
    assert_eq!(h.connect(&url(port), "s"), json!({"newConnectionId": "s"}));
    h.ws.shutdown();
    assert_eq!(
        server.join().unwrap(),
        Some((1001, "plugin unloaded".to_owned()))
    );
    assert_eq!(
        h.log.of("close"),
        [json!({"event": "close", "connectionId": "s", "code": 1001, "reason": "plugin unloaded"})]
    );
    h.wait_readers_gone();
    assert_eq!(h.log.of("close").len(), 1);
}

#[test]
fn a_plugin_without_callback_exports_still_works() {
    // The kernel fixture exports no nd_websocket_* callback.
    let ws = Arc::new(WebSocketService::new(policy(loopback_allowed())));
    let callbacks = Arc::new(Mutex::new(Vec::new()));
    let c = Arc::clone(&callbacks);
    ws.set_observer(Arc::new(move |e: &CallbackEvent| c.lock().push(e.clone())));
    let mut config = PluginConfig::new("no-callbacks");
    config.services = vec![ws.clone()];
    let plugin = nd_testkit::load("kernel", config);
    let (port, server) = serve(|ws, _| {
        ws.send(Message::text("t")).unwrap();
        ws.send(Message::binary(vec![1u8])).unwrap();
        let got = next(ws);
        close_with(ws, 1000, "");
        got
    });
    let id = ws.connect(&url(port), &BTreeMap::new(), "").unwrap();
    ws.send_text(&id, "hi").unwrap();
    assert_eq!(server.join().unwrap(), Message::text("hi"));
    let deadline = Instant::now() + WAIT;
    while callbacks.lock().len() < 3 || ws.reader_count() > 0 {
        assert!(
            Instant::now() < deadline,
            "callbacks: {:?}",
            callbacks.lock()
        );
        thread::yield_now();
    }
    let callbacks = callbacks.lock().clone();
    let exports: Vec<&str> = callbacks.iter().map(|c| c.export).collect();
    assert_eq!(
        exports,
        [ON_TEXT_MESSAGE, "nd_websocket_on_binary_message", ON_CLOSE]
    );
    assert!(callbacks.iter().all(|c| c.outcome == Outcome::Skipped));
    assert_eq!(ws.connection_count(), 0);
    // The plugin is unharmed.
    assert_eq!(
        nd_testkit::ok(&plugin, "echo", b"still here"),
        b"still here"
    );
}

#[test]
fn a_failing_callback_does_not_stop_the_reader() {
    let h = harness();
    let (port, server) = serve(|ws, _| {
        ws.send(Message::text("fail")).unwrap();
        ws.send(Message::text("after")).unwrap();
        close_with(ws, 1000, "");
    });
    h.connect(&url(port), "f");
    h.log
        .wait("the close", |e| e.iter().any(|e| e["event"] == "close"));
    server.join().unwrap();
    let texts: Vec<Value> = h
        .log
        .of("text")
        .into_iter()
        .map(|e| e["message"].clone())
        .collect();
    assert_eq!(texts, [json!("fail"), json!("after")]);
    let callbacks = h.callbacks.lock().clone();
    assert!(
        matches!(&callbacks[0].outcome, Outcome::Failed(m) if m.contains("callback failed on purpose"))
    );
}

#[test]
fn every_fixture_export_is_exercised() {
    // Named here for the runtime's fixture-coverage check; each is driven above.
    let plugin_exports = [
        "host",
        "nd_websocket_on_text_message",
        "nd_websocket_on_binary_message",
        "nd_websocket_on_close",
        "nd_websocket_on_error",
    ];
    let h = harness();
    for export in plugin_exports {
        assert!(h.plugin.has_export(export), "{export}");
    }
}

#[test]
fn wss_runs_tls_over_the_policy_stream() {
    // A plain TCP server that reads the TLS ClientHello and hangs up: the connect fails with
    // a TLS error, after the policy let the address through.
    let h = harness();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut hello = [0u8; 5];
        io::Read::read_exact(&mut stream, &mut hello).unwrap();
        hello
    });
    let error = h.connect(&format!("wss://127.0.0.1:{port}/"), "tls")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    // 0x16: a TLS handshake record.
    assert_eq!(server.join().unwrap()[0], 0x16);
    assert!(error.starts_with("failed to connect: "), "{error}");
    assert_eq!(h.ws.connection_count(), 0);
}
