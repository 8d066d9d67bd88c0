//! Unit tests of the admin token file.

use super::*;

#[test]
fn the_token_is_created_private_once_and_reused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (first, created) = stored_token(dir.path()).expect("token");
    assert!(created);
    assert_eq!(first.len(), 64);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()), "{first}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(TOKEN_FILE))
            .expect("token file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let (again, created) = stored_token(dir.path()).expect("token");
    assert!(!created);
    assert_eq!(again, first);

    // An empty file gets a new token.
    std::fs::write(dir.path().join(TOKEN_FILE), "\n").expect("write");
    let (fresh, created) = stored_token(dir.path()).expect("token");
    assert!(created);
    assert_ne!(fresh, first);
}
