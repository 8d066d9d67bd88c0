//! Unit tests of the cron parser: fire times from fixed instants, robfig's and Navidrome's
//! error texts, Go durations, and saffron as an oracle where the dialects agree.

use super::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

fn next(expr: &str, from: &str) -> Option<String> {
    let schedule = Schedule::parse_in(expr, Tz::UTC).unwrap_or_else(|e| panic!("{expr}: {e}"));
    schedule
        .next_after_utc(utc(from))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

const START: &str = "2026-01-01T00:00:00Z"; // a Thursday

#[test]
fn next_fire_times_from_fixed_instants() {
    let table: &[(&str, &str, Option<&str>)] = &[
        ("* * * * *", START, Some("2026-01-01T00:01:00Z")),
        (
            "*/15 * * * *",
            "2026-01-01T00:15:00Z",
            Some("2026-01-01T00:30:00Z"),
        ),
        ("*/10 * * * * *", START, Some("2026-01-01T00:00:10Z")),
        ("0 */10 * * * *", START, Some("2026-01-01T00:10:00Z")),
        (
            "5-10/2 * * * * *",
            "2026-01-01T00:00:05Z",
            Some("2026-01-01T00:00:07Z"),
        ),
        (
            "5/20 * * * * *",
            "2026-01-01T00:00:25Z",
            Some("2026-01-01T00:00:45Z"),
        ),
        ("30 9 * * *", START, Some("2026-01-01T09:30:00Z")),
        (
            "30 9 * * *",
            "2026-01-01T09:30:00.5Z",
            Some("2026-01-02T09:30:00Z"),
        ),
        ("0 12 * * MON", START, Some("2026-01-05T12:00:00Z")),
        ("0 12 * * mon-wed", START, Some("2026-01-05T12:00:00Z")),
        ("0 0 1 * *", START, Some("2026-02-01T00:00:00Z")),
        ("0 0 1 jan-mar/2 *", START, Some("2026-03-01T00:00:00Z")),
        ("59 23 31 12 *", START, Some("2026-12-31T23:59:00Z")),
        // Day of month OR day of week when both are restricted.
        ("0 0 13 * 5", START, Some("2026-01-02T00:00:00Z")),
        (
            "0 0 13 * 5",
            "2026-01-09T00:00:00Z",
            Some("2026-01-13T00:00:00Z"),
        ),
        // `?` is a star, so both must match: Fridays only.
        ("0 0 ? * 5", START, Some("2026-01-02T00:00:00Z")),
        ("0 0 13 * ?", START, Some("2026-01-13T00:00:00Z")),
        // `*/1` keeps the star; `*/2` does not (robfig).
        ("0 0 */2 * 1", START, Some("2026-01-03T00:00:00Z")),
        ("0 0 29 2 *", START, Some("2028-02-29T00:00:00Z")),
        ("0 0 30 2 *", START, None),
        // 2100 is no leap year: the next leap day is over five years away, past robfig's search.
        ("0 0 29 2 *", "2096-03-01T00:00:00Z", None),
        ("@hourly", START, Some("2026-01-01T01:00:00Z")),
        ("@daily", START, Some("2026-01-02T00:00:00Z")),
        ("@midnight", START, Some("2026-01-02T00:00:00Z")),
        ("@weekly", START, Some("2026-01-04T00:00:00Z")),
        ("@monthly", START, Some("2026-02-01T00:00:00Z")),
        ("@yearly", START, Some("2027-01-01T00:00:00Z")),
        ("@annually", START, Some("2027-01-01T00:00:00Z")),
        ("@every 1h30m", START, Some("2026-01-01T01:30:00Z")),
        (
            "@every 41s",
            "2026-01-01T00:00:00.7Z",
            Some("2026-01-01T00:00:41Z"),
        ),
        ("@every 50ms", START, Some("2026-01-01T00:00:01Z")),
        ("@every 1.5s", START, Some("2026-01-01T00:00:01Z")),
        ("@every 0s", START, Some("2026-01-01T00:00:01Z")),
        ("5m", START, Some("2026-01-01T00:05:00Z")),
        ("1.5h", START, Some("2026-01-01T01:30:00Z")),
        (
            "TZ=America/New_York 0 30 9 * * *",
            START,
            Some("2026-01-01T14:30:00Z"),
        ),
        (
            "CRON_TZ=Asia/Tokyo 0 10 * * *",
            START,
            Some("2026-01-01T01:00:00Z"),
        ),
        ("TZ=UTC @every 5m", START, Some("2026-01-01T00:05:00Z")),
        (
            "TZ=Europe/Paris @daily",
            START,
            Some("2026-01-01T23:00:00Z"),
        ),
        ("0 9~9 * * *", START, Some("2026-01-01T09:00:00Z")),
        (
            "TZ=America/New_York 0 9~9 * * *",
            START,
            Some("2026-01-01T14:00:00Z"),
        ),
    ];
    for (expr, from, want) in table {
        assert_eq!(next(expr, from).as_deref(), *want, "{expr} after {from}");
    }
}

#[test]
fn spring_forward_skips_the_missing_hour() {
    // New York: 2026-03-08 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
    let expr = "TZ=America/New_York 30 2 * * *";
    assert_eq!(
        next(expr, "2026-03-07T12:00:00Z").as_deref(),
        Some("2026-03-09T06:30:00Z")
    );
    assert_eq!(
        next("TZ=America/New_York 0 3 * * *", "2026-03-07T12:00:00Z").as_deref(),
        Some("2026-03-08T07:00:00Z")
    );
}

#[test]
fn fall_back_fires_at_both_instants_in_order() {
    // New York: 2026-11-01 02:00 EDT falls back to 01:00 EST; 01:xx happens twice.
    let expr = "TZ=America/New_York 30 1 * * *";
    assert_eq!(
        next(expr, "2026-11-01T04:00:00Z").as_deref(),
        Some("2026-11-01T05:30:00Z")
    );
    assert_eq!(
        next(expr, "2026-11-01T05:30:00Z").as_deref(),
        Some("2026-11-01T06:30:00Z")
    );
    assert_eq!(
        next(expr, "2026-11-01T06:30:00Z").as_deref(),
        Some("2026-11-02T06:30:00Z")
    );
    // At 01:45 EDT, 01:50 EDT comes before the second 01:00 (EST).
    let expr = "TZ=America/New_York 0,50 1 * * *";
    let mut t = "2026-11-01T05:45:00Z".to_owned();
    let mut seen = Vec::new();
    for _ in 0..4 {
        t = next(expr, &t).unwrap();
        seen.push(t.clone());
    }
    assert_eq!(
        seen,
        [
            "2026-11-01T05:50:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T06:50:00Z",
            "2026-11-02T06:00:00Z"
        ]
    );
}

#[test]
fn system_time_api_matches_chrono_api() {
    let s = Schedule::parse_in("@every 5s", Tz::UTC).unwrap();
    let start = SystemTime::from(utc(START));
    assert_eq!(s.next_after(start), Some(start + Duration::from_secs(5)));
    assert!(s.is_every());
    assert_eq!(s.source(), "@every 5s");
    assert!(!Schedule::parse("* * * * *").unwrap().is_every());
}

#[test]
fn random_ranges_resolve_once_within_bounds() {
    let mut minutes = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let s = Schedule::parse_in("10~14 * * * *", Tz::UTC).unwrap();
        let first = s.next_after_utc(utc(START)).unwrap();
        // Resolved once: the schedule keeps that minute every hour.
        let second = s.next_after_utc(first).unwrap();
        assert_eq!(second - first, chrono::Duration::hours(1));
        minutes.insert(first.minute());
    }
    assert!(minutes.iter().all(|m| (10..=14).contains(m)), "{minutes:?}");
    assert!(
        minutes.len() > 1,
        "200 draws from 5 values gave {minutes:?}"
    );
    // `~` alone spans the field; `a~` and `~b` take the field's bound for the missing end.
    for expr in ["~ * * * *", "50~ * * * *", "~3 * * * *"] {
        let s = Schedule::parse_in(expr, Tz::UTC).unwrap();
        let m = s.next_after_utc(utc(START)).unwrap().minute();
        match expr {
            "50~ * * * *" => assert!(m >= 50, "{expr}: {m}"),
            "~3 * * * *" => assert!(m <= 3, "{expr}: {m}"),
            _ => assert!(m <= 59),
        }
    }
    let dow = Schedule::parse_in("0 0 * * 6~", Tz::UTC).unwrap();
    assert_eq!(
        dow.next_after_utc(utc(START)).unwrap(),
        utc("2026-01-03T00:00:00Z")
    );
}

