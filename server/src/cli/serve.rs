//! `hark serve`: the server on its database; on first start, a demo area
//! with every built-in form, an enrolment code and the demo administrator.

use std::net::SocketAddr;

use clap::Args;
use hark_core::doc::now_ms;

use crate::admin;
use crate::config::{DEFAULT_DB, open_storage};
use crate::error::{Error, Result};
use crate::model::Role;
use crate::state::AppState;
use crate::users;

/// `hark serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database: sqlite://PATH or postgres://…
    #[arg(long, env = "HARK_DB", default_value = DEFAULT_DB)]
    pub db: String,
    /// Address to listen on.
    #[arg(long, env = "HARK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Send session cookies without the Secure flag: only for a plain-HTTP
    /// office network you trust (browsers treat localhost as secure anyway).
    #[arg(long, env = "HARK_INSECURE_COOKIES")]
    pub insecure_cookies: bool,
    /// Serve Prometheus metrics (`GET /metrics`) on this address too
    /// (off unless given; keep it off the public network).
    #[arg(long, env = "HARK_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

pub(super) fn run(args: ServeArgs) -> Result<()> {
    let storage = open_storage(&args.db)?;
    if storage.areas()?.is_empty() {
        let area = admin::create_area(storage.as_ref(), "demo")?;
        let code = admin::enrol_code(storage.as_ref(), &area.name, now_ms())?;
        let server = format!("http://{}", args.listen);
        println!("First start: created area 'demo' with every built-in form.");
        println!(
            "Enrol a device with:  hark device --store ./my-tablet enrol --server {server} --code {code}"
        );
        println!("QR-ready:             {}", admin::enrol_uri(&server, &code));
        let password = users::generate_password();
        users::create_user(
            storage.as_ref(),
            &area.name,
            "admin",
            &password,
            Role::Administrator,
            true,
        )?;
        println!("Dashboard:            {server}/  user 'admin', password {password} (shown once)");
    }
    // The built-in forms of this hark reach every existing area as new
    // versions, never over an area's own form.
    for area in storage.areas()? {
        let n = admin::install_builtin_forms(storage.as_ref(), &area)?;
        if n > 0 {
            println!(
                "Area '{}': {n} built-in form version(s) of this hark installed.",
                area.name
            );
        }
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let state = AppState::new(storage).with_secure_cookies(!args.insecure_cookies);
        if let Some(addr) = args.metrics_listen {
            let metrics = tokio::net::TcpListener::bind(addr).await?;
            println!("metrics on http://{}/metrics", metrics.local_addr()?);
            tokio::spawn(crate::app::serve_metrics(
                metrics,
                state.clone(),
                shutdown_signal(),
            ));
        }
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        println!("hark listening on http://{}", listener.local_addr()?);
        crate::app::serve(listener, state, shutdown_signal()).await?;
        Ok::<(), Error>(())
    })
}

pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
