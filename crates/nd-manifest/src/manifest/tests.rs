//! Unit tests of manifest parsing: types, nulls, key case, legacy keys, round trips.
//! The data-driven cases are in `tests/it/data_driven.rs`.

use serde_json::json;

use super::*;

fn parse(value: serde_json::Value) -> Parsed {
    match Manifest::from_value(&value) {
        Ok(parsed) => parsed,
        Err(err) => panic!("{value} should parse: {err}"),
    }
}

fn problems(value: serde_json::Value) -> Vec<Diagnostic> {
    match Manifest::from_value(&value) {
        Ok(parsed) => panic!("{value} should fail, parsed {parsed:?}"),
        Err(Error::Invalid(errors)) => errors.0,
        Err(other) => panic!("{value}: unexpected error {other}"),
    }
}

fn paths(diagnostics: &[Diagnostic]) -> Vec<&str> {
    diagnostics.iter().map(|d| d.path.as_str()).collect()
}

fn minimal() -> serde_json::Value {
    json!({"name": "n", "author": "a", "version": "1"})
}

#[test]
fn minimal_manifest_has_no_permissions() {
    let parsed = parse(minimal());
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let m = parsed.manifest;
    assert_eq!(
        (m.name.as_str(), m.author.as_str(), m.version.as_str()),
        ("n", "a", "1")
    );
    assert!(m.permissions.is_empty());
    assert_eq!(m.permissions.iter().count(), 0);
    assert_eq!(m.config, None);
    assert_eq!(m.to_json(), minimal());
}

#[test]
fn not_json_and_not_object() {
    assert!(matches!(Manifest::parse(b"{"), Err(Error::Json(_))));
    assert!(matches!(Manifest::parse(b""), Err(Error::Json(_))));
    assert!(matches!(
        Manifest::parse(&[0xff, 0xfe]),
        Err(Error::Json(_))
    ));
    match Manifest::parse(b"[1, 2]") {
        Err(err @ Error::NotAnObject { .. }) => assert_eq!(
            err.to_string(),
            "manifest must be a json object, found an array"
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Manifest::parse(b"null"),
        Err(Error::NotAnObject { found: "null" })
    ));
}

#[test]
fn bom_is_accepted_with_a_warning() {
    let parsed =
        Manifest::parse(b"\xEF\xBB\xBF{\"name\":\"n\",\"author\":\"a\",\"version\":\"1\"}")
            .expect("parses");
    assert_eq!(parsed.warnings.len(), 1);
    assert!(parsed.warnings[0].message.contains("byte order mark"));
}

#[test]
fn null_means_absent_for_optional_fields() {
    let parsed = parse(json!({
        "name": "n", "author": "a", "version": "1", "description": null, "config": null,
        "permissions": {"cache": null, "kvstore": {"maxSize": null}, "taskqueue": {"maxConcurrency": null}}
    }));
    let p = &parsed.manifest.permissions;
    assert!(p.cache.is_none());
    assert_eq!(
        p.kvstore
            .as_ref()
            .map(KvStorePermission::max_size_or_default),
        Some(DEFAULT_KVSTORE_MAX_SIZE)
    );
    assert_eq!(p.taskqueue.as_ref().map(|t| t.max_concurrency), Some(1));
    assert!(parsed.manifest.description.is_none());
    // Required fields are not optional: null is a type error.
    let errors = problems(json!({"name": null, "author": "a", "version": "1"}));
    assert_eq!(errors[0].message, "\"name\" must be a string, found null");
}

