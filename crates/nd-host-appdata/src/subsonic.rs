//! The subsonicapi service (spec §3.12, permission `subsonicapi`, which needs `users`):
//! `subsonicapi_call {uri}` → `{responseJson?, error?}` and `subsonicapi_callraw {uri}` →
//! `{contentType?, data? (base64), error?}`, dispatched in-process to the application's
//! [`SubsonicProvider`].
//!
//! Behaviour mirrored from Navidrome's `plugins/host_subsonicapi.go`:
//! - the URI is parsed with Go's `url.Parse` rules (a malformed one fails with
//!   `invalid URL format: parse "<uri>": <reason>`); scheme, host and all but the last path
//!   segment are ignored: the endpoint is `path.Base` of the decoded path, so
//!   `/rest/ping.view` calls `ping.view`;
//! - `u` is required (`missing required parameter 'u' (username)`) and names the user the
//!   call acts as. It is checked against the [`Scope`]: with no user allowed the call fails
//!   with `no users configured for plugin <id>` whatever the name (so nothing leaks); an
//!   unknown name fails with `username <u> not found`, a user outside the scope with
//!   `user <u> is not authorized for this plugin`;
//! - the host sets `c=<plugin id>` and `v=1.16.1`, and `f=json` for `subsonicapi_call`,
//!   replacing whatever the plugin sent; the provider gets every parameter sorted by key as
//!   Go's `url.Values.Encode` orders them;
//! - `responseJson` is the body as text (invalid UTF-8 replaced, as Go's encoder does);
//!   `callraw` sends the body as base64 with the `Content-Type`. HTTP status codes do not
//!   travel: Subsonic errors are inside the body.
//!
//! One difference: Navidrome does not look the user up for a plugin allowed every user (its
//! router then answers with a Subsonic error for an unknown name); here the provider needs
//! the account, so an unknown name fails with `username <u> not found` in that case too.

use std::fmt;
use std::sync::Arc;

use nd_runtime::{
    GoRequest, HostError, HostImports, HostService, RegisterError, encode_bytes, json_response,
};
use serde_json::json;

use crate::provider::{
    Scope, SubsonicProvider, SubsonicRequest, SubsonicResponse, UserInfo, UserProvider,
};
use crate::wire::{find_user, guest};

mod uri;

/// The Subsonic API version the host announces (`v`).
pub const SUBSONIC_API_VERSION: &str = "1.16.1";

/// Navidrome's `subsonicapi` host service for one plugin; see the [module docs](self).
pub struct SubsonicApiService {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Arc<dyn SubsonicProvider>,
    users: Arc<dyn UserProvider>,
    scope: Scope,
    plugin_id: String,
}

impl fmt::Debug for SubsonicApiService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubsonicApiService")
            .field("plugin_id", &self.inner.plugin_id)
            .field("scope", &self.inner.scope)
            .finish_non_exhaustive()
    }
}

impl SubsonicApiService {
    /// The service for plugin `plugin_id` (sent as `c`): calls go to `provider` as a user of
    /// `users` that `scope` allows. Registering it for another plugin id is refused.
    pub fn new(
        provider: Arc<dyn SubsonicProvider>,
        users: Arc<dyn UserProvider>,
        scope: Scope,
        plugin_id: impl Into<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                provider,
                users,
                scope,
                plugin_id: plugin_id.into(),
            }),
        }
    }
}

impl HostService for SubsonicApiService {
    fn name(&self) -> &'static str {
        "subsonicapi"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        if imports.plugin_id() != self.inner.plugin_id {
            return Err(RegisterError(format!(
                "this subsonicapi service was made for plugin {:?}, not {:?}",
                self.inner.plugin_id,
                imports.plugin_id()
            )));
        }
        let inner = Arc::clone(&self.inner);
        imports.json("subsonicapi_call", move |_, req| {
            let req = GoRequest::parse(&req, "SubsonicAPICallRequest")?;
            let response = inner.execute(&req.string("uri")?, true)?;
            Ok(json_response(json!({
                "responseJson": String::from_utf8_lossy(&response.body),
            })))
        });
        let inner = Arc::clone(&self.inner);
        imports.json("subsonicapi_callraw", move |_, req| {
            let req = GoRequest::parse(&req, "SubsonicAPICallRawRequest")?;
            let response = inner.execute(&req.string("uri")?, false)?;
            Ok(json_response(json!({
                "contentType": response.content_type,
                "data": encode_bytes(&response.body),
            })))
        });
        Ok(())
    }
}

impl Inner {
    fn execute(&self, uri: &str, json_format: bool) -> Result<SubsonicResponse, HostError> {
        let parsed = uri::parse(uri).map_err(|e| guest(format_args!("invalid URL format: {e}")))?;
        let mut query = parsed.query;
        let user_name = query
            .get("u")
            .and_then(|values| values.first())
            .cloned()
            .unwrap_or_default();
        if user_name.is_empty() {
            return Err(guest("missing required parameter 'u' (username)"));
        }
        let user = self.check_user(&user_name).map_err(|e| {
            tracing::warn!(plugin = %self.plugin_id, user = %user_name, error = %e,
                "subsonicapi call blocked by the plugin's user scope");
            guest(e)
        })?;
        query.insert("c".into(), vec![self.plugin_id.clone()]);
        query.insert("v".into(), vec![SUBSONIC_API_VERSION.into()]);
        if json_format {
            query.insert("f".into(), vec!["json".into()]);
        }
        let request = SubsonicRequest {
            user,
            endpoint: uri::base(&parsed.path).to_owned(),
            params: query
                .into_iter()
                .flat_map(|(key, values)| values.into_iter().map(move |v| (key.clone(), v)))
                .collect(),
        };
        self.provider.call(&request).map_err(guest)
    }

    /// Navidrome's `checkPermissions`, returning the account to act as.
    fn check_user(&self, user_name: &str) -> Result<UserInfo, String> {
        if !self.scope.has_user_scope() {
            return Err(format!("no users configured for plugin {}", self.plugin_id));
        }
        let user = find_user(self.users.as_ref(), user_name)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("username {user_name} not found"))?;
        if !self.scope.allows_user(&user.id) {
            return Err(format!(
                "user {user_name} is not authorized for this plugin"
            ));
        }
        Ok(user)
    }
}
