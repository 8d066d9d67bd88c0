//! The HTTP side of `ndp serve`: an axum server over an [`nd_manager::Manager`] with a token
//! protected admin API, capability endpoints that a music server written in any language can
//! call, Prometheus metrics, a health check and a self-contained admin web page.
//!
//! What it is not: it does not build or start the manager (the caller configures the
//! scheduler, WebSockets, AutoReload and app data, calls `start`, and shuts the manager down
//! after the server), it has no TLS (put a reverse proxy in front of anything that is not
//! loopback), no user accounts (one bearer token guards everything under `/api`) and no
//! buffering or retrying of scrobbles (it reports each scrobbler's outcome; retrying is the
//! caller's decision). `ndp serve` in `nd-cli` is the program around it.
//!
//! The server runs on its own tokio runtime, so a blocking program can embed it; the manager's
//! blocking calls run on that runtime's blocking pool.
//!
//! ```no_run
//! use nd_manager::Manager;
//! use nd_server::{Server, ServerConfig, generate_token};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = Manager::builder("/var/lib/ndp").build()?;
//! manager.start()?;
//! let config = ServerConfig { listen: "127.0.0.1:4533".parse()?, token: generate_token() };
//! let server = Server::start(manager.clone(), config)?;
//! println!("admin page: {}", server.admin_url());
//! server.wait(); // until SIGINT, SIGTERM or shutdown()
//! manager.shutdown();
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! Bodies are JSON with camelCase keys. Every error is `{"error": "<message>"}`. "Bearer"
//! means the request needs `Authorization: Bearer <token>` (compared in constant time; a
//! missing or wrong token is `401`). `crates/nd-server/API.md` has request and answer
//! examples.
//!
//! | method | path | auth | what |
//! |---|---|---|---|
//! | GET | `/` | – | the admin web page (reads the token from `#token=…`) |
//! | GET | `/health` | – | `{"status":"ok","plugins":N,"loaded":M}` |
//! | GET | `/metrics` | – | Prometheus text format 0.0.4: `ndp_plugin_calls_total`, `ndp_plugin_call_duration_seconds`, `ndp_plugins_loaded`, `ndp_plugins_enabled` |
//! | GET | `/api/admin/plugins` | bearer | every plugin: status, permissions with reasons, config schema, call statistics |
//! | GET | `/api/admin/plugins/{id}` | bearer | one plugin, same shape |
//! | POST | `/api/admin/plugins/{id}/enable` | bearer | enable and load; answers the plugin |
//! | POST | `/api/admin/plugins/{id}/disable` | bearer | unload and disable; answers the plugin |
//! | POST | `/api/admin/plugins/{id}/reload` | bearer | reload an enabled plugin; answers the plugin |
//! | GET | `/api/admin/plugins/{id}/config` | bearer | `{"config": {…} or null}` |
//! | PUT | `/api/admin/plugins/{id}/config` | bearer | body: the configuration object, validated against `config.schema` (`422` with the violations); answers the plugin |
//! | PUT | `/api/admin/plugins/{id}/scope` | bearer | body: `{allUsers, users, allLibraries, libraries, allowWriteAccess}`; answers the plugin |
//! | POST | `/api/admin/sync` | bearer | sync the plugins folder; answers `{added, changed, removed, broken, skipped}` |
//! | POST | `/api/v1/artist/{mbid,url,biography,images,similar,top-songs}` | bearer | metadata agents, first answer wins |
//! | POST | `/api/v1/album/{info,images}` | bearer | metadata agents |
//! | POST | `/api/v1/songs/similar/{track,album,artist}` | bearer | metadata agents |
//! | POST | `/api/v1/lyrics` | bearer | `{track}` → lyrics providers |
//! | POST | `/api/v1/sonic/similar`, `/api/v1/sonic/path` | bearer | sonic-similarity plugins |
//! | POST | `/api/v1/scrobbler/{now-playing,scrobble,playback-report}` | bearer | every scrobbler the user is in scope of; per-plugin outcomes |
//!
//! Admin errors: unknown plugin `404`, invalid configuration or a failed load `422`, a scope
//! that does not satisfy the manifest `409`, malformed JSON `400`, a known path with another
//! method `405`, an unknown path `404`. Capability answers are
//! `{"plugin": id, "result": …}`; `404 {"error":"not found"}` when no plugin answered; `502`
//! when every plugin that was asked failed (the message names plugin and export).

mod admin;
mod api;
mod capability;
mod page;
mod prometheus;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use nd_manager::Manager;
use tokio::sync::watch;

/// How long [`Server::wait`] and dropping a [`Server`] wait for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What [`Server::start`] needs.
#[derive(Clone)]
pub struct ServerConfig {
    /// The address to listen on; port 0 picks a free port (see [`Server::local_addr`]).
    pub listen: SocketAddr,
    /// The bearer token of `/api/…`; must not be empty ([`generate_token`] makes one).
    pub token: String,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from [`ServerConfig::listen`].
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The server's tokio runtime could not be started.
    #[error("cannot start the server runtime: {0}")]
    Runtime(std::io::Error),
    /// The configuration is unusable (for example an empty token).
    #[error("invalid server configuration: {0}")]
    Config(String),
}

