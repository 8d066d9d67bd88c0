//! The sandboxed client against real servers on 127.0.0.1: the policy at connect time,
//! redirects re-checked hop by hop, caps, timeouts.

#![allow(clippy::unwrap_used)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use nd_host_http::client::{HttpClient, Request, SendError, SendOptions};
use nd_host_http::policy::{EgressPolicy, LocalAllowance, Refusal, Resolve};
use nd_manifest::HostPattern;
use nd_testkit::http_server::{TestRequest, TestResponse, TestServer};

/// Maps names to 127.0.0.1 (as a hostile DNS would); other names are unknown.
#[derive(Debug)]
struct LoopbackDns(Vec<String>);

impl LoopbackDns {
    fn new(names: &[&str]) -> Arc<Self> {
        Arc::new(Self(names.iter().map(|n| n.to_string()).collect()))
    }
}

impl Resolve for LoopbackDns {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        if self.0.iter().any(|n| n == host) {
            Ok(vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)])
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "unknown host"))
        }
    }
}

fn local() -> LocalAllowance {
    LocalAllowance::parse("127.0.0.1/32").unwrap()
}

fn patterns(list: &[&str]) -> Vec<HostPattern> {
    list.iter().map(|p| p.parse().unwrap()).collect()
}

fn get(url: &str) -> Request {
    Request {
        method: "GET".into(),
        url: url.into(),
        ..Request::default()
    }
}

fn echo_path(req: &TestRequest) -> TestResponse {
    TestResponse::ok(format!("{} {}", req.method, req.path))
}

#[test]
fn allowed_with_a_local_allowance_for_loopback() {
    let server = TestServer::start(echo_path);
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let resp = client
        .send(&get(&server.url("/hello?x=1")), &SendOptions::default())
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"GET /hello?x=1");
    assert_eq!(resp.final_url, server.url("/hello?x=1"));
    assert!(
        resp.headers
            .iter()
            .any(|(n, v)| n == "content-length" && v == "14")
    );
    assert_eq!(server.request_count(), 1);
}

