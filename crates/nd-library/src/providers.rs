//! The `nd-host-appdata` provider traits, implemented on [`MusicLibrary`].

use nd_capabilities::types::{SongRef, Track};
use nd_host_appdata::provider::{
    ArtworkKind, ArtworkProvider, LibraryInfo, LibraryProvider, MatchProvider, MatchQuery,
    ProviderError, ScrobbleEntry, ScrobbleProvider, ScrobbleQuery, SubsonicProvider,
    SubsonicRequest, SubsonicResponse, UserInfo, UserProvider,
};

use crate::{MusicLibrary, matcher, subsonic};

impl LibraryProvider for MusicLibrary {
    fn libraries(&self) -> Result<Vec<LibraryInfo>, ProviderError> {
        Ok(self.catalog().libraries.clone())
    }
}

impl UserProvider for MusicLibrary {
    fn users(&self) -> Result<Vec<UserInfo>, ProviderError> {
        Ok(self.all_users().to_vec())
    }
}

impl ArtworkProvider for MusicLibrary {
    /// Any id gets a URL, as in Navidrome (the image endpoint, not the URL, finds out
    /// whether the entity exists).
    fn artwork_url(&self, kind: ArtworkKind, id: &str, size: i32) -> Result<String, ProviderError> {
        Ok(self.artwork_url_of(kind, id, size))
    }
}

impl MatchProvider for MusicLibrary {
    fn match_songs(
        &self,
        songs: &[SongRef],
        query: &MatchQuery,
    ) -> Result<Vec<Option<Track>>, ProviderError> {
        Ok(matcher::match_songs(self, songs, query))
    }
}

/// Histories are keyed by [`UserInfo::id`]; an id this library does not know simply has
/// no scrobbles.
impl ScrobbleProvider for MusicLibrary {
    fn first_timestamp(&self, user: &UserInfo) -> Result<Option<i64>, ProviderError> {
        Ok(self.scrobbles().read().first(&user.id))
    }

    fn last_timestamp(&self, user: &UserInfo) -> Result<Option<i64>, ProviderError> {
        Ok(self.scrobbles().read().last(&user.id))
    }

    fn scrobbles(
        &self,
        user: &UserInfo,
        query: &ScrobbleQuery,
    ) -> Result<Vec<ScrobbleEntry>, ProviderError> {
        Ok(self.scrobbles().read().query(&user.id, query))
    }

    fn count(
        &self,
        user: &UserInfo,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<i64, ProviderError> {
        Ok(self.scrobbles().read().count(&user.id, from, to))
    }
}

impl SubsonicProvider for MusicLibrary {
    fn call(&self, request: &SubsonicRequest) -> Result<SubsonicResponse, ProviderError> {
        Ok(subsonic::call(self, request))
    }
}
