//! The boundary between Extism's `http_request` and the network. nd-runtime never opens a
//! socket itself: it hands the parsed request to an [`Egress`] implementation, which decides
//! and performs it. The default, [`DenyEgress`], refuses everything; the sandboxed client with
//! the real policy lives in `nd-host-http`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A request a plugin made through Extism's `http_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Calling plugin.
    pub plugin_id: String,
    pub url: String,
    /// Upper-cased method (`GET` when the plugin sent none).
    pub method: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Limits the runtime imposes on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest response body accepted; a larger one must fail with [`EgressError::TooLarge`].
    pub max_body_bytes: u64,
    /// Time left before the calling export's deadline.
    pub timeout: Duration,
}

/// A response; non-2xx statuses are responses, not errors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// Lower-case names; repeated headers joined with `,`.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Why a request produced no response. Every variant fails the plugin call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EgressError {
    /// The policy refused the request; the text names the rule.
    NotAllowed(String),
    /// The response body was larger than [`HttpLimits::max_body_bytes`].
    TooLarge(u64),
    /// Connecting, sending or receiving failed.
    Transport(String),
}

impl fmt::Display for EgressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAllowed(m) | Self::Transport(m) => f.write_str(m),
            Self::TooLarge(n) => write!(
                f,
                "HTTP response exceeds the configured maximum number of bytes: {n}"
            ),
        }
    }
}

impl std::error::Error for EgressError {}

/// Performs (or refuses) a plugin's outgoing HTTP request.
pub trait Egress: Send + Sync + 'static {
    fn send(&self, request: HttpRequest, limits: HttpLimits) -> Result<HttpResponse, EgressError>;
}

/// Refuses every request, with Extism's message: `HTTP request to '<url>' is not allowed`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DenyEgress;

impl Egress for DenyEgress {
    fn send(&self, request: HttpRequest, _: HttpLimits) -> Result<HttpResponse, EgressError> {
        Err(EgressError::NotAllowed(format!(
            "HTTP request to '{}' is not allowed",
            request.url
        )))
    }
}
