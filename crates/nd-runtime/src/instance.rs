//! One wasm instance of a plugin: its own `Store`, a kernel instance, the plugin instance, the
//! per-instance state ([`CallEnv`]) and the native half of `extism:host/env`.
//!
//! Instances are created fresh for every call (see [`crate::Plugin::call`]), possibly ahead of
//! time on the runtime's preparer thread, and dropped after the call.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use wasmer::{
    Extern, Function, FunctionEnv, FunctionEnvMut, FunctionType, Imports, Instance, Memory,
    RuntimeError, Store, Type, TypedFunction, Value,
};
use wasmer_wasix::{WasiError, WasiFunctionEnv};

use crate::LogLevel;
use crate::egress::{HttpLimits, HttpRequest};
use crate::error::CallErrorKind;
use crate::host::{HostCtx, HostFnKind, Val, ValType};
use crate::limits;
use crate::plugin::{ExportKind, ImportSource, PluginShared};

pub(crate) type Env<'a> = FunctionEnvMut<'a, CallEnv>;

/// Typed handles to the kernel instance's exports.
#[derive(Clone)]
pub(crate) struct Kernel {
    pub(crate) memory: Memory,
    alloc: TypedFunction<i64, i64>,
    free: TypedFunction<i64, ()>,
    length: TypedFunction<i64, i64>,
    nd_input: TypedFunction<i64, i64>,
    nd_used: TypedFunction<(), i64>,
    reset: TypedFunction<(), ()>,
    output_offset: TypedFunction<(), i64>,
    output_length: TypedFunction<(), i64>,
    error_get: TypedFunction<(), i64>,
}

impl Kernel {
    fn new(store: &Store, instance: &Instance) -> Result<Self, String> {
        let e = &instance.exports;
        let err = |x: wasmer::ExportError| format!("kernel: {x}");
        Ok(Self {
            memory: e.get_memory("memory").map_err(err)?.clone(),
            alloc: e.get_typed_function(store, "alloc").map_err(err)?,
            free: e.get_typed_function(store, "free").map_err(err)?,
            length: e.get_typed_function(store, "length").map_err(err)?,
            nd_input: e.get_typed_function(store, "nd_input").map_err(err)?,
            nd_used: e.get_typed_function(store, "nd_used").map_err(err)?,
            reset: e.get_typed_function(store, "reset").map_err(err)?,
            output_offset: e.get_typed_function(store, "output_offset").map_err(err)?,
            output_length: e.get_typed_function(store, "output_length").map_err(err)?,
            error_get: e.get_typed_function(store, "error_get").map_err(err)?,
        })
    }
}

/// Per-instance state seen by every host function.
pub(crate) struct CallEnv {
    pub(crate) plugin: Arc<PluginShared>,
    kernel: Option<Kernel>,
    vars: BTreeMap<String, Vec<u8>>,
    var_bytes: u64,
    http_status: i32,
    http_headers: Option<BTreeMap<String, String>>,
    /// Set by a host function that aborts the call: (function, message).
    abort: Option<(String, String)>,
    /// Deadline of the running call, for the time left given to HTTP requests.
    pub(crate) deadline: Option<Instant>,
    /// The plugin instance's own memory (for WASI argument checks), once instantiated.
    pub(crate) guest_memory: Option<Memory>,
}

/// A ready-to-call instance.
pub(crate) struct Prepared {
    store: Store,
    env: FunctionEnv<CallEnv>,
    instance: Instance,
    kernel: Kernel,
    wasi: Option<WasiFunctionEnv>,
    used: bool,
}

// SAFETY: a `wasmer::Store` is not `Send` only because its object table holds raw pointers
// into memory the store itself owns (VM contexts, tables, globals, function records). A
// `Prepared` is moved between threads only while no call is running in it: it is created on
// the preparer thread, parked in the plugin's pool, and then used and dropped by exactly one
// calling thread. Wasmer's thread-bound state (trap handlers, the host-interrupt registry) is
// installed when wasm is entered and removed when it returns, so none of it survives a move.
unsafe impl Send for Prepared {}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(wasi) = &self.wasi {
            // Closes the WASI file descriptors; keeps resident memory flat over many calls.
            wasi.on_exit(&mut self.store, None);
        }
    }
}

