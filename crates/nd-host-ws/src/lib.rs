//! Navidrome's WebSocket host service (`websocket`, spec §3.8) for the ndp runtime: plugins
//! open client connections with `websocket_connect`, send with `websocket_sendtext` and
//! `websocket_sendbinary`, close with `websocket_closeconnection`, and receive frames through
//! their `nd_websocket_on_*` exports. One [`WebSocketService`] per plugin, built from an
//! [`EgressPolicy`] (nd-host-http) that decides which URLs and which resolved addresses the
//! plugin may reach.
//!
//! What it is not: a WebSocket server, a reconnecting client (plugins reconnect themselves,
//! usually from a schedule), or an HTTP client; it does not read the manifest (the caller
//! builds the policy from `permissions.websocket.requiredHosts` and the operator's
//! [`LocalAllowance`](nd_host_http::policy::LocalAllowance)).
//!
//! Behaviour, and where it differs from Navidrome (`plugins/host_websocket.go`):
//! - **Egress.** `connect` runs the policy's `check_url` (only `ws`/`wss`; an empty
//!   `requiredHosts` allows nothing), then `policy.connect`, which resolves the name and refuses
//!   private, loopback and other local addresses **at connect time** unless the operator
//!   allowed them (Navidrome checked the host string only before v0.64). A refusal's text is
//!   the policy's, naming the rule. The TCP connect and the HTTP upgrade share one 30 s
//!   deadline ([`HANDSHAKE_TIMEOUT`]); `wss` runs rustls (Mozilla's roots, or
//!   [`WebSocketService::with_tls_config`]) over the very stream the policy connected, so TLS
//!   cannot reach another address.
//! - **Requests and errors** are Navidrome's: `{url, headers, connectionId}` →
//!   `{newConnectionId}`; an empty ID gets 128 random bits as 22 zero-padded base62
//!   characters; `connection ID "x" already exists`, `connection ID "x" not found`,
//!   `failed to connect: …`, `failed to send text message: …`, `failed to send binary
//!   message: …`. Headers replace the defaults (Go's `Header.Set`); `Upgrade`, `Connection`,
//!   `Sec-WebSocket-Key` and `Sec-WebSocket-Version` are refused as gorilla does
//!   (`websocket: duplicate header not allowed: …`). Unlike Navidrome, whose duplicate check
//!   happens before dialling and is not re-checked, an ID taken by a concurrent connect while
//!   this one dialled is also refused (the new connection is dropped).
//! - **Reading.** One reader thread per connection calls the exports synchronously and in
//!   order, each in a fresh instance through [`Plugin::call`] (the runtime's call timeout, 30 s
//!   by default, applies): text → `nd_websocket_on_text_message {connectionId, message}`,
//!   binary → `nd_websocket_on_binary_message {connectionId, data}` (base64), a close frame
//!   with code 1000, 1001 or none (1005) → `nd_websocket_on_close {connectionId, code,
//!   reason}`, any other close code or read error → `nd_websocket_on_error {connectionId,
//!   error}` with gorilla's texts for close codes and for a dropped connection
//!   (`websocket: close 1006 (abnormal closure): unexpected EOF`); other errors carry
//!   tungstenite's text. Pings are answered by tungstenite while reading. The connection is
//!   removed **before** that last callback runs (Navidrome removes it after), so a plugin can
//!   reconnect under the same ID from `on_close`. Messages are limited to tungstenite's
//!   defaults (64 MiB per message, 16 MiB per frame); gorilla has no limit.
//! - **Reads never block writes.** A WebSocket needs one mutable owner, so each connection
//!   keeps it behind a mutex, and the reader never holds that mutex while waiting: it waits
//!   for bytes with `peek` on a clone of the socket, then takes the mutex and reads in
//!   non-blocking mode until nothing complete is left, then lets go (fairly) before calling
//!   the plugin. `sendtext` from a scheduler thread, or from inside a callback on the reader
//!   thread, waits at most for one non-blocking read. Sends have a 30 s write timeout
//!   ([`SEND_TIMEOUT`]); gorilla has none.
//! - **Missing callback exports** are skipped quietly (logged at `debug`). Navidrome means to
//!   do the same but passes `errors.Is` its arguments in reverse order, so it logs an error for
//!   every frame; callback failures are logged at `warn` here (`error` there).
//! - **`closeconnection`** removes the connection, sends a close frame with the code and
//!   reason (5 s deadline; code 1005 sends an empty close frame and a reason over 123 bytes
//!   sends none, as gorilla's `WriteControl` refuses it), drops the socket, and calls
//!   `nd_websocket_on_close` **synchronously, inside the host function**, in a second fresh
//!   instance (re-entrancy, §3.8). The reader calls nothing more for that connection. A frame
//!   the reader took off the socket just before the close may still be delivered while
//!   `on_close` runs, as in Navidrome.
//! - **Unload** ([`WebSocketService::shutdown`], run by the runtime when the plugin unloads)
//!   closes every connection with 1001 `plugin unloaded` (2 s deadline, as Navidrome) and
//!   calls `on_close` for each, on the thread running the shutdown: `Plugin::shutdown` lets
//!   a service's shutdown still call the plugin on that thread while refusing every other.
//!   When the last `Plugin` handle is dropped without `shutdown`, the plugin can no longer be
//!   called and those callbacks are skipped (logged at `debug`). It never joins a reader
//!   thread, so it is safe on one.
//! - Beyond Navidrome, a plugin may have at most [`DEFAULT_MAX_CONNECTIONS`] open connections
//!   ([`WebSocketService::with_max_connections`]): each costs a thread.
//! - Benchmarks and tests can watch callbacks with [`WebSocketService::set_observer`]: each
//!   [`CallbackEvent`] carries when the frame was read, when the call started and when it
//!   returned (so message → callback latency is `started - received`, or, end to end, the
//!   server's send time to `started`). [`WebSocketService::connection_count`] and
//!   [`WebSocketService::reader_count`] let a test wait for connections and reader threads to
//!   end instead of sleeping.

