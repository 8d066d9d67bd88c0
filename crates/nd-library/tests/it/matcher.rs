//! MatchProvider: phase order, library restriction, fuzzy titles, tie-breaks, annotations.

use nd_capabilities::types::{ArtistRef, SongRef};
use nd_host_appdata::provider::{MatchProvider, MatchQuery};
use nd_library::Annotation;

use crate::{Demo, demo};

fn query(libraries: &[i32]) -> MatchQuery {
    MatchQuery {
        libraries: libraries.to_vec(),
        user: None,
    }
}

fn song(f: impl FnOnce(&mut SongRef)) -> SongRef {
    let mut s = SongRef::default();
    f(&mut s);
    s
}

/// The titles (and library ids) of what matched.
fn matched(d: &Demo, songs: &[SongRef], q: &MatchQuery) -> Vec<Option<(String, i32)>> {
    d.library
        .match_songs(songs, q)
        .unwrap()
        .into_iter()
        .map(|t| t.map(|t| (t.title, t.library_id)))
        .collect()
}

fn some(title: &str, lib: i32) -> Option<(String, i32)> {
    Some((title.to_owned(), lib))
}

#[test]
fn phases_run_in_order_id_mbid_isrc_title() {
    let d = demo();
    let take_off = d.demo.track("Take Off").unwrap();
    let cruising = d.demo.track("Cruising Altitude").unwrap();
    let slow_tide = d.demo.track("Slow Tide").unwrap();
    let songs = [
        // id beats MBID
        song(|s| {
            s.id = take_off.id();
            s.mbid = cruising.mbz_recording_id.into();
        }),
        // MBID beats ISRC
        song(|s| {
            s.mbid = cruising.mbz_recording_id.into();
            s.isrc = take_off.isrc.into();
        }),
        // ISRC beats title (ISRC compared without case or dashes)
        song(|s| {
            s.isrc = "gb-av1-21-00002".into();
            s.name = "Take Off".into();
            s.artist = "The Midnight Owls".into();
        }),
        // an unknown id falls through to the title
        song(|s| {
            s.id = "no-such-id".into();
            s.mbid = "00000000-0000-0000-0000-000000000000".into();
            s.name = "Glass Garden".into();
        }),
    ];
    assert_eq!(
        matched(&d, &songs, &query(&[1, 2])),
        [
            some("Take Off", 1),
            some("Cruising Altitude", 1),
            some(slow_tide.title, 1),
            some("Glass Garden", 1),
        ]
    );
}

#[test]
fn fuzzy_titles_ignore_case_punctuation_and_diacritics() {
    let d = demo();
    let songs = [
        song(|s| {
            s.name = "cafe lumiere".into();
            s.artist = "AURORA VALE".into();
        }),
        song(|s| {
            s.name = "Turbulence - Live".into();
            s.artists = vec![ArtistRef {
                name: "Midnight Owls".into(),
                ..ArtistRef::default()
            }];
        }),
        // A near miss above the 85% threshold.
        song(|s| {
            s.name = "Whistle Stops".into();
            s.artist = "DJ Kettle".into();
        }),
        // The artist must agree when given.
        song(|s| {
            s.name = "Take Off".into();
            s.artist = "DJ Kettle".into();
        }),
        song(|s| s.name = "Nothing Like It".into()),
        SongRef::default(),
    ];
    assert_eq!(
        matched(&d, &songs, &query(&[1, 2])),
        [
            some("Café Lumière", 1),
            some("Turbulence (Live)", 1),
            some("Whistle Stop", 1),
            None,
            None,
            None,
        ]
    );
}

#[test]
fn matches_stay_inside_the_query_libraries() {
    let d = demo();
    let vale_lights = d.demo.track("Vale Lights").unwrap();
    let songs = [
        song(|s| s.id = vale_lights.id()),
        song(|s| s.isrc = vale_lights.isrc.into()),
        song(|s| s.mbid = vale_lights.mbz_recording_id.into()),
        song(|s| s.name = "Vale Lights".into()),
    ];
    assert_eq!(matched(&d, &songs, &query(&[1])), [None, None, None, None]);
    assert_eq!(
        matched(&d, &songs, &query(&[2])),
        [
            some("Vale Lights", 2),
            some("Vale Lights", 2),
            None, // the compilation's "Vale Lights" has no MBID
            some("Vale Lights", 2),
        ]
    );
    // Two "Landing Lights" exist; restricted to one library only that one can match.
    let landing = song(|s| {
        s.name = "Landing Lights".into();
        s.artist = "The Midnight Owls".into();
        s.duration_ms = 1500;
    });
    assert_eq!(
        matched(&d, std::slice::from_ref(&landing), &query(&[1])),
        [some("Landing Lights", 1)]
    );
    assert_eq!(
        matched(&d, &[landing], &query(&[1, 2])),
        [some("Landing Lights", 2)]
    );
}

