//! `ndp`, the command-line host of the ndp workspace: installs, configures, enables and
//! calls Navidrome `.ndp` plugins through an `nd_manager::Manager` over a data directory,
//! links development folders for plugin authors, inspects packages (`ndp info`), calls
//! exports of a package file or an installed plugin (`ndp call`), and runs the HTTP server
//! with the admin page (`ndp serve`, over `nd-server`).
//!
//! This file parses the command line, installs the stderr log subscriber, dispatches, and
//! turns every outcome into an exit code. Every command prints text for people by default
//! and one JSON document on stdout with `--json` (nothing on stdout when it fails; errors
//! are on stderr as `error: …` and `note: …` lines).
//!
//! | code | constant | meaning |
//! |---:|---|---|
//! | 0 | [`EXIT_OK`] | success |
//! | 1 | [`EXIT_PLUGIN_ERROR`] | `call`: the plugin returned an error |
//! | 2 | [`EXIT_NOT_IMPLEMENTED`] | `call`: the export returned -2 (not implemented) |
//! | 3 | [`EXIT_ABNORMAL`] | `call`: trap, timeout, out of memory, host abort, … |
//! | 64 | [`EXIT_USAGE`] | bad arguments, or a package that cannot be used (unreadable, invalid, fails to load) |
//! | 65 | [`EXIT_INVALID_CONFIG`] | `config set`: the configuration violates the plugin's `config.schema` |
//! | 66 | [`EXIT_NOT_FOUND`] | no plugin with that id (or no such configuration key) |
//! | 70 | [`EXIT_INTERNAL`] | ndp itself failed |
//! | 75 | [`EXIT_IN_USE`] | another process (such as `ndp serve`) has the data directory open; try again when it stops |
//!
//! The codes follow sysexits.h where one fits (64 `EX_USAGE`, 65 `EX_DATAERR`, 66
//! `EX_NOINPUT`, 70 `EX_SOFTWARE`, 75 `EX_TEMPFAIL`). [`EXIT_CODES`] is the same table; the
//! `--help` text is generated from it.

mod call;
mod config;
mod host;
mod info;
mod load;
mod manage;
mod output;
mod progress;
mod serve;
mod services;

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Success.
pub(crate) const EXIT_OK: u8 = 0;
/// The plugin reported an error (`error_set`, or a non-zero return code).
pub(crate) const EXIT_PLUGIN_ERROR: u8 = 1;
/// The export returned -2 without a message: Navidrome's "not implemented".
pub(crate) const EXIT_NOT_IMPLEMENTED: u8 = 2;
/// The call was stopped: trap, timeout, out of memory, host-function abort, output too
/// large, non-zero WASI exit, or no instance could be created for the call.
pub(crate) const EXIT_ABNORMAL: u8 = 3;
/// Bad arguments, or a package that cannot be used: unreadable, invalid, not linkable,
/// failing to load, or without the requested export (`EX_USAGE` of sysexits.h).
pub(crate) const EXIT_USAGE: u8 = 64;
/// A configuration value the plugin's `config.schema` refuses (`EX_DATAERR`).
pub(crate) const EXIT_INVALID_CONFIG: u8 = 65;
/// No plugin with that id, or no such configuration key (`EX_NOINPUT`).
pub(crate) const EXIT_NOT_FOUND: u8 = 66;
/// ndp itself failed: the runtime could not start, or the output could not be written
/// (`EX_SOFTWARE`).
pub(crate) const EXIT_INTERNAL: u8 = 70;
/// Another process has the data directory's state database open (`EX_TEMPFAIL`).
pub(crate) const EXIT_IN_USE: u8 = 75;

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
         missing import, no such export, or the plugin fails to load",
    ),
    (
        EXIT_INVALID_CONFIG,
        "the configuration does not satisfy the plugin's config.schema (each problem is on stderr \
         with its JSON path)",
    ),
    (
        EXIT_NOT_FOUND,
        "no plugin with that id (or no such configuration key)",
    ),
    (
        EXIT_INTERNAL,
        "ndp itself failed (the runtime could not start, stdout could not be written)",
    ),
    (
        EXIT_IN_USE,
        "another process (such as `ndp serve`) has the data directory open; stop it or pass \
         another --data-dir",
    ),
];

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";

