//! `extism-ref`: the reference side of `cargo xtask bench`.
//!
//! Measures the OFFICIAL Extism runtime (`extism` crate 1.41, Wasmtime) on the same `.wasm` files
//! as ndp and prints one JSON object to stdout:
//!
//! ```text
//! {"runtime":"extism 1.41.0","cases":{"<case>":{"p50_us":..,"p90_us":..,"mean_us":..,"iters":N}, ...}}
//! ```
//!
//! Progress and diagnostics go to stderr. See README.md for the cases.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use extism::{
    CompiledPlugin, CurrentPlugin, Error, PTR, Plugin, PluginBuilder, UserData, Val, ValType,
};

/// Input of the `count_vowels` cases: a ~1 KB Navidrome scrobbler request. The same bytes are in
/// `bench/extism-ref/scrobble.json` (checked at compile time below), which the ndp side reads.
const SCROBBLE: &[u8] = br#"{"username":"alice","track":{"id":"3f2b8c1e9a7d4e6f8b0c2d4e6f8a0b1c","title":"Weightless (Live at the Royal Albert Hall)","album":"Selected Ambient Works: Volume II (Remastered)","artist":"Marconi Union","albumArtist":"Marconi Union","artists":[{"id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","name":"Marconi Union"},{"id":"0f9e8d7c6b5a49382716f5e4d3c2b1a0","name":"Jamie Crossley"}],"albumArtists":[{"id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","name":"Marconi Union"}],"duration":245.3,"trackNumber":3,"discNumber":1,"year":2012,"genre":"Ambient","bitRate":320,"suffix":"flac","path":"Marconi Union/Selected Ambient Works Volume II/03 - Weightless.flac","mbzRecordingId":"6b9a509f-6907-4a6e-9345-2f12da09ba4b","mbzAlbumId":"d3a2b0e4-9c1f-4f3e-8a7d-2b6c5e4f3a21","mbzArtistId":"8f6bd1e4-fbe1-4f50-aa9b-94c450ec0f11","mbzAlbumArtistId":"8f6bd1e4-fbe1-4f50-aa9b-94c450ec0f11","mbzReleaseGroupId":"b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e","mbzReleaseTrackId":"c9d8e7f6-a5b4-4c3d-2e1f-0a9b8c7d6e5f"},"timestamp":1732300000}"#;

const _: () = assert!(
    bytes_eq(SCROBBLE, include_bytes!("../scrobble.json")),
    "SCROBBLE must equal the bytes of scrobble.json"
);

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const VOWELS: &str = "aeiouAEIOU";

/// Iteration counts for `--rounds 1`: about 6 s in total on a 2-core VM (a third of it
/// `compile_cold`). `--rounds N` multiplies them (warm-up included); up to `--rounds 5` stays well
/// under a minute.
mod iters {
    pub const FRESH_COUNT_VOWELS: usize = 1000;
    pub const REUSED_COUNT_VOWELS: usize = 5000;
    pub const HOST_ROUNDTRIP_X100: usize = 1000;
    pub const FRESH_ECHO_64K: usize = 500;
    pub const FRESH_ECHO_1M: usize = 100;
    pub const REUSED_ECHO_1M: usize = 200;
    pub const COMPILE_COLD: usize = 5;
    pub const COMPILE_CACHED: usize = 50;
    /// Calls of the cache fixture's `bench` export, each making `CACHE_PAIRS` set+get pairs.
    pub const CACHE_SET_GET: usize = 30;
    pub const CACHE_PAIRS: usize = 1000;
}

struct Args {
    kernel_wasm: PathBuf,
    hostfns_wasm: PathBuf,
    rounds: usize,
    cache_dir: Option<PathBuf>,
    cache_wasm: Option<PathBuf>,
}

const USAGE: &str =
    "usage: extism-ref --kernel-wasm PATH --hostfns-wasm PATH [--cache-wasm PATH] [--rounds N] [--cache-dir DIR]";

