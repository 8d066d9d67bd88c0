//! `ndp serve`: starts the plugin manager (sync, load the enabled plugins, AutoReload when
//! asked) and the HTTP server of `nd-server` over it (admin API and page, capability
//! endpoints, metrics, health), prints the admin URL, and runs until SIGINT or SIGTERM;
//! then the server stops and the manager unloads every plugin in order (calls in flight
//! finish, services close).
//!
//! The admin API needs a token: `--token`, or the one stored in `<data>/admin-token`
//! (created with mode 0600 and a random value on first use).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use nd_server::{Server, ServerConfig};
use serde_json::json;

use crate::host::{self, HostOptions};
use crate::{EXIT_INTERNAL, EXIT_USAGE, Failure, Globals, output, progress};

/// The default address: loopback only, on a port next to Navidrome's 4533, so that both
/// can run on one machine.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:4534";

/// The file holding the admin token, under the data directory.
pub(crate) const TOKEN_FILE: &str = "admin-token";

pub(crate) const SERVE_LONG_ABOUT: &str = "\
Run the enabled plugins with everything they need (scheduler, WebSockets, task queues, \
AutoReload with --auto-reload) and an HTTP server: the admin API and web page (plugins, \
permissions with their reasons, enable/disable, configuration forms from config.schema, scope, \
last errors, call counts and latencies), capability endpoints a music server in any language can \
call, Prometheus metrics, and /health.

The admin API and page need a token: --token, or else the one stored in <data-dir>/admin-token \
(created on first use with a random value, readable only by you). The admin URL printed at \
startup carries it. --listen 127.0.0.1:0 picks a free port; the printed URL shows the real one. \
With --json, one JSON object with the address, the admin URL and the token file is printed \
instead.

Stop it with Ctrl-C (SIGINT) or SIGTERM: the server stops, then every plugin is unloaded in \
order (calls in flight finish, services close).

Examples:
  ndp serve
  ndp serve --listen 127.0.0.1:8080 --auto-reload
  ndp serve --library ~/Music --token \"$(cat ~/.config/ndp-token)\"";

/// Arguments of `ndp serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on (port 0: any free port)
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub(crate) listen: SocketAddr,

    /// The admin API token [default: the one in <data-dir>/admin-token, created on first use]
    #[arg(
        long,
        value_name = "TOKEN",
        env = "NDP_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub(crate) token: Option<String>,

    /// Watch the plugins folder and apply changed files (Navidrome's AutoReload)
    #[arg(long)]
    pub(crate) auto_reload: bool,
}

/// 32 random bytes, hex.
fn random_token() -> Result<String, Failure> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        Failure::new(
            EXIT_INTERNAL,
            format!("cannot generate an admin token: {e}"),
        )
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The stored admin token, created (mode 0600) when missing or empty. Returns the token and
/// whether it was just created.
fn stored_token(data_dir: &Path) -> Result<(String, bool), Failure> {
    let path = data_dir.join(TOKEN_FILE);
    let fail = |e: std::io::Error| {
        Failure::usage(format!("admin token file {}: {e}", path.display()))
            .note("pass --token, or fix the file")
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok((text.trim().to_owned(), false)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    let token = random_token()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(fail)?;
    file.write_all(format!("{token}\n").as_bytes())
        .map_err(fail)?;
    #[cfg(unix)]
    {
        // `mode` applies only to a new file: tighten an existing, empty one too.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
    }
    Ok((token, true))
}

/// Runs `ndp serve`.
pub(crate) fn run(args: &ServeArgs, globals: &Globals) -> Result<(), Failure> {
    let options = HostOptions {
        auto_reload: args.auto_reload,
        ..HostOptions::loading()
    };
    let manager = host::manager(globals, &options)?;
    let (token, token_file): (String, Option<PathBuf>) = match &args.token {
        Some(token) if token.trim().is_empty() => {
            return Err(Failure::new(EXIT_USAGE, "--token is empty"));
        }
        Some(token) => (token.clone(), None),
        None => {
            let (token, created) = stored_token(manager.data_dir())?;
            let path = manager.data_dir().join(TOKEN_FILE);
            if created {
                tracing::info!(file = %path.display(), "created a new admin token");
            }
            (token, Some(path))
        }
    };
    let report = progress::spin("loading the enabled plugins", || manager.start())
        .map_err(|e| host::failure(e, globals))?;
    for (id, reason) in &report.broken {
        tracing::warn!(plugin = %id, "broken package: {reason}");
    }
    let statuses = manager.list().map_err(|e| host::failure(e, globals))?;
    let server = Server::start(
        manager.clone(),
        ServerConfig {
            listen: args.listen,
            token: token.clone(),
        },
    )
    .map_err(|e| {
        manager.shutdown();
        Failure::usage(e.to_string())
    })?;
    let addr = server.local_addr();
    let url = format!("{}/", server.url());
    let admin_url = server.admin_url();
    let loaded = statuses.iter().filter(|s| s.loaded).count();
    let failed: Vec<&str> = statuses
        .iter()
        .filter(|s| s.last_error.is_some())
        .map(|s| s.id.as_str())
        .collect();
    if globals.json {
        output::print_json(&json!({
            "listen": addr.to_string(),
            "url": url,
            "adminUrl": admin_url,
            "tokenFile": token_file,
            "plugins": statuses.len(),
            "loaded": loaded,
            "failed": failed,
        }))?;
    } else {
        let mut text = format!(
            "ndp serve: listening on {url}\nadmin page: {admin_url}\nplugins: {} known, \
             {loaded} loaded",
            statuses.len()
        );
        if !failed.is_empty() {
            text.push_str(&format!(
                ", {} failed to load ({}; see `{}`)",
                failed.len(),
                failed.join(", "),
                globals.hint("list")
            ));
        }
        text.push('\n');
        if let Some(path) = &token_file {
            text.push_str(&format!("admin token: in {}\n", path.display()));
        }
        text.push_str("stop with Ctrl-C\n");
        output::print_text(&text)?;
    }
    server.wait();
    tracing::info!("server stopped; unloading the plugins");
    manager.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests;
