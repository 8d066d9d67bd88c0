//! Cron expressions as Navidrome's scheduler accepts them (spec §3.3): robfig/cron v3 with the
//! parser `SecondOptional | Minute | Hour | Dom | Month | Dow | Descriptor`, plus Navidrome's
//! two extensions (a bare Go duration means `@every <duration>`; crontab(5) random ranges `a~b`
//! are resolved once, when the expression is parsed).
//!
//! What is accepted:
//! - 5 fields (`min hour dom month dow`) or 6 fields (a leading seconds field), each a
//!   comma-separated list of `*`, `?`, `n`, `a-b`, with an optional `/step`; `n/step` means
//!   `n-max/step`; months `jan`–`dec` and days `sun`–`sat` by name (any case); days of the week
//!   are `0`–`6`, Sunday = 0 (`7` is refused, as robfig refuses it);
//! - descriptors `@yearly` `@annually` `@monthly` `@weekly` `@daily` `@midnight` `@hourly`
//!   and `@every <go duration>` (robfig rounds the period down to whole seconds, with a
//!   minimum of one second, so `@every 50ms`, `@every 0s` and even `@every -5m` run every
//!   second);
//! - a `TZ=Area/City ` or `CRON_TZ=Area/City ` prefix; without it, times are in the host's
//!   local time zone, as robfig's `time.Local` ([`Schedule::parse_in`] picks another default).
//!
//! Day rule (robfig's): when both day-of-month and day-of-week are restricted (neither is `*`
//! or `?`), a day matches if **either** matches; otherwise both must match.
//!
//! Time zones: fire times are found in local wall-clock time and mapped back to instants. A
//! wall-clock time that does not exist (spring forward) is skipped; one that exists twice
//! (fall back) fires twice, at both instants. This is what robfig does, as it walks hours in
//! absolute time. A schedule that matches nothing within five years has no next time (robfig
//! returns the zero time and never runs it), e.g. `0 0 30 2 *`.
//!
//! Why not saffron: it is Quartz-flavoured (days of the week `1`–`7`, `L`, `W` and `#`, no
//! seconds field), so the fields are parsed here into robfig's bit sets instead. saffron is
//! used by the unit tests as an independent oracle where the two dialects agree.
//!
//! What this is not: a scheduler. [`crate::scheduler`] keeps the timers.

use std::fmt;
use std::time::{Duration, SystemTime};

use chrono::{
    DateTime, Datelike, Local, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use nd_runtime::go_quote;

#[cfg(test)]
mod tests;

/// Why an expression was refused. The message is the one robfig or Navidrome would give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CronError(String);

impl CronError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// The zone an expression is evaluated in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    /// The host's local time zone.
    Local,
    /// A named IANA zone.
    Named(Tz),
}

impl Zone {
    fn offset_secs(self, t: DateTime<Utc>) -> i32 {
        match self {
            Self::Local => Local
                .offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc(),
            Self::Named(tz) => tz
                .offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc(),
        }
    }

    fn to_local(self, t: DateTime<Utc>) -> NaiveDateTime {
        t.naive_utc() + chrono::Duration::seconds(i64::from(self.offset_secs(t)))
    }

    /// The instants a wall-clock time maps to: none (a gap), one, or two (a fold).
    fn instants(self, local: NaiveDateTime) -> [Option<DateTime<Utc>>; 2] {
        fn pick<T: TimeZone>(r: chrono::LocalResult<DateTime<T>>) -> [Option<DateTime<Utc>>; 2] {
            match r {
                chrono::LocalResult::Single(a) => [Some(a.with_timezone(&Utc)), None],
                chrono::LocalResult::Ambiguous(a, b) => {
                    [Some(a.with_timezone(&Utc)), Some(b.with_timezone(&Utc))]
                }
                chrono::LocalResult::None => [None, None],
            }
        }
        match self {
            Self::Local => pick(Local.from_local_datetime(&local)),
            Self::Named(tz) => pick(tz.from_local_datetime(&local)),
        }
    }
}

/// A parsed schedule: give it an instant, get the next one it fires at.
#[derive(Clone, PartialEq, Eq)]
pub struct Schedule {
    kind: Kind,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Spec(Spec),
    /// `@every`: a whole number of seconds, at least one.
    Every(Duration),
}

