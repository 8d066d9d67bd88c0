//! Public artwork URLs: `<base_url>/share/img/<JWT>[?size=N]`, where the JWT is an HS256
//! token carrying `{"id": "<kind>-<id>_0", "iss": "ND"}` like Navidrome's
//! `public.EncodeArtworkID` (the `_0` is `model.ArtworkID.String()` with no last-update time).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use nd_host_appdata::provider::ArtworkKind;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::time::now_unix;

/// Navidrome's JWT issuer (`consts.JWTIssuer`).
const ISSUER: &str = "ND";

/// The `alg: HS256, typ: JWT` header, pre-encoded.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Navidrome's artwork kind prefix (`model.Kind*Artwork`).
pub(crate) fn kind_prefix(kind: ArtworkKind) -> &'static str {
    match kind {
        ArtworkKind::Artist => "ar",
        ArtworkKind::Album => "al",
        ArtworkKind::Track => "mf",
        ArtworkKind::Playlist => "pl",
    }
}

fn kind_of_prefix(prefix: &str) -> Option<ArtworkKind> {
    Some(match prefix {
        "ar" => ArtworkKind::Artist,
        "al" => ArtworkKind::Album,
        "mf" => ArtworkKind::Track,
        "pl" => ArtworkKind::Playlist,
        _ => return None,
    })
}

/// `model.ArtworkID.String()`: `""` for an empty id, else `<prefix>-<id>_0`.
pub(crate) fn artwork_id(kind: ArtworkKind, id: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        format!("{}-{id}_0", kind_prefix(kind))
    }
}

/// Splits an artwork id claim back into kind and entity id (`_<hex time>` dropped).
pub(crate) fn parse_artwork_id(claim: &str) -> Option<(ArtworkKind, String)> {
    let (prefix, rest) = claim.split_once('-')?;
    let kind = kind_of_prefix(prefix)?;
    let id = match rest.rsplit_once('_') {
        Some((id, time)) if time.chars().all(|c| c.is_ascii_hexdigit()) => id,
        _ => rest,
    };
    Some((kind, id.to_owned()))
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts a key of any length; new_from_slice cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    }
}

/// Signs `{"id": claim, "iss": "ND"}`.
pub(crate) fn sign(secret: &[u8], claim: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(HEADER);
    let payload = URL_SAFE_NO_PAD.encode(json!({"id": claim, "iss": ISSUER}).to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = mac(secret);
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// The `id` claim of a token this key signed, when the signature holds, the algorithm is
/// HS256 and it has not expired (`exp`, when present).
pub(crate) fn verify(secret: &[u8], token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut mac = mac(secret);
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature).ok()?;

    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "HS256" {
        return None;
    }
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    if let Some(exp) = claims.get("exp")
        && exp.as_i64().is_none_or(|exp| exp < now_unix())
    {
        return None;
    }
    claims.get("id")?.as_str().map(str::to_owned)
}

/// The full public URL.
pub(crate) fn url(base_url: &str, secret: &[u8], kind: ArtworkKind, id: &str, size: i32) -> String {
    let token = sign(secret, &artwork_id(kind, id));
    let base = base_url.trim_end_matches('/');
    if size > 0 {
        format!("{base}/share/img/{token}?size={size}")
    } else {
        format!("{base}/share/img/{token}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_and_rejects_tampering() {
        let token = sign(b"k", "al-123_0");
        assert_eq!(verify(b"k", &token).as_deref(), Some("al-123_0"));
        assert_eq!(verify(b"other", &token), None);
        let forged = {
            let mut parts: Vec<&str> = token.split('.').collect();
            let payload = URL_SAFE_NO_PAD.encode(r#"{"id":"al-999_0","iss":"ND"}"#);
            parts[1] = &payload;
            parts.join(".")
        };
        assert_eq!(verify(b"k", &forged), None);
        assert_eq!(verify(b"k", "not-a-token"), None);
    }

    #[test]
    fn expired_tokens_fail() {
        let header = URL_SAFE_NO_PAD.encode(HEADER);
        let payload = URL_SAFE_NO_PAD.encode(r#"{"id":"ar-1_0","exp":1}"#);
        let mut m = mac(b"k");
        m.update(format!("{header}.{payload}").as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
        assert_eq!(verify(b"k", &format!("{header}.{payload}.{sig}")), None);
    }

    #[test]
    fn artwork_ids_follow_navidrome() {
        assert_eq!(artwork_id(ArtworkKind::Album, "abc"), "al-abc_0");
        assert_eq!(artwork_id(ArtworkKind::Track, ""), "");
        assert_eq!(
            parse_artwork_id("mf-abc_0"),
            Some((ArtworkKind::Track, "abc".to_owned()))
        );
        assert_eq!(
            parse_artwork_id("pl-x_6123abcd"),
            Some((ArtworkKind::Playlist, "x".to_owned()))
        );
        assert_eq!(parse_artwork_id("zz-abc"), None);
    }
}
