//! The four `scrobbleretriever_*` functions (spec §3.14): timestamps, counts, and paging
//! through equal timestamps with `next`.
//!
//! Alice's history (id@time): 1@100, 2@200, 3@200, 4@200, 5@300, 6@400. Bob's: 10..=14, all
//! @200. Admin has none.

use nd_host_appdata::provider::Scope;
use nd_runtime::Plugin;
use serde_json::{Value, json};

use crate::support::*;

fn page(plugin: &Plugin, user: &str, options: Value) -> Value {
    call(
        plugin,
        "scrobbleretriever_getscrobbles",
        json!({ "username": user, "options": options }),
    )
}

fn ids(page: &Value) -> Vec<i64> {
    page.get("scrobbles")
        .and_then(Value::as_array)
        .map(|s| s.iter().map(|e| e["id"].as_i64().unwrap()).collect())
        .unwrap_or_default()
}

/// Follows `next` from `options` to the end; the ids of each page.
fn walk(plugin: &Plugin, user: &str, options: Value) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut options = Some(options);
    while let Some(o) = options.take() {
        let p = page(plugin, user, o);
        assert!(p.get("error").is_none(), "{p}");
        pages.push(ids(&p));
        options = p.get("next").cloned();
        assert!(pages.len() < 20, "paging does not end: {pages:?}");
    }
    pages
}

#[test]
fn first_and_last_timestamps() {
    let world = World::new();
    let p = world.load("scrobbles-ts", Scope::everything(), false);
    let first = |u: &str| {
        call(
            &p,
            "scrobbleretriever_getfirsttimestamp",
            json!({ "username": u }),
        )
    };
    let last = |u: &str| {
        call(
            &p,
            "scrobbleretriever_getlasttimestamp",
            json!({ "username": u }),
        )
    };
    assert_eq!(first("alice"), json!({"result": 100}));
    assert_eq!(last("alice"), json!({"result": 400}));
    assert_eq!(first("bob"), json!({"result": 200}));
    assert_eq!(first("admin"), json!({}), "no scrobbles: result absent");
    assert_eq!(last("admin"), json!({}));
}

#[test]
fn a_page_has_the_wire_shape_and_next_carries_the_adjusted_options() {
    let world = World::new();
    let p = world.load("scrobbles-wire", Scope::everything(), false);
    assert_eq!(
        page(&p, "alice", json!({"maxItems": 2, "descending": false})),
        json!({
            "scrobbles": [
                {"id": 1, "mediaFileId": "t1", "submissionTime": 100},
                {"id": 2, "mediaFileId": "t1", "submissionTime": 200},
            ],
            "next": {"fromTimestamp": 200, "descending": false, "maxItems": 2, "offset": 1},
        })
    );
    // The next page starts after the tie already returned; its own next has no offset.
    assert_eq!(
        page(
            &p,
            "alice",
            json!({"fromTimestamp": 200, "descending": false, "maxItems": 2, "offset": 1})
        ),
        json!({
            "scrobbles": [
                {"id": 3, "mediaFileId": "t2", "submissionTime": 200},
                {"id": 4, "mediaFileId": "t1", "submissionTime": 200},
            ],
            "next": {"fromTimestamp": 300, "descending": false, "maxItems": 2},
        })
    );
    // The last page has no next.
    assert_eq!(
        page(&p, "alice", json!({"fromTimestamp": 300, "maxItems": 2})),
        json!({"scrobbles": [
            {"id": 5, "mediaFileId": "t2", "submissionTime": 300},
            {"id": 6, "mediaFileId": "t1", "submissionTime": 400},
        ]})
    );
    assert_eq!(page(&p, "alice", json!({"fromTimestamp": 500})), json!({}));
    assert_eq!(page(&p, "admin", json!({})), json!({}));
}

#[test]
fn paging_returns_every_scrobble_once_across_equal_timestamps() {
    let world = World::new();
    let p = world.load("scrobbles-walk", Scope::everything(), false);
    assert_eq!(
        walk(&p, "alice", json!({"maxItems": 2})),
        [vec![1, 2], vec![3, 4], vec![5, 6]]
    );
    assert_eq!(
        walk(&p, "alice", json!({"maxItems": 1})),
        [vec![1], vec![2], vec![3], vec![4], vec![5], vec![6]]
    );
    // Whole pages of one timestamp carry the incoming offset over.
    assert_eq!(
        walk(&p, "bob", json!({"maxItems": 2})),
        [vec![10, 11], vec![12, 13], vec![14]]
    );
    let second = page(
        &p,
        "bob",
        json!({"fromTimestamp": 200, "maxItems": 2, "offset": 2}),
    );
    assert_eq!(
        second["next"],
        json!({"fromTimestamp": 200, "descending": false, "maxItems": 2, "offset": 4})
    );
    // Newest first, within bounds.
    assert_eq!(
        walk(&p, "alice", json!({"maxItems": 4, "descending": true})),
        [vec![6, 5, 4, 3], vec![2, 1]]
    );
    let first = page(&p, "alice", json!({"maxItems": 4, "descending": true}));
    assert_eq!(
        first["next"],
        json!({"toTimestamp": 200, "descending": true, "maxItems": 4, "offset": 2})
    );
    assert_eq!(
        walk(
            &p,
            "alice",
            json!({"maxItems": 2, "fromTimestamp": 200, "toTimestamp": 300, "descending": true})
        ),
        [vec![5, 4], vec![3, 2]]
    );
}

