//! Unit tests of the command line: the clap definition, the exit-code table and its help
//! text, and the `--config` / `--log-level` parsers.

use super::*;

#[test]
fn clap_definition_is_consistent() {
    command().debug_assert();
}

#[test]
fn exit_codes_are_unique_and_documented_in_help() {
    let mut codes: Vec<u8> = EXIT_CODES.iter().map(|(c, _)| *c).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), EXIT_CODES.len());
    for expected in [
        EXIT_OK,
        EXIT_PLUGIN_ERROR,
        EXIT_NOT_IMPLEMENTED,
        EXIT_ABNORMAL,
        EXIT_USAGE,
        EXIT_INTERNAL,
    ] {
        assert!(
            codes.contains(&expected),
            "{expected} missing from EXIT_CODES"
        );
    }
    let help = exit_code_help();
    for (code, meaning) in EXIT_CODES {
        assert!(help.contains(&format!("{code:>3}  {meaning}")), "{help}");
    }
    let mut call = command();
    let call_help = call
        .find_subcommand_mut("call")
        .expect("call subcommand")
        .render_long_help()
        .to_string();
    assert!(call_help.contains("Exit codes:"), "{call_help}");
    assert!(call_help.contains(" 64  bad arguments"), "{call_help}");
}

#[test]
fn key_value_pairs() {
    assert_eq!(parse_key_value("a=b"), Ok(("a".into(), "b".into())));
    assert_eq!(parse_key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
    assert_eq!(parse_key_value("a="), Ok(("a".into(), String::new())));
    assert!(parse_key_value("=b").is_err());
    assert!(parse_key_value("ab").is_err());
}

#[test]
fn log_filters() {
    for ok in ["warn", "off", "TRACE", "warn,nd::plugin=debug"] {
        assert!(parse_log_filter(ok).is_ok(), "{ok}");
    }
    assert!(parse_log_filter("nd::plugin=loud").is_err());
}
