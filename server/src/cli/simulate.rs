//! `hark simulate`: many simulated devices enrol, capture offline, then
//! sync all at once; prints throughput, bytes per response against
//! gzip(JSON) and the cost of a no-op re-sync.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::Args;
use hark_core::doc::{DocKind, now_ms};
use hark_core::form::{plausible_answers, seeded};
use hark_core::response::{Consent, ResponseContext, ResponseDoc};
use hark_core::store::replica::Incoming;
use hark_core::store::{ResponseFilter, Store, StoreKey};
use hark_core::sync::client::Transport;
use hark_core::sync::http::{self, HttpTransport, SERVER_PEER};
use hark_core::sync::{SyncError, SyncRequest, SyncResponse};

use crate::admin;
use crate::config::{DEFAULT_DB, open_storage};
use crate::error::{Error, Result};

/// `hark simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Server URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Number of devices.
    #[arg(long, default_value_t = 10)]
    pub devices: usize,
    /// Total responses (spread over the devices).
    #[arg(long, default_value_t = 1000)]
    pub responses: usize,
    /// The server's database, to mint enrolment codes.
    #[arg(long, env = "HARK_DB", default_value = DEFAULT_DB)]
    pub db: String,
    /// Area the devices enrol in.
    #[arg(long, default_value = "demo")]
    pub area: String,
    /// Form to fill.
    #[arg(long, default_value = "service-satisfaction")]
    pub form: String,
}

/// Counts the bytes a transport moves.
struct Counting {
    inner: HttpTransport,
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
}

impl Transport for Counting {
    fn exchange(&self, request: &SyncRequest) -> std::result::Result<SyncResponse, SyncError> {
        let response = self.inner.exchange(request)?;
        self.sent.fetch_add(
            hark_core::sync::encode(request).len() as u64,
            Ordering::Relaxed,
        );
        self.received.fetch_add(
            hark_core::sync::encode(&response).len() as u64,
            Ordering::Relaxed,
        );
        Ok(response)
    }
}

pub(super) fn run(args: SimulateArgs) -> Result<()> {
    let storage = open_storage(&args.db)?;
    let dir = tempfile_dir()?;
    let per_device = args.responses.div_ceil(args.devices.max(1));
    let bar = indicatif::ProgressBar::new(args.responses as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:12} {bar:40} {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("capturing");
    let mut stores = Vec::new();
    let mut made = 0;
    let mut json_lines = Vec::new();
    for d in 0..args.devices {
        let store = Store::open(&dir.join(format!("device-{d}.db")), &StoreKey::generate())?;
        let code = admin::enrol_code(storage.as_ref(), &args.area, now_ms())?;
        let e = http::enrol(&store, &args.server, &code, &format!("simulated {d}"))?;
        http::sync_with_server(&store, &|_: usize, _: usize| {})?;
        let form = store
            .latest_form(&args.form)?
            .ok_or_else(|| Error::NotFound(format!("form '{}'", args.form)))?;
        let mut next = seeded(d as u64 + 1);
        let n = per_device.min(args.responses - made);
        let mut docs = Vec::with_capacity(n);
        for _ in 0..n {
            let id = uuid::Uuid::new_v4().to_string();
            let ctx = ResponseContext {
                area: e.area.clone(),
                device: store.device_id().to_owned(),
                captured_at: now_ms(),
                ..Default::default()
            };
            let consent = Consent::given_for(form.audience);
            let mut doc = ResponseDoc::start(&id, &form, &ctx, consent, "simulated")?;
            for (q, a) in plausible_answers(&form, &mut next) {
                doc.answer(&form, &q, a, now_ms())?;
            }
            doc.submit(&form, now_ms())?;
            json_lines.push(serde_json::json!({
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
            bar.inc(1);
        }
        // Captured offline in bulk, as a day of visits would be.
        for chunk in docs.chunks(500) {
            store.apply(chunk)?;
        }
        made += n;
        stores.push((store, e));
    }
    bar.finish_and_clear();
    let sent = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let bar = indicatif::ProgressBar::new(made as u64);
    bar.set_message("syncing");
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for (store, e) in &stores {
            let transport = Counting {
                inner: HttpTransport::new(&args.server, &e.token),
                sent: sent.clone(),
                received: received.clone(),
            };
            let bar = bar.clone();
            handles.push(scope.spawn(move || {
                let last = std::cell::Cell::new(0usize);
                hark_core::sync::sync(
                    store,
                    SERVER_PEER,
                    &transport,
                    &|done: usize, _total: usize| {
                        bar.inc((done - last.get()) as u64);
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
    bar.finish_and_clear();
    let up = sent.load(Ordering::Relaxed);
    // The same answers as JSON, gzipped in batches of 500 as a JSON API would.
    let json_gz: usize = json_lines
        .chunks(500)
        .map(|c| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = serde_json::to_writer(&mut gz, c);
            gz.finish().map_or(0, |b| b.len())
        })
        .sum();
    // A no-op re-sync of the first device.
    let (store0, e0) = &stores[0];
    let noop = Counting {
        inner: HttpTransport::new(&args.server, &e0.token),
        sent: Arc::new(AtomicU64::new(0)),
        received: Arc::new(AtomicU64::new(0)),
    };
    let held = store0.list(&ResponseFilter::default())?.len();
    let t = Instant::now();
    let report = hark_core::sync::sync(store0, SERVER_PEER, &noop, &|_: usize, _: usize| {})?;
    let noop_time = t.elapsed();
    println!("devices:                 {}", args.devices);
    println!("responses synced:        {made}");
    println!("time:                    {:.2} s", elapsed.as_secs_f64());
    println!(
        "throughput:              {:.0} responses/s",
        made as f64 / elapsed.as_secs_f64()
    );
    println!(
        "bytes up per response:   {:.0}",
        up as f64 / made.max(1) as f64
    );
    println!(
        "bytes down per response: {:.0}",
        received.load(Ordering::Relaxed) as f64 / made.max(1) as f64
    );
    println!(
        "gzip(JSON) per response: {:.0} (same answers, batches of 500)",
        json_gz as f64 / made.max(1) as f64
    );
    println!(
        "no-op re-sync of a device holding {held}: {:.1} ms, {} round trip(s), {} bytes up, {} bytes down",
        noop_time.as_secs_f64() * 1e3,
        report.round_trips,
        noop.sent.load(Ordering::Relaxed),
        noop.received.load(Ordering::Relaxed)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("hark-simulate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
