//! The router, the shared state, bearer-token authentication and the JSON error type every
//! handler returns.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use nd_manager::{Manager, ManagerError};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::{admin, capability, page, prometheus};

/// What every handler shares: the manager and the admin token.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) manager: Manager,
    token: Arc<str>,
}

impl AppState {
    pub(crate) fn new(manager: Manager, token: String) -> Self {
        AppState {
            manager,
            token: token.into(),
        }
    }

    /// Runs blocking manager work on the runtime's blocking pool.
    pub(crate) async fn blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Manager) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let manager = self.manager.clone();
        tokio::task::spawn_blocking(move || work(&manager))
            .await
            .map_err(|e| ApiError::internal(format!("the request handler failed: {e}")))?
    }
}

/// The whole application.
pub(crate) fn router(state: AppState) -> Router {
    let admin = Router::new()
        .route("/plugins", get(admin::list))
        .route("/plugins/{id}", get(admin::one))
        .route("/plugins/{id}/enable", post(admin::enable))
        .route("/plugins/{id}/disable", post(admin::disable))
        .route("/plugins/{id}/reload", post(admin::reload))
        .route(
            "/plugins/{id}/config",
            get(admin::get_config).put(admin::put_config),
        )
        .route("/plugins/{id}/scope", put(admin::put_scope))
        .route("/sync", post(admin::sync))
        .method_not_allowed_fallback(method_not_allowed);
    let v1 = capability::routes().method_not_allowed_fallback(method_not_allowed);
    let protected = Router::new()
        .nest("/admin", admin)
        .nest("/v1", v1)
        .fallback(api_not_found)
        .layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/", get(page::admin_page))
        .route("/health", get(health))
        .route("/metrics", get(prometheus::metrics))
        .method_not_allowed_fallback(method_not_allowed)
        .nest("/api", protected)
        .fallback(not_found)
        .with_state(state)
}

/// Refuses `/api/…` requests without `Authorization: Bearer <token>`.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match bearer(request.headers()) {
        Some(given) if bool::from(given.as_bytes().ct_eq(state.token.as_bytes())) => {
            next.run(request).await
        }
        Some(_) => unauthorized("the token is wrong"),
        None => unauthorized("missing 'Authorization: Bearer <token>' header"),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"ndp\""),
    );
    response
}

/// `GET /health`.
async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (plugins, loaded) = state
        .blocking(|manager| Ok((manager.list()?.len(), manager.loaded().len())))
        .await?;
    Ok(axum::Json(json!({"status": "ok", "plugins": plugins, "loaded": loaded})).into_response())
}

async fn api_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such API endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this endpoint does not take this method",
    )
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not found")
}

/// An error answer: a status and `{"error": message, ...extra}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    extra: Option<serde_json::Map<String, Value>>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            extra: None,
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// Adds a field next to `error`.
    pub(crate) fn with(mut self, key: &str, value: Value) -> Self {
        self.extra
            .get_or_insert_with(serde_json::Map::new)
            .insert(key.to_owned(), value);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, error = %self.message, "request failed");
        } else {
            tracing::debug!(status = %self.status, error = %self.message, "request refused");
        }
        let mut body = self.extra.unwrap_or_default();
        body.insert("error".to_owned(), Value::String(self.message));
        (self.status, axum::Json(Value::Object(body))).into_response()
    }
}

impl From<ManagerError> for ApiError {
    fn from(error: ManagerError) -> Self {
        let status = match &error {
            ManagerError::NotFound(_) => StatusCode::NOT_FOUND,
            ManagerError::Config { .. } | ManagerError::Load { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ManagerError::Scope { .. } => StatusCode::CONFLICT,
            ManagerError::Install(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    }
}

/// Parses a JSON request body (an empty body reads as `{}`), answering `400` with serde's
/// message otherwise.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// Serializes an answer, turning a failure (a non-UTF-8 path, say) into a `500`.
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(value)
        .map_err(|e| ApiError::internal(format!("cannot encode the answer: {e}")))
}
