//! Webhook scrobbler: posts every scrobble (and, when `nowPlaying` / `playbackReports` are
//! on, every now-playing event / playback report) as a JSON document to each configured
//! webhook URL, with the `http_send` host service. See README.md for the payloads and the
//! configuration.
//!
//! Failures map to Navidrome's scrobbler error classes: a 5xx answer, a timeout or an
//! unreachable URL is `scrobbler(retry_later)` (Navidrome keeps the scrobble and retries);
//! any other non-2xx answer is `scrobbler(unrecoverable)`. Every URL is tried; the worst
//! class wins, `retry_later` over `unrecoverable`.

use nd_pdk::capability::Scrobbler;
use nd_pdk::host::config;
use nd_pdk::host::http::{self, HttpRequest};
use nd_pdk::types::{
    IsAuthorizedRequest, NowPlayingRequest, PlaybackReport, ScrobbleRequest, TrackInfo,
};
use nd_pdk::{Error, Result};
use serde::Serialize;

/// The default per-request timeout, in milliseconds.
const DEFAULT_TIMEOUT_MS: i32 = 5_000;
/// Sent as `User-Agent`.
const USER_AGENT: &str = concat!("ndp-webhook-scrobbler/", env!("CARGO_PKG_VERSION"));

#[derive(Default)]
struct Webhook;

nd_pdk::register_scrobbler!(Webhook, playback_report);

/// The plugin configuration, read on every call (instances do not outlive a call).
struct Settings {
    urls: Vec<String>,
    users: Vec<String>,
    now_playing: bool,
    playback_reports: bool,
    timeout_ms: i32,
}

impl Settings {
    fn load() -> Result<Settings> {
        let urls = list(config::get("urls")?);
        let users = list(config::get("users")?);
        let flag = |key: &str| -> Result<bool> {
            Ok(config::get(key)?.is_some_and(|v| v.trim() == "true"))
        };
        let now_playing = flag("nowPlaying")?;
        let playback_reports = flag("playbackReports")?;
        let timeout_ms = match config::get_int("timeoutMs")? {
            Some(ms) => i32::try_from(ms.clamp(100, 30_000)).unwrap_or(DEFAULT_TIMEOUT_MS),
            None => DEFAULT_TIMEOUT_MS,
        };
        Ok(Settings {
            urls,
            users,
            now_playing,
            playback_reports,
            timeout_ms,
        })
    }

    fn allows(&self, username: &str) -> bool {
        self.users.is_empty() || self.users.iter().any(|u| u == username)
    }

    /// Refuses a user outside the `users` list as not authorized.
    fn check_user(&self, username: &str) -> Result<()> {
        if self.allows(username) {
            Ok(())
        } else {
            Err(Error::not_authorized(format!(
                "user {username:?} is not in the webhook's user list"
            )))
        }
    }
}

/// A list setting: JSON array text (how Navidrome flattens an array, spec §5.5) or, for
/// hand-written configurations, a comma-separated string. Blank entries are dropped.
fn list(value: Option<String>) -> Vec<String> {
    let Some(value) = value else {
        return Vec::new();
    };
    let items = match serde_json::from_str::<Vec<String>>(&value) {
        Ok(items) => items,
        Err(_) => value.split(',').map(str::to_owned).collect(),
    };
    items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The track as posted (README "Payload").
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrackPayload<'a> {
    id: &'a str,
    title: &'a str,
    artist: &'a str,
    album: &'a str,
    album_artist: &'a str,
    duration: f32,
    track_number: i32,
    disc_number: i32,
    #[serde(skip_serializing_if = "str::is_empty")]
    mbz_recording_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    mbz_album_id: &'a str,
}