fn parse_args() -> Result<Args, String> {
    let mut kernel_wasm = None;
    let mut hostfns_wasm = None;
    let mut rounds = 1usize;
    let mut cache_dir = None;
    let mut cache_wasm = None;
    let mut it = std::env::args_os().skip(1);
    while let Some(flag) = it.next() {
        let flag = flag.to_string_lossy().into_owned();
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--kernel-wasm" => kernel_wasm = Some(PathBuf::from(value)),
            "--hostfns-wasm" => hostfns_wasm = Some(PathBuf::from(value)),
            "--cache-dir" => cache_dir = Some(PathBuf::from(value)),
            "--cache-wasm" => cache_wasm = Some(PathBuf::from(value)),
            "--rounds" => {
                rounds = value
                    .to_string_lossy()
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("--rounds wants a positive integer, got {value:?}"))?;
            }
            _ => return Err(format!("unknown argument {flag:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        kernel_wasm: kernel_wasm.ok_or_else(|| format!("--kernel-wasm is required\n{USAGE}"))?,
        hostfns_wasm: hostfns_wasm.ok_or_else(|| format!("--hostfns-wasm is required\n{USAGE}"))?,
        rounds,
        cache_dir,
        cache_wasm,
    })
}

// ---------------------------------------------------------------------------------------------
// Host functions of the hostfns fixture. The handle-based ones use `extism::host_fn!`, i.e. the
// official path: `memory_get_val` for each argument, `memory_new` for the result.

