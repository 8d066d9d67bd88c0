//! The config service (spec §3.1): `config_get`, `config_getint` and `config_keys` over the
//! plugin's own configuration map, the same map Extism's `config_get` reads
//! ([`HostCtx::config`](nd_runtime::HostCtx::config)). Navidrome links it into every plugin,
//! without a permission.
//!
//! Wire shapes, from Navidrome's generated `config_gen.go` (every response field `omitempty`):
//! - `config_get {key}` → `{value?, exists?}`: a missing key is `{}`, an empty value
//!   `{"exists":true}`;
//! - `config_getint {key}` → `{value?, exists?}`: the value parsed as a base-10 `int64`
//!   (`strconv.ParseInt(v, 10, 64)`: an optional sign and digits, nothing else); a value that
//!   does not parse, or overflows, reads as absent (`{}`);
//! - `config_keys {prefix}` → `{keys?}`: the keys starting with `prefix` (all for `""`),
//!   sorted bytewise as Go's `sort.Strings` does; none is `{}`.
//!
//! These functions never fail once the request decodes; a request that does not decode gets
//! Go's `json: cannot unmarshal ...` text in `error`.

use nd_runtime::{GoRequest, HostImports, HostService, RegisterError, json_response};
use serde_json::{Value, json};

/// Navidrome's `config` host service; see the [module docs](self). Stateless: one value can
/// serve every plugin, each call reads the calling plugin's map.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConfigService;

impl ConfigService {
    /// The service (same as `ConfigService::default()`).
    pub fn new() -> Self {
        Self
    }
}

impl HostService for ConfigService {
    fn name(&self) -> &'static str {
        "config"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        imports.json("config_get", |ctx, req| {
            let req = GoRequest::parse(&req, "ConfigGetRequest")?;
            let key = req.string("key")?;
            Ok(match ctx.config().get(&key) {
                Some(value) => json_response(json!({ "value": value, "exists": true })),
                None => json!({}),
            })
        });
        imports.json("config_getint", |ctx, req| {
            let req = GoRequest::parse(&req, "ConfigGetIntRequest")?;
            let key = req.string("key")?;
            Ok(match ctx.config().get(&key).and_then(|v| parse_int(v)) {
                Some(value) => json_response(json!({ "value": value, "exists": true })),
                None => json!({}),
            })
        });
        imports.json("config_keys", |ctx, req| {
            let req = GoRequest::parse(&req, "ConfigKeysRequest")?;
            let prefix = req.string("prefix")?;
            let keys: Vec<&String> = ctx
                .config()
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .collect();
            Ok(json_response(json!({ "keys": keys })))
        });
        Ok(())
    }
}

/// `strconv.ParseInt(s, 10, 64)`: an optional `+` or `-`, then at least one ASCII digit.
fn parse_int(s: &str) -> Option<Value> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok().map(Value::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_parse_as_go_parse_int_base_10() {
        assert_eq!(parse_int("42"), Some(json!(42)));
        assert_eq!(parse_int("-7"), Some(json!(-7)));
        assert_eq!(parse_int("+7"), Some(json!(7)));
        assert_eq!(parse_int("9223372036854775807"), Some(json!(i64::MAX)));
        for bad in [
            "",
            "+",
            "-",
            " 1",
            "1 ",
            "1_000",
            "0x10",
            "1.0",
            "9223372036854775808",
            "+-1",
        ] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }
}
