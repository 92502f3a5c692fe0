//! Opening an event hub over a device store: the event's code checked (or
//! made), the listener bound, and the address phones open worked out. One
//! way for `hark hub` and for an app through hark-ffi, so both offer the
//! same hub.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;

use hark_core::Store;
use tokio::net::TcpListener;

use crate::event::{Event, Hub, HubError};

/// Shortest event code an organiser may choose.
pub const MIN_CODE: usize = 4;

/// What the organiser asks for.
#[derive(Clone, Debug)]
pub struct HubOptions {
    /// The event's name (recorded as each response's occasion).
    pub event: String,
    /// Setting recorded with each response (from the area's list).
    pub setting: Option<String>,
    /// Offer only these forms (empty: every installed form).
    pub forms: Vec<String>,
    /// The code phones enter (`None`: a fresh 6-character code).
    pub code: Option<String>,
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// The address phones open, if not this machine's own.
    pub url: Option<String>,
}

/// A hub ready to serve (with [`crate::serve_hub`]) on its listener.
#[derive(Debug)]
pub struct Opened {
    /// The hub.
    pub hub: Hub,
    /// Bound to the address asked for.
    pub listener: TcpListener,
    /// The organiser's page, on this machine only.
    pub organiser: String,
}

/// Opens an event hub over `store` (which must hold the area's forms: enrol
/// and sync it first) as `options` ask. Must run inside a tokio runtime.
pub async fn open_hub(store: Arc<Store>, options: HubOptions) -> Result<Opened, HubError> {
    if store.forms()?.is_empty() {
        return Err(HubError::NoForms);
    }
    let code = match options.code {
        Some(c) if c.trim().chars().count() >= MIN_CODE => c.trim().to_uppercase(),
        Some(_) => return Err(HubError::ShortCode),
        None => Hub::new_code(),
    };
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|e| HubError::Listen(e.to_string()))?;
    let bound = listener
        .local_addr()
        .map_err(|e| HubError::Listen(e.to_string()))?;
    let url = options.url.unwrap_or_else(|| {
        let ip = if bound.ip().is_unspecified() {
            local_ip()
        } else {
            bound.ip()
        };
        format!("http://{}/", SocketAddr::new(ip, bound.port()))
    });
    let event = Event {
        name: options.event,
        setting: options.setting,
        forms: options.forms,
        code,
        url,
    };
    Ok(Opened {
        hub: Hub::new(store, event)?,
        listener,
        organiser: format!("http://127.0.0.1:{}/organiser", bound.port()),
    })
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
