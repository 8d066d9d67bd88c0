//! Extism's `http_request` through the `Egress` boundary: denied by default; with an egress
//! that performs real requests (a minimal HTTP/1.0 client over `TcpStream`, talking to a server
//! the test starts on 127.0.0.1), statuses, headers and bodies reach the plugin, and the
//! response-size cap fails the call.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use nd_runtime::{
    CallErrorKind, Egress, EgressError, HttpLimits, HttpRequest, HttpResponse, PluginConfig,
};

use crate::support::*;

/// Serves `responses` (one per connection, in order) on 127.0.0.1; returns the base URL.
fn serve(responses: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for response in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            // Read the whole request head, so that closing does not reset the connection.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let _ = stream.write_all(&response);
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
    });
    format!("http://{addr}")
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut r = format!("HTTP/1.0 {status}\r\nContent-Length: {}\r\n", body.len()).into_bytes();
    for (k, v) in headers {
        r.extend(format!("{k}: {v}\r\n").bytes());
    }
    r.extend(b"\r\n");
    r.extend(body);
    r
}

/// An egress that performs plain-HTTP requests to loopback addresses only, and records them.
#[derive(Default)]
struct LoopbackEgress {
    seen: Mutex<Vec<HttpRequest>>,
}

impl Egress for LoopbackEgress {
    fn send(&self, request: HttpRequest, limits: HttpLimits) -> Result<HttpResponse, EgressError> {
        self.seen.lock().unwrap().push(request.clone());
        let rest = request
            .url
            .strip_prefix("http://127.0.0.1:")
            .ok_or_else(|| {
                EgressError::NotAllowed(format!("{} is not a loopback URL", request.url))
            })?;
        let (port, path) = rest
            .split_once('/')
            .map(|(p, q)| (p, format!("/{q}")))
            .unwrap_or((rest, "/".into()));
        let mut stream = TcpStream::connect((
            "127.0.0.1",
            port.parse::<u16>()
                .map_err(|e| EgressError::Transport(e.to_string()))?,
        ))
        .map_err(|e| EgressError::Transport(e.to_string()))?;
        stream.set_read_timeout(Some(limits.timeout)).ok();
        let head = format!("{} {path} HTTP/1.0\r\n\r\n", request.method);
        stream
            .write_all(head.as_bytes())
            .map_err(|e| EgressError::Transport(e.to_string()))?;
        let mut raw = Vec::new();
        stream
            .take(limits.max_body_bytes + 64 * 1024)
            .read_to_end(&mut raw)
            .map_err(|e| EgressError::Transport(e.to_string()))?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or(EgressError::Transport("no header end".into()))?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let body = raw[split + 4..].to_vec();
        if body.len() as u64 > limits.max_body_bytes {
            return Err(EgressError::TooLarge(limits.max_body_bytes));
        }
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or(EgressError::Transport("bad status line".into()))?;
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn with_egress(egress: Arc<LoopbackEgress>, max_body: u64) -> nd_runtime::Plugin {
    let mut config = PluginConfig::new("http");
    config.egress = egress;
    config.max_http_response_bytes = max_body;
    load("kernel", WASI, config)
}

#[test]
fn requests_are_denied_by_default() {
    let url = serve(vec![response("200 OK", &[], b"never")]);
    let p = kernel(UNKNOWN);
    assert_eq!(
        err(&p, "http_get", url.as_bytes()),
        CallErrorKind::HostFunction {
            function: "http_request".into(),
            message: format!("HTTP request to '{url}' is not allowed"),
        }
    );
}

#[test]
fn responses_reach_the_plugin_and_errors_statuses_are_results() {
    let egress = Arc::new(LoopbackEgress::default());
    let url = serve(vec![
        response("200 OK", &[("X-Test", "1")], b"hello"),
        response("404 Not Found", &[], b"nope"),
    ]);
    let p = with_egress(Arc::clone(&egress), 1024);
    assert_eq!(
        ok_str(&p, "http_get", &format!("{url}/a")),
        r#"{"status":200,"body":"hello"}"#
    );
    assert_eq!(
        ok_str(&p, "http_get", &format!("{url}/b")),
        r#"{"status":404,"body":"nope"}"#
    );
    let seen = egress.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].plugin_id, "http");
    assert_eq!(seen[0].url, format!("{url}/a"));
}

#[test]
fn an_oversized_response_fails_the_call() {
    let url = serve(vec![response("200 OK", &[], &[b'x'; 2000])]);
    let p = with_egress(Arc::new(LoopbackEgress::default()), 1000);
    assert_eq!(
        err(&p, "http_get", url.as_bytes()),
        CallErrorKind::HostFunction {
            function: "http_request".into(),
            message: "HTTP response exceeds the configured maximum number of bytes: 1000".into(),
        }
    );
}

#[test]
fn an_egress_refusal_is_a_clear_call_failure() {
    let p = with_egress(Arc::new(LoopbackEgress::default()), 1024);
    match err(&p, "http_get", b"http://example.invalid/") {
        CallErrorKind::HostFunction { function, message } => {
            assert_eq!(function, "http_request");
            assert!(message.contains("not a loopback URL"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ok(&p, "echo", b"still serving"), b"still serving");
}
