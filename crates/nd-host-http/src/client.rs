//! The sandboxed HTTP client: a blocking client (ureq 3, rustls) whose every connection goes
//! through an [`EgressPolicy`].
//!
//! How the policy is enforced:
//! - ureq's name resolution is replaced by the policy ([`EgressPolicy::resolve`] behind
//!   ureq's `Resolver` hook), so ureq connects only to addresses the policy returned, at
//!   connect time: there is no gap between checking an address and connecting to it.
//! - ureq's own redirect handling is off; [`HttpClient::send`] follows redirects itself and
//!   runs every hop through [`EgressPolicy::check_url`] and the resolver again.
//! - No proxy is taken from the environment (`HTTP_PROXY` and friends are ignored): a proxy
//!   would resolve names on the plugin's behalf, out of the policy's sight.
//!
//! What it is not: not a general HTTP client (no cookies, no streaming bodies, no retries),
//! and it does not shape requests for a host function (header flattening, base64, JSON
//! errors); the services in this crate do that.
//!
//! Behaviour worth knowing:
//! - Response header names are lower-case (the `http` crate normalises them); headers come
//!   grouped by name in first-seen order, repeated names repeated.
//! - A `Host` header from the caller is dropped (as Go's client does): the host comes from the
//!   URL, so a request cannot be aimed at another virtual host than the one checked.
//! - On a redirect to another host, `Authorization`, `Cookie` and `Proxy-Authorization` are
//!   dropped, as Go's client does for hosts that are not the same domain or a subdomain.
//! - A `HEAD` request never sends a body; `POST`, `PUT` and `PATCH` without one send
//!   `Content-Length: 0`.
//! - gzip responses are decoded transparently; the size cap applies to the decoded body.

use std::io::Read as _;
use std::time::{Duration, Instant};

use ureq::http;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::policy::{EgressPolicy, Refusal, Target};

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Upper-case method.
    pub method: String,
    pub url: String,
    /// Header name and value pairs, sent in order.
    pub headers: Vec<(String, String)>,
    /// Sent only when non-empty.
    pub body: Vec<u8>,
}

/// How to send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Whole-request deadline (connect, redirects, body).
    pub timeout: Duration,
    /// Follow redirects (each hop re-checked by the policy), at most `max_redirects`.
    pub follow_redirects: bool,
    pub max_redirects: usize,
    /// Body bytes kept.
    pub max_body_bytes: u64,
    /// Past `max_body_bytes`: true keeps the first bytes silently (`http_send`), false fails
    /// with [`SendError::TooLarge`] (Extism `http_request`).
    pub truncate: bool,
}

impl Default for SendOptions {
    /// `http_send`'s defaults: 10 s, redirects followed up to 5, 10 MiB truncated.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            follow_redirects: true,
            max_redirects: 5,
            max_body_bytes: 10 * 1024 * 1024,
            truncate: true,
        }
    }
}

/// A response; any status, 4xx and 5xx included.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    pub status: u16,
    /// Header name and value pairs as received, in order (repeated names repeated).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The URL of the last hop.
    pub final_url: String,
}

/// Why there is no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The policy refused the URL, an address, or a redirect hop.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    #[error("HTTP response exceeds the configured maximum number of bytes: {0}")]
    TooLarge(u64),
    #[error("too many redirects (at most {0})")]
    TooManyRedirects(usize),
    #[error("{0}")]
    Transport(String),
}

/// A blocking HTTP client bound to one policy. Cheap to clone; keeps a connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    policy: EgressPolicy,
    /// One agent (one connection pool) per client; its resolver is the policy.
    agent: ureq::Agent,
}

/// ureq's resolver hook: resolves through the policy, so ureq only ever sees allowed
/// addresses.
#[derive(Debug)]
struct PolicyResolver {
    policy: EgressPolicy,
}

impl Resolver for PolicyResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        _config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
        let host = uri
            .host()
            .ok_or(ureq::Error::HostNotFound)?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        let target = Target {
            scheme,
            host,
            port,
            url: uri.to_string(),
        };
        // An IP literal needs no lookup; a name can hang in the resolver, so it is looked up
        // on a helper thread within the request's deadline.
        let literal = target.host.parse::<std::net::IpAddr>().is_ok();
        let addrs = if literal || timeout.after.is_not_happening() {
            self.policy.resolve(&target)
        } else {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let policy = self.policy.clone();
            let t = target.clone();
            std::thread::spawn(move || {
                let _ = tx.send(policy.resolve(&t));
            });
            match rx.recv_timeout(*timeout.after) {
                Ok(result) => result,
                Err(_) => return Err(ureq::Error::Timeout(timeout.reason)),
            }
        }
        .map_err(|refusal| ureq::Error::Other(Box::new(refusal)))?;
        let mut out = self.empty();
        for addr in addrs.into_iter().take(16) {
            out.push(addr);
        }
        Ok(out)
    }
}

