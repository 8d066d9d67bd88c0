//! End-to-end: the `crypto-ticker` example (examples/plugins/crypto-ticker) loaded by the
//! manager from its package (with `127.0.0.1` added to `websocket.requiredHosts`), against a
//! fake price feed on 127.0.0.1. Reconnections are one-time schedules; the test fires them
//! by advancing the manager's manual clock, never by sleeping. Prices are read back through
//! the plugin's own `ticker_status` export, which reads the cache.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ndp_examples_e2e::fakes::harness::{Harness, eventually};
use ndp_examples_e2e::fakes::price_feed::PriceFeed;
use ndp_examples_e2e::fakes::ws::WsEvent;
use serde_json::{Value, json};

const ID: &str = "ticker";

fn status(host: &Harness) -> Value {
    let out = host
        .plugin(ID)
        .call("ticker_status", b"{}")
        .expect("ticker_status");
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "ticker_status is not JSON ({e}): {}",
            String::from_utf8_lossy(&out)
        )
    })
}

/// Waits until `check` holds for the status, and returns that status.
fn wait_status(host: &Harness, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    eventually(what, || {
        last = status(host);
        check(&last)
    });
    last
}

fn subscription(products: &[&str]) -> Value {
    json!({"type": "subscribe", "product_ids": products, "channels": ["ticker"]})
}

#[test]
fn prices_land_in_the_cache_and_the_feed_is_reconnected_after_close_refusal_and_drop() {
    let feed = PriceFeed::start();
    let host = Harness::new(nd_testkit::runtime());

    // The feed refuses the first handshake: nd_on_init fails and schedules a reconnect.
    feed.server().refuse_next(1);
    host.enable(
        "crypto-ticker",
        ID,
        json!({"url": feed.url(), "symbols": ["BTC", "ETH-EUR"], "reconnectDelaySeconds": 5}),
    );
    let caps = host.manager.status(ID).unwrap().capabilities;
    for cap in ["Lifecycle", "WebSocket", "Scheduler"] {
        assert!(caps.contains(&cap.to_owned()), "{cap} in {caps:?}");
    }
    feed.server()
        .wait_for("the refused first handshake", |events| {
            events
                .iter()
                .any(|e| matches!(e, WsEvent::Refused { .. }))
                .then_some(())
        });
    let s = wait_status(&host, "a reconnect scheduled after the failed init", |s| {
        s["reconnectPending"] == true
    });
    assert_eq!(s["connected"], false, "{s}");
    assert_eq!(feed.server().connections(), 0);

    // The one-time schedule fires when the clock reaches it: connection 0 subscribes to the
    // configured products (a bare symbol means -USD).
    host.advance(5);
    assert_eq!(
        feed.wait_subscription(0),
        subscription(&["BTC-USD", "ETH-EUR"])
    );
    feed.ticker(0, "BTC-USD", "97000.12");
    feed.ticker(0, "ETH-EUR", "3100.5");
    let s = wait_status(&host, "both prices in the cache", |s| {
        s["prices"] == json!({"BTC-USD": "97000.12", "ETH-EUR": "3100.5"})
    });
    assert_eq!(s["connected"], true, "{s}");
    assert_eq!(s["reconnectPending"], false, "{s}");
    assert_eq!(s["connects"], 1, "{s}");

    // The feed closes normally (on_close): a reconnect is scheduled, not attempted at once.
    feed.server().close(0, 1000, "maintenance");
    wait_status(&host, "a reconnect scheduled after the close", |s| {
        s["connected"] == false && s["reconnectPending"] == true
    });
    assert_eq!(
        feed.server().connections(),
        1,
        "no reconnect before its time"
    );
    // The prices stay in the cache meanwhile.
    assert_eq!(status(&host)["prices"]["BTC-USD"], "97000.12");

    // The first attempt is refused: the plugin schedules the next with twice the delay.
    feed.server().refuse_next(1);
    host.advance(5);
    wait_status(&host, "a second attempt scheduled after the refusal", |s| {
        s["failedAttempts"] == 1 && s["reconnectPending"] == true
    });
    assert_eq!(feed.server().connections(), 1);
    host.advance(10);
    assert_eq!(
        feed.wait_subscription(1),
        subscription(&["BTC-USD", "ETH-EUR"])
    );
    feed.ticker(1, "BTC-USD", "97100");
    let s = wait_status(&host, "the new price after the reconnect", |s| {
        s["prices"]["BTC-USD"] == "97100"
    });
    assert_eq!(s["connected"], true, "{s}");
    assert_eq!(s["failedAttempts"], 0, "{s}");
    assert_eq!(s["connects"], 2, "{s}");

    // The connection drops without a close frame (on_error): same recovery.
    feed.server().drop_connection(1);
    wait_status(&host, "a reconnect scheduled after the drop", |s| {
        s["connected"] == false && s["reconnectPending"] == true
    });
    host.advance(5);
    feed.wait_subscription(2);
    wait_status(&host, "connected again", |s| s["connected"] == true);

    // Disabling unloads the plugin, which closes the feed connection with 1001.
    host.manager.disable(ID).unwrap();
    let code = feed
        .server()
        .wait_for("the client's close on unload", |events| {
            events.iter().find_map(|e| match e {
                WsEvent::ClientClosed { conn: 2, code, .. } => Some(*code),
                _ => None,
            })
        });
    assert_eq!(code, Some(1001));
}
