//! The fakes against a plain tungstenite client, so that a failing end-to-end test points at
//! the plugin, not at its fake.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpStream;

use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::discord::{Gateway, HEARTBEAT_INTERVAL_MS, op};
use super::harness::with_loopback_hosts;
use super::price_feed::PriceFeed;
use super::ws::WsEvent;

type Client = WebSocket<MaybeTlsStream<TcpStream>>;

fn connect(url: &str) -> Client {
    tungstenite::connect(url).unwrap().0
}

fn read_json(client: &mut Client) -> Value {
    loop {
        match client.read().unwrap() {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn send_json(client: &mut Client, value: &Value) {
    client.send(Message::text(value.to_string())).unwrap();
}

#[test]
fn the_gateway_says_hello_answers_identify_and_heartbeats_and_records_frames() {
    let gateway = Gateway::start();
    let mut client = connect(&gateway.url());
    let hello = read_json(&mut client);
    assert_eq!(hello["op"], op::HELLO);
    assert_eq!(hello["d"]["heartbeat_interval"], HEARTBEAT_INTERVAL_MS);

    send_json(
        &mut client,
        &json!({"op": op::IDENTIFY, "d": {"token": "t"}}),
    );
    let ready = read_json(&mut client);
    assert_eq!(
        (ready["op"].clone(), ready["t"].clone(), ready["s"].clone()),
        (json!(0), json!("READY"), json!(1))
    );

    send_json(&mut client, &json!({"op": op::HEARTBEAT, "d": 1}));
    assert_eq!(read_json(&mut client)["op"], op::HEARTBEAT_ACK);

    send_json(
        &mut client,
        &json!({"op": op::PRESENCE_UPDATE, "d": {"activities": []}}),
    );
    assert_eq!(
        gateway.wait_op(op::PRESENCE_UPDATE, 1).d()["activities"],
        json!([])
    );

    gateway.dispatch(0, 7, "X");
    assert_eq!(read_json(&mut client)["s"], 7);
    gateway.request_heartbeat(0);
    assert_eq!(read_json(&mut client)["op"], op::HEARTBEAT);

    let ops: Vec<i64> = gateway.frames().iter().map(|f| f.op()).collect();
    assert_eq!(ops, [op::IDENTIFY, op::HEARTBEAT, op::PRESENCE_UPDATE]);

    // A server-side close: the client's answer is recorded.
    gateway.close(0, 4000, "bye");
    loop {
        match client.read() {
            Ok(Message::Close(frame)) => {
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(4000));
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("no close: {e}"),
        }
    }
    let _ = client.flush();
    assert_eq!(gateway.wait_client_close(0).0, Some(4000));
}

#[test]
fn the_feed_confirms_subscriptions_pushes_tickers_refuses_and_drops() {
    let feed = PriceFeed::start();
    feed.server().refuse_next(1);
    assert!(tungstenite::connect(feed.url()).is_err(), "refused");
    feed.server().wait_for("the refusal", |e| {
        e.iter()
            .any(|e| matches!(e, WsEvent::Refused { .. }))
            .then_some(())
    });

    let mut client = connect(&feed.url());
    let subscribe =
        json!({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["ticker"]});
    send_json(&mut client, &subscribe);
    assert_eq!(read_json(&mut client)["type"], "subscriptions");
    assert_eq!(feed.wait_subscription(0), subscribe);
    feed.ticker(0, "BTC-USD", "1.5");
    let ticker = read_json(&mut client);
    assert_eq!(
        (ticker["type"].clone(), ticker["price"].clone()),
        (json!("ticker"), json!("1.5"))
    );

    // The client closes: recorded with its code.
    client.close(None).unwrap();
    while client.read().is_ok() {}
    feed.server().wait_for("the client close", |e| {
        e.iter()
            .any(|e| {
                matches!(
                    e,
                    WsEvent::ClientClosed {
                        conn: 0,
                        code: None,
                        ..
                    }
                )
            })
            .then_some(())
    });

    // A dropped connection: the client sees the connection end without a close frame.
    let mut client = connect(&feed.url());
    feed.server().drop_connection(1);
    assert!(client.read().is_err());
    assert_eq!(feed.server().connections(), 2);
}

#[test]
fn loopback_is_added_to_http_and_websocket_hosts_unless_a_wildcard_covers_it() {
    let manifest = json!({"permissions": {
        "http": {"requiredHosts": ["discord.com"]},
        "websocket": {"requiredHosts": ["*"]},
        "cache": {},
    }});
    assert_eq!(
        with_loopback_hosts(&manifest),
        json!({"permissions": {
            "http": {"requiredHosts": ["discord.com", "127.0.0.1"]},
            "websocket": {"requiredHosts": ["*"]},
            "cache": {},
        }})
    );
}
