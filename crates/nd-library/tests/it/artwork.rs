//! ArtworkProvider: URL shape, signed tokens, tampering.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nd_host_appdata::provider::{ArtworkKind, ArtworkProvider};
use nd_library::{ArtworkConfig, LibraryConfig, MusicLibrary};

use crate::demo;

fn token_of(url: &str) -> &str {
    let rest = url.split("/share/img/").nth(1).unwrap();
    rest.split('?').next().unwrap()
}

#[test]
fn urls_carry_a_navidrome_style_signed_token() {
    let d = demo();
    let album = &d.library.albums()[0];
    let url = d
        .library
        .artwork_url(ArtworkKind::Album, &album.id, 300)
        .unwrap();
    assert!(url.starts_with("http://localhost/share/img/"), "{url}");
    assert!(url.ends_with("?size=300"), "{url}");
    let token = token_of(&url);
    assert_eq!(
        d.library.verify_artwork_token(token),
        Some(format!("al-{}_0", album.id))
    );
    assert_eq!(
        d.library.decode_artwork_token(token),
        Some((ArtworkKind::Album, album.id.clone()))
    );
    // The JWT: HS256 header, {"id", "iss": "ND"} claims.
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(
        claims,
        serde_json::json!({"id": format!("al-{}_0", album.id), "iss": "ND"})
    );

    for (kind, prefix) in [
        (ArtworkKind::Artist, "ar"),
        (ArtworkKind::Track, "mf"),
        (ArtworkKind::Playlist, "pl"),
    ] {
        let url = d.library.artwork_url(kind, "x1", 0).unwrap();
        assert!(!url.contains('?'), "size 0 means original: {url}");
        assert_eq!(
            d.library.verify_artwork_token(token_of(&url)),
            Some(format!("{prefix}-x1_0"))
        );
    }
    // The demo's fixed secret makes URLs the same on every run.
    let again = MusicLibrary::open(d.demo.config()).unwrap();
    assert_eq!(
        again
            .artwork_url(ArtworkKind::Album, &album.id, 300)
            .unwrap(),
        d.library
            .artwork_url(ArtworkKind::Album, &album.id, 300)
            .unwrap()
    );
}

#[test]
fn tampered_or_foreign_tokens_fail() {
    let d = demo();
    let url = d.library.artwork_url(ArtworkKind::Track, "abc", 0).unwrap();
    let token = token_of(&url).to_owned();

    // Another claim under the same signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(r#"{"id":"mf-other_0","iss":"ND"}"#);
    assert_eq!(d.library.verify_artwork_token(&parts.join(".")), None);

    // A flipped signature character.
    let mut bytes = token.clone().into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        d.library
            .verify_artwork_token(&String::from_utf8(bytes).unwrap()),
        None
    );

    // A library with another key.
    let other = MusicLibrary::open(LibraryConfig {
        artwork: ArtworkConfig {
            base_url: "https://music.example.com/nd/".into(),
            secret: b"another key".to_vec(),
        },
        ..d.demo.config()
    })
    .unwrap();
    assert_eq!(other.verify_artwork_token(&token), None);
    let theirs = other.artwork_url(ArtworkKind::Artist, "a", 64).unwrap();
    assert!(
        theirs.starts_with("https://music.example.com/nd/share/img/"),
        "{theirs}"
    );
    assert_eq!(d.library.verify_artwork_token(token_of(&theirs)), None);

    // Garbage.
    for junk in ["", "a.b", "a.b.c", "...", "a.b.c.d"] {
        assert_eq!(d.library.verify_artwork_token(junk), None, "{junk:?}");
    }
}

#[test]
fn without_a_secret_each_open_draws_a_random_key() {
    let d = demo();
    let config = LibraryConfig {
        artwork: ArtworkConfig::default(),
        ..d.demo.config()
    };
    let a = MusicLibrary::open(config.clone()).unwrap();
    let b = MusicLibrary::open(config).unwrap();
    let url = a.artwork_url(ArtworkKind::Album, "x", 0).unwrap();
    assert!(a.verify_artwork_token(token_of(&url)).is_some());
    assert_eq!(b.verify_artwork_token(token_of(&url)), None);
}