extism::host_fn!(nd_json(_req: String) -> String { Ok(r#"{"ok":true}"#.to_string()) });
extism::host_fn!(pair(a: String, b: String) -> String { Ok(a + &b) });
extism::host_fn!(call_export(name: String) -> String { Ok(name) });
extism::host_fn!(upper(s: String) -> String { Ok(s.to_uppercase()) });

fn add_i32(
    _: &mut CurrentPlugin,
    inp: &[Val],
    out: &mut [Val],
    _: UserData<()>,
) -> Result<(), Error> {
    let (a, b) = (arg_i32(inp, 0)?, arg_i32(inp, 1)?);
    out[0] = Val::I32(a.wrapping_add(b));
    Ok(())
}

fn mul_f64(
    _: &mut CurrentPlugin,
    inp: &[Val],
    out: &mut [Val],
    _: UserData<()>,
) -> Result<(), Error> {
    let (a, b) = (arg_f64(inp, 0)?, arg_f64(inp, 1)?);
    out[0] = Val::F64((a * b).to_bits());
    Ok(())
}

fn notify(_: &mut CurrentPlugin, _: &[Val], _: &mut [Val], _: UserData<()>) -> Result<(), Error> {
    Ok(())
}

fn arg_i32(inp: &[Val], i: usize) -> Result<i32, Error> {
    inp.get(i)
        .and_then(Val::i32)
        .ok_or_else(|| Error::msg(format!("argument {i} is not an i32")))
}

fn arg_f64(inp: &[Val], i: usize) -> Result<f64, Error> {
    inp.get(i)
        .and_then(Val::f64)
        .ok_or_else(|| Error::msg(format!("argument {i} is not an f64")))
}

/// Every import of the hostfns fixture (unused definitions would be harmless).
/// The ten `cache_*` functions the `cache` fixture imports, over one `HashMap` of strings: the
/// same JSON parsing and answering as ndp's cache service, without its LRU bound and TTLs.
const CACHE_FUNCTIONS: [&str; 10] = [
    "cache_setstring",
    "cache_getstring",
    "cache_setint",
    "cache_getint",
    "cache_setfloat",
    "cache_getfloat",
    "cache_setbytes",
    "cache_getbytes",
    "cache_has",
    "cache_remove",
];

type CacheMap = std::collections::HashMap<String, String>;

fn with_cache_functions<'a>(
    mut b: PluginBuilder<'a>,
    map: &UserData<CacheMap>,
) -> PluginBuilder<'a> {
    for name in CACHE_FUNCTIONS {
        b = b.with_function(
            name,
            [PTR],
            [PTR],
            map.clone(),
            move |plugin: &mut CurrentPlugin, inp: &[Val], out: &mut [Val], ud: UserData<CacheMap>| {
                let arg = inp.first().ok_or_else(|| Error::msg("no argument"))?;
                let req: String = plugin.memory_get_val(arg)?;
                let req: serde_json::Value = serde_json::from_str(&req)?;
                let key = req["key"].as_str().unwrap_or_default().to_owned();
                let map = ud.get()?;
                let mut map = map.lock().map_err(|_| Error::msg("poisoned"))?;
                let resp = match name {
                    "cache_setstring" => {
                        let value = req["value"].as_str().unwrap_or_default().to_owned();
                        map.insert(key, value);
                        "{}".to_owned()
                    }
                    "cache_getstring" => match map.get(&key) {
                        Some(v) => serde_json::json!({"value": v, "exists": true}).to_string(),
                        None => "{}".to_owned(),
                    },
                    _ => "{}".to_owned(),
                };
                let slot = out.first_mut().ok_or_else(|| Error::msg("no result"))?;
                plugin.memory_set_val(slot, resp)?;
                Ok(())
            },
        );
    }
    b
}

fn with_host_functions(b: PluginBuilder<'_>) -> PluginBuilder<'_> {
    let ud = UserData::<()>::default;
    b.with_function("nd_json", [PTR], [PTR], ud(), nd_json)
        .with_function(
            "add_i32",
            [ValType::I32, ValType::I32],
            [ValType::I32],
            ud(),
            add_i32,
        )
        .with_function(
            "mul_f64",
            [ValType::F64, ValType::F64],
            [ValType::F64],
            ud(),
            mul_f64,
        )
        .with_function("notify", [PTR], [], ud(), notify)
        .with_function("pair", [PTR, PTR], [PTR], ud(), pair)
        .with_function("call_export", [PTR], [PTR], ud(), call_export)
        .with_function_in_namespace("ndtest:host", "upper", [PTR], [PTR], ud(), upper)
}

// ---------------------------------------------------------------------------------------------
// Timing

struct Stats {
    p50_us: f64,
    p90_us: f64,
    mean_us: f64,
    iters: usize,
}

/// Runs `f` `warmup` times untimed, then `iters` times, timing each iteration on its own.
fn measure(
    name: &str,
    warmup: usize,
    iters: usize,
    mut f: impl FnMut() -> Result<(), Error>,
) -> Result<Stats, Error> {
    for _ in 0..warmup {
        f()?;
    }
    let mut samples = Vec::with_capacity(iters);
    let total = Instant::now();
    for _ in 0..iters {
        let t = Instant::now();
        f()?;
        samples.push(t.elapsed().as_nanos() as f64 / 1000.0);
    }
    let total = total.elapsed();
    samples.sort_by(f64::total_cmp);
    let stats = Stats {
        p50_us: percentile(&samples, 0.50),
        p90_us: percentile(&samples, 0.90),
        mean_us: samples.iter().sum::<f64>() / samples.len() as f64,
        iters,
    };
    eprintln!(
        "extism-ref: {name:<22} p50 {:>10.1} us  p90 {:>10.1} us  mean {:>10.1} us  ({iters} iters, {:.2} s)",
        stats.p50_us,
        stats.p90_us,
        stats.mean_us,
        total.as_secs_f64()
    );
    Ok(stats)
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn warmup_of(iters: usize) -> usize {
    (iters / 10).max(2)
}

// ---------------------------------------------------------------------------------------------

/// Deterministic echo payload: byte i = (i * 31 + 7) % 251.
fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

/// A `PluginBuilder` as every case uses it: raw wasm bytes, WASI on.
fn builder(wasm: &[u8]) -> PluginBuilder<'_> {
    PluginBuilder::new(wasm).with_wasi(true)
}

fn check(what: &str, ok: bool, got: impl FnOnce() -> String) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::msg(format!("{what}: unexpected output {}", got())))
    }
}

