//! Integration tests of nd-library: the demo catalog written to a temporary folder, scanned
//! with lofty, and queried through every provider trait.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod artwork;
mod matcher;
mod scan;
mod scrobble;
mod subsonic;

use nd_library::MusicLibrary;
use nd_library::demo::{DemoLibrary, write_demo_library};
use tempfile::TempDir;

/// A freshly written demo catalog, opened with its own configuration.
pub(crate) struct Demo {
    pub dir: TempDir,
    pub demo: DemoLibrary,
    pub library: MusicLibrary,
}

pub(crate) fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let demo = write_demo_library(dir.path()).unwrap();
    let library = MusicLibrary::open(demo.config()).unwrap();
    Demo { dir, demo, library }
}

impl Demo {
    /// The id of the demo track with this title in this library.
    pub fn id(&self, title: &str, library_id: i32) -> String {
        self.demo
            .tracks
            .iter()
            .find(|t| t.title == title && t.library_id == library_id)
            .unwrap_or_else(|| panic!("no demo track {title:?} in library {library_id}"))
            .id()
    }

    pub fn user(&self, name: &str) -> nd_host_appdata::provider::UserInfo {
        nd_library::demo::demo_users()
            .into_iter()
            .find(|u| u.user_name == name)
            .unwrap()
    }
}
