//! Tests of `http_send` ([`HttpService`]) and Extism's `http_request` ([`PolicyEgress`])
//! through the `http` fixture plugin over the real ABI, against loopback servers the tests
//! start. The fixture's manifest grants `http` with `requiredHosts: ["127.0.0.1",
//! "*.example.com"]`; the loopback servers are reachable only with the operator's
//! [`LocalAllowance`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nd_host_http::egress::PolicyEgress;
use nd_host_http::policy::{EgressPolicy, LocalAllowance, Resolve};
use nd_host_http::service::{HttpService, MAX_BODY_BYTES};
use nd_manifest::{HostPattern, HostsPermission, Permissions};
use nd_runtime::{CallErrorKind, Plugin, PluginConfig, decode_bytes};
use nd_testkit::http_server::{TestRequest, TestResponse, TestServer};
use nd_testkit::{fixture_permissions, host_call, load, ok_str};
use serde_json::{Value, json};

const FIXTURE: &str = "http";

/// Maps `*.example.com` names to 127.0.0.1; nothing else resolves.
#[derive(Debug)]
struct ExampleToLoopback;

impl Resolve for ExampleToLoopback {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        if host.ends_with(".example.com") || host == "example.com" {
            Ok(vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)])
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "no such host"))
        }
    }
}

/// The operator's allowance for the test servers: the network 127.0.0.1/32.
fn loopback_allowed() -> LocalAllowance {
    LocalAllowance {
        hosts: Vec::new(),
        nets: vec![(IpAddr::V4(Ipv4Addr::LOCALHOST), 32)],
    }
}

fn fixture_http() -> HostsPermission {
    fixture_permissions(FIXTURE)
        .http
        .expect("the fixture grants http")
}

fn fixture_hosts() -> Vec<HostPattern> {
    fixture_http().required_hosts
}

/// The fixture with `http_send` and `http_request` under `local`, names resolved by
/// [`ExampleToLoopback`].
fn plugin_with(local: LocalAllowance) -> Plugin {
    let http = HttpService::with_policy(
        EgressPolicy::http(fixture_hosts(), local.clone())
            .with_resolver(Arc::new(ExampleToLoopback)),
    );
    let egress = PolicyEgress::with_policy(
        EgressPolicy::extism_http(fixture_hosts(), local)
            .with_resolver(Arc::new(ExampleToLoopback)),
    );
    plugin_from(http, egress)
}

fn plugin_from(http: HttpService, egress: PolicyEgress) -> Plugin {
    let mut config = PluginConfig::new("http-test");
    config.services.push(Arc::new(http));
    config.egress = Arc::new(egress);
    load(FIXTURE, config)
}

/// The fixture as the manifest asks, with the loopback allowance.
fn plugin() -> Plugin {
    plugin_with(loopback_allowed())
}

fn send(plugin: &Plugin, request: Value) -> Value {
    host_call(plugin, "http_send", json!({ "request": request }))
}

/// The `error` text of an `http_send` answer that must be an error, and nothing else.
fn send_error(plugin: &Plugin, request: Value) -> String {
    let answer = send(plugin, request);
    let obj = answer.as_object().expect("object");
    assert_eq!(obj.len(), 1, "only `error` expected: {answer}");
    obj["error"].as_str().expect("error text").to_owned()
}

/// A server answering `pong`, to prove a plugin still works.
fn assert_still_works(plugin: &Plugin) {
    let server = TestServer::start(|_| TestResponse::ok("pong"));
    assert_eq!(
        send(plugin, json!({"method": "GET", "url": server.url("/ping")})),
        json!({"result": {"statusCode": 200, "headers": {"Content-Length": "4"}, "body": "cG9uZw=="}})
    );
    let out = pdk(plugin, json!({"url": server.url("/ping")}));
    assert_eq!(out["status"], 200);
    assert_eq!(out["body"], "pong");
}