#[test]
fn keys_match_ignoring_case_with_a_warning() {
    let parsed = parse(json!({
        "Name": "n", "AUTHOR": "a", "version": "1",
        "Permissions": {"KVStore": {"MaxSize": "2KB"}}
    }));
    assert_eq!(parsed.manifest.name, "n");
    assert_eq!(
        parsed
            .manifest
            .permissions
            .kvstore
            .as_ref()
            .and_then(|k| k.max_size),
        Some(2_000)
    );
    assert_eq!(
        paths(&parsed.warnings),
        [
            "/Name",
            "/AUTHOR",
            "/Permissions",
            "/Permissions/KVStore",
            "/Permissions/KVStore/MaxSize"
        ]
    );
    assert!(parsed.manifest.extra.is_empty());
    // An exact key wins over a case variant, which stays unknown.
    let parsed = parse(json!({"name": "exact", "NAME": "variant", "author": "a", "version": "1"}));
    assert_eq!(parsed.manifest.name, "exact");
    assert_eq!(parsed.manifest.extra.get("NAME"), Some(&json!("variant")));
}

#[test]
fn unknown_keys_are_kept_everywhere_and_survive_a_round_trip() {
    let input = json!({
        "name": "n", "author": "a", "version": "1",
        "future": {"x": 1},
        "permissions": {
            "teleport": {"reason": "r"},
            "cache": {"reason": "c", "ttl": 5},
            "http": {"requiredHosts": ["a.com"], "proxy": true},
            "kvstore": {"maxSize": "1MiB", "engine": "sqlite"}
        },
        "config": {"schema": {"type": "object"}, "layout": "tabs"}
    });
    let parsed = parse(input.clone());
    let m = &parsed.manifest;
    assert_eq!(m.extra.get("future"), Some(&json!({"x": 1})));
    assert_eq!(
        m.permissions.extra.get("teleport"),
        Some(&json!({"reason": "r"}))
    );
    assert_eq!(
        m.permissions.cache.as_ref().map(|c| &c.extra),
        Some(&json!({"ttl": 5}).as_object().cloned().unwrap_or_default())
    );
    assert_eq!(
        m.config.as_ref().and_then(|c| c.extra.get("layout")),
        Some(&json!("tabs"))
    );
    // Each unknown key is a warning.
    assert_eq!(
        paths(&parsed.warnings),
        [
            "/permissions/http/proxy",
            "/permissions/cache/ttl",
            "/permissions/kvstore/engine",
            "/permissions/teleport",
            "/config/layout",
            "/future"
        ]
    );
    assert_eq!(m.to_json(), input);
    assert_eq!(parse(m.to_json()).manifest, *m);
}

#[test]
fn typos_get_a_suggestion() {
    let parsed = parse(
        json!({"name": "n", "author": "a", "version": "1", "permisions": {}, "permissions": {"kvstor": {}}}),
    );
    let hints: Vec<&str> = parsed.warnings.iter().map(|w| w.hint.as_str()).collect();
    assert_eq!(
        hints,
        ["did you mean \"kvstore\"?", "did you mean \"permissions\"?"]
    );
}

#[test]
fn every_permission_parses_and_iterates_in_order() {
    let parsed = parse(json!({
        "name": "n", "author": "a", "version": "1",
        "permissions": {
            "http": {"reason": "h", "requiredHosts": ["a.com", "*.b.com"]},
            "websocket": {"reason": "w", "requiredHosts": ["*"]},
            "scheduler": {"reason": "s"}, "cache": {}, "kvstore": {"maxSize": "10KB"},
            "library": {"filesystem": true}, "users": {}, "subsonicapi": {}, "artwork": {},
            "taskqueue": {"maxConcurrency": 10}, "matcher": {}, "storage": {}, "scrobbleRetriever": {}
        }
    }));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let p = &parsed.manifest.permissions;
    let keys: Vec<&str> = p.iter().map(|s| s.key).collect();
    assert_eq!(keys, PERMISSION_KEYS);
    for key in PERMISSION_KEYS {
        assert!(p.has(key), "{key}");
    }
    assert!(!p.has("teleport"));
    let summary: Vec<String> = p
        .iter()
        .filter(|s| !s.details.is_empty())
        .map(|s| format!("{} {:?} {:?}", s.key, s.reason, s.details))
        .collect();
    assert_eq!(
        summary,
        [
            "http Some(\"h\") [(\"requiredHosts\", \"a.com, *.b.com\")]",
            "websocket Some(\"w\") [(\"requiredHosts\", \"*\")]",
            "kvstore None [(\"maxSize\", \"10KB (10000 bytes)\")]",
            "library None [(\"filesystem\", \"true\")]",
            "taskqueue None [(\"maxConcurrency\", \"10\")]",
        ]
    );
    assert!(
        p.http
            .as_ref()
            .is_some_and(|h| HostPattern::any_matches(&h.required_hosts, "x.b.com"))
    );
    assert_eq!(parse(parsed.manifest.to_json()).manifest, parsed.manifest);
}