#[test]
fn max_items_out_of_range_means_5000_and_one_more_is_asked() {
    let world = World::new();
    let p = world.load("scrobbles-max", Scope::everything(), false);
    for (max, asked) in [
        (json!(0), 5001),
        (json!(-3), 5001),
        (json!(9999), 5001),
        (json!(5000), 5001),
        (json!(7), 8),
    ] {
        let out = page(&p, "alice", json!({ "maxItems": max, "offset": -4 }));
        assert_eq!(ids(&out), [1, 2, 3, 4, 5, 6]);
        assert!(out.get("next").is_none(), "{out}");
        let q = world.app.scrobble_queries().pop().unwrap();
        assert_eq!(q.limit, asked, "maxItems {max}");
        assert_eq!(q.offset, 0, "a negative offset is 0");
    }
    let q = {
        page(
            &p,
            "alice",
            json!({"fromTimestamp": 1, "toTimestamp": 2, "descending": true, "offset": 3}),
        );
        world.app.scrobble_queries().pop().unwrap()
    };
    assert_eq!(
        (q.from, q.to, q.descending, q.offset),
        (Some(1), Some(2), true, 3)
    );
}

#[test]
fn counts() {
    let world = World::new();
    let p = world.load("scrobbles-count", Scope::everything(), false);
    let count = |u: &str, options: Value| {
        call(
            &p,
            "scrobbleretriever_getscrobblecount",
            json!({ "username": u, "options": options }),
        )
    };
    assert_eq!(count("alice", json!({})), json!({"result": 6}));
    assert_eq!(
        count("alice", json!({"fromTimestamp": 200, "toTimestamp": 300})),
        json!({"result": 4})
    );
    assert_eq!(
        count("alice", json!({"toTimestamp": 100})),
        json!({"result": 1})
    );
    assert_eq!(
        count("bob", json!({"fromTimestamp": 201})),
        json!({}),
        "0 is omitted"
    );
    assert_eq!(count("admin", json!(null)), json!({}));
}

#[test]
fn users_are_checked_against_the_scope() {
    let world = World::new();
    let p = world.load("scrobbles-scoped", users_only(&["u-alice"]), false);
    assert_eq!(
        call(
            &p,
            "scrobbleretriever_getfirsttimestamp",
            json!({"username": "alice"})
        ),
        json!({"result": 100})
    );
    for function in [
        "scrobbleretriever_getfirsttimestamp",
        "scrobbleretriever_getlasttimestamp",
        "scrobbleretriever_getscrobbles",
        "scrobbleretriever_getscrobblecount",
    ] {
        assert_eq!(
            call(&p, function, json!({"username": "bob"})),
            error(r#"scrobbleRetriever: plugin is not allowed to act as user "bob""#),
            "{function}"
        );
        assert_eq!(
            call(&p, function, json!({"username": "ghost"})),
            error(r#"scrobbleRetriever: user "ghost" not found"#),
            "{function}"
        );
    }

    let p = world.load("scrobbles-none", nothing(), false);
    let lookups = world.app.user_lookups();
    for user in ["alice", "ghost", ""] {
        assert_eq!(
            call(
                &p,
                "scrobbleretriever_getscrobbles",
                json!({ "username": user })
            ),
            error("scrobbleRetriever: plugin is not authorized to scope by user")
        );
    }
    assert_eq!(world.app.user_lookups(), lookups);
}

#[test]
fn bad_options_get_go_errors() {
    let world = World::new();
    let p = world.load("scrobbles-bad", Scope::everything(), false);
    for (options, message) in [
        (
            json!({"maxItems": "10"}),
            "json: cannot unmarshal string into Go struct field ScrobbleOptions.options.maxItems of type int",
        ),
        (
            json!({"offset": 1.5}),
            "json: cannot unmarshal number 1.5 into Go struct field ScrobbleOptions.options.offset of type int",
        ),
        (
            json!({"fromTimestamp": "yesterday"}),
            "json: cannot unmarshal string into Go struct field ScrobbleOptions.options.fromTimestamp of type int64",
        ),
        (
            json!({"descending": 1}),
            "json: cannot unmarshal number into Go struct field ScrobbleOptions.options.descending of type bool",
        ),
        (
            json!([1]),
            "json: cannot unmarshal array into Go struct field ScrobbleRetrieverGetScrobblesRequest.options of type host.ScrobbleOptions",
        ),
    ] {
        assert_eq!(
            page(&p, "alice", options.clone()),
            error(message),
            "{options}"
        );
    }
}
