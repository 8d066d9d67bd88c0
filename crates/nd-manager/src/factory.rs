//! The registry of host-service factories: what the manager links into a plugin when it
//! loads it. One [`ServiceFactory`] per key (normally a manifest permission key); an
//! application adds, replaces or removes any of them on the
//! [`ManagerBuilder`](crate::ManagerBuilder).
//!
//! A factory is asked only for plugins whose manifest grants its permission (Navidrome
//! links no service a plugin was not granted, so an import without its permission fails to
//! load); the `config` service is the exception, linked into every plugin. A granted
//! permission with no factory registered fails the load with a message naming it, as a
//! Navidrome build without that service would.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nd_host_appdata::provider::{
    ArtworkProvider, LibraryProvider, MatchProvider, ScrobbleProvider, SubsonicProvider,
    UserProvider,
};
use nd_host_appdata::{
    artwork::ArtworkService, config::ConfigService, library, library::LibraryService,
    matcher::MatcherService, provider::Scope, scrobbles::ScrobbleRetrieverService, storage,
    storage::StorageService, subsonic::SubsonicApiService, users::UsersService,
};
use nd_host_http::egress::PolicyEgress;
use nd_host_http::policy::{EgressPolicy, LocalAllowance};
use nd_host_http::service::HttpService;
use nd_host_sched::scheduler::SchedulerService;
use nd_host_sched::taskqueue::{TaskQueueConfig, TaskQueueService};
use nd_host_store::cache::{CacheLimits, CacheService};
use nd_host_store::clock::Clock;
use nd_host_store::kvstore::{KvStoreConfig, KvStoreService};
use nd_host_ws::WebSocketService;
use nd_manifest::Manifest;
use nd_runtime::{Egress, HostService, Mount};

/// Everything a factory may look at when a plugin loads.
#[derive(Debug)]
pub struct LoadContext<'a> {
    /// The plugin id (the package file name without `.ndp`).
    pub plugin_id: &'a str,
    /// The plugin's manifest.
    pub manifest: &'a Manifest,
    /// The manager's data directory; per-plugin data goes under `<data>/plugins/<id>/`.
    pub data_dir: &'a Path,
    /// The users and libraries the administrator allowed.
    pub scope: &'a Scope,
    /// The flattened configuration the plugin will see.
    pub config: &'a BTreeMap<String, String>,
    /// The operator's allowance for local network addresses.
    pub local: &'a LocalAllowance,
    /// The clock of the state services.
    pub clock: &'a Arc<dyn Clock>,
}

/// What a factory contributes to one plugin: host services, WASI mounts, and possibly the
/// destination of Extism's `http_request`.
#[derive(Default)]
pub struct ServiceParts {
    /// Services linked into the plugin.
    pub services: Vec<Arc<dyn HostService>>,
    /// Directories mounted into the guest.
    pub mounts: Vec<Mount>,
    /// Where `http_request` goes (at most one factory should set it; the last one wins).
    pub egress: Option<Arc<dyn Egress>>,
}

impl fmt::Debug for ServiceParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceParts")
            .field(
                "services",
                &self.services.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("mounts", &self.mounts)
            .field("egress", &self.egress.is_some())
            .finish()
    }
}

impl ServiceParts {
    /// Parts holding one service.
    pub fn service(service: Arc<dyn HostService>) -> Self {
        ServiceParts {
            services: vec![service],
            ..ServiceParts::default()
        }
    }
}

/// Creates the host service(s) of one key for each plugin that needs them.
pub trait ServiceFactory: Send + Sync {
    /// The registry key: the manifest permission key the factory serves (`cache`,
    /// `library`, ...), or `config` for the service every plugin gets.
    fn key(&self) -> &str;

    /// Whether this plugin needs the factory. Default: its manifest grants [`key`](Self::key)
    /// (for `config`: always).
    fn wanted(&self, ctx: &LoadContext<'_>) -> bool {
        self.key() == "config" || ctx.manifest.permissions.has(self.key())
    }

    /// Creates the parts for one load of one plugin. An error fails the load; its text is
    /// stored as the plugin's last error.
    fn create(&self, ctx: &LoadContext<'_>) -> Result<ServiceParts, String>;
}

/// A factory from a closure, for applications that add a service in a few lines.
pub struct FnFactory<F> {
    key: String,
    create: F,
}

impl<F> fmt::Debug for FnFactory<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnFactory").field("key", &self.key).finish()
    }
}

