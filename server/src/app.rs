//! The HTTP server: one route table ([`routes`]) that the router, the
//! OpenAPI document's test and the body limits all read, `router(state)`,
//! and `serve(listener, state, shutdown)` so tests run the real server on
//! port 0. Every handler is instrumented with `tracing`; errors are JSON
//! without internals (`error.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, State};
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post, put};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
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
        Route::get("/assets/safeguarding.js", web::assets::safeguarding_js).page(),
        Route::get("/assets/app.css", web::assets::app_css).page(),
        Route::get("/assets/form.js", web::assets::form_js).page(),
        Route::get("/assets/form.css", web::assets::form_css).page(),
        Route::get("/s/{token}", crate::survey::page).page(),
        Route::get("/s/{token}/form", crate::survey::form),
        Route::post("/s/{token}/answers", crate::survey::answers),
        Route::get("/api/v1/openapi.json", web::assets::openapi),
        // Leaders.
        Route::post("/api/v1/session", web::session::sign_in),
        Route::delete("/api/v1/session", web::session::sign_out),
        Route::get("/api/v1/me", web::session::me),
        Route::get("/api/v1/forms", web::forms::forms),
        Route::post("/api/v1/forms", web::publish::upload).limit(web::publish::MAX_XLSFORM_BODY),
        Route::get("/api/v1/forms/{id}", web::publish::show),
        Route::get("/api/v1/forms/{id}/xlsx", web::publish::xlsx),
        Route::post("/api/v1/forms/{id}/retire", web::publish::retire),
        Route::get("/api/v1/links", web::links::list),
        Route::post("/api/v1/links", web::links::create),
        Route::post("/api/v1/links/{id}/revoke", web::links::revoke),
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
        Route::get("/api/v1/safeguarding", web::safeguarding::list),
        Route::get("/api/v1/safeguarding/feed", web::safeguarding::feed),
        Route::get("/api/v1/safeguarding/count", web::safeguarding::count),
        Route::post("/api/v1/safeguarding/{id}", web::safeguarding::set_status),
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
        .layer(axum::middleware::from_fn(same_origin))
        .layer(axum::middleware::from_fn_with_state(state.clone(), timed))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Records each request's duration by route (the route's pattern, never
/// the path a client sent).
async fn timed(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .request_seconds
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Serves the metrics (`GET /metrics`, Prometheus's text format) until
/// `shutdown`, on a listener of their own.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move { state.metrics.render() }),
        )
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Refuses a request that changes data when a browser says it comes from
/// another site's page: its `Origin` is not this server (compared with the
/// `Host` it was sent to) or `Sec-Fetch-Site` says cross-site. Devices and
/// scripts send neither header and pass; sessions are `SameSite=Strict`
/// already, so this is the second lock on the door.
async fn same_origin(request: Request, next: Next) -> Result<Response, ApiError> {
    if hark_hub::serve::cross_site(&request) {
        return Err(ApiError::CrossSite);
    }
    Ok(next.run(request).await)
}

/// Most connections served at once; more wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 1024;
/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub use hark_hub::serve::{BODY_TIMEOUT, REQUEST_TIMEOUT};
/// How long shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves until `shutdown` resolves, then finishes in-flight requests (for
/// at most 30 seconds). Slow or stuck clients hold nothing for long: at
/// most [`MAX_CONNECTIONS`] at once, headers within [`HEADER_TIMEOUT`],
/// bodies within [`BODY_TIMEOUT`], responses within [`REQUEST_TIMEOUT`].
/// Each request carries its peer's address (`ConnectInfo`).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).layer((
        RequestBodyTimeoutLayer::new(BODY_TIMEOUT),
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT),
    ));
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, retry.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request.map(Body::new))
            },
        );
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the shutdown grace period");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

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
            let uri = path
                .replace("{id}", "1")
                .replace("{dim}", "setting")
                .replace("{token}", &"0".repeat(40));
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
