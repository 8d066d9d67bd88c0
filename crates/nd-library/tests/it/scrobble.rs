//! ScrobbleProvider: windows, order, counts, per-user separation, the JSON-lines log.

use std::fs;

use nd_host_appdata::provider::{ScrobbleEntry, ScrobbleProvider, ScrobbleQuery};
use nd_library::{LibraryConfig, LibraryError, MusicLibrary};

use crate::demo;

fn window(
    from: Option<i64>,
    to: Option<i64>,
    descending: bool,
    limit: usize,
    offset: usize,
) -> ScrobbleQuery {
    ScrobbleQuery {
        from,
        to,
        descending,
        limit,
        offset,
    }
}

#[test]
fn windows_are_inclusive_and_ordered_by_time_then_id() {
    let d = demo();
    let alice = d.user("alice");
    let bob = d.user("bob");
    assert_eq!(d.library.first_timestamp(&alice).unwrap(), None);
    assert_eq!(d.library.last_timestamp(&alice).unwrap(), None);
    assert_eq!(d.library.count(&alice, None, None).unwrap(), 0);

    let steam = d.id("Steam", 1);
    let drum = d.id("Kettle Drum", 2);
    // Recorded out of order; two share a timestamp.
    let a = d.library.record_scrobble("alice", &steam, 300).unwrap();
    let b = d.library.record_scrobble("alice", &drum, 100).unwrap();
    let c = d.library.record_scrobble("alice", &steam, 200).unwrap();
    let e = d.library.record_scrobble("alice", &drum, 200).unwrap();
    let other = d.library.record_scrobble("bob", &steam, 150).unwrap();
    assert!(a < b && b < c && c < e && e < other, "ids increase");

    assert_eq!(d.library.first_timestamp(&alice).unwrap(), Some(100));
    assert_eq!(d.library.last_timestamp(&alice).unwrap(), Some(300));
    assert_eq!(d.library.count(&alice, None, None).unwrap(), 4);
    assert_eq!(d.library.count(&alice, Some(200), Some(200)).unwrap(), 2);
    assert_eq!(d.library.count(&alice, Some(201), None).unwrap(), 1);
    assert_eq!(d.library.count(&alice, None, Some(99)).unwrap(), 0);
    assert_eq!(d.library.count(&alice, Some(300), Some(100)).unwrap(), 0);

    let ids = |q: ScrobbleQuery| -> Vec<i64> {
        d.library
            .scrobbles(&alice, &q)
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect()
    };
    assert_eq!(ids(window(None, None, false, 0, 0)), [b, c, e, a]);
    assert_eq!(ids(window(None, None, true, 0, 0)), [a, e, c, b]);
    assert_eq!(ids(window(Some(150), Some(250), false, 10, 0)), [c, e]);
    assert_eq!(ids(window(Some(150), Some(250), true, 10, 0)), [e, c]);
    assert_eq!(ids(window(None, None, false, 2, 1)), [c, e]);
    assert_eq!(ids(window(None, None, true, 1, 3)), [b]);
    assert_eq!(ids(window(None, None, false, 5, 9)), Vec::<i64>::new());

    let entries = d
        .library
        .scrobbles(&alice, &window(Some(100), Some(100), false, 5, 0))
        .unwrap();
    assert_eq!(
        entries,
        [ScrobbleEntry {
            id: b,
            media_file_id: drum.clone(),
            submission_time: 100
        }]
    );
    assert_eq!(d.library.count(&bob, None, None).unwrap(), 1);
    assert_eq!(d.library.first_timestamp(&bob).unwrap(), Some(150));
}

#[test]
fn unknown_users_and_tracks_are_refused() {
    let d = demo();
    let err = d
        .library
        .record_scrobble("mallory", &d.id("Steam", 1), 1)
        .unwrap_err();
    assert!(
        matches!(err, LibraryError::UnknownUser(ref u) if u == "mallory"),
        "{err}"
    );
    let err = d
        .library
        .record_scrobble("alice", "no-such-track", 1)
        .unwrap_err();
    assert!(matches!(err, LibraryError::UnknownMediaFile(_)), "{err}");
    assert_eq!(d.library.count(&d.user("alice"), None, None).unwrap(), 0);
    // A user the library does not know has no history.
    let stranger = nd_host_appdata::provider::UserInfo {
        id: "u-stranger".into(),
        ..Default::default()
    };
    assert_eq!(d.library.first_timestamp(&stranger).unwrap(), None);
}

#[test]
fn the_log_persists_history_across_restarts() {
    let d = demo();
    let log = d.dir.path().join("state/scrobbles.jsonl");
    fs::create_dir_all(log.parent().unwrap()).unwrap();
    let config = LibraryConfig {
        scrobble_log: Some(log.clone()),
        ..d.demo.config()
    };
    let steam = d.id("Steam", 1);
    let first = MusicLibrary::open(config.clone()).unwrap();
    let one = first.record_scrobble("alice", &steam, 1_000).unwrap();
    let two = first.record_scrobble("bob", &steam, 2_000).unwrap();
    drop(first);
    assert_eq!(fs::read_to_string(&log).unwrap().lines().count(), 2);

    // A damaged line is skipped, the rest is read back.
    let mut text = fs::read_to_string(&log).unwrap();
    text.push_str("{not json\n");
    fs::write(&log, text).unwrap();

    let second = MusicLibrary::open(config).unwrap();
    let alice = d.user("alice");
    let history = second
        .scrobbles(&alice, &window(None, None, false, 0, 0))
        .unwrap();
    assert_eq!(
        history,
        [ScrobbleEntry {
            id: one,
            media_file_id: steam.clone(),
            submission_time: 1_000
        }]
    );
    assert_eq!(second.annotation("alice", &steam).unwrap().play_count, 1);
    let three = second.record_scrobble("alice", &steam, 3_000).unwrap();
    assert!(three > two, "ids continue after the logged ones");
    assert_eq!(second.last_timestamp(&alice).unwrap(), Some(3_000));
}

#[test]
fn a_log_that_cannot_be_written_fails_the_scrobble() {
    let d = demo();
    let log = d.dir.path().join("scrobbles.jsonl");
    let config = LibraryConfig {
        scrobble_log: Some(log.clone()),
        ..d.demo.config()
    };
    let library = MusicLibrary::open(config.clone()).unwrap();
    // A folder where the log file should be: appending fails, nothing is recorded.
    fs::create_dir_all(&log).unwrap();
    let err = library
        .record_scrobble("alice", &d.id("Steam", 1), 5)
        .unwrap_err();
    match &err {
        LibraryError::ScrobbleLog { path, message } => {
            assert_eq!(path, &log);
            assert!(message.contains("cannot append"), "{message}");
        }
        other => panic!("expected a scrobble log error, got {other}"),
    }
    assert_eq!(library.count(&d.user("alice"), None, None).unwrap(), 0);
    // Opening with an unreadable log fails, naming it.
    let err = MusicLibrary::open(config).unwrap_err();
    assert!(matches!(err, LibraryError::ScrobbleLog { .. }), "{err}");
}