/// robfig's `SpecSchedule`: one bit per allowed value, plus [`STAR`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    second: u64,
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    zone: Zone,
}

/// Set when a field was `*` or `?` (robfig's `starBit`); drives the day rule.
const STAR: u64 = 1 << 63;

#[derive(Clone, Copy)]
struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const MINUTES: Bounds = SECONDS;
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
/// Index + 1 is the month number.
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
/// Index is the day number (Sunday = 0).
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};
const FIELD_BOUNDS: [Bounds; 6] = [SECONDS, MINUTES, HOURS, DOM, MONTHS, DOW];

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("source", &self.source)
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for Schedule {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Schedule {
    /// Parses `expr`; expressions without a `TZ=` prefix use the host's local time zone.
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        Self::parse_zone(expr, Zone::Local)
    }

    /// Parses `expr`; expressions without a `TZ=` prefix use `default_zone`.
    pub fn parse_in(expr: &str, default_zone: Tz) -> Result<Self, CronError> {
        Self::parse_zone(expr, Zone::Named(default_zone))
    }

    fn parse_zone(expr: &str, default_zone: Zone) -> Result<Self, CronError> {
        if expr.is_empty() {
            return Err(CronError::new("empty spec string"));
        }
        let mut spec = expr.to_owned();
        if parse_go_duration(&spec).is_ok() {
            spec = format!("@every {spec}");
        }
        if spec.contains('~') {
            spec = resolve_random(&spec)?;
        }
        Ok(Self {
            kind: parse_robfig(&spec, default_zone)?,
            source: expr.to_owned(),
        })
    }

    /// The expression as it was given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True for `@every` schedules (and bare durations).
    pub fn is_every(&self) -> bool {
        matches!(self.kind, Kind::Every(_))
    }

    /// The first fire time strictly after `t` (fire times are whole seconds), or `None` if
    /// the schedule never fires again within five years.
    pub fn next_after(&self, t: SystemTime) -> Option<SystemTime> {
        self.next_after_utc(DateTime::<Utc>::from(t))
            .map(SystemTime::from)
    }

    /// [`Schedule::next_after`] on `chrono` instants.
    pub fn next_after_utc(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Every(period) => {
                let base = t.with_nanosecond(0)?;
                let period = chrono::Duration::from_std(*period).ok()?;
                base.checked_add_signed(period)
            }
            Kind::Spec(spec) => spec.next_after(t),
        }
    }
}

/// Parses a Go duration (`time.ParseDuration`): `[-+]?([0-9]*(\.[0-9]*)?unit)+` or `0`, with
/// units `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`. Returns nanoseconds; errors carry Go's
/// messages.
pub fn parse_go_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(text));
    let mut s = text;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        // The integer part.
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let pre = digits > 0;
        let mut value: u64 = 0;
        for b in s[..digits].bytes() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .filter(|v| *v <= LIMIT)
                .ok_or_else(invalid)?;
        }
        s = &s[digits..];
        // The fraction.
        let mut fraction: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if let Some(rest) = s.strip_prefix('.') {
            s = rest;
            let digits = s.bytes().take_while(u8::is_ascii_digit).count();
            post = digits > 0;
            let mut overflow = false;
            for b in s[..digits].bytes() {
                if overflow {
                    continue;
                }
                match fraction
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(b - b'0')))
                    .filter(|v| *v <= LIMIT)
                {
                    Some(v) => {
                        fraction = v;
                        scale *= 10.0;
                    }
                    None => overflow = true,
                }
            }
            s = &s[digits..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        // The unit.
        let unit_len = s
            .bytes()
            .position(|b| b == b'.' || b.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(text)));
        }
        let unit_name = &s[..unit_len];
        s = &s[unit_len..];
        let unit: u64 = match unit_name {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote(unit_name),
                    go_quote(text)
                ));
            }
        };
        if value > LIMIT / unit {
            return Err(invalid());
        }
        value *= unit;
        if fraction > 0 {
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > LIMIT {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(value)
            .filter(|v| *v <= LIMIT)
            .ok_or_else(invalid)?;
    }
    if neg {
        return Ok((total as i64).wrapping_neg());
    }
    if total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

/// Splits a `TZ=` / `CRON_TZ=` prefix off `spec`: (zone name, the rest), or `None` without one.
fn split_zone(spec: &str) -> Result<Option<(&str, &str)>, CronError> {
    if !(spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=")) {
        return Ok(None);
    }
    let Some(space) = spec.find(' ') else {
        return Err(CronError::new("missing spec after timezone"));
    };
    let eq = spec.find('=').unwrap_or(0);
    Ok(Some((&spec[eq + 1..space], spec[space..].trim())))
}

/// Navidrome's `~` extension: replaces every `a~b` field by a random value in the range and
/// returns the expression robfig then parses.
fn resolve_random(spec: &str) -> Result<String, CronError> {
    let (prefix, rest) = match split_zone(spec)? {
        Some((_, rest)) => (&spec[..spec.len() - rest.len()], rest),
        None => ("", spec),
    };
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{} ", prefix.trim_end())
    };
    if rest.starts_with('@') {
        return Err(CronError::new(format!(
            "random ~ syntax cannot be used with descriptors: {rest}"
        )));
    }
    let mut fields: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
    match fields.len() {
        5 => fields.insert(0, "0".to_owned()),
        6 => {}
        n => {
            return Err(CronError::new(format!(
                "expected 5 or 6 fields, found {n}: [{}]",
                fields.join(" ")
            )));
        }
    }
    for (field, bounds) in fields.iter_mut().zip(FIELD_BOUNDS) {
        if !field.contains('~') {
            continue;
        }
        if field.contains([',', '/']) {
            return Err(CronError::new(format!(
                "random ~ cannot be combined with lists or steps: {field}"
            )));
        }
        *field = resolve_random_field(field, bounds)?.to_string();
    }
    Ok(format!("{prefix}{}", fields.join(" ")))
}

