//! What Navidrome's plugin ABI names, as data: the `extism:host/user` host functions each
//! permission provides (spec §3), the capability exports (spec §4.2), and the load-time
//! rules that tie them to the manifest (spec §4.1). The CLI and the runtime use these
//! tables for checks and messages; nothing here touches a wasm module.

use std::collections::BTreeSet;
use std::fmt;

use crate::{Diagnostic, Manifest};

/// The import module of Navidrome's host functions.
pub const HOST_MODULE: &str = "extism:host/user";

/// The pseudo-permission of the config functions, which every plugin has.
pub const ALWAYS_AVAILABLE: &str = "config";

/// The host functions of one service, with the permission key that provides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostService {
    /// The manifest permission key (`scrobbleRetriever`), or [`ALWAYS_AVAILABLE`].
    pub permission: &'static str,
    /// The prefix every function of this service starts with.
    pub prefix: &'static str,
    /// Every known function name, as in Navidrome's snapshot (spec §3).
    pub functions: &'static [&'static str],
}

/// Every host service of spec §3, config first.
pub const HOST_SERVICES: &[HostService] = &[
    HostService {
        permission: ALWAYS_AVAILABLE,
        prefix: "config_",
        functions: &["config_get", "config_getint", "config_keys"],
    },
    HostService {
        permission: "http",
        prefix: "http_",
        functions: &["http_send"],
    },
    HostService {
        permission: "scheduler",
        prefix: "scheduler_",
        functions: &[
            "scheduler_scheduleonetime",
            "scheduler_schedulerecurring",
            "scheduler_cancelschedule",
        ],
    },
    HostService {
        permission: "cache",
        prefix: "cache_",
        functions: &[
            "cache_setstring",
            "cache_getstring",
            "cache_setint",
            "cache_getint",
            "cache_setfloat",
            "cache_getfloat",
            "cache_setbytes",
            "cache_getbytes",
            "cache_has",
            "cache_remove",
        ],
    },
    HostService {
        permission: "kvstore",
        prefix: "kvstore_",
        functions: &[
            "kvstore_set",
            "kvstore_setwithttl",
            "kvstore_get",
            "kvstore_getmany",
            "kvstore_has",
            "kvstore_list",
            "kvstore_delete",
            "kvstore_deletebyprefix",
            "kvstore_getstorageused",
        ],
    },
    HostService {
        permission: "storage",
        prefix: "storage_",
        functions: &["storage_getstoragepath"],
    },
    HostService {
        permission: "taskqueue",
        prefix: "task_",
        functions: &[
            "task_createqueue",
            "task_enqueue",
            "task_get",
            "task_cancel",
            "task_clearqueue",
        ],
    },
    HostService {
        permission: "websocket",
        prefix: "websocket_",
        functions: &[
            "websocket_connect",
            "websocket_sendtext",
            "websocket_sendbinary",
            "websocket_closeconnection",
        ],
    },
    HostService {
        permission: "library",
        prefix: "library_",
        functions: &["library_getlibrary", "library_getalllibraries"],
    },
    HostService {
        permission: "matcher",
        prefix: "matcher_",
        functions: &["matcher_matchsongs"],
    },
    HostService {
        permission: "artwork",
        prefix: "artwork_",
        functions: &[
            "artwork_getartisturl",
            "artwork_getalbumurl",
            "artwork_gettrackurl",
            "artwork_getplaylisturl",
        ],
    },
    HostService {
        permission: "subsonicapi",
        prefix: "subsonicapi_",
        functions: &["subsonicapi_call", "subsonicapi_callraw"],
    },
    HostService {
        permission: "users",
        prefix: "users_",
        functions: &["users_getusers", "users_getadmins"],
    },
    HostService {
        permission: "scrobbleRetriever",
        prefix: "scrobbleretriever_",
        functions: &[
            "scrobbleretriever_getfirsttimestamp",
            "scrobbleretriever_getlasttimestamp",
            "scrobbleretriever_getscrobbles",
            "scrobbleretriever_getscrobblecount",
        ],
    },
];

