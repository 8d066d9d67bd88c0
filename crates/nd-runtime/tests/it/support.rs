//! Shared helpers: fixture loading (built by `cargo xtask build-plugins`), one shared runtime,
//! and shorthands for loading and calling.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use nd_runtime::{CallErrorKind, Compiled, Plugin, PluginConfig, Runtime, RuntimeConfig};

pub const WASI: &str = "wasm32-wasip1";
pub const UNKNOWN: &str = "wasm32-unknown-unknown";
pub const TARGETS: [&str; 2] = [WASI, UNKNOWN];

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Bytes of a fixture module. Panics (failing the test) when fixtures were not built.
pub fn fixture_wasm(name: &str, target: &str) -> Vec<u8> {
    let path = workspace_root()
        .join("target/fixtures")
        .join(target)
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "fixture {} missing ({e}); run `cargo xtask build-plugins`",
            path.display()
        )
    })
}

/// Bytes of a hand-written WAT fixture, compiled by xtask.
pub fn wat_fixture(name: &str) -> Vec<u8> {
    let path = workspace_root()
        .join("target/fixtures/wat")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "fixture {} missing ({e}); run `cargo xtask build-plugins`",
            path.display()
        )
    })
}

/// One runtime shared by the tests of this binary (no disk cache: tests of the cache make their own).
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new(RuntimeConfig::default()).expect("runtime"))
}

/// Compiles each fixture once per test binary.
pub fn compiled(name: &str, target: &str) -> Compiled {
    static CACHE: OnceLock<Mutex<HashMap<(String, String), Compiled>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (name.to_owned(), target.to_owned());
    if let Some(c) = cache.lock().unwrap().get(&key) {
        return c.clone();
    }
    let c = runtime()
        .compile(name, &fixture_wasm(name, target))
        .expect("compile fixture");
    cache.lock().unwrap().insert(key, c.clone());
    c
}

pub fn load(name: &str, target: &str, config: PluginConfig) -> Plugin {
    runtime()
        .load(&compiled(name, target), config)
        .expect("load fixture")
}

pub fn kernel(target: &str) -> Plugin {
    load("kernel", target, PluginConfig::new("kernel"))
}

pub fn ok(plugin: &Plugin, export: &str, input: &[u8]) -> Vec<u8> {
    plugin
        .call(export, input)
        .unwrap_or_else(|e| panic!("{export} failed: {e}"))
}

pub fn ok_str(plugin: &Plugin, export: &str, input: &str) -> String {
    String::from_utf8(ok(plugin, export, input.as_bytes())).expect("utf-8 output")
}

pub fn err(plugin: &Plugin, export: &str, input: &[u8]) -> CallErrorKind {
    match plugin.call(export, input) {
        Ok(out) => panic!(
            "{export} succeeded with {:?}",
            String::from_utf8_lossy(&out)
        ),
        Err(e) => {
            assert_eq!(e.plugin(), plugin.id());
            assert_eq!(e.export(), export);
            e.into_kind()
        }
    }
}

/// A guest log line captured from `tracing` (target `nd::plugin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub level: String,
    pub plugin: String,
    pub stream: Option<String>,
    pub message: String,
}

static CAPTURED: Mutex<Vec<Captured>> = Mutex::new(Vec::new());

struct CaptureLayer;

#[derive(Default)]
struct Fields {
    plugin: String,
    stream: Option<String>,
    message: String,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "plugin" => self.plugin = value.to_owned(),
            "stream" => self.stream = Some(value.to_owned()),
            "message" => self.message = value.to_owned(),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CaptureLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "nd::plugin" {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        CAPTURED.lock().unwrap().push(Captured {
            level: event.metadata().level().to_string(),
            plugin: fields.plugin,
            stream: fields.stream,
            message: fields.message,
        });
    }
}

/// Installs the capturing subscriber (once) and returns the lines logged for `plugin` so far.
pub fn captured(plugin: &str) -> Vec<Captured> {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber = tracing_subscriber::registry().with(CaptureLayer);
        tracing::subscriber::set_global_default(subscriber).expect("set subscriber");
    });
    CAPTURED
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.plugin == plugin)
        .cloned()
        .collect()
}
