//! Starting, stopping, health, the page, and the bearer token.

use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use nd_server::{Server, ServerConfig, ServerError};

use crate::common::{Http, TOKEN, eventually, serve};

#[test]
fn health_needs_no_token_and_counts_plugins() {
    let s = serve(|p| {
        p.put("agent", "agent").put("lyrics", "lyrics");
    });
    let reply = s.http.request("GET", "/health", None, None);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json(),
        serde_json::json!({"status": "ok", "plugins": 2, "loaded": 0})
    );
    s.enable("agent");
    let reply = s.http.request("GET", "/health", None, None);
    assert_eq!(reply.json()["loaded"], 1);
}

#[test]
fn the_api_refuses_missing_wrong_and_non_bearer_tokens() {
    let s = serve(|p| {
        p.put("agent", "agent");
    });
    s.enable("agent");
    for path in [
        "/api/admin/plugins",
        "/api/admin/plugins/agent",
        "/api/v1/nope",
    ] {
        for authorization in [
            None,
            Some("Bearer wrong-token".to_owned()),
            Some(format!("Bearer {TOKEN}x")),
            Some(format!("Basic {TOKEN}")),
            Some("Bearer".to_owned()),
        ] {
            let reply = s.http.request("GET", path, authorization.as_deref(), None);
            assert_eq!(
                reply.status, 401,
                "{path} {authorization:?}: {}",
                reply.text
            );
            assert!(reply.json()["error"].is_string(), "{}", reply.text);
        }
    }
    let reply = s.http.request(
        "POST",
        "/api/v1/artist/biography",
        None,
        Some(r#"{"name":"Nina"}"#),
    );
    assert_eq!(reply.status, 401);
    let reply = s.http.request(
        "POST",
        "/api/admin/plugins/agent/disable",
        Some("Bearer nope"),
        None,
    );
    assert_eq!(reply.status, 401);
    assert!(
        s.manager.plugin("agent").is_some(),
        "a refused call changes nothing"
    );

    // The right token, case-insensitive scheme.
    let reply = s.http.request(
        "GET",
        "/api/admin/plugins",
        Some(&format!("bearer {TOKEN}")),
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    // Unknown API paths are JSON 404s (after authentication).
    let reply = s.http.get("/api/v1/nope");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["error"], "no such API endpoint");
    // A known path with the wrong method: a JSON 405.
    for (method, path, auth) in [
        ("GET", "/api/v1/artist/biography", true),
        ("DELETE", "/api/admin/plugins/agent", true),
        ("POST", "/health", false),
    ] {
        let bearer = format!("Bearer {TOKEN}");
        let reply = s
            .http
            .request(method, path, auth.then_some(bearer.as_str()), None);
        assert_eq!(reply.status, 405, "{method} {path}: {}", reply.text);
        assert!(reply.json()["error"].is_string());
    }
}

#[test]
fn the_admin_page_is_served_with_the_token_in_the_fragment() {
    let s = serve(|_| {});
    let url = s.server.admin_url();
    let addr = s.server.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    assert_eq!(url, format!("http://{addr}/#token={TOKEN}"));
    let reply = s.http.request("GET", "/", None, None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, "text/html; charset=utf-8");
    assert!(reply.text.contains("<title>ndp admin</title>"));
    assert!(
        !reply.text.contains("http://") && !reply.text.contains("https://"),
        "the page loads nothing from elsewhere"
    );
}

#[test]
fn shutdown_stops_wait_and_the_listener() {
    let s = serve(|_| {});
    let addr = s.server.local_addr();
    let handle = s.server.shutdown_handle();
    let (done, finished) = mpsc::channel();
    let server = s.server;
    let waiter = std::thread::spawn(move || {
        server.wait();
        done.send(()).unwrap();
    });
    // wait() blocks while the server runs.
    assert!(
        finished.recv_timeout(Duration::from_millis(300)).is_err(),
        "wait() returned before shutdown"
    );
    let reply = Http::new(&format!("http://{addr}"), TOKEN).request("GET", "/health", None, None);
    assert_eq!(reply.status, 200);
    handle.shutdown();
    finished
        .recv_timeout(Duration::from_secs(30))
        .expect("wait() returns after shutdown");
    waiter.join().unwrap();
    eventually("the listener is closed", || {
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err()
    });
}

#[test]
fn dropping_the_server_stops_it() {
    let s = serve(|_| {});
    let addr = s.server.local_addr();
    drop(s.server);
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

#[test]
fn start_reports_a_busy_address_and_an_empty_token() {
    let s = serve(|_| {});
    let busy = Server::start(
        s.manager.clone(),
        ServerConfig {
            listen: s.server.local_addr(),
            token: TOKEN.to_owned(),
        },
    )
    .unwrap_err();
    assert!(matches!(busy, ServerError::Bind { .. }), "{busy}");
    assert!(
        busy.to_string()
            .contains(&s.server.local_addr().to_string()),
        "{busy}"
    );
    let empty = Server::start(
        s.manager.clone(),
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            token: String::new(),
        },
    )
    .unwrap_err();
    assert!(matches!(empty, ServerError::Config(_)), "{empty}");
}