mod stream;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use nd_host_http::policy::{ConnectError, EgressPolicy, Refusal, Target};
use nd_host_http::service::canonical_header_key;
use nd_runtime::{
    GoRequest, HostError, HostImports, HostService, Plugin, RegisterError, WeakPlugin,
    encode_bytes, go_quote, json_response,
};
use parking_lot::{Mutex, MutexGuard};
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest as _;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::{HeaderName, HeaderValue};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

use crate::stream::Stream;

/// The export called for a text frame.
pub const ON_TEXT_MESSAGE: &str = "nd_websocket_on_text_message";
/// The export called for a binary frame.
pub const ON_BINARY_MESSAGE: &str = "nd_websocket_on_binary_message";
/// The export called when a connection ends with an error.
pub const ON_ERROR: &str = "nd_websocket_on_error";
/// The export called when a connection is closed.
pub const ON_CLOSE: &str = "nd_websocket_on_close";

/// The deadline for the TCP connect plus the WebSocket upgrade (Navidrome's 30 s).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// The deadline for the close frame of `websocket_closeconnection` (Navidrome's 5 s).
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// The deadline for the close frame sent on unload (Navidrome's 2 s).
pub const UNLOAD_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// The write timeout of `sendtext` and `sendbinary` (not in Navidrome).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Open connections one plugin may have unless [`WebSocketService::with_max_connections`]
/// says otherwise (not in Navidrome).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The close code and reason sent to every connection when the plugin unloads.
pub const UNLOAD_CODE: u16 = 1001;
/// See [`UNLOAD_CODE`].
pub const UNLOAD_REASON: &str = "plugin unloaded";

/// Why a WebSocket operation failed. The texts are Navidrome's where it has one.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The egress policy refused the URL or every address it resolves to.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The ID belongs to an open connection.
    #[error("connection ID {} already exists", go_quote(.0))]
    AlreadyExists(String),
    /// No open connection has this ID.
    #[error("connection ID {} not found", go_quote(.0))]
    NotFound(String),
    /// The TCP connection, TLS or the upgrade failed.
    #[error("failed to connect: {0}")]
    Connect(String),
    /// Writing a text frame failed.
    #[error("failed to send text message: {0}")]
    SendText(String),
    /// Writing a binary frame failed.
    #[error("failed to send binary message: {0}")]
    SendBinary(String),
    /// The service was shut down (its plugin was unloaded).
    #[error("websocket service is shut down")]
    ShutDown,
    /// The plugin already has the most open connections it may have (not in Navidrome).
    #[error("too many open connections: a plugin may have at most {0}")]
    TooMany(usize),
    /// No random bytes for a generated ID, or no thread for the reader.
    #[error("{0}")]
    Internal(String),
}

