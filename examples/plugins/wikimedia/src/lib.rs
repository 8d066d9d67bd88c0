//! A metadata agent backed by Wikipedia and Wikidata, through the host's `http_send`
//! (permission `http`, hosts in the manifest's `requiredHosts`).
//!
//! - `nd_get_artist_biography`, `nd_get_artist_url`, `nd_get_artist_images`: the artist's
//!   Wikipedia page summary (`GET {apiBase}/api/rest_v1/page/summary/{title}`). When the
//!   plain name is a disambiguation page or missing, `{name} (band)`, `{name} (musician)` and
//!   `{name} (singer)` are tried in turn.
//! - `nd_get_artist_mbid`: the page's Wikidata item (`wikibase_item`), then its MusicBrainz
//!   artist id, property P434 (`GET {wikidataBase}/wiki/Special:EntityData/{item}.json`).
//! - `nd_get_album_info`: the summary of `{album} ({artist} album)`, `{album} (album)` or
//!   `{album}`, whichever is first described as an album.
//!
//! A missing page is "not found" (the host asks the next agent and remembers); an HTTP error
//! status or a network failure fails the call (the host retries later).

use nd_pdk::capability::MetadataAgent;
use nd_pdk::host::config;
use nd_pdk::host::http::{self, HttpRequest};
use nd_pdk::types::{AlbumInfo, AlbumRequest, ArtistMbidRequest, ArtistRequest, ImageInfo};
use nd_pdk::{Error, Result};
use serde::Deserialize;
use serde_json::Value;

/// Wikimedia asks every client to identify itself.
const USER_AGENT: &str = "ndp-wikimedia-example/0.1 (example plugin of ndp; nd-pdk)";
const DEFAULT_API_BASE: &str = "https://en.wikipedia.org";
const DEFAULT_WIKIDATA_BASE: &str = "https://www.wikidata.org";
const DEFAULT_TIMEOUT_MS: i32 = 5_000;
/// Pages tried after the plain artist name.
const ARTIST_QUALIFIERS: [&str; 3] = ["band", "musician", "singer"];
/// Wikidata's "MusicBrainz artist ID" property.
const MUSICBRAINZ_ARTIST_ID: &str = "P434";

/// The agent (stateless; built for every call).
#[derive(Default)]
pub struct Wikimedia;

