//! The crate's one error type, [`Error`], and the per-problem [`Diagnostic`] that
//! validation collects, so that a bad manifest reports every problem at once.

use std::fmt;

/// Everything that can go wrong in this crate.
///
/// Messages are lowercase, have no trailing period, and name what is needed to fix the
/// problem: the plugin id, the entry inside the `.ndp`, the JSON path. Each message is
/// complete, so no variant also reports a `source()` (printing a chain would repeat it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest bytes are not JSON at all.
    #[error("manifest is not valid json: {0}")]
    Json(serde_json::Error),

    /// The manifest is JSON, but not a JSON object.
    #[error("manifest must be a json object, found {found}")]
    NotAnObject {
        /// What was found instead, such as `"an array"`.
        found: &'static str,
    },

    /// The manifest is a JSON object with one or more problems; every one is listed.
    #[error("invalid manifest ({count}):\n{0}", count = problem_count(.0))]
    Invalid(ValidationErrors),

    /// A size such as `kvstore.maxSize` could not be parsed.
    #[error("invalid size {input:?}: {reason}")]
    InvalidSize {
        /// The text that was given.
        input: String,
        /// Why it was refused.
        reason: String,
    },

    /// A host pattern (`requiredHosts` entry) is malformed.
    #[error("invalid host pattern {pattern:?}: {reason}")]
    InvalidHostPattern {
        /// The pattern that was given.
        pattern: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A plugin id (the `.ndp` file name without its extension) is not usable.
    #[error("invalid plugin id {id:?}: {reason}")]
    InvalidPluginId {
        /// The id that was given.
        id: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A file name given to [`plugin_id_from_file_name`](crate::plugin_id_from_file_name)
    /// does not end in `.ndp`.
    #[error("{name:?} is not a plugin package: the file name must end in .ndp")]
    NotNdpFileName {
        /// The file name that was given.
        name: String,
    },

    /// The `.ndp` bytes are not a readable zip archive.
    #[error("plugin '{id}': package is not a readable zip archive: {reason}")]
    NotZip {
        /// The plugin id.
        id: String,
        /// What the zip reader reported.
        reason: String,
    },

    /// The package lacks `manifest.json` or `plugin.wasm` at its root.
    #[error("plugin '{id}': package missing {entry}{}", found_elsewhere.as_ref().map(|p| format!(" (found {p:?}; both files must be at the zip root)")).unwrap_or_default())]
    MissingEntry {
        /// The plugin id.
        id: String,
        /// `manifest.json` or `plugin.wasm`.
        entry: &'static str,
        /// A same-named entry in a sub-folder, if there is one: the usual packing mistake.
        found_elsewhere: Option<String>,
    },

    /// The package has more entries than [`PackageLimits::max_entries`](crate::PackageLimits).
    #[error("plugin '{id}': package has {count} entries, more than the limit of {limit}")]
    TooManyEntries {
        /// The plugin id.
        id: String,
        /// How many entries the archive declares.
        count: u64,
        /// The configured limit.
        limit: u64,
    },

    /// Two entries of the package have the same name, so which one is meant is ambiguous.
    #[error("plugin '{id}': package has duplicate entry names")]
    DuplicateEntries {
        /// The plugin id.
        id: String,
    },

    /// An entry is larger than its limit, either by its declared size or by what it
    /// actually decompresses to (a zip bomb).
    #[error("plugin '{id}': {entry} is larger than the limit of {limit} bytes ({})",
        if *declared { format!("its header declares {size} bytes") } else { format!("it decompresses to more than {limit} bytes although its header declares {size}") })]
    EntryTooLarge {
        /// The plugin id.
        id: String,
        /// `manifest.json` or `plugin.wasm`.
        entry: &'static str,
        /// The size declared in the zip header.
        size: u64,
        /// The configured limit.
        limit: u64,
        /// `true` when the declared size is over the limit, `false` when the declared size
        /// was within it but the data decompressed to more (the header lied).
        declared: bool,
    },

    /// An entry could not be decompressed, or its content does not match its header.
    #[error("plugin '{id}': cannot read {entry}: {reason}")]
    BadEntry {
        /// The plugin id.
        id: String,
        /// `manifest.json` or `plugin.wasm`.
        entry: &'static str,
        /// What went wrong.
        reason: String,
    },

    /// The package's `manifest.json` could not be parsed or is invalid.
    #[error("plugin '{id}': manifest.json: {error}")]
    Manifest {
        /// The plugin id.
        id: String,
        /// The error from [`Manifest::parse`](crate::Manifest::parse). Its text is part of
        /// this error's message, so it is not also returned as `source()`.
        error: Box<Error>,
    },

    /// Writing a package with [`pack`](crate::pack) failed.
    #[error("cannot write package: {reason}")]
    Pack {
        /// What the zip writer reported.
        reason: String,
    },

    /// Plugin configuration handed to [`flatten_config`](crate::flatten_config) is not a
    /// JSON object.
    #[error("plugin configuration must be a json object, found {found}")]
    ConfigNotAnObject {
        /// What was found instead.
        found: &'static str,
    },

    /// Plugin configuration does not satisfy the manifest's `config.schema`.
    #[error("plugin configuration does not match config.schema ({count}):\n{0}", count = problem_count(.0))]
    ConfigInvalid(ValidationErrors),
}

impl Error {
    /// The list of problems, if this is (or wraps) a validation failure.
    ///
    /// Looks through [`Error::Manifest`], so callers of
    /// [`Package::from_bytes`](crate::Package::from_bytes) need not match twice.
    pub fn validation_errors(&self) -> Option<&ValidationErrors> {
        match self {
            Error::Invalid(errors) | Error::ConfigInvalid(errors) => Some(errors),
            Error::Manifest { error, .. } => error.validation_errors(),
            _ => None,
        }
    }
}

/// One problem (or warning) found in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Where the problem is, as a JSON pointer (RFC 6901) into the manifest, such as
    /// `/permissions/kvstore/maxSize`. The empty string means the whole document.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl Diagnostic {
    /// Builds a diagnostic.
    pub fn new(
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, " (fix: {})", self.hint)?;
        }
        Ok(())
    }
}

/// Every problem found while validating, in a stable order (the order of the schema's
/// fields, cross-field rules last); never empty when returned
/// inside an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors(pub Vec<Diagnostic>);

impl ValidationErrors {
    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` if there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One problem per line, each indented by two spaces.
impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// "1 problem", "3 problems".
fn problem_count(errors: &ValidationErrors) -> String {
    match errors.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    }
}

/// A short English description of a JSON value's type, for messages.
pub(crate) fn type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Appends one key to a JSON pointer, escaping `~` and `/` as RFC 6901 requires.
pub(crate) fn pointer_push(base: &str, key: &str) -> String {
    let mut out = String::with_capacity(base.len() + key.len() + 1);
    out.push_str(base);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}
