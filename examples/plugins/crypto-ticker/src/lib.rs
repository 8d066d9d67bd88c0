//! Crypto ticker: keeps a WebSocket open to an exchange's ticker feed (Coinbase's
//! `ws-feed` protocol), stores the last price of each followed product in the cache, and
//! reconnects through one-time schedules when the feed closes or fails. A port of
//! Navidrome's Go `crypto-ticker` example; see README.md.
//!
//! Plugin instances live for one call, so the connection is kept by the host (id
//! [`CONNECTION_ID`]) and every piece of state is in the cache:
//!
//! | key | meaning |
//! |---|---|
//! | `price:<product>` | last price, as the feed's decimal text |
//! | `connected` | present while the feed connection is up |
//! | `reconnect` | the id of the pending reconnect schedule |
//! | `failed` | consecutive failed reconnect attempts |
//! | `connects` | successful connections since the plugin was loaded |

use std::collections::BTreeMap;

use nd_pdk::capability::{Lifecycle, SchedulerCallback, WebSocketCallback};
use nd_pdk::host::{cache, config, scheduler, websocket};
use nd_pdk::types::{CloseEvent, ErrorEvent, ScheduledEvent, TextMessage};
use nd_pdk::{Error, Result};
use serde::{Deserialize, Serialize};

/// The host connection id of the feed.
const CONNECTION_ID: &str = "crypto-ticker";
/// The payload of reconnect schedules.
const RECONNECT: &str = "reconnect";
const DEFAULT_URL: &str = "wss://ws-feed.exchange.coinbase.com";
const DEFAULT_SYMBOLS: [&str; 2] = ["BTC-USD", "ETH-USD"];
const DEFAULT_DELAY_SECONDS: i64 = 5;
const MAX_DELAY_SECONDS: i64 = 300;
/// Prices are kept this long after their last update.
const PRICE_TTL_SECONDS: i64 = 24 * 60 * 60;
/// How long connection state is kept: far longer than any reconnect backoff.
const STATE_TTL_SECONDS: i64 = 7 * 24 * 60 * 60;

const KEY_CONNECTED: &str = "connected";
const KEY_RECONNECT: &str = "reconnect";
const KEY_FAILED: &str = "failed";
const KEY_CONNECTS: &str = "connects";

#[derive(Default)]
struct Ticker;

nd_pdk::register_lifecycle!(Ticker);
nd_pdk::register_scheduler_callback!(Ticker);
nd_pdk::register_websocket_callback!(
    Ticker,
    [on_text_message, on_binary_message, on_error, on_close]
);
nd_pdk::register_export!(ticker_status, status);

/// The configuration, read on every call.
struct Settings {
    url: String,
    products: Vec<String>,
    delay_seconds: i64,
}

impl Settings {
    fn load() -> Result<Settings> {
        let url = config::get("url")?
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        let products = match config::get("symbols")? {
            Some(text) => products(&text),
            None => Vec::new(),
        };
        let products = if products.is_empty() {
            DEFAULT_SYMBOLS.iter().map(|s| (*s).to_owned()).collect()
        } else {
            products
        };
        let delay_seconds = config::get_int("reconnectDelaySeconds")?
            .unwrap_or(DEFAULT_DELAY_SECONDS)
            .clamp(1, MAX_DELAY_SECONDS);
        Ok(Settings {
            url,
            products,
            delay_seconds,
        })
    }
}

/// Product ids from the `symbols` setting (JSON array text, or comma-separated text):
/// upper-cased, `-USD` added to a bare symbol, duplicates dropped.
fn products(text: &str) -> Vec<String> {
    let items = serde_json::from_str::<Vec<String>>(text)
        .unwrap_or_else(|_| text.split(',').map(str::to_owned).collect());
    let mut products: Vec<String> = Vec::new();
    for item in items {
        let item = item.trim().to_ascii_uppercase();
        if item.is_empty() {
            continue;
        }
        let product = if item.contains('-') {
            item
        } else {
            format!("{item}-USD")
        };
        if !products.contains(&product) {
            products.push(product);
        }
    }
    products
}

fn price_key(product: &str) -> String {
    format!("price:{product}")
}

#[derive(Serialize)]
struct Subscribe<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    product_ids: &'a [String],
    channels: [&'static str; 1],
}

/// Connects to the feed and subscribes to the configured products.
fn connect(settings: &Settings) -> Result<()> {
    if cache::has(KEY_CONNECTED)? {
        nd_pdk::debug!("already connected to {}", settings.url);
        return Ok(());
    }
    let id = match websocket::connect(&settings.url, &BTreeMap::new(), CONNECTION_ID) {
        Ok(id) => id,
        // The host still has a connection the cache forgot (the plugin cannot see the
        // host's list): close it and connect again.
        Err(e) if e.message().contains("already exists") => {
            let _ = websocket::close(CONNECTION_ID, 1000, "reconnecting");
            websocket::connect(&settings.url, &BTreeMap::new(), CONNECTION_ID)?
        }
        Err(e) => return Err(e),
    };
    // Recorded at once: a close arriving from now on finds it and schedules the reconnect.
    cache::set_string(KEY_CONNECTED, &id, STATE_TTL_SECONDS)?;
    let subscribe = Subscribe {
        kind: "subscribe",
        product_ids: &settings.products,
        channels: ["ticker"],
    };
    let text = serde_json::to_string(&subscribe)?;
    if let Err(e) = websocket::send_text(&id, &text) {
        cache::remove(KEY_CONNECTED)?;
        let _ = websocket::close(&id, 1011, "subscription failed");
        return Err(e);
    }
    cache::remove(KEY_RECONNECT)?;
    cache::remove(KEY_FAILED)?;
    let connects = cache::get_int(KEY_CONNECTS)?.unwrap_or(0) + 1;
    cache::set_int(KEY_CONNECTS, connects, STATE_TTL_SECONDS)?;
    nd_pdk::info!(
        "connected to {} and subscribed to {}",
        settings.url,
        settings.products.join(", ")
    );
    Ok(())
}

