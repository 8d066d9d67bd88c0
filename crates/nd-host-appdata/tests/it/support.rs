//! The test world: a small in-memory application implementing every provider trait (users
//! alice, bob and admin; two libraries on temporary folders with real files; two tracks;
//! scrobble histories), and the `appdata` fixture loaded with every app-data service.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use nd_capabilities::types::{SongRef, Track};
use nd_host_appdata::artwork::ArtworkService;
use nd_host_appdata::config::ConfigService;
use nd_host_appdata::library::{LibraryService, library_mounts};
use nd_host_appdata::matcher::MatcherService;
use nd_host_appdata::provider::{
    ArtworkKind, ArtworkProvider, LibraryInfo, LibraryProvider, MatchProvider, MatchQuery,
    ProviderError, Scope, ScrobbleEntry, ScrobbleProvider, ScrobbleQuery, SubsonicProvider,
    SubsonicRequest, SubsonicResponse, UserInfo, UserProvider,
};
use nd_host_appdata::scrobbles::ScrobbleRetrieverService;
use nd_host_appdata::storage::{StorageService, storage_mount};
use nd_host_appdata::subsonic::SubsonicApiService;
use nd_host_appdata::users::UsersService;
use nd_runtime::{Plugin, PluginConfig};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const FIXTURE: &str = "appdata";

/// The in-memory application. Every call a service makes is recorded.
pub struct App {
    pub libraries: Vec<LibraryInfo>,
    pub users: Vec<UserInfo>,
    pub tracks: Vec<Track>,
    /// Scrobbles by user id.
    pub scrobbles: BTreeMap<String, Vec<ScrobbleEntry>>,
    pub user_lookups: AtomicUsize,
    pub library_lookups: AtomicUsize,
    pub fail_users: AtomicBool,
    pub subsonic_calls: Mutex<Vec<SubsonicRequest>>,
    pub match_calls: Mutex<Vec<(Vec<SongRef>, MatchQuery)>>,
    pub scrobble_queries: Mutex<Vec<ScrobbleQuery>>,
}

fn user(id: &str, user_name: &str, name: &str, is_admin: bool) -> UserInfo {
    UserInfo {
        id: id.into(),
        user_name: user_name.into(),
        name: name.into(),
        is_admin,
    }
}

fn scrobble(id: i64, media_file_id: &str, submission_time: i64) -> ScrobbleEntry {
    ScrobbleEntry {
        id,
        media_file_id: media_file_id.into(),
        submission_time,
    }
}

impl App {
    fn new(lib1: &Path, lib2: &Path) -> Self {
        let library = |id: i32, name: &str, path: &Path, songs: i32, duration: f64| LibraryInfo {
            id,
            name: name.into(),
            path: path.to_owned(),
            last_scan_at: 1_700_000_000 + i64::from(id),
            total_songs: songs,
            total_albums: 1,
            total_artists: 1,
            total_size: 1000 * i64::from(songs),
            total_duration: duration,
        };
        let track = |id: &str, lib: i32, lib_name: &str, title: &str, path: &str| Track {
            id: id.into(),
            library_id: lib,
            library_name: lib_name.into(),
            path: path.into(),
            title: title.into(),
            album: "Album".into(),
            artist: "Artist".into(),
            duration: 180.0,
            average_rating: 4.5,
            starred: true,
            starred_at: Some(1_700_000_100),
            rating: 4,
            play_count: 3,
            play_date: Some(1_700_000_200),
            ..Track::default()
        };
        let mut scrobbles = BTreeMap::new();
        scrobbles.insert(
            "u-alice".to_owned(),
            vec![
                scrobble(1, "t1", 100),
                scrobble(2, "t1", 200),
                scrobble(3, "t2", 200),
                scrobble(4, "t1", 200),
                scrobble(5, "t2", 300),
                scrobble(6, "t1", 400),
            ],
        );
        scrobbles.insert(
            "u-bob".to_owned(),
            (10..15).map(|id| scrobble(id, "t1", 200)).collect(),
        );
        App {
            libraries: vec![
                library(1, "Music", lib1, 2, 360.0),
                library(2, "Audiobooks", lib2, 1, 3600.5),
            ],
            users: vec![
                user("u-alice", "alice", "Alice Liddell", false),
                user("u-bob", "bob", "Bob", false),
                user("u-admin", "admin", "Administrator", true),
            ],
            tracks: vec![
                track("t1", 1, "Music", "Song One", "album/track.txt"),
                track("t2", 2, "Audiobooks", "Book Two", "book.txt"),
            ],
            scrobbles,
            user_lookups: AtomicUsize::new(0),
            library_lookups: AtomicUsize::new(0),
            fail_users: AtomicBool::new(false),
            subsonic_calls: Mutex::new(Vec::new()),
            match_calls: Mutex::new(Vec::new()),
            scrobble_queries: Mutex::new(Vec::new()),
        }
    }

    pub fn user_lookups(&self) -> usize {
        self.user_lookups.load(Ordering::SeqCst)
    }

