//! A read-only subset of the Subsonic API (OpenSubsonic flavoured), answered in-process:
//! JSON when `f=json` (or `jsonp`), a simple XML rendering of the same document otherwise.
//!
//! Endpoints: `ping`, `getLicense`, `getMusicFolders`, `getArtists`, `getArtist`, `getAlbum`,
//! `getSong`, `getAlbumList2`, `getRandomSongs`, `search3`, `getGenres`, `getUser`,
//! `getScanStatus`, `getOpenSubsonicExtensions` and `scrobble` (which records into the
//! scrobble history as the acting user), each also with a `.view` suffix. Anything else is
//! Subsonic error 0 `not implemented` inside a `failed` response, never an `Err`.
//!
//! Library scope: a [`SubsonicRequest`] carries no library scope, so every library is
//! visible; `musicFolderId` narrows lists where Subsonic defines it.

use std::collections::BTreeMap;

use nd_host_appdata::provider::{SubsonicRequest, SubsonicResponse, UserInfo};
use serde_json::{Map, Value, json};

use crate::MusicLibrary;
use crate::catalog::{AlbumInfo, ArtistInfo, Catalog, MediaFile};
use crate::text::{IGNORED_ARTICLES, normalize, normalize_artist};
use crate::time::{now_unix, rfc3339};

/// The Subsonic API version answered (what Navidrome answers).
pub(crate) const API_VERSION: &str = "1.16.1";
const SERVER_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (ndp)");

/// Subsonic error codes used here.
const ERR_GENERIC: i32 = 0;
const ERR_MISSING_PARAMETER: i32 = 10;
const ERR_NOT_AUTHORIZED: i32 = 50;
const ERR_NOT_FOUND: i32 = 70;

/// A Subsonic-level error: rendered as a `failed` response.
#[derive(Debug)]
struct Failure {
    code: i32,
    message: String,
}

fn fail<T>(code: i32, message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        code,
        message: message.into(),
    })
}

/// The query parameters of one request.
struct Params<'a>(&'a [(String, String)]);

impl Params<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn required(&self, name: &str) -> Result<&str, Failure> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => fail(
                ERR_MISSING_PARAMETER,
                format!("required '{name}' parameter is missing"),
            ),
        }
    }

    /// An integer parameter; absent or unparsable reads as `default`, as in Navidrome.
    fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    }

    fn opt_int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| v.trim().parse().ok())
    }

    /// `size`-like parameters: clamped to `0..=max`.
    fn count(&self, name: &str, default: i64, max: i64) -> usize {
        usize::try_from(self.int(name, default).clamp(0, max)).unwrap_or(0)
    }

    fn offset(&self, name: &str) -> usize {
        usize::try_from(self.int(name, 0).max(0)).unwrap_or(0)
    }

    fn bool(&self, name: &str, default: bool) -> bool {
        match self.get(name) {
            Some(v) => matches!(v.to_ascii_lowercase().as_str(), "true" | "1"),
            None => default,
        }
    }
}

/// Handles one request; Subsonic errors are part of the response.
pub(crate) fn call(library: &MusicLibrary, request: &SubsonicRequest) -> SubsonicResponse {
    let params = Params(&request.params);
    let json = matches!(params.get("f"), Some("json" | "jsonp"));
    let endpoint = request
        .endpoint
        .strip_suffix(".view")
        .unwrap_or(&request.endpoint);
    let result = dispatch(library, &request.user, endpoint, &params);
    let mut body = Map::new();
    body.insert(
        "status".into(),
        json!(if result.is_ok() { "ok" } else { "failed" }),
    );
    body.insert("version".into(), json!(API_VERSION));
    body.insert("type".into(), json!("ndp"));
    body.insert("serverVersion".into(), json!(SERVER_VERSION));
    body.insert("openSubsonic".into(), json!(true));
    match result {
        Ok(payload) => body.extend(payload),
        Err(failure) => {
            body.insert(
                "error".into(),
                json!({"code": failure.code, "message": failure.message}),
            );
        }
    }
    if json {
        let doc = json!({ "subsonic-response": body });
        SubsonicResponse {
            content_type: "application/json".into(),
            body: doc.to_string().into_bytes(),
        }
    } else {
        SubsonicResponse {
            content_type: "application/xml".into(),
            body: to_xml(&body).into_bytes(),
        }
    }
}

