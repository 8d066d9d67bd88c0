//! The JSON Schema of `manifest.json` that ships with this crate
//! (`crates/nd-manifest/manifest.schema.json`), for editors and for tools that want a
//! schema-level check next to [`Manifest::parse`](crate::Manifest::parse).
//!
//! The schema is deliberately as permissive as Navidrome's runtime: unknown keys are
//! allowed everywhere, and the legacy keys are described and marked `deprecated`.
//! It cannot express every rule (sizes, well-formed host patterns, whether
//! `config.schema` compiles), so [`Manifest::parse`](crate::Manifest::parse) remains
//! the authority.

use serde_json::Value;

use crate::Diagnostic;

/// The manifest JSON Schema (draft 2020-12), as text.
pub const MANIFEST_SCHEMA: &str = include_str!("../manifest.schema.json");

/// Validates a manifest against [`MANIFEST_SCHEMA`], returning one diagnostic per
/// violation (empty when it conforms).
pub fn schema_problems(manifest: &Value) -> Vec<Diagnostic> {
    let schema: Value = match serde_json::from_str(MANIFEST_SCHEMA) {
        Ok(schema) => schema,
        Err(err) => {
            return vec![Diagnostic::new(
                "",
                format!("the bundled schema is not json: {err}"),
                "report this bug",
            )];
        }
    };
    let validator = match jsonschema::options().offline().build(&schema) {
        Ok(validator) => validator,
        Err(err) => {
            return vec![Diagnostic::new(
                "",
                format!("the bundled schema does not compile: {err}"),
                "report this bug",
            )];
        }
    };
    validator
        .iter_errors(manifest)
        .map(|err| {
            Diagnostic::new(
                err.instance_path().as_str(),
                err.to_string(),
                "see manifest.schema.json",
            )
        })
        .collect()
}
