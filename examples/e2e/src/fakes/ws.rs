//! A scripted WebSocket server on 127.0.0.1 (tungstenite over std sockets, a thread per
//! connection): it answers client frames through a [`Script`], records everything that
//! happens as [`WsEvent`]s, and lets a test push frames, close or drop a connection, or
//! refuse the next handshakes.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

/// How long [`WsServer::wait_for`] waits before failing the test.
pub const WAIT: Duration = Duration::from_secs(20);

/// How often a connection thread looks for commands between reads.
const POLL: Duration = Duration::from_millis(10);

/// How a fake answers its clients.
pub trait Script: Send + Sync + 'static {
    /// Text frames sent right after connection `conn` is accepted.
    fn on_connect(&self, conn: usize) -> Vec<String> {
        let _ = conn;
        Vec::new()
    }

    /// Text frames sent in answer to the client's text frame `text` on `conn`.
    fn on_text(&self, conn: usize, text: &str) -> Vec<String> {
        let _ = (conn, text);
        Vec::new()
    }
}

/// Something that happened on the server, in order. Connections are numbered from 0 in
/// the order they were accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsEvent {
    /// A handshake succeeded; `path` is the request target (`/feed?x=y`).
    Connected { conn: usize, path: String },
    /// A handshake was answered with 503 ([`WsServer::refuse_next`]).
    Refused { path: String },
    /// The client sent a text frame.
    Text { conn: usize, text: String },
    /// The client sent a binary frame.
    Binary { conn: usize, data: Vec<u8> },
    /// The client sent a close frame (`code` is `None` for a close without status).
    ClientClosed {
        conn: usize,
        code: Option<u16>,
        reason: String,
    },
    /// The test closed the connection from the server side ([`WsServer::close`]).
    ServerClosed { conn: usize, code: u16 },
    /// The connection ended without a close handshake (dropped by either side).
    Gone { conn: usize, error: String },
}

impl WsEvent {
    /// The connection the event belongs to (`None` for a refused handshake).
    pub fn conn(&self) -> Option<usize> {
        match self {
            WsEvent::Connected { conn, .. }
            | WsEvent::Text { conn, .. }
            | WsEvent::Binary { conn, .. }
            | WsEvent::ClientClosed { conn, .. }
            | WsEvent::ServerClosed { conn, .. }
            | WsEvent::Gone { conn, .. } => Some(*conn),
            WsEvent::Refused { .. } => None,
        }
    }
}

enum Command {
    Send(String),
    Close(u16, String),
    Drop,
}

struct Shared {
    events: Mutex<Vec<WsEvent>>,
    changed: Condvar,
    commands: Mutex<Vec<Sender<Command>>>,
    refuse: AtomicUsize,
    stop: AtomicBool,
    script: Box<dyn Script>,
}

impl Shared {
    fn record(&self, event: WsEvent) {
        lock(&self.events).push(event);
        self.changed.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake; it stops accepting and drops its connections when dropped.
pub struct WsServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for WsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsServer")
            .field("addr", &self.addr)
            .field("events", &lock(&self.shared.events).len())
            .finish_non_exhaustive()
    }
}

