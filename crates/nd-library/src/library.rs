//! [`MusicLibrary`]: the shared handle over the scanned catalog, the users, their
//! annotations and scrobble history.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use nd_capabilities::types::Track;
use nd_host_appdata::provider::{ArtworkKind, UserInfo};
use parking_lot::{Mutex, RwLock};

use crate::catalog::{AlbumInfo, ArtistInfo, Catalog};
use crate::scrobble::ScrobbleStore;
use crate::{Annotation, LibraryConfig, LibraryError, LibraryRoot, ScanReport, artwork, scan};

/// A scanned music library. Cheap to clone (an `Arc`), safe to share between threads: every
/// provider trait of `nd-host-appdata` is implemented on it, so one handle can back all the
/// app-data host services of every plugin.
#[derive(Clone)]
pub struct MusicLibrary {
    inner: Arc<Inner>,
}

struct Inner {
    roots: Vec<LibraryRoot>,
    users: Vec<UserInfo>,
    artwork_base_url: String,
    artwork_secret: Vec<u8>,
    catalog: RwLock<Arc<Catalog>>,
    /// (user id, media file id) → annotation.
    annotations: RwLock<HashMap<(String, String), Annotation>>,
    scrobbles: RwLock<ScrobbleStore>,
    rng: Mutex<u64>,
    rescan: Mutex<()>,
}

impl std::fmt::Debug for MusicLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let catalog = self.catalog();
        f.debug_struct("MusicLibrary")
            .field("roots", &self.inner.roots)
            .field("users", &self.inner.users.len())
            .field("tracks", &catalog.files.len())
            .field("albums", &catalog.albums.len())
            .field("artists", &catalog.artists.len())
            .finish_non_exhaustive()
    }
}

fn validate(config: &LibraryConfig) -> Result<(), LibraryError> {
    let invalid = |m: String| Err(LibraryError::InvalidConfig(m));
    let mut ids = HashSet::new();
    for root in &config.roots {
        if root.id == 0 {
            return invalid(format!("library {:?} has id 0", root.name));
        }
        if !ids.insert(root.id) {
            return invalid(format!("library id {} is used twice", root.id));
        }
    }
    match url::Url::parse(&config.artwork.base_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
        _ => {
            return invalid(format!(
                "artwork base URL {:?} is not an http(s) URL",
                config.artwork.base_url
            ));
        }
    }
    let mut user_ids = HashSet::new();
    let mut names = HashSet::new();
    for user in &config.users {
        if user.id.is_empty() || user.user_name.is_empty() {
            return invalid(format!(
                "user {:?} needs both an id and a user name",
                user.user_name
            ));
        }
        if !user_ids.insert(user.id.as_str()) {
            return invalid(format!("user id {:?} is used twice", user.id));
        }
        if !names.insert(user.user_name.to_lowercase()) {
            return invalid(format!("user name {:?} is used twice", user.user_name));
        }
    }
    Ok(())
}

fn random_bytes<const N: usize>() -> Result<[u8; N], LibraryError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| LibraryError::InvalidConfig(format!("no random bytes available: {e}")))?;
    Ok(bytes)
}

