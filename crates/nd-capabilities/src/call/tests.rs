//! Output decoding as Go's `json.Unmarshal` into a pointer, through a fake caller that only
//! returns outputs (the failure paths need a real plugin: see `tests/it`).

use serde::Deserialize;

use super::*;
use crate::types::{ImageInfo, null_default};

/// A caller with no exports: [`decode`] only uses it for the plugin id.
struct Named;

impl ExportCaller for Named {
    fn plugin_id(&self) -> &str {
        "fake"
    }
    fn has_export(&self, _: &str) -> bool {
        false
    }
    fn call(&self, _: &str, _: &[u8]) -> Result<Vec<u8>, nd_runtime::CallError> {
        unreachable!("an adapter called an export the caller does not have")
    }
}

#[derive(Debug, Deserialize, Default, PartialEq)]
#[serde(default)]
struct Answer {
    #[serde(deserialize_with = "null_default")]
    mbid: String,
    #[serde(deserialize_with = "null_default")]
    images: Vec<ImageInfo>,
}

fn answer(output: &str) -> Result<Option<Answer>, CapabilityError> {
    decode(&Named, "nd_x", output.as_bytes())
}

#[test]
fn empty_output_and_null_are_none() {
    assert_eq!(answer(""), Ok(None));
    assert_eq!(answer("null"), Ok(None));
    assert_eq!(answer(" null \n"), Ok(None));
}

#[test]
fn keys_match_case_insensitively_and_unknown_keys_are_ignored() {
    let decoded = answer(r#"{"MBID":"m","Images":[{"URL":"u","SIZE":5}],"extra":true}"#);
    assert_eq!(
        decoded,
        Ok(Some(Answer {
            mbid: "m".into(),
            images: vec![ImageInfo {
                url: "u".into(),
                size: 5
            }],
        }))
    );
}

#[test]
fn an_exact_key_wins_over_a_folded_one() {
    let decoded = answer(r#"{"Mbid":"folded","mbid":"exact"}"#).expect("decodes");
    assert_eq!(decoded.map(|a| a.mbid).as_deref(), Some("exact"));
}

#[test]
fn malformed_and_ill_typed_outputs_are_errors_naming_the_export() {
    for (output, cause) in [
        (r#"{"mbid":"#, "malformed output: EOF while parsing"),
        (
            r#"{"mbid":42}"#,
            "malformed output: invalid type: integer `42`, expected a string",
        ),
        (
            r#"["m"]"#,
            "malformed output: expected a JSON object, found an array",
        ),
        (
            "true",
            "malformed output: expected a JSON object, found a boolean",
        ),
    ] {
        let error = answer(output).expect_err(output);
        assert!(
            error
                .to_string()
                .starts_with(&format!("plugin 'fake': nd_x: {cause}")),
            "{output}: {error}"
        );
        assert!(matches!(
            error.kind,
            CapabilityErrorKind::MalformedOutput(_)
        ));
        assert_eq!(error.call_kind(), None);
    }
}

#[test]
fn a_missing_export_is_not_called() {
    assert!(matches!(invoke(&Named, "nd_x", &()), Ok(Reply::Missing)));
}
