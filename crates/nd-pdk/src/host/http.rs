//! The HTTP service (spec §3.2, permission `http` with `requiredHosts`): `http_send`, the
//! host's sandboxed HTTP client. Only `http` and `https` URLs on the manifest's
//! `requiredHosts` are reached, never a private or loopback address unless the operator
//! allows it; redirects (up to 5) are checked the same way. A 4xx or 5xx status is a
//! response, not an error; network failures, timeouts (10 s by default) and refused hosts
//! are errors. Bodies over 10 MiB are cut there.
//!
//! ```no_run
//! use nd_pdk::host::http::{self, HttpRequest};
//!
//! # fn main() -> nd_pdk::Result<()> {
//! let response = http::send(
//!     &HttpRequest::get("https://en.wikipedia.org/api/rest_v1/page/summary/Nina_Simone")
//!         .header("Accept", "application/json")
//!         .timeout_ms(5_000),
//! )?;
//! if response.is_success() {
//!     let summary: serde_json::Value = response.json()?;
//!     nd_pdk::info!("{}", summary["extract"]);
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ffi::import;
use crate::host::call;
use crate::wire::{b64, is_false, is_zero_i32, null_default};

import! {
    fn raw_send = "http_send";
}

/// An HTTP request for [`send`]. Build it with [`HttpRequest::get`], [`HttpRequest::post`]
/// or [`HttpRequest::new`] and the builder methods.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRequest {
    /// The method; the host upper-cases it.
    pub method: String,
    /// An `http` or `https` URL.
    pub url: String,
    /// Request headers (one value each, as Go's `Header.Set`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Return a 3xx response instead of following it.
    #[serde(skip_serializing_if = "is_false")]
    pub no_follow_redirects: bool,
    /// The body; sent only when not empty.
    #[serde(with = "b64", skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<u8>,
    /// The timeout in milliseconds; 0 for the host's default (10 s).
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub timeout_ms: i32,
}

impl HttpRequest {
    /// A request with this method and URL.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        HttpRequest {
            method: method.to_owned(),
            url: url.into(),
            ..HttpRequest::default()
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` request with `body`.
    pub fn post(url: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self::new("POST", url).body(body)
    }

    /// Sets header `name` (replacing an earlier value).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` as JSON, and `Content-Type: application/json`.
    ///
    /// # Errors
    ///
    /// If `value` cannot be encoded as JSON.
    pub fn json(self, value: &impl Serialize) -> Result<Self> {
        let body = serde_json::to_vec(value)
            .map_err(|e| Error::msg(format!("cannot encode the request body: {e}")))?;
        Ok(self.header("Content-Type", "application/json").body(body))
    }

    /// Sets the timeout.
    #[must_use]
    pub fn timeout_ms(mut self, timeout_ms: i32) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// Returns 3xx responses instead of following redirects.
    #[must_use]
    pub fn no_follow_redirects(mut self) -> Self {
        self.no_follow_redirects = true;
        self
    }
}

/// What [`send`] got back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpResponse {
    /// The status code.
    #[serde(deserialize_with = "null_default")]
    pub status_code: i32,
    /// The response headers, first value of each, with Go-canonical names
    /// (`Content-Type`); see [`HttpResponse::header`] for a case-insensitive lookup.
    #[serde(deserialize_with = "null_default")]
    pub headers: BTreeMap<String, String>,
    /// The body (at most 10 MiB).
    #[serde(with = "b64")]
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status_code)
    }

    /// The value of header `name`, compared ignoring ASCII case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    ///
    /// If the body is not JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::msg(format!(
                "HTTP {} response body is not the expected JSON: {e}",
                self.status_code
            ))
        })
    }
}

/// `http_send {request}`: sends `request` and waits for the response.
///
/// # Errors
///
/// The host's message for a refused host, a network failure or a timeout.
pub fn send(request: &HttpRequest) -> Result<HttpResponse> {
    #[derive(Serialize)]
    struct Request<'a> {
        request: &'a HttpRequest,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Answer {
        result: Option<HttpResponse>,
    }
    let answer: Answer = call("http_send", raw_send, &Request { request })?;
    answer.result.ok_or_else(|| {
        Error::call(
            "http_send",
            "the host returned neither a result nor an error",
        )
    })
}
