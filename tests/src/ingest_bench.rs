//! The ingest benchmark behind `cargo bench -p hark-tests --bench ingest`:
//! for SQLite and PostgreSQL, a fresh `hark serve` child process (with its
//! metrics) per row, then [`hark_server::simulate`] with 10 and 100
//! devices syncing at once, each reported as responses/s, the server's CPU
//! per response (from its metrics), bytes up and down per response against
//! gzip(JSON), and the server's peak resident memory. The reference row per
//! backend is the bulk-write rate of the same kind of rows (projections and
//! tallies of the same form's responses, batches of 10,000, through the
//! storage trait in this process): the limit ingest aims at.
//!
//! `cargo test` runs a small one ([`Sizes::smoke`]) to show it completes;
//! its figures are not checked.

use std::sync::Arc;
use std::time::Instant;

use hark_core::doc::now_ms;
use hark_core::form::{builtin_form, plausible_answers, seeded};
use hark_core::response::{Consent, ResponseContext, ResponseDoc};
use hark_server::simulate::{Plan, Report};
use hark_server::storage::Storage;
use hark_server::validate::{AreaForms, check};

use crate::{ChildServer, PgDb};

/// How big a run.
#[derive(Clone, Debug)]
pub struct Sizes {
    /// Responses per simulation.
    pub responses: usize,
    /// Device counts, one simulation each.
    pub devices: Vec<usize>,
    /// Responses in the bulk-write reference.
    pub bulk: usize,
}

impl Sizes {
    /// The benchmark: 20,000 responses (or `HARK_BENCH_RESPONSES`) with 10
    /// and 100 devices.
    pub fn full() -> Self {
        let responses = std::env::var("HARK_BENCH_RESPONSES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        Self {
            responses,
            devices: vec![10, 100],
            bulk: responses.max(10_000),
        }
    }

    /// A run small enough for `cargo test` in debug.
    pub fn smoke() -> Self {
        Self {
            responses: 40,
            devices: vec![2, 4],
            bulk: 100,
        }
    }
}

/// A database backend to run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A throwaway PostgreSQL database.
    Postgres,
}

impl Backend {
    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// A fresh database: its URL, and what keeps it alive.
struct Db {
    url: String,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDb>,
}

impl Db {
    fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("dir");
                Self {
                    url: format!("sqlite://{}", dir.path().join("hark.db").display()),
                    _dir: Some(dir),
                    _pg: None,
                }
            }
            Backend::Postgres => {
                let pg = PgDb::new();
                Self {
                    url: pg.url.clone(),
                    _dir: None,
                    _pg: Some(pg),
                }
            }
        }
    }

    fn storage(&self) -> Arc<dyn Storage> {
        hark_server::config::open_storage(&self.url).expect("storage")
    }
}

/// One measured row.
#[derive(Debug)]
pub struct Row {
    /// Backend.
    pub backend: Backend,
    /// What the simulation measured.
    pub report: Report,
    /// The server's peak resident memory, bytes.
    pub peak_rss: Option<u64>,
    /// Documents the server's metrics say it merged.
    pub merged: Option<f64>,
}

/// The bulk-write reference for a backend: responses per second.
#[derive(Debug)]
pub struct Bulk {
    /// Backend.
    pub backend: Backend,
    /// Responses written.
    pub responses: usize,
    /// Their rate.
    pub per_second: f64,
}

/// Runs one simulation against a fresh server on a fresh database.
pub fn simulate(backend: Backend, devices: usize, responses: usize) -> Row {
    let db = Db::new(backend);
    let storage = db.storage();
    hark_server::admin::create_area(storage.as_ref(), "bench").expect("area");
    let server = ChildServer::with_metrics(&db.url, "127.0.0.1:0");
    let plan = Plan {
        server: server.url.clone(),
        metrics: server.metrics.clone(),
        devices,
        responses,
        area: "bench".into(),
        form: "service-satisfaction".into(),
        months: 12,
    };
    let report = hark_server::simulate::run(&plan, storage.as_ref(), &|| {}, &|_| {})
        .unwrap_or_else(|e| panic!("simulation on {}: {e}", backend.name()));
    let peak_rss = server.peak_rss();
    let merged = server.metrics.as_deref().and_then(|url| {
        let text = ureq::get(url)
            .call()
            .ok()?
            .body_mut()
            .read_to_string()
            .ok()?;
        hark_server::metrics::value_of(&text, "hark_documents_merged_total")
    });
    drop(server);
    // Nothing lost, nothing double-counted.
    let counted = hark_server::admin::count(storage.as_ref(), "bench", None).expect("count");
    assert_eq!(counted, responses as i64, "{} counted", backend.name());
    Row {
        backend,
        report,
        peak_rss,
        merged,
    }
}