const ABOUT: &str = "Install, configure, run and call Navidrome plugins (.ndp packages) on ndp's \
                     WebAssembly host";

const LONG_ABOUT: &str = "\
Install, configure, run and call Navidrome plugins (.ndp packages) on ndp's WebAssembly host.

A .ndp package is a zip holding manifest.json and plugin.wasm; the plugin id is the file name \
without .ndp. Installed plugins live in the plugins folder (--plugins-dir, default \
<data-dir>/plugins) and their state (enabled, configuration, users and libraries scope, last \
error) in <data-dir>/plugins.redb. As in Navidrome, a new or changed package is disabled until \
`ndp enable`. Compiled modules are cached in $XDG_CACHE_HOME/ndp (or ~/.cache/ndp); see \
--cache-dir and --no-cache.

Every command prints text for people, or one JSON document on stdout with --json (nothing on \
stdout when it fails). Log lines (ndp's own and the plugins', target nd::plugin) go to stderr, \
filtered by --log-level.

Examples:
  ndp install wikimedia.ndp && ndp enable wikimedia
  ndp list
  ndp config set wikimedia lang=en maxResults=5
  ndp call wikimedia nd_get_artist_biography --input '{\"name\":\"Nina Simone\"}'
  ndp dev ./my-plugin && ndp enable my-plugin      # a plugin author's folder
  ndp serve                                         # admin page and HTTP API";

const CALL_LONG_ABOUT: &str = "\
Call one export of a plugin, in a fresh instance, as Navidrome does, and write its output bytes \
to stdout exactly (no newline is added; --json does not change that).

The plugin is a package file (an argument ending in .ndp or holding a /) or the id of an \
installed plugin. By id, the plugin is loaded through the plugin manager with its stored \
configuration and users/libraries scope; it must be enabled (`ndp enable`), as Navidrome calls \
only enabled plugins, and --config is refused (use `ndp config set`). A plugin that no longer \
loads is disabled with the error stored, as at `ndp serve` startup.

For a package file, --config pairs become the plugin's Extism config (what config_get reads), \
and the plugin acts for the administrator (every user and library).

The input is empty unless --input or --input-file gives it; `-` for either reads stdin.

The Navidrome services are linked when the manifest grants them; KV stores and task queues live \
under --data-dir/plugins/<id>/ and persist between invocations. A plugin that imports a function \
of a service its manifest does not grant fails to load with exit code 64 and a message naming \
the permission that provides it. Schedules end with the process. The app-data services \
(library, users, ...) serve the music folder of --library, or the demo catalog.

