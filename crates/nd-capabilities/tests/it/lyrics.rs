//! The Lyrics adapter against `lyrics` (a port of Navidrome's test-lyrics): answers, the
//! `xxx` language, "not found" versus failure, and the burst protection (at most two calls
//! at once per plugin; identical lookups share one call).

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nd_capabilities::types::{LyricsFormat, LyricsText, TrackInfo};
use nd_capabilities::{CapabilityErrorKind, ExportCaller, Lyrics, MAX_CONCURRENT_LYRICS_CALLS};
use nd_runtime::{CallError, CallErrorKind, Plugin};
use parking_lot::{Condvar, Mutex};
use serde_json::json;

use crate::{Gated, load, load_with, recording, wait_for};

fn track(title: &str) -> TrackInfo {
    TrackInfo {
        id: format!("tr-{title}"),
        title: title.into(),
        artist: "Björk".into(),
        ..Default::default()
    }
}

fn lyrics(config: &[(&str, &str)]) -> Lyrics {
    Lyrics::new(Arc::new(load("lyrics", config)))
}

#[test]
fn answers_the_test_lyrics_and_sends_the_track() {
    let (record, caller) = recording(load("lyrics", &[]));
    let found = Lyrics::new(caller)
        .get_lyrics(&track("Joga"))
        .unwrap()
        .unwrap();
    assert_eq!(
        found,
        [LyricsText {
            lang: "eng".into(),
            text: "Test lyrics for Joga\nBy Björk".into()
        }]
    );
    assert_eq!(found[0].format(), LyricsFormat::Plain);
    let call = record.only_call();
    assert_eq!(call.export, "nd_lyrics_get_lyrics");
    assert_eq!(
        call.input,
        json!({"track": {
            "id": "tr-Joga", "title": "Joga", "album": "", "artist": "Björk", "albumArtist": "",
            "artists": [], "albumArtists": [], "duration": 0.0, "trackNumber": 0, "discNumber": 0,
        }})
    );
}

#[test]
fn an_empty_language_becomes_xxx() {
    let found = lyrics(&[("no_lang", "true")])
        .get_lyrics(&track("Joga"))
        .unwrap()
        .unwrap();
    assert_eq!(found[0].lang, "xxx");
    assert_eq!(found[0].text, "Test lyrics for Joga\nBy Björk");
}

#[test]
fn rich_formats_are_passed_through_and_sniffed() {
    let found = lyrics(&[("format", "ttml")])
        .get_lyrics(&track("Joga"))
        .unwrap()
        .unwrap();
    assert_eq!(found[0].lang, "eng");
    assert_eq!(found[0].format(), LyricsFormat::Ttml);
    assert!(found[0].text.contains("plugin ttml line"));
    let found = lyrics(&[("format", "lrc")])
        .get_lyrics(&track("Joga"))
        .unwrap()
        .unwrap();
    assert_eq!(found[0].format(), LyricsFormat::Lrc);
    assert_eq!(
        found[0].text,
        "[ar:Björk]\n[00:01.00]Joga\n[00:05.50]By Björk"
    );
}

#[test]
fn blank_entries_are_dropped() {
    let found = lyrics(&[("format", "multi")])
        .get_lyrics(&track("Joga"))
        .unwrap()
        .unwrap();
    assert_eq!(
        found,
        [
            LyricsText {
                lang: "eng".into(),
                text: "Test lyrics for Joga".into()
            },
            LyricsText {
                lang: "xxx".into(),
                text: "Sem idioma: Joga".into()
            },
        ]
    );
}

#[test]
fn no_lyrics_is_none_and_failures_are_errors() {
    for config in [
        [("format", "none")],
        [("output", "empty")],
        [("output", "null")],
    ] {
        assert_eq!(
            lyrics(&config).get_lyrics(&track("Joga")),
            Ok(None),
            "{config:?}"
        );
    }
    let error = lyrics(&[("error", "no match")])
        .get_lyrics(&track("Joga"))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "plugin 'lyrics': nd_lyrics_get_lyrics: plugin call failed: no match"
    );
    let error = lyrics(&[("output", "malformed")])
        .get_lyrics(&track("Joga"))
        .unwrap_err();
    assert!(
        matches!(error.kind, CapabilityErrorKind::MalformedOutput(_)),
        "{error:?}"
    );
    // A plugin without the export: no lyrics, and no call.
    let (record, caller) = recording(load("sonic", &[]));
    assert_eq!(Lyrics::new(caller).get_lyrics(&track("Joga")), Ok(None));
    assert!(record.calls().is_empty());
}

