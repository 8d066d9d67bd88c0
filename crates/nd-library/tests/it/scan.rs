//! Scanning: tags read back exactly, totals, bad files, links, rescans, configuration errors.

use std::fs;

use nd_host_appdata::provider::LibraryProvider;
use nd_library::demo::DemoFormat;
use nd_library::{LibraryConfig, LibraryError, LibraryRoot, MusicLibrary, UserAnnotation};

use crate::demo;

#[test]
fn every_demo_tag_reads_back_exactly() {
    let d = demo();
    assert_eq!(d.library.tracks().len(), d.demo.tracks.len());
    assert!(d.library.last_scan().skipped.is_empty());
    for expected in &d.demo.tracks {
        let t = d
            .library
            .track(&expected.id())
            .unwrap_or_else(|| panic!("{} not scanned", expected.path));
        let ctx = expected.path;
        assert_eq!(t.id, expected.id(), "{ctx}");
        assert_eq!(t.library_id, expected.library_id, "{ctx}");
        assert_eq!(
            t.library_name,
            if expected.library_id == 1 {
                "Music"
            } else {
                "Extra"
            },
            "{ctx}"
        );
        assert_eq!(t.path, expected.path, "{ctx}");
        assert_eq!(t.title, expected.title, "{ctx}");
        assert_eq!(t.artist, expected.artist, "{ctx}");
        assert_eq!(t.album, expected.album, "{ctx}");
        let album_artist = match (expected.album_artist, expected.compilation) {
            ("", true) => "Various Artists",
            ("", false) => expected.artist,
            (a, _) => a,
        };
        assert_eq!(t.album_artist, album_artist, "{ctx}");
        assert_eq!(t.track_number, expected.track_number as i32, "{ctx}");
        assert_eq!(t.disc_number, expected.disc_number as i32, "{ctx}");
        assert_eq!(t.date, expected.date, "{ctx}");
        assert_eq!(t.year, expected.date[..4].parse::<i32>().unwrap(), "{ctx}");
        assert_eq!(t.genres, expected.genres, "{ctx}");
        assert_eq!(t.comment, expected.comment, "{ctx}");
        assert_eq!(t.compilation, expected.compilation, "{ctx}");
        assert_eq!(t.bpm, expected.bpm.map(|b| b as i32), "{ctx}");
        let isrcs = t.tags.get("isrc").cloned().unwrap_or_default();
        if expected.isrc.is_empty() {
            assert!(isrcs.is_empty(), "{ctx}");
        } else {
            assert_eq!(isrcs, [expected.isrc], "{ctx}");
        }
        assert_eq!(t.mbz_recording_id, expected.mbz_recording_id, "{ctx}");
        assert_eq!(
            t.mbz_release_track_id, expected.mbz_release_track_id,
            "{ctx}"
        );
        assert_eq!(t.mbz_album_id, expected.mbz_album_id, "{ctx}");
        assert_eq!(
            t.mbz_release_group_id, expected.mbz_release_group_id,
            "{ctx}"
        );
        let artist = t
            .participants
            .iter()
            .find(|p| p.role == "artist")
            .expect("an artist participant");
        assert_eq!(artist.name, expected.artist, "{ctx}");
        assert_eq!(artist.mbid, expected.mbz_artist_id, "{ctx}");
        assert_eq!(t.rg_track_gain, expected.rg_track_gain, "{ctx}");
        assert_eq!(t.rg_track_peak, expected.rg_track_peak, "{ctx}");
        assert_eq!(t.rg_album_gain, expected.rg_album_gain, "{ctx}");
        assert_eq!(t.rg_album_peak, expected.rg_album_peak, "{ctx}");
        assert_eq!(t.has_cover_art, expected.cover_art, "{ctx}");
        assert!(
            (t.duration - f64::from(expected.duration_ms) / 1000.0).abs() < 0.002,
            "{ctx}: duration {}",
            t.duration
        );
        assert_eq!(t.sample_rate, expected.sample_rate as i32, "{ctx}");
        assert_eq!(t.channels, i32::from(expected.channels), "{ctx}");
        assert_eq!(
            t.bit_depth,
            Some(i32::from(expected.bits_per_sample)),
            "{ctx}"
        );
        assert!(t.bit_rate > 0, "{ctx}");
        let (suffix, codec) = match expected.format {
            DemoFormat::Flac => ("flac", "FLAC"),
            DemoFormat::Wav => ("wav", "PCM"),
        };
        assert_eq!(t.suffix, suffix, "{ctx}");
        assert_eq!(t.codec, codec, "{ctx}");
        let file = d.demo.file(expected);
        assert_eq!(t.size as u64, fs::metadata(&file).unwrap().len(), "{ctx}");
        assert_eq!(d.library.track_file(&t.id), Some(file), "{ctx}");
        assert!(!t.missing);
        // No user: no per-user annotations.
        assert!(!t.starred && t.rating == 0 && t.play_count == 0, "{ctx}");
    }
}

