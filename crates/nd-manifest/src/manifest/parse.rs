//! Parsing and validating a manifest from a `serde_json::Value`, by hand.
//!
//! Why not `#[derive(Deserialize)]`: serde stops at the first error and reports it as a
//! line and column, while a plugin author wants *every* problem with its JSON path and a
//! fix, in one run. Walking the `Value` also lets us mirror Go's lenient decoding exactly:
//! unknown keys are kept (not rejected), `null` means "absent", keys match ignoring ASCII
//! case as `encoding/json` does (with a warning here), and legacy keys are read with a
//! warning instead of failing.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{
    BasicPermission, ConfigSpec, HostsPermission, KvStorePermission, LibraryPermission, Manifest,
    Parsed, Permissions, TaskQueuePermission,
};
use crate::error::{pointer_push, type_name};
use crate::host_pattern::host_of_url_pattern;
use crate::{Diagnostic, Error, HostPattern, ValidationErrors, parse_size};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(super) fn parse_bytes(bytes: &[u8]) -> Result<Parsed, Error> {
    let mut warnings = Vec::new();
    let bytes = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => {
            warnings.push(Diagnostic::new(
                "",
                "the file starts with a UTF-8 byte order mark, which Navidrome rejects",
                "save the file as UTF-8 without a BOM",
            ));
            rest
        }
        None => bytes,
    };
    let value: Value = serde_json::from_slice(bytes).map_err(Error::Json)?;
    parse_value(&value, warnings)
}

pub(super) fn parse_value(value: &Value, warnings: Vec<Diagnostic>) -> Result<Parsed, Error> {
    let Value::Object(map) = value else {
        return Err(Error::NotAnObject {
            found: type_name(value),
        });
    };
    let mut ck = Checker {
        errors: Vec::new(),
        warnings,
    };
    let mut top = Fields::new(map, String::new());

    let name = required_string(&mut ck, &mut top, "name", "My Plugin");
    let author = required_string(&mut ck, &mut top, "author", "Jane Doe");
    let version = required_string(&mut ck, &mut top, "version", "1.0.0");
    let description = optional_string(&mut ck, &mut top, "description");
    let website = optional_string(&mut ck, &mut top, "website");
    if let Some(url) = website
        .as_deref()
        .filter(|url| !looks_like_absolute_url(url))
    {
        ck.warn(
            pointer_push("", top.actual_key("website")),
            format!("website {url:?} is not an absolute URL"),
            "write it with its scheme, such as \"https://github.com/me/my-plugin\"",
        );
    }

    let mut present = BTreeSet::new();
    let permissions = match top.take(&mut ck, "permissions") {
        Some((v, path)) if !v.is_null() => parse_permissions(&mut ck, v, &path, &mut present),
        _ => Permissions::default(),
    };
    let config = match top.take(&mut ck, "config") {
        Some((v, path)) if !v.is_null() => parse_config(&mut ck, v, &path),
        _ => None,
    };

    // `$schema` is how editors are pointed at manifest.schema.json; keep it silently.
    let mut quiet: Vec<&str> = top.peek("$schema").into_iter().collect();
    if let Some(key) = top.peek("capabilities") {
        ck.warn(
            pointer_push("", key),
            "\"capabilities\" belongs to the legacy plugin format (Navidrome 0.56-0.59) and is ignored: \
             capabilities are detected from the plugin's exports",
            "remove it",
        );
        quiet.push(key);
    }
    if let Some(key) = top.peek("experimental") {
        ck.warn(
            pointer_push("", key),
            "\"experimental\" (threads) was removed from Navidrome and is ignored",
            "remove it",
        );
        quiet.push(key);
    }
    let extra = top.finish(&mut ck, "manifest key", &TOP_KEYS, &quiet);

    cross_field_rules(&mut ck, &present);

    if !ck.errors.is_empty() {
        return Err(Error::Invalid(ValidationErrors(ck.errors)));
    }
    let manifest = Manifest {
        name,
        author,
        version,
        description,
        website,
        permissions,
        config,
        extra,
    };
    Ok(Parsed {
        manifest,
        warnings: ck.warnings,
    })
}

