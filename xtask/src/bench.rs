//! `cargo xtask bench`: measures ndp and the official Extism runtime on the same fixture
//! `.wasm` files in the same run, prints ndp/extism ratios, and rewrites `BENCHMARKS.md`.
//!
//! - ndp: `cargo bench -p nd-runtime --bench ndp` (public API of nd-runtime).
//! - Extism: `bench/extism-ref`, its own cargo workspace on the `extism` crate 1.41 (Wasmtime 49),
//!   built into `target/extism-ref`. Wasmtime 49 declares rust-version 1.96 while this machine
//!   has 1.95, so it is built with `--ignore-rust-version` (it compiles and runs fine).
//! - The state services: `cargo bench -p nd-host-sched --bench state` (cache and KV store round
//!   trips from inside a plugin, scheduler lateness with 10,000 active schedules); the cache
//!   case is also measured on Extism, with host functions of the same names over a `HashMap`.
//! - The network services: `cargo bench -p nd-host-http --bench http` (`http_send` from a
//!   plugin against the same request made directly with ureq) and, when present,
//!   `-p nd-host-ws --bench ws` (WebSocket message → callback latency).
//! - The kernel design experiment: `cargo bench -p nd-runtime --bench kernel_choice`, whose
//!   table is copied into the report.
//!
//! Both sides print `{"runtime":..,"cases":{name:{"p50_us",..}}}`; cases that exist on both
//! sides get a ratio. `--rounds N` multiplies iteration counts on both sides.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, bail};

use crate::{cargo, fixtures};

/// Case name, what it measures, and whether a target applies (ratio must be ≤ the bound).
const CASES: &[(&str, &str, Option<f64>)] = &[
    (
        "fresh_count_vowels",
        "fresh instance per call, count vowels of a 1 KB scrobble JSON",
        Some(0.5),
    ),
    (
        "fresh_count_vowels_inline",
        "same, instance created on the call's critical path (ndp only: no preparation)",
        None,
    ),
    ("reused_count_vowels", "reused instance, same call", None),
    (
        "host_roundtrip_x100",
        "reused instance, export making 100 host-function calls",
        Some(1.0),
    ),
    ("fresh_echo_64k", "fresh instance, echo 64 KiB", None),
    ("fresh_echo_1m", "fresh instance, echo 1 MiB", Some(1.0)),
    (
        "fresh_echo_1m_inline",
        "same, instance created on the critical path",
        None,
    ),
    ("reused_echo_1m", "reused instance, echo 1 MiB", None),
    (
        "compile_cold",
        "compile kernel.wasm (349 KB) without cache",
        None,
    ),
    (
        "compile_cached",
        "load kernel.wasm from the on-disk compilation cache",
        Some(1.0),
    ),
];

type Cases = BTreeMap<String, f64>;

/// State-service cases: name, what it measures.
const STATE_CASES: &[(&str, &str)] = &[
    (
        "cache_set_get",
        "`cache_setstring` + `cache_getstring` from inside a plugin, per pair",
    ),
    (
        "kvstore_set_get",
        "`kvstore_set` (durable redb commit) + `kvstore_get`, 100-byte value, from inside a plugin, per pair",
    ),
    (
        "kvstore_set_get_direct",
        "the same pair through `KvStore`'s Rust API, no plugin (the floor)",
    ),
    (
        "scheduler_lateness",
        "due time → callback start, 2,000 one-time fires among 10,000 active schedules",
    ),
];

/// Network cases: name, what it measures, and the case it is compared with (ratio = this / that).
const NET_CASES: &[(&str, &str, Option<&str>)] = &[
    (
        "http_send_call",
        "fresh-instance plugin call making one `http_send` GET to a loopback server",
        Some("http_ureq_direct"),
    ),
    (
        "http_send_reused",
        "the same call on a reused instance: the host-function path alone",
        Some("http_ureq_direct"),
    ),
    (
        "http_client_direct",
        "the same GET through ndp's `HttpClient` (policy, no plugin)",
        Some("http_ureq_direct"),
    ),
    (
        "http_ureq_direct",
        "the same GET with a plain `ureq::Agent` (no policy, no plugin)",
        None,
    ),
    (
        "ws_message_to_callback",
        "server sends a text frame → the plugin's `nd_websocket_on_text_message` starts",
        None,
    ),
];

/// p50 and p99 (µs) of each case of a JSON report line.
fn parse_p99(json: &str) -> anyhow::Result<BTreeMap<String, (f64, f64)>> {
    let line = json
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("no JSON line in output")?;
    let value: serde_json::Value = serde_json::from_str(line)?;
    let mut cases = BTreeMap::new();
    for (name, stats) in value["cases"].as_object().context("no cases")? {
        let p50 = stats["p50_us"].as_f64().context("no p50_us")?;
        let p99 = stats["p99_us"].as_f64().unwrap_or(f64::NAN);
        cases.insert(name.clone(), (p50, p99));
    }
    Ok(cases)
}