    pub fn subsonic_calls(&self) -> Vec<SubsonicRequest> {
        self.subsonic_calls.lock().unwrap().clone()
    }

    pub fn match_calls(&self) -> Vec<(Vec<SongRef>, MatchQuery)> {
        self.match_calls.lock().unwrap().clone()
    }

    pub fn scrobble_queries(&self) -> Vec<ScrobbleQuery> {
        self.scrobble_queries.lock().unwrap().clone()
    }

    fn history(&self, user: &UserInfo) -> Vec<ScrobbleEntry> {
        self.scrobbles.get(&user.id).cloned().unwrap_or_default()
    }
}

impl LibraryProvider for App {
    fn libraries(&self) -> Result<Vec<LibraryInfo>, ProviderError> {
        self.library_lookups.fetch_add(1, Ordering::SeqCst);
        Ok(self.libraries.clone())
    }
}

impl UserProvider for App {
    fn users(&self) -> Result<Vec<UserInfo>, ProviderError> {
        self.user_lookups.fetch_add(1, Ordering::SeqCst);
        if self.fail_users.load(Ordering::SeqCst) {
            return Err("user database is down".into());
        }
        Ok(self.users.clone())
    }
}

impl ArtworkProvider for App {
    fn artwork_url(&self, kind: ArtworkKind, id: &str, size: i32) -> Result<String, ProviderError> {
        if id == "boom" {
            return Err(ProviderError(format!("no artwork for {id}")));
        }
        let kind = match kind {
            ArtworkKind::Artist => "ar",
            ArtworkKind::Album => "al",
            ArtworkKind::Track => "mf",
            ArtworkKind::Playlist => "pl",
        };
        let size = if size > 0 {
            format!("?size={size}")
        } else {
            String::new()
        };
        Ok(format!("http://localhost/share/img/{kind}-{id}{size}"))
    }
}

impl SubsonicProvider for App {
    fn call(&self, request: &SubsonicRequest) -> Result<SubsonicResponse, ProviderError> {
        self.subsonic_calls.lock().unwrap().push(request.clone());
        match request.endpoint.as_str() {
            "fail" => Err("subsonic router exploded".into()),
            "getCoverArt" => Ok(SubsonicResponse {
                content_type: "image/png".into(),
                body: vec![0x89, b'P', b'N', b'G', 0x00, 0xff],
            }),
            "latin1" => Ok(SubsonicResponse {
                content_type: "text/plain".into(),
                body: vec![b'a', 0xff, b'b'],
            }),
            endpoint => Ok(SubsonicResponse {
                content_type: "application/json".into(),
                body: json!({"subsonic-response": {
                    "status": "ok",
                    "endpoint": endpoint,
                    "user": request.user.user_name,
                }})
                .to_string()
                .into_bytes(),
            }),
        }
    }
}

impl MatchProvider for App {
    /// Matches by id, then by title (ignoring case). A careless provider: it ignores
    /// `query.libraries`, so the service's own library filter is what the tests see.
    fn match_songs(
        &self,
        songs: &[SongRef],
        query: &MatchQuery,
    ) -> Result<Vec<Option<Track>>, ProviderError> {
        self.match_calls
            .lock()
            .unwrap()
            .push((songs.to_vec(), query.clone()));
        if songs.iter().any(|s| s.name == "explode") {
            return Err("match index is corrupt".into());
        }
        if songs.iter().any(|s| s.name == "short") {
            return Ok(Vec::new());
        }
        Ok(songs
            .iter()
            .map(|song| {
                self.tracks
                    .iter()
                    .find(|t| !song.id.is_empty() && t.id == song.id)
                    .or_else(|| {
                        self.tracks
                            .iter()
                            .find(|t| t.title.eq_ignore_ascii_case(&song.name))
                    })
                    .cloned()
            })
            .collect())
    }
}

impl ScrobbleProvider for App {
    fn first_timestamp(&self, user: &UserInfo) -> Result<Option<i64>, ProviderError> {
        Ok(self.history(user).iter().map(|s| s.submission_time).min())
    }

    fn last_timestamp(&self, user: &UserInfo) -> Result<Option<i64>, ProviderError> {
        Ok(self.history(user).iter().map(|s| s.submission_time).max())
    }

    fn scrobbles(
        &self,
        user: &UserInfo,
        query: &ScrobbleQuery,
    ) -> Result<Vec<ScrobbleEntry>, ProviderError> {
        self.scrobble_queries.lock().unwrap().push(query.clone());
        let mut entries: Vec<ScrobbleEntry> = self
            .history(user)
            .into_iter()
            .filter(|s| query.from.is_none_or(|f| s.submission_time >= f))
            .filter(|s| query.to.is_none_or(|t| s.submission_time <= t))
            .collect();
        entries.sort_by_key(|s| (s.submission_time, s.id));
        if query.descending {
            entries.reverse();
        }
        Ok(entries
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .collect())
    }

