//! Host functions a plugin imports from `extism:host/user` (or any other namespace that is not
//! `extism:host/env` or WASI): the [`HostService`] trait that groups them, the [`HostImports`]
//! registry services fill in, and the [`HostCtx`] a function gets while it runs.
//!
//! Three shapes of function are supported:
//! - [`HostImports::json`]: Navidrome's convention, wasm type `(i64) -> i64`, request and
//!   response are JSON blocks, failures travel as `{"error": "..."}` (navidrome-plugin-abi.md §2.4);
//! - [`HostImports::bytes`]: the Extism `#[host_fn]` convention, one block in, one block out;
//! - [`HostImports::raw`]: any signature of `i32`, `i64`, `f32` and `f64`.
//!
//! A function either answers or fails with [`HostError`]: `Guest` errors go back to the plugin
//! (as `{"error":…}` for JSON functions), `Trap` errors abort the whole call, which the caller
//! sees as [`crate::CallErrorKind::HostFunction`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::Plugin;
use crate::error::CallError;
use crate::instance::{CallEnv, Env};

/// A group of host functions, registered for a plugin when its permissions grant it.
///
/// Implementations are per plugin or shared, as the service sees fit: `register` is called once
/// per plugin load and can read [`HostImports::plugin_id`].
pub trait HostService: Send + Sync + 'static {
    /// Short name, e.g. `"cache"`; used in messages and to reject duplicates.
    fn name(&self) -> &'static str;
    /// Adds this service's functions for one plugin.
    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError>;
    /// Called once the plugin is instantiated, before it serves any call: the place to check
    /// that a callback export exists (a scheduler without `nd_scheduler_callback` must fail to
    /// load) and to keep a [`crate::WeakPlugin`] for callbacks from host threads. An error fails
    /// the load, and every service of the plugin is shut down.
    fn on_load(&self, plugin: &Plugin) -> Result<(), RegisterError> {
        let _ = plugin;
        Ok(())
    }
    /// Called when the plugin is unloaded: by [`Plugin::shutdown`], or when the last handle
    /// to a plugin that was never shut down is dropped. It may run on a thread of the service
    /// itself (a callback that held the last handle), so it must not join that thread.
    fn shutdown(&self) {}
}

/// A service could not register (e.g. its storage could not be opened).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct RegisterError(pub String);

impl RegisterError {
    /// The check of a service that serves exactly one plugin, for its `register`: `bound` is
    /// the id it serves (empty before the first registration) and becomes `plugin_id`;
    /// registering after a shutdown, or for another plugin, is refused.
    pub fn claim(
        service: &str,
        bound: &mut String,
        shut_down: bool,
        plugin_id: &str,
    ) -> Result<(), RegisterError> {
        if shut_down {
            return Err(RegisterError(format!(
                "this {service} service was shut down; create one per plugin load"
            )));
        }
        if !bound.is_empty() && bound != plugin_id {
            return Err(RegisterError(format!(
                "this {service} service already serves plugin {bound}; create one per plugin"
            )));
        }
        plugin_id.clone_into(bound);
        Ok(())
    }
}

/// Why a host function failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// Reported to the guest (for JSON functions as `{"error": message}`); the call goes on.
    Guest(String),
    /// Aborts the whole call.
    Trap(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Guest(m) | Self::Trap(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for HostError {}

/// A wasm value type of a raw host function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
        })
    }
}

/// A wasm value passed to or returned from a raw host function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
}

impl Val {
    /// The type of this value.
    pub fn ty(&self) -> ValType {
        match self {
            Self::I32(_) => ValType::I32,
            Self::I64(_) => ValType::I64,
            Self::F32(_) => ValType::F32,
            Self::F64(_) => ValType::F64,
        }
    }
}

/// Parameter and result types of a host function.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Signature {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

impl Signature {
    /// `(params) -> (results)`.
    pub fn new(params: impl Into<Vec<ValType>>, results: impl Into<Vec<ValType>>) -> Self {
        Self {
            params: params.into(),
            results: results.into(),
        }
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.results.as_slice() {
            [one] => write!(f, "({}) -> {one}", list(&self.params)),
            many => write!(f, "({}) -> ({})", list(&self.params), list(many)),
        }
    }
}