impl WsServer {
    /// Starts a server on 127.0.0.1 with a port the OS picks.
    ///
    /// # Panics
    ///
    /// If the socket cannot be bound or the acceptor thread cannot start.
    pub fn start(script: impl Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("fake websocket server: bind 127.0.0.1:0: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("fake websocket server: local address: {e}"));
        let shared = Arc::new(Shared {
            events: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            commands: Mutex::new(Vec::new()),
            refuse: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            script: Box::new(script),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("fake-ws-{}", addr.port()))
                .spawn(move || {
                    for stream in listener.incoming() {
                        if shared.stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let shared = Arc::clone(&shared);
                        std::thread::spawn(move || serve(stream, &shared));
                    }
                })
                .unwrap_or_else(|e| panic!("fake websocket server: acceptor thread: {e}"))
        };
        WsServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `ws://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every event so far, in order.
    pub fn events(&self) -> Vec<WsEvent> {
        lock(&self.shared.events).clone()
    }

    /// How many handshakes succeeded so far.
    pub fn connections(&self) -> usize {
        lock(&self.shared.commands).len()
    }

    /// The text frames the client sent on `conn`, in order.
    pub fn texts(&self, conn: usize) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                WsEvent::Text { conn: c, text } if c == conn => Some(text),
                _ => None,
            })
            .collect()
    }

    /// Waits until `find` returns `Some` for the events so far and returns that value.
    ///
    /// # Panics
    ///
    /// After [`WAIT`], naming `what` and listing the events.
    pub fn wait_for<T>(&self, what: &str, mut find: impl FnMut(&[WsEvent]) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        let mut events = lock(&self.shared.events);
        loop {
            if let Some(found) = find(&events) {
                return found;
            }
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "fake websocket server {}: timed out waiting for {what}; events: {:#?}",
                    self.addr, *events
                );
            }
            events = self
                .shared
                .changed
                .wait_timeout(events, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Sends a text frame to the client on `conn`.
    ///
    /// # Panics
    ///
    /// If connection `conn` is not accepted within [`WAIT`].
    pub fn send_text(&self, conn: usize, text: &str) {
        self.command(conn, Command::Send(text.to_owned()));
    }

    /// Starts the close handshake from the server side with `code` and `reason`; the
    /// client's answer is recorded as [`WsEvent::ClientClosed`].
    ///
    /// # Panics
    ///
    /// If connection `conn` is not accepted within [`WAIT`].
    pub fn close(&self, conn: usize, code: u16, reason: &str) {
        self.command(conn, Command::Close(code, reason.to_owned()));
    }

    /// Shuts the TCP connection down without a close frame.
    ///
    /// # Panics
    ///
    /// If connection `conn` is not accepted within [`WAIT`].
    pub fn drop_connection(&self, conn: usize) {
        self.command(conn, Command::Drop);
    }

    /// Answers the next `n` handshakes with HTTP 503 instead of upgrading.
    pub fn refuse_next(&self, n: usize) {
        self.shared.refuse.store(n, Ordering::SeqCst);
    }

    fn command(&self, conn: usize, command: Command) {
        // A client may see its handshake finish before the server thread has recorded it.
        self.wait_for(&format!("connection {conn}"), |events| {
            events
                .iter()
                .any(|e| matches!(e, WsEvent::Connected { conn: c, .. } if *c == conn))
                .then_some(())
        });
        let commands = lock(&self.shared.commands);
        if let Some(sender) = commands.get(conn) {
            // A connection that already ended has dropped its receiver; the test sees that
            // in the events, so a failed send is not an error here.
            let _ = sender.send(command);
        }
    }
}

impl Drop for WsServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor; it sees `stop` and ends. Connection threads see it between reads.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// One connection: handshake, then frames in both directions until either side ends it.
fn serve(stream: TcpStream, shared: &Shared) {
    if shared.stop.load(Ordering::SeqCst) {
        return;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut path = String::new();
    let refused = shared
        .refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    #[allow(clippy::result_large_err)] // tungstenite's callback signature
    let handshake = tungstenite::accept_hdr(stream, |req: &Request, resp: Response| {
        path = req.uri().to_string();
        if refused {
            let mut refusal = ErrorResponse::new(Some("fake: service unavailable".to_owned()));
            *refusal.status_mut() = tungstenite::http::StatusCode::SERVICE_UNAVAILABLE;
            Err(refusal)
        } else {
            Ok(resp)
        }
    });
    let mut ws = match handshake {
        Ok(ws) => ws,
        Err(_) if refused => {
            shared.record(WsEvent::Refused { path });
            return;
        }
        Err(_) => return,
    };
    let (sender, commands) = mpsc::channel();
    let conn = {
        // Numbered and recorded under one lock, so numbers follow the event order.
        let mut senders = lock(&shared.commands);
        senders.push(sender);
        let conn = senders.len() - 1;
        shared.record(WsEvent::Connected { conn, path });
        conn
    };
    let _ = ws.get_ref().set_read_timeout(Some(POLL));
    for text in shared.script.on_connect(conn) {
        if ws.send(Message::text(text)).is_err() {
            return;
        }
    }
    run(&mut ws, conn, &commands, shared);
}

fn run(ws: &mut WebSocket<TcpStream>, conn: usize, commands: &Receiver<Command>, shared: &Shared) {
    let mut closing = false;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            let _ = ws.get_ref().shutdown(Shutdown::Both);
            return;
        }
        loop {
            match commands.try_recv() {
                Ok(Command::Send(text)) => {
                    if let Err(e) = ws.send(Message::text(text)) {
                        shared.record(WsEvent::Gone {
                            conn,
                            error: e.to_string(),
                        });
                        return;
                    }
                }
                Ok(Command::Close(code, reason)) => {
                    closing = true;
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    // The frame is queued and flushed by the next read or write.
                    let _ = ws.close(Some(frame));
                    let _ = ws.flush();
                    shared.record(WsEvent::ServerClosed { conn, code });
                }
                Ok(Command::Drop) => {
                    let _ = ws.get_ref().shutdown(Shutdown::Both);
                    shared.record(WsEvent::Gone {
                        conn,
                        error: "dropped by the test".to_owned(),
                    });
                    return;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        match ws.read() {
            Ok(Message::Text(text)) => {
                let text = text.as_str().to_owned();
                shared.record(WsEvent::Text {
                    conn,
                    text: text.clone(),
                });
                for reply in shared.script.on_text(conn, &text) {
                    if ws.send(Message::text(reply)).is_err() {
                        break;
                    }
                }
            }
            Ok(Message::Binary(data)) => shared.record(WsEvent::Binary {
                conn,
                data: data.to_vec(),
            }),
            Ok(Message::Close(frame)) => {
                let (code, reason) = match frame {
                    Some(f) => (Some(u16::from(f.code)), f.reason.as_str().to_owned()),
                    None => (None, String::new()),
                };
                shared.record(WsEvent::ClientClosed { conn, code, reason });
                // tungstenite answers the close on the next flush; keep reading until the
                // connection ends.
                let _ = ws.flush();
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return;
            }
            Err(e) => {
                if !closing {
                    shared.record(WsEvent::Gone {
                        conn,
                        error: e.to_string(),
                    });
                }
                return;
            }
        }
    }
}