impl MusicLibrary {
    /// Validates the configuration, scans every root and loads the scrobble log.
    ///
    /// Fails when the configuration is inconsistent (duplicate or zero library ids, duplicate
    /// users, an annotation for an unknown user, an artwork base URL that is not http(s)), a
    /// root cannot be read, or the scrobble log
    /// exists but cannot be read. Audio files that cannot be parsed are skipped and listed
    /// in [`MusicLibrary::last_scan`].
    pub fn open(config: LibraryConfig) -> Result<Self, LibraryError> {
        validate(&config)?;
        let secret = if config.artwork.secret.is_empty() {
            random_bytes::<32>()?.to_vec()
        } else {
            config.artwork.secret.clone()
        };
        let catalog = scan::scan(&config.roots)?;
        let scrobbles = ScrobbleStore::open(config.scrobble_log.as_deref())?;
        let seed = u64::from_le_bytes(random_bytes::<8>()?) | 1;
        let library = MusicLibrary {
            inner: Arc::new(Inner {
                roots: config.roots,
                users: config.users,
                artwork_base_url: config.artwork.base_url,
                artwork_secret: secret,
                catalog: RwLock::new(Arc::new(catalog)),
                annotations: RwLock::new(HashMap::new()),
                scrobbles: RwLock::new(scrobbles),
                rng: Mutex::new(seed),
                rescan: Mutex::new(()),
            }),
        };
        {
            let mut annotations = library.inner.annotations.write();
            for a in config.annotations {
                let user = library.find_user(&a.user).ok_or_else(|| {
                    LibraryError::InvalidConfig(format!("annotation for unknown user {:?}", a.user))
                })?;
                annotations.insert((user.id.clone(), a.media_file_id), a.annotation);
            }
        }
        Ok(library)
    }

    /// Scans every root again and swaps the new catalog in; readers keep the old one until
    /// they finish. Ids of unchanged files stay the same. On error the old catalog stays.
    pub fn rescan(&self) -> Result<ScanReport, LibraryError> {
        let _one_at_a_time = self.inner.rescan.lock();
        let catalog = scan::scan(&self.inner.roots)?;
        let report = catalog.report.clone();
        *self.inner.catalog.write() = Arc::new(catalog);
        Ok(report)
    }

    /// What the last scan found, including the files it skipped.
    pub fn last_scan(&self) -> ScanReport {
        self.catalog().report.clone()
    }

    pub(crate) fn catalog(&self) -> Arc<Catalog> {
        self.inner.catalog.read().clone()
    }

    pub(crate) fn roots(&self) -> &[LibraryRoot] {
        &self.inner.roots
    }

    pub(crate) fn all_users(&self) -> &[UserInfo] {
        &self.inner.users
    }

    /// Every track, ordered by library and path, without per-user annotations.
    pub fn tracks(&self) -> Vec<Track> {
        let catalog = self.catalog();
        catalog
            .files
            .iter()
            .map(|f| {
                let mut t = f.track.clone();
                self.annotate(&mut t, None);
                t
            })
            .collect()
    }

    /// One track by id, without per-user annotations.
    pub fn track(&self, id: &str) -> Option<Track> {
        let mut t = self.catalog().file(id)?.track.clone();
        self.annotate(&mut t, None);
        Some(t)
    }

    /// The file of a track on the host.
    pub fn track_file(&self, id: &str) -> Option<PathBuf> {
        Some(self.catalog().file(id)?.abs_path.clone())
    }

    /// Every album, ordered by album artist and name.
    pub fn albums(&self) -> Vec<AlbumInfo> {
        self.catalog().albums.clone()
    }

    /// Every artist, ordered by sort name.
    pub fn artists(&self) -> Vec<ArtistInfo> {
        self.catalog().artists.clone()
    }

    /// A user by id, else by user name (case-insensitively).
    pub(crate) fn find_user(&self, key: &str) -> Option<&UserInfo> {
        let users = &self.inner.users;
        users
            .iter()
            .find(|u| u.id == key)
            .or_else(|| users.iter().find(|u| u.user_name.eq_ignore_ascii_case(key)))
    }

    /// Records that `user` (id or user name) played `media_file_id` at `unix_time` (seconds)
    /// and returns the scrobble's id. The play shows in the user's history
    /// ([`ScrobbleProvider`](nd_host_appdata::provider::ScrobbleProvider)) and in their
    /// play count and play date.
    pub fn record_scrobble(
        &self,
        user: &str,
        media_file_id: &str,
        unix_time: i64,
    ) -> Result<i64, LibraryError> {
        let user = self
            .find_user(user)
            .ok_or_else(|| LibraryError::UnknownUser(user.to_owned()))?;
        if self.catalog().file(media_file_id).is_none() {
            return Err(LibraryError::UnknownMediaFile(media_file_id.to_owned()));
        }
        self.inner
            .scrobbles
            .write()
            .record(&user.id, media_file_id, unix_time)
    }

