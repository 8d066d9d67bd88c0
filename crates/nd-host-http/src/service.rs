//! Navidrome's `http` host service (spec §3.2): the one host function `http_send`, sending a
//! plugin's request through the sandboxed [`HttpClient`].
//!
//! Wire shapes follow Navidrome's generated `http_gen.go` and `host/http.go`: the request is
//! `{request: {method, url, headers?, noFollowRedirects?, body?, timeoutMs?}}` read with Go's
//! `encoding/json` rules ([`GoRequest`]), the answer `{result: {statusCode, headers?, body?}}`
//! where `statusCode` is always present and `headers` and `body` are `omitempty`, bodies are
//! padded standard base64, and every failure is `{"error": "..."}`.
//!
//! Behaviour mirrored from Navidrome's `httpServiceImpl.Send`:
//! - the method is upper-cased (an empty one is `GET`, as in Go); headers are set with Go's
//!   `Header.Set`, so names are canonicalised (`x-foo` → `X-Foo`) and one value per name is
//!   sent; a body is sent only when it is non-empty;
//! - the timeout is `timeoutMs`, else [`DEFAULT_TIMEOUT`] (10 s), and covers connecting,
//!   every redirect and reading the body;
//! - redirects are followed up to [`MAX_REDIRECTS`] (5) times, each hop re-checked by the
//!   policy; with `noFollowRedirects` the 3xx response itself is the result;
//! - the body is silently truncated at [`MAX_BODY_BYTES`] (10 MiB);
//! - response headers are flattened to the first value of each name, under Go's canonical
//!   name (`content-type` → `Content-Type`);
//! - a 4xx or 5xx status is a result, not an error; refusals, network errors and timeouts are
//!   errors, worded as Go words them: a refusal is the policy's text (which names the rule),
//!   a transport failure is Go's `url.Error`, `Get "<url>": <cause>`, and a timeout is
//!   `Get "<url>": context deadline exceeded`.
//!
//! Where ndp deliberately differs:
//! - the [`EgressPolicy`] checks every resolved address at connect time, also when
//!   `requiredHosts` is non-empty (Navidrome trusts the list there, §7.3); loopback and private
//!   services need the operator's [`LocalAllowance`];
//! - `timeoutMs` ≤ 0 means the default (Go turns a negative value into an already expired
//!   deadline), and the timeout never exceeds the time left before the calling export's
//!   deadline (in Navidrome the call's context bounds it the same way), so a host function
//!   never blocks a call past its timeout;
//! - past the 5th redirect the request fails with `stopped after 5 redirects` instead of
//!   returning the 6th 3xx response; header names and values Go would refuse (`net/http:
//!   invalid header field ...`) are refused before any I/O with Go's text; `Host`,
//!   `Content-Length`, `Transfer-Encoding` and `Trailer` set by the plugin are ignored, as
//!   Go's transport ignores them;
//! - the URL in a transport error is the URL the plugin asked for, not the redirect hop that
//!   failed, and a refused redirect hop is the policy's text without Go's `Get "<url>": `;
//! - object keys come out sorted (`body`, `headers`, `statusCode`), not in Go's struct
//!   order: the same JSON value.
//!
//! What it is not: it does not read manifests by itself ([`HttpService::from_permission`]
//! builds one from the `http` permission) and it does not serve Extism's `http_request`
//! (that is [`crate::egress::PolicyEgress`], with Extism's stricter defaults).

use std::fmt;
use std::time::Duration;

use nd_manifest::HostsPermission;
use nd_runtime::{
    GoRequest, HostCtx, HostError, HostImports, HostService, RegisterError, encode_bytes, go_quote,
};
use serde_json::{Map, Value};

use crate::client::{HttpClient, Request, Response, SendError, SendOptions};
use crate::policy::{EgressPolicy, LocalAllowance, Refusal};

#[cfg(test)]
mod tests;