fn kernel_ref(data: &CallEnv) -> Result<&Kernel, RuntimeError> {
    data.kernel
        .as_ref()
        .ok_or_else(|| RuntimeError::new("kernel not linked"))
}

/// Reads the block at `handle` (0 or an invalid handle read as empty).
pub(crate) fn read_block(env: &mut Env<'_>, handle: i64) -> Result<Vec<u8>, RuntimeError> {
    if handle == 0 {
        return Ok(Vec::new());
    }
    let (data, mut store) = env.data_and_store_mut();
    let kernel = kernel_ref(data)?;
    let len = kernel.length.call(&mut store, handle)?;
    if len <= 0 {
        return Ok(Vec::new());
    }
    let mut buf = vec![0u8; len as usize];
    kernel
        .memory
        .view(&store)
        .read(handle as u64, &mut buf)
        .map_err(|e| RuntimeError::new(e.to_string()))?;
    Ok(buf)
}

/// Reads and frees an argument block the host consumes.
fn take_block(env: &mut Env<'_>, handle: i64) -> Result<Vec<u8>, RuntimeError> {
    let bytes = read_block(env, handle)?;
    if handle != 0 {
        let (data, mut store) = env.data_and_store_mut();
        kernel_ref(data)?.free.call(&mut store, handle)?;
    }
    Ok(bytes)
}

/// Copies `bytes` into a new block; empty bytes are handle 0.
pub(crate) fn write_block(env: &mut Env<'_>, bytes: &[u8]) -> Result<i64, RuntimeError> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let (data, mut store) = env.data_and_store_mut();
    let kernel = kernel_ref(data)?;
    let handle = kernel.alloc.call(&mut store, bytes.len() as i64)?;
    kernel
        .memory
        .view(&store)
        .write(handle as u64, bytes)
        .map_err(|e| RuntimeError::new(e.to_string()))?;
    Ok(handle)
}

/// Records why a host function aborts the call and returns the trap that does it.
fn abort(env: &mut Env<'_>, function: &str, message: String) -> RuntimeError {
    let error = RuntimeError::new(message.clone());
    env.data_mut()
        .abort
        .get_or_insert((function.to_owned(), message));
    error
}

fn log_message(env: &mut Env<'_>, level: LogLevel, handle: i64) -> Result<(), RuntimeError> {
    let bytes = take_block(env, handle)?;
    let plugin = &env.data().plugin;
    if level < plugin.effective_log_level() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&bytes);
    let id = &*plugin.id;
    match level {
        LogLevel::Trace => tracing::trace!(target: "nd::plugin", plugin = id, "{text}"),
        LogLevel::Debug => tracing::debug!(target: "nd::plugin", plugin = id, "{text}"),
        LogLevel::Info => tracing::info!(target: "nd::plugin", plugin = id, "{text}"),
        LogLevel::Warn => tracing::warn!(target: "nd::plugin", plugin = id, "{text}"),
        LogLevel::Error | LogLevel::Off => {
            tracing::error!(target: "nd::plugin", plugin = id, "{text}")
        }
    }
    Ok(())
}

/// The Extism request JSON of `http_request` (extism-abi.md §4.1), parsed leniently:
/// `headers: null` is accepted (the Go PDK sends it) and keys match case-insensitively.
fn parse_http_request(bytes: &[u8]) -> Result<(String, String, BTreeMap<String, String>), String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("invalid HTTP request JSON: {e}"))?;
    let obj = value
        .as_object()
        .ok_or("invalid HTTP request JSON: not an object")?;
    let field = |name: &str| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let url = field("url")
        .and_then(|v| v.as_str())
        .ok_or("invalid HTTP request JSON: missing url")?
        .to_owned();
    let method = field("method")
        .and_then(|v| v.as_str())
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let mut headers = BTreeMap::new();
    if let Some(serde_json::Value::Object(map)) = field("headers").or_else(|| field("header")) {
        for (k, v) in map {
            if let Some(v) = v.as_str() {
                headers.insert(k.clone(), v.to_owned());
            }
        }
    }
    Ok((url, method, headers))
}

