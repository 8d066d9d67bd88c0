//! Go `encoding/json` details the services share: numbers written the way Go writes them,
//! Go's decoding error texts for the fields `GoRequest` cannot read, and the user lookup with
//! Navidrome's error texts (`plugins/plugin.go`, `userAccess.resolve`).

use std::fmt::Display;

use nd_runtime::{GoRequest, HostError, go_quote};
use serde_json::Value;

use crate::provider::{ProviderError, Scope, UserInfo, UserProvider};

/// An error reported to the guest as `{"error": message}`.
pub(crate) fn guest(message: impl Display) -> HostError {
    HostError::Guest(message.to_string())
}

/// Rewrites every float that holds an integer as a JSON integer, recursively: Go writes
/// `float64(3)` as `3` where serde writes `3.0`. Other floats keep serde's shortest form.
pub(crate) fn go_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => n.as_f64().and_then(integral).unwrap_or(Value::Number(n)),
        Value::Array(items) => Value::Array(items.into_iter().map(go_numbers).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, go_numbers(v))).collect())
        }
        other => other,
    }
}

fn integral(f: f64) -> Option<Value> {
    if f.fract() != 0.0 || !f.is_finite() {
        return None;
    }
    if (-9.0e18..=9.0e18).contains(&f) {
        Some(Value::from(f as i64))
    } else if (0.0..1.8e19).contains(&f) {
        Some(Value::from(f as u64))
    } else {
        None
    }
}

/// A Go `float64` as Go's encoder writes it; NaN and infinities fail as in Go.
pub(crate) fn go_f64(f: f64) -> Result<Value, HostError> {
    if !f.is_finite() {
        return Err(guest(format_args!(
            "json: unsupported value: {}",
            if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "+Inf"
            } else {
                "-Inf"
            }
        )));
    }
    Ok(go_numbers(
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
    ))
}

pub(crate) use nd_runtime::go_json_kind as json_kind;

/// Go's `json: cannot unmarshal <found> into Go struct field <Struct>.<path> of type <go>`.
pub(crate) fn type_error(found: impl Display, strukt: &str, path: &str, go: &str) -> HostError {
    guest(format_args!(
        "json: cannot unmarshal {found} into Go struct field {strukt}.{path} of type {go}"
    ))
}

/// A Go `int` field (64-bit; 0 when missing or `null`) of the struct `strukt`, at JSON path
/// `path` from the request root.
pub(crate) fn go_int(
    req: &GoRequest<'_>,
    name: &str,
    strukt: &str,
    path: &str,
) -> Result<i64, HostError> {
    match req.field(name) {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| type_error(format_args!("number {n}"), strukt, path, "int")),
        Some(other) => Err(type_error(json_kind(other), strukt, path, "int")),
    }
}

/// A Go `*int64` field: `None` when missing or `null`.
pub(crate) fn go_opt_int64(req: &GoRequest<'_>, name: &str) -> Result<Option<i64>, HostError> {
    match req.field(name) {
        None => Ok(None),
        Some(_) => req.int64(name).map(Some),
    }
}

/// The account named `user_name`: the exact name, else one equal ignoring ASCII case (a
/// Navidrome user name matches case-insensitively, as its SQL lookup does).
pub(crate) fn find_user(
    users: &dyn UserProvider,
    user_name: &str,
) -> Result<Option<UserInfo>, ProviderError> {
    let all = users.users()?;
    Ok(all
        .iter()
        .find(|u| u.user_name == user_name)
        .or_else(|| {
            all.iter()
                .find(|u| u.user_name.eq_ignore_ascii_case(user_name))
        })
        .cloned())
}

/// Navidrome's `userAccess.resolve`: looks `user_name` up and checks it against the scope.
/// Without any user scope it fails before the lookup with one fixed text, so that error texts
/// never tell which accounts exist (spec §6.7).
pub(crate) fn resolve_user(
    users: &dyn UserProvider,
    scope: &Scope,
    user_name: &str,
) -> Result<UserInfo, String> {
    if !scope.has_user_scope() {
        return Err("plugin is not authorized to scope by user".to_owned());
    }
    match find_user(users, user_name) {
        Err(e) => Err(format!("looking up user {}: {e}", go_quote(user_name))),
        Ok(None) => Err(format!("user {} not found", go_quote(user_name))),
        Ok(Some(user)) if !scope.allows_user(&user.id) => Err(format!(
            "plugin is not allowed to act as user {}",
            go_quote(user_name)
        )),
        Ok(Some(user)) => Ok(user),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn integral_floats_are_written_as_go_writes_them() {
        assert_eq!(
            go_numbers(json!({"a": 3.0, "b": [0.0, -2.0, 1.5], "c": 7, "d": {"e": 1e20}})),
            json!({"a": 3, "b": [0, -2, 1.5], "c": 7, "d": {"e": 100000000000000000000.0}})
        );
        assert_eq!(go_f64(12.0).unwrap().to_string(), "12");
        assert_eq!(go_f64(0.25).unwrap().to_string(), "0.25");
        assert_eq!(
            go_f64(f64::NAN).unwrap_err(),
            HostError::Guest("json: unsupported value: NaN".into())
        );
    }
}