#[test]
fn legacy_hosts_merge_into_required_hosts_without_duplicates() {
    let parsed = parse(json!({
        "name": "n", "author": "a", "version": "1",
        "permissions": {"http": {
            "requiredHosts": ["a.com"],
            "allowedHosts": ["a.com", "b.com"],
            "allowedURLs": {"https://c.com/x/*": ["GET"], "https://a.com": ["POST"], "ftp:///nohost": []},
            "allowLocalNetwork": true
        }}
    }));
    let http = parsed.manifest.permissions.http.as_ref().expect("http");
    let hosts: Vec<&str> = http
        .required_hosts
        .iter()
        .map(HostPattern::as_str)
        .collect();
    assert_eq!(hosts, ["a.com", "b.com", "c.com"]);
    // The legacy keys are kept verbatim, so a round trip keeps them.
    assert!(http.extra.contains_key("allowedHosts") && http.extra.contains_key("allowedURLs"));
    assert!(http.extra.contains_key("allowLocalNetwork"));
    let messages: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 4, "{messages:#?}");
    assert!(
        messages[0]
            .starts_with("/permissions/http/allowedHosts: \"allowedHosts\" is an old spelling")
    );
    assert!(messages[1].starts_with("/permissions/http/allowedURLs/ftp:~1~1~1nohost: ignored"));
    assert!(
        messages[2].contains("replace it with \"requiredHosts\": [\"a.com\",\"c.com\"]"),
        "{}",
        messages[2]
    );
    assert!(messages[3].contains("has no effect"));
    let again = parse(parsed.manifest.to_json());
    assert_eq!(again.manifest, parsed.manifest);
}

#[test]
fn inert_patterns_and_empty_websocket_lists_warn() {
    let parsed = parse(json!({
        "name": "n", "author": "a", "version": "1",
        "permissions": {"websocket": {"requiredHosts": ["localhost:*"]}}
    }));
    assert_eq!(
        paths(&parsed.warnings),
        ["/permissions/websocket/requiredHosts/0"]
    );
    let parsed = parse(
        json!({"name": "n", "author": "a", "version": "1", "permissions": {"websocket": {}}}),
    );
    assert_eq!(paths(&parsed.warnings), ["/permissions/websocket"]);
    assert!(
        parsed.warnings[0]
            .message
            .contains("every connection will be refused")
    );
}

#[test]
fn type_errors_have_paths() {
    let errors = problems(json!({
        "name": "n", "author": "a", "version": "1", "description": 5, "website": [],
        "permissions": {
            "cache": "yes", "http": {"reason": 1, "requiredHosts": "a.com"},
            "websocket": {"requiredHosts": [1, "https://x.com", ""]},
            "library": {"filesystem": "true"}, "kvstore": {"maxSize": 1024},
            "taskqueue": {"maxConcurrency": 1.5}
        },
        "config": {"schema": true, "uiSchema": []}
    }));
    assert_eq!(
        paths(&errors),
        [
            "/description",
            "/website",
            "/permissions/http/reason",
            "/permissions/http/requiredHosts",
            "/permissions/websocket/requiredHosts/0",
            "/permissions/websocket/requiredHosts/1",
            "/permissions/websocket/requiredHosts/2",
            "/permissions/cache",
            "/permissions/kvstore/maxSize",
            "/permissions/library/filesystem",
            "/permissions/taskqueue/maxConcurrency",
            "/config/schema",
            "/config/uiSchema",
        ]
    );
    assert_eq!(
        errors[8].hint,
        "write \"maxSize\": \"1024\" (bytes), or with a unit such as \"1MB\""
    );
    assert_eq!(errors[5].hint, "write only the host: \"x.com\"");
}