/// How a callback call went, for a [`CallbackEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The export returned normally.
    Returned,
    /// The call failed; the error text.
    Failed(String),
    /// Not called: the export is missing or the plugin can no longer be called.
    Skipped,
}

/// One callback, reported to the observer after it returned.
#[derive(Debug, Clone)]
pub struct CallbackEvent {
    /// The connection ID.
    pub connection_id: String,
    /// The export: one of [`ON_TEXT_MESSAGE`], [`ON_BINARY_MESSAGE`], [`ON_ERROR`], [`ON_CLOSE`].
    pub export: &'static str,
    /// When the reader took the frame off the socket (for a close by the plugin or on unload,
    /// when the close began).
    pub received: Instant,
    /// When the call started (before the instance was taken).
    pub started: Instant,
    /// When the call returned.
    pub finished: Instant,
    /// How it went.
    pub outcome: Outcome,
}

/// Called after every callback, on the thread that made it.
pub type Observer = Arc<dyn Fn(&CallbackEvent) + Send + Sync>;

/// The WebSocket host service of one plugin. Dropping it shuts it down.
pub struct WebSocketService {
    inner: Arc<Inner>,
}

impl fmt::Debug for WebSocketService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.lock();
        f.debug_struct("WebSocketService")
            .field("plugin", &st.plugin_id)
            .field("connections", &st.conns.len())
            .field("shut_down", &st.shut)
            .finish_non_exhaustive()
    }
}

struct Inner {
    policy: EgressPolicy,
    state: Mutex<State>,
}

struct State {
    plugin_id: String,
    plugin: Option<WeakPlugin>,
    conns: HashMap<String, Arc<Conn>>,
    observer: Option<Observer>,
    tls: Option<Arc<rustls::ClientConfig>>,
    handshake_timeout: Duration,
    max_connections: usize,
    /// Reader threads still running.
    readers: usize,
    shut: bool,
}

/// One open connection.
struct Conn {
    id: String,
    ws: Mutex<WebSocket<Stream>>,
    /// A clone of the socket under `ws`: the reader peeks on it without the lock, and it
    /// switches the socket's blocking mode and timeouts, and shuts it down.
    raw: TcpStream,
    /// Set by whoever removed the connection (close or unload): the reader stops calling
    /// the plugin.
    closed: AtomicBool,
}

impl WebSocketService {
    /// A service whose connections the `policy` checks; build it with
    /// [`EgressPolicy::websocket`].
    pub fn new(policy: EgressPolicy) -> Self {
        Self {
            inner: Arc::new(Inner {
                policy,
                state: Mutex::new(State {
                    plugin_id: String::new(),
                    plugin: None,
                    conns: HashMap::new(),
                    observer: None,
                    tls: None,
                    handshake_timeout: HANDSHAKE_TIMEOUT,
                    max_connections: DEFAULT_MAX_CONNECTIONS,
                    readers: 0,
                    shut: false,
                }),
            }),
        }
    }

    /// Uses `config` for `wss` instead of rustls with Mozilla's roots (e.g. a private CA).
    #[must_use]
    pub fn with_tls_config(self, config: Arc<rustls::ClientConfig>) -> Self {
        self.inner.state.lock().tls = Some(config);
        self
    }

    /// Replaces the 30 s deadline of the TCP connect plus upgrade.
    #[must_use]
    pub fn with_handshake_timeout(self, timeout: Duration) -> Self {
        self.inner.state.lock().handshake_timeout = timeout;
        self
    }

    /// Lets the plugin have at most `max` open connections (at least 1; default
    /// [`DEFAULT_MAX_CONNECTIONS`]).
    #[must_use]
    pub fn with_max_connections(self, max: usize) -> Self {
        self.inner.state.lock().max_connections = max.max(1);
        self
    }

    /// Calls `observer` after every callback (for benchmarks and tests).
    pub fn set_observer(&self, observer: Observer) {
        self.inner.state.lock().observer = Some(observer);
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.inner.state.lock().conns.len()
    }

