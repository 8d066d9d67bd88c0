//! The artwork service (spec §3.11, permission `artwork`): `artwork_getartisturl`,
//! `artwork_getalbumurl`, `artwork_gettrackurl` and `artwork_getplaylisturl`, each
//! `{id, size}` → `{url?, error?}`. Building the URL (Navidrome signs a public JWT for
//! `<base>/share/img/<token>[?size=N]`) is the [`ArtworkProvider`]'s job; a provider error
//! reaches the plugin as `error`.

use std::fmt;
use std::sync::Arc;

use nd_runtime::{GoRequest, HostImports, HostService, RegisterError, json_response};
use serde_json::json;

use crate::provider::{ArtworkKind, ArtworkProvider};
use crate::wire::guest;

/// The four functions: name, kind, Go request type.
const FUNCTIONS: [(&str, ArtworkKind, &str); 4] = [
    (
        "artwork_getartisturl",
        ArtworkKind::Artist,
        "ArtworkGetArtistUrlRequest",
    ),
    (
        "artwork_getalbumurl",
        ArtworkKind::Album,
        "ArtworkGetAlbumUrlRequest",
    ),
    (
        "artwork_gettrackurl",
        ArtworkKind::Track,
        "ArtworkGetTrackUrlRequest",
    ),
    (
        "artwork_getplaylisturl",
        ArtworkKind::Playlist,
        "ArtworkGetPlaylistUrlRequest",
    ),
];

/// Navidrome's `artwork` host service; see the [module docs](self).
pub struct ArtworkService {
    provider: Arc<dyn ArtworkProvider>,
}

impl fmt::Debug for ArtworkService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArtworkService").finish_non_exhaustive()
    }
}

impl ArtworkService {
    /// The service over `provider`'s URLs.
    pub fn new(provider: Arc<dyn ArtworkProvider>) -> Self {
        Self { provider }
    }
}

impl HostService for ArtworkService {
    fn name(&self) -> &'static str {
        "artwork"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        for (name, kind, go_type) in FUNCTIONS {
            let provider = Arc::clone(&self.provider);
            imports.json(name, move |_, req| {
                let req = GoRequest::parse(&req, go_type)?;
                let id = req.string("id")?;
                let size = req.int32("size")?;
                let url = provider.artwork_url(kind, &id, size).map_err(guest)?;
                Ok(json_response(json!({ "url": url })))
            });
        }
        Ok(())
    }
}
