//! AutoReload: watches the plugins folder and, 2 s (the debounce) after the last event of a
//! `.ndp` file, runs the sync rules for that one plugin (spec §6.1). A changed file ends up
//! disabled, as in Navidrome; it is not hot-swapped.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nd_manifest::plugin_id_from_file_name;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::manager::WeakInner;

/// A running watcher; dropping it stops the watching and the debounce thread.
pub(crate) struct Watcher {
    watcher: Option<RecommendedWatcher>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Dropping the notify watcher closes the channel, which ends the debounce thread.
        self.watcher.take();
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

impl Watcher {
    pub(crate) fn start(dir: &Path, debounce: Duration, inner: WeakInner) -> Result<Self, String> {
        let (tx, rx) = mpsc::channel::<String>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if !matches!(
                    event.kind,
                    EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                ) {
                    return;
                }
                for path in event.paths {
                    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                        continue;
                    };
                    if let Ok(id) = plugin_id_from_file_name(name) {
                        let _ = tx.send(id);
                    }
                }
            })
            .map_err(|e| format!("cannot watch the plugins folder: {e}"))?;
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|e| format!("cannot watch the plugins folder: {e}"))?;
        let thread = std::thread::Builder::new()
            .name("ndp-autoreload".into())
            .spawn(move || debounce_loop(rx, debounce, inner))
            .map_err(|e| format!("cannot start the auto-reload thread: {e}"))?;
        Ok(Watcher {
            watcher: Some(watcher),
            thread: Some(thread),
        })
    }
}

fn debounce_loop(rx: mpsc::Receiver<String>, debounce: Duration, inner: WeakInner) {
    let mut due: HashMap<String, Instant> = HashMap::new();
    loop {
        let wait = due.values().min().map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        match rx.recv_timeout(wait) {
            Ok(id) => {
                due.insert(id, Instant::now() + debounce);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        let ready: Vec<String> = due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ready {
            due.remove(&id);
            let Some(inner) = inner.upgrade() else { return };
            inner.file_event(&id);
        }
    }
}