/// Schedules a one-time reconnect after the configured delay, doubled for every failed
/// attempt (at most [`MAX_DELAY_SECONDS`]).
///
/// The schedule id is generated by the host: a one-time schedule stays registered until its
/// callback returns, so a callback that fails to reconnect could not re-arm itself under a
/// fixed id.
fn schedule_reconnect(settings: &Settings) -> Result<()> {
    let failed = cache::get_int(KEY_FAILED)?.unwrap_or(0).clamp(0, 16);
    let delay = (settings.delay_seconds << failed).min(MAX_DELAY_SECONDS);
    let id = scheduler::schedule_one_time(i32::try_from(delay).unwrap_or(300), RECONNECT, "")?;
    cache::set_string(KEY_RECONNECT, &id, STATE_TTL_SECONDS)?;
    nd_pdk::info!("reconnecting to the feed in {delay} s (schedule {id})");
    Ok(())
}

/// The feed connection is gone: forget it and schedule a reconnect.
fn connection_lost(connection_id: &str, why: &str) -> Result<()> {
    if connection_id != CONNECTION_ID {
        return Ok(());
    }
    nd_pdk::warn!("feed connection lost: {why}");
    cache::remove(KEY_CONNECTED)?;
    cache::remove(KEY_FAILED)?;
    schedule_reconnect(&Settings::load()?)
}

impl Lifecycle for Ticker {
    fn on_init(&self) -> Result<()> {
        let settings = Settings::load()?;
        // A reload starts from a fresh cache, but be safe about leftovers.
        cache::remove(KEY_CONNECTED)?;
        if let Err(e) = connect(&settings) {
            schedule_reconnect(&settings)?;
            return Err(Error::msg(format!(
                "cannot connect to {}: {e}; a reconnect is scheduled",
                settings.url
            )));
        }
        Ok(())
    }
}

impl SchedulerCallback for Ticker {
    fn on_schedule(&self, event: ScheduledEvent) -> Result<()> {
        if event.payload != RECONNECT {
            return Ok(());
        }
        let settings = Settings::load()?;
        cache::remove(KEY_RECONNECT)?;
        if let Err(e) = connect(&settings) {
            let failed = cache::get_int(KEY_FAILED)?.unwrap_or(0) + 1;
            cache::set_int(KEY_FAILED, failed, STATE_TTL_SECONDS)?;
            schedule_reconnect(&settings)?;
            return Err(Error::msg(format!(
                "reconnect attempt {failed} to {} failed: {e}",
                settings.url
            )));
        }
        Ok(())
    }
}

/// The part of a feed message the plugin reads.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FeedMessage {
    #[serde(rename = "type")]
    kind: String,
    product_id: String,
    price: String,
    message: String,
}

impl WebSocketCallback for Ticker {
    fn on_text_message(&self, msg: TextMessage) -> Result<()> {
        if msg.connection_id != CONNECTION_ID {
            return Ok(());
        }
        let Ok(message) = serde_json::from_str::<FeedMessage>(&msg.message) else {
            nd_pdk::debug!("ignoring a message that is not JSON");
            return Ok(());
        };
        match message.kind.as_str() {
            "ticker" if !message.product_id.is_empty() && !message.price.is_empty() => {
                cache::set_string(
                    &price_key(&message.product_id),
                    &message.price,
                    PRICE_TTL_SECONDS,
                )?;
                nd_pdk::debug!("{}: {}", message.product_id, message.price);
            }
            "error" => nd_pdk::warn!("the feed reported an error: {}", message.message),
            other => nd_pdk::trace!("ignoring a {other:?} message"),
        }
        Ok(())
    }

    fn on_binary_message(&self, msg: nd_pdk::types::BinaryMessage) -> Result<()> {
        nd_pdk::debug!(
            "ignoring {} bytes of binary data on {}",
            msg.data.len(),
            msg.connection_id
        );
        Ok(())
    }

    fn on_error(&self, event: ErrorEvent) -> Result<()> {
        connection_lost(&event.connection_id, &event.error)
    }

    fn on_close(&self, event: CloseEvent) -> Result<()> {
        connection_lost(
            &event.connection_id,
            &format!("closed with {} {:?}", event.code, event.reason),
        )
    }
}

/// The answer of the `ticker_status` export.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    connected: bool,
    reconnect_pending: bool,
    failed_attempts: i64,
    connects: i64,
    /// Configured product → last price (products without a price yet are left out).
    prices: BTreeMap<String, String>,
}

/// `ticker_status`: the state kept in the cache, for `ndp call` and tests.
fn status(_: serde_json::Value) -> Result<Status> {
    let settings = Settings::load()?;
    let mut prices = BTreeMap::new();
    for product in &settings.products {
        if let Some(price) = cache::get_string(&price_key(product))? {
            prices.insert(product.clone(), price);
        }
    }
    Ok(Status {
        connected: cache::has(KEY_CONNECTED)?,
        reconnect_pending: cache::has(KEY_RECONNECT)?,
        failed_attempts: cache::get_int(KEY_FAILED)?.unwrap_or(0),
        connects: cache::get_int(KEY_CONNECTS)?.unwrap_or(0),
        prices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_become_product_ids() {
        assert_eq!(
            products(r#"["btc", "ETH-EUR", "BTC-USD", " "]"#),
            ["BTC-USD", "ETH-EUR"]
        );
        assert_eq!(products("SOL, ada-gbp"), ["SOL-USD", "ADA-GBP"]);
    }
}
