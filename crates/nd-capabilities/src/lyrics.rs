//! The Lyrics capability (spec §4.2, §10 item 7): `nd_lyrics_get_lyrics`, with Navidrome's
//! burst protection (#5792): concurrent lookups of the same track share one call, and at most
//! [`MAX_CONCURRENT_LYRICS_CALLS`] calls per plugin run at once (further callers block).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};

use crate::ExportCaller;
use crate::call::{Reply, decode, invoke};
use crate::error::{CapabilityError, CapabilityErrorKind};
use crate::types::{LyricsText, TrackInfo, null_default};

pub(crate) const GET_LYRICS: &str = "nd_lyrics_get_lyrics";

/// The most `nd_lyrics_get_lyrics` calls one plugin runs at once (Navidrome's
/// `maxConcurrentLyricsCalls`).
pub const MAX_CONCURRENT_LYRICS_CALLS: usize = 2;

/// The language given to lyrics whose plugin left `lang` empty.
pub const UNKNOWN_LANGUAGE: &str = "xxx";

/// What a lookup returns; shared between the callers of one coalesced lookup.
type LyricsResult = Result<Option<Vec<LyricsText>>, CapabilityError>;

/// The Lyrics adapter of one plugin.
///
/// Clones share the concurrency cap and the in-flight lookups, so an application keeps one
/// adapter per loaded plugin (and clones it freely); [`Lyrics::new`] starts a fresh cap.
#[derive(Clone)]
pub struct Lyrics {
    caller: Arc<dyn ExportCaller>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Lyrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lyrics")
            .field("plugin", &self.caller.plugin_id())
            .field("pending", &self.pending())
            .finish()
    }
}

#[derive(Default)]
struct Shared {
    /// Calls running now, at most [`MAX_CONCURRENT_LYRICS_CALLS`].
    running: Mutex<usize>,
    slot_freed: Condvar,
    flights: Mutex<Flights>,
}

#[derive(Default)]
struct Flights {
    /// Lookups in progress, by request JSON.
    by_request: HashMap<String, Arc<Flight>>,
    /// Callers inside `get_lyrics` (waiting for a slot, calling, or waiting for a shared call).
    pending: usize,
}

/// One lookup that several callers wait for.
#[derive(Default)]
struct Flight {
    result: Mutex<Option<LyricsResult>>,
    done: Condvar,
}

#[derive(Serialize)]
struct GetLyricsRequest<'a> {
    track: &'a TrackInfo,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GetLyricsAnswer {
    #[serde(deserialize_with = "null_default")]
    lyrics: Vec<LyricsText>,
}

impl Lyrics {
    /// The adapter for the plugin behind `caller`, with its own concurrency cap.
    pub fn new(caller: Arc<dyn ExportCaller>) -> Self {
        Self {
            caller,
            shared: Arc::default(),
        }
    }

    /// The plugin id.
    pub fn plugin_id(&self) -> &str {
        self.caller.plugin_id()
    }

    /// How many [`Lyrics::get_lyrics`] calls are in progress on this adapter and its clones
    /// (running, waiting for a slot, or waiting for an identical lookup).
    pub fn pending(&self) -> usize {
        self.shared.flights.lock().pending
    }

