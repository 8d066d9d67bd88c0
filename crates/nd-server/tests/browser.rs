//! The admin page in a real headless browser: Debian's chromium driven through chromedriver
//! with the W3C WebDriver protocol (plain HTTP, spoken with ureq). The page logs in from the
//! URL fragment, lists the plugins, enables a disabled plugin with its toggle, saves a
//! configuration through the form generated from `config.schema`/`uiSchema`, and shows the
//! server's validation error for a value the schema refuses; each step is checked against the
//! manager's own state. One screenshot goes to `target/nd-server-admin.png`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (`apt-get install chromium
//! chromium-driver`), or `NDP_CHROMIUM` / `NDP_CHROMEDRIVER` pointing elsewhere; the test
//! fails, naming them, when they are missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use common::{Http, configured_manifest, serve};

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn tool(var: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} not found: the browser test needs Debian's {package} \
         (`apt-get install chromium chromium-driver`), or set {var} to its path",
        path.display()
    );
    path
}

/// A chromedriver process on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    http: Http,
}

impl Driver {
    fn start(chromedriver: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let http = Http::new(&format!("http://127.0.0.1:{port}"), "");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(status) = http.try_request("GET", "/status", None, None)
                && status.status == 200
                && status.json()["value"]["ready"] == true
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, http }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session, deleted on drop.
struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl<'a> Session<'a> {
    fn new(driver: &'a Driver, chromium: &Path) -> Session<'a> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1200,1600"]
            }
        }}});
        let reply = driver
            .http
            .request("POST", "/session", None, Some(&capabilities.to_string()));
        assert_eq!(reply.status, 200, "cannot create a session: {}", reply.text);
        let id = reply.json()["value"]["sessionId"]
            .as_str()
            .unwrap()
            .to_owned();
        Session { driver, id }
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("/session/{}{path}", self.id);
        let body = body.map(|b| b.to_string());
        let reply = self
            .driver
            .http
            .request(method, &url, None, body.as_deref());
        assert_eq!(reply.status, 200, "{method} {path}: {}", reply.text);
        reply.json()["value"].clone()
    }

    fn open(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    /// The element matching `css`, if there is one now.
    fn try_find(&self, css: &str) -> Option<String> {
        let url = format!("/session/{}/element", self.id);
        let body = json!({"using": "css selector", "value": css}).to_string();
        let reply = self.driver.http.request("POST", &url, None, Some(&body));
        (reply.status == 200).then(|| reply.json()["value"][ELEMENT].as_str().unwrap().to_owned())
    }

    /// Waits for the element matching `css`.
    fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(element) = self.try_find(css) {
                return element;
            }
            assert!(Instant::now() < deadline, "no element matches {css}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn count(&self, css: &str) -> usize {
        self.command(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .unwrap()
        .len()
    }

    fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.command("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        );
    }

    /// Waits until the text of `css` satisfies `check`; returns it.
    fn wait_text(&self, css: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.text(css);
            if check(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; {css} shows {text:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&self, path: &Path) {
        let png = self.command("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(path, bytes).unwrap();
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let url = format!("/session/{}", self.id);
        let _ = self.driver.http.try_request("DELETE", &url, None, None);
    }
}

#[test]
fn the_admin_page_toggles_a_plugin_and_saves_a_configuration() {
    let chromium = tool("NDP_CHROMIUM", "/usr/bin/chromium", "chromium");
    let chromedriver = tool(
        "NDP_CHROMEDRIVER",
        "/usr/bin/chromedriver",
        "chromium-driver",
    );

    let s = serve(|p| {
        p.put("agent", "agent")
            .pack("configured", "agent", &configured_manifest())
            .put("partial", "partialagent")
            .put("scrobbler", "scrobbler");
    });
    s.enable("agent");
    s.enable("configured");
    s.http.ok(
        "/api/v1/artist/biography?plugin=agent",
        json!({"name": "Nina"}),
    );

    let driver = Driver::start(&chromedriver);
    let session = Session::new(&driver, &chromium);
    session.open(&s.server.admin_url());

    // The list: one card per plugin, logged in from the fragment.
    session.find("body[data-ready=true]");
    session.find("section.plugin[data-plugin=scrobbler]");
    assert_eq!(
        session.count("section.plugin"),
        s.manager.list().unwrap().len()
    );
    assert_eq!(session.text("#name-configured"), "Configured agent");
    assert_eq!(session.text("#state-agent"), "loaded");
    assert!(
        session
            .text("#capabilities-agent")
            .contains("MetadataAgent")
    );
    assert!(
        session
            .text("#permissions-scrobbler")
            .contains("users: scrobblers receive events for the users assigned to them")
    );
    assert!(
        session
            .text("#calls-summary-agent")
            .starts_with("2 calls, 0 failed"),
        "{}",
        session.text("#calls-summary-agent")
    );
    assert_eq!(
        session.text("#calls-agent tr[data-export=nd_get_artist_biography] td:nth-child(2)"),
        "1"
    );
    assert_eq!(session.text("#state-partial"), "disabled");
    assert!(
        session.try_find("#login:not([hidden])").is_none(),
        "logged in"
    );

    // The toggle of a disabled plugin enables it in the manager.
    session.click("#enabled-partial");
    common::eventually("the manager enables 'partial'", || {
        s.manager.status("partial").unwrap().enabled && s.manager.plugin("partial").is_some()
    });
    session.wait_text("#state-partial", "the page shows it loaded", |t| {
        t == "loaded"
    });

    // A scrobbler without a users scope: the manager refuses, the page says why.
    session.click("#enabled-scrobbler");
    let error = session.wait_text("#action-error-scrobbler", "the scope error", |t| {
        !t.is_empty()
    });
    assert!(error.contains("users permission"), "{error}");
    assert!(!s.manager.status("scrobbler").unwrap().enabled);

    // The generated form follows the uiSchema: its controls first, in order, with their
    // labels; then the other properties (in key order: the manager keeps manifests as JSON
    // with sorted keys).
    let labels: Vec<String> = ["greeting", "retries", "mode", "error", "tags", "verbose"]
        .iter()
        .map(|key| session.text(&format!("label[for=cfg-configured-{key}]")))
        .collect();
    assert_eq!(
        labels,
        [
            "Greeting text",
            "retries",
            "Speed",
            "error",
            "tags",
            "verbose"
        ]
    );
    let order = session.command(
        "POST",
        "/execute/sync",
        Some(json!({
            "script": "return Array.from(document.querySelectorAll('#config-configured [data-field]')).map(e => e.dataset.field)",
            "args": []
        })),
    );
    assert_eq!(
        order,
        json!(["greeting", "retries", "mode", "error", "tags", "verbose"])
    );

    // Save a valid configuration.
    session.type_into("#cfg-configured-greeting", "hello");
    session.type_into("#cfg-configured-retries", "3");
    session.type_into("#cfg-configured-tags", "jazz\nblues");
    session.click("#cfg-configured-verbose");
    session.click("#save-config-configured");
    common::eventually("the manager stores the configuration", || {
        s.manager.config("configured").unwrap().is_some()
    });
    let saved = s.manager.config("configured").unwrap().unwrap();
    assert_eq!(
        saved,
        json!({"greeting": "hello", "retries": 3, "verbose": true, "tags": ["jazz", "blues"]})
    );
    session.wait_text("#config-status-configured", "the saved message", |t| {
        t == "Configuration saved."
    });

    // A value the schema refuses: the server's message shows and nothing changes.
    session.type_into("#cfg-configured-retries", "42");
    session.click("#save-config-configured");
    let error = session.wait_text("#config-error-configured", "the validation error", |t| {
        !t.is_empty()
    });
    assert!(
        error.contains("invalid configuration") && error.contains("retries"),
        "{error}"
    );
    assert_eq!(s.manager.config("configured").unwrap(), Some(saved));
    let invalid = session.command(
        "POST",
        "/execute/sync",
        Some(json!({
            "script": "return document.getElementById('cfg-configured-retries').getAttribute('aria-invalid')",
            "args": []
        })),
    );
    assert_eq!(invalid, json!("true"));

    session.command(
        "POST",
        "/execute/sync",
        Some(json!({"script": "window.scrollTo(0, 0)", "args": []})),
    );
    let shot = nd_testkit::workspace_root().join("target/nd-server-admin.png");
    session.screenshot(&shot);
}
