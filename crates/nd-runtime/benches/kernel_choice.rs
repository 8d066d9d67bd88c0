//! Kernel choice: how should the memory half of `extism:host/env` be provided on Wasmer?
//!
//! - **A, native arena**: Rust host functions (`Function::new_typed_with_env`) over a `Vec<u8>`
//!   held in the `FunctionEnv`, following extism-abi.md §1.6.
//! - **B, wasm kernel**: `src/kernel/kernel.wat` instantiated as its own instance in the same
//!   `Store`; its exports are the plugin's `extism:host/env` imports (wasm→wasm calls), and the
//!   host moves input and output with one `MemoryView` copy each.
//!
//! Both variants use plain `wasmer` (not nd-runtime's API), the same surrounding code, the same
//! trivial host functions for the non-memory imports, and the `kernel` fixture built for
//! `wasm32-unknown-unknown` (`cargo xtask build-plugins`). Cases:
//!
//! - `fresh`: new `Store` + instance(s) + one call + drop;
//! - `reused`: one instance, the arena/kernel reset before each call.
//! - `fresh, instantiate only`: `fresh` without the call (supplementary: isolates B's extra
//!   instance).
//!
//! `A host calls` in the table is how many `extism:host/env` calls one invocation makes (counted
//! once, untimed, with an instrumented arena); under B these are wasm→wasm calls.
//!
//! Run: `cargo bench --bench kernel_choice -p nd-runtime`. Prints a table and a `JSON: ` line.
//! Samples of A and B are taken in alternating rounds, so that load from other processes hits
//! both variants alike.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use wasmer::{
    Engine, Function, FunctionEnv, FunctionEnvMut, Imports, Instance, Memory, Module, Store,
    TypedFunction,
};

const KERNEL_WAT: &str = include_str!("../src/kernel/kernel.wat");
const ENV_NS: &str = "extism:host/env";

// ------------------------------------------------------------------------------------------------
// Variant A: native arena
// ------------------------------------------------------------------------------------------------

/// Addresses below this are never handed out (handle 0 is null; loads there read 0).
const ROOT: u64 = 64;

#[derive(Clone, Copy)]
struct Block {
    h: u64,
    len: u64,
    live: bool,
}

/// A `Vec<u8>` arena with the rules of extism-abi.md §1.6: handles are offsets into `mem`,
/// 8-aligned, bump-allocated, never 0 and never reused before `reset`. Block sizes live in
/// `blocks` (sorted by handle, because allocation only bumps), so `length` is exact: the
/// requested size for a live block start, 0 for anything else.
struct Arena {
    mem: Vec<u8>,
    blocks: Vec<Block>,
    input: (u64, u64),
    output: (u64, u64),
    error: u64,
    /// Host calls made by the plugin; counted only by the instrumented build (`COUNT = true`).
    calls: u64,
}

impl Arena {
    fn new() -> Self {
        Self {
            mem: vec![0; ROOT as usize],
            blocks: Vec::new(),
            input: (0, 0),
            output: (0, 0),
            error: 0,
            calls: 0,
        }
    }

    fn pos(&self) -> u64 {
        self.mem.len() as u64
    }

    /// Invalidates every block and clears input, output and error. Keeps the capacity.
    fn reset(&mut self) {
        self.mem.truncate(ROOT as usize);
        self.blocks.clear();
        self.input = (0, 0);
        self.output = (0, 0);
        self.error = 0;
    }

    /// Start of the next block: the current end rounded up to 8, padding zeroed.
    fn bump(&mut self) -> u64 {
        let h = (self.pos() + 7) & !7;
        self.mem.resize(h as usize, 0);
        h
    }

    fn alloc(&mut self, n: u64) -> u64 {
        // 0 for size 0; 0 (the kernel's "failure") for what a wasm32 kernel could never hold.
        if n == 0 || n > 0xFFFF_0000 {
            return 0;
        }
        let h = self.bump();
        self.mem.resize((h + n) as usize, 0);
        self.blocks.push(Block {
            h,
            len: n,
            live: true,
        });
        h
    }

