//! A load generator: many simulated devices (hark-core stores, exactly as
//! the apps use them) enrol, capture responses offline, then sync all at
//! once against a running server. Behind `hark simulate` and the ingest
//! benchmark; returns what it measured rather than printing it.
//!
//! Bytes are counted as they go on the wire (the codec's gzip(CBOR)) and
//! compared with gzip of the same answers as JSON in batches of 500, what a
//! plain JSON API would send. With the server's metrics address, the
//! server's own CPU time over the sync is read from its
//! `hark_process_cpu_seconds_total` before and after.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hark_core::doc::{DocKind, now_ms};
use hark_core::form::{plausible_answers, seeded};
use hark_core::response::{Consent, ResponseContext, ResponseDoc};
use hark_core::store::replica::Incoming;
use hark_core::store::{ResponseFilter, Store, StoreKey};
use hark_core::sync::client::Transport;
use hark_core::sync::http::{self, Enrolment, HttpTransport, SERVER_PEER};
use hark_core::sync::{SyncError, SyncRequest, SyncResponse};

use crate::admin;
use crate::error::{Error, Result};
use crate::storage::Storage;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Server URL.
    pub server: String,
    /// The server's metrics URL (`http://host:port/metrics`), if served.
    pub metrics: Option<String>,
    /// Number of devices.
    pub devices: usize,
    /// Total responses, spread over the devices.
    pub responses: usize,
    /// Area the devices enrol in.
    pub area: String,
    /// Form to fill.
    pub form: String,
    /// Responses are captured over this many months before now (0: all
    /// now), so that the dashboard has published months to show at once.
    pub months: u32,
}

/// About a month, in ms.
const MONTH_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// When the `i`th response was captured: spread back over `months` (30,
/// 60, ... days before `now`), or `now`.
fn captured_at(now: i64, i: usize, months: u32) -> i64 {
    if months == 0 {
        return now;
    }
    let back = i64::try_from(i % months as usize).unwrap_or(0) + 1;
    now - MONTH_MS * back
}

/// What a simulation measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Devices that synced.
    pub devices: usize,
    /// Responses they synced.
    pub responses: usize,
    /// Wall time of the sync (every device at once).
    pub elapsed: Duration,
    /// Bytes sent to the server (compressed, as on the wire).
    pub bytes_up: u64,
    /// Bytes received from it.
    pub bytes_down: u64,
    /// gzip(JSON) of the same answers, batches of 500.
    pub json_gzip: u64,
    /// The server's CPU seconds over the sync (with its metrics).
    pub server_cpu: Option<f64>,
    /// A no-op re-sync of one device afterwards.
    pub noop: Noop,
}

/// A re-sync with nothing new.
#[derive(Clone, Debug)]
pub struct Noop {
    /// Responses the device holds.
    pub held: usize,
    /// Its wall time.
    pub elapsed: Duration,
    /// Round trips.
    pub round_trips: usize,
    /// Bytes up.
    pub bytes_up: u64,
    /// Bytes down.
    pub bytes_down: u64,
}

