//! Host patterns of `requiredHosts` (spec §5.3), with Navidrome's matching rules: `*`
//! matches every host, `*.example.com` matches any host ending in `.example.com` (but not
//! `example.com` itself), and anything else matches one host exactly, ignoring ASCII case.
//!
//! Entries that Navidrome accepts but that can never match, such as `localhost:*` (hosts
//! are compared without their port), are kept as *inert* patterns: they match nothing,
//! and manifest validation reports them as warnings.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use crate::Error;

/// One `requiredHosts` entry.
///
/// ```
/// use nd_manifest::HostPattern;
/// let p: HostPattern = "*.example.com".parse().unwrap();
/// assert!(p.matches("api.example.com"));
/// assert!(p.matches("A.B.EXAMPLE.COM"));
/// assert!(!p.matches("example.com"));
/// assert!(!p.matches("badexample.com"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPattern {
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kind {
    /// `*`.
    Any,
    /// A single host, compared ignoring ASCII case.
    Exact,
    /// `*.example.com`: the text after the `*` is the suffix.
    Suffix,
    /// Accepted but never matches; holds why.
    Inert(&'static str),
}

impl HostPattern {
    /// Parses one pattern.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHostPattern`] for an empty pattern, one with a scheme
    /// (`https://…`), a path, query or fragment, user info (`user@`), whitespace or
    /// control characters, or a bare `*.`. A pattern with a port (`localhost:*`,
    /// `example.com:443`), brackets, or a `*` anywhere but alone or in a leading `*.` is
    /// *not* an error: it parses as an inert pattern (see [`HostPattern::inert_reason`]).
    pub fn parse(text: &str) -> Result<HostPattern, Error> {
        let fail = |reason| {
            Err(Error::InvalidHostPattern {
                pattern: text.to_owned(),
                reason,
            })
        };
        if text.trim().is_empty() {
            return fail("it is empty");
        }
        if text.contains("://") {
            return fail("it has a scheme; write only the host name, such as \"api.example.com\"");
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return fail("it contains whitespace or control characters");
        }
        if text.contains(['/', '?', '#']) {
            return fail("it has a path, query or fragment; write only the host name");
        }
        if text.contains('@') {
            return fail("it has user info; write only the host name");
        }
        if text == "*." {
            return fail("\"*.\" needs a domain after it, such as \"*.example.com\"");
        }
        let kind = if text == "*" {
            Kind::Any
        } else if text.contains(['[', ']']) {
            Kind::Inert(
                "brackets are stripped from the host before matching, so write an IPv6 address without them",
            )
        } else if text.contains(':') && text.parse::<Ipv6Addr>().is_err() {
            Kind::Inert(
                "ports are stripped from the host before matching, so an entry with a port never matches",
            )
        } else if let Some(rest) = text.strip_prefix("*.") {
            if rest.contains('*') {
                Kind::Inert(
                    "only \"*\" alone or a leading \"*.\" is a wildcard, so this entry never matches",
                )
            } else {
                Kind::Suffix
            }
        } else if text.contains('*') {
            Kind::Inert(
                "only \"*\" alone or a leading \"*.\" is a wildcard, so this entry never matches",
            )
        } else {
            Kind::Exact
        };
        Ok(HostPattern {
            text: text.to_owned(),
            kind,
        })
    }

    /// The pattern as written in the manifest.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `true` for `*`, which allows every host.
    pub fn is_wildcard(&self) -> bool {
        self.kind == Kind::Any
    }

    /// `true` if this pattern can never match (see [`HostPattern::inert_reason`]).
    pub fn is_inert(&self) -> bool {
        matches!(self.kind, Kind::Inert(_))
    }

    /// Why the pattern never matches, for patterns Navidrome accepts but never matches.
    pub fn inert_reason(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Inert(reason) => Some(reason),
            _ => None,
        }
    }

    /// Whether `host` is allowed by this pattern.
    ///
    /// `host` must be a bare host name or IP address, as in a URL's host with the port
    /// and IPv6 brackets removed (`api.example.com`, `127.0.0.1`, `::1`). ASCII case is
    /// ignored; nothing else is normalised (a trailing dot makes a different host).
    pub fn matches(&self, host: &str) -> bool {
        match self.kind {
            Kind::Any => true,
            Kind::Exact => host.eq_ignore_ascii_case(&self.text),
            Kind::Suffix => {
                // The suffix includes the dot: "*.example.com" -> ".example.com".
                let suffix = &self.text.as_bytes()[1..];
                let host = host.as_bytes();
                host.len() > suffix.len()
                    && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            }
            Kind::Inert(_) => false,
        }
    }

    /// Whether any of `patterns` allows `host` (see [`HostPattern::matches`]).
    pub fn any_matches(patterns: &[HostPattern], host: &str) -> bool {
        patterns.iter().any(|p| p.matches(host))
    }
}

impl FromStr for HostPattern {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HostPattern::parse(s)
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The host part of a legacy `allowedUrls` key such as `https://*.example.com/path/*`,
/// or `None` if there is none. The scheme, user info, port, path, query and fragment are
/// dropped, so `http://localhost:4533/*` gives `localhost`.
pub(crate) fn host_of_url_pattern(url: &str) -> Option<&str> {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None => url,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(inner) = host_port.strip_prefix('[') {
        inner.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests;
