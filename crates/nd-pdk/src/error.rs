//! The one error type of the PDK: what a host function reported, what a capability method
//! wants the host to see, and "not implemented" (an export's `-2`, spec §2.3).

use std::fmt;

/// The marker of a scrobbler error meaning "the user is not authorized" (spec §4.2).
pub const NOT_AUTHORIZED_MARKER: &str = "scrobbler(not_authorized)";
/// The marker of a scrobbler error meaning "try again later": Navidrome buffers the scrobble.
pub const RETRY_LATER_MARKER: &str = "scrobbler(retry_later)";
/// The marker of a scrobbler error meaning "do not retry".
pub const UNRECOVERABLE_MARKER: &str = "scrobbler(unrecoverable)";

/// An error in a plugin: returned by host-service wrappers, and returned by capability
/// methods to fail a call.
///
/// When an export fails, the host sees [`Error::message`] as the call's error text (set with
/// Extism's `error_set`, return code `-1`), except for [`Error::not_implemented`], which
/// returns `-2` without a message: the host then treats the method as absent ("not found"
/// for metadata, ignored for a playback report).
///
/// Any `std::error::Error` converts into it with `?` (like `anyhow::Error`, it therefore does
/// not implement `std::error::Error` itself); build one from text with [`Error::msg`].
pub struct Error {
    kind: Kind,
    message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A plugin-side failure.
    Plugin,
    /// The export is not implemented (`-2`).
    NotImplemented,
    /// A host function answered `{"error": ...}`.
    Host { function: &'static str },
    /// A host function could not be called, or its answer could not be read.
    Call { function: &'static str },
}

impl Error {
    /// A failure with this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Error {
            kind: Kind::Plugin,
            message: message.to_string(),
        }
    }

    /// "Not implemented": the export returns `-2` with no message. What the capability
    /// traits' default methods return.
    pub fn not_implemented() -> Self {
        Error {
            kind: Kind::NotImplemented,
            message: "not implemented".to_owned(),
        }
    }

    /// A scrobbler failure meaning "the user has not linked the service"
    /// (`scrobbler(not_authorized): <message>`).
    pub fn not_authorized(message: impl fmt::Display) -> Self {
        Self::marked(NOT_AUTHORIZED_MARKER, message)
    }

    /// A transient scrobbler failure (`scrobbler(retry_later): <message>`): Navidrome keeps
    /// the scrobble and retries later.
    pub fn retry_later(message: impl fmt::Display) -> Self {
        Self::marked(RETRY_LATER_MARKER, message)
    }

    /// A permanent scrobbler failure (`scrobbler(unrecoverable): <message>`).
    pub fn unrecoverable(message: impl fmt::Display) -> Self {
        Self::marked(UNRECOVERABLE_MARKER, message)
    }

    fn marked(marker: &str, message: impl fmt::Display) -> Self {
        let message = message.to_string();
        Self::msg(if message.is_empty() {
            marker.to_owned()
        } else {
            format!("{marker}: {message}")
        })
    }

    /// The error a host function reported in its response (`{"error": message}`).
    pub(crate) fn host(function: &'static str, message: impl fmt::Display) -> Self {
        Error {
            kind: Kind::Host { function },
            message: message.to_string(),
        }
    }

    /// A host function that could not be called or whose answer was unreadable.
    pub(crate) fn call(function: &'static str, message: impl fmt::Display) -> Self {
        Error {
            kind: Kind::Call { function },
            message: message.to_string(),
        }
    }

    /// The message, without the host function's name. For a host error this is the host's
    /// text exactly (e.g. `schedule ID "x" already exists`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether this is [`Error::not_implemented`].
    pub fn is_not_implemented(&self) -> bool {
        self.kind == Kind::NotImplemented
    }

    /// The host function this error came from (`"kvstore_set"`), for errors returned by
    /// the [`host`](crate::host) wrappers.
    pub fn host_function(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Host { function } | Kind::Call { function } => Some(function),
            Kind::Plugin | Kind::NotImplemented => None,
        }
    }

    /// Whether the host function answered with an error (as opposed to a failed call).
    pub fn is_host_error(&self) -> bool {
        matches!(self.kind, Kind::Host { .. })
    }
}

/// Host errors read `<function>: <message>`; other errors are their message.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Host { function } | Kind::Call { function } => {
                write!(f, "{function}: {}", self.message)
            }
            Kind::Plugin | Kind::NotImplemented => f.write_str(&self.message),
        }
    }
}

/// The same text as `Display`, so that `{:?}` (what extism-pdk writes for a failed
/// `#[plugin_fn]`) shows the message, not a struct dump.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(error: E) -> Self {
        Error::msg(error)
    }
}

/// `Result<T, nd_pdk::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(
            Error::retry_later("rate limited").to_string(),
            "scrobbler(retry_later): rate limited"
        );
        assert_eq!(
            Error::not_authorized("").to_string(),
            "scrobbler(not_authorized)"
        );
        let host = Error::host("kvstore_set", "storage limit exceeded");
        assert_eq!(host.to_string(), "kvstore_set: storage limit exceeded");
        assert_eq!(host.message(), "storage limit exceeded");
        assert_eq!(host.host_function(), Some("kvstore_set"));
        assert!(host.is_host_error());
        assert!(Error::not_implemented().is_not_implemented());
        assert!(!Error::msg("x").is_not_implemented());
        let parse: Error = "x".parse::<i32>().unwrap_err().into();
        assert_eq!(format!("{parse:?}"), "invalid digit found in string");
    }
}