#[test]
fn duration_then_preference_then_year_break_ties() {
    let d = demo();
    let landing = |ms: u32| {
        song(|s| {
            s.name = "Landing Lights".into();
            s.artist = "The Midnight Owls".into();
            s.duration_ms = ms;
        })
    };
    // The album version lasts 1.0 s, the compilation's 1.5 s.
    assert_eq!(
        matched(
            &d,
            &[landing(1000), landing(1400), landing(0)],
            &query(&[1, 2])
        ),
        [
            some("Landing Lights", 1),
            some("Landing Lights", 2),
            some("Landing Lights", 1)
        ]
    );
    // Without a duration, bob's star on the compilation version wins for bob; for anyone
    // else the earlier year (2019) wins.
    let as_bob = MatchQuery {
        libraries: vec![1, 2],
        user: Some(d.user("bob")),
    };
    assert_eq!(
        matched(&d, &[landing(0)], &as_bob),
        [some("Landing Lights", 2)]
    );
    let as_alice = MatchQuery {
        libraries: vec![1, 2],
        user: Some(d.user("alice")),
    };
    assert_eq!(
        matched(&d, &[landing(0)], &as_alice),
        [some("Landing Lights", 1)]
    );
}

#[test]
fn tracks_carry_paths_and_the_users_annotations() {
    let d = demo();
    let take_off = d.demo.track("Take Off").unwrap();
    d.library
        .record_scrobble("alice", &take_off.id(), 1_700_000_500)
        .unwrap();
    d.library
        .record_scrobble("u-alice", &take_off.id(), 1_700_000_900)
        .unwrap();
    let songs = [song(|s| s.id = take_off.id())];

    let anonymous = d.library.match_songs(&songs, &query(&[1])).unwrap();
    let t = anonymous[0].as_ref().unwrap();
    assert_eq!(t.path, take_off.path);
    assert_eq!(t.library_name, "Music");
    assert_eq!(t.average_rating, 3.5, "alice rates it 5, bob 2");
    assert!(!t.starred);
    assert_eq!(
        (t.rating, t.play_count, t.play_date, t.starred_at),
        (0, 0, None, None)
    );

    let as_alice = MatchQuery {
        libraries: vec![1],
        user: Some(d.user("alice")),
    };
    let t = d
        .library
        .match_songs(&songs, &as_alice)
        .unwrap()
        .remove(0)
        .unwrap();
    assert!(t.starred);
    assert_eq!(t.starred_at, Some(nd_library::demo::DEMO_STARRED_AT));
    assert_eq!(t.rating, 5);
    assert_eq!(t.play_count, 2);
    assert_eq!(t.play_date, Some(1_700_000_900));

    let as_bob = MatchQuery {
        libraries: vec![1],
        user: Some(d.user("bob")),
    };
    let t = d
        .library
        .match_songs(&songs, &as_bob)
        .unwrap()
        .remove(0)
        .unwrap();
    assert!(!t.starred);
    assert_eq!((t.rating, t.play_count), (2, 0));

    // Annotations change at run time.
    d.library
        .set_annotation(
            "bob",
            &take_off.id(),
            Annotation {
                rating: 4,
                play_count: 10,
                play_date: Some(1_600_000_000),
                ..Annotation::default()
            },
        )
        .unwrap();
    let t = d
        .library
        .match_songs(&songs, &as_bob)
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(
        (t.rating, t.play_count, t.play_date),
        (4, 10, Some(1_600_000_000))
    );
    assert_eq!(t.average_rating, 4.5);
    assert!(
        d.library
            .set_annotation("nobody", &take_off.id(), Annotation::default())
            .is_err()
    );
    assert!(
        d.library
            .set_annotation("bob", "no-such-track", Annotation::default())
            .is_err()
    );
}

#[test]
fn results_keep_input_length_and_order() {
    let d = demo();
    let names = ["Steam", "nope", "Kettle Drum", "Steam", ""];
    let songs: Vec<SongRef> = names
        .iter()
        .map(|n| song(|s| s.name = (*n).into()))
        .collect();
    assert_eq!(
        matched(&d, &songs, &query(&[1, 2])),
        [
            some("Steam", 1),
            None,
            some("Kettle Drum", 2),
            some("Steam", 1),
            None
        ]
    );
    assert!(d.library.match_songs(&[], &query(&[1])).unwrap().is_empty());
}