impl<'a> From<&'a TrackInfo> for TrackPayload<'a> {
    fn from(t: &'a TrackInfo) -> Self {
        TrackPayload {
            id: &t.id,
            title: &t.title,
            artist: &t.artist,
            album: &t.album,
            album_artist: &t.album_artist,
            duration: t.duration,
            track_number: t.track_number,
            disc_number: t.disc_number,
            mbz_recording_id: &t.mbz_recording_id,
            mbz_album_id: &t.mbz_album_id,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScrobbleEvent<'a> {
    event: &'static str,
    username: &'a str,
    timestamp: i64,
    track: TrackPayload<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NowPlayingEvent<'a> {
    event: &'static str,
    username: &'a str,
    position: i32,
    track: TrackPayload<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlaybackEvent<'a> {
    event: &'static str,
    username: &'a str,
    state: &'static str,
    position_ms: i64,
    playback_rate: f64,
    player_id: &'a str,
    player_name: &'a str,
    timestamp: i64,
    track: TrackPayload<'a>,
}

/// How one delivery failed.
enum Failure {
    /// 5xx, timeout, network error: worth retrying.
    Transient(String),
    /// Any other non-2xx answer.
    Permanent(String),
}

/// Posts `event` to every URL, then reports the failures (if any) as one scrobbler error.
fn deliver(settings: &Settings, event: &impl Serialize) -> Result<()> {
    if settings.urls.is_empty() {
        return Err(Error::unrecoverable("no webhook URLs configured (`urls`)"));
    }
    let mut failures = Vec::new();
    for url in &settings.urls {
        let request = HttpRequest::new("POST", url.as_str())
            .json(event)?
            .header("User-Agent", USER_AGENT)
            .timeout_ms(settings.timeout_ms);
        match http::send(&request) {
            Ok(response) if response.is_success() => {
                nd_pdk::debug!("webhook {url}: {}", response.status_code);
            }
            Ok(response) => {
                let text = format!("{url} answered HTTP {}", response.status_code);
                failures.push(if response.status_code >= 500 {
                    Failure::Transient(text)
                } else {
                    Failure::Permanent(text)
                });
            }
            // The host's message usually names the URL already.
            Err(e) if e.message().contains(url.as_str()) => {
                failures.push(Failure::Transient(e.message().to_owned()));
            }
            Err(e) => failures.push(Failure::Transient(format!("{url}: {}", e.message()))),
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    let transient = failures.iter().any(|f| matches!(f, Failure::Transient(_)));
    let text = failures
        .iter()
        .map(|f| match f {
            Failure::Transient(t) | Failure::Permanent(t) => t.as_str(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    nd_pdk::warn!("webhook delivery failed: {text}");
    Err(if transient {
        Error::retry_later(text)
    } else {
        Error::unrecoverable(text)
    })
}

impl Scrobbler for Webhook {
    fn is_authorized(&self, req: IsAuthorizedRequest) -> Result<bool> {
        Ok(Settings::load()?.allows(&req.username))
    }

    fn now_playing(&self, req: NowPlayingRequest) -> Result<()> {
        let settings = Settings::load()?;
        settings.check_user(&req.username)?;
        if !settings.now_playing {
            return Ok(());
        }
        deliver(
            &settings,
            &NowPlayingEvent {
                event: "nowPlaying",
                username: &req.username,
                position: req.position,
                track: (&req.track).into(),
            },
        )
    }

    fn scrobble(&self, req: ScrobbleRequest) -> Result<()> {
        let settings = Settings::load()?;
        settings.check_user(&req.username)?;
        deliver(
            &settings,
            &ScrobbleEvent {
                event: "scrobble",
                username: &req.username,
                timestamp: req.timestamp,
                track: (&req.track).into(),
            },
        )
    }

    fn playback_report(&self, req: PlaybackReport) -> Result<()> {
        let settings = Settings::load()?;
        settings.check_user(&req.username)?;
        if !settings.playback_reports {
            return Ok(());
        }
        deliver(
            &settings,
            &PlaybackEvent {
                event: "playbackReport",
                username: &req.username,
                state: req.state.as_str(),
                position_ms: req.position_ms,
                playback_rate: req.playback_rate,
                player_id: &req.player_id,
                player_name: &req.player_name,
                timestamp: req.timestamp,
                track: (&req.track).into(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_json_arrays_and_comma_separated_text() {
        assert_eq!(
            list(Some(r#"["http://a/x"," http://b/y ",""]"#.into())),
            ["http://a/x", "http://b/y"]
        );
        assert_eq!(
            list(Some("http://a/x, http://b/y".into())),
            ["http://a/x", "http://b/y"]
        );
        assert!(list(None).is_empty());
    }
}