#[test]
fn errors_carry_robfig_and_navidrome_texts() {
    let table: &[(&str, &str)] = &[
        ("", "empty spec string"),
        ("* * *", "expected 5 to 6 fields, found 3: [* * *]"),
        (
            "* * * * * * *",
            "expected 5 to 6 fields, found 7: [* * * * * * *]",
        ),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("0 0 0 0 0 0", "beginning of range (0) below minimum (1): 0"),
        (
            "5-1 * * * *",
            "beginning of range (5) beyond end of range (1): 5-1",
        ),
        (
            "*/0 * * * *",
            "step of range should be a positive number: */0",
        ),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: */2/3"),
        (
            "x * * * *",
            "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax",
        ),
        (
            "* * * * foo",
            "failed to parse int from foo: strconv.Atoi: parsing \"foo\": invalid syntax",
        ),
        ("@often", "unrecognized descriptor: @often"),
        (
            "@every 5x",
            "failed to parse duration @every 5x: time: unknown unit \"x\" in duration \"5x\"",
        ),
        ("@every", "unrecognized descriptor: @every"),
        (
            "TZ=Mars/Base * * * * *",
            "provided bad location Mars/Base: unknown time zone Mars/Base",
        ),
        ("TZ=UTC", "missing spec after timezone"),
        (
            "1~2,3 * * * *",
            "random ~ cannot be combined with lists or steps: 1~2,3",
        ),
        (
            "*/2~3 * * * *",
            "random ~ cannot be combined with lists or steps: */2~3",
        ),
        (
            "@daily~",
            "random ~ syntax cannot be used with descriptors: @daily~",
        ),
        (
            "50~70 * * * *",
            "random range end (70) above maximum (59): 50~70",
        ),
        (
            "* * 0~5 * *",
            "random range start (0) below minimum (1): 0~5",
        ),
        (
            "30~10 * * * *",
            "random range start (30) beyond end (10): 30~10",
        ),
        ("a~5 * * * *", "invalid random range start: a"),
        ("1~b * * * *", "invalid random range end: b"),
        ("* * *~", "expected 5 or 6 fields, found 3: [* * *~]"),
        ("TZ=UTC~", "missing spec after timezone"),
    ];
    for (expr, want) in table {
        let err = Schedule::parse_in(expr, Tz::UTC).expect_err(expr);
        assert_eq!(err.to_string(), *want, "{expr}");
        assert_eq!(err.message(), *want);
    }
}

