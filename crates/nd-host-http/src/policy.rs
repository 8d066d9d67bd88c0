//! The egress policy: which URLs and which resolved addresses a plugin may reach.
//!
//! This module is the **one place that decides egress** for every way a plugin reaches the
//! network: Navidrome's `http_send` ([`EgressPolicy::http`]), Extism's `http_request`
//! ([`EgressPolicy::extism_http`]) and WebSocket connections ([`EgressPolicy::websocket`],
//! used by `nd-host-ws`). It is plain Rust with no knowledge of plugins, so any program can
//! use it, with [`crate::client::HttpClient`], as a sandboxed client.
//!
//! A request passes two checks:
//!
//! 1. [`EgressPolicy::check_url`], on the URL string, without DNS: the scheme (`http`/`https`,
//!    or `ws`/`wss` for WebSocket) and the host against `requiredHosts` (spec §5.3, matched by
//!    [`HostPattern::matches`] on the host without port or brackets). An empty list allows
//!    every host for `http_send` and no host for `http_request` and WebSocket. A URL whose host
//!    is an IP literal in a refused range is refused here already.
//! 2. [`EgressPolicy::resolve`], on the addresses: the host is resolved through the injected
//!    [`Resolve`] and every address in a refused class ([`AddressClass`]: private, loopback,
//!    link-local, shared/CGNAT, unspecified, broadcast, multicast, unique-local, reserved,
//!    documentation, benchmarking, and IPv6 forms that embed such an IPv4 address) is dropped,
//!    unless the operator's [`LocalAllowance`] lists its network or the host name. Callers
//!    connect **only** to the returned addresses, at connect time (the HTTP client does it from
//!    ureq's resolver hook, [`EgressPolicy::connect`] does it for raw TCP), so a public-looking
//!    name that resolves to 127.0.0.1 is refused and there is no window between check and
//!    connect. Redirects are re-checked hop by hop by the client.
//!
//! Every [`Refusal`] names the rule that refused. The one exception to our wording is
//! Extism's: a host outside `requiredHosts` for an [`EgressPolicy::extism_http`] policy
//! displays as `HTTP request to '<url>' is not allowed`, the text Extism and Navidrome
//! plugins see, so the `http_request` service can pass [`Refusal`]'s `Display` through as is.
//!
//! What this module is not: it does not send requests (see [`crate::client`]), does not
//! rate-limit, and does not look at request contents. Its IP rules are fixed; the only knob is
//! the [`LocalAllowance`].

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use nd_manifest::HostPattern;

mod ip;

pub use ip::{AddressClass, classify};

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

/// Why [`LocalAllowance::parse`] rejected its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid local allowance entry {entry:?}: {reason}")]
pub struct AllowanceError {
    /// The offending entry, trimmed.
    pub entry: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl LocalAllowance {
    /// Parses a comma-separated list of CIDR networks (`127.0.0.0/8`, `fd00::/8`), single IP
    /// addresses (`127.0.0.1`, `::1`, `[::1]`) and host names (`localhost`,
    /// `music.lan`). Blank entries are skipped, so `""` is the empty allowance.
    ///
    /// # Errors
    ///
    /// [`AllowanceError`] naming the first bad entry: a network with a bad address or a
    /// prefix longer than the address, or a host name with characters other than letters,
    /// digits, `-`, `_` and `.` (no ports, schemes, wildcards or paths).
    pub fn parse(text: &str) -> Result<Self, AllowanceError> {
        let mut allowance = Self::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let fail = |reason| AllowanceError {
                entry: entry.to_owned(),
                reason,
            };
            if let Some((addr, prefix)) = entry.split_once('/') {
                let addr: IpAddr = addr
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse()
                    .map_err(|_| fail("the part before '/' is not an IP address"))?;
                let prefix: u8 = prefix
                    .parse()
                    .map_err(|_| fail("the prefix length after '/' is not a number"))?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                if prefix > max {
                    return Err(fail("the prefix length is longer than the address"));
                }
                allowance.nets.push((addr, prefix));
            } else if let Ok(addr) = entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .unwrap_or(entry)
                .parse::<IpAddr>()
            {
                let prefix = if addr.is_ipv4() { 32 } else { 128 };
                allowance.nets.push((addr, prefix));
            } else if entry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                allowance.hosts.push(entry.to_ascii_lowercase());
            } else {
                return Err(fail(
                    "expected a network (127.0.0.0/8), an IP address or a host name without port, scheme or wildcard",
                ));
            }
        }
        Ok(allowance)
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.nets.is_empty()
    }

    /// Whether `host` is listed by name.
    pub fn allows_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether `addr` lies in a listed network. An IPv6 form embedding an IPv4 address
    /// (`::ffff:127.0.0.1`) is allowed when the embedded address is.
    pub fn allows_addr(&self, addr: IpAddr) -> bool {
        let embedded = match addr {
            IpAddr::V6(v6) => ip::embedded_v4(v6).map(|(v4, _)| IpAddr::V4(v4)),
            IpAddr::V4(_) => None,
        };
        self.nets.iter().any(|&(net, prefix)| {
            ip::in_net(addr, net, prefix) || embedded.is_some_and(|e| ip::in_net(e, net, prefix))
        })
    }
}