    /// Number of reader threads still running (a reader outlives its connection's removal
    /// until it sees the socket close).
    pub fn reader_count(&self) -> usize {
        self.inner.state.lock().readers
    }

    /// IDs of the open connections, sorted.
    pub fn connection_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.inner.state.lock().conns.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// `websocket_connect`: opens a connection to `url` with extra handshake `headers`. An
    /// empty `id` gets a generated one; the ID is returned.
    pub fn connect(
        &self,
        url: &str,
        headers: &BTreeMap<String, String>,
        id: &str,
    ) -> Result<String, Error> {
        self.inner.connect(url, headers, id)
    }

    /// `websocket_sendtext`.
    pub fn send_text(&self, id: &str, message: &str) -> Result<(), Error> {
        self.inner.send(id, Message::text(message))
    }

    /// `websocket_sendbinary`.
    pub fn send_binary(&self, id: &str, data: &[u8]) -> Result<(), Error> {
        self.inner.send(id, Message::binary(data.to_vec()))
    }

    /// `websocket_closeconnection`: sends a close frame, drops the connection and calls
    /// `nd_websocket_on_close` before returning.
    pub fn close(&self, id: &str, code: i32, reason: &str) -> Result<(), Error> {
        self.inner.close(id, code, reason, None)
    }

    /// Closes every connection with 1001 `plugin unloaded` and calls `on_close` for each
    /// while the plugin can still be called; later connects fail. Safe from any thread,
    /// including a reader's, and more than once.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }
}

impl Drop for WebSocketService {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}

impl Inner {
    fn connect(
        self: &Arc<Self>,
        url: &str,
        headers: &BTreeMap<String, String>,
        id: &str,
    ) -> Result<String, Error> {
        let target = self.policy.check_url(url)?;
        let id = if id.is_empty() {
            new_id()?
        } else {
            id.to_owned()
        };
        let (timeout, tls) = {
            let st = self.state.lock();
            st.admit(&id)?;
            let tls = if target.scheme == "wss" {
                Some(match &st.tls {
                    Some(config) => Arc::clone(config),
                    None => stream::default_tls_config().map_err(Error::Connect)?,
                })
            } else {
                None
            };
            (st.handshake_timeout, tls)
        };
        let conn = Arc::new(self.dial(&target, url, headers, &id, timeout, tls)?);
        let plugin_id = {
            let mut st = self.state.lock();
            if let Err(e) = st.admit(&id) {
                drop(st);
                conn.shutdown_socket();
                return Err(e);
            }
            st.conns.insert(id.clone(), Arc::clone(&conn));
            st.readers += 1;
            st.plugin_id.clone()
        };
        let inner = Arc::clone(self);
        let reader = Arc::clone(&conn);
        let spawned = thread::Builder::new()
            .name(format!("nd-ws-{plugin_id}"))
            .spawn(move || {
                inner.read_loop(&reader);
                inner.state.lock().readers -= 1;
            });
        if let Err(e) = spawned {
            self.state.lock().readers -= 1;
            self.remove(&conn);
            conn.shutdown_socket();
            return Err(Error::Internal(format!(
                "cannot start the connection reader: {e}"
            )));
        }
        tracing::debug!(plugin = %plugin_id, connection_id = %id, url, "websocket connected");
        Ok(id)
    }