/// The permission key that provides an `extism:host/user` function, decided by its prefix
/// (`cache_…` → `cache`, `task_…` → `taskqueue`, `config_…` → [`ALWAYS_AVAILABLE`]), so
/// functions added by a newer Navidrome still map to their service. `None` for a name
/// with no known prefix.
///
/// ```
/// use nd_manifest::abi::permission_for_host_function;
/// assert_eq!(permission_for_host_function("kvstore_set"), Some("kvstore"));
/// assert_eq!(permission_for_host_function("scrobbleretriever_getscrobbles"), Some("scrobbleRetriever"));
/// assert_eq!(permission_for_host_function("config_get"), Some("config"));
/// assert_eq!(permission_for_host_function("launch_missiles"), None);
/// ```
pub fn permission_for_host_function(name: &str) -> Option<&'static str> {
    HOST_SERVICES
        .iter()
        .find(|s| name.starts_with(s.prefix))
        .map(|s| s.permission)
}

/// Whether `name` is one of the host functions listed in [`HOST_SERVICES`].
pub fn is_known_host_function(name: &str) -> bool {
    HOST_SERVICES.iter().any(|s| s.functions.contains(&name))
}

/// The known host functions a permission key provides; empty for an unknown key.
pub fn host_functions(permission: &str) -> &'static [&'static str] {
    HOST_SERVICES
        .iter()
        .find(|s| s.permission == permission)
        .map_or(&[], |s| s.functions)
}

/// Checks a module's `extism:host/user` imports against the manifest: each import must
/// belong to a requested permission (or config). Navidrome itself only fails at
/// instantiation with "X is not exported in module extism:host/user"; this says why.
pub fn import_rules<'a>(
    manifest: &Manifest,
    imports: impl IntoIterator<Item = &'a str>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut reported = BTreeSet::new();
    for name in imports {
        match permission_for_host_function(name) {
            Some(ALWAYS_AVAILABLE) => {}
            Some(permission) if manifest.permissions.has(permission) => {}
            Some(permission) => {
                if reported.insert(permission) {
                    out.push(Diagnostic::new(
                        crate::error::pointer_push("/permissions", permission),
                        format!(
                            "the plugin imports {name} from {HOST_MODULE}, which needs the {permission} permission, \
                             but the manifest does not request it"
                        ),
                        format!("add \"{permission}\": {{\"reason\": \"...\"}} to permissions"),
                    ));
                }
            }
            None => out.push(Diagnostic::new(
                "",
                format!("the plugin imports {name} from {HOST_MODULE}, which no Navidrome host service provides"),
                "check the PDK version, or remove the import",
            )),
        }
    }
    out
}

/// A capability of spec §4.2, detected from a module's exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Capability {
    /// Artist and album metadata (`nd_get_artist_*`, `nd_get_album_*`, `nd_get_similar_*`).
    MetadataAgent,
    /// Scrobbling (`nd_scrobbler_*`); requires the `users` permission.
    Scrobbler,
    /// Lyrics (`nd_lyrics_get_lyrics`).
    Lyrics,
    /// Sonic similarity (`nd_get_sonic_similar_tracks`, `nd_find_sonic_path`).
    SonicSimilarity,
    /// Task queue worker (`nd_task_execute`).
    TaskWorker,
    /// `nd_on_init`.
    Lifecycle,
    /// Schedule callbacks (`nd_scheduler_callback`).
    Scheduler,
    /// WebSocket callbacks (`nd_websocket_on_*`).
    WebSocket,
}

impl Capability {
    /// Every capability, in Navidrome's registry order.
    pub const ALL: [Capability; 8] = [
        Capability::MetadataAgent,
        Capability::Scrobbler,
        Capability::Lyrics,
        Capability::SonicSimilarity,
        Capability::TaskWorker,
        Capability::Lifecycle,
        Capability::Scheduler,
        Capability::WebSocket,
    ];

