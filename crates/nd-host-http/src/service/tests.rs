//! Unit tests of `http_send`'s request decoding and response encoding (no network).

use std::time::Duration;

use serde_json::json;

use super::*;

#[test]
fn header_names_are_canonicalised_like_go() {
    assert_eq!(canonical_header_key("content-type"), "Content-Type");
    assert_eq!(canonical_header_key("x-FOO-bar"), "X-Foo-Bar");
    assert_eq!(canonical_header_key("ETAG"), "Etag");
    assert_eq!(canonical_header_key("www-authenticate"), "Www-Authenticate");
    // A name with a non-token byte is left alone, as Go leaves it.
    assert_eq!(canonical_header_key("bad name"), "bad name");
    assert_eq!(canonical_header_key(""), "");
}

#[test]
fn requests_decode_with_gos_rules_and_defaults() {
    let p = parse_request(&json!({"Request": {"Method": "post", "URL": "http://a/",
        "headers": {"x-a": "1"}, "noFollowRedirects": true, "body": "aGk=", "timeoutMs": 250}}))
    .unwrap();
    assert_eq!(p.request.method, "POST");
    assert_eq!(p.request.url, "http://a/");
    assert_eq!(p.request.body, b"hi");
    assert_eq!(p.headers, vec![("x-a".to_owned(), "1".to_owned())]);
    assert!(p.no_follow_redirects);
    assert_eq!(p.timeout, Duration::from_millis(250));

    let p = parse_request(&json!({"request": {"url": "http://a/", "timeoutMs": -5}})).unwrap();
    assert_eq!(p.request.method, "GET");
    assert_eq!(p.timeout, DEFAULT_TIMEOUT);
    assert!(!p.no_follow_redirects);
    let p = parse_request(&json!({"request": {"url": "http://a/", "timeoutMs": 0}})).unwrap();
    assert_eq!(p.timeout, DEFAULT_TIMEOUT);
}

#[test]
fn malformed_requests_get_gos_error_texts() {
    let err = |v| match parse_request(&v) {
        Err(HostError::Guest(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        err(json!({"request": {"url": 5}})),
        "json: cannot unmarshal number into Go struct field HTTPRequest.request.url of type string"
    );
    assert_eq!(
        err(json!({"request": {"url": "http://a/", "timeoutMs": 3_000_000_000u64}})),
        "json: cannot unmarshal number 3000000000 into Go struct field HTTPRequest.request.timeoutMs of type int32"
    );
    assert_eq!(
        err(json!({"request": {"url": "http://a/", "headers": {"a": 1}}})),
        "json: cannot unmarshal number into Go struct field HTTPRequest.request.headers of type string"
    );
    assert_eq!(
        err(json!({"request": {"url": "http://a/", "headers": []}})),
        "json: cannot unmarshal array into Go struct field HTTPRequest.request.headers of type map[string]string"
    );
    assert_eq!(
        err(json!({"request": "x"})),
        "json: cannot unmarshal string into Go struct field HTTPSendRequest.request of type host.HTTPRequest"
    );
    assert_eq!(
        err(json!({"request": {"method": "G T", "url": "http://a/"}})),
        "creating request: net/http: invalid method \"G T\""
    );
    assert!(
        err(json!({"request": {"url": "http://a/", "body": "***"}})).starts_with("invalid base64")
    );
}

#[test]
fn headers_follow_header_set() {
    let h = |pairs: &[(&str, &str)]| {
        set_headers(
            &pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        h(&[
            ("x-a", "1"),
            ("X-A", "2"),
            ("accept", "*/*"),
            ("host", "evil"),
            ("content-length", "9")
        ])
        .unwrap(),
        vec![
            ("X-A".to_owned(), "2".to_owned()),
            ("Accept".to_owned(), "*/*".to_owned())
        ]
    );
    assert_eq!(
        h(&[("bad name", "1")]).unwrap_err(),
        "net/http: invalid header field name \"bad name\""
    );
    assert_eq!(
        h(&[("x-a", "a\r\nInjected: 1")]).unwrap_err(),
        "net/http: invalid header field value for \"X-A\""
    );
    assert!(h(&[("x-a", "tab\tok")]).is_ok());
}

#[test]
fn results_flatten_headers_and_omit_empty_fields() {
    let response = Response {
        status: 404,
        headers: vec![
            ("content-type".into(), "text/plain".into()),
            ("set-cookie".into(), "a=1".into()),
            ("Set-Cookie".into(), "b=2".into()),
        ],
        body: b"no".to_vec(),
        final_url: "http://a/".into(),
    };
    assert_eq!(
        result_json(&response),
        json!({"result": {"statusCode": 404,
            "headers": {"Content-Type": "text/plain", "Set-Cookie": "a=1"}, "body": "bm8="}})
    );
    let empty = Response {
        status: 204,
        ..Response::default()
    };
    assert_eq!(result_json(&empty), json!({"result": {"statusCode": 204}}));
}

#[test]
fn transport_errors_read_like_gos_url_error() {
    let request = Request {
        method: "POST".into(),
        url: "http://127.0.0.1:1/x".into(),
        ..Request::default()
    };
    assert_eq!(
        error_text(&request, SendError::Timeout(Duration::from_secs(1))),
        "Post \"http://127.0.0.1:1/x\": context deadline exceeded"
    );
    assert_eq!(
        error_text(&request, SendError::Transport("connection refused".into())),
        "Post \"http://127.0.0.1:1/x\": connection refused"
    );
    assert_eq!(url_error("", "u", "c"), "Get \"u\": c");
}