    /// Connects through the policy and upgrades, all within `timeout`.
    fn dial(
        &self,
        target: &Target,
        url: &str,
        headers: &BTreeMap<String, String>,
        id: &str,
        timeout: Duration,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<Conn, Error> {
        let deadline = Instant::now() + timeout;
        let request = build_request(url, headers)?;
        let tcp = self.policy.connect(target, timeout).map_err(|e| match e {
            ConnectError::Refused(refusal) => Error::Refused(refusal),
            ConnectError::Io(e) => Error::Connect(e.to_string()),
        })?;
        let connect_err = |e: io::Error| Error::Connect(e.to_string());
        let raw = tcp.try_clone().map_err(connect_err)?;
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        raw.set_read_timeout(Some(remaining)).map_err(connect_err)?;
        raw.set_write_timeout(Some(remaining))
            .map_err(connect_err)?;
        let _ = raw.set_nodelay(true);
        // Per-read timeouts alone would let a server that trickles bytes stretch the
        // handshake; the watchdog drops the socket at the deadline.
        let fired = Arc::new(AtomicBool::new(false));
        let (done, watch) = mpsc::channel::<()>();
        if let Ok(socket) = raw.try_clone() {
            let fired = Arc::clone(&fired);
            let _ = thread::Builder::new()
                .name("nd-ws-handshake".into())
                .spawn(move || {
                    if watch.recv_timeout(remaining) == Err(mpsc::RecvTimeoutError::Timeout) {
                        fired.store(true, Ordering::Release);
                        let _ = socket.shutdown(Shutdown::Both);
                    }
                });
        }
        let stream = Stream::new(tcp, &target.host, tls).map_err(Error::Connect)?;
        let result = tungstenite::client::client_with_config(request, stream, None);
        drop(done);
        let timed_out = fired.load(Ordering::Acquire);
        let ws = match result {
            Ok((ws, _response)) if !timed_out => ws,
            Ok(_) | Err(HandshakeError::Interrupted(_)) => {
                return Err(Error::Connect("i/o timeout".into()));
            }
            Err(HandshakeError::Failure(_)) if timed_out => {
                return Err(Error::Connect("i/o timeout".into()));
            }
            Err(HandshakeError::Failure(e)) => return Err(Error::Connect(e.to_string())),
        };
        raw.set_read_timeout(None).map_err(connect_err)?;
        raw.set_write_timeout(Some(SEND_TIMEOUT))
            .map_err(connect_err)?;
        Ok(Conn {
            id: id.to_owned(),
            ws: Mutex::new(ws),
            raw,
            closed: AtomicBool::new(false),
        })
    }

    fn get(&self, id: &str) -> Result<Arc<Conn>, Error> {
        self.state
            .lock()
            .conns
            .get(id)
            .cloned()
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    fn send(&self, id: &str, message: Message) -> Result<(), Error> {
        let conn = self.get(id)?;
        let binary = message.is_binary();
        let result = conn.ws.lock().send(message);
        result.map_err(|e| {
            if binary {
                Error::SendBinary(e.to_string())
            } else {
                Error::SendText(e.to_string())
            }
        })
    }

    fn close(
        &self,
        id: &str,
        code: i32,
        reason: &str,
        plugin: Option<Plugin>,
    ) -> Result<(), Error> {
        let began = Instant::now();
        let conn = self
            .state
            .lock()
            .conns
            .remove(id)
            .ok_or_else(|| Error::NotFound(id.to_owned()))?;
        conn.closed.store(true, Ordering::Release);
        conn.send_close(code, reason, CLOSE_TIMEOUT);
        conn.shutdown_socket();
        let input = json!({"connectionId": id, "code": code, "reason": reason});
        self.dispatch(&conn.id, ON_CLOSE, &input, began, plugin);
        tracing::debug!(connection_id = %id, code, "websocket closed by the plugin");
        Ok(())
    }

    fn shutdown(&self) {
        let conns: Vec<Arc<Conn>> = {
            let mut st = self.state.lock();
            if st.shut {
                return;
            }
            st.shut = true;
            st.conns.drain().map(|(_, conn)| conn).collect()
        };
        let began = Instant::now();
        for conn in &conns {
            conn.closed.store(true, Ordering::Release);
            conn.send_close(i32::from(UNLOAD_CODE), UNLOAD_REASON, UNLOAD_CLOSE_TIMEOUT);
            conn.shutdown_socket();
        }
        for conn in &conns {
            let input =
                json!({"connectionId": conn.id, "code": UNLOAD_CODE, "reason": UNLOAD_REASON});
            self.dispatch(&conn.id, ON_CLOSE, &input, began, None);
        }
        self.state.lock().plugin = None;
    }

    /// Removes `conn` if it is still the connection under its ID; true if this call did, and
    /// so owns the connection's last callback.
    fn remove(&self, conn: &Arc<Conn>) -> bool {
        let mut st = self.state.lock();
        let current = st.conns.get(&conn.id).is_some_and(|c| Arc::ptr_eq(c, conn));
        if current {
            st.conns.remove(&conn.id);
        }
        current
    }

    /// The reader of one connection (see the crate docs for why it peeks).
    fn read_loop(&self, conn: &Arc<Conn>) {
        let mut probe = [0u8; 1];
        let mut idle_wakes = 0u32;
        // The handshake may have read frames already (the server wrote right after its
        // response), so drain before the first wait.
        let mut peeked: io::Result<usize> = Ok(0);
        loop {
            let mut got_any = false;
            loop {
                if conn.closed.load(Ordering::Acquire) {
                    return;
                }
                let result = conn.read_available();
                let received = Instant::now();
                if conn.closed.load(Ordering::Acquire) {
                    return;
                }
                match result {
                    Ok(Message::Text(text)) => {
                        got_any = true;
                        let input = json!({"connectionId": conn.id, "message": text.as_str()});
                        self.dispatch(&conn.id, ON_TEXT_MESSAGE, &input, received, None);
                    }
                    Ok(Message::Binary(data)) => {
                        got_any = true;
                        let input = json!({"connectionId": conn.id, "data": encode_bytes(&data)});
                        self.dispatch(&conn.id, ON_BINARY_MESSAGE, &input, received, None);
                    }
                    Ok(Message::Close(frame)) => {
                        // Sends tungstenite's queued reply to the close frame.
                        let _ = conn.ws.lock().flush();
                        let (code, reason) = match frame {
                            Some(f) => (u16::from(f.code), f.reason.as_str().to_owned()),
                            None => (1005, String::new()),
                        };
                        self.finish(conn, Ending::Close(code, reason), received);
                        return;
                    }
                    Ok(_) => got_any = true,
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        match &peeked {
                            Err(pe) if pe.kind() != io::ErrorKind::WouldBlock => {
                                let error = pe.to_string();
                                self.finish(conn, Ending::Error(error), received);
                                return;
                            }
                            _ => break,
                        }
                    }
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.finish(conn, Ending::Error(read_error_text(&e)), received);
                        return;
                    }
                }
            }
            // Bytes that never make a frame (say TLS records without data) wake the peek
            // without a message; do not spin on them.
            if got_any {
                idle_wakes = 0;
            } else {
                idle_wakes += 1;
                if idle_wakes > 1024 {
                    thread::sleep(Duration::from_millis(1));
                }
            }
            // Nothing complete is buffered: wait, without the lock, for the socket to have
            // bytes (or end).
            peeked = loop {
                match conn.raw.peek(&mut probe) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
        }
    }

    /// The end of a connection seen by its reader: remove it and make the last callback,
    /// unless a close or unload removed it first (they make their own).
    fn finish(&self, conn: &Arc<Conn>, ending: Ending, received: Instant) {
        let owned = self.remove(conn);
        conn.closed.store(true, Ordering::Release);
        conn.shutdown_socket();
        if !owned {
            return;
        }
        tracing::debug!(connection_id = %conn.id, ?ending, "websocket connection ended");
        match ending {
            // gorilla's IsCloseError(err, CloseNormalClosure, CloseGoingAway, CloseNoStatusReceived)
            Ending::Close(code @ (1000 | 1001 | 1005), reason) => {
                let input = json!({"connectionId": conn.id, "code": code, "reason": reason});
                self.dispatch(&conn.id, ON_CLOSE, &input, received, None);
            }
            Ending::Close(code, reason) => {
                let input =
                    json!({"connectionId": conn.id, "error": close_error_text(code, &reason)});
                self.dispatch(&conn.id, ON_ERROR, &input, received, None);
            }
            Ending::Error(error) => {
                let input = json!({"connectionId": conn.id, "error": error});
                self.dispatch(&conn.id, ON_ERROR, &input, received, None);
            }
        }
    }

    /// Calls `export` with `input` in a fresh instance of the plugin (`plugin`, or the one
    /// kept at load), skipping a missing export quietly.
    fn dispatch(
        &self,
        connection_id: &str,
        export: &'static str,
        input: &Value,
        received: Instant,
        plugin: Option<Plugin>,
    ) {
        let (weak, observer, plugin_id) = {
            let st = self.state.lock();
            (st.plugin.clone(), st.observer.clone(), st.plugin_id.clone())
        };
        let plugin = plugin.or_else(|| weak.and_then(|w| w.upgrade()));
        let started = Instant::now();
        let outcome = match &plugin {
            None => {
                tracing::debug!(plugin = %plugin_id, connection_id, export, "plugin gone; websocket callback skipped");
                Outcome::Skipped
            }
            Some(p) if !p.has_export(export) => {
                tracing::debug!(plugin = %plugin_id, connection_id, export, "no such export; websocket callback skipped");
                Outcome::Skipped
            }
            Some(p) => match p.call(export, input.to_string().as_bytes()) {
                Ok(_) => Outcome::Returned,
                Err(e) if matches!(e.kind(), nd_runtime::CallErrorKind::Instantiate { .. }) => {
                    tracing::debug!(plugin = %plugin_id, connection_id, export, error = %e, "websocket callback not made");
                    Outcome::Skipped
                }
                Err(e) => {
                    tracing::warn!(plugin = %plugin_id, connection_id, export, error = %e, "websocket callback failed");
                    Outcome::Failed(e.to_string())
                }
            },
        };
        if let Some(observer) = observer {
            observer(&CallbackEvent {
                connection_id: connection_id.to_owned(),
                export,
                received,
                started,
                finished: Instant::now(),
                outcome,
            });
        }
        // If this was the last handle, dropping it unloads the plugin and runs `shutdown`
        // here, on a reader: fine, shutdown never joins readers.
        drop(plugin);
    }
}

impl State {
    /// Whether a connection under `id` may be added now.
    fn admit(&self, id: &str) -> Result<(), Error> {
        if self.shut {
            return Err(Error::ShutDown);
        }
        if self.conns.contains_key(id) {
            return Err(Error::AlreadyExists(id.to_owned()));
        }
        if self.conns.len() >= self.max_connections {
            return Err(Error::TooMany(self.max_connections));
        }
        Ok(())
    }
}

#[derive(Debug)]
enum Ending {
    /// A close frame: its code (1005 for none) and reason.
    Close(u16, String),
    /// A read error, as the plugin will see it.
    Error(String),
}

impl Conn {
    /// One read without blocking: a message tungstenite already holds or can complete from
    /// the bytes the socket has, else `WouldBlock`. Lets the lock go fairly, so a waiting
    /// sender goes next.
    fn read_available(&self) -> tungstenite::Result<Message> {
        let mut ws = self.ws.lock();
        self.raw.set_nonblocking(true)?;
        let result = ws.read();
        let restored = self.raw.set_nonblocking(false);
        MutexGuard::unlock_fair(ws);
        match (result, restored) {
            (Ok(_), Err(e)) => Err(tungstenite::Error::Io(e)),
            (result, _) => result,
        }
    }

