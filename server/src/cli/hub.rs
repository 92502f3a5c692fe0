//! `hark hub`: the event hub. Opens (or creates) an encrypted device store
//! exactly as `hark device` does, enrols it like any device when given a
//! server and a code, and either syncs once (`--sync`) or serves the area's
//! forms to phones on the local network until stopped. With
//! `--practitioner` it serves practitioner mode instead, to this machine
//! only (127.0.0.1:8091 unless `--listen` says otherwise).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use hark_core::sync::http;

use super::device::open_device_store;
use super::serve::shutdown_signal;
use crate::error::{Error, Result};
use hark_hub::{Desk, HubOptions};

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
    let options = HubOptions {
        event: args.event.unwrap_or_else(|| "Survey".to_owned()),
        setting: args.setting,
        forms: args.forms,
        code: args.event_code,
        listen: args
            .listen
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8090))),
        url: args.url,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let opened = hark_hub::open_hub(store, options)
            .await
            .map_err(|e| Error::Config(e.to_string()))?;
        let event = opened.hub.event();
        println!("Phones open:  {}", event.url);
        println!("Event code:   {}", event.code);
        println!("Organiser:    {} (on this machine)", opened.organiser);
        hark_hub::serve_hub(opened.listener, opened.hub, shutdown_signal()).await?;
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
        hark_hub::serve_practitioner(listener, desk, shutdown_signal()).await?;
        Ok::<(), Error>(())
    })
}
