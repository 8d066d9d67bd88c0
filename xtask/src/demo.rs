//! `cargo xtask demo`: the README's first command. Builds the fixture plugins and the `ndp`
//! binary, then shows ndp doing its job on them: inspect a package, call exports, and show
//! how each kind of failure is reported, with the exit code of every command. The demo fails
//! if a command exits with another code than its step announces.

use std::path::Path;
use std::process::Command;

use anyhow::Context;

use crate::{cargo, fixtures, run_status};

/// (what it shows, ndp arguments); `{f}` is replaced by the fixtures directory, `{d}` by the
/// demo's data directory (emptied at the start of every demo).
const STEPS: &[(&str, &[&str])] = &[
    (
        "inspect a plugin package: manifest, permissions, capabilities, imports",
        &["info", "{f}/kernel.ndp"],
    ),
    (
        "call an export (a fresh wasm instance for every call)",
        &[
            "call",
            "{f}/kernel.ndp",
            "count_vowels",
            "--input",
            "Navidrome plugins on Wasmer",
        ],
    ),
    (
        "plugin configuration, read through Extism's config_get",
        &[
            "call",
            "{f}/kernel.ndp",
            "config",
            "--input",
            "greeting",
            "--config",
            "greeting=hello from the demo",
        ],
    ),
    (
        "WASI: no args, no environment",
        &["call", "{f}/kernel.ndp", "env_args"],
    ),
    (
        "a plugin error keeps its message (exit 1)",
        &[
            "call",
            "{f}/kernel.ndp",
            "fail",
            "--input",
            "the plugin said no",
        ],
    ),
    (
        "rc -2 means not implemented (exit 2)",
        &["call", "{f}/kernel.ndp", "not_implemented"],
    ),
    (
        "a runaway plugin is stopped at its deadline (exit 3)",
        &[
            "call",
            "{f}/kernel.ndp",
            "infinite_loop",
            "--timeout-ms",
            "300",
        ],
    ),
    (
        "a memory bomb hits the memory cap (exit 3)",
        &[
            "call",
            "{f}/kernel.ndp",
            "memory_bomb",
            "--max-memory-mb",
            "64",
        ],
    ),
    (
        "the egress policy refuses a loopback address and names the rule; --allow-local lets an operator allow it (exit 3)",
        &[
            "call",
            "{f}/kernel.ndp",
            "http_get",
            "--input",
            "http://127.0.0.1:9/",
        ],
    ),
    (
        "state services: the KV store of a plugin lives in the data directory (one process sets)",
        &[
            "--data-dir",
            "{d}",
            "call",
            "{f}/kvstore.ndp",
            "host",
            "--input",
            r#"{"fn":"kvstore_set","req":{"key":"greeting","value":"aGVsbG8gZnJvbSBhIHByZXZpb3VzIHByb2Nlc3M="}}"#,
        ],
    ),
    (
        "... and a second process reads it back (base64 of \"hello from a previous process\")",
        &[
            "--data-dir",
            "{d}",
            "call",
            "{f}/kvstore.ndp",
            "host",
            "--input",
            r#"{"fn":"kvstore_get","req":{"key":"greeting"}}"#,
        ],
    ),
    (
        "storage used, counted against the manifest's maxSize (10KB), via a port of Navidrome's test plugin",
        &[
            "--data-dir",
            "{d}",
            "call",
            "{f}/kvstore.ndp",
            "nd_test_kvstore",
            "--input",
            r#"{"operation":"get_storage_used"}"#,
        ],
    ),
    (
        "app-data services: the library service lists the demo catalog (real tagged FLAC and WAV files, written under the data directory)",
        &[
            "--data-dir",
            "{d}",
            "call",
            "{f}/appdata.ndp",
            "host",
            "--input",
            r#"{"fn":"library_getalllibraries"}"#,
        ],
    ),
    (
        "the matcher resolves song references against those files, as user alice (null: no match)",
        &[
            "--data-dir",
            "{d}",
            "call",
            "{f}/appdata.ndp",
            "host",
            "--input",
            r#"{"fn":"matcher_matchsongs","req":{"songs":[{"name":"take off","artist":"The Midnight Owls"},{"name":"Not In The Library"}],"opts":{"username":"alice"}}}"#,
        ],
    ),
    (
        "the plugin reads a file of the library through its read-only mount /libraries/1",
        &[
            "--data-dir",
            "{d}",
            "call",
            "{f}/appdata.ndp",
            "fs",
            "--input",
            r#"{"op":"list_dir","path":"/libraries/1/The Midnight Owls/Night Flight"}"#,
        ],
    ),
    (
        "... and cannot write to it: the jail refuses",
        &[
            "--data-dir",
            "{d}",
            "call",
            "{f}/appdata.ndp",
            "fs",
            "--input",
            r#"{"op":"write_file","path":"/libraries/1/graffiti.txt","data":"x"}"#,
        ],
    ),
    (
        "a plugin needing a service it was not granted does not load (exit 64)",
        &["call", "{f}/ndhost.ndp", "use_cache", "--input", "k"],
    ),
];