    /// Sends a close frame the way gorilla's `FormatCloseMessage` + `WriteControl` do, within
    /// `timeout`; failures are only logged.
    fn send_close(&self, code: i32, reason: &str, timeout: Duration) {
        // Go's uint16 conversion.
        let code = code as u16;
        let frame = match code {
            1005 => None,
            _ if reason.len() > 123 => {
                tracing::debug!(connection_id = %self.id, "close reason too long; no close frame sent");
                return;
            }
            _ => Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            }),
        };
        let mut ws = self.ws.lock();
        let _ = self.raw.set_write_timeout(Some(timeout));
        if let Err(e) = ws.close(frame) {
            tracing::debug!(connection_id = %self.id, error = %e, "websocket close frame not sent");
        }
    }

    fn shutdown_socket(&self) {
        let _ = self.raw.shutdown(Shutdown::Both);
    }
}

/// The handshake request: `url` plus the plugin's headers, set as Go's `Header.Set` does.
fn build_request(
    url: &str,
    headers: &BTreeMap<String, String>,
) -> Result<tungstenite::handshake::client::Request, Error> {
    const RESERVED: [&str; 4] = [
        "Upgrade",
        "Connection",
        "Sec-Websocket-Key",
        "Sec-Websocket-Version",
    ];
    let mut request = url
        .into_client_request()
        .map_err(|e| Error::Connect(e.to_string()))?;
    for (name, value) in headers {
        let canonical = canonical_header_key(name);
        if RESERVED.contains(&canonical.as_str()) {
            return Err(Error::Connect(format!(
                "websocket: duplicate header not allowed: {canonical}"
            )));
        }
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::Connect(format!("invalid header name {}", go_quote(name))))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::Connect(format!("invalid header value for {canonical}")))?;
        request.headers_mut().insert(header, value);
    }
    Ok(request)
}

