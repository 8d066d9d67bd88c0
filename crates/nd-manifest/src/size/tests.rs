//! Unit tests of size parsing and formatting, against go-humanize's rules.

use super::*;

#[track_caller]
fn ok(input: &str, expected: u64) {
    match parse_size(input) {
        Ok(bytes) => assert_eq!(bytes, expected, "parse_size({input:?})"),
        Err(err) => panic!("parse_size({input:?}) failed: {err}"),
    }
}

#[track_caller]
fn err(input: &str, reason_part: &str) {
    match parse_size(input) {
        Ok(bytes) => panic!("parse_size({input:?}) gave {bytes}, expected an error"),
        Err(err) => {
            let text = err.to_string();
            assert!(
                text.contains(reason_part),
                "parse_size({input:?}): {text:?} lacks {reason_part:?}"
            );
        }
    }
}

#[test]
fn si_and_iec_units() {
    ok("1MB", 1_000_000);
    ok("1MiB", 1_048_576);
    ok("500KB", 500_000);
    ok("10KB", 10_000);
    ok("1 GB", 1_000_000_000);
    ok("1024", 1024);
    ok("1TB", 1_000_000_000_000);
    ok("2TiB", 2 << 40);
    ok("3GiB", 3 << 30);
    ok("7KiB", 7 << 10);
    ok("5B", 5);
    ok("1PB", 1_000_000_000_000_000);
    ok("1EiB", 1 << 60);
}

#[test]
fn short_units_and_case() {
    ok("1k", 1_000);
    ok("1K", 1_000);
    ok("1m", 1_000_000);
    ok("1g", 1_000_000_000);
    ok("1ki", 1_024);
    ok("1mb", 1_000_000);
    ok("1mib", 1_048_576);
    ok("1MIB", 1_048_576);
    ok("1kB", 1_000);
}

#[test]
fn decimals_separators_and_spaces() {
    ok("1.5MB", 1_500_000);
    ok("0.5KiB", 512);
    ok(".5KB", 500);
    ok("1.KB", 1_000);
    ok("1,000", 1_000);
    ok("1,000 KB", 1_000_000);
    ok("  2 MB  ", 2_000_000);
    ok("1.1MB", 1_100_000);
    // Fractional bytes are truncated, as Go's uint64(f) does.
    ok("1.9", 1);
    ok("0", 0);
    ok("18446744073709551615", u64::MAX);
}

#[test]
fn garbage() {
    err("", "empty");
    err("   ", "empty");
    err("MB", "does not start with a number");
    err("-1MB", "does not start with a number");
    err("+1MB", "does not start with a number");
    err("1XB", "unknown unit");
    err("1 M B", "unknown unit");
    err("1e3", "unknown unit");
    err("1.2.3MB", "more than one decimal point");
    err("lots", "does not start with a number");
    err("1MB extra", "unknown unit");
    err("١MB", "does not start with a number");
}

#[test]
fn overflow() {
    err("18446744073709551616", "2^64");
    err("16EiB", "2^64");
    err("19EB", "2^64");
    ok("18EB", 18_000_000_000_000_000_000);
    err("99999999999999999999999999TB", "2^64");
    err("20000000000000000.5EB", "2^64");
}

#[test]
fn format_round_trips() {
    for bytes in [
        0,
        1,
        999,
        1_000,
        1_024,
        1_500,
        10_000,
        1_000_000,
        1_048_576,
        1_500_000,
        2_048_000,
        5 << 30,
        u64::MAX,
    ] {
        let text = format_size(bytes);
        assert_eq!(parse_size(&text).ok(), Some(bytes), "{bytes} -> {text}");
    }
    assert_eq!(format_size(2_048_000), "2000KiB");
    assert_eq!(format_size(1_536), "1536B");
    assert_eq!(format_size(1 << 40), "1TiB");
    assert_eq!(format_size(u64::MAX), "18446744073709551615B");
}