#[test]
fn library_totals_add_up() {
    let d = demo();
    let libs = d.library.libraries().unwrap();
    assert_eq!(libs.len(), 2);
    let tracks = d.library.tracks();
    for lib in &libs {
        let mine: Vec<_> = tracks.iter().filter(|t| t.library_id == lib.id).collect();
        assert_eq!(lib.total_songs as usize, mine.len());
        assert_eq!(lib.total_size, mine.iter().map(|t| t.size).sum::<i64>());
        let duration: f64 = mine.iter().map(|t| t.duration).sum();
        assert!((lib.total_duration - duration).abs() < 1e-9);
        assert_eq!(lib.last_scan_at, d.library.last_scan().scanned_at);
        assert!(lib.last_scan_at > 1_600_000_000);
    }
    let music = &libs[0];
    assert_eq!((music.id, music.name.as_str()), (1, "Music"));
    assert_eq!(music.path, d.dir.path().join("music"));
    assert_eq!(
        (music.total_songs, music.total_albums, music.total_artists),
        (9, 3, 3)
    );
    let extra = &libs[1];
    // Three performers plus "Various Artists", the compilation's album artist.
    assert_eq!(
        (extra.total_songs, extra.total_albums, extra.total_artists),
        (3, 1, 4)
    );
    assert!(
        (music.total_duration - 6.6).abs() < 0.01,
        "{}",
        music.total_duration
    );

    let albums = d.library.albums();
    assert_eq!(albums.len(), 4);
    let night_flight = albums.iter().find(|a| a.name == "Night Flight").unwrap();
    assert_eq!(night_flight.song_count, 4);
    assert_eq!(night_flight.year, 2019);
    assert_eq!(
        night_flight.cover_track_id.as_deref(),
        Some(d.id("Take Off", 1).as_str())
    );
    assert_eq!(night_flight.track_ids[0], d.id("Take Off", 1));
    let compilation = albums.iter().find(|a| a.compilation).unwrap();
    assert_eq!(compilation.artist, "Various Artists");
    assert_eq!(compilation.library_id, 2);
    let artists = d.library.artists();
    let names: Vec<&str> = artists.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Aurora Vale",
            "DJ Kettle",
            "The Midnight Owls",
            "Various Artists"
        ]
    );
    let owls = artists
        .iter()
        .find(|a| a.name == "The Midnight Owls")
        .unwrap();
    assert_eq!(owls.sort_name, "Midnight Owls");
    assert_eq!(owls.song_count, 5);
    assert_eq!(owls.album_ids, std::slice::from_ref(&night_flight.id));
}