fn http_request(env: &mut Env<'_>, req: i64, body: i64) -> Result<i64, RuntimeError> {
    let req = take_block(env, req)?;
    let body = take_block(env, body)?;
    let (url, method, headers) = match parse_http_request(&req) {
        Ok(parsed) => parsed,
        Err(message) => return Err(abort(env, "http_request", message)),
    };
    let data = env.data_mut();
    data.http_status = 0;
    data.http_headers = None;
    let plugin = Arc::clone(&data.plugin);
    let timeout = data
        .deadline
        .map(|d| d.saturating_duration_since(Instant::now()))
        .unwrap_or(plugin.config.timeout);
    let request = HttpRequest {
        plugin_id: plugin.id.to_string(),
        url,
        method,
        headers,
        body,
    };
    let limits = HttpLimits {
        max_body_bytes: plugin.config.max_http_response_bytes,
        timeout,
    };
    match plugin.config.egress.send(request, limits) {
        Ok(response) => {
            if response.body.len() as u64 > limits.max_body_bytes {
                let e = crate::egress::EgressError::TooLarge(limits.max_body_bytes);
                return Err(abort(env, "http_request", e.to_string()));
            }
            let data = env.data_mut();
            data.http_status = i32::from(response.status);
            data.http_headers = Some(response.headers);
            write_block(env, &response.body)
        }
        Err(e) => Err(abort(env, "http_request", e.to_string())),
    }
}

fn var_set(env: &mut Env<'_>, key: i64, value: i64) -> Result<(), RuntimeError> {
    let key = take_block(env, key)?;
    let value = take_block(env, value)?;
    let key = String::from_utf8_lossy(&key).into_owned();
    let data = env.data_mut();
    let max = data.plugin.config.max_var_bytes;
    if max == 0 {
        return Err(abort(
            env,
            "var_set",
            "Vars are disabled by this host".into(),
        ));
    }
    let cost = |k: &str, v: &[u8]| (k.len() + v.len() + 48) as u64;
    let old = data.vars.get(&key).map(|v| cost(&key, v)).unwrap_or(0);
    if value.is_empty() {
        data.vars.remove(&key);
        data.var_bytes -= old;
        return Ok(());
    }
    let new_total = data.var_bytes - old + cost(&key, &value);
    if new_total > max {
        return Err(abort(env, "var_set", "Variable store is full".into()));
    }
    data.var_bytes = new_total;
    data.vars.insert(key, value);
    Ok(())
}

