//! Leaders' view at scale: a table of measured figures.
//!
//! `cargo bench -p hark-server --bench reports [-- RESPONSES]` (default
//! 1,000,000). Generates that many submitted responses to the satisfaction
//! form (plausible answers; realistic contexts: 12 settings, 5 age phases,
//! needs recorded for 60%, pathways for 30%, arriving month by month over
//! 36 months), writes their
//! projections and tallies through the storage trait into a SQLite file,
//! then, through the real HTTP server:
//!
//! - times the trend query (one form, split by setting, by month) and two
//!   heavier shapes, 15 runs each after one warm-up;
//! - streams the unrestricted row-level CSV export (`detail=full`, the
//!   streamed one; the default, anonymised export holds its rows to
//!   shuffle them) of every response and reads it as a
//!   client would, timing it and recording the server process's peak
//!   resident memory during the export (reset just before it), for half
//!   the responses and then all of them, to show it does not grow with the
//!   row count.

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use hark_core::form::{builtin_form, plausible_answers, seeded};
use hark_core::response::Status;
use hark_server::model::Role;
use hark_server::projection::{Projection, answer_row};
use hark_server::storage::Storage;
use hark_server::storage::sqlite::SqliteStorage;

const SETTINGS: [&str; 12] = [
    "clinic_north",
    "clinic_south",
    "child_development_centre",
    "home",
    "mainstream_primary",
    "mainstream_secondary",
    "special_school_a",
    "special_school_b",
    "resource_base",
    "early_years_setting",
    "college",
    "forum_event",
];
const PHASES: [&str; 5] = ["early_years", "primary", "secondary", "post_16", "19_25"];
const NEEDS: [&str; 8] = [
    "autism",
    "speech_language",
    "sld",
    "mld",
    "semh",
    "physical",
    "sensory",
    "pmld",
];
const PATHWAYS: [&str; 5] = [
    "autism_assessment",
    "adhd_assessment",
    "ehc_assessment",
    "camhs",
    "therapy",
];

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    // HARK_BENCH_DB=PATH keeps the generated database there and reuses it
    // on the next run (the write figure is then left out).
    let dir = tempfile::tempdir().expect("dir");
    let path = std::env::var_os("HARK_BENCH_DB")
        .map_or_else(|| dir.path().join("hark.db"), std::path::PathBuf::from);
    let reuse = path.exists();
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&path).expect("sqlite"));
    println!("| measure | value |\n|---|---|");
    if reuse {
        println!("reusing {}", path.display());
    } else {
        generate(storage.as_ref(), n);
    }
    serve_and_measure(storage, n, &path);
}

fn generate(storage: &dyn Storage, n: usize) {
    let area = hark_server::admin::create_area(storage, "bench").expect("area");
    hark_server::users::create_user(
        storage,
        "bench",
        "admin",
        "bench password 123",
        Role::Administrator,
        false,
    )
    .expect("user");
    let form = builtin_form("service-satisfaction").expect("form");

    // Generate and write.
    let started = Instant::now();
    let mut next = seeded(42);
    let mut batch = Vec::with_capacity(10_000);
    let mut answers_total = 0usize;
    for i in 0..n {
        let r = next();
        // Responses arrive in time order, as they do from devices.
        let month = 2024 * 12 + (i * 36 / n) as i64;
        let answers: Vec<_> = plausible_answers(&form, &mut next)
            .into_iter()
            .map(|(q, a)| answer_row(q, a))
            .collect();
        answers_total += answers.len();
        let p = Projection {
            form_id: form.id.clone(),
            form_version: form.version.to_string(),
            status: Status::Submitted,
            counted: true,
            setting: Some(SETTINGS[(r >> 8) as usize % SETTINGS.len()].into()),
            age_phase: Some(PHASES[(r >> 16) as usize % PHASES.len()].into()),
            need: ((r >> 24) % 10 < 6).then(|| NEEDS[(r >> 28) as usize % NEEDS.len()].into()),
            pathway: ((r >> 32) % 10 < 3)
                .then(|| PATHWAYS[(r >> 36) as usize % PATHWAYS.len()].into()),
            kiosk: false,
            captured_at: 0,
            submitted_at: Some(0),
            month: format!("{:04}-{:02}", month / 12, month % 12 + 1),
            arrived_month: String::new(),
            counted_in: None,
            flags: 0,
            answers,
            problems: Vec::new(),
            safeguarding: None,
        };
        batch.push((format!("r{i:08}"), area.id.clone(), p));
        if batch.len() == 10_000 {
            storage.put_projections(&batch).expect("write");
            batch.clear();
        }
    }
    storage.put_projections(&batch).expect("write");
    let write_s = started.elapsed().as_secs_f64();
    println!(
        "| {n} responses written (projections + tallies, batches of 10,000) | {write_s:.1} s ({:.0}/s, {answers_total} answers) |",
        n as f64 / write_s
    );
}