/// Which traffic a policy guards; it decides the schemes and the empty-list rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyKind {
    /// Navidrome's `http_send`: `http`/`https`; an empty `requiredHosts` allows any host.
    HttpSend,
    /// Extism's `http_request`: `http`/`https`; an empty `requiredHosts` allows nothing.
    ExtismHttp,
    /// WebSocket: `ws`/`wss`; an empty `requiredHosts` allows nothing.
    WebSocket,
}

impl PolicyKind {
    /// The host function this policy guards, for messages.
    pub fn function(self) -> &'static str {
        match self {
            Self::HttpSend => "http_send",
            Self::ExtismHttp => "http_request",
            Self::WebSocket => "websocket",
        }
    }

    fn schemes(self) -> [&'static str; 2] {
        match self {
            Self::HttpSend | Self::ExtismHttp => ["http", "https"],
            Self::WebSocket => ["ws", "wss"],
        }
    }

    fn permission(self) -> &'static str {
        match self {
            Self::HttpSend | Self::ExtismHttp => "http",
            Self::WebSocket => "websocket",
        }
    }
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

/// One address a host resolved to that the policy refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedAddr {
    pub addr: IpAddr,
    pub class: AddressClass,
}

impl fmt::Display for RefusedAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V6(v6) => match ip::embedded_v4(v6) {
                Some((v4, form)) => write!(f, "{v6} ({form} {v4})"),
                None => write!(f, "{v6}"),
            },
            IpAddr::V4(v4) => write!(f, "{v4}"),
        }
    }
}

/// Why the policy refused a request; the text names the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The URL does not parse.
    InvalidUrl { url: String, reason: String },
    /// The scheme is not one the policy's kind allows.
    Scheme {
        url: String,
        scheme: String,
        kind: PolicyKind,
    },
    /// The URL has no host.
    NoHost { url: String },
    /// The host matches no `requiredHosts` entry (or the list is empty and the kind allows
    /// nothing then). For [`PolicyKind::ExtismHttp`] the text is Extism's
    /// `HTTP request to '<url>' is not allowed`.
    HostNotAllowed {
        url: String,
        host: String,
        kind: PolicyKind,
        /// `requiredHosts` was empty.
        empty_list: bool,
    },
    /// Every address of the host is in a refused class and outside the local allowance.
    Address {
        host: String,
        /// The host is itself an IP literal (no DNS involved).
        literal: bool,
        refused: Vec<RefusedAddr>,
    },
    /// The host could not be resolved (not a policy decision, but no address to check).
    Unresolvable { host: String, reason: String },
    /// Another rule, stated by its text (for callers adding rules of their own).
    Rule(String),
}

