//! An application embedding ndp: it brings its own music library (one folder, behind the
//! `LibraryProvider` trait), loads a folder of Navidrome plugins through the manager, and
//! asks every metadata agent for an artist biography.
//!
//! Usage: `ndp-example-embedding PLUGINS_DIR DATA_DIR [ARTIST]`.

use std::path::PathBuf;
use std::sync::Arc;

use nd_capabilities::Capability;
use nd_capabilities::types::ArtistRequest;
use nd_host_appdata::provider::{LibraryInfo, LibraryProvider, ProviderError, Scope};
use nd_manager::{AppData, Manager};

/// The application's own library: a single music folder.
struct MyLibrary {
    root: PathBuf,
}

impl LibraryProvider for MyLibrary {
    fn libraries(&self) -> Result<Vec<LibraryInfo>, ProviderError> {
        Ok(vec![LibraryInfo {
            id: 1,
            name: "My Music".into(),
            path: self.root.clone(),
            ..LibraryInfo::default()
        }])
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: ndp-example-embedding PLUGINS_DIR DATA_DIR [ARTIST]";
    let plugins = PathBuf::from(args.next().ok_or(usage)?);
    let data = PathBuf::from(args.next().ok_or(usage)?);
    let artist = args.next().unwrap_or_else(|| "Nina Simone".into());

    let library = Arc::new(MyLibrary {
        root: data.join("music"),
    });
    let manager = Manager::builder(&data)
        .plugins_dir(plugins)
        .app_data(AppData {
            libraries: Some(library),
            ..AppData::default()
        })
        .build()?;
    manager.start()?;

    // New plugins are recorded disabled (Navidrome's rule): this application trusts its
    // folder, so it enables every plugin, letting them see all libraries.
    for plugin in manager.list()? {
        if !plugin.enabled {
            manager.set_scope(&plugin.id, Scope::everything())?;
            if let Err(e) = manager.enable(&plugin.id) {
                eprintln!("skipping {}: {e}", plugin.id);
            }
        }
    }

    let request = ArtistRequest {
        id: "artist-1".into(),
        name: artist.clone(),
        ..ArtistRequest::default()
    };
    for plugin in manager.with_capability(Capability::MetadataAgent) {
        let Some(agent) = plugin.capabilities().metadata_agent() else {
            continue;
        };
        match agent.artist_biography(&request) {
            Ok(Some(bio)) => println!("{}: {bio}", plugin.id()),
            Ok(None) => println!("{}: no biography of {artist}", plugin.id()),
            Err(e) => println!("{}: failed: {e}", plugin.id()),
        }
    }
    manager.shutdown();
    Ok(())
}