fn serve_and_measure(storage: Arc<dyn Storage>, n: usize, path: &std::path::Path) {
    // Publish the closed months (the first leader read would), timed apart
    // from the reads.
    let area = hark_server::admin::area_named(storage.as_ref(), "bench").expect("area");
    let now = hark_core::doc::now_ms();
    let started = Instant::now();
    storage
        .publish(
            &area.id,
            &hark_server::publication::published_through(now),
            now,
        )
        .expect("publish");
    println!(
        "| publishing the closed months (adding up their tallies into rollups, once) | {:.1} s |",
        started.elapsed().as_secs_f64()
    );
    // Serve it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let state = hark_server::AppState::new(storage.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            hark_server::serve(listener, state, std::future::pending())
                .await
                .expect("serve");
        });
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut res = agent
        .post(&format!("{url}/api/v1/session"))
        .header("Content-Type", "application/json")
        .send(r#"{"username":"admin","password":"bench password 123"}"#)
        .expect("sign in");
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("cookie")
        .to_owned();
    let _ = res.body_mut().read_to_string();

    let mut rows = Vec::new();
    for (name, query) in [
        ("trend: FFT by month, split by setting", "split=setting"),
        (
            "FFT by quarter, split by age phase, need = autism",
            "period=quarter&split=age_phase&need=autism",
        ),
        (
            "ESQ item by month, split by pathway, setting = home",
            "split=pathway&setting=home",
        ),
    ] {
        let question = if name.starts_with("ESQ") {
            "esq_listened"
        } else {
            "fft"
        };
        let path =
            format!("{url}/api/v1/reports?form=service-satisfaction&question={question}&{query}");
        let mut times = Vec::new();
        for run in 0..16 {
            let t = Instant::now();
            let mut res = agent
                .get(&path)
                .header("Cookie", &cookie)
                .call()
                .expect("report");
            let body = res.body_mut().read_to_string().expect("body");
            assert_eq!(res.status().as_u16(), 200, "{body}");
            if run > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        rows.push(format!(
            "| {name} (HTTP, 15 runs) | p50 {:.1} ms, max {:.1} ms |",
            percentile(&times, 0.5),
            times[times.len() - 1]
        ));
    }
    for fraction in [2, 1] {
        // Half the rows first (a filtered copy of the form would need a
        // second dataset; instead the CSV is cut off by the client after
        // n / 2 rows, which stops the server's stream), then all of them.
        reset_peak_rss();
        let before = peak_rss_kb();
        let t = Instant::now();
        let res = agent
            .get(&format!(
                "{url}/api/v1/export/responses.csv?form=service-satisfaction&detail=full&reason=the%20reports%20benchmark"
            ))
            .header("Cookie", &cookie)
            .call()
            .expect("export");
        let mut reader = res.into_body().into_reader();
        let mut buf = vec![0u8; 256 * 1024];
        let (mut bytes, mut lines) = (0usize, 0usize);
        let want = n / fraction + 1;
        loop {
            let got = reader.read(&mut buf).expect("read");
            if got == 0 {
                break;
            }
            bytes += got;
            lines += buf[..got].iter().filter(|&&b| b == b'\n').count();
            if lines >= want && fraction > 1 {
                break;
            }
        }
        drop(reader);
        let secs = t.elapsed().as_secs_f64();
        let peak = peak_rss_kb();
        rows.push(format!(
            "| CSV export streamed, {} rows, {:.0} MB | {secs:.2} s, peak RSS {} MB (was {} MB before) |",
            lines.saturating_sub(1).min(want - 1),
            bytes as f64 / 1e6,
            peak / 1024,
            before / 1024
        ));
    }
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    rows.push(format!("| database size | {} MB |", size / 1_000_000));
    for r in rows {
        println!("{r}");
    }
}
