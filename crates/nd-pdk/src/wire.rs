//! Go `encoding/json` wire rules as serde helpers (spec §2.4): `null` reads as the zero value,
//! `omitempty` zero tests, and `[]byte` as standard base64 with padding.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serializer};

/// `null` reads as the type's default (Go decodes `null` into a zero value).
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

pub(crate) fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}
pub(crate) fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}
pub(crate) fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}
pub(crate) fn is_zero_f32(v: &f32) -> bool {
    *v == 0.0
}
pub(crate) fn is_false(v: &bool) -> bool {
    !*v
}

/// Standard base64 with padding, as Go writes `[]byte`.
pub(crate) fn encode_bytes(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes Go's `[]byte` text. Go's decoder also accepts unpadded input and ignores `\r`
/// and `\n`; so does this.
pub(crate) fn decode_bytes(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let cleaned: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    let trimmed = cleaned.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed)
}

/// `#[serde(with = "b64")]` for `Vec<u8>`: base64 text both ways, `null` reads as empty.
pub(crate) mod b64 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode_bytes(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(Vec::new()),
            Some(text) => decode_bytes(&text).map_err(serde::de::Error::custom),
        }
    }
}

/// `#[serde(with = "b64_map")]` for `BTreeMap<String, Vec<u8>>`: Go's `map[string][]byte`,
/// each value base64. This is where Navidrome's own Rust PDK decodes `kvstore_getmany`
/// wrongly (spec §2.4); this one reads what Go writes.
pub(crate) mod b64_map {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
        let raw = Option::<BTreeMap<String, Option<String>>>::deserialize(d)?.unwrap_or_default();
        raw.into_iter()
            .map(|(key, value)| {
                let bytes = match value {
                    None => Vec::new(),
                    Some(text) => decode_bytes(&text)
                        .map_err(|e| serde::de::Error::custom(format!("value of {key:?}: {e}")))?,
                };
                Ok((key, bytes))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_like_go() {
        assert_eq!(encode_bytes(b"hi"), "aGk=");
        assert_eq!(decode_bytes("aGk=").unwrap(), b"hi");
        assert_eq!(decode_bytes("aGk").unwrap(), b"hi");
        assert_eq!(decode_bytes("aG\r\nk=").unwrap(), b"hi");
        assert_eq!(decode_bytes("").unwrap(), b"");
        assert!(decode_bytes("!!").is_err());
    }
}
