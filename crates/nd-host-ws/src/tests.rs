use super::*;

#[test]
fn generated_ids_are_navidromes() {
    let id = new_id().unwrap();
    assert_eq!(id.len(), 22);
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
}

#[test]
fn errors_quote_like_go() {
    assert_eq!(
        Error::AlreadyExists("x".into()).to_string(),
        "connection ID \"x\" already exists"
    );
    assert_eq!(
        Error::NotFound("a\"b".into()).to_string(),
        "connection ID \"a\\\"b\" not found"
    );
}

#[test]
fn close_texts_are_gorillas() {
    assert_eq!(
        close_error_text(1002, "bad"),
        "websocket: close 1002 (protocol error): bad"
    );
    assert_eq!(close_error_text(4000, ""), "websocket: close 4000");
    assert_eq!(
        read_error_text(&tungstenite::Error::ConnectionClosed),
        "websocket: close 1006 (abnormal closure): unexpected EOF"
    );
}

#[test]
fn reserved_headers_are_refused_like_gorilla() {
    let mut headers = BTreeMap::new();
    headers.insert("sec-websocket-key".to_owned(), "x".to_owned());
    let err = build_request("ws://example.com/", &headers).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to connect: websocket: duplicate header not allowed: Sec-Websocket-Key"
    );
    let mut headers = BTreeMap::new();
    headers.insert("x-token".to_owned(), "t".to_owned());
    let req = build_request("ws://example.com/", &headers).unwrap();
    assert_eq!(req.headers()["X-Token"], "t");
}
