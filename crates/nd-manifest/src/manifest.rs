//! The typed `manifest.json` of spec §5.2–5.4: [`Manifest`], its [`Permissions`], and
//! [`ConfigSpec`]. Parsing and validation live in the `parse` submodule; this module holds
//! the types, their JSON form ([`Manifest::to_json`]) and display helpers.
//!
//! Every struct keeps the keys it does not know in an `extra` map, so that a manifest
//! written for a newer Navidrome (or with leftovers from an older one) survives a round
//! trip through [`Manifest::parse`] and [`Manifest::to_json`] unchanged.

use serde_json::{Map, Value};

use crate::{Diagnostic, Error, HostPattern, ValidationErrors, format_size};

mod parse;

#[cfg(test)]
mod tests;

/// The default `kvstore.maxSize` when the manifest gives none: 1 MiB (spec §3.5).
pub const DEFAULT_KVSTORE_MAX_SIZE: u64 = 1 << 20;

/// The default `taskqueue.maxConcurrency` when the manifest gives none (spec §3.7).
pub const DEFAULT_TASKQUEUE_MAX_CONCURRENCY: u32 = 1;

/// Every permission key of spec §5.3, in the order [`Permissions::iter`] yields them.
pub const PERMISSION_KEYS: [&str; 13] = [
    "http",
    "websocket",
    "scheduler",
    "cache",
    "kvstore",
    "library",
    "users",
    "subsonicapi",
    "artwork",
    "taskqueue",
    "matcher",
    "storage",
    "scrobbleRetriever",
];

/// A plugin's `manifest.json`.
///
/// Build one with [`Manifest::parse`]; the fields are public for reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Display name (not the plugin id, which is the `.ndp` file name).
    pub name: String,
    /// Author; never empty.
    pub author: String,
    /// Version; never empty. Semver is recommended but not required.
    pub version: String,
    /// Optional description.
    pub description: Option<String>,
    /// Optional website URL (not checked beyond being a string, as in Navidrome).
    pub website: Option<String>,
    /// The permissions the plugin asks for; empty when the manifest has none.
    pub permissions: Permissions,
    /// The configuration form, if the plugin has settings.
    pub config: Option<ConfigSpec>,
    /// Top-level keys this crate does not know, kept verbatim.
    pub extra: Map<String, Value>,
}

/// A manifest that parsed, with the warnings found on the way (legacy keys, inert host
/// patterns, unknown keys). Warnings never stop a plugin from loading.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The manifest.
    pub manifest: Manifest,
    /// Non-fatal findings, in the same order as errors would be.
    pub warnings: Vec<Diagnostic>,
}

/// The `permissions` object. `None` means the permission is not requested.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Permissions {
    /// `http`: the `http_send` host function.
    pub http: Option<HostsPermission>,
    /// `websocket`: the websocket host functions.
    pub websocket: Option<HostsPermission>,
    /// `scheduler`: one-time and recurring schedules; needs the `nd_scheduler_callback` export.
    pub scheduler: Option<BasicPermission>,
    /// `cache`: the in-memory TTL cache.
    pub cache: Option<BasicPermission>,
    /// `kvstore`: the persistent key-value store.
    pub kvstore: Option<KvStorePermission>,
    /// `library`: library metadata and, with `filesystem`, read access to the files.
    pub library: Option<LibraryPermission>,
    /// `users`: the users service; also the gate for scrobblers, `subsonicapi` and
    /// `scrobbleRetriever`.
    pub users: Option<BasicPermission>,
    /// `subsonicapi`: in-process Subsonic API calls; requires `users`.
    pub subsonicapi: Option<BasicPermission>,
    /// `artwork`: public artwork URLs.
    pub artwork: Option<BasicPermission>,
    /// `taskqueue`: persistent task queues; needs the `nd_task_execute` export.
    pub taskqueue: Option<TaskQueuePermission>,
    /// `matcher`: matching songs against the library; requires `library`.
    pub matcher: Option<BasicPermission>,
    /// `storage`: a private read-write directory mounted at `/storage`.
    pub storage: Option<BasicPermission>,
    /// `scrobbleRetriever`: reading users' scrobbles; requires `users`.
    pub scrobble_retriever: Option<BasicPermission>,
    /// Permission keys this crate does not know (such as the legacy `config`), verbatim.
    pub extra: Map<String, Value>,
}

