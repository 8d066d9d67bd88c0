//! Scanning: walks each library root, reads every audio file's tags and properties with
//! lofty, and groups the files into albums and artists.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use lofty::file::{AudioFile, FileType, TaggedFileExt};
use lofty::probe::Probe;
use lofty::tag::{ItemKey, Tag};
use nd_capabilities::types::{ArtistRef, Track};
use nd_host_appdata::provider::LibraryInfo;
use sha2::{Digest, Sha256};

use crate::catalog::{AlbumInfo, ArtistInfo, Catalog, MediaFile};
use crate::text::{normalize, normalize_artist, normalize_isrc, sort_name};
use crate::time::{now_unix, system_time_unix};
use crate::{LibraryError, LibraryRoot, ScanReport, SkippedFile};

/// Navidrome's placeholders for missing tags.
pub(crate) const UNKNOWN_ALBUM: &str = "[Unknown Album]";
pub(crate) const UNKNOWN_ARTIST: &str = "[Unknown Artist]";
pub(crate) const VARIOUS_ARTISTS: &str = "Various Artists";

/// File extensions the scan reads (every format lofty knows).
const AUDIO_EXTENSIONS: &[&str] = &[
    "aac", "aif", "aifc", "aiff", "ape", "flac", "m4a", "m4b", "mp3", "mp4", "mpc", "oga", "ogg",
    "opus", "spx", "wav", "wv",
];

/// The stable id of the track at `relative_path` (with `/` separators) in library
/// `library_id`: 32 hex digits of a SHA-256 of both.
pub fn track_id(library_id: i32, relative_path: &str) -> String {
    hash_id(&["mf", &library_id.to_string(), relative_path])
}

/// 32 hex digits of a SHA-256 over the parts, each followed by a NUL.
pub(crate) fn hash_id(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn album_id(library_id: i32, album_artist: &str, album: &str) -> String {
    hash_id(&[
        "al",
        &library_id.to_string(),
        &normalize_artist(album_artist),
        &normalize(album),
    ])
}

pub(crate) fn artist_id(name: &str) -> String {
    hash_id(&["ar", &normalize_artist(name)])
}

/// Scans every root and builds the catalog. Fails only when a root itself cannot be read;
/// unreadable files are skipped with a warning and listed in the report.
pub(crate) fn scan(roots: &[LibraryRoot]) -> Result<Catalog, LibraryError> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for root in roots {
        let found = walk(&root.path).map_err(|source| LibraryError::Root {
            path: root.path.clone(),
            source,
        })?;
        for (abs, rel) in found {
            match read_media_file(root, &abs, &rel) {
                Ok(file) => files.push(file),
                Err(reason) => {
                    tracing::warn!(path = %abs.display(), %reason, "skipping unreadable audio file");
                    skipped.push(SkippedFile { path: abs, reason });
                }
            }
        }
    }
    files.sort_by(|a, b| {
        (a.track.library_id, &a.track.path).cmp(&(b.track.library_id, &b.track.path))
    });
    let scanned_at = now_unix();
    Ok(build_catalog(roots, files, skipped, scanned_at))
}

/// Every audio file under `root`, as (host path, path relative to root with `/`), sorted by
/// relative path. Follows symbolic links; a directory already visited (by canonical path) is
/// not entered again, which breaks link loops. Hidden entries (`.name`) are skipped.
fn walk(root: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let canonical_root = fs::canonicalize(root)?;
    // Fail early (and only here) when the root itself is unreadable.
    fs::read_dir(root)?;
    let mut visited = HashSet::from([canonical_root]);
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(path = %dir.display(), error = %e, "skipping unreadable folder");
                continue;
            }
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                tracing::warn!(path = %entry.path().display(), "skipping a name that is not UTF-8");
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let child_rel = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            // fs::metadata follows symbolic links; a dangling link is skipped.
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "skipping unreadable entry");
                    continue;
                }
            };
            if meta.is_dir() {
                match fs::canonicalize(&path) {
                    Ok(canonical) => {
                        if visited.insert(canonical) {
                            stack.push((path, child_rel));
                        } else {
                            tracing::debug!(path = %path.display(), "folder already scanned (link loop?)");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "skipping unreadable folder")
                    }
                }
            } else if meta.is_file() && is_audio(name) {
                out.push((path, child_rel));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn is_audio(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Tags of one file, primary tag first; a key reads from the first tag that has it.
struct Tags<'a>(Vec<&'a Tag>);

impl Tags<'_> {
    /// The first non-empty value of `key`.
    fn first(&self, key: &ItemKey) -> Option<String> {
        self.0.iter().find_map(|tag| {
            tag.get_strings(key)
                .map(str::trim)
                .find(|s| !s.is_empty())
                .map(str::to_owned)
        })
    }

    /// Every value of `key` from the first tag that has one, split on `;` and NUL, trimmed,
    /// without duplicates.
    fn all(&self, key: &ItemKey) -> Vec<String> {
        for tag in &self.0 {
            let mut values: Vec<String> = Vec::new();
            for raw in tag.get_strings(key) {
                for v in raw.split([';', '\0']).map(str::trim) {
                    if !v.is_empty() && !values.iter().any(|x| x == v) {
                        values.push(v.to_owned());
                    }
                }
            }
            if !values.is_empty() {
                return values;
            }
        }
        Vec::new()
    }
}

