//! The hub's two route tables and how they are served: the event hub
//! (`hub_router`, phones and tablets on the local network) and practitioner
//! mode (`practitioner_router`, this machine only), each with the same
//! timeouts as the server and a request's peer address for the checks that
//! answer only this machine. `hark hub` and an app through hark-ffi start
//! them the same way.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::event::{Hub, HubError};
use crate::http as h;
use crate::practitioner::Desk;

/// Largest sync body accepted (compressed), by the hub as by the server.
pub const MAX_SYNC_BODY: usize = 64 * 1024 * 1024;
/// How long a client may take to send a request's body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a request may take to produce its response (a streamed
/// export's body may take longer).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Largest body the event hub accepts (a phone's whole submission).
pub const MAX_HUB_BODY: usize = 256 * 1024;

/// The event hub's routes (`hark hub`, see [`Hub`]).
pub fn hub_router(hub: Hub) -> Router {
    Router::new()
        .route("/", get(h::join_page))
        .route(
            "/join",
            post(h::join).layer(DefaultBodyLimit::max(MAX_HUB_BODY)),
        )
        .route("/forms", get(h::forms_page))
        .route("/form/{id}", get(h::form_page))
        .route("/assets/form.js", get(h::form_js))
        .route("/assets/form.css", get(h::form_css))
        .route("/assets/organiser.js", get(h::organiser_js))
        .route("/api/hub/forms/{id}", get(h::form_json))
        .route(
            "/api/hub/submit",
            post(h::submit).layer(DefaultBodyLimit::max(MAX_HUB_BODY)),
        )
        .route(
            "/api/v1/sync",
            post(h::sync).layer(DefaultBodyLimit::max(MAX_SYNC_BODY)),
        )
        .route("/organiser", get(h::organiser_page))
        .route("/organiser/status", get(h::organiser_status))
        .route("/organiser/sync", post(h::organiser_sync))
        .fallback(|| async { HubError::NotFound })
        .layer(axum::middleware::from_fn(same_origin))
        .layer(TraceLayer::new_for_http())
        .with_state(hub)
}

/// Practitioner mode's routes (`hark hub --practitioner`, see
/// [`Desk`]): every one answers only this machine
/// (`practitioner_http::this_machine`).
pub fn practitioner_router(desk: Desk) -> Router {
    use crate::practitioner_http as d;
    let small = || DefaultBodyLimit::max(MAX_HUB_BODY);
    Router::new()
        .route("/", get(d::start_page))
        .route("/sync", post(d::sync))
        .route(
            "/new/{form}",
            get(d::context_page).post(d::start).layer(small()),
        )
        .route("/responses/{id}", get(d::response_page))
        .route("/responses/{id}/done", get(d::done_page))
        .route("/responses/{id}/discard", post(d::discard))
        .route("/assets/form.js", get(h::form_js))
        .route("/assets/form.css", get(h::form_css))
        .route("/api/practitioner/responses/{id}", get(d::resume))
        .route(
            "/api/practitioner/responses/{id}/answers",
            post(d::answer).layer(small()),
        )
        .route(
            "/api/practitioner/responses/{id}/consent",
            post(d::consent).layer(small()),
        )
        .route(
            "/api/practitioner/responses/{id}/submit",
            post(d::submit).layer(small()),
        )
        .fallback(|| async { HubError::NotFound })
        .layer(axum::middleware::from_fn(same_origin))
        .layer(axum::middleware::from_fn(d::this_machine))
        .layer(TraceLayer::new_for_http())
        .with_state(desk)
}

/// Serves practitioner mode until `shutdown`, like [`serve_hub`].
pub async fn serve_practitioner(
    listener: TcpListener,
    desk: Desk,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_peer(listener, practitioner_router(desk), shutdown).await
}

/// Serves the event hub until `shutdown`; each request carries its peer's
/// address (the organiser's pages answer only the hub's own screen).
pub async fn serve_hub(
    listener: TcpListener,
    hub: Hub,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_peer(listener, hub_router(hub), shutdown).await
}

/// Serves `app` with the body and request timeouts until `shutdown`, each
/// request carrying its peer's address (for the checks that answer only
/// this machine).
async fn serve_with_peer(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app.layer((
        RequestBodyTimeoutLayer::new(BODY_TIMEOUT),
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT),
    ));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Whether a request that changes data says it comes from another site's
/// page: its `Origin` is not the host it was sent to, or `Sec-Fetch-Site`
/// says cross-site. Devices and scripts send neither header and pass.
/// The server and the hub refuse such requests alike.
pub fn cross_site(request: &Request) -> bool {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return false;
    }
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site") == Some("cross-site") {
        return true;
    }
    text("origin").is_some_and(|origin| {
        let host = text("host").unwrap_or_default();
        let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
        origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host)
    })
}

async fn same_origin(request: Request, next: Next) -> Result<Response, HubError> {
    if cross_site(&request) {
        return Err(HubError::CrossSite);
    }
    Ok(next.run(request).await)
}