/// A permission whose only option is `reason`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BasicPermission {
    /// Why the plugin needs it, shown to the administrator.
    pub reason: Option<String>,
    /// Keys this crate does not know, verbatim.
    pub extra: Map<String, Value>,
}

/// `http` or `websocket`: a permission with a host allow list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostsPermission {
    /// Why the plugin needs it.
    pub reason: Option<String>,
    /// `requiredHosts`, merged with the hosts taken from the legacy `allowedHosts` and
    /// `allowedUrls`/`allowedURLs` keys (without duplicates, in document order). Inert
    /// patterns are kept; they match nothing.
    pub required_hosts: Vec<HostPattern>,
    /// Keys this crate does not know, and the legacy keys themselves, verbatim.
    pub extra: Map<String, Value>,
}

/// `kvstore`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KvStorePermission {
    /// Why the plugin needs it.
    pub reason: Option<String>,
    /// `maxSize` in bytes, if given; see [`KvStorePermission::max_size_or_default`].
    pub max_size: Option<u64>,
    /// Keys this crate does not know, verbatim.
    pub extra: Map<String, Value>,
}

impl KvStorePermission {
    /// `maxSize`, or the 1 MiB default.
    pub fn max_size_or_default(&self) -> u64 {
        self.max_size.unwrap_or(DEFAULT_KVSTORE_MAX_SIZE)
    }
}

/// `library`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LibraryPermission {
    /// Why the plugin needs it.
    pub reason: Option<String>,
    /// Mount each allowed library at `/libraries/<id>` (read-only unless the operator
    /// grants write access). Defaults to `false`.
    pub filesystem: bool,
    /// Keys this crate does not know, verbatim.
    pub extra: Map<String, Value>,
}

/// `taskqueue`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskQueuePermission {
    /// Why the plugin needs it.
    pub reason: Option<String>,
    /// The total concurrency budget over all the plugin's queues; at least 1, default 1.
    pub max_concurrency: u32,
    /// Keys this crate does not know, verbatim.
    pub extra: Map<String, Value>,
}

impl Default for TaskQueuePermission {
    fn default() -> Self {
        Self {
            reason: None,
            max_concurrency: DEFAULT_TASKQUEUE_MAX_CONCURRENCY,
            extra: Map::new(),
        }
    }
}

/// `config`: the administrator's configuration form.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigSpec {
    /// `schema`: a JSON Schema (an object) that configuration values must satisfy. It is
    /// known to compile; see [`ConfigSpec::validate_config`].
    pub schema: Value,
    /// `uiSchema`: a JSONForms UI schema, passed through untouched.
    pub ui_schema: Option<Value>,
    /// Keys this crate does not know, verbatim.
    pub extra: Map<String, Value>,
}

impl ConfigSpec {
    /// Checks a configuration value (what the administrator saves) against
    /// [`ConfigSpec::schema`], reporting every violation with its JSON path inside `value`.
    ///
    /// # Errors
    ///
    /// [`Error::ConfigInvalid`] listing each violation; also when the schema does not
    /// compile, which cannot happen for a `ConfigSpec` that came from [`Manifest::parse`].
    pub fn validate_config(&self, value: &Value) -> Result<(), Error> {
        let validator = match crate::config::compile_schema(&self.schema) {
            Ok(validator) => validator,
            Err(diagnostic) => {
                return Err(Error::ConfigInvalid(ValidationErrors(vec![diagnostic])));
            }
        };
        let problems: Vec<Diagnostic> = validator
            .iter_errors(value)
            .map(|e| {
                Diagnostic::new(
                    e.instance_path().as_str(),
                    e.to_string(),
                    "change the value to satisfy the plugin's config.schema",
                )
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::ConfigInvalid(ValidationErrors(problems)))
        }
    }
}