Outgoing HTTP and WebSockets (http_send, Extism's http_request, websocket_connect) reach only \
the hosts the manifest's requiredHosts lists, and never a loopback, private, link-local or \
otherwise local address, checked on the resolved address of every connection and redirect, \
unless --allow-local names it.

Examples:
  ndp call agent.ndp nd_get_artist_biography --input '{\"name\":\"Björk\"}'
  ndp call agent nd_get_artist_mbid --input-file request.json";

const INFO_LONG_ABOUT: &str = "\
Show a package's plugin id, manifest, permissions with their reasons, manifest warnings, the \
capabilities detected from its exports, the problems Navidrome would refuse it for, the SHA-256 \
of the package and of its module, and every import with whether this host provides it.

Given the id of an installed plugin (an argument without .ndp or /), it shows first what the \
manager knows: enabled, last error, configuration, scope, where the package is (or the \
development folder), then the same report of the package as it is on disk.

The module is compiled (through the compilation cache) so that invalid wasm is reported, but no \
plugin code runs. --json prints one JSON object instead (see `ndp_info_version` in it).

Examples:
  ndp info wikimedia.ndp
  ndp info wikimedia --json";

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

    /// Directory of ndp's state and plugin data (plugins.redb, plugins/<id>/, admin-token,
    /// the demo library) [default: $XDG_DATA_HOME/ndp or ~/.local/share/ndp]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Folder of the installed .ndp packages [default: <data-dir>/plugins]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,

    /// Print one JSON document on stdout instead of text (`call` always prints the output
    /// bytes)
    #[arg(long, global = true, help_heading = GLOBAL)]
    json: bool,

    /// A music folder served to plugins as library 1 (library, users, subsonicapi, artwork,
    /// matcher, scrobbleRetriever) [default: the demo catalog, written under the data
    /// directory on first use]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    library: Option<PathBuf>,

    /// Hosts and networks plugins may reach although they are loopback or private, e.g.
    /// `127.0.0.1,::1,nas.local` or `192.168.1.0/24` (none by default)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "LIST", default_value = "", value_parser = services::parse_allowance)]
    allow_local: nd_host_http::policy::LocalAllowance,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the installed plugins and their state
    #[command(long_about = manage::LIST_LONG_ABOUT)]
    List(manage::ListArgs),
    /// Show what a package or an installed plugin holds and whether this host can run it
    #[command(long_about = INFO_LONG_ABOUT)]
    Info(InfoArgs),
    /// Install a .ndp package (it starts disabled)
    #[command(long_about = manage::INSTALL_LONG_ABOUT)]
    Install(manage::FileArgs),
    /// Replace an installed plugin with a new package of the same id (it ends up disabled)
    #[command(long_about = manage::UPDATE_LONG_ABOUT)]
    Update(manage::FileArgs),
    /// Remove an installed plugin (or unlink a development folder)
    #[command(long_about = manage::REMOVE_LONG_ABOUT)]
    Remove(manage::IdArgs),
    /// Enable a plugin: load it, check it, and record it enabled
    #[command(long_about = manage::ENABLE_LONG_ABOUT)]
    Enable(manage::IdArgs),
    /// Disable a plugin
    #[command(long_about = manage::DISABLE_LONG_ABOUT)]
    Disable(manage::IdArgs),
    /// Read or change a plugin's configuration (validated against its config.schema)
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Show or set the users and libraries a plugin may see
    #[command(long_about = manage::SCOPE_LONG_ABOUT)]
    Scope(manage::ScopeArgs),
    /// Link a plugin author's development folder as a plugin
    #[command(long_about = manage::DEV_LONG_ABOUT)]
    Dev(manage::DevArgs),
    /// Read a plugin's package or development folder again (pick up a rebuild)
    #[command(long_about = manage::REFRESH_LONG_ABOUT)]
    Refresh(manage::IdArgs),
    /// Call an export of a plugin and write its output to stdout
    #[command(long_about = CALL_LONG_ABOUT)]
    Call(CallArgs),
    /// Run the plugins with the HTTP API and the admin web page
    #[command(long_about = serve::SERVE_LONG_ABOUT)]
    Serve(serve::ServeArgs),
}

/// Arguments of `ndp info`.
#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// A .ndp package, or the id of an installed plugin
    #[arg(value_name = "ID|FILE.ndp")]
    pub(crate) target: PathBuf,
}

/// Arguments of `ndp call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// A .ndp package, or the id of an installed, enabled plugin
    #[arg(value_name = "ID|FILE.ndp")]
    pub(crate) target: PathBuf,

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
    /// several with the same key wins (package files only)
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_key_value, allow_hyphen_values = true)]
    pub(crate) config: Vec<(String, String)>,

    /// Wall-clock limit of the call, in milliseconds
    #[arg(long, value_name = "N", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) timeout_ms: u64,

    /// Cap of each wasm memory (the plugin's and the Extism kernel's), in MiB
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub(crate) max_memory_mb: u64,
}

