//! Unit tests of host-pattern parsing and matching (spec §5.3).

use super::*;

fn p(text: &str) -> HostPattern {
    match HostPattern::parse(text) {
        Ok(pattern) => pattern,
        Err(err) => panic!("{text:?} should parse: {err}"),
    }
}

#[test]
fn star_matches_everything() {
    let any = p("*");
    assert!(any.is_wildcard());
    for host in ["example.com", "localhost", "127.0.0.1", "::1", ""] {
        assert!(any.matches(host), "{host}");
    }
}

#[test]
fn exact_is_case_insensitive() {
    let exact = p("API.Example.com");
    assert!(exact.matches("api.example.com"));
    assert!(exact.matches("API.EXAMPLE.COM"));
    assert!(!exact.matches("api.example.com."));
    assert!(!exact.matches("xapi.example.com"));
    assert!(!exact.matches("example.com"));
    assert!(p("127.0.0.1").matches("127.0.0.1"));
    assert!(!p("127.0.0.1").matches("127.0.0.2"));
    let v6 = p("::1");
    assert!(!v6.is_inert());
    assert!(v6.matches("::1"));
}

#[test]
fn suffix_needs_a_label_before_it() {
    let suffix = p("*.example.com");
    assert!(suffix.matches("a.example.com"));
    assert!(suffix.matches("a.b.EXAMPLE.com"));
    assert!(!suffix.matches("example.com"));
    assert!(!suffix.matches("badexample.com"));
    assert!(!suffix.matches("example.com.evil.org"));
    assert!(!suffix.matches(".example.com"));
    assert!(!suffix.matches(""));
    // Non-ASCII input must not panic on a char boundary.
    assert!(!suffix.matches("é.example.co"));
    assert!(p("*.é.com").matches("a.é.com"));
}

#[test]
fn inert_patterns_never_match() {
    for (text, why) in [
        ("localhost:*", "port"),
        ("example.com:443", "port"),
        ("[::1]", "brackets"),
        ("api.*.com", "wildcard"),
        ("*example.com", "wildcard"),
        ("*.*.com", "wildcard"),
        ("**", "wildcard"),
    ] {
        let pattern = p(text);
        assert!(pattern.is_inert(), "{text}");
        let reason = pattern.inert_reason().unwrap_or_default();
        assert!(reason.contains(why), "{text}: {reason}");
        for host in [
            "localhost",
            "example.com",
            "api.x.com",
            "::1",
            "a.b.com",
            "*",
        ] {
            assert!(!pattern.matches(host), "{text} matched {host}");
        }
    }
}

#[test]
fn malformed_patterns_are_errors() {
    for (text, why) in [
        ("", "empty"),
        ("  ", "empty"),
        ("https://example.com", "scheme"),
        ("http://localhost:*", "scheme"),
        ("example.com/api", "path"),
        ("example.com?q", "path"),
        ("exa mple.com", "whitespace"),
        ("example.com\n", "whitespace"),
        ("user@example.com", "user info"),
        ("*.", "needs a domain"),
    ] {
        match HostPattern::parse(text) {
            Ok(pattern) => panic!("{text:?} parsed as {pattern:?}"),
            Err(err) => assert!(err.to_string().contains(why), "{text:?}: {err}"),
        }
    }
}

#[test]
fn display_and_from_str_keep_the_text() {
    let pattern: HostPattern = "*.Example.com".parse().expect("valid");
    assert_eq!(pattern.to_string(), "*.Example.com");
    assert_eq!(pattern.as_str(), "*.Example.com");
    assert!(HostPattern::any_matches(
        &[p("a.com"), pattern],
        "x.example.COM"
    ));
    assert!(!HostPattern::any_matches(&[], "x.example.com"));
}

#[test]
fn legacy_url_hosts() {
    assert_eq!(
        host_of_url_pattern("https://test.example.com/*"),
        Some("test.example.com")
    );
    assert_eq!(
        host_of_url_pattern("https://*.archive.org"),
        Some("*.archive.org")
    );
    assert_eq!(
        host_of_url_pattern("http://localhost:4533/rest/*"),
        Some("localhost")
    );
    assert_eq!(
        host_of_url_pattern("https://user:pw@host.org:8080/x"),
        Some("host.org")
    );
    assert_eq!(host_of_url_pattern("http://[::1]:8080/"), Some("::1"));
    assert_eq!(host_of_url_pattern("*"), Some("*"));
    assert_eq!(host_of_url_pattern("https://*"), Some("*"));
    assert_eq!(host_of_url_pattern("example.com/path"), Some("example.com"));
    assert_eq!(host_of_url_pattern("https:///path"), None);
    assert_eq!(host_of_url_pattern(""), None);
}
