//! The Users service (spec §3.13, permission `users`): the accounts the administrator
//! allowed this plugin to see. Passwords, e-mail addresses and ids are never exposed.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ffi::import;
use crate::host::call;
use crate::wire::null_default;

import! {
    fn raw_users = "users_getusers";
    fn raw_admins = "users_getadmins";
}

/// A Navidrome account as a plugin sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    /// The login name (what `username` fields and Subsonic `u=` take).
    #[serde(deserialize_with = "null_default")]
    pub user_name: String,
    /// The display name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// Whether the account is an administrator.
    #[serde(deserialize_with = "null_default")]
    pub is_admin: bool,
}

#[derive(Serialize)]
struct Request {}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Answer {
    #[serde(deserialize_with = "null_default")]
    result: Vec<User>,
}

/// `users_getusers`: every allowed account.
pub fn get_users() -> Result<Vec<User>> {
    let answer: Answer = call("users_getusers", raw_users, &Request {})?;
    Ok(answer.result)
}

/// `users_getadmins`: the allowed accounts that are administrators.
pub fn get_admins() -> Result<Vec<User>> {
    let answer: Answer = call("users_getadmins", raw_admins, &Request {})?;
    Ok(answer.result)
}