const TOP_KEYS: [&str; 7] = [
    "name",
    "author",
    "version",
    "description",
    "website",
    "permissions",
    "config",
];

/// `(permission, requires)`: spec §5.4 rule 3.
const REQUIRES: [(&str, &str); 3] = [
    ("subsonicapi", "users"),
    ("scrobbleRetriever", "users"),
    ("matcher", "library"),
];

fn cross_field_rules(ck: &mut Checker, present: &BTreeSet<&'static str>) {
    for (key, needs) in REQUIRES {
        if present.contains(key) && !present.contains(needs) {
            ck.error(
                pointer_push("/permissions", key),
                format!("the {key} permission requires the {needs} permission"),
                format!("add \"{needs}\": {{\"reason\": \"...\"}} to permissions"),
            );
        }
    }
}

fn parse_permissions(
    ck: &mut Checker,
    value: &Value,
    path: &str,
    present: &mut BTreeSet<&'static str>,
) -> Permissions {
    let Some(map) = expect_object(ck, value, path, "{\"cache\": {\"reason\": \"...\"}}") else {
        return Permissions::default();
    };
    let mut f = Fields::new(map, path.to_owned());
    let mut p = Permissions::default();
    let mut take = |ck: &mut Checker, key: &'static str| -> Option<(&Value, String)> {
        let (v, path) = f.take(ck, key)?;
        if v.is_null() {
            return None;
        }
        present.insert(key);
        Some((v, path))
    };
    p.http = take(ck, "http").and_then(|(v, path)| parse_hosts(ck, v, &path, "http"));
    p.websocket =
        take(ck, "websocket").and_then(|(v, path)| parse_hosts(ck, v, &path, "websocket"));
    p.scheduler =
        take(ck, "scheduler").and_then(|(v, path)| parse_basic(ck, v, &path, "scheduler"));
    p.cache = take(ck, "cache").and_then(|(v, path)| parse_basic(ck, v, &path, "cache"));
    p.kvstore = take(ck, "kvstore").and_then(|(v, path)| parse_kvstore(ck, v, &path));
    p.library = take(ck, "library").and_then(|(v, path)| parse_library(ck, v, &path));
    p.users = take(ck, "users").and_then(|(v, path)| parse_basic(ck, v, &path, "users"));
    p.subsonicapi =
        take(ck, "subsonicapi").and_then(|(v, path)| parse_basic(ck, v, &path, "subsonicapi"));
    p.artwork = take(ck, "artwork").and_then(|(v, path)| parse_basic(ck, v, &path, "artwork"));
    p.taskqueue = take(ck, "taskqueue").and_then(|(v, path)| parse_taskqueue(ck, v, &path));
    p.matcher = take(ck, "matcher").and_then(|(v, path)| parse_basic(ck, v, &path, "matcher"));
    p.storage = take(ck, "storage").and_then(|(v, path)| parse_basic(ck, v, &path, "storage"));
    p.scrobble_retriever = take(ck, "scrobbleRetriever")
        .and_then(|(v, path)| parse_basic(ck, v, &path, "scrobbleRetriever"));

    let mut quiet = Vec::new();
    if let Some(key) = f.peek("config") {
        ck.warn(
            pointer_push(path, key),
            "\"permissions.config\" is a leftover from an older manifest format and is ignored: \
             plugins can always read their configuration",
            "remove it",
        );
        quiet.push(key);
    }
    p.extra = f.finish(ck, "permission", &crate::PERMISSION_KEYS, &quiet);
    p
}

/// Common to every permission object: checks it is an object and reads `reason`.
fn permission_object<'a>(
    ck: &mut Checker,
    value: &'a Value,
    path: &str,
) -> Option<(Fields<'a>, Option<String>)> {
    let map = expect_object(ck, value, path, "{\"reason\": \"...\"}")?;
    let mut f = Fields::new(map, path.to_owned());
    let reason = optional_string(ck, &mut f, "reason");
    Some((f, reason))
}