fn parse(json: &str) -> anyhow::Result<(String, Cases)> {
    let line = json
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("no JSON line in output")?;
    let value: serde_json::Value = serde_json::from_str(line)?;
    let runtime = value["runtime"].as_str().unwrap_or("?").to_owned();
    let mut cases = Cases::new();
    for (name, stats) in value["cases"].as_object().context("no cases")? {
        cases.insert(name.clone(), stats["p50_us"].as_f64().context("no p50_us")?);
    }
    Ok((runtime, cases))
}

fn output(cmd: &mut std::process::Command) -> anyhow::Result<String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn fmt_us(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let rounds = match args {
        [] => "1".to_owned(),
        [flag, n] if flag == "--rounds" => n.clone(),
        _ => bail!("usage: cargo xtask bench [--rounds N]"),
    };
    fixtures::build(root)?;
    let fixtures = root.join("target/fixtures/wasm32-wasip1");
    let kernel = fixtures.join("kernel.wasm");
    let hostfns = fixtures.join("hostfns.wasm");
    let cache = fixtures.join("cache.wasm");
    let scrobble = root.join("bench/extism-ref/scrobble.json");

    eprintln!("building bench/extism-ref (the official runtime; a cold build takes ~20 min)");
    crate::run_status(
        cargo()
            .current_dir(root.join("bench/extism-ref"))
            .env("CARGO_TARGET_DIR", root.join("target/extism-ref"))
            .args(["build", "--release", "--ignore-rust-version"]),
    )?;

    eprintln!("measuring ndp");
    let ndp = output(
        cargo()
            .current_dir(root)
            .args([
                "bench",
                "-p",
                "nd-runtime",
                "--bench",
                "ndp",
                "--",
                "--kernel-wasm",
            ])
            .arg(&kernel)
            .arg("--hostfns-wasm")
            .arg(&hostfns)
            .arg("--scrobble")
            .arg(&scrobble)
            .args(["--rounds", &rounds]),
    )?;
    eprintln!("measuring the official Extism runtime");
    let extism = output(
        std::process::Command::new(root.join("target/extism-ref/release/extism-ref"))
            .env_remove("RUST_BACKTRACE")
            .arg("--kernel-wasm")
            .arg(&kernel)
            .arg("--hostfns-wasm")
            .arg(&hostfns)
            .arg("--cache-wasm")
            .arg(&cache)
            .args(["--rounds", &rounds]),
    )?;
    eprintln!("measuring the network services");
    let mut net = parse_p99(&output(
        cargo()
            .current_dir(root)
            .args(["bench", "-p", "nd-host-http", "--bench", "http", "--"])
            .arg("--fixtures")
            .arg(&fixtures)
            .args(["--rounds", &rounds]),
    )?)?;
    if root.join("crates/nd-host-ws/benches/ws.rs").is_file() {
        net.extend(parse_p99(&output(
            cargo()
                .current_dir(root)
                .args(["bench", "-p", "nd-host-ws", "--bench", "ws", "--"])
                .arg("--fixtures")
                .arg(&fixtures)
                .args(["--rounds", &rounds]),
        )?)?);
    }
    eprintln!("measuring the state services");
    let state = output(
        cargo()
            .current_dir(root)
            .args(["bench", "-p", "nd-host-sched", "--bench", "state", "--"])
            .arg("--fixtures")
            .arg(&fixtures)
            .args(["--rounds", &rounds]),
    )?;
    eprintln!("measuring the kernel design experiment");
    let kernel_choice = output(cargo().current_dir(root).args([
        "bench",
        "-p",
        "nd-runtime",
        "--bench",
        "kernel_choice",
    ]))?;

    let (ndp_name, ndp) = parse(&ndp)?;
    let (extism_name, extism) = parse(&extism)?;
    let mut table = String::new();
    writeln!(
        table,
        "| case | what | ndp p50 | extism p50 | ndp/extism | target |"
    )?;
    writeln!(table, "|---|---|---|---|---|---|")?;
    for (name, what, target) in CASES {
        let Some(n) = ndp.get(*name) else { continue };
        let base = name.trim_end_matches("_inline");
        let (e, ratio) = match extism.get(base) {
            Some(e) => (fmt_us(*e), format!("{:.2}×", n / e)),
            None => ("–".into(), "–".into()),
        };
        let target = match (target, extism.get(base)) {
            (Some(t), Some(e)) => format!(
                "≤ {t} {}",
                if n / e <= *t {
                    "✅ met"
                } else {
                    "❌ not met"
                }
            ),
            _ => String::new(),
        };
        writeln!(
            table,
            "| `{name}` | {what} | {} | {e} | {ratio} | {target} |",
            fmt_us(*n)
        )?;
    }
    println!("{ndp_name} vs {extism_name}, p50 per call (rounds = {rounds})\n\n{table}");

    let state = parse_p99(&state)?;
    let mut state_table = String::new();
    writeln!(
        state_table,
        "| case | what | ndp p50 | ndp p99 | extism p50 | ndp/extism |"
    )?;
    writeln!(state_table, "|---|---|---|---|---|---|")?;
    for (name, what) in STATE_CASES {
        let Some((p50, p99)) = state.get(*name) else {
            continue;
        };
        let (e, ratio) = match extism.get(*name) {
            Some(e) => (fmt_us(*e), format!("{:.2}×", p50 / e)),
            None => ("–".into(), "–".into()),
        };
        writeln!(
            state_table,
            "| `{name}` | {what} | {} | {} | {e} | {ratio} |",
            fmt_us(*p50),
            fmt_us(*p99)
        )?;
    }
    println!("state services (rounds = {rounds})\n\n{state_table}");

    let mut net_table = String::new();
    writeln!(net_table, "| case | what | p50 | p99 | ratio |")?;
    writeln!(net_table, "|---|---|---|---|---|")?;
    for (name, what, base) in NET_CASES {
        let Some((p50, p99)) = net.get(*name) else {
            continue;
        };
        let ratio = match base.and_then(|b| net.get(b).map(|(p, _)| (b, p))) {
            Some((b, p)) => format!("{:.2}× `{b}`", p50 / p),
            None => "–".into(),
        };
        writeln!(
            net_table,
            "| `{name}` | {what} | {} | {} | {ratio} |",
            fmt_us(*p50),
            fmt_us(*p99)
        )?;
    }
    println!("network services (rounds = {rounds})\n\n{net_table}");
    let kernel_table: String = kernel_choice
        .lines()
        .filter(|l| !l.starts_with("JSON:"))
        .collect::<Vec<_>>()
        .join("\n");
    println!("{kernel_table}");

    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let report = format!(
        "# Benchmarks\n\n\
         Generated by `cargo xtask bench --rounds {rounds}` (do not edit by hand; rerun it).\n\
         Machine: {machine}, {cores} cores. Both runtimes run the same `.wasm` files\n\
         (`target/fixtures/wasm32-wasip1/{{kernel,hostfns}}.wasm`, WASI on) in the same run;\n\
         numbers are the median of per-call times. The official runtime is the `extism` crate\n\
         1.41.0 on Wasmtime 49 (`bench/extism-ref`), with its fresh-instance path\n\
         `Plugin::new_from_compiled` + call + drop. Timing on a shared 2-core VM is noisy: read\n\
         ratios, not absolute numbers, and rerun before drawing conclusions.\n\n\
         ## ndp against the official Extism runtime\n\n{table}\n\
         `fresh_*` on ndp is a call whose instance was prepared ahead by the runtime's preparer\n\
         thread (its normal path when calls are not back to back; the benchmark leaves 0.8 ms\n\
         between calls and times only the call); `*_inline` turns preparation off so that\n\
         instantiation is on the critical path, for comparison.\n\n\
         ## State services\n\n\
         `cargo bench -p nd-host-sched --bench state`. The Extism column runs the same `cache`\n\
         fixture with host functions of the same names that parse the same JSON and keep a\n\
         `HashMap` (no LRU, no TTL): the cost of the host-function path on both runtimes. The KV\n\
         store commits every write durably (fsync) before answering, so its numbers are the\n\
         disk's; `kvstore_set_get_direct` shows that floor without a plugin.\n\n{state_table}\n\
         ## Network services\n\n\
         `cargo bench -p nd-host-http --bench http` (and `-p nd-host-ws --bench ws`): the plugin\n\
         path against the same request made directly, to a server on 127.0.0.1 started by the\n\
         bench. `http_send_call` includes the fresh instance of its call; `http_send_reused` is the\n\
         host-function path alone. Loopback TCP round trips vary by a factor of 2–4 between runs\n\
         on this VM: compare cases within one run, and rerun before concluding.\n\n{net_table}\n\
         ## Kernel design: native arena against a wasm kernel\n\n\
         `cargo bench -p nd-runtime --bench kernel_choice` (see ARCHITECTURE.md for the decision):\n\n\
         ```text\n{kernel_table}\n```\n"
    );
    std::fs::write(root.join("BENCHMARKS.md"), report)?;
    eprintln!("wrote BENCHMARKS.md");
    Ok(())
}