    /// The input as a normal block (no zero fill: the bytes are copied straight in).
    fn set_input(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let h = self.bump();
        self.mem.extend_from_slice(data);
        self.blocks.push(Block {
            h,
            len: data.len() as u64,
            live: true,
        });
        self.input = (h, data.len() as u64);
    }

    fn find(&self, h: u64) -> Option<usize> {
        self.blocks.binary_search_by_key(&h, |b| b.h).ok()
    }

    fn length(&self, h: u64) -> u64 {
        match self.find(h) {
            Some(i) if self.blocks[i].live => self.blocks[i].len,
            _ => 0,
        }
    }

    fn free(&mut self, h: u64) {
        if let Some(i) = self.find(h) {
            self.blocks[i].live = false;
            if h == self.input.0 {
                self.input.1 = 0;
            }
        }
    }

    fn load_u8(&self, p: u64) -> i32 {
        if p >= ROOT && p < self.pos() {
            i32::from(self.mem[p as usize])
        } else {
            0
        }
    }

    fn load_u64(&self, p: u64) -> i64 {
        if p >= ROOT && p.checked_add(8).is_some_and(|e| e <= self.pos()) {
            let p = p as usize;
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.mem[p..p + 8]);
            i64::from_le_bytes(w)
        } else {
            0
        }
    }

    fn store_u8(&mut self, p: u64, v: i32) {
        if p >= ROOT && p < self.pos() {
            self.mem[p as usize] = v as u8;
        }
    }

    fn store_u64(&mut self, p: u64, v: i64) {
        if p >= ROOT && p.checked_add(8).is_some_and(|e| e <= self.pos()) {
            let p = p as usize;
            self.mem[p..p + 8].copy_from_slice(&v.to_le_bytes());
        }
    }

    fn input_load_u8(&self, i: u64) -> i32 {
        if i < self.input.1 {
            i32::from(self.mem[(self.input.0 + i) as usize])
        } else {
            0
        }
    }

    fn input_load_u64(&self, i: u64) -> i64 {
        let (off, len) = self.input;
        if len >= 8 && i <= len - 8 {
            let p = (off + i) as usize;
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.mem[p..p + 8]);
            i64::from_le_bytes(w)
        } else {
            0
        }
    }

    /// `[h, h+len)` lies inside the allocated heap `[ROOT, pos)`.
    fn in_heap(&self, h: u64, len: u64) -> bool {
        h >= ROOT && h <= self.pos() && len <= self.pos() - h
    }

    fn output_set(&mut self, h: u64, len: u64) {
        if self.in_heap(h, len) {
            self.output = (h, len);
        }
    }

    fn error_set(&mut self, h: u64) {
        if h == 0 {
            self.error = 0;
        } else if self.in_heap(h, 1) {
            self.error = h;
        }
    }
}

type AEnv<'a> = FunctionEnvMut<'a, Arena>;

