//! Discord Rich Presence: shows the track a Navidrome user is playing in their Discord
//! status through the Discord gateway, and clears it when the track ends. After Navidrome's
//! `discord-rich-presence` examples; see README.md for the flow and the configuration.
//!
//! Plugin instances live for one call, so what must last is kept by the host:
//!
//! | what | where |
//! |---|---|
//! | the gateway connection of user `u` | host WebSocket, connection id `u`; cache `conn:u` while it is up |
//! | its heartbeat | recurring schedule `u` (`@every 41s`, payload `heartbeat`) |
//! | the presence clear at track end | one-time schedule `u-clear` (payload `clear`) |
//! | the gateway's last sequence number | cache `seq:u` |
//! | a cover-art URL registered with Discord | cache `image:<url>` (4 hours) |

mod gateway;

use nd_pdk::capability::{SchedulerCallback, Scrobbler, WebSocketCallback};
use nd_pdk::host::http::{self, HttpRequest};
use nd_pdk::host::{artwork, cache, config, scheduler, websocket};
use nd_pdk::types::{
    BinaryMessage, CloseEvent, ErrorEvent, IsAuthorizedRequest, NowPlayingRequest, ScheduledEvent,
    ScrobbleRequest, TextMessage,
};
use nd_pdk::{Error, Result};
use serde::Deserialize;

const DEFAULT_GATEWAY: &str = "wss://gateway.discord.gg/?v=10&encoding=json";
const DEFAULT_API: &str = "https://discord.com/api/v10";
/// Shown when a track has no artwork URL.
const DEFAULT_IMAGE: &str = "https://i.imgur.com/hb3XPzA.png";
/// The gateway's heartbeat interval is 41.25 s; Navidrome's examples beat every 41 s.
const HEARTBEAT_EVERY: &str = "@every 41s";
const PAYLOAD_HEARTBEAT: &str = "heartbeat";
const PAYLOAD_CLEAR: &str = "clear";
/// Cover-art size asked from the host, in pixels.
const ARTWORK_SIZE: i32 = 300;
/// How long a registered image is remembered (as Navidrome's plugin: 4 hours).
const IMAGE_TTL_SECONDS: i64 = 4 * 60 * 60;
/// How long connection state is kept without being refreshed.
const STATE_TTL_SECONDS: i64 = 24 * 60 * 60;
/// The external-assets call's timeout.
const API_TIMEOUT_MS: i32 = 5_000;

#[derive(Default)]
struct DiscordPresence;

nd_pdk::register_scrobbler!(DiscordPresence);
nd_pdk::register_scheduler_callback!(DiscordPresence);
nd_pdk::register_websocket_callback!(
    DiscordPresence,
    [on_text_message, on_binary_message, on_error, on_close]
);

fn conn_key(user: &str) -> String {
    format!("conn:{user}")
}

fn seq_key(user: &str) -> String {
    format!("seq:{user}")
}

fn clear_id(user: &str) -> String {
    format!("{user}-clear")
}

/// The configuration, read on every call.
struct Settings {
    client_id: String,
    users: Vec<(String, String)>,
    resolve_images: bool,
    gateway: String,
    api: String,
}

#[derive(Deserialize)]
struct UserToken {
    username: String,
    token: String,
}

impl Settings {
    fn load() -> Result<Settings> {
        let text = |key: &str, default: &str| -> Result<String> {
            Ok(config::get(key)?
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned()))
        };
        Ok(Settings {
            client_id: text("clientid", "")?,
            users: users(&text("users", "")?),
            resolve_images: text("resolveImages", "true")? != "false",
            gateway: text("gateway", DEFAULT_GATEWAY)?,
            api: text("api", DEFAULT_API)?.trim_end_matches('/').to_owned(),
        })
    }

    fn token(&self, username: &str) -> Option<&str> {
        self.users
            .iter()
            .find(|(user, _)| user == username)
            .map(|(_, token)| token.as_str())
    }
}

