//! A stand-in for the host, for native unit tests of a plugin (only in non-wasm builds).
//!
//! In a native build every host function goes to a handler the test installs with
//! [`set_host`], the Extism configuration comes from [`set_config`], log lines are kept for
//! [`logs`], and [`call_export`] runs an export the registration macros generated, the way
//! the host would: input in, return code, output and error message out. The state is
//! per thread (tests run in parallel), so a test sets up what it needs and nothing leaks
//! between tests; [`reset`] starts over within one test.
//!
//! ```
//! use nd_pdk::capability::MetadataAgent;
//! use nd_pdk::types::ArtistRequest;
//! use serde_json::json;
//!
//! #[derive(Default)]
//! struct Greeter;
//! impl MetadataAgent for Greeter {
//!     fn artist_biography(&self, req: ArtistRequest) -> nd_pdk::Result<Option<String>> {
//!         let greeting = nd_pdk::host::config::get("greeting")?.unwrap_or("Hi".into());
//!         nd_pdk::host::cache::set_string("last", &req.name, 0)?;
//!         Ok(Some(format!("{greeting}, {}", req.name)))
//!     }
//! }
//! nd_pdk::register_metadata_agent!(Greeter, [artist_biography]);
//!
//! nd_pdk::testing::set_config([("greeting", "Hello")]);
//! nd_pdk::testing::set_host(|function, _request| match function {
//!     "cache_setstring" => json!({}),
//!     other => json!({ "error": format!("{other} is not mocked") }),
//! });
//! let outcome = nd_pdk::testing::call_export(nd_get_artist_biography, r#"{"id":"1","name":"Björk"}"#);
//! assert_eq!(outcome.rc, 0);
//! assert_eq!(outcome.json(), json!({ "biography": "Hello, Björk" }));
//! let calls = nd_pdk::testing::host_calls();
//! assert_eq!(calls[0].function, "config_get");
//! assert_eq!(calls[1].request, json!({ "key": "last", "value": "Björk", "ttlSeconds": 0 }));
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::log::Level;

type Handler = Box<dyn FnMut(&str, Value) -> Value>;

#[derive(Default)]
struct State {
    handler: Option<Handler>,
    config: BTreeMap<String, String>,
    calls: Vec<HostCall>,
    input: Vec<u8>,
    output: Vec<u8>,
    error: Option<String>,
    logs: Vec<(Level, String)>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|state| f(&mut state.borrow_mut()))
}

/// One host-function call a plugin made.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCall {
    /// The host function, e.g. `kvstore_set`.
    pub function: String,
    /// The request JSON exactly as the plugin sent it (`Value::Null` if it was not JSON).
    pub request: Value,
}

/// Installs the handler answering this thread's host-function calls: it gets the function
/// name and the request JSON and returns the response JSON (`{"error": "..."}` to fail).
/// The `config_*` functions are answered from [`set_config`] instead, as a real host
/// answers them from the plugin's configuration.
pub fn set_host(handler: impl FnMut(&str, Value) -> Value + 'static) {
    with(|s| s.handler = Some(Box::new(handler)));
}

/// Sets this thread's plugin configuration (what `config_get` and Extism's own config
/// lookup return), replacing the previous one.
pub fn set_config<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) {
    let config = pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    with(|s| s.config = config);
}

/// Forgets this thread's handler, configuration, recorded calls and logs.
pub fn reset() {
    with(|s| *s = State::default());
}

/// The host-function calls made on this thread since the last call of `host_calls` (or
/// [`reset`]), oldest first.
pub fn host_calls() -> Vec<HostCall> {
    with(|s| std::mem::take(&mut s.calls))
}

/// The log lines written on this thread since the last call of `logs`, oldest first.
pub fn logs() -> Vec<(Level, String)> {
    with(|s| std::mem::take(&mut s.logs))
}

/// What an export call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOutcome {
    /// The return code: `0` success, `-1` failure (see `error`), `-2` not implemented.
    pub rc: i32,
    /// The output bytes (empty when the export set none).
    pub output: Vec<u8>,
    /// The message set with `error_set`, if any.
    pub error: Option<String>,
}

impl ExportOutcome {
    /// The output parsed as JSON; `Value::Null` for empty output.
    ///
    /// # Panics
    ///
    /// If the output is not JSON (this is for tests).
    pub fn json(&self) -> Value {
        if self.output.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.output).unwrap_or_else(|e| {
            panic!(
                "export output is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.output)
            )
        })
    }
}

/// Calls an export generated by a registration macro (`nd_get_artist_biography`, ...) with
/// `input`, as the host would.
pub fn call_export(export: extern "C" fn() -> i32, input: impl AsRef<[u8]>) -> ExportOutcome {
    with(|s| {
        s.input = input.as_ref().to_vec();
        s.output.clear();
        s.error = None;
    });
    let rc = export();
    with(|s| ExportOutcome {
        rc,
        output: std::mem::take(&mut s.output),
        error: s.error.take(),
    })
}

/// Answers one host-function call (the native side of every `host` wrapper).
pub(crate) fn dispatch(function: &'static str, request: &[u8]) -> Result<Vec<u8>> {
    let parsed: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
    with(|s| {
        s.calls.push(HostCall {
            function: function.to_owned(),
            request: parsed.clone(),
        })
    });
    let response = if function.starts_with("config_") {
        config_answer(function, &parsed)
    } else {
        // Take the handler out while it runs, so that it may itself use this module.
        let handler = with(|s| s.handler.take());
        let Some(mut handler) = handler else {
            return Err(Error::call(
                function,
                "no host in a native build: install one with nd_pdk::testing::set_host",
            ));
        };
        let response = handler(function, parsed);
        with(|s| {
            if s.handler.is_none() {
                s.handler = Some(handler);
            }
        });
        response
    };
    serde_json::to_vec(&response).map_err(|e| Error::call(function, e))
}

/// What a real host answers to the `config_*` functions from the configuration map.
fn config_answer(function: &str, request: &Value) -> Value {
    let text = |name: &str| request.get(name).and_then(Value::as_str).unwrap_or("");
    with(|s| match function {
        "config_get" => match s.config.get(text("key")) {
            Some(value) if value.is_empty() => json!({ "exists": true }),
            Some(value) => json!({ "value": value, "exists": true }),
            None => json!({}),
        },
        "config_getint" => match s.config.get(text("key")).map(|v| v.parse::<i64>()) {
            Some(Ok(0)) => json!({ "exists": true }),
            Some(Ok(value)) => json!({ "value": value, "exists": true }),
            _ => json!({}),
        },
        "config_keys" => {
            let keys: Vec<&String> = s
                .config
                .keys()
                .filter(|k| k.starts_with(text("prefix")))
                .collect();
            if keys.is_empty() {
                json!({})
            } else {
                json!({ "keys": keys })
            }
        }
        other => json!({ "error": format!("{other} is not a config function") }),
    })
}

pub(crate) fn extism_config(key: &str) -> Result<Option<String>> {
    // Extism's lookup answers "absent" for an empty value too.
    Ok(with(|s| {
        s.config.get(key).filter(|v| !v.is_empty()).cloned()
    }))
}

pub(crate) fn take_input() -> Vec<u8> {
    with(|s| std::mem::take(&mut s.input))
}

pub(crate) fn store_output(bytes: &[u8]) {
    with(|s| s.output = bytes.to_vec());
}

pub(crate) fn store_error(message: &str) {
    with(|s| s.error = Some(message.to_owned()));
}

pub(crate) fn store_log(level: Level, message: &str) {
    with(|s| s.logs.push((level, message.to_owned())));
}
