//! Shared helpers: the fixture helpers of nd-testkit (one runtime per test binary, fixtures
//! compiled once), plus what only nd-runtime's own tests need: the `kernel` fixture per target,
//! an `err` that also checks the error names the plugin and export, and guest log capture.

use std::sync::{Mutex, OnceLock};

use nd_runtime::{CallErrorKind, Plugin, PluginConfig};
pub use nd_testkit::{
    TARGETS, UNKNOWN, WASI, compiled, fixture_wasm, load_target as load, ok, ok_str, runtime,
    wat_fixture, workspace_root,
};

/// The `kernel` fixture built for `target`.
pub fn kernel(target: &str) -> Plugin {
    load("kernel", target, PluginConfig::new("kernel"))
}

/// Calls `export` expecting a failure that names `plugin` and `export`, and returns its kind.
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
