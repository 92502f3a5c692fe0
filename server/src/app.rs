//! The HTTP server: one route table ([`routes`]) that the router, the
//! OpenAPI document's test and the body limits all read, `router(state)`,
//! and `serve(listener, state, shutdown)` so tests run the real server on
//! port 0. Every handler is instrumented with `tracing`; errors are JSON
//! without internals (`error.rs`).

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, post, put};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::{AppState, MAX_JSON_BODY, MAX_SYNC_BODY};
use crate::{devices, web};

/// One route of the server.
#[derive(Debug)]
pub struct Route {
    /// The method.
    pub method: Method,
    /// The path, in axum's syntax (`/api/v1/notes/{id}`), as OpenAPI
    /// writes it.
    pub path: &'static str,
    /// Part of the API the OpenAPI document describes (the dashboard's
    /// pages and assets are not).
    pub api: bool,
    /// Largest body accepted.
    pub body_limit: usize,
    handler: MethodRouter<AppState>,
}

impl Route {
    fn new(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        Self {
            method,
            path,
            api: true,
            body_limit: MAX_JSON_BODY,
            handler,
        }
    }

    fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::GET, path, get(h))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::POST, path, post(h))
    }

    fn put<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::PUT, path, put(h))
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::DELETE, path, delete(h))
    }

    /// A page or asset of the dashboard, not part of the API.
    fn page(mut self) -> Self {
        self.api = false;
        self
    }

    fn limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }
}

/// Every route the server has.
pub fn routes() -> Vec<Route> {
    vec![
        // Devices.
        Route::get("/healthz", devices::healthz),
        Route::post("/api/v1/enrol", devices::enrol),
        Route::post("/api/v1/sync", devices::sync).limit(MAX_SYNC_BODY),
        Route::get("/api/v1/device/notes", devices::notes),
        // The dashboard.
        Route::get("/", web::assets::index).page(),
        Route::get("/assets/app.js", web::assets::app_js).page(),
        Route::get("/assets/admin.js", web::assets::admin_js).page(),
        Route::get("/assets/app.css", web::assets::app_css).page(),
        Route::get("/api/v1/openapi.json", web::assets::openapi),
        // Leaders.
        Route::post("/api/v1/session", web::session::sign_in),
        Route::delete("/api/v1/session", web::session::sign_out),
        Route::get("/api/v1/me", web::session::me),
        Route::get("/api/v1/forms", web::forms::forms),
        Route::get("/api/v1/dimensions", web::forms::dimensions),
        Route::get("/api/v1/reports", web::reports::json),
        Route::get("/api/v1/reports.csv", web::reports::csv),
        Route::get("/api/v1/text", web::text::free_text),
        Route::get("/api/v1/export/responses.csv", web::export::responses),
        Route::get("/api/v1/users", web::users::list),
        Route::post("/api/v1/users", web::users::create),
        Route::get("/api/v1/audit", web::audit::log),
        Route::get("/api/v1/notes", web::notes::list),
        Route::post("/api/v1/notes", web::notes::put),
        Route::delete("/api/v1/notes/{id}", web::notes::delete),
        Route::get("/api/v1/lists", web::lists::get),
        Route::put("/api/v1/lists/{dim}", web::lists::put),
        Route::get("/api/v1/problems", web::problems::list),
    ]
}

/// The router over every route.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes() {
        router = router.route(
            route.path,
            route.handler.layer(DefaultBodyLimit::max(route.body_limit)),
        );
    }
    router
        .fallback(|| async { ApiError::NotFound })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;
    use crate::storage::sqlite::SqliteStorage;

    /// The OpenAPI document describes exactly the API routes the router
    /// serves: every one it lists is routed (a request is neither "not
    /// found" nor "method not allowed"), and it lists every one.
    #[tokio::test]
    async fn the_openapi_document_describes_every_endpoint() {
        let doc: serde_json::Value =
            serde_json::from_str(web::assets::OPENAPI).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let described: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .expect("operations")
                    .keys()
                    .map(move |m| (m.clone(), path.clone()))
            })
            .collect();
        let api: BTreeSet<(String, String)> = routes()
            .iter()
            .filter(|r| r.api)
            .map(|r| (r.method.as_str().to_lowercase(), r.path.to_owned()))
            .collect();
        assert_eq!(described, api);
        for (path, ops) in doc["paths"].as_object().expect("paths") {
            for (method, op) in ops.as_object().expect("operations") {
                assert!(op["summary"].is_string(), "{method} {path} has a summary");
                assert!(op["responses"].is_object(), "{method} {path} has responses");
            }
        }
        let app = router(AppState::new(Arc::new(
            SqliteStorage::in_memory().expect("sqlite"),
        )));
        for (method, path) in &described {
            let uri = path.replace("{id}", "x").replace("{dim}", "setting");
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .body(Body::empty())
                .expect("request");
            let response = app.clone().oneshot(request).await.expect("response");
            assert_ne!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            assert!(
                !String::from_utf8_lossy(&body).contains("\"not_found\""),
                "{method} {path} is routed"
            );
        }
    }
}
