//! The admin API under `/api/admin`: plugin listing and details, enable/disable, reload,
//! configuration, scope and folder sync. Every answer about a plugin is a [`PluginView`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use nd_host_appdata::provider::Scope;
use nd_manager::{CallStats, Manager, PluginStatus};
use serde::Serialize;
use serde_json::{Value, json};

use crate::api::{ApiError, AppState, parse_body, to_json};

/// One plugin as the admin API shows it: the manager's [`PluginStatus`] plus what an admin
/// page needs without reading the raw manifest.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PluginView {
    #[serde(flatten)]
    status: PluginStatus,
    /// Each requested permission with the manifest's reason and its other settings.
    permission_details: Vec<PermissionView>,
    /// The manifest's `config.schema`, if any.
    config_schema: Option<Value>,
    /// The manifest's `config.uiSchema`, if any.
    ui_schema: Option<Value>,
    /// Call statistics of the calls made through the manager.
    calls: CallSummary,
}

/// One requested permission.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PermissionView {
    /// The permission key (`http`, `users`, …).
    key: String,
    /// Why the plugin asks for it (the manifest's `reason`).
    reason: Option<String>,
    /// The permission's other settings (`requiredHosts`, `maxSize`, …).
    details: serde_json::Map<String, Value>,
}

/// The call statistics of one plugin.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct CallSummary {
    /// All calls.
    calls: u64,
    /// Calls that succeeded.
    ok: u64,
    /// Calls that failed.
    failed: u64,
    /// Mean duration over all exports, milliseconds.
    mean_ms: f64,
    /// Longest call, milliseconds.
    max_ms: f64,
    /// Per export.
    exports: Vec<ExportStats>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportStats {
    export: String,
    ok: u64,
    failed: u64,
    mean_ms: f64,
    max_ms: f64,
    total_ms: f64,
}

impl PluginView {
    fn new(manager: &Manager, status: PluginStatus) -> Self {
        let permission_details = status
            .manifest
            .get("permissions")
            .and_then(Value::as_object)
            .map(|permissions| {
                permissions
                    .iter()
                    .map(|(key, value)| {
                        let mut details = value.as_object().cloned().unwrap_or_default();
                        let reason = details
                            .remove("reason")
                            .and_then(|r| r.as_str().map(str::to_owned));
                        PermissionView {
                            key: key.clone(),
                            reason,
                            details,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let config = status.manifest.get("config");
        let config_schema = config.and_then(|c| c.get("schema")).cloned();
        let ui_schema = config.and_then(|c| c.get("uiSchema")).cloned();
        let calls = summarize(&manager.metrics().for_plugin(&status.id));
        PluginView {
            status,
            permission_details,
            config_schema,
            ui_schema,
            calls,
        }
    }

    fn of(manager: &Manager, id: &str) -> Result<Value, ApiError> {
        let status = manager.status(id)?;
        to_json(&PluginView::new(manager, status))
    }
}

fn summarize(stats: &[CallStats]) -> CallSummary {
    let mut summary = CallSummary::default();
    let mut total_ms = 0.0;
    for s in stats {
        summary.ok += s.ok;
        summary.failed += s.failed;
        total_ms += s.total_ms;
        summary.max_ms = summary.max_ms.max(s.max_ms);
        summary.exports.push(ExportStats {
            export: s.export.clone(),
            ok: s.ok,
            failed: s.failed,
            mean_ms: s.mean_ms(),
            max_ms: s.max_ms,
            total_ms: s.total_ms,
        });
    }
    summary.calls = summary.ok + summary.failed;
    if summary.calls > 0 {
        summary.mean_ms = total_ms / summary.calls as f64;
    }
    summary
}

/// `GET /api/admin/plugins`.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .blocking(|manager| {
            let views: Vec<PluginView> = manager
                .list()?
                .into_iter()
                .map(|status| PluginView::new(manager, status))
                .collect();
            Ok(Json(to_json(&views)?))
        })
        .await
}

/// `GET /api/admin/plugins/{id}`.
pub(crate) async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .blocking(move |manager| Ok(Json(PluginView::of(manager, &id)?)))
        .await
}

/// `POST /api/admin/plugins/{id}/enable`.
pub(crate) async fn enable(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .blocking(move |manager| {
            manager.enable(&id)?;
            tracing::info!(plugin = %id, "enabled through the admin API");
            Ok(Json(PluginView::of(manager, &id)?))
        })
        .await
}

/// `POST /api/admin/plugins/{id}/disable`.
pub(crate) async fn disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .blocking(move |manager| {
            manager.disable(&id)?;
            tracing::info!(plugin = %id, "disabled through the admin API");
            Ok(Json(PluginView::of(manager, &id)?))
        })
        .await
}

/// `POST /api/admin/plugins/{id}/reload`.
pub(crate) async fn reload(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .blocking(move |manager| {
            manager.reload(&id)?;
            Ok(Json(PluginView::of(manager, &id)?))
        })
        .await
}

/// `GET /api/admin/plugins/{id}/config`.
pub(crate) async fn get_config(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .blocking(move |manager| Ok(Json(json!({"config": manager.config(&id)?}))))
        .await
}

/// `PUT /api/admin/plugins/{id}/config`: the body is the whole configuration object.
pub(crate) async fn put_config(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let config: Value = parse_body(&body)?;
    state
        .blocking(move |manager| {
            manager.set_config(&id, config)?;
            tracing::info!(plugin = %id, "configuration saved through the admin API");
            Ok(Json(PluginView::of(manager, &id)?))
        })
        .await
}

/// `PUT /api/admin/plugins/{id}/scope`.
pub(crate) async fn put_scope(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let scope: Scope = parse_body(&body)?;
    state
        .blocking(move |manager| {
            manager.set_scope(&id, scope)?;
            tracing::info!(plugin = %id, "scope saved through the admin API");
            Ok(Json(PluginView::of(manager, &id)?))
        })
        .await
}

/// `POST /api/admin/sync`.
pub(crate) async fn sync(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .blocking(|manager| Ok(Json(to_json(&manager.sync()?)?)))
        .await
}