/// One requested permission, for display: see [`Permissions::iter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSummary<'a> {
    /// The permission key as written in the manifest (`scrobbleRetriever`, not
    /// `scrobble_retriever`).
    pub key: &'static str,
    /// The `reason`, if given.
    pub reason: Option<&'a str>,
    /// The options that matter, as `(option, value)` pairs, such as
    /// `("maxSize", "10KB (10000 bytes)")`. Defaults are shown too.
    pub details: Vec<(&'static str, String)>,
}

impl Permissions {
    /// Whether the permission with this manifest key is requested. Unknown keys are
    /// `false`, even when present in [`Permissions::extra`].
    pub fn has(&self, key: &str) -> bool {
        self.iter().any(|p| p.key == key)
    }

    /// `true` when no known permission is requested.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The requested permissions in the order of [`PERMISSION_KEYS`], with their reason and
    /// options, for listings such as `ndp inspect`.
    pub fn iter(&self) -> impl Iterator<Item = PermissionSummary<'_>> + '_ {
        fn basic<'a>(
            key: &'static str,
            p: &'a Option<BasicPermission>,
        ) -> Option<PermissionSummary<'a>> {
            p.as_ref().map(|p| PermissionSummary {
                key,
                reason: p.reason.as_deref(),
                details: Vec::new(),
            })
        }
        fn hosts<'a>(
            key: &'static str,
            p: &'a Option<HostsPermission>,
        ) -> Option<PermissionSummary<'a>> {
            p.as_ref().map(|p| {
                let list = if p.required_hosts.is_empty() {
                    "(none)".to_owned()
                } else {
                    p.required_hosts
                        .iter()
                        .map(HostPattern::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                PermissionSummary {
                    key,
                    reason: p.reason.as_deref(),
                    details: vec![("requiredHosts", list)],
                }
            })
        }
        [
            hosts("http", &self.http),
            hosts("websocket", &self.websocket),
            basic("scheduler", &self.scheduler),
            basic("cache", &self.cache),
            self.kvstore.as_ref().map(|p| {
                let size = p.max_size_or_default();
                let shown = match p.max_size {
                    Some(_) => format!("{} ({size} bytes)", format_size(size)),
                    None => format!("{} ({size} bytes, default)", format_size(size)),
                };
                PermissionSummary {
                    key: "kvstore",
                    reason: p.reason.as_deref(),
                    details: vec![("maxSize", shown)],
                }
            }),
            self.library.as_ref().map(|p| PermissionSummary {
                key: "library",
                reason: p.reason.as_deref(),
                details: vec![("filesystem", p.filesystem.to_string())],
            }),
            basic("users", &self.users),
            basic("subsonicapi", &self.subsonicapi),
            basic("artwork", &self.artwork),
            self.taskqueue.as_ref().map(|p| PermissionSummary {
                key: "taskqueue",
                reason: p.reason.as_deref(),
                details: vec![("maxConcurrency", p.max_concurrency.to_string())],
            }),
            basic("matcher", &self.matcher),
            basic("storage", &self.storage),
            basic("scrobbleRetriever", &self.scrobble_retriever),
        ]
        .into_iter()
        .flatten()
    }
}

impl Manifest {
    /// Parses and validates `manifest.json` bytes, leniently as Navidrome does (spec §5.4):
    /// unknown keys are kept, legacy keys are read with a warning, and every problem is
    /// reported at once.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if the bytes are not JSON, [`Error::NotAnObject`] if the JSON is not
    /// an object, and [`Error::Invalid`] with one [`Diagnostic`] per problem otherwise.
    pub fn parse(bytes: &[u8]) -> Result<Parsed, Error> {
        parse::parse_bytes(bytes)
    }