/// The arena's function for one `extism:host/env` memory import; `None` if `name` is not one.
/// `COUNT = true` builds an instrumented copy that counts the plugin's host calls (the timed
/// runs use `COUNT = false`, where the counter compiles away).
fn arena_fn<const COUNT: bool>(
    store: &mut Store,
    env: &FunctionEnv<Arena>,
    name: &str,
) -> Option<Function> {
    macro_rules! tick {
        ($e:ident) => {
            if COUNT {
                $e.data_mut().calls += 1;
            }
        };
    }
    let f = match name {
        "alloc" => Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, n: i64| -> i64 {
            tick!(e);
            e.data_mut().alloc(n as u64) as i64
        }),
        "free" => Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, h: i64| {
            tick!(e);
            e.data_mut().free(h as u64);
        }),
        "length" | "length_unsafe" => {
            Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, h: i64| -> i64 {
                tick!(e);
                e.data().length(h as u64) as i64
            })
        }
        "load_u8" => Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, p: i64| -> i32 {
            tick!(e);
            e.data().load_u8(p as u64)
        }),
        "load_u64" => Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, p: i64| -> i64 {
            tick!(e);
            e.data().load_u64(p as u64)
        }),
        "store_u8" => {
            Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, p: i64, v: i32| {
                tick!(e);
                e.data_mut().store_u8(p as u64, v);
            })
        }
        "store_u64" => {
            Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, p: i64, v: i64| {
                tick!(e);
                e.data_mut().store_u64(p as u64, v);
            })
        }
        "input_length" => Function::new_typed_with_env(store, env, |mut e: AEnv<'_>| -> i64 {
            tick!(e);
            e.data().input.1 as i64
        }),
        "input_offset" => Function::new_typed_with_env(store, env, |mut e: AEnv<'_>| -> i64 {
            tick!(e);
            let (off, len) = e.data().input;
            if len == 0 { 0 } else { off as i64 }
        }),
        "input_load_u8" => {
            Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, i: i64| -> i32 {
                tick!(e);
                e.data().input_load_u8(i as u64)
            })
        }
        "input_load_u64" => {
            Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, i: i64| -> i64 {
                tick!(e);
                e.data().input_load_u64(i as u64)
            })
        }
        "output_set" => {
            Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, h: i64, n: i64| {
                tick!(e);
                e.data_mut().output_set(h as u64, n as u64);
            })
        }
        "error_set" => Function::new_typed_with_env(store, env, |mut e: AEnv<'_>, h: i64| {
            tick!(e);
            e.data_mut().error_set(h as u64);
        }),
        _ => return None,
    };
    Some(f)
}

// ------------------------------------------------------------------------------------------------
// Non-memory imports: identical, trivial host functions in both variants
// ------------------------------------------------------------------------------------------------