pub(crate) fn run(root: &Path, once: bool) -> anyhow::Result<()> {
    fixtures::build(root)?;
    eprintln!("building ndp and the embedding example");
    run_status(cargo().current_dir(root).args([
        "build",
        "--release",
        "-p",
        "nd-cli",
        "-p",
        "ndp-example-embedding",
    ]))?;
    let ndp = root.join("target/release/ndp");
    let dir = root.join("target/fixtures");
    let cache = root.join("target/demo-cache");
    let data = root.join("target/demo-data");
    if data.exists() {
        std::fs::remove_dir_all(&data).with_context(|| format!("emptying {}", data.display()))?;
    }
    for (what, args) in STEPS {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                a.replace("{f}", &dir.to_string_lossy())
                    .replace("{d}", &data.to_string_lossy())
            })
            .collect();
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.replace(&*root.to_string_lossy(), "."))
            .collect();
        println!("\n# {what}\n$ ndp {}", shown.join(" "));
        let status = Command::new(&ndp)
            .arg("--cache-dir")
            .arg(&cache)
            .args(&args)
            .status()
            .with_context(|| format!("could not run {}", ndp.display()))?;
        let code = status.code().unwrap_or(-1);
        println!("\n(exit {code})");
        // Each step states its expected exit code in its description ("(exit N)"; 0 if none).
        let expected = what
            .rsplit_once("(exit ")
            .and_then(|(_, rest)| rest.trim_end_matches(')').parse::<i32>().ok())
            .unwrap_or(0);
        if code != expected {
            anyhow::bail!("demo step `{what}` exited with {code}, expected {expected}");
        }
    }
    embedding(root, &dir, &data)?;
    serve(root, &ndp, &dir, &data, once)?;
    println!(
        "\nNext: `cargo xtask test` runs every test; `target/release/ndp --help` lists the commands."
    );
    Ok(())
}