/// A random 32-character token (128 bits, hex) for [`ServerConfig::token`].
///
/// # Panics
///
/// When the operating system has no random source (`getrandom` fails), which would make every
/// token guessable.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 16];
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A running server. Dropping it stops it (requests in flight get up to 10 s to finish).
pub struct Server {
    addr: SocketAddr,
    token: String,
    stop: watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
    serving: Option<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("stopping", &*self.stop.borrow())
            .finish_non_exhaustive()
    }
}

/// Stops a [`Server`] from another thread (for example while [`Server::wait`] blocks).
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    stop: watch::Sender<bool>,
}

impl ShutdownHandle {
    /// Asks the server to stop: it refuses new connections and lets requests in flight finish.
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }
}

impl Server {
    /// Binds `config.listen`, starts a tokio runtime of its own and serves on it. Returns once
    /// the socket is listening.
    ///
    /// # Errors
    ///
    /// [`ServerError::Bind`] when the address cannot be bound, [`ServerError::Runtime`],
    /// [`ServerError::Config`] for an empty token.
    pub fn start(manager: Manager, config: ServerConfig) -> Result<Server, ServerError> {
        if config.token.is_empty() {
            return Err(ServerError::Config("the admin token is empty".to_owned()));
        }
        let bind = |source| ServerError::Bind {
            addr: config.listen,
            source,
        };
        let listener = std::net::TcpListener::bind(config.listen).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(64)
            .thread_name("ndp-serve")
            .enable_io()
            .enable_time()
            .build()
            .map_err(ServerError::Runtime)?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(bind)?
        };
        let (stop, mut stopped) = watch::channel(false);
        let router = api::router(api::AppState::new(manager, config.token.clone()));
        let serving = runtime.spawn(async move {
            let shutdown = async move {
                // An error means the sender is gone, which only happens when the server is.
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "the HTTP server stopped with an error");
            }
        });
        tracing::info!(%addr, "serving");
        Ok(Server {
            addr,
            token: config.token,
            stop,
            runtime: Some(runtime),
            serving: Some(serving),
        })
    }

    /// The address the server listens on (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://ADDR` (a wildcard address is replaced by loopback).
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The URL of the admin page with the token in its fragment, which logs the page in:
    /// `http://127.0.0.1:PORT/#token=…`. The fragment never reaches the server or a log.
    pub fn admin_url(&self) -> String {
        format!("{}/#token={}", self.url(), percent_encode(&self.token))
    }

    /// A handle that stops the server from any thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            stop: self.stop.clone(),
        }
    }

    /// Blocks until [`Server::shutdown`] (or a [`ShutdownHandle`]) is called or the process
    /// receives SIGINT or SIGTERM, then stops the server, giving requests in flight up to
    /// 10 s. Call it from blocking code (it runs the server's runtime), not from async code.
    pub fn wait(mut self) {
        let (Some(runtime), Some(serving)) = (self.runtime.take(), self.serving.take()) else {
            return;
        };
        let stop = self.stop.clone();
        runtime.block_on(async move {
            let mut stopped = stop.subscribe();
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => {}
                signal = termination() => tracing::info!(signal, "stopping"),
            }
            stop.send_replace(true);
            finish(serving).await;
        });
        runtime.shutdown_timeout(SHUTDOWN_GRACE);
    }

    /// Stops the server: no new connections; requests in flight finish.
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        let (Some(runtime), Some(serving)) = (self.runtime.take(), self.serving.take()) else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Dropped inside some async context: blocking here would panic.
            runtime.shutdown_background();
        } else {
            runtime.block_on(finish(serving));
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        }
    }
}

/// Waits for the serving task to end, at most [`SHUTDOWN_GRACE`].
async fn finish(serving: tokio::task::JoinHandle<()>) {
    match tokio::time::timeout(SHUTDOWN_GRACE, serving).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "the HTTP server task failed"),
        Err(_) => tracing::warn!("requests still running after the shutdown grace period"),
    }
}

/// Resolves with the name of the first termination signal received (SIGINT, or SIGTERM on
/// Unix); never resolves when no handler could be installed.
async fn termination() -> &'static str {
    let interrupt = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGINT");
                std::future::pending().await
            }
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
                "SIGTERM"
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&'static str>();
    tokio::select! {
        name = interrupt => name,
        name = terminate => name,
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (generate_token(), generate_token());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn percent_encoding_keeps_unreserved_characters() {
        assert_eq!(percent_encode("aZ9-._~"), "aZ9-._~");
        assert_eq!(percent_encode("a b/&é"), "a%20b%2F%26%C3%A9");
    }
}
