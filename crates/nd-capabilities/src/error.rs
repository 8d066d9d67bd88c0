//! Errors of capability calls: [`CapabilityError`] (which plugin, which export, what
//! happened) and the scrobbler classification [`ScrobblerError`].

use std::fmt;

use nd_runtime::{CallError, CallErrorKind};

/// A capability call that failed for real (a "not found" answer is not an error; see the
/// crate documentation for which outcome is which).
///
/// Its `Display` names the plugin, the export and the cause, e.g.
/// `plugin 'lastfm': nd_get_artist_biography: plugin call failed: rate limited`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityError {
    /// The plugin id.
    pub plugin: String,
    /// The export that was (or would have been) called.
    pub export: String,
    /// What happened.
    pub kind: CapabilityErrorKind,
}

/// What went wrong in a [`CapabilityError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CapabilityErrorKind {
    /// The plugin does not export the function, so it was not called. Only adapters whose
    /// export is required report this (a task worker, a scrobbler notification); elsewhere a
    /// missing export reads as "not found" or is skipped.
    MissingExport,
    /// The call itself failed: a plugin error, `-2` where an answer is required, a trap, a
    /// timeout, ... (the runtime's [`CallErrorKind`]).
    Call(CallErrorKind),
    /// The call succeeded but its output is not the JSON the capability defines.
    MalformedOutput(String),
    /// The request could not be encoded as JSON.
    Encode(String),
    /// A shared lookup (see [`crate::Lyrics`]) ended without an answer, because the caller
    /// doing the work panicked.
    Abandoned,
}

impl CapabilityError {
    pub(crate) fn new(plugin: &str, export: &str, kind: CapabilityErrorKind) -> Self {
        Self {
            plugin: plugin.to_owned(),
            export: export.to_owned(),
            kind,
        }
    }

    /// The runtime's outcome when the call itself failed, `None` for the other kinds.
    pub fn call_kind(&self) -> Option<&CallErrorKind> {
        match &self.kind {
            CapabilityErrorKind::Call(kind) => Some(kind),
            _ => None,
        }
    }

    /// The message the plugin set with `error_set`, if that is what failed the call.
    pub fn plugin_message(&self) -> Option<&str> {
        match &self.kind {
            CapabilityErrorKind::Call(CallErrorKind::PluginError { message, .. }) => Some(message),
            _ => None,
        }
    }

    /// The cause alone, without plugin id and export: the text Navidrome's adapters see (and
    /// match scrobbler error markers against).
    pub fn cause(&self) -> String {
        self.kind.to_string()
    }
}

impl From<CallError> for CapabilityError {
    fn from(error: CallError) -> Self {
        let (plugin, export) = (error.plugin().to_owned(), error.export().to_owned());
        Self {
            plugin,
            export,
            kind: CapabilityErrorKind::Call(error.into_kind()),
        }
    }
}

impl fmt::Display for CapabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "plugin '{}': {}: {}",
            self.plugin, self.export, self.kind
        )
    }
}

impl std::error::Error for CapabilityError {}

impl fmt::Display for CapabilityErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingExport => f.write_str("function not found"),
            // Navidrome wraps every error of `Call` in "plugin call failed: ", while a bare
            // non-zero return code reads "plugin call exited with code N".
            Self::Call(CallErrorKind::PluginError { message, .. })
                if message.starts_with("plugin call exited with code") =>
            {
                f.write_str(message)
            }
            Self::Call(CallErrorKind::PluginError { message, .. }) => {
                write!(f, "plugin call failed: {message}")
            }
            Self::Call(CallErrorKind::NotImplemented) => f.write_str("function not implemented"),
            Self::Call(kind) => write!(f, "{kind}"),
            Self::MalformedOutput(message) => write!(f, "malformed output: {message}"),
            Self::Encode(message) => write!(f, "failed to marshal input: {message}"),
            Self::Abandoned => f.write_str("the shared lookup ended without an answer"),
        }
    }
}

/// The marker of a scrobbler error that means "the user is not authorized".
pub const NOT_AUTHORIZED_MARKER: &str = "scrobbler(not_authorized)";
/// The marker of a scrobbler error that means "try again later".
pub const RETRY_LATER_MARKER: &str = "scrobbler(retry_later)";
/// The marker of a scrobbler error that means "do not retry".
pub const UNRECOVERABLE_MARKER: &str = "scrobbler(unrecoverable)";

/// A failed scrobbler notification, classified as Navidrome does: by the marker its error text
/// contains (substring match), and any error without a marker is unrecoverable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScrobblerError {
    /// `scrobbler(not_authorized)`: the user has not linked the external service.
    NotAuthorized(CapabilityError),
    /// `scrobbler(retry_later)`: a transient failure; Navidrome buffers the scrobble.
    RetryLater(CapabilityError),
    /// `scrobbler(unrecoverable)`, or any other failure.
    Unrecoverable(CapabilityError),
}

impl ScrobblerError {
    /// Classifies `error` by the marker in its cause.
    pub fn classify(error: CapabilityError) -> Self {
        let cause = error.cause();
        if cause.contains(NOT_AUTHORIZED_MARKER) {
            Self::NotAuthorized(error)
        } else if cause.contains(RETRY_LATER_MARKER) {
            Self::RetryLater(error)
        } else {
            Self::Unrecoverable(error)
        }
    }

    /// The underlying error.
    pub fn error(&self) -> &CapabilityError {
        match self {
            Self::NotAuthorized(e) | Self::RetryLater(e) | Self::Unrecoverable(e) => e,
        }
    }

    /// Consumes the classification, returning the underlying error.
    pub fn into_error(self) -> CapabilityError {
        match self {
            Self::NotAuthorized(e) | Self::RetryLater(e) | Self::Unrecoverable(e) => e,
        }
    }

    /// True for [`ScrobblerError::RetryLater`].
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RetryLater(_))
    }
}

impl fmt::Display for ScrobblerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self {
            Self::NotAuthorized(_) => "not authorized",
            Self::RetryLater(_) => "retry later",
            Self::Unrecoverable(_) => "unrecoverable",
        };
        write!(f, "scrobbler error ({class}): {}", self.error())
    }
}

impl std::error::Error for ScrobblerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.error())
    }
}