pub(crate) type BytesFn =
    dyn Fn(&mut HostCtx<'_>, Vec<u8>) -> Result<Vec<u8>, HostError> + Send + Sync;
pub(crate) type RawFn =
    dyn Fn(&mut HostCtx<'_>, &[Val]) -> Result<Vec<Val>, HostError> + Send + Sync;

pub(crate) enum HostFnKind {
    Bytes(Arc<BytesFn>),
    Raw(Signature, Arc<RawFn>),
}

impl HostFnKind {
    pub(crate) fn signature(&self) -> Signature {
        match self {
            Self::Bytes(_) => Signature::new([ValType::I64], [ValType::I64]),
            Self::Raw(sig, _) => sig.clone(),
        }
    }
}

pub(crate) struct HostFnDef {
    pub(crate) service: &'static str,
    pub(crate) kind: HostFnKind,
}

/// The default namespace of Extism user host functions, where Navidrome's services live.
pub const USER_NAMESPACE: &str = "extism:host/user";

/// The functions registered for one plugin, keyed by `(namespace, name)`.
pub struct HostImports {
    plugin_id: String,
    current_service: &'static str,
    pub(crate) defs: BTreeMap<(String, String), HostFnDef>,
    duplicate: Option<String>,
}

impl fmt::Debug for HostImports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostImports")
            .field("plugin_id", &self.plugin_id)
            .field("functions", &self.defs.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl HostImports {
    pub(crate) fn new(plugin_id: &str) -> Self {
        Self {
            plugin_id: plugin_id.to_owned(),
            current_service: "",
            defs: BTreeMap::new(),
            duplicate: None,
        }
    }

    pub(crate) fn begin_service(&mut self, name: &'static str) {
        self.current_service = name;
    }

    pub(crate) fn take_duplicate(&mut self) -> Option<String> {
        self.duplicate.take()
    }

    /// The id of the plugin being loaded.
    pub fn plugin_id(&self) -> &str {
        &self.plugin_id
    }

    fn insert(&mut self, namespace: &str, name: &str, kind: HostFnKind) {
        let key = (namespace.to_owned(), name.to_owned());
        if self.defs.contains_key(&key) && self.duplicate.is_none() {
            self.duplicate = Some(format!("{namespace}::{name} is registered twice"));
        }
        self.defs.insert(
            key,
            HostFnDef {
                service: self.current_service,
                kind,
            },
        );
    }

    /// Registers a Navidrome-style JSON function `(i64) -> i64` in `extism:host/user`.
    ///
    /// The request block is parsed as JSON (an unparsable request is answered with
    /// `{"error": "invalid request: ..."}` without calling `f`). `Ok(value)` is written back
    /// as it is; `Err(HostError::Guest(msg))` becomes `{"error": msg}` (never an empty
    /// message); `Err(HostError::Trap(msg))` aborts the call. Use [`json_response`] to drop
    /// zero-valued fields the way Go's `omitempty` does.
    pub fn json<F>(&mut self, name: &str, f: F)
    where
        F: Fn(&mut HostCtx<'_>, serde_json::Value) -> Result<serde_json::Value, HostError>
            + Send
            + Sync
            + 'static,
    {
        self.bytes(USER_NAMESPACE, name, move |ctx, request| {
            let request = if request.is_empty() {
                Ok(serde_json::Value::Object(Default::default()))
            } else {
                serde_json::from_slice::<serde_json::Value>(&request)
                    .map_err(|err| format!("invalid request: {err}"))
            };
            let response = match request {
                Err(message) => error_json(message),
                Ok(request) => match f(ctx, request) {
                    Ok(value) => value,
                    Err(HostError::Guest(message)) => error_json(message),
                    Err(trap @ HostError::Trap(_)) => return Err(trap),
                },
            };
            serde_json::to_vec(&response).map_err(|e| HostError::Trap(e.to_string()))
        });
    }

    /// Registers an Extism `#[host_fn]`-style function `(i64) -> i64`: the argument block's
    /// bytes in, the result bytes out (empty result = handle 0). Any error aborts the call.
    pub fn bytes<F>(&mut self, namespace: &str, name: &str, f: F)
    where
        F: Fn(&mut HostCtx<'_>, Vec<u8>) -> Result<Vec<u8>, HostError> + Send + Sync + 'static,
    {
        self.insert(namespace, name, HostFnKind::Bytes(Arc::new(f)));
    }

    /// Registers a function with any signature. The plugin's import must match it exactly.
    pub fn raw<F>(&mut self, namespace: &str, name: &str, signature: Signature, f: F)
    where
        F: Fn(&mut HostCtx<'_>, &[Val]) -> Result<Vec<Val>, HostError> + Send + Sync + 'static,
    {
        self.insert(namespace, name, HostFnKind::Raw(signature, Arc::new(f)));
    }
}

/// `{"error": message}`, never with an empty message: Rust PDK wrappers treat any `error`
/// field as a failure, so an empty one would be a failure without a cause (spec §2.4).
fn error_json(message: String) -> serde_json::Value {
    let message = if message.is_empty() {
        "unknown error".to_owned()
    } else {
        message
    };
    serde_json::json!({ "error": message })
}

/// Encodes a JSON-function response following Go's `encoding/json` with `omitempty` on every
/// field: members of a top-level object whose value is `false`, `0`, `""`, `null`, `[]` or
/// `{}` are removed. Use it only where the Go struct has `omitempty` on every field.
pub fn json_response(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            serde_json::Value::Object(map.into_iter().filter(|(_, v)| !is_zero(v)).collect())
        }
        other => other,
    }
}

fn is_zero(v: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match v {
        V::Null => true,
        V::Bool(b) => !b,
        V::Number(n) => n.as_f64() == Some(0.0),
        V::String(s) => s.is_empty(),
        V::Array(a) => a.is_empty(),
        V::Object(o) => o.is_empty(),
    }
}

/// Encodes bytes the way Go's `encoding/json` encodes `[]byte`: standard base64 with padding.
pub fn encode_bytes(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a Go-style base64 `[]byte` field.
pub fn decode_bytes(text: &str) -> Result<Vec<u8>, HostError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| HostError::Guest(format!("invalid base64: {e}")))
}

/// A new random ID as Navidrome makes them (`model/id.NewRandom`): 128 random bits written as
/// 22 zero-padded base62 characters (`0-9a-zA-Z`). Used for schedule, task and connection IDs.
pub fn random_id() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random bytes: {e}"))?;
    Ok(base62_22(u128::from_be_bytes(bytes)))
}

fn base62_22(mut n: u128) -> String {
    const DIGITS: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = [b'0'; 22];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// What a host function can see and do while it runs.
pub struct HostCtx<'a> {
    pub(crate) env: Env<'a>,
}

impl fmt::Debug for HostCtx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostCtx")
            .field("plugin", &self.plugin_id())
            .finish()
    }
}