/// Creates the native `extism:host/env` function `name`, or `None` if it is a kernel export.
fn env_function(store: &mut Store, env: &FunctionEnv<CallEnv>, name: &str) -> Option<Function> {
    type R<T> = Result<T, RuntimeError>;
    let f = match name {
        "config_get" => {
            Function::new_typed_with_env(store, env, |mut e: Env<'_>, key: i64| -> R<i64> {
                let key = take_block(&mut e, key)?;
                let key = String::from_utf8_lossy(&key);
                let value = e.data().plugin.config.config.get(key.as_ref()).cloned();
                match value {
                    Some(v) => write_block(&mut e, v.as_bytes()),
                    None => Ok(0),
                }
            })
        }
        "var_get" => {
            Function::new_typed_with_env(store, env, |mut e: Env<'_>, key: i64| -> R<i64> {
                let key = take_block(&mut e, key)?;
                let key = String::from_utf8_lossy(&key);
                let value = e.data().vars.get(key.as_ref()).cloned();
                match value {
                    Some(v) => write_block(&mut e, &v),
                    None => Ok(0),
                }
            })
        }
        "var_set" => {
            Function::new_typed_with_env(store, env, |mut e: Env<'_>, k: i64, v: i64| -> R<()> {
                var_set(&mut e, k, v)
            })
        }
        "http_request" => {
            Function::new_typed_with_env(store, env, |mut e: Env<'_>, r: i64, b: i64| -> R<i64> {
                http_request(&mut e, r, b)
            })
        }
        "http_status_code" => {
            Function::new_typed_with_env(store, env, |e: Env<'_>| -> i32 { e.data().http_status })
        }
        "http_headers" => Function::new_typed_with_env(store, env, |mut e: Env<'_>| -> R<i64> {
            let Some(headers) = e.data().http_headers.clone() else {
                return Ok(0);
            };
            let json =
                serde_json::to_vec(&headers).map_err(|x| RuntimeError::new(x.to_string()))?;
            write_block(&mut e, &json)
        }),
        "get_log_level" => Function::new_typed_with_env(store, env, |e: Env<'_>| -> i32 {
            e.data().plugin.effective_log_level().extism_code()
        }),
        "log_trace" => log_fn(store, env, LogLevel::Trace),
        "log_debug" => log_fn(store, env, LogLevel::Debug),
        "log_info" => log_fn(store, env, LogLevel::Info),
        "log_warn" => log_fn(store, env, LogLevel::Warn),
        "log_error" => log_fn(store, env, LogLevel::Error),
        _ => return None,
    };
    Some(f)
}

fn log_fn(store: &mut Store, env: &FunctionEnv<CallEnv>, level: LogLevel) -> Function {
    Function::new_typed_with_env(
        store,
        env,
        move |mut e: Env<'_>, msg: i64| -> Result<(), RuntimeError> {
            log_message(&mut e, level, msg)
        },
    )
}

fn val_to_wasmer(v: Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(x),
        Val::I64(x) => Value::I64(x),
        Val::F32(x) => Value::F32(x),
        Val::F64(x) => Value::F64(x),
    }
}

fn val_from_wasmer(v: &Value) -> Option<Val> {
    Some(match v {
        Value::I32(x) => Val::I32(*x),
        Value::I64(x) => Val::I64(*x),
        Value::F32(x) => Val::F32(*x),
        Value::F64(x) => Val::F64(*x),
        _ => return None,
    })
}

pub(crate) fn to_wasmer_type(t: ValType) -> Type {
    match t {
        ValType::I32 => Type::I32,
        ValType::I64 => Type::I64,
        ValType::F32 => Type::F32,
        ValType::F64 => Type::F64,
    }
}

/// Creates the wasmer function for a user host function definition.
fn user_function(
    store: &mut Store,
    env: &FunctionEnv<CallEnv>,
    name: &str,
    kind: &HostFnKind,
) -> Function {
    let name: Arc<str> = name.into();
    match kind {
        HostFnKind::Bytes(f) => {
            let f = Arc::clone(f);
            Function::new_typed_with_env(
                store,
                env,
                move |mut e: Env<'_>, h: i64| -> Result<i64, RuntimeError> {
                    let request = read_block(&mut e, h)?;
                    let mut ctx = HostCtx { env: e.as_mut() };
                    match f(&mut ctx, request) {
                        Ok(bytes) => write_block(&mut e, &bytes),
                        Err(err) => Err(abort(&mut e, &name, err.to_string())),
                    }
                },
            )
        }
        HostFnKind::Raw(sig, f) => {
            let f = Arc::clone(f);
            let ty = FunctionType::new(
                sig.params
                    .iter()
                    .map(|t| to_wasmer_type(*t))
                    .collect::<Vec<_>>(),
                sig.results
                    .iter()
                    .map(|t| to_wasmer_type(*t))
                    .collect::<Vec<_>>(),
            );
            let results = sig.results.clone();
            Function::new_with_env(store, env, ty, move |mut e: Env<'_>, args: &[Value]| {
                let args: Vec<Val> = args.iter().filter_map(val_from_wasmer).collect();
                let mut ctx = HostCtx { env: e.as_mut() };
                match f(&mut ctx, &args) {
                    Ok(out) => {
                        let types: Vec<ValType> = out.iter().map(Val::ty).collect();
                        if types != results {
                            let m =
                                format!("returned values of types {types:?}, expected {results:?}");
                            return Err(abort(&mut e, &name, m));
                        }
                        Ok(out.into_iter().map(val_to_wasmer).collect())
                    }
                    Err(err) => Err(abort(&mut e, &name, err.to_string())),
                }
            })
        }
    }
}