    /// Sets `user`'s (id or user name) star and rating of a track, replacing what was there.
    /// `play_count` and `play_date` count the plays from before the scrobble history.
    pub fn set_annotation(
        &self,
        user: &str,
        media_file_id: &str,
        annotation: Annotation,
    ) -> Result<(), LibraryError> {
        let user = self
            .find_user(user)
            .ok_or_else(|| LibraryError::UnknownUser(user.to_owned()))?;
        if self.catalog().file(media_file_id).is_none() {
            return Err(LibraryError::UnknownMediaFile(media_file_id.to_owned()));
        }
        self.inner
            .annotations
            .write()
            .insert((user.id.clone(), media_file_id.to_owned()), annotation);
        Ok(())
    }

    /// `user`'s (id or user name) effective annotation of a track: the stored one with the
    /// recorded scrobbles added to its play count and date. `None` for an unknown user.
    pub fn annotation(&self, user: &str, media_file_id: &str) -> Option<Annotation> {
        let user = self.find_user(user)?;
        Some(self.annotation_of(&user.id, media_file_id))
    }

    pub(crate) fn annotation_of(&self, user_id: &str, media_file_id: &str) -> Annotation {
        let mut a = self
            .inner
            .annotations
            .read()
            .get(&(user_id.to_owned(), media_file_id.to_owned()))
            .cloned()
            .unwrap_or_default();
        let (count, last) = self.inner.scrobbles.read().plays(user_id, media_file_id);
        a.play_count += count;
        a.play_date = match (a.play_date, last) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        a
    }

    /// Mean of every user's non-zero rating of the track; 0 when unrated.
    fn average_rating(&self, media_file_id: &str) -> f64 {
        let annotations = self.inner.annotations.read();
        let ratings: Vec<i32> = annotations
            .iter()
            .filter(|((_, mf), a)| mf == media_file_id && a.rating > 0)
            .map(|(_, a)| a.rating)
            .collect();
        if ratings.is_empty() {
            0.0
        } else {
            f64::from(ratings.iter().sum::<i32>()) / ratings.len() as f64
        }
    }

    /// Fills the average rating and, for a user, their star, rating and plays.
    pub(crate) fn annotate(&self, track: &mut Track, user_id: Option<&str>) {
        track.average_rating = self.average_rating(&track.id);
        if let Some(user_id) = user_id {
            let a = self.annotation_of(user_id, &track.id);
            track.starred = a.starred;
            track.starred_at = if a.starred { a.starred_at } else { None };
            track.rating = a.rating;
            track.play_count = a.play_count;
            track.play_date = a.play_date;
        }
    }

    pub(crate) fn scrobbles(&self) -> &RwLock<ScrobbleStore> {
        &self.inner.scrobbles
    }

    /// The public URL of an entity's artwork (what `artwork_get*url` returns).
    pub(crate) fn artwork_url_of(&self, kind: ArtworkKind, id: &str, size: i32) -> String {
        artwork::url(
            &self.inner.artwork_base_url,
            &self.inner.artwork_secret,
            kind,
            id,
            size,
        )
    }

    /// The artwork id claim (`al-<id>_0`, `mf-<id>_0`, ...) of a `/share/img/<token>` token
    /// this library signed, or `None` when the signature does not hold or it has expired.
    pub fn verify_artwork_token(&self, token: &str) -> Option<String> {
        artwork::verify(&self.inner.artwork_secret, token)
    }

    /// [`MusicLibrary::verify_artwork_token`], split into the kind and the entity id.
    pub fn decode_artwork_token(&self, token: &str) -> Option<(ArtworkKind, String)> {
        artwork::parse_artwork_id(&self.verify_artwork_token(token)?)
    }

    /// A pseudo-random number (xorshift64*, seeded from the OS) for random lists.
    pub(crate) fn random(&self) -> u64 {
        let mut state = self.inner.rng.lock();
        let mut x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