#[test]
fn loopback_refused_without_allowance_and_never_reached() {
    let server = TestServer::start(echo_path);
    let client = HttpClient::new(EgressPolicy::http(vec![], LocalAllowance::default()));
    let err = client
        .send(&get(&server.url("/")), &SendOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, SendError::Refused(Refusal::Address { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("loopback"), "{err}");
    assert_eq!(server.request_count(), 0);
}

#[test]
fn public_name_resolving_to_loopback_is_refused_unless_allowed() {
    let server = TestServer::start(echo_path);
    let url = format!("http://api.example.com:{}/data", server.port());
    let dns = LoopbackDns::new(&["api.example.com"]);
    let hosts = patterns(&["api.example.com"]);

    let refused = HttpClient::new(
        EgressPolicy::http(hosts.clone(), LocalAllowance::default()).with_resolver(dns.clone()),
    );
    let err = refused
        .send(&get(&url), &SendOptions::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "host \"api.example.com\" resolves to 127.0.0.1, a loopback address, which plugins may not reach (allow it with the operator's local allowance)"
    );
    assert_eq!(server.request_count(), 0);

    // The Extism policy refuses it the same way (the address rule, not the host list).
    let extism = HttpClient::new(
        EgressPolicy::extism_http(hosts.clone(), LocalAllowance::default())
            .with_resolver(dns.clone()),
    );
    assert!(matches!(
        extism.send(&get(&url), &SendOptions::default()),
        Err(SendError::Refused(Refusal::Address { .. }))
    ));
    assert_eq!(server.request_count(), 0);

    for allowance in [local(), LocalAllowance::parse("api.example.com").unwrap()] {
        let allowed = HttpClient::new(
            EgressPolicy::http(hosts.clone(), allowance).with_resolver(dns.clone()),
        );
        let resp = allowed.send(&get(&url), &SendOptions::default()).unwrap();
        assert_eq!(resp.body, b"GET /data");
    }
    assert_eq!(server.request_count(), 2);
    // The Host header is the checked name.
    assert_eq!(
        server.requests()[0].header("host"),
        Some(format!("api.example.com:{}", server.port()).as_str())
    );
}

#[test]
fn ipv4_mapped_and_other_loopback_spellings_are_refused() {
    let server = TestServer::start(echo_path);
    let client = HttpClient::new(EgressPolicy::http(vec![], LocalAllowance::default()));
    let port = server.port();
    for url in [
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        format!("http://[::127.0.0.1]:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://0.0.0.0:{port}/"),
    ] {
        let err = client
            .send(&get(&url), &SendOptions::default())
            .unwrap_err();
        assert!(
            matches!(err, SendError::Refused(Refusal::Address { .. })),
            "{url}: {err}"
        );
    }
    assert_eq!(server.request_count(), 0);
}

#[test]
fn ipv4_mapped_is_allowed_by_an_allowance_for_its_ipv4() {
    // Connecting to ::ffff:127.0.0.1 reaches 127.0.0.1 on a dual-stack host; where the OS
    // has no IPv6 at all the connection fails, which is not a policy refusal either way.
    let server = TestServer::start(echo_path);
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let url = format!("http://[::ffff:127.0.0.1]:{}/m", server.port());
    match client.send(&get(&url), &SendOptions::default()) {
        Ok(resp) => assert_eq!(resp.body, b"GET /m"),
        Err(e) => assert!(matches!(e, SendError::Transport(_)), "{e}"),
    }
}

#[test]
fn redirect_to_a_name_resolving_to_loopback_is_refused_and_never_contacted() {
    let target = TestServer::start(echo_path);
    let redirect_to = format!("http://internal.example:{}/secret", target.port());
    let origin = TestServer::start(move |_| TestResponse::redirect(302, &redirect_to));
    // The origin itself is reached through its address (allowed by name), the redirect
    // target through a name that resolves to loopback and is not allowed.
    let dns = LoopbackDns::new(&["origin.example", "internal.example"]);
    let policy = EgressPolicy::http(vec![], LocalAllowance::parse("origin.example").unwrap())
        .with_resolver(dns);
    let client = HttpClient::new(policy);
    let url = format!("http://origin.example:{}/start", origin.port());
    let err = client
        .send(&get(&url), &SendOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("\"internal.example\""), "{err}");
    assert!(
        matches!(err, SendError::Refused(Refusal::Address { .. })),
        "{err}"
    );
    assert_eq!(origin.request_count(), 1);
    assert_eq!(target.request_count(), 0);
}

#[test]
fn redirect_outside_required_hosts_is_refused() {
    let target = TestServer::start(echo_path);
    let redirect_to = format!("http://elsewhere.example:{}/", target.port());
    let origin = TestServer::start(move |_| TestResponse::redirect(301, &redirect_to));
    let dns = LoopbackDns::new(&["api.example.com", "elsewhere.example"]);
    let policy = EgressPolicy::http(patterns(&["api.example.com"]), local()).with_resolver(dns);
    let client = HttpClient::new(policy);
    let url = format!("http://api.example.com:{}/", origin.port());
    let err = client
        .send(&get(&url), &SendOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, SendError::Refused(Refusal::HostNotAllowed { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("elsewhere.example"), "{err}");
    assert_eq!(target.request_count(), 0);

    // And a redirect to a scheme the policy refuses.
    let ftp = TestServer::start(|_| TestResponse::redirect(302, "ftp://127.0.0.1/file"));
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let err = client
        .send(&get(&ftp.url("/")), &SendOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, SendError::Refused(Refusal::Scheme { .. })),
        "{err}"
    );
}

#[test]
fn relative_redirects_are_followed_and_rechecked() {
    let server = TestServer::start(|req| match req.path.as_str() {
        "/a" => TestResponse::redirect(302, "b"),
        "/b" => TestResponse::redirect(307, "/c?q=1"),
        _ => echo_path(req),
    });
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let resp = client
        .send(&get(&server.url("/a")), &SendOptions::default())
        .unwrap();
    assert_eq!(resp.body, b"GET /c?q=1");
    assert_eq!(resp.final_url, server.url("/c?q=1"));
    assert_eq!(server.request_count(), 3);
}

#[test]
fn redirect_loop_ends_as_too_many_redirects() {
    let server = TestServer::start(|_| TestResponse::redirect(302, "/loop"));
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let err = client
        .send(&get(&server.url("/loop")), &SendOptions::default())
        .unwrap_err();
    assert_eq!(err, SendError::TooManyRedirects(5));
    // The first request and five followed redirects.
    assert_eq!(server.request_count(), 6);

    let chain = TestServer::start(|req| {
        let n: u32 = req.path.trim_start_matches('/').parse().unwrap_or(0);
        if n < 5 {
            TestResponse::redirect(302, &format!("/{}", n + 1))
        } else {
            TestResponse::ok("done")
        }
    });
    // Exactly five redirects are fine.
    let resp = client
        .send(&get(&chain.url("/0")), &SendOptions::default())
        .unwrap();
    assert_eq!(resp.body, b"done");
}

#[test]
fn no_follow_returns_the_redirect_itself() {
    let server =
        TestServer::start(|_| TestResponse::redirect(302, "/elsewhere").with_body("moved"));
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let options = SendOptions {
        follow_redirects: false,
        ..SendOptions::default()
    };
    let resp = client.send(&get(&server.url("/x")), &options).unwrap();
    assert_eq!(resp.status, 302);
    assert_eq!(resp.body, b"moved");
    assert!(
        resp.headers
            .iter()
            .any(|(n, v)| n == "location" && v == "/elsewhere")
    );
    assert_eq!(server.request_count(), 1);
}

#[test]
fn redirect_methods_and_bodies() {
    let server = TestServer::start(|req| match req.path.as_str() {
        "/303" => TestResponse::redirect(303, "/seen"),
        "/301" => TestResponse::redirect(301, "/seen"),
        "/307" => TestResponse::redirect(307, "/seen"),
        "/308" => TestResponse::redirect(308, "/seen"),
        _ => TestResponse::ok(format!(
            "{} {} {}",
            req.method,
            String::from_utf8_lossy(&req.body),
            req.header("content-type").unwrap_or("-")
        )),
    });
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let post = |path: &str| Request {
        method: "POST".into(),
        url: server.url(path),
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: b"payload".to_vec(),
    };
    let body = |path| {
        String::from_utf8(
            client
                .send(&post(path), &SendOptions::default())
                .unwrap()
                .body,
        )
        .unwrap()
    };
    assert_eq!(body("/303"), "GET  -");
    assert_eq!(body("/301"), "GET  -");
    assert_eq!(body("/307"), "POST payload text/plain");
    assert_eq!(body("/308"), "POST payload text/plain");
}

#[test]
fn credentials_are_dropped_on_a_redirect_to_another_host() {
    let target = TestServer::start(|req| {
        TestResponse::ok(req.header("authorization").unwrap_or("none").to_owned())
    });
    let to = format!("http://other.example:{}/", target.port());
    let origin = TestServer::start(move |_| TestResponse::redirect(302, &to));
    let dns = LoopbackDns::new(&["origin.example", "other.example"]);
    let client = HttpClient::new(EgressPolicy::http(vec![], local()).with_resolver(dns));
    let request = Request {
        method: "GET".into(),
        url: format!("http://origin.example:{}/", origin.port()),
        headers: vec![("Authorization".into(), "Bearer secret".into())],
        body: Vec::new(),
    };
    let resp = client.send(&request, &SendOptions::default()).unwrap();
    assert_eq!(resp.body, b"none");
    assert_eq!(
        origin.requests()[0].header("authorization"),
        Some("Bearer secret")
    );
}

#[test]
fn body_is_truncated_or_too_large() {
    let server = TestServer::start(|_| TestResponse::ok(vec![b'x'; 1000]));
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let capped = SendOptions {
        max_body_bytes: 100,
        ..SendOptions::default()
    };
    let resp = client.send(&get(&server.url("/")), &capped).unwrap();
    assert_eq!(resp.body.len(), 100);

    let strict = SendOptions {
        truncate: false,
        ..capped
    };
    let err = client.send(&get(&server.url("/")), &strict).unwrap_err();
    assert_eq!(err, SendError::TooLarge(100));
    assert_eq!(
        err.to_string(),
        "HTTP response exceeds the configured maximum number of bytes: 100"
    );

    // Exactly at the cap is fine either way.
    let exact = SendOptions {
        max_body_bytes: 1000,
        ..strict
    };
    assert_eq!(
        client
            .send(&get(&server.url("/")), &exact)
            .unwrap()
            .body
            .len(),
        1000
    );
}

#[test]
fn timeout_against_a_slow_server() {
    let server = TestServer::start(|_| TestResponse::ok("late").with_delay(Duration::from_secs(3)));
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let options = SendOptions {
        timeout: Duration::from_millis(200),
        ..SendOptions::default()
    };
    let started = std::time::Instant::now();
    let err = client.send(&get(&server.url("/")), &options).unwrap_err();
    assert_eq!(err, SendError::Timeout(Duration::from_millis(200)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn error_statuses_are_responses() {
    let server = TestServer::start(|req| match req.path.as_str() {
        "/missing" => TestResponse::status(404).with_body("nope"),
        _ => TestResponse::status(500).with_body("boom"),
    });
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let resp = client
        .send(&get(&server.url("/missing")), &SendOptions::default())
        .unwrap();
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (404, b"nope".as_slice())
    );
    let resp = client
        .send(&get(&server.url("/fail")), &SendOptions::default())
        .unwrap();
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (500, b"boom".as_slice())
    );
}

#[test]
fn post_body_headers_and_upper_case_methods_arrive() {
    let server = TestServer::start(|_| {
        TestResponse::status(201)
            .with_header("X-Multi", "one")
            .with_header("X-Multi", "two")
    });
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let request = Request {
        method: "post".into(),
        url: server.url("/submit"),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Token".into(), "abc".into()),
            ("Host".into(), "spoofed.example".into()),
        ],
        body: br#"{"a":1}"#.to_vec(),
    };
    let resp = client.send(&request, &SendOptions::default()).unwrap();
    assert_eq!(resp.status, 201);
    let multi: Vec<&str> = resp
        .headers
        .iter()
        .filter(|(n, _)| n == "x-multi")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(multi, ["one", "two"]);

    let got = &server.requests()[0];
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/submit");
    assert_eq!(got.body, br#"{"a":1}"#);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("x-token"), Some("abc"));
    assert_eq!(
        got.header("host"),
        Some(format!("127.0.0.1:{}", server.port()).as_str())
    );

    for method in ["delete", "Put", "patch", "head", "options"] {
        let req = Request {
            method: method.into(),
            ..get(&server.url("/m"))
        };
        client.send(&req, &SendOptions::default()).unwrap();
    }
    let put = &server.requests()[2];
    assert_eq!(put.header("content-length"), Some("0"));
    assert_eq!(put.header("transfer-encoding"), None);
    let methods: Vec<String> = server.requests()[1..]
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, ["DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]);
}

#[test]
fn get_without_body_sends_no_body() {
    let server = TestServer::start(echo_path);
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    client
        .send(&get(&server.url("/")), &SendOptions::default())
        .unwrap();
    let got = &server.requests()[0];
    assert!(got.body.is_empty());
    assert_eq!(got.header("content-length"), None);
}

#[test]
fn connection_refused_is_a_transport_error() {
    // Bind then drop to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let err = client
        .send(
            &get(&format!("http://127.0.0.1:{port}/")),
            &SendOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(err, SendError::Transport(_)), "{err}");
}

#[test]
fn requests_reuse_the_pool_and_server_records_every_request() {
    let server = TestServer::start(echo_path);
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    let clone = client.clone();
    for i in 0..20 {
        let c = if i % 2 == 0 { &client } else { &clone };
        let resp = c
            .send(&get(&server.url(&format!("/{i}"))), &SendOptions::default())
            .unwrap();
        assert_eq!(resp.body, format!("GET /{i}").as_bytes());
    }
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    let expected: Vec<String> = (0..20).map(|i| format!("/{i}")).collect();
    assert_eq!(paths, expected);
}

#[test]
fn unknown_name_is_a_transport_error_naming_the_host() {
    let client = HttpClient::new(
        EgressPolicy::http(vec![], LocalAllowance::default()).with_resolver(LoopbackDns::new(&[])),
    );
    let err = client
        .send(&get("http://nowhere.example/"), &SendOptions::default())
        .unwrap_err();
    assert!(matches!(err, SendError::Transport(_)), "{err}");
    assert!(err.to_string().contains("nowhere.example"), "{err}");
}

#[test]
fn ipv6_loopback_needs_its_own_allowance() {
    let server = TestServer::start_on("[::1]:0", echo_path);
    let url = format!("http://[::1]:{}/six", server.port());
    // An allowance for 127.0.0.1 does not cover ::1.
    let v4_only = HttpClient::new(EgressPolicy::http(vec![], local()));
    let err = v4_only
        .send(&get(&url), &SendOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    assert_eq!(server.request_count(), 0);

    let v6 = HttpClient::new(EgressPolicy::http(
        vec![],
        LocalAllowance::parse("::1").unwrap(),
    ));
    let resp = v6.send(&get(&url), &SendOptions::default()).unwrap();
    assert_eq!(resp.body, b"GET /six");
    assert_eq!(
        server.requests()[0].header("host"),
        Some(format!("[::1]:{}", server.port()).as_str())
    );
}

#[test]
fn test_server_honours_connection_close() {
    let server = TestServer::start(|_| TestResponse::ok("bye").with_header("Connection", "close"));
    let client = HttpClient::new(EgressPolicy::http(vec![], local()));
    for _ in 0..3 {
        let resp = client
            .send(&get(&server.url("/")), &SendOptions::default())
            .unwrap();
        assert_eq!(resp.body, b"bye");
    }
    assert_eq!(server.request_count(), 3);
}