/// Writes `n` submitted responses' projections and tallies in batches of
/// 10,000 through the storage trait, timing the writes only.
pub fn bulk(backend: Backend, n: usize) -> Bulk {
    let db = Db::new(backend);
    let storage = db.storage();
    let area = hark_server::admin::create_area(storage.as_ref(), "bench").expect("area");
    let form = builtin_form("service-satisfaction").expect("form");
    let forms = AreaForms::from_stored(storage.area_forms(&area.id).expect("forms"));
    let lists = storage.area_lists(&area.id).expect("lists");
    let mut next = seeded(7);
    let mut batches = vec![Vec::new()];
    for i in 0..n {
        let id = format!("bulk-{i:08}");
        let ctx = ResponseContext {
            area: area.name.clone(),
            device: "bench".into(),
            captured_at: now_ms(),
            ..Default::default()
        };
        let mut doc = ResponseDoc::start(&id, &form, &ctx, Consent::given_for(form.audience), "b")
            .expect("start");
        for (q, a) in plausible_answers(&form, &mut next) {
            doc.answer(&form, &q, a, now_ms()).expect("answer");
        }
        doc.submit(&form, now_ms()).expect("submit");
        let p = check(&doc, &forms, &lists, now_ms()).expect("valid");
        let batch = batches.last_mut().expect("batch");
        batch.push((
            hark_server::storage::response_key(&area.id, &id),
            area.id.clone(),
            p,
        ));
        if batch.len() == 10_000 {
            batches.push(Vec::new());
        }
    }
    let started = Instant::now();
    for batch in &batches {
        storage.put_projections(batch).expect("write");
    }
    Bulk {
        backend,
        responses: n,
        per_second: n as f64 / started.elapsed().as_secs_f64(),
    }
}

/// Runs every row of the table.
pub fn run(sizes: &Sizes) -> (Vec<Row>, Vec<Bulk>) {
    let mut rows = Vec::new();
    let mut refs = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for &devices in &sizes.devices {
            rows.push(simulate(backend, devices, sizes.responses));
        }
        refs.push(bulk(backend, sizes.bulk));
    }
    (rows, refs)
}

/// The table, in Markdown.
pub fn table(rows: &[Row], refs: &[Bulk]) -> String {
    let mut out = String::from(
        "| backend | devices | responses | responses/s | server CPU/response | bytes up/response | bytes down/response | gzip(JSON)/response | up ÷ gzip(JSON) | server peak RSS | no-op re-sync |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let r = &row.report;
        let cpu = r.server_cpu.map_or("–".into(), |s| {
            format!("{:.0} µs", r.per_response(s * 1e6))
        });
        let rss = row
            .peak_rss
            .map_or("–".into(), |b| format!("{:.0} MB", b as f64 / 1e6));
        out += &format!(
            "| {} | {} | {} | {:.0} | {cpu} | {:.0} | {:.0} | {:.0} | {:.2}× | {rss} | {:.1} ms, {} round trip(s), {} B up |\n",
            row.backend.name(),
            r.devices,
            r.responses,
            r.throughput(),
            r.per_response(r.bytes_up as f64),
            r.per_response(r.bytes_down as f64),
            r.per_response(r.json_gzip as f64),
            r.bytes_up as f64 / r.json_gzip.max(1) as f64,
            r.noop.elapsed.as_secs_f64() * 1e3,
            r.noop.round_trips,
            r.noop.bytes_up,
        );
    }
    out += "\n| reference: bulk write (projections + tallies, batches of 10,000) | responses | responses/s |\n|---|---|---|\n";
    for b in refs {
        out += &format!(
            "| {} | {} | {:.0} |\n",
            b.backend.name(),
            b.responses,
            b.per_second
        );
    }
    out
}
