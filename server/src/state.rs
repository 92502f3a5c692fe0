//! What every request handler shares: the storage and its group writer,
//! the bounds on concurrent work, the metrics, the cookie policy and the
//! forms read from their documents. The server keeps nothing else between
//! requests (the forms only while their stored documents are unchanged),
//! so several processes can share one database.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::error::{ApiError, Error};
use crate::metrics::Metrics;
use crate::storage::Storage;
use crate::validate::FormCache;
use crate::writer::Writer;

/// Largest sync body accepted (compressed): the hub's too.
pub use hark_hub::serve::MAX_SYNC_BODY;
/// Largest JSON body accepted.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Shared state of the HTTP server.
#[derive(Clone)]
pub struct AppState {
    /// Storage backend.
    pub storage: Arc<dyn Storage>,
    /// Sync exchanges decoded and merged at once. Excess requests wait
    /// (holding only their compressed body), so memory stays flat however
    /// many devices sync together.
    pub sync_slots: Arc<tokio::sync::Semaphore>,
    /// Mark session cookies `Secure` (sent over HTTPS only; browsers treat
    /// `http://localhost` and `http://127.0.0.1` as secure too).
    pub secure_cookies: bool,
    /// What operators watch (served only where `serve_metrics` is).
    pub metrics: Arc<Metrics>,
    /// The group writer every sync exchange commits through.
    pub writer: Arc<Writer>,
    /// Survey-link answers per client address (see
    /// [`LINK_ANSWERS_PER_MINUTE`]).
    pub link_limiter: Arc<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// The clock that says when responses arrive and which months are
    /// published.
    pub clock: Clock,
    /// Forms read from the stored form documents, for sync exchanges.
    pub forms: Arc<FormCache>,
}

/// The server's clock: the system's, or one a test sets (to read reports
/// before and after a month is published).
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `now_ms` until [`Clock::set`].
    pub fn manual(now_ms: i64) -> Self {
        Self(Some(Arc::new(AtomicI64::new(now_ms))))
    }

    /// Now, ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.0
            .as_ref()
            .map_or_else(hark_core::doc::now_ms, |t| t.load(Ordering::SeqCst))
    }

    /// Moves a manual clock to `now_ms` (the system's clock cannot be
    /// moved: `false`).
    pub fn set(&self, now_ms: i64) -> bool {
        self.0
            .as_ref()
            .map(|t| t.store(now_ms, Ordering::SeqCst))
            .is_some()
    }
}

/// Survey-link answers one client address may send a minute (a school's
/// or a library's whole network may share one address).
pub const LINK_ANSWERS_PER_MINUTE: u32 = 30;

impl AppState {
    /// State over `storage`, with two sync slots per core.
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let metrics = Arc::new(Metrics::new());
        let writer = Writer::start(storage.clone(), metrics.clone())
            .unwrap_or_else(|e| panic!("the writer thread cannot start: {e}"));
        Self {
            storage,
            sync_slots: Arc::new(tokio::sync::Semaphore::new(cores * 2)),
            secure_cookies: true,
            metrics,
            writer: Arc::new(writer),
            link_limiter: Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(
                std::num::NonZeroU32::new(LINK_ANSWERS_PER_MINUTE)
                    .unwrap_or(std::num::NonZeroU32::MIN),
            ))),
            clock: Clock::system(),
            forms: Arc::default(),
        }
    }

    /// Sets the clock (see the field).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets whether session cookies are marked `Secure` (see the field).
    #[must_use]
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppState")
    }
}

/// Runs blocking work (storage, merging, hashing) on tokio's blocking
/// pool, its error mapped to what the client is told.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::Internal(Box::new(Error::Join)))?
        .map_err(ApiError::from)
}