fn parse_basic(ck: &mut Checker, value: &Value, path: &str, key: &str) -> Option<BasicPermission> {
    let (f, reason) = permission_object(ck, value, path)?;
    let mut quiet = Vec::new();
    if key == "subsonicapi" {
        for legacy in ["allowedUsernames", "allowAdmins"] {
            if let Some(k) = f.peek(legacy) {
                ck.warn(
                    pointer_push(path, k),
                    format!(
                        "\"{legacy}\" belongs to the legacy plugin format and has no effect: \
                         the administrator chooses which users the plugin may act as"
                    ),
                    "remove it",
                );
                quiet.push(k);
            }
        }
    }
    let extra = f.finish(ck, &format!("{key} option"), &["reason"], &quiet);
    Some(BasicPermission { reason, extra })
}

fn parse_hosts(ck: &mut Checker, value: &Value, path: &str, key: &str) -> Option<HostsPermission> {
    let (mut f, reason) = permission_object(ck, value, path)?;
    let mut hosts = HostList::default();

    if let Some((v, list_path)) = f.take(ck, "requiredHosts") {
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{list_path}/{i}");
                    let Value::String(text) = item else {
                        ck.error(
                            item_path,
                            format!("expected a host pattern string, found {}", type_name(item)),
                            "write hosts as strings, such as \"api.example.com\" or \"*.example.com\"",
                        );
                        continue;
                    };
                    match HostPattern::parse(text) {
                        Ok(pattern) => hosts.push(ck, pattern, &item_path),
                        Err(err) => ck.error(item_path, err.to_string(), host_hint(text)),
                    }
                }
            }
            other => ck.error(
                list_path,
                format!(
                    "expected an array of host patterns, found {}",
                    type_name(other)
                ),
                "write \"requiredHosts\": [\"api.example.com\"]",
            ),
        }
    }

    let mut quiet = Vec::new();
    if let Some(k) = f.peek("allowedHosts") {
        quiet.push(k);
        let legacy_path = pointer_push(path, k);
        let mut taken = Vec::new();
        match f.get(k) {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{legacy_path}/{i}");
                    match item.as_str().map(HostPattern::parse) {
                        Some(Ok(pattern)) => {
                            taken.push(pattern.as_str().to_owned());
                            hosts.push(ck, pattern, &item_path);
                        }
                        Some(Err(err)) => ck.warn(
                            item_path,
                            format!("ignored: {err}"),
                            host_hint(item.as_str().unwrap_or("")),
                        ),
                        None => ck.warn(
                            item_path,
                            format!("ignored: expected a string, found {}", type_name(item)),
                            "remove it",
                        ),
                    }
                }
            }
            Some(other) => ck.warn(
                legacy_path.clone(),
                format!(
                    "ignored: expected an array of host patterns, found {}",
                    type_name(other)
                ),
                "remove it",
            ),
            None => {}
        }
        ck.warn(
            legacy_path,
            format!("\"{k}\" is an old spelling of \"requiredHosts\"; its hosts {taken:?} are used as requiredHosts"),
            "rename it to \"requiredHosts\"",
        );
    }

    if let Some(k) = f.peek("allowedUrls") {
        quiet.push(k);
        let legacy_path = pointer_push(path, k);
        let mut taken = Vec::new();
        match f.get(k) {
            Some(Value::Object(urls)) => {
                for url in urls.keys() {
                    let url_path = pointer_push(&legacy_path, url);
                    match host_of_url_pattern(url).map(HostPattern::parse) {
                        Some(Ok(pattern)) => {
                            if !taken.iter().any(|t| t == pattern.as_str()) {
                                taken.push(pattern.as_str().to_owned());
                            }
                            hosts.push(ck, pattern, &url_path);
                        }
                        Some(Err(err)) => ck.warn(url_path, format!("ignored: {err}"), "remove it"),
                        None => ck.warn(
                            url_path,
                            format!("ignored: {url:?} has no host"),
                            "remove it",
                        ),
                    }
                }
            }
            Some(other) => ck.warn(
                legacy_path.clone(),
                format!(
                    "ignored: expected an object mapping URL patterns to methods, found {}",
                    type_name(other)
                ),
                "remove it",
            ),
            None => {}
        }
        let replacement = Value::from(
            taken
                .iter()
                .map(|t| Value::from(t.as_str()))
                .collect::<Vec<_>>(),
        );
        ck.warn(
            legacy_path,
            format!(
                "\"{k}\" belongs to the legacy plugin format (Navidrome 0.56-0.59); its hosts {taken:?} are used \
                 as requiredHosts, and its paths and methods are not enforced"
            ),
            format!("replace it with \"requiredHosts\": {replacement}"),
        );
    }

    if let Some(k) = f.peek("allowLocalNetwork") {
        quiet.push(k);
        ck.warn(
            pointer_push(path, k),
            format!(
                "\"{k}\" belongs to the legacy plugin format and has no effect: this host decides local-network \
                 access from the operator's allow list"
            ),
            "remove it; ask the operator to allow the local hosts the plugin needs",
        );
    }

    if key == "websocket" && hosts.list.is_empty() {
        ck.warn(
            path,
            "the websocket permission lists no requiredHosts, so every connection will be refused",
            "add \"requiredHosts\": [\"ws.example.com\"]",
        );
    }

    let extra = f.finish(
        ck,
        &format!("{key} option"),
        &["reason", "requiredHosts"],
        &quiet,
    );
    Some(HostsPermission {
        reason,
        required_hosts: hosts.list,
        extra,
    })
}

