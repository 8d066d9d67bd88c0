//! The part of Go's `net/url` that Navidrome's subsonicapi service runs on the plugin's URI:
//! `url.Parse` (with its error texts), `URL.Query()`, and `path.Base` of the decoded path.
//!
//! Kept: the control-character check, `missing protocol scheme`, `first path segment in URL
//! cannot contain colon`, `invalid URL escape "%.."` in the path and fragment, opaque URIs
//! (`scheme:rest`, whose path is empty), authorities (`//host`, dropped), and Go's query
//! parsing (`&`-separated, `+` is a space, pairs holding `;` or a bad escape are dropped
//! silently as `Query()` does). Not kept: Go's validation of the host and port of an
//! authority, which a Subsonic URI has no use for.

use std::collections::BTreeMap;

use nd_runtime::go_quote;

/// A parsed Subsonic URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GoUri {
    /// The decoded path (empty for an opaque URI).
    pub path: String,
    /// Query values by key, in Go's `url.Values` order: keys sorted, values in order.
    pub query: BTreeMap<String, Vec<String>>,
}

/// `url.Parse(raw)`; the error is Go's `parse "<uri>": <reason>`, where `<uri>` is `raw`
/// without its fragment unless the fragment itself is at fault, as in Go.
pub(crate) fn parse(raw: &str) -> Result<GoUri, String> {
    let (rest, fragment) = raw.split_once('#').unwrap_or((raw, ""));
    let fail = |reason: &str| format!("parse {}: {reason}", go_quote(rest));
    if rest.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(fail("net/url: invalid control character in URL"));
    }
    let (scheme, rest) = scheme(rest).map_err(fail)?;
    let (rest, raw_query) = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        (&rest[..rest.len() - 1], "")
    } else {
        rest.split_once('?').unwrap_or((rest, ""))
    };
    let mut path_part = rest;
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            // Opaque: `scheme:opaque`, no path.
            path_part = "";
        } else if rest.split('/').next().is_some_and(|seg| seg.contains(':')) {
            return Err(fail("first path segment in URL cannot contain colon"));
        }
    } else if rest.starts_with("//") && (!scheme.is_empty() || !rest.starts_with("///")) {
        let authority = &rest[2..];
        path_part = authority.find('/').map_or("", |i| &authority[i..]);
    }
    let path = unescape(path_part, false).map_err(|r| fail(&r))?;
    unescape(fragment, false).map_err(|r| format!("parse {}: {r}", go_quote(raw)))?;
    Ok(GoUri {
        path: String::from_utf8_lossy(&path).into_owned(),
        query: parse_query(raw_query),
    })
}

/// Go's `getScheme`: `(scheme, rest)`.
fn scheme(raw: &str) -> Result<(&str, &str), &'static str> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme"),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

/// Percent-decoding; `plus_is_space` for query components. The error is Go's
/// `invalid URL escape "<escape>"`.
fn unescape(s: &str, plus_is_space: bool) -> Result<Vec<u8>, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
                match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                    (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                    _ => {
                        let end = (i + 3).min(bytes.len());
                        let escape = String::from_utf8_lossy(&bytes[i..end]);
                        return Err(format!("invalid URL escape {}", go_quote(&escape)));
                    }
                }
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// `url.ParseQuery` with its errors ignored, as `URL.Query()` does.
fn parse_query(raw: &str) -> BTreeMap<String, Vec<String>> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in raw.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Ok(key), Ok(value)) = (unescape(key, true), unescape(value, true)) else {
            continue;
        };
        values
            .entry(String::from_utf8_lossy(&key).into_owned())
            .or_default()
            .push(String::from_utf8_lossy(&value).into_owned());
    }
    values
}

/// Go's `path.Base`: the last element of a slash-separated path, trailing slashes ignored;
/// `.` for an empty path and `/` for a path of slashes only.
pub(crate) fn base(path: &str) -> &str {
    if path.is_empty() {
        return ".";
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(uri: &GoUri) -> Vec<(String, Vec<String>)> {
        uri.query.clone().into_iter().collect()
    }

    #[test]
    fn relative_and_absolute_uris() {
        let u = parse("getAlbumList2?type=random&size=10&u=alice").unwrap();
        assert_eq!(u.path, "getAlbumList2");
        assert_eq!(
            q(&u),
            vec![
                ("size".into(), vec!["10".into()]),
                ("type".into(), vec!["random".into()]),
                ("u".into(), vec!["alice".into()]),
            ]
        );
        let u = parse("http://example.com:4533/rest/ping.view?u=a%20b+c#frag").unwrap();
        assert_eq!(u.path, "/rest/ping.view");
        assert_eq!(q(&u), vec![("u".into(), vec!["a b c".into()])]);
        assert_eq!(parse("//host/rest/x?u=a").unwrap().path, "/rest/x");
        assert_eq!(parse("///rest/x").unwrap().path, "///rest/x");
        assert_eq!(parse("/rest/get%41lbum").unwrap().path, "/rest/getAlbum");
        assert_eq!(parse("mailto:someone?u=a").unwrap().path, "");
        assert_eq!(parse("ping?").unwrap().path, "ping");
    }

    #[test]
    fn query_values_follow_go_url_values() {
        let u = parse("x?a=1&a=2&b&;c=3&d=%zz&=e&&f=%41+").unwrap();
        assert_eq!(
            q(&u),
            vec![
                ("".into(), vec!["e".into()]),
                ("a".into(), vec!["1".into(), "2".into()]),
                ("b".into(), vec!["".into()]),
                ("f".into(), vec!["A ".into()]),
            ]
        );
    }

    #[test]
    fn errors_are_go_texts() {
        assert_eq!(
            parse("://invalid-url").unwrap_err(),
            r#"parse "://invalid-url": missing protocol scheme"#
        );
        assert_eq!(
            parse("a:b/c:d").map(|u| u.path),
            Ok(String::new()),
            "a scheme makes it opaque"
        );
        assert_eq!(
            parse("1a:b?u=x").unwrap_err(),
            r#"parse "1a:b?u=x": first path segment in URL cannot contain colon"#
        );
        assert_eq!(
            parse("/rest/%zzping").unwrap_err(),
            r#"parse "/rest/%zzping": invalid URL escape "%zz""#
        );
        assert_eq!(
            parse("/rest/ping%4").unwrap_err(),
            r#"parse "/rest/ping%4": invalid URL escape "%4""#
        );
        assert_eq!(
            parse("ping#%zz").unwrap_err(),
            r#"parse "ping#%zz": invalid URL escape "%zz""#
        );
        assert_eq!(
            parse("/%zz#frag").unwrap_err(),
            r#"parse "/%zz": invalid URL escape "%zz""#
        );
        assert_eq!(
            parse("ping\n?u=a").unwrap_err(),
            "parse \"ping\\n?u=a\": net/url: invalid control character in URL"
        );
    }

    #[test]
    fn base_is_go_path_base() {
        for (path, want) in [
            ("", "."),
            ("/", "/"),
            ("///", "/"),
            ("getAlbumList2", "getAlbumList2"),
            ("/rest/ping.view", "ping.view"),
            ("/rest/ping/", "ping"),
            ("a//b//", "b"),
        ] {
            assert_eq!(base(path), want, "{path:?}");
        }
    }
}