    /// `nd_lyrics_get_lyrics {track}`: the lyrics the plugin has for `track`.
    ///
    /// `Ok(None)` when there are none: the plugin lacks the export, answered `-2`, empty
    /// output, `null`, or no entry with non-blank text. Entries with blank text are dropped
    /// and an empty `lang` becomes [`UNKNOWN_LANGUAGE`] (`xxx`). `Err` for a failed call or
    /// malformed output.
    ///
    /// Blocks while [`MAX_CONCURRENT_LYRICS_CALLS`] calls of this plugin are running. A call
    /// for a track whose lookup is already in progress waits for that lookup and shares its
    /// result instead of calling the plugin again.
    pub fn get_lyrics(&self, track: &TrackInfo) -> LyricsResult {
        let request = GetLyricsRequest { track };
        let key = serde_json::to_string(&request).map_err(|e| {
            CapabilityError::new(
                self.plugin_id(),
                GET_LYRICS,
                CapabilityErrorKind::Encode(e.to_string()),
            )
        })?;
        let (flight, leader) = {
            let mut flights = self.shared.flights.lock();
            flights.pending += 1;
            match flights.by_request.get(&key) {
                Some(flight) => (Arc::clone(flight), false),
                None => {
                    let flight = Arc::new(Flight::default());
                    flights.by_request.insert(key.clone(), Arc::clone(&flight));
                    (flight, true)
                }
            }
        };
        let _pending = PendingGuard(&self.shared);
        if !leader {
            let mut result = flight.result.lock();
            while result.is_none() {
                flight.done.wait(&mut result);
            }
            return result.clone().unwrap_or_else(|| Err(self.abandoned()));
        }
        let mut publish = Publish {
            lyrics: self,
            key: &key,
            flight: &flight,
            result: None,
        };
        let result = self.lookup(&request);
        publish.result = Some(result.clone());
        drop(publish);
        result
    }

    fn abandoned(&self) -> CapabilityError {
        CapabilityError::new(self.plugin_id(), GET_LYRICS, CapabilityErrorKind::Abandoned)
    }

    /// One call of the export, in a concurrency slot.
    fn lookup(&self, request: &GetLyricsRequest<'_>) -> LyricsResult {
        let _slot = Slot::acquire(&self.shared);
        let answer = match invoke(&*self.caller, GET_LYRICS, request)? {
            Reply::Missing | Reply::NotImplemented => return Ok(None),
            Reply::Output(output) => decode::<GetLyricsAnswer>(&*self.caller, GET_LYRICS, &output)?,
        };
        let lyrics: Vec<LyricsText> = answer
            .map(|a| a.lyrics)
            .unwrap_or_default()
            .into_iter()
            .filter(|l| !l.text.trim().is_empty())
            .map(|mut l| {
                if l.lang.is_empty() {
                    UNKNOWN_LANGUAGE.clone_into(&mut l.lang);
                }
                l
            })
            .collect();
        Ok((!lyrics.is_empty()).then_some(lyrics))
    }
}

/// A running-call slot; released on drop.
struct Slot<'a>(&'a Shared);

impl<'a> Slot<'a> {
    fn acquire(shared: &'a Shared) -> Self {
        let mut running = shared.running.lock();
        while *running >= MAX_CONCURRENT_LYRICS_CALLS {
            shared.slot_freed.wait(&mut running);
        }
        *running += 1;
        Slot(shared)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.running.lock() -= 1;
        self.0.slot_freed.notify_one();
    }
}

/// Counts a caller out of [`Flights::pending`] on drop.
struct PendingGuard<'a>(&'a Shared);

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.0.flights.lock().pending -= 1;
    }
}

/// Ends a coalesced lookup on drop: removes it from the in-flight map and wakes its waiters
/// with the result, or with [`CapabilityErrorKind::Abandoned`] if the leader unwound.
struct Publish<'a> {
    lyrics: &'a Lyrics,
    key: &'a str,
    flight: &'a Arc<Flight>,
    result: Option<LyricsResult>,
}

impl Drop for Publish<'_> {
    fn drop(&mut self) {
        {
            let mut flights = self.lyrics.shared.flights.lock();
            if flights
                .by_request
                .get(self.key)
                .is_some_and(|f| Arc::ptr_eq(f, self.flight))
            {
                flights.by_request.remove(self.key);
            }
        }
        let result = self
            .result
            .take()
            .unwrap_or_else(|| Err(self.lyrics.abandoned()));
        *self.flight.result.lock() = Some(result);
        self.flight.done.notify_all();
    }
}