/// Calls the fixture's `pdk_request` export (Extism `http_request`).
fn pdk(plugin: &Plugin, input: Value) -> Value {
    let out = ok_str(plugin, "pdk_request", &input.to_string());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// `pdk_request` expecting the host to abort the call; the message.
fn pdk_failure(plugin: &Plugin, input: Value) -> String {
    match plugin.call("pdk_request", input.to_string().as_bytes()) {
        Ok(out) => panic!("succeeded: {}", String::from_utf8_lossy(&out)),
        Err(e) => match e.into_kind() {
            CallErrorKind::HostFunction { function, message } => {
                assert_eq!(function, "http_request");
                message
            }
            other => panic!("expected a host-function failure, got {other:?}"),
        },
    }
}

#[test]
fn the_fixture_manifest_grants_http_with_required_hosts() {
    let hosts: Vec<String> = fixture_hosts().iter().map(|h| h.to_string()).collect();
    assert_eq!(hosts, ["127.0.0.1", "*.example.com"]);
}

#[test]
fn http_send_answers_navidromes_exact_wire_json() {
    let server = TestServer::start(|_| {
        TestResponse::ok("hello")
            .with_header("content-type", "text/plain")
            .with_header("x-foo-bar", "1")
            .with_header("X-Multi", "first")
            .with_header("x-multi", "second")
    });
    let p = plugin();
    let raw = ok_str(
        &p,
        "host",
        &json!({"fn": "http_send", "req": {"request": {"method": "get", "url": server.url("/a?b=c")}}})
            .to_string(),
    );
    assert_eq!(
        serde_json::from_str::<Value>(&raw).unwrap(),
        json!({"result": {
            "statusCode": 200,
            "headers": {"Content-Length": "5", "Content-Type": "text/plain", "X-Foo-Bar": "1", "X-Multi": "first"},
            "body": "aGVsbG8="
        }})
    );
    let received = server.requests();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].method, "GET");
    assert_eq!(received[0].path, "/a?b=c");
}

#[test]
fn an_empty_body_is_left_out() {
    let server =
        TestServer::start(|_| TestResponse::status(204).with_header("Content-Length", "0"));
    let p = plugin();
    assert_eq!(
        send(&p, json!({"method": "DELETE", "url": server.url("/x")})),
        json!({"result": {"statusCode": 204, "headers": {"Content-Length": "0"}}})
    );
    assert_eq!(server.requests()[0].method, "DELETE");
}

