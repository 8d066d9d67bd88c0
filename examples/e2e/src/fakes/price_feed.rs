//! A fake exchange price feed in the style of Coinbase's `ws-feed` on 127.0.0.1: a client
//! subscribes with `{"type":"subscribe","product_ids":[…],"channels":["ticker"]}`, the feed
//! confirms with a `subscriptions` message, and the test pushes `ticker` messages
//! ([`PriceFeed::ticker`]), closes or drops connections, or refuses handshakes.

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};

use crate::fakes::ws::{Script, WsServer};

struct FeedScript;

impl Script for FeedScript {
    fn on_text(&self, _conn: usize, text: &str) -> Vec<String> {
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return vec![json!({"type": "error", "message": "Failed to parse"}).to_string()];
        };
        if message["type"] == "subscribe" {
            vec![
                json!({"type": "subscriptions", "channels": [
                    {"name": "ticker", "product_ids": message["product_ids"]}
                ]})
                .to_string(),
            ]
        } else {
            Vec::new()
        }
    }
}

/// A running fake feed.
#[derive(Debug)]
pub struct PriceFeed {
    server: WsServer,
    sequence: AtomicI64,
}

impl PriceFeed {
    /// Starts the fake on 127.0.0.1 with a port the OS picks.
    pub fn start() -> Self {
        PriceFeed {
            server: WsServer::start(FeedScript),
            sequence: AtomicI64::new(1),
        }
    }

    /// `ws://127.0.0.1:<port>/feed`.
    pub fn url(&self) -> String {
        self.server.url("/feed")
    }

    /// The underlying server (events, close, drop, refusals).
    pub fn server(&self) -> &WsServer {
        &self.server
    }

    /// Waits for the subscription message on connection `conn` and returns it.
    ///
    /// # Panics
    ///
    /// After [`crate::fakes::ws::WAIT`].
    pub fn wait_subscription(&self, conn: usize) -> Value {
        self.server.wait_for(
            &format!("a subscribe message on connection {conn}"),
            |events| {
                events.iter().find_map(|e| match e {
                    crate::fakes::ws::WsEvent::Text { conn: c, text } if *c == conn => {
                        serde_json::from_str::<Value>(text)
                            .ok()
                            .filter(|m| m["type"] == "subscribe")
                    }
                    _ => None,
                })
            },
        )
    }

    /// Sends a `ticker` message for `product` at `price` on `conn`.
    pub fn ticker(&self, conn: usize, product: &str, price: &str) {
        let sequence = self.sequence.fetch_add(1, Ordering::SeqCst);
        self.server.send_text(
            conn,
            &json!({
                "type": "ticker",
                "sequence": sequence,
                "product_id": product,
                "price": price,
                "open_24h": price,
                "best_bid": price,
                "best_ask": price,
                "time": "2026-01-01T00:00:00.000000Z",
            })
            .to_string(),
        );
    }
}