fn run(args: &Args) -> Result<String, Error> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Error::msg(format!("reading {}: {e}", p.display())))
    };
    let kernel = read(&args.kernel_wasm)?;
    let hostfns = read(&args.hostfns_wasm)?;
    let n = |base: usize| base * args.rounds;
    let mut cases: Vec<(&'static str, Stats)> = Vec::new();
    let mut put = |name: &'static str, s: Stats| cases.push((name, s));

    // Compiled once for the instance cases; the cache is off so nothing is written outside.
    let kernel_compiled = CompiledPlugin::new(builder(&kernel).with_cache_disabled())?;
    let hostfns_compiled =
        CompiledPlugin::new(with_host_functions(builder(&hostfns).with_cache_disabled()))?;

    // Output checks, once per export.
    let vowels = SCROBBLE
        .iter()
        .filter(|b| VOWELS.as_bytes().contains(b))
        .count();
    let expected_vowels = format!(r#"{{"count":{vowels},"total":{vowels},"vowels":"{VOWELS}"}}"#);
    {
        let mut p = Plugin::new_from_compiled(&kernel_compiled)?;
        let out = p.call::<&[u8], &[u8]>("count_vowels", SCROBBLE)?;
        check("count_vowels", out == expected_vowels.as_bytes(), || {
            String::from_utf8_lossy(out).into_owned()
        })?;
        for size in [65_536, 1_048_576] {
            let input = payload(size);
            let out = p.call::<&[u8], &[u8]>("echo", &input)?;
            check("echo", out == input.as_slice(), || {
                format!("of {} bytes", out.len())
            })?;
        }
        let mut h = Plugin::new_from_compiled(&hostfns_compiled)?;
        let out = h.call::<&str, &str>("host_roundtrip", "100")?;
        check("host_roundtrip", out == "ok", || out.to_string())?;
        // Smoke test of the other host functions; not measured, so only reported.
        for (export, input) in [("call_raw", ""), ("call_ns", "abc"), ("call_json", "{}")] {
            match h.call::<&str, String>(export, input) {
                Ok(out) => eprintln!("extism-ref: hostfns {export}({input:?}) -> {out}"),
                Err(e) => eprintln!("extism-ref: warning: hostfns {export} failed: {e:#}"),
            }
        }
    }

    // 1. Fresh instance per call: the official runtime's new_from_compiled + call + drop.
    let it = n(iters::FRESH_COUNT_VOWELS);
    put(
        "fresh_count_vowels",
        measure("fresh_count_vowels", warmup_of(it), it, || {
            let mut p = Plugin::new_from_compiled(&kernel_compiled)?;
            std::hint::black_box(p.call::<&[u8], &[u8]>("count_vowels", SCROBBLE)?);
            Ok(())
        })?,
    );

    // 2. One instance, the same call repeated.
    let it = n(iters::REUSED_COUNT_VOWELS);
    let mut p = Plugin::new_from_compiled(&kernel_compiled)?;
    put(
        "reused_count_vowels",
        measure("reused_count_vowels", warmup_of(it), it, || {
            std::hint::black_box(p.call::<&[u8], &[u8]>("count_vowels", SCROBBLE)?);
            Ok(())
        })?,
    );
    drop(p);

    // 3. 100 host-function round trips (nd_json) inside one export call, reused instance.
    let it = n(iters::HOST_ROUNDTRIP_X100);
    let mut h = Plugin::new_from_compiled(&hostfns_compiled)?;
    put(
        "host_roundtrip_x100",
        measure("host_roundtrip_x100", warmup_of(it), it, || {
            std::hint::black_box(h.call::<&[u8], &[u8]>("host_roundtrip", b"100")?);
            Ok(())
        })?,
    );
    drop(h);

    // 4. Fresh instance per echo call.
    for (name, size, base) in [
        ("fresh_echo_64k", 65_536, iters::FRESH_ECHO_64K),
        ("fresh_echo_1m", 1_048_576, iters::FRESH_ECHO_1M),
    ] {
        let input = payload(size);
        let it = n(base);
        put(
            name,
            measure(name, warmup_of(it), it, || {
                let mut p = Plugin::new_from_compiled(&kernel_compiled)?;
                std::hint::black_box(p.call::<&[u8], &[u8]>("echo", &input)?);
                Ok(())
            })?,
        );
    }

    // 5. Reused instance, echo 1 MiB.
    if let Some(path) = &args.cache_wasm {
        let wasm = read(path)?;
        let map = UserData::new(CacheMap::new());
        let compiled =
            CompiledPlugin::new(with_cache_functions(builder(&wasm).with_cache_disabled(), &map))?;
        let pairs = iters::CACHE_PAIRS.to_string();
        let it = n(iters::CACHE_SET_GET);
        let mut stats = measure("cache_set_get", 2, it, || {
            let mut p = Plugin::new_from_compiled(&compiled)?;
            std::hint::black_box(p.call::<&str, &[u8]>("bench", &pairs)?);
            Ok(())
        })?;
        // Per set+get pair, as on the ndp side.
        let per = iters::CACHE_PAIRS as f64;
        stats.p50_us /= per;
        stats.p90_us /= per;
        stats.mean_us /= per;
        put("cache_set_get", stats);
    }

    let input = payload(1_048_576);
    let it = n(iters::REUSED_ECHO_1M);
    let mut p = Plugin::new_from_compiled(&kernel_compiled)?;
    put(
        "reused_echo_1m",
        measure("reused_echo_1m", warmup_of(it), it, || {
            std::hint::black_box(p.call::<&[u8], &[u8]>("echo", &input)?);
            Ok(())
        })?,
    );
    drop(p);
    drop(kernel_compiled);
    drop(hostfns_compiled);

    // 6. Compilation with the Wasmtime cache off (kernel module + Extism's own runtime module).
    let it = n(iters::COMPILE_COLD);
    put(
        "compile_cold",
        measure("compile_cold", 1, it, || {
            drop(std::hint::black_box(CompiledPlugin::new(
                builder(&kernel).with_cache_disabled(),
            )?));
            Ok(())
        })?,
    );

    // 7. Compilation that loads from the Wasmtime cache (warm-up fills it).
    let (cache_config, temp_dir) = write_cache_config(args.cache_dir.as_deref())?;
    let it = n(iters::COMPILE_CACHED);
    let cached = measure("compile_cached", 2, it, || {
        drop(std::hint::black_box(CompiledPlugin::new(
            builder(&kernel).with_cache_config(&cache_config),
        )?));
        Ok(())
    });
    if let Some(dir) = temp_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    put("compile_cached", cached?);

    Ok(to_json(&cases))
}

/// The one JSON object on stdout, cases in measurement order. Every string in it is a fixed ASCII
/// name, so no escaping is needed.
fn to_json(cases: &[(&str, Stats)]) -> String {
    let version = extism::extism_version().trim_end_matches('\0');
    let cases: Vec<String> = cases
        .iter()
        .map(|(name, s)| {
            format!(
                r#""{name}":{{"p50_us":{:.3},"p90_us":{:.3},"mean_us":{:.3},"iters":{}}}"#,
                s.p50_us, s.p90_us, s.mean_us, s.iters
            )
        })
        .collect();
    format!(
        r#"{{"runtime":"extism {version}","cases":{{{}}}}}"#,
        cases.join(",")
    )
}

/// Writes a Wasmtime cache config (TOML, `[cache]` table) whose `directory` is inside the cache
/// dir (`--cache-dir`, or a temporary directory that the caller removes afterwards). Returns the
/// config file path and the temporary directory, if one was made.
fn write_cache_config(cache_dir: Option<&Path>) -> Result<(PathBuf, Option<PathBuf>), Error> {
    let (dir, temp) = match cache_dir {
        Some(d) => (d.to_path_buf(), None),
        None => {
            let d = std::env::temp_dir().join(format!("extism-ref-cache-{}", std::process::id()));
            (d.clone(), Some(d))
        }
    };
    let store = dir.join("wasmtime");
    std::fs::create_dir_all(&store)
        .map_err(|e| Error::msg(format!("creating {}: {e}", store.display())))?;
    // Wasmtime wants an absolute directory.
    let store = std::fs::canonicalize(&store)?;
    let store = store
        .to_str()
        .ok_or_else(|| Error::msg(format!("cache dir {} is not UTF-8", store.display())))?;
    let escaped = store.replace('\\', "\\\\").replace('"', "\\\"");
    let config = dir.join("wasmtime-cache.toml");
    std::fs::write(&config, format!("[cache]\ndirectory = \"{escaped}\"\n"))?;
    Ok((config, temp))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    // anyhow captures a backtrace for every `Error` it builds when RUST_BACKTRACE=1 is set, and
    // Extism builds one on every call (`store.get_fuel()` without fuel), which triples the
    // per-call cost. Measure the runtime as it runs by default, whatever the caller's env says.
    // SAFETY: no other thread exists yet.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    match run(&args) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("extism-ref: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