#[test]
fn post_sends_body_and_headers_set_like_go() {
    let server =
        TestServer::start(|r: &TestRequest| TestResponse::status(201).with_body(r.body.clone()));
    let p = plugin();
    let answer = send(
        &p,
        json!({"method": "post", "url": server.url("/submit"),
            "headers": {"x-api-key": "k", "Content-Type": "application/json", "host": "evil.example.com"},
            "body": "eyJhIjoxfQ=="}),
    );
    assert_eq!(answer["result"]["statusCode"], 201);
    assert_eq!(answer["result"]["body"], "eyJhIjoxfQ==");
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.body, br#"{"a":1}"#);
    assert_eq!(r.header("X-Api-Key"), Some("k"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    // A plugin cannot aim the request at another virtual host than the one checked.
    assert_eq!(
        r.header("host"),
        Some(format!("127.0.0.1:{}", server.port()).as_str())
    );
    // No body given: none sent.
    send(&p, json!({"method": "POST", "url": server.url("/empty")}));
    let r = &server.requests()[1];
    assert!(r.body.is_empty());
}

#[test]
fn client_and_server_errors_are_results_not_errors() {
    let server = TestServer::start(|r: &TestRequest| match r.path.as_str() {
        "/missing" => TestResponse::status(404).with_body("not here"),
        _ => TestResponse::status(500).with_body("boom"),
    });
    let p = plugin();
    let a = send(&p, json!({"method": "GET", "url": server.url("/missing")}));
    assert_eq!(a["result"]["statusCode"], 404);
    assert_eq!(
        decode_bytes(a["result"]["body"].as_str().unwrap()).unwrap(),
        b"not here"
    );
    assert!(a.get("error").is_none());
    let a = send(&p, json!({"method": "GET", "url": server.url("/fail")}));
    assert_eq!(a["result"]["statusCode"], 500);
    assert_eq!(
        decode_bytes(a["result"]["body"].as_str().unwrap()).unwrap(),
        b"boom"
    );
}

#[test]
fn redirects_are_followed_unless_no_follow_redirects() {
    let server = TestServer::start(|r: &TestRequest| match r.path.as_str() {
        "/start" => TestResponse::redirect(302, "/next"),
        "/next" => TestResponse::redirect(307, "/end"),
        _ => TestResponse::ok("arrived"),
    });
    let p = plugin();
    let a = send(&p, json!({"method": "GET", "url": server.url("/start")}));
    assert_eq!(a["result"]["statusCode"], 200);
    assert_eq!(a["result"]["body"], "YXJyaXZlZA==");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/start", "/next", "/end"]);

    let a = send(
        &p,
        json!({"method": "GET", "url": server.url("/start"), "noFollowRedirects": true}),
    );
    assert_eq!(
        a,
        json!({"result": {"statusCode": 302, "headers": {"Content-Length": "0", "Location": "/next"}}})
    );
    assert_eq!(server.request_count(), 4);
}

#[test]
fn redirect_loops_stop_after_five_hops() {
    let server = TestServer::start(|_| TestResponse::redirect(302, "/again"));
    let p = plugin();
    let url = server.url("/loop");
    let error = send_error(&p, json!({"method": "GET", "url": url}));
    assert_eq!(error, format!("Get \"{url}\": stopped after 5 redirects"));
    // The first request and 5 followed hops.
    assert_eq!(server.request_count(), 6);
    assert_still_works(&p);
}

#[test]
fn a_redirect_to_a_refused_host_is_an_error_and_never_reaches_it() {
    let behind = TestServer::start(|_| TestResponse::ok("secret"));
    // `localhost` is not in requiredHosts.
    let to_unlisted = format!("http://localhost:{}/", behind.port());
    // api.example.com is listed but resolves to loopback, which only the literal
    // 127.0.0.1 is allowed (by name) to reach.
    let to_loopback_name = format!("http://api.example.com:{}/", behind.port());
    let front = {
        let (a, b) = (to_unlisted.clone(), to_loopback_name.clone());
        TestServer::start(move |r: &TestRequest| match r.path.as_str() {
            "/unlisted" => TestResponse::redirect(302, &a),
            _ => TestResponse::redirect(301, &b),
        })
    };
    let p = plugin_with(LocalAllowance {
        hosts: vec!["127.0.0.1".into()],
        nets: Vec::new(),
    });
    let error = send_error(&p, json!({"method": "GET", "url": front.url("/unlisted")}));
    assert!(error.contains("\"localhost\" is not allowed"), "{error}");
    assert!(error.contains("requiredHosts"), "{error}");
    let error = send_error(&p, json!({"method": "GET", "url": front.url("/name")}));
    assert!(error.contains("api.example.com"), "{error}");
    assert!(error.contains("loopback"), "{error}");
    assert_eq!(behind.request_count(), 0);
    assert_eq!(front.request_count(), 2);
    // The same server straight away is fine: only the hops were refused.
    assert_eq!(
        send(&p, json!({"method": "GET", "url": behind.url("/")}))["result"]["statusCode"],
        200
    );
}

#[test]
fn timeout_ms_turns_a_slow_server_into_an_error() {
    let server = TestServer::start(|r: &TestRequest| match r.path.as_str() {
        "/slow" => TestResponse::ok("late").with_delay(Duration::from_secs(20)),
        _ => TestResponse::ok("fast"),
    });
    let p = plugin();
    let url = server.url("/slow");
    let started = Instant::now();
    let error = send_error(&p, json!({"method": "GET", "url": url, "timeoutMs": 300}));
    assert_eq!(error, format!("Get \"{url}\": context deadline exceeded"));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_still_works(&p);
}

#[test]
fn bodies_past_ten_mib_are_truncated_silently() {
    let size = MAX_BODY_BYTES as usize + 1024;
    let server = TestServer::start(move |_| {
        TestResponse::ok((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
    });
    let p = plugin();
    let a = send(&p, json!({"method": "GET", "url": server.url("/big")}));
    assert_eq!(a["result"]["statusCode"], 200);
    let body = decode_bytes(a["result"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body.len() as u64, MAX_BODY_BYTES);
    assert!(body.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    assert_eq!(a["result"]["headers"]["Content-Length"], size.to_string());
}

#[test]
fn hosts_outside_required_hosts_are_refused_naming_the_rule() {
    let server = TestServer::start(|_| TestResponse::ok("no"));
    let p = plugin();
    let error = send_error(
        &p,
        json!({"method": "GET", "url": format!("http://localhost:{}/", server.port())}),
    );
    assert_eq!(
        error,
        "host \"localhost\" is not allowed: it matches none of the requiredHosts of the plugin's http permission"
    );
    // `*.example.com` does not match the bare domain.
    let error = send_error(&p, json!({"method": "GET", "url": "http://example.com/"}));
    assert!(error.contains("requiredHosts"), "{error}");
    let error = send_error(&p, json!({"method": "GET", "url": "ftp://127.0.0.1/"}));
    assert!(error.contains("scheme \"ftp\""), "{error}");
    assert_eq!(server.request_count(), 0);
    assert_still_works(&p);
}

#[test]
fn loopback_needs_the_operator_allowance() {
    let server = TestServer::start(|_| TestResponse::ok("local"));
    let refused = plugin_with(LocalAllowance::default());
    let error = send_error(&refused, json!({"method": "GET", "url": server.url("/")}));
    assert!(error.contains("127.0.0.1"), "{error}");
    assert!(error.contains("loopback"), "{error}");
    assert!(error.contains("local allowance"), "{error}");
    assert_eq!(server.request_count(), 0);

    let allowed = plugin_with(loopback_allowed());
    let a = send(&allowed, json!({"method": "GET", "url": server.url("/")}));
    assert_eq!(a["result"]["statusCode"], 200);
    assert_eq!(server.request_count(), 1);
}

#[test]
fn a_wildcard_name_resolving_to_loopback_is_allowed_only_with_the_allowance() {
    let server = TestServer::start(|r: &TestRequest| {
        TestResponse::ok(r.header("host").unwrap_or_default().to_owned())
    });
    let url = format!("http://api.example.com:{}/v1", server.port());

    let refused = plugin_with(LocalAllowance::default());
    let error = send_error(&refused, json!({"method": "GET", "url": url}));
    assert!(
        error.contains("\"api.example.com\" resolves to 127.0.0.1"),
        "{error}"
    );
    assert!(error.contains("loopback"), "{error}");
    let message = pdk_failure(&refused, json!({"url": url}));
    assert!(message.contains("resolves to 127.0.0.1"), "{message}");
    assert_eq!(server.request_count(), 0);

    let allowed = plugin_with(loopback_allowed());
    let a = send(&allowed, json!({"method": "GET", "url": url}));
    let host = decode_bytes(a["result"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        host,
        format!("api.example.com:{}", server.port()).as_bytes()
    );
    assert_eq!(pdk(&allowed, json!({"url": url}))["status"], 200);
    assert_eq!(server.request_count(), 2);
}

#[test]
fn malformed_requests_are_go_decoding_errors() {
    let p = plugin();
    let answer = host_call(&p, "http_send", json!({"request": {"url": 7}}));
    assert_eq!(
        answer,
        json!({"error": "json: cannot unmarshal number into Go struct field HTTPRequest.request.url of type string"})
    );
    let error = send_error(
        &p,
        json!({"method": "GET", "url": "http://127.0.0.1:1/", "headers": {"bad name": "x"}}),
    );
    assert_eq!(
        error,
        "Get \"http://127.0.0.1:1/\": net/http: invalid header field name \"bad name\""
    );
}

#[test]
fn a_refused_connection_is_a_transport_error() {
    // A port nobody listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = plugin();
    let url = format!("http://127.0.0.1:{port}/");
    let error = send_error(&p, json!({"method": "GET", "url": url}));
    assert!(error.starts_with(&format!("Get \"{url}\": ")), "{error}");
    assert_still_works(&p);
}

#[test]
fn extism_http_request_returns_status_body_and_lower_case_headers() {
    let server = TestServer::start(|r: &TestRequest| {
        TestResponse::status(201)
            .with_header("X-Multi", "a")
            .with_header("x-multi", "b")
            .with_header("Content-Type", "text/plain")
            .with_body(format!(
                "{} {} {}",
                r.method,
                r.header("x-token").unwrap_or("-"),
                String::from_utf8_lossy(&r.body)
            ))
    });
    let p = plugin();
    let out = pdk(
        &p,
        json!({"url": server.url("/e"), "method": "put", "headers": {"X-Token": "t"}, "body": "payload"}),
    );
    assert_eq!(
        out,
        json!({"status": 201, "body": "PUT t payload",
            "headers": {"content-length": "13", "content-type": "text/plain", "x-multi": "a,b"}})
    );
    // 4xx is a status, not a failure.
    let server = TestServer::start(|_| TestResponse::status(404));
    assert_eq!(pdk(&p, json!({"url": server.url("/")}))["status"], 404);
}

#[test]
fn extism_http_request_outside_required_hosts_fails_the_call_only() {
    let server = TestServer::start(|_| TestResponse::ok("no"));
    let p = plugin();
    let url = format!("http://localhost:{}/x", server.port());
    assert_eq!(
        pdk_failure(&p, json!({"url": url})),
        format!("HTTP request to '{url}' is not allowed")
    );
    // A redirect to it is refused the same way, hop by hop.
    let front = {
        let url = url.clone();
        TestServer::start(move |_| TestResponse::redirect(302, &url))
    };
    assert_eq!(
        pdk_failure(&p, json!({"url": front.url("/")})),
        format!("HTTP request to '{url}' is not allowed")
    );
    assert_eq!(server.request_count(), 0);
    assert_still_works(&p);
}

#[test]
fn extism_http_request_fails_past_the_50_mib_cap() {
    let size = 50 * 1024 * 1024 + 1;
    let server = TestServer::start(move |_| TestResponse::ok(vec![b'x'; size]));
    let p = plugin();
    assert_eq!(
        pdk_failure(&p, json!({"url": server.url("/huge")})),
        "HTTP response exceeds the configured maximum number of bytes: 52428800"
    );
    assert_still_works(&p);

    // The cap is the plugin's `max_http_response_bytes`.
    let server = TestServer::start(|_| TestResponse::ok(vec![b'y'; 2048]));
    let local = loopback_allowed();
    let mut config = PluginConfig::new("http-small-cap");
    config.max_http_response_bytes = 1024;
    config.services.push(Arc::new(HttpService::from_permission(
        &fixture_http(),
        local.clone(),
    )));
    config.egress = Arc::new(PolicyEgress::with_policy(EgressPolicy::extism_http(
        fixture_hosts(),
        local,
    )));
    let small = load(FIXTURE, config);
    assert_eq!(
        pdk_failure(&small, json!({"url": server.url("/")})),
        "HTTP response exceeds the configured maximum number of bytes: 1024"
    );
}

#[test]
fn without_required_hosts_extism_http_request_reaches_nothing() {
    let server = TestServer::start(|_| TestResponse::ok("no"));
    let url = server.url("/");
    let no_permission = PolicyEgress::from_permissions(&Permissions::default(), loopback_allowed());
    let empty_list = PolicyEgress::from_permissions(
        &Permissions {
            http: Some(HostsPermission::default()),
            ..Permissions::default()
        },
        loopback_allowed(),
    );
    for egress in [no_permission, empty_list] {
        let http = HttpService::from_permission(&HostsPermission::default(), loopback_allowed());
        let p = plugin_from(http, egress);
        assert_eq!(
            pdk_failure(&p, json!({"url": url})),
            format!("HTTP request to '{url}' is not allowed")
        );
        // http_send with an empty list allows any host (the operator allows loopback here).
        assert_eq!(
            send(&p, json!({"method": "GET", "url": url}))["result"]["statusCode"],
            200
        );
    }
    assert_eq!(server.request_count(), 2);
}

#[test]
fn from_permission_builds_the_manifests_policy() {
    let server = TestServer::start(|_| TestResponse::ok("yes"));
    let http = HttpService::from_permission(&fixture_http(), loopback_allowed());
    let egress = PolicyEgress::from_permissions(&fixture_permissions(FIXTURE), loopback_allowed());
    let p = plugin_from(http, egress);
    assert_eq!(
        send(&p, json!({"method": "GET", "url": server.url("/")}))["result"]["statusCode"],
        200
    );
    assert_eq!(pdk(&p, json!({"url": server.url("/")}))["body"], "yes");
    let refused = format!("http://localhost:{}/", server.port());
    assert!(send_error(&p, json!({"method": "GET", "url": refused})).contains("requiredHosts"));
    assert_eq!(server.request_count(), 2);
}

/// A host function cannot be interrupted, so `http_send` must not wait past the calling
/// export's own deadline: with a 500 ms call timeout and the default 10 s request timeout,
/// a server that never answers ends the call as a timeout well before the request's timeout.
#[test]
fn http_send_never_outlives_the_calls_deadline() {
    let server = TestServer::start(|_: &TestRequest| {
        TestResponse::ok("late").with_delay(Duration::from_secs(30))
    });
    let local = loopback_allowed();
    let http = HttpService::with_policy(EgressPolicy::http(fixture_hosts(), local.clone()));
    let mut config = PluginConfig::new("http-deadline");
    config.services.push(Arc::new(http));
    config.timeout = Duration::from_millis(500);
    let p = load(FIXTURE, config);
    let input = json!({"fn": "http_send",
        "req": {"request": {"method": "GET", "url": server.url("/never")}}})
    .to_string();
    let started = Instant::now();
    let outcome = p.call("host", input.as_bytes());
    let elapsed = started.elapsed();
    // Either the plugin saw the timeout error and the call then hit its deadline, or the call
    // returned the error: never a response, and never the 10 s default wait.
    match outcome {
        Err(e) => assert!(matches!(e.kind(), CallErrorKind::Timeout { .. }), "{e}"),
        Ok(out) => {
            let out = String::from_utf8_lossy(&out).into_owned();
            assert!(out.contains("context deadline exceeded"), "{out}");
        }
    }
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}
