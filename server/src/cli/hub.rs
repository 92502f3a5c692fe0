//! `hark hub`: the event hub. Opens (or creates) an encrypted device store
//! exactly as `hark device` does, enrols it like any device when given a
//! server and a code, and either syncs once (`--sync`) or serves the area's
//! forms to phones on the local network until stopped. With
//! `--practitioner` it serves practitioner mode instead, to this machine
//! only (127.0.0.1:8091 unless `--listen` says otherwise).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use hark_core::sync::http;

use super::device::open_device_store;
use super::serve::shutdown_signal;
use crate::error::{Error, Result};
use crate::hub::{Desk, Event, Hub};

/// `hark hub`.
#[derive(Debug, Args)]
pub struct HubArgs {
    /// The hub's store directory (created if missing; key from
    /// HARK_STORE_KEY or DIR/device.key, as for `hark device`).
    #[arg(long)]
    pub store: PathBuf,
    /// Enrol with this server first (with --enrol-code).
    #[arg(long, requires = "enrol_code")]
    pub server: Option<String>,
    /// The one-time code from `hark admin enrol-code`.
    #[arg(long, requires = "server")]
    pub enrol_code: Option<String>,
    /// Sync everything with the server, then exit.
    #[arg(long)]
    pub sync: bool,
    /// Address to listen on (default: all interfaces, port 8090, so phones
    /// on the hotspot reach it; in practitioner mode 127.0.0.1:8091).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Practitioner mode: this machine's own browser starts surveys with a
    /// context from the area's lists, resumes drafts and syncs (no event).
    #[arg(long, conflicts_with_all = ["event", "event_code", "setting", "forms", "url"])]
    pub practitioner: bool,
    /// The practitioner's staff code, recorded with each response (never a
    /// name). Practitioner mode only.
    #[arg(long, requires = "practitioner")]
    pub staff: Option<String>,
    /// The address phones open, if not this machine's own (shown and in the QR).
    #[arg(long)]
    pub url: Option<String>,
    /// The event's name (recorded as each response's occasion; default "Survey").
    #[arg(long)]
    pub event: Option<String>,
    /// The code phones enter (default: a fresh 6-character code).
    #[arg(long)]
    pub event_code: Option<String>,
    /// Setting recorded with each response (from the area's list).
    #[arg(long)]
    pub setting: Option<String>,
    /// Offer only these forms (repeat; default: every installed form).
    #[arg(long = "form")]
    pub forms: Vec<String>,
}

/// This machine's address on the local network: the one it would send
/// from (a UDP "connect" sends nothing), else loopback.
fn local_ip() -> IpAddr {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| {
            s.connect((Ipv4Addr::new(192, 0, 2, 1), 80))?;
            s.local_addr()
        })
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |a| a.ip())
}

pub(super) fn run(args: HubArgs) -> Result<()> {
    let store = Arc::new(open_device_store(&args.store)?);
    if let (Some(server), Some(code)) = (&args.server, &args.enrol_code) {
        let label = if args.practitioner {
            "practitioner"
        } else {
            "event hub"
        };
        let e = http::enrol(&store, server, code, label)?;
        println!("enrolled as {} in area '{}'", e.device_id, e.area);
        http::sync_with_server(&store, &|_: usize, _: usize| {})?;
    }
    if args.sync {
        if http::enrolment(&store)?.is_none() {
            return Err(Error::Config(
                "not enrolled: give --server URL --enrol-code CODE".into(),
            ));
        }
        let r = http::sync_with_server(&store, &|_: usize, _: usize| {})?;
        println!("synced: {} sent, {} received", r.sent, r.received);
        for rej in &r.rejected {
            println!("refused by the server: {} ({})", rej.id, rej.reason);
        }
        return Ok(());
    }
    if store.forms()?.is_empty() {
        return Err(Error::Config(
            "this hub has no forms yet: enrol it with --server URL --enrol-code CODE".into(),
        ));
    }
    if args.practitioner {
        return practitioner(store, args.listen, args.staff);
    }
    let code = match args.event_code {
        Some(c) if c.trim().len() >= 4 => c.trim().to_uppercase(),
        Some(_) => {
            return Err(Error::Config(
                "the event code needs 4 characters or more".into(),
            ));
        }
        None => Hub::new_code(),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listen = args
            .listen
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8090)));
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let bound = listener.local_addr()?;
        let url = args.url.unwrap_or_else(|| {
            let ip = if bound.ip().is_unspecified() {
                local_ip()
            } else {
                bound.ip()
            };
            format!("http://{}/", SocketAddr::new(ip, bound.port()))
        });
        let event = Event {
            name: args.event.unwrap_or_else(|| "Survey".to_owned()),
            setting: args.setting,
            forms: args.forms,
            code: code.clone(),
            url: url.clone(),
        };
        let hub = Hub::new(store, event).map_err(|e| Error::Config(e.to_string()))?;
        println!("Phones open:  {url}");
        println!("Event code:   {code}");
        println!(
            "Organiser:    http://127.0.0.1:{}/organiser (on this machine)",
            bound.port()
        );
        crate::app::serve_hub(listener, hub, shutdown_signal()).await?;
        Ok::<(), Error>(())
    })
}

/// Practitioner mode: serves this machine only, until stopped.
fn practitioner(
    store: Arc<hark_core::Store>,
    listen: Option<SocketAddr>,
    staff: Option<String>,
) -> Result<()> {
    if let Some(s) = &staff
        && (s.trim().is_empty() || s.len() > 40)
    {
        return Err(Error::Config(
            "the staff code needs 1 to 40 characters (a code, never a name)".into(),
        ));
    }
    let listen = listen.unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 8091)));
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let port = listener.local_addr()?.port();
        let desk = Desk::new(store, staff.map(|s| s.trim().to_owned()));
        println!("Practitioner: http://127.0.0.1:{port}/ (opens on this machine only)");
        crate::app::serve_practitioner(listener, desk, shutdown_signal()).await?;
        Ok::<(), Error>(())
    })
}
