//! Byte sizes as Navidrome writes them (`kvstore.maxSize: "1MB"`), parsed with the same
//! rules as go-humanize's `ParseBytes`: SI units are powers of 1000, IEC units (`KiB`)
//! powers of 1024, units are case-insensitive, and a bare number is bytes.

use crate::Error;

/// `(unit, multiplier)`, lowercase, as in go-humanize's `bytesSizeTable`.
const UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("b", 1),
    ("k", 1_000),
    ("kb", 1_000),
    ("ki", 1 << 10),
    ("kib", 1 << 10),
    ("m", 1_000_000),
    ("mb", 1_000_000),
    ("mi", 1 << 20),
    ("mib", 1 << 20),
    ("g", 1_000_000_000),
    ("gb", 1_000_000_000),
    ("gi", 1 << 30),
    ("gib", 1 << 30),
    ("t", 1_000_000_000_000),
    ("tb", 1_000_000_000_000),
    ("ti", 1 << 40),
    ("tib", 1 << 40),
    ("p", 1_000_000_000_000_000),
    ("pb", 1_000_000_000_000_000),
    ("pi", 1 << 50),
    ("pib", 1 << 50),
    ("e", 1_000_000_000_000_000_000),
    ("eb", 1_000_000_000_000_000_000),
    ("ei", 1 << 60),
    ("eib", 1 << 60),
];

/// Units tried by [`format_size`], largest first; each entry is `(suffix, multiplier)`.
const FORMAT_UNITS: &[(&str, u64)] = &[
    ("EiB", 1 << 60),
    ("EB", 1_000_000_000_000_000_000),
    ("PiB", 1 << 50),
    ("PB", 1_000_000_000_000_000),
    ("TiB", 1 << 40),
    ("TB", 1_000_000_000_000),
    ("GiB", 1 << 30),
    ("GB", 1_000_000_000),
    ("MiB", 1 << 20),
    ("MB", 1_000_000),
    ("KiB", 1 << 10),
    ("KB", 1_000),
];

/// Parses a size such as `"1MB"` (1,000,000), `"1MiB"` (1,048,576), `"1.5 GB"` or
/// `"1024"` into bytes.
///
/// Follows go-humanize's `ParseBytes`, which Navidrome uses for `kvstore.maxSize`: the
/// number may have a fraction and `,` thousands separators, optional spaces separate it
/// from the unit, the unit is case-insensitive (`B`, `K`/`KB`, `KI`/`KiB`, `M`/`MB`,
/// `MiB`, `G`/`GB`, `GiB`, `T`/`TB`, `TiB`, `P`/`PB`, `PiB`, `E`/`EB`, `EiB`), and a
/// fractional byte count is truncated. Surrounding whitespace is ignored.
///
/// # Errors
///
/// [`Error::InvalidSize`] for an empty string, a missing or malformed number (negative
/// numbers and exponents included), an unknown unit, or a value of 2^64 bytes or more.
///
/// # Examples
///
/// ```
/// use nd_manifest::parse_size;
/// assert_eq!(parse_size("1MB").unwrap(), 1_000_000);
/// assert_eq!(parse_size("1MiB").unwrap(), 1_048_576);
/// assert_eq!(parse_size("1.5 kb").unwrap(), 1_500);
/// assert!(parse_size("-1MB").is_err());
/// ```
pub fn parse_size(input: &str) -> Result<u64, Error> {
    let fail = |reason: &str| Error::InvalidSize {
        input: input.to_owned(),
        reason: reason.to_owned(),
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(fail("it is empty"));
    }
    let number_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_len);
    let number: String = number.chars().filter(|&c| c != ',').collect();
    if !number.bytes().any(|b| b.is_ascii_digit()) {
        return Err(fail("it does not start with a number"));
    }
    if number.matches('.').count() > 1 {
        return Err(fail("the number has more than one decimal point"));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| fail("the number is malformed"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let Some(&(_, multiplier)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(fail(
            "unknown unit; use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB",
        ));
    };
    // Go computes in float64 and truncates; do the same, but stay exact for whole numbers
    // whose product fits, so that "18446744073709551615" is not rounded.
    if let Some(whole) = number.parse::<u64>().ok().filter(|_| !number.contains('.')) {
        return whole
            .checked_mul(multiplier)
            .ok_or_else(|| fail("it is 2^64 bytes or more"));
    }
    let bytes = value * multiplier as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(fail("it is 2^64 bytes or more"));
    }
    // Truncation toward zero is the documented behaviour (Go's uint64(f)).
    Ok(bytes as u64)
}

/// Formats a byte count so that [`parse_size`] gives the same number back: the largest
/// unit (SI or IEC) that divides it exactly and gives the shortest number, or plain bytes.
///
/// ```
/// use nd_manifest::format_size;
/// assert_eq!(format_size(1_000_000), "1MB");
/// assert_eq!(format_size(1_048_576), "1MiB");
/// assert_eq!(format_size(10_000), "10KB");
/// assert_eq!(format_size(1_500), "1500B");
/// assert_eq!(format_size(0), "0B");
/// ```
pub fn format_size(bytes: u64) -> String {
    let best = FORMAT_UNITS
        .iter()
        .filter(|&&(_, multiplier)| bytes != 0 && bytes.is_multiple_of(multiplier))
        .min_by_key(|&&(_, multiplier)| bytes / multiplier);
    match best {
        Some(&(unit, multiplier)) => format!("{}{unit}", bytes / multiplier),
        None => format!("{bytes}B"),
    }
}

#[cfg(test)]
mod tests;