type Payload = Map<String, Value>;

fn one(key: &str, value: Value) -> Payload {
    let mut m = Map::new();
    m.insert(key.to_owned(), value);
    m
}

fn dispatch(
    library: &MusicLibrary,
    user: &UserInfo,
    endpoint: &str,
    params: &Params<'_>,
) -> Result<Payload, Failure> {
    let catalog = library.catalog();
    let cx = Cx {
        library,
        catalog: &catalog,
        user,
    };
    match endpoint {
        "ping" => Ok(Map::new()),
        "getLicense" => Ok(one("license", json!({"valid": true}))),
        "getOpenSubsonicExtensions" => Ok(one("openSubsonicExtensions", json!([]))),
        "getMusicFolders" => Ok(one(
            "musicFolders",
            json!({"musicFolder": library.roots().iter()
                .map(|r| json!({"id": r.id, "name": r.name}))
                .collect::<Vec<_>>()}),
        )),
        "getScanStatus" => Ok(one(
            "scanStatus",
            json!({
                "scanning": false,
                "count": catalog.files.len(),
                "folderCount": library.roots().len(),
                "lastScan": rfc3339(catalog.report.scanned_at),
            }),
        )),
        "getArtists" => cx.get_artists(params),
        "getArtist" => cx.get_artist(params),
        "getAlbum" => cx.get_album(params),
        "getSong" => cx.get_song(params),
        "getAlbumList2" => cx.get_album_list2(params),
        "getRandomSongs" => cx.get_random_songs(params),
        "search3" => cx.search3(params),
        "getGenres" => cx.get_genres(),
        "getUser" => cx.get_user(params),
        "scrobble" => cx.scrobble(params),
        _ => fail(ERR_GENERIC, "not implemented"),
    }
}

/// One request's view of the library.
struct Cx<'a> {
    library: &'a MusicLibrary,
    catalog: &'a Catalog,
    user: &'a UserInfo,
}

fn id_name(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name})
}

fn genres_value(genres: &[String]) -> Value {
    Value::Array(genres.iter().map(|g| json!({"name": g})).collect())
}