/// `requiredHosts` being built: keeps document order, drops duplicates, warns about inert
/// patterns.
#[derive(Default)]
struct HostList {
    list: Vec<HostPattern>,
}

impl HostList {
    fn push(&mut self, ck: &mut Checker, pattern: HostPattern, path: &str) {
        if let Some(reason) = pattern.inert_reason() {
            ck.warn(
                path,
                format!(
                    "host pattern {:?} never matches: {reason}",
                    pattern.as_str()
                ),
                host_hint(pattern.as_str()),
            );
        }
        if !self.list.iter().any(|p| p.as_str() == pattern.as_str()) {
            self.list.push(pattern);
        }
    }
}

/// A fix for a bad host pattern, using the host part when one can be found.
fn host_hint(text: &str) -> String {
    match host_of_url_pattern(text) {
        Some(host) if host != text && !host.is_empty() => format!("write only the host: {host:?}"),
        _ => "write a host such as \"api.example.com\", \"*.example.com\" or \"*\"".to_owned(),
    }
}

fn parse_kvstore(ck: &mut Checker, value: &Value, path: &str) -> Option<KvStorePermission> {
    let (mut f, reason) = permission_object(ck, value, path)?;
    let mut max_size = None;
    if let Some((v, size_path)) = f.take(ck, "maxSize") {
        match v {
            Value::Null => {}
            Value::String(text) => match parse_size(text) {
                Ok(bytes) => max_size = Some(bytes),
                Err(err) => ck.error(
                    size_path,
                    err.to_string(),
                    "write a size such as \"1MB\", \"500KB\" or \"1MiB\"",
                ),
            },
            other => ck.error(
                size_path,
                format!("expected a size string, found {}", type_name(other)),
                match other.as_u64() {
                    Some(n) => format!(
                        "write \"maxSize\": \"{n}\" (bytes), or with a unit such as \"1MB\""
                    ),
                    None => "write a size such as \"1MB\", \"500KB\" or \"1MiB\"".to_owned(),
                },
            ),
        }
    }
    let extra = f.finish(ck, "kvstore option", &["reason", "maxSize"], &[]);
    Some(KvStorePermission {
        reason,
        max_size,
        extra,
    })
}

fn parse_library(ck: &mut Checker, value: &Value, path: &str) -> Option<LibraryPermission> {
    let (mut f, reason) = permission_object(ck, value, path)?;
    let mut filesystem = false;
    if let Some((v, fs_path)) = f.take(ck, "filesystem") {
        match v {
            Value::Null => {}
            Value::Bool(b) => filesystem = *b,
            other => ck.error(
                fs_path,
                format!("expected true or false, found {}", type_name(other)),
                "write \"filesystem\": true or \"filesystem\": false",
            ),
        }
    }
    let extra = f.finish(ck, "library option", &["reason", "filesystem"], &[]);
    Some(LibraryPermission {
        reason,
        filesystem,
        extra,
    })
}

