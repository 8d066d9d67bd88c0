//! Shared by the integration tests and the browser test: a real manager over a temporary
//! data directory with fixture packages and the nd-library demo catalog, a real server on
//! 127.0.0.1, and a small HTTP client.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nd_library::MusicLibrary;
use nd_library::demo::write_demo_library;
use nd_manager::{AppData, Manager};
use nd_server::{Server, ServerConfig};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const TOKEN: &str = "test-token-7f3a";

/// A manager and a server over a temporary directory.
pub struct Served {
    pub dir: TempDir,
    pub manager: Manager,
    pub server: Server,
    pub http: Http,
}

/// Plugins folder contents, written before the manager starts.
pub struct Plugins {
    dir: PathBuf,
}

impl Plugins {
    /// Copies the packaged fixture `fixture` as `<id>.ndp`.
    pub fn put(&self, id: &str, fixture: &str) -> &Self {
        std::fs::write(
            self.dir.join(format!("{id}.ndp")),
            nd_testkit::fixture_ndp(fixture),
        )
        .unwrap();
        self
    }

    /// Writes `<id>.ndp` holding the wasm of `fixture` with this manifest.
    pub fn pack(&self, id: &str, fixture: &str, manifest: &Value) -> &Self {
        let wasm = nd_testkit::fixture_wasm(fixture, nd_testkit::WASI);
        let bytes = nd_manifest::pack(manifest.to_string().as_bytes(), &wasm).unwrap();
        std::fs::write(self.dir.join(format!("{id}.ndp")), bytes).unwrap();
        self
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// Fills the plugins folder with `setup`, starts a manager over the demo library (users
/// admin `u-admin`, alice `u-alice`, bob `u-bob`), then a server on 127.0.0.1:0.
pub fn serve(setup: impl FnOnce(&Plugins)) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let plugins = Plugins {
        dir: dir.path().join("plugins"),
    };
    std::fs::create_dir_all(plugins.path()).unwrap();
    setup(&plugins);
    let demo = write_demo_library(&dir.path().join("music")).unwrap();
    let library = Arc::new(MusicLibrary::open(demo.config()).unwrap());
    let manager = Manager::builder(dir.path().join("data"))
        .plugins_dir(plugins.path())
        .runtime(nd_testkit::runtime().clone())
        .app_data(AppData::from_all(library))
        .unload_grace(Duration::from_secs(10))
        .build()
        .unwrap();
    manager.start().unwrap();
    let server = Server::start(
        manager.clone(),
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            token: TOKEN.to_owned(),
        },
    )
    .unwrap();
    let http = Http::new(&server.url(), TOKEN);
    Served {
        dir,
        manager,
        server,
        http,
    }
}

impl Served {
    /// Sets an all-users scope and enables `id` through the manager.
    pub fn enable(&self, id: &str) {
        self.manager
            .set_scope(id, nd_host_appdata::provider::Scope::everything())
            .unwrap();
        self.manager.enable(id).unwrap();
    }
}

/// A manifest for a packed fixture, with a configuration schema and UI schema.
pub fn configured_manifest() -> Value {
    json!({
        "name": "Configured agent",
        "author": "ndp tests",
        "version": "1.2.3",
        "description": "the agent fixture with a configuration schema",
        "config": {
            "schema": {
                "type": "object",
                "properties": {
                    "error": {"type": "string", "description": "makes every call fail"},
                    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                    "greeting": {"type": "string", "maxLength": 20},
                    "verbose": {"type": "boolean"},
                    "mode": {"type": "string", "enum": ["fast", "slow"]},
                    "tags": {"type": "array", "items": {"type": "string"}}
                },
                "additionalProperties": false
            },
            "uiSchema": {
                "type": "VerticalLayout",
                "elements": [
                    {"type": "Control", "scope": "#/properties/greeting", "label": "Greeting text"},
                    {"type": "Control", "scope": "#/properties/retries"},
                    {"type": "Group", "label": "More", "elements": [
                        {"type": "Control", "scope": "#/properties/mode", "label": "Speed"}
                    ]}
                ]
            }
        }
    })
}

/// A status and a body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }
}

/// A blocking HTTP client of one server.
pub struct Http {
    agent: ureq::Agent,
    pub base: String,
    token: String,
}

impl Http {
    pub fn new(base: &str, token: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .new_agent();
        Http {
            agent,
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    /// A request with an explicit `Authorization` header (or none); panics when the
    /// connection fails.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        self.try_request(method, path, authorization, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A request; `Err` when no answer came (connection refused, say).
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: Option<&str>,
    ) -> Result<Reply, String> {
        let url = format!("{}{path}", self.base);
        let builder = ureq::http::Request::builder().method(method).uri(&url);
        let builder = match authorization {
            Some(value) => builder.header("Authorization", value),
            None => builder,
        };
        let result = match body {
            Some(body) => {
                let request = builder
                    .header("Content-Type", "application/json")
                    .body(body.to_owned())
                    .map_err(|e| e.to_string())?;
                self.agent.run(request)
            }
            None => self.agent.run(builder.body(()).map_err(|e| e.to_string())?),
        };
        let mut response = result.map_err(|e| format!("{method} {url}: {e}"))?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok(Reply {
            status: response.status().as_u16(),
            content_type,
            text: response
                .body_mut()
                .read_to_string()
                .map_err(|e| format!("{method} {url}: reading the body: {e}"))?,
        })
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, Some(&self.bearer()), None)
    }

    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.request("POST", path, Some(&self.bearer()), Some(&body.to_string()))
    }

    pub fn post_empty(&self, path: &str) -> Reply {
        self.request("POST", path, Some(&self.bearer()), None)
    }

    pub fn put(&self, path: &str, body: Value) -> Reply {
        self.request("PUT", path, Some(&self.bearer()), Some(&body.to_string()))
    }

    /// POSTs and expects `200`; returns the JSON answer.
    pub fn ok(&self, path: &str, body: Value) -> Value {
        let reply = self.post(path, body);
        assert_eq!(reply.status, 200, "POST {path}: {}", reply.text);
        reply.json()
    }
}

/// Waits until `check` holds, polling, and fails after 30 s.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