/// The leading integer of `"3/12"`, `"03"`, `"2021-05-03"`.
fn leading_int(s: &str) -> Option<i32> {
    let digits: String = s.trim().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `"-6.50 dB"` → -6.5.
fn parse_gain(s: &str) -> Option<f64> {
    let s = s.trim();
    let s = s
        .strip_suffix("dB")
        .or_else(|| s.strip_suffix("db"))
        .unwrap_or(s);
    s.trim().parse().ok()
}

fn parse_bool(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "y"
    )
}

fn codec_name(file_type: &FileType) -> &'static str {
    match file_type {
        FileType::Aac => "AAC",
        FileType::Aiff => "PCM",
        FileType::Ape => "APE",
        FileType::Flac => "FLAC",
        FileType::Mpeg => "MP3",
        FileType::Mp4 => "AAC",
        FileType::Mpc => "Musepack",
        FileType::Opus => "Opus",
        FileType::Vorbis => "Vorbis",
        FileType::Speex => "Speex",
        FileType::Wav => "PCM",
        FileType::WavPack => "WavPack",
        _ => "",
    }
}

/// The MIME type Navidrome reports for a suffix.
pub(crate) fn content_type(suffix: &str) -> &'static str {
    match suffix {
        "aac" => "audio/aac",
        "aif" | "aifc" | "aiff" => "audio/x-aiff",
        "ape" => "audio/x-monkeys-audio",
        "flac" => "audio/flac",
        "m4a" | "m4b" | "mp4" => "audio/mp4",
        "mp3" => "audio/mpeg",
        "mpc" => "audio/x-musepack",
        "oga" | "ogg" | "spx" => "audio/ogg",
        "opus" => "audio/ogg",
        "wav" => "audio/x-wav",
        "wv" => "audio/x-wavpack",
        _ => "application/octet-stream",
    }
}