/// gorilla's `CloseError.Error()`.
fn close_error_text(code: u16, reason: &str) -> String {
    let name = match code {
        1000 => " (normal)",
        1001 => " (going away)",
        1002 => " (protocol error)",
        1003 => " (unsupported data)",
        1005 => " (no status)",
        1006 => " (abnormal closure)",
        1007 => " (invalid payload data)",
        1008 => " (policy violation)",
        1009 => " (message too big)",
        1010 => " (mandatory extension missing)",
        1011 => " (internal server error)",
        1015 => " (TLS handshake error)",
        _ => "",
    };
    if reason.is_empty() {
        format!("websocket: close {code}{name}")
    } else {
        format!("websocket: close {code}{name}: {reason}")
    }
}

/// What the plugin sees for a read error: gorilla's text for a connection dropped without a
/// close frame, tungstenite's otherwise.
fn read_error_text(e: &tungstenite::Error) -> String {
    use tungstenite::error::ProtocolError;
    match e {
        tungstenite::Error::ConnectionClosed
        | tungstenite::Error::AlreadyClosed
        | tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            close_error_text(1006, "unexpected EOF")
        }
        tungstenite::Error::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            close_error_text(1006, "unexpected EOF")
        }
        other => other.to_string(),
    }
}

/// A generated connection ID ([`nd_runtime::random_id`]).
fn new_id() -> Result<String, Error> {
    nd_runtime::random_id()
        .map_err(|e| Error::Internal(format!("failed to generate a connection ID: {e}")))
}

