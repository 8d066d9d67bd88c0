//! The Scrobbler capability (spec §4.2): authorization check, now-playing, scrobble and (v0.62+)
//! playback reports, with Navidrome's classification of errors by marker substring.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::ExportCaller;
use crate::call::{Reply, invoke, json_kind};
use crate::error::{CapabilityError, CapabilityErrorKind, ScrobblerError};
use crate::types::{PlaybackReport, TrackInfo};
use nd_runtime::CallErrorKind;

pub(crate) const IS_AUTHORIZED: &str = "nd_scrobbler_is_authorized";
pub(crate) const NOW_PLAYING: &str = "nd_scrobbler_now_playing";
pub(crate) const SCROBBLE: &str = "nd_scrobbler_scrobble";
pub(crate) const PLAYBACK_REPORT: &str = "nd_scrobbler_playback_report";

/// The Scrobbler adapter of one plugin.
///
/// It only talks to the plugin. Deciding which users a scrobbler may serve (Navidrome's
/// "allowed users" of the plugin, checked before `is_authorized`) and where the username
/// comes from is the application's job.
#[derive(Clone)]
pub struct Scrobbler {
    caller: Arc<dyn ExportCaller>,
}

impl fmt::Debug for Scrobbler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrobbler")
            .field("plugin", &self.caller.plugin_id())
            .finish()
    }
}

#[derive(Serialize)]
struct IsAuthorizedRequest<'a> {
    username: &'a str,
}

#[derive(Serialize)]
struct NowPlayingRequest<'a> {
    username: &'a str,
    track: &'a TrackInfo,
    position: i32,
}

#[derive(Serialize)]
struct ScrobbleRequest<'a> {
    username: &'a str,
    track: &'a TrackInfo,
    timestamp: i64,
}

impl Scrobbler {
    /// The adapter for the plugin behind `caller`.
    pub fn new(caller: Arc<dyn ExportCaller>) -> Self {
        Self { caller }
    }

    /// The plugin id.
    pub fn plugin_id(&self) -> &str {
        self.caller.plugin_id()
    }

    /// `nd_scrobbler_is_authorized {username}`: whether the user has linked the external
    /// service. The answer is JSON `true` or `false`; anything else (an error, `-2`, a missing
    /// export, empty or malformed output) is `false`, as in Navidrome.
    pub fn is_authorized(&self, username: &str) -> bool {
        let outcome = invoke(
            &*self.caller,
            IS_AUTHORIZED,
            &IsAuthorizedRequest { username },
        );
        match outcome {
            Ok(Reply::Output(output)) => match serde_json::from_slice::<serde_json::Value>(&output)
            {
                Ok(serde_json::Value::Bool(authorized)) => authorized,
                Ok(other) => {
                    tracing::debug!(
                        plugin = self.plugin_id(),
                        answer = json_kind(&other),
                        "is_authorized answered something other than a boolean"
                    );
                    false
                }
                Err(error) => {
                    tracing::debug!(plugin = self.plugin_id(), %error, "is_authorized answered malformed JSON");
                    false
                }
            },
            Ok(Reply::Missing | Reply::NotImplemented) => false,
            Err(error) => {
                tracing::debug!(%error, "is_authorized failed");
                false
            }
        }
    }

    /// `nd_scrobbler_now_playing {username, track, position}` (`position` in seconds).
    pub fn now_playing(
        &self,
        username: &str,
        track: &TrackInfo,
        position: i32,
    ) -> Result<(), ScrobblerError> {
        let request = NowPlayingRequest {
            username,
            track,
            position,
        };
        self.notify(NOW_PLAYING, &request, false)
    }

    /// `nd_scrobbler_scrobble {username, track, timestamp}` (`timestamp` in unix seconds, when
    /// the track started playing). A [`ScrobblerError::RetryLater`] asks the application to
    /// buffer the scrobble and try again.
    pub fn scrobble(
        &self,
        username: &str,
        track: &TrackInfo,
        timestamp: i64,
    ) -> Result<(), ScrobblerError> {
        let request = ScrobbleRequest {
            username,
            track,
            timestamp,
        };
        self.notify(SCROBBLE, &request, false)
    }

    /// `nd_scrobbler_playback_report` (v0.62+). Plugins built before v0.62 lack it or answer
    /// `-2`; both are ignored (`Ok`), as in Navidrome. Other errors are classified.
    pub fn playback_report(&self, report: &PlaybackReport) -> Result<(), ScrobblerError> {
        self.notify(PLAYBACK_REPORT, report, true)
    }

    /// Calls a notification export; the output, if any, is ignored. A missing export or `-2`
    /// is ignored when `optional`, and otherwise an unrecoverable error (the call could not
    /// be delivered).
    fn notify(
        &self,
        export: &str,
        request: &impl Serialize,
        optional: bool,
    ) -> Result<(), ScrobblerError> {
        let unavailable = |kind| {
            ScrobblerError::Unrecoverable(CapabilityError::new(self.plugin_id(), export, kind))
        };
        match invoke(&*self.caller, export, request) {
            Ok(Reply::Output(_)) => Ok(()),
            Ok(Reply::Missing | Reply::NotImplemented) if optional => Ok(()),
            Ok(Reply::Missing) => Err(unavailable(CapabilityErrorKind::MissingExport)),
            Ok(Reply::NotImplemented) => Err(unavailable(CapabilityErrorKind::Call(
                CallErrorKind::NotImplemented,
            ))),
            Err(error) => Err(ScrobblerError::classify(error)),
        }
    }
}