/// Creates a new instance of the plugin, runs its initialiser, and returns it ready to call.
pub(crate) fn instantiate(plugin: &Arc<PluginShared>) -> Result<Prepared, CallErrorKind> {
    let rt = &plugin.runtime;
    let _tokio = rt.tokio.enter();
    let fail = |message: String| CallErrorKind::Instantiate { message };
    let mut store = Store::new(rt.engine.clone());
    let env = FunctionEnv::new(
        &mut store,
        CallEnv {
            plugin: Arc::clone(plugin),
            kernel: None,
            vars: BTreeMap::new(),
            var_bytes: 0,
            http_status: 0,
            http_headers: None,
            abort: None,
            deadline: None,
            guest_memory: None,
        },
    );
    let pages = plugin.memory_limit_pages();
    let kernel_instance = limits::with_memory_limit(pages, || {
        Instance::new(&mut store, &rt.kernel, &Imports::new()).map_err(Box::new)
    })
    .map_err(|e| fail(format!("kernel: {e}")))?;
    let kernel = Kernel::new(&store, &kernel_instance).map_err(fail)?;
    env.as_mut(&mut store).kernel = Some(kernel.clone());

    let mut wasi = match &plugin.wasi {
        Some(setup) => Some(setup.build_env(&mut store, &plugin.id, rt).map_err(fail)?),
        None => None,
    };
    let mut imports = match (&wasi, &plugin.wasi) {
        (Some(w), Some(setup)) => {
            let mut imports = w
                .import_object(&mut store, &plugin.module)
                .map_err(|e| fail(e.to_string()))?;
            crate::wasi::adjust_imports(&mut store, &env, &mut imports, setup.root_mounted());
            imports
        }
        _ => Imports::new(),
    };
    for import in &plugin.imports {
        let func = match &import.source {
            ImportSource::Kernel => match kernel_instance.exports.get_extern(&import.name) {
                Some(Extern::Function(f)) => f.clone(),
                _ => return Err(fail(format!("kernel does not export {}", import.name))),
            },
            ImportSource::EnvNative => env_function(&mut store, &env, &import.name)
                .ok_or_else(|| fail(format!("no native env function {}", import.name)))?,
            ImportSource::User(def) => user_function(&mut store, &env, &import.name, &def.kind),
            ImportSource::Wasi => continue,
        };
        imports.define(&import.module, &import.name, func);
    }

    let deadline = Instant::now() + plugin.config.timeout;
    let armed = rt.watchdog.arm(deadline, store.interrupter());
    let (result, oom) = limits::watch_oom(|| {
        let instance = limits::with_memory_limit(pages, || {
            Instance::new(&mut store, &plugin.module, &imports).map_err(Box::new)
        })
        .map_err(|e| e.to_string())?;
        env.as_mut(&mut store).guest_memory = instance.exports.get_memory("memory").ok().cloned();
        if let Some(w) = wasi.as_mut() {
            w.initialize(&mut store, instance.clone())
                .map_err(|e| e.to_string())?;
        }
        run_initialiser(&mut store, &instance).map_err(|e| e.message())?;
        Ok::<_, String>(instance)
    });
    let fired = armed.fired();
    drop(armed);
    let instance = match result {
        Ok(instance) => instance,
        Err(_) if fired => {
            return Err(CallErrorKind::Timeout {
                limit: plugin.config.timeout,
            });
        }
        Err(_) if oom => {
            return Err(CallErrorKind::OutOfMemory {
                limit_bytes: plugin.config.max_memory_bytes,
            });
        }
        Err(message) => return Err(fail(message)),
    };
    Ok(Prepared {
        store,
        env,
        instance,
        kernel,
        wasi,
        used: false,
    })
}