fn other_fn<T: Send + 'static>(
    store: &mut Store,
    env: &FunctionEnv<T>,
    name: &str,
) -> Option<Function> {
    type E<'a, T> = FunctionEnvMut<'a, T>;
    let f = match name {
        "config_get" | "var_get" => {
            Function::new_typed_with_env(store, env, |_e: E<'_, T>, _key: i64| -> i64 { 0 })
        }
        "var_set" => {
            Function::new_typed_with_env(store, env, |_e: E<'_, T>, _key: i64, _val: i64| {})
        }
        "log_trace" | "log_debug" | "log_info" | "log_warn" | "log_error" => {
            Function::new_typed_with_env(store, env, |_e: E<'_, T>, _msg: i64| {})
        }
        "get_log_level" => {
            Function::new_typed_with_env(store, env, |_e: E<'_, T>| -> i32 { i32::MAX })
        }
        "http_request" => {
            Function::new_typed_with_env(store, env, |_e: E<'_, T>, _req: i64, _body: i64| -> i64 {
                0
            })
        }
        "http_status_code" => Function::new_typed_with_env(store, env, |_e: E<'_, T>| -> i32 { 0 }),
        "http_headers" => Function::new_typed_with_env(store, env, |_e: E<'_, T>| -> i64 { 0 }),
        _ => return None,
    };
    Some(f)
}

// ------------------------------------------------------------------------------------------------
// The two sessions: one Store + instance(s), called one or more times
// ------------------------------------------------------------------------------------------------

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{e}")
}

/// Variant A: one plugin instance whose `extism:host/env` imports are the arena's functions.
struct ArenaSession {
    store: Store,
    env: FunctionEnv<Arena>,
    func: TypedFunction<(), i32>,
    used: bool,
}

impl ArenaSession {
    fn new<const COUNT: bool>(engine: &Engine, plugin: &Module, export: &str) -> Result<Self> {
        let mut store = Store::new(engine.clone());
        let env = FunctionEnv::new(&mut store, Arena::new());
        let mut imports = Imports::new();
        for imp in plugin.imports() {
            ensure!(
                imp.module() == ENV_NS,
                "unexpected import {}::{}",
                imp.module(),
                imp.name()
            );
            let f = arena_fn::<COUNT>(&mut store, &env, imp.name())
                .or_else(|| other_fn(&mut store, &env, imp.name()))
                .with_context(|| format!("no host function for {ENV_NS}::{}", imp.name()))?;
            imports.define(ENV_NS, imp.name(), f);
        }
        let instance = Instance::new(&mut store, plugin, &imports).map_err(err)?;
        let func = instance
            .exports
            .get_typed_function(&store, export)
            .map_err(err)?;
        Ok(Self {
            store,
            env,
            func,
            used: false,
        })
    }

    fn call(&mut self, input: &[u8]) -> Result<Vec<u8>> {
        let arena = self.env.as_mut(&mut self.store);
        if self.used {
            arena.reset();
        }
        self.used = true;
        arena.set_input(input);
        let rc = self.func.call(&mut self.store).map_err(err)?;
        let arena = self.env.as_ref(&self.store);
        if arena.error != 0 && arena.length(arena.error) > 0 {
            bail!("plugin error");
        }
        ensure!(rc == 0, "rc {rc}");
        let (off, len) = arena.output;
        Ok(arena.mem[off as usize..(off + len) as usize].to_vec())
    }
}

/// Typed handles to the kernel instance's host-side exports.
struct KernelFns {
    memory: Memory,
    reset: TypedFunction<(), ()>,
    nd_input: TypedFunction<i64, i64>,
    length: TypedFunction<i64, i64>,
    error_get: TypedFunction<(), i64>,
    output_offset: TypedFunction<(), i64>,
    output_length: TypedFunction<(), i64>,
}

/// Variant B's env: the non-memory host functions need nothing here.
struct KernelEnv;

/// Variant B: a kernel instance plus a plugin instance importing the kernel's exports.
struct KernelSession {
    store: Store,
    k: KernelFns,
    func: TypedFunction<(), i32>,
    used: bool,
}

impl KernelSession {
    fn new(engine: &Engine, kernel: &Module, plugin: &Module, export: &str) -> Result<Self> {
        let mut store = Store::new(engine.clone());
        let env = FunctionEnv::new(&mut store, KernelEnv);
        let kinst = Instance::new(&mut store, kernel, &Imports::new()).map_err(err)?;
        let mut imports = Imports::new();
        for imp in plugin.imports() {
            ensure!(
                imp.module() == ENV_NS,
                "unexpected import {}::{}",
                imp.module(),
                imp.name()
            );
            let f = match other_fn(&mut store, &env, imp.name()) {
                Some(f) => f,
                None => kinst.exports.get_function(imp.name()).map_err(err)?.clone(),
            };
            imports.define(ENV_NS, imp.name(), f);
        }
        let instance = Instance::new(&mut store, plugin, &imports).map_err(err)?;
        let func = instance
            .exports
            .get_typed_function(&store, export)
            .map_err(err)?;
        let e = &kinst.exports;
        let k = KernelFns {
            memory: e.get_memory("memory").map_err(err)?.clone(),
            reset: e.get_typed_function(&store, "reset").map_err(err)?,
            nd_input: e.get_typed_function(&store, "nd_input").map_err(err)?,
            length: e.get_typed_function(&store, "length").map_err(err)?,
            error_get: e.get_typed_function(&store, "error_get").map_err(err)?,
            output_offset: e.get_typed_function(&store, "output_offset").map_err(err)?,
            output_length: e.get_typed_function(&store, "output_length").map_err(err)?,
        };
        Ok(Self {
            store,
            k,
            func,
            used: false,
        })
    }

    fn call(&mut self, input: &[u8]) -> Result<Vec<u8>> {
        let (store, k) = (&mut self.store, &self.k);
        if self.used {
            k.reset.call(store).map_err(err)?;
        }
        self.used = true;
        if !input.is_empty() {
            let h = k.nd_input.call(store, input.len() as i64).map_err(err)?;
            k.memory.view(store).write(h as u64, input).map_err(err)?;
        }
        let rc = self.func.call(store).map_err(err)?;
        let error = k.error_get.call(store).map_err(err)?;
        if error != 0 && k.length.call(store, error).map_err(err)? > 0 {
            bail!("plugin error");
        }
        ensure!(rc == 0, "rc {rc}");
        let off = k.output_offset.call(store).map_err(err)?;
        let len = k.output_length.call(store).map_err(err)?;
        let mut out = vec![0u8; len as usize];
        k.memory
            .view(store)
            .read(off as u64, &mut out)
            .map_err(err)?;
        Ok(out)
    }
}

// ------------------------------------------------------------------------------------------------
// Measurement
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Stats {
    median_ns: f64,
    p90_ns: f64,
    n: usize,
}

fn stats(mut samples: Vec<u64>) -> Stats {
    samples.sort_unstable();
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2] as f64
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) as f64 / 2.0
    };
    let p90 = samples[(n * 9).div_ceil(10).max(1) - 1] as f64;
    Stats {
        median_ns: median,
        p90_ns: p90,
        n,
    }
}

/// Timing plan of one case: samples per variant, warm-up calls per variant, and a wall-clock
/// budget for the case (both variants together) after which sampling stops early.
struct Plan {
    iters: usize,
    warmup: usize,
    budget: Duration,
}

const ROUNDS: usize = 5;
const MIN_SAMPLES: usize = 15;

struct CaseResult {
    name: &'static str,
    a: Stats,
    b: Stats,
    a_host_calls: u64,
}

type Run<'a> = Box<dyn FnMut() -> Result<Vec<u8>> + 'a>;

/// Checks each variant's first output, warms both up, then samples them in `ROUNDS`
/// alternating rounds (A, B, A, B, ...).
fn measure_pair<'a>(
    name: &'static str,
    plan: &Plan,
    check: &dyn Fn(&[u8]) -> Result<()>,
    mut a: Run<'a>,
    mut b: Run<'a>,
    a_host_calls: u64,
) -> Result<CaseResult> {
    check(&a()?).with_context(|| format!("{name}: variant A output"))?;
    check(&b()?).with_context(|| format!("{name}: variant B output"))?;
    for _ in 0..plan.warmup {
        black_box(a()?);
        black_box(b()?);
    }
    let per_round = plan.iters.div_ceil(ROUNDS);
    let (mut sa, mut sb) = (
        Vec::with_capacity(plan.iters),
        Vec::with_capacity(plan.iters),
    );
    let start = Instant::now();
    for round in 0..ROUNDS {
        // Past the budget: stop, but only once both variants have enough samples.
        if round > 0 && start.elapsed() > plan.budget && sa.len() >= MIN_SAMPLES {
            break;
        }
        let round_budget = plan.budget / ROUNDS as u32 / 2;
        for (run, samples) in [(&mut a, &mut sa), (&mut b, &mut sb)] {
            let t_round = Instant::now();
            for i in 0..per_round {
                if i > MIN_SAMPLES / ROUNDS && t_round.elapsed() > round_budget {
                    break;
                }
                let t = Instant::now();
                let out = run()?;
                samples.push(t.elapsed().as_nanos() as u64);
                black_box(out);
            }
        }
    }
    Ok(CaseResult {
        name,
        a: stats(sa),
        b: stats(sb),
        a_host_calls,
    })
}