fn parse_taskqueue(ck: &mut Checker, value: &Value, path: &str) -> Option<TaskQueuePermission> {
    let (mut f, reason) = permission_object(ck, value, path)?;
    let mut max_concurrency = super::DEFAULT_TASKQUEUE_MAX_CONCURRENCY;
    if let Some((v, mc_path)) = f.take(ck, "maxConcurrency") {
        const HINT: &str = "write a whole number of at least 1, such as \"maxConcurrency\": 2";
        match v {
            Value::Null => {}
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(0), _) | (None, Some(_)) => {
                    ck.error(mc_path, format!("must be at least 1, found {n}"), HINT)
                }
                (Some(big), _) if big > u64::from(u32::MAX) => {
                    ck.error(
                        mc_path,
                        format!("{big} is too large (at most {})", u32::MAX),
                        HINT,
                    );
                }
                (Some(ok), _) => max_concurrency = u32::try_from(ok).unwrap_or(u32::MAX),
                (None, None) => {
                    ck.error(mc_path, format!("must be a whole number, found {n}"), HINT)
                }
            },
            other => ck.error(
                mc_path,
                format!("expected a whole number, found {}", type_name(other)),
                HINT,
            ),
        }
    }
    let extra = f.finish(ck, "taskqueue option", &["reason", "maxConcurrency"], &[]);
    Some(TaskQueuePermission {
        reason,
        max_concurrency,
        extra,
    })
}

fn parse_config(ck: &mut Checker, value: &Value, path: &str) -> Option<ConfigSpec> {
    let map = expect_object(
        ck,
        value,
        path,
        "{\"schema\": {\"type\": \"object\", \"properties\": {}}}",
    )?;
    let mut f = Fields::new(map, path.to_owned());
    let mut schema = None;
    match f.take(ck, "schema") {
        None | Some((Value::Null, _)) => ck.error(
            pointer_push(path, "schema"),
            "config.schema is required when config is present",
            "add \"schema\": {\"type\": \"object\", \"properties\": {...}}, or remove config",
        ),
        Some((v @ Value::Object(_), schema_path)) => match crate::config::compile_schema(v) {
            Ok(_) => schema = Some(v.clone()),
            Err(mut diagnostic) => {
                diagnostic.path = format!("{schema_path}{}", diagnostic.path);
                ck.errors.push(diagnostic);
            }
        },
        Some((other, schema_path)) => ck.error(
            schema_path,
            format!("expected a JSON Schema object, found {}", type_name(other)),
            "write \"schema\": {\"type\": \"object\", \"properties\": {...}}",
        ),
    }
    let mut ui_schema = None;
    match f.take(ck, "uiSchema") {
        None | Some((Value::Null, _)) => {}
        Some((v @ Value::Object(_), _)) => ui_schema = Some(v.clone()),
        Some((other, ui_path)) => ck.error(
            ui_path,
            format!(
                "expected a JSONForms UI schema object, found {}",
                type_name(other)
            ),
            "write \"uiSchema\": {\"type\": \"VerticalLayout\", \"elements\": [...]}, or remove it",
        ),
    }
    let extra = f.finish(ck, "config option", &["schema", "uiSchema"], &[]);
    Some(ConfigSpec {
        schema: schema?,
        ui_schema,
        extra,
    })
}

fn required_string(
    ck: &mut Checker,
    f: &mut Fields<'_>,
    key: &'static str,
    example: &str,
) -> String {
    let hint = format!("add \"{key}\": \"{example}\"");
    match f.take(ck, key) {
        None => ck.error(
            pointer_push(&f.path, key),
            format!("missing required field \"{key}\""),
            hint,
        ),
        Some((Value::String(s), path)) if s.is_empty() => {
            ck.error(path, format!("\"{key}\" must not be empty"), hint)
        }
        Some((Value::String(s), _)) => return s.clone(),
        Some((other, path)) => {
            ck.error(
                path,
                format!("\"{key}\" must be a string, found {}", type_name(other)),
                format!("write \"{key}\": \"{example}\""),
            );
        }
    }
    String::new()
}