    /// The name Navidrome uses, such as `"MetadataAgent"`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::MetadataAgent => "MetadataAgent",
            Capability::Scrobbler => "Scrobbler",
            Capability::Lyrics => "Lyrics",
            Capability::SonicSimilarity => "SonicSimilarity",
            Capability::TaskWorker => "TaskWorker",
            Capability::Lifecycle => "Lifecycle",
            Capability::Scheduler => "Scheduler",
            Capability::WebSocket => "WebSocket",
        }
    }

    /// The capability with this Navidrome name.
    pub fn from_name(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Every export of this capability; having any one of them gives the capability.
    pub fn exports(self) -> &'static [&'static str] {
        match self {
            Capability::MetadataAgent => &[
                "nd_get_artist_mbid",
                "nd_get_artist_url",
                "nd_get_artist_biography",
                "nd_get_similar_artists",
                "nd_get_artist_images",
                "nd_get_artist_top_songs",
                "nd_get_album_info",
                "nd_get_album_images",
                "nd_get_similar_songs_by_track",
                "nd_get_similar_songs_by_album",
                "nd_get_similar_songs_by_artist",
            ],
            Capability::Scrobbler => &[
                "nd_scrobbler_is_authorized",
                "nd_scrobbler_now_playing",
                "nd_scrobbler_scrobble",
                "nd_scrobbler_playback_report",
            ],
            Capability::Lyrics => &["nd_lyrics_get_lyrics"],
            Capability::SonicSimilarity => &["nd_get_sonic_similar_tracks", "nd_find_sonic_path"],
            Capability::TaskWorker => &["nd_task_execute"],
            Capability::Lifecycle => &["nd_on_init"],
            Capability::Scheduler => &["nd_scheduler_callback"],
            Capability::WebSocket => &[
                "nd_websocket_on_text_message",
                "nd_websocket_on_binary_message",
                "nd_websocket_on_error",
                "nd_websocket_on_close",
            ],
        }
    }

    /// The capability an export belongs to, if any.
    pub fn for_export(export: &str) -> Option<Capability> {
        Capability::ALL
            .into_iter()
            .find(|c| c.exports().contains(&export))
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The capabilities a module has, given its export names, in [`Capability::ALL`] order and
/// without duplicates (spec §4.1: one listed export is enough).
///
/// ```
/// use nd_manifest::abi::{Capability, detect_capabilities};
/// let caps = detect_capabilities(["nd_on_init", "memory", "nd_get_artist_url"]);
/// assert_eq!(caps, [Capability::MetadataAgent, Capability::Lifecycle]);
/// ```
pub fn detect_capabilities<'a>(exports: impl IntoIterator<Item = &'a str>) -> Vec<Capability> {
    let found: BTreeSet<Capability> = exports
        .into_iter()
        .filter_map(Capability::for_export)
        .collect();
    Capability::ALL
        .into_iter()
        .filter(|c| found.contains(c))
        .collect()
}

/// The load-time rules of spec §4.1, checked after detection: the Scrobbler capability
/// needs the `users` permission, the `scheduler` permission needs the
/// `nd_scheduler_callback` export, and the `taskqueue` permission needs `nd_task_execute`.
/// An empty result means the plugin may load.
pub fn capability_rules<'a>(
    manifest: &Manifest,
    capabilities: &[Capability],
    exports: impl IntoIterator<Item = &'a str>,
) -> Vec<Diagnostic> {
    let exports: BTreeSet<&str> = exports.into_iter().collect();
    let permissions = &manifest.permissions;
    let mut out = Vec::new();
    if capabilities.contains(&Capability::Scrobbler) && permissions.users.is_none() {
        out.push(Diagnostic::new(
            "/permissions/users",
            "the plugin exports the Scrobbler capability, which requires the users permission",
            "add \"users\": {\"reason\": \"...\"} to permissions",
        ));
    }
    for (permission, present, export) in [
        (
            "scheduler",
            permissions.scheduler.is_some(),
            "nd_scheduler_callback",
        ),
        (
            "taskqueue",
            permissions.taskqueue.is_some(),
            "nd_task_execute",
        ),
    ] {
        if present && !exports.contains(export) {
            out.push(Diagnostic::new(
                crate::error::pointer_push("/permissions", permission),
                format!("the {permission} permission requires the plugin to export {export}"),
                format!("export {export} from the plugin, or remove the {permission} permission"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