fn guest(e: Error) -> HostError {
    HostError::Guest(e.to_string())
}

impl HostService for WebSocketService {
    fn name(&self) -> &'static str {
        "websocket"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        {
            let st = &mut *self.inner.state.lock();
            RegisterError::claim("websocket", &mut st.plugin_id, st.shut, imports.plugin_id())?;
        }
        let service = Arc::clone(&self.inner);
        imports.json("websocket_connect", move |_ctx, req| {
            const GO: &str = "WebSocketConnectRequest";
            let req = GoRequest::parse(&req, GO)?;
            let url = req.string("url")?;
            let headers: BTreeMap<String, String> =
                req.string_map("headers")?.into_iter().collect();
            let id = req.string("connectionId")?;
            let id = service.connect(&url, &headers, &id).map_err(guest)?;
            Ok(json_response(json!({ "newConnectionId": id })))
        });
        let service = Arc::clone(&self.inner);
        imports.json("websocket_sendtext", move |_ctx, req| {
            let req = GoRequest::parse(&req, "WebSocketSendTextRequest")?;
            let id = req.string("connectionId")?;
            let message = req.string("message")?;
            service.send(&id, Message::text(message)).map_err(guest)?;
            Ok(json!({}))
        });
        let service = Arc::clone(&self.inner);
        imports.json("websocket_sendbinary", move |_ctx, req| {
            let req = GoRequest::parse(&req, "WebSocketSendBinaryRequest")?;
            let id = req.string("connectionId")?;
            let data = req.bytes("data")?;
            service.send(&id, Message::binary(data)).map_err(guest)?;
            Ok(json!({}))
        });
        let service = Arc::clone(&self.inner);
        imports.json("websocket_closeconnection", move |ctx, req| {
            let req = GoRequest::parse(&req, "WebSocketCloseConnectionRequest")?;
            let id = req.string("connectionId")?;
            let code = req.int32("code")?;
            let reason = req.string("reason")?;
            // The calling plugin, so on_close runs re-entrantly in a second instance.
            service
                .close(&id, code, &reason, Some(ctx.plugin()))
                .map_err(guest)?;
            Ok(json!({}))
        });
        Ok(())
    }

    fn on_load(&self, plugin: &Plugin) -> Result<(), RegisterError> {
        let mut st = self.inner.state.lock();
        st.plugin_id = plugin.id().to_owned();
        st.plugin = Some(plugin.downgrade());
        Ok(())
    }

    fn shutdown(&self) {
        self.inner.shutdown();
    }
}

#[cfg(test)]
mod tests;