#[test]
fn a_broken_file_is_skipped_not_fatal() {
    let d = demo();
    let root = d.dir.path().join("music");
    fs::write(
        root.join("broken.flac"),
        b"this is not a flac stream at all",
    )
    .unwrap();
    fs::write(root.join("truncated.wav"), b"RIFF\x10\x00\x00\x00WAVE").unwrap();
    fs::write(root.join("notes.txt"), b"not audio, not even looked at").unwrap();
    fs::write(root.join(".hidden.flac"), b"hidden, not looked at").unwrap();
    let library = MusicLibrary::open(d.demo.config()).unwrap();
    assert_eq!(library.tracks().len(), d.demo.tracks.len());
    let report = library.last_scan();
    let mut skipped: Vec<String> = report
        .skipped
        .iter()
        .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    skipped.sort();
    assert_eq!(skipped, ["broken.flac", "truncated.wav"]);
    assert!(report.skipped.iter().all(|s| !s.reason.is_empty()));
    assert_eq!(report.tracks, d.demo.tracks.len());
}

#[test]
fn rescan_picks_up_changes_and_keeps_ids() {
    let d = demo();
    let before = d.library.track(&d.id("Steam", 1)).unwrap();
    let src = d.demo.file(d.demo.track("Glass Garden").unwrap());
    let copy = d.dir.path().join("music/Copies/Glass Garden (copy).flac");
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    fs::copy(&src, &copy).unwrap();
    fs::remove_file(d.demo.file(d.demo.track("Whistle Stop").unwrap())).unwrap();
    let clone = d.library.clone();

    let report = d.library.rescan().unwrap();
    assert_eq!(report.tracks, d.demo.tracks.len());
    assert_eq!(
        clone.tracks().len(),
        d.demo.tracks.len(),
        "clones share the catalog"
    );
    let after = d.library.track(&d.id("Steam", 1)).unwrap();
    assert_eq!(after.id, before.id);
    assert!(d.library.track(&d.id("Whistle Stop", 1)).is_none());
    let copied = d
        .library
        .track(&nd_library::track_id(1, "Copies/Glass Garden (copy).flac"))
        .unwrap();
    assert_eq!(copied.title, "Glass Garden");
    assert_eq!(
        copied.album_id,
        d.library.track(&d.id("Glass Garden", 1)).unwrap().album_id
    );
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_followed_once() {
    use std::os::unix::fs::symlink;

    let d = demo();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let album = root.join("album");
    fs::create_dir_all(&album).unwrap();
    fs::copy(
        d.demo.file(d.demo.track("Take Off").unwrap()),
        album.join("take-off.flac"),
    )
    .unwrap();
    // A loop back to the root, and a link to a folder outside it.
    symlink(&root, album.join("loop")).unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::copy(
        d.demo.file(d.demo.track("Steam").unwrap()),
        outside.join("steam.wav"),
    )
    .unwrap();
    symlink(&outside, root.join("linked")).unwrap();
    symlink(root.join("missing-target"), root.join("dangling.flac")).unwrap();

    let library = MusicLibrary::open(LibraryConfig {
        roots: vec![LibraryRoot {
            id: 7,
            name: "Linked".into(),
            path: root.clone(),
        }],
        ..LibraryConfig::default()
    })
    .unwrap();
    let mut paths: Vec<String> = library.tracks().into_iter().map(|t| t.path).collect();
    paths.sort();
    assert_eq!(paths, ["album/take-off.flac", "linked/steam.wav"]);
}

#[test]
fn title_falls_back_to_the_file_name() {
    let d = demo();
    let dir = tempfile::tempdir().unwrap();
    // Copy a demo file, then strip its tag (lofty drops the picture blocks with it).
    let target = dir.path().join("Untagged Song.flac");
    fs::copy(d.demo.file(d.demo.track("Take Off").unwrap()), &target).unwrap();
    lofty::tag::TagType::VorbisComments
        .remove_from_path(&target)
        .unwrap();
    let library = MusicLibrary::open(LibraryConfig {
        roots: vec![LibraryRoot {
            id: 3,
            name: "Loose".into(),
            path: dir.path().to_path_buf(),
        }],
        ..LibraryConfig::default()
    })
    .unwrap();
    let tracks = library.tracks();
    assert_eq!(tracks.len(), 1);
    let t = &tracks[0];
    assert_eq!(t.title, "Untagged Song");
    assert_eq!(t.album, "[Unknown Album]");
    assert_eq!(t.artist, "[Unknown Artist]");
    assert_eq!(t.genres, Vec::<String>::new());
    assert!(!t.has_cover_art);
    assert_eq!((t.track_number, t.year, t.bpm), (0, 0, None));
    // The audio properties come from the stream, not the tag.
    assert_eq!((t.sample_rate, t.channels), (44_100, 2));
}

#[test]
fn bad_configurations_are_refused() {
    let d = demo();
    let root = |id: i32| LibraryRoot {
        id,
        name: format!("lib{id}"),
        path: d.dir.path().join("music"),
    };
    let open = |config: LibraryConfig| MusicLibrary::open(config).map(|_| ());

    let err = open(LibraryConfig {
        roots: vec![root(1), root(1)],
        ..LibraryConfig::default()
    })
    .unwrap_err();
    assert!(matches!(err, LibraryError::InvalidConfig(_)), "{err}");
    assert!(
        err.to_string().contains("library id 1 is used twice"),
        "{err}"
    );

    let err = open(LibraryConfig {
        roots: vec![root(0)],
        ..LibraryConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("id 0"), "{err}");

    let mut users = nd_library::demo::demo_users();
    users.push(nd_host_appdata::provider::UserInfo {
        id: "u-other".into(),
        user_name: "ALICE".into(),
        ..Default::default()
    });
    let err = open(LibraryConfig {
        users,
        ..LibraryConfig::default()
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("user name \"ALICE\" is used twice"),
        "{err}"
    );

    let err = open(LibraryConfig {
        annotations: vec![UserAnnotation {
            user: "mallory".into(),
            media_file_id: d.id("Take Off", 1),
            annotation: Default::default(),
        }],
        ..d.demo.config()
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown user \"mallory\""),
        "{err}"
    );

    let err = open(LibraryConfig {
        artwork: nd_library::ArtworkConfig {
            base_url: "localhost:4533".into(),
            secret: b"k".to_vec(),
        },
        ..LibraryConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("not an http(s) URL"), "{err}");

    let missing = d.dir.path().join("no-such-folder");
    let err = open(LibraryConfig {
        roots: vec![LibraryRoot {
            id: 1,
            name: "Gone".into(),
            path: missing.clone(),
        }],
        ..LibraryConfig::default()
    })
    .unwrap_err();
    match err {
        LibraryError::Root { path, .. } => assert_eq!(path, missing),
        other => panic!("expected a root error, got {other}"),
    }
}

#[test]
fn readers_keep_working_while_a_rescan_swaps_the_catalog() {
    use nd_capabilities::types::SongRef;
    use nd_host_appdata::provider::{MatchProvider, MatchQuery};

    let d = demo();
    let id = d.id("Slow Tide", 1);
    let query = MatchQuery {
        libraries: vec![1],
        user: Some(d.user("alice")),
    };
    let song = SongRef {
        id: id.clone(),
        ..SongRef::default()
    };
    std::thread::scope(|s| {
        let rescans = s.spawn(|| {
            for _ in 0..5 {
                d.library.rescan().unwrap();
            }
        });
        for _ in 0..4 {
            let library = d.library.clone();
            let (song, query, id) = (song.clone(), query.clone(), id.clone());
            s.spawn(move || {
                for _ in 0..50 {
                    let found = library
                        .match_songs(std::slice::from_ref(&song), &query)
                        .unwrap();
                    assert_eq!(found[0].as_ref().map(|t| t.id.as_str()), Some(id.as_str()));
                    assert_eq!(found[0].as_ref().map(|t| t.rating), Some(4));
                }
            });
        }
        rescans.join().unwrap();
    });
}