/// `(username, token)` pairs from the `users` setting: JSON text of `[{username, token}]`
/// (how Navidrome flattens the array, spec §5.5) or Navidrome's older
/// `"alice:token1,bob:token2"`. Incomplete entries are dropped.
fn users(text: &str) -> Vec<(String, String)> {
    let pairs: Vec<(String, String)> = match serde_json::from_str::<Vec<UserToken>>(text) {
        Ok(list) => list.into_iter().map(|u| (u.username, u.token)).collect(),
        Err(_) => text
            .split(',')
            .filter_map(|pair| pair.split_once(':'))
            .map(|(u, t)| (u.to_owned(), t.to_owned()))
            .collect(),
    };
    pairs
        .into_iter()
        .map(|(u, t)| (u.trim().to_owned(), t.trim().to_owned()))
        .filter(|(u, t)| !u.is_empty() && !t.is_empty())
        .collect()
}

/// The user's gateway connection: the one in the cache, or a new one, identified with
/// `token` and with its heartbeat scheduled.
fn ensure_connected(settings: &Settings, user: &str, token: &str) -> Result<String> {
    if let Some(conn) = cache::get_string(&conn_key(user))? {
        return Ok(conn);
    }
    let headers = Default::default();
    let conn = match websocket::connect(&settings.gateway, &headers, user) {
        Ok(conn) => conn,
        // The host still holds a connection the cache forgot: close it (its close callback
        // cleans up) and connect again.
        Err(e) if e.message().contains("already exists") => {
            let _ = websocket::close(user, 1000, "reconnecting");
            websocket::connect(&settings.gateway, &headers, user)?
        }
        Err(e) => return Err(e),
    };
    cache::set_string(&conn_key(user), &conn, STATE_TTL_SECONDS)?;
    cache::remove(&seq_key(user))?;
    if let Err(e) = websocket::send_text(&conn, &gateway::identify(token)) {
        forget(user);
        let _ = websocket::close(&conn, 1000, "identify failed");
        return Err(e);
    }
    // A schedule id still registered cannot be reused: cancel, then schedule.
    let _ = scheduler::cancel_schedule(user);
    scheduler::schedule_recurring(HEARTBEAT_EVERY, PAYLOAD_HEARTBEAT, user)?;
    nd_pdk::info!("connected to the Discord gateway for {user}");
    Ok(conn)
}

/// Forgets the user's connection: its schedules and cache entries. Errors are ignored:
/// whatever is already gone is what we wanted.
fn forget(user: &str) {
    let _ = scheduler::cancel_schedule(user);
    let _ = scheduler::cancel_schedule(&clear_id(user));
    let _ = cache::remove(&conn_key(user));
    let _ = cache::remove(&seq_key(user));
}

/// Sends a heartbeat with the last sequence number. A heartbeat that finds no connection
/// cancels the schedule that sent it (navidrome/discord-rich-presence-plugin#3).
fn heartbeat(user: &str) -> Result<()> {
    let Some(conn) = cache::get_string(&conn_key(user))? else {
        let _ = scheduler::cancel_schedule(user);
        return Ok(());
    };
    let seq = cache::get_int(&seq_key(user))?;
    if let Err(e) = websocket::send_text(&conn, &gateway::heartbeat(seq)) {
        forget(user);
        return Err(Error::msg(format!("heartbeat for {user} failed: {e}")));
    }
    Ok(())
}