    fn count(
        &self,
        user: &UserInfo,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<i64, ProviderError> {
        Ok(self
            .history(user)
            .iter()
            .filter(|s| from.is_none_or(|f| s.submission_time >= f))
            .filter(|s| to.is_none_or(|t| s.submission_time <= t))
            .count() as i64)
    }
}

/// The application plus the folders behind it: library 1 (`song.txt`, `album/track.txt`),
/// library 2 (`book.txt`), a data folder and, next to the libraries, a secret file.
pub struct World {
    pub app: Arc<App>,
    /// Holds `lib1/`, `lib2/`, `data/` and `secret.txt`.
    pub root: TempDir,
}

impl World {
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let lib1 = root.path().join("lib1");
        let lib2 = root.path().join("lib2");
        fs::create_dir_all(lib1.join("album")).unwrap();
        fs::create_dir_all(&lib2).unwrap();
        fs::create_dir_all(root.path().join("data")).unwrap();
        fs::write(lib1.join("song.txt"), "la la la").unwrap();
        fs::write(lib1.join("album/track.txt"), "track one").unwrap();
        fs::write(lib2.join("book.txt"), "chapter one").unwrap();
        fs::write(root.path().join("secret.txt"), "top secret").unwrap();
        World {
            app: Arc::new(App::new(&lib1, &lib2)),
            root,
        }
    }

    pub fn lib(&self, id: i32) -> std::path::PathBuf {
        self.root.path().join(format!("lib{id}"))
    }

    pub fn data(&self) -> std::path::PathBuf {
        self.root.path().join("data")
    }

    /// The fixture as plugin `id` with every app-data service, `scope`, and the manifest's
    /// `library.filesystem` set to `filesystem`; mounts as the manager would add them.
    pub fn load(&self, id: &str, scope: Scope, filesystem: bool) -> Plugin {
        self.load_with(id, scope, filesystem, BTreeMap::new())
    }

    pub fn load_with(
        &self,
        id: &str,
        scope: Scope,
        filesystem: bool,
        config: BTreeMap<String, String>,
    ) -> Plugin {
        nd_testkit::load(FIXTURE, self.config(id, scope, filesystem, config))
    }

    pub fn config(
        &self,
        id: &str,
        scope: Scope,
        filesystem: bool,
        config: BTreeMap<String, String>,
    ) -> PluginConfig {
        let app = &self.app;
        let mut c = PluginConfig::new(id);
        c.config = config;
        c.mounts = library_mounts(app.as_ref(), &scope, filesystem).unwrap();
        c.mounts.push(storage_mount(&self.data(), id).unwrap());
        c.services = vec![
            Arc::new(ConfigService::new()),
            Arc::new(LibraryService::new(app.clone(), scope.clone(), filesystem)),
            Arc::new(StorageService::new()),
            Arc::new(ArtworkService::new(app.clone())),
            Arc::new(UsersService::new(app.clone(), scope.clone())),
            Arc::new(SubsonicApiService::new(
                app.clone(),
                app.clone(),
                scope.clone(),
                id,
            )),
            Arc::new(
                MatcherService::new(app.clone(), app.clone(), scope.clone(), filesystem)
                    .with_libraries(app.clone()),
            ),
            Arc::new(ScrobbleRetrieverService::new(
                app.clone(),
                app.clone(),
                scope,
            )),
        ];
        c
    }
}

/// A scope that allows nothing at all.
pub fn nothing() -> Scope {
    Scope::default()
}

/// Every library, and only these user ids.
pub fn users_only(ids: &[&str]) -> Scope {
    Scope {
        all_libraries: true,
        users: ids.iter().map(|s| (*s).to_owned()).collect(),
        ..Scope::default()
    }
}

/// Every user, and only these libraries.
pub fn libraries_only(ids: &[i32]) -> Scope {
    Scope {
        all_users: true,
        libraries: ids.to_vec(),
        ..Scope::default()
    }
}

/// The parsed response of host function `function` to `request`.
pub fn call(plugin: &Plugin, function: &str, request: Value) -> Value {
    nd_testkit::host_call(plugin, function, request)
}

/// The exact response text of `function` to `request` sent verbatim.
pub fn call_raw(plugin: &Plugin, function: &str, raw: &str) -> String {
    let input = json!({ "fn": function, "raw": raw }).to_string();
    nd_testkit::ok_str(plugin, "host", &input)
}

/// `{"error": message}`.
pub fn error(message: &str) -> Value {
    json!({ "error": message })
}

/// One operation of the fixture's `fs` export, output parsed.
pub fn fs_op(plugin: &Plugin, op: Value) -> Value {
    let out = nd_testkit::ok_str(plugin, "fs", &op.to_string());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The `error` text of an `fs` result; panics when the operation succeeded.
pub fn fs_error(plugin: &Plugin, op: Value) -> String {
    let out = fs_op(plugin, op.clone());
    match out.get("error").and_then(Value::as_str) {
        Some(e) => e.to_owned(),
        None => panic!("{op} succeeded: {out}"),
    }
}
