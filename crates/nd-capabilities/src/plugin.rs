//! [`PluginCapabilities`]: every adapter of one plugin, offered only for the capabilities it
//! has.

use std::fmt;
use std::sync::Arc;

use crate::detect::{Capability, CapabilitySet, detect_with};
use crate::{
    ExportCaller, Lifecycle, Lyrics, MetadataAgent, SchedulerCallback, Scrobbler, SonicSimilarity,
    TaskWorker, WebSocketCallback,
};

/// The capabilities of one plugin, detected once from its exports, and their adapters.
///
/// Each accessor returns `Some` only when the capability was detected. Adapters are cheap
/// handles; [`PluginCapabilities::lyrics`] always hands out clones of one [`Lyrics`], so all
/// its users share the plugin's concurrency cap.
#[derive(Clone)]
pub struct PluginCapabilities {
    caller: Arc<dyn ExportCaller>,
    detected: CapabilitySet,
    lyrics: Option<Lyrics>,
}

impl fmt::Debug for PluginCapabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginCapabilities")
            .field("plugin", &self.caller.plugin_id())
            .field("detected", &self.detected)
            .finish()
    }
}

impl PluginCapabilities {
    /// Detects the capabilities of the plugin behind `caller` (through
    /// [`ExportCaller::has_export`]) and prepares their adapters.
    pub fn new(caller: Arc<dyn ExportCaller>) -> Self {
        let detected = detect_with(|export| caller.has_export(export));
        let lyrics = detected
            .contains(Capability::Lyrics)
            .then(|| Lyrics::new(Arc::clone(&caller)));
        Self {
            caller,
            detected,
            lyrics,
        }
    }

    /// The plugin id.
    pub fn plugin_id(&self) -> &str {
        self.caller.plugin_id()
    }

    /// The detected capabilities.
    pub fn detected(&self) -> CapabilitySet {
        self.detected
    }

    /// Whether `capability` was detected.
    pub fn has(&self, capability: Capability) -> bool {
        self.detected.contains(capability)
    }

    /// The caller every adapter uses.
    pub fn caller(&self) -> &Arc<dyn ExportCaller> {
        &self.caller
    }

    fn adapter<T>(&self, capability: Capability, new: fn(Arc<dyn ExportCaller>) -> T) -> Option<T> {
        self.has(capability).then(|| new(Arc::clone(&self.caller)))
    }

    /// The MetadataAgent adapter, if the plugin is a metadata agent.
    pub fn metadata_agent(&self) -> Option<MetadataAgent> {
        self.adapter(Capability::MetadataAgent, MetadataAgent::new)
    }

    /// The Scrobbler adapter, if the plugin is a scrobbler.
    pub fn scrobbler(&self) -> Option<Scrobbler> {
        self.adapter(Capability::Scrobbler, Scrobbler::new)
    }

    /// The Lyrics adapter, if the plugin provides lyrics: a clone of the one adapter of this
    /// plugin, sharing its concurrency cap.
    pub fn lyrics(&self) -> Option<Lyrics> {
        self.lyrics.clone()
    }

    /// The SonicSimilarity adapter, if the plugin has it.
    pub fn sonic_similarity(&self) -> Option<SonicSimilarity> {
        self.adapter(Capability::SonicSimilarity, SonicSimilarity::new)
    }

    /// The TaskWorker adapter, if the plugin exports `nd_task_execute`.
    pub fn task_worker(&self) -> Option<TaskWorker> {
        self.adapter(Capability::TaskWorker, TaskWorker::new)
    }

    /// The Lifecycle adapter, if the plugin exports `nd_on_init`.
    pub fn lifecycle(&self) -> Option<Lifecycle> {
        self.adapter(Capability::Lifecycle, Lifecycle::new)
    }

    /// The Scheduler adapter, if the plugin exports `nd_scheduler_callback`.
    pub fn scheduler(&self) -> Option<SchedulerCallback> {
        self.adapter(Capability::Scheduler, SchedulerCallback::new)
    }

    /// The WebSocket adapter, if the plugin exports any `nd_websocket_on_*` callback.
    pub fn websocket(&self) -> Option<WebSocketCallback> {
        self.adapter(Capability::WebSocket, WebSocketCallback::new)
    }
}