impl HttpClient {
    /// A client whose every connection `policy` checks.
    pub fn new(policy: EgressPolicy) -> Self {
        let config = ureq::Agent::config_builder()
            .proxy(None)
            .max_redirects(0)
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .save_redirect_history(false)
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            DefaultConnector::default(),
            PolicyResolver {
                policy: policy.clone(),
            },
        );
        Self { policy, agent }
    }

    /// The policy.
    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    /// Sends `request`, following redirects as `options` say.
    ///
    /// # Errors
    ///
    /// [`SendError::Refused`] when the policy refuses the URL, every address of its host, or
    /// a redirect hop (the refused target is never contacted); [`SendError::Timeout`] past
    /// `options.timeout`; [`SendError::TooLarge`] for a body over the cap when
    /// `options.truncate` is false; [`SendError::TooManyRedirects`] for more than
    /// `options.max_redirects` redirects; [`SendError::Transport`] for anything else
    /// (connection refused, TLS, malformed request or response).
    pub fn send(&self, request: &Request, options: &SendOptions) -> Result<Response, SendError> {
        let deadline = Instant::now() + options.timeout;
        let mut method = request.method.trim().to_ascii_uppercase();
        if method.is_empty() {
            method = "GET".into();
        }
        let mut url = request.url.clone();
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .filter(|(name, _)| !name.trim().eq_ignore_ascii_case("host"))
            .cloned()
            .collect();
        let mut body: &[u8] = &request.body;
        let mut redirects = 0usize;
        loop {
            let target = self.policy.check_url(&url)?;
            // The url crate's form of the URL, so ureq sees the host the policy checked.
            let normalized = url::Url::parse(&url).map_err(|e| {
                SendError::Refused(Refusal::InvalidUrl {
                    url: url.clone(),
                    reason: e.to_string(),
                })
            })?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(SendError::Timeout(options.timeout));
            }
            let response = self.exchange(
                &method,
                normalized.as_str(),
                &headers,
                body,
                remaining,
                options,
            )?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            if let (true, true, Some(location)) =
                (options.follow_redirects, is_redirect(status), location)
            {
                if redirects >= options.max_redirects {
                    return Err(SendError::TooManyRedirects(options.max_redirects));
                }
                redirects += 1;
                let next = normalized.join(&location).map_err(|e| {
                    SendError::Transport(format!(
                        "redirect from {} to an invalid location {location:?}: {e}",
                        normalized.as_str()
                    ))
                })?;
                tracing::debug!(
                    from = normalized.as_str(),
                    to = next.as_str(),
                    status,
                    "redirect"
                );
                if matches!(status, 301..=303) {
                    if method != "HEAD" {
                        method = "GET".into();
                    }
                    body = &[];
                    headers.retain(|(name, _)| !is_body_header(name));
                }
                let next_host = next.host_str().unwrap_or("").to_ascii_lowercase();
                if !same_site(&target.host, &next_host) {
                    headers.retain(|(name, _)| !is_credential_header(name));
                }
                drop(response);
                url = next.into();
                continue;
            }
            return read_response(response, normalized.as_str(), options, deadline);
        }
    }

    /// One request and response head, no redirects.
    fn exchange(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout: Duration,
        options: &SendOptions,
    ) -> Result<http::Response<ureq::Body>, SendError> {
        let mut builder = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // POST, PUT and PATCH without a body send `Content-Length: 0` (as Go does) rather
        // than ureq's default, an empty chunked body.
        let needs_length = matches!(method, "POST" | "PUT" | "PATCH");
        let result = if method == "HEAD" || (body.is_empty() && !needs_length) {
            let request = builder.body(()).map_err(invalid_request)?;
            let request = self
                .agent
                .configure_request(request)
                .timeout_global(Some(timeout))
                .build();
            self.agent.run(request)
        } else {
            let request = builder.body(body).map_err(invalid_request)?;
            let request = self
                .agent
                .configure_request(request)
                .timeout_global(Some(timeout))
                .build();
            self.agent.run(request)
        };
        result.map_err(|e| map_error(e, options))
    }
}

fn read_response(
    response: http::Response<ureq::Body>,
    final_url: &str,
    options: &SendOptions,
    deadline: Instant,
) -> Result<Response, SendError> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let limit = options.max_body_bytes.saturating_add(1);
    let read = response
        .into_body()
        .into_reader()
        .take(limit)
        .read_to_end(&mut body);
    if let Err(e) = read {
        if e.kind() == std::io::ErrorKind::TimedOut || Instant::now() >= deadline {
            return Err(SendError::Timeout(options.timeout));
        }
        let inner = e.into_inner();
        return Err(
            match inner.as_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
                Some(ureq::Error::Timeout(_)) => SendError::Timeout(options.timeout),
                _ => SendError::Transport(format!(
                    "reading the response body failed: {}",
                    inner.map_or_else(|| "unknown error".to_owned(), |i| i.to_string())
                )),
            },
        );
    }
    if body.len() as u64 > options.max_body_bytes {
        if !options.truncate {
            return Err(SendError::TooLarge(options.max_body_bytes));
        }
        // Fits: the length is at most `max_body_bytes + 1`, which came from a usize.
        body.truncate(usize::try_from(options.max_body_bytes).unwrap_or(usize::MAX));
    }
    Ok(Response {
        status,
        headers,
        body,
        final_url: final_url.to_owned(),
    })
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

fn is_body_header(name: &str) -> bool {
    let name = name.trim();
    [
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn is_credential_header(name: &str) -> bool {
    let name = name.trim();
    [
        "authorization",
        "cookie",
        "proxy-authorization",
        "www-authenticate",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Go's rule for keeping credentials on a redirect: the same host or a subdomain of it.
fn same_site(from: &str, to: &str) -> bool {
    to == from || to.ends_with(&format!(".{from}"))
}

fn invalid_request(e: http::Error) -> SendError {
    SendError::Transport(format!("invalid request: {e}"))
}

fn map_error(e: ureq::Error, options: &SendOptions) -> SendError {
    match e {
        ureq::Error::Timeout(_) => SendError::Timeout(options.timeout),
        ureq::Error::Other(inner) => match inner.downcast::<Refusal>() {
            Ok(refusal) => match *refusal {
                Refusal::Unresolvable { .. } => SendError::Transport(refusal.to_string()),
                refusal => SendError::Refused(refusal),
            },
            Err(other) => SendError::Transport(other.to_string()),
        },
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            SendError::Timeout(options.timeout)
        }
        ureq::Error::Io(io) => SendError::Transport(io.to_string()),
        other => SendError::Transport(other.to_string()),
    }
}