/// The operator's view: install and enable plugins with the CLI on an embedded data directory
/// (with the demo music library), start `ndp serve`, drive a now-playing and a biography
/// lookup through its HTTP API as a music server would, and leave the admin page up until
/// Ctrl-C (or stop at once with `--once`).
fn serve(root: &Path, ndp: &Path, fixtures: &Path, data: &Path, once: bool) -> anyhow::Result<()> {
    let data = data.join("serve");
    let shown = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let cli = |args: &[&str]| -> anyhow::Result<()> {
        println!("\n$ ndp --data-dir {} {}", shown(&data), args.join(" "));
        run_status(Command::new(ndp).arg("--data-dir").arg(&data).args(args))
    };
    let _ = fixtures;
    eprintln!("building the example plugins");
    crate::plugins::build_examples(root)?;
    let examples = crate::plugins::examples_out(root);
    let hook = webhook_receiver()?;
    println!(
        "\n# the operator's view: two example plugins (examples/plugins) installed, configured \
         and enabled with the CLI, then `ndp serve` (a webhook receiver listens on {hook})"
    );
    for example in ["minimal", "webhook-scrobbler"] {
        let package = examples.join(format!("{example}.ndp"));
        cli(&["install", &package.to_string_lossy()])?;
    }
    let config = format!(r#"{{"urls":["{hook}"],"nowPlaying":true}}"#);
    cli(&[
        "config",
        "set",
        "webhook-scrobbler",
        "--json-value",
        &config,
    ])?;
    cli(&[
        "scope",
        "webhook-scrobbler",
        "--all-users",
        "--all-libraries",
    ])?;
    cli(&["enable", "minimal"])?;
    cli(&["enable", "webhook-scrobbler"])?;
    cli(&["list"])?;

    println!(
        "\n$ ndp --data-dir {} --allow-local 127.0.0.1 serve --listen 127.0.0.1:0",
        shown(&data)
    );
    let mut server = Command::new(ndp)
        .arg("--data-dir")
        .arg(&data)
        .args(["--allow-local", "127.0.0.1"])
        .args(["serve", "--listen", "127.0.0.1:0", "--token", "demo-token"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting ndp serve")?;
    let result = drive(&mut server, once);
    if once || result.is_err() {
        let _ = server.kill();
    }
    let _ = server.wait();
    result
}

/// Reads the server's banner, calls two capability endpoints, prints the admin URL, and
/// waits for the server (Ctrl-C) unless `once`.
fn drive(server: &mut std::process::Child, once: bool) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    let stdout = server.stdout.take().context("ndp serve has no stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut base = None;
    let mut admin = None;
    for line in lines.by_ref() {
        let line = line?;
        println!("{line}");
        if let Some(url) = line.strip_prefix("ndp serve: listening on ") {
            base = Some(url.trim_end_matches('/').to_owned());
        }
        if let Some(url) = line.strip_prefix("admin page: ") {
            admin = Some(url.to_owned());
        }
        if line.starts_with("stop with Ctrl-C") {
            break;
        }
    }
    let base = base.context("ndp serve did not print its address")?;
    let addr = base.trim_start_matches("http://").to_owned();
    let track = r#"{"id":"t1","title":"Take Off","artist":"The Midnight Owls","album":"Night Flight","duration":1.2}"#;
    for (what, path, body) in [
        (
            "a music server reports what alice is playing: every scrobbler allowed to see alice gets it",
            "/api/v1/scrobbler/now-playing",
            format!(r#"{{"username":"alice","track":{track},"position":30}}"#),
        ),
        (
            "and asks the metadata agents for an artist biography (the first one that answers)",
            "/api/v1/artist/biography",
            r#"{"id":"ar-1","name":"The Midnight Owls"}"#.to_owned(),
        ),
    ] {
        println!(
            "\n# {what}\n$ curl -H 'Authorization: Bearer demo-token' -d '{body}' {base}{path}"
        );
        let answer = post(&addr, path, "demo-token", &body)?;
        println!("{answer}");
    }
    let admin = admin.context("ndp serve did not print the admin page URL")?;
    println!("\nadmin page: {admin}");
    if once {
        return Ok(());
    }
    println!("(the server keeps running; open the admin page, then stop it with Ctrl-C)");
    // Keep echoing the server's output until it exits.
    for line in lines {
        println!("{}", line?);
    }
    Ok(())
}

/// A tiny webhook receiver on 127.0.0.1 for the demo's scrobbler: prints every request body it
/// gets and answers 200. Returns its URL.
fn webhook_receiver() -> anyhow::Result<String> {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            if k.eq_ignore_ascii_case("content-length") {
                                v.trim().parse::<usize>().ok()
                            } else {
                                None
                            }
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        println!("  [webhook receiver] got: {body}");
                        break;
                    }
                }
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    Ok(url)
}

/// A minimal HTTP/1.1 POST with a bearer token over a plain TCP connection (the demo needs no
/// HTTP client crate for two requests); returns the body.
fn post(addr: &str, path: &str, token: &str, body: &str) -> anyhow::Result<String> {
    use std::io::{Read as _, Write as _};
    let mut stream =
        std::net::TcpStream::connect(addr).with_context(|| format!("connecting {addr}"))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or_default();
    anyhow::ensure!(status.contains(" 200 "), "{path}: {status}: {body}");
    Ok(body.to_owned())
}

/// The manager embedded in an application (`examples/embedding`): a plugins folder with two
/// metadata agents and a cache plugin; new plugins start disabled, the example enables them
/// and asks every metadata agent for a biography.
fn embedding(root: &Path, fixtures: &Path, data: &Path) -> anyhow::Result<()> {
    let plugins = data.join("embedding/plugins");
    std::fs::create_dir_all(&plugins)?;
    for (fixture, id) in [
        ("agent", "agent"),
        ("partialagent", "partial"),
        ("cache", "cache"),
    ] {
        std::fs::copy(
            fixtures.join(format!("{fixture}.ndp")),
            plugins.join(format!("{id}.ndp")),
        )
        .with_context(|| format!("copying {fixture}.ndp"))?;
    }
    let state = data.join("embedding/data");
    println!(
        "\n# an application embedding the manager (examples/embedding): load a plugins folder, ask every metadata agent for a biography\n$ target/release/ndp-example-embedding {} {} Björk",
        plugins.strip_prefix(root).unwrap_or(&plugins).display(),
        state.strip_prefix(root).unwrap_or(&state).display()
    );
    run_status(
        Command::new(root.join("target/release/ndp-example-embedding"))
            .arg(&plugins)
            .arg(&state)
            .arg("Björk"),
    )
}
