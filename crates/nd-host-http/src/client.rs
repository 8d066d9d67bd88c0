//! The sandboxed HTTP client: every connection goes through an [`EgressPolicy`]. BEING
//! WRITTEN (issue 4); the signatures below are the contract the services code against.

use std::time::Duration;

use crate::policy::{EgressPolicy, Refusal};

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
}

impl HttpClient {
    /// A client whose every connection `policy` checks.
    pub fn new(policy: EgressPolicy) -> Self {
        Self { policy }
    }

    /// The policy.
    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    /// Sends `request`.
    pub fn send(&self, request: &Request, options: &SendOptions) -> Result<Response, SendError> {
        let _ = options;
        self.policy.check_url(&request.url)?;
        Err(SendError::Transport("not implemented yet".into()))
    }
}
