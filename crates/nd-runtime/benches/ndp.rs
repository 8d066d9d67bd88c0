//! `ndp` side of `cargo xtask bench`: the same cases, inputs and iteration counts as
//! `bench/extism-ref`, measured through nd-runtime's public API, printed as one JSON object:
//! `{"runtime":"ndp","cases":{"<case>":{"p50_us":..,"p90_us":..,"mean_us":..,"iters":N}}}`.
//!
//! Usage: `cargo bench -p nd-runtime --bench ndp -- --kernel-wasm P --hostfns-wasm P
//! --scrobble P [--rounds N]`.
//!
//! "fresh" cases are Navidrome's contract, a new instance for every call. `fresh_*` measures a
//! call whose instance was prepared ahead (the runtime's normal path when calls are not
//! back-to-back: the loop leaves the preparer thread time to refill between calls, and only
//! the call is timed); `fresh_*_inline` disables preparation, so instantiation is on the
//! critical path of every call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nd_runtime::{
    HostError, HostImports, HostService, Plugin, PluginConfig, RegisterError, Runtime,
    RuntimeConfig, Signature, USER_NAMESPACE, Val, ValType,
};

struct Stats {
    p50: f64,
    p90: f64,
    mean: f64,
    iters: usize,
}

fn measure(iters: usize, mut f: impl FnMut() -> Duration) -> Stats {
    for _ in 0..(iters / 10).max(1) {
        f();
    }
    let mut samples: Vec<f64> = (0..iters).map(|_| f().as_secs_f64() * 1e6).collect();
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    Stats {
        p50: samples[samples.len() / 2],
        p90: samples[samples.len() * 9 / 10],
        mean,
        iters,
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

/// The host functions of the `hostfns` fixture, behaving as in `bench/extism-ref`.
struct BenchHost;

impl HostService for BenchHost {
    fn name(&self) -> &'static str {
        "bench"
    }
    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        imports.bytes(USER_NAMESPACE, "nd_json", |_, _| {
            Ok(br#"{"ok":true}"#.to_vec())
        });
        imports.bytes(USER_NAMESPACE, "call_export", |_, input| Ok(input));
        imports.bytes("ndtest:host", "upper", |_, s| Ok(s.to_ascii_uppercase()));
        imports.raw(
            USER_NAMESPACE,
            "add_i32",
            Signature::new([ValType::I32, ValType::I32], [ValType::I32]),
            |_, a| match a {
                [Val::I32(x), Val::I32(y)] => Ok(vec![Val::I32(x + y)]),
                _ => Err(HostError::Trap("bad args".into())),
            },
        );
        imports.raw(
            USER_NAMESPACE,
            "mul_f64",
            Signature::new([ValType::F64, ValType::F64], [ValType::F64]),
            |_, a| match a {
                [Val::F64(x), Val::F64(y)] => Ok(vec![Val::F64(x * y)]),
                _ => Err(HostError::Trap("bad args".into())),
            },
        );
        imports.raw(
            USER_NAMESPACE,
            "notify",
            Signature::new([ValType::I64], []),
            |_, _| Ok(vec![]),
        );
        imports.raw(
            USER_NAMESPACE,
            "pair",
            Signature::new([ValType::I64, ValType::I64], [ValType::I64]),
            |ctx, a| {
                let [Val::I64(x), Val::I64(y)] = a else {
                    return Err(HostError::Trap("bad args".into()));
                };
                let mut joined = ctx.read(*x as u64)?;
                joined.extend(ctx.read(*y as u64)?);
                Ok(vec![Val::I64(ctx.write(&joined)? as i64)])
            },
        );
        Ok(())
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let need = |n: &str| arg(&args, n).ok_or_else(|| format!("missing {n}"));
    let kernel_wasm = std::fs::read(need("--kernel-wasm")?)?;
    let hostfns_wasm = std::fs::read(need("--hostfns-wasm")?)?;
    let scrobble = std::fs::read(need("--scrobble")?)?;
    let rounds: usize = arg(&args, "--rounds")
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(1);

    let runtime = Runtime::new(RuntimeConfig::default())?;
    let kernel = runtime.compile("kernel", &kernel_wasm)?;
    let plugin = |prepared: usize| -> Result<Plugin, nd_runtime::Error> {
        let mut config = PluginConfig::new("bench");
        config.prepared_instances = prepared;
        runtime.load(&kernel, config)
    };
    let ahead = plugin(1)?;
    let inline = plugin(0)?;
    let expected_vowels = scrobble
        .iter()
        .filter(|b| b"aeiouAEIOU".contains(b))
        .count();
    let expected =
        format!(r#"{{"count":{expected_vowels},"total":{expected_vowels},"vowels":"aeiouAEIOU"}}"#);
    assert_eq!(ahead.call("count_vowels", &scrobble)?, expected.as_bytes());
    let echo_64k: Vec<u8> = (0..65536).map(|i| ((i * 31 + 7) % 251) as u8).collect();
    let echo_1m: Vec<u8> = (0..1 << 20).map(|i| ((i * 31 + 7) % 251) as u8).collect();
    assert_eq!(ahead.call("echo", &echo_1m)?, echo_1m);

    let mut cases: Vec<(&str, Stats)> = Vec::new();
    // Leaves the preparer time to refill the pool between calls; not timed.
    let pace = || std::thread::sleep(Duration::from_micros(800));
    cases.push((
        "fresh_count_vowels",
        measure(1000 * rounds, || {
            pace();
            timed(|| ahead.call("count_vowels", &scrobble)).0
        }),
    ));
    cases.push((
        "fresh_count_vowels_inline",
        measure(1000 * rounds, || {
            timed(|| inline.call("count_vowels", &scrobble)).0
        }),
    ));
    let mut instance = inline.instance()?;
    cases.push((
        "reused_count_vowels",
        measure(5000 * rounds, || {
            timed(|| instance.call("count_vowels", &scrobble)).0
        }),
    ));

    let mut config = PluginConfig::new("bench-host");
    config.services = vec![Arc::new(BenchHost)];
    let hostfns = runtime.load_wasm(&hostfns_wasm, config)?;
    let mut host_instance = hostfns.instance()?;
    assert_eq!(host_instance.call("host_roundtrip", b"100")?, b"ok");
    cases.push((
        "host_roundtrip_x100",
        measure(1000 * rounds, || {
            timed(|| host_instance.call("host_roundtrip", b"100")).0
        }),
    ));

    cases.push((
        "fresh_echo_64k",
        measure(500 * rounds, || {
            pace();
            timed(|| ahead.call("echo", &echo_64k)).0
        }),
    ));
    cases.push((
        "fresh_echo_1m",
        measure(100 * rounds, || {
            pace();
            timed(|| ahead.call("echo", &echo_1m)).0
        }),
    ));
    cases.push((
        "fresh_echo_1m_inline",
        measure(100 * rounds, || timed(|| inline.call("echo", &echo_1m)).0),
    ));
    cases.push((
        "reused_echo_1m",
        measure(200 * rounds, || timed(|| instance.call("echo", &echo_1m)).0),
    ));

    cases.push((
        "compile_cold",
        measure(5 * rounds, || {
            timed(|| runtime.compile("cold", &kernel_wasm)).0
        }),
    ));
    let cache_dir = tempfile::tempdir()?;
    let cached = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache_dir.path().to_owned()),
        cache_max_bytes: None,
    })?;
    cached.compile("warm", &kernel_wasm)?;
    cases.push((
        "compile_cached",
        measure(50 * rounds, || {
            let (t, c) = timed(|| cached.compile("warm", &kernel_wasm));
            assert!(c.map(|c| c.from_cache()).unwrap_or(false), "cache miss");
            t
        }),
    ));

    let body: Vec<String> = cases
        .iter()
        .map(|(name, s)| {
            format!(
                r#""{name}":{{"p50_us":{:.3},"p90_us":{:.3},"mean_us":{:.3},"iters":{}}}"#,
                s.p50, s.p90, s.mean, s.iters
            )
        })
        .collect();
    println!(r#"{{"runtime":"ndp","cases":{{{}}}}}"#, body.join(","));
    Ok(())
}
