//! The egress policy: which URLs and which resolved addresses a plugin may reach. BEING
//! WRITTEN (issue 4); the signatures below are the contract `nd-host-ws` and the HTTP client
//! code against.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use nd_manifest::HostPattern;

/// Resolves a host name to socket addresses. Injectable so tests can make a public-looking
/// name resolve to 127.0.0.1.
pub trait Resolve: Send + Sync + fmt::Debug + 'static {
    /// All addresses of `host` (a name or an IP literal without brackets) with `port`.
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;
}

/// The operating system's resolver (`ToSocketAddrs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

/// The operator's allowance for local services: hosts and networks a plugin may reach even
/// though they are private or loopback. Empty (the default) allows none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalAllowance {
    /// Host names (compared ignoring ASCII case) whose resolved addresses are all allowed.
    pub hosts: Vec<String>,
    /// Networks `(address, prefix length)` whose addresses are allowed.
    pub nets: Vec<(IpAddr, u8)>,
}

/// Where a checked URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Lower-case scheme: `http`, `https`, `ws` or `wss`.
    pub scheme: String,
    /// Host without brackets or port, lower-case.
    pub host: String,
    /// Explicit port, or the scheme's default.
    pub port: u16,
    /// The URL as given.
    pub url: String,
}

/// Why the policy refused a request; the text names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    #[error("{0}")]
    Rule(String),
}

/// Why [`EgressPolicy::connect`] gave no connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// One plugin's egress policy for one kind of traffic.
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    required_hosts: Vec<HostPattern>,
    local: LocalAllowance,
    resolver: Arc<dyn Resolve>,
}

impl EgressPolicy {
    /// `http_send` (§3.2): `http`/`https`; an empty `required_hosts` allows any public host.
    pub fn http(required_hosts: Vec<HostPattern>, local: LocalAllowance) -> Self {
        Self {
            required_hosts,
            local,
            resolver: Arc::new(SystemResolver),
        }
    }

    /// Extism `http_request` (§3.16): `http`/`https`; an empty `required_hosts` allows nothing.
    pub fn extism_http(required_hosts: Vec<HostPattern>, local: LocalAllowance) -> Self {
        Self::http(required_hosts, local)
    }

    /// WebSocket (§3.8): `ws`/`wss`; an empty `required_hosts` allows nothing.
    pub fn websocket(required_hosts: Vec<HostPattern>, local: LocalAllowance) -> Self {
        Self::http(required_hosts, local)
    }

    /// Replaces the resolver.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    /// Checks the scheme and the host rules (no DNS) and returns where the URL points.
    pub fn check_url(&self, url: &str) -> Result<Target, Refusal> {
        Err(Refusal::Rule(format!("not implemented yet: {url}")))
    }

    /// Resolves `target` and keeps the addresses the policy allows; a refusal if none is.
    pub fn resolve(&self, target: &Target) -> Result<Vec<SocketAddr>, Refusal> {
        Err(Refusal::Rule(format!("not implemented yet: {}", target.host)))
    }

    /// [`Self::resolve`], then a TCP connection to the first allowed address that answers
    /// within `timeout`.
    pub fn connect(&self, target: &Target, timeout: Duration) -> Result<TcpStream, ConnectError> {
        let addrs = self.resolve(target)?;
        let mut last = io::Error::other("no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => return Ok(stream),
                Err(e) => last = e,
            }
        }
        Err(ConnectError::Io(last))
    }
}

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        use std::net::ToSocketAddrs as _;
        Ok((host, port).to_socket_addrs()?.collect())
    }
}