/// Timeout of a request without `timeoutMs`, as in Navidrome.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed at most, as in Navidrome.
pub const MAX_REDIRECTS: usize = 5;
/// Response bodies are cut silently after this many bytes, as in Navidrome.
pub const MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;

/// Request headers the plugin cannot set: Go's transport writes these itself.
const IGNORED_REQUEST_HEADERS: [&str; 4] =
    ["Host", "Content-Length", "Transfer-Encoding", "Trailer"];

/// Navidrome's `http` host service for one plugin; see the [module docs](self).
///
/// Build one per plugin: its policy holds that plugin's `requiredHosts`.
#[derive(Clone)]
pub struct HttpService {
    client: HttpClient,
}

impl fmt::Debug for HttpService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpService")
            .field("policy", self.client.policy())
            .finish()
    }
}

impl HttpService {
    /// A service sending through `client` (whose policy should be [`EgressPolicy::http`]).
    pub fn new(client: HttpClient) -> Self {
        Self { client }
    }

    /// A service with its own client bound to `policy`.
    pub fn with_policy(policy: EgressPolicy) -> Self {
        Self::new(HttpClient::new(policy))
    }

    /// The service a manifest's `http` permission asks for: its `requiredHosts` (an empty
    /// list allows any public host, as in Navidrome) and the operator's `local` allowance.
    pub fn from_permission(permission: &HostsPermission, local: LocalAllowance) -> Self {
        Self::with_policy(EgressPolicy::http(permission.required_hosts.clone(), local))
    }

    /// The client requests go through.
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// `http_send`: `{request: {...}}` → `{result: {...}}`.
    fn send(&self, ctx: &HostCtx<'_>, request: &Value) -> Result<Value, HostError> {
        let parsed = parse_request(request)?;
        // Navidrome checks the URL and the host rules before anything else.
        self.client
            .policy()
            .check_url(&parsed.request.url)
            .map_err(|refusal| {
                tracing::warn!(plugin = ctx.plugin_id(), url = parsed.request.url, %refusal, "http_send refused");
                HostError::Guest(refusal.to_string())
            })?;
        let request = parsed.request;
        let headers = set_headers(&parsed.headers)
            .map_err(|cause| HostError::Guest(url_error(&request.method, &request.url, &cause)))?;
        let request = Request { headers, ..request };
        // Never wait past the calling export's own deadline.
        let options = SendOptions {
            timeout: parsed.timeout.min(ctx.time_left()),
            follow_redirects: !parsed.no_follow_redirects,
            max_redirects: MAX_REDIRECTS,
            max_body_bytes: MAX_BODY_BYTES,
            truncate: true,
        };
        match self.client.send(&request, &options) {
            Ok(response) => {
                tracing::trace!(
                    plugin = ctx.plugin_id(),
                    method = request.method,
                    url = request.url,
                    status = response.status,
                    "http_send"
                );
                Ok(result_json(&response))
            }
            Err(error) => {
                tracing::debug!(plugin = ctx.plugin_id(), url = request.url, %error, "http_send failed");
                Err(HostError::Guest(error_text(&request, error)))
            }
        }
    }
}

impl HostService for HttpService {
    fn name(&self) -> &'static str {
        "http"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let service = self.clone();
        imports.json("http_send", move |ctx, req| service.send(ctx, &req));
        Ok(())
    }
}

/// A decoded `HTTPSendRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed {
    /// Method (upper-cased, `GET` when empty), URL and body; headers are still raw.
    request: Request,
    /// `headers` in the order read.
    headers: Vec<(String, String)>,
    no_follow_redirects: bool,
    timeout: Duration,
}

