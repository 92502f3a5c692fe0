//! Store benchmark: prints a table.
//!
//! `cargo bench -p hark-core --bench store` measures, on a file store in a
//! temporary directory (WAL, synchronous=FULL, encrypted):
//! - an answer recorded durably: p50, p99, max over many calls;
//! - opening a store that holds 10,000 responses, and listing them;
//! - bytes stored per response against the same response as JSON.

use std::time::{Duration, Instant};

use hark_core::form::{builtin_form, plausible_answers, seeded};
use hark_core::{Answer, Consent, ResponseContext, ResponseDoc, ResponseFilter, Store, StoreKey};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ctx() -> ResponseContext {
    ResponseContext {
        area: "hartlepool".into(),
        setting: Some("primary-school-14".into()),
        occasion: Some("visit-2026-11-23-03".into()),
        practitioner: Some("fw-0017".into()),
        age_phase: Some("primary".into()),
        ..ResponseContext::default()
    }
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum()
    })
}

fn main() {
    let key = StoreKey::generate();
    let form = builtin_form("feeling-safe-child").expect("built-in form");
    let mut rows: Vec<(String, String)> = Vec::new();

    // 1. Answer latency, durable.
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("a.db"), &key).expect("open");
    store.install_form(&form).expect("install");
    let mut next = seeded(1);
    let mut times = Vec::new();
    for _ in 0..150 {
        let id = store
            .start_response(&form.id, &ctx(), Consent::child())
            .expect("start");
        for (q, a) in plausible_answers(&form, &mut next) {
            let t = Instant::now();
            store.answer(&id, &q, a).expect("answer");
            times.push(t.elapsed());
        }
    }
    times.sort();
    rows.push((
        format!("answer recorded durably, p50 ({} calls)", times.len()),
        format!("{:.3} ms", percentile(&times, 0.5).as_secs_f64() * 1e3),
    ));
    rows.push((
        "answer recorded durably, p99".into(),
        format!("{:.3} ms", percentile(&times, 0.99).as_secs_f64() * 1e3),
    ));
    rows.push((
        "answer recorded durably, max".into(),
        format!("{:.3} ms", times[times.len() - 1].as_secs_f64() * 1e3),
    ));
    drop(store);

    // 2. A store holding 10,000 submitted responses.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("big.db");
    let store = Store::open(&path, &key).expect("open");
    store.install_form(&form).expect("install");
    let mut json_bytes = 0usize;
    let mut automerge_bytes = 0usize;
    let n = 10_000;
    let t = Instant::now();
    for i in 0..n {
        let id = format!("00000000-0000-4000-8000-{i:012}");
        let mut doc =
            ResponseDoc::start(&id, &form, &ctx(), Consent::child(), "fw-0017").expect("start");
        let answers = plausible_answers(&form, &mut next);
        for (q, a) in &answers {
            doc.answer(&form, q, a.clone(), 1).expect("answer");
        }
        doc.submit(&form, 2).expect("submit");
        let bytes = doc.save();
        automerge_bytes += bytes.len();
        let as_json = serde_json::json!({
            "id": id, "form": form.id, "version": form.version.to_string(), "context": ctx(),
            "consent": Consent::child(), "status": "submitted",
            "answers": answers.iter().cloned().collect::<std::collections::BTreeMap<String, Answer>>(),
        });
        json_bytes += serde_json::to_vec(&as_json).expect("json").len();
        store.import_response(&bytes).expect("import");
    }
    let fill = t.elapsed();
    drop(store);
    let t = Instant::now();
    let store = Store::open(&path, &key).expect("open");
    let open = t.elapsed();
    let t = Instant::now();
    let listed = store.list(&ResponseFilter::default()).expect("list").len();
    let list = t.elapsed();
    assert_eq!(listed, n);
    let t = Instant::now();
    let one = store.list(&ResponseFilter::default()).expect("list")[n / 2]
        .id
        .clone();
    let _ = store.response(&one).expect("one");
    let _ = t;
    let t = Instant::now();
    let _ = store
        .response(&store.list(&ResponseFilter::default()).expect("list")[n / 3].id)
        .expect("one");
    let _ = t.elapsed();
    let t = Instant::now();
    let _ = store.response(&one).expect("cached");
    let cached = t.elapsed();
    drop(store);
    let size = dir_size(dir.path());
    rows.push((
        format!("import {n} whole responses (one transaction each)"),
        format!("{:.2} s", fill.as_secs_f64()),
    ));
    rows.push((
        format!("open a store holding {n} responses"),
        format!("{:.2} ms", open.as_secs_f64() * 1e3),
    ));
    rows.push((
        format!("list all {n} responses (decrypt headers)"),
        format!("{:.1} ms", list.as_secs_f64() * 1e3),
    ));
    rows.push((
        "read one cached response".into(),
        format!("{:.3} ms", cached.as_secs_f64() * 1e3),
    ));
    rows.push((
        "bytes on disk per response (db + wal)".into(),
        format!("{}", size / n as u64),
    ));
    rows.push((
        "Automerge save() per response".into(),
        format!("{}", automerge_bytes / n),
    ));
    rows.push((
        "same response as JSON".into(),
        format!("{}", json_bytes / n),
    ));

    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(10);
    println!("\n| {:w$} | value |", "measure");
    println!("|{}|-------|", "-".repeat(w + 2));
    for (k, v) in rows {
        println!("| {k:w$} | {v} |");
    }
}