fn resolve_random_field(field: &str, bounds: Bounds) -> Result<u32, CronError> {
    let (start, end) = field.split_once('~').unwrap_or((field, ""));
    let parse = |text: &str, what: &str| -> Result<u64, CronError> {
        if text.bytes().all(|b| b.is_ascii_digit())
            && let Ok(v) = text.parse::<u64>()
        {
            return Ok(v);
        }
        Err(CronError::new(format!(
            "invalid random range {what}: {text}"
        )))
    };
    let min = if start.is_empty() {
        u64::from(bounds.min)
    } else {
        parse(start, "start")?
    };
    let max = if end.is_empty() {
        u64::from(bounds.max)
    } else {
        parse(end, "end")?
    };
    if min < u64::from(bounds.min) {
        return Err(CronError::new(format!(
            "random range start ({min}) below minimum ({}): {field}",
            bounds.min
        )));
    }
    if max > u64::from(bounds.max) {
        return Err(CronError::new(format!(
            "random range end ({max}) above maximum ({}): {field}",
            bounds.max
        )));
    }
    if min > max {
        return Err(CronError::new(format!(
            "random range start ({min}) beyond end ({max}): {field}"
        )));
    }
    let span = max - min + 1;
    let mut bytes = [0u8; 8];
    // Jitter, not a secret: a failing random source falls back to the start of the range.
    let random = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => 0,
    };
    Ok((min + random % span) as u32)
}

/// robfig's `Parser.Parse` with `SecondOptional | ... | Descriptor`.
fn parse_robfig(spec: &str, default_zone: Zone) -> Result<Kind, CronError> {
    let (zone, spec) = match split_zone(spec)? {
        Some((name, rest)) => (load_zone(name)?, rest),
        None => (default_zone, spec),
    };
    if spec.starts_with('@') {
        return parse_descriptor(spec, zone);
    }
    let mut fields: Vec<&str> = spec.split_whitespace().collect();
    match fields.len() {
        5 => fields.insert(0, "0"),
        6 => {}
        n => {
            return Err(CronError::new(format!(
                "expected 5 to 6 fields, found {n}: [{}]",
                fields.join(" ")
            )));
        }
    }
    let mut bits = [0u64; 6];
    for ((slot, field), bounds) in bits.iter_mut().zip(&fields).zip(FIELD_BOUNDS) {
        *slot = get_field(field, bounds)?;
    }
    let [second, minute, hour, dom, month, dow] = bits;
    Ok(Kind::Spec(Spec {
        second,
        minute,
        hour,
        dom,
        month,
        dow,
        zone,
    }))
}