/// Reads `HTTPSendRequest` with Go's rules and texts.
fn parse_request(value: &Value) -> Result<Parsed, HostError> {
    let outer = GoRequest::parse(value, "HTTPSendRequest")?;
    let req = outer.object("request", "HTTPRequest")?;
    let method = req.string("method")?.to_uppercase();
    let method = if method.is_empty() {
        "GET".to_owned()
    } else if is_token(&method) {
        method
    } else {
        return Err(HostError::Guest(format!(
            "creating request: net/http: invalid method {}",
            go_quote(&method)
        )));
    };
    let url = req.string("url")?;
    let headers = req.string_map("headers")?;
    let no_follow_redirects = req.bool("noFollowRedirects")?;
    let body = req.bytes("body")?;
    let timeout = match req.int32("timeoutMs")? {
        ms if ms <= 0 => DEFAULT_TIMEOUT,
        ms => Duration::from_millis(u64::from(ms.unsigned_abs())),
    };
    Ok(Parsed {
        request: Request {
            method,
            url,
            headers: Vec::new(),
            body,
        },
        headers,
        no_follow_redirects,
        timeout,
    })
}

/// Applies `headers` with Go's `Header.Set`: canonical names, the last value set for a name
/// wins (at the place of the first). Go's transport refuses invalid names and values; the
/// headers it writes itself are dropped. `Err` is the cause, in Go's words.
fn set_headers(headers: &[(String, String)]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let name = canonical_header_key(name);
        if !is_token(&name) {
            return Err(format!(
                "net/http: invalid header field name {}",
                go_quote(&name)
            ));
        }
        if !valid_header_value(value) {
            return Err(format!(
                "net/http: invalid header field value for {}",
                go_quote(&name)
            ));
        }
        if IGNORED_REQUEST_HEADERS.contains(&name.as_str()) {
            continue;
        }
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => out.push((name, value.clone())),
        }
    }
    Ok(out)
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: the first letter and every letter after a `-`
/// upper-case, the others lower-case; a name with a byte that is not a token character is
/// returned unchanged.
pub fn canonical_header_key(name: &str) -> String {
    if !name.bytes().all(is_token_byte) {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// An RFC 9110 token (Go's `httpguts.ValidHeaderFieldName` and method check).
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Go's `httpguts.ValidHeaderFieldValue`: no control bytes except horizontal tab.
fn valid_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Go's `url.Error` text: `Get "<url>": <cause>` (the method with only its first letter
/// upper-case).
fn url_error(method: &str, url: &str, cause: &str) -> String {
    let op = match method.split_at_checked(1) {
        Some((first, rest)) => format!("{first}{}", rest.to_ascii_lowercase()),
        None => "Get".to_owned(),
    };
    format!("{op} {}: {cause}", go_quote(url))
}

/// The `error` text of a request that produced no response.
fn error_text(request: &Request, error: SendError) -> String {
    let (method, url) = (&request.method, &request.url);
    match error {
        // A lookup failure is a transport error in Go (`dial tcp: lookup ...`).
        SendError::Refused(unresolvable @ Refusal::Unresolvable { .. }) => {
            url_error(method, url, &unresolvable.to_string())
        }
        // The policy's text names the rule; Navidrome returns its own refusals unwrapped.
        SendError::Refused(refusal) => refusal.to_string(),
        SendError::Timeout(_) => url_error(method, url, "context deadline exceeded"),
        SendError::TooManyRedirects(n) => {
            url_error(method, url, &format!("stopped after {n} redirects"))
        }
        SendError::TooLarge(_) => format!("reading response body: {error}"),
        other => url_error(method, url, &other.to_string()),
    }
}

/// `{result: {statusCode, headers?, body?}}` as Go writes `HTTPSendResponse`.
fn result_json(response: &Response) -> Value {
    let mut headers = Map::new();
    for (name, value) in &response.headers {
        headers
            .entry(canonical_header_key(name))
            .or_insert_with(|| Value::String(value.clone()));
    }
    let mut result = Map::new();
    result.insert("statusCode".to_owned(), Value::from(response.status));
    if !headers.is_empty() {
        result.insert("headers".to_owned(), Value::Object(headers));
    }
    if !response.body.is_empty() {
        result.insert(
            "body".to_owned(),
            Value::String(encode_bytes(&response.body)),
        );
    }
    let mut outer = Map::new();
    outer.insert("result".to_owned(), Value::Object(result));
    Value::Object(outer)
}
