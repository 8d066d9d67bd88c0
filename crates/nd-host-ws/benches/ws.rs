//! WebSocket side of `cargo xtask bench`: the latency from a server sending a text frame to the
//! start of the plugin's `nd_websocket_on_text_message` (a fresh instance per message), p50 and
//! p99 over 2,000 messages sent 1 ms apart by a server on 127.0.0.1. Printed as one JSON object
//! like the other benches.
//!
//! Usage: `cargo bench -p nd-host-ws --bench ws -- --fixtures DIR [--rounds N]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nd_host_http::policy::{EgressPolicy, LocalAllowance};
use nd_host_ws::{CallbackEvent, ON_TEXT_MESSAGE, WebSocketService};
use nd_manifest::HostPattern;
use nd_runtime::{PluginConfig, Runtime};
use nd_testkit::bench::{BenchArgs, IgnoreRecords, percentiles, report};

fn main() {
    let args = BenchArgs::parse();
    let messages = 2_000 * args.rounds;

    let policy = EgressPolicy::websocket(
        vec![HostPattern::parse("127.0.0.1").unwrap()],
        LocalAllowance::parse("127.0.0.1").unwrap(),
    );
    let ws = Arc::new(WebSocketService::new(policy));
    let started: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let sink = Arc::clone(&started);
    ws.set_observer(Arc::new(move |e: &CallbackEvent| {
        if e.export == ON_TEXT_MESSAGE {
            sink.lock().unwrap().push(e.started);
        }
    }));
    let runtime = Runtime::new(Default::default()).expect("runtime");
    let mut config = PluginConfig::new("bench-ws");
    config.services = vec![ws.clone(), Arc::new(IgnoreRecords)];
    let plugin = runtime
        .load_wasm(&args.wasm("websocket"), config)
        .expect("load websocket fixture");

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut socket = tungstenite::accept(stream).unwrap();
        let mut sent = Vec::with_capacity(messages);
        for i in 0..messages {
            let next = Instant::now() + Duration::from_millis(1);
            sent.push(Instant::now());
            socket.send(format!("message {i}").into()).unwrap();
            while Instant::now() < next {
                std::hint::spin_loop();
            }
        }
        sent
    });
    let connect = serde_json::json!({"fn": "websocket_connect",
        "req": {"url": format!("ws://127.0.0.1:{port}/"), "headers": {}, "connectionId": "bench"}})
    .to_string();
    let out = plugin.call("host", connect.as_bytes()).expect("connect");
    assert!(String::from_utf8_lossy(&out).contains("bench"));
    let sent = server.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while started.lock().unwrap().len() < messages && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = std::mem::take(&mut *started.lock().unwrap());
    assert_eq!(started.len(), messages, "every message reached the plugin");
    let samples: Vec<f64> = sent
        .iter()
        .zip(&started)
        .map(|(s, c)| c.saturating_duration_since(*s).as_secs_f64() * 1e6)
        .collect();
    plugin.shutdown();
    let mut cases = serde_json::Map::new();
    cases.insert("ws_message_to_callback".into(), percentiles(samples));
    report(cases);
}
