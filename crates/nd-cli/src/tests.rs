//! Unit tests of the command line: the clap definition, the exit-code table and its help
//! text, the `--config` / `--log-level` parsers, and the id-or-file rule.

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
        EXIT_INVALID_CONFIG,
        EXIT_NOT_FOUND,
        EXIT_INTERNAL,
        EXIT_IN_USE,
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
    // Every command and subcommand has a one-line description, examples and the codes.
    let mut root = command();
    let check = |name: &str, help: String| {
        assert!(help.contains("Exit codes:"), "{name}: {help}");
        assert!(help.contains("Example"), "{name}: {help}");
    };
    for sub in root.get_subcommands_mut() {
        let name = sub.get_name().to_owned();
        assert!(sub.get_about().is_some(), "{name} has no description");
        if sub.has_subcommands() {
            for nested in sub.get_subcommands_mut() {
                let nested_name = format!("{name} {}", nested.get_name());
                assert!(nested.get_about().is_some(), "{nested_name}");
                check(&nested_name, nested.render_long_help().to_string());
            }
        } else {
            check(&name, sub.render_long_help().to_string());
        }
    }
}

#[test]
fn package_paths_and_ids() {
    use std::path::Path;
    for file in ["agent.ndp", "./agent", "dir/agent.ndp", "/abs/agent"] {
        assert!(load::is_package_path(Path::new(file)), "{file}");
    }
    for id in ["agent", "my-plugin", "wiki_2"] {
        assert!(!load::is_package_path(Path::new(id)), "{id}");
    }
}

#[test]
fn tables_and_one_line_cells() {
    let rows = [
        ["ID".to_owned(), "NAME".to_owned(), "LAST".to_owned()],
        ["a".to_owned(), "long name".to_owned(), "x".to_owned()],
    ];
    assert_eq!(
        output::table(&rows),
        "ID  NAME       LAST\na   long name  x\n"
    );
    assert_eq!(output::one_line("a\n  b", 10), "a b");
    assert_eq!(output::one_line("abcdefghij", 5), "abcd…");
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