impl std::error::Error for Refusal {}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl { url, reason } => write!(f, "invalid URL {url:?}: {reason}"),
            Self::Scheme { url, scheme, kind } => {
                let [a, b] = kind.schemes();
                write!(
                    f,
                    "URL {url:?} has scheme {scheme:?}, but {} allows only {a} and {b}",
                    kind.function()
                )
            }
            Self::NoHost { url } => write!(f, "URL {url:?} has no host"),
            Self::HostNotAllowed {
                url,
                kind: PolicyKind::ExtismHttp,
                ..
            } => {
                write!(f, "HTTP request to '{url}' is not allowed")
            }
            Self::HostNotAllowed {
                host,
                kind,
                empty_list: true,
                ..
            } => write!(
                f,
                "host {host:?} is not allowed: the plugin's {} permission lists no requiredHosts, so {} may reach no host",
                kind.permission(),
                kind.function()
            ),
            Self::HostNotAllowed { host, kind, .. } => write!(
                f,
                "host {host:?} is not allowed: it matches none of the requiredHosts of the plugin's {} permission",
                kind.permission()
            ),
            Self::Address {
                host,
                literal,
                refused,
            } => {
                if *literal {
                    write!(f, "host {host:?} is ")?;
                } else {
                    write!(f, "host {host:?} resolves to ")?;
                }
                match refused.as_slice() {
                    [one] => {
                        if !*literal
                            || matches!(one.addr, IpAddr::V6(v6) if ip::embedded_v4(v6).is_some())
                        {
                            write!(f, "{one}, ")?;
                        }
                        write!(f, "{} {} address", article(one.class), one.class)?;
                    }
                    many => {
                        write!(f, "only addresses in refused ranges: ")?;
                        for (i, r) in many.iter().enumerate() {
                            let sep = if i == 0 { "" } else { ", " };
                            write!(f, "{sep}{r} ({})", r.class)?;
                        }
                    }
                }
                write!(
                    f,
                    ", which plugins may not reach (allow it with the operator's local allowance)"
                )
            }
            Self::Unresolvable { host, reason } => {
                write!(f, "host {host:?} could not be resolved: {reason}")
            }
            Self::Rule(text) => f.write_str(text),
        }
    }
}

fn article(class: AddressClass) -> &'static str {
    match class {
        AddressClass::UniqueLocal | AddressClass::Unspecified => "an",
        _ => "a",
    }
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
    kind: PolicyKind,
    required_hosts: Vec<HostPattern>,
    local: LocalAllowance,
    resolver: Arc<dyn Resolve>,
}

impl EgressPolicy {
    fn new(kind: PolicyKind, required_hosts: Vec<HostPattern>, local: LocalAllowance) -> Self {
        Self {
            kind,
            required_hosts,
            local,
            resolver: Arc::new(SystemResolver),
        }
    }

    /// `http_send` (§3.2): `http`/`https`; an empty `required_hosts` allows any public host.
    pub fn http(required_hosts: Vec<HostPattern>, local: LocalAllowance) -> Self {
        Self::new(PolicyKind::HttpSend, required_hosts, local)
    }

    /// Extism `http_request` (§3.16): `http`/`https`; an empty `required_hosts` allows nothing.
    pub fn extism_http(required_hosts: Vec<HostPattern>, local: LocalAllowance) -> Self {
        Self::new(PolicyKind::ExtismHttp, required_hosts, local)
    }

    /// WebSocket (§3.8): `ws`/`wss`; an empty `required_hosts` allows nothing.
    pub fn websocket(required_hosts: Vec<HostPattern>, local: LocalAllowance) -> Self {
        Self::new(PolicyKind::WebSocket, required_hosts, local)
    }

    /// Replaces the resolver.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    /// Which traffic this policy guards.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The operator's local allowance.
    pub fn local_allowance(&self) -> &LocalAllowance {
        &self.local
    }

