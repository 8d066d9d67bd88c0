//! The smallest useful plugin: a metadata agent that implements only
//! `nd_get_artist_biography` (like Navidrome's `minimal` example). It needs no permission.
//! The text can be changed with the `greeting` configuration key.

use nd_pdk::capability::MetadataAgent;
use nd_pdk::types::ArtistRequest;

/// The agent. Stateless: the host makes a fresh one for every call.
#[derive(Default)]
pub struct Minimal;

impl MetadataAgent for Minimal {
    fn artist_biography(&self, req: ArtistRequest) -> nd_pdk::Result<Option<String>> {
        if req.name.trim().is_empty() {
            // No name, nothing to say: "not found", so the host asks the next agent.
            return Ok(None);
        }
        let greeting = nd_pdk::host::config::extism_get("greeting")?
            .unwrap_or_else(|| "This biography comes from the minimal example plugin".to_owned());
        nd_pdk::debug!("biography requested for {:?} ({})", req.name, req.id);
        Ok(Some(format!(
            "{greeting}: {} is an artist in your library.",
            req.name
        )))
    }
}

nd_pdk::register_metadata_agent!(Minimal, [artist_biography]);

#[cfg(test)]
mod tests {
    use nd_pdk::testing;

    use super::*;

    #[test]
    fn answers_a_biography() {
        testing::reset();
        let out = testing::call_export(
            nd_get_artist_biography,
            r#"{"id":"ar-1","name":"Nina Simone"}"#,
        );
        assert_eq!(out.rc, 0, "{:?}", out.error);
        let bio = out.json()["biography"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            bio.ends_with("Nina Simone is an artist in your library."),
            "{bio}"
        );
    }

    #[test]
    fn the_greeting_is_configurable() {
        testing::reset();
        testing::set_config([("greeting", "Hello")]);
        let out = testing::call_export(nd_get_artist_biography, r#"{"id":"ar-1","name":"Björk"}"#);
        assert_eq!(
            out.json()["biography"],
            "Hello: Björk is an artist in your library."
        );
    }

    #[test]
    fn no_name_is_not_found() {
        testing::reset();
        let out = testing::call_export(nd_get_artist_biography, r#"{"id":"ar-1","name":" "}"#);
        assert_eq!((out.rc, out.output.len(), out.error), (0, 0, None));
    }
}