/// Host calls one invocation makes under the native arena (instrumented build, untimed).
fn count_host_calls(engine: &Engine, plugin: &Module, export: &str, input: &[u8]) -> Result<u64> {
    let mut s = ArenaSession::new::<true>(engine, plugin, export)?;
    s.call(input)?;
    Ok(s.env.as_ref(&s.store).calls)
}

// ------------------------------------------------------------------------------------------------
// Inputs, expected outputs, report
// ------------------------------------------------------------------------------------------------

fn text_1k() -> Vec<u8> {
    let base = b"The quick brown fox jumps over the lazy dog; Navidrome plugins count AEIOU too. ";
    base.iter().copied().cycle().take(1024).collect()
}

/// Deterministic pseudo-random bytes (xorshift), so echo moves non-trivial data.
fn bytes(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn expect_vowels(input: &[u8]) -> String {
    let n = input.iter().filter(|c| b"aeiouAEIOU".contains(c)).count();
    format!(r#"{{"count":{n},"total":{n},"vowels":"aeiouAEIOU"}}"#)
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.1} µs", ns / 1e3)
    }
}

fn fixture_path() -> PathBuf {
    if let Some(p) = std::env::var_os("ND_KERNEL_FIXTURE") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/fixtures/wasm32-unknown-unknown/kernel.wasm")
}