/// Reads one file; the error is the reason it is skipped.
fn read_media_file(root: &LibraryRoot, abs: &Path, rel: &str) -> Result<MediaFile, String> {
    let meta = fs::metadata(abs).map_err(|e| format!("cannot stat: {e}"))?;
    let tagged = Probe::open(abs)
        .map_err(|e| format!("cannot open: {e}"))?
        .guess_file_type()
        .map_err(|e| format!("cannot read: {e}"))?
        .read()
        .map_err(|e| format!("cannot parse: {e}"))?;
    let primary = tagged.primary_tag_type();
    let mut tag_list: Vec<&Tag> = tagged.tags().iter().collect();
    tag_list.sort_by_key(|t| t.tag_type() != primary);
    let tags = Tags(tag_list);
    let props = tagged.properties();

    let suffix = Path::new(rel)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let stem = Path::new(rel)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(rel)
        .to_owned();

    let title = tags.first(&ItemKey::TrackTitle).unwrap_or(stem);
    let album = tags
        .first(&ItemKey::AlbumTitle)
        .unwrap_or_else(|| UNKNOWN_ALBUM.to_owned());
    let mut artists = tags.all(&ItemKey::TrackArtists);
    let artist_tag = tags.first(&ItemKey::TrackArtist);
    let artist = match (&artist_tag, artists.is_empty()) {
        (Some(a), _) => a.clone(),
        (None, false) => artists.join(" • "),
        (None, true) => UNKNOWN_ARTIST.to_owned(),
    };
    if artists.is_empty() {
        artists.push(artist.clone());
    }
    let compilation = tags
        .first(&ItemKey::FlagCompilation)
        .is_some_and(|v| parse_bool(&v));
    let album_artist = tags.first(&ItemKey::AlbumArtist).unwrap_or_else(|| {
        if compilation {
            VARIOUS_ARTISTS.to_owned()
        } else {
            artist.clone()
        }
    });
    let composers = tags.all(&ItemKey::Composer);

    let date = tags
        .first(&ItemKey::RecordingDate)
        .or_else(|| tags.first(&ItemKey::Year))
        .unwrap_or_default();
    let original_date = tags
        .first(&ItemKey::OriginalReleaseDate)
        .unwrap_or_default();
    let release_date = tags.first(&ItemKey::ReleaseDate).unwrap_or_default();
    let year_of = |d: &str| {
        leading_int(d)
            .filter(|y| *y > 0 && *y < 10_000)
            .unwrap_or(0)
    };

    let isrcs: Vec<String> = tags.all(&ItemKey::Isrc);
    let genres = tags.all(&ItemKey::Genre);
    let bpm = tags
        .first(&ItemKey::Bpm)
        .or_else(|| tags.first(&ItemKey::IntegerBpm))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v.round() as i32);
    let has_cover_art = tagged.tags().iter().any(|t| t.picture_count() > 0);

    let artist_mbid = tags
        .first(&ItemKey::MusicBrainzArtistId)
        .unwrap_or_default();
    let album_artist_mbid = tags
        .first(&ItemKey::MusicBrainzReleaseArtistId)
        .unwrap_or_default();

    let birth = system_time_unix(meta.created())
        .or_else(|| system_time_unix(meta.modified()))
        .unwrap_or(0);
    let modified = system_time_unix(meta.modified()).unwrap_or(birth);

    let mut participants: Vec<ArtistRef> = Vec::new();
    for (i, name) in artists.iter().enumerate() {
        participants.push(ArtistRef {
            id: artist_id(name),
            name: name.clone(),
            mbid: if i == 0 {
                artist_mbid.clone()
            } else {
                String::new()
            },
            sort_name: sort_name(name).to_owned(),
            role: "artist".to_owned(),
            sub_role: String::new(),
        });
    }
    participants.push(ArtistRef {
        id: artist_id(&album_artist),
        name: album_artist.clone(),
        mbid: album_artist_mbid.clone(),
        sort_name: sort_name(&album_artist).to_owned(),
        role: "albumartist".to_owned(),
        sub_role: String::new(),
    });
    for name in &composers {
        participants.push(ArtistRef {
            id: artist_id(name),
            name: name.clone(),
            sort_name: sort_name(name).to_owned(),
            role: "composer".to_owned(),
            ..ArtistRef::default()
        });
    }

    let mut tag_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut put = |name: &str, values: Vec<String>| {
        if !values.is_empty() {
            tag_map.insert(name.to_owned(), values);
        }
    };
    put("genre", genres.clone());
    put("isrc", isrcs.clone());
    put("composer", composers);
    put("label", tags.all(&ItemKey::Label));
    put("mood", tags.all(&ItemKey::Mood));

    let track = Track {
        id: track_id(root.id, rel),
        library_id: root.id,
        library_name: root.name.clone(),
        path: rel.to_owned(),
        missing: false,
        title: title.clone(),
        album: album.clone(),
        artist: artist.clone(),
        album_artist: album_artist.clone(),
        album_id: album_id(root.id, &album_artist, &album),
        sort_title: tags
            .first(&ItemKey::TrackTitleSortOrder)
            .unwrap_or_default(),
        sort_album_name: tags
            .first(&ItemKey::AlbumTitleSortOrder)
            .unwrap_or_default(),
        sort_artist_name: tags
            .first(&ItemKey::TrackArtistSortOrder)
            .unwrap_or_default(),
        track_number: tags
            .first(&ItemKey::TrackNumber)
            .and_then(|v| leading_int(&v))
            .unwrap_or(0),
        disc_number: tags
            .first(&ItemKey::DiscNumber)
            .and_then(|v| leading_int(&v))
            .unwrap_or(0),
        disc_subtitle: tags.first(&ItemKey::SetSubtitle).unwrap_or_default(),
        year: year_of(&date),
        date: date.clone(),
        original_year: year_of(&original_date),
        original_date,
        release_year: year_of(&release_date),
        release_date,
        size: i64::try_from(meta.len()).unwrap_or(i64::MAX),
        suffix: suffix.clone(),
        duration: props.duration().as_secs_f64(),
        bit_rate: props
            .audio_bitrate()
            .or(props.overall_bitrate())
            .and_then(|b| i32::try_from(b).ok())
            .unwrap_or(0),
        sample_rate: props
            .sample_rate()
            .and_then(|r| i32::try_from(r).ok())
            .unwrap_or(0),
        bit_depth: props.bit_depth().map(i32::from),
        channels: props.channels().map(i32::from).unwrap_or(0),
        codec: codec_name(&tagged.file_type()).to_owned(),
        genres,
        comment: tags.first(&ItemKey::Comment).unwrap_or_default(),
        bpm,
        explicit_status: String::new(),
        catalog_num: tags.first(&ItemKey::CatalogNumber).unwrap_or_default(),
        compilation,
        has_cover_art,
        mbz_recording_id: tags
            .first(&ItemKey::MusicBrainzRecordingId)
            .unwrap_or_default(),
        mbz_release_track_id: tags.first(&ItemKey::MusicBrainzTrackId).unwrap_or_default(),
        mbz_album_id: tags
            .first(&ItemKey::MusicBrainzReleaseId)
            .unwrap_or_default(),
        mbz_release_group_id: tags
            .first(&ItemKey::MusicBrainzReleaseGroupId)
            .unwrap_or_default(),
        mbz_album_type: String::new(),
        mbz_album_comment: String::new(),
        rg_album_gain: tags
            .first(&ItemKey::ReplayGainAlbumGain)
            .and_then(|v| parse_gain(&v)),
        rg_album_peak: tags
            .first(&ItemKey::ReplayGainAlbumPeak)
            .and_then(|v| parse_gain(&v)),
        rg_track_gain: tags
            .first(&ItemKey::ReplayGainTrackGain)
            .and_then(|v| parse_gain(&v)),
        rg_track_peak: tags
            .first(&ItemKey::ReplayGainTrackPeak)
            .and_then(|v| parse_gain(&v)),
        birth_time: birth,
        created_at: birth,
        updated_at: modified,
        average_rating: 0.0,
        starred: false,
        starred_at: None,
        rating: 0,
        play_count: 0,
        play_date: None,
        tags: tag_map,
        participants,
    };

    let mut norm_artists: Vec<String> = artists.iter().map(|a| normalize_artist(a)).collect();
    norm_artists.push(normalize_artist(&artist));
    norm_artists.push(normalize_artist(&album_artist));
    norm_artists.sort();
    norm_artists.dedup();
    norm_artists.retain(|a| !a.is_empty());

    Ok(MediaFile {
        abs_path: abs.to_path_buf(),
        content_type: content_type(&suffix),
        artist_id: artist_id(&artists[0]),
        album_artist_id: artist_id(&album_artist),
        artists: artists.iter().map(|a| (artist_id(a), a.clone())).collect(),
        artist_mbid,
        isrcs: isrcs.iter().map(|i| normalize_isrc(i)).collect(),
        norm_title: normalize(&title),
        norm_album: normalize(&album),
        norm_artists,
        track,
    })
}