#[test]
fn go_durations() {
    const S: i64 = 1_000_000_000;
    let ok: &[(&str, i64)] = &[
        ("0", 0),
        ("-0", 0),
        ("5m", 300 * S),
        ("1h30m", 5400 * S),
        ("1.5h", 5400 * S),
        ("500ms", S / 2),
        (".5s", S / 2),
        ("1.s", S),
        ("+5s", 5 * S),
        ("-5m", -300 * S),
        ("1µs", 1000),
        ("1μs", 1000),
        ("3us", 3000),
        ("7ns", 7),
        ("1h2m3s4ms", 3723 * S + 4_000_000),
        ("9223372036854775807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
    ];
    for (text, want) in ok {
        assert_eq!(parse_go_duration(text), Ok(*want), "{text}");
    }
    let bad: &[(&str, &str)] = &[
        ("", "time: invalid duration \"\""),
        ("5", "time: missing unit in duration \"5\""),
        ("1h1", "time: missing unit in duration \"1h1\""),
        ("5d", "time: unknown unit \"d\" in duration \"5d\""),
        (".s", "time: invalid duration \".s\""),
        ("-", "time: invalid duration \"-\""),
        ("s", "time: invalid duration \"s\""),
        (
            "9223372036854775808ns",
            "time: invalid duration \"9223372036854775808ns\"",
        ),
        ("3000000h", "time: invalid duration \"3000000h\""),
    ];
    for (text, want) in bad {
        assert_eq!(parse_go_duration(text), Err((*want).to_owned()), "{text}");
    }
}

#[test]
fn agrees_with_saffron_where_the_dialects_overlap() {
    // Minute-level, UTC, names for days of the week (saffron numbers them 1-7, robfig 0-6).
    let exprs = [
        "*/7 3-5 * * *",
        "0 12 * * MON-FRI",
        "15,45 */2 1-10 * *",
        "0 0 1,15 * *",
        "30 6 * JAN,JUL *",
        "0 0 * * SUN",
        "0 0 1,15 * MON",
        "5 4 29 2 *",
        "*/13 * * * *",
    ];
    for expr in exprs {
        let ours = Schedule::parse_in(expr, Tz::UTC).unwrap();
        let oracle: saffron::Cron = expr.parse().unwrap_or_else(|e| panic!("{expr}: {e:?}"));
        let mut a = utc(START);
        let mut b = utc(START);
        // Leap days: 2100 is no leap year, and a gap over five years ends robfig's search.
        let fires = if expr.contains(" 29 2 ") { 18 } else { 300 };
        for i in 0..fires {
            a = ours.next_after_utc(a).unwrap();
            b = oracle.next_after(b).unwrap();
            assert_eq!(a, b, "{expr}: fire #{i}");
        }
    }
}
