//! Song matching (`matcher_matchsongs`, spec §3.10), after Navidrome's `core/matcher`: each
//! song is tried by id, then MusicBrainz recording id, then ISRC, then fuzzy title, and the
//! first phase that finds a track wins.
//!
//! Differences from Navidrome, on purpose: candidates are restricted to the query's libraries
//! *before* matching (Navidrome matches across all libraries and then drops out-of-scope
//! results, which can hide an in-scope match), and the title phase runs without an artist
//! too (any artist then qualifies; when one is given it must agree).

use std::cmp::Ordering;

use nd_capabilities::types::{SongRef, Track};
use nd_host_appdata::provider::MatchQuery;

use crate::MusicLibrary;
use crate::catalog::{Catalog, MediaFile};
use crate::text::{normalize, normalize_artist, normalize_isrc, similarity};

/// Navidrome's default `Matcher.FuzzyThreshold` (85%).
const FUZZY_THRESHOLD: f64 = 0.85;

/// Per-candidate user data used for tie-breaks.
#[derive(Debug, Clone, Copy, Default)]
struct Preference {
    starred: bool,
    rating: i32,
}

pub(crate) fn match_songs(
    library: &MusicLibrary,
    songs: &[SongRef],
    query: &MatchQuery,
) -> Vec<Option<Track>> {
    let catalog = library.catalog();
    let user_id = query.user.as_ref().map(|u| u.id.as_str());
    let candidates: Vec<&MediaFile> = catalog
        .files
        .iter()
        .filter(|f| !f.track.missing && query.libraries.contains(&f.track.library_id))
        .collect();
    let preference = |f: &MediaFile| -> Preference {
        match user_id {
            Some(user) => {
                let a = library.annotation_of(user, &f.track.id);
                Preference {
                    starred: a.starred,
                    rating: a.rating,
                }
            }
            None => Preference::default(),
        }
    };
    songs
        .iter()
        .map(|song| {
            let found = by_id(&catalog, song, query)
                .or_else(|| best_exact(&candidates, &preference, |f| by_mbid(f, song)))
                .or_else(|| best_exact(&candidates, &preference, |f| by_isrc(f, song)))
                .or_else(|| by_title(&candidates, &preference, song, user_id.is_some()));
            found.map(|f| {
                let mut track = f.track.clone();
                library.annotate(&mut track, user_id);
                track
            })
        })
        .collect()
}

fn by_id<'a>(catalog: &'a Catalog, song: &SongRef, query: &MatchQuery) -> Option<&'a MediaFile> {
    if song.id.is_empty() {
        return None;
    }
    catalog
        .file(&song.id)
        .filter(|f| !f.track.missing && query.libraries.contains(&f.track.library_id))
}

fn by_mbid(file: &MediaFile, song: &SongRef) -> bool {
    !song.mbid.is_empty()
        && file
            .track
            .mbz_recording_id
            .eq_ignore_ascii_case(song.mbid.trim())
}

fn by_isrc(file: &MediaFile, song: &SongRef) -> bool {
    let isrc = normalize_isrc(&song.isrc);
    !isrc.is_empty() && file.isrcs.contains(&isrc)
}

/// Navidrome's order among equally good candidates: starred first, then higher rating,
/// earlier year, non-compilation; then library and path, so the result is deterministic.
fn tie_break(a: &MediaFile, pa: Preference, b: &MediaFile, pb: Preference) -> Ordering {
    pb.starred
        .cmp(&pa.starred)
        .then(pb.rating.cmp(&pa.rating))
        .then(a.track.year.cmp(&b.track.year))
        .then(a.track.compilation.cmp(&b.track.compilation))
        .then(a.track.library_id.cmp(&b.track.library_id))
        .then(a.track.path.cmp(&b.track.path))
}

