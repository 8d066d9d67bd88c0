//! Integration tests of the capability adapters, against the real fixture plugins built by
//! `cargo xtask build-plugins` (`fixtures/plugins/{agent,partialagent,scrobbler,lyrics,sonic}`,
//! and the existing `taskqueue`, `scheduler` and `websocket` fixtures for the callbacks).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod callbacks;
mod detection;
mod lyrics;
mod metadata;
mod scrobbler;
mod sonic;

use std::sync::Arc;
use std::time::{Duration, Instant};

use nd_capabilities::ExportCaller;
use nd_runtime::{CallError, HostImports, HostService, Plugin, PluginConfig, RegisterError};
use parking_lot::{Condvar, Mutex};
use serde_json::{Value, json};

/// Loads fixture `name` (wasip1 build) with the plugin config `config`.
pub fn load(name: &str, config: &[(&str, &str)]) -> Plugin {
    load_with(name, config, |_| {})
}

/// Loads fixture `name` with `config`, after `adjust` has changed the plugin config.
pub fn load_with(
    name: &str,
    config: &[(&str, &str)],
    adjust: impl FnOnce(&mut PluginConfig),
) -> Plugin {
    let mut plugin_config = PluginConfig::new(name);
    for (key, value) in config {
        plugin_config
            .config
            .insert((*key).to_owned(), (*value).to_owned());
    }
    adjust(&mut plugin_config);
    nd_testkit::load(name, plugin_config)
}

/// One call seen by a [`Recording`] caller.
#[derive(Debug, Clone)]
pub struct Call {
    /// The export called.
    pub export: String,
    /// The request, parsed.
    pub input: Value,
    /// The output text on success, `None` on failure.
    pub output: Option<String>,
}

/// An [`ExportCaller`] that forwards to a plugin and records every call, the way an
/// application's wrapper (metrics) sits between the adapters and the plugin.
#[derive(Debug)]
pub struct Recording {
    plugin: Plugin,
    calls: Mutex<Vec<Call>>,
}

impl Recording {
    /// Wraps `plugin`.
    pub fn new(plugin: Plugin) -> Arc<Self> {
        Arc::new(Self {
            plugin,
            calls: Mutex::new(Vec::new()),
        })
    }

    /// The calls so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().clone()
    }

    /// The only call so far; panics if there were none or several.
    pub fn only_call(&self) -> Call {
        let calls = self.calls();
        assert_eq!(calls.len(), 1, "{calls:#?}");
        calls.into_iter().next().unwrap()
    }
}

impl ExportCaller for Recording {
    fn plugin_id(&self) -> &str {
        self.plugin.id()
    }

    fn has_export(&self, name: &str) -> bool {
        self.plugin.has_export(name)
    }

    fn call(&self, export: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        let result = self.plugin.call(export, input);
        self.calls.lock().push(Call {
            export: export.to_owned(),
            input: serde_json::from_slice(input).expect("adapters send JSON"),
            output: result
                .as_ref()
                .ok()
                .map(|out| String::from_utf8_lossy(out).into_owned()),
        });
        result
    }
}

/// Wraps `plugin` in a [`Recording`] and returns both handles.
pub fn recording(plugin: Plugin) -> (Arc<Recording>, Arc<dyn ExportCaller>) {
    let recording = Recording::new(plugin);
    let caller: Arc<dyn ExportCaller> = recording.clone();
    (recording, caller)
}

/// Provides the host functions the callback fixtures import, so they load without the real
/// services: `test_record` keeps every event it is sent; every function in `stubs` answers
/// `{}`.
#[derive(Debug)]
pub struct Stubs {
    stubs: &'static [&'static str],
    events: Arc<Mutex<Vec<Value>>>,
}

impl Stubs {
    /// A service stubbing `stubs`, plus `test_record`; returns it and the recorded events.
    pub fn new(stubs: &'static [&'static str]) -> (Arc<Self>, Arc<Mutex<Vec<Value>>>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let service = Arc::new(Self {
            stubs,
            events: Arc::clone(&events),
        });
        (service, events)
    }
}

impl HostService for Stubs {
    fn name(&self) -> &'static str {
        "test-stubs"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let events = Arc::clone(&self.events);
        imports.json("test_record", move |_ctx, event| {
            events.lock().push(event);
            Ok(json!({}))
        });
        for name in self.stubs {
            imports.json(name, |_ctx, _request| Ok(json!({})));
        }
        Ok(())
    }
}

/// Holds every call until the test opens the gate, and counts the calls.
#[derive(Debug)]
pub struct Gated {
    plugin: Plugin,
    open: Mutex<bool>,
    opened: Condvar,
    calls: Mutex<usize>,
}

impl Gated {
    /// Wraps `plugin`, gate closed.
    pub fn new(plugin: Plugin) -> Arc<Self> {
        Arc::new(Self {
            plugin,
            open: Mutex::new(false),
            opened: Condvar::new(),
            calls: Mutex::new(0),
        })
    }

    /// Lets held and future calls through.
    pub fn open(&self) {
        *self.open.lock() = true;
        self.opened.notify_all();
    }

    /// How many calls reached this caller.
    pub fn calls(&self) -> usize {
        *self.calls.lock()
    }
}

impl ExportCaller for Gated {
    fn plugin_id(&self) -> &str {
        self.plugin.id()
    }
    fn has_export(&self, name: &str) -> bool {
        self.plugin.has_export(name)
    }
    fn call(&self, export: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        *self.calls.lock() += 1;
        let mut open = self.open.lock();
        while !*open {
            self.opened.wait(&mut open);
        }
        drop(open);
        self.plugin.call(export, input)
    }
}

/// Waits (up to 20 s, polling; never an assertion on time) until `condition` holds.
pub fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The host functions of the `taskqueue`, `scheduler` and `websocket` fixtures.
pub const CALLBACK_FIXTURE_IMPORTS: &[&str] = &[
    "task_createqueue",
    "task_enqueue",
    "task_get",
    "task_cancel",
    "task_clearqueue",
    "scheduler_scheduleonetime",
    "scheduler_schedulerecurring",
    "scheduler_cancelschedule",
    "websocket_connect",
    "websocket_sendtext",
    "websocket_sendbinary",
    "websocket_closeconnection",
];

/// Loads a callback fixture (`taskqueue`, `scheduler`, `websocket`) with its imports stubbed;
/// returns the plugin and the events it records through `test_record`.
pub fn load_stubbed(name: &str) -> (Plugin, Arc<Mutex<Vec<Value>>>) {
    let (service, events) = Stubs::new(CALLBACK_FIXTURE_IMPORTS);
    let plugin = load_with(name, &[], |config| config.services.push(service));
    (plugin, events)
}

/// [`load_stubbed`] without the events.
pub fn callbacks_stubbed(name: &str) -> Plugin {
    load_stubbed(name).0
}