impl<F> FnFactory<F>
where
    F: Fn(&LoadContext<'_>) -> Result<ServiceParts, String> + Send + Sync,
{
    /// A factory for `key` that runs `create`.
    pub fn new(key: impl Into<String>, create: F) -> Self {
        FnFactory {
            key: key.into(),
            create,
        }
    }
}

impl<F> ServiceFactory for FnFactory<F>
where
    F: Fn(&LoadContext<'_>) -> Result<ServiceParts, String> + Send + Sync,
{
    fn key(&self) -> &str {
        &self.key
    }

    fn create(&self, ctx: &LoadContext<'_>) -> Result<ServiceParts, String> {
        (self.create)(ctx)
    }
}

/// The application's data, behind the traits of `nd-host-appdata`. Each provider is
/// optional: without it, the matching permission has no factory, and plugins asking for it
/// fail to load with a message naming it.
#[derive(Clone, Default)]
pub struct AppData {
    /// Libraries (`library`, and the mounts of `library.filesystem`).
    pub libraries: Option<Arc<dyn LibraryProvider>>,
    /// Users (`users`; also needed by `subsonicapi`, `matcher` with a username, and
    /// `scrobbleRetriever`).
    pub users: Option<Arc<dyn UserProvider>>,
    /// Artwork URLs (`artwork`).
    pub artwork: Option<Arc<dyn ArtworkProvider>>,
    /// The Subsonic API (`subsonicapi`).
    pub subsonic: Option<Arc<dyn SubsonicProvider>>,
    /// Song matching (`matcher`).
    pub matcher: Option<Arc<dyn MatchProvider>>,
    /// Listening history (`scrobbleRetriever`).
    pub scrobbles: Option<Arc<dyn ScrobbleProvider>>,
}

impl fmt::Debug for AppData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppData")
            .field("libraries", &self.libraries.is_some())
            .field("users", &self.users.is_some())
            .field("artwork", &self.artwork.is_some())
            .field("subsonic", &self.subsonic.is_some())
            .field("matcher", &self.matcher.is_some())
            .field("scrobbles", &self.scrobbles.is_some())
            .finish()
    }
}

impl AppData {
    /// Every provider from one value that implements them all (such as
    /// `nd_library::MusicLibrary`).
    pub fn from_all<T>(all: Arc<T>) -> Self
    where
        T: LibraryProvider
            + UserProvider
            + ArtworkProvider
            + SubsonicProvider
            + MatchProvider
            + ScrobbleProvider
            + 'static,
    {
        AppData {
            libraries: Some(all.clone()),
            users: Some(all.clone()),
            artwork: Some(all.clone()),
            subsonic: Some(all.clone()),
            matcher: Some(all.clone()),
            scrobbles: Some(all),
        }
    }
}

/// The registry: one factory per key. The manager holds one; a program that loads plugins
/// without a manager (such as `ndp call`) can use it directly to link the same services.
#[derive(Clone, Default)]
pub struct ServiceRegistry {
    factories: BTreeMap<String, Arc<dyn ServiceFactory>>,
}

impl fmt::Debug for ServiceRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.factories.keys()).finish()
    }
}

impl ServiceRegistry {
    /// The factories of every service in the workspace: the state and network services
    /// always, the app-data ones for each provider `app` has.
    pub fn with_defaults(app: &AppData) -> Self {
        default_registry(app)
    }

    /// Adds a factory, replacing any with the same key.
    pub fn insert(&mut self, factory: Arc<dyn ServiceFactory>) {
        self.factories.insert(factory.key().to_owned(), factory);
    }

    /// Removes the factory of `key`.
    pub fn remove(&mut self, key: &str) {
        self.factories.remove(key);
    }