fn main() -> Result<()> {
    let total = Instant::now();
    let path = fixture_path();
    let wasm = std::fs::read(&path).with_context(|| {
        format!(
            "{} missing: run `cargo xtask build-plugins`",
            path.display()
        )
    })?;
    let engine = Engine::default();
    let t = Instant::now();
    let plugin = Module::new(&engine, &wasm).map_err(err)?;
    let compile_plugin = t.elapsed();
    let t = Instant::now();
    let kernel = Module::new(&engine, KERNEL_WAT).map_err(err)?;
    let compile_kernel = t.elapsed();

    let text = text_1k();
    let vowels = expect_vowels(&text);
    let check_vowels = |out: &[u8]| -> Result<()> {
        ensure!(
            out == vowels.as_bytes(),
            "got {:?}, want {vowels}",
            String::from_utf8_lossy(out)
        );
        Ok(())
    };
    let in_64k = bytes(64 << 10);
    let in_1m = bytes(1 << 20);
    let check_64k = |out: &[u8]| -> Result<()> {
        ensure!(
            out == in_64k.as_slice(),
            "echo 64 KiB: output differs (len {})",
            out.len()
        );
        Ok(())
    };
    let check_1m = |out: &[u8]| -> Result<()> {
        ensure!(
            out == in_1m.as_slice(),
            "echo 1 MiB: output differs (len {})",
            out.len()
        );
        Ok(())
    };

    let calls_vowels = count_host_calls(&engine, &plugin, "count_vowels", &text)?;
    let calls_64k = count_host_calls(&engine, &plugin, "echo", &in_64k)?;
    let calls_1m = count_host_calls(&engine, &plugin, "echo", &in_1m)?;

    let (e, p, k) = (&engine, &plugin, &kernel);
    let mut results = Vec::new();

    // (1) fresh Store + instance(s) + count_vowels(1 KB) + drop
    let plan = Plan {
        iters: 3000,
        warmup: 200,
        budget: Duration::from_secs(6),
    };
    results.push(measure_pair(
        "fresh count_vowels 1 KB",
        &plan,
        &check_vowels,
        Box::new(|| ArenaSession::new::<false>(e, p, "count_vowels")?.call(&text)),
        Box::new(|| KernelSession::new(e, k, p, "count_vowels")?.call(&text)),
        calls_vowels,
    )?);

    // (1b) supplementary: the instantiation part of (1) alone (no call), to isolate the cost
    // of B's extra instance
    let check_none = |_: &[u8]| -> Result<()> { Ok(()) };
    let plan = Plan {
        iters: 3000,
        warmup: 200,
        budget: Duration::from_secs(5),
    };
    results.push(measure_pair(
        "fresh, instantiate only",
        &plan,
        &check_none,
        Box::new(|| ArenaSession::new::<false>(e, p, "count_vowels").map(|_| Vec::new())),
        Box::new(|| KernelSession::new(e, k, p, "count_vowels").map(|_| Vec::new())),
        0,
    )?);

    // (2) reused instance, count_vowels(1 KB)
    let mut sa = ArenaSession::new::<false>(e, p, "count_vowels")?;
    let mut sb = KernelSession::new(e, k, p, "count_vowels")?;
    let plan = Plan {
        iters: 20_000,
        warmup: 1000,
        budget: Duration::from_secs(5),
    };
    results.push(measure_pair(
        "reused count_vowels 1 KB",
        &plan,
        &check_vowels,
        Box::new(|| sa.call(&text)),
        Box::new(|| sb.call(&text)),
        calls_vowels,
    )?);

    // (3) reused instance, echo 64 KiB and 1 MiB
    let mut sa = ArenaSession::new::<false>(e, p, "echo")?;
    let mut sb = KernelSession::new(e, k, p, "echo")?;
    let plan = Plan {
        iters: 1500,
        warmup: 50,
        budget: Duration::from_secs(6),
    };
    results.push(measure_pair(
        "reused echo 64 KiB",
        &plan,
        &check_64k,
        Box::new(|| sa.call(&in_64k)),
        Box::new(|| sb.call(&in_64k)),
        calls_64k,
    )?);
    let plan = Plan {
        iters: 150,
        warmup: 5,
        budget: Duration::from_secs(8),
    };
    results.push(measure_pair(
        "reused echo 1 MiB",
        &plan,
        &check_1m,
        Box::new(|| sa.call(&in_1m)),
        Box::new(|| sb.call(&in_1m)),
        calls_1m,
    )?);
    drop((sa, sb));

    // (4) fresh Store + instance(s) + echo(1 MiB) + drop
    let plan = Plan {
        iters: 100,
        warmup: 5,
        budget: Duration::from_secs(8),
    };
    results.push(measure_pair(
        "fresh echo 1 MiB",
        &plan,
        &check_1m,
        Box::new(|| ArenaSession::new::<false>(e, p, "echo")?.call(&in_1m)),
        Box::new(|| KernelSession::new(e, k, p, "echo")?.call(&in_1m)),
        calls_1m,
    )?);

    // ---- report ----
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let loadavg = loadavg
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    println!();
    println!(
        "kernel_choice: A = native arena (host fns over Vec<u8>), B = wasm kernel (kernel.wat instance)"
    );
    println!(
        "wasmer 7.4.2, Engine::default() (Cranelift), fixture {} ({} KB); compile plugin {:.0} ms, kernel.wat {:.1} ms; loadavg {loadavg}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        wasm.len() / 1000,
        compile_plugin.as_secs_f64() * 1e3,
        compile_kernel.as_secs_f64() * 1e3,
    );
    println!();
    println!(
        "| {:<24} | {:>10} | {:>10} | {:>10} | {:>10} | {:>5} | {:>7} | {:>12} | {:>11} |",
        "case",
        "A median",
        "A p90",
        "B median",
        "B p90",
        "B/A",
        "B/A p90",
        "A host calls",
        "n (A/B)"
    );
    println!(
        "|{:-<26}|{:->12}|{:->12}|{:->12}|{:->12}|{:->7}|{:->9}|{:->14}|{:->13}|",
        "", "", "", "", "", "", "", "", ""
    );
    for r in &results {
        println!(
            "| {:<24} | {:>10} | {:>10} | {:>10} | {:>10} | {:>5.2} | {:>7.2} | {:>12} | {:>11} |",
            r.name,
            fmt_ns(r.a.median_ns),
            fmt_ns(r.a.p90_ns),
            fmt_ns(r.b.median_ns),
            fmt_ns(r.b.p90_ns),
            r.b.median_ns / r.a.median_ns,
            r.b.p90_ns / r.a.p90_ns,
            r.a_host_calls,
            format!("{}/{}", r.a.n, r.b.n),
        );
    }
    println!();
    println!(
        "A host calls = extism:host/env calls made by the plugin per invocation (counted once with an instrumented arena); under B they are wasm→wasm calls."
    );

    let cases: Vec<_> = results
        .iter()
        .map(|r| {
            serde_json::json!({
                "case": r.name,
                "a": {"median_ns": r.a.median_ns, "p90_ns": r.a.p90_ns, "n": r.a.n},
                "b": {"median_ns": r.b.median_ns, "p90_ns": r.b.p90_ns, "n": r.b.n},
                "ratio_b_over_a_median": r.b.median_ns / r.a.median_ns,
                "ratio_b_over_a_p90": r.b.p90_ns / r.a.p90_ns,
                "a_host_calls_per_invocation": r.a_host_calls,
            })
        })
        .collect();
    let json = serde_json::json!({
        "bench": "kernel_choice",
        "wasmer": "7.4.2",
        "engine": "cranelift (Engine::default)",
        "fixture": "kernel.wasm (wasm32-unknown-unknown)",
        "variants": {"a": "native arena", "b": "wasm kernel (src/kernel/kernel.wat)"},
        "compile_plugin_ms": compile_plugin.as_secs_f64() * 1e3,
        "compile_kernel_ms": compile_kernel.as_secs_f64() * 1e3,
        "loadavg": loadavg,
        "total_s": total.elapsed().as_secs_f64(),
        "cases": cases,
    });
    println!("JSON: {json}");
    Ok(())
}