#[test]
fn max_concurrency_bounds() {
    for (value, message) in [
        (json!(0), "must be at least 1, found 0"),
        (json!(-3), "must be at least 1, found -3"),
        (json!(2.0), "must be a whole number, found 2.0"),
        (
            json!(5_000_000_000_u64),
            "5000000000 is too large (at most 4294967295)",
        ),
        (json!("2"), "expected a whole number, found a string"),
    ] {
        let errors = problems(json!({
            "name": "n", "author": "a", "version": "1",
            "permissions": {"taskqueue": {"maxConcurrency": value}}
        }));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, message);
    }
    let parsed = parse(
        json!({"name": "n", "author": "a", "version": "1", "permissions": {"taskqueue": {"maxConcurrency": 4294967295_u64}}}),
    );
    assert_eq!(
        parsed
            .manifest
            .permissions
            .taskqueue
            .map(|t| t.max_concurrency),
        Some(u32::MAX)
    );
}

#[test]
fn cross_field_rules_ignore_invalid_but_present_permissions() {
    // "users" is present but malformed: one error for it, no extra "requires users".
    let errors = problems(json!({
        "name": "n", "author": "a", "version": "1",
        "permissions": {"users": 5, "subsonicapi": {}, "scrobbleRetriever": {}, "matcher": {}}
    }));
    assert_eq!(
        paths(&errors),
        ["/permissions/users", "/permissions/matcher"]
    );
    assert_eq!(
        errors[1].message,
        "the matcher permission requires the library permission"
    );
}

#[test]
fn config_schema_must_compile() {
    let parsed = parse(json!({
        "name": "n", "author": "a", "version": "1",
        "config": {"schema": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}, "uiSchema": {"type": "VerticalLayout"}}
    }));
    let config = parsed.manifest.config.as_ref().expect("config");
    assert!(config.ui_schema.is_some());
    assert!(config.validate_config(&json!({"n": 3})).is_ok());
    let err = config
        .validate_config(&json!({"n": 0}))
        .expect_err("minimum");
    let problems = err.validation_errors().expect("list");
    assert_eq!(problems.0[0].path, "/n");

    let errors =
        problems_of(json!({"schema": {"type": "object", "properties": {"n": {"type": "integr"}}}}));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .path
            .starts_with("/config/schema/properties/n/type"),
        "{}",
        errors[0]
    );
    assert!(
        errors[0]
            .message
            .starts_with("config.schema is not a valid JSON Schema")
    );

    let errors = problems_of(json!({"uiSchema": {}}));
    assert_eq!(
        errors[0].to_string(),
        "/config/schema: config.schema is required when config is present (fix: add \"schema\": {\"type\": \"object\", \"properties\": {...}}, or remove config)"
    );

    // A remote $ref is never fetched: it fails to compile instead.
    let errors = problems_of(json!({"schema": {"$ref": "https://example.com/schema.json"}}));
    assert_eq!(errors.len(), 1, "{errors:?}");
}

fn problems_of(config: serde_json::Value) -> Vec<Diagnostic> {
    problems(json!({"name": "n", "author": "a", "version": "1", "config": config}))
}

#[test]
fn display_lists_every_problem_on_its_own_line() {
    let err = Manifest::parse(br#"{"version": ""}"#).expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "invalid manifest (3 problems):\n  \
         /name: missing required field \"name\" (fix: add \"name\": \"My Plugin\")\n  \
         /author: missing required field \"author\" (fix: add \"author\": \"Jane Doe\")\n  \
         /version: \"version\" must not be empty (fix: add \"version\": \"1.0.0\")"
    );
}

#[test]
fn a_schema_reference_is_kept_without_a_warning() {
    let input =
        json!({"$schema": "../manifest.schema.json", "name": "n", "author": "a", "version": "1"});
    let parsed = parse(input.clone());
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.manifest.to_json(), input);
}