    /// Like [`Manifest::parse`], for JSON that is already decoded.
    ///
    /// # Errors
    ///
    /// As [`Manifest::parse`], except that it never returns [`Error::Json`].
    pub fn from_value(value: &Value) -> Result<Parsed, Error> {
        parse::parse_value(value, Vec::new())
    }

    /// The manifest as JSON, with canonical key names, the hosts of legacy keys merged into
    /// `requiredHosts`, and every unknown key kept. Parsing the result gives back an equal
    /// `Manifest`.
    pub fn to_json(&self) -> Value {
        let mut out = self.extra.clone();
        out.insert("name".into(), self.name.clone().into());
        out.insert("author".into(), self.author.clone().into());
        out.insert("version".into(), self.version.clone().into());
        if let Some(description) = &self.description {
            out.insert("description".into(), description.clone().into());
        }
        if let Some(website) = &self.website {
            out.insert("website".into(), website.clone().into());
        }
        if !self.permissions.is_empty() || !self.permissions.extra.is_empty() {
            out.insert("permissions".into(), self.permissions.to_json());
        }
        if let Some(config) = &self.config {
            let mut c = config.extra.clone();
            c.insert("schema".into(), config.schema.clone());
            if let Some(ui) = &config.ui_schema {
                c.insert("uiSchema".into(), ui.clone());
            }
            out.insert("config".into(), Value::Object(c));
        }
        Value::Object(out)
    }
}

impl Permissions {
    fn to_json(&self) -> Value {
        fn with_reason(extra: &Map<String, Value>, reason: &Option<String>) -> Map<String, Value> {
            let mut out = extra.clone();
            if let Some(reason) = reason {
                out.insert("reason".into(), reason.clone().into());
            }
            out
        }
        fn basic(p: &BasicPermission) -> Value {
            Value::Object(with_reason(&p.extra, &p.reason))
        }
        fn hosts(p: &HostsPermission) -> Value {
            let mut out = with_reason(&p.extra, &p.reason);
            if !p.required_hosts.is_empty() {
                let list = p
                    .required_hosts
                    .iter()
                    .map(|h| Value::from(h.as_str()))
                    .collect();
                out.insert("requiredHosts".into(), Value::Array(list));
            }
            Value::Object(out)
        }
        let mut out = self.extra.clone();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                out.insert(key.to_owned(), value);
            }
        };
        put("http", self.http.as_ref().map(hosts));
        put("websocket", self.websocket.as_ref().map(hosts));
        put("scheduler", self.scheduler.as_ref().map(basic));
        put("cache", self.cache.as_ref().map(basic));
        put(
            "kvstore",
            self.kvstore.as_ref().map(|p| {
                let mut o = with_reason(&p.extra, &p.reason);
                if let Some(size) = p.max_size {
                    o.insert("maxSize".into(), format_size(size).into());
                }
                Value::Object(o)
            }),
        );
        put(
            "library",
            self.library.as_ref().map(|p| {
                let mut o = with_reason(&p.extra, &p.reason);
                if p.filesystem {
                    o.insert("filesystem".into(), true.into());
                }
                Value::Object(o)
            }),
        );
        put("users", self.users.as_ref().map(basic));
        put("subsonicapi", self.subsonicapi.as_ref().map(basic));
        put("artwork", self.artwork.as_ref().map(basic));
        put(
            "taskqueue",
            self.taskqueue.as_ref().map(|p| {
                let mut o = with_reason(&p.extra, &p.reason);
                o.insert("maxConcurrency".into(), p.max_concurrency.into());
                Value::Object(o)
            }),
        );
        put("matcher", self.matcher.as_ref().map(basic));
        put("storage", self.storage.as_ref().map(basic));
        put(
            "scrobbleRetriever",
            self.scrobble_retriever.as_ref().map(basic),
        );
        Value::Object(out)
    }
}