impl HostCtx<'_> {
    fn data(&self) -> &CallEnv {
        self.env.data()
    }

    /// The id of the calling plugin.
    pub fn plugin_id(&self) -> &str {
        &self.data().plugin.id
    }

    /// The plugin's configuration (the same map `config_get` reads).
    pub fn config(&self) -> &BTreeMap<String, String> {
        &self.data().plugin.config.config
    }

    /// Time left before the running call's deadline (the plugin's whole call timeout if the
    /// call has none): the most a blocking host function such as `http_send` should wait.
    pub fn time_left(&self) -> std::time::Duration {
        let data = self.data();
        data.deadline
            .map_or(data.plugin.config.timeout, |deadline| {
                deadline.saturating_duration_since(std::time::Instant::now())
            })
    }

    /// A handle to the calling plugin, e.g. to call one of its exports later.
    pub fn plugin(&self) -> Plugin {
        Plugin::from_shared(Arc::clone(&self.data().plugin))
    }

    /// Reads the block at `handle` from Extism memory (0 or an unknown handle reads as empty).
    pub fn read(&mut self, handle: u64) -> Result<Vec<u8>, HostError> {
        crate::instance::read_block(&mut self.env, handle as i64)
            .map_err(|e| HostError::Trap(e.to_string()))
    }

    /// Copies `bytes` into a new block and returns its handle (0 for empty bytes).
    pub fn write(&mut self, bytes: &[u8]) -> Result<u64, HostError> {
        crate::instance::write_block(&mut self.env, bytes)
            .map(|h| h as u64)
            .map_err(|e| HostError::Trap(e.to_string()))
    }

    /// Calls `export` of the same plugin in a fresh instance (re-entrancy, spec §3.8).
    pub fn call_export(&self, export: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        self.plugin().call(export, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_print_like_the_fixture_index() {
        use ValType::*;
        assert_eq!(Signature::new([I64], [I64]).to_string(), "(i64) -> i64");
        assert_eq!(
            Signature::new([I64, I32], []).to_string(),
            "(i64, i32) -> ()"
        );
        assert_eq!(
            Signature::new([], [I32, F64]).to_string(),
            "() -> (i32, f64)"
        );
    }

    #[test]
    fn omitempty_drops_zero_values_only_at_the_top_level() {
        let v = serde_json::json!({"a": "", "b": 0, "c": false, "d": null, "e": [], "f": {},
            "g": "x", "h": 1, "i": true, "j": {"k": 0}});
        assert_eq!(
            json_response(v),
            serde_json::json!({"g": "x", "h": 1, "i": true, "j": {"k": 0}})
        );
    }

    #[test]
    fn ids_are_22_base62_chars_zero_padded() {
        assert_eq!(base62_22(0), "0000000000000000000000");
        assert_eq!(base62_22(61), "000000000000000000000Z");
        assert_eq!(base62_22(62), "0000000000000000000010");
        assert_eq!(base62_22(u128::MAX), "7N42dgm5tFLK9N8MT7fHC7");
        let (a, b) = (random_id().unwrap(), random_id().unwrap());
        assert_eq!(a.len(), 22);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn bytes_are_standard_padded_base64() {
        assert_eq!(encode_bytes(b"ab"), "YWI=");
        assert_eq!(decode_bytes("YWI=").unwrap(), b"ab");
        assert!(matches!(decode_bytes("***"), Err(HostError::Guest(_))));
    }
}