/// The parts of a page summary this plugin reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Summary {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    description: String,
    extract: String,
    wikibase_item: String,
    content_urls: Option<ContentUrls>,
    originalimage: Option<Image>,
    thumbnail: Option<Image>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ContentUrls {
    desktop: Option<PageUrl>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageUrl {
    page: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Image {
    source: String,
    width: i32,
    height: i32,
}

struct Settings {
    api_base: String,
    wikidata_base: String,
    timeout_ms: i32,
}

impl Settings {
    fn load() -> Result<Self> {
        let base = |key: &str, default: &str| -> Result<String> {
            Ok(config::get(key)?
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_owned())
                .trim_end_matches('/')
                .to_owned())
        };
        Ok(Settings {
            api_base: base("apiBase", DEFAULT_API_BASE)?,
            wikidata_base: base("wikidataBase", DEFAULT_WIKIDATA_BASE)?,
            timeout_ms: config::get_int("timeoutMs")?
                .and_then(|ms| i32::try_from(ms).ok())
                .unwrap_or(DEFAULT_TIMEOUT_MS),
        })
    }

    /// GETs `url` as JSON: `Ok(None)` for 404, `Err` for other non-2xx statuses.
    fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<Option<T>> {
        let response = http::send(
            &HttpRequest::get(url)
                .header("User-Agent", USER_AGENT)
                .header("Accept", "application/json")
                .timeout_ms(self.timeout_ms),
        )?;
        match response.status_code {
            404 => Ok(None),
            200..=299 => response.json().map(Some),
            status => Err(Error::msg(format!("GET {url}: HTTP {status}"))),
        }
    }

    /// The summary of page `title`, if it exists.
    fn summary(&self, title: &str) -> Result<Option<Summary>> {
        let url = format!(
            "{}/api/rest_v1/page/summary/{}",
            self.api_base,
            page_path(title)
        );
        self.get_json(&url)
    }

    /// The first of `titles` whose page exists and is accepted by `fits`.
    fn first_page(
        &self,
        titles: impl IntoIterator<Item = String>,
        fits: impl Fn(&Summary) -> bool,
    ) -> Result<Option<Summary>> {
        for title in titles {
            if let Some(summary) = self.summary(&title)?
                && summary.kind != "disambiguation"
                && fits(&summary)
            {
                nd_pdk::debug!("using Wikipedia page {:?} for {title:?}", summary.title);
                return Ok(Some(summary));
            }
        }
        Ok(None)
    }

    /// The artist's page: the name itself, else the name with a qualifier.
    fn artist_page(&self, name: &str) -> Result<Option<Summary>> {
        let name = name.trim();
        if name.is_empty() {
            return Ok(None);
        }
        let titles = std::iter::once(name.to_owned())
            .chain(ARTIST_QUALIFIERS.iter().map(|q| format!("{name} ({q})")));
        self.first_page(titles, |_| true)
    }
}

/// A page title as a URL path segment: spaces as `_`, everything but unreserved characters
/// percent-encoded (UTF-8).
fn page_path(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for byte in title.trim().replace(' ', "_").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn page_url(settings: &Settings, summary: &Summary) -> String {
    summary
        .content_urls
        .as_ref()
        .and_then(|u| u.desktop.as_ref())
        .map(|d| d.page.clone())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| format!("{}/wiki/{}", settings.api_base, page_path(&summary.title)))
}

impl MetadataAgent for Wikimedia {
    fn artist_biography(&self, req: ArtistRequest) -> Result<Option<String>> {
        let settings = Settings::load()?;
        Ok(settings
            .artist_page(&req.name)?
            .map(|s| s.extract)
            .filter(|e| !e.trim().is_empty()))
    }

    fn artist_url(&self, req: ArtistRequest) -> Result<Option<String>> {
        let settings = Settings::load()?;
        Ok(settings
            .artist_page(&req.name)?
            .map(|s| page_url(&settings, &s)))
    }

    fn artist_images(&self, req: ArtistRequest) -> Result<Vec<ImageInfo>> {
        let settings = Settings::load()?;
        let Some(summary) = settings.artist_page(&req.name)? else {
            return Ok(Vec::new());
        };
        Ok([summary.originalimage, summary.thumbnail]
            .into_iter()
            .flatten()
            .filter(|i| !i.source.is_empty())
            .map(|i| ImageInfo {
                url: i.source,
                size: i.width.max(i.height),
            })
            .collect())
    }

    fn artist_mbid(&self, req: ArtistMbidRequest) -> Result<Option<String>> {
        let settings = Settings::load()?;
        let Some(summary) = settings.artist_page(&req.name)? else {
            return Ok(None);
        };
        let item = summary.wikibase_item;
        if item.is_empty() || !item.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let url = format!(
            "{}/wiki/Special:EntityData/{item}.json",
            settings.wikidata_base
        );
        let Some(entity) = settings.get_json::<Value>(&url)? else {
            return Ok(None);
        };
        let mbid = entity
            .pointer(&format!(
                "/entities/{item}/claims/{MUSICBRAINZ_ARTIST_ID}/0/mainsnak/datavalue/value"
            ))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if mbid.is_none() {
            nd_pdk::debug!("{item} has no MusicBrainz artist id");
        }
        Ok(mbid)
    }

    fn album_info(&self, req: AlbumRequest) -> Result<Option<AlbumInfo>> {
        let settings = Settings::load()?;
        let name = req.name.trim();
        if name.is_empty() {
            return Ok(None);
        }
        let mut titles = Vec::new();
        if !req.artist.trim().is_empty() {
            titles.push(format!("{name} ({} album)", req.artist.trim()));
        }
        titles.push(format!("{name} (album)"));
        titles.push(name.to_owned());
        let page =
            settings.first_page(titles, |s| s.description.to_lowercase().contains("album"))?;
        Ok(page.map(|s| AlbumInfo {
            name: name.to_owned(),
            mbid: req.mbid,
            url: page_url(&settings, &s),
            description: s.extract,
        }))
    }
}

nd_pdk::register_metadata_agent!(
    Wikimedia,
    [
        artist_biography,
        artist_url,
        artist_images,
        artist_mbid,
        album_info
    ]
);

#[cfg(test)]
mod tests {
    use nd_pdk::testing;
    use serde_json::json;

    use super::*;

    #[test]
    fn titles_are_encoded_as_path_segments() {
        assert_eq!(page_path("Nina Simone"), "Nina_Simone");
        assert_eq!(page_path("Björk"), "Bj%C3%B6rk");
        assert_eq!(page_path("AC/DC (band)"), "AC%2FDC_%28band%29");
    }

    #[test]
    fn biography_from_the_summary() {
        testing::reset();
        testing::set_config([("apiBase", "http://wiki.test/")]);
        testing::set_host(|function, req| {
            assert_eq!(function, "http_send");
            assert_eq!(
                req["request"]["url"],
                "http://wiki.test/api/rest_v1/page/summary/Nina_Simone"
            );
            assert_eq!(req["request"]["headers"]["User-Agent"], USER_AGENT);
            let body = json!({"type": "standard", "title": "Nina Simone", "extract": "Singer."});
            json!({"result": {"statusCode": 200, "body": encode(&body.to_string())}})
        });
        let out = testing::call_export(
            nd_get_artist_biography,
            r#"{"id":"1","name":"Nina Simone"}"#,
        );
        assert_eq!(out.json(), json!({"biography": "Singer."}));
    }

    /// Standard base64, as the host sends bodies.
    fn encode(text: &str) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in text.as_bytes().chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