fn best_exact<'a>(
    candidates: &[&'a MediaFile],
    preference: &dyn Fn(&MediaFile) -> Preference,
    accept: impl Fn(&MediaFile) -> bool,
) -> Option<&'a MediaFile> {
    candidates
        .iter()
        .copied()
        .filter(|f| accept(f))
        .map(|f| (f, preference(f)))
        .min_by(|(a, pa), (b, pb)| tie_break(a, *pa, b, *pb))
        .map(|(f, _)| f)
}

/// 1 for an unknown or equal duration, falling towards 0 as they differ (Navidrome's
/// `durationProximity`).
fn duration_proximity(song_ms: u32, track_seconds: f64) -> f64 {
    if song_ms == 0 {
        return 1.0;
    }
    1.0 / (1.0 + (f64::from(song_ms) / 1000.0 - track_seconds).abs())
}

/// The artists a song names, normalized: `artists[].name`, else the deprecated `artist`.
fn song_artists(song: &SongRef) -> Vec<String> {
    let mut names: Vec<String> = song
        .artists
        .iter()
        .map(|a| normalize_artist(&a.name))
        .filter(|a| !a.is_empty())
        .collect();
    let legacy = normalize_artist(&song.artist);
    if !legacy.is_empty() && !names.contains(&legacy) {
        names.push(legacy);
    }
    names
}

fn by_title<'a>(
    candidates: &[&'a MediaFile],
    preference: &dyn Fn(&MediaFile) -> Preference,
    song: &SongRef,
    scoped: bool,
) -> Option<&'a MediaFile> {
    let title = normalize(&song.name);
    if title.is_empty() {
        return None;
    }
    let artists = song_artists(song);
    let album = normalize(&song.album);
    let duration_ms = song.duration_in_ms();
    let artist_mbid = song
        .artists
        .iter()
        .map(|a| a.mbid.as_str())
        .find(|m| !m.is_empty())
        .unwrap_or(song.artist_mbid.as_str());

    struct Scored<'a> {
        file: &'a MediaFile,
        title: f64,
        duration: f64,
        preferred: bool,
        specificity: u8,
        album: f64,
        pref: Preference,
    }
    let better = |a: &Scored<'_>, b: &Scored<'_>| -> Ordering {
        // Greater is better for every score; the tie-break sorts the best first.
        a.title
            .total_cmp(&b.title)
            .then(a.duration.total_cmp(&b.duration))
            .then(a.preferred.cmp(&b.preferred))
            .then(a.specificity.cmp(&b.specificity))
            .then(a.album.total_cmp(&b.album))
            .then_with(|| tie_break(b.file, b.pref, a.file, a.pref))
    };

    candidates
        .iter()
        .copied()
        .filter(|f| artists.is_empty() || f.norm_artists.iter().any(|a| artists.contains(a)))
        .filter_map(|f| {
            let title_sim = similarity(&title, &f.norm_title);
            if title_sim < FUZZY_THRESHOLD {
                return None;
            }
            let pref = preference(f);
            let album_sim = if album.is_empty() {
                0.0
            } else {
                similarity(&album, &f.norm_album)
            };
            let mbid_agrees = !artist_mbid.is_empty() && f.artist_mbid == artist_mbid;
            let album_agrees = !album.is_empty() && album_sim >= FUZZY_THRESHOLD;
            let album_mbid_agrees =
                !song.album_mbid.is_empty() && f.track.mbz_album_id == song.album_mbid;
            let specificity = match (mbid_agrees, album_mbid_agrees, album_agrees) {
                (true, true, _) => 5,
                (true, _, true) => 4,
                (false, _, true) if !artists.is_empty() => 3,
                (true, _, _) => 2,
                _ if !artists.is_empty() => 1,
                _ => 0,
            };
            Some(Scored {
                file: f,
                title: title_sim,
                duration: duration_proximity(duration_ms, f.track.duration),
                preferred: scoped && (pref.starred || pref.rating >= 4),
                specificity,
                album: album_sim,
                pref,
            })
        })
        .max_by(better)
        .map(|s| s.file)
}