    /// Checks the scheme and the host rules (no DNS) and returns where the URL points.
    pub fn check_url(&self, url: &str) -> Result<Target, Refusal> {
        let parsed = url::Url::parse(url).map_err(|e| Refusal::InvalidUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        let scheme = parsed.scheme().to_ascii_lowercase();
        if !self.kind.schemes().contains(&scheme.as_str()) {
            return Err(Refusal::Scheme {
                url: url.to_owned(),
                scheme,
                kind: self.kind,
            });
        }
        let (host, literal) = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => (d.to_ascii_lowercase(), None),
            Some(url::Host::Ipv4(v4)) => (v4.to_string(), Some(IpAddr::V4(v4))),
            Some(url::Host::Ipv6(v6)) => (v6.to_string(), Some(IpAddr::V6(v6))),
            _ => {
                return Err(Refusal::NoHost {
                    url: url.to_owned(),
                });
            }
        };
        let port = parsed
            .port_or_known_default()
            .unwrap_or(if scheme.ends_with('s') { 443 } else { 80 });
        let host_allowed = if self.required_hosts.is_empty() {
            self.kind == PolicyKind::HttpSend
        } else {
            HostPattern::any_matches(&self.required_hosts, &host)
        };
        if !host_allowed {
            return Err(Refusal::HostNotAllowed {
                url: url.to_owned(),
                host,
                kind: self.kind,
                empty_list: self.required_hosts.is_empty(),
            });
        }
        if let Some(addr) = literal {
            self.check_addrs(&host, true, &[addr])?;
        }
        Ok(Target {
            scheme,
            host,
            port,
            url: url.to_owned(),
        })
    }

    /// Resolves `target` and keeps the addresses the policy allows; a refusal if none is.
    ///
    /// An IP-literal host is not sent to the resolver. The order of the resolver's answer is
    /// kept; duplicates are dropped.
    pub fn resolve(&self, target: &Target) -> Result<Vec<SocketAddr>, Refusal> {
        let host = target.host.trim_start_matches('[').trim_end_matches(']');
        let (addrs, literal) = match host.parse::<IpAddr>() {
            Ok(ip) => (vec![SocketAddr::new(ip, target.port)], true),
            Err(_) => {
                let addrs = self.resolver.resolve(host, target.port).map_err(|e| {
                    Refusal::Unresolvable {
                        host: host.to_owned(),
                        reason: e.to_string(),
                    }
                })?;
                (addrs, false)
            }
        };
        if addrs.is_empty() {
            return Err(Refusal::Unresolvable {
                host: host.to_owned(),
                reason: "the resolver returned no address".into(),
            });
        }
        let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
        let allowed = self.check_addrs(host, literal, &ips)?;
        let mut kept: Vec<SocketAddr> = Vec::with_capacity(allowed.len());
        for addr in addrs {
            if allowed.contains(&addr.ip()) && !kept.contains(&addr) {
                kept.push(addr);
            }
        }
        Ok(kept)
    }

    /// The addresses of `ips` the policy allows for `host`, or a refusal naming the others.
    fn check_addrs(
        &self,
        host: &str,
        literal: bool,
        ips: &[IpAddr],
    ) -> Result<Vec<IpAddr>, Refusal> {
        if self.local.allows_host(host) {
            return Ok(ips.to_vec());
        }
        let mut allowed = Vec::new();
        let mut refused: Vec<RefusedAddr> = Vec::new();
        for &addr in ips {
            match classify(addr) {
                Some(class) if !self.local.allows_addr(addr) => {
                    if !refused.iter().any(|r| r.addr == addr) {
                        refused.push(RefusedAddr { addr, class });
                    }
                }
                _ => allowed.push(addr),
            }
        }
        if allowed.is_empty() {
            return Err(Refusal::Address {
                host: host.to_owned(),
                literal,
                refused,
            });
        }
        if !refused.is_empty() {
            tracing::debug!(host, ?refused, "dropped refused addresses of host");
        }
        Ok(allowed)
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

#[cfg(test)]
mod tests;
