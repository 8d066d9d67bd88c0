//! `ndp`, the command-line front end of the ndp workspace: inspects Navidrome `.ndp` plugin
//! packages (`ndp info`) and calls their exports (`ndp call`) on nd-runtime, the way
//! Navidrome would, with exit codes a script can rely on.
//!
//! This file parses the command line, installs the stderr log subscriber, dispatches, and
//! turns every outcome into an exit code ([`EXIT_CODES`]). It links the state services of
//! `nd-host-store` and `nd-host-sched` ([`services`]); the others (library, http, …) come
//! with nd-manager, and `ndp info` says for each `extism:host/user` import whether this build
//! provides it.

mod call;
mod info;
mod load;
mod output;
mod services;

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The export ran and its output was written to stdout.
pub(crate) const EXIT_OK: u8 = 0;
/// The plugin reported an error (`error_set`, or a non-zero return code).
pub(crate) const EXIT_PLUGIN_ERROR: u8 = 1;
/// The export returned -2 without a message: Navidrome's "not implemented".
pub(crate) const EXIT_NOT_IMPLEMENTED: u8 = 2;
/// The call was stopped: trap, timeout, out of memory, host-function abort, output too
/// large, non-zero WASI exit, or no instance could be created for the call.
pub(crate) const EXIT_ABNORMAL: u8 = 3;
/// Bad arguments, or a package that cannot be used: unreadable, invalid, not linkable, or
/// without the requested export (`EX_USAGE` of sysexits.h).
pub(crate) const EXIT_USAGE: u8 = 64;
/// ndp itself failed: the runtime could not start, or the output could not be written
/// (`EX_SOFTWARE`).
pub(crate) const EXIT_INTERNAL: u8 = 70;

/// Every exit code of `ndp`, with its meaning; the `--help` text is generated from it.
pub(crate) const EXIT_CODES: &[(u8, &str)] = &[
    (EXIT_OK, "success (`call`: the output bytes are on stdout)"),
    (
        EXIT_PLUGIN_ERROR,
        "the plugin returned an error; its message is on stderr",
    ),
    (
        EXIT_NOT_IMPLEMENTED,
        "the export returned -2: not implemented",
    ),
    (
        EXIT_ABNORMAL,
        "the call was stopped: trap, timeout (`deadline exceeded`), out of memory, host-function abort, \
         output too large, or a non-zero WASI exit code; the cause is on stderr",
    ),
    (
        EXIT_USAGE,
        "bad arguments, or the package cannot be used: unreadable file, invalid package or wasm, \
         missing import, no such export",
    ),
    (
        EXIT_INTERNAL,
        "ndp itself failed (the runtime could not start, stdout could not be written)",
    ),
];

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";

const ABOUT: &str =
    "Inspect and call Navidrome plugins (.ndp packages) on ndp's WebAssembly runtime";

const LONG_ABOUT: &str = "\
Inspect and call Navidrome plugins (.ndp packages) on ndp's WebAssembly runtime.

A .ndp package is a zip holding manifest.json and plugin.wasm; the plugin id is the file name \
without .ndp. Compiled modules are cached in $XDG_CACHE_HOME/ndp (or ~/.cache/ndp); see \
--cache-dir and --no-cache.

Log lines (ndp's own and the plugin's, target nd::plugin) go to stderr, filtered by --log-level.";

const CALL_LONG_ABOUT: &str = "\
Call one export of a plugin, in a fresh instance, as Navidrome does, and write its output bytes \
to stdout exactly (no newline is added).

The input is empty unless --input or --input-file gives it; `-` for either reads stdin. \
--config pairs become the plugin's Extism config (what config_get reads).

The Navidrome services cache, kvstore, scheduler, taskqueue, http and websocket are linked when the \
manifest grants them; KV stores and task queues live under --data-dir/plugins/<id>/ and persist \
between invocations. A plugin that imports a function of another service (library, users, ...) \
or of a service its manifest does not grant fails to load with exit code 64 and a message naming \
the permission that provides it. Schedules end with the process.

Outgoing HTTP and WebSockets (http_send, Extism's http_request, websocket_connect) reach only the hosts the manifest's \
requiredHosts lists, and never a loopback, private, link-local or otherwise local address, \
checked on the resolved address of every connection and redirect, unless --allow-local names it.";

const INFO_LONG_ABOUT: &str = "\
Show a package's plugin id, manifest, permissions, manifest warnings, the capabilities detected \
from its exports, the problems Navidrome would refuse it for, the SHA-256 of the package and of \
its module, and every import with whether this host provides it.

The module is compiled (through the compilation cache) so that invalid wasm is reported, but no \
plugin code runs. --json prints one JSON object instead (see `ndp_info_version` in it).";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "ndp", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
struct Cli {
    /// Log filter for stderr: trace, debug, info, warn, error or off, or a tracing directive
    /// list such as `warn,nd::plugin=debug` (guest log lines use the target nd::plugin)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "LEVEL", default_value = "warn", value_parser = parse_log_filter)]
    log_level: String,

    /// Directory of the compilation cache [default: $XDG_CACHE_HOME/ndp or ~/.cache/ndp]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,

    /// Compile without the on-disk compilation cache
    #[arg(long, global = true, help_heading = GLOBAL)]
    no_cache: bool,

    /// Directory of plugin data (KV stores and task queues, under plugins/<id>/) [default:
    /// $XDG_DATA_HOME/ndp or ~/.local/share/ndp]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what a package holds and whether this host can run it
    #[command(long_about = INFO_LONG_ABOUT)]
    Info(InfoArgs),
    /// Call an export of a plugin and write its output to stdout
    #[command(long_about = CALL_LONG_ABOUT)]
    Call(CallArgs),
}

/// Arguments of `ndp info`.
#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// The .ndp package
    #[arg(value_name = "FILE.ndp")]
    pub(crate) file: PathBuf,

    /// Print one JSON object instead of text
    #[arg(long)]
    pub(crate) json: bool,
}