fn optional_string(ck: &mut Checker, f: &mut Fields<'_>, key: &'static str) -> Option<String> {
    match f.take(ck, key)? {
        (Value::Null, _) => None,
        (Value::String(s), _) => Some(s.clone()),
        (other, path) => {
            ck.error(
                path,
                format!("\"{key}\" must be a string, found {}", type_name(other)),
                format!("write \"{key}\": \"...\" or remove it"),
            );
            None
        }
    }
}

/// The object, or `None` (with an error unless it is `null`, which means "absent").
fn expect_object<'a>(
    ck: &mut Checker,
    value: &'a Value,
    path: &str,
    example: &str,
) -> Option<&'a Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        Value::Null => None,
        other => {
            ck.error(
                path,
                format!("expected an object, found {}", type_name(other)),
                format!("write an object such as {example}"),
            );
            None
        }
    }
}

fn looks_like_absolute_url(text: &str) -> bool {
    match text.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Collected problems: errors make the manifest invalid, warnings do not.
struct Checker {
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Checker {
    fn error(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.errors.push(Diagnostic::new(path, message, hint));
    }

    fn warn(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.warnings.push(Diagnostic::new(path, message, hint));
    }
}

/// One JSON object being read: remembers which keys were used, so that the rest can be
/// kept as `extra` and reported.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
    used: Vec<&'a str>,
}

impl<'a> Fields<'a> {
    fn new(map: &'a Map<String, Value>, path: String) -> Self {
        Self {
            map,
            path,
            used: Vec::new(),
        }
    }

    /// The key as written: `key` itself, or a not yet used key equal to it ignoring ASCII
    /// case (Go's `encoding/json` matches that way).
    fn lookup(&self, key: &str) -> Option<&'a str> {
        if let Some((k, _)) = self.map.get_key_value(key) {
            return Some(k.as_str());
        }
        self.map
            .keys()
            .map(String::as_str)
            .find(|k| k.eq_ignore_ascii_case(key) && !self.used.contains(k))
    }

    /// The key as written, or `key` when absent (for paths).
    fn actual_key(&self, key: &'a str) -> &'a str {
        self.lookup(key).unwrap_or(key)
    }

    fn get(&self, actual_key: &str) -> Option<&'a Value> {
        self.map.get(actual_key)
    }

    /// Reads a known key and marks it used; warns when it matched only ignoring case.
    fn take(&mut self, ck: &mut Checker, key: &'static str) -> Option<(&'a Value, String)> {
        let actual = self.lookup(key)?;
        let path = pointer_push(&self.path, actual);
        if actual != key {
            ck.warn(
                path.clone(),
                format!("key \"{actual}\" is read as \"{key}\" (keys match ignoring case, as in Navidrome)"),
                format!("rename it to \"{key}\""),
            );
        }
        self.used.push(actual);
        Some((self.map.get(actual)?, path))
    }

    /// Finds a legacy key without marking it used, so that it is kept in `extra`.
    fn peek(&self, key: &str) -> Option<&'a str> {
        self.lookup(key)
    }

    /// The keys that were not used, verbatim; each gets a warning unless listed in `quiet`.
    fn finish(
        self,
        ck: &mut Checker,
        what: &str,
        known: &[&str],
        quiet: &[&str],
    ) -> Map<String, Value> {
        let mut extra = Map::new();
        for (key, value) in self.map {
            if self.used.contains(&key.as_str()) {
                continue;
            }
            if !quiet.contains(&key.as_str()) {
                let hint = match closest(key, known) {
                    Some(known) => format!("did you mean \"{known}\"?"),
                    None => "remove it, unless a newer Navidrome version reads it".to_owned(),
                };
                ck.warn(
                    pointer_push(&self.path, key),
                    format!("unknown {what} \"{key}\" is ignored"),
                    hint,
                );
            }
            extra.insert(key.clone(), value.clone());
        }
        extra
    }
}

/// The known key closest to `key` by edit distance, if it is close enough to be a typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&key, &k.to_ascii_lowercase()), *k))
        .filter(|&(d, k)| d <= 2 && d < k.len() / 2 + 1)
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