/// The compilation-cache options.
#[derive(Debug, Clone)]
pub(crate) struct CacheChoice {
    /// `--cache-dir`, if given.
    pub(crate) dir: Option<PathBuf>,
    /// `--no-cache`.
    pub(crate) disabled: bool,
}

/// The global options, as every command sees them.
#[derive(Debug, Clone)]
pub(crate) struct Globals {
    /// `--data-dir`, or the per-user default; `None` when there is none (no HOME).
    pub(crate) data_dir: Option<PathBuf>,
    /// Whether `--data-dir` was given (the hints then repeat it).
    pub(crate) data_dir_given: bool,
    /// `--plugins-dir`.
    pub(crate) plugins_dir: Option<PathBuf>,
    /// The compilation cache.
    pub(crate) cache: CacheChoice,
    /// `--json`.
    pub(crate) json: bool,
    /// `--library`.
    pub(crate) library: Option<PathBuf>,
    /// `--allow-local`.
    pub(crate) allow_local: nd_host_http::policy::LocalAllowance,
}

impl Globals {
    /// `ndp <args>` with the `--data-dir` and `--plugins-dir` this run was given, for the
    /// "next step" hints.
    pub(crate) fn hint(&self, args: &str) -> String {
        let mut text = String::from("ndp");
        let quote = |p: &std::path::Path| {
            let s = p.display().to_string();
            if s.contains([' ', '\'', '"']) {
                format!("'{}'", s.replace('\'', "'\\''"))
            } else {
                s
            }
        };
        if self.data_dir_given
            && let Some(dir) = &self.data_dir
        {
            let _ = write!(text, " --data-dir {}", quote(dir));
        }
        if let Some(dir) = &self.plugins_dir {
            let _ = write!(text, " --plugins-dir {}", quote(dir));
        }
        let _ = write!(text, " {args}");
        text
    }
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

/// `KEY=VALUE`, split at the first `=`.
pub(crate) fn parse_key_value(text: &str) -> Result<(String, String), String> {
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

/// The clap command with the exit-code table appended to the long help of `ndp` and of
/// every subcommand.
fn command() -> clap::Command {
    let codes = exit_code_help();
    let mut command = Cli::command()
        .after_long_help(codes.clone())
        .after_help("See --help for examples and the exit codes.");
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in names {
        let codes = codes.clone();
        command = command.mut_subcommand(name, |sub| {
            let nested: Vec<String> = sub
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect();
            let mut sub = sub.after_long_help(codes.clone());
            for name in nested {
                let codes = codes.clone();
                sub = sub.mut_subcommand(name, |n| n.after_long_help(codes));
            }
            sub
        });
    }
    command
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

fn run(command: Command, globals: &Globals) -> Result<(), Failure> {
    match command {
        Command::List(args) => manage::list(&args, globals),
        Command::Info(args) => info::run(&args, globals),
        Command::Install(args) => manage::install(&args, globals),
        Command::Update(args) => manage::update(&args, globals),
        Command::Remove(args) => manage::remove(&args, globals),
        Command::Enable(args) => manage::enable(&args, globals),
        Command::Disable(args) => manage::disable(&args, globals),
        Command::Config(command) => config::run(&command, globals),
        Command::Scope(args) => manage::scope(&args, globals),
        Command::Dev(args) => manage::dev(&args, globals),
        Command::Refresh(args) => manage::refresh(&args, globals),
        Command::Call(args) => call::run(&args, globals),
        Command::Serve(args) => serve::run(&args, globals),
    }
}

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    init_logging(&cli.log_level);
    let globals = Globals {
        data_dir_given: cli.data_dir.is_some(),
        data_dir: services::data_dir(cli.data_dir),
        plugins_dir: cli.plugins_dir,
        cache: CacheChoice {
            dir: cli.cache_dir,
            disabled: cli.no_cache,
        },
        json: cli.json,
        library: cli.library,
        allow_local: cli.allow_local,
    };
    let code = match run(cli.command, &globals) {
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
