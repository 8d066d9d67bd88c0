//! Network side of `cargo xtask bench`: what `http_send` costs a plugin over the same request
//! made directly with ureq, both against a loopback server started here. Printed as one JSON
//! object like the other benches: `{"runtime":"ndp","cases":{..}}`.
//!
//! - `http_send_call`: one fresh-instance call of the `http` fixture's `host` export making one
//!   `http_send` GET (the whole plugin path: instance, JSON, policy, ureq, base64), with 1 ms
//!   between calls so the instance was prepared ahead, as on a server that is not saturated;
//! - `http_send_reused`: the same call on a reused instance (`Plugin::instance`): the cost of
//!   the host function path alone;
//! - `http_ureq_direct`: the same GET with a plain `ureq::Agent`, no plugin, no policy;
//! - `http_client_direct`: the same GET through ndp's `HttpClient` (policy included), no plugin.
//!
//! Usage: `cargo bench -p nd-host-http --bench http -- --fixtures DIR [--rounds N]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use nd_host_http::client::{HttpClient, Request, SendOptions};
use nd_host_http::policy::{EgressPolicy, LocalAllowance};
use nd_host_http::service::HttpService;
use nd_manifest::HostPattern;
use nd_runtime::{PluginConfig, Runtime};
use nd_testkit::bench::{BenchArgs, percentiles, report};
use nd_testkit::http_server::{TestResponse, TestServer};

fn time(iters: usize, mut f: impl FnMut()) -> serde_json::Value {
    for _ in 0..iters / 10 {
        f();
    }
    percentiles(
        (0..iters)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect(),
    )
}

fn main() {
    let args = BenchArgs::parse();
    let iters = 500 * args.rounds;

    let server = TestServer::start(|_| TestResponse::ok("hello from the loopback server"));
    let url = server.url("/bench");
    let policy = || {
        EgressPolicy::http(
            vec![HostPattern::parse("127.0.0.1").unwrap()],
            LocalAllowance::parse("127.0.0.1").unwrap(),
        )
    };

    let runtime = Runtime::new(Default::default()).expect("runtime");
    let mut config = PluginConfig::new("bench-http");
    config.services = vec![Arc::new(HttpService::with_policy(policy()))];
    let plugin = runtime
        .load_wasm(&args.wasm("http"), config)
        .expect("load http fixture");
    let input =
        serde_json::json!({"fn": "http_send", "req": {"request": {"method": "GET", "url": url}}})
            .to_string();
    let out = plugin.call("host", input.as_bytes()).expect("http_send");
    assert!(
        String::from_utf8_lossy(&out).contains("\"statusCode\":200"),
        "{}",
        String::from_utf8_lossy(&out)
    );

    let mut cases = serde_json::Map::new();
    let fresh: Vec<f64> = (0..iters)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(1));
            let start = Instant::now();
            plugin.call("host", input.as_bytes()).expect("http_send");
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    cases.insert("http_send_call".into(), percentiles(fresh));
    let mut instance = plugin.instance().expect("instance");
    cases.insert(
        "http_send_reused".into(),
        time(iters, || {
            instance.call("host", input.as_bytes()).expect("http_send");
        }),
    );
    drop(instance);
    let agent = ureq::Agent::new_with_defaults();
    cases.insert(
        "http_ureq_direct".into(),
        time(iters, || {
            let mut response = agent.get(&url).call().expect("ureq");
            response.body_mut().read_to_vec().expect("body");
        }),
    );
    let client = HttpClient::new(policy());
    let request = Request {
        method: "GET".into(),
        url: url.clone(),
        ..Request::default()
    };
    cases.insert(
        "http_client_direct".into(),
        time(iters, || {
            client
                .send(&request, &SendOptions::default())
                .expect("client");
        }),
    );
    plugin.shutdown();
    report(cases);
}