/// Groups files into albums and artists and totals each library.
pub(crate) fn build_catalog(
    roots: &[LibraryRoot],
    files: Vec<MediaFile>,
    skipped: Vec<SkippedFile>,
    scanned_at: i64,
) -> Catalog {
    let mut albums: Vec<AlbumInfo> = Vec::new();
    let mut album_index: HashMap<String, usize> = HashMap::new();
    let mut artists: Vec<ArtistInfo> = Vec::new();
    let mut artist_index: HashMap<String, usize> = HashMap::new();

    for file in &files {
        let t = &file.track;
        for (n, (id, name)) in file.artists.iter().enumerate() {
            let mbid = if n == 0 {
                file.artist_mbid.as_str()
            } else {
                ""
            };
            let i = touch_artist(&mut artists, &mut artist_index, id, name, mbid);
            artists[i].song_count += 1;
        }
        let album_artist_mbid = t
            .participants
            .iter()
            .find(|p| p.role == "albumartist")
            .map(|p| p.mbid.as_str())
            .unwrap_or_default();
        let ai = touch_artist(
            &mut artists,
            &mut artist_index,
            &file.album_artist_id,
            &t.album_artist,
            album_artist_mbid,
        );

        let idx = *album_index.entry(t.album_id.clone()).or_insert_with(|| {
            albums.push(AlbumInfo {
                id: t.album_id.clone(),
                name: t.album.clone(),
                artist: t.album_artist.clone(),
                artist_id: file.album_artist_id.clone(),
                library_id: t.library_id,
                created_at: t.created_at,
                ..AlbumInfo::default()
            });
            albums.len() - 1
        });
        if !artists[ai].album_ids.contains(&t.album_id) {
            artists[ai].album_ids.push(t.album_id.clone());
        }
        let album = &mut albums[idx];
        if t.year > 0 && (album.year == 0 || t.year < album.year) {
            album.year = t.year;
        }
        for g in &t.genres {
            if !album.genres.contains(g) {
                album.genres.push(g.clone());
            }
        }
        album.song_count += 1;
        album.duration += t.duration;
        album.size += t.size;
        album.compilation |= t.compilation;
        if album.mbz_album_id.is_empty() {
            album.mbz_album_id = t.mbz_album_id.clone();
        }
        if album.mbz_release_group_id.is_empty() {
            album.mbz_release_group_id = t.mbz_release_group_id.clone();
        }
        album.created_at = album.created_at.min(t.created_at);
        if album.cover_track_id.is_none() && t.has_cover_art {
            album.cover_track_id = Some(t.id.clone());
        }
        album.track_ids.push(t.id.clone());
    }

    let file_index: HashMap<String, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.track.id.clone(), i))
        .collect();
    for album in &mut albums {
        album.track_ids.sort_by(|a, b| {
            let (fa, fb) = (&files[file_index[a]].track, &files[file_index[b]].track);
            (fa.disc_number, fa.track_number, &fa.title, &fa.path).cmp(&(
                fb.disc_number,
                fb.track_number,
                &fb.title,
                &fb.path,
            ))
        });
    }

    albums.sort_by(|a, b| {
        (
            normalize_artist(&a.artist),
            normalize(&a.name),
            a.library_id,
        )
            .cmp(&(
                normalize_artist(&b.artist),
                normalize(&b.name),
                b.library_id,
            ))
    });
    let album_index = albums
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.clone(), i))
        .collect();
    artists.sort_by(|a, b| (normalize(&a.sort_name), &a.id).cmp(&(normalize(&b.sort_name), &b.id)));
    let artist_index = artists
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.clone(), i))
        .collect();

    let libraries = roots
        .iter()
        .map(|root| {
            let mine: Vec<&MediaFile> = files
                .iter()
                .filter(|f| f.track.library_id == root.id)
                .collect();
            let album_count = albums.iter().filter(|a| a.library_id == root.id).count();
            let artist_count = mine
                .iter()
                .flat_map(|f| {
                    f.artists
                        .iter()
                        .map(|(id, _)| id.as_str())
                        .chain(std::iter::once(f.album_artist_id.as_str()))
                })
                .collect::<HashSet<_>>()
                .len();
            LibraryInfo {
                id: root.id,
                name: root.name.clone(),
                path: root.path.clone(),
                last_scan_at: scanned_at,
                total_songs: i32::try_from(mine.len()).unwrap_or(i32::MAX),
                total_albums: i32::try_from(album_count).unwrap_or(i32::MAX),
                total_artists: i32::try_from(artist_count).unwrap_or(i32::MAX),
                total_size: mine.iter().map(|f| f.track.size).sum(),
                total_duration: mine.iter().map(|f| f.track.duration).sum(),
            }
        })
        .collect();

    let report = ScanReport {
        scanned_at,
        tracks: files.len(),
        skipped,
    };
    Catalog {
        libraries,
        files,
        file_index,
        albums,
        album_index,
        artists,
        artist_index,
        report,
    }
}

/// The index of the artist `id`, added when new; fills in a missing MBID.
fn touch_artist(
    artists: &mut Vec<ArtistInfo>,
    index: &mut HashMap<String, usize>,
    id: &str,
    name: &str,
    mbid: &str,
) -> usize {
    let i = *index.entry(id.to_owned()).or_insert_with(|| {
        artists.push(ArtistInfo {
            id: id.to_owned(),
            name: name.to_owned(),
            sort_name: sort_name(name).to_owned(),
            ..ArtistInfo::default()
        });
        artists.len() - 1
    });
    if artists[i].mbz_artist_id.is_empty() && !mbid.is_empty() {
        artists[i].mbz_artist_id = mbid.to_owned();
    }
    i
}
