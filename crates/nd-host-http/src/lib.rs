//! Sandboxed outgoing HTTP for the ndp plugin runtime: one egress [`policy`] for every way a
//! plugin reaches the network, the blocking [`client`] (on ureq) that enforces it at connect
//! time, and the two ways plugins use it:
//! - [`service::HttpService`], Navidrome's `http` host service (`http_send`, spec §3.2);
//! - [`egress::PolicyEgress`], the [`nd_runtime::Egress`] behind Extism's built-in
//!   `http_request` (§3.16), deny by default.
//!
//! The policy matches `requiredHosts` (§5.3), allows only `http`/`https` (`ws`/`wss` for
//! WebSocket), and refuses loopback, private, link-local and other special addresses **after
//! resolution**, on every redirect hop, unless the operator's
//! [`LocalAllowance`](policy::LocalAllowance) names them (§7.3). Every refusal names the rule
//! that refused it. [`client::HttpClient`] is usable on its own by any Rust program that wants
//! the same sandbox.
//!
//! What it is not: it does not read `.ndp` packages or decide which plugin gets which
//! permission (nd-manager lowers the manifest and links these services, with
//! [`HttpService::from_permission`](service::HttpService::from_permission) and
//! [`PolicyEgress::from_permissions`](egress::PolicyEgress::from_permissions)); it has no
//! WebSocket (`nd-host-ws`, which shares the policy); it never names wasmer.
//!
//! Linking both into a plugin whose manifest grants `http`:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use nd_host_http::egress::PolicyEgress;
//! use nd_host_http::policy::LocalAllowance;
//! use nd_host_http::service::HttpService;
//! use nd_runtime::{PluginConfig, Runtime, RuntimeConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let parsed = nd_manifest::Manifest::parse(&std::fs::read("lastfm/manifest.json")?)?;
//! let permissions = parsed.manifest.permissions;
//! let compiled = runtime.compile("lastfm", &std::fs::read("lastfm/plugin.wasm")?)?;
//!
//! // The operator lets plugins reach a local service on 192.168.1.10 (off by default).
//! let local = LocalAllowance {
//!     hosts: Vec::new(),
//!     nets: vec![("192.168.1.10".parse()?, 32)],
//! };
//! let mut config = PluginConfig::new("lastfm");
//! if let Some(http) = &permissions.http {
//!     // http_send: requiredHosts, or any public host when the list is empty.
//!     config
//!         .services
//!         .push(Arc::new(HttpService::from_permission(http, local.clone())));
//! }
//! // Extism http_request: requiredHosts only; nothing without the http permission.
//! config.egress = Arc::new(PolicyEgress::from_permissions(&permissions, local));
//! let plugin = runtime.load(&compiled, config)?;
//! plugin.call("nd_on_init", b"{}")?;
//! # Ok(()) }
//! ```
//!
//! The client alone, outside any plugin:
//!
//! ```no_run
//! use nd_host_http::client::{HttpClient, Request, SendOptions};
//! use nd_host_http::policy::{EgressPolicy, LocalAllowance};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let hosts = vec!["*.musicbrainz.org".parse()?];
//! let client = HttpClient::new(EgressPolicy::http(hosts, LocalAllowance::default()));
//! let request = Request {
//!     method: "GET".into(),
//!     url: "https://beta.musicbrainz.org/ws/2/artist?query=nirvana".into(),
//!     headers: vec![("Accept".into(), "application/json".into())],
//!     body: Vec::new(),
//! };
//! // 10 s, 5 redirects (each re-checked), body cut at 10 MiB: http_send's defaults.
//! let response = client.send(&request, &SendOptions::default())?;
//! println!("{} {} bytes", response.status, response.body.len());
//! // Refused before any I/O: not in the host list. The error names the rule.
//! let refused = Request { url: "http://169.254.169.254/".into(), ..request };
//! assert!(client.send(&refused, &SendOptions::default()).is_err());
//! # Ok(()) }
//! ```

pub mod client;
pub mod egress;
pub mod policy;
pub mod service;
