//! The users service (spec §3.13, permission `users`): `users_getusers` and `users_getadmins`,
//! each `{}` → `{result?: [{userName, name, isAdmin}], error?}`.
//!
//! As in Navidrome's `plugins/host_users.go`, only the accounts the [`Scope`] allows are
//! listed (all of them with `all_users`), in the provider's order, and only the user name,
//! display name and admin flag leave the host: never ids, e-mail addresses or passwords.
//! Without any user scope both functions answer `{}` without asking the provider, so they
//! cannot tell a plugin anything about the accounts, not even through a provider error.

use std::fmt;
use std::sync::Arc;

use nd_runtime::{HostError, HostImports, HostService, RegisterError, json_response};
use serde_json::{Value, json};

use crate::provider::{Scope, UserProvider};
use crate::wire::guest;

/// Navidrome's `users` host service for one plugin's scope; see the [module docs](self).
pub struct UsersService {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Arc<dyn UserProvider>,
    scope: Scope,
}

impl fmt::Debug for UsersService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsersService")
            .field("scope", &self.inner.scope)
            .finish_non_exhaustive()
    }
}

impl UsersService {
    /// The service over `provider`'s accounts, limited to `scope`.
    pub fn new(provider: Arc<dyn UserProvider>, scope: Scope) -> Self {
        Self {
            inner: Arc::new(Inner { provider, scope }),
        }
    }
}

impl HostService for UsersService {
    fn name(&self) -> &'static str {
        "users"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let inner = Arc::clone(&self.inner);
        imports.json("users_getusers", move |_, _| inner.list(false));
        let inner = Arc::clone(&self.inner);
        imports.json("users_getadmins", move |_, _| inner.list(true));
        Ok(())
    }
}

impl Inner {
    fn list(&self, admins_only: bool) -> Result<Value, HostError> {
        if !self.scope.has_user_scope() {
            return Ok(json!({}));
        }
        let result: Vec<Value> = self
            .provider
            .users()
            .map_err(guest)?
            .into_iter()
            .filter(|u| self.scope.allows_user(&u.id) && (u.is_admin || !admins_only))
            .map(|u| json!({ "userName": u.user_name, "name": u.name, "isAdmin": u.is_admin }))
            .collect();
        Ok(json_response(json!({ "result": result })))
    }
}