/// Go's `time.LoadLocation`, with its error text.
fn load_zone(name: &str) -> Result<Zone, CronError> {
    match name {
        "" | "UTC" => Ok(Zone::Named(Tz::UTC)),
        "Local" => Ok(Zone::Local),
        _ => name.parse::<Tz>().map(Zone::Named).map_err(|_| {
            CronError::new(format!(
                "provided bad location {name}: unknown time zone {name}"
            ))
        }),
    }
}

fn all(bounds: Bounds) -> u64 {
    bits(bounds.min, bounds.max, 1) | STAR
}

fn bits(min: u32, max: u32, step: u32) -> u64 {
    if step == 1 {
        // Every bit from min to max.
        return (!(u64::MAX << (max + 1))) & (u64::MAX << min);
    }
    (min..=max)
        .step_by(step as usize)
        .fold(0, |acc, i| acc | 1 << i)
}

fn parse_descriptor(descriptor: &str, zone: Zone) -> Result<Kind, CronError> {
    let one = |b: Bounds| 1u64 << b.min;
    let spec = |hour, dom, month, dow| {
        Kind::Spec(Spec {
            second: one(SECONDS),
            minute: one(MINUTES),
            hour,
            dom,
            month,
            dow,
            zone,
        })
    };
    Ok(match descriptor {
        "@yearly" | "@annually" => spec(one(HOURS), one(DOM), one(MONTHS), all(DOW)),
        "@monthly" => spec(one(HOURS), one(DOM), all(MONTHS), all(DOW)),
        "@weekly" => spec(one(HOURS), all(DOM), all(MONTHS), one(DOW)),
        "@daily" | "@midnight" => spec(one(HOURS), all(DOM), all(MONTHS), all(DOW)),
        "@hourly" => spec(all(HOURS), all(DOM), all(MONTHS), all(DOW)),
        _ => {
            let Some(duration) = descriptor.strip_prefix("@every ") else {
                return Err(CronError::new(format!(
                    "unrecognized descriptor: {descriptor}"
                )));
            };
            let nanos = parse_go_duration(duration).map_err(|e| {
                CronError::new(format!("failed to parse duration {descriptor}: {e}"))
            })?;
            // robfig's `Every`: at least one second, rounded down to whole seconds.
            let secs = (nanos / 1_000_000_000).max(1);
            Kind::Every(Duration::from_secs(secs as u64))
        }
    })
}

/// robfig's `getField`: a comma-separated list of ranges (empty items are skipped).
fn get_field(field: &str, bounds: Bounds) -> Result<u64, CronError> {
    field
        .split(',')
        .filter(|part| !part.is_empty())
        .try_fold(0, |acc, part| Ok(acc | get_range(part, bounds)?))
}

/// robfig's `getRange`: `*`, `?`, `n`, `a-b`, each with an optional `/step`.
fn get_range(expr: &str, bounds: Bounds) -> Result<u64, CronError> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end, mut extra);
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        start = u64::from(bounds.min);
        end = u64::from(bounds.max);
        extra = STAR;
    } else {
        start = parse_int_or_name(low_and_high[0], bounds)?;
        end = match low_and_high.len() {
            1 => start,
            2 => parse_int_or_name(low_and_high[1], bounds)?,
            _ => return Err(CronError::new(format!("too many hyphens: {expr}"))),
        };
        extra = 0;
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            // "n/step" means "n-max/step".
            if single {
                end = u64::from(bounds.max);
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(CronError::new(format!("too many slashes: {expr}"))),
    };
    if start < u64::from(bounds.min) {
        return Err(CronError::new(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        )));
    }
    if end > u64::from(bounds.max) {
        return Err(CronError::new(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            bounds.max
        )));
    }
    if start > end {
        return Err(CronError::new(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        )));
    }
    if step == 0 {
        return Err(CronError::new(format!(
            "step of range should be a positive number: {expr}"
        )));
    }
    // In range now: every value fits a bit of a u64.
    Ok(bits(start as u32, end as u32, step.min(64) as u32) | extra)
}

