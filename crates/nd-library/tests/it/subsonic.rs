//! SubsonicProvider: envelope, endpoint JSON shapes, errors, scrobble, XML.

use nd_host_appdata::provider::{
    ScrobbleProvider, ScrobbleQuery, SubsonicProvider, SubsonicRequest, UserInfo,
};
use serde_json::{Value, json};

use crate::{Demo, demo};

fn request(user: UserInfo, uri: &str) -> SubsonicRequest {
    let (endpoint, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.push(("u".into(), user.user_name.clone()));
    params.push(("c".into(), "test-plugin".into()));
    params.push(("v".into(), "1.16.1".into()));
    SubsonicRequest {
        user,
        endpoint: endpoint.to_owned(),
        params,
    }
}

/// Calls as `user` with `f=json` and returns the `subsonic-response` object.
fn call(d: &Demo, user: &str, uri: &str) -> Value {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let response = d
        .library
        .call(&request(d.user(user), &format!("{uri}{sep}f=json")))
        .unwrap();
    assert_eq!(response.content_type, "application/json");
    let doc: Value = serde_json::from_slice(&response.body).unwrap();
    let obj = doc.as_object().unwrap();
    assert_eq!(obj.len(), 1, "one top-level key");
    doc["subsonic-response"].clone()
}

fn ok(d: &Demo, user: &str, uri: &str) -> Value {
    let r = call(d, user, uri);
    assert_eq!(r["status"], "ok", "{uri}: {r}");
    r
}

fn failed(d: &Demo, user: &str, uri: &str) -> (i64, String) {
    let r = call(d, user, uri);
    assert_eq!(r["status"], "failed", "{uri}: {r}");
    (
        r["error"]["code"].as_i64().unwrap(),
        r["error"]["message"].as_str().unwrap().to_owned(),
    )
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_envelope_follows_opensubsonic() {
    let d = demo();
    let r = ok(&d, "alice", "ping");
    let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["openSubsonic", "serverVersion", "status", "type", "version"]
    );
    assert_eq!(r["version"], "1.16.1");
    assert_eq!(r["type"], "ndp");
    assert_eq!(r["openSubsonic"], true);
    assert!(r["serverVersion"].as_str().unwrap().contains("ndp"));
    // `.view` is accepted.
    ok(&d, "alice", "ping.view");
    assert_eq!(
        ok(&d, "bob", "getLicense.view")["license"],
        json!({"valid": true})
    );
}

#[test]
fn unknown_endpoints_fail_inside_the_response() {
    let d = demo();
    assert_eq!(
        failed(&d, "alice", "getPodcasts"),
        (0, "not implemented".to_owned())
    );
    assert_eq!(
        failed(&d, "alice", "stream.view?id=1"),
        (0, "not implemented".to_owned())
    );
    let r = call(&d, "alice", "deletePlaylist?id=1");
    assert_eq!(r["version"], "1.16.1");
    assert!(r.get("error").is_some());
}

#[test]
fn get_album_list2_sorts_filters_and_pages() {
    let d = demo();
    let list = |uri: &str| names(&ok(&d, "alice", uri)["albumList2"]["album"], "name");
    assert_eq!(
        list("getAlbumList2?type=alphabeticalByName&size=50"),
        [
            "Kettle Sessions",
            "Night Flight",
            "Night Shift Vol. 1",
            "Paper Lanterns"
        ]
    );
    assert_eq!(
        list("getAlbumList2?type=alphabeticalByName&size=2&offset=1"),
        ["Night Flight", "Night Shift Vol. 1"]
    );
    assert_eq!(
        list("getAlbumList2?type=alphabeticalByArtist"),
        [
            "Paper Lanterns",
            "Kettle Sessions",
            "Night Flight",
            "Night Shift Vol. 1"
        ]
    );
    assert_eq!(
        list("getAlbumList2?type=byGenre&genre=rock"),
        ["Night Flight"]
    );
    assert_eq!(
        list("getAlbumList2?type=byYear&fromYear=2015&toYear=2020"),
        ["Kettle Sessions", "Night Flight"]
    );
    assert_eq!(
        list("getAlbumList2?type=byYear&fromYear=2022&toYear=2019"),
        ["Night Shift Vol. 1", "Paper Lanterns", "Night Flight"]
    );
    assert_eq!(
        list("getAlbumList2?type=alphabeticalByName&musicFolderId=2"),
        ["Night Shift Vol. 1"]
    );
    assert_eq!(list("getAlbumList2?type=newest&size=50").len(), 4);
    assert_eq!(
        list("getAlbumList2?type=starred"),
        ["Night Flight"],
        "alice starred Take Off"
    );
    assert_eq!(
        list("getAlbumList2?type=highest"),
        ["Night Flight", "Paper Lanterns"]
    );
    assert!(list("getAlbumList2?type=frequent").is_empty());

    let mut random = list("getAlbumList2?type=random&size=3");
    assert_eq!(random.len(), 3);
    random.sort();
    random.dedup();
    assert_eq!(random.len(), 3, "no album twice");

    let r = ok(&d, "alice", "getAlbumList2?type=alphabeticalByName&size=1");
    let album = &r["albumList2"]["album"][0];
    assert_eq!(album["name"], "Kettle Sessions");
    assert_eq!(album["artist"], "DJ Kettle");
    assert_eq!(album["songCount"], 2);
    assert_eq!(album["year"], 2015);
    assert_eq!(album["genre"], "Hip-Hop");
    assert_eq!(album["genres"], json!([{"name": "Hip-Hop"}]));
    assert_eq!(album["isCompilation"], false);
    assert_eq!(
        album["coverArt"],
        format!("al-{}_0", album["id"].as_str().unwrap())
    );
    assert!(album.get("song").is_none());

    assert_eq!(
        failed(&d, "alice", "getAlbumList2"),
        (10, "required 'type' parameter is missing".to_owned())
    );
    assert_eq!(failed(&d, "alice", "getAlbumList2?type=byGenre").0, 10);
    assert_eq!(
        failed(&d, "alice", "getAlbumList2?type=byYear&fromYear=2000").0,
        10
    );
    assert_eq!(failed(&d, "alice", "getAlbumList2?type=sideways").0, 0);
}

#[test]
fn get_song_and_get_album_describe_tracks() {
    let d = demo();
    let take_off = d.demo.track("Take Off").unwrap();
    let r = ok(&d, "alice", &format!("getSong?id={}", take_off.id()));
    let s = &r["song"];
    assert_eq!(s["id"], take_off.id());
    assert_eq!(s["title"], "Take Off");
    assert_eq!(s["album"], "Night Flight");
    assert_eq!(s["artist"], "The Midnight Owls");
    assert_eq!(s["track"], 1);
    assert_eq!(s["discNumber"], 1);
    assert_eq!(s["year"], 2019);
    assert_eq!(s["genre"], "Rock");
    assert_eq!(s["duration"], 1);
    assert_eq!(s["suffix"], "flac");
    assert_eq!(s["contentType"], "audio/flac");
    assert_eq!(s["path"], take_off.path);
    assert_eq!(s["isrc"], json!(["USMO11900001"]));
    assert_eq!(s["musicBrainzId"], take_off.mbz_recording_id);
    assert_eq!(s["bpm"], 128);
    assert_eq!(s["comment"], take_off.comment);
    assert_eq!(s["samplingRate"], 44_100);
    assert_eq!(s["channelCount"], 2);
    assert_eq!(s["bitDepth"], 16);
    assert_eq!(s["replayGain"]["trackGain"], -5.8);
    assert_eq!(s["replayGain"]["albumPeak"], 0.95);
    assert_eq!(s["coverArt"], format!("mf-{}_0", take_off.id()));
    assert_eq!(s["type"], "music");
    assert_eq!(s["mediaType"], "song");
    assert_eq!(s["isDir"], false);
    assert_eq!(s["artists"][0]["name"], "The Midnight Owls");
    assert_eq!(s["albumArtists"][0]["name"], "The Midnight Owls");
    // Alice's annotations; bob's differ.
    assert_eq!(s["userRating"], 5);
    assert_eq!(s["starred"], "2023-11-14T22:13:20Z");
    assert_eq!(s["averageRating"], 3.5);
    let b = &ok(&d, "bob", &format!("getSong?id={}", take_off.id()))["song"];
    assert_eq!(b["userRating"], 2);
    assert!(b.get("starred").is_none());

    assert_eq!(
        failed(&d, "alice", "getSong?id=nope"),
        (70, "Song not found".to_owned())
    );
    assert_eq!(failed(&d, "alice", "getSong").0, 10);

    let album_id = s["albumId"].as_str().unwrap().to_owned();
    let a = &ok(&d, "alice", &format!("getAlbum?id={album_id}"))["album"];
    assert_eq!(a["name"], "Night Flight");
    assert_eq!(a["songCount"], 4);
    assert_eq!(a["musicBrainzId"], take_off.mbz_album_id);
    assert_eq!(
        names(&a["song"], "title"),
        [
            "Take Off",
            "Cruising Altitude",
            "Turbulence (Live)",
            "Landing Lights"
        ]
    );
    assert_eq!(failed(&d, "alice", "getAlbum?id=nope").0, 70);

    // The compilation credits its album artist as Various Artists, songs their performers.
    let drum = d.id("Kettle Drum", 2);
    let k = &ok(&d, "alice", &format!("getSong?id={drum}"))["song"];
    assert_eq!(k["artist"], "DJ Kettle");
    assert_eq!(k["displayAlbumArtist"], "Various Artists");
    assert!(k.get("bitDepth").is_some());
}

#[test]
fn artists_index_and_artist_albums() {
    let d = demo();
    let r = ok(&d, "alice", "getArtists");
    let artists = &r["artists"];
    assert_eq!(
        artists["ignoredArticles"],
        "The El La Los Las Le Les Os As O A"
    );
    let index = artists["index"].as_array().unwrap();
    let letters: Vec<&str> = index.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(letters, ["A", "D", "M", "V"]);
    let m = &index[2]["artist"][0];
    assert_eq!(m["name"], "The Midnight Owls");
    assert_eq!(m["albumCount"], 1);
    assert_eq!(m["musicBrainzId"], "7c5a2b1e-3f0d-4e6a-9b8c-1d2e3f4a5b01");

    let only_extra = ok(&d, "alice", "getArtists?musicFolderId=2");
    let letters: Vec<&str> = only_extra["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(letters, ["V"]);

    let owls_id = m["id"].as_str().unwrap();
    let a = &ok(&d, "alice", &format!("getArtist?id={owls_id}"))["artist"];
    assert_eq!(a["name"], "The Midnight Owls");
    assert_eq!(names(&a["album"], "name"), ["Night Flight"]);
    assert_eq!(failed(&d, "alice", "getArtist?id=nope").0, 70);
}

#[test]
fn search3_matches_words_across_fields() {
    let d = demo();
    let r = ok(&d, "alice", "search3?query=lights");
    let res = &r["searchResult3"];
    assert_eq!(
        names(&res["song"], "title"),
        ["Landing Lights", "Landing Lights", "Vale Lights"]
    );
    assert!(res["artist"].as_array().unwrap().is_empty());
    assert!(res["album"].as_array().unwrap().is_empty());

    let r = ok(&d, "alice", "search3?query=OWLS&songCount=2&songOffset=1");
    let res = &r["searchResult3"];
    assert_eq!(names(&res["artist"], "name"), ["The Midnight Owls"]);
    assert_eq!(names(&res["album"], "name"), ["Night Flight"]);
    assert_eq!(
        names(&res["song"], "title"),
        ["Cruising Altitude", "Turbulence (Live)"]
    );

    let r = ok(&d, "alice", "search3?query=caf%C3%A9%20lumi");
    assert_eq!(
        names(&r["searchResult3"]["song"], "title"),
        ["Café Lumière"]
    );

    // An empty query (or `""`) lists everything, paged.
    let r = ok(
        &d,
        "alice",
        "search3?query=%22%22&songCount=100&albumCount=1&artistCount=0",
    );
    let res = &r["searchResult3"];
    assert_eq!(res["song"].as_array().unwrap().len(), 12);
    assert_eq!(res["album"].as_array().unwrap().len(), 1);
    assert!(res["artist"].as_array().unwrap().is_empty());
    let r = ok(&d, "alice", "search3?query=lights&musicFolderId=1");
    assert_eq!(
        names(&r["searchResult3"]["song"], "title"),
        ["Landing Lights"]
    );
}

#[test]
fn genres_folders_random_songs_and_users() {
    let d = demo();
    let genres = ok(&d, "alice", "getGenres")["genres"]["genre"].clone();
    assert_eq!(
        genres,
        json!([
            {"value": "Ambient", "songCount": 3, "albumCount": 1},
            {"value": "Electronic", "songCount": 3, "albumCount": 1},
            {"value": "Hip-Hop", "songCount": 2, "albumCount": 1},
            {"value": "Pop", "songCount": 3, "albumCount": 1},
            {"value": "Rock", "songCount": 4, "albumCount": 1},
        ])
    );
    assert_eq!(
        ok(&d, "alice", "getMusicFolders")["musicFolders"],
        json!({"musicFolder": [{"id": 1, "name": "Music"}, {"id": 2, "name": "Extra"}]})
    );

    let songs = ok(&d, "alice", "getRandomSongs?size=5")["randomSongs"]["song"].clone();
    let mut ids: Vec<String> = names(&songs, "id");
    assert_eq!(ids.len(), 5);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    let rock = ok(&d, "alice", "getRandomSongs?size=50&genre=Rock")["randomSongs"]["song"].clone();
    let mut titles = names(&rock, "title");
    titles.sort();
    assert_eq!(
        titles,
        [
            "Cruising Altitude",
            "Landing Lights",
            "Take Off",
            "Turbulence (Live)"
        ]
    );
    let old = ok(&d, "alice", "getRandomSongs?toYear=2016&size=50")["randomSongs"]["song"].clone();
    assert_eq!(old.as_array().unwrap().len(), 2);

    let me = ok(&d, "alice", "getUser?username=alice")["user"].clone();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["adminRole"], false);
    assert_eq!(me["folder"], json!([1, 2]));
    assert_eq!(ok(&d, "bob", "getUser")["user"]["username"], "bob");
    assert_eq!(
        ok(&d, "admin", "getUser?username=bob")["user"]["username"],
        "bob"
    );
    assert_eq!(ok(&d, "admin", "getUser")["user"]["adminRole"], true);
    assert_eq!(failed(&d, "alice", "getUser?username=bob").0, 50);
    assert_eq!(failed(&d, "admin", "getUser?username=nobody").0, 70);
}

#[test]
fn scrobble_records_into_the_history_as_the_acting_user() {
    let d = demo();
    let steam = d.id("Steam", 1);
    let drum = d.id("Kettle Drum", 2);
    ok(
        &d,
        "alice",
        &format!("scrobble?id={steam}&time=1700000123456&id={drum}&time=1700000200000"),
    );
    // "Now playing" is accepted and not recorded; an unknown id records nothing.
    ok(
        &d,
        "alice",
        &format!("scrobble?id={steam}&submission=false"),
    );
    assert_eq!(
        failed(&d, "alice", &format!("scrobble.view?id={steam}&id=nope")).0,
        70
    );
    assert_eq!(failed(&d, "alice", "scrobble").0, 10);

    let alice = d.user("alice");
    let all = ScrobbleQuery {
        limit: 100,
        ..ScrobbleQuery::default()
    };
    let history = d.library.scrobbles(&alice, &all).unwrap();
    let seen: Vec<(&str, i64)> = history
        .iter()
        .map(|e| (e.media_file_id.as_str(), e.submission_time))
        .collect();
    assert_eq!(
        seen,
        [
            (steam.as_str(), 1_700_000_123),
            (drum.as_str(), 1_700_000_200)
        ]
    );
    assert_eq!(d.library.count(&d.user("bob"), None, None).unwrap(), 0);

    // Without a time the scrobble is "now".
    ok(&d, "bob", &format!("scrobble?id={steam}"));
    let bob_last = d.library.last_timestamp(&d.user("bob")).unwrap().unwrap();
    assert!(bob_last > 1_700_000_000);

    // The play shows on the song for alice, and in her album lists.
    let s = &ok(&d, "alice", &format!("getSong?id={steam}"))["song"];
    assert_eq!(s["playCount"], 1);
    assert_eq!(s["played"], "2023-11-14T22:15:23Z");
    let recent = ok(&d, "alice", "getAlbumList2?type=recent")["albumList2"]["album"].clone();
    assert_eq!(
        names(&recent, "name"),
        ["Night Shift Vol. 1", "Kettle Sessions"]
    );
}

#[test]
fn without_f_json_the_answer_is_xml() {
    let d = demo();
    let response = d
        .library
        .call(&request(d.user("alice"), "getGenres.view"))
        .unwrap();
    assert_eq!(response.content_type, "application/xml");
    let xml = String::from_utf8(response.body).unwrap();
    assert!(
        xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><subsonic-response "#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"xmlns="http://subsonic.org/restapi""#),
        "{xml}"
    );
    assert!(xml.contains(r#"status="ok""#), "{xml}");
    assert!(xml.contains(r#"version="1.16.1""#), "{xml}");
    assert!(
        xml.contains(r#"<genre albumCount="1" songCount="4">Rock</genre>"#),
        "{xml}"
    );
    assert!(xml.ends_with("</genres></subsonic-response>"), "{xml}");

    let response = d.library.call(&request(d.user("alice"), "nope")).unwrap();
    let xml = String::from_utf8(response.body).unwrap();
    assert!(xml.contains(r#"status="failed""#), "{xml}");
    assert!(
        xml.contains(r#"<error code="0" message="not implemented"/>"#),
        "{xml}"
    );

    let response = d
        .library
        .call(&request(d.user("alice"), "search3?query=caf%C3%A9"))
        .unwrap();
    let xml = String::from_utf8(response.body).unwrap();
    assert!(xml.contains(r#"title="Café Lumière""#), "{xml}");
    assert!(xml.contains("<genres name=\"Electronic\"/>"), "{xml}");
}