impl Cx<'_> {
    fn folder_filter(&self, params: &Params<'_>) -> Option<i32> {
        params
            .opt_int("musicFolderId")
            .and_then(|v| i32::try_from(v).ok())
    }

    /// A song (`Child`), with the acting user's annotations.
    fn child(&self, file: &MediaFile) -> Value {
        let mut track = file.track.clone();
        self.library.annotate(&mut track, Some(&self.user.id));
        let t = &track;
        let mut m = Map::new();
        m.insert("id".into(), json!(t.id));
        m.insert("parent".into(), json!(t.album_id));
        m.insert("isDir".into(), json!(false));
        m.insert("title".into(), json!(t.title));
        m.insert("album".into(), json!(t.album));
        m.insert("artist".into(), json!(t.artist));
        if t.track_number > 0 {
            m.insert("track".into(), json!(t.track_number));
        }
        if t.year > 0 {
            m.insert("year".into(), json!(t.year));
        }
        if let Some(g) = t.genres.first() {
            m.insert("genre".into(), json!(g));
        }
        let cover = if t.has_cover_art {
            format!("mf-{}_0", t.id)
        } else {
            format!("al-{}_0", t.album_id)
        };
        m.insert("coverArt".into(), json!(cover));
        m.insert("size".into(), json!(t.size));
        m.insert("contentType".into(), json!(file.content_type));
        m.insert("suffix".into(), json!(t.suffix));
        m.insert("duration".into(), json!(t.duration as i64));
        m.insert("bitRate".into(), json!(t.bit_rate));
        m.insert("path".into(), json!(t.path));
        if t.disc_number > 0 {
            m.insert("discNumber".into(), json!(t.disc_number));
        }
        m.insert("created".into(), json!(rfc3339(t.created_at)));
        m.insert("albumId".into(), json!(t.album_id));
        m.insert("artistId".into(), json!(file.artist_id));
        m.insert("type".into(), json!("music"));
        m.insert("isVideo".into(), json!(false));
        if t.play_count > 0 {
            m.insert("playCount".into(), json!(t.play_count));
        }
        if let Some(played) = t.play_date {
            m.insert("played".into(), json!(rfc3339(played)));
        }
        if t.starred {
            m.insert(
                "starred".into(),
                json!(rfc3339(t.starred_at.unwrap_or(t.created_at))),
            );
        }
        if t.rating > 0 {
            m.insert("userRating".into(), json!(t.rating));
        }
        if t.average_rating > 0.0 {
            m.insert("averageRating".into(), json!(t.average_rating));
        }
        if let Some(bpm) = t.bpm {
            m.insert("bpm".into(), json!(bpm));
        }
        if !t.comment.is_empty() {
            m.insert("comment".into(), json!(t.comment));
        }
        m.insert("sortName".into(), json!(t.sort_title));
        m.insert("mediaType".into(), json!("song"));
        m.insert("musicBrainzId".into(), json!(t.mbz_recording_id));
        m.insert(
            "isrc".into(),
            json!(t.tags.get("isrc").cloned().unwrap_or_default()),
        );
        m.insert("genres".into(), genres_value(&t.genres));
        let mut rg = Map::new();
        for (key, value) in [
            ("trackGain", t.rg_track_gain),
            ("albumGain", t.rg_album_gain),
            ("trackPeak", t.rg_track_peak),
            ("albumPeak", t.rg_album_peak),
        ] {
            if let Some(v) = value {
                rg.insert(key.into(), json!(v));
            }
        }
        m.insert("replayGain".into(), Value::Object(rg));
        m.insert("channelCount".into(), json!(t.channels));
        m.insert("samplingRate".into(), json!(t.sample_rate));
        if let Some(depth) = t.bit_depth {
            m.insert("bitDepth".into(), json!(depth));
        }
        m.insert(
            "artists".into(),
            Value::Array(file.artists.iter().map(|(id, n)| id_name(id, n)).collect()),
        );
        m.insert("displayArtist".into(), json!(t.artist));
        m.insert(
            "albumArtists".into(),
            json!([id_name(&file.album_artist_id, &t.album_artist)]),
        );
        m.insert("displayAlbumArtist".into(), json!(t.album_artist));
        m.insert("explicitStatus".into(), json!(t.explicit_status));
        Value::Object(m)
    }

    /// An album (`AlbumID3`), optionally with its songs.
    fn album(&self, album: &AlbumInfo, with_songs: bool) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(album.id));
        m.insert("name".into(), json!(album.name));
        m.insert("artist".into(), json!(album.artist));
        m.insert("artistId".into(), json!(album.artist_id));
        m.insert("coverArt".into(), json!(format!("al-{}_0", album.id)));
        m.insert("songCount".into(), json!(album.song_count));
        m.insert("duration".into(), json!(album.duration as i64));
        m.insert("created".into(), json!(rfc3339(album.created_at)));
        if album.year > 0 {
            m.insert("year".into(), json!(album.year));
        }
        if let Some(g) = album.genres.first() {
            m.insert("genre".into(), json!(g));
        }
        let (plays, last) = self.album_plays(album);
        if plays > 0 {
            m.insert("playCount".into(), json!(plays));
        }
        if let Some(last) = last {
            m.insert("played".into(), json!(rfc3339(last)));
        }
        m.insert("genres".into(), genres_value(&album.genres));
        m.insert("musicBrainzId".into(), json!(album.mbz_album_id));
        m.insert("isCompilation".into(), json!(album.compilation));
        m.insert(
            "sortName".into(),
            json!(crate::text::sort_name(&album.name)),
        );
        m.insert(
            "artists".into(),
            json!([id_name(&album.artist_id, &album.artist)]),
        );
        m.insert("displayArtist".into(), json!(album.artist));
        if with_songs {
            let songs: Vec<Value> = album
                .track_ids
                .iter()
                .filter_map(|id| self.catalog.file(id))
                .map(|f| self.child(f))
                .collect();
            m.insert("song".into(), Value::Array(songs));
        }
        Value::Object(m)
    }

    /// The acting user's plays of an album's tracks: total and last.
    fn album_plays(&self, album: &AlbumInfo) -> (i64, Option<i64>) {
        let mut total = 0;
        let mut last: Option<i64> = None;
        for id in &album.track_ids {
            let a = self.library.annotation_of(&self.user.id, id);
            total += a.play_count;
            last = last.max(a.play_date);
        }
        (total, last)
    }

    /// An artist (`ArtistID3`), optionally with its albums.
    fn artist(&self, artist: &ArtistInfo, albums: Option<Vec<&AlbumInfo>>) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(artist.id));
        m.insert("name".into(), json!(artist.name));
        m.insert("coverArt".into(), json!(format!("ar-{}_0", artist.id)));
        m.insert("albumCount".into(), json!(artist.album_ids.len()));
        m.insert("musicBrainzId".into(), json!(artist.mbz_artist_id));
        m.insert("sortName".into(), json!(artist.sort_name));
        if let Some(albums) = albums {
            m.insert(
                "album".into(),
                Value::Array(albums.into_iter().map(|a| self.album(a, false)).collect()),
            );
        }
        Value::Object(m)
    }

    fn albums_in(&self, folder: Option<i32>) -> Vec<&AlbumInfo> {
        self.catalog
            .albums
            .iter()
            .filter(|a| folder.is_none_or(|f| a.library_id == f))
            .collect()
    }

    fn get_artists(&self, params: &Params<'_>) -> Result<Payload, Failure> {
        let folder = self.folder_filter(params);
        let mut index: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for artist in &self.catalog.artists {
            let has_album = artist.album_ids.iter().any(|id| {
                self.catalog
                    .album(id)
                    .is_some_and(|a| folder.is_none_or(|f| a.library_id == f))
            });
            if !has_album {
                continue;
            }
            let letter = artist
                .sort_name
                .chars()
                .next()
                .filter(|c| c.is_alphabetic())
                .map(|c| normalize(&c.to_string()).to_uppercase())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "#".to_owned());
            index
                .entry(letter)
                .or_default()
                .push(self.artist(artist, None));
        }
        let index: Vec<Value> = index
            .into_iter()
            .map(|(name, artists)| json!({"name": name, "artist": artists}))
            .collect();
        Ok(one(
            "artists",
            json!({"ignoredArticles": IGNORED_ARTICLES, "index": index}),
        ))
    }

    fn get_artist(&self, params: &Params<'_>) -> Result<Payload, Failure> {
        let id = params.required("id")?;
        let Some(artist) = self.catalog.artist(id) else {
            return fail(ERR_NOT_FOUND, "Artist not found");
        };
        let albums: Vec<&AlbumInfo> = artist
            .album_ids
            .iter()
            .filter_map(|id| self.catalog.album(id))
            .collect();
        Ok(one("artist", self.artist(artist, Some(albums))))
    }

    fn get_album(&self, params: &Params<'_>) -> Result<Payload, Failure> {
        let id = params.required("id")?;
        match self.catalog.album(id) {
            Some(album) => Ok(one("album", self.album(album, true))),
            None => fail(ERR_NOT_FOUND, "Album not found"),
        }
    }

    fn get_song(&self, params: &Params<'_>) -> Result<Payload, Failure> {
        let id = params.required("id")?;
        match self.catalog.file(id) {
            Some(file) => Ok(one("song", self.child(file))),
            None => fail(ERR_NOT_FOUND, "Song not found"),
        }
    }

    /// Fisher-Yates with the library's generator.
    fn shuffle<T>(&self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.library.random() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }

    fn get_album_list2(&self, params: &Params<'_>) -> Result<Payload, Failure> {
        let kind = params.required("type")?;
        let size = params.count("size", 10, 500);
        let offset = params.offset("offset");
        let mut albums = self.albums_in(self.folder_filter(params));
        match kind {
            "random" => self.shuffle(&mut albums),
            "newest" => albums.sort_by(|a, b| {
                b.created_at
                    .cmp(&a.created_at)
                    .then_with(|| normalize(&a.name).cmp(&normalize(&b.name)))
            }),
            "alphabeticalByName" => {
                albums.sort_by_cached_key(|a| (normalize(&a.name), a.id.clone()))
            }
            "alphabeticalByArtist" => albums.sort_by_cached_key(|a| {
                (
                    normalize_artist(&a.artist),
                    normalize(&a.name),
                    a.id.clone(),
                )
            }),
            "byYear" => {
                let from = params
                    .required("fromYear")?
                    .trim()
                    .parse::<i32>()
                    .unwrap_or(0);
                let to = params
                    .required("toYear")?
                    .trim()
                    .parse::<i32>()
                    .unwrap_or(0);
                let (lo, hi) = (from.min(to), from.max(to));
                albums.retain(|a| a.year >= lo && a.year <= hi);
                albums.sort_by_cached_key(|a| (a.year, normalize(&a.name)));
                if from > to {
                    albums.reverse();
                }
            }
            "byGenre" => {
                let genre = params.required("genre")?;
                albums.retain(|a| a.genres.iter().any(|g| g.eq_ignore_ascii_case(genre)));
                albums.sort_by_cached_key(|a| (normalize(&a.name), a.id.clone()));
            }
            "frequent" | "recent" => {
                let mut played: Vec<(&AlbumInfo, i64, i64)> = albums
                    .iter()
                    .filter_map(|a| {
                        let (count, last) = self.album_plays(a);
                        last.map(|last| (*a, count, last))
                    })
                    .collect();
                if kind == "frequent" {
                    played.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)));
                } else {
                    played.sort_by_key(|p| std::cmp::Reverse(p.2));
                }
                albums = played.into_iter().map(|(a, _, _)| a).collect();
            }
            "starred" | "highest" => {
                let mut scored: Vec<(&AlbumInfo, i32)> = albums
                    .iter()
                    .filter_map(|a| {
                        let mut notes = a
                            .track_ids
                            .iter()
                            .map(|id| self.library.annotation_of(&self.user.id, id));
                        let score = if kind == "starred" {
                            i32::from(notes.any(|n| n.starred))
                        } else {
                            notes.map(|n| n.rating).max().unwrap_or(0)
                        };
                        (score > 0).then_some((*a, score))
                    })
                    .collect();
                scored.sort_by(|a, b| {
                    b.1.cmp(&a.1)
                        .then_with(|| normalize(&a.0.name).cmp(&normalize(&b.0.name)))
                });
                albums = scored.into_iter().map(|(a, _)| a).collect();
            }
            other => return fail(ERR_GENERIC, format!("type '{other}' not implemented")),
        }
        let list: Vec<Value> = albums
            .into_iter()
            .skip(offset)
            .take(size)
            .map(|a| self.album(a, false))
            .collect();
        Ok(one("albumList2", json!({"album": list})))
    }

    fn get_random_songs(&self, params: &Params<'_>) -> Result<Payload, Failure> {
        let size = params.count("size", 10, 500);
        let folder = self.folder_filter(params);
        let genre = params.get("genre").filter(|g| !g.is_empty());
        let from = params.opt_int("fromYear");
        let to = params.opt_int("toYear");
        let mut files: Vec<&MediaFile> = self
            .catalog
            .files
            .iter()
            .filter(|f| folder.is_none_or(|id| f.track.library_id == id))
            .filter(|f| {
                genre.is_none_or(|g| f.track.genres.iter().any(|x| x.eq_ignore_ascii_case(g)))
            })
            .filter(|f| from.is_none_or(|y| i64::from(f.track.year) >= y))
            .filter(|f| to.is_none_or(|y| i64::from(f.track.year) <= y))
            .collect();
        self.shuffle(&mut files);
        let songs: Vec<Value> = files
            .into_iter()
            .take(size)
            .map(|f| self.child(f))
            .collect();
        Ok(one("randomSongs", json!({"song": songs})))
    }

    fn search3(&self, params: &Params<'_>) -> Result<Payload, Failure> {
        let raw = params.get("query").unwrap_or_default().trim();
        let raw = raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(raw);
        let words: Vec<String> = normalize(raw)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let matches = |haystack: &str| words.iter().all(|w| haystack.contains(w.as_str()));
        let folder = self.folder_filter(params);

        let artists: Vec<Value> = self
            .catalog
            .artists
            .iter()
            .filter(|a| {
                folder.is_none_or(|f| {
                    self.catalog.files.iter().any(|file| {
                        file.track.library_id == f
                            && (file.album_artist_id == a.id
                                || file.artists.iter().any(|(id, _)| *id == a.id))
                    })
                })
            })
            .filter(|a| matches(&normalize(&a.name)))
            .skip(params.offset("artistOffset"))
            .take(params.count("artistCount", 20, 500))
            .map(|a| self.artist(a, None))
            .collect();
        let albums: Vec<Value> = self
            .albums_in(folder)
            .into_iter()
            .filter(|a| matches(&normalize(&format!("{} {}", a.name, a.artist))))
            .skip(params.offset("albumOffset"))
            .take(params.count("albumCount", 20, 500))
            .map(|a| self.album(a, false))
            .collect();
        let songs: Vec<Value> = self
            .catalog
            .files
            .iter()
            .filter(|f| folder.is_none_or(|id| f.track.library_id == id))
            .filter(|f| {
                let t = &f.track;
                matches(&normalize(&format!("{} {} {}", t.title, t.artist, t.album)))
            })
            .skip(params.offset("songOffset"))
            .take(params.count("songCount", 20, 500))
            .map(|f| self.child(f))
            .collect();
        Ok(one(
            "searchResult3",
            json!({"artist": artists, "album": albums, "song": songs}),
        ))
    }

    fn get_genres(&self) -> Result<Payload, Failure> {
        // Keyed case-insensitively; the first spelling seen is shown.
        let mut genres: BTreeMap<String, (String, i64, std::collections::HashSet<&str>)> =
            BTreeMap::new();
        for f in &self.catalog.files {
            for g in &f.track.genres {
                let entry = genres
                    .entry(g.to_lowercase())
                    .or_insert_with(|| (g.clone(), 0, Default::default()));
                entry.1 += 1;
                entry.2.insert(f.track.album_id.as_str());
            }
        }
        let list: Vec<Value> = genres
            .into_values()
            .map(|(name, songs, albums)| {
                json!({"value": name, "songCount": songs, "albumCount": albums.len()})
            })
            .collect();
        Ok(one("genres", json!({"genre": list})))
    }

    fn get_user(&self, params: &Params<'_>) -> Result<Payload, Failure> {
        let wanted = params.get("username").filter(|u| !u.is_empty());
        let user = match wanted {
            None => self.user.clone(),
            Some(name) if name.eq_ignore_ascii_case(&self.user.user_name) => self.user.clone(),
            Some(name) => {
                if !self.user.is_admin {
                    return fail(
                        ERR_NOT_AUTHORIZED,
                        "User is not authorized for the given operation.",
                    );
                }
                match self
                    .library
                    .all_users()
                    .iter()
                    .find(|u| u.user_name.eq_ignore_ascii_case(name))
                {
                    Some(u) => u.clone(),
                    None => return fail(ERR_NOT_FOUND, "User not found"),
                }
            }
        };
        let folders: Vec<i32> = self.library.roots().iter().map(|r| r.id).collect();
        Ok(one(
            "user",
            json!({
                "username": user.user_name,
                "scrobblingEnabled": true,
                "adminRole": user.is_admin,
                "settingsRole": true,
                "downloadRole": true,
                "uploadRole": false,
                "playlistRole": true,
                "coverArtRole": true,
                "commentRole": true,
                "podcastRole": false,
                "streamRole": true,
                "jukeboxRole": false,
                "shareRole": false,
                "videoConversionRole": false,
                "folder": folders,
            }),
        ))
    }

    /// `scrobble?id=…[&id=…][&time=<ms>…][&submission=false]`: a submission is recorded in
    /// the acting user's history (all ids checked first); a "now playing" is accepted and
    /// not recorded.
    fn scrobble(&self, params: &Params<'_>) -> Result<Payload, Failure> {
        let ids = params.all("id");
        if ids.iter().all(|id| id.is_empty()) {
            return fail(ERR_MISSING_PARAMETER, "required 'id' parameter is missing");
        }
        if let Some(missing) = ids.iter().find(|id| self.catalog.file(id).is_none()) {
            return fail(ERR_NOT_FOUND, format!("Song not found: {missing}"));
        }
        if !params.bool("submission", true) {
            return Ok(Map::new());
        }
        let times = params.all("time");
        let now = now_unix();
        for (i, id) in ids.iter().enumerate() {
            let at = times
                .get(i)
                .and_then(|t| t.trim().parse::<i64>().ok())
                .map_or(now, |ms| ms.div_euclid(1000));
            if let Err(e) = self.library.record_scrobble(&self.user.id, id, at) {
                return fail(ERR_GENERIC, e.to_string());
            }
        }
        Ok(Map::new())
    }
}