/// The image for the presence: the track's artwork URL (or a default image), registered
/// with Discord's external-assets API unless `resolveImages` is off. Falls back to the URL
/// itself when the registration fails.
fn image(settings: &Settings, track_id: &str, token: &str) -> String {
    let url = match artwork::track_url(track_id, ARTWORK_SIZE) {
        Ok(url) if !url.is_empty() => url,
        Ok(_) => DEFAULT_IMAGE.to_owned(),
        Err(e) => {
            nd_pdk::warn!("no artwork URL for track {track_id}: {e}");
            DEFAULT_IMAGE.to_owned()
        }
    };
    if !settings.resolve_images || settings.client_id.is_empty() {
        return url;
    }
    let key = format!("image:{url}");
    if let Ok(Some(image)) = cache::get_string(&key) {
        return image;
    }
    match external_asset(settings, &url, token) {
        Ok(path) => {
            let image = format!("mp:{path}");
            if let Err(e) = cache::set_string(&key, &image, IMAGE_TTL_SECONDS) {
                nd_pdk::warn!("cannot cache the image of {url}: {e}");
            }
            image
        }
        Err(e) => {
            nd_pdk::warn!("cannot register {url} with Discord: {e}");
            url
        }
    }
}

/// `POST {api}/applications/{clientid}/external-assets {"urls": [url]}`: Discord's media
/// proxy path for an external image.
fn external_asset(settings: &Settings, url: &str, token: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct Asset {
        external_asset_path: String,
    }
    let endpoint = format!(
        "{}/applications/{}/external-assets",
        settings.api, settings.client_id
    );
    let request = HttpRequest::new("POST", endpoint.as_str())
        .json(&serde_json::json!({ "urls": [url] }))?
        .header("Authorization", token)
        .timeout_ms(API_TIMEOUT_MS);
    let response = http::send(&request)?;
    if !response.is_success() {
        return Err(Error::msg(format!(
            "{endpoint} answered HTTP {}",
            response.status_code
        )));
    }
    let assets: Vec<Asset> = response.json()?;
    assets
        .into_iter()
        .map(|a| a.external_asset_path)
        .find(|p| !p.is_empty())
        .ok_or_else(|| Error::msg(format!("{endpoint} returned no asset")))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Scrobbler for DiscordPresence {
    fn is_authorized(&self, req: IsAuthorizedRequest) -> Result<bool> {
        Ok(Settings::load()?.token(&req.username).is_some())
    }

    fn now_playing(&self, req: NowPlayingRequest) -> Result<()> {
        let settings = Settings::load()?;
        let user = req.username.as_str();
        let token = settings.token(user).ok_or_else(|| {
            Error::not_authorized(format!("no Discord token configured for {user:?}"))
        })?;
        let retry = |what: &str, e: Error| Error::retry_later(format!("{what} for {user}: {e}"));
        let conn = ensure_connected(&settings, user, token)
            .map_err(|e| retry("cannot connect to the Discord gateway", e))?;

        // This track replaces the previous one: its clear must not fire.
        let _ = scheduler::cancel_schedule(&clear_id(user));

        let track = &req.track;
        let start = now_ms() - i64::from(req.position.max(0)) * 1000;
        // Whole milliseconds of a float number of seconds.
        #[allow(clippy::cast_possible_truncation)]
        let end = start + (f64::from(track.duration.max(0.0)) * 1000.0).round() as i64;
        let presence = gateway::presence(Some(&gateway::Activity {
            application_id: &settings.client_id,
            details: &track.title,
            state: &track.artist,
            start,
            end,
            large_image: &image(&settings, &track.id, token),
            large_text: &track.album,
        }));
        if let Err(e) = websocket::send_text(&conn, &presence) {
            // The connection is gone and its close callback has not run yet: start over once.
            nd_pdk::info!("reconnecting {user}: {e}");
            forget(user);
            let conn = ensure_connected(&settings, user, token)
                .map_err(|e| retry("cannot reconnect to the Discord gateway", e))?;
            websocket::send_text(&conn, &presence)
                .map_err(|e| retry("cannot send the presence", e))?;
        }

        // Clear the presence when the track ends.
        #[allow(clippy::cast_possible_truncation)]
        let remaining = (track.duration - req.position as f32).ceil().max(1.0) as i32;
        if let Err(e) = scheduler::schedule_one_time(remaining, PAYLOAD_CLEAR, &clear_id(user)) {
            nd_pdk::warn!("cannot schedule the presence clear for {user}: {e}");
        }
        Ok(())
    }

    fn scrobble(&self, _req: ScrobbleRequest) -> Result<()> {
        // The presence follows now-playing events only.
        Ok(())
    }
}

impl SchedulerCallback for DiscordPresence {
    fn on_schedule(&self, event: ScheduledEvent) -> Result<()> {
        match event.payload.as_str() {
            PAYLOAD_HEARTBEAT => heartbeat(&event.schedule_id),
            PAYLOAD_CLEAR => {
                let user = event
                    .schedule_id
                    .strip_suffix("-clear")
                    .unwrap_or(&event.schedule_id);
                let Some(conn) = cache::get_string(&conn_key(user))? else {
                    return Ok(());
                };
                nd_pdk::info!("the track of {user} ended: clearing the presence");
                let sent = websocket::send_text(&conn, &gateway::presence(None));
                let _ = scheduler::cancel_schedule(user);
                // The close callback (run before `close` returns) forgets the connection.
                if websocket::close(&conn, 1000, "track ended").is_err() {
                    forget(user);
                }
                sent.map_err(|e| Error::msg(format!("cannot clear the presence of {user}: {e}")))
            }
            other => {
                nd_pdk::warn!("unknown schedule payload {other:?}");
                Ok(())
            }
        }
    }
}

impl WebSocketCallback for DiscordPresence {
    fn on_text_message(&self, msg: TextMessage) -> Result<()> {
        // Connection ids are user names.
        let user = msg.connection_id.as_str();
        let Ok(message) = serde_json::from_str::<gateway::Message>(&msg.message) else {
            nd_pdk::debug!("ignoring a gateway message that is not JSON");
            return Ok(());
        };
        if let Some(seq) = message.s {
            cache::set_int(&seq_key(user), seq, STATE_TTL_SECONDS)?;
        }
        match message.op {
            gateway::op::HEARTBEAT => heartbeat(user)?,
            gateway::op::RECONNECT | gateway::op::INVALID_SESSION => {
                nd_pdk::info!(
                    "the gateway ended the session of {user} (op {})",
                    message.op
                );
                if websocket::close(&msg.connection_id, 1000, "session ended").is_err() {
                    forget(user);
                }
            }
            gateway::op::HELLO => nd_pdk::debug!("gateway hello for {user}"),
            gateway::op::DISPATCH => {
                nd_pdk::debug!("gateway event {} for {user}", message.t.unwrap_or_default());
            }
            _ => {}
        }
        Ok(())
    }

    fn on_binary_message(&self, msg: BinaryMessage) -> Result<()> {
        nd_pdk::debug!(
            "ignoring {} bytes of binary data from the gateway ({})",
            msg.data.len(),
            msg.connection_id
        );
        Ok(())
    }

    fn on_error(&self, event: ErrorEvent) -> Result<()> {
        nd_pdk::warn!(
            "gateway connection of {} failed: {}",
            event.connection_id,
            event.error
        );
        forget(&event.connection_id);
        Ok(())
    }

    fn on_close(&self, event: CloseEvent) -> Result<()> {
        nd_pdk::info!(
            "gateway connection of {} closed ({} {:?})",
            event.connection_id,
            event.code,
            event.reason
        );
        forget(&event.connection_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_read_json_and_the_older_pair_list() {
        let pair = |u: &str, t: &str| (u.to_owned(), t.to_owned());
        assert_eq!(
            users(r#"[{"username":"alice","token":"t1"},{"username":"bob","token":""}]"#),
            [pair("alice", "t1")]
        );
        assert_eq!(
            users("alice:t1, bob:t2"),
            [pair("alice", "t1"), pair("bob", "t2")]
        );
        assert!(users("").is_empty());
    }
}