/// Runs the guest runtime initialiser once, in Navidrome's order (spec §2.3 step 2).
fn run_initialiser(store: &mut Store, instance: &Instance) -> Result<(), RuntimeError> {
    let get = |name: &str| -> Option<TypedFunction<(), ()>> {
        instance.exports.get_typed_function(&*store, name).ok()
    };
    if let Ok(hs_init) = instance
        .exports
        .get_typed_function::<(i32, i32), ()>(&*store, "hs_init")
    {
        if let Some(init) = get("_initialize") {
            init.call(store)?;
        }
        return hs_init.call(store, 0, 0);
    }
    if let Some(init) = get("_initialize") {
        return init.call(store);
    }
    if let Some(ctors) = get("__wasm_call_ctors") {
        return ctors.call(store);
    }
    Ok(())
}

/// Largest kernel memory a prepared instance is grown to ahead of a call.
const MAX_PRESIZE: u64 = 16 * 1024 * 1024;

impl Prepared {
    /// Current size of the kernel's memory, in bytes.
    fn kernel_bytes(&self) -> u64 {
        self.kernel.memory.view(&self.store).data_size()
    }

    /// Kernel memory the last call used (its heap's high end), in bytes.
    pub(crate) fn kernel_used(&mut self) -> u64 {
        self.kernel
            .nd_used
            .call(&mut self.store)
            .map_or(0, |pos| pos as u64)
    }

    /// Grows the kernel memory to `bytes` (at most [`MAX_PRESIZE`], within the memory cap) and
    /// touches every new page, so that a call moving that much data does not pay for growing
    /// and page-faulting it. Invisible to the plugin: only the kernel's own memory changes.
    pub(crate) fn presize_kernel(&mut self, bytes: u64) {
        let plugin = Arc::clone(&self.env.as_ref(&self.store).plugin);
        let target = bytes.min(MAX_PRESIZE).min(plugin.config.max_memory_bytes);
        let current = self.kernel_bytes();
        if target <= current {
            return;
        }
        let pages = (target - current).div_ceil(65536) as u32;
        // The cap is part of the memory's type since its creation; a refused grow only means
        // no pre-sizing (and must not leak into the refusal flag of this thread).
        let (grown, _) = limits::watch_oom(|| self.kernel.memory.grow(&mut self.store, pages));
        if grown.is_err() {
            return;
        }
        let view = self.kernel.memory.view(&self.store);
        let mut offset = current;
        while offset < view.data_size() {
            let _ = view.write_u8(offset, 0);
            offset += 4096;
        }
    }

    /// Calls `export` with `input`. A prepared instance may be called more than once only
    /// through [`crate::PluginInstance`]; the kernel is reset before every call after the first.
    pub(crate) fn call(
        &mut self,
        export: &str,
        kind: ExportKind,
        input: &[u8],
    ) -> Result<Vec<u8>, CallErrorKind> {
        let plugin = Arc::clone(&self.env.as_ref(&self.store).plugin);
        let internal = |e: RuntimeError| CallErrorKind::Instantiate {
            message: e.message(),
        };
        if self.used {
            self.kernel.reset.call(&mut self.store).map_err(internal)?;
            let data = self.env.as_mut(&mut self.store);
            data.http_status = 0;
            data.http_headers = None;
            data.abort = None;
        }
        self.used = true;
        // Memories exist already (their caps are in their types); only refused growth matters.
        let (result, oom) = limits::watch_oom(|| self.call_inner(&plugin, export, kind, input));
        match result {
            Err(CallErrorKind::Trap { .. }) if oom => Err(CallErrorKind::OutOfMemory {
                limit_bytes: plugin.config.max_memory_bytes,
            }),
            other => other,
        }
    }