impl Report {
    /// Responses per second.
    pub fn throughput(&self) -> f64 {
        self.responses as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Per response: `total / responses`.
    pub fn per_response(&self, total: f64) -> f64 {
        total / self.responses.max(1) as f64
    }
}

/// Counts the bytes a transport moves.
struct Counting {
    inner: HttpTransport,
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
}

impl Counting {
    fn new(server: &str, token: &str) -> Self {
        Self {
            inner: HttpTransport::new(server, token),
            sent: Arc::default(),
            received: Arc::default(),
        }
    }
}

impl Transport for Counting {
    fn exchange(&self, request: &SyncRequest) -> std::result::Result<SyncResponse, SyncError> {
        let response = self.inner.exchange(request)?;
        self.sent.fetch_add(
            hark_core::sync::encode(request).len() as u64,
            Ordering::Relaxed,
        );
        self.received.fetch_add(
            hark_core::sync::encode_answer(&response).len() as u64,
            Ordering::Relaxed,
        );
        Ok(response)
    }
}

/// The server's CPU seconds so far, from its metrics.
fn server_cpu(metrics: &str) -> Result<f64> {
    let text = ureq::get(metrics)
        .call()
        .map_err(|e| Error::Invalid(format!("metrics at {metrics}: {e}")))?
        .body_mut()
        .read_to_string()
        .map_err(|e| Error::Invalid(format!("metrics at {metrics}: {e}")))?;
    crate::metrics::value_of(&text, "hark_process_cpu_seconds_total").ok_or_else(|| {
        Error::Invalid(format!(
            "metrics at {metrics} have no hark_process_cpu_seconds_total"
        ))
    })
}

/// One simulated device, enrolled, with its responses captured.
struct Device {
    store: Store,
    enrolment: Enrolment,
}

/// Enrols the devices (minting codes in `storage`, the server's own
/// database) and captures the responses on them offline; `captured` is
/// called after each response.
fn capture(
    plan: &Plan,
    storage: &dyn Storage,
    dir: &std::path::Path,
    captured: &dyn Fn(),
) -> Result<(Vec<Device>, Vec<serde_json::Value>)> {
    let per_device = plan.responses.div_ceil(plan.devices.max(1));
    let mut made = 0;
    let mut json = Vec::with_capacity(plan.responses);
    let mut devices = Vec::with_capacity(plan.devices);
    for d in 0..plan.devices {
        let store = Store::open(&dir.join(format!("device-{d}.db")), &StoreKey::generate())?;
        let code = admin::enrol_code(storage, &plan.area, now_ms())?;
        let enrolment = http::enrol(&store, &plan.server, &code, &format!("simulated {d}"))?;
        http::sync_with_server(&store, &|_: usize, _: usize| {})?;
        let form = store
            .latest_form(&plan.form)?
            .ok_or_else(|| Error::NotFound(format!("form '{}'", plan.form)))?;
        let mut next = seeded(d as u64 + 1);
        // One session of the app: its new responses share the store's
        // session actor, as `Store::start_response` gives them.
        let session = automerge::ActorId::random();
        let n = per_device.min(plan.responses - made);
        let mut docs = Vec::with_capacity(n);
        for _ in 0..n {
            let id = uuid::Uuid::new_v4().to_string();
            let ctx = ResponseContext {
                area: enrolment.area.clone(),
                device: store.device_id().to_owned(),
                captured_at: captured_at(now_ms(), made + docs.len(), plan.months),
                ..Default::default()
            };
            let consent = Consent::given_for(form.audience);
            let mut doc =
                ResponseDoc::start_as(session.clone(), &id, &form, &ctx, consent, "simulated")?;
            for (q, a) in plausible_answers(&form, &mut next) {
                doc.answer(&form, &q, a, now_ms())?;
            }
            doc.submit(&form, now_ms())?;
            json.push(serde_json::json!({
                "id": id, "form": form.id, "version": form.version.to_string(),
                "context": doc.context(), "consent": doc.consent(), "status": "submitted",
                "answers": doc.answers()?,
            }));
            docs.push(Incoming {
                id,
                kind: DocKind::Response,
                base: Vec::new(),
                bytes: doc.save(),
            });
            captured();
        }
        // Captured offline in bulk, as a day of visits would be.
        for chunk in docs.chunks(500) {
            store.apply(chunk)?;
        }
        made += n;
        devices.push(Device { store, enrolment });
    }
    Ok((devices, json))
}

/// gzip(JSON) of the answers in batches of 500, as a JSON API would send.
fn json_gzip(json: &[serde_json::Value]) -> u64 {
    json.chunks(500)
        .map(|c| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = serde_json::to_writer(&mut gz, c);
            gz.finish().map_or(0, |b| b.len() as u64)
        })
        .sum()
}

/// Runs a simulation: enrol and capture (`captured` after each response),
/// then every device syncs at once (`synced(n)` as `n` more arrive), then
/// one no-op re-sync.
pub fn run(
    plan: &Plan,
    storage: &dyn Storage,
    captured: &dyn Fn(),
    synced: &(dyn Fn(usize) + Sync),
) -> Result<Report> {
    let dir = tempfile::Builder::new()
        .prefix("hark-simulate-")
        .tempdir()?;
    let (devices, json) = capture(plan, storage, dir.path(), captured)?;
    let sent = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let cpu_before = plan.metrics.as_deref().map(server_cpu).transpose()?;
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for device in &devices {
            let transport = Counting {
                inner: HttpTransport::new(&plan.server, &device.enrolment.token),
                sent: sent.clone(),
                received: received.clone(),
            };
            handles.push(scope.spawn(move || {
                let last = std::cell::Cell::new(0usize);
                hark_core::sync::sync(
                    &device.store,
                    SERVER_PEER,
                    &transport,
                    &|done: usize, _total: usize| {
                        synced(done - last.get());
                        last.set(done);
                    },
                )
            }));
        }
        for h in handles {
            h.join().map_err(|_| Error::Join)??;
        }
        Ok(())
    })?;
    let elapsed = start.elapsed();
    let cpu_after = plan.metrics.as_deref().map(server_cpu).transpose()?;
    let server_cpu = cpu_before.zip(cpu_after).map(|(b, a)| a - b);
    let noop = match devices.first() {
        Some(device) => {
            let counting = Counting::new(&plan.server, &device.enrolment.token);
            let held = device.store.list(&ResponseFilter::default())?.len();
            let t = Instant::now();
            let report = hark_core::sync::sync(
                &device.store,
                SERVER_PEER,
                &counting,
                &|_: usize, _: usize| {},
            )?;
            Noop {
                held,
                elapsed: t.elapsed(),
                round_trips: report.round_trips,
                bytes_up: counting.sent.load(Ordering::Relaxed),
                bytes_down: counting.received.load(Ordering::Relaxed),
            }
        }
        None => Noop {
            held: 0,
            elapsed: Duration::ZERO,
            round_trips: 0,
            bytes_up: 0,
            bytes_down: 0,
        },
    };
    Ok(Report {
        devices: devices.len(),
        responses: json.len(),
        elapsed,
        bytes_up: sent.load(Ordering::Relaxed),
        bytes_down: received.load(Ordering::Relaxed),
        json_gzip: json_gzip(&json),
        server_cpu,
        noop,
    })
}
