//! `GET /`: the admin web page, one self-contained HTML file (`admin.html`: markup, CSS and
//! vanilla JavaScript, nothing fetched from elsewhere) that talks to the admin API with the
//! token it reads from the URL fragment or a login box.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page, embedded at build time.
const ADMIN_HTML: &str = include_str!("admin.html");

/// Only this page's own inline code and the same origin; no framing, no referrer.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                   connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// `GET /`.
pub(crate) async fn admin_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        ADMIN_HTML,
    )
        .into_response()
}