/// Renders the response as Subsonic XML: objects become elements whose scalar fields are
/// attributes, arrays repeat the element, and a `value` field is the element's text.
fn to_xml(body: &Map<String, Value>) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let mut root = body.clone();
    root.insert("xmlns".into(), json!("http://subsonic.org/restapi"));
    element(&mut out, "subsonic-response", &Value::Object(root));
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            out.push('<');
            out.push_str(name);
            let mut text = None;
            for (k, v) in map {
                match v {
                    Value::Null | Value::Object(_) | Value::Array(_) => {}
                    _ if k == "value" => text = Some(scalar(v)),
                    _ => {
                        out.push(' ');
                        out.push_str(k);
                        out.push_str("=\"");
                        out.push_str(&escape(&scalar(v)));
                        out.push('"');
                    }
                }
            }
            let children: Vec<(&String, &Value)> = map
                .iter()
                .filter(|(_, v)| matches!(v, Value::Object(_) | Value::Array(_)))
                .collect();
            if children.is_empty() && text.is_none() {
                out.push_str("/>");
                return;
            }
            out.push('>');
            if let Some(text) = text {
                out.push_str(&escape(&text));
            }
            for (k, v) in children {
                match v {
                    Value::Array(items) => {
                        for item in items {
                            element(out, k, item);
                        }
                    }
                    _ => element(out, k, v),
                }
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::Array(items) => {
            for item in items {
                element(out, name, item);
            }
        }
        _ => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            out.push_str(&escape(&scalar(value)));
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}
