//! `ndp serve` through the real binary: it loads the enabled plugins, prints the real
//! address for `--listen 127.0.0.1:0`, answers `/health` and the admin API with its token,
//! locks the data directory against a second process (exit code 75), and exits 0 after
//! SIGTERM, having unloaded the plugins; a busy port or an empty token exits 64.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Host, fixture};

/// A running `ndp serve`; killed if the test fails before it stops.
struct Serve {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: tempfile::NamedTempFile,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(host: &Host, args: &[&str]) -> Serve {
        let stderr = tempfile::NamedTempFile::new().expect("temp file");
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut command = host.command(&all);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr.reopen().expect("stderr file"));
        let mut child = command.spawn().expect("spawn ndp serve");
        let stdout = child.stdout.take().expect("stdout pipe");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Serve {
            child,
            lines,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr.path()).unwrap_or_default()
    }

    /// The next stdout line, within 120 s (the server compiles and loads plugins first).
    fn line(&self) -> String {
        match self.lines.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => line,
            Err(e) => panic!("no output from ndp serve ({e}); stderr:\n{}", self.stderr()),
        }
    }

    /// Sends SIGTERM and waits (up to 60 s) for the exit code.
    fn terminate(&mut self) -> i32 {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().unwrap_or_else(|| {
                    panic!("ndp serve died by a signal: {status:?}\n{}", self.stderr())
                });
            }
            assert!(
                Instant::now() < deadline,
                "ndp serve did not stop within 60 s of SIGTERM; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = ureq::get(url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("GET {url}: body: {e}"));
    (status, body)
}

#[test]
fn serve_prints_its_address_answers_health_and_stops_on_sigterm() {
    let host = Host::new();
    let agent = fixture("agent.ndp").display().to_string();
    host.run(&["install", &agent]).expect_code(0);
    host.run(&["enable", "agent"]).expect_code(0);

    let mut serve = Serve::start(&host, &[]);
    let first = serve.line();
    let url = first
        .strip_prefix("ndp serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix('/'))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url:?}"));
    assert_ne!(port, 0, "the printed address must be the real one");
    let admin = serve.line();
    assert!(
        admin.starts_with(&format!("admin page: {}", url.trim_end_matches('/'))),
        "{admin}"
    );
    assert_eq!(serve.line(), "plugins: 1 known, 1 loaded");

    // The token was created private in the data directory, and the admin URL carries it.
    let token_file = host.data.path().join("admin-token");
    let token = std::fs::read_to_string(&token_file)
        .expect("admin-token")
        .trim()
        .to_owned();
    assert_eq!(
        serve.line(),
        format!("admin token: in {}", token_file.display())
    );
    assert!(admin.contains(&token), "{admin}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&token_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    let (status, body) = get(&format!("{url}health"), None);
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).expect("health JSON");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["loaded"], 1);
    let (status, _) = get(&format!("{url}api/admin/plugins"), None);
    assert_eq!(status, 401);
    let (status, body) = get(&format!("{url}api/admin/plugins"), Some(&token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"agent\""), "{body}");

    // A second process cannot open the data directory while the server runs.
    host.run(&["list"])
        .expect_code(75)
        .stderr_has("in use")
        .stderr_has("ndp serve");

    let code = serve.terminate();
    assert_eq!(code, 0, "stderr:\n{}", serve.stderr());
    // The server is gone and the data directory usable again, the plugin still enabled.
    let list = host.json(&["list"]);
    assert_eq!(list[0]["id"], "agent");
    assert_eq!(list[0]["enabled"], true);
}

#[test]
fn serve_json_with_an_explicit_token() {
    let host = Host::new();
    let mut serve = Serve::start(&host, &["--json", "--token", "s3cret-token"]);
    // One pretty-printed JSON document: read up to its closing brace.
    let mut text = String::new();
    loop {
        let line = serve.line();
        let end = line == "}";
        text.push_str(&line);
        text.push('\n');
        if end {
            break;
        }
    }
    let doc: Value = serde_json::from_str(&text).expect("one JSON document");
    let listen = doc["listen"].as_str().expect("listen").to_owned();
    assert!(
        listen.starts_with("127.0.0.1:") && !listen.ends_with(":0"),
        "{doc:#}"
    );
    assert_eq!(doc["tokenFile"], Value::Null);
    assert_eq!(doc["plugins"], 0);
    assert!(!host.data.path().join("admin-token").exists());
    let url = format!("http://{listen}/");
    let (status, _) = get(&format!("{url}api/admin/plugins"), Some("s3cret-token"));
    assert_eq!(status, 200);
    let (status, _) = get(&format!("{url}api/admin/plugins"), Some("wrong"));
    assert_eq!(status, 401);
    assert_eq!(serve.terminate(), 0, "stderr:\n{}", serve.stderr());
}

#[test]
fn serve_fails_with_64_on_a_busy_port_or_an_empty_token() {
    let host = Host::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    host.run(&["serve", "--listen", &addr])
        .expect_code(64)
        .stderr_has("cannot listen on")
        .stderr_has(&addr);
    host.run(&["serve", "--listen", "127.0.0.1:0", "--token", " "])
        .expect_code(64)
        .stderr_has("--token is empty");
    host.run(&["serve", "--listen", "not-an-address"])
        .expect_code(64);
}
