//! The dashboard's files, compiled into the binary (plain HTML, CSS and
//! JavaScript; no CDN), served with a strict content security policy, and
//! the OpenAPI document of the API.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const ADMIN_JS: &str = include_str!("assets/admin.js");
const SAFEGUARDING_JS: &str = include_str!("assets/safeguarding.js");
const APP_CSS: &str = include_str!("assets/app.css");
pub(crate) use hark_hub::assets::{FORM_CSS, FORM_JS};
/// The OpenAPI 3.1 document (a test checks it against the route table).
pub const OPENAPI: &str = include_str!("openapi.json");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

pub(crate) async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

pub(crate) async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

pub(crate) async fn admin_js() -> Response {
    asset("text/javascript; charset=utf-8", ADMIN_JS)
}

pub(crate) async fn safeguarding_js() -> Response {
    asset("text/javascript; charset=utf-8", SAFEGUARDING_JS)
}

pub(crate) async fn form_js() -> Response {
    asset("text/javascript; charset=utf-8", FORM_JS)
}

pub(crate) async fn form_css() -> Response {
    asset("text/css; charset=utf-8", FORM_CSS)
}

pub(crate) async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

pub(crate) async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}
