//! Extism's built-in `http_request` (spec §3.16, extism-abi.md §4.1) routed through the same
//! sandboxed [`HttpClient`] as `http_send`: [`PolicyEgress`] is the [`nd_runtime::Egress`] a
//! plugin's [`PluginConfig::egress`](nd_runtime::PluginConfig) points at.
//!
//! Behaviour, as Extism (and Navidrome before v0.64) has it:
//! - **deny by default**: only hosts in the manifest's `http.requiredHosts` are reachable, and
//!   a plugin without the `http` permission (or with an empty list) reaches none
//!   ([`EgressPolicy::extism_http`]);
//! - a host outside the list fails the whole call with Extism's text, `HTTP request to
//!   '<url>' is not allowed` (nd-runtime reports it as
//!   [`CallErrorKind::HostFunction`](nd_runtime::CallErrorKind)); the plugin never sees a
//!   status, and its next call works as before;
//! - any status is a response; the body is sent for every method when the plugin gave one;
//! - a body larger than [`HttpLimits::max_body_bytes`] (50 MiB by default) fails the call with
//!   [`EgressError::TooLarge`]: it is not truncated;
//! - the timeout is [`HttpLimits::timeout`], the time left before the call's deadline;
//! - response headers have lower-case names, repeated ones joined with `,` (the
//!   [`HttpResponse`] contract).
//!
//! Where ndp deliberately differs, to close the holes of GHSA-82gh-4ggp-gfg5 (§7.3):
//! - every resolved address is checked at connect time: loopback, private, link-local and the
//!   other special ranges are refused unless the operator's [`LocalAllowance`] names them, and
//!   such a refusal fails the call with the policy's text, which names the rule;
//! - redirects are followed at most 5 times and every hop is re-checked against the host list
//!   and the address rules (Extism follows 10 hops without any check).
//!
//! What it is not: `http_status_code` and `http_headers` live in nd-runtime, which records
//! the response this module returns.

use std::collections::BTreeMap;
use std::fmt;

use nd_manifest::Permissions;
use nd_runtime::{Egress, EgressError, HttpLimits, HttpRequest, HttpResponse};

use crate::client::{HttpClient, Request, SendError, SendOptions};
use crate::policy::{EgressPolicy, LocalAllowance, Refusal};

/// Redirects followed at most (each hop re-checked).
pub const MAX_REDIRECTS: usize = 5;

/// The [`Egress`] of one plugin: Extism's `http_request` through the sandboxed client; see the
/// [module docs](self).
#[derive(Clone)]
pub struct PolicyEgress {
    client: HttpClient,
}

impl fmt::Debug for PolicyEgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyEgress")
            .field("policy", self.client.policy())
            .finish()
    }
}

impl PolicyEgress {
    /// Egress through `client` (whose policy should be [`EgressPolicy::extism_http`]).
    pub fn new(client: HttpClient) -> Self {
        Self { client }
    }

    /// Egress with its own client bound to `policy`.
    pub fn with_policy(policy: EgressPolicy) -> Self {
        Self::new(HttpClient::new(policy))
    }

    /// The egress a manifest's permissions ask for: the `http` permission's `requiredHosts`
    /// become Extism's allowed hosts (as in Navidrome's snapshot); without the permission
    /// every request is refused. `local` is the operator's allowance for local services.
    pub fn from_permissions(permissions: &Permissions, local: LocalAllowance) -> Self {
        let hosts = permissions
            .http
            .as_ref()
            .map(|http| http.required_hosts.clone())
            .unwrap_or_default();
        Self::with_policy(EgressPolicy::extism_http(hosts, local))
    }

    /// The client requests go through.
    pub fn client(&self) -> &HttpClient {
        &self.client
    }
}

impl Egress for PolicyEgress {
    fn send(&self, request: HttpRequest, limits: HttpLimits) -> Result<HttpResponse, EgressError> {
        let plugin = request.plugin_id;
        let req = Request {
            method: request.method,
            url: request.url,
            headers: request.headers.into_iter().collect(),
            body: request.body,
        };
        let options = SendOptions {
            timeout: limits.timeout,
            follow_redirects: true,
            max_redirects: MAX_REDIRECTS,
            max_body_bytes: limits.max_body_bytes,
            truncate: false,
        };
        match self.client.send(&req, &options) {
            Ok(response) => {
                tracing::trace!(
                    plugin,
                    url = req.url,
                    status = response.status,
                    "http_request"
                );
                let mut headers: BTreeMap<String, String> = BTreeMap::new();
                for (name, value) in response.headers {
                    headers
                        .entry(name.to_ascii_lowercase())
                        .and_modify(|joined| {
                            joined.push(',');
                            joined.push_str(&value);
                        })
                        .or_insert(value);
                }
                Ok(HttpResponse {
                    status: response.status,
                    headers,
                    body: response.body,
                })
            }
            Err(error) => {
                if matches!(error, SendError::Refused(_)) {
                    tracing::warn!(plugin, url = req.url, %error, "http_request refused");
                } else {
                    tracing::debug!(plugin, url = req.url, %error, "http_request failed");
                }
                Err(match error {
                    // Not a policy decision: there was no address to check.
                    SendError::Refused(unresolvable @ Refusal::Unresolvable { .. }) => {
                        EgressError::Transport(unresolvable.to_string())
                    }
                    // A host-list miss reads `HTTP request to '<url>' is not allowed`
                    // (Extism's text, also for a redirect hop); the other refusals name
                    // their rule.
                    SendError::Refused(refusal) => EgressError::NotAllowed(refusal.to_string()),
                    SendError::TooLarge(_) => EgressError::TooLarge(limits.max_body_bytes),
                    other => EgressError::Transport(other.to_string()),
                })
            }
        }
    }
}