fn parse_int_or_name(expr: &str, bounds: Bounds) -> Result<u64, CronError> {
    let lower = expr.to_ascii_lowercase();
    if let Some(i) = bounds.names.iter().position(|n| *n == lower) {
        // Months are numbered from 1, days of the week from 0.
        return Ok(i as u64 + u64::from(bounds.min));
    }
    must_parse_int(expr)
}

/// robfig's `mustParseInt` over Go's `strconv.Atoi`, with their messages.
fn must_parse_int(expr: &str) -> Result<u64, CronError> {
    let digits = expr.strip_prefix(['+', '-']).unwrap_or(expr);
    let syntax_ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if !syntax_ok {
        return Err(CronError::new(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing {}: invalid syntax",
            go_quote(expr)
        )));
    }
    let Ok(n) = expr.parse::<i64>() else {
        return Err(CronError::new(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing {}: value out of range",
            go_quote(expr)
        )));
    };
    if n < 0 {
        return Err(CronError::new(format!(
            "negative number ({n}) not allowed: {expr}"
        )));
    }
    Ok(n as u64)
}

/// Hours that a wall-clock time can be ahead of or behind where the offset before a
/// transition would put it (the largest DST shift in use is 2 h; 3 h leaves a margin).
const FOLD: chrono::Duration = chrono::Duration::hours(3);

/// Upper bound of wall-clock candidates one lookup examines before giving up.
const MAX_CANDIDATES: usize = 100_000;

impl Spec {
    fn day_matches(&self, date: NaiveDate) -> bool {
        let dom = self.dom & (1 << date.day()) != 0;
        let dow = self.dow & (1 << date.weekday().num_days_from_sunday()) != 0;
        if self.dom & STAR != 0 || self.dow & STAR != 0 {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first matching wall-clock time strictly after `after` (whole seconds), searching
    /// up to five years ahead.
    fn next_local(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut t = after.with_nanosecond(0)? + chrono::Duration::seconds(1);
        let year_limit = t.year() + 5;
        loop {
            if t.year() > year_limit {
                return None;
            }
            if self.month & (1 << t.month()) == 0 {
                let (y, m) = if t.month() == 12 {
                    (t.year() + 1, 1)
                } else {
                    (t.year(), t.month() + 1)
                };
                t = NaiveDate::from_ymd_opt(y, m, 1)?.and_hms_opt(0, 0, 0)?;
                continue;
            }
            if !self.day_matches(t.date()) {
                t = t.date().succ_opt()?.and_hms_opt(0, 0, 0)?;
                continue;
            }
            if self.hour & (1 << t.hour()) == 0 {
                t = t.date().and_hms_opt(t.hour(), 0, 0)? + chrono::Duration::hours(1);
                continue;
            }
            if self.minute & (1 << t.minute()) == 0 {
                t = t.date().and_hms_opt(t.hour(), t.minute(), 0)? + chrono::Duration::minutes(1);
                continue;
            }
            if self.second & (1 << t.second()) == 0 {
                t += chrono::Duration::seconds(1);
                continue;
            }
            return Some(t);
        }
    }

    fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let zone = self.zone;
        let offset = zone.offset_secs(t);
        // A transition just ahead (a fold) can make earlier wall-clock times come later.
        let near_transition = zone.offset_secs(t + FOLD) != offset;
        let local = zone.to_local(t).with_nanosecond(0)?;
        let mut cursor = if near_transition { local - FOLD } else { local };
        let mut best: Option<DateTime<Utc>> = None;
        let mut scan_until: Option<NaiveDateTime> = None;
        for _ in 0..MAX_CANDIDATES {
            let Some(candidate) = self.next_local(cursor) else {
                return best;
            };
            if scan_until.is_some_and(|limit| candidate > limit) {
                return best;
            }
            cursor = candidate;
            for instant in zone.instants(candidate).into_iter().flatten() {
                if instant > t && best.is_none_or(|b| instant < b) {
                    best = Some(instant);
                }
            }
            if let Some(found) = best
                && scan_until.is_none()
            {
                if !near_transition && zone.offset_secs(found) == offset {
                    // One offset throughout: wall-clock order is instant order.
                    return best;
                }
                // Across a transition, later wall-clock times may come earlier.
                scan_until = Some(candidate + FOLD);
            }
        }
        best
    }
}