#[test]
fn a_call_past_its_time_limit_is_a_timeout() {
    let plugin = load_with("lyrics", &[("delay_ms", "5000")], |config| {
        config.timeout = Duration::from_millis(300);
    });
    let error = Lyrics::new(Arc::new(plugin))
        .get_lyrics(&track("Joga"))
        .unwrap_err();
    assert!(
        matches!(error.call_kind(), Some(CallErrorKind::Timeout { .. })),
        "{error:?}"
    );
}

/// Counts calls in flight. Each call first waits (up to 10 s) until a second call is in flight
/// or every expected call has started, so that a cap of 2 is always reached; a cap above 2
/// shows as a higher maximum, a cap of 1 as a maximum of 1 after the wait times out.
#[derive(Debug)]
struct Counting {
    plugin: Plugin,
    expected: usize,
    state: Mutex<Counts>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Counts {
    in_flight: usize,
    started: usize,
    max_in_flight: usize,
}

impl ExportCaller for Counting {
    fn plugin_id(&self) -> &str {
        self.plugin.id()
    }
    fn has_export(&self, name: &str) -> bool {
        self.plugin.has_export(name)
    }
    fn call(&self, export: &str, input: &[u8]) -> Result<Vec<u8>, CallError> {
        {
            let mut counts = self.state.lock();
            counts.in_flight += 1;
            counts.started += 1;
            counts.max_in_flight = counts.max_in_flight.max(counts.in_flight);
            self.changed.notify_all();
            let deadline = Instant::now() + Duration::from_secs(10);
            while counts.in_flight < 2 && counts.started < self.expected {
                if self.changed.wait_until(&mut counts, deadline).timed_out() {
                    break;
                }
            }
        }
        let result = self.plugin.call(export, input);
        self.state.lock().in_flight -= 1;
        self.changed.notify_all();
        result
    }
}

#[test]
fn at_most_two_calls_run_at_once_and_the_others_wait() {
    const CALLERS: usize = 5;
    let counting = Arc::new(Counting {
        plugin: load("lyrics", &[("delay_ms", "150")]),
        expected: CALLERS,
        state: Mutex::default(),
        changed: Condvar::new(),
    });
    let adapter = Lyrics::new(counting.clone());
    let threads: Vec<_> = (0..CALLERS)
        .map(|i| {
            let adapter = adapter.clone();
            thread::spawn(move || adapter.get_lyrics(&track(&format!("Song {i}"))))
        })
        .collect();
    for (i, handle) in threads.into_iter().enumerate() {
        let found = handle.join().unwrap().unwrap().unwrap();
        assert_eq!(found[0].text, format!("Test lyrics for Song {i}\nBy Björk"));
    }
    let counts = counting.state.lock();
    assert_eq!(
        counts.started, CALLERS,
        "distinct tracks are separate calls"
    );
    assert_eq!(counts.max_in_flight, 2);
    assert_eq!(
        MAX_CONCURRENT_LYRICS_CALLS, 2,
        "Navidrome's maxConcurrentLyricsCalls"
    );
    assert_eq!(adapter.pending(), 0);
}

#[test]
fn identical_lookups_in_flight_share_one_call() {
    let gated = Gated::new(load("lyrics", &[]));
    let adapter = Lyrics::new(gated.clone());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let adapter = adapter.clone();
            thread::spawn(move || adapter.get_lyrics(&track("Joga")))
        })
        .collect();
    // Wait until all four callers are inside `get_lyrics`: the first is held in the plugin
    // call, the other three have joined its lookup.
    wait_for("four callers", || adapter.pending() == 4);
    gated.open();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        gated.calls(),
        1,
        "one plugin call for four identical lookups"
    );
    for result in &results {
        assert_eq!(result, &results[0]);
    }
    assert_eq!(
        results[0].as_ref().unwrap().as_ref().unwrap()[0].lang,
        "eng"
    );
    // Nothing is cached once the lookup is over.
    adapter.get_lyrics(&track("Joga")).unwrap();
    assert_eq!(gated.calls(), 2);
    assert_eq!(adapter.pending(), 0);
}

#[test]
fn a_shared_failure_reaches_every_waiter() {
    let gated = Gated::new(load("lyrics", &[("error", "rate limited")]));
    let adapter = Lyrics::new(gated.clone());
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let adapter = adapter.clone();
            thread::spawn(move || adapter.get_lyrics(&track("Joga")))
        })
        .collect();
    wait_for("three callers", || adapter.pending() == 3);
    gated.open();
    for handle in threads {
        let error = handle.join().unwrap().unwrap_err();
        assert_eq!(error.plugin_message(), Some("rate limited"));
    }
    assert_eq!(gated.calls(), 1);
}
