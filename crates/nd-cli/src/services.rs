//! Which Navidrome host services `ndp` links into a plugin: the state services of
//! `nd-host-store` and `nd-host-sched` and the network services of `nd-host-http` (and
//! `nd-host-ws`), each only when the manifest grants its permission (as Navidrome does: an
//! import without the permission fails to load). KV stores and task queues keep their data
//! under `--data-dir` so that they persist between invocations; network access goes through
//! one egress policy, with loopback and private addresses refused unless `--allow-local`
//! names them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nd_host_http::egress::PolicyEgress;
use nd_host_http::policy::{EgressPolicy, LocalAllowance};
use nd_host_http::service::HttpService;
use nd_host_sched::scheduler::SchedulerService;
use nd_host_sched::taskqueue::{TaskQueueConfig, TaskQueueService};
use nd_host_store::cache::{CacheLimits, CacheService};
use nd_host_store::clock::system_clock;
use nd_host_store::kvstore::{KvStoreConfig, KvStoreService};
use nd_host_ws::WebSocketService;
use nd_manifest::Permissions;
use nd_runtime::{Egress, HostService};

use crate::Failure;

/// The permission keys whose services this build links.
pub(crate) const LINKED: &[&str] = &[
    "cache",
    "kvstore",
    "scheduler",
    "taskqueue",
    "http",
    "websocket",
];

/// `--allow-local`: the operator's allowance for local services (none by default).
pub(crate) fn parse_allowance(text: &str) -> Result<LocalAllowance, String> {
    LocalAllowance::parse(text).map_err(|e| e.to_string())
}

/// Extism's `http_request`, through the same policy as `http_send`: refused unless the
/// manifest's `http.requiredHosts` lists the host.
pub(crate) fn egress(permissions: &Permissions, local: &LocalAllowance) -> Arc<dyn Egress> {
    Arc::new(PolicyEgress::from_permissions(permissions, local.clone()))
}

/// `--data-dir`, or the per-user default: `$XDG_DATA_HOME/ndp`, else `~/.local/share/ndp`;
/// `None` when there is no default (neither variable set). Nothing is created here: a
/// service that stores data creates its own directory under it.
pub(crate) fn data_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit.or_else(|| crate::load::xdg_dir("XDG_DATA_HOME", ".local/share"))
}

/// The services for a plugin with these permissions, storing under `data_dir`. Fails only
/// when a service that stores data is granted and there is no data directory.
pub(crate) fn for_permissions(
    permissions: &Permissions,
    data_dir: Option<&Path>,
    local: &LocalAllowance,
) -> Result<Vec<Arc<dyn HostService>>, Failure> {
    let stores = permissions.kvstore.is_some() || permissions.taskqueue.is_some();
    let data_dir = match data_dir {
        Some(dir) => dir,
        None if stores => {
            return Err(Failure::usage(
                "the plugin stores data (kvstore or taskqueue permission) but there is no data \
                 directory: pass --data-dir (neither XDG_DATA_HOME nor HOME is set)",
            ));
        }
        None => Path::new(""),
    };
    let clock = system_clock();
    let mut services: Vec<Arc<dyn HostService>> = Vec::new();
    if permissions.cache.is_some() {
        services.push(Arc::new(CacheService::with_clock(
            CacheLimits::default(),
            Arc::clone(&clock),
        )));
    }
    if let Some(kv) = &permissions.kvstore {
        services.push(Arc::new(KvStoreService::new(
            KvStoreConfig::new(data_dir)
                .max_size(kv.max_size_or_default())
                .clock(Arc::clone(&clock)),
        )));
    }
    if permissions.scheduler.is_some() {
        services.push(Arc::new(SchedulerService::new(Arc::clone(&clock))));
    }
    if let Some(tq) = &permissions.taskqueue {
        let mut config = TaskQueueConfig::new(data_dir);
        config.max_concurrency = tq.max_concurrency;
        config.clock = clock;
        services.push(Arc::new(TaskQueueService::new(config)));
    }
    if let Some(http) = &permissions.http {
        services.push(Arc::new(HttpService::from_permission(http, local.clone())));
    }
    if let Some(ws) = &permissions.websocket {
        let policy = EgressPolicy::websocket(ws.required_hosts.clone(), local.clone());
        services.push(Arc::new(WebSocketService::new(policy)));
    }
    Ok(services)
}

/// The callback exports that granted services of this build need and the plugin lacks, as
/// `(permission, export)`: a plugin with any of them fails to load.
pub(crate) fn missing_callbacks<'a>(
    permissions: &Permissions,
    exports: impl Iterator<Item = &'a str> + Clone,
) -> Vec<(&'static str, &'static str)> {
    let needs = [
        (
            permissions.scheduler.is_some(),
            "scheduler",
            nd_host_sched::scheduler::CALLBACK_EXPORT,
        ),
        (
            permissions.taskqueue.is_some(),
            "taskqueue",
            nd_host_sched::taskqueue::TASK_EXECUTE_EXPORT,
        ),
    ];
    needs
        .into_iter()
        .filter(|(granted, _, export)| *granted && !exports.clone().any(|e| e == *export))
        .map(|(_, permission, export)| (permission, export))
        .collect()
}