    /// The registered keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    /// The parts of every wanted factory for this load, or the first failure. Granted
    /// permissions without a factory are a failure too.
    ///
    /// # Errors
    ///
    /// A granted permission has no factory, or a factory failed (the text names it).
    pub fn parts_for(&self, ctx: &LoadContext<'_>) -> Result<ServiceParts, String> {
        let missing: Vec<&str> = ctx
            .manifest
            .permissions
            .iter()
            .map(|p| p.key)
            .filter(|key| !self.factories.contains_key(*key))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "this host provides no service for the permission{} {} the manifest requests",
                if missing.len() == 1 { "" } else { "s" },
                missing
                    .iter()
                    .map(|k| format!("'{k}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let mut all = ServiceParts::default();
        for factory in self.factories.values() {
            if !factory.wanted(ctx) {
                continue;
            }
            let parts = factory
                .create(ctx)
                .map_err(|e| format!("host service '{}': {e}", factory.key()))?;
            all.services.extend(parts.services);
            all.mounts.extend(parts.mounts);
            if parts.egress.is_some() {
                all.egress = parts.egress;
            }
        }
        Ok(all)
    }
}

fn default_registry(app: &AppData) -> ServiceRegistry {
    let mut r = ServiceRegistry::default();
    r.insert(Arc::new(FnFactory::new("config", |_| {
        Ok(ServiceParts::service(Arc::new(ConfigService::new())))
    })));
    r.insert(Arc::new(FnFactory::new("cache", |ctx| {
        Ok(ServiceParts::service(Arc::new(CacheService::with_clock(
            CacheLimits::default(),
            Arc::clone(ctx.clock),
        ))))
    })));
    r.insert(Arc::new(FnFactory::new("kvstore", |ctx| {
        let max = ctx
            .manifest
            .permissions
            .kvstore
            .as_ref()
            .map_or(nd_manifest::DEFAULT_KVSTORE_MAX_SIZE, |kv| {
                kv.max_size_or_default()
            });
        Ok(ServiceParts::service(Arc::new(KvStoreService::new(
            KvStoreConfig::new(ctx.data_dir)
                .max_size(max)
                .clock(Arc::clone(ctx.clock)),
        ))))
    })));
    r.insert(Arc::new(FnFactory::new("scheduler", |ctx| {
        Ok(ServiceParts::service(Arc::new(SchedulerService::new(
            Arc::clone(ctx.clock),
        ))))
    })));
    r.insert(Arc::new(FnFactory::new("taskqueue", |ctx| {
        let mut config = TaskQueueConfig::new(ctx.data_dir);
        if let Some(tq) = &ctx.manifest.permissions.taskqueue {
            config.max_concurrency = tq.max_concurrency;
        }
        config.clock = Arc::clone(ctx.clock);
        Ok(ServiceParts::service(Arc::new(TaskQueueService::new(
            config,
        ))))
    })));
    r.insert(Arc::new(FnFactory::new("http", |ctx| {
        let Some(http) = &ctx.manifest.permissions.http else {
            return Ok(ServiceParts::default());
        };
        Ok(ServiceParts {
            services: vec![Arc::new(HttpService::from_permission(
                http,
                ctx.local.clone(),
            ))],
            mounts: Vec::new(),
            egress: Some(Arc::new(PolicyEgress::from_permissions(
                &ctx.manifest.permissions,
                ctx.local.clone(),
            ))),
        })
    })));
    r.insert(Arc::new(FnFactory::new("websocket", |ctx| {
        let Some(ws) = &ctx.manifest.permissions.websocket else {
            return Ok(ServiceParts::default());
        };
        let policy = EgressPolicy::websocket(ws.required_hosts.clone(), ctx.local.clone());
        Ok(ServiceParts::service(Arc::new(WebSocketService::new(
            policy,
        ))))
    })));
    r.insert(Arc::new(FnFactory::new("storage", |ctx| {
        let mount = storage::storage_mount(ctx.data_dir, ctx.plugin_id)
            .map_err(|e| format!("cannot create the storage directory: {e}"))?;
        Ok(ServiceParts {
            services: vec![Arc::new(StorageService::new())],
            mounts: vec![mount],
            egress: None,
        })
    })));
    if let Some(libraries) = app.libraries.clone() {
        r.insert(Arc::new(FnFactory::new("library", move |ctx| {
            let filesystem = filesystem(ctx);
            let mounts = library::library_mounts(libraries.as_ref(), ctx.scope, filesystem)
                .map_err(|e| e.to_string())?;
            Ok(ServiceParts {
                services: vec![Arc::new(LibraryService::new(
                    Arc::clone(&libraries),
                    ctx.scope.clone(),
                    filesystem,
                ))],
                mounts,
                egress: None,
            })
        })));
    }
    if let Some(users) = app.users.clone() {
        r.insert(Arc::new(FnFactory::new("users", move |ctx| {
            Ok(ServiceParts::service(Arc::new(UsersService::new(
                Arc::clone(&users),
                ctx.scope.clone(),
            ))))
        })));
    }
    if let Some(artwork) = app.artwork.clone() {
        r.insert(Arc::new(FnFactory::new("artwork", move |_| {
            Ok(ServiceParts::service(Arc::new(ArtworkService::new(
                Arc::clone(&artwork),
            ))))
        })));
    }
    if let (Some(subsonic), Some(users)) = (app.subsonic.clone(), app.users.clone()) {
        r.insert(Arc::new(FnFactory::new("subsonicapi", move |ctx| {
            Ok(ServiceParts::service(Arc::new(SubsonicApiService::new(
                Arc::clone(&subsonic),
                Arc::clone(&users),
                ctx.scope.clone(),
                ctx.plugin_id,
            ))))
        })));
    }
    if let (Some(matcher), Some(users), Some(libraries)) = (
        app.matcher.clone(),
        app.users.clone(),
        app.libraries.clone(),
    ) {
        r.insert(Arc::new(FnFactory::new("matcher", move |ctx| {
            let filesystem = filesystem(ctx);
            Ok(ServiceParts::service(Arc::new(
                MatcherService::new(
                    Arc::clone(&matcher),
                    Arc::clone(&users),
                    ctx.scope.clone(),
                    filesystem,
                )
                .with_libraries(Arc::clone(&libraries)),
            )))
        })));
    }
    if let (Some(scrobbles), Some(users)) = (app.scrobbles.clone(), app.users.clone()) {
        r.insert(Arc::new(FnFactory::new("scrobbleRetriever", move |ctx| {
            Ok(ServiceParts::service(Arc::new(
                ScrobbleRetrieverService::new(
                    Arc::clone(&scrobbles),
                    Arc::clone(&users),
                    ctx.scope.clone(),
                ),
            )))
        })));
    }
    r
}

/// Whether the manifest asks for the libraries' files (`library.filesystem`).
fn filesystem(ctx: &LoadContext<'_>) -> bool {
    ctx.manifest
        .permissions
        .library
        .as_ref()
        .is_some_and(|l| l.filesystem)
}

/// `<data>/plugins/<id>`: where a plugin's own files live.
pub fn plugin_data_dir(data_dir: &Path, plugin_id: &str) -> PathBuf {
    nd_host_store::db::plugin_data_dir(data_dir, plugin_id)
}