/// Arguments of `ndp call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The .ndp package
    #[arg(value_name = "FILE.ndp")]
    pub(crate) file: PathBuf,

    /// The export to call, such as nd_get_artist_biography
    pub(crate) export: String,

    /// The call's input, as given; `-` reads stdin
    #[arg(
        long,
        value_name = "TEXT",
        conflicts_with = "input_file",
        allow_hyphen_values = true
    )]
    pub(crate) input: Option<OsString>,

    /// Read the call's input from a file; `-` reads stdin
    #[arg(long, value_name = "PATH")]
    pub(crate) input_file: Option<PathBuf>,

    /// A config entry for the plugin (Extism config_get); repeat for more; the last of
    /// several with the same key wins
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_key_value, allow_hyphen_values = true)]
    pub(crate) config: Vec<(String, String)>,

    /// Wall-clock limit of the call, in milliseconds
    #[arg(long, value_name = "N", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) timeout_ms: u64,

    /// Hosts and networks the plugin may reach although they are loopback or private, e.g.
    /// `127.0.0.1,::1,nas.local` or `192.168.1.0/24` (none by default)
    #[arg(long, value_name = "LIST", default_value = "", value_parser = services::parse_allowance)]
    pub(crate) allow_local: nd_host_http::policy::LocalAllowance,

    /// A music folder to serve as library 1 to plugins with app-data permissions (library,
    /// users, subsonicapi, artwork, matcher, scrobbleRetriever); default: the demo catalog,
    /// written under the data directory on first use
    #[arg(long, value_name = "DIR")]
    pub(crate) library: Option<PathBuf>,

    /// Cap of each wasm memory (the plugin's and the Extism kernel's), in MiB
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub(crate) max_memory_mb: u64,
}

/// Global options every command needs.
#[derive(Debug, Clone)]
pub(crate) struct CacheChoice {
    /// `--cache-dir`, if given.
    pub(crate) dir: Option<PathBuf>,
    /// `--no-cache`.
    pub(crate) disabled: bool,
}

/// A failure that ends the process: what to print on stderr and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    /// One of [`EXIT_CODES`].
    pub(crate) code: u8,
    /// The error, printed after `error: `.
    pub(crate) message: String,
    /// Extra lines, each printed after `note: `.
    pub(crate) notes: Vec<String>,
}

impl Failure {
    /// A failure without notes.
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    /// An [`EXIT_USAGE`] failure.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(EXIT_USAGE, message)
    }

    /// Adds a note line.
    pub(crate) fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

fn parse_log_filter(text: &str) -> Result<String, String> {
    EnvFilter::try_new(text)
        .map(|_| text.to_owned())
        .map_err(|e| format!("not a log level or filter: {e}"))
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some(("", _)) => Err("the key before '=' is empty".to_owned()),
        Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
        None => Err(format!("expected KEY=VALUE, found {text:?}")),
    }
}

/// The exit-code table as help text.
fn exit_code_help() -> String {
    let mut text = String::from("Exit codes:\n");
    for (code, meaning) in EXIT_CODES {
        let _ = writeln!(text, "  {code:>3}  {meaning}");
    }
    text
}

/// The clap command with the exit-code table appended to the help of `ndp` and `ndp call`.
fn command() -> clap::Command {
    let codes = exit_code_help();
    Cli::command()
        .after_long_help(codes.clone())
        .after_help("See --help for the exit codes.")
        .mut_subcommand("call", |call| call.after_help(codes))
}

/// Parses the command line; clap's own errors (usage, unknown flag) exit with
/// [`EXIT_USAGE`], `--help` and `--version` with 0.
fn parse() -> Result<Cli, ExitCode> {
    let parsed = command()
        .try_get_matches()
        .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches));
    parsed.map_err(|err| {
        // `print` writes help and version to stdout, errors to stderr, with clap's styling.
        let _ = err.print();
        if err.use_stderr() {
            ExitCode::from(EXIT_USAGE)
        } else {
            ExitCode::from(EXIT_OK)
        }
    })
}

fn init_logging(filter: &str) {
    use std::io::IsTerminal as _;
    // The filter was validated by clap; fall back to `warn` rather than fail.
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    init_logging(&cli.log_level);
    let cache = CacheChoice {
        dir: cli.cache_dir,
        disabled: cli.no_cache,
    };
    let result = match cli.command {
        Command::Info(args) => info::run(&args, &cache),
        Command::Call(args) => {
            call::run(&args, &cache, services::data_dir(cli.data_dir).as_deref())
        }
    };
    let code = match result {
        Ok(()) => EXIT_OK,
        Err(failure) => {
            output::print_failure(&failure);
            failure.code
        }
    };
    // The runtime's worker threads (WASI I/O, watchdog, instance preparer) have nothing
    // left to do; exit now instead of waiting for them in destructors, which matters after
    // a timed-out call.
    output::flush_all();
    std::process::exit(i32::from(code))
}

#[cfg(test)]
mod tests;