    fn call_inner(
        &mut self,
        plugin: &PluginShared,
        export: &str,
        kind: ExportKind,
        input: &[u8],
    ) -> Result<Vec<u8>, CallErrorKind> {
        let store = &mut self.store;
        let kernel = &self.kernel;
        let trap = |e: RuntimeError| CallErrorKind::Trap {
            message: e.message(),
        };
        if !input.is_empty() {
            let handle = kernel
                .nd_input
                .call(store, input.len() as i64)
                .map_err(trap)?;
            kernel
                .memory
                .view(store)
                .write(handle as u64, input)
                .map_err(|e| CallErrorKind::Trap {
                    message: e.to_string(),
                })?;
        }
        let func = self
            .instance
            .exports
            .get_function(export)
            .map_err(|_| CallErrorKind::FunctionNotFound)?
            .clone();
        let timeout = plugin.config.timeout;
        let deadline = Instant::now() + timeout;
        self.env.as_mut(store).deadline = Some(deadline);
        let armed = plugin.runtime.watchdog.arm(deadline, store.interrupter());
        let outcome = match kind {
            ExportKind::ReturnsI32 => func
                .typed::<(), i32>(store)
                .map_err(|e| CallErrorKind::Trap {
                    message: e.to_string(),
                })?
                .call(store),
            ExportKind::ReturnsNothing => func
                .typed::<(), ()>(store)
                .map_err(|e| CallErrorKind::Trap {
                    message: e.to_string(),
                })?
                .call(store)
                .map(|()| 0),
        };
        let fired = armed.fired();
        drop(armed);
        let rc = match outcome {
            Ok(rc) => rc,
            Err(err) => {
                if fired {
                    return Err(CallErrorKind::Timeout { limit: timeout });
                }
                if let Some(WasiError::Exit(code)) = err.downcast_ref::<WasiError>() {
                    if code.raw() != 0 {
                        return Err(CallErrorKind::Exit { code: code.raw() });
                    }
                    0
                } else if let Some((function, message)) = self.env.as_mut(store).abort.take() {
                    return Err(CallErrorKind::HostFunction { function, message });
                } else {
                    return Err(trap(err));
                }
            }
        };
        let error = kernel.error_get.call(store).map_err(trap)?;
        if error != 0 {
            let len = kernel.length.call(store, error).map_err(trap)?;
            if len > 0 {
                let mut buf = vec![0u8; len as usize];
                kernel
                    .memory
                    .view(store)
                    .read(error as u64, &mut buf)
                    .map_err(|e| trap(RuntimeError::new(e.to_string())))?;
                let message = String::from_utf8_lossy(&buf).into_owned();
                return Err(CallErrorKind::PluginError { message, rc });
            }
        }
        if rc == -2 {
            return Err(CallErrorKind::NotImplemented);
        }
        if rc != 0 {
            return Err(CallErrorKind::PluginError {
                message: format!("plugin call exited with code {rc}"),
                rc,
            });
        }
        let offset = kernel.output_offset.call(store).map_err(trap)?;
        let len = kernel.output_length.call(store).map_err(trap)? as u64;
        if len == 0 {
            return Ok(Vec::new());
        }
        if len > plugin.config.max_output_bytes {
            return Err(CallErrorKind::OutputTooLarge {
                size: len,
                limit: plugin.config.max_output_bytes,
            });
        }
        let mut out = vec![0u8; len as usize];
        kernel
            .memory
            .view(store)
            .read(offset as u64, &mut out)
            .map_err(|e| CallErrorKind::Trap {
                message: e.to_string(),
            })?;
        Ok(out)
    }
}
