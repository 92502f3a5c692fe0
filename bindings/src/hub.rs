//! The event hub, started by an app on the organiser's tablet: the same
//! hub as `hark hub` (`hark_hub::open_hub`, `hark_hub::serve_hub`) over the
//! app's own store, serving phones on the tablet's hotspot until the app
//! stops it. A WebView (or the tablet's browser) shows the organiser's
//! page at [`EventHub::organiser_url`]; see `bindings/README.md`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex};

use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{HarkError, Result};
use crate::store::HarkStore;

/// The runtime every hub started here serves on (its threads live as long
/// as the app).
static RUNTIME: LazyLock<std::io::Result<Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hark-hub")
        .enable_all()
        .build()
});

fn runtime() -> Result<&'static Runtime> {
    RUNTIME.as_ref().map_err(|e| HarkError::Hub {
        detail: format!("cannot start the hub's threads: {e}"),
    })
}

/// What the organiser asks for when starting a hub.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HubOptions {
    /// The event's name (recorded as each response's occasion).
    pub event: String,
    /// Setting recorded with each response (from the area's list).
    pub setting: Option<String>,
    /// Offer only these forms (empty: every installed form).
    pub forms: Vec<String>,
    /// The code phones enter (`None`: a fresh 6-character code).
    pub code: Option<String>,
    /// The port to listen on, on every interface (0: any free port).
    pub port: u16,
    /// The address phones open, if not the tablet's own on its network.
    pub url: Option<String>,
}

/// An event hub serving phones until [`EventHub::stop`].
#[derive(Debug, uniffi::Object)]
pub struct EventHub {
    url: String,
    code: String,
    organiser: String,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<std::io::Result<()>>>>,
}

#[uniffi::export]
impl EventHub {
    /// Starts a hub over `store` (enrolled and synced, so it holds the
    /// area's forms). Returns once it listens.
    #[uniffi::constructor]
    pub fn start(store: Arc<HarkStore>, options: HubOptions) -> Result<Arc<Self>> {
        let rt = runtime()?;
        let opened = rt.block_on(hark_hub::open_hub(
            store.inner.clone(),
            hark_hub::HubOptions {
                event: options.event,
                setting: options.setting,
                forms: options.forms,
                code: options.code,
                listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, options.port)),
                url: options.url,
            },
        ))?;
        let event = opened.hub.event().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = rt.spawn(hark_hub::serve_hub(
            opened.listener,
            opened.hub,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Arc::new(Self {
            url: event.url,
            code: event.code,
            organiser: opened.organiser,
            stop: Mutex::new(Some(stop)),
            task: Mutex::new(Some(task)),
        }))
    }

    /// The address phones open (show it, and as a QR code: the organiser's
    /// page does both).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The code phones enter.
    pub fn code(&self) -> String {
        self.code.clone()
    }

    /// The organiser's page (the code, the QR, the live count, Sync now),
    /// which opens on this tablet only.
    pub fn organiser_url(&self) -> String {
        self.organiser.clone()
    }

    /// Stops serving: requests in flight finish, and every stored response
    /// stays in the store. Stopping twice does nothing.
    pub fn stop(&self) -> Result<()> {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            runtime()?.block_on(task)?.map_err(|e| HarkError::Hub {
                detail: format!("the hub stopped with an error: {e}"),
            })?;
        }
        Ok(())
    }
}
