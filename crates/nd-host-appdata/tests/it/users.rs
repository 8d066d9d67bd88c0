//! `users_getusers` and `users_getadmins` (spec §3.13): scope filtering, no private fields.

use std::sync::atomic::Ordering;

use nd_host_appdata::provider::Scope;
use serde_json::json;

use crate::support::*;

#[test]
fn every_user_with_only_name_display_name_and_admin_flag() {
    let world = World::new();
    let p = world.load("users-all", Scope::everything(), false);
    assert_eq!(
        call(&p, "users_getusers", json!({})),
        json!({"result": [
            {"userName": "alice", "name": "Alice Liddell", "isAdmin": false},
            {"userName": "bob", "name": "Bob", "isAdmin": false},
            {"userName": "admin", "name": "Administrator", "isAdmin": true},
        ]})
    );
    let raw = call_raw(&p, "users_getusers", "{}");
    assert!(!raw.contains("u-alice"), "internal ids leak: {raw}");
    assert_eq!(
        call(&p, "users_getadmins", json!({})),
        json!({"result": [{"userName": "admin", "name": "Administrator", "isAdmin": true}]})
    );
}

#[test]
fn only_allowed_users_are_listed() {
    let world = World::new();
    let p = world.load("users-bob", users_only(&["u-bob", "u-ghost"]), false);
    assert_eq!(
        call(&p, "users_getusers", json!({})),
        json!({"result": [{"userName": "bob", "name": "Bob", "isAdmin": false}]})
    );
    assert_eq!(call(&p, "users_getadmins", json!({})), json!({}));

    let p = world.load("users-admin", users_only(&["u-admin", "u-alice"]), false);
    assert_eq!(
        call(&p, "users_getadmins", json!({})),
        json!({"result": [{"userName": "admin", "name": "Administrator", "isAdmin": true}]})
    );
}

#[test]
fn no_user_scope_tells_nothing_not_even_a_provider_error() {
    let world = World::new();
    world.app.fail_users.store(true, Ordering::SeqCst);
    let p = world.load("users-none", nothing(), false);
    let before = world.app.user_lookups();
    assert_eq!(call_raw(&p, "users_getusers", "{}"), "{}");
    assert_eq!(call_raw(&p, "users_getadmins", "{}"), "{}");
    assert_eq!(world.app.user_lookups(), before, "the provider was asked");

    // With a scope, a provider failure is an error, not an empty list.
    let p = world.load("users-failing", Scope::everything(), false);
    assert_eq!(
        call(&p, "users_getusers", json!({})),
        error("user database is down")
    );
}
